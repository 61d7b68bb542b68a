"""Resistance surfaces and core areas: hand-worked values, monotonicity, fences, terrain, errors."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tbpa import species
from tbpa.errors import CRSError, DataError, GridMismatchError, TbpaWarning, UnknownNameError, ValidationError
from tbpa.habitat.resistance import core_areas, resistance

SPECIES_DIR = Path(__file__).resolve().parents[1] / "data" / "habitat" / "species"
CELL = 100.0


def raw(name: str) -> dict:
    with open(SPECIES_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


TIGER = raw("amur_tiger")
R_FOREST = TIGER["classes"]["104"]["resistance"]  # 1.0
ROAD_M = TIGER["modifiers"]["roads"]["max_multiplier"]
ROAD_S = TIGER["modifiers"]["roads"]["scale_m"]
FENCE_R = TIGER["modifiers"]["fence"]["resistance"]


def decay(d, m, s):
    return 1 + (m - 1) * math.exp(-d / s)


def gdf(geoms, crs, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)


# -- base look-up -------------------------------------------------------------------------------
def test_base_resistance_matches_the_profile_table(make_raster):
    codes = np.array([[104, 504, 1405], [900, 0, 101]])
    hab = make_raster(codes)
    before = hab.copy(deep=True)
    out = resistance(hab, "amur_tiger")
    c = TIGER["classes"]
    want = np.array([[c["104"]["resistance"], c["504"]["resistance"], c["1405"]["resistance"]],
                     [np.nan, np.nan, c["101"]["resistance"]]])  # 900 impassable, 0 nodata
    np.testing.assert_array_equal(out.values, want)
    assert out.dtype == np.float64 and out.name == "resistance"
    assert out.rio.crs == hab.rio.crs and out.rio.transform() == hab.rio.transform()
    np.testing.assert_array_equal(out.x, hab.x)
    assert out.attrs["species"] == "amur_tiger"
    assert before.equals(hab)  # input untouched


def test_raster_nodata_value_becomes_nan(make_raster):
    hab = make_raster(np.array([[104, 255]], dtype=np.int32)).rio.write_nodata(255)
    out = resistance(hab, "amur_tiger")
    assert out.values[0, 0] == R_FOREST and np.isnan(out.values[0, 1])


def test_bad_codes_raise(make_raster):
    with pytest.raises(DataError, match="255"):
        resistance(make_raster(np.array([[104, 255]])), "amur_tiger")


def test_profile_object_and_path_accepted(make_raster):
    hab = make_raster(np.full((2, 2), 504))
    a = resistance(hab, species.load("hooded_crane")).values
    b = resistance(hab, SPECIES_DIR / "hooded_crane.toml").values
    np.testing.assert_array_equal(a, b)


def test_lazy_export():
    import tbpa

    assert tbpa.habitat.resistance is resistance
    assert tbpa.habitat.core_areas is core_areas


# -- distance decay -----------------------------------------------------------------------------
def test_road_distance_decay_by_hand(make_raster, laea):
    hab = make_raster(np.full((3, 8), 104))
    # road along the centre line of column 0: distance to column j is 100 j m
    road = gdf([shapely.LineString([(50, 0), (50, 300)])], laea)
    out = resistance(hab, "amur_tiger", roads=road).values
    want = [R_FOREST * decay(CELL * j, ROAD_M, ROAD_S) for j in range(8)]
    np.testing.assert_allclose(out, np.tile(want, (3, 1)), rtol=1e-12)
    assert np.all(np.diff(out[0]) < 0)  # closer to the road -> higher
    assert out[0, 0] == pytest.approx(ROAD_M * R_FOREST)


def test_road_outside_the_raster_still_counts(make_raster, laea):
    hab = make_raster(np.full((2, 4), 104))
    road = gdf([shapely.LineString([(-150, -500), (-150, 700)])], laea)  # 1.5 cells left of the edge
    out = resistance(hab, "amur_tiger", roads=road).values
    want = [decay(200 + CELL * j, ROAD_M, ROAD_S) for j in range(4)]
    np.testing.assert_allclose(out[0], want, rtol=1e-12)


def test_settlement_points_and_polygons(make_raster, laea):
    s = TIGER["modifiers"]["settlements"]
    hab = make_raster(np.full((5, 5), 104))
    town = gdf([shapely.Point(250, 250)], laea)  # centre cell (2, 2)
    out = resistance(hab, "amur_tiger", settlements=town).values
    rows, cols = np.mgrid[0:5, 0:5]
    d = CELL * np.hypot(rows - 2, cols - 2)
    want = 1 + (s["max_multiplier"] - 1) * np.exp(-d / s["scale_m"])
    np.testing.assert_allclose(out, want, rtol=1e-12)
    # a polygon too small to contain a cell centre still marks its cell
    tiny = gdf([shapely.box(240, 240, 260, 260)], laea)
    np.testing.assert_allclose(resistance(hab, "amur_tiger", settlements=tiny).values, want, rtol=1e-12)


def test_roads_as_raster_on_the_same_grid(make_raster):
    hab = make_raster(np.full((3, 4), 104))
    mask = np.zeros((3, 4))
    mask[:, 3] = 1
    out = resistance(hab, "amur_tiger", roads=make_raster(mask)).values
    want = [decay(CELL * (3 - j), ROAD_M, ROAD_S) for j in range(4)]
    np.testing.assert_allclose(out[1], want, rtol=1e-12)


def test_empty_road_layer_changes_nothing(make_raster, laea):
    hab = make_raster(np.full((2, 2), 104))
    out = resistance(hab, "amur_tiger", roads=gdf([], laea))
    np.testing.assert_array_equal(out.values, np.full((2, 2), R_FOREST))


CODES = [104, 101, 304, 504, 1401, 1405, 900, 0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    shape=st.tuples(st.integers(2, 7), st.integers(2, 7)),
)
def test_more_roads_never_lower_resistance(make_raster, data, shape):
    codes = np.array(data.draw(st.lists(st.sampled_from(CODES), min_size=shape[0] * shape[1],
                                        max_size=shape[0] * shape[1]))).reshape(shape)
    a = np.array(data.draw(st.lists(st.booleans(), min_size=codes.size, max_size=codes.size))).reshape(shape)
    extra = np.array(data.draw(st.lists(st.booleans(), min_size=codes.size, max_size=codes.size))).reshape(shape)
    b = a | extra
    town = np.array(data.draw(st.lists(st.booleans(), min_size=codes.size, max_size=codes.size))).reshape(shape)
    hab = make_raster(codes)
    base = resistance(hab, "amur_leopard").values
    ra = resistance(hab, "amur_leopard", roads=make_raster(a.astype(float)),
                    settlements=make_raster(town.astype(float))).values
    rb = resistance(hab, "amur_leopard", roads=make_raster(b.astype(float)),
                    settlements=make_raster(town.astype(float))).values
    same_nan = np.isnan(base)
    assert np.array_equal(np.isnan(ra), same_nan) and np.array_equal(np.isnan(rb), same_nan)
    fin = ~same_nan
    assert np.all(rb[fin] >= ra[fin] * (1 - 1e-12))
    assert np.all(ra[fin] >= base[fin] * (1 - 1e-12))
    assert np.all(ra[fin] >= 1)


# -- fences ---------------------------------------------------------------------------------------
def test_fence_cells_raised_and_gap_open(make_raster, laea):
    hab = make_raster(np.full((5, 7), 104))
    fence = gdf([shapely.LineString([(0, 250), (700, 250)]), shapely.Point(350, 250)], laea)
    road = gdf([shapely.LineString([(0, 0), (0, 500)])], laea)
    no_fence = resistance(hab, "amur_tiger", roads=road).values
    out = resistance(hab, "amur_tiger", roads=road, fence=fence).values
    fence_row = np.ones(7, bool)
    fence_row[3] = False  # the gap cell
    np.testing.assert_array_equal(out[2, fence_row], np.maximum(no_fence[2, fence_row], FENCE_R))
    assert out[2, 3] == no_fence[2, 3]  # gap equals the no-fence value
    assert np.all(out[2, fence_row] > no_fence[2, fence_row])
    np.testing.assert_array_equal(np.delete(out, 2, axis=0), np.delete(no_fence, 2, axis=0))


def test_fence_gap_column_and_polygon_gaps(make_raster, laea):
    hab = make_raster(np.full((4, 6), 104))
    lines = gdf([shapely.LineString([(0, 150), (350, 150)]), shapely.LineString([(350, 150), (450, 150)]),
                 shapely.LineString([(450, 150), (600, 150)])], laea, gap=[False, True, False])
    out = resistance(hab, "amur_tiger", fence=lines).values
    # the gap segment touches columns 3 and 4; the fence columns 0-2 and 5 (shared endpoints open)
    np.testing.assert_array_equal(out[2], [FENCE_R, FENCE_R, FENCE_R, R_FOREST, R_FOREST, FENCE_R])
    poly = gdf([shapely.LineString([(0, 150), (600, 150)]), shapely.box(110, 110, 290, 190)], laea)
    out = resistance(hab, "amur_tiger", fence=poly).values
    np.testing.assert_array_equal(out[2], [FENCE_R, R_FOREST, R_FOREST, FENCE_R, FENCE_R, FENCE_R])


def _components(passable: np.ndarray) -> int:
    return ndimage.label(passable, structure=np.ones((3, 3)))[1]


def test_diagonal_fence_has_no_diagonal_leak_and_gap_opens_it(make_raster, laea):
    hab = make_raster(np.full((12, 12), 104))
    line = shapely.LineString([(0, 0), (1200, 1130)])  # crosses the grid corner to far edge
    closed = resistance(hab, "amur_tiger", fence=gdf([line], laea)).values
    # independent check: 8-connected components of non-fence cells (what an 8-neighbour mover sees)
    assert _components(closed < FENCE_R) == 2
    opened = resistance(hab, "amur_tiger", fence=gdf([line, shapely.Point(600, 565)], laea)).values
    assert _components(opened < FENCE_R) == 1
    cells = (opened == FENCE_R)
    assert cells.sum() < (closed == FENCE_R).sum()


def test_impassable_fence_and_bird_fence(make_raster, laea, tmp_path):
    hab = make_raster(np.full((3, 3), 504))
    fence = gdf([shapely.LineString([(0, 150), (300, 150)])], laea)
    # cranes fly: fence resistance 1 leaves the surface unchanged
    np.testing.assert_array_equal(resistance(hab, "white_naped_crane", fence=fence).values,
                                  resistance(hab, "white_naped_crane").values)
    text = (SPECIES_DIR / "amur_tiger.toml").read_text(encoding="utf-8")
    text = text.replace("[modifiers.fence]\nresistance = 1000.0", '[modifiers.fence]\nresistance = "impassable"')
    path = tmp_path / "walled.toml"
    path.write_text(text, encoding="utf-8")
    out = resistance(hab, path, fence=fence).values
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()


def test_fence_bad_inputs(make_raster, laea):
    hab = make_raster(np.full((3, 3), 104))
    with pytest.raises(ValidationError, match="gap"):
        resistance(hab, "amur_tiger", fence=gdf([shapely.Point(50, 50)], laea, gap=[False]))
    with pytest.raises(ValidationError, match="gap"):
        resistance(hab, "amur_tiger", fence=gdf([shapely.LineString([(0, 50), (300, 50)])], laea, gap=["yes"]))
    with pytest.warns(TbpaWarning, match="no fence cell"):
        resistance(hab, "amur_tiger", fence=gdf([shapely.LineString([(5000, 0), (6000, 0)])], laea))


# -- terrain --------------------------------------------------------------------------------------
SNOW = raw("snow_leopard")["modifiers"]


def test_snow_leopard_elevation_window(make_raster):
    hab = make_raster(np.full((4, 4), 600))  # rocky areas
    base = raw("snow_leopard")["classes"]["600"]["resistance"]
    z = np.full((4, 4), 2000.0)
    z[0, :] = 1000.0  # below the window
    z[3, 3] = 2500.0
    # relief over the whole (smaller than the window) grid = 1500 m: inside the ruggedness window
    assert SNOW["ruggedness"]["min_m"] <= 1500 <= SNOW["ruggedness"]["max_m"]
    out = resistance(hab, "snow_leopard", dem=make_raster(z)).values
    lo, hi, k = SNOW["elevation"]["min_m"], SNOW["elevation"]["max_m"], SNOW["elevation"]["outside_multiplier"]
    want = np.where((z < lo) | (z > hi), base * k, base)
    np.testing.assert_array_equal(out, want)
    # one cell above the window, then one below; relief (1,100 m and 800 m) stays in range
    z2 = np.full((4, 4), 3000.0)
    z2[1, 1] = hi + 100
    out2 = resistance(hab, "snow_leopard", dem=make_raster(z2)).values
    assert out2[1, 1] == base * k and np.sum(out2 == base) == 15
    z3 = np.full((4, 4), 2000.0)
    z3[0, 0] = lo - 300
    out3 = resistance(hab, "snow_leopard", dem=make_raster(z3)).values
    assert out3[0, 0] == base * k and np.sum(out3 == base) == 15


def _relief_bruteforce(z, k):
    rows, cols = z.shape
    out = np.empty_like(z)
    for i in range(rows):
        for j in range(cols):
            w = z[max(0, i - k): i + k + 1, max(0, j - k): j + k + 1]
            out[i, j] = w.max() - w.min()
    return out


def test_snow_leopard_ruggedness_window(make_raster):
    n = 30  # 3 km wide at 100 m: larger than the 1 km half-width window
    hab = make_raster(np.full((n, n), 600))
    base = raw("snow_leopard")["classes"]["600"]["resistance"]
    z = np.full((n, n), 2000.0)
    z[5, 5] = 2600.0  # a 600 m spike: relief 600 within 10 cells of it, 0 elsewhere
    out = resistance(hab, "snow_leopard", dem=make_raster(z)).values
    k = round(SNOW["ruggedness"]["radius_m"] / CELL)
    relief = _relief_bruteforce(z, k)
    inside = (relief >= SNOW["ruggedness"]["min_m"]) & (relief <= SNOW["ruggedness"]["max_m"])
    want = np.where(inside, base, base * SNOW["ruggedness"]["outside_multiplier"])
    np.testing.assert_array_equal(out, want)
    assert inside.sum() == 16 * 16  # rows/cols 0..15 around (5, 5)


def test_tiger_slope_limit(make_raster):
    hab = make_raster(np.full((5, 5), 104))
    slope = TIGER["modifiers"]["slope"]
    x = np.arange(5) * CELL
    steep = np.tile(x * math.tan(math.radians(slope["max_deg"] + 5)), (5, 1))
    gentle = np.tile(x * math.tan(math.radians(slope["max_deg"] - 5)), (5, 1))
    np.testing.assert_allclose(resistance(hab, "amur_tiger", dem=make_raster(steep)).values,
                               R_FOREST * slope["outside_multiplier"])
    np.testing.assert_allclose(resistance(hab, "amur_tiger", dem=make_raster(gentle)).values, R_FOREST)


def test_dem_without_terrain_modifiers_is_ignored(make_raster):
    hab = make_raster(np.full((3, 3), 504))
    out = resistance(hab, "hooded_crane", dem=make_raster(np.full((3, 3), 9000.0)))
    np.testing.assert_array_equal(out.values, resistance(hab, "hooded_crane").values)


# -- bad input ------------------------------------------------------------------------------------
def test_geographic_crs_raises(make_raster):
    hab = make_raster(np.full((2, 2), 104), cell=0.01, x0=130.0, y0=43.0, crs="EPSG:4326")
    with pytest.raises(CRSError, match="habitat"):
        resistance(hab, "amur_tiger")
    with pytest.raises(CRSError, match="habitat"):
        core_areas(hab, "amur_tiger")


def test_vector_crs_mismatch_raises(make_raster):
    hab = make_raster(np.full((2, 2), 104))
    road = gdf([shapely.LineString([(130, 43), (131, 43)])], "EPSG:4326")
    with pytest.raises(CRSError, match="roads"):
        resistance(hab, "amur_tiger", roads=road)
    with pytest.raises(CRSError, match="settlements"):
        resistance(hab, "amur_tiger", settlements=gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


def test_grid_mismatch_raises(make_raster):
    hab = make_raster(np.full((3, 3), 104))
    with pytest.raises(GridMismatchError):
        resistance(hab, "amur_tiger", dem=make_raster(np.zeros((3, 4))))
    with pytest.raises(GridMismatchError):
        resistance(hab, "amur_tiger", roads=make_raster(np.zeros((3, 3)), cell=50.0))
    with pytest.raises(GridMismatchError):
        resistance(hab, "amur_tiger", fence=make_raster(np.zeros((3, 3)), x0=100.0))


def test_unknown_species_raises(make_raster):
    with pytest.raises(UnknownNameError, match="snow_leopard"):
        resistance(make_raster(np.full((2, 2), 104)), "snow_leapord")


def test_wrong_layer_type_raises(make_raster):
    with pytest.raises(ValidationError, match="roads"):
        resistance(make_raster(np.full((2, 2), 104)), "amur_tiger", roads=[(0, 0)])


# -- core areas -----------------------------------------------------------------------------------
def _blocks(make_raster):
    codes = np.zeros((20, 20), dtype=np.int32)
    codes[2:7, 3:9] = 504    # 5 x 6 = 30 cells = 30 ha, white-naped crane suitability 1.0
    codes[12:15, 12:15] = 1508  # 3 x 3 = 9 ha, suitability 0.6
    codes[17:19, 0:4] = 101  # forest, unsuitable
    return make_raster(codes)


WNC = raw("white_naped_crane")["classes"]


def test_core_areas_by_hand(make_raster):
    hab = _blocks(make_raster)
    cores = core_areas(hab, "white_naped_crane", min_area_ha=20)
    assert list(cores.columns) == ["core_id", "area_ha", "mean_suitability", "geometry"]
    assert len(cores) == 1
    row = cores.iloc[0]
    assert row.core_id == 1 and row.area_ha == 30.0 and row.mean_suitability == WNC["504"]["suitability"]
    assert row.geometry.area / 1e4 == pytest.approx(30.0)
    # block rows 2-6, cols 3-8; raster top y = 2000
    assert row.geometry.bounds == (300.0, 2000 - 700.0, 900.0, 2000 - 200.0)
    assert cores.crs == hab.rio.crs

    both = core_areas(hab, "white_naped_crane", min_area_ha=5)
    assert both["area_ha"].tolist() == [30.0, 9.0] and both["core_id"].tolist() == [1, 2]
    assert both["mean_suitability"].tolist() == [WNC["504"]["suitability"], WNC["1508"]["suitability"]]
    np.testing.assert_allclose(both.geometry.area / 1e4, both["area_ha"])
    assert both.geometry.is_valid.all()

    strict = core_areas(hab, "white_naped_crane", min_area_ha=5, suitability_min=0.7)
    assert strict["area_ha"].tolist() == [30.0]


def test_core_areas_default_min_area_is_female_home_range(make_raster):
    hab = _blocks(make_raster)  # 4 km2 = 400 ha > 30 ha
    assert species.load("white_naped_crane").home_range_km2.female * 100 > 30
    with pytest.warns(TbpaWarning, match="no patch"):
        cores = core_areas(hab, "white_naped_crane")
    assert len(cores) == 0 and list(cores.columns) == ["core_id", "area_ha", "mean_suitability", "geometry"]
    big = make_raster(np.full((25, 25), 504), cell=100.0)  # 625 ha >= 400 ha
    assert core_areas(big, "white_naped_crane")["area_ha"].tolist() == [625.0]


def test_core_areas_eight_connected_and_mixed_mean(make_raster):
    codes = np.zeros((6, 6), dtype=np.int32)
    codes[0:2, 0:2] = 504   # 4 cells, suitability 1.0
    codes[2:4, 2:4] = 1508  # 4 cells touching the first block only at a corner, 0.6
    codes[5, 5] = 504       # isolated single cell
    cores = core_areas(make_raster(codes), "white_naped_crane", min_area_ha=2)
    assert len(cores) == 1
    row = cores.iloc[0]
    assert row.area_ha == 8.0
    assert row.mean_suitability == pytest.approx((4 * WNC["504"]["suitability"] + 4 * WNC["1508"]["suitability"]) / 8)
    assert row.geometry.geom_type == "MultiPolygon" and row.geometry.is_valid
    assert row.geometry.area == pytest.approx(8 * CELL * CELL)


def test_core_areas_bad_arguments(make_raster):
    hab = _blocks(make_raster)
    with pytest.raises(ValidationError, match="suitability_min"):
        core_areas(hab, "white_naped_crane", suitability_min=0)
    with pytest.raises(ValidationError, match="suitability_min"):
        core_areas(hab, "white_naped_crane", suitability_min=1.5)
    with pytest.raises(ValidationError, match="min_area_ha"):
        core_areas(hab, "white_naped_crane", min_area_ha=-1)
    with pytest.raises(UnknownNameError):
        core_areas(hab, "crane")
