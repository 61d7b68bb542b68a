"""Benchmark tbpa.habitat.sea_layer on the embedded MODIS clip refined to more cells.

Run: ``python benchmarks/bench_sea.py [--factor 4] [--repeat 2]``. The 0.05-degree MODIS
clip (400 x 1180 cells, EPSG:4326) is refined ``factor`` times in each direction by cell
repetition (same water bodies, more cells), and the sea layer is computed against the
embedded Natural Earth countries with the default 10 km limit. Reported: wall-clock seconds
(best of ``--repeat``) and peak traced Python memory (numpy buffers are traced). The work
per cell is rasterising the land, a Euclidean distance transform per 1-degree band, and one
connected-component labelling. Shared CPUs make the timings noisy.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from affine import Affine

import tbpa
from tbpa.habitat import load_modis, sea_layer
from tbpa.sites import load_countries


def refined(factor: int):
    lc = load_modis()
    t = lc.rio.transform()
    values = np.repeat(np.repeat(lc.values, factor, axis=0), factor, axis=1)
    return tbpa.io.from_array(values, transform=Affine(t.a / factor, 0, t.c, 0, t.e / factor, t.f),
                              crs=lc.rio.crs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--factor", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    land = load_countries()
    print(f"{'cells':>12} {'seconds':>8} {'peak MiB':>9} {'B/cell':>7} {'sea share of water':>19}")
    for f in args.factor:
        lc = refined(f)
        best = np.inf
        for _ in range(args.repeat):
            t = time.perf_counter()
            sea = sea_layer(lc, land, scheme="modis_igbp")
            best = min(best, time.perf_counter() - t)
        tracemalloc.start()
        sea_layer(lc, land, scheme="modis_igbp")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        water = lc.values == 0
        print(f"{lc.size:>12,} {best:>8.2f} {peak / 2**20:>9.0f} {peak / lc.size:>7.1f} "
              f"{sea.values[water].mean():>19.3f}")


if __name__ == "__main__":
    main()
