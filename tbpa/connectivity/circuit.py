"""Circuit theory on resistance rasters, with Circuitscape's conventions and results.

Public functions (rioxarray in, pandas / xarray out):

* :func:`pairwise_resistance` — effective resistance between every pair of focal nodes;
* :func:`current_map` — cumulative / maximum current density of the pairwise, one-to-all or
  all-to-one modes, optionally per pair (or per node) current and voltage maps;
* :func:`advanced` — voltages and currents for arbitrary current sources and grounds.

Speed: with k focal nodes in a component, pairwise mode needs k - 1 solves, not k(k-1)/2.
One node is grounded; a unit current is injected at each other node (``L_g u_i = e_i``,
``u_anchor = 0``); by superposition the voltages of pair (i, j) are ``u_j - u_i`` shifted to
0 V at i, and ``R_ij = u_i[i] + u_j[j] - 2 u_i[j]``. All-to-one reuses the same basis;
one-to-all solves once per node against ONE factorisation with every focal node grounded.
Focal *regions* (multi-cell focal nodes) in pairwise mode: Circuitscape shorts only the two
regions of the pair being solved, so each pair has its own graph; tbpa factorises the base
graph once and solves each pair as a small constrained system on the regions' boundary nodes
(:mod:`._focal_regions`), or builds one graph per pair when that is estimated cheaper.

Node currents follow Circuitscape: a node's current is the larger of the current flowing
into it and the current flowing out of it (branch currents below 1e-8 of the largest
dropped), which counts a source's injection and a ground's drain once; every cell of a
merged node shows that node's current and voltage.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp
from numba import njit

from ..errors import ConnectivityError, EmptySelectionError, UnreachableWarning, ValidationError
from ..options import get_option, resolve_progress
from ._laplacian import CircuitGraph, conductance_graph, to_conductance
from ._solvers import LaplacianSolver, pick_method
from ._symmetric import SymmetricMatrix

__all__ = ["pairwise_resistance", "current_map", "advanced"]

_MODES = ("pairwise", "one_to_all", "all_to_one")
_POLICIES = ("keepall", "rmvsrc", "rmvgnd", "rmvall")


# ======================================================================================
# Numeric core (numpy only; shared with tbpa.circuitscape.run_ini)
# ======================================================================================
@njit(cache=True, nogil=True)
def _max_flow(ei, ej, w, v):  # pragma: no cover - compiled
    fmax = 0.0
    for k in range(ei.size):
        f = abs(w[k] * (v[ei[k]] - v[ej[k]]))
        if f > fmax:
            fmax = f
    return fmax


@njit(cache=True, nogil=True)
def _add_flows(ei, ej, w, v, cut, inflow, outflow):  # pragma: no cover - compiled
    # Branch flows f = w (v_i - v_j) from i to j, those below *cut* dropped
    for k in range(ei.size):
        f = w[k] * (v[ei[k]] - v[ej[k]])
        if abs(f) < cut or f == 0.0:
            continue
        if f > 0:
            outflow[ei[k]] += f
            inflow[ej[k]] += f
        else:
            outflow[ej[k]] -= f
            inflow[ei[k]] -= f


def node_flows(edge_lists, v: np.ndarray, finite_grounds: np.ndarray | None = None) -> tuple:
    """(inflow, outflow) of every node for voltages *v* over branch lists ``(i, j, w)``.

    Circuitscape drops branch flows below 1e-8 of the largest one (over all the lists); a
    finite ground's current counts as flowing out of its node (into it when negative).
    """
    v = np.asarray(v, dtype=np.float64)
    cut = 1e-8 * max([_max_flow(ei, ej, w, v) for ei, ej, w in edge_lists] + [0.0])
    inflow, outflow = np.zeros(v.size), np.zeros(v.size)
    for ei, ej, w in edge_lists:
        _add_flows(ei, ej, w, v, cut, inflow, outflow)
    if finite_grounds is not None:
        q = np.asarray(finite_grounds, dtype=np.float64) * v  # current into the ground
        outflow += np.maximum(q, 0.0)
        inflow -= np.minimum(q, 0.0)
    return inflow, outflow


def node_currents(edges, v: np.ndarray, finite_grounds: np.ndarray | None = None) -> np.ndarray:
    """Circuitscape node currents for node voltages *v* over ``edges = (i, j, w)``: the
    larger of each node's inflow and outflow (:func:`node_flows`)."""
    inflow, outflow = node_flows([edges], v, finite_grounds)
    return np.maximum(inflow, outflow, out=inflow)


@dataclass
class Focal:
    """Focal nodes: ids (sorted) and, for each, the flat cell indices it covers."""

    ids: list
    cells: list

    @property
    def has_regions(self) -> bool:
        return any(c.size > 1 for c in self.cells)

    @classmethod
    def from_labels(cls, labels: np.ndarray) -> "Focal":
        """From a label raster (0, negative and NaN = none), as a Circuitscape point raster."""
        lab = np.asarray(labels, dtype=np.float64)
        flat = np.where(np.isfinite(lab), lab, 0).ravel()
        # Circuitscape scans cells column-major, then sorts stably by id
        order = np.flatnonzero(flat.reshape(lab.shape).T.ravel() > 0)
        rows, cols = np.unravel_index(order, lab.shape[::-1])[::-1]
        cells = np.ravel_multi_index((rows, cols), lab.shape)
        vals = flat[cells].astype(np.int64)
        ids, cells_per = [], []
        for i in np.unique(vals):
            ids.append(int(i))
            cells_per.append(cells[vals == i])
        return cls(ids, cells_per)

    @classmethod
    def from_rowcol(cls, ids, rows, cols, shape) -> "Focal":
        """From (id, row, col) triples (e.g. a Circuitscape text point list)."""
        ids = np.asarray(ids, dtype=np.int64)
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1]) & (ids >= 0)
        if not inside.all():
            warnings.warn(f"{int((~inside).sum())} focal point(s) fall outside the grid and are "
                          "ignored",
                          UnreachableWarning, stacklevel=3)
        ids, rows, cols = ids[inside], rows[inside], cols[inside]
        order = np.argsort(ids, kind="stable")
        ids, cells = ids[order], np.ravel_multi_index((rows[order], cols[order]), shape)
        out_ids, out_cells = [], []
        for i in np.unique(ids):
            out_ids.append(int(i))
            out_cells.append(np.unique(cells[ids == i]))
        return cls(out_ids, out_cells)


