"""pinchpoints: NaN outside the corridor, closed-form R_eff on a 1-D corridor, networkx on 2-D."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

import tbpa
from tbpa.errors import ValidationError


def _cell_centre(r, c, cell=100.0, rows=5):
    return (c * cell + cell / 2, (rows - r) * cell - cell / 2)


def test_one_dimensional_corridor_closed_form(make_raster):
    rows, cols = 5, 12
    res = np.full((rows, cols), 500.0)
    along = np.array([1, 2, 1, 3, 1, 4, 2, 1, 1, 5, 1, 2], float)
    res[2] = along
    da = make_raster(res)
    a, b = _cell_centre(2, 0), _cell_centre(2, cols - 1)
    pp = tbpa.connectivity.pinchpoints(da, a, b, cwd_cutoff=100.0, connect="four")
    # the corridor is the cheap row only (any detour costs > 2 * 500 * 100 / 2 extra)
    inside = np.isfinite(pp.values)
    assert inside[2].all() and inside.sum() == cols
    # series circuit: branch conductance = mean of cell conductances (Circuitscape)
    g = 1 / along
    r_closed = np.sum(2.0 / (g[:-1] + g[1:]))
    assert pp.attrs["effective_resistance"] == pytest.approx(r_closed, rel=1e-9)
    # 1 A flows through every cell of a series corridor
    np.testing.assert_allclose(pp.values[2], 1.0, rtol=1e-9)
    lcd = np.sum(0.5 * (along[:-1] + along[1:]) * 100.0)
    assert pp.attrs["lcd"] == pytest.approx(lcd)
    assert pp.attrs["cwd_to_reff"] == pytest.approx(lcd / r_closed)


def _cwd(res, cell, src):
    """Independent cost distance: scipy dijkstra, step cost mean(r) x length, 8 neighbours."""
    rows, cols = res.shape
    idx = np.arange(res.size).reshape(res.shape)
    I, J, W = [], [], []
    for dr, dc in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        for r in range(rows):
            for c in range(cols):
                r2, c2 = r + dr, c + dc
                inside = 0 <= r2 < rows and 0 <= c2 < cols
                if inside and np.isfinite(res[r, c]) and np.isfinite(res[r2, c2]):
                    w = 0.5 * (res[r, c] + res[r2, c2]) * cell * (math.sqrt(2) if dr and dc else 1)
                    I += [idx[r, c], idx[r2, c2]]
                    J += [idx[r2, c2], idx[r, c]]
                    W += [w, w]
    G = coo_matrix((W, (I, J)), shape=(res.size, res.size)).tocsr()
    return dijkstra(G, indices=src, min_only=True).reshape(res.shape)


def test_two_dimensional_corridor_matches_networkx(make_raster, rng):
    rows, cols, cell = 14, 16, 100.0
    res = rng.uniform(1, 10, (rows, cols))
    res[3:11, 7] = np.nan  # a wall with a gap creates a pinch point
    da = make_raster(res, cell=cell)
    ra, ca, rb, cb = 7, 1, 6, 14
    cutoff = 1500.0
    pp = tbpa.connectivity.pinchpoints(da, _cell_centre(ra, ca, rows=rows),
                                       _cell_centre(rb, cb, rows=rows), cwd_cutoff=cutoff)
    # independent corridor
    A = _cwd(res, cell, ra * cols + ca)
    B = _cwd(res, cell, rb * cols + cb)
    lcd = (A + B)[np.isfinite(A + B)].min()
    corridor = np.isfinite(A + B) & (A + B - lcd <= cutoff)
    corridor[ra, ca] = corridor[rb, cb] = True
    assert np.array_equal(np.isfinite(pp.values), corridor)
    assert pp.attrs["lcd"] == pytest.approx(lcd, rel=1e-9)
    # independent effective resistance on the corridor subgraph
    G = nx.Graph()
    g = 1 / res
    for r in range(rows):
        for c in range(cols):
            for dr, dc in [(0, 1), (1, 0), (1, 1), (1, -1)]:
                r2, c2 = r + dr, c + dc
                if 0 <= r2 < rows and 0 <= c2 < cols and corridor[r, c] and corridor[r2, c2]:
                    w = (g[r, c] + g[r2, c2]) / 2 / (math.sqrt(2) if dr and dc else 1)
                    G.add_edge((r, c), (r2, c2), weight=w)
    comp = nx.node_connected_component(G, (ra, ca))
    reff = nx.resistance_distance(G.subgraph(comp), (ra, ca), (rb, cb), weight="weight",
                                  invert_weight=False)  # weights are conductances
    assert pp.attrs["effective_resistance"] == pytest.approx(reff, rel=1e-8)
    # total current leaving core a is 1 A
    assert np.nanmax(pp.values) == pytest.approx(1.0, rel=1e-8)


def test_bad_cutoff(make_raster):
    da = make_raster(np.ones((5, 5)))
    with pytest.raises(ValidationError):
        tbpa.connectivity.pinchpoints(da, (50, 250), (450, 250), cwd_cutoff=-1)
    with pytest.raises(ValidationError):
        tbpa.connectivity.pinchpoints(da, (50, 250), (450, 250), cwd_cutoff=10, mode="one_to_all")
