"""Circuit theory: graph conventions, solvers and modes against independent oracles.

Oracles: networkx.resistance_distance on a graph built here cell by cell from Circuitscape's
stated convention, series/parallel closed forms, lattice values, a naive per-pair scipy
spsolve, and hand-worked one-to-all / all-to-one / advanced circuits.
"""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import tbpa
from tbpa.connectivity import advanced, current_map, pairwise_resistance
from tbpa.connectivity._laplacian import conductance_graph, laplacian
from tbpa.connectivity._solvers import LaplacianSolver
from tbpa.errors import (ConnectivityError, SolverMemoryError, TbpaWarning,
                         UnreachableWarning, ValidationError)


# ----------------------------------------------------------------------------- oracles
def nx_grid(res, connect="eight", average="conductance"):
    """Circuitscape's graph built cell by cell (the documented convention), in networkx."""
    rows, cols = res.shape
    G = nx.Graph()
    ok = np.isfinite(res) & (res > 0)
    for r in range(rows):
        for c in range(cols):
            if ok[r, c]:
                G.add_node((r, c))
    steps = [(0, 1, False), (1, 0, False)]
    if connect == "eight":
        steps += [(1, 1, True), (1, -1, True)]
    for r in range(rows):
        for c in range(cols):
            for dr, dc, diag in steps:
                r2, c2 = r + dr, c + dc
                if not (0 <= r2 < rows and 0 <= c2 < cols) or not (ok[r, c] and ok[r2, c2]):
                    continue
                if average == "conductance":
                    g = (1 / res[r, c] + 1 / res[r2, c2]) / 2
                    g = g / np.sqrt(2) if diag else g
                else:
                    rr = (res[r, c] + res[r2, c2]) / 2
                    g = 1 / (rr * np.sqrt(2)) if diag else 1 / rr
                G.add_edge((r, c), (r2, c2), weight=g)
    return G


def labels_at(shape, cells):
    lab = np.zeros(shape)
    for k, (r, c) in enumerate(cells, start=1):
        lab[r, c] = k
    return lab


# ------------------------------------------------------------------------ correctness
@pytest.mark.parametrize("connect", ["eight", "four"])
@pytest.mark.parametrize("average", ["conductance", "resistance"])
def test_effective_resistance_matches_networkx(rng, connect, average):
    res = rng.uniform(0.5, 20, size=(7, 8))
    res[3, 2:5] = np.nan  # a barrier
    cells = [(0, 0), (6, 7), (2, 6), (5, 1)]
    df = pairwise_resistance(res, labels_at(res.shape, cells), connect=connect, average=average)
    G = nx_grid(res, connect, average)
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            if i < j:
                want = nx.resistance_distance(G, a, b, weight="weight", invert_weight=False)
                assert df.loc[i + 1, j + 1] == pytest.approx(want, rel=1e-9)
                assert df.loc[j + 1, i + 1] == df.loc[i + 1, j + 1]
    assert (np.diag(df.values) == 0).all()


def test_series_chain_closed_form():
    n, g = 9, 2.5
    lab = labels_at((1, n), [(0, 0), (0, n - 1)])
    df = pairwise_resistance(np.full((1, n), 1 / g), lab, connect="four")
    assert df.loc[1, 2] == pytest.approx((n - 1) / g, rel=1e-12)
    # a conductance raster gives the same with is_resistance False at the graph level
    G = conductance_graph(np.full((1, n), g), is_resistance=False, connect="four")
    assert G.adjacency.sum() / 2 == pytest.approx((n - 1) * g)


def test_parallel_rows_between_shorted_end_regions():
    """Two unit chains joined by focal regions at both ends: R = (n-1)/2."""
    n = 7
    res = np.ones((3, n))
    res[1, 1:-1] = np.nan  # separate the two rows; columns 0 and n-1 stay
    lab = np.zeros((3, n))
    lab[:, 0] = 1
    lab[:, -1] = 2
    df = pairwise_resistance(res, lab, connect="four")
    # region cells in the middle row connect only inside their region, so two chains remain
    assert df.loc[1, 2] == pytest.approx((n - 1) / 2, rel=1e-12)