def merge_regions(shape, polymap: np.ndarray | None, groups: list) -> np.ndarray | None:
    """Short-circuit labels: polygons plus extra cell groups, overlapping ones merged.

    *groups* are arrays of flat cells to short together (focal regions). Whatever touches
    (a group overlapping a polygon, two groups overlapping) becomes one region.
    """
    size = int(np.prod(shape))
    base = np.zeros(size, dtype=np.int64)
    if polymap is not None:
        p = np.asarray(polymap, dtype=np.float64).ravel()
        base = np.where(np.isfinite(p) & (p > 0), p, 0).astype(np.int64)
    groups = [np.asarray(g, np.int64) for g in groups if np.asarray(g).size > 1]
    if not groups:
        return None if polymap is None else base.reshape(shape)
    # Union-find by graph components over labels: polygon labels 1..P, group labels P+1..
    poly_ids, base_dense = np.unique(base, return_inverse=True)  # 0 stays index 0 if present
    has_zero = poly_ids.size and poly_ids[0] == 0
    n_poly = poly_ids.size
    rows, cols = [], []
    for k, g in enumerate(groups):
        gl = n_poly + k
        rows.append(np.full(g.size, gl))
        cols.append(np.where(base[g] > 0, base_dense[g], gl))
    r, c = np.concatenate(rows), np.concatenate(cols)
    n_lab = n_poly + len(groups)
    graph = sp.coo_matrix((np.ones(r.size), (r, c)), shape=(n_lab, n_lab))
    from scipy.sparse.csgraph import connected_components

    _, comp = connected_components(graph, directed=False)
    out = np.where(base > 0, comp[base_dense] + 1, 0)
    if has_zero:
        out[base == 0] = 0
    for k, g in enumerate(groups):
        out[g] = comp[n_poly + k] + 1
    return out.reshape(shape)


@dataclass
class Options:
    """Graph and solver settings shared by all modes."""

    connect: str = "eight"
    average: str = "conductance"
    solver: str = "auto"
    n_jobs: int | None = None
    client: object = None
    progress: bool | None = None
    # pairwise focal regions: "auto" (cheaper of the two), "superpose" (one factorisation,
    # constrained superposition) or "per_pair" (one graph per pair, as Circuitscape)
    focal_regions: str = "auto"


@dataclass
class _Component:
    """A connected component's sub-Laplacian and branch list (local numbering)."""

    nodes: np.ndarray
    lap: sp.csr_matrix
    edges: tuple
    local: Callable = field(repr=False, default=None)


def _component(graph: CircuitGraph, label: int, half: bool = False,
               edges: bool = True) -> _Component:
    """Sub-Laplacian and branches of one component (the whole graph's when it is one).

    With *half* the Laplacian is a half-stored :class:`SymmetricMatrix` built from the
    branches (the AMG solver's finest level; no CSR Laplacian is formed); without *edges*
    the component's branch list is left out (only needed for currents).
    """
    ncomp, labels = graph.components()
    if ncomp == 1:
        nodes = np.arange(graph.n_nodes, dtype=np.int32 if graph.n_nodes < 2**31 else np.int64)
        branches = (graph.edge_i, graph.edge_j, graph.edge_w)
        lap = (SymmetricMatrix.from_branches(*branches, graph.n_nodes) if half
               else graph.laplacian)
        return _Component(nodes, lap, branches, lambda g: np.asarray(g, dtype=np.int64))
    nodes = np.flatnonzero(labels == label)
    index = np.full(graph.n_nodes, -1, dtype=np.int64)
    index[nodes] = np.arange(nodes.size)
    if half:
        lap = SymmetricMatrix.from_branches(graph.edge_i, graph.edge_j, graph.edge_w,
                                            nodes.size, node_index=index)
    else:
        lap = graph.laplacian[nodes][:, nodes].tocsr()  # no branch leaves a component
    branches = None
    if edges:
        keep = labels[graph.edge_i] == label
        branches = (index[graph.edge_i[keep]], index[graph.edge_j[keep]], graph.edge_w[keep])
    return _Component(nodes, lap, branches, lambda g: index[np.asarray(g)])


def _half_storage(graph: CircuitGraph, n_nodes: int, opts: Options) -> bool:
    """Whether a component of *n_nodes* nodes goes to AMG, whose finest level then takes
    the half-stored Laplacian (0.58 instead of 0.94 GiB at 9 M cells). The entry count is
    exact for a one-component graph and an 8- (4-) neighbour bound otherwise; a wrong guess
    only costs a conversion inside :class:`LaplacianSolver`."""
    if n_nodes == graph.n_nodes:
        nnz = n_nodes + 2 * graph.edge_i.size
    else:
        nnz = _stencil_nnz(opts, n_nodes)
    return pick_method(n_nodes, nnz, opts.solver) == "amg"


def _stencil_nnz(opts: Options, n_nodes: int) -> int:
    """Laplacian entries of an *n_nodes* raster graph, bounded by its stencil."""
    return (9 if opts.connect == "eight" else 5) * n_nodes


def _solver(matrix, ground, opts: Options, overwrite: bool = False) -> LaplacianSolver:
    return LaplacianSolver(matrix, ground=ground, method=opts.solver, n_jobs=opts.n_jobs,
                           client=opts.client, progress=opts.progress, overwrite=overwrite)


@dataclass
class PairwiseResult:
    """Circuitscape-style resistances (-1: not connected or excluded) and cumulative maps."""

    ids: list
    resistances: np.ndarray
    excluded: np.ndarray
    cum_current: np.ndarray | None
    max_current: np.ndarray | None


def _spread(graph: CircuitGraph, comp: _Component, values: np.ndarray) -> np.ndarray:
    full = np.zeros(graph.n_nodes)
    full[comp.nodes] = values
    return graph.to_grid(full, fill=0.0)


