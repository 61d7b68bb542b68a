"""Benchmark: tbpa circuit solves vs a Circuitscape-style per-pair AMG loop vs scipy spsolve.

One run, same grids (seeded log-normal resistance, 8 neighbours, average conductance):

* 1 M cells (1000 x 1000), 10 focal points: all 45 pairwise resistances + cumulative current.
  - ``tbpa``: ``tbpa.connectivity.current_map(mode="pairwise")`` (k - 1 = 9 solves against
    one factorisation; solver="auto" picks the direct one here);
  - ``cs4-loop``: Circuitscape 4 style: per pair, build a pyamg smoothed-aggregation
    hierarchy (CS4 rebuilds it in every worker because it cannot be pickled), one CG solve
    (Circuitscape's tolerance 1e-6), node currents, accumulate;
  - ``cs5-loop``: Circuitscape.jl style: one hierarchy, one CG solve per pair;
  - ``spsolve``: one ``scipy.sparse.linalg.spsolve`` of one pair (the naive direct baseline).
  The loops can be run on the first ``--loop-pairs`` pairs and extrapolated linearly to 45
  (printed as such) to keep the benchmark short on a shared machine.
* 9 M cells (3000 x 3000): one solve (resistance between two points).
  - ``tbpa``: ``pairwise_resistance`` (solver="auto" picks AMG at this size);
  - ``pyamg``: plain scipy COO assembly + pyamg smoothed aggregation + CG.

Every method runs in its own subprocess (one BLAS thread each); peak RSS from ``os.wait4``. Wall and CPU
times are printed (the CPU is shared with other jobs: wall times are noisy, CPU times less).

Run::

    python benchmarks/bench_circuit.py            # full
    python benchmarks/bench_circuit.py --loop-pairs 5 --skip-9m
    python benchmarks/bench_circuit.py --only-9m   # the 9 M single solve alone
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


def grid(n_side: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    return rng.lognormal(1.0, 1.0, size=(n_side, n_side))


def focal_labels(n_side: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(SEED + 1)
    lab = np.zeros((n_side, n_side))
    cells = rng.choice(n_side * n_side, size=k, replace=False)
    lab.ravel()[cells] = np.arange(1, k + 1)
    return lab


# ------------------------------------------------------------------------------ workers
def _laplacian_scipy(res: np.ndarray):
    """Circuitscape's graph assembled the plain way (COO, int64), no tbpa code."""
    import scipy.sparse as sp

    g = 1.0 / res
    rows, cols = g.shape
    idx = np.arange(g.size).reshape(g.shape)
    I, J, W = [], [], []
    for (dr, dc, f) in ((0, 1, 1.0), (1, 0, 1.0), (1, 1, 2 ** -0.5), (1, -1, 2 ** -0.5)):
        a = (slice(0, rows - dr), slice(max(0, -dc), cols - max(0, dc)))
        b = (slice(dr, rows), slice(max(0, dc), cols + min(0, dc)))
        I.append(idx[a].ravel()); J.append(idx[b].ravel())
        W.append(((g[a] + g[b]) / 2 * f).ravel())
    I, J, W = np.concatenate(I), np.concatenate(J), np.concatenate(W)
    A = sp.coo_matrix((np.r_[W, W], (np.r_[I, J], np.r_[J, I])), shape=(g.size, g.size)).tocsr()
    L = (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()
    return L, (I, J, W)


def _node_currents_np(edges, v):
    I, J, W = edges
    f = W * (v[I] - v[J])
    n = v.size
    out = np.bincount(I, weights=np.maximum(f, 0), minlength=n) + np.bincount(J, weights=np.maximum(-f, 0), minlength=n)
    inn = np.bincount(J, weights=np.maximum(f, 0), minlength=n) + np.bincount(I, weights=np.maximum(-f, 0), minlength=n)
    return np.maximum(out, inn)


def work_tbpa_pairwise(n_side, k, **_):
    from tbpa.connectivity import current_map

    res, lab = grid(n_side), focal_labels(n_side, k)
    t0, c0 = time.perf_counter(), time.process_time()
    ds = current_map(res, lab, mode="pairwise", progress=False)
    out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    R = ds.resistance.values
    out["r_checksum"] = float(np.nansum(R[np.isfinite(R)]))
    out["cum_sum"] = float(ds.cumulative_current.values.sum())
    return out


def work_loop(n_side, k, loop_pairs, rebuild, **_):
    import pyamg
    import scipy.sparse.linalg as spla

    res, lab = grid(n_side), focal_labels(n_side, k)
    t0, c0 = time.perf_counter(), time.process_time()
    L, edges = _laplacian_scipy(res)
    nodes = [int(np.flatnonzero(lab.ravel() == i)[0]) for i in range(1, k + 1)]
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)][:loop_pairs]
    # one ground per pair: Circuitscape grounds by removing a node; here node 0 of the grid
    keep = np.arange(1, L.shape[0])
    A = L[keep][:, keep].tocsr()
    cum = np.zeros(L.shape[0])
    ml = None
    R = []
    for a, b in pairs:
        if rebuild or ml is None:
            ml = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
        rhs = np.zeros(L.shape[0])
        rhs[nodes[a]], rhs[nodes[b]] = -1.0, 1.0
        x, _ = spla.cg(A, rhs[keep], rtol=1e-6, M=ml.aspreconditioner())
        v = np.zeros(L.shape[0])
        v[keep] = x
        R.append(v[nodes[b]] - v[nodes[a]])
        cum += _node_currents_np(edges, v)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall": wall, "cpu": cpu, "pairs": len(pairs), "r": R}