def test_uniform_lattice_values():
    """Square lattice of unit resistors: adjacent 1/2, diagonal 2/pi (infinite-lattice values)."""
    N = 61
    c = N // 2
    lab = labels_at((N, N), [(c, c), (c, c + 1), (c + 1, c + 1)])
    df = pairwise_resistance(np.ones((N, N)), lab, connect="four")
    assert df.loc[1, 2] == pytest.approx(0.5, abs=2e-3)
    assert df.loc[1, 3] == pytest.approx(2 / np.pi, abs=2e-3)
    assert df.loc[1, 2] > 0.5  # a finite lattice has fewer paths


def _naive_pair(res, a, b, connect="eight"):
    """One grounded spsolve per pair on a Laplacian assembled from the networkx graph."""
    G = nx_grid(res, connect)
    nodes = list(G.nodes)
    L = nx.laplacian_matrix(G, nodelist=nodes, weight="weight").astype(float).tocsc()
    ia, ib = nodes.index(a), nodes.index(b)
    keep = [k for k in range(len(nodes)) if k != ia]
    rhs = np.zeros(len(nodes))
    rhs[ib] = 1.0
    v = np.zeros(len(nodes))
    v[keep] = spla.spsolve(L[keep][:, keep], rhs[keep])
    return nodes, v, G


def test_k_minus_one_solves_equal_naive_per_pair(rng):
    res = rng.uniform(1, 10, size=(9, 9))
    res[4, :6] = np.nan
    cells = [(0, 0), (8, 8), (0, 8), (8, 0), (4, 7)]
    lab = labels_at(res.shape, cells)
    ds = current_map(res, lab, return_pairs=True, return_voltages=True)
    cum = np.zeros(res.shape)
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            if i >= j:
                continue
            nodes, v, G = _naive_pair(res, a, b)
            assert float(ds.resistance.sel(node_i=i + 1, node_j=j + 1)) == pytest.approx(
                v[nodes.index(b)], rel=1e-9)
            # node current: half the sum of |branch currents|, plus half the injected 1 A
            pos = {nd: k for k, nd in enumerate(nodes)}
            flow = np.zeros(len(nodes))
            for u, w_, d in G.edges(data=True):
                f = abs(d["weight"] * (v[pos[u]] - v[pos[w_]]))
                flow[pos[u]] += f
                flow[pos[w_]] += f
            cur = flow / 2
            cur[pos[a]] += 0.5
            cur[pos[b]] += 0.5
            grid = np.zeros(res.shape)
            for nd, k in pos.items():
                grid[nd] = cur[k]
            got = ds.current.sel(pair_map=f"{i + 1}_{j + 1}").values
            np.testing.assert_allclose(got, grid, atol=1e-9)
            volt = ds.voltage.sel(pair_map=f"{i + 1}_{j + 1}").values
            assert volt[a] == pytest.approx(0, abs=1e-12)
            assert volt[b] == pytest.approx(v[pos[b]], rel=1e-9)
            cum += grid
    np.testing.assert_allclose(ds.cumulative_current.values, cum, atol=1e-8)


def test_direct_amg_threads_and_dask_agree(rng):
    res = rng.uniform(1, 50, size=(40, 40))
    lab = labels_at(res.shape, [(0, 0), (39, 39), (0, 39), (20, 10), (35, 3)])
    base = pairwise_resistance(res, lab, solver="direct", n_jobs=1)
    amg = pairwise_resistance(res, lab, solver="amg", n_jobs=2)
    np.testing.assert_allclose(amg.values, base.values, rtol=1e-7)
    threaded = pairwise_resistance(res, lab, solver="direct", n_jobs=2)
    np.testing.assert_array_equal(threaded.values, base.values)
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        viaclient = pairwise_resistance(res, lab, solver="direct", client=client)
    np.testing.assert_array_equal(viaclient.values, base.values)