def solve_pairwise(g: np.ndarray, focal: Focal, *, polymap=None, exclude=None, maps: bool = True,
                   opts: Options | None = None, on_pair=None) -> PairwiseResult:
    """Pairwise mode on a conductance array *g* (0 = no node), Circuitscape semantics.

    ``exclude`` is a k x k boolean array of id pairs not to solve. ``on_pair(id_i, id_j,
    voltage_grid, current_grid)`` is called for every solved pair when *maps* is true.
    Cumulative and maximum maps are accumulated per node and spread onto the grid once.
    """
    opts = opts or Options()
    k = len(focal.ids)
    R = -np.ones((k, k))
    np.fill_diagonal(R, 0.0)
    excl = np.zeros((k, k), bool) if exclude is None else np.asarray(exclude, bool)
    cum = np.zeros(g.shape) if maps else None
    mx = np.zeros(g.shape) if maps else None
    emit = None
    if on_pair is not None:
        def emit(i, j, grids):
            on_pair(focal.ids[i], focal.ids[j], *grids())

    if focal.has_regions:
        _pairwise_regions(g, focal, polymap, excl, maps, opts, R, emit, cum, mx)
    else:
        graph = conductance_graph(g, is_resistance=False, connect=opts.connect,
                                  average=opts.average, regions=polymap)
        nodes = np.array([_first_node(graph, c) for c in focal.cells], dtype=np.int64)
        if not maps:
            # the node map is only needed to spread maps (the branches, only needed for
            # currents, are dropped once the Laplacian is built: drop_edges)
            graph.nodemap = None
        acc = _pairwise_points(graph, nodes, list(range(k)), excl, maps, opts, R, emit,
                               drop_edges=not maps)
        if maps:
            cum[...] = graph.to_grid(acc[0], 0.0)
            mx[...] = graph.to_grid(acc[1], 0.0)
    return PairwiseResult(list(focal.ids), R, excl, cum, mx)


def _pair_map(comp, ua, ub, la):
    """Voltages (0 V at the first node) and node currents of one pair, by superposition."""
    v = ub - ua
    v -= v[la]
    return v, node_currents(comp.edges, v)


def _pairwise_points(graph, nodes, index, excl, maps, opts, R, emit, drop_edges=False):
    """k-1 solves per component; fills R for positions *index* of the focal list.

    Returns node-level (cumulative, maximum) current when *maps*; ``emit(a, b, grids)``
    receives a callable producing the pair's (voltage, current) grids. ``drop_edges``
    (no maps) frees the graph's branch list once the last Laplacian is built.
    """
    ncomp, labels = graph.components()
    cum_n = np.zeros(graph.n_nodes) if maps else None
    max_n = np.zeros(graph.n_nodes) if maps else None
    zeros = lambda: (np.zeros(graph.shape), np.zeros(graph.shape))  # noqa: E731
    valid = nodes >= 0
    comps = np.unique(labels[nodes[valid]]) if valid.any() else []
    if drop_edges and len(comps) > 1:
        # largest component last: the branch list (and a cached CSR Laplacian) can then be
        # freed before its solve
        sizes = np.bincount(labels, minlength=ncomp)
        comps = sorted(comps, key=lambda c: sizes[c])
    solved = [c for c in comps if len({int(nd) for nd in nodes[valid] if labels[nd] == c}) > 1]
    pos = {p: nd for p, nd in zip(index, nodes)}
    for c in comps:
        members = [p for p, nd in zip(index, nodes) if nd >= 0 and labels[nd] == c]
        # ids on one node: R = 0 and (as Circuitscape writes them) empty maps
        for ai, a in enumerate(members):
            for b in members[ai + 1:]:
                if pos[a] == pos[b]:
                    R[a, b] = R[b, a] = 0.0
                    if maps and emit is not None and not excl[a, b]:
                        emit(a, b, zeros)
        uniq = list(dict.fromkeys(pos[p] for p in members))
        if len(uniq) < 2:
            continue
        size = graph.n_nodes if ncomp == 1 else int(np.count_nonzero(labels == c))
        half = _half_storage(graph, size, opts)
        final = drop_edges and c == solved[-1]
        if final and half:  # built from the branches: a cached CSR Laplacian is not needed
            graph._laplacian = None
        comp = _component(graph, c, half=half, edges=maps)
        loc = comp.local(np.array(uniq))
        whole = comp.lap is graph._laplacian
        if whole:  # hand the graph's Laplacian to the solver: grounded in place, no copy
            graph._laplacian = None
        if final:  # the branch list is raster-sized and not needed for resistances
            comp.edges = None
            graph.edge_i = graph.edge_j = np.zeros(0, np.int32)
            graph.edge_w = np.zeros(0)
        own = whole or isinstance(comp.lap, SymmetricMatrix)  # built for this solve only
        solver = _solver(comp.lap, [loc[0]], opts, overwrite=own)
        comp.lap = None
        rhs = np.zeros((comp.nodes.size, len(uniq) - 1))
        rhs[loc[1:], np.arange(len(uniq) - 1)] = 1.0
        sol = solver.solve(rhs, overwrite_b=True)  # rhs is not needed again: no copy
        del solver, rhs  # frees the factorisation / hierarchy before the basis is filled
        basis = np.zeros((comp.nodes.size, len(uniq)))
        basis[:, 1:] = sol
        del sol
        col = {nd: t for t, nd in enumerate(uniq)}
        todo = []
        for ai, a in enumerate(members):
            for b in members[ai + 1:]:
                na, nb = pos[a], pos[b]
                if na == nb or excl[a, b]:
                    continue
                ua, ub = basis[:, col[na]], basis[:, col[nb]]
                la, lb = loc[col[na]], loc[col[nb]]
                R[a, b] = R[b, a] = ua[la] + ub[lb] - ua[lb] - ub[la]
                if maps:
                    todo.append((a, b, col[na], col[nb], la))
        if maps and todo:
            _pair_maps(graph, comp, basis, todo, opts, cum_n, max_n, emit)
    return (cum_n, max_n) if maps else None


