"""Pairwise mode with focal regions: one factorisation + constrained superposition.

Oracles: networkx resistance distance on the graph Circuitscape builds for each pair (the
two regions shorted, their nodata cells joining them, every other region ordinary), built
cell by cell here; and the per-pair graph path (itself checked against Circuitscape's
verify cases in test_circuitscape_oracles.py) for current and voltage maps.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from tbpa.connectivity import _focal_regions as fr
from tbpa.connectivity import circuit
from tbpa.connectivity.circuit import Focal, Options, solve_pairwise


def shorted_pair_graph(g, regions, a, b, connect, average):
    """Circuitscape's graph of pair (a, b) built cell by cell in networkx.

    *regions* maps a label to flat cells; regions a and b become nodes "A" and "B" (if they
    have a valid cell), their nodata cells join them; parallel branches add up.
    """
    rows, cols = g.shape
    flat_g = g.ravel()
    owner = {}
    for lab, name in ((a, "A"), (b, "B")):
        cells = regions[lab]
        if (flat_g[cells] > 0).any():
            owner.update({int(c): name for c in cells})

    def node(c):
        if c in owner:
            return owner[c]
        return c if flat_g[c] > 0 else None

    G = nx.Graph()
    steps = [(0, 1, False), (1, 0, False)] + ([(1, 1, True), (1, -1, True)]
                                              if connect == "eight" else [])
    for r in range(rows):
        for c in range(cols):
            for dr, dc, diag in steps:
                r2, c2 = r + dr, c + dc
                if not (0 <= r2 < rows and 0 <= c2 < cols):
                    continue
                p, q = r * cols + c, r2 * cols + c2
                u, v = node(p), node(q)
                if u is None or v is None or u == v:
                    continue
                ga, gb = flat_g[p], flat_g[q]
                if average == "conductance":
                    w = (ga + gb) / 2
                else:
                    w = 0.0 if ga == 0 or gb == 0 else 1 / ((1 / ga + 1 / gb) / 2)
                w = w / np.sqrt(2) if diag else w
                if w <= 0:
                    continue
                old = G.get_edge_data(u, v, {"weight": 0.0})["weight"]
                G.add_edge(u, v, weight=old + w)
    return G


def random_case(rng, shape=(14, 15), k=4, holes=True):
    g = 1.0 / rng.uniform(0.5, 20, size=shape)
    if holes:
        g[rng.random(shape) < 0.08] = 0.0  # scattered nodata, also inside regions
        g[6, 3:9] = 0.0  # a barrier
    lab = np.zeros(shape)
    placed = 0
    while placed < k:
        r, c = rng.integers(0, shape[0] - 3), rng.integers(0, shape[1] - 3)
        h, w = rng.integers(1, 4, size=2)
        if (lab[r:r + h, c:c + w] == 0).all() and (h * w > 1 or placed == 0):
            placed += 1
            lab[r:r + h, c:c + w] = placed
    return g, lab


def run(g, lab, method, connect="eight", average="conductance", polymap=None, maps=True,
        solver="direct"):
    focal = Focal.from_labels(lab)
    opts = Options(connect=connect, average=average, solver=solver, progress=False,
                   focal_regions=method)
    pairs = {}

    def on_pair(i, j, v, c):
        pairs[(i, j)] = (v.copy(), c.copy())

    res = solve_pairwise(g, focal, polymap=polymap, maps=maps, opts=opts,
                         on_pair=on_pair if maps else None)
    return res, pairs


@pytest.mark.parametrize("connect", ["eight", "four"])
@pytest.mark.parametrize("average", ["conductance", "resistance"])
def test_superposition_equals_networkx_shorted_graph(rng, connect, average):
    g, lab = random_case(rng)
    res, _ = run(g, lab, "superpose", connect, average, maps=False)
    regions = {i: np.flatnonzero(lab.ravel() == i) for i in range(1, 5)}
    checked = 0
    for a, b in itertools.combinations(range(1, 5), 2):
        G = shorted_pair_graph(g, regions, a, b, connect, average)
        got = res.resistances[a - 1, b - 1]
        if "A" in G and "B" in G and nx.has_path(G, "A", "B"):
            want = nx.resistance_distance(G.subgraph(nx.node_connected_component(G, "A")),
                                          "A", "B", weight="weight", invert_weight=False)
            assert got == pytest.approx(want, rel=1e-9)
            checked += 1
        else:
            assert got == -1
    assert checked >= 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_superposition_maps_equal_per_pair_graphs(seed):
    rng = np.random.default_rng(seed)
    g, lab = random_case(rng, k=5)
    inside = np.flatnonzero((lab.ravel() > 0) & (g.ravel() > 0))
    g.ravel()[inside[::3]] = 0.0  # nodata cells inside regions: they join the shorted node
    assert ((lab > 0) & (g == 0)).any()
    fast, fmaps = run(g, lab, "superpose")
    slow, smaps = run(g, lab, "per_pair")
    np.testing.assert_allclose(fast.resistances, slow.resistances, rtol=1e-9, atol=1e-12)
    assert fmaps.keys() == smaps.keys() and len(fmaps) >= 3
    for key in smaps:
        np.testing.assert_allclose(fmaps[key][0], smaps[key][0], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fmaps[key][1], smaps[key][1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.cum_current, slow.cum_current, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast.max_current, slow.max_current, rtol=1e-8, atol=1e-10)


def test_regions_with_polygons_points_and_overlaps_match_per_pair():
    """Polygon file merged with regions, a point focal node, two regions sharing a polygon."""
    rng = np.random.default_rng(7)
    g = 1.0 / rng.uniform(1, 10, size=(12, 12))
    g[5, 5] = 0.0
    lab = np.zeros((12, 12))
    lab[0:2, 0:3] = 1
    lab[9, 10] = 2  # a point
    lab[4:7, 4:7] = 3  # with a nodata cell inside
    lab[10:12, 0:2] = 4
    lab[0, 9:11] = 5
    poly = np.zeros((12, 12))
    poly[1:4, 2:4] = 1  # overlaps region 1
    poly[8:11, 1:3] = 2  # overlaps region 4
    poly[0:2, 7:10] = 3  # overlaps region 5
    poly[5:7, 9:12] = 4  # a polygon of its own (ordinary short circuit)
    fast, fmaps = run(g, lab, "superpose", polymap=poly)
    slow, smaps = run(g, lab, "per_pair", polymap=poly)
    np.testing.assert_allclose(fast.resistances, slow.resistances, rtol=1e-9, atol=1e-12)
    for key in smaps:
        np.testing.assert_allclose(fmaps[key][0], smaps[key][0], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fmaps[key][1], smaps[key][1], rtol=1e-8, atol=1e-10)


def test_overlapping_regions_fall_back_and_give_zero():
    g = np.ones((8, 8))
    lab1 = np.zeros((8, 8))
    lab1[0:3, 0:3] = 1
    lab1[6:8, 6:8] = 2
    poly = np.zeros((8, 8))
    poly[2:7, 2] = 1  # joins region 1 and a third region through one polygon
    lab1[5:7, 1:3] = 3
    fast, _ = run(g, lab1, "superpose", polymap=poly)
    slow, _ = run(g, lab1, "per_pair", polymap=poly)
    np.testing.assert_allclose(fast.resistances, slow.resistances, rtol=1e-9)
    assert fast.resistances[0, 2] == 0.0  # shorted together by the polygon


def test_amg_solver_agrees(rng):
    g, lab = random_case(rng, shape=(20, 22), k=4)
    amg, _ = run(g, lab, "superpose", solver="amg", maps=False)
    direct, _ = run(g, lab, "per_pair", maps=False)
    np.testing.assert_allclose(amg.resistances, direct.resistances, rtol=1e-5)


def test_region_analysis_boundary_and_nodata_branches():
    """Hand-worked: a 1 x 4 row, region = cells 1-2 with cell 2 nodata."""
    g = np.array([[1.0, 1.0, 0.0, 1.0]])
    graph = fr.base_graph(g, None, Options(connect="four"))
    _, labels = graph.components()
    reg = fr.analyse_region(graph, np.array([1, 2]), labels, "four", "conductance")
    assert reg.nodes.tolist() == [1]
    assert reg.boundary.tolist() == [1]  # branch to cell 0
    assert reg.extra_to.tolist() == [2]  # cell 3 is node 2: (0 + 1) / 2
    assert reg.extra_w.tolist() == [0.5]
    # cells 0..3 split in two base components, joined only through the shorted region
    assert reg.component == -2


def test_auto_chooses_by_cost(monkeypatch):
    g = np.ones((30, 30))
    lab = np.zeros((30, 30))
    for k, (r, c) in enumerate([(2, 2), (2, 20), (20, 2), (20, 20), (12, 12)], start=1):
        lab[r:r + 3, c:c + 3] = k
    focal = Focal.from_labels(lab)
    graph = fr.base_graph(g, None, Options())
    _, labels = graph.components()
    regions = [fr.analyse_region(graph, c, labels, "eight", "conductance") for c in focal.cells]
    # 5 regions x 8 boundary nodes = 40 solves + setup vs 10 pairs x (setup + 1)
    assert circuit._region_method(Options(), regions, 10, graph.n_nodes, True) == "superpose"
    assert circuit._region_method(Options(solver="amg"), regions, 10, graph.n_nodes,
                                  True) == "per_pair"
    assert circuit._region_method(Options(focal_regions="per_pair"), regions, 10,
                                  graph.n_nodes, True) == "per_pair"


def test_auto_cost_uses_the_solver_the_budget_allows():
    # when a direct factorisation would not fit max_memory_gb the base solver is AMG, so
    # the cost comparison must use AMG's set-up cost too (cheap set-up: per pair wins)
    import tbpa

    g = np.ones((30, 30))
    lab = np.zeros((30, 30))
    for k, (r, c) in enumerate([(2, 2), (2, 20), (20, 2), (20, 20), (12, 12)], start=1):
        lab[r:r + 3, c:c + 3] = k
    focal = Focal.from_labels(lab)
    graph = fr.base_graph(g, None, Options())
    _, labels = graph.components()
    regions = [fr.analyse_region(graph, c, labels, "eight", "conductance") for c in focal.cells]
    assert circuit._region_method(Options(), regions, 10, graph.n_nodes, True) == "superpose"
    with tbpa.set_options(max_memory_gb=1e-9):
        assert circuit._region_method(Options(), regions, 10, graph.n_nodes,
                                      True) == "per_pair"


def test_region_cells_hand_worked():
    # a region takes in every polygon it touches (labels read as merge_regions reads them:
    # finite, > 0, truncated to integers: 2.5 is polygon 2), and nothing else
    pm = np.zeros((4, 4))
    pm[0, 0] = pm[0, 1] = 2
    pm[1, 0] = 2.5
    pm[3, 3] = 3
    pm[2, 3] = np.nan
    pm[1, 3] = -2
    assert fr.region_cells(pm.shape, pm, np.array([1, 10, 10])).tolist() == [0, 1, 4, 10]
    assert fr.region_cells(pm.shape, pm, np.array([15])).tolist() == [15]
    assert fr.region_cells(pm.shape, pm, np.array([8, 11, 7])).tolist() == [7, 8, 11]
    assert fr.region_cells(pm.shape, None, np.array([5, 1, 5])).tolist() == [1, 5]
