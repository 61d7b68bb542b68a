"""Fast solver for the many small, same-shaped circuits of a moving-window analysis.

Every Omniscape window is a (2D+1) x (2D+1) block of cells centred on a grounded target
(D = radius + buffer). Windows cut by the raster edge are embedded in the full block with
the missing cells *inactive*, so every window of a run shares one :class:`Stencil`: one
candidate-node set, one edge list and one fill-reducing ordering (geometric nested
dissection, computed once). Inactive cells (nodata, outside the raster, or in a connected
component without the ground) get an identity row and no edges: the matrix stays SPD and
has the same pattern for every window, and their voltage is 0 exactly as if they had been
removed. Each window is then one SuperLU factorisation of the grounded Laplacian in the
precomputed order (no pivoting needed for an SPD matrix) and one solve.

Graph and currents follow Circuitscape (Julia) exactly:

* edge conductance = (g_a + g_b) / 2, divided by sqrt(2) on diagonals (average conductance);
* the grounded node has voltage 0 ("direct" ground); components without the ground carry
  no current;
* the current of a node is ``max(inflow, outflow)`` over its branches, where branch currents
  below 1e-8 of the largest (per orientation) are dropped, as in Circuitscape's
  ``get_node_currents``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

__all__ = ["Stencil", "stencil", "solve_window", "factorize", "node_currents"]

_SQRT2_INV = 1.0 / np.sqrt(2.0)


@dataclass(frozen=True)
class Stencil:
    """Geometry shared by all windows of one run.

    Attributes
    ----------
    size : int
        Window side (2D+1); cells are indexed flat, row-major, ``r * size + c``.
    centre : int
        Flat index of the grounded target cell.
    pos : ndarray of int64
        Flat cell -> row of the grounded matrix (-1: not a candidate node or the ground).
    order_cells : ndarray of int64
        Flat cell of each matrix row (inverse of ``pos``).
    ea, eb : ndarray of int64
        Flat cells of each edge (both candidates; may include the ground).
    factor : ndarray of float64
        1 for rook edges, 1/sqrt(2) for diagonal edges.
    orient : ndarray of float64
        +1 when ``ea`` precedes ``eb`` in column-major (Circuitscape node) order, else -1.
    indptr, indices : ndarray
        Fixed CSC pattern of the grounded matrix.
    off_ab, off_ba, diag : ndarray of int64
        Positions in the CSC data array of (a, b), (b, a) for edges between two matrix rows,
        and of each diagonal entry.
    """

    size: int
    centre: int
    pos: np.ndarray
    order_cells: np.ndarray
    ea: np.ndarray
    eb: np.ndarray
    factor: np.ndarray
    orient: np.ndarray
    inner: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    off_ab: np.ndarray
    off_ba: np.ndarray
    diag: np.ndarray


def _nested_dissection(mask: np.ndarray) -> np.ndarray:
    """Flat indices of the True cells of *mask* in geometric nested-dissection order.

    A full grid row (or column) separates an 8-neighbour grid, so recursive bisection by the
    middle row/column of the longer side gives the classic O(n log n) fill ordering.
    """
    ncol = mask.shape[1]
    out: list[np.ndarray] = []
    stack = [(0, mask.shape[0], 0, ncol, False)]
    # explicit stack: (r0, r1, c0, c1, emit_separator_only)
    seps: list = []
    while stack:
        r0, r1, c0, c1, is_sep = stack.pop()
        if is_sep:
            out.append(seps.pop())
            continue
        sub = mask[r0:r1, c0:c1]
        n = int(sub.sum())
        if n == 0:
            continue
        h, w = r1 - r0, c1 - c0
        if n <= 48 or min(h, w) <= 2:
            rr, cc = np.nonzero(sub)
            out.append((r0 + rr) * ncol + (c0 + cc))
            continue
        if h >= w:
            m = r0 + h // 2
            cc = np.nonzero(mask[m, c0:c1])[0]
            seps.append(m * ncol + c0 + cc)
            stack.append((0, 0, 0, 0, True))
            stack.append((m + 1, r1, c0, c1, False))
            stack.append((r0, m, c0, c1, False))
        else:
            m = c0 + w // 2
            rr = np.nonzero(mask[r0:r1, m])[0]
            seps.append((r0 + rr) * ncol + m)
            stack.append((0, 0, 0, 0, True))
            stack.append((r0, r1, m + 1, c1, False))
            stack.append((r0, r1, c0, m, False))
    return np.concatenate(out).astype(np.int64)


@lru_cache(maxsize=8)
def stencil(half: int, circle: bool, four: bool) -> Stencil:
    """Build (and cache) the stencil of a window of half-width *half*.

    Parameters
    ----------
    half : int
        D: the window spans ``2 * half + 1`` cells each way, the ground at its centre.
    circle : bool
        Candidate nodes are the cells within Euclidean distance ``half`` of the centre
        (Omniscape's clip); otherwise the whole square.
    four : bool
        Rook neighbours only (Circuitscape ``connect_four_neighbors_only``).
    """
    size = 2 * half + 1
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    cand = (yy * yy + xx * xx <= half * half) if circle else np.ones((size, size), bool)
    centre = half * size + half
    flat = np.arange(size * size).reshape(size, size)

    offsets = [(0, 1, 1.0), (1, 0, 1.0)]
    if not four:
        offsets += [(1, 1, _SQRT2_INV), (1, -1, _SQRT2_INV)]
    ea, eb, fac = [], [], []
    for dr, dc, f in offsets:
        r_lo, r_hi = 0, size - dr
        c_lo, c_hi = max(0, -dc), size - max(0, dc)
        a = flat[r_lo:r_hi, c_lo:c_hi]
        b = flat[r_lo + dr : r_hi + dr, c_lo + dc : c_hi + dc]
        keep = cand.ravel()[a] & cand.ravel()[b]
        ea.append(a[keep])
        eb.append(b[keep])
        fac.append(np.full(int(keep.sum()), f))
    ea = np.concatenate(ea).astype(np.int64)
    eb = np.concatenate(eb).astype(np.int64)
    factor = np.concatenate(fac)
    # Circuitscape numbers nodes column-major (Julia); branch-current thresholds depend on it.
    cm_a = (ea % size) * size + ea // size
    cm_b = (eb % size) * size + eb // size
    orient = np.where(cm_a < cm_b, 1.0, -1.0)

    node_mask = cand.copy()
    node_mask.flat[centre] = False
    order_cells = _nested_dissection(node_mask)
    n = order_cells.size
    pos = np.full(size * size, -1, dtype=np.int64)
    pos[order_cells] = np.arange(n)

    pa, pb = pos[ea], pos[eb]
    inner = (pa >= 0) & (pb >= 0)
    # Fixed pattern: diagonal + both triangles of the inner edges.
    rows = np.concatenate([np.arange(n), pa[inner], pb[inner]])
    cols = np.concatenate([np.arange(n), pb[inner], pa[inner]])
    tag = np.arange(rows.size, dtype=np.float64) + 1.0
    m = sp.csc_matrix((tag, (rows, cols)), shape=(n, n))
    m.sort_indices()
    where = np.empty(rows.size, dtype=np.int64)
    where[(m.data - 1).astype(np.int64)] = np.arange(m.data.size)
    ni = int(inner.sum())
    return Stencil(
        size=size, centre=centre, pos=pos, order_cells=order_cells, ea=ea, eb=eb,
        factor=factor, orient=orient, inner=inner, indptr=m.indptr.astype(np.int32),
        indices=m.indices.astype(np.int32), off_ab=where[n : n + ni],
        off_ba=where[n + ni :], diag=where[:n],
    )


def _ground_component(st: Stencil, w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Cells connected to the ground through edges of positive conductance."""
    live = w > 0
    n = st.size * st.size
    g = sp.coo_matrix((np.ones(int(live.sum())), (st.ea[live], st.eb[live])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    return valid & (labels == labels[st.centre])


def factorize(st: Stencil, g: np.ndarray):
    """Factorise the grounded Laplacian of one window.

    Parameters
    ----------
    st : Stencil
    g : ndarray, shape (size*size,)
        Cell conductances; NaN or <= 0 marks an inactive cell.

    Returns
    -------
    (lu, w, active) or None
        SuperLU factor, edge conductances and active-cell mask; None when the ground cell
        is inactive (then the window carries no current, as in Circuitscape).
    """
    valid = np.isfinite(g) & (g > 0)
    if not valid[st.centre]:
        return None
    gz = np.where(valid, g, 0.0)
    w = st.factor * 0.5 * (gz[st.ea] + gz[st.eb])
    w[~(valid[st.ea] & valid[st.eb])] = 0.0
    if valid[st.order_cells].all():
        active = valid  # a full disc or square of cells is connected: skip the search
    else:
        active = _ground_component(st, w, valid)
        w[~(active[st.ea] & active[st.eb])] = 0.0

    nrow = st.order_cells.size
    data = np.zeros(st.indices.size)
    deg = np.bincount(st.ea, w, minlength=st.size**2) + np.bincount(st.eb, w, minlength=st.size**2)
    dvals = deg[st.order_cells]
    dvals[~active[st.order_cells]] = 1.0  # decoupled identity row: voltage 0
    data[st.diag] = dvals
    wi = w[st.inner]
    data[st.off_ab] = -wi
    data[st.off_ba] = -wi
    a = sp.csc_matrix((data, st.indices, st.indptr), shape=(nrow, nrow))
    lu = spla.splu(a, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                   options={"SymmetricMode": True})
    return lu, w, active


def node_currents(st: Stencil, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Circuitscape node currents (max of in- and outflow) of one solved window."""
    n = st.size * st.size
    f = st.orient * w * (v[st.ea] - v[st.eb])  # flow from lower to higher node number
    # Which endpoint is the lower-numbered one (Circuitscape's orientation)?
    lo = np.where(st.orient > 0, st.ea, st.eb)
    hi = np.where(st.orient > 0, st.eb, st.ea)
    with np.errstate(divide="ignore", invalid="ignore"):
        fp = np.where(np.abs(f / f.max()) < 1e-8, 0.0, f) if f.size else f
        fn = np.where(np.abs(-f / (-f).max()) < 1e-8, 0.0, -f) if f.size else f
    # positive orientation: inflow (lo -> hi adds to hi, negative adds to lo)
    inflow = np.bincount(hi, np.where(fp > 0, fp, 0.0), minlength=n)
    inflow += np.bincount(lo, np.where(fp < 0, -fp, 0.0), minlength=n)
    # negative orientation: outflow (fn > 0: hi -> lo leaves hi)
    outflow = np.bincount(hi, np.where(fn > 0, fn, 0.0), minlength=n)
    outflow += np.bincount(lo, np.where(fn < 0, -fn, 0.0), minlength=n)
    return np.maximum(inflow, outflow)


def solve_window(st: Stencil, g: np.ndarray, source: np.ndarray, factor=None) -> np.ndarray:
    """Current map (flat, size*size) of one window with the centre grounded.

    Parameters
    ----------
    st : Stencil
    g : ndarray
        Flat cell conductances (NaN/<=0 inactive). Ignored when *factor* is given.
    source : ndarray
        Flat current injected at each cell (ignored on inactive cells and the ground).
    factor : tuple, optional
        A result of :func:`factorize` to reuse (same conductances).
    """
    fac = factorize(st, g) if factor is None else factor
    out = np.zeros(st.size * st.size)
    if fac is None:
        return out
    lu, w, active = fac
    b = np.where(active, source, 0.0)[st.order_cells]
    if not np.any(b):
        return out
    x = lu.solve(b)
    v = np.zeros(st.size * st.size)
    v[st.order_cells] = x
    return node_currents(st, w, v)