def work_spsolve(n_side, k, **_):
    import scipy.sparse.linalg as spla

    res, lab = grid(n_side), focal_labels(n_side, k)
    t0, c0 = time.perf_counter(), time.process_time()
    L, _ = _laplacian_scipy(res)
    a, b = [int(np.flatnonzero(lab.ravel() == i)[0]) for i in (1, 2)]
    keep = np.arange(1, L.shape[0])
    rhs = np.zeros(L.shape[0])
    rhs[a], rhs[b] = -1.0, 1.0
    x = spla.spsolve(L[keep][:, keep].tocsc(), rhs[keep])
    v = np.r_[0.0, x]
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "r": float(v[b] - v[a])}


def work_tbpa_single(n_side, **_):
    from tbpa.connectivity import pairwise_resistance

    res, lab = grid(n_side), focal_labels(n_side, 2)
    t0, c0 = time.perf_counter(), time.process_time()
    df = pairwise_resistance(res, lab, progress=False)
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "r": float(df.iloc[0, 1])}


def work_pyamg_single(n_side, **_):
    import pyamg
    import scipy.sparse.linalg as spla

    res, lab = grid(n_side), focal_labels(n_side, 2)
    t0, c0 = time.perf_counter(), time.process_time()
    L, _ = _laplacian_scipy(res)
    a, b = [int(np.flatnonzero(lab.ravel() == i)[0]) for i in (1, 2)]
    keep = np.arange(1, L.shape[0])
    A = L[keep][:, keep].tocsr()
    ml = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
    rhs = np.zeros(L.shape[0])
    rhs[a], rhs[b] = -1.0, 1.0
    x, _ = spla.cg(A, rhs[keep], rtol=1e-6, M=ml.aspreconditioner())
    v = np.r_[0.0, x]
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "r": float(v[b] - v[a])}


WORKERS = {"tbpa-pairwise": work_tbpa_pairwise, "cs4-loop": work_loop, "cs5-loop": work_loop,
           "spsolve": work_spsolve, "tbpa-single": work_tbpa_single, "pyamg-single": work_pyamg_single}


