"""Benchmark tbpa.habitat.reclassify (dense lookup table) against naive per-cell mappings.

Run: ``python benchmarks/bench_habitat.py [--cells 100_000_000]``. Naive methods (pandas
``Series.map`` with a dict, ``np.vectorize(dict.get)``) run on a 10 M-cell slice of the same
raster and are also reported per cell, because on 100 M cells they take minutes. Timings are
wall-clock, best of ``--repeat`` runs, on whatever machine runs this (shared CPUs are noisy).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from affine import Affine

import tbpa
from tbpa.habitat import crosswalk, embedded_inputs, reclassify, unify
from tbpa.sites import load_countries


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=100_000_000)
    ap.add_argument("--naive-cells", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    side = int(np.sqrt(args.cells))
    rng = np.random.default_rng(0)
    codes = np.array([10, 20, 30, 40, 50, 60, 80, 90], dtype=np.uint8)
    values = rng.choice(codes, size=(side, side))
    da = tbpa.io.from_array(values, transform=Affine(10, 0, 0, 0, -10, side * 10.0), crs="EPSG:32652")
    lat = da.copy(data=np.linspace(42, 52, side, dtype=np.float32)[:, None].repeat(side, axis=1))
    cw = crosswalk("esa_worldcover")
    best = cw.loc[cw.groupby("source_code").weight.idxmax()]
    mapping = dict(zip(best.source_code.astype(int), best.target_code.astype(int)))

    reclassify(da[:100, :100], "esa_worldcover", ancillary={"lat": lat[:100, :100]})  # warm numba
    rows = []
    n = side * side
    t, out = best_of(lambda: reclassify(da, "esa_worldcover"), args.repeat)
    rows.append(("reclassify (LUT, np.take)", n, t))
    t, _ = best_of(lambda: reclassify(da, "esa_worldcover", return_weight=True), args.repeat)
    rows.append(("reclassify + weight", n, t))
    t, _ = best_of(lambda: reclassify(da, "esa_worldcover", ancillary={"lat": lat}), args.repeat)
    rows.append(("reclassify + lat rule (numba)", n, t))

    k = min(args.naive_cells, n)
    flat = values.reshape(-1)[:k]
    t, naive = best_of(lambda: pd.Series(flat).map(mapping).to_numpy(), 1)
    rows.append(("naive pandas Series.map(dict)", k, t))
    assert np.array_equal(naive, out.values.reshape(-1)[:k])
    t, naive = best_of(lambda: np.vectorize(mapping.get)(flat), 1)
    rows.append(("naive np.vectorize(dict.get)", k, t))
    assert np.array_equal(naive, out.values.reshape(-1)[:k])

    print("| method | cells | seconds | M cells/s | seconds per 100 M cells |")
    print("|---|---:|---:|---:|---:|")
    for name, cells, sec in rows:
        print(f"| {name} | {cells:,} | {sec:.2f} | {cells / sec / 1e6:.0f} | {sec * 1e8 / cells:.1f} |")

    inputs = embedded_inputs("land_of_big_cats")
    countries = load_countries(["CHN", "RUS", "PRK"])
    t, ds = best_of(lambda: unify(inputs, countries=countries, resolution=250, progress=False), 1)
    print(f"\nunify(land_of_big_cats, 250 m): {t:.2f} s for a {ds.habitat.shape} grid "
          f"from {sum(v[0].size for v in inputs.values()):,} input cells")


if __name__ == "__main__":
    main()
