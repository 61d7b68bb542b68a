"""cost_distance / least_cost_path / least_cost_corridor against independent oracles.

The oracle is scipy.sparse.csgraph.dijkstra on a graph built explicitly here from the
stated convention: step cost = mean of the two cells' resistances x centre distance.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from tbpa.connectivity import cost_distance, least_cost_corridor, least_cost_path
from tbpa.errors import CRSError, UnreachableWarning, ValidationError

CELL = 100.0


def grid_graph(res: np.ndarray, cell: float = CELL, eight: bool = True):
    """Explicit CSR graph of a resistance grid (NaN cells have no edges)."""
    nr, nc = res.shape
    idx = np.arange(nr * nc).reshape(nr, nc)
    flat = res.ravel()
    moves = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if eight else [])
    rows, cols, w = [], [], []
    for dr, dc in moves:
        for r in range(nr):
            for c in range(nc):
                rr, cc = r + dr, c + dc
                if not (0 <= rr < nr and 0 <= cc < nc):
                    continue
                u, v = idx[r, c], idx[rr, cc]
                if np.isnan(flat[u]) or np.isnan(flat[v]):
                    continue
                wt = (flat[u] + flat[v]) / 2 * cell * np.hypot(dr, dc)
                rows += [u, v]
                cols += [v, u]
                w += [wt, wt]
    return coo_matrix((w, (rows, cols)), shape=(nr * nc, nr * nc)).tocsr()


def oracle(res, src_cells, eight=True):
    nr, nc = res.shape
    g = grid_graph(res, eight=eight)
    flat_src = [r * nc + c for r, c in src_cells]
    d = dijkstra(g, indices=flat_src, min_only=True).reshape(nr, nc)
    d[np.isnan(res)] = np.nan
    return d


def centre(r, c, nrows):
    """Map coordinates of the centre of cell (r, c) for make_raster's default grid."""
    return (c + 0.5) * CELL, (nrows - r - 0.5) * CELL


def random_res(rng, shape=(23, 31), holes=0.15):
    res = rng.uniform(0.2, 20.0, shape)
    res[rng.random(shape) < holes] = np.nan
    return res


def assert_same(got, want):
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-9, atol=0)


@pytest.mark.parametrize("connect", ["eight", "four"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cost_distance_matches_scipy_points(make_raster, connect, seed):
    rng = np.random.default_rng(seed)
    res = random_res(rng)
    free = np.argwhere(~np.isnan(res))
    picks = free[rng.choice(len(free), 3, replace=False)]
    pts = [centre(r, c, res.shape[0]) for r, c in picks]
    got = cost_distance(make_raster(res), np.array(pts), connect=connect).values
    assert_same(got, oracle(res, [tuple(p) for p in picks], eight=connect == "eight"))


@pytest.mark.parametrize("connect", ["eight", "four"])
def test_cost_distance_matches_scipy_polygon(make_raster, rng, connect):
    res = random_res(rng)
    nr = res.shape[0]
    # Polygon covering cell centres of rows 3..6, cols 4..9 (edges between centres).
    poly = shapely.box(4.2 * CELL, (nr - 6.8) * CELL, 9.8 * CELL, (nr - 3.2) * CELL)
    pt = shapely.Point(centre(18, 25, nr))
    res[18, 25] = 3.0
    cells = [(r, c) for r in range(3, 7) for c in range(4, 10) if not np.isnan(res[r, c])]
    src = gpd.GeoDataFrame(geometry=[poly, pt], crs=make_raster(res).rio.crs)
    got = cost_distance(make_raster(res), src, connect=connect).values
    want = oracle(res, cells + [(18, 25)], eight=connect == "eight")
    assert_same(got, want)
    assert np.all(got[3:7, 4:10][~np.isnan(res[3:7, 4:10])] == 0)


def test_uniform_resistance_is_octile_distance(make_raster):
    r0 = 2.5
    res = np.full((40, 50), r0)
    cwd = cost_distance(make_raster(res), centre(7, 11, 40)).values
    dr = np.abs(np.arange(40)[:, None] - 7)
    dc = np.abs(np.arange(50)[None, :] - 11)
    octile = (np.maximum(dr, dc) - np.minimum(dr, dc) + np.sqrt(2) * np.minimum(dr, dc))
    np.testing.assert_allclose(cwd, r0 * CELL * octile, rtol=1e-12)
    four = cost_distance(make_raster(res), centre(7, 11, 40), connect="four").values
    np.testing.assert_allclose(four, r0 * CELL * (dr + dc), rtol=1e-12)


def test_allocation_and_attrs(make_raster, rng):
    res = random_res(rng, holes=0.0)
    picks = [(2, 3), (20, 28)]
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(centre(r, c, 23)) for r, c in picks],
                           index=["west", "east"], crs=make_raster(res).rio.crs)
    cwd, alloc = cost_distance(make_raster(res), pts, return_allocation=True)
    g = grid_graph(res)
    d = dijkstra(g, indices=[r * 31 + c for r, c in picks])
    nearest = np.argmin(d, axis=0).reshape(res.shape) + 1
    tie = np.isclose(d[0], d[1], rtol=1e-12).reshape(res.shape)
    assert np.array_equal(alloc.values[~tie], nearest[~tie])
    assert alloc.attrs["source_ids"] == ["west", "east"]
    assert cwd.attrs["units"] == "resistance*m"


