"""unify: embedded samples, categorical resampling, mosaicking by country, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry import box

import tbpa
from tbpa.errors import CRSError, DataError, EmptySelectionError, UnknownNameError, UnknownSchemeError
from tbpa.habitat import embedded_inputs, load_modis, unify
from tbpa.sites import load_countries

UTM52 = "EPSG:32652"


@pytest.fixture(scope="module")
def tumen():
    inputs = embedded_inputs("tumen_estuary")
    countries = load_countries(["CHN", "RUS", "PRK"])
    ds = unify(inputs, countries=countries, resolution=500, keep_inputs=True, progress=False)
    return inputs, countries, ds


def _country(code, x0=0.0, y0=0.0, size=3000.0, crs=UTM52):
    # a square "country" around a small test raster in UTM 52N (Primorye)
    x0, y0 = x0 + 500_000, y0 + 4_700_000
    return gpd.GeoDataFrame({"iso3": [code]}, geometry=[box(x0, y0, x0 + size, y0 + size)], crs=crs)


def _raster(values, cell, x0=0.0, y0=0.0, crs=UTM52):
    values = np.asarray(values)
    top = 4_700_000 + y0 + values.shape[0] * cell
    return tbpa.io.from_array(values, transform=Affine(cell, 0, 500_000 + x0, 0, -cell, top), crs=crs)


# -- embedded data ---------------------------------------------------------------------------
def test_load_modis_clip():
    lc = load_modis()
    assert lc.shape == (400, 1180) and lc.dtype == np.uint8
    assert CRS.from_user_input(lc.rio.crs) == CRS.from_epsg(4326)
    assert lc.rio.resolution() == pytest.approx((0.05, -0.05))
    assert lc.rio.bounds() == pytest.approx((84, 37, 143, 57))
    assert set(np.unique(lc.values)) <= set(range(17)) | {255}
    assert "10.5067/MODIS/MCD12C1.006" in lc.attrs["TBPA_DOI"]
    sub = load_modis((130.0, 42.0, 132.0, 44.0))
    assert sub.shape == (40, 40)
    with pytest.raises(EmptySelectionError):
        load_modis((10, 10, 20, 20))


def test_embedded_inputs_are_synthetic_national_grids():
    inputs = embedded_inputs("land_of_big_cats")
    assert {k: v[1] for k, v in inputs.items()} == {
        "CHN": "clcd", "RUS": "terranorte", "PRK": "esa_worldcover"}
    cn, ru, kp = inputs["CHN"][0], inputs["RUS"][0], inputs["PRK"][0]
    assert "Albers" in CRS.from_user_input(cn.rio.crs).coordinate_operation.method_name and cn.rio.resolution()[0] == 250
    assert CRS.from_user_input(ru.rio.crs).to_epsg() == 32652 and ru.rio.resolution()[0] == 300
    assert CRS.from_user_input(kp.rio.crs).to_epsg() == 4326
    assert kp.rio.resolution()[0] == pytest.approx(0.0025)
    for da, scheme in inputs.values():
        assert da.attrs["TBPA_SYNTHETIC"].startswith("yes")
        codes = set(np.unique(da.values))
        assert codes <= set(tbpa.habitat.crosswalk(scheme).source_code)
    with pytest.raises(UnknownNameError, match="tumen_estuary"):
        embedded_inputs("tumen_estuarie")


def test_samples_overlap_across_borders():
    inputs = embedded_inputs("tumen_estuary")
    cn = inputs["CHN"][0]
    ru = inputs["RUS"][0].rio.reproject(cn.rio.crs, resolution=250, nodata=0)
    ru = ru.rio.reproject_match(cn)
    both = (cn.values > 0) & (ru.values > 0)
    assert both.sum() > 100  # the two samples share a strip along the CHN-RUS border


# -- unify on the embedded samples -----------------------------------------------------------
def test_unify_grid_crs_and_resolution(tumen):
    _, countries, ds = tumen
    crs = CRS.from_user_input(ds.rio.crs)
    assert crs.is_projected and "Lambert Azimuthal" in crs.coordinate_operation.method_name
    assert ds.habitat.rio.resolution() == (500.0, -500.0)
    assert ds.attrs["sources"] == ["CHN/clcd", "PRK/esa_worldcover", "RUS/terranorte"]
    assert ds.habitat.dtype == np.uint16 and ds.source.dtype == np.int8
    valid = ds.habitat.values > 0
    c = ds.confidence.values
    assert np.isfinite(c[valid]).all() and np.isnan(c[~valid]).all()
    assert (c[valid] > 0).all() and (c[valid] <= 1 + 1e-6).all()
    codes = set(np.unique(ds.habitat.values)) - {0}
    assert codes <= set(tbpa.habitat.legend(level=2).code)
    other = unify(tumen[0], countries=countries, resolution=1000, crs=UTM52, progress=False)
    assert CRS.from_user_input(other.rio.crs).to_epsg() == 32652
    assert other.habitat.rio.resolution() == (1000.0, -1000.0)


def test_each_cell_takes_its_own_countrys_source(tumen):
    _, countries, ds = tumen
    gx, gy = np.meshgrid(ds.x.values, ds.y.values)
    proj = countries.to_crs(ds.rio.crs)
    src = ds.source.values
    for k, label in enumerate(ds.attrs["sources"]):
        iso3 = label.split("/")[0]
        inside = np.zeros(gx.shape, dtype=bool)
        for geom in proj.loc[proj.iso3 == iso3].geometry:  # independent point-in-polygon oracle
            inside |= shapely.contains_xy(geom, gx, gy)
        assert (src == k).sum() > 100
        assert inside[src == k].all(), iso3
        assert (src[inside & (ds.habitat.values > 0)] == k).all(), iso3
    assert (src[ds.habitat.values == 0] == -1).all()


def test_unify_equals_reclassified_input_where_pure(tumen):
    # a 500 m cell containing only one unified class of the Russian sample keeps that class
    inputs, _, ds = tumen
    ru = tbpa.habitat.reclassify(*inputs["RUS"])
    assert set(np.unique(ds.habitat_RUS.values)) - {0} <= set(np.unique(ru.values))
    agree = tbpa.habitat.agreement(ds.habitat_CHN, ds.habitat_RUS)
    assert agree.n > 100 and agree.overall > 0.5


# -- categorical resampling ------------------------------------------------------------------
@pytest.mark.parametrize("resolution", [30.0, 50.0, 70.0, 110.0])
def test_checkerboard_class_proportions_within_2_percent(resolution):
    # 3 x 3-cell blocks of two classes at 10 m (WorldCover 10 tree / 30 grass), 1800 x 1800 m
    n = 180
    blocks = (np.add.outer(np.arange(n) // 3, np.arange(n) // 3) % 2).astype(np.uint8)
    values = np.where(blocks == 0, 10, 30).astype(np.uint8)
    src = _raster(values, 10.0)
    country = _country("AAA", size=1800.0)
    ds = unify({"AAA": (src, "esa_worldcover")}, countries=country, resolution=resolution,
               crs=UTM52, progress=False)
    h = ds.habitat.values
    h = h[h > 0]
    share = (h == 104).mean()
    assert abs(share - 0.5) <= 0.02, (resolution, share)


def test_majority_of_fractions_and_confidence_by_hand():
    # one 20 m target cell over 2 x 2 source cells: three built-up (50, weight 1) and one
    # cropland (40 -> 1401, weight .8). Fractions: 1405 .75, 1401 .25 -> 1405, and
    # confidence = mean weight in class (1.0) x majority fraction (.75) = .75.
    src = _raster(np.array([[50, 50], [50, 40]], np.uint8), 10.0)
    country = _country("AAA", size=20.0)
    ds = unify({"AAA": (src, "esa_worldcover")}, countries=country, resolution=20, crs=UTM52,
               progress=False)
    assert ds.habitat.values.tolist() == [[1405]]
    assert ds.confidence.values[0, 0] == pytest.approx(0.75)
    # pure cells keep the crosswalk weight: cropland alone -> .8
    src = _raster(np.full((2, 2), 40, np.uint8), 10.0)
    ds = unify({"AAA": (src, "esa_worldcover")}, countries=country, resolution=20, crs=UTM52,
               progress=False)
    assert ds.habitat.values.tolist() == [[1401]]
    assert ds.confidence.values[0, 0] == pytest.approx(0.8)


def test_nodata_does_not_dilute_fractions():
    # half the source is nodata: the valid half decides, fraction of valid area = 1
    src = _raster(np.array([[40, 0], [40, 0]], np.uint8), 10.0)
    ds = unify({"AAA": (src, "esa_worldcover")}, countries=_country("AAA", size=20.0),
               resolution=20, crs=UTM52, progress=False)
    assert ds.habitat.values.tolist() == [[1401]]
    assert ds.confidence.values[0, 0] == pytest.approx(0.8)


def test_two_countries_mosaic_by_polygon():
    # A is the west half, B the east half; each raster covers everything in its own scheme
    a = _raster(np.full((4, 4), 40, np.uint8), 10.0)  # WorldCover cropland
    b = _raster(np.full((4, 4), 2, np.uint8), 10.0)  # CLCD forest
    countries = gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB"]},
        geometry=[box(500_000, 4_700_000, 500_020, 4_700_040), box(500_020, 4_700_000, 500_040, 4_700_040)],
        crs=UTM52)
    ds = unify({"AAA": (a, "esa_worldcover"), "BBB": (b, "clcd")}, countries=countries,
               resolution=10, crs=UTM52, progress=False)
    assert ds.habitat.values.tolist() == [[1401, 1401, 104, 104]] * 4
    assert ds.source.values.tolist() == [[0, 0, 1, 1]] * 4


# -- bad input -------------------------------------------------------------------------------
def test_country_missing_from_countries():
    src = _raster(np.full((2, 2), 40, np.uint8), 10.0)
    with pytest.raises(DataError, match="load_countries"):
        unify({"BBB": (src, "esa_worldcover")}, countries=_country("AAA"), resolution=10, crs=UTM52)


def test_raster_not_covering_its_country():
    src = _raster(np.full((2, 2), 40, np.uint8), 10.0, x0=50_000)  # 50 km away
    with pytest.raises(DataError, match="does not overlap"):
        unify({"AAA": (src, "esa_worldcover")}, countries=_country("AAA"), resolution=10, crs=UTM52)


def test_raster_without_crs_and_geographic_target():
    import xarray as xr

    bare = xr.DataArray(np.full((2, 2), 40, np.uint8), dims=("y", "x"))
    with pytest.raises(CRSError, match="^unify: `raster` has no CRS"):  # names the caller
        unify({"AAA": (bare, "esa_worldcover")}, countries=_country("AAA"), resolution=10)
    src = _raster(np.full((2, 2), 40, np.uint8), 10.0)
    with pytest.raises(CRSError, match="crs"):
        unify({"AAA": (src, "esa_worldcover")}, countries=_country("AAA"), resolution=10,
              crs="EPSG:4326")


def test_unknown_scheme_and_codes_in_unify():
    src = _raster(np.full((2, 2), 40, np.uint8), 10.0)
    with pytest.raises(UnknownSchemeError, match="esa_worldcover"):
        unify({"AAA": (src, "worldcover_v3")}, countries=_country("AAA"), resolution=10, crs=UTM52)
    bad = _raster(np.array([[40, 41], [41, 40]], np.uint8), 10.0)
    with pytest.raises(DataError, match="41 \\(2 cells\\)"):
        unify({"AAA": (bad, "esa_worldcover")}, countries=_country("AAA"), resolution=10, crs=UTM52)
