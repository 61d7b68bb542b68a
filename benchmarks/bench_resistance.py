"""Benchmark species resistance surfaces: class look-up, modifiers, core areas.

1. Class look-up (``SpeciesProfile.resistance_of``, one LUT gather) against the obvious
   pandas alternative (``Series.map`` of a code -> value dict, level-1 fallback by a second map).
2. The full ``resistance()`` with roads (lines), settlements (points) and a fence with gaps, and
   the accuracy of its raster distance (``distance_transform_edt`` on rasterised roads) against
   exact shapely distances from cell centres to the road lines.
3. ``core_areas()`` (label + polygonise) on the same grid.

Synthetic data (seed 0): random IUCN codes in 20-cell blocks, 100 m cells, LAEA CRS.
Timings are wall-clock on a shared 2-core machine (noisy, upper bounds).

Usage::

    python benchmarks/bench_resistance.py            # 4M and 16M cells; look-up also at 100M
    python benchmarks/bench_resistance.py --sizes 1M --lookup-cells 1e7
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

import tbpa
from tbpa.habitat.resistance import core_areas, resistance

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
CELL = 100.0
SIZES = {"1M": 1000, "4M": 2000, "16M": 4000}
CODES = np.array([104, 101, 304, 404, 504, 505, 1401, 1405, 1508, 600, 900])


def habitat(n: int, rng) -> "tbpa.io.rasters.xr.DataArray":
    blocks = rng.choice(CODES, size=(n // 20 + 1, n // 20 + 1)).astype(np.int16)
    codes = np.kron(blocks, np.ones((20, 20), dtype=np.int16))[:n, :n]
    return tbpa.io.from_array(codes, transform=Affine(CELL, 0, 0, 0, -CELL, n * CELL), crs=LAEA)


def pandas_lookup(profile, codes: np.ndarray) -> np.ndarray:
    table = {c: (np.nan if np.isnan(v.resistance) else v.resistance) for c, v in profile.classes.items()}
    s = pd.Series(codes.ravel())
    out = s.map(table)
    missing = out.isna() & ~s.map(lambda c: c in table)
    out[missing] = (s[missing] // 100 * 100).map(table).fillna(profile.default.resistance)
    out[s == 0] = np.nan
    return out.to_numpy().reshape(codes.shape)


def bench_lookup(cells: int, rng) -> list[dict]:
    side = int(np.sqrt(cells))
    codes = rng.choice(np.append(CODES, [0, 102, 1406]), size=(side, side)).astype(np.int16)
    prof = tbpa.species.load("amur_tiger")
    rows = []
    t = time.perf_counter()
    ours = prof.resistance_of(codes)
    rows.append({"step": "class look-up", "method": "tbpa LUT", "cells": codes.size,
                 "seconds": time.perf_counter() - t, "check": ""})
    if codes.size <= 2e7:
        t = time.perf_counter()
        theirs = pandas_lookup(prof, codes)
        same = np.array_equal(ours, theirs, equal_nan=True)
        rows.append({"step": "class look-up", "method": "pandas map", "cells": codes.size,
                     "seconds": time.perf_counter() - t, "check": f"identical: {same}"})
    return rows


def bench_surface(n: int, rng) -> list[dict]:
    hab = habitat(n, rng)
    extent = n * CELL
    roads = gpd.GeoDataFrame(geometry=[
        shapely.LineString(rng.uniform(0, extent, size=(4, 2))) for _ in range(50)], crs=LAEA)
    towns = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(0, extent, size=(300, 2))), crs=LAEA)
    fence = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(0, extent / 2), (extent, extent / 2 + 0.3 * extent)])]
        + list(shapely.points(np.column_stack([np.linspace(0.1, 0.9, 20) * extent,
                                               extent / 2 + 0.3 * np.linspace(0.1, 0.9, 20) * extent]))),
        crs=LAEA)
    rows = []
    t = time.perf_counter()
    r = resistance(hab, "amur_tiger", roads=roads, settlements=towns, fence=fence)
    rows.append({"step": "resistance (roads, towns, fence)", "method": "tbpa", "cells": hab.size,
                 "seconds": time.perf_counter() - t, "check": f"{np.isnan(r.values).mean():.1%} NaN"})

    # distance accuracy: invert the road multiplier on an all-forest grid and compare with shapely
    forest = tbpa.io.from_array(np.full((n, n), 104, dtype=np.int16),
                                transform=Affine(CELL, 0, 0, 0, -CELL, extent), crs=LAEA)
    dec = tbpa.species.load("amur_tiger").modifiers.roads
    mult = resistance(forest, "amur_tiger", roads=roads).values
    ii = rng.integers(0, n, size=(2000, 2))
    m = mult[ii[:, 0], ii[:, 1]]
    ok = m > 1 + 1e-9 * (dec.max_multiplier - 1)  # decay not underflowed
    d_edt = -dec.scale_m * np.log((m[ok] - 1) / (dec.max_multiplier - 1))
    x = (ii[ok, 1] + 0.5) * CELL
    y = extent - (ii[ok, 0] + 0.5) * CELL
    d_exact = shapely.distance(shapely.points(np.column_stack([x, y])), shapely.union_all(roads.geometry.values))
    err = np.abs(d_edt - d_exact)
    rows.append({"step": "road distance vs exact", "method": "EDT on all_touched raster", "cells": int(ok.sum()),
                 "seconds": float("nan"),
                 "check": f"max |err| {err.max():.0f} m, mean {err.mean():.0f} m (cell {CELL:.0f} m)"})

    t = time.perf_counter()
    cores = core_areas(hab, "amur_tiger", min_area_ha=500)
    rows.append({"step": "core_areas", "method": "tbpa", "cells": hab.size,
                 "seconds": time.perf_counter() - t, "check": f"{len(cores)} cores"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["4M", "16M"], choices=list(SIZES))
    ap.add_argument("--lookup-cells", type=float, nargs="+", default=[1e7, 1e8])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for cells in args.lookup_cells:
        rows += bench_lookup(int(cells), rng)
    for size in args.sizes:
        rows += bench_surface(SIZES[size], rng)
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