def _pair_maps(graph, comp, basis, todo, opts, cum_n, max_n, emit):
    """Current (and voltage) of every pair; threads over pairs, accumulated in a fixed order."""
    from concurrent.futures import ThreadPoolExecutor

    n_jobs = max(1, opts.n_jobs if opts.n_jobs is not None else int(get_option("n_jobs")))
    groups: dict = {}
    for a, b, ca, cb, la in todo:
        groups.setdefault((ca, cb, la), []).append((a, b))
    keys = list(groups)
    whole = comp.nodes.size == graph.n_nodes
    sel = slice(None) if whole else comp.nodes

    def one(key):
        ca, cb, la = key
        return _pair_map(comp, basis[:, ca], basis[:, cb], la)

    chunk = 2 * n_jobs  # a few pairs at a time: memory stays at ~2 vectors per job
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        for s in range(0, len(keys), chunk):
            block = keys[s:s + chunk]
            for key, (v, cur) in zip(block, pool.map(one, block)):
                for a, b in groups[key]:
                    cum_n[sel] += cur
                    if emit is not None:
                        emit(a, b, lambda v=v, cur=cur: (_spread(graph, comp, v),
                                                         _spread(graph, comp, cur)))
                max_n[sel] = np.maximum(max_n[sel], cur)


def _pairwise_regions(g, focal, polymap, excl, maps, opts, R, emit, cum, mx):
    """Focal regions: as Circuitscape, short only the two regions of each pair.

    One factorisation of the base graph and constrained superposition
    (:mod:`._focal_regions`) when that is cheaper than one graph per pair; the pairs it
    cannot express, and every pair when it is not cheaper, get their own graph.
    """
    k = len(focal.ids)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k) if not excl[i, j]]
    rest = _pairwise_regions_superposed(g, focal, polymap, pairs, maps, opts, R, emit, cum, mx)
    _pairwise_regions_per_pair(g, focal, polymap, rest, maps, opts, R, emit, cum, mx)


def _region_method(opts: Options, regions, n_pairs: int, n_nodes: int, maps: bool) -> str:
    """'superpose' or 'per_pair' (``opts.focal_regions``; "auto" compares estimated costs)."""
    from . import _focal_regions as fr

    if opts.focal_regions != "auto":
        return opts.focal_regions
    # the solver the base graph will get (pick_method also applies the memory budget)
    method = pick_method(n_nodes, _stencil_nnz(opts, n_nodes), opts.solver)
    one, per_pair, t = fr.superposition_cost(regions, n_pairs, method, maps)
    return "superpose" if (one < per_pair and t <= fr.MAX_T_NODES) else "per_pair"


def _pairwise_regions_superposed(g, focal, polymap, pairs, maps, opts, R, emit, cum, mx):
    """Solve what superposition can; return the pairs left for per-pair graphs."""
    from . import _focal_regions as fr

    if not pairs or opts.focal_regions == "per_pair":
        return pairs
    graph = fr.base_graph(g, polymap, opts)
    _, labels = graph.components()
    regions = [fr.analyse_region(graph, fr.region_cells(g.shape, polymap, c), labels,
                                 opts.connect, opts.average) for c in focal.cells]
    if _region_method(opts, regions, len(pairs), graph.n_nodes, maps) != "superpose":
        return pairs
    rest, todo = [], []
    for i, j in pairs:
        ri, rj = regions[i], regions[j]
        if ri.component == -1 or rj.component == -1:
            continue  # a region without a valid cell: R stays -1, as per pair
        if min(ri.component, rj.component) == -2 or np.intersect1d(ri.cells, rj.cells).size:
            rest.append((i, j))  # spans components / shorted together: its own graph
        elif ri.component == rj.component:
            todo.append((i, j))
    if not todo:
        return rest
    lap, graph._laplacian = graph.laplacian, None  # grounded in place by the solver: no copy
    sup = fr.RegionSuperposition(graph, regions, _solver(lap, None, opts, overwrite=True),
                                 opts.progress)
    del lap
    solved = []
    for i, j in todo:
        sol = sup.pair(i, j)
        if sol is None:
            rest.append((i, j))
            continue
        R[i, j] = R[j, i] = sol.resistance
        solved.append((i, j, sol))
    if maps and solved:
        for (i, j, sol), v in zip(solved, sup.voltages([s for *_, s in solved], opts.progress)):
            ri, rj = regions[i], regions[j]
            vg, cg = fr.pair_maps(graph, ri, rj, sol, v, labels != ri.component)
            cum += cg
            np.maximum(mx, cg, out=mx)
            if emit is not None:
                emit(i, j, lambda vg=vg, cg=cg: (vg, cg))
    return rest


def _pairwise_regions_per_pair(g, focal, polymap, pairs, maps, opts, R, emit, cum, mx):
    """One graph per pair, with the pair's two regions shorted (Circuitscape's own way)."""
    progress = resolve_progress(opts.progress)
    if progress and len(pairs) > 1:
        from tqdm.auto import tqdm

        pairs = tqdm(pairs, desc="pairs (focal regions)")
    inner = Options(**{**opts.__dict__, "progress": False})
    for i, j in pairs:
        regions = merge_regions(g.shape, polymap, [focal.cells[i], focal.cells[j]])
        graph = conductance_graph(g, is_resistance=False, connect=opts.connect,
                                  average=opts.average, regions=regions)
        nodes = np.array([_first_node(graph, focal.cells[i]), _first_node(graph, focal.cells[j])])
        sub = -np.ones((2, 2))
        sub_emit = None if emit is None else (lambda a, b, grids, i=i, j=j: emit(i, j, grids))
        acc = _pairwise_points(graph, nodes, [0, 1], np.zeros((2, 2), bool), maps, inner, sub,
                               sub_emit)
        R[i, j] = R[j, i] = sub[0, 1]
        if maps:
            cum += graph.to_grid(acc[0], 0.0)
            np.maximum(mx, graph.to_grid(acc[1], 0.0), out=mx)


def _first_node(graph: CircuitGraph, cells: np.ndarray) -> int:
    nd = graph.node_of_cells(cells)
    nd = nd[nd >= 0]
    return int(nd[0]) if nd.size else -1


@dataclass
class NodeModeResult:
    """One-to-all / all-to-one: per-id value (-1: not solved) and cumulative maps."""

    ids: list
    values: np.ndarray
    cum_current: np.ndarray
    max_current: np.ndarray