def test_one_to_all_and_all_to_one_hand_worked():
    """Unit chain of 5 cells, nodes at cells 0, 2, 4."""
    res = np.ones((1, 5))
    lab = labels_at(res.shape, [(0, 0), (0, 2), (0, 4)])
    ds = current_map(res, lab, mode="one_to_all", connect="four", return_voltages=True)
    # node 1 sees node 2 (2 ohm) grounded; node 2 sees two 2-ohm branches in parallel
    np.testing.assert_allclose(ds.resistance.values, [2.0, 1.0, 2.0])
    np.testing.assert_allclose(ds.voltage.sel(node_map="2").values, [[0, 0.5, 1, 0.5, 0]])
    ds = current_map(res, lab, mode="all_to_one", connect="four", return_voltages=True,
                     return_pairs=True)
    # ground at node 1; 1 A in at nodes 2 and 3: 2 A over cells 0-2, 1 A over cells 2-4
    np.testing.assert_allclose(ds.voltage.sel(node_map="1").values, [[0, 2, 4, 5, 6]])
    np.testing.assert_allclose(ds.current.sel(node_map="1").values, [[2, 2, 2, 1, 1]])
    # strengths scale the injection
    ds = current_map(res, lab, mode="one_to_all", connect="four", source_strengths={1: 3.0},
                     return_voltages=True)
    np.testing.assert_allclose(ds.voltage.sel(node_map="1").values, [[6, 3, 0, 0, 0]])


@pytest.mark.parametrize("solver", ["direct", "amg"])  # amg: half-stored Laplacian
def test_advanced_hand_worked_chain_with_finite_and_direct_grounds(solver):
    """1 A into a 5-cell unit chain, 0.5 S to ground at its end and a direct ground at
    another component: V = I/g + I * (n - 1 - k) ohm; the second component is not solved."""
    res = np.array([[1.0, 1, 1, 1, 1, np.nan, 1, 1]])
    src = np.array([[1.0, 0, 0, 0, 0, 0, 0, 0]])
    gnd = np.array([[0, 0, 0, 0, 0.5, 0, 0, np.inf]])
    ds = advanced(res, src, gnd, connect="four", solver=solver)
    np.testing.assert_allclose(ds.voltage.values[0, :5], [6, 5, 4, 3, 2], rtol=1e-6)
    np.testing.assert_allclose(ds.current.values[0, :5], [1, 1, 1, 1, 1], rtol=1e-6)
    assert (ds.voltage.values[0, 6:] == 0).all()


def test_advanced_finite_ground_and_policies():
    res = np.ones((1, 3))
    src = np.array([[1.0, 0, 0]])
    gnd = np.array([[0, 0, 0.5]])
    ds = advanced(res, src, gnd, connect="four")
    np.testing.assert_allclose(ds.voltage.values, [[4, 3, 2]])
    np.testing.assert_allclose(ds.current.values, [[1, 1, 1]])
    # ground given as resistance 2 ohm is the same circuit
    ds2 = advanced(res, src, np.array([[np.nan, np.nan, 2.0]]), connect="four",
                   grounds_are_resistances=True)
    np.testing.assert_allclose(ds2.voltage.values, ds.voltage.values)
    # conflict at cell 0 (source and ground): rmvgnd keeps the source, rmvsrc removes it
    both = np.array([[1.0, 0, 1.0]])
    kept = advanced(res, src, both, connect="four", direct_grounds=True, remove="rmvgnd")
    np.testing.assert_allclose(kept.voltage.values, [[2, 1, 0]])
    with pytest.warns(UnreachableWarning):
        gone = advanced(res, src, np.array([[1.0, 0, 0]]), connect="four", remove="rmvsrc")
    assert (gone.voltage.values == 0).all()


