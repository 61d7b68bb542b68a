"""Benchmark tbpa.connectivity.cost_distance against skimage, scipy and GRASS r.cost.

Every method runs in its own subprocess so that time and peak memory are measured
separately: peak memory is the process's peak resident set size during the call (VmHWM,
reset just before it through /proc/self/clear_refs; Linux only) minus the resident size at
the start of the call, which already holds the input raster. JIT compilation (numba) is
warmed up on a tiny raster first and excluded.

Rasters: square, resistance ~ U(1, 100) (seed 0), 100 m cells, one source at the centre,
8 neighbours. skimage's ``MCP_Geometric`` uses the same convention (mean of the two cells'
costs x step length, in cell units, multiplied here by the cell size); scipy's
``csgraph.dijkstra`` runs on the explicit 8-neighbour graph built with the convention
(graph building timed separately).

Usage::

    python benchmarks/bench_leastcost.py                 # 1M and 9M cells
    python benchmarks/bench_leastcost.py --sizes 1M --with-16m
    python benchmarks/bench_leastcost.py --scipy-max-cells 2e6   # skip scipy on big grids
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CELL = 100.0
SIZES = {"1M": 1000, "4M": 2000, "9M": 3000, "16M": 4000}


def make_raster(n: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(1.0, 100.0, (n, n))


def _status(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_rss_bytes() -> int:
    """Reset the peak RSS (Linux clear_refs) and return the current RSS as the baseline.

    Without the reset, transient copies made while preparing the input would hide the
    method's own peak.
    """
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status("VmRSS")


def current_peak_bytes() -> int:
    return _status("VmHWM")


# -- workers (run in a fresh subprocess each) ------------------------------------------------
def run_tbpa(res, out):
    from affine import Affine

    import tbpa
    from tbpa.connectivity import cost_distance

    n = res.shape[0]
    tiny = tbpa.io.from_array(np.ones((5, 5)), transform=Affine(CELL, 0, 0, 0, -CELL, 5 * CELL),
                              crs="EPSG:3035")
    cost_distance(tiny, (250.0, 250.0))  # JIT warm-up (cached on disk after the first run)
    da = tbpa.io.from_array(res, transform=Affine(CELL, 0, 0, 0, -CELL, n * CELL), crs="EPSG:3035")
    xy = ((n // 2 + 0.5) * CELL, (n - n // 2 - 0.5) * CELL)
    base = peak_rss_bytes()
    t0 = time.perf_counter()
    cwd = cost_distance(da, xy)
    secs = time.perf_counter() - t0
    np.save(out, cwd.values)
    return secs, base, {}


def run_skimage(res, out):
    from skimage.graph import MCP_Geometric

    n = res.shape[0]
    MCP_Geometric(np.ones((5, 5)), fully_connected=True).find_costs([(2, 2)])
    base = peak_rss_bytes()
    t0 = time.perf_counter()
    costs, _ = MCP_Geometric(res, fully_connected=True).find_costs([(n // 2, n // 2)])
    secs = time.perf_counter() - t0
    np.save(out, costs * CELL)
    return secs, base, {}


def explicit_graph(res):
    from scipy.sparse import coo_matrix

    nr, nc = res.shape
    idx = np.arange(nr * nc).reshape(nr, nc)
    rows, cols, w = [], [], []
    for dr, dc in [(0, 1), (1, 0), (1, 1), (1, -1)]:
        a = idx[: nr - dr, max(0, -dc): nc - max(0, dc)].ravel()
        b = idx[dr:, max(0, dc): nc + min(0, dc) or None].ravel()
        wt = 0.5 * (res.ravel()[a] + res.ravel()[b]) * CELL * np.hypot(dr, dc)
        rows += [a, b]
        cols += [b, a]
        w += [wt, wt]
    rows, cols, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
    return coo_matrix((w, (rows, cols)), shape=(nr * nc, nr * nc)).tocsr()


def run_scipy(res, out):
    from scipy.sparse.csgraph import dijkstra

    n = res.shape[0]
    base = peak_rss_bytes()
    t0 = time.perf_counter()
    g = explicit_graph(res)
    t1 = time.perf_counter()
    d = dijkstra(g, indices=(n // 2) * n + n // 2, min_only=True)
    secs = time.perf_counter() - t0
    np.save(out, d.reshape(n, n))
    return secs, base, {"graph_s": round(t1 - t0, 2)}


def run_grass(res, out):
    """GRASS r.cost in a throw-away location (needs `grass` on PATH)."""
    import rasterio
    from affine import Affine

    n = res.shape[0]
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "res.tif"
    with rasterio.open(src, "w", driver="GTiff", width=n, height=n, count=1, dtype="float64",
                       crs="EPSG:3035", transform=Affine(CELL, 0, 0, 0, -CELL, n * CELL)) as ds:
        ds.write(res, 1)
    x, y = (n // 2 + 0.5) * CELL, (n - n // 2 - 0.5) * CELL
    script = tmp / "job.sh"
    script.write_text(
        f"r.in.gdal input={src} output=res -o --quiet\n"
        "g.region raster=res\n"
        f"/usr/bin/time -f %e r.cost -k input=res output=cwd start_coordinates={x},{y} --quiet "
        f"2> {tmp}/time.txt\n"
        f"r.out.gdal input=cwd output={tmp}/cwd.tif format=GTiff type=Float64 --quiet\n"
    )
    script.chmod(0o755)
    subprocess.run(["grass", "-c", "EPSG:3035", str(tmp / "loc"), "--exec", "bash", str(script)],
                   check=True, capture_output=True)
    secs = float((tmp / "time.txt").read_text().split()[-1])
    with rasterio.open(tmp / "cwd.tif") as ds:
        # GRASS r.cost charges each step by the mean of the cell costs x distance, as here.
        np.save(out, ds.read(1))
    shutil.rmtree(tmp, ignore_errors=True)
    # base None: the peak is the largest GRASS child process (r.cost), not this process.
    return secs, None, {"memory": "largest GRASS child"}


WORKERS = {"tbpa": run_tbpa, "skimage": run_skimage, "scipy": run_scipy, "grass r.cost": run_grass}


def worker(method: str, n: int, out: str) -> None:
    res = make_raster(n)
    secs, base, extra = WORKERS[method](res, out)
    if base is None:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    else:
        peak = current_peak_bytes() - base
    print(json.dumps({"seconds": secs, "peak_bytes": peak, **extra}))


# -- driver -----------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1M", "9M"], choices=list(SIZES))
    ap.add_argument("--with-16m", action="store_true", help="also run the 16M-cell raster")
    ap.add_argument("--scipy-max-cells", type=float, default=10e6,
                    help="skip scipy (explicit graph) above this many cells (default 1e7)")
    ap.add_argument("--methods", nargs="+", default=list(WORKERS), choices=list(WORKERS))
    ap.add_argument("--worker", nargs=3, metavar=("METHOD", "N", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.worker[2])
        return 0
    sizes = list(dict.fromkeys(args.sizes + (["16M"] if args.with_16m else [])))
    tmp = Path(tempfile.mkdtemp(prefix="bench_leastcost_"))
    header = f"{'method':<13} {'cells':>11} {'seconds':>8} {'peak MB':>8} {'B/cell':>7} " \
             f"{'max |diff|':>11} {'max rel diff':>12}  notes"
    print(header + "\n" + "-" * len(header), flush=True)
    try:
        for size in sizes:
            n = SIZES[size]
            ref = None
            for method in args.methods:
                note = ""
                if method == "grass r.cost" and not shutil.which("grass"):
                    continue
                if method == "scipy" and n * n > args.scipy_max_cells:
                    line = f"{method:<13} {n * n:>11,d} {'skipped (--scipy-max-cells)':>30}"
                    print(line, flush=True)
                    continue
                out = tmp / f"{method.split()[0]}_{n}.npy"
                cmd = [sys.executable, __file__, "--worker", method, str(n), str(out)]
                proc = subprocess.run(cmd,
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    last = proc.stderr.strip().splitlines()[-1:]
                    line = f"{method:<13} {n * n:>11,d} failed: {last}"
                    print(line, flush=True)
                    continue
                info = json.loads(proc.stdout.strip().splitlines()[-1])
                arr = np.load(out)
                if method == "tbpa":
                    ref, dabs, drel = arr, 0.0, 0.0
                else:
                    diff = np.abs(arr - ref)
                    dabs = float(diff.max())
                    drel = float((diff / np.maximum(np.abs(ref), 1e-300)).max())
                    out.unlink()
                note = ", ".join(f"{k}={v}" for k, v in info.items()
                                 if k not in ("seconds", "peak_bytes"))
                line = (f"{method:<13} {n * n:>11,d} {info['seconds']:>8.2f} "
                        f"{info['peak_bytes'] / 2**20:>8.0f} {info['peak_bytes'] / (n * n):>7.1f} "
                        f"{dabs:>11.3g} {drel:>12.3g}  {note}")
                print(line, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