def solve_one_to_all(g: np.ndarray, focal: Focal, *, mode: str = "one_to_all", polymap=None,
                     strengths: dict | None = None, opts: Options | None = None,
                     on_node=None) -> NodeModeResult:
    """One-to-all / all-to-one modes on conductances *g* (Circuitscape semantics).

    One-to-all: each node in turn injects its source strength (default 1 A) and every other
    focal node is a direct ground; the value returned is the source node's voltage per
    ampere (its resistance to the other nodes in parallel). All-to-one: each node in turn is
    the ground and every other focal node injects its strength (default 1 A);
    the value is 0 when solved. ``on_node(id, voltage_grid, current_grid)`` gets each map.
    """
    opts = opts or Options()
    regions = merge_regions(g.shape, polymap, focal.cells)
    graph = conductance_graph(g, is_resistance=False, connect=opts.connect,
                              average=opts.average, regions=regions)
    k = len(focal.ids)
    strengths = strengths or {}
    str_of = np.array([float(strengths.get(i, 1.0)) for i in focal.ids])
    nodes = np.array([_first_node(graph, c) for c in focal.cells], dtype=np.int64)
    values = -np.ones(k)
    cum_n, max_n = np.zeros(graph.n_nodes), np.zeros(graph.n_nodes)
    done = set()

    def sink(t, comp, v, cur):
        # accumulate per node; grids only for the caller's callback
        cum_n[comp.nodes] += cur
        max_n[comp.nodes] = np.maximum(max_n[comp.nodes], cur)
        done.add(t)
        if on_node is not None:
            on_node(focal.ids[t], _spread(graph, comp, v), _spread(graph, comp, cur))

    ncomp, labels = graph.components()
    sizes = np.bincount(labels, minlength=ncomp)
    for c in np.unique(labels[nodes[nodes >= 0]]) if (nodes >= 0).any() else []:
        members = [t for t in range(k) if nodes[t] >= 0 and labels[nodes[t]] == c]
        comp = _component(graph, c, half=_half_storage(graph, int(sizes[c]), opts))
        if mode == "one_to_all":
            _one_to_all_component(comp, nodes, members, str_of, opts, values, sink)
        else:
            _all_to_one_component(comp, nodes, members, str_of, opts, values, sink)
    if on_node is not None:  # unsolved nodes: empty maps, as Circuitscape writes them
        for t in range(k):
            if t not in done:
                on_node(focal.ids[t], np.zeros(g.shape), np.zeros(g.shape))
    return NodeModeResult(list(focal.ids), values, graph.to_grid(cum_n, 0.0),
                          graph.to_grid(max_n, 0.0))


def _one_to_all_component(comp, nodes, members, str_of, opts, values, sink):
    uniq = list(dict.fromkeys(int(nodes[t]) for t in members))
    if len(uniq) < 2:
        return  # no ground in this component: Circuitscape skips it
    loc = comp.local(np.array(uniq))
    # One factorisation with every focal node held at 0 V; h_n = harmonic with h[n] = 1.
    solver = _solver(comp.lap, loc, opts)
    rhs = -_laplacian_columns(comp.lap, loc)
    rhs[loc, :] = 0.0
    h = solver.solve(rhs)
    h[loc, np.arange(len(uniq))] = 1.0
    out_current = np.array([(comp.lap @ h[:, q])[loc[q]] for q in range(len(uniq))])
    col = {nd: q for q, nd in enumerate(uniq)}
    for t in members:
        q = col[int(nodes[t])]
        if out_current[q] <= 0:
            continue
        v = h[:, q] * (str_of[t] / out_current[q])
        values[t] = 1.0 / out_current[q]
        sink(t, comp, v, node_currents(comp.edges, v))


def _laplacian_columns(lap, cols) -> np.ndarray:
    """Dense columns *cols* of a symmetric Laplacian (CSR or half-stored)."""
    if isinstance(lap, SymmetricMatrix):
        out = np.zeros((lap.shape[0], len(cols)))
        for q, c in enumerate(cols):
            e = np.zeros(lap.shape[0])
            e[c] = 1.0
            out[:, q] = lap @ e
        return out
    return lap[cols].toarray().T  # rows of a symmetric matrix are its columns


def _all_to_one_component(comp, nodes, members, str_of, opts, values, sink):
    # sources: each focal node injects its strength (1 A by default) at its node; kept as
    # one entry per distinct focal node (no raster-sized source vector per member)
    uniq = list(dict.fromkeys(int(nodes[t]) for t in members))
    loc = comp.local(np.array(uniq))
    q_of = {nd: q for q, nd in enumerate(uniq)}
    mq = np.array([q_of[int(nodes[t])] for t in members], dtype=np.int64)
    ms = str_of[members]
    anchor = int(loc[0])
    solver = _solver(comp.lap, [anchor], opts)
    # basis u_q = L_g^-1 e_q (u_anchor = 0) at every focal node but the anchor; every
    # source vector follows by superposition
    rhs = np.zeros((comp.nodes.size, len(uniq) - 1))
    rhs[loc[1:], np.arange(len(uniq) - 1)] = 1.0
    sol = solver.solve(rhs, overwrite_b=True)
    del rhs
    col = np.arange(len(uniq)) - 1  # basis column of each focal node; -1: the anchor
    for a, t in enumerate(members):
        others = np.arange(len(members)) != a
        s = np.bincount(mq[others], weights=ms[others], minlength=len(uniq))
        g = mq[a]
        s[g] = 0.0  # rmvsrc: the ground node is no source
        if s.sum() == 0:
            continue
        nz = np.flatnonzero(s)
        nz = nz[col[nz] >= 0]
        v = sol[:, col[nz]] @ s[nz]
        if col[g] >= 0:
            v = v - s.sum() * sol[:, col[g]]
        v = v - v[loc[g]]
        values[t] = 0.0
        sink(t, comp, v, node_currents(comp.edges, v))


@dataclass
class AdvancedResult:
    voltage: np.ndarray
    current: np.ndarray
    solved: bool


def resolve_conflicts(src: np.ndarray, gnd: np.ndarray, policy: str) -> None:
    """Apply Circuitscape.jl's rule for nodes that are both source and ground, in place.

    ``rmvsrc`` and ``rmvall`` drop the source, ``rmvgnd`` the ground, ``keepall`` keeps both;
    a direct (infinite) ground under a source is always removed, since it would short it.
    """
    conflict = (src != 0) & (gnd != 0)
    if policy in ("rmvsrc", "rmvall"):
        src[conflict] = 0.0
    elif policy == "rmvgnd":
        gnd[conflict] = 0.0
    gnd[np.isinf(gnd) & (src > 0)] = 0.0