def test_dataarray_and_geodataframe_in_grid_out(make_raster):
    import geopandas as gpd
    import shapely

    da = make_raster(np.ones((5, 6)), cell=100.0)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(50, 450), shapely.Point(550, 50)],
                           index=["a", "b"], crs=da.rio.crs)
    df = pairwise_resistance(da, pts)
    assert list(df.index) == ["a", "b"] and df.loc["a", "b"] > 0
    ds = current_map(da, pts)
    assert ds.cumulative_current.rio.crs == da.rio.crs
    assert ds.cumulative_current.shape == da.shape
    assert ds.cumulative_current.rio.transform() == da.rio.transform()


# --------------------------------------------------------------------------- bad input
def test_focal_node_on_nodata_warns_and_is_inf():
    res = np.ones((4, 4))
    res[3, 3] = np.nan
    lab = labels_at(res.shape, [(0, 0), (3, 3), (0, 3)])
    with pytest.warns(UnreachableWarning, match=r"\[2\]"):
        df = pairwise_resistance(res, lab)
    assert np.isinf(df.loc[1, 2]) and np.isfinite(df.loc[1, 3])


def test_disconnected_components_give_inf_and_finite_within():
    res = np.ones((3, 7))
    res[:, 3] = np.nan
    lab = labels_at(res.shape, [(0, 0), (2, 2), (0, 6), (2, 4)])
    df = pairwise_resistance(res, lab)
    assert np.isinf(df.loc[1, 3]) and np.isinf(df.loc[2, 4])
    assert np.isfinite(df.loc[1, 2]) and np.isfinite(df.loc[3, 4])
    # each component alone gives the same value
    left = pairwise_resistance(res[:, :3], labels_at((3, 3), [(0, 0), (2, 2)]))
    assert df.loc[1, 2] == pytest.approx(left.loc[1, 2], rel=1e-12)


def test_all_nodes_in_one_short_circuit_region_raises():
    res = np.ones((4, 4))
    sc = np.zeros((4, 4))
    sc[:2, :] = 1
    with pytest.raises(ConnectivityError, match="one short-circuit region"):
        pairwise_resistance(res, labels_at(res.shape, [(0, 0), (1, 3)]), short_circuit=sc)


def test_short_circuit_region_shorts_cells():
    res = np.ones((1, 7))
    sc = np.zeros((1, 7))
    sc[0, 2:5] = 1  # cells 2..4 become one node: chain of 0-1-2=3=4-5-6 has 4 unit links
    df = pairwise_resistance(res, labels_at(res.shape, [(0, 0), (0, 6)]), short_circuit=sc,
                             connect="four")
    assert df.loc[1, 2] == pytest.approx(4.0)


def test_zero_negative_nan_resistance():
    lab = labels_at((1, 4), [(0, 0), (0, 3)])
    with pytest.raises(ValidationError, match="zero resistance"):
        pairwise_resistance(np.array([[1.0, 0.0, 1.0, 1.0]]), lab)
    # negative and NaN cells are barriers (no node), as in Circuitscape
    with pytest.warns(TbpaWarning, match="negative resistance"):
        df = pairwise_resistance(np.array([[1.0, -2.0, 1.0, 1.0]]), lab, connect="four")
    assert np.isinf(df.loc[1, 2])
    df = pairwise_resistance(np.array([[1.0, np.nan, 1.0, 1.0]]), lab, connect="four")
    assert np.isinf(df.loc[1, 2])


def test_included_pairs_leave_others_nan():
    lab = labels_at((3, 3), [(0, 0), (2, 2), (0, 2)])
    df = pairwise_resistance(np.ones((3, 3)), lab, included_pairs=[(1, 2)])
    assert np.isfinite(df.loc[1, 2]) and np.isnan(df.loc[1, 3]) and np.isnan(df.loc[2, 3])


