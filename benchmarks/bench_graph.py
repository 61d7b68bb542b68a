"""Benchmark: patch graph, PC + exact dPC split, and ProtConn on random circular patches.

Baseline for dPC: the textbook (Conefor-style) removal loop, i.e. one all-pairs shortest
path (scipy.sparse.csgraph.floyd_warshall) per removed patch, run for the smaller sizes.

    python benchmarks/bench_graph.py --sizes 250 500 1000 --baseline-max 500
"""

from __future__ import annotations

import argparse
import math
import time

import geopandas as gpd
import numpy as np
import shapely

import tbpa
from tbpa.connectivity import patch_graph, probability_of_connectivity, protconn
from tbpa.connectivity.graph import _edge_distance_matrix, _metric_core

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +units=m"


def patches(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """n discs of radius 0.5-5 km scattered over 1000 × 1000 km (a PA-system-like density)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1e6, (n, 2))
    r = rng.uniform(500, 5000, n)
    return gpd.GeoDataFrame(geometry=shapely.buffer(shapely.points(xy), r, quad_segs=8), crs=LAEA)


def baseline_dpc(W: np.ndarray, a: np.ndarray, kappa: float) -> np.ndarray:
    from scipy import sparse
    from scipy.sparse.csgraph import floyd_warshall

    def num(idx):
        sub = W[np.ix_(idx, idx)]
        # sparse input keeps zero-length edges (touching patches); a dense input would
        # silently drop every |d| <= 1e-8 through np.ma.masked_values
        i, j = np.nonzero(np.isfinite(sub) & ~np.eye(len(idx), dtype=bool))
        g = sparse.csr_matrix((sub[i, j], (i, j)), shape=sub.shape)
        D = floyd_warshall(g, directed=False)
        return a[idx] @ np.exp(-kappa * D) @ a[idx]

    n = len(a)
    full = num(np.arange(n))
    return np.array([100 * (full - num(np.delete(np.arange(n), k))) / full for k in range(n)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000])
    ap.add_argument("--baseline-max", type=int, default=500)
    args = ap.parse_args()
    tbpa.set_options(progress=False)
    _metric_core(np.zeros((3, 3)), np.ones(3), kappa=1e-4, deltas=True)  # numba compile
    kappa = math.log(2) / 10_000
    print("| n | patch_graph s | PC + dPC s | baseline dPC s | max abs dPC diff | ProtConn (2 countries) s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        gdf = patches(n)
        t0 = time.perf_counter()
        g = patch_graph(gdf)
        t1 = time.perf_counter()
        res = probability_of_connectivity(g, dispersal_m=10_000, landscape_area=1e12)
        t2 = time.perf_counter()
        base, diff = "-", "-"
        if n <= args.baseline_max:
            W = _edge_distance_matrix(np.asarray(gdf.geometry.values))
            tb = time.perf_counter()
            ref = baseline_dpc(W, shapely.area(gdf.geometry.values), kappa)
            base = f"{time.perf_counter() - tb:.2f}"
            diff = f"{np.abs(ref - res.patches['dPC'].to_numpy()).max():.1e}"
        countries = gpd.GeoDataFrame(
            {"iso3": ["AAA", "BBB"]}, geometry=[shapely.box(0, 0, 5e5, 1e6), shapely.box(5e5, 0, 1e6, 1e6)], crs=LAEA
        )
        t3 = time.perf_counter()
        protconn(gdf, countries)
        t4 = time.perf_counter()
        print(f"| {n} | {t1 - t0:.2f} | {t2 - t1:.2f} | {base} | {diff} | {t4 - t3:.2f} |", flush=True)


if __name__ == "__main__":
    main()
