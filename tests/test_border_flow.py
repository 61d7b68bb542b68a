"""border_flow: known stripe of current, numerical line integral, CRS and empty-input errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Polygon

import tbpa
from tbpa.errors import CRSError, EmptySelectionError, ValidationError


@pytest.fixture
def stripe(make_raster, laea):
    vals = np.ones((50, 50))
    vals[:, 20:22] = 10.0  # a stripe of strong current at x in [2000, 2200) m
    return make_raster(vals, cell=100.0), laea


def test_stripe_gets_known_share(stripe):
    da, crs = stripe
    border = gpd.GeoSeries([LineString([(0, 2550), (5000, 2550)])], crs=crs)
    seg = tbpa.connectivity.border_flow(da, border, segment_m=1000)
    assert len(seg) == 5
    np.testing.assert_allclose(seg["length_m"], 1000.0)
    np.testing.assert_allclose(seg["from_m"], [0, 1000, 2000, 3000, 4000])
    # each 1 km segment crosses 10 cells straight through: sum of their currents
    np.testing.assert_allclose(seg["current"], [10, 10, 28, 10, 10])
    np.testing.assert_allclose(seg.loc[2, "share"], 28 / 68)
    assert seg.loc[2, "rank"] == 1
    assert sorted(seg["rank"]) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(seg["share"].sum(), 1.0)


def test_oblique_line_matches_numerical_integral(make_raster, laea, rng):
    vals = rng.uniform(0, 5, (30, 40))
    da = make_raster(vals, cell=100.0)
    line = LineString([(130, 170), (1890, 2410), (3700, 1020)])
    seg = tbpa.connectivity.border_flow(da, gpd.GeoSeries([line], crs=laea), segment_m=700)
    # independent estimate: sample densely along each segment
    for _, row in seg.iterrows():
        g = row.geometry
        n = 20000
        d = (np.arange(n) + 0.5) / n * g.length
        pts = [g.interpolate(v) for v in d]
        xs = np.array([p.x for p in pts])
        ys = np.array([p.y for p in pts])
        c = np.floor(xs / 100).astype(int)
        r = np.floor((3000 - ys) / 100).astype(int)
        expected = vals[r, c].sum() * (g.length / n) / 100.0
        np.testing.assert_allclose(row["current"], expected, rtol=2e-3)
    np.testing.assert_allclose(seg["length_m"].sum(), line.length)
    assert seg["to_m"].iloc[-1] == pytest.approx(line.length)


def test_multipart_positions_and_lonlat(stripe):
    da, crs = stripe
    ml = MultiLineString([[(0, 500), (1500, 500)], [(2000, 4000), (2000, 2000)]])
    seg = tbpa.connectivity.border_flow(da, gpd.GeoDataFrame(geometry=[ml], crs=crs),
                                        segment_m=1000)
    assert list(seg["part"]) == [0, 0, 1, 1]
    np.testing.assert_allclose(seg["from_m"], [0, 1000, 1500, 2500])
    np.testing.assert_allclose(seg["length_m"], [1000, 500, 1000, 1000])
    mid = seg.geometry.iloc[0].interpolate(0.5, normalized=True)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(mid.x, mid.y)
    assert seg["lon"].iloc[0] == pytest.approx(lon) and seg["lat"].iloc[0] == pytest.approx(lat)


def test_outside_and_nan_cells_count_zero(make_raster, laea):
    vals = np.ones((10, 10))
    vals[5, :] = np.nan
    da = make_raster(vals, cell=100.0)
    # vertical line through column 0, extending 500 m above the raster
    seg = tbpa.connectivity.border_flow(
        da, gpd.GeoSeries([LineString([(50, 1500), (50, 0)])], crs=laea), segment_m=5000)
    np.testing.assert_allclose(seg["current"], [9.0])  # 10 cells, one NaN, 5 outside


def test_errors(stripe):
    da, crs = stripe
    line = LineString([(0, 100), (1000, 100)])
    with pytest.raises(CRSError, match="geographic"):
        tbpa.connectivity.border_flow(da, gpd.GeoSeries([line], crs="EPSG:4326"))
    with pytest.raises(CRSError, match="to_crs"):
        tbpa.connectivity.border_flow(da, gpd.GeoSeries([line], crs="EPSG:3857"))
    with pytest.raises(CRSError):
        tbpa.connectivity.border_flow(da, gpd.GeoSeries([line]))
    geo = tbpa.io.from_array(np.ones((3, 3)), transform=(0.1, 0, 130, 0, -0.1, 45), crs="EPSG:4326")
    with pytest.raises(CRSError):
        tbpa.connectivity.border_flow(geo, gpd.GeoSeries([line], crs="EPSG:4326"))
    with pytest.raises(EmptySelectionError):
        tbpa.connectivity.border_flow(da, gpd.GeoSeries([], crs=crs))
    with pytest.raises(ValidationError, match="boundary"):
        tbpa.connectivity.border_flow(
            da, gpd.GeoSeries([Polygon([(0, 0), (100, 0), (100, 100)])], crs=crs))
    with pytest.raises(ValidationError, match="segment_m"):
        tbpa.connectivity.border_flow(da, gpd.GeoSeries([line], crs=crs), segment_m=0)
