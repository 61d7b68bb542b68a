"""Patch graphs, PC/EC/dPC and IIC/dIIC against hand-worked examples and networkx oracles."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from tbpa import errors
from tbpa.connectivity import integral_index_of_connectivity, patch_graph, probability_of_connectivity

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def line_graph():
    """Three patches on a line: the indirect path 1-2-3 (2000 m) beats the direct 1-3 (3000 m)."""
    g = nx.Graph()
    g.add_nodes_from([(1, {"area": 1.0}), (2, {"area": 2.0}), (3, {"area": 3.0})])
    g.add_edge(1, 2, distance=1000.0)
    g.add_edge(2, 3, distance=1000.0)
    g.add_edge(1, 3, distance=3000.0)
    return g


# ---------------------------------------------------------------------------------------
# PC by hand
# ---------------------------------------------------------------------------------------
def test_pc_three_patches_by_hand():
    a1, a2, a3, AL = 1.0, 2.0, 3.0, 100.0
    # dispersal 1000 m at p = 0.5: p_ij = 0.5 ** (d / 1000)
    p12, p23, p13 = 0.5, 0.5, 0.125
    p13_star = p12 * p23  # 0.25 via patch 2 beats the direct 0.125
    assert p13_star > p13
    num = a1**2 + a2**2 + a3**2 + 2 * (a1 * a2 * p12 + a2 * a3 * p23 + a1 * a3 * p13_star)
    assert num == pytest.approx(23.5)

    r = probability_of_connectivity(line_graph(), dispersal_m=1000, p=0.5, landscape_area=AL)
    assert r.numerator == pytest.approx(num, rel=1e-12)
    assert r.PC == pytest.approx(num / AL**2, rel=1e-12)
    assert r.EC == pytest.approx(math.sqrt(num), rel=1e-12)
    expected_pstar = np.array([[1, p12, p13_star], [p12, 1, p23], [p13_star, p23, 1]])
    np.testing.assert_allclose(r.pstar, expected_pstar, rtol=1e-12)

    t = r.patches
    # remove the middle stepping stone: 1 and 3 fall back to the direct link (0.125)
    num_minus2 = a1**2 + a3**2 + 2 * a1 * a3 * p13
    assert num_minus2 == pytest.approx(10.75)
    assert t.loc[2, "dPC"] == pytest.approx(100 * (num - num_minus2) / num, rel=1e-12)
    assert t.loc[2, "dPCintra"] == pytest.approx(100 * a2**2 / num, rel=1e-12)
    assert t.loc[2, "dPCflux"] == pytest.approx(100 * 2 * (a1 * a2 * p12 + a2 * a3 * p23) / num, rel=1e-12)
    connector2 = 100 * 2 * a1 * a3 * (p13_star - p13) / num  # = 100 * 0.75 / 23.5
    assert t.loc[2, "dPCconnector"] == pytest.approx(connector2, rel=1e-12)
    assert t.loc[2, "dPCconnector"] > 0

    # remove an end patch: no connector role
    num_minus1 = a2**2 + a3**2 + 2 * a2 * a3 * p23
    assert t.loc[1, "dPC"] == pytest.approx(100 * (num - num_minus1) / num, rel=1e-12)
    assert t.loc[1, "dPCintra"] == pytest.approx(100 * a1**2 / num, rel=1e-12)
    assert t.loc[1, "dPCflux"] == pytest.approx(100 * 2 * (a1 * a2 * p12 + a1 * a3 * p13_star) / num, rel=1e-12)
    assert t.loc[1, "dPCconnector"] == 0.0
    num_minus3 = a1**2 + a2**2 + 2 * a1 * a2 * p12
    assert t.loc[3, "dPC"] == pytest.approx(100 * (num - num_minus3) / num, rel=1e-12)
    assert t.loc[3, "dPCconnector"] == 0.0

    parts = t["dPCintra"] + t["dPCflux"] + t["dPCconnector"]
    np.testing.assert_allclose(parts, t["dPC"], rtol=1e-12)
    np.testing.assert_allclose(t["a"], [a1, a2, a3])


def test_ec_of_single_patch_is_its_area():
    g = nx.Graph()
    g.add_node("only", area=12345.0)
    r = probability_of_connectivity(g, dispersal_m=5000, landscape_area=1e6)
    assert r.EC == pytest.approx(12345.0)
    assert r.PC == pytest.approx((12345.0 / 1e6) ** 2)
    assert r.patches.loc["only", "dPC"] == pytest.approx(100.0)
    assert r.patches.loc["only", "dPCintra"] == pytest.approx(100.0)


def test_missing_edge_means_no_direct_link_but_paths_still_count():
    g = line_graph()
    g.remove_edge(1, 3)
    r = probability_of_connectivity(g, dispersal_m=1000, landscape_area=100.0)
    assert r.pstar[0, 2] == pytest.approx(0.25)
    # without node 2, patches 1 and 3 are disconnected: connector loss = 2·a1·a3·0.25
    assert r.patches.loc[2, "dPCconnector"] == pytest.approx(100 * 2 * 3 * 0.25 / 23.5)


def test_disconnected_components_contribute_nothing_between_them():
    g = nx.Graph()
    g.add_nodes_from([("a", {"area": 4.0}), ("b", {"area": 5.0})])
    r = probability_of_connectivity(g, dispersal_m=1000, landscape_area=10.0)
    assert r.numerator == pytest.approx(16 + 25)
    assert r.pstar[0, 1] == 0.0


def _random_graph(rng, n, density=0.5):
    g = nx.Graph()
    for i in range(n):
        g.add_node(i, area=float(rng.uniform(1, 100)))
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < density:
                g.add_edge(i, j, distance=float(rng.uniform(0, 20_000)))
    return g


def _nx_numerator(g, kappa, nodes):
    """Independent oracle: Dijkstra in networkx on -ln(p_ij) = kappa * d_ij weights."""
    for u, v, d in g.edges(data=True):
        d["nlogp"] = -math.log(math.exp(-kappa * d["distance"]))
    lengths = dict(nx.all_pairs_dijkstra_path_length(g, weight="nlogp"))
    total = 0.0
    for i in nodes:
        for j in nodes:
            if j in lengths[i]:
                total += g.nodes[i]["area"] * g.nodes[j]["area"] * math.exp(-lengths[i][j])
    return total, lengths


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pstar_and_dpc_match_networkx_oracle(seed):
    rng = np.random.default_rng(seed)
    g = _random_graph(rng, 25, density=0.4)
    dispersal, p = 5000.0, 0.3
    kappa = -math.log(p) / dispersal
    r = probability_of_connectivity(g, dispersal_m=dispersal, p=p, landscape_area=1e4)
    nodes = list(g.nodes)
    num, lengths = _nx_numerator(g, kappa, nodes)
    expected = np.array([[math.exp(-lengths[i][j]) if j in lengths[i] else 0.0 for j in nodes] for i in nodes])
    np.testing.assert_allclose(r.pstar, expected, rtol=1e-10, atol=1e-300)
    assert r.numerator == pytest.approx(num, rel=1e-10)
    # brute force removal of every node, recomputed from scratch with networkx
    for k in nodes:
        h = g.copy()
        h.remove_node(k)
        num_k, _ = _nx_numerator(h, kappa, [v for v in nodes if v != k])
        assert r.patches.loc[k, "dPC"] == pytest.approx(100 * (num - num_k) / num, rel=1e-9, abs=1e-9)
        flux_k = 2 * g.nodes[k]["area"] * sum(
            g.nodes[j]["area"] * math.exp(-lengths[k][j]) for j in nodes if j != k and j in lengths[k]
        )
        assert r.patches.loc[k, "dPCflux"] == pytest.approx(100 * flux_k / num, rel=1e-9)
    assert (r.patches["dPCconnector"] >= 0).all()
    assert (r.patches["dPCconnector"] > 0).any()  # random graphs have stepping stones


def test_pstar_matches_scipy_floyd_warshall_on_dense_graph(rng):
    from scipy.sparse.csgraph import floyd_warshall

    n = 60
    xy = rng.uniform(0, 50_000, size=(n, 2))
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    d = d * rng.uniform(0.5, 1.5, size=(n, n))  # break the triangle inequality: indirect paths win
    d = np.triu(d, 1) + np.triu(d, 1).T
    g = nx.Graph()
    g.add_nodes_from((i, {"area": 1.0}) for i in range(n))
    g.add_edges_from((i, j, {"distance": d[i, j]}) for i in range(n) for j in range(i + 1, n))
    r = probability_of_connectivity(g, dispersal_m=10_000, landscape_area=n)
    D = floyd_warshall(d, directed=False)
    np.testing.assert_allclose(r.pstar, np.exp(-math.log(2) / 10_000 * D), rtol=1e-10)
    assert (D < d - 1e-9).any()


def test_zero_distance_edges_are_links():
    g = nx.Graph()
    g.add_nodes_from([(0, {"area": 1.0}), (1, {"area": 1.0})])
    g.add_edge(0, 1, distance=0.0)  # touching patches
    r = probability_of_connectivity(g, dispersal_m=1000, landscape_area=10)
    assert r.numerator == pytest.approx(4.0)  # (a0 + a1)^2


# ---------------------------------------------------------------------------------------
# IIC by hand
# ---------------------------------------------------------------------------------------
def test_iic_three_patches_by_hand():
    a1, a2, a3, AL = 1.0, 2.0, 3.0, 100.0
    # threshold 1500 m: links 1-2 and 2-3 only; nl12 = nl23 = 1, nl13 = 2
    num = a1**2 + a2**2 + a3**2 + 2 * (a1 * a2 / 2 + a2 * a3 / 2 + a1 * a3 / 3)
    assert num == pytest.approx(24.0)
    r = integral_index_of_connectivity(line_graph(), threshold_m=1500, landscape_area=AL)
    assert r.IIC == pytest.approx(num / AL**2, rel=1e-12)
    assert r.EC == pytest.approx(math.sqrt(num))
    np.testing.assert_array_equal(r.nl, [[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    t = r.patches
    num_minus2 = a1**2 + a3**2  # 1 and 3 become unreachable
    assert t.loc[2, "dIIC"] == pytest.approx(100 * (num - num_minus2) / num)
    assert t.loc[2, "dIICintra"] == pytest.approx(100 * a2**2 / num)
    assert t.loc[2, "dIICflux"] == pytest.approx(100 * 2 * (a1 * a2 / 2 + a2 * a3 / 2) / num)
    assert t.loc[2, "dIICconnector"] == pytest.approx(100 * 2 * a1 * a3 / 3 / num)
    assert t.loc[1, "dIICconnector"] == 0.0
    num_minus1 = a2**2 + a3**2 + 2 * a2 * a3 / 2
    assert t.loc[1, "dIIC"] == pytest.approx(100 * (num - num_minus1) / num)
    # threshold 3000 m links 1-3 directly: nl13 = 1 and node 2 is no longer a connector
    r2 = integral_index_of_connectivity(line_graph(), threshold_m=3000, landscape_area=AL)
    assert r2.numerator == pytest.approx(14 + 2 * (1 + 3 + 1.5))
    assert r2.patches["dIICconnector"].max() == 0.0


def test_iic_matches_networkx_hop_counts(rng):
    g = _random_graph(rng, 30, density=0.3)
    thr = 8000.0
    r = integral_index_of_connectivity(g, threshold_m=thr, landscape_area=1e4)
    h = nx.Graph()
    h.add_nodes_from(g.nodes(data=True))
    h.add_edges_from((u, v) for u, v, d in g.edges(data=True) if d["distance"] <= thr)
    hops = dict(nx.all_pairs_shortest_path_length(h))
    nodes = list(g.nodes)

    def numerator(graph, keep):
        hp = dict(nx.all_pairs_shortest_path_length(graph.subgraph(keep)))
        return sum(
            g.nodes[i]["area"] * g.nodes[j]["area"] / (1 + hp[i][j]) for i in keep for j in keep if j in hp[i]
        )

    num = numerator(h, nodes)
    assert r.numerator == pytest.approx(num, rel=1e-12)
    for i in nodes:
        for j in nodes:
            assert r.nl[i, j] == (hops[i].get(j, np.inf))
    for k in nodes[:10]:
        num_k = numerator(h, [v for v in nodes if v != k])
        assert r.patches.loc[k, "dIIC"] == pytest.approx(100 * (num - num_k) / num, rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------
def test_pc_validation_errors():
    g = line_graph()
    with pytest.raises(errors.ValidationError, match="p"):
        probability_of_connectivity(g, dispersal_m=1000, p=1.0, landscape_area=1)
    with pytest.raises(errors.ValidationError, match="dispersal_m"):
        probability_of_connectivity(g, dispersal_m=-5, landscape_area=1)
    with pytest.raises(errors.ValidationError, match="landscape_area"):
        probability_of_connectivity(g, dispersal_m=1000, landscape_area=0)
    with pytest.raises(errors.EmptySelectionError):
        probability_of_connectivity(nx.Graph(), dispersal_m=1000, landscape_area=1)
    g.nodes[1]["area"] = -1
    with pytest.raises(errors.ValidationError, match="area"):
        probability_of_connectivity(g, dispersal_m=1000, landscape_area=1)
    g = line_graph()
    g.edges[1, 2]["distance"] = float("nan")
    with pytest.raises(errors.ValidationError, match="distance"):
        probability_of_connectivity(g, dispersal_m=1000, landscape_area=1)
    with pytest.raises(errors.ValidationError, match="habitat"):
        probability_of_connectivity(line_graph(), dispersal_m=1000, landscape_area=1, attribute="habitat")


def test_result_repr_is_readable():
    r = probability_of_connectivity(line_graph(), dispersal_m=1000, landscape_area=100.0)
    text = repr(r)
    assert text.startswith("PCResult(PC=0.00235") and "dPCconnector" in text
    assert "IICResult(IIC=" in repr(integral_index_of_connectivity(line_graph(), threshold_m=1500, landscape_area=100.0))


# ---------------------------------------------------------------------------------------
# patch_graph
# ---------------------------------------------------------------------------------------
def squares():
    # three 1 km squares; gaps 2 km (a-b) and, diagonally, sqrt(2)·1 km (b-c)
    geoms = [shapely.box(0, 0, 1000, 1000), shapely.box(3000, 0, 4000, 1000), shapely.box(5000, 2000, 6000, 3000)]
    return gpd.GeoDataFrame(
        {"patch_id": ["a", "b", "c"], "iso3": ["CHN", "RUS", "RUS"], "quality": [1.0, 2.0, 3.0]},
        geometry=geoms, crs=LAEA,
    )


def test_patch_graph_edge_and_centroid_distances():
    gdf = squares()
    g = patch_graph(gdf)
    assert set(g.nodes) == {"a", "b", "c"}
    assert g.nodes["a"]["area"] == pytest.approx(1e6)
    assert g.nodes["b"]["iso3"] == "RUS"
    assert g.number_of_edges() == 3
    assert g.edges["a", "b"]["distance"] == pytest.approx(2000.0)
    assert g.edges["b", "c"]["distance"] == pytest.approx(math.hypot(1000, 1000))
    assert g.edges["a", "c"]["distance"] == pytest.approx(math.hypot(4000, 1000))
    gc = patch_graph(gdf, distance="centroid")
    assert gc.edges["a", "c"]["distance"] == pytest.approx(math.hypot(5000, 2000))
    # pruned graph keeps only edges <= 2000 m, found through the STRtree
    gp = patch_graph(gdf, max_distance_m=2000)
    assert set(map(frozenset, gp.edges)) == {frozenset("ab"), frozenset("bc")}
    gq = patch_graph(gdf, attribute="quality")
    assert gq.nodes["c"]["quality"] == 3.0
    assert gdf.columns.tolist() == ["patch_id", "iso3", "quality", "geometry"]  # input untouched


def test_patch_graph_feeds_pc():
    g = patch_graph(squares())
    r = probability_of_connectivity(g, dispersal_m=2000, landscape_area=1e8)
    d_ab, d_bc, d_ac = 2000.0, math.hypot(1000, 1000), math.hypot(4000, 1000)
    p = lambda d: 0.5 ** (d / 2000)  # noqa: E731
    p_ac = max(p(d_ac), p(d_ab) * p(d_bc))
    num = 3e12 + 2e12 * (p(d_ab) + p(d_bc) + p_ac)
    assert r.numerator == pytest.approx(num, rel=1e-12)


def test_patch_graph_ids_from_site_id_or_index():
    gdf = squares().drop(columns="patch_id")
    assert set(patch_graph(gdf).nodes) == {0, 1, 2}
    gdf["site_id"] = ["x", "y", "z"]
    assert set(patch_graph(gdf).nodes) == {"x", "y", "z"}
    gdf["site_id"] = ["x", "x", "z"]
    with pytest.raises(errors.ValidationError, match="unique"):
        patch_graph(gdf)


def test_patch_graph_bad_input():
    with pytest.raises(errors.CRSError, match="patches"):
        patch_graph(squares().to_crs(4326))
    with pytest.raises(errors.EmptySelectionError):
        patch_graph(squares().iloc[:0])
    with pytest.raises(errors.ValidationError, match="resistance"):
        patch_graph(squares(), distance="least_cost")
    with pytest.raises(errors.ValidationError, match="distance"):
        patch_graph(squares(), distance="manhattan")
    with pytest.raises(errors.ValidationError, match="quallity"):
        patch_graph(squares(), attribute="quallity")


def test_patch_graph_least_cost(make_raster):
    pytest.importorskip("tbpa.connectivity.leastcost", reason="tbpa.connectivity.leastcost not written yet")
    # one row of 100 m cells, uniform resistance 1: patch A covers cells 0-1, patch B cells 5-6.
    # Step cost = mean resistance × centre distance, so A→B = 4 steps × 100 m = 400 (cost units)
    res = make_raster(np.ones((1, 8)), cell=100.0)
    gdf = gpd.GeoDataFrame(
        {"patch_id": ["A", "B"]},
        geometry=[shapely.box(0, 0, 200, 100), shapely.box(500, 0, 700, 100)], crs=res.rio.crs,
    )
    g = patch_graph(gdf, distance="least_cost", resistance=res)
    assert g.edges["A", "B"]["distance"] == pytest.approx(400.0)
    res2 = make_raster(np.array([[1, 1, 3, 3, 3, 1, 1, 1]], dtype=float), cell=100.0)
    # steps 1→2: (1+3)/2, 2→3 and 3→4: 3, 4→5: (3+1)/2, each × 100 m
    g2 = patch_graph(gdf, distance="least_cost", resistance=res2)
    assert g2.edges["A", "B"]["distance"] == pytest.approx(100 * (2 + 3 + 3 + 2))


def _grid_oracle(res, cell, sources, targets):
    """Least cost from any cell of *sources* to any cell of *targets* with networkx (8-nb)."""
    g = nx.Graph()
    nr, nc = res.shape
    for r in range(nr):
        for c in range(nc):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < nr and 0 <= cc < nc and np.isfinite(res[r, c]) and np.isfinite(res[rr, cc]):
                    step = cell * (math.sqrt(2.0) if dr and dc else 1.0)
                    g.add_edge((r, c), (rr, cc), weight=0.5 * (res[r, c] + res[rr, cc]) * step)
    dist = nx.multi_source_dijkstra_path_length(g, [s for s in sources if s in g])
    return min((dist.get(t, math.inf) for t in targets), default=math.inf)


def test_patch_graph_least_cost_matches_networkx_with_max_distance(make_raster, rng):
    # 3 patches (one overlapping another) on a random resistance with a NaN wall gap; the
    # distances must equal an independent networkx search, with and without the cap.
    res = rng.uniform(1.0, 5.0, size=(8, 12))
    res[:6, 6] = np.nan
    r = make_raster(res, cell=100.0)
    boxes = [shapely.box(0, 0, 200, 300), shapely.box(100, 0, 400, 200), shapely.box(1000, 500, 1200, 800)]
    gdf = gpd.GeoDataFrame({"patch_id": ["A", "B", "C"]}, geometry=boxes, crs=r.rio.crs)

    def cells(box):  # cells whose centre the box covers (rows from the top)
        x0, y0, x1, y1 = box.bounds
        return [(7 - int(y // 100), int(x // 100)) for y in np.arange(50, 800, 100) for x in np.arange(50, 1200, 100)
                if x0 < x < x1 and y0 < y < y1]

    own = [set(cells(b)) for b in boxes]
    own[0] -= own[1]  # B is rasterised after A: the shared cells are B's own
    expect = {}
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        expect[i, j] = min(_grid_oracle(res, 100.0, cells(boxes[i]), own[j]),
                           _grid_oracle(res, 100.0, cells(boxes[j]), own[i]))
    assert expect[0, 1] == 0.0  # overlapping patches
    g = patch_graph(gdf, distance="least_cost", resistance=r)
    ids = ["A", "B", "C"]
    for (i, j), d in expect.items():
        assert g.edges[ids[i], ids[j]]["distance"] == pytest.approx(d, rel=1e-12)
    cap = 0.5 * (expect[0, 2] + expect[1, 2]) if expect[0, 2] != expect[1, 2] else expect[0, 2] - 1.0
    capped = patch_graph(gdf, distance="least_cost", resistance=r, max_distance_m=cap)
    for (i, j), d in expect.items():
        if d <= cap:
            assert capped.edges[ids[i], ids[j]]["distance"] == pytest.approx(d, rel=1e-12)
        else:
            assert not capped.has_edge(ids[i], ids[j])