def test_unreachable_cells_are_inf(make_raster):
    res = np.ones((5, 7))
    res[:, 3] = np.nan  # wall splits the grid
    cwd = cost_distance(make_raster(res), centre(2, 0, 5)).values
    assert np.all(np.isinf(cwd[:, 4:]))
    assert np.all(np.isnan(cwd[:, 3]))
    assert np.all(np.isfinite(cwd[:, :3]))


def test_max_cost_truncates(make_raster):
    res = np.ones((10, 10))
    cwd = cost_distance(make_raster(res), centre(0, 0, 10), max_cost=450.0).values
    full = cost_distance(make_raster(res), centre(0, 0, 10)).values
    inside = full <= 450.0
    np.testing.assert_array_equal(cwd[inside], full[inside])
    assert np.all(np.isinf(cwd[~inside]))


# -- least-cost path -----------------------------------------------------------------------
@pytest.mark.parametrize("connect", ["eight", "four"])
def test_least_cost_path_cost_connected_avoids_nan(make_raster, rng, connect):
    res = random_res(rng, shape=(30, 40), holes=0.25)
    res[2, 2] = res[27, 37] = 1.0
    r = make_raster(res)
    a, b = centre(2, 2, 30), centre(27, 37, 30)
    cwd = cost_distance(r, a, connect=connect).values
    p = least_cost_path(r, a, b, connect=connect)
    assert len(p) == 1
    want = oracle(res, [(2, 2)], eight=connect == "eight")[27, 37]
    assert np.isfinite(want)
    np.testing.assert_allclose(p.cost.iloc[0], want, rtol=1e-9)
    np.testing.assert_allclose(p.cost.iloc[0], cwd[27, 37], rtol=1e-12)
    xy = shapely.get_coordinates(p.geometry.iloc[0])
    cols = np.floor(xy[:, 0] / CELL).astype(int)
    rows = 30 - 1 - np.floor(xy[:, 1] / CELL).astype(int)
    assert (rows[0], cols[0]) == (2, 2) and (rows[-1], cols[-1]) == (27, 37)
    step = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    cheb = np.maximum(np.abs(np.diff(rows)), np.abs(np.diff(cols)))
    assert np.all(cheb == 1) and (connect == "eight" or np.all(step == 1))
    assert not np.isnan(res[rows, cols]).any()
    # Cost re-summed along the path with the convention equals the reported cost.
    seg = (res[rows[:-1], cols[:-1]] + res[rows[1:], cols[1:]]) / 2 * CELL * np.sqrt(step)
    np.testing.assert_allclose(seg.sum(), p.cost.iloc[0], rtol=1e-9)
    np.testing.assert_allclose(p.length_m.iloc[0], (CELL * np.sqrt(step)).sum(), rtol=1e-12)
    assert p.geometry.iloc[0].length == pytest.approx(p.length_m.iloc[0])


def test_least_cost_path_country_lengths(make_raster):
    res = np.ones((3, 10))
    r = make_raster(res)
    west = shapely.box(0, 0, 500, 300)
    east = shapely.box(500, 0, 1000, 300)
    countries = gpd.GeoDataFrame({"iso3": ["CHN", "RUS"]}, geometry=[west, east], crs=r.rio.crs)
    p = least_cost_path(r, centre(1, 0, 3), centre(1, 9, 3), countries=countries)
    assert p.length_m.iloc[0] == pytest.approx(900.0)
    assert p.length_m_CHN.iloc[0] == pytest.approx(450.0)
    assert p.length_m_RUS.iloc[0] == pytest.approx(450.0)
    assert p.cost.iloc[0] == pytest.approx(900.0)
    # Countries in another CRS are reprojected.
    p2 = least_cost_path(r, centre(1, 0, 3), centre(1, 9, 3), countries=countries.to_crs(4326))
    assert p2.length_m_CHN.iloc[0] == pytest.approx(450.0, rel=1e-6)


def test_least_cost_path_polygon_ends(make_raster):
    res = np.ones((6, 12))
    r = make_raster(res)
    a = shapely.box(0, 0, 250, 600)  # columns 0-1
    b = shapely.box(950, 0, 1200, 600)  # columns 10-11
    p = least_cost_path(r, a, b)
    assert p.cost.iloc[0] == pytest.approx(800.0)  # from column 1 to column 9 edge cells


