"""Pairwise mode with focal regions from ONE factorisation (exact Circuitscape semantics).

Circuitscape shorts only the two focal regions of the pair being solved (every other region's
cells stay ordinary resistors), so each pair has its own graph and Circuitscape factorises
k(k-1)/2 matrices. Point superposition (k-1 solves) does not apply: shorting a region is not
a current injection. It *is* a constraint, though, and constraints are cheap once the base
graph (no focal region shorted) is factorised:

* shorting region i means: every node of i has the same voltage V_i and the 1 A leaves i
  through the branches that cross i's boundary. Inside the region no branch carries
  current, so the injection that reproduces it in the base graph sits on the region's
  boundary nodes only (nodes with a branch to a node outside the region);
* region cells without conductance (nodata) join the shorted node in Circuitscape and bring
  branches of their own (average conductance: ``(0 + G_b) / 2``) to valid neighbours b; these
  are modelled as branches from the shorted node to b, i.e. injections at b;
* with ``Z = L_g^{-1}`` restricted to T (all boundary and branch-end nodes of all regions),
  pair (i, j) is a small dense system in the injections on T_i u T_j u N_ij and (V_i, V_j):
  ``v_T = Z inj``; ``v = V_i`` on i's boundary, ``V_j`` on j's; Kirchhoff's law at i and j.
  ``R_ij = V_i - V_j`` exactly (up to the solver's tolerance).

Cost: one factorisation + |T| solves (+ one solve per pair for the current maps) instead of
one factorisation per pair. Pairs this cannot express (regions overlapping each other, a
region whose cells span several components of the base graph, a singular system) fall back
to the per-pair graph, so results never depend on the method.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import resolve_progress
from ._laplacian import _DIAGONAL, _ORTHOGONAL, CircuitGraph, _pair_weights, conductance_graph

# Set-up cost of the base solver in units of one solve, for the choice of method:
# measured at 1 M nodes, SuperLU factorisation ~ 50-70 solves, AMG set-up ~ 1 CG solve.
SETUP_IN_SOLVES = {"direct": 50.0, "amg": 1.5}
MAX_T_NODES = 8000  # dense Z on T: 8000^2 float64 = 0.5 GB
_BATCH = 16  # right-hand sides per solve call (memory: 2 x n x 16 float64)


@dataclass
class Region:
    """A focal region as shorted in its pairs, seen from the base graph (nothing shorted)."""

    cells: np.ndarray  # flat cells shorted together (focal cells + overlapping polygons)
    nodes: np.ndarray  # base-graph nodes of those cells (sorted)
    boundary: np.ndarray  # nodes with a branch to a node outside the region
    extra_to: np.ndarray  # base nodes joined to the shorted region by its nodata cells
    extra_w: np.ndarray  # their summed branch conductances
    component: int  # base component; -1 no node; -2 spans several components


def region_cells(shape, polymap, cells: np.ndarray) -> np.ndarray:
    """Cells shorted with focal region *cells*: its own plus those of every short-circuit
    polygon it touches (what :func:`.circuit.merge_regions` makes of one region), sorted.

    Computed from the touched labels directly: merge_regions relabels the whole raster,
    which cost ~0.4 s per region at 9 M cells (1.2 s with polygons).
    """
    cells = np.unique(np.asarray(cells, dtype=np.int64))
    if polymap is None:
        return cells
    pm = np.asarray(polymap, dtype=np.float64).ravel()
    lab = pm[cells]
    touched = np.unique(lab[np.isfinite(lab) & (lab > 0)].astype(np.int64))
    if touched.size == 0:
        return cells
    # polygon labels as merge_regions reads them: finite and > 0, truncated to integers
    base = np.where(np.isfinite(pm) & (pm > 0), pm, 0).astype(np.int64)
    return np.union1d(cells, np.flatnonzero(np.isin(base, touched)))


def _neighbour_offsets(connect: str):
    # the graph's own stencil (conductance_graph), in both directions
    half = _ORTHOGONAL + (_DIAGONAL if connect == "eight" else ())
    return half + tuple((-dr, -dc) for dr, dc in half)


def analyse_region(graph: CircuitGraph, cells: np.ndarray, labels: np.ndarray, connect: str,
                   average: str) -> Region:
    """Boundary nodes and nodata-cell branches of one region in the base *graph*."""
    flat = graph.nodemap.ravel()
    nodes = np.unique(flat[cells])
    nodes = nodes[nodes >= 0]
    empty = np.zeros(0, np.int64)
    if nodes.size == 0:
        return Region(cells, nodes, empty, empty, np.zeros(0), -1)
    inside = np.zeros(graph.n_nodes, bool)
    inside[nodes] = True
    boundary = _boundary_nodes(graph, nodes, inside)
    extra_to, extra_w = _nodata_branches(graph, cells[flat[cells] < 0], inside, connect, average)
    comps = np.unique(labels[np.concatenate([nodes, extra_to])])
    component = int(comps[0]) if comps.size == 1 else -2
    return Region(cells, nodes, boundary, extra_to, extra_w, component)


def _boundary_nodes(graph: CircuitGraph, nodes: np.ndarray, inside: np.ndarray) -> np.ndarray:
    lap = graph.laplacian
    starts, stops = lap.indptr[nodes], lap.indptr[nodes + 1]
    counts = stops - starts
    owner = np.repeat(nodes, counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    nbr = lap.indices[np.repeat(starts, counts) + offset]
    return np.unique(owner[~inside[nbr]]).astype(np.int64)


def _nodata_branches(graph, nodata_cells, inside, connect, average):
    """Branches that the region's nodata cells bring when the region is shorted."""
    rows, cols = graph.shape
    flat = graph.nodemap.ravel()
    g = graph.conductance.ravel()
    r, c = np.divmod(nodata_cells, cols)
    targets, weights = [], []
    for dr, dc in _neighbour_offsets(connect):
        rr, cc = r + dr, c + dc
        ok = (rr >= 0) & (rr < rows) & (cc >= 0) & (cc < cols)
        src, dst = nodata_cells[ok], rr[ok] * cols + cc[ok]
        node = flat[dst]
        keep = node >= 0
        keep[keep] = ~inside[node[keep]]
        w = _pair_weights(g[src[keep]], g[dst[keep]], average, diagonal=(dr != 0 and dc != 0))
        targets.append(node[keep][w > 0])
        weights.append(w[w > 0])
    if not targets:
        return np.zeros(0, np.int64), np.zeros(0)
    t, w = np.concatenate(targets), np.concatenate(weights)
    uniq, inv = np.unique(t, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inv, weights=w, minlength=uniq.size)


