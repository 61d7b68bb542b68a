"""Patch graphs and the graph connectivity indices PC, EC and IIC with their dPC/dIIC parts.

A *patch graph* has one node per habitat patch or protected area (node attribute: its area
in m², or another habitat-quantity attribute) and one edge per pair of patches with the
distance between them in metres (edge to edge, centroid to centroid, or accumulated cost
along the least-cost path).

Indices (Pascual-Hortal & Saura 2006; Saura & Pascual-Hortal 2007; Saura & Rubio 2010)
-----------------------------------------------------------------------------------------
Probability of connectivity, with :math:`a_i` the patch attributes and :math:`A_L` the
maximum landscape attribute (the landscape area):

.. math::

    p_{ij} = e^{-\\kappa d_{ij}}, \\quad \\kappa = -\\ln(p) / d_{disp}

    PC = \\frac{\\sum_i \\sum_j a_i a_j p^*_{ij}}{A_L^2}, \\quad
    EC = \\sqrt{\\sum_i \\sum_j a_i a_j p^*_{ij}}

:math:`p^*_{ij}` is the largest product of direct probabilities over all paths from i to j
(:math:`p^*_{ii} = 1`). Because :math:`-\\ln p_{ij} = \\kappa d_{ij}`, the maximum-product
path is the shortest path in distance, so :math:`p^*_{ij} = e^{-\\kappa D_{ij}}` with
:math:`D` the all-pairs shortest-path distance.

The importance of patch k is :math:`dPC_k = 100 (PC - PC_{-k}) / PC` (:math:`PC_{-k}`: patch
k removed), split into

- dPCintra_k = 100 a_k² / N (the patch's own area),
- dPCflux_k = 100 · 2 Σ_{j≠k} a_k a_j p*_kj / N (pairs that start or end at k),
- dPCconnector_k = dPC_k − dPCintra_k − dPCflux_k (loss of p* among the other pairs
  whose best path goes through k),

with N = ΣΣ a_i a_j p*_ij. IIC uses topological distance instead: links exist where
d_ij ≤ threshold, nl_ij = fewest links between i and j, and
IIC = ΣΣ a_i a_j / (1 + nl_ij) / A_L² (unreachable pairs add 0); dIIC splits the same way.

Algorithm
---------
All-pairs shortest paths with a dense O(n²)-per-source Dijkstra compiled with numba (a
complete patch graph is dense, where the array scan beats a heap). For dPCconnector a node
k only matters to the sources whose shortest-path tree passes *through* k; only those rows
are recomputed with k removed, so the exact dPC costs little more than the PC itself.
"""

from __future__ import annotations

import heapq
import math
import warnings
from dataclasses import dataclass, field

import networkx as nx
import numba
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from ..crs import require_projected_crs
from ..errors import EmptySelectionError, ValidationError
from ..options import resolve_progress

__all__ = [
    "patch_graph",
    "probability_of_connectivity",
    "integral_index_of_connectivity",
    "PCResult",
    "IICResult",
]

_ID_COLUMNS = ("patch_id", "site_id")
_DISTANCES = ("edge", "centroid", "least_cost")


# ----------------------------------------------------------------------------------------
# numba kernels: dense Dijkstra
# ----------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _sssp_dense(W, src, skip, dist, pred):  # pragma: no cover - compiled
    """Dijkstra from *src* on dense weights W (inf = no edge), ignoring node *skip* (-1: none).

    Fills dist (float64) and pred (int32, -1 = none). Zero-length edges are valid edges.
    """
    n = W.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    for v in range(n):
        dist[v] = np.inf
        pred[v] = -1
    if skip >= 0:
        done[skip] = True
    dist[src] = 0.0
    for _ in range(n):
        u = -1
        best = np.inf
        for v in range(n):
            if not done[v] and dist[v] < best:
                best = dist[v]
                u = v
        if u < 0:
            break
        done[u] = True
        for v in range(n):
            if not done[v]:
                nd = best + W[u, v]
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u


