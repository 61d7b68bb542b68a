"""Half-stored symmetric Laplacians (AMG's finest level) against independent oracles.

Oracles: scipy.sparse (COO assembly, CSR products, ``spsolve_triangular`` Gauss-Seidel,
``connected_components``, ``spsolve``), pyamg's own standard aggregation, an explicit
smoothed prolongator built with scipy, and networkx.resistance_distance.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

import tbpa.connectivity.circuit as circuit
from tbpa.connectivity import pairwise_resistance
from tbpa.connectivity._laplacian import conductance_graph
from tbpa.connectivity._solvers import LaplacianSolver, _VCycle, _galerkin, pick_method
from tbpa.connectivity._symmetric import SymmetricMatrix, branch_components


# ------------------------------------------------------------------------------ helpers
def coo_laplacian(ei, ej, w, n):
    """D - A assembled the plain scipy way (duplicates summed, self-loops cancel)."""
    ei, ej = np.asarray(ei), np.asarray(ej)
    adj = sp.coo_matrix((np.r_[w, w], (np.r_[ei, ej], np.r_[ej, ei])), shape=(n, n)).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()
    return (sp.diags(np.asarray(adj.sum(axis=1)).ravel()) - adj).tocsr()


def holey_grid(rng, shape, holes=0.3):
    res = rng.lognormal(1.0, 1.0, size=shape)
    res[rng.random(shape) < holes] = np.nan
    return res


def random_branches(rng, n, m):
    ei = rng.integers(0, n, m)
    ej = rng.integers(0, n, m)  # includes self-loops and parallel branches
    return ei, ej, rng.uniform(0.1, 2.0, m)


def random_symmetric(rng, n, density=0.05):
    """Symmetric, diagonally dominant, off-diagonals of both signs (a general SPD matrix)."""
    M = sp.random(n, n, density=density, random_state=np.random.RandomState(1),
                  data_rvs=lambda k: rng.uniform(-1, 1, k))
    M = (M + M.T).tocsr()
    M.setdiag(0)
    M.eliminate_zeros()
    d = np.asarray(abs(M).sum(axis=1)).ravel() + rng.uniform(0.5, 1.5, n)
    return (M + sp.diags(d)).tocsr()


# ------------------------------------------------------------------------------ storage
def test_from_branches_equals_scipy_laplacian(rng):
    n = 60
    ei, ej, w = random_branches(rng, n, 400)
    S = SymmetricMatrix.from_branches(ei, ej, w, n)
    want = coo_laplacian(ei, ej, w, n)
    np.testing.assert_allclose(S.toarray(), want.toarray(), rtol=1e-14, atol=1e-14)
    # strict lower triangle, sorted, no duplicate columns
    for i in range(n):
        cols = S.indices[S.indptr[i]:S.indptr[i + 1]]
        assert np.all(cols < i) and np.all(np.diff(cols) > 0)
    assert S.nnz == want.nnz


def test_from_branches_long_rows_and_subset(rng):
    # a hub with > 32 lower neighbours takes the sorting path for long rows
    n = 120
    ei = np.r_[np.full(100, 110), rng.integers(0, n, 200)]
    ej = np.r_[rng.integers(0, 110, 100), rng.integers(0, n, 200)]
    w = rng.uniform(0.5, 1.5, ei.size)
    S = SymmetricMatrix.from_branches(ei, ej, w, n)
    np.testing.assert_allclose(S.toarray(), coo_laplacian(ei, ej, w, n).toarray(), atol=1e-13)
    # node_index keeps the branches among a subset of nodes, renumbered
    keep = np.sort(rng.choice(n, 70, replace=False))
    index = np.full(n, -1)
    index[keep] = np.arange(keep.size)
    sub = SymmetricMatrix.from_branches(ei, ej, w, keep.size, node_index=index)
    inside = (index[ei] >= 0) & (index[ej] >= 0)
    want = coo_laplacian(index[ei[inside]], index[ej[inside]], w[inside], keep.size)
    np.testing.assert_allclose(sub.toarray(), want.toarray(), atol=1e-13)


def test_grid_laplacian_matches_csr_exactly(rng):
    g = conductance_graph(holey_grid(rng, (30, 40), 0.2))
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    assert (S.tocsr() != g.laplacian).nnz == 0
    assert S.nbytes < 0.7 * (g.laplacian.data.nbytes + g.laplacian.indices.nbytes
                             + g.laplacian.indptr.nbytes)


def test_matvec_matches_csr(rng):
    A = random_symmetric(rng, 300)
    S = SymmetricMatrix.from_csr(A)
    x = rng.standard_normal(300)
    np.testing.assert_allclose(S @ x, A @ x, rtol=1e-12, atol=1e-12)
    X = rng.standard_normal((300, 3))
    np.testing.assert_allclose(S @ X, A @ X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S.row_sums(), np.asarray(A.sum(axis=1)).ravel(), atol=1e-12)


def test_row_blocks_are_the_full_rows(rng):
    A = random_symmetric(rng, 250)
    S = SymmetricMatrix.from_csr(A)
    A.sort_indices()
    for rows in (1, 7, 64, 1000):
        for s, e, blk in S.row_blocks(rows):
            ref = A[s:e]
            assert (blk != ref).nnz == 0
            assert blk.has_sorted_indices or np.all(
                [np.all(np.diff(blk.indices[blk.indptr[i]:blk.indptr[i + 1]]) > 0)
                 for i in range(e - s)])
    assert (S.row_block(10, 50) != A[10:50]).nnz == 0  # without the row bound


def test_ground_gives_identity_rows_and_columns(rng):
    A = random_symmetric(rng, 80)
    ground = np.array([0, 17, 79])
    S = SymmetricMatrix.from_csr(A)
    S.ground(ground)
    want = A.tolil()
    for g in ground:
        want[g, :] = 0
        want[:, g] = 0
        want[g, g] = 1
    np.testing.assert_array_equal(S.toarray(), want.toarray())
    assert S.nnz == sp.csr_matrix(want).nnz  # zeros dropped


# ------------------------------------------------------------------------------ smoothers
def _gs_oracle(A, x, b, forward):
    """One Gauss-Seidel sweep as a triangular solve: (D + L) x' = b - U x (forward) or
    (D + U) x' = b - L x (backward)."""
    low, up = sp.tril(A, k=-1, format="csr"), sp.triu(A, k=1, format="csr")
    D = sp.diags(A.diagonal())
    if forward:
        return spla.spsolve_triangular((D + low).tocsr(), b - up @ x, lower=True)
    return spla.spsolve_triangular((D + up).tocsr(), b - low @ x, lower=False)