def solve_advanced(g: np.ndarray, sources: np.ndarray, grounds: np.ndarray, *, polymap=None,
                   policy: str = "keepall", opts: Options | None = None) -> AdvancedResult:
    """Advanced mode: per-cell source currents (A) and ground conductances (S, inf = direct).

    Cells of one node add their sources and ground conductances. Conflicts (a node both
    source and ground) follow *policy* as Circuitscape.jl: ``rmvsrc`` and ``rmvall`` drop the
    source, ``rmvgnd`` the ground; a direct (infinite) ground never coexists with a source.
    Only components holding both a source and a ground are solved.
    """
    opts = opts or Options()
    if policy not in _POLICIES:
        raise ValidationError(f"remove must be one of {_POLICIES}, got {policy!r}")
    graph = conductance_graph(g, is_resistance=False, connect=opts.connect,
                              average=opts.average, regions=polymap)
    n = graph.n_nodes
    flat_nodes = graph.nodemap.ravel()
    on = flat_nodes >= 0
    src = np.bincount(flat_nodes[on], weights=np.nan_to_num(sources.ravel()[on]), minlength=n)
    gr_cells = np.nan_to_num(grounds.ravel()[on], nan=0.0, posinf=np.inf)
    inf_node = np.zeros(n, bool)
    inf_node[flat_nodes[on][np.isinf(gr_cells)]] = True
    gnd = np.bincount(flat_nodes[on], weights=np.where(np.isinf(gr_cells), 0.0, gr_cells),
                      minlength=n)
    gnd[inf_node] = np.inf
    volt, cur, solved = _solve_sources_grounds(graph, src, gnd, policy, opts)
    return AdvancedResult(graph.to_grid(volt, 0.0), graph.to_grid(cur, 0.0), solved)


def _solve_sources_grounds(graph: CircuitGraph, src: np.ndarray, gnd: np.ndarray, policy: str,
                           opts: Options) -> tuple[np.ndarray, np.ndarray, bool]:
    """Node voltages and currents for node sources *src* (A) and grounds *gnd* (S, inf =
    direct) after *policy* (:func:`resolve_conflicts`, in place), and whether any component
    was solved: only components whose sources and grounds both sum to non-zero are (as
    Circuitscape), and only their matrices are built."""
    resolve_conflicts(src, gnd, policy)
    finite = np.where(np.isinf(gnd), 0.0, gnd)
    volt = np.zeros(graph.n_nodes)
    cur = np.zeros(graph.n_nodes)
    ncomp, labels = graph.components()
    sizes = np.bincount(labels, minlength=ncomp)
    has_src = np.bincount(labels, weights=src, minlength=ncomp) != 0
    has_gnd = np.bincount(labels, weights=gnd, minlength=ncomp) != 0
    solved = False
    for c in np.flatnonzero(has_src & has_gnd):
        comp = _component(graph, c, half=_half_storage(graph, int(sizes[c]), opts))
        s, gg = src[comp.nodes], gnd[comp.nodes]
        fin = finite[comp.nodes]
        if isinstance(comp.lap, SymmetricMatrix):  # a fresh matrix of our own: add in place
            mat = comp.lap
            mat.diag += fin
        else:
            mat = comp.lap + sp.diags(fin)
        # mat is this solve's own matrix either way: let the solver ground it in place
        solver = _solver(mat, np.flatnonzero(np.isinf(gg)), opts, overwrite=True)
        v = solver.solve(s)
        volt[comp.nodes] = v
        cur[comp.nodes] = node_currents(comp.edges, v, fin if fin.any() else None)
        solved = True
    return volt, cur, solved


# ======================================================================================
# Public API (rioxarray / geopandas)
# ======================================================================================
def _raster(resistance, name="resistance"):
    """(values, GridSpec | None, nodata) from a DataArray or a 2-D numpy array."""
    if isinstance(resistance, np.ndarray):
        if resistance.ndim != 2:
            raise ValidationError(f"`{name}` must be 2-D, got shape {resistance.shape}")
        return np.asarray(resistance, dtype=np.float64), None, None
    from .._grid import GridSpec

    grid = GridSpec.from_dataarray(resistance, name)
    nodata = resistance.rio.nodata
    values = np.asarray(resistance.values, dtype=np.float64)
    return values, grid, nodata


def _labels(obj, grid, shape, name):
    """Integer labels + ids from features (needs a grid) or a label raster/array."""
    if obj is None:
        return None, []
    if isinstance(obj, np.ndarray) or hasattr(obj, "dims"):
        lab = np.asarray(getattr(obj, "values", obj), dtype=np.float64)
        if lab.shape != tuple(shape):
            raise ValidationError(f"`{name}` raster shape {lab.shape} != resistance shape "
                                  f"{tuple(shape)}")
        return lab, None
    if grid is None:
        raise ValidationError(f"`{name}` as geometries needs `resistance` as a georeferenced "
                              "DataArray")
    from .._geom import features_to_cells

    fc = features_to_cells(obj, grid, name)
    return fc.labels.astype(np.float64), list(fc.ids)


def _focal(nodes, grid, shape):
    lab, ids = _labels(nodes, grid, shape, "nodes")
    if lab is None:
        raise EmptySelectionError("`nodes` is empty; pass points, polygons or a label raster")
    focal = Focal.from_labels(lab)
    if not focal.ids:
        raise EmptySelectionError("`nodes` covers no cell of the grid")
    names = [ids[i - 1] for i in focal.ids] if ids is not None else list(focal.ids)
    return focal, names


def _opts(connect, average, solver, n_jobs, client, progress):
    if connect not in ("eight", "four"):
        raise ValidationError(f"connect must be 'eight' or 'four', got {connect!r}")
    if average not in ("conductance", "resistance"):
        raise ValidationError(f"average must be 'conductance' or 'resistance', got {average!r}")
    return Options(connect, average, solver, n_jobs, client, progress)