@numba.njit(cache=True, parallel=True)
def _apsp_dense(W):  # pragma: no cover - compiled
    """All-pairs shortest distances D and predecessor matrix P (row = source)."""
    n = W.shape[0]
    D = np.empty((n, n), dtype=np.float64)
    P = np.empty((n, n), dtype=np.int32)
    for s in numba.prange(n):
        _sssp_dense(W, s, -1, D[s], P[s])
    return D, P


@numba.njit(cache=True, parallel=True)
def _essential_edges(W):  # pragma: no cover - compiled
    """keep[u, v] unless two different nodes m give W_um + W_mv < W_uv.

    A dropped edge is never on a shortest path, even after any single node is removed: one
    of its two strictly shorter detours survives, and by induction on edge length so do
    the detours of the detour's edges. Distances with and without each node are unchanged.
    """
    n = W.shape[0]
    keep = np.zeros((n, n), dtype=np.bool_)
    for u in numba.prange(n):
        for v in range(u + 1, n):
            w = W[u, v]
            if not w < np.inf:
                continue
            witnesses = 0
            for m in range(n):
                if m != u and m != v and W[u, m] + W[m, v] < w:
                    witnesses += 1
                    if witnesses == 2:
                        break
            if witnesses < 2:
                keep[u, v] = True
    return keep


@numba.njit(cache=True)
def _value(d, mode, kappa):  # pragma: no cover - compiled
    """Pair value from a shortest distance: PC p* = exp(-k d) (mode 0), IIC 1/(1+nl) (mode 1)."""
    if not d < np.inf:
        return 0.0
    if mode == 0:
        return np.exp(-kappa * d)
    return 1.0 / (1.0 + d)


@numba.njit(cache=True, parallel=True)
def _connector_losses(W, indptr, indices, weights, D, P, a, sources, mode, kappa):  # pragma: no cover
    """C[r, k] = Σ_j a_i a_j (v(D_ij) − v(D_ij without k)) for source i = sources[r].

    Removing k only changes the distances to the descendants S of k in i's shortest-path
    tree. Each node of S restarts from its best neighbour outside S (distances there are
    unchanged) and a heap Dijkstra restricted to S finishes the job, on the graph of
    essential edges (CSR: indptr, indices, weights).
    """
    n = W.shape[0]
    out = np.zeros((sources.size, n), dtype=np.float64)
    for r in numba.prange(sources.size):
        i = sources[r]
        if a[i] == 0.0:
            continue  # every pair (i, j) has weight a_i a_j = 0
        pred = P[i]
        dist = D[i]
        # children lists of the shortest-path tree of i
        nchild = np.zeros(n + 1, dtype=np.int64)
        for v in range(n):
            if pred[v] >= 0:
                nchild[pred[v] + 1] += 1
        start = np.cumsum(nchild)
        fill = start[:-1].copy()
        child = np.empty(max(start[-1], 1), dtype=np.int64)
        for v in range(n):
            if pred[v] >= 0:
                child[fill[pred[v]]] = v
                fill[pred[v]] += 1
        in_s = np.zeros(n, dtype=np.bool_)
        new = np.full(n, np.inf)
        stack = np.empty(n, dtype=np.int64)
        members = np.empty(n, dtype=np.int64)
        for k in range(n):
            if k == i or start[k + 1] == start[k]:
                continue  # the source, or a leaf: no path passes through it
            # descendants of k
            size = 0
            top = 0
            for c in range(start[k], start[k + 1]):
                stack[top] = child[c]
                top += 1
            while top > 0:
                top -= 1
                v = stack[top]
                members[size] = v
                size += 1
                in_s[v] = True
                for c in range(start[v], start[v + 1]):
                    stack[top] = child[c]
                    top += 1
            # entry distances from outside S (k removed)
            heap = [(0.0, np.int64(0))]
            heap.pop()
            for t in range(size):
                v = members[t]
                best = np.inf
                for e in range(indptr[v], indptr[v + 1]):
                    u = indices[e]
                    if u != k and not in_s[u]:
                        cand = dist[u] + weights[e]
                        if cand < best:
                            best = cand
                new[v] = best
                if best < np.inf:
                    heapq.heappush(heap, (best, v))
            while len(heap) > 0:
                d, v = heapq.heappop(heap)
                if d > new[v]:
                    continue
                for e in range(indptr[v], indptr[v + 1]):
                    x = indices[e]
                    if in_s[x]:
                        cand = d + weights[e]
                        if cand < new[x]:
                            new[x] = cand
                            heapq.heappush(heap, (cand, x))
            loss = 0.0
            for t in range(size):
                v = members[t]
                diff = _value(dist[v], mode, kappa) - _value(new[v], mode, kappa)
                if diff > 0.0:  # distances can only grow; ignore rounding noise
                    loss += a[v] * diff
                in_s[v] = False
                new[v] = np.inf
            out[r, k] = a[i] * loss
    return out


