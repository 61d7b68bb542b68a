"""Solve grounded graph-Laplacian systems for many right-hand sides with one setup.

A resistor network's Laplacian ``L`` is singular on every connected component that has no
conductance to ground. :class:`LaplacianSolver` holds one node per such *floating*
component at 0 V (removes its row and column), which makes the rest nonsingular (symmetric
positive definite), then prepares ONE of:

``"direct"``
    Sparse LU (SuperLU) of the grounded matrix with a minimum-degree ordering of ``A + A'``
    and no pivoting (the matrix is SPD), factorised once; every right-hand side then costs
    two triangular solves. Fast and exact for small and medium grids; memory grows like
    ``n log n``.
``"amg"``
    Conjugate gradients preconditioned by a V-cycle of a smoothed-aggregation hierarchy
    (pyamg, tuned for Laplacians: see :class:`_VCycle`), built once and reused for every
    right-hand side. Memory grows like ``n``; used for large grids. The matrix may be given
    half-stored (:class:`~tbpa.connectivity._symmetric.SymmetricMatrix`), as the circuit
    solvers do for large graphs: 40 % less memory for the finest level.
    Each solve checks its true residual and raises :class:`~tbpa.errors.ConnectivityError`
    when CG did not converge, rather than returning an inaccurate answer.

``"auto"`` takes the direct factorisation when its estimated memory fits the budget
(``tbpa.get_option("max_memory_gb")``) and the graph has at most ``DIRECT_MAX_NODES``
nodes, else AMG. Either method refuses up front, with :class:`~tbpa.errors.SolverMemoryError`,
when its estimate exceeds the budget.

Independent right-hand sides are solved in fixed blocks of columns, in a thread pool
(``n_jobs``) or on a dask.distributed ``client``; the blocks do not depend on the number of
workers, so neither do the results.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit
from scipy.sparse.csgraph import connected_components

from ..errors import ConnectivityError, SolverMemoryError, ValidationError
from ..options import get_option, resolve_progress
from ._symmetric import SymmetricMatrix

__all__ = ["LaplacianSolver", "estimate_memory_gb", "pick_method", "DIRECT_MAX_NODES", "BLOCK"]

#: Largest graph (nodes) that ``solver="auto"`` factorises directly: about where AMG-PCG
#: becomes as fast (1 M nodes, 9 right-hand sides: 13.1 s direct vs 13.1 s AMG; 1.5 M
#: nodes: 22.9 s vs 20.6 s, with AMG at 40 % of the memory).
DIRECT_MAX_NODES = 1_000_000
#: Right-hand sides per work unit (fixed, so results never depend on the worker count).
BLOCK = 8
_METHODS = ("auto", "direct", "amg")
_ALIASES = {"cholmod": "direct", "direct": "direct", "splu": "direct",
            "cg+amg": "amg", "amg": "amg", "auto": "auto"}

# Per-process cache of rebuilt solvers, so a dask worker rebuilds a factor once, not once
# per task; bounded (most recent two) so finished solvers do not pin memory.
_REBUILT: "OrderedDict[str, LaplacianSolver]" = OrderedDict()
_REBUILT_MAX = 2
_REBUILT_LOCK = threading.Lock()


def estimate_memory_gb(n: int, nnz: int, method: str, symmetric: bool = False) -> float:
    """Rough peak memory (GiB) of setting up *method* on an n-node matrix with nnz entries.

    Direct: SuperLU's L+U hold about ``6 n log2 n`` entries on 8-neighbour grids (measured
    on 0.1-1 M-node grids), 12 bytes each, and the factorisation peaks at about 2.4 times
    that. AMG on a CSR matrix: the matrix, its hierarchy and set-up temporaries come to
    about 2.1 copies of the matrix, plus ten vectors (CG and the cycle). AMG on a
    :class:`~tbpa.connectivity._symmetric.SymmetricMatrix` (half storage, ``symmetric=True``):
    the finest level costs 6 bytes per off-diagonal entry and 12 per node, the finest
    prolongator (set-up) or the CG vectors about 4 bytes per off-diagonal entry more, the
    coarse levels about 2 bytes per entry, aggregates, scales and CG/cycle vectors ~8
    vectors: 1.5 GiB estimated for a 9 M-cell 8-neighbour grid, whose single solve measured
    1.6 GiB peak RSS for the whole process (of which ~0.35 GiB are the interpreter, the
    libraries and the benchmark's own rasters).
    """
    n = max(int(n), 2)
    if method == "direct":
        fill = 6.0 * n * np.log2(n)
        nbytes = 2.4 * 12.0 * fill + 12.0 * nnz
    elif symmetric:
        off = max(int(nnz) - n, 0)
        nbytes = 10.0 * off + 2.0 * nnz + 12.0 * n + 8 * 8.0 * n
    else:
        nbytes = 2.1 * 12.0 * nnz + 10 * 8.0 * n
    return nbytes / 1024**3


def pick_method(n: int, nnz: int, method: str = "auto", estimates: dict | None = None) -> str:
    """The method ``solver=method`` resolves to for an n-node matrix with nnz entries:
    "direct" when asked for, or for ``"auto"`` when the graph has at most
    ``DIRECT_MAX_NODES`` nodes and the factorisation fits ``max_memory_gb``; else "amg".
    (Whether the chosen method fits the budget is checked by :class:`LaplacianSolver`.)"""
    method = _ALIASES.get(method, method)
    if method != "auto":
        return method
    est = estimates or {"direct": estimate_memory_gb(n, nnz, "direct")}
    fits = est["direct"] <= float(get_option("max_memory_gb"))
    return "direct" if (n <= DIRECT_MAX_NODES and fits) else "amg"


class LaplacianSolver:
    """Factorise (or precondition) a grounded Laplacian once; solve many right-hand sides.

    Parameters
    ----------
    matrix : scipy.sparse matrix or SymmetricMatrix
        Symmetric n x n Laplacian, optionally with extra diagonal conductance to ground; a
        half-stored :class:`~tbpa.connectivity._symmetric.SymmetricMatrix` is used as it is
        by AMG (converted to CSR for the direct method).
    ground : array_like of int, optional
        Nodes held at 0 V. By default one node per floating component (the component's
        lowest-numbered node); components with conductance to ground need none.
    method : {"auto", "direct", "amg"}
        Also accepts Circuitscape's names "cholmod" (direct) and "cg+amg" (AMG).
    rtol : float
        Relative residual that AMG-preconditioned CG must reach (default 1e-7; Circuitscape
        uses 1e-6).
    n_jobs : int, optional
        Threads for independent right-hand sides (default: ``tbpa.get_option("n_jobs")``).
    client : dask.distributed.Client, optional
        Run blocks of right-hand sides on a Dask cluster instead of local threads.
    progress : bool, optional
        Show a progress bar over blocks of right-hand sides.
    overwrite : bool
        Ground *matrix* in place (saves a copy of a large matrix the caller no longer needs).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> L = sp.csr_matrix(np.array([[1., -1, 0], [-1, 2, -1], [0, -1, 1]]))
    >>> s = LaplacianSolver(L, ground=[0])
    >>> s.solve(np.array([-1.0, 0, 1]))  # 1 A in at node 2, out at the ground
    array([0., 1., 2.])
    """

    def __init__(self, matrix, *, ground=None, method: str = "auto", rtol: float = 1e-7,
                 n_jobs: int | None = None, client=None, progress: bool | None = None,
                 overwrite: bool = False):
        if method not in _ALIASES:
            raise ValidationError(f"solver must be one of {_METHODS} (or 'cholmod', 'cg+amg'), "
                                  f"got {method!r}")
        # a SymmetricMatrix (half storage) is kept as it is: AMG uses it on its finest level
        mat = matrix if isinstance(matrix, SymmetricMatrix) else sp.csr_matrix(matrix,
                                                                               dtype=np.float64)
        if mat.shape[0] != mat.shape[1]:
            raise ValidationError(f"matrix must be square, got {mat.shape}")
        self.n = mat.shape[0]
        self.rtol = float(rtol)
        self.n_jobs = int(n_jobs) if n_jobs is not None else int(get_option("n_jobs"))
        self.client = client
        self.progress = progress
        self.ground = self._choose_ground(mat, ground)
        free = np.ones(self.n, dtype=bool)
        free[self.ground] = False
        self.free = np.flatnonzero(free)
        # Ground by replacing rows/columns with identity ones (same size, no reduced copy)
        self._A = _grounded(mat, self.ground, overwrite)
        self.method = self._choose_method(_ALIASES[method])
        self._token = uuid.uuid4().hex
        self._setup()

    # -- set-up -------------------------------------------------------------------------
    @staticmethod
    def _choose_ground(mat: sp.csr_matrix, ground) -> np.ndarray:
        if ground is not None:
            g = np.unique(np.asarray(ground, dtype=np.int64).ravel())
            if g.size and (g.min() < 0 or g.max() >= mat.shape[0]):
                raise ValidationError(f"ground nodes must lie in 0..{mat.shape[0] - 1}")
            return g
        n = mat.shape[0]
        if n == 0:
            return np.zeros(0, np.int64)
        if isinstance(mat, SymmetricMatrix):
            ncomp, labels = mat.components()
            rowsum = np.abs(mat.row_sums())
        else:
            ncomp, labels = connected_components(mat, directed=False)
            rowsum = np.abs(np.asarray(mat.sum(axis=1)).ravel())
        diag = np.abs(mat.diagonal())
        grounded_row = rowsum > 1e-12 * np.maximum(diag, 1e-300)
        has_ground = np.bincount(labels, weights=grounded_row.astype(float), minlength=ncomp) > 0
        first = np.full(ncomp, n, dtype=np.int64)
        np.minimum.at(first, labels, np.arange(n))
        return np.sort(first[~has_ground])

    def _choose_method(self, method: str) -> str:
        budget = float(get_option("max_memory_gb"))
        n, nnz = self._A.shape[0], self._A.nnz
        half = isinstance(self._A, SymmetricMatrix)
        est = {m: estimate_memory_gb(n, nnz, m, symmetric=half) for m in ("direct", "amg")}
        method = pick_method(n, nnz, method, est)
        if est[method] > budget:
            raise SolverMemoryError(
                f"the {method} solver needs about {est[method]:.1f} GiB for a {n:,}-node graph, "
                f"more than max_memory_gb={budget:.1f} GiB"
                + (f" (AMG would need about {est['amg']:.1f} GiB: pass solver='amg')"
                   if method == "direct" and est["amg"] <= budget else "")
                + "; coarsen the resistance raster (e.g. da.coarsen(x=2, y=2).mean()), split the "
                "area into tiles, or run on a bigger machine / Dask cluster; raise the budget with "
                "tbpa.set_options(max_memory_gb=...) if you know it fits"
            )
        self.memory_estimate_gb = est[method]
        return method

    def _setup(self) -> None:
        A = self._A
        self._lu = self._ml = None
        self._anorm = None
        if A.shape[0] == 0:
            return
        if self.method == "direct":
            if isinstance(A, SymmetricMatrix):
                A = self._A = A.tocsr()
            # SPD matrix: symmetric mode, no pivoting, minimum degree on A + A'.
            # A is symmetric: its CSR arrays read as CSC are A itself (no conversion copy)
            csc = sp.csc_matrix((A.data, A.indices, A.indptr), shape=A.shape)
            self._lu = spla.splu(csc, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                                 options={"SymmetricMode": True})
        else:
            self._ml = _VCycle(A)

    def __getstate__(self):
        # Factor objects cannot be pickled: ship the matrix; workers rebuild (once each).
        state = self.__dict__.copy()
        state.update(_lu=None, _ml=None, client=None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        with _REBUILT_LOCK:
            cached = _REBUILT.get(self._token)
            if cached is None:
                self._setup()
                _REBUILT[self._token] = self
                while len(_REBUILT) > _REBUILT_MAX:
                    _REBUILT.popitem(last=False)
            else:
                _REBUILT.move_to_end(self._token)
                self._lu, self._ml = cached._lu, cached._ml

    # -- solving ------------------------------------------------------------------------
    def solve(self, b: np.ndarray, overwrite_b: bool = False) -> np.ndarray:
        """Solve for node voltages; *b* is (n,) or (n, m) injected currents (A).

        Grounded nodes get 0 V; current injected at a grounded node drains to ground.
        Columns are solved independently (in parallel when ``n_jobs > 1``).
        ``overwrite_b=True`` lets the solver zero the grounded rows of a float64 *b* in
        place instead of copying it (one raster-sized vector per column less).
        """
        b = np.asarray(b, dtype=np.float64)
        vector = b.ndim == 1
        B = b[:, None] if vector else b
        if B.shape[0] != self.n:
            raise ValidationError(f"right-hand side has {B.shape[0]} rows, the matrix {self.n}")
        if self.free.size and B.shape[1]:
            if not overwrite_b:
                B = B.copy()
            B[self.ground] = 0.0  # grounded nodes: identity rows, 0 V
            X = self._solve_reduced(B)
            X[self.ground] = 0.0
        else:
            X = np.zeros_like(B)
        return X[:, 0] if vector else X

    def _solve_reduced(self, B: np.ndarray) -> np.ndarray:
        m = B.shape[1]
        starts = list(range(0, m, BLOCK))
        blocks = [np.ascontiguousarray(B[:, s:s + BLOCK]) for s in starts]
        if self.client is not None:
            futures = self.client.map(_solve_block, [self] * len(blocks), blocks, pure=False)
            results = self.client.gather(futures)
        elif self.n_jobs > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
                results = list(self._progress(pool.map(self._solve_block, blocks), len(blocks)))
        else:
            results = [self._solve_block(blk) for blk in self._progress(blocks, len(blocks))]
        return np.concatenate(results, axis=1)

    def _progress(self, it, total):
        if resolve_progress(self.progress) and total > 1:
            from tqdm.auto import tqdm

            return tqdm(it, total=total, desc=f"{self.method} solves (x{BLOCK})")
        return it

    def _solve_block(self, B: np.ndarray) -> np.ndarray:
        if self.method == "direct":
            return self._lu.solve(B)
        return np.column_stack([self._cg(B[:, k]) for k in range(B.shape[1])])

    def _cg(self, b: np.ndarray) -> np.ndarray:
        nb = np.linalg.norm(b)
        if nb == 0:
            return np.zeros_like(b)
        x, info = _pcg(self._A, b, self._ml, self.rtol, maxiter=2000)
        # normwise backward error |r| / (|A| |x| + |b|) (inf-norms): what float64 can reach
        # even when |x| is huge (extreme contrast), unlike |r| / |b|
        if self._anorm is None:
            # diagonally dominant: the inf-norm lies within a factor 2 of 2 max|a_ii|
            self._anorm = 2.0 * float(np.abs(self._A.diagonal()).max())
        r = b - self._A @ x
        res = np.abs(r).max() / (self._anorm * np.abs(x).max() + np.abs(b).max())
        if info != 0 or not np.isfinite(res) or res > 100 * self.rtol:
            raise ConnectivityError(
                f"AMG-preconditioned CG did not converge (backward error {res:.2e}, target "
                f"{self.rtol:.0e}); the resistance surface is probably too ill-conditioned "
                "(extreme contrast): use solver='direct' (set max_memory_gb if needed) or "
                "compress the resistance range"
            )
        return x

    def residual(self, x: np.ndarray, b: np.ndarray) -> float:
        """Relative residual ``|b - A x| / |b|`` on the free nodes (for checks)."""
        bb = np.array(b, dtype=np.float64)
        bb[self.ground] = 0.0
        r = (bb - self._A @ x)[self.free]
        return float(np.linalg.norm(r) / max(np.linalg.norm(bb[self.free]), 1e-300))


class _VCycle:
    """V(1,1)-cycle of a smoothed-aggregation hierarchy: CG's preconditioner (callable).

    Smoothed aggregation (Vanek, Mandel & Brezina 1996) specialised to grounded graph
    Laplacians, which are symmetric M-matrices whose near-null space is the constant vector:

    * aggregates: pyamg's standard aggregation of the matrix graph itself (for an M-matrix
      this is pyamg's default theta = 0 symmetric strength, without a copy of the matrix);
    * tentative prolongator ``T``: one 1 per aggregated node (the constant is kept exactly on
      every level, so no candidate fitting or improvement sweeps are needed); grounded nodes
      (identity rows) belong to no aggregate;
    * prolongator ``P = T - omega W^-1 A T`` with ``W`` the absolute row sums (a Gershgorin
      bound, pyamg's ``weighting="local"``); a Laplacian row's absolute sum is twice its
      diagonal, so ``omega = 2`` is a damping of 1 relative to D^-1 A (fewest CG iterations
      among 4/3, 2 and 2.5 on log-normal test grids). No spectral-radius estimate: pyamg's
      default runs Arnoldi on every level, which took most of its set-up time and memory;
    * Galerkin coarse matrix ``P' A P``; coarsen until at most ``max_coarse`` nodes, which
      are solved by a dense pseudo-inverse.

    The cycle: one forward Gauss-Seidel sweep (pyamg's compiled kernel) before the coarse
    correction and one backward sweep after it, which keeps the preconditioner symmetric, as
    CG needs; every level is CSR and the restriction is ``P.T`` (no stored copy), except
    the finest prolongator, which is applied as ``T + diag(scale) A T`` from the aggregates
    and the level's matrix (one extra pass over A each way instead of 0.3 GiB at 9 M nodes).

    The finest matrix may be a half-stored
    :class:`~tbpa.connectivity._symmetric.SymmetricMatrix` (diagonal + strict lower
    triangle; what the circuit solvers pass for large graphs): its aggregates (the same as
    pyamg's), sweeps, restriction and prolongation are compiled kernels on that storage, and
    the prolongator and Galerkin product are built a block of full rows at a time, so the full
    CSR matrix never exists. Against pyamg's ``smoothed_aggregation_solver`` +
    ``aspreconditioner`` (what tbpa used before) on a 9 M-node grid: set-up 34 s -> 5.6 s, CG
    12 -> 17 iterations at 40 % of the cost each, whole solve 68 s / 5.3 GiB -> 23 s /
    1.6 GiB (docs/performance.md).
    """

    def __init__(self, A, max_coarse: int = 500, omega: float = 2.0):
        self.levels = []
        while A.shape[0] > max_coarse:
            agg, n_agg = _aggregates(A)
            if n_agg == 0 or n_agg >= A.shape[0]:  # nothing left to aggregate
                break
            P = _smoothed_prolongator(A, agg, n_agg, omega)
            Ac = _galerkin(A, P)
            if not self.levels:
                # finest level: apply P = T + diag(scale) A T from the aggregates and A
                # itself instead of storing it (0.3 GiB at 9 M nodes, at the solve's peak);
                # the scales are recomputed here so they do not sit beside the Galerkin product
                n_coarse = P.shape[1]
                del P
                P = _FineProlongator(agg, _row_scales(A, omega), n_coarse)
            self.levels.append((A, P))
            del agg
            A = Ac
        if isinstance(A, SymmetricMatrix):  # no coarsening at all
            A = A.tocsr()
        # coarsest level: nonsingular once grounded; pinv also copes with a stray null vector
        self.coarse = (np.linalg.pinv(A.toarray()) if A.shape[0] <= 4 * max_coarse
                       else spla.factorized(A.tocsc()))

    def _coarse_solve(self, b: np.ndarray) -> np.ndarray:
        return self.coarse @ b if isinstance(self.coarse, np.ndarray) else self.coarse(b)

    def __call__(self, b: np.ndarray) -> np.ndarray:
        return self._cycle(np.ravel(b), 0)

    def _cycle(self, b: np.ndarray, i: int) -> np.ndarray:
        if i == len(self.levels):
            return self._coarse_solve(b)
        from pyamg.amg_core import gauss_seidel

        A, P = self.levels[i]
        if isinstance(A, SymmetricMatrix):
            return self._cycle_symmetric(A, P, b, i)
        n = A.shape[0]
        x = np.zeros_like(b)
        gauss_seidel(A.indptr, A.indices, A.data, x, b, 0, n, 1)
        r = A @ x
        np.subtract(b, r, out=r)  # residual in place: one fine-level vector fewer
        if isinstance(P, _FineProlongator):
            xc = self._cycle(_restrict(A.indptr, A.indices, A.data, P.agg, P.scale, r,
                                       P.n_coarse), i + 1)
            del r
            _prolong_add(A.indptr, A.indices, A.data, P.agg, P.scale, xc, x)
        else:
            xc = self._cycle(P.T @ r, i + 1)
            del r
            x += P @ xc
        gauss_seidel(A.indptr, A.indices, A.data, x, b, n - 1, -1, -1)
        return x

    def _cycle_symmetric(self, A: SymmetricMatrix, P: "_FineProlongator", b, i):
        # the same cycle on a half-stored finest level; the residual vector doubles as the
        # backward sweep's accumulator, so the level needs no vector more than the CSR one
        x = np.zeros_like(b)
        A.gauss_seidel_forward(x, b, zero_guess=True)
        r = A.matvec(x)
        np.subtract(b, r, out=r)
        xc = self._cycle(A.restrict(P.agg, P.scale, r, P.n_coarse), i + 1)
        A.prolong_add(P.agg, P.scale, xc, x)
        del xc
        A.gauss_seidel_backward(x, b, acc=r)
        return x


def _pcg(A: sp.csr_matrix, b: np.ndarray, precond, rtol: float, maxiter: int):
    """Preconditioned CG, the iteration of ``scipy.sparse.linalg.cg`` (x0 = 0, stop when
    ``|r| < rtol |b|``) with its vectors updated in place.

    scipy's loop keeps the previous preconditioned residual and the previous ``A p`` alive
    while it computes the new ones, and allocates ``alpha p`` / ``alpha q`` every step: two
    to three fine-level vectors more than needed (0.2 GiB at 9 M nodes, at the peak of the
    whole solve). Returns ``(x, info)``, info 0 on convergence, else *maxiter*.
    """
    atol = rtol * np.linalg.norm(b)
    x = np.zeros_like(b)
    r = b.copy()
    p = None
    rho_prev = 0.0
    for it in range(maxiter):
        if np.linalg.norm(r) < atol:
            return x, 0
        z = precond(r)
        rho = np.dot(r, z)
        if it > 0:
            p *= rho / rho_prev
            p += z
        else:
            p = z.copy()
        del z  # before the matvec: one fine vector fewer at the peak
        q = A @ p
        alpha = rho / np.dot(p, q)
        _cg_update(x, r, p, q, alpha)  # x += alpha p, r -= alpha q without temporaries
        del q
        rho_prev = rho
    return x, maxiter


class _FineProlongator:
    """The finest level's ``P = T + diag(scale) A T``, kept as its pieces: the aggregate of
    each node (``T``; -1 for none) and the row scales; ``A`` is the level's own matrix."""

    def __init__(self, agg: np.ndarray, scale: np.ndarray, n_coarse: int):
        self.agg, self.scale, self.n_coarse = agg, scale, n_coarse


@njit(cache=True)
def _restrict(ap, aj, ax, agg, scale, r, n_coarse):  # pragma: no cover - compiled
    # P' r = T' (r + A (scale * r)), using that A is symmetric
    rc = np.zeros(n_coarse)
    for k in range(agg.size):
        c = agg[k]
        if c < 0:
            continue
        s = 0.0
        for t in range(ap[k], ap[k + 1]):
            j = aj[t]
            s += ax[t] * (scale[j] * r[j])
        rc[c] += r[k] + s
    return rc


@njit(cache=True)
def _prolong_add(ap, aj, ax, agg, scale, xc, x):  # pragma: no cover - compiled
    # x += P xc = T xc + scale * (A (T xc)), without forming T xc
    for i in range(agg.size):
        s = 0.0
        for t in range(ap[i], ap[i + 1]):
            c = agg[aj[t]]
            if c >= 0:
                s += ax[t] * xc[c]
        y = scale[i] * s
        if agg[i] >= 0:
            y += xc[agg[i]]
        x[i] += y


def _aggregates(A) -> tuple[np.ndarray, int]:
    """pyamg's standard aggregates of A: (aggregate of each node, -1: none; count)."""
    if isinstance(A, SymmetricMatrix):
        return A.standard_aggregation()
    from pyamg.aggregation import standard_aggregation

    n = A.shape[0]
    agg_op = sp.csr_matrix(standard_aggregation(A)[0])
    n_agg = agg_op.shape[1] if agg_op.nnz else 0
    # T: the aggregation operator itself (one 1 per aggregated row, empty rows otherwise),
    # kept as the aggregate of each node (-1: none)
    agg = np.full(n, -1, dtype=np.int32 if n_agg < 2**31 - 1 else np.int64)
    agg[np.repeat(np.arange(n), np.diff(agg_op.indptr))] = agg_op.indices
    return agg, n_agg


def _smoothed_prolongator(A, agg: np.ndarray, n_agg: int, omega: float) -> sp.csr_matrix:
    """``P = T - omega W^-1 A T = T + diag(_row_scales(A, omega)) A T`` in CSR, for the
    aggregates *agg* (T) of A: built row by row straight from A (no ``A @ T`` and ``T``
    temporaries: 0.9 GiB at 9 M nodes); a half-stored A a block of full rows at a time."""
    n = A.shape[0]
    scale = _row_scales(A, omega)
    indptr = np.zeros(n + 1, dtype=np.int64)
    for s, e, blk in _row_blocks(A):
        _prolongator_counts(blk.indptr, blk.indices, blk.data, agg, scale, n_agg,
                            indptr[s:e + 1], s)
    nnz = int(indptr[-1])
    small = max(nnz, n_agg) < 2**31 - 1
    indices = np.empty(nnz, dtype=np.int32 if small else np.int64)
    data = np.empty(nnz)
    for s, e, blk in _row_blocks(A):
        _prolongator_fill(blk.indptr, blk.indices, blk.data, agg, scale, n_agg,
                          indptr[s:e + 1], indices, data, s)
    if small:
        indptr = indptr.astype(np.int32)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n_agg))


def _row_blocks(A, rows: int = 1 << 19, split: bool = False):
    """``(s, e, full rows s:e in CSR)``: blocks of *rows* rows of a half-stored matrix; of
    a CSR matrix too when *split*, else the matrix itself as one block."""
    if isinstance(A, SymmetricMatrix):
        yield from A.row_blocks(rows)
    elif split:
        for s in range(0, A.shape[0], rows):
            e = min(A.shape[0], s + rows)
            yield s, e, A[s:e]
    else:
        yield 0, A.shape[0], A


def _row_scales(A, omega: float) -> np.ndarray:
    """``-omega / W`` with ``W`` the absolute row sums of A (0 for empty rows)."""
    if isinstance(A, SymmetricMatrix):
        return A.neg_scaled_inverse_abs_row_sums(omega)
    return _neg_scaled_inverse_abs_row_sums(A.indptr, A.data, A.shape[0], omega)


@njit(cache=True)
def _prolongator_row(ap, aj, ax, agg, scale, i, gi, acc, used, cols):  # pragma: no cover
    # row gi of T + scale_gi (A T), row i of the CSR rows (ap, aj, ax) being row gi of A:
    # the sums of the row over each aggregate, summed in the row's column order (as
    # scipy's A @ T does), then scaled, plus T's 1
    m = 0
    for k in range(ap[i], ap[i + 1]):
        c = agg[aj[k]]
        if c < 0:
            continue
        if not used[c]:
            used[c] = True
            acc[c] = 0.0
            cols[m] = c
            m += 1
        acc[c] += ax[k]
    a = agg[gi]
    if a >= 0 and not used[a]:
        used[a] = True
        acc[a] = 0.0
        cols[m] = a
        m += 1
    for t in range(m):
        c = cols[t]
        used[c] = False
        s = acc[c]
        # A @ T drops sums that cancel to exactly 0, and T + AT drops exact zeros
        v = scale[gi] * s if s != 0.0 else 0.0
        if c == a:
            v = v + 1.0
        acc[c] = v
    return m


@njit(cache=True)
def _prolongator_counts(ap, aj, ax, agg, scale, n_agg, indptr, off):  # pragma: no cover
    # rows off .. off + len(ap) - 2 of P; indptr[0] holds the count before them
    acc = np.zeros(n_agg)
    used = np.zeros(n_agg, dtype=np.bool_)
    cols = np.empty(n_agg, dtype=np.int64)
    for i in range(ap.size - 1):
        m = _prolongator_row(ap, aj, ax, agg, scale, i, i + off, acc, used, cols)
        cnt = 0
        for t in range(m):
            if acc[cols[t]] != 0.0:
                cnt += 1
        indptr[i + 1] = indptr[i] + cnt


@njit(cache=True)
def _prolongator_fill(ap, aj, ax, agg, scale, n_agg, indptr, indices, data,
                      off):  # pragma: no cover - compiled
    acc = np.zeros(n_agg)
    used = np.zeros(n_agg, dtype=np.bool_)
    cols = np.empty(n_agg, dtype=np.int64)
    for i in range(ap.size - 1):
        m = _prolongator_row(ap, aj, ax, agg, scale, i, i + off, acc, used, cols)
        pos = indptr[i]
        for t in range(m):
            c = cols[t]
            if acc[c] != 0.0:
                indices[pos] = c
                data[pos] = acc[c]
                pos += 1


def _galerkin(A, P: sp.csr_matrix, rows_per_chunk: int = 1 << 19) -> sp.csr_matrix:
    """Coarse matrix ``P' A P``, summed over blocks of rows of A (CSR or half-stored).

    ``A @ P`` of a 9 M-node grid is the largest temporary of the whole set-up (about 0.8 GB
    with the transposed P); in blocks of about half a million rows it stays ~20x smaller.
    """
    Ac = None
    for s, e, rows in _row_blocks(A, rows_per_chunk, split=True):
        part = P[s:e].T.tocsr() @ (rows @ P)
        del rows
        Ac = part if Ac is None else Ac + part
    Ac = Ac.tocsr()
    Ac.sum_duplicates()
    return Ac


@njit(cache=True)
def _cg_update(x, r, p, q, alpha):  # pragma: no cover - compiled
    for i in range(x.size):
        x[i] += alpha * p[i]
        r[i] -= alpha * q[i]


@njit(cache=True)
def _neg_scaled_inverse_abs_row_sums(indptr, data, n, omega):  # pragma: no cover - compiled
    # -omega / sum_j |a_ij| (0 for empty rows) without |data| or temporary vectors
    out = np.zeros(n)
    for i in range(n):
        w = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            w += abs(data[k])
        if w > 0:
            out[i] = -omega / w
    return out


@njit(cache=True)
def _zero_ground(indptr, indices, data, ground):  # pragma: no cover - compiled
    for g in ground:
        for k in range(indptr[g], indptr[g + 1]):
            j = indices[k]
            data[k] = 1.0 if j == g else 0.0
            if j != g:  # symmetric entry (j, g)
                for m in range(indptr[j], indptr[j + 1]):
                    if indices[m] == g:
                        data[m] = 0.0


def _grounded(mat, ground: np.ndarray, overwrite: bool):
    """*mat* with identity rows and columns at the ground nodes (explicit zeros dropped)."""
    A = mat if overwrite else mat.copy()
    if isinstance(A, SymmetricMatrix):
        A.ground(ground)
    elif ground.size:
        _zero_ground(A.indptr, A.indices, A.data, ground.astype(np.int64))
        A.eliminate_zeros()
    return A


def _solve_block(solver: LaplacianSolver, B: np.ndarray) -> np.ndarray:
    return solver._solve_block(B)
