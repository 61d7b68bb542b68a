"""GCJ-02 / BD-09 conversions: reference pairs, offset size, exact inverses, geodata.

Where the reference values come from (no value below was produced by tbpa):

* ``REF_WGS_TO_GCJ`` and ``REF_GCJ_TO_BD``: the published example output of the independent
  JavaScript library wandergis/coordtransform (file ``test/app.js``, comment "//result"),
  for the input (116.404, 39.915) in Beijing. The forward transforms are closed-form, so
  they must agree to floating-point rounding.
* ``REF_GCJ_TO_WGS_ONE_STEP``: the same file's ``gcj02towgs84`` output, which uses the
  common one-step approximation w = 2g - f(g). It is *not* exact; the test checks that our
  iterated inverse lands within a few metres of it and is strictly more accurate.
* The size of the offset: GCJ-02 is documented (e.g. the English Wikipedia article
  "Restrictions on geographic data in China") as shifting positions by roughly 100-700 m,
  and Beijing's shift is commonly quoted as about +0.006 deg longitude, +0.0014 deg latitude
  (~550 m to the east-north-east).
* Distances are measured with pyproj.Geod on the WGS 84 ellipsoid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from tbpa.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china_bbox,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from tbpa.errors import CRSError

GEOD = Geod(ellps="WGS84")
BEIJING = (116.404, 39.915)
REF_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
REF_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
REF_GCJ_TO_WGS_ONE_STEP = (116.39775550083061, 39.91359571849836)


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_reference_pairs_from_independent_implementation():
    assert wgs84_to_gcj02(*BEIJING) == pytest.approx(REF_WGS_TO_GCJ, abs=1e-10)
    assert gcj02_to_bd09(*BEIJING) == pytest.approx(REF_GCJ_TO_BD, abs=1e-10)


def test_iterated_inverse_beats_one_step_reference():
    ours = gcj02_to_wgs84(*BEIJING)
    assert _metres(*ours, *REF_GCJ_TO_WGS_ONE_STEP) < 5.0  # same answer to a few metres
    err_ours = _metres(*wgs84_to_gcj02(*ours), *BEIJING)
    err_ref = _metres(*wgs84_to_gcj02(*REF_GCJ_TO_WGS_ONE_STEP), *BEIJING)
    assert err_ours < 1e-3 < err_ref


def test_beijing_offset_matches_documented_order():
    lon, lat = wgs84_to_gcj02(*BEIJING)
    assert 0.005 < lon - BEIJING[0] < 0.007
    assert 0.001 < lat - BEIJING[1] < 0.002
    assert 450 < _metres(*BEIJING, lon, lat) < 650


def test_offset_magnitude_across_china(rng):
    # Eastern and central China (where the 100-700 m figure is quoted).
    lon = rng.uniform(100.0, 122.0, 5000)
    lat = rng.uniform(22.0, 45.0, 5000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    d = _metres(lon, lat, glon, glat)
    assert d.min() > 100.0 and d.max() < 700.0


def test_round_trips_are_below_half_a_metre(rng):
    lon = rng.uniform(73.5, 135.0, 4000)
    lat = rng.uniform(18.0, 53.5, 4000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, back_lon, back_lat).max() < 0.5
    # the other direction: a GCJ coordinate read off a web map
    glon, glat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert _metres(lon, lat, glon, glat).max() < 0.5
    blon, blat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert _metres(lon, lat, blon, blat).max() < 0.5
    glon, glat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert _metres(lon, lat, glon, glat).max() < 0.5


def test_outside_china_unchanged_and_box_documented():
    moscow, tokyo = (37.62, 55.75), (139.69, 35.69)
    for pt in (moscow, tokyo):
        for fn in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
            assert fn(*pt) == pt
    # The conventional rectangle is wider than China: Seoul lies inside it and is shifted.
    assert bool(in_china_bbox(126.98, 37.57)) and wgs84_to_gcj02(126.98, 37.57) != (126.98, 37.57)


def test_shapes_and_scalars():
    lon = np.array([[116.4, 130.3], [37.6, 121.5]])
    lat = np.array([[39.9, 42.9], [55.7, 31.2]])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == lon.shape and glat.shape == lat.shape
    assert (glon[1, 0], glat[1, 0]) == (37.6, 55.7)  # Moscow untouched inside the array
    scalar = wgs84_to_gcj02(116.4, 39.9)
    assert isinstance(scalar[0], float) and scalar == (glon[0, 0], glat[0, 0])


def test_geodataframe_conversion_copies_and_matches_arrays():
    poly = Polygon([(130.0, 42.0), (130.5, 42.0), (130.5, 42.5), (130.0, 42.0)])
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]},
        geometry=[Point(116.404, 39.915), LineString([(117, 40), (118, 41)]), poly],
        crs="EPSG:4326",
    )
    before = gdf.copy()
    out = gcj02_to_wgs84(gdf)
    assert gdf.geom_equals(before.geometry).all()  # input untouched
    assert out.crs == gdf.crs and list(out["name"]) == ["a", "b", "c"]
    # (iterations stop on the whole batch, so agreement is to rounding, not bit-for-bit)
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == pytest.approx(
        gcj02_to_wgs84(116.404, 39.915), abs=1e-11)
    xs, ys = np.asarray(poly.exterior.coords).T
    ex, ey = gcj02_to_wgs84(xs, ys)
    np.testing.assert_allclose(np.asarray(out.geometry.iloc[2].exterior.coords),
                               np.column_stack([ex, ey]), rtol=0, atol=1e-11)
    series = wgs84_to_bd09(gdf.geometry)
    assert isinstance(series, gpd.GeoSeries)
    assert (series.iloc[0].x, series.iloc[0].y) == pytest.approx(wgs84_to_bd09(116.404, 39.915), abs=1e-11)


def test_z_is_kept():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.404, 39.915, 44.0)], crs=4326)
    out = wgs84_to_gcj02(gdf).geometry.iloc[0]
    assert out.has_z and out.z == 44.0
    assert (out.x, out.y) == pytest.approx(REF_WGS_TO_GCJ, abs=1e-10)


def test_geodata_crs_is_checked():
    projected = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs="EPSG:32652")
    with pytest.raises(CRSError, match="EPSG:4326"):
        gcj02_to_wgs84(projected)
    with pytest.raises(CRSError, match="no CRS"):
        bd09_to_wgs84(gpd.GeoDataFrame(geometry=[Point(116, 40)]))