def superposition_cost(regions: list[Region], n_pairs: int, method: str, maps: bool) -> tuple:
    """(cost with one factorisation, cost per pair graph), in solves; T size."""
    t = _t_nodes(regions).size
    setup = SETUP_IN_SOLVES.get(method, SETUP_IN_SOLVES["amg"])
    return setup + t + (n_pairs if maps else 0), n_pairs * (setup + 1), t


def _t_nodes(regions: list[Region]) -> np.ndarray:
    parts = [r.boundary for r in regions if r.component >= 0]
    parts += [r.extra_to for r in regions if r.component >= 0]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


@dataclass
class PairSolution:
    """Injections (at base nodes) and shorted voltages of one pair: +1 A at i, -1 A at j."""

    resistance: float
    inj_nodes: np.ndarray
    inj_values: np.ndarray
    v_i: float
    v_j: float
    direct: float  # conductance of branches joining the two shorted regions directly


class RegionSuperposition:
    """Z = L_g^{-1} on the regions' boundary nodes, and the per-pair constrained systems."""

    def __init__(self, graph: CircuitGraph, regions: list[Region], solver, progress=None):
        self.graph, self.regions, self.solver = graph, regions, solver
        self.t_nodes = _t_nodes(regions)
        self.pos = np.full(graph.n_nodes, -1, np.int64)
        self.pos[self.t_nodes] = np.arange(self.t_nodes.size)
        self.Z = self._transfer_block(progress)

    def _transfer_block(self, progress) -> np.ndarray:
        t = self.t_nodes
        Z = np.zeros((t.size, t.size))
        starts = range(0, t.size, _BATCH)
        if resolve_progress(progress) and t.size > _BATCH:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="focal-region boundary solves",
                          total=-(-t.size // _BATCH))
        for s in starts:
            cols = t[s:s + _BATCH]
            rhs = np.zeros((self.graph.n_nodes, cols.size))
            rhs[cols, np.arange(cols.size)] = 1.0
            Z[:, s:s + cols.size] = self.solver.solve(rhs, overwrite_b=True)[t]
        return (Z + Z.T) / 2.0  # exact for a direct solve; symmetrises CG's last digits

    def pair(self, i: int, j: int) -> PairSolution | None:
        """Constrained system of pair (i, j); None if it is singular."""
        ri, rj = self.regions[i], self.regions[j]
        ai, direct_i = _split_extra(ri, rj.nodes)
        aj, direct_j = _split_extra(rj, ri.nodes)
        direct = direct_i + direct_j
        nb = np.union1d(np.fromiter(ai, np.int64, len(ai)), np.fromiter(aj, np.int64, len(aj)))
        unknown = np.concatenate([ri.boundary, rj.boundary, nb])
        m, ni, nj = unknown.size, ri.boundary.size, rj.boundary.size
        Zu = self.Z[np.ix_(self.pos[unknown], self.pos[unknown])]
        wi = np.array([ai.get(b, 0.0) for b in nb])
        wj = np.array([aj.get(b, 0.0) for b in nb])
        M = np.zeros((m + 2, m + 2))
        rhs = np.zeros(m + 2)
        # boundary voltages equal the shorted region's voltage
        M[:ni, :m], M[:ni, m] = Zu[:ni], -1.0
        M[ni:ni + nj, :m], M[ni:ni + nj, m + 1] = Zu[ni:ni + nj], -1.0
        # a nodata branch's end b receives w (V - v_b)
        e = slice(ni + nj, m)
        M[e, :m] = (wi + wj)[:, None] * Zu[e]
        M[e, e] += np.eye(nb.size)
        M[e, m], M[e, m + 1] = -wi, -wj
        # Kirchhoff at the shorted regions: 1 A out of i, 1 A into j
        M[m, :ni] = 1.0
        M[m, :m] -= wi @ Zu[e]
        M[m, m], M[m, m + 1] = wi.sum() + direct, -direct
        M[m + 1, ni:ni + nj] = 1.0
        M[m + 1, :m] -= wj @ Zu[e]
        M[m + 1, m + 1], M[m + 1, m] = wj.sum() + direct, -direct
        rhs[m], rhs[m + 1] = 1.0, -1.0
        try:
            x = np.linalg.solve(M, rhs)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(x)):
            return None
        return PairSolution(float(x[m] - x[m + 1]), unknown, x[:m], float(x[m]), float(x[m + 1]),
                            direct)

    def voltages(self, sols: list[PairSolution], progress=None):
        """Yield base-graph node voltages of each pair (one solve per pair, in batches)."""
        starts = range(0, len(sols), _BATCH)
        if resolve_progress(progress) and len(sols) > _BATCH:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="focal-region pair maps", total=-(-len(sols) // _BATCH))
        for s in starts:
            block = sols[s:s + _BATCH]
            rhs = np.zeros((self.graph.n_nodes, len(block)))
            for c, sol in enumerate(block):
                rhs[sol.inj_nodes, c] = sol.inj_values
            V = self.solver.solve(rhs, overwrite_b=True)
            for c in range(len(block)):
                yield np.ascontiguousarray(V[:, c])


def _split_extra(region: Region, other_nodes: np.ndarray) -> tuple[dict, float]:
    """Nodata branches of *region*: {end node: w} outside the other region, and w into it."""
    into = np.isin(region.extra_to, other_nodes)
    return (dict(zip(region.extra_to[~into].tolist(), region.extra_w[~into].tolist())),
            float(region.extra_w[into].sum()))


def pair_maps(graph: CircuitGraph, ri: Region, rj: Region, sol: PairSolution, v: np.ndarray,
              outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(voltage grid, current grid) of a pair as Circuitscape draws it (shorted graph).

    Circuitscape injects at the second region and grounds the first: voltages are shifted and
    negated so that region i is at 0 V and region j at R_ij. Every cell of a shorted region
    shows the region's voltage and node current; nodes *outside* the pair's component are 0.
    """
    from .circuit import node_flows

    volt = sol.v_i - v
    volt[outside] = 0.0
    volt[ri.nodes], volt[rj.nodes] = 0.0, sol.v_i - sol.v_j
    # The base branches as they are: with each region at one voltage its inner branches
    # carry no current, so the shorted node's inflow (outflow) is the sum over its nodes
    # (no per-pair renumbering of the raster-sized branch list). The regions' nodata-cell
    # branches leave from any node of the region.
    extra = [(np.full(r.extra_to.size, r.nodes[0]), r.extra_to, r.extra_w) for r in (ri, rj)]
    inflow, outflow = node_flows([(graph.edge_i, graph.edge_j, graph.edge_w)] + extra, volt)
    cur = np.maximum(inflow, outflow)
    shorted = [(r, val, max(inflow[r.nodes].sum(), outflow[r.nodes].sum()))
               for r, val in ((ri, 0.0), (rj, sol.v_i - sol.v_j))]
    for reg, _, c in shorted:
        cur[reg.nodes] = c
    vgrid = graph.to_grid(volt, fill=0.0).ravel()
    cgrid = graph.to_grid(cur, fill=0.0).ravel()
    for reg, val, c in shorted:
        vgrid[reg.cells], cgrid[reg.cells] = val, c
    return vgrid.reshape(graph.shape), cgrid.reshape(graph.shape)


def base_graph(g: np.ndarray, polymap, opts) -> CircuitGraph:
    """The graph with only the short-circuit polygons merged (no focal region shorted)."""
    return conductance_graph(g, is_resistance=False, connect=opts.connect, average=opts.average,
                             regions=polymap)
