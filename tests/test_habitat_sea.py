"""sea_layer: which water cells are sea; the water crosswalk rules it drives; unify and the demo data.

Oracles: hand-made rasters with the answer worked out cell by cell, a networkx connected-
components + brute-force-distance reimplementation of the documented definition on random
rasters, and pyproj.Geod distances for geographic rasters.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from affine import Affine
from pyproj import Geod
from shapely.geometry import box

import tbpa
from tbpa.errors import CRSError, TbpaWarning, ValidationError
from tbpa.habitat import crosswalk, embedded_inputs, load_modis, reclassify, sea_layer, unify
from tbpa.sites import load_countries

UTM52 = "EPSG:32652"
X0, Y0, CELL = 500_000.0, 4_700_000.0, 1000.0


def _raster(values, cell=CELL, crs=UTM52, x0=X0, top=None):
    values = np.asarray(values, dtype=np.uint8)
    top = Y0 + values.shape[0] * cell if top is None else top
    return tbpa.io.from_array(values, transform=Affine(cell, 0, x0, 0, -cell, top), crs=crs)


def _cells(r0, c0, r1, c1, nrows, cell=CELL):
    """Box over rows r0..r1-1, columns c0..c1-1 of a raster from _raster (row 0 at the top)."""
    top = Y0 + nrows * cell
    return box(X0 + c0 * cell, top - r1 * cell, X0 + c1 * cell, top - r0 * cell)


# MODIS MCD12C1 codes: 0 water, 10 grassland, 255 fill
W, G, F = 0, 10, 255


# -- the definition, by hand -------------------------------------------------------------------
def test_lake_bay_open_water_and_edge_by_hand():
    # Land is rows 0-4 (all columns); row 5 is open sea (outside the land polygon).
    #  col: 0  1  2  3  4  5
    values = [
        [W, G, G, G, G, G],   # (0,0) lake touching the raster's west and north edges
        [G, G, G, W, G, G],   # (1,3) lake inside the land
        [G, G, G, G, G, W],   # (2,5) bay reaching down the east edge to the sea
        [G, G, G, G, G, W],
        [G, G, G, G, G, W],
        [G, W, W, G, W, W],   # open sea (outside the land) except column 3 (a land cell)
    ]
    da = _raster(values)
    land = gpd.GeoDataFrame(geometry=[_cells(0, 0, 5, 6, 6)], crs=UTM52)
    sea = sea_layer(da, land, scheme="modis_igbp")
    expected = [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 1, 1, 0, 1, 1],
    ]
    assert sea.values.tolist() == expected
    assert sea.name == "sea" and sea.dtype == np.uint8
    assert sea.rio.crs == da.rio.crs and sea.rio.transform() == da.rio.transform()
    # the land polygons given in another CRS give the same layer (reprojected, not refused)
    same = sea_layer(da, land.to_crs(4326), scheme="modis_igbp")
    assert same.values.tolist() == expected


def test_beyond_the_edge_the_land_polygons_decide():
    # Every cell lies inside the land, which reaches 3 km past the raster on all sides except
    # an inlet of sea east of row 1. (0,0) and (3,1) are lakes touching the edge: land lies
    # beyond them, so 0. (1,3) is a bay cut by the east edge: the inlet beyond it is outside
    # the land and inside the land's bounding box, so the bay is sea.
    values = [
        [W, G, G, G],
        [G, G, G, W],
        [G, G, G, G],
        [G, W, G, G],
    ]
    da = _raster(values)
    inlet = box(X0 + 4000, Y0 + 2000, X0 + 7000, Y0 + 3000)
    land = gpd.GeoSeries([box(X0 - 3000, Y0 - 3000, X0 + 7000, Y0 + 7000).difference(inlet)], crs=UTM52)
    sea = sea_layer(da, land, scheme="modis_igbp")
    assert sea.values.tolist() == [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    # land clipped to the raster's own frame says nothing about what lies beyond: no sea
    frame = gpd.GeoSeries([box(X0, Y0, X0 + 4000, Y0 + 4000)], crs=UTM52)
    assert sea_layer(da, frame, scheme="modis_igbp").values.sum() == 0


def test_diagonal_nodata_and_land_do_not_connect_by_default():
    # Land covers rows 0-2; row 3 is outside it. (2,1) meets the open water at (3,0) only at
    # a corner. (1,3) is separated from the open water at (3,3) by a fill (nodata) cell, and
    # nodata connects nothing.
    values = [
        [G, G, G, G],
        [G, G, G, W],
        [G, W, G, F],
        [W, G, G, W],
    ]
    da = _raster(values)
    land = gpd.GeoSeries([_cells(0, 0, 3, 4, 4)], crs=UTM52)
    four = sea_layer(da, land, scheme="modis_igbp")
    assert four.values.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 1]]
    # with corners, (2,1) joins the open water at (3,0); (1,3) still only borders nodata
    eight = sea_layer(da, land, scheme="modis_igbp", connectivity=8)
    assert eight.values.tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 1]]


def test_river_is_sea_only_near_open_water():
    # A river runs east from the sea (column 0, outside the land) along row 1, 1 km cells:
    # its cells are 1, 2, ... 7 km from open water. With max 2.5 km only the first two are sea.
    values = np.full((3, 8), G, dtype=np.uint8)
    values[:, 0] = W
    values[1, 1:] = W
    da = _raster(values)
    land = gpd.GeoSeries([_cells(0, 1, 3, 8, 3)], crs=UTM52)
    sea = sea_layer(da, land, scheme="modis_igbp", max_inland_m=2500)
    assert sea.values[1].tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert sea.values[:, 0].tolist() == [1, 1, 1]
    # the limit is inclusive and measured between cell centres
    assert sea_layer(da, land, scheme="modis_igbp", max_inland_m=3000).values[1].tolist() == [1] * 4 + [0] * 4
    assert sea_layer(da, land, scheme="modis_igbp", max_inland_m=None).values[1].tolist() == [1] * 8


def test_water_codes_or_mask_override_the_scheme():
    values = [[G, 5], [5, 5]]  # code 5 (a MODIS forest) declared water by hand
    da = _raster(values)
    land = gpd.GeoSeries([_cells(0, 0, 1, 2, 2)], crs=UTM52)  # row 1 outside the land
    by_codes = sea_layer(da, land, water=[5])
    assert by_codes.values.tolist() == [[0, 1], [1, 1]]
    mask = np.array(values) == 5
    assert sea_layer(da, land, water=mask).values.tolist() == [[0, 1], [1, 1]]
    assert sea_layer(da, land, scheme="modis_igbp").values.tolist() == [[0, 0], [0, 0]]


def test_no_land_overlap_warns_and_everything_water_is_sea():
    da = _raster([[W, G], [G, W]])
    far = gpd.GeoSeries([box(0, 0, 10, 10)], crs=UTM52)
    with pytest.warns(TbpaWarning, match="does not overlap"):
        sea = sea_layer(da, far, scheme="modis_igbp")
    assert sea.values.tolist() == [[1, 0], [0, 1]]


# -- an independent reimplementation on random rasters --------------------------------------------
def _oracle(water, rects, n, max_m, diagonal):
    """The documented definition, cell by cell: networkx components, brute-force distances.

    Positions run from -1 to n (one ring beyond the raster). A position is on land when its
    centre lies inside a rectangle; a ring position is open water when it is off the land
    and inside the rectangles' bounding box; a raster cell when it is water off the land.
    """
    def centre(r, c):
        return X0 + (c + 0.5) * CELL, Y0 + n * CELL - (r + 0.5) * CELL

    def on_land(r, c):
        x, y = centre(r, c)
        return any(b[0] < x < b[2] and b[1] < y < b[3] for b in (q.bounds for q in rects))

    bbox = gpd.GeoSeries(rects).total_bounds
    nodes, opened = set(), set()
    for r in range(-1, n + 1):
        for c in range(-1, n + 1):
            inside = 0 <= r < n and 0 <= c < n
            if inside and water[r, c]:
                nodes.add((r, c))
                if not on_land(r, c):
                    opened.add((r, c))
            elif not inside:
                x, y = centre(r, c)
                if not on_land(r, c) and bbox[0] < x < bbox[2] and bbox[1] < y < bbox[3]:
                    nodes.add((r, c))
                    opened.add((r, c))
    out = np.zeros(water.shape, dtype=np.uint8)
    if not opened:
        return out
    pts = np.array(sorted(opened), dtype=float)
    g = nx.Graph()
    for r, c in nodes:
        d = np.sqrt((((pts - (r, c)) * CELL) ** 2).sum(axis=1)).min()
        if max_m is None or d <= max_m:
            g.add_node((r, c))
    steps = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if diagonal else [])
    for r, c in list(g.nodes):
        for dr, dc in steps:
            if (r + dr, c + dc) in g:
                g.add_edge((r, c), (r + dr, c + dc))
    for comp in nx.connected_components(g):
        if comp & opened:
            for r, c in comp:
                if 0 <= r < n and 0 <= c < n:
                    out[r, c] = 1
    return out


@pytest.mark.parametrize("seed", range(8))
def test_agrees_with_networkx_oracle_on_random_rasters(seed):
    rng = np.random.default_rng(seed)
    n = 24
    water = rng.random((n, n)) < 0.5
    values = np.where(water, W, G).astype(np.uint8)
    values[rng.random((n, n)) < 0.05] = F  # some fill: never water, never a connection
    water = values == W
    # land: a few random rectangles (their union), some reaching past the raster's edges
    rects = []
    for _ in range(4):
        r0, c0 = rng.integers(-3, n - 5, size=2)
        r1, c1 = r0 + rng.integers(5, n + 3 - r0), c0 + rng.integers(5, n + 3 - c0)
        rects.append(_cells(r0, c0, r1, c1, n))
    land = gpd.GeoSeries(rects, crs=UTM52)
    da = _raster(values)
    max_m = [None, 2500.0, 4000.0][seed % 3]
    for connectivity in (4, 8):
        got = sea_layer(da, land, scheme="modis_igbp", max_inland_m=max_m, connectivity=connectivity)
        want = _oracle(water, rects, n, max_m, connectivity == 8)
        np.testing.assert_array_equal(got.values, want)


def test_geographic_raster_measures_metres_on_the_ellipsoid():
    # 0.05-degree cells over 40-43.5 N (several latitude bands): at each of three latitudes a
    # river runs east from an open-water cell in column 0 (outside the land). Expected: the
    # cells whose geodesic distance from the open cell is <= 16.4 km (pyproj.Geod oracle):
    # five cells at 43.3 N, where columns are narrower, four further south.
    res, west, north = 0.05, 130.0, 43.5
    nrows, ncols = 70, 12
    values = np.full((nrows, ncols), G, dtype=np.uint8)
    river_rows = [3, 35, 66]
    for r in river_rows:
        values[r, :] = W
    da = tbpa.io.from_array(values, transform=Affine(res, 0, west, 0, -res, north), crs="EPSG:4326")
    land = gpd.GeoSeries([box(west + res, north - nrows * res, west + ncols * res, north)], crs=4326)
    sea = sea_layer(da, land, scheme="modis_igbp", max_inland_m=16_400)
    geod = Geod(ellps="WGS84")
    lons = west + (np.arange(ncols) + 0.5) * res
    for r in river_rows:
        lat = north - (r + 0.5) * res
        dist = np.array([geod.inv(lons[0], lat, lon, lat)[2] for lon in lons])
        assert np.all(np.abs(dist - 16_400) > 150)  # no cell sits on the threshold
        assert sea.values[r].tolist() == (dist <= 16_400).astype(int).tolist(), lat
    assert [int(sea.values[r].sum()) for r in river_rows] == [5, 4, 4]
    # a raster in degrees and the same land in metres (Web Mercator keeps the box a box, so
    # the bounding-box test beyond the edge is unchanged): reprojected, same answer
    again = sea_layer(da, land.to_crs(3857), scheme="modis_igbp", max_inland_m=16_400)
    np.testing.assert_array_equal(again.values, sea.values)


# -- bad input ------------------------------------------------------------------------------------
def test_bad_input():
    import xarray as xr

    da = _raster([[W, G]])
    land = gpd.GeoSeries([_cells(0, 0, 1, 1, 1)], crs=UTM52)
    with pytest.raises(CRSError, match="`land` has no CRS"):
        sea_layer(da, gpd.GeoSeries([_cells(0, 0, 1, 1, 1)]), scheme="modis_igbp")
    with pytest.raises(CRSError, match="^sea_layer: `raster` has no CRS"):
        sea_layer(xr.DataArray(np.zeros((2, 2), "uint8"), dims=("y", "x")), land, scheme="modis_igbp")
    with pytest.raises(ValidationError, match="^sea_layer: `raster` must be 2-D"):
        sea_layer(xr.DataArray(np.zeros((2, 2, 2), "uint8"), dims=("b", "y", "x")), land,
                  scheme="modis_igbp")
    with pytest.raises(ValidationError, match="`land` must be"):
        sea_layer(da, _cells(0, 0, 1, 1, 1), scheme="modis_igbp")
    with pytest.raises(ValidationError, match="which cells are water"):
        sea_layer(da, land)
    with pytest.raises(ValidationError, match="cgls_lc100"):  # codes the sea separately (200)
        sea_layer(da, land, scheme="cgls_lc100")
    with pytest.raises(ValidationError, match="connectivity"):
        sea_layer(da, land, scheme="modis_igbp", connectivity=6)
    with pytest.raises(ValidationError, match="max_inland_m"):
        sea_layer(da, land, scheme="modis_igbp", max_inland_m=-1)


# -- crosswalk rules for water ---------------------------------------------------------------------
SEA_SCHEMES = {"modis_igbp": [0, 17], "esa_worldcover": [80], "esa_cci": [210], "clcd": [5],
               "terranorte": [21]}


def test_water_rules_send_sea_to_marine_and_the_rest_inland():
    for scheme, codes in SEA_SCHEMES.items():
        cw = crosswalk(scheme)
        for code in codes:
            rows = cw[cw.source_code == code]
            assert rows.loc[rows.rule == "sea==1", "target_code"].tolist() == [901], scheme
            inland = set(rows.loc[rows.rule == "sea==0", "target_code"])
            assert 505 in inland and inland <= {501, 505, 514, 1501}, scheme
            assert set(rows.rule) == {"sea==0", "sea==1"}, scheme
            assert (rows.note.str.len() > 0).all() and rows.note.str.contains("sea").all()
            # without the layer the highest weight (first row on ties) is 5.5, as before
            assert rows.iloc[0].target_code == 505 and rows.weight.max() == rows.iloc[0].weight
    # schemes that code the sea apart, have no water class, or no coast get no sea rule
    for scheme in ("cgls_lc100", "globeland30", "gbt21010", "mongolia_mp14"):
        assert not crosswalk(scheme).rule.str.contains("sea").any(), scheme


def test_reclassify_water_with_and_without_the_sea_layer():
    # MODIS water 0: 505 w.4 sea==0, 901 w.4 sea==1, 501 w.1 sea==0, 514 w.1 sea==0.
    # Sea cell: 901 alone survives -> weight .4 / .4 = 1. Inland: 505 wins, .4 / .6.
    # Without the layer every rule is undecided: tie 505/901 at .4 -> first row, 505, .4.
    da = _raster([[0, 17], [0, 10]])
    sea = da.copy(data=np.array([[1, 0], [0, 0]], dtype=np.uint8))
    ds = reclassify(da, "modis_igbp", ancillary={"sea": sea}, return_weight=True)
    assert ds.habitat.values.tolist() == [[901, 505], [505, 404]]
    np.testing.assert_allclose(ds.weight.values[0], [1.0, 0.4 / 0.6], rtol=1e-6)
    plain = reclassify(da, "modis_igbp", return_weight=True)
    assert plain.habitat.values.tolist() == [[505, 505], [505, 404]]
    np.testing.assert_allclose(plain.weight.values[0], [0.4, 0.4])
    # level 1: inland classes merge into 5 (rule kept: all sea==0), sea into 9
    lvl1 = reclassify(da, "modis_igbp", ancillary={"sea": sea}, level=1)
    assert lvl1.values.tolist() == [[900, 500], [500, 400]]
    # WorldCover 80: sea -> 901 (1.0); inland -> 505, .5 / (.5 + .2 + .1 + .1)
    wc = _raster([[80, 80]])
    ds = reclassify(wc, "esa_worldcover", ancillary={"sea": wc.copy(data=np.array([[1, 0]], "uint8"))},
                    return_weight=True)
    assert ds.habitat.values.tolist() == [[901, 505]]
    np.testing.assert_allclose(ds.weight.values, [[1.0, 0.5 / 0.9]], rtol=1e-6)


def test_sea_layer_feeds_reclassify_end_to_end():
    values = [
        [G, G, G, G],
        [G, W, G, W],
        [G, G, G, W],
        [W, W, W, W],
    ]
    da = _raster(values)
    land = gpd.GeoSeries([_cells(0, 0, 3, 4, 4)], crs=UTM52)
    out = reclassify(da, "modis_igbp", ancillary={"sea": sea_layer(da, land, scheme="modis_igbp")})
    assert out.values.tolist() == [[404] * 4, [404, 505, 404, 901], [404, 404, 404, 901], [901] * 4]


# -- unify ---------------------------------------------------------------------------------------
def test_unify_derives_the_sea_layer_from_countries():
    values = np.array([
        [G, G, G, G, G, G],
        [G, W, G, G, W, G],
        [G, G, G, G, W, G],
        [W, W, W, W, W, W],
    ], dtype=np.uint8)
    da = _raster(values)
    countries = gpd.GeoDataFrame({"iso3": ["AAA"]}, geometry=[_cells(0, 0, 3, 6, 4)], crs=UTM52)
    kw = dict(countries=countries, resolution=CELL, crs=UTM52, progress=False)
    plain = unify({"AAA": (da, "modis_igbp")}, **kw)
    assert plain.habitat.values[1].tolist() == [404, 505, 404, 404, 505, 404]
    for mode in ("sea", "auto"):
        ds = unify({"AAA": (da, "modis_igbp")}, ancillary=mode, **kw)
        # the bay (column 4) opens onto the sea in row 3 (outside the country: not mapped)
        assert ds.habitat.values[:3].tolist() == [[404] * 6, [404, 505, 404, 404, 901, 404],
                                                  [404, 404, 404, 404, 901, 404]], mode
        assert ds.confidence.values[1, 4] == pytest.approx(1.0)
        assert ds.confidence.values[1, 1] == pytest.approx(0.4 / 0.6)
    # countries in degrees: reprojected by unify, same map
    ds = unify({"AAA": (da, "modis_igbp")}, ancillary="sea", **{**kw, "countries": countries.to_crs(4326)})
    assert ds.habitat.values[1, 4] == 901 and ds.habitat.values[1, 1] == 505
    with pytest.raises(ValidationError, match="'auto'"):
        unify({"AAA": (da, "modis_igbp")}, ancillary="coast", **kw)
    with pytest.raises(CRSError):
        unify({"AAA": (da, "modis_igbp")}, ancillary="sea", **{**kw, "countries": countries.set_crs(None, allow_override=True)})


@pytest.fixture(scope="module")
def countries():
    return load_countries()


def test_tumen_coast_is_sea_not_lake(countries):
    # the embedded (synthetic, MODIS-derived) Tumen samples: every water cell there is the
    # Sea of Japan / East Sea along the DPRK and Russian coasts; none may stay a lake
    inputs = embedded_inputs("tumen_estuary")
    kw = dict(countries=countries[countries.iso3.isin(["CHN", "PRK", "RUS"])], resolution=500, progress=False)
    plain = unify(inputs, **kw)
    fixed = unify(inputs, ancillary="sea", **kw)
    before, after = plain.habitat.values, fixed.habitat.values
    water = np.isin(before, [505, 501, 514, 1501])
    assert water.sum() > 500  # coastal water inside the generalised country polygons
    assert (after[water] == 901).all()
    assert not np.isin(after, [505, 501, 514, 1501]).any()
    np.testing.assert_array_equal(after[~water], before[~water])  # nothing else changes


def test_modis_inland_lakes_stay_lakes_and_bays_become_sea(countries):
    # Lake Khanka (CHN/RUS border) and Peter the Great Bay in one MODIS window
    lc = load_modis((130.5, 42.3, 133.5, 45.5))
    sea = sea_layer(lc, countries, scheme="modis_igbp")
    pick = lambda lon, lat: int(sea.sel(x=lon, y=lat, method="nearest"))  # noqa: E731
    code = lambda lon, lat: int(lc.sel(x=lon, y=lat, method="nearest"))  # noqa: E731
    assert code(132.4, 45.0) == 0 and pick(132.4, 45.0) == 0  # Khanka: water, not sea
    assert code(131.8, 43.2) == 0 and pick(131.8, 43.2) == 1  # Amur Bay (Vladivostok): sea
    ds = unify({"RUS": (lc, "modis_igbp"), "CHN": (lc, "modis_igbp")},
               countries=countries[countries.iso3.isin(["CHN", "RUS"])], resolution=5000,
               ancillary="sea", progress=False)
    h = ds.habitat
    from pyproj import Transformer

    to = Transformer.from_crs(4326, ds.rio.crs, always_xy=True)
    x, y = to.transform(132.4, 45.0)
    assert int(h.sel(x=x, y=y, method="nearest")) == 505  # Khanka, on both sides of the border
    x, y = to.transform(132.6, 44.9)
    assert int(h.sel(x=x, y=y, method="nearest")) == 505
    assert (h.values == 901).sum() > 0 and (h.values == 505).sum() > 50


def test_dauria_hulun_and_buir_stay_lakes(countries):
    # in the 2019 clip the Torey lakes were dry (grassland), so the Dauria check uses Hulun
    # and Buir, the large lakes of the same steppe landscape, 1,000 km from any sea
    lc = load_modis((115.0, 47.0, 119.0, 50.5))
    sea = sea_layer(lc, countries, scheme="modis_igbp")
    water = lc.values == 0
    assert water.sum() > 50 and sea.values.sum() == 0
    out = reclassify(lc, "modis_igbp", ancillary={"sea": sea}, unknown="nodata")
    assert set(np.unique(out.values[water])) == {505}


def test_whole_modis_clip_is_fast_and_mostly_sea(countries):
    import time

    lc = load_modis()
    t = time.perf_counter()
    sea = sea_layer(lc, countries, scheme="modis_igbp")
    assert time.perf_counter() - t < 5
    water = lc.values == 0
    # the clip's water is mostly open sea (Japan, Yellow, Okhotsk seas); lakes stay 0
    assert 0.85 < sea.values[water].mean() < 1.0
    assert (sea.values[~water] == 0).all()
