"""Benchmark: Omniscape moving window on a large grid, Dask 1 vs 2 workers.

Usage::

    python benchmarks/bench_omniscape.py            # 2 M cells, radius 100, block 11
    python benchmarks/bench_omniscape.py --quick    # 250 k cells, radius 40, block 7
    python benchmarks/bench_omniscape.py --sample-cols 32  # every 32nd column of targets
    python benchmarks/bench_omniscape.py --workers 2       # full run, 2 workers only

By default every window is solved. With ``--sample-cols S`` only the targets of every S-th
column of targets are solved (whole columns, so edge and interior windows and the
flow-potential factor cache behave as in a full run) and the full time is extrapolated
from the time per window. The 1-vs-2-worker comparison always uses the same windows.
Peak memory is the largest resident set of the client process and of each worker process.
The machine's 2 cores are shared with other jobs: timings are noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from tbpa.connectivity import moving_window as mw


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def landscape(side: int, seed: int = 0):
    """Smooth random resistance (1..100, log-normal texture) and sources = 1/R."""
    rng = np.random.default_rng(seed)
    coarse = rng.normal(size=(side // 16 + 2, side // 16 + 2))
    from scipy.ndimage import zoom

    field = zoom(coarse, 16, order=3)[:side, :side] + 0.3 * rng.normal(size=(side, side))
    res = np.exp(2.3 * (field - field.min()) / (field.max() - field.min()) * 2)  # 1..~100
    return res, 1.0 / res


def run(res, src, radius, block, client, sample_cols=None):
    p = mw._Params(radius, 0, block, False, True, block > 1, res.shape[0], res.shape[1])
    half = p.half
    cond_pad = np.pad(1.0 / res, half, constant_values=np.nan)
    src_pad = np.pad(src, half)
    tg = mw.targets(src, block)
    if sample_cols:
        col = (tg[:, 1] - (block - 1) // 2) // block
        tg = tg[col % sample_cols == 0]
    corr = mw.correction_array(p) if p.correct else None
    batches = [tg[i : i + mw.BATCH_SIZE] for i in range(0, tg.shape[0], mw.BATCH_SIZE)]
    cum = np.zeros_like(cond_pad)
    t0 = time.perf_counter()
    for r0, c0, c, _ in mw._map_batches(p, cond_pad, src_pad, batches, corr, client, None, False):
        cum[r0 : r0 + c.shape[0], c0 : c0 + c.shape[1]] += c
    return time.perf_counter() - t0, tg.shape[0], cum


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="250 k cells, radius 40, block 7")
    ap.add_argument("--sample-cols", type=int, default=None,
                    help="solve only every S-th column of targets and extrapolate")
    ap.add_argument("--workers", default="1,2",
                    help="comma-separated numbers of Dask workers to time (default 1,2)")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    side, radius, block = (500, 40, 7) if args.quick else (1415, 100, 11)
    res, src = landscape(side)
    n_all = mw.targets(src, block).shape[0]
    print(f"grid {side}x{side} = {side * side / 1e6:.2f} M cells, radius {radius}, block {block}, "
          f"{n_all} windows"
          + (f", sampling every {args.sample_cols}th column of targets"
             if args.sample_cols else ""))
    from distributed import Client, LocalCluster

    rows = []
    maps = {}
    for n in counts:
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=None, memory_limit="3.5GB") as cluster, \
                Client(cluster) as client:
            t, nw, cum = run(res, src, radius, block, client, args.sample_cols)
            worker_rss = max(client.run(_rss_gb).values())
        maps[n] = cum
        rows.append((n, nw, t, t / nw, t / nw * n_all, worker_rss))
    first = maps[counts[0]]
    same = all(np.array_equal(first, m) for m in maps.values())
    print(f"\n{'workers':>7} {'windows':>8} {'time s':>9} {'s/window':>9} "
          f"{'full run s (est.)':>18} "
          f"{'worker RSS GB':>14}")
    for n, nw, t, per, full, rss in rows:
        print(f"{n:>7} {nw:>8} {t:>9.1f} {per:>9.3f} {full:>18.0f} {rss:>14.2f}")
    if len(rows) > 1:
        print(f"\nspeed-up {rows[-1][0]} vs {rows[0][0]} workers: "
              f"{rows[0][2] / rows[-1][2]:.2f}x; identical maps: {same}")
    print(f"client peak RSS {_rss_gb():.2f} GB; cores {os.cpu_count()}")


if __name__ == "__main__":
    main()