# ----------------------------------------------------------------------------------------
# metric core (shared by PC, IIC and ProtConn)
# ----------------------------------------------------------------------------------------
_PC, _IIC = 0, 1


def _values(D: np.ndarray, mode: int, kappa: float) -> np.ndarray:
    if mode == _PC:
        return np.exp(-kappa * D)  # exp(-inf) = 0 for unreachable pairs
    with np.errstate(divide="ignore"):
        return 1.0 / (1.0 + D)  # 1/inf = 0 for unreachable pairs


@dataclass
class _Core:
    numerator: float
    values: np.ndarray  # p*_ij (PC) or 1/(1+nl_ij) (IIC)
    intra: np.ndarray | None = None  # absolute contributions (not yet in %)
    flux: np.ndarray | None = None
    connector: np.ndarray | None = None


def _metric_core(W, a, *, mode: int = _PC, kappa: float = 0.0, deltas: bool,
                 progress: bool = False, desc: str = "") -> _Core:
    """Numerator ΣΣ a_i a_j v(D_ij) and, with *deltas*, each node's intra/flux/connector loss."""
    W = np.ascontiguousarray(W, dtype=np.float64)
    a = np.ascontiguousarray(a, dtype=np.float64)
    n = a.size
    if n == 0:
        return _Core(0.0, np.zeros((0, 0)))
    D, P = _apsp_dense(W)
    D = np.minimum(D, D.T)  # the graph is undirected; remove summation-order asymmetry
    V = _values(D, mode, kappa)
    numerator = float(a @ V @ a)
    core = _Core(numerator, V)
    if not deltas:
        return core
    core.intra = a * a
    core.flux = 2.0 * a * (V @ a - a)  # row k of V without the diagonal term (V_kk = 1)
    keep = _essential_edges(W)
    keep |= keep.T
    csr = sparse.csr_matrix((W[keep], np.nonzero(keep)), shape=(n, n))  # zero lengths kept
    from tqdm.auto import tqdm

    connector = np.zeros(n)
    chunk = 256  # numba runs each chunk in parallel; tqdm ticks between chunks
    for lo in tqdm(range(0, n, chunk), desc=desc or "connector", disable=not progress):
        sources = np.arange(lo, min(lo + chunk, n), dtype=np.int64)
        C = _connector_losses(
            W, csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data,
            D, P, a, sources, mode, float(kappa),
        )
        connector += C.sum(axis=0)
    core.connector = connector
    return core


