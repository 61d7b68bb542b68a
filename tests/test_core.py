"""Core contracts: errors, from_array, GridSpec, equal_area_crs, options, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

import tbpa
from tbpa import errors
from tbpa._atomic import atomic_path
from tbpa._grid import GridSpec


def test_error_hierarchy_matches_builtins():
    assert issubclass(errors.CRSError, ValueError) and issubclass(errors.CRSError, errors.TbpaError)
    assert issubclass(errors.GridMismatchError, ValueError)
    assert issubclass(errors.UnknownSiteError, KeyError)
    assert issubclass(errors.DataError, ValueError)
    assert issubclass(errors.EncodingError, ValueError)
    # KeyError subclasses print their message, not its repr
    assert str(errors.UnknownSiteError("no site 'x'")) == "no site 'x'"


def test_from_array_requires_transform_and_crs():
    with pytest.raises(TypeError):
        tbpa.io.from_array(np.ones((2, 2)))  # keyword-only, no defaults
    with pytest.raises(errors.CRSError):
        tbpa.io.from_array(np.ones((2, 2)), transform=Affine.identity(), crs=None)


def test_from_array_places_cell_centres(make_raster):
    da = make_raster(np.arange(6.0).reshape(2, 3), cell=10.0, x0=1000.0, y0=500.0)
    assert list(da.x.values) == [1005.0, 1015.0, 1025.0]
    assert list(da.y.values) == [495.0, 485.0]
    assert da.rio.transform() == Affine(10, 0, 1000, 0, -10, 500)
    assert CRS.from_user_input(da.rio.crs).is_projected
    assert np.isnan(da.rio.nodata)


def test_gridspec_rejects_geographic_and_non_square():
    da = tbpa.io.from_array(np.ones((2, 2)), transform=Affine(0.1, 0, 130, 0, -0.1, 43), crs=4326)
    with pytest.raises(errors.CRSError, match="geographic"):
        GridSpec.from_dataarray(da, "resistance")
    g = GridSpec("EPSG:3857", Affine(10, 0, 0, 0, -20, 0), (3, 3))
    with pytest.raises(errors.ValidationError, match="non-square"):
        g.require_square()


def test_gridspec_rowcol_xy_roundtrip():
    g = GridSpec("EPSG:3857", Affine(10, 0, 100, 0, -10, 200), (5, 7))
    x, y = g.xy([0, 4], [0, 6])
    assert np.allclose(x, [105, 165]) and np.allclose(y, [195, 155])
    r, c = g.rowcol(x, y)
    assert r.tolist() == [0, 4] and c.tolist() == [0, 6]


def test_gridspec_mismatch(make_raster):
    a = GridSpec.from_dataarray(make_raster(np.ones((3, 3))))
    b = GridSpec.from_dataarray(make_raster(np.ones((3, 4))))
    with pytest.raises(errors.GridMismatchError, match="different grids"):
        a.require_same(b)


def test_equal_area_crs_is_laea_centred():
    crs = tbpa.crs.equal_area_crs((130.0, 42.0, 132.0, 44.0))
    op = crs.coordinate_operation
    params = {p.name: p.value for p in op.params}
    assert op.method_name == "Lambert Azimuthal Equal Area"
    assert params["Latitude of natural origin"] == 43 and params["Longitude of natural origin"] == 131


def test_equal_area_crs_preserves_area():
    import geopandas as gpd
    from shapely.geometry import box

    # 1 x 1 degree box at 43 N: geodesic area from pyproj.Geod is the oracle
    from pyproj import Geod

    gdf = gpd.GeoDataFrame(geometry=[box(130.5, 42.5, 131.5, 43.5)], crs=4326)
    geod_area, _ = Geod(ellps="WGS84").geometry_area_perimeter(gdf.geometry.iloc[0])
    projected = gdf.to_crs(tbpa.crs.equal_area_crs(gdf)).geometry.iloc[0]
    assert abs(projected.area - abs(geod_area)) / abs(geod_area) < 1e-3  # densification only


def test_equal_area_crs_errors():
    import geopandas as gpd

    with pytest.raises(errors.EmptySelectionError):
        tbpa.crs.equal_area_crs(gpd.GeoDataFrame(geometry=[], crs=4326))
    with pytest.raises(errors.CRSError, match="no CRS"):
        from shapely.geometry import Point

        tbpa.crs.equal_area_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)]))


def test_set_options_context_and_validation():
    with tbpa.set_options(progress=False):
        assert tbpa.get_option("progress") is False
    assert tbpa.get_option("progress") is False  # the autouse fixture sets it for tests
    with pytest.raises(errors.UnknownNameError, match="progres"):
        tbpa.set_options(progres=True)


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"


def test_write_and_read_raster_roundtrip(make_raster, tmp_path):
    da = make_raster(np.arange(12.0).reshape(3, 4))
    path = tbpa.io.write_raster(da, tmp_path / "r.tif")
    back = tbpa.io.read_raster(path)
    assert np.array_equal(back.values, da.values)
    assert back.rio.transform() == da.rio.transform()