def _prepare_nodes(resistance, nodes, short_circuit, opts_args):
    """Inputs of the focal-node modes: (grid, conductances, focal, names, polymap, options),
    with the focal nodes checked (:func:`_check_nodes`)."""
    values, grid, nodata = _raster(resistance)
    opts = _opts(*opts_args)
    g = to_conductance(values, is_resistance=True, nodata=nodata)
    focal, names = _focal(nodes, grid, values.shape)
    polymap, _ = _labels(short_circuit, grid, values.shape, "short_circuit")
    _check_nodes(g, focal, names, polymap)
    return grid, g, focal, names, polymap, opts


def _check_nodes(g, focal, names, polymap):
    """Warn about focal nodes without a valid cell; refuse all nodes in one region."""
    bad = [names[t] for t, c in enumerate(focal.cells) if not (g.ravel()[c] > 0).any()]
    if bad:
        warnings.warn(
            f"focal node(s) {bad} lie entirely on nodata / zero-conductance cells: their "
            "resistances are inf and they carry no current (Circuitscape writes -1)",
            UnreachableWarning, stacklevel=3)
    if polymap is not None and len(focal.ids) >= 2:
        pm = np.asarray(polymap).ravel()
        labs = {tuple(np.unique(pm[c])) for c in focal.cells}
        if len(labs) == 1 and all(v > 0 for v in next(iter(labs))) and len(next(iter(labs))) == 1:
            raise ConnectivityError(
                f"all {len(focal.ids)} focal nodes lie in one short-circuit region "
                f"(label {next(iter(labs))[0]}): every resistance would be 0; remove that region "
                "from `short_circuit` or pick nodes outside it")
    return bad


def _exclude_matrix(included_pairs, names):
    k = len(names)
    if included_pairs is None:
        return None
    pos = {n: i for i, n in enumerate(names)}
    include = np.zeros((k, k), bool)
    for a, b in included_pairs:
        if a not in pos or b not in pos:
            from ..errors import UnknownNameError

            missing = a if a not in pos else b
            raise UnknownNameError(f"included_pairs: node {missing!r} is not one of {names}")
        include[pos[a], pos[b]] = include[pos[b], pos[a]] = True
    return ~include


def pairwise_resistance(resistance, nodes, *, included_pairs=None, short_circuit=None,
                        connect: str = "eight", average: str = "conductance",
                        solver: str = "auto", n_jobs: int | None = None, client=None,
                        progress: bool | None = None):
    """Effective resistance between every pair of focal nodes (Circuitscape pairwise mode).

    Parameters
    ----------
    resistance : xarray.DataArray or numpy.ndarray
        Cell resistances (ohms per cell). NaN / nodata / inf = barrier (no node); 0 raises.
    nodes : GeoDataFrame, GeoSeries, shapely geometries, (n, 2) coordinates, or label raster
        Focal points, or polygons = focal regions (all cells of a region are one node).
    included_pairs : iterable of (id, id), optional
        Only these pairs are solved; others are NaN.
    short_circuit : polygons or label raster, optional
        Zero-resistance regions (Circuitscape's polygon file): their cells are merged.
    connect, average : str
        Circuitscape graph conventions ("eight"/"four"; "conductance"/"resistance").
    solver : {"auto", "direct", "amg"}
    n_jobs, client, progress
        Parallel solves (threads or a dask.distributed Client) and progress bar.

    Returns
    -------
    pandas.DataFrame
        Symmetric matrix indexed by node id: 0 on the diagonal, ``inf`` between nodes in
        different components (or on nodata), NaN for pairs not included.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((1, 5)); labels[0, 0] = 1; labels[0, 4] = 2
    >>> float(pairwise_resistance(np.ones((1, 5)), labels, connect="four").loc[1, 2])
    4.0
    """
    grid, g, focal, names, polymap, opts = _prepare_nodes(
        resistance, nodes, short_circuit, (connect, average, solver, n_jobs, client, progress))
    excl = _exclude_matrix(included_pairs, names)
    res = solve_pairwise(g, focal, polymap=polymap, exclude=excl, maps=False, opts=opts)
    return _resistance_frame(res, names)


def _resistance_frame(res: PairwiseResult, names):
    import pandas as pd

    R = res.resistances.copy()
    R[R == -1] = np.inf
    R[res.excluded & res.excluded.T] = np.nan
    np.fill_diagonal(R, 0.0)
    df = pd.DataFrame(R, index=pd.Index(names, name="node"), columns=pd.Index(names, name="node"))
    return df