def _validate_graph(graph, attribute: str, weight: str, fname: str):
    """Nodes, attribute vector and dense weight matrix (inf = no edge) of a patch graph."""
    if not isinstance(graph, nx.Graph):
        raise ValidationError(
            f"{fname}: `graph` must be a networkx.Graph (build one with "
            f"tbpa.connectivity.patch_graph(patches)), got {type(graph).__name__}"
        )
    if graph.is_directed():
        raise ValidationError(f"{fname}: `graph` must be undirected; use graph.to_undirected()")
    nodes = list(graph.nodes)
    if not nodes:
        raise EmptySelectionError(f"{fname}: `graph` has no nodes; pass at least one patch")
    missing = [v for v in nodes if attribute not in graph.nodes[v]]
    if missing:
        raise ValidationError(
            f"{fname}: nodes {missing[:5]} have no attribute {attribute!r}; set it "
            f"(graph.nodes[v][{attribute!r}] = area_m2) or pass attribute=<existing name>"
        )
    a = np.array([graph.nodes[v][attribute] for v in nodes], dtype=np.float64)
    if not np.all(np.isfinite(a)) or (a < 0).any():
        bad = [nodes[i] for i in np.flatnonzero(~np.isfinite(a) | (a < 0))][:5]
        raise ValidationError(f"{fname}: attribute {attribute!r} must be finite and >= 0; bad nodes {bad}")
    pos = {v: i for i, v in enumerate(nodes)}
    W = np.full((len(nodes), len(nodes)), np.inf)
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue  # self-loops carry no information (p*_ii = 1 by definition)
        if weight not in data:
            raise ValidationError(f"{fname}: edge ({u!r}, {v!r}) has no {weight!r} attribute")
        d = float(data[weight])
        if not d >= 0:  # also catches NaN
            raise ValidationError(f"{fname}: edge ({u!r}, {v!r}) has {weight}={d!r}; distances must be >= 0")
        i, j = pos[u], pos[v]
        W[i, j] = W[j, i] = min(d, W[i, j])
    return nodes, a, W