def test_extreme_contrast_is_accurate():
    """Chain with a 1e12-ohm cell: both solvers meet the closed form (Circuitscape tolerance)."""
    res = np.ones((1, 6))
    res[0, 3] = 1e12
    lab = labels_at(res.shape, [(0, 0), (0, 5)])
    # average conductance: each link to the big cell is 2 / (1 + 1e-12) ohm
    # average resistance: each is (1 + 1e12) / 2 ohm; three unit links besides
    wants = {"conductance": 3 + 4 / (1 + 1e-12), "resistance": 3 + (1 + 1e12)}
    for average, want in wants.items():
        for solver in ("direct", "amg"):
            df = pairwise_resistance(res, lab, connect="four", solver=solver, average=average)
            # a 1e-12 S link beside 1 S links loses ~1e-16/1e-12 of its value to rounding in
            # the Laplacian's diagonal: ~1e-4 relative, within Circuitscape's 1e-3 tolerance
            assert df.loc[1, 2] == pytest.approx(want, rel=1e-3)


def test_extreme_contrast_grid_residual(rng):
    res = np.where(rng.random((40, 40)) < 0.5, 1.0, 1e12)
    g = conductance_graph(res)
    L = laplacian(g)
    b = np.zeros(g.n_nodes)
    b[3], b[-3] = 1, -1
    x_direct = LaplacianSolver(L, method="direct").solve(b)
    s = LaplacianSolver(L, method="amg", rtol=1e-10)
    x = s.solve(b)
    assert s.residual(x, b) < 1e-9
    assert x[3] - x[-3] == pytest.approx(x_direct[3] - x_direct[-3], rel=1e-6)


def test_amg_reports_non_convergence(rng):
    g = conductance_graph(rng.uniform(1, 1e6, size=(30, 30)))
    b = np.zeros(g.n_nodes)
    b[0], b[-1] = 1, -1
    s = LaplacianSolver(laplacian(g), method="amg", rtol=1e-30)
    with pytest.raises(ConnectivityError, match="did not converge"):
        s.solve(b)


def test_memory_budget_refuses():
    g = conductance_graph(np.ones((30, 30)))
    with tbpa.set_options(max_memory_gb=1e-6):
        with pytest.raises(SolverMemoryError, match="coarsen"):
            LaplacianSolver(laplacian(g), method="direct")


def test_laplacian_matches_networkx_and_is_singular(rng):
    res = rng.uniform(1, 5, size=(5, 6))
    g = conductance_graph(res)
    L = laplacian(g).toarray()
    G = nx_grid(res)
    nodes = sorted(G.nodes)  # conductance_graph numbers valid cells row-major
    Lnx = nx.laplacian_matrix(G, nodelist=nodes, weight="weight").toarray()
    np.testing.assert_allclose(L, Lnx, rtol=1e-12)
    np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-12)
    assert sp.issparse(laplacian(g))


def test_bad_arguments():
    lab = labels_at((2, 2), [(0, 0), (1, 1)])
    with pytest.raises(ValidationError):
        pairwise_resistance(np.ones((2, 2)), lab, connect="six")
    with pytest.raises(ValidationError):
        current_map(np.ones((2, 2)), lab, mode="one-to-some")
    with pytest.raises(ValidationError):
        pairwise_resistance(np.ones((2, 2)), np.zeros((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pairwise_resistance(np.ones((2, 2)), lab)  # clean input: no warning


def test_solver_pickles_for_dask_workers(rng):
    """Workers receive the matrix and rebuild the factor: same answers after pickling."""
    import pickle

    g = conductance_graph(rng.uniform(1, 9, size=(12, 12)))
    b = np.zeros((g.n_nodes, 3))
    b[5, 0] = b[40, 1] = b[100, 2] = 1.0
    for method in ("direct", "amg"):
        s = LaplacianSolver(laplacian(g), method=method)
        clone = pickle.loads(pickle.dumps(s))
        np.testing.assert_allclose(clone.solve(b), s.solve(b), rtol=1e-12, atol=1e-14)