@pytest.mark.parametrize("forward", [True, False])
def test_gauss_seidel_sweeps_match_triangular_solves(rng, forward):
    A = random_symmetric(rng, 200)
    S = SymmetricMatrix.from_csr(A)
    b = rng.standard_normal(200)
    x0 = rng.standard_normal(200)
    x = x0.copy()
    if forward:
        S.gauss_seidel_forward(x, b)
    else:
        S.gauss_seidel_backward(x, b)
    np.testing.assert_allclose(x, _gs_oracle(A, x0, b, forward), rtol=1e-10, atol=1e-12)


def test_forward_sweep_from_zero_needs_no_scatter(rng):
    A = random_symmetric(rng, 150)
    S = SymmetricMatrix.from_csr(A)
    b = rng.standard_normal(150)
    x = np.zeros(150)
    S.gauss_seidel_forward(x, b, acc=np.full(150, 7.0), zero_guess=True)  # acc is reset
    np.testing.assert_allclose(x, _gs_oracle(A, np.zeros(150), b, True), rtol=1e-10)


def test_gauss_seidel_matches_pyamg_kernel_on_a_laplacian(rng):
    from pyamg.amg_core import gauss_seidel

    g = conductance_graph(holey_grid(rng, (25, 25), 0.1))
    L = g.laplacian.copy()
    L = (L + sp.diags(np.full(L.shape[0], 0.01))).tocsr()  # nonsingular
    L.sort_indices()
    S = SymmetricMatrix.from_csr(L)
    b = rng.standard_normal(L.shape[0])
    x1 = rng.standard_normal(L.shape[0])
    x2 = x1.copy()
    gauss_seidel(L.indptr, L.indices, L.data, x1, b, 0, L.shape[0], 1)
    gauss_seidel(L.indptr, L.indices, L.data, x1, b, L.shape[0] - 1, -1, -1)
    S.gauss_seidel_forward(x2, b)
    S.gauss_seidel_backward(x2, b)
    np.testing.assert_allclose(x2, x1, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ aggregation
def _pyamg_aggregates(A):
    from pyamg.aggregation import standard_aggregation

    agg_op = sp.csr_matrix(standard_aggregation(sp.csr_matrix(A))[0])
    agg = np.full(A.shape[0], -1)
    agg[np.repeat(np.arange(A.shape[0]), np.diff(agg_op.indptr))] = agg_op.indices
    return agg, (agg_op.shape[1] if agg_op.nnz else 0)


@pytest.mark.parametrize("holes", [0.0, 0.25, 0.45])
def test_standard_aggregation_equals_pyamg(rng, holes):
    g = conductance_graph(holey_grid(rng, (40, 45), holes))
    L = g.laplacian.copy()
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    ground = np.unique(rng.integers(0, g.n_nodes, 5))
    S.ground(ground)
    from tbpa.connectivity._solvers import _grounded

    Lg = _grounded(L, ground, overwrite=True)
    agg, n_agg = S.standard_aggregation()
    want, n_want = _pyamg_aggregates(Lg)
    assert n_agg == n_want
    np.testing.assert_array_equal(agg, want)
    # properties: grounded (isolated) nodes in none, every other node in one, and every
    # aggregate is connected in the matrix graph
    assert np.all(agg[ground] == -1)
    iso = np.diff(Lg.indptr) <= 1
    assert np.all((agg >= 0) | iso)
    off = Lg - sp.diags(Lg.diagonal())
    for a in range(0, n_agg, max(1, n_agg // 25)):
        members = np.flatnonzero(agg == a)
        assert connected_components(off[members][:, members], directed=False)[0] == 1


def test_components_match_scipy(rng):
    n = 500
    ei, ej, w = random_branches(rng, n, 300)  # sparse: many components
    ncomp, labels = branch_components(ei, ej, n)
    adj = sp.coo_matrix((w, (ei, ej)), shape=(n, n))
    n2, lab2 = connected_components(adj, directed=False)
    assert ncomp == n2
    # the same partition (the numbering follows the lowest node)
    pairs = set(zip(labels.tolist(), lab2.tolist()))
    assert len(pairs) == ncomp
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in range(ncomp)]
    assert firsts == sorted(firsts)
    S = SymmetricMatrix.from_branches(ei, ej, w, n)
    n3, lab3 = S.components()
    assert n3 == ncomp and np.array_equal(lab3, labels)


# ------------------------------------------------------------------------------ prolongator
def test_restriction_prolongation_and_galerkin_match_explicit_p(rng):
    from tbpa.connectivity._solvers import _aggregates, _row_scales, _smoothed_prolongator

    g = conductance_graph(holey_grid(rng, (35, 30), 0.15))
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    S.ground([0])
    A = S.tocsr()
    agg, n_agg = _aggregates(S)
    scale = _row_scales(S, 2.0)
    np.testing.assert_allclose(scale, -2.0 / np.asarray(abs(A).sum(axis=1)).ravel(), rtol=1e-14)
    rows = np.flatnonzero(agg >= 0)
    T = sp.csr_matrix((np.ones(rows.size), (rows, agg[rows])), shape=(A.shape[0], n_agg))
    P_explicit = (T + sp.diags(scale) @ (A @ T)).tocsr()
    P = _smoothed_prolongator(S, agg, n_agg, 2.0)
    np.testing.assert_allclose(P.toarray(), P_explicit.toarray(), rtol=1e-13, atol=1e-15)
    r = rng.standard_normal(A.shape[0])
    np.testing.assert_allclose(S.restrict(agg, scale, r, n_agg), P_explicit.T @ r,
                               rtol=1e-12, atol=1e-12)
    xc = rng.standard_normal(n_agg)
    x = rng.standard_normal(A.shape[0])
    want = x + P_explicit @ xc
    S.prolong_add(agg, scale, xc, x)
    np.testing.assert_allclose(x, want, rtol=1e-12, atol=1e-12)
    Ac = _galerkin(S, P, rows_per_chunk=97)
    np.testing.assert_allclose(Ac.toarray(), (P_explicit.T @ A @ P_explicit).toarray(),
                               rtol=1e-11, atol=1e-12)


def test_vcycle_equals_csr_vcycle(rng):
    # same aggregates, same smoother iterates: the two preconditioners agree to rounding
    g = conductance_graph(holey_grid(rng, (60, 70), 0.1))
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    S.ground([3])
    A = S.tocsr()
    v_half, v_csr = _VCycle(S, max_coarse=50), _VCycle(A, max_coarse=50)
    assert len(v_half.levels) == len(v_csr.levels) >= 2
    r = rng.standard_normal(A.shape[0])
    r[3] = 0.0
    z1, z2 = v_half(r), v_csr(r)
    np.testing.assert_allclose(z1, z2, rtol=1e-9, atol=1e-9 * np.abs(z2).max())


# ------------------------------------------------------------------------------ solves
def test_solver_on_half_storage_matches_spsolve_with_components(rng):
    res = holey_grid(rng, (50, 60), 0.42)  # near the percolation threshold: many pieces
    g = conductance_graph(res)
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    L = g.laplacian
    ncomp, labels = connected_components(L, directed=False)
    assert ncomp > 3
    solver = LaplacianSolver(S, method="amg", rtol=1e-10)  # one ground per component
    assert isinstance(solver._A, SymmetricMatrix) and solver._ml is not None
    # currents summing to zero in each component
    b = rng.standard_normal(g.n_nodes)
    b -= (np.bincount(labels, weights=b) / np.bincount(labels))[labels]
    x = solver.solve(b)
    keep = np.setdiff1d(np.arange(g.n_nodes), solver.ground)
    want = np.zeros(g.n_nodes)
    want[keep] = spla.spsolve(L[keep][:, keep].tocsc(), b[keep])
    np.testing.assert_allclose(x, want, rtol=1e-7, atol=1e-7 * np.abs(want).max())
    # the CSR solver picks the same grounds
    assert np.array_equal(solver.ground, LaplacianSolver(L, method="amg").ground)


def test_direct_method_accepts_half_storage(rng):
    g = conductance_graph(holey_grid(rng, (20, 20), 0.1))
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    b = np.zeros(g.n_nodes)
    b[1], b[-1] = 1.0, -1.0
    x = LaplacianSolver(S, ground=[0], method="direct").solve(b)
    y = LaplacianSolver(g.laplacian, ground=[0], method="direct").solve(b)
    np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def test_pairwise_amg_uses_half_storage_and_matches_networkx(rng, monkeypatch):
    res = holey_grid(rng, (40, 60), 0.3)
    res[:, 29:31] = np.nan  # two large components (> 500 nodes each: a real hierarchy)
    ok = np.flatnonzero(np.isfinite(res.ravel()))
    cells = rng.choice(ok, 6, replace=False)
    lab = np.zeros(res.shape)
    lab.ravel()[cells] = np.arange(1, 7)
    seen = []
    real = circuit._solver

    def spy(matrix, *a, **k):
        seen.append(type(matrix).__name__)
        return real(matrix, *a, **k)

    monkeypatch.setattr(circuit, "_solver", spy)
    df = pairwise_resistance(res, lab, solver="amg")
    assert seen and set(seen) == {"SymmetricMatrix"}
    G = nx.Graph()
    rows, cols = res.shape
    okm = np.isfinite(res)
    for r in range(rows):
        for c in range(cols):
            if okm[r, c]:
                G.add_node((r, c))
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                r2, c2 = r + dr, c + dc
                if 0 <= r2 < rows and 0 <= c2 < cols and okm[r, c] and okm[r2, c2]:
                    w = (1 / res[r, c] + 1 / res[r2, c2]) / 2 / (np.sqrt(2) if dr and dc else 1)
                    G.add_edge((r, c), (r2, c2), weight=w)
    comp = {n: k for k, cc in enumerate(nx.connected_components(G)) for n in cc}
    pts = [divmod(int(c), cols) for c in cells]
    checked = 0
    for a in range(6):
        for b in range(a + 1, 6):
            got = df.iloc[a, b]
            if comp[pts[a]] != comp[pts[b]]:
                assert np.isinf(got)
                continue
            sub = G.subgraph(nx.node_connected_component(G, pts[a]))
            want = nx.resistance_distance(sub, pts[a], pts[b], weight="weight",
                                          invert_weight=False)
            assert got == pytest.approx(want, rel=1e-6)
            checked += 1
    assert checked >= 3


def test_pick_method_follows_the_auto_rule():
    assert pick_method(1000, 9000, "auto") == "direct"
    assert pick_method(2_000_000, 18_000_000, "auto") == "amg"
    assert pick_method(1000, 9000, "cg+amg") == "amg"
    assert pick_method(2_000_000, 18_000_000, "cholmod") == "direct"


@pytest.mark.parametrize("average", ["conductance", "resistance"])
@pytest.mark.parametrize("connect", ["eight", "four"])
def test_compiled_branch_list_matches_a_cell_by_cell_build(rng, average, connect):
    # regions with and without conductance: merged nodes, parallel branches, zero weights
    res = holey_grid(rng, (9, 11), 0.25)
    regions = np.zeros(res.shape, int)
    regions[1:4, 1:4] = 1
    regions[6:8, 7:10] = 2
    res[2, 2] = np.nan  # region cell without conductance
    g = conductance_graph(res, connect=connect, average=average, regions=regions)
    cond = np.where(np.isfinite(res), 1.0 / np.where(np.isfinite(res), res, 1.0), 0.0)
    rows, cols = res.shape
    steps = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if connect == "eight" else [])
    nm = g.nodemap
    I, J, W = [], [], []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in steps:
                r2, c2 = r + dr, c + dc
                if not (0 <= r2 < rows and 0 <= c2 < cols):
                    continue
                a, b = nm[r, c], nm[r2, c2]
                if a < 0 or b < 0 or a == b:
                    continue
                ga, gb = cond[r, c], cond[r2, c2]
                if average == "conductance":
                    w = (ga + gb) / 2
                else:
                    w = 0.0 if ga == 0 or gb == 0 else 1 / ((1 / ga + 1 / gb) / 2)
                w = w / np.sqrt(2) if dr and dc else w
                if w > 0:
                    I.append(a), J.append(b), W.append(w)
    assert g.edge_i.size == len(I)
    np.testing.assert_allclose(g.laplacian.toarray(),
                               coo_laplacian(I, J, W, g.n_nodes).toarray(), rtol=1e-14)


def test_resistances_free_the_branch_list_before_the_largest_solve(rng, monkeypatch):
    # three components: small (two points), large (two points), tiny (one point); the large
    # one is solved last with the branch list and any cached CSR Laplacian already freed
    res = rng.lognormal(1.0, 0.5, size=(40, 50))
    res[:, 8] = np.nan
    res[:, 44] = np.nan
    lab = np.zeros(res.shape)
    lab[5, 2], lab[30, 5] = 1, 2      # small component (cols 0-7)
    lab[3, 20], lab[35, 40] = 3, 4    # large component (cols 9-43)
    lab[10, 47] = 5                   # tiny component, one point
    graphs, calls = [], []
    real_graph, real_solver = circuit.conductance_graph, circuit._solver

    def graph_spy(*a, **k):
        graphs.append(real_graph(*a, **k))
        return graphs[-1]

    def solver_spy(matrix, *a, **k):
        gr = graphs[-1]
        calls.append((matrix.shape[0], type(matrix).__name__, gr.edge_i.size, gr._laplacian))
        return real_solver(matrix, *a, **k)

    monkeypatch.setattr(circuit, "conductance_graph", graph_spy)
    monkeypatch.setattr(circuit, "_solver", solver_spy)
    df = pairwise_resistance(res, lab, solver="amg")
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)  # largest last
    n_last, kind, n_edges, cached = calls[-1]
    assert kind == "SymmetricMatrix" and n_edges == 0 and cached is None
    # values: each pair against a direct solve of the whole graph's Laplacian
    g = conductance_graph(res)
    L = g.laplacian.tocsc()
    for a, b in ((0, 1), (2, 3)):
        na, nb = (g.node_of_cells([int(np.flatnonzero(lab.ravel() == i + 1)[0])])[0]
                  for i in (a, b))
        ncomp, labels = connected_components(L, directed=False)
        keep = np.flatnonzero(labels == labels[na])
        sub = L[keep][:, keep]
        ia, ib = np.searchsorted(keep, na), np.searchsorted(keep, nb)
        free = np.setdiff1d(np.arange(keep.size), [ia])
        rhs = np.zeros(keep.size)
        rhs[ib] = 1.0
        v = np.zeros(keep.size)
        v[free] = spla.spsolve(sub[free][:, free].tocsc(), rhs[free])
        assert df.iloc[a, b] == pytest.approx(v[ib], rel=1e-6)
    assert np.isinf(df.iloc[0, 2]) and np.isinf(df.iloc[4, 3])


def test_half_storage_solver_pickles_and_threads(rng):
    # dask ships the solver pickled and rebuilds the hierarchy; threads share it
    import pickle

    g = conductance_graph(holey_grid(rng, (40, 40), 0.1))
    S = SymmetricMatrix.from_branches(g.edge_i, g.edge_j, g.edge_w, g.n_nodes)
    B = np.zeros((g.n_nodes, 10))
    B[rng.integers(1, g.n_nodes, 10), np.arange(10)] = 1.0
    one = LaplacianSolver(S, ground=[0], method="amg", n_jobs=1).solve(B)
    two = LaplacianSolver(S, ground=[0], method="amg", n_jobs=2).solve(B)
    back = pickle.loads(pickle.dumps(LaplacianSolver(S, ground=[0], method="amg")))
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, back.solve(B))
    L = g.laplacian.tocsc()[1:, 1:]
    np.testing.assert_allclose(one[1:], spla.spsolve(L, B[1:]).reshape(-1, 10), rtol=1e-6,
                               atol=1e-6 * np.abs(one).max())
