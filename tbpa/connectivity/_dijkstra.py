"""Compiled multi-source Dijkstra on the implicit 4/8-neighbour grid graph.

The graph is never materialised: neighbours of flat cell ``i`` are found from its row and
column. A step between neighbouring passable cells ``u`` and ``v`` costs
``0.5 * (r[u] + r[v]) * d`` where ``d`` is the centre-to-centre distance (cell size, or
sqrt(2) * cell size on diagonals); NaN cells are impassable. The priority queue is an
indexed binary heap with decrease-key, so it never holds a cell twice and its arrays grow
only with the search front.

Memory per cell: ``dist`` float64 (8 B) + heap position int32 (4 B), plus 4 B for the
optional allocation and 1 B for the optional back-link. The heap itself holds the front
only (about the perimeter of the searched region).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["dijkstra_grid", "trace_backlinks", "DR", "DC"]

# Neighbour offsets: the 4 rook moves first, then the 4 diagonals (so "four" uses k < 4).
DR = np.array([-1, 0, 0, 1, -1, -1, 1, 1], dtype=np.int64)
DC = np.array([0, -1, 1, 0, -1, 1, -1, 1], dtype=np.int64)


@njit(cache=True, inline="always")
def _sift_up(hkey, hnode, pos, j):
    key = hkey[j]
    node = hnode[j]
    while j > 0:
        parent = (j - 1) >> 1
        if hkey[parent] <= key:
            break
        hkey[j] = hkey[parent]
        hnode[j] = hnode[parent]
        pos[hnode[j]] = j + 1
        j = parent
    hkey[j] = key
    hnode[j] = node
    pos[node] = j + 1


@njit(cache=True, inline="always")
def _sift_down(hkey, hnode, pos, j, size):
    key = hkey[j]
    node = hnode[j]
    while True:
        child = 2 * j + 1
        if child >= size:
            break
        if child + 1 < size and hkey[child + 1] < hkey[child]:
            child += 1
        if hkey[child] >= key:
            break
        hkey[j] = hkey[child]
        hnode[j] = hnode[child]
        pos[hnode[j]] = j + 1
        j = child
    hkey[j] = key
    hnode[j] = node
    pos[node] = j + 1


@njit(cache=True)
def dijkstra_grid(res, ncols, cell, n_nb, src, src_label, want_alloc, want_back,
                  stop_mask, n_stop, max_cost):
    """Cost distance from many sources on a flat resistance array.

    Parameters
    ----------
    res : float64[N]
        Resistance, row-major; NaN = impassable. Must be > 0 where finite.
    ncols : int
        Columns of the grid (rows = N // ncols).
    cell : float
        Cell size in metres.
    n_nb : int
        4 or 8 neighbours.
    src : int64[S]
        Flat indices of source cells (cost 0). Must be passable.
    src_label : int32[S]
        Allocation label of each source cell (used when *want_alloc*).
    want_alloc, want_back : bool
        Also return the allocation (label of the nearest source) / the back-link
        (neighbour index k of the predecessor, -1 at sources and unreached cells).
    stop_mask : uint8[N] or uint8[1]
        When of length N, stop once *n_stop* cells with a non-zero mask are settled.
    n_stop : int
        See *stop_mask*.
    max_cost : float
        Stop once the cheapest unsettled cell costs more than this (inf = no limit).
        Cells beyond it are left at inf.

    Returns
    -------
    dist : float64[N]
        inf where unreachable (or beyond *max_cost*, or unsettled after an early stop).
    alloc : int32[N] or int32[1]
    back : int8[N] or int8[1]
    """
    n = res.shape[0]
    nrows = n // ncols
    dist = np.full(n, np.inf)
    pos = np.zeros(n, dtype=np.int32)  # 0 = unseen, >0 = heap slot + 1, -1 = settled
    alloc = np.zeros(n if want_alloc else 1, dtype=np.int32)
    back = np.full(n if want_back else 1, -1, dtype=np.int8)
    use_stop = stop_mask.shape[0] == n
    step = np.empty(8)
    for k in range(8):
        step[k] = cell * (math.sqrt(2.0) if k >= 4 else 1.0)

    cap = 1024
    while cap < 4 * src.shape[0]:
        cap *= 2
    hkey = np.empty(cap)
    hnode = np.empty(cap, dtype=np.int64)
    size = 0
    for s in range(src.shape[0]):
        i = src[s]
        if want_alloc:
            alloc[i] = src_label[s]
        if pos[i] != 0:  # duplicate source cell: keep the later label, one heap entry
            continue
        dist[i] = 0.0
        hkey[size] = 0.0
        hnode[size] = i
        pos[i] = size + 1
        size += 1

    settled_targets = 0
    while size > 0:
        u = hnode[0]
        du = hkey[0]
        if du > max_cost:
            break
        size -= 1
        pos[u] = -1
        if size > 0:
            hkey[0] = hkey[size]
            hnode[0] = hnode[size]
            pos[hnode[0]] = 1
            _sift_down(hkey, hnode, pos, 0, size)
        if use_stop and stop_mask[u] != 0:
            settled_targets += 1
            if settled_targets >= n_stop:
                break
        ru = res[u]
        r = u // ncols
        c = u - r * ncols
        for k in range(n_nb):
            rr = r + DR[k]
            cc = c + DC[k]
            if rr < 0 or rr >= nrows or cc < 0 or cc >= ncols:
                continue
            v = rr * ncols + cc
            pv = pos[v]
            if pv == -1:
                continue
            rv = res[v]
            if rv != rv:  # NaN: impassable
                continue
            nd = du + 0.5 * (ru + rv) * step[k]
            if nd < dist[v]:
                dist[v] = nd
                if want_alloc:
                    alloc[v] = alloc[u]
                if want_back:
                    back[v] = k
                if pv == 0:
                    if size == cap:
                        cap *= 2
                        nk = np.empty(cap)
                        nn = np.empty(cap, dtype=np.int64)
                        nk[:size] = hkey[:size]
                        nn[:size] = hnode[:size]
                        hkey = nk
                        hnode = nn
                    hkey[size] = nd
                    hnode[size] = v
                    size += 1
                    _sift_up(hkey, hnode, pos, size - 1)
                else:
                    hkey[pv - 1] = nd
                    _sift_up(hkey, hnode, pos, pv - 1)

    # Cells still in the heap hold tentative costs: reset them (early stop or max_cost).
    for j in range(size):
        v = hnode[j]
        dist[v] = np.inf
        if want_alloc:
            alloc[v] = 0
        if want_back:
            back[v] = -1
    return dist, alloc, back


@njit(cache=True)
def trace_backlinks(back, ncols, start):
    """Flat cell indices from *start* back to a source, following back-links.

    ``back[v] = k`` means v was reached from ``v - (DR[k], DC[k])``; -1 ends the path.
    Returned in source -> start order.
    """
    out = np.empty(64, dtype=np.int64)
    m = 0
    v = start
    while True:
        if m == out.shape[0]:
            tmp = np.empty(2 * m, dtype=np.int64)
            tmp[:m] = out
            out = tmp
        out[m] = v
        m += 1
        k = back[v]
        if k < 0:
            break
        r = v // ncols - DR[k]
        c = v - (v // ncols) * ncols - DC[k]
        v = r * ncols + c
    return out[:m][::-1].copy()