def test_least_cost_path_unreachable(make_raster):
    res = np.ones((5, 7))
    res[:, 3] = np.nan
    with pytest.warns(UnreachableWarning, match="cannot be reached"):
        p = least_cost_path(make_raster(res), centre(2, 0, 5), centre(2, 6, 5))
    assert np.isinf(p.cost.iloc[0])
    assert p.geometry.iloc[0].is_empty


# -- corridor ------------------------------------------------------------------------------
def test_corridor_is_sum_minus_lcd_and_zero_on_path(make_raster, rng):
    res = random_res(rng, shape=(25, 35), holes=0.1)
    res[3, 3] = res[21, 30] = 1.0
    r = make_raster(res)
    a, b = centre(3, 3, 25), centre(21, 30, 25)
    g = grid_graph(res)
    da, db = dijkstra(g, indices=[3 * 35 + 3, 21 * 35 + 30])
    lcd = da[21 * 35 + 30]
    want = (da + db - lcd).reshape(res.shape)
    corr = least_cost_corridor(r, a, b)
    assert corr.attrs["lcd"] == pytest.approx(lcd, rel=1e-9)
    ok = np.isfinite(want)
    np.testing.assert_allclose(corr.values[ok], want[ok], atol=1e-9 * lcd)
    assert np.isnan(corr.values[~ok]).all()
    path = least_cost_path(r, a, b).geometry.iloc[0]
    xy = shapely.get_coordinates(path)
    cols = np.floor(xy[:, 0] / CELL).astype(int)
    rows = 25 - 1 - np.floor(xy[:, 1] / CELL).astype(int)
    np.testing.assert_allclose(corr.values[rows, cols], 0.0, atol=1e-9 * lcd)
    cut = least_cost_corridor(r, a, b, cutoff=0.2 * lcd).values
    keep = want <= 0.2 * lcd
    assert np.array_equal(np.isfinite(cut), keep & ok)


# -- bad input -----------------------------------------------------------------------------
def test_geographic_crs_rejected(make_raster):
    r = make_raster(np.ones((4, 4)), cell=0.01, x0=130.0, y0=44.0, crs="EPSG:4326")
    with pytest.raises(CRSError, match="geographic"):
        cost_distance(r, (130.015, 43.985))


def test_source_in_nan_cell(make_raster):
    res = np.ones((5, 5))
    res[2, 2] = np.nan
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(centre(0, 0, 5)),
                                     shapely.Point(centre(2, 2, 5))],
                           index=["ok", "lake"], crs=make_raster(res).rio.crs)
    with pytest.raises(ValidationError, match="lake"):
        cost_distance(make_raster(res), pts)


def test_source_outside_grid(make_raster):
    with pytest.raises(ValidationError, match="outside"):
        cost_distance(make_raster(np.ones((5, 5))), (5000.0, 5000.0))
    with pytest.raises(ValidationError, match="outside"):
        least_cost_path(make_raster(np.ones((5, 5))), (50.0, 50.0), (-900.0, 50.0))


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_nonpositive_resistance(make_raster, bad):
    res = np.ones((5, 5))
    res[1, 1] = bad
    with pytest.raises(ValidationError, match="> 0"):
        cost_distance(make_raster(res), (50.0, 50.0))


def test_bad_connect_and_inf(make_raster):
    with pytest.raises(ValidationError, match="connect"):
        cost_distance(make_raster(np.ones((3, 3))), (50.0, 50.0), connect="queen")
    res = np.ones((3, 3))
    res[0, 0] = np.inf
    with pytest.raises(ValidationError, match="infinite"):
        cost_distance(make_raster(res), (150.0, 150.0))


def test_input_not_mutated(make_raster):
    res = np.ones((4, 4))
    res[1, 1] = np.nan
    r = make_raster(res.copy())
    cost_distance(r, (50.0, 50.0))
    np.testing.assert_array_equal(r.values, res)


def test_no_warning_when_reachable(make_raster):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnreachableWarning)
        least_cost_path(make_raster(np.ones((4, 4))), (50.0, 50.0), (350.0, 350.0))


def test_polygon_on_nan_cells_only(make_raster):
    res = np.ones((6, 6))
    res[0:3, 0:3] = np.nan
    poly = shapely.box(0, 300, 300, 600)  # exactly the NaN block
    part = shapely.box(0, 0, 300, 600)  # half NaN: the NaN half is skipped, not an error
    src = gpd.GeoDataFrame(geometry=[poly], index=["lake"], crs=make_raster(res).rio.crs)
    with pytest.raises(ValidationError, match="lake"):
        cost_distance(make_raster(res), src)
    cwd = cost_distance(make_raster(res), part).values
    assert np.all(cwd[3:6, 0:3] == 0) and np.isnan(cwd[0:3, 0:3]).all()