def _check_positive(value, name: str, fname: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{fname}: `{name}` must be a number, got {value!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValidationError(f"{fname}: `{name}` must be a positive number, got {value!r}")
    return value


def _kappa(dispersal_m, p, fname: str) -> float:
    dispersal_m = _check_positive(dispersal_m, "dispersal_m", fname)
    if not 0 < p < 1:
        raise ValidationError(
            f"{fname}: `p` is the probability of direct dispersal at `dispersal_m` and must be "
            f"strictly between 0 and 1, got {p!r} (Saura & Pascual-Hortal 2007 use 0.5)"
        )
    return -math.log(p) / dispersal_m


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------
def _fmt_table(df: pd.DataFrame, cols: list[str], n: int = 5) -> str:
    top = df.sort_values(cols[0], ascending=False).head(n)
    return top[cols].to_string(float_format=lambda v: f"{v:.4g}")


@dataclass(repr=False)
class PCResult:
    """Probability of connectivity of a patch graph.

    Attributes
    ----------
    PC : float
        Probability of connectivity, ΣΣ a_i a_j p*_ij / A_L² (dimensionless, 0..1).
    EC : float
        Equivalent connectivity √(ΣΣ a_i a_j p*_ij), in the units of the attribute (m² for
        area): the area of a single patch that would give the same PC.
    numerator : float
        ΣΣ a_i a_j p*_ij (attribute units squared).
    patches : pandas.DataFrame
        One row per node (index = node id): ``a`` (attribute), ``dPC``, ``dPCintra``,
        ``dPCflux``, ``dPCconnector`` in % of PC (dPC = intra + flux + connector).
    pstar : numpy.ndarray
        n × n maximum-product probabilities p*_ij in node order (``patches.index``).
    dispersal_m, p, landscape_area : float
        The parameters used.
    """

    PC: float
    EC: float
    numerator: float
    patches: pd.DataFrame
    pstar: np.ndarray = field(repr=False)
    dispersal_m: float = float("nan")
    p: float = float("nan")
    landscape_area: float = float("nan")

    def __repr__(self) -> str:
        head = (
            f"PCResult(PC={self.PC:.6g}, EC={self.EC:.6g}, n_patches={len(self.patches)}, "
            f"dispersal_m={self.dispersal_m:g}, p={self.p:g}, landscape_area={self.landscape_area:.6g})"
        )
        if self.patches.empty:
            return head
        cols = ["dPC", "dPCintra", "dPCflux", "dPCconnector", "a"]
        return head + "\nmost important patches (dPC, %):\n" + _fmt_table(self.patches, cols)


@dataclass(repr=False)
class IICResult:
    """Integral index of connectivity of a patch graph.

    Attributes
    ----------
    IIC : float
        ΣΣ a_i a_j / (1 + nl_ij) / A_L² (dimensionless, 0..1).
    EC : float
        √(ΣΣ a_i a_j / (1 + nl_ij)), in attribute units.
    numerator : float
        ΣΣ a_i a_j / (1 + nl_ij).
    patches : pandas.DataFrame
        ``a``, ``dIIC``, ``dIICintra``, ``dIICflux``, ``dIICconnector`` (% of IIC).
    nl : numpy.ndarray
        n × n number of links on the shortest topological path (inf when unreachable).
    threshold_m, landscape_area : float
        The parameters used.
    """

    IIC: float
    EC: float
    numerator: float
    patches: pd.DataFrame
    nl: np.ndarray = field(repr=False)
    threshold_m: float = float("nan")
    landscape_area: float = float("nan")

    def __repr__(self) -> str:
        head = (
            f"IICResult(IIC={self.IIC:.6g}, EC={self.EC:.6g}, n_patches={len(self.patches)}, "
            f"threshold_m={self.threshold_m:g}, landscape_area={self.landscape_area:.6g})"
        )
        if self.patches.empty:
            return head
        cols = ["dIIC", "dIICintra", "dIICflux", "dIICconnector", "a"]
        return head + "\nmost important patches (dIIC, %):\n" + _fmt_table(self.patches, cols)


def _delta_frame(nodes, a, core: _Core, prefix: str) -> pd.DataFrame:
    num = core.numerator
    scale = 100.0 / num if num > 0 else np.nan
    intra, flux, conn = core.intra * scale, core.flux * scale, core.connector * scale
    df = pd.DataFrame(
        {
            "a": a,
            prefix: intra + flux + conn,
            f"{prefix}intra": intra,
            f"{prefix}flux": flux,
            f"{prefix}connector": conn,
        },
        index=pd.Index(nodes, name="node"),
    )
    return df


# ----------------------------------------------------------------------------------------
# public: indices
# ----------------------------------------------------------------------------------------
def probability_of_connectivity(
    graph: nx.Graph,
    *,
    dispersal_m: float,
    p: float = 0.5,
    landscape_area: float,
    attribute: str = "area",
    weight: str = "distance",
    progress: bool | None = None,
) -> PCResult:
    """Probability of connectivity (PC), equivalent connectivity (EC) and dPC per patch.

    Parameters
    ----------
    graph : networkx.Graph
        Patch graph, e.g. from :func:`patch_graph`. Missing edges mean no direct dispersal
        (p_ij = 0); paths through other patches are still found.
    dispersal_m : float
        Distance (m, or cost units for least-cost graphs) at which the direct dispersal
        probability equals `p`.
    p : float, default 0.5
        Direct dispersal probability at `dispersal_m`; p_ij = exp(-k d_ij) with
        k = -ln(p) / dispersal_m.
    landscape_area : float
        Maximum landscape attribute A_L (m² when the attribute is area): typically the
        area of the study region.
    attribute : str, default "area"
        Node attribute a_i (habitat area in m² or another quantity).
    weight : str, default "distance"
        Edge attribute holding d_ij.
    progress : bool, optional
        Progress bar over the connector recomputations (default: tbpa option).

    Returns
    -------
    PCResult
        PC, EC, numerator, per-patch ``patches`` table (a, dPC, dPCintra, dPCflux,
        dPCconnector in % of PC) and the p* matrix.

    Notes
    -----
    PC = ΣΣ a_i a_j p*_ij / A_L² with p*_ii = 1 and p*_ij the maximum product of p over all
    paths; EC = √(ΣΣ a_i a_j p*_ij). dPC_k = 100 (PC − PC_{−k}) / PC = dPCintra + dPCflux +
    dPCconnector (Saura & Rubio 2010): intra = 100 a_k²/N, flux = 100·2 Σ_{j≠k} a_k a_j
    p*_kj / N, connector = the rest (N = ΣΣ a_i a_j p*_ij). See docs/methods.md.

    References
    ----------
    Saura, S. & Pascual-Hortal, L. (2007). A new habitat availability index to integrate
    connectivity in landscape conservation planning. Landscape and Urban Planning 83: 91-103.
    Saura, S. & Rubio, L. (2010). A common currency for the different ways in which patches
    and links can contribute to habitat availability and connectivity in the landscape.
    Ecography 33: 523-537.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph()
    >>> g.add_nodes_from([(1, {"area": 1.0}), (2, {"area": 2.0}), (3, {"area": 3.0})])
    >>> g.add_weighted_edges_from([(1, 2, 1000), (2, 3, 1000), (1, 3, 3000)], weight="distance")
    >>> r = probability_of_connectivity(g, dispersal_m=1000, p=0.5, landscape_area=100.0)
    >>> round(r.PC * 1e4, 6), round(float(r.patches.loc[2, "dPCconnector"]), 4)
    (23.5, 3.1915)
    """
    fname = "probability_of_connectivity"
    kappa = _kappa(dispersal_m, p, fname)
    landscape_area = _check_positive(landscape_area, "landscape_area", fname)
    nodes, a, W = _validate_graph(graph, attribute, weight, fname)
    core = _metric_core(
        W, a, mode=_PC, kappa=kappa, deltas=True, progress=resolve_progress(progress), desc="dPC connector"
    )
    num = core.numerator
    return PCResult(
        PC=num / landscape_area**2,
        EC=math.sqrt(num),
        numerator=num,
        patches=_delta_frame(nodes, a, core, "dPC"),
        pstar=core.values,
        dispersal_m=float(dispersal_m),
        p=float(p),
        landscape_area=landscape_area,
    )


def integral_index_of_connectivity(
    graph: nx.Graph,
    *,
    threshold_m: float,
    landscape_area: float,
    attribute: str = "area",
    weight: str = "distance",
    progress: bool | None = None,
) -> IICResult:
    """Integral index of connectivity (IIC) and dIIC per patch (Pascual-Hortal & Saura 2006).

    Parameters
    ----------
    graph : networkx.Graph
        Patch graph, e.g. from :func:`patch_graph`.
    threshold_m : float
        Two patches are linked when d_ij <= `threshold_m` (m, or cost units).
    landscape_area : float
        Maximum landscape attribute A_L (m² for areas).
    attribute : str, default "area"
        Node attribute a_i.
    weight : str, default "distance"
        Edge attribute holding d_ij.
    progress : bool, optional
        Progress bar over the connector recomputations.

    Returns
    -------
    IICResult
        IIC = ΣΣ a_i a_j / (1 + nl_ij) / A_L², EC, numerator, per-patch dIIC split into
        dIICintra, dIICflux and dIICconnector (% of IIC), and the nl matrix.

    Notes
    -----
    nl_ij is the number of links on the topologically shortest path (nl_ii = 0); pairs
    in different components contribute 0.

    References
    ----------
    Pascual-Hortal, L. & Saura, S. (2006). Comparison and development of new graph-based
    landscape connectivity indices. Landscape Ecology 21: 959-967.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph()
    >>> g.add_nodes_from([(1, {"area": 1.0}), (2, {"area": 2.0}), (3, {"area": 3.0})])
    >>> g.add_weighted_edges_from([(1, 2, 1000), (2, 3, 1000), (1, 3, 3000)], weight="distance")
    >>> r = integral_index_of_connectivity(g, threshold_m=1500, landscape_area=100.0)
    >>> round(r.IIC * 1e4, 6)
    24.0
    """
    fname = "integral_index_of_connectivity"
    threshold_m = _check_positive(threshold_m, "threshold_m", fname)
    landscape_area = _check_positive(landscape_area, "landscape_area", fname)
    nodes, a, W = _validate_graph(graph, attribute, weight, fname)
    links = np.where(W <= threshold_m, 1.0, np.inf)
    core = _metric_core(
        links, a, mode=_IIC, deltas=True, progress=resolve_progress(progress), desc="dIIC connector"
    )
    num = core.numerator
    with np.errstate(divide="ignore"):
        nl = 1.0 / core.values - 1.0
    return IICResult(
        IIC=num / landscape_area**2,
        EC=math.sqrt(num),
        numerator=num,
        patches=_delta_frame(nodes, a, core, "dIIC"),
        nl=nl,
        threshold_m=threshold_m,
        landscape_area=landscape_area,
    )


# ----------------------------------------------------------------------------------------
# public: building the graph
# ----------------------------------------------------------------------------------------
def _node_ids(patches) -> list:
    for col in _ID_COLUMNS:
        if col in patches.columns:
            ids = list(patches[col])
            break
    else:
        ids = list(patches.index)
    if len(set(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()[:5].tolist()
        raise ValidationError(f"patch_graph: patch ids must be unique; duplicated: {dup}")
    return ids


def _edge_distance_matrix(geoms: np.ndarray, max_distance: float | None = None) -> np.ndarray:
    """Edge-to-edge distances (m); pairs farther apart than *max_distance* are inf."""
    n = len(geoms)
    W = np.full((n, n), np.inf)
    np.fill_diagonal(W, 0.0)
    if n < 2:
        return W
    if max_distance is None:
        i, j = np.triu_indices(n, k=1)
    else:
        # STRtree finds the candidate pairs without testing all n² of them
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="dwithin", distance=max_distance)
        keep = i < j
        i, j = i[keep], j[keep]
    d = shapely.distance(geoms[i], geoms[j])
    W[i, j] = W[j, i] = d
    return W


def _centroid_distance_matrix(geoms: np.ndarray, max_distance: float | None = None) -> np.ndarray:
    xy = shapely.get_coordinates(shapely.centroid(geoms))
    W = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    if max_distance is not None:
        W[W > max_distance] = np.inf
    return W


def _least_cost_matrix(patches, resistance, max_distance, progress: bool) -> np.ndarray:
    """Accumulated cost between patches: min over j's cells of the cost distance from i."""
    from scipy import ndimage
    from tqdm.auto import tqdm

    from .._geom import features_to_cells
    from .leastcost import prepare

    # Validate and copy the raster once, not once per patch.
    surface = prepare(resistance, name="resistance")
    cells = features_to_cells(patches.geometry.reset_index(drop=True), surface.grid, "patches")
    n = len(patches)
    labels = cells.labels.ravel()
    present = np.bincount(labels, minlength=n + 1)[1:]
    if (present == 0).any():
        bad = list(patches.index[np.flatnonzero(present == 0)][:5])
        raise ValidationError(
            f"patch_graph: patches {bad} cover no cell of `resistance` of their own (they are "
            "covered by later, overlapping patches); dissolve overlapping patches first"
        )
    W = np.full((n, n), np.inf)
    for i in tqdm(range(n), desc="least-cost distances", disable=not progress):
        # Patch i alone as the source (all its cells, also those a later patch overlaps).
        own, _ = surface.cells(patches.iloc[[i]], "patches")
        # Pairs beyond max_distance become inf below anyway: stop the search there.
        cwd = surface.run(np.flatnonzero(own.ravel()), max_cost=max_distance)[0]
        W[i] = ndimage.minimum(cwd, labels=labels, index=np.arange(1, n + 1))
    W = np.minimum(W, W.T)  # cost distance is symmetric; guard against rounding
    np.fill_diagonal(W, 0.0)
    if max_distance is not None:
        W[W > max_distance] = np.inf
    return W


def patch_graph(
    patches,
    *,
    distance: str = "edge",
    resistance=None,
    attribute: str = "area",
    max_distance_m: float | None = None,
    progress: bool | None = None,
) -> nx.Graph:
    """Build the patch graph of habitat patches or protected areas.

    Parameters
    ----------
    patches : geopandas.GeoDataFrame
        Polygons in a projected metre CRS. Node ids come from the ``patch_id`` or ``site_id``
        column when present, else from the index (must be unique).
    distance : {"edge", "centroid", "least_cost"}, default "edge"
        Edge-to-edge Euclidean distance (m), centroid-to-centroid distance (m), or the
        accumulated cost of the least-cost path between the patches (resistance × m, from
        ``tbpa.connectivity.cost_distance``; each patch is a polygon source of cost 0).
    resistance : xarray.DataArray, optional
        Resistance raster (per metre) in the patches' CRS; required for ``"least_cost"``.
    attribute : str, default "area"
        Node attribute: ``"area"`` = polygon area in m², else the name of a numeric column
        (>= 0) copied to the node under that name.
    max_distance_m : float, optional
        Keep only edges with distance <= this (m or cost units); default: complete graph.
        Pruned pairs get no direct link (p_ij = 0), an approximation that is negligible when
        exp(-k · max_distance_m) is tiny.
    progress : bool, optional
        Progress bar for least-cost distances.

    Returns
    -------
    networkx.Graph
        Nodes carry the attribute, ``iso3`` when that column exists and the representative
        point ``x``, ``y`` (m); edges carry ``distance`` (m, or cost units for least-cost).
        ``graph.graph`` records ``crs``, ``distance`` and ``attribute``.

    Raises
    ------
    CRSError
        `patches` has no CRS or a geographic one.
    EmptySelectionError
        `patches` is empty.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> sq = [shapely.box(0, 0, 1000, 1000), shapely.box(3000, 0, 4000, 1000)]
    >>> gdf = gpd.GeoDataFrame({"patch_id": ["a", "b"]}, geometry=sq, crs="EPSG:3857")
    >>> g = patch_graph(gdf)
    >>> g.nodes["a"]["area"], g.edges["a", "b"]["distance"]
    (1000000.0, 2000.0)
    """
    fname = "patch_graph"
    if distance not in _DISTANCES:
        raise ValidationError(f"{fname}: `distance` must be one of {_DISTANCES}, got {distance!r}")
    if not hasattr(patches, "geometry") or not hasattr(patches, "crs"):
        raise ValidationError(f"{fname}: `patches` must be a GeoDataFrame, got {type(patches).__name__}")
    if len(patches) == 0:
        raise EmptySelectionError(f"{fname}: `patches` is empty; pass at least one polygon")
    crs = require_projected_crs(patches.crs, "patches")
    geoms = np.asarray(patches.geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise ValidationError(f"{fname}: `patches` has empty or missing geometries at {list(patches.index[bad][:5])}")
    if max_distance_m is not None:
        max_distance_m = _check_positive(max_distance_m, "max_distance_m", fname)
    ids = _node_ids(patches)
    if attribute == "area":
        values = shapely.area(geoms)
    else:
        if attribute not in patches.columns:
            from ..errors import close_matches

            raise ValidationError(
                f"{fname}: no column {attribute!r} in `patches` (did you mean "
                f"{close_matches(attribute, patches.columns)}?); use attribute='area' for areas in m²"
            )
        values = pd.to_numeric(patches[attribute], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or (values < 0).any():
            raise ValidationError(f"{fname}: column {attribute!r} must be numeric, finite and >= 0")

    if distance == "edge":
        W = _edge_distance_matrix(geoms, max_distance_m)
    elif distance == "centroid":
        W = _centroid_distance_matrix(geoms, max_distance_m)
    else:
        if resistance is None:
            raise ValidationError(
                f"{fname}: distance='least_cost' needs `resistance` (a resistance DataArray in "
                "the patches' CRS); or use distance='edge'"
            )
        W = _least_cost_matrix(patches, resistance, max_distance_m, resolve_progress(progress))

    graph = nx.Graph(crs=crs.to_wkt(), distance=distance, attribute=attribute)
    pts = shapely.get_coordinates(shapely.point_on_surface(geoms))
    iso3 = patches["iso3"].tolist() if "iso3" in patches.columns else None
    for k, node in enumerate(ids):
        attrs = {attribute: float(values[k]), "x": float(pts[k, 0]), "y": float(pts[k, 1])}
        if iso3 is not None:
            attrs["iso3"] = iso3[k]
        graph.add_node(node, **attrs)
    i, j = np.nonzero(np.triu(np.isfinite(W), k=1))
    graph.add_edges_from((ids[u], ids[v], {"distance": float(W[u, v])}) for u, v in zip(i, j))
    if distance == "least_cost" and graph.number_of_nodes() > 1 and not np.isfinite(W).all():
        from ..errors import UnreachableWarning

        if max_distance_m is None:
            warnings.warn(
                "patch_graph: some patch pairs are separated by impassable (NaN) resistance; "
                "they get no edge", UnreachableWarning, stacklevel=2,
            )
    return graph
