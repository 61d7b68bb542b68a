"""Benchmark: pairwise mode with focal REGIONS, one factorisation vs one graph per pair.

Circuitscape shorts only the two focal regions of the pair being solved, so it builds and
factorises one graph per pair (k(k-1)/2 of them). tbpa factorises the base graph once and
solves each pair as a small constrained system on the regions' boundary nodes
(``tbpa/connectivity/_focal_regions.py``); both give the same numbers.

Same grid for both (seeded log-normal resistance, 8 neighbours, average conductance,
``--side`` x ``--side`` cells) with ``--regions`` square focal regions of ``--size`` x
``--size`` cells; all pairwise resistances + cumulative current (``current_map``). The
per-pair method is run on the first ``--per-pair`` pairs (``included_pairs``) and
extrapolated linearly to all pairs (its cost per pair is constant). Each method runs in its
own subprocess with one BLAS thread; peak RSS from ``os.wait4``.

Run::

    python benchmarks/bench_focal_regions.py                  # 1 M cells, 10 regions 9 x 9
    python benchmarks/bench_focal_regions.py --side 500 --per-pair 45
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

SEED = 0


def grid(side: int) -> np.ndarray:
    return np.random.default_rng(SEED).lognormal(1.0, 1.0, size=(side, side))


def region_labels(side: int, k: int, size: int) -> np.ndarray:
    """k non-overlapping size x size squares at seeded random positions."""
    rng = np.random.default_rng(SEED + 1)
    lab = np.zeros((side, side))
    placed = 0
    while placed < k:
        r, c = rng.integers(0, side - size, size=2)
        if (lab[max(r - 1, 0):r + size + 1, max(c - 1, 0):c + size + 1] == 0).all():
            placed += 1
            lab[r:r + size, c:c + size] = placed
    return lab


def work(method: str, side: int, k: int, size: int, n_pairs: int | None = None):
    from tbpa.connectivity import circuit, current_map

    circuit_method = {"superpose": "superpose", "per-pair": "per_pair"}[method]
    circuit._region_method = lambda *args: circuit_method  # pin the method (no auto choice)
    res, lab = grid(side), region_labels(side, k, size)
    pairs = [(a, b) for a in range(1, k + 1) for b in range(a + 1, k + 1)]
    included = pairs[:n_pairs] if n_pairs else None
    t0, c0 = time.perf_counter(), time.process_time()
    ds = current_map(res, lab, mode="pairwise", included_pairs=included, progress=False)
    out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
           "pairs": len(included or pairs)}
    R = ds.resistance.values
    out["r"] = {f"{a}-{b}": float(R[a - 1, b - 1]) for a, b in (included or pairs)}
    out["cum_sum"] = float(ds.cumulative_current.values.sum())
    return out


def run_worker(**kw):
    cmd = [sys.executable, __file__, "--worker", json.dumps(kw)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"worker {kw['method']} failed:\n{stderr}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["rss_gb"] = usage.ru_maxrss / 1024**2
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker")
    p.add_argument("--side", type=int, default=1000)
    p.add_argument("--regions", type=int, default=10)
    p.add_argument("--size", type=int, default=9, help="region side in cells (default 9)")
    p.add_argument("--per-pair", type=int, default=3,
                   help="pairs solved by the per-pair method (extrapolated to all)")
    a = p.parse_args(argv)
    if a.worker:
        print(json.dumps(work(**json.loads(a.worker))))
        return 0
    k = a.regions
    n_all = k * (k - 1) // 2
    base = dict(side=a.side, k=k, size=a.size)
    fast = run_worker(method="superpose", **base)
    slow = run_worker(method="per-pair", n_pairs=min(a.per_pair, n_all), **base)
    scale = n_all / slow["pairs"]
    diff = max(abs(fast["r"][key] - v) / abs(v) for key, v in slow["r"].items() if v > 0)
    print(f"{a.side}x{a.side} cells, {k} focal regions of {a.size}x{a.size} cells, {n_all} pairs:"
          " all resistances + cumulative current")
    print(f"{'method':<44} {'wall s':>8} {'cpu s':>8} {'peak GiB':>9}  note")
    print(f"{'tbpa: one factorisation + superposition':<44} {fast['wall']:>8.1f} {fast['cpu']:>8.1f}"
          f" {fast['rss_gb']:>9.2f}  all {n_all} pairs")
    print(f"{'one graph + factorisation per pair (CS)':<44} {slow['wall'] * scale:>8.1f}"
          f" {slow['cpu'] * scale:>8.1f} {slow['rss_gb']:>9.2f}  measured {slow['pairs']} pairs,"
          f" x{scale:.1f} extrapolated")
    print(f"speed-up: wall x{slow['wall'] * scale / fast['wall']:.1f}, "
          f"cpu x{slow['cpu'] * scale / fast['cpu']:.1f}; max relative difference of the "
          f"compared resistances {diff:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