def current_map(resistance, nodes, *, mode: str = "pairwise", source_strengths=None,
                return_pairs: bool = False, return_voltages: bool = False, included_pairs=None,
                short_circuit=None, connect: str = "eight", average: str = "conductance",
                solver: str = "auto", n_jobs: int | None = None, client=None,
                progress: bool | None = None):
    """Current density maps of Circuitscape's pairwise, one-to-all or all-to-one modes.

    Parameters
    ----------
    resistance, nodes, included_pairs, short_circuit, connect, average, solver, n_jobs,
    client, progress
        As :func:`pairwise_resistance` (``included_pairs`` applies to pairwise mode).
    mode : {"pairwise", "one_to_all", "all_to_one"}
        Pairwise: 1 A between each pair. One-to-all: each node injects its strength, all
        others are grounds. All-to-one: each node in turn is the ground, all others inject.
    source_strengths : mapping id -> amperes, optional
        Variable source strengths (one-to-all and all-to-one; default 1 A).
    return_pairs, return_voltages : bool
        Also return the per-pair (per-node) current / voltage maps.

    Returns
    -------
    xarray.Dataset
        ``cumulative_current`` and ``max_current`` (A, on the input grid), ``resistance``
        (pairwise: node x node matrix; one-to-all: per node), and with the flags
        ``current`` / ``voltage`` with a leading ``pair`` (or ``node``) dimension.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((3, 3)); labels[1, 0] = 1; labels[1, 2] = 2
    >>> ds = current_map(np.ones((3, 3)), labels, connect="four")
    >>> float(ds.cumulative_current[1, 1])  # doctest: +ELLIPSIS
    0.5...
    """
    import xarray as xr

    if mode not in _MODES:
        raise ValidationError(f"mode must be one of {_MODES}, got {mode!r}")
    if included_pairs is not None and mode != "pairwise":
        raise ValidationError(f"included_pairs applies to mode='pairwise' only, got mode={mode!r}")
    grid, g, focal, names, polymap, opts = _prepare_nodes(
        resistance, nodes, short_circuit, (connect, average, solver, n_jobs, client, progress))
    per_v, per_c, keys = [], [], []
    want = return_pairs or return_voltages
    pos = {fid: names[t] for t, fid in enumerate(focal.ids)}

    def keep(*args):
        *ids, vg, cg = args
        keys.append(tuple(pos[i] for i in ids))
        if return_voltages:
            per_v.append(vg)
        if return_pairs:
            per_c.append(cg)

    if mode == "pairwise":
        excl = _exclude_matrix(included_pairs, names)
        res = solve_pairwise(g, focal, polymap=polymap, exclude=excl, maps=True, opts=opts,
                             on_pair=keep if want else None)
        frame = _resistance_frame(res, names)
        resist = xr.DataArray(frame.values, dims=("node_i", "node_j"),
                              coords={"node_i": names, "node_j": names}, name="resistance")
        cum, mx = res.cum_current, res.max_current
        dim = "pair"
    else:
        strengths = None
        if source_strengths is not None:
            inv = {n: fid for fid, n in pos.items()}
            strengths = {inv[k]: float(v) for k, v in dict(source_strengths).items() if k in inv}
        res = solve_one_to_all(g, focal, mode=mode, polymap=polymap, strengths=strengths,
                               opts=opts, on_node=keep if want else None)
        vals = np.where(res.values == -1, np.inf, res.values)
        resist = xr.DataArray(vals, dims=("node",), coords={"node": names}, name="resistance")
        cum, mx = res.cum_current, res.max_current
        dim = "node"
    data = {"cumulative_current": _wrap(cum, grid),
            "max_current": _wrap(mx, grid),
            "resistance": resist}
    ds = xr.Dataset(data)
    if want and keys:
        label = ["_".join(map(str, k)) for k in keys]
        for name, stack in (("current", per_c), ("voltage", per_v)):
            if stack:
                dims = (dim + "_map",) + (("y", "x") if grid is not None else ("row", "col"))
                ds[name] = xr.DataArray(np.stack(stack), dims=dims).assign_coords(
                    {dim + "_map": label})
    ds.attrs.update(mode=mode, connect=connect, average=average, units="A")
    return ds


def _wrap(arr, grid):
    import xarray as xr

    if grid is None:
        return xr.DataArray(arr, dims=("row", "col"))
    return grid.to_dataarray(arr)


def advanced(resistance, sources, grounds, *, grounds_are_resistances: bool = False,
             direct_grounds: bool = False, unit_currents: bool = False, remove: str = "keepall",
             short_circuit=None, connect: str = "eight", average: str = "conductance",
             solver: str = "auto", n_jobs: int | None = None, client=None,
             progress: bool | None = None):
    """Circuitscape advanced mode: voltages and currents for given sources and grounds.

    Parameters
    ----------
    resistance : xarray.DataArray or numpy.ndarray
        Cell resistances.
    sources : DataArray / array of source currents (A, 0/NaN = none)
    grounds : DataArray / array of ground conductances (S; NaN/0 = none; inf = direct)
    grounds_are_resistances : bool
        *grounds* holds resistances to ground (0 = direct ground).
    direct_grounds : bool
        Every ground is tied directly (0 ohm) to ground.
    unit_currents : bool
        Every source cell injects 1 A.
    remove : {"keepall", "rmvsrc", "rmvgnd", "rmvall"}
        Conflict policy where a node is both source and ground (as Circuitscape.jl).

    Returns
    -------
    xarray.Dataset
        ``voltage`` (V) and ``current`` (A) on the input grid.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((1, 3)); s[0, 0] = 1
    >>> gr = np.zeros((1, 3)); gr[0, 2] = np.inf
    >>> ds = advanced(np.ones((1, 3)), s, gr, connect="four")
    >>> ds.voltage.values.round(6).tolist()
    [[2.0, 1.0, 0.0]]
    """
    import xarray as xr

    values, grid, nodata = _raster(resistance)
    opts = _opts(connect, average, solver, n_jobs, client, progress)
    g = to_conductance(values, is_resistance=True, nodata=nodata)
    src = _grid_values(sources, values.shape, "sources")
    gnd = _grid_values(grounds, values.shape, "grounds")
    src, gnd = prepare_sources_grounds(src, gnd, grounds_are_resistances, direct_grounds,
                                       unit_currents)
    polymap, _ = _labels(short_circuit, grid, values.shape, "short_circuit")
    res = solve_advanced(g, src, gnd, polymap=polymap, policy=remove, opts=opts)
    if not res.solved:
        warnings.warn("no component holds both a source and a ground: voltages and currents are 0",
                      UnreachableWarning, stacklevel=2)
    ds = xr.Dataset({"voltage": _wrap(res.voltage, grid),
                     "current": _wrap(res.current, grid)})
    ds.attrs.update(mode="advanced", remove=remove)
    return ds


def _grid_values(obj, shape, name):
    arr = np.asarray(getattr(obj, "values", obj), dtype=np.float64)
    if arr.shape != tuple(shape):
        raise ValidationError(f"`{name}` shape {arr.shape} != resistance shape {tuple(shape)}")
    return arr


def prepare_sources_grounds(src, gnd, grounds_are_resistances, direct_grounds, unit_currents):
    """Circuitscape's reading rules: NaN = none, ground resistance 0 = direct ground."""
    src = np.where(np.isfinite(src), src, 0.0)
    gnd = np.array(gnd, dtype=np.float64)
    missing = np.isnan(gnd)
    if grounds_are_resistances:
        with np.errstate(divide="ignore"):
            gnd = np.where(missing, 0.0, 1.0 / np.where(missing, 1.0, gnd))
    gnd = np.where(missing | (gnd < 0), 0.0, gnd)
    if direct_grounds:
        gnd = np.where(gnd > 0, np.inf, 0.0)
    if unit_currents:
        src = np.where(src != 0, 1.0, 0.0)
    return src, gnd
