"""corridor_network and barrier_improvement against scipy.sparse.csgraph oracles."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

import tbpa.connectivity.leastcost as lc
from tbpa.connectivity import CorridorNetwork, barrier_improvement, corridor_network
from tbpa.errors import CRSError, ValidationError

from test_leastcost import CELL, grid_graph


def box_cells(r0, r1, c0, c1, nrows):
    """Polygon covering the centres of rows r0..r1 and cols c0..c1 (inclusive)."""
    return shapely.box(c0 * CELL + 10, (nrows - r1 - 1) * CELL + 10,
                       (c1 + 1) * CELL - 10, (nrows - r0) * CELL - 10)


def flat_cells(r0, r1, c0, c1, ncols):
    return [r * ncols + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


# -- a 3-core layout where B sits on the only cheap route between A and C ---------------------
NR, NC = 30, 41
A_BOX, B_BOX, C_BOX = (20, 24, 0, 2), (2, 6, 18, 22), (20, 24, 38, 40)


@pytest.fixture
def three_cores(make_raster):
    res = np.full((NR, NC), 20.0)
    res[4, :] = 1.0  # cheap east-west strip through B
    res[4:25, 1] = 1.0  # cheap north-south strips down to A and C
    res[4:25, 39] = 2.0  # (asymmetric, so the two links differ in cost)
    r = make_raster(res)
    cores = gpd.GeoDataFrame({"core_id": ["A", "B", "C"]}, crs=r.rio.crs,
                             geometry=[box_cells(*A_BOX, NR), box_cells(*B_BOX, NR),
                                       box_cells(*C_BOX, NR)])
    return res, r, cores


def oracle_cwd(res, box):
    g = grid_graph(res)
    return dijkstra(g, indices=flat_cells(*box, res.shape[1]), min_only=True)


def test_middle_core_blocks_direct_link(three_cores):
    res, r, cores = three_cores
    net = corridor_network(r, cores, adjacency="both")
    assert isinstance(net, CorridorNetwork)
    pairs = {tuple(p) for p in net.links[["core_a", "core_b"]].values}
    assert pairs == {("A", "B"), ("B", "C")}
    drop = net.dropped.set_index(["core_a", "core_b"])
    assert "crosses core B" in drop.loc[("A", "C"), "reason"]

    da, db, dc = (oracle_cwd(res, box) for box in (A_BOX, B_BOX, C_BOX))
    lcd_ab = da[flat_cells(*B_BOX, NC)].min()
    lcd_bc = db[flat_cells(*C_BOX, NC)].min()
    links = net.links.set_index(["core_a", "core_b"])
    np.testing.assert_allclose(links.loc[("A", "B"), "cwd"], lcd_ab, rtol=1e-9)
    np.testing.assert_allclose(links.loc[("B", "C"), "cwd"], lcd_bc, rtol=1e-9)

    # Euclidean edge-to-edge distance between the polygons; ratios.
    e_ab = cores.geometry[0].distance(cores.geometry[1])
    assert links.loc[("A", "B"), "euclid_m"] == pytest.approx(e_ab)
    assert links.loc[("A", "B"), "cwd_to_euclid"] == pytest.approx(lcd_ab / e_ab)
    ab = links.loc[("A", "B")]
    assert ab.cwd_to_path_length == pytest.approx(ab.cwd / ab.lcp_length_m)
    assert ab.geometry.length == pytest.approx(ab.lcp_length_m)

    # cost-distance maps: one per core, equal to the oracle.
    assert set(net.cwd) == {"A", "B", "C"}
    np.testing.assert_allclose(net.cwd["B"].values.ravel(), db, rtol=1e-9)

    # graph
    assert set(net.graph.edges) == {("A", "B"), ("B", "C")}
    assert net.graph.edges["A", "B"]["weight"] == pytest.approx(lcd_ab, rel=1e-9)
    assert net.graph.nodes["B"]["area_m2"] == pytest.approx(cores.geometry[1].area)
    assert nx.is_connected(net.graph)

    # corridor mosaic = min of the two normalized corridors
    want = np.fmin(da + db - lcd_ab, db + dc - lcd_bc).reshape(NR, NC)
    np.testing.assert_allclose(net.corridors.values, want, atol=1e-9 * lcd_ab)


def test_one_dijkstra_per_core(three_cores, monkeypatch):
    _, r, cores = three_cores
    calls = []
    real = lc.dijkstra_grid

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(lc, "dijkstra_grid", counting)
    corridor_network(r, cores)
    assert len(calls) == 1 + 3  # one allocation run + one per core


def test_max_cwd_drops_and_truncates(three_cores):
    res, r, cores = three_cores
    da, db = oracle_cwd(res, A_BOX), oracle_cwd(res, B_BOX)
    dc = oracle_cwd(res, C_BOX)
    lcd_ab = da[flat_cells(*B_BOX, NC)].min()
    lcd_bc = db[flat_cells(*C_BOX, NC)].min()
    assert lcd_ab != pytest.approx(lcd_bc)
    limit = (lcd_ab + lcd_bc) / 2
    net = corridor_network(r, cores, max_cwd=limit, cutoff=500.0)
    kept = ("A", "B") if lcd_ab < lcd_bc else ("B", "C")
    assert [tuple(p) for p in net.links[["core_a", "core_b"]].values] == [kept]
    assert net.dropped.reason.str.contains("max_cwd").any()
    lo, hi = (da, db) if kept == ("A", "B") else (db, dc)
    want = (lo + hi - min(lcd_ab, lcd_bc)).reshape(NR, NC)
    want[want > 500.0] = np.nan
    got = net.corridors.values
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=1e-6)


@pytest.mark.parametrize("keep_connected", [True, False])
def test_max_neighbors(make_raster, keep_connected):
    # Four cores on a line: A-B close, B-C far apart, C-D close.
    res = np.ones((5, 60))
    r = make_raster(res)
    cols = {"A": (0, 1), "B": (5, 6), "C": (40, 41), "D": (45, 46)}
    cores = gpd.GeoDataFrame({"core_id": list(cols)}, crs=r.rio.crs,
                             geometry=[box_cells(0, 4, c0, c1, 5) for c0, c1 in cols.values()])
    net = corridor_network(r, cores, max_neighbors=1, keep_connected=keep_connected)
    pairs = {tuple(p) for p in net.links[["core_a", "core_b"]].values}
    if keep_connected:
        assert pairs == {("A", "B"), ("B", "C"), ("C", "D")}
    else:
        assert pairs == {("A", "B"), ("C", "D")}
        assert net.dropped.reason.str.contains("nearest").any()
    full = corridor_network(r, cores)
    assert {tuple(p) for p in full.links[["core_a", "core_b"]].values} == {
        ("A", "B"), ("B", "C"), ("C", "D")}
    bc = full.links.set_index(["core_a", "core_b"]).loc[("B", "C")]
    assert bc.cwd == pytest.approx(34 * CELL)  # col 6 -> col 40, resistance 1
    assert bc.euclid_m == pytest.approx(33 * CELL + 20)  # edges at 690 and 4010 m (inset 10 m)


def test_unreachable_pair_dropped(make_raster):
    res = np.ones((5, 20))
    res[:, 10] = np.nan
    r = make_raster(res)
    cores = gpd.GeoDataFrame(geometry=[box_cells(1, 3, 0, 1, 5), box_cells(1, 3, 18, 19, 5)],
                             crs=r.rio.crs)
    net = corridor_network(r, cores, adjacency="euclidean")
    assert len(net.links) == 0
    assert net.dropped.reason.tolist() == ["unreachable"]
    assert np.isnan(net.corridors.values).all()
    assert net.graph.number_of_nodes() == 2 and net.graph.number_of_edges() == 0


def test_plot_runs(three_cores):
    import matplotlib.pyplot as plt

    _, r, cores = three_cores
    ax = corridor_network(r, cores).plot()
    assert ax.get_title().startswith("Corridor network")
    plt.close("all")


def test_corridor_network_bad_input(make_raster, three_cores):
    _, r, cores = three_cores
    with pytest.raises(ValidationError, match="at least 2"):
        corridor_network(r, cores.iloc[:1])
    dup = cores.assign(core_id=["A", "A", "C"])
    with pytest.raises(ValidationError, match="not unique"):
        corridor_network(r, dup)
    geo = make_raster(np.ones((4, 4)), cell=0.01, x0=130, y0=44, crs="EPSG:4326")
    with pytest.raises(CRSError):
        corridor_network(geo, cores)
    with pytest.raises(ValidationError, match="adjacency"):
        corridor_network(r, cores, adjacency="touching")


# -- barrier improvement -----------------------------------------------------------------------
WALL_R, WALL_C = 21, 31


@pytest.fixture
def wall(make_raster):
    res = np.ones((WALL_R, WALL_C))
    res[:, 14:17] = 100.0  # a 3-cell thick wall across the whole grid
    return res, make_raster(res)


def restored_lcd(res, centre_rc, radius_m, r0=1.0):
    """Independent re-run: restore the disk, rebuild the graph, run scipy dijkstra."""
    rr, cc = np.mgrid[: res.shape[0], : res.shape[1]]
    disk = np.hypot(rr - centre_rc[0], cc - centre_rc[1]) * CELL <= radius_m + 1e-9
    res2 = res.copy()
    res2[disk] = np.minimum(res2[disk], r0)
    d = dijkstra(grid_graph(res2), indices=[10 * WALL_C + 0])
    return d[0, 10 * WALL_C + 30]


def test_barrier_gap_matches_rerun(wall):
    res, r = wall
    a, b = (0.5 * CELL, (WALL_R - 10.5) * CELL), ((WALL_C - 0.5) * CELL, (WALL_R - 10.5) * CELL)
    lcd = dijkstra(grid_graph(res), indices=[10 * WALL_C])[0, 10 * WALL_C + 30]
    assert lcd == pytest.approx(26 * CELL + 2 * 50.5 * CELL + 2 * 100 * CELL)
    ds = barrier_improvement(r, a, b, radii_m=[100, 200, 300])
    assert ds.attrs["lcd"] == pytest.approx(lcd, rel=1e-12)
    for radius in (200, 300):  # windows that span the wall: the formula is exact
        new = restored_lcd(res, (10, 15), radius)
        want = (lcd - new) / (2 * radius)
        got = float(ds[f"improvement_r{radius}"][10, 15])
        assert got == pytest.approx(want, rel=1e-9)
        assert new == pytest.approx(30 * CELL)
    # A window narrower than the wall: the score only uses unrestored CWDs (conservative).
    narrow = float(ds["improvement_r100"][10, 15])
    assert narrow == pytest.approx((lcd - (2 * 6350.0 + 200.0)) / 200.0)
    assert narrow < (lcd - restored_lcd(res, (10, 15), 100)) / 200.0
    # Max over radii and the radius attaining it.
    stack = np.stack([ds[f"improvement_r{k}"].values for k in (100, 200, 300)])
    np.testing.assert_allclose(ds.max_improvement.values, stack.max(axis=0))
    assert float(ds.best_radius_m[10, 15]) == 100.0
    # Far from the wall nothing improves.
    assert float(ds.max_improvement[10, 3]) == 0.0
    assert np.isnan(float(ds.best_radius_m[10, 3]))
    assert ds.rio.crs is not None


def test_barrier_bad_input(wall):
    _, r = wall
    with pytest.raises(ValidationError, match="radii"):
        barrier_improvement(r, (50.0, 50.0), (3050.0, 50.0), radii_m=[0])
    with pytest.raises(ValidationError, match="restored"):
        barrier_improvement(r, (50.0, 50.0), (3050.0, 50.0), radii_m=[100],
                            restored_resistance=0)


# -- CLI -----------------------------------------------------------------------------------------
def test_cli_cost_distance_and_corridors(tmp_path, three_cores):
    import tbpa
    from tbpa.cli import main

    res, r, cores = three_cores
    tbpa.io.write_raster(r, tmp_path / "res.tif")
    cores.to_file(tmp_path / "cores.gpkg")
    assert main(["cost-distance", str(tmp_path / "res.tif"), str(tmp_path / "cores.gpkg"),
                 "--out", str(tmp_path / "cwd.tif")]) == 0
    got = tbpa.io.read_raster(tmp_path / "cwd.tif").values
    want = oracle_cwd(res, A_BOX)
    for box in (B_BOX, C_BOX):
        want = np.fmin(want, oracle_cwd(res, box))
    np.testing.assert_allclose(got.ravel(), want, rtol=1e-9)
    out = tmp_path / "net"
    assert main(["corridors", str(tmp_path / "res.tif"), str(tmp_path / "cores.gpkg"),
                 "--out", str(out), "--max-cwd", "1e6"]) == 0
    links = gpd.read_file(out / "links.gpkg")
    assert sorted(zip(links.core_a, links.core_b)) == [("A", "B"), ("B", "C")]
    assert (out / "corridors.tif").exists() and (out / "dropped_links.csv").exists()
    # A missing input is a one-line error with exit code 2, not a traceback.
    assert main(["cost-distance", str(tmp_path / "res.tif"), str(tmp_path / "none.gpkg"),
                 "--out", str(tmp_path / "x.tif")]) == 2