def run_worker(name, **kw):
    """Run one method in a subprocess; return its JSON result plus peak RSS (GiB)."""
    cmd = [sys.executable, __file__, "--worker", name, "--kw", json.dumps(kw)]
    # one BLAS thread everywhere: on a shared 2-core machine OpenBLAS thread spinning made
    # pyamg's set-up ~20x slower, which would flatter tbpa against the AMG loops
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out_chunks = []
    # read before wait4 so a full pipe cannot block the child
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_chunks.append(stdout)
    if proc.returncode != 0:
        return {"error": stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {proc.returncode}",
                "rss_gb": usage.ru_maxrss / 1024**2}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["rss_gb"] = usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker")
    p.add_argument("--kw", default="{}")
    p.add_argument("--side", type=int, default=1000, help="1 M-cell grid side (default 1000)")
    p.add_argument("--big-side", type=int, default=3000, help="9 M-cell grid side (default 3000)")
    p.add_argument("--points", type=int, default=10)
    p.add_argument("--loop-pairs", type=int, default=45,
                   help="pairs actually solved by the per-pair loops (extrapolated to all)")
    p.add_argument("--skip-9m", action="store_true")
    p.add_argument("--only-9m", action="store_true",
                   help="run only the 9 M-cell tbpa single solve (memory / time target)")
    a = p.parse_args(argv)
    if a.worker:
        kw = json.loads(a.kw)
        print(json.dumps(WORKERS[a.worker.split(":")[0]](**kw)))
        return 0
    k = a.points
    npairs = k * (k - 1) // 2
    rows = []
    if a.only_9m:
        r = run_worker("tbpa-single", n_side=a.big_side)
        if "error" in r:
            print(f"9M tbpa single solve FAILED: {r['error']} (peak {r['rss_gb']:.2f} GiB)")
            return 1
        print(f"9M tbpa single solve: wall {r['wall']:.1f} s, cpu {r['cpu']:.1f} s, "
              f"peak RSS {r['rss_gb']:.2f} GiB, R = {r['r']:.9f}")
        return 0
    base = dict(n_side=a.side, k=k)
    t = run_worker("tbpa-pairwise", **base)
    rows.append(("1M, 10 pts: all pairs + cum. current", "tbpa (k-1 solves, auto=direct)", t, 1.0))
    for name, rebuild, label in (("cs4-loop", True, "CS4-style loop (AMG rebuilt per pair)"),
                                 ("cs5-loop", False, "CS5-style loop (AMG reused, 1 CG/pair)")):
        r = run_worker(name, loop_pairs=a.loop_pairs, rebuild=rebuild, **base)
        scale = npairs / r["pairs"] if "pairs" in r else 1.0
        rows.append(("1M, 10 pts: all pairs + cum. current", label, r, scale))
    s = run_worker("spsolve", **base)
    rows.append(("1M: one pair", "scipy spsolve (1 pair; x45 for all)", s, 1.0))
    if not a.skip_9m:
        rows.append(("9M: one solve", "tbpa (auto=AMG-PCG)", run_worker("tbpa-single", n_side=a.big_side), 1.0))
        rows.append(("9M: one solve", "plain scipy COO + pyamg SA + CG", run_worker("pyamg-single", n_side=a.big_side), 1.0))
    print(f"{'task':<38} {'method':<42} {'wall s':>8} {'cpu s':>8} {'peak GiB':>9}  note")
    for task, label, r, scale in rows:
        if "error" in r:
            print(f"{task:<38} {label:<42} {'-':>8} {'-':>8} {r['rss_gb']:>9.2f}  FAILED: {r['error']}")
            continue
        note = f"measured {r['pairs']} pairs, x{scale:.0f} extrapolated" if scale != 1.0 else ""
        if "r_checksum" in r:
            note = f"sum R = {r['r_checksum']:.4f}"
        elif "r" in r and not isinstance(r["r"], list):
            note = (note + f" R = {r['r']:.6f}").strip()
        print(f"{task:<38} {label:<42} {r['wall'] * scale:>8.1f} {r['cpu'] * scale:>8.1f} {r['rss_gb']:>9.2f}  {note}")
    tb = rows[0][2]
    for task, label, r, scale in rows[1:3]:
        if "error" not in r and "error" not in tb:
            print(f"speed-up of tbpa over {label}: wall x{r['wall'] * scale / tb['wall']:.1f}, "
                  f"cpu x{r['cpu'] * scale / tb['cpu']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
