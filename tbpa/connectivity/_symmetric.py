"""Half-stored symmetric matrices for the finest level of large Laplacian solves.

A symmetric matrix in CSR keeps every off-diagonal entry twice. :class:`SymmetricMatrix`
keeps the diagonal as a vector and the STRICT LOWER triangle by rows (row i: the columns
j < i, ascending, and their values), which for a grounded 8-neighbour Laplacian is 0.58
instead of 0.94 GiB at 9 M nodes. It is built straight from a branch list (one entry per
resistor, which is what :class:`~tbpa.connectivity._laplacian.CircuitGraph` holds), so the
full CSR Laplacian never exists.

Everything the smoothed-aggregation V-cycle of :mod:`tbpa.connectivity._solvers` needs on
the finest level is a compiled kernel on this storage:

* ``y = A x``: ``y_i += a_ij x_j`` and ``y_j += a_ij x_i`` for each stored ``a_ij``;
* Gauss-Seidel sweeps: in a forward sweep row i's stored (lower) part multiplies values
  already updated; the upper part (old values) lives in the rows below and is scattered into
  an accumulator before the sweep (nothing to scatter from a zero initial guess, which is
  what the V-cycle's pre-smoothing starts from). In a backward sweep the stored part
  multiplies old values and each updated ``x_i`` is scattered into the accumulator of the
  rows above it. The iterates are those of the usual sweeps over the full matrix;
* absolute row sums, and the restriction ``P' r`` and prolongation ``x += P xc`` of the
  smoothed prolongator ``P = T + diag(s) A T`` given by the aggregates and row scales;
* pyamg's standard aggregation (Vanek, Mandel & Brezina's three passes) on the full
  pattern, read through a temporary transposed pattern (the upper triangle's columns);
* blocks of full rows in CSR (for the Galerkin product and the prolongator, a block at a
  time), and connected components by union-find.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

__all__ = ["SymmetricMatrix", "branch_components"]

#: Rows per block when full rows are materialised (set-up only): ~60 MB per block.
BLOCK_ROWS = 1 << 19


class SymmetricMatrix:
    """Symmetric n x n matrix stored as its diagonal plus its strict lower triangle.

    Parameters
    ----------
    diag : numpy.ndarray
        float64 diagonal (n,).
    indptr, indices, data : numpy.ndarray
        Strict lower triangle by rows (CSR of the entries ``a_ij``, ``j < i``): row
        pointers and sorted columns (int32 when they fit, else int64), float64 values.

    Examples
    --------
    >>> import numpy as np
    >>> A = SymmetricMatrix.from_branches(np.array([0, 1]), np.array([1, 2]),
    ...                                   np.array([1.0, 2.0]), 3)
    >>> A.tocsr().toarray()
    array([[ 1., -1.,  0.],
           [-1.,  3., -2.],
           [ 0., -2.,  2.]])
    >>> A @ np.ones(3)
    array([0., 0., 0.])
    """

    def __init__(self, diag, indptr, indices, data):
        self.diag = diag
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.n = diag.size

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_branches(cls, ei, ej, w, n: int, node_index=None) -> "SymmetricMatrix":
        """The Laplacian ``D - A`` of a resistor network given by its branches.

        ``w[k]`` is the conductance between nodes ``ei[k]`` and ``ej[k]``; parallel branches
        add up and self-loops are ignored. With ``node_index`` (global node -> local index,
        -1 for nodes left out) only the branches between kept nodes enter, renumbered: a
        component's Laplacian without copies of the branch list.
        """
        n = int(n)
        idx = np.zeros(0, np.int64) if node_index is None else np.asarray(node_index)
        indptr = np.zeros(n + 1, dtype=np.int64)
        _lower_counts(ei, ej, idx, indptr)
        np.cumsum(indptr, out=indptr)
        m = int(indptr[-1])
        indices = np.empty(m, dtype=np.int32 if n < 2**31 - 1 else np.int64)
        data = np.empty(m)
        diag = np.zeros(n)
        _lower_fill(ei, ej, w, idx, indptr, indices, data, diag)
        m2 = _sort_merge_rows(indptr, indices, data)
        if m2 < m:  # parallel branches (merged short-circuit regions) were summed
            indices, data = indices[:m2].copy(), data[:m2].copy()
        return cls(diag, _compact(indptr), indices, data)

    @classmethod
    def from_csr(cls, mat) -> "SymmetricMatrix":
        """The lower half of a symmetric sparse matrix (its symmetry is not checked)."""
        mat = sp.csr_matrix(mat, dtype=np.float64)
        low = sp.tril(mat, k=-1, format="csr")
        low.sum_duplicates()
        low.sort_indices()
        itype = np.int32 if mat.shape[0] < 2**31 - 1 else np.int64
        return cls(np.asarray(mat.diagonal(), dtype=np.float64).copy(),
                   _compact(low.indptr.astype(np.int64)), low.indices.astype(itype),
                   low.data.copy())

    def copy(self) -> "SymmetricMatrix":
        return SymmetricMatrix(self.diag.copy(), self.indptr.copy(), self.indices.copy(),
                               self.data.copy())

    # -- matrix protocol ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def nnz(self) -> int:
        """Entries of the full matrix (both triangles and the nonzero diagonal)."""
        return 2 * int(self.indptr[-1]) + int(np.count_nonzero(self.diag))

    @property
    def nbytes(self) -> int:
        return self.diag.nbytes + self.indptr.nbytes + self.indices.nbytes + self.data.nbytes

    def diagonal(self) -> np.ndarray:
        return self.diag

    def matvec(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``A x`` (into *out* when given)."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.empty(self.n) if out is None else out
        _sym_matvec(self.indptr, self.indices, self.data, self.diag, x, y)
        return y

    def __matmul__(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 2:
            return np.column_stack([self.matvec(x[:, k]) for k in range(x.shape[1])])
        return self.matvec(x)

    def tocsr(self) -> sp.csr_matrix:
        """The full matrix in CSR (sorted indices; zero diagonal entries left out)."""
        parts = [blk for _, _, blk in self.row_blocks()]
        if not parts:
            return sp.csr_matrix((0, 0))
        return sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0]

    def toarray(self) -> np.ndarray:
        return self.tocsr().toarray()

    def row_sums(self) -> np.ndarray:
        """Row sums ``A 1``."""
        return self.matvec(np.ones(self.n))

    # -- modification ----------------------------------------------------------------------
    def ground(self, nodes) -> None:
        """Turn the rows and columns of *nodes* into identity ones, in place (explicit zeros
        dropped, as ``eliminate_zeros`` would)."""
        nodes = np.asarray(nodes, dtype=np.int64).ravel()
        if nodes.size == 0:
            return
        mark = np.zeros(self.n, dtype=np.bool_)
        mark[nodes] = True
        m = _ground_rows(self.indptr, self.indices, self.data, self.diag, mark)
        self.indices, self.data = self.indices[:m], self.data[:m]

    # -- Gauss-Seidel -----------------------------------------------------------------------
    def gauss_seidel_forward(self, x, b, acc=None, zero_guess: bool = False) -> None:
        """One forward sweep on ``A x = b``, in place. ``acc`` is an n-vector work array
        (allocated when not given); with ``zero_guess`` x must be 0 and nothing is scattered."""
        if acc is None:
            acc = np.empty(self.n)
        _gs_forward(self.indptr, self.indices, self.data, self.diag, x, b, acc, zero_guess)

    def gauss_seidel_backward(self, x, b, acc=None) -> None:
        """One backward sweep (rows n-1 .. 0) on ``A x = b``, in place."""
        if acc is None:
            acc = np.empty(self.n)
        _gs_backward(self.indptr, self.indices, self.data, self.diag, x, b, acc)

    # -- smoothed aggregation pieces --------------------------------------------------------
    def neg_scaled_inverse_abs_row_sums(self, omega: float) -> np.ndarray:
        """``-omega / sum_j |a_ij|`` per row (0 for empty rows)."""
        return _abs_row_scales(self.indptr, self.indices, self.data, self.diag, float(omega))

    def standard_aggregation(self) -> tuple[np.ndarray, int]:
        """pyamg's standard aggregation of the matrix pattern: ``(aggregate of each node,
        -1 for none; number of aggregates)``."""
        tptr, tcol = _transpose_pattern(self.indptr, self.indices, self.n)
        agg = np.zeros(self.n, dtype=self.indices.dtype)
        n_agg = _standard_aggregation(self.indptr, self.indices, tptr, tcol, agg)
        return agg, int(n_agg)

    def restrict(self, agg, scale, r, n_coarse: int) -> np.ndarray:
        """``P' r`` for ``P = T + diag(scale) A T`` (T: the aggregates)."""
        return _sym_restrict(self.indptr, self.indices, self.data, self.diag, agg, scale, r,
                             n_coarse)

    def prolong_add(self, agg, scale, xc, x) -> None:
        """``x += P xc`` for ``P = T + diag(scale) A T``, in place."""
        _sym_prolong_add(self.indptr, self.indices, self.data, self.diag, agg, scale, xc, x)

    def row_block(self, s: int, e: int, last: int | None = None) -> sp.csr_matrix:
        """Rows ``s:e`` of the full matrix, ``(e - s) x n`` CSR with sorted indices.

        The upper-triangle entries of those rows live in rows ``> s``; *last* bounds the
        rows holding a column in ``s:e`` (default: scan to the end; :meth:`row_blocks`
        passes the exact bound).
        """
        last = self.n - 1 if last is None else int(last)
        counts = np.zeros(e - s + 1, dtype=np.int64)
        _block_counts(self.indptr, self.indices, self.diag, s, e, last, counts)
        np.cumsum(counts, out=counts)
        nnz = int(counts[-1])
        bind = np.empty(nnz, dtype=self.indices.dtype)
        bdat = np.empty(nnz)
        _block_fill(self.indptr, self.indices, self.data, self.diag, s, e, last, counts,
                    bind, bdat)
        return sp.csr_matrix((bdat, bind, counts), shape=(e - s, self.n))

    def row_blocks(self, rows: int = BLOCK_ROWS):
        """``(s, e, rows s:e in CSR)`` for consecutive blocks of *rows* rows."""
        last = _block_last_rows(self.indptr, self.indices, self.n, rows)
        for b, (s, e) in enumerate(_blocks(self.n, rows)):
            yield s, e, self.row_block(s, e, max(int(last[b]), e - 1))

    def components(self) -> tuple[int, np.ndarray]:
        """Connected components of the off-diagonal pattern: (count, label per row)."""
        parent = np.arange(self.n, dtype=np.int64)
        _uf_lower(self.indptr, self.indices, parent)
        labels = np.empty(self.n, dtype=np.int64)
        return int(_uf_labels(parent, labels)), labels


def branch_components(ei, ej, n: int) -> tuple[int, np.ndarray]:
    """Connected components of the graph with branches ``(ei[k], ej[k])`` on n nodes:
    (count, label per node), components numbered in order of their lowest node."""
    parent = np.arange(int(n), dtype=np.int64)
    _uf_branches(ei, ej, parent)
    labels = np.empty(int(n), dtype=np.int64)
    return int(_uf_labels(parent, labels)), labels


def _compact(indptr: np.ndarray) -> np.ndarray:
    """int32 row pointers when the entry count allows (36 MB less at 9 M rows)."""
    return indptr.astype(np.int32) if indptr[-1] < 2**31 - 1 else indptr


def _blocks(n, rows):
    return [(s, min(n, s + rows)) for s in range(0, n, rows)]


# ======================================================================================
# Kernels
# ======================================================================================
@njit(cache=True)
def _lower_counts(ei, ej, idx, counts):  # pragma: no cover - compiled
    # counts[r + 1] = stored entries of row r = max(i, j) (self-loops and dropped nodes out)
    sel = idx.size > 0
    for k in range(ei.size):
        a, b = ei[k], ej[k]
        if sel:
            a, b = idx[a], idx[b]
            if a < 0 or b < 0:
                continue
        if a == b:
            continue
        counts[(a if a > b else b) + 1] += 1


@njit(cache=True)
def _lower_fill(ei, ej, w, idx, indptr, indices, data, diag):  # pragma: no cover - compiled
    # indptr[r] serves as row r's fill cursor, then is shifted back to the row starts
    sel = idx.size > 0
    for k in range(ei.size):
        a, b = ei[k], ej[k]
        if sel:
            a, b = idx[a], idx[b]
            if a < 0 or b < 0:
                continue
        if a == b:
            continue
        x = w[k]
        r, c = (a, b) if a > b else (b, a)
        p = indptr[r]
        indices[p] = c
        data[p] = -x
        indptr[r] = p + 1
        diag[a] += x
        diag[b] += x
    for i in range(indptr.size - 1, 0, -1):
        indptr[i] = indptr[i - 1]
    indptr[0] = 0


@njit(cache=True)
def _sort_merge_rows(indptr, indices, data):  # pragma: no cover - compiled
    # sort every row by column (stable), sum duplicate columns, compact; returns the nnz
    n = indptr.size - 1
    out = 0
    start = indptr[0]
    for i in range(n):
        end = indptr[i + 1]
        k = end - start
        if k > 32:
            order = np.argsort(indices[start:end], kind="mergesort")
            ci = indices[start:end][order]
            cd = data[start:end][order]
            indices[start:end] = ci
            data[start:end] = cd
        else:
            for p in range(start + 1, end):
                c = indices[p]
                v = data[p]
                q = p - 1
                while q >= start and indices[q] > c:
                    indices[q + 1] = indices[q]
                    data[q + 1] = data[q]
                    q -= 1
                indices[q + 1] = c
                data[q + 1] = v
        row_start = out
        for p in range(start, end):
            c = indices[p]
            if out > row_start and indices[out - 1] == c:
                data[out - 1] += data[p]
            else:
                indices[out] = c
                data[out] = data[p]
                out += 1
        indptr[i + 1] = out
        start = end
    return out


@njit(cache=True)
def _ground_rows(indptr, indices, data, diag, mark):  # pragma: no cover - compiled
    # identity rows/columns at marked nodes; zero entries dropped; returns the new nnz
    n = diag.size
    out = 0
    start = indptr[0]
    for i in range(n):
        end = indptr[i + 1]
        gi = mark[i]
        for p in range(start, end):
            c = indices[p]
            if gi or mark[c] or data[p] == 0.0:
                continue
            indices[out] = c
            data[out] = data[p]
            out += 1
        indptr[i + 1] = out
        start = end
        if gi:
            diag[i] = 1.0
    return out


@njit(cache=True, nogil=True)
def _sym_matvec(indptr, indices, data, diag, x, y):  # pragma: no cover - compiled
    n = diag.size
    for i in range(n):
        y[i] = diag[i] * x[i]
    for i in range(n):
        xi = x[i]
        s = y[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            a = data[p]
            s += a * x[j]
            y[j] += a * xi
        y[i] = s


@njit(cache=True, nogil=True)
def _gs_forward(indptr, indices, data, diag, x, b, acc, zero_guess):  # pragma: no cover
    # x_i <- (b_i - sum_{j<i} a_ij x_j(new) - sum_{j>i} a_ij x_j(old)) / a_ii, i = 0..n-1;
    # the j > i terms (stored in rows j) are scattered into acc before the sweep
    n = diag.size
    for i in range(n):
        acc[i] = 0.0
    if not zero_guess:
        for j in range(n):
            xj = x[j]
            for p in range(indptr[j], indptr[j + 1]):
                acc[indices[p]] += data[p] * xj
    for i in range(n):
        s = b[i] - acc[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        d = diag[i]
        if d != 0.0:
            x[i] = s / d


@njit(cache=True, nogil=True)
def _gs_backward(indptr, indices, data, diag, x, b, acc):  # pragma: no cover - compiled
    # rows n-1 .. 0: the stored (j < i) terms use old values, the j > i terms (new values)
    # were scattered into acc[i] when row j was updated
    n = diag.size
    for i in range(n):
        acc[i] = 0.0
    for i in range(n - 1, -1, -1):
        s = b[i] - acc[i]
        p0, p1 = indptr[i], indptr[i + 1]
        for p in range(p0, p1):
            s -= data[p] * x[indices[p]]
        d = diag[i]
        if d != 0.0:
            x[i] = s / d
        xi = x[i]
        for p in range(p0, p1):
            acc[indices[p]] += data[p] * xi


@njit(cache=True)
def _abs_row_scales(indptr, indices, data, diag, omega):  # pragma: no cover - compiled
    n = diag.size
    out = np.empty(n)
    for i in range(n):
        out[i] = abs(diag[i])
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            a = abs(data[p])
            out[i] += a
            out[indices[p]] += a
    for i in range(n):
        w = out[i]
        out[i] = -omega / w if w > 0 else 0.0
    return out


@njit(cache=True, nogil=True)
def _sym_restrict(indptr, indices, data, diag, agg, scale, r, n_coarse):  # pragma: no cover
    # P' r = T' (r + A (scale * r)): row k of A (scale * r) goes to aggregate agg[k]
    rc = np.zeros(n_coarse)
    for k in range(diag.size):
        sk = scale[k] * r[k]
        t = r[k] + diag[k] * sk
        ck = agg[k]
        for p in range(indptr[k], indptr[k + 1]):
            j = indices[p]
            a = data[p]
            t += a * (scale[j] * r[j])
            cj = agg[j]
            if cj >= 0:
                rc[cj] += a * sk
        if ck >= 0:
            rc[ck] += t
    return rc


@njit(cache=True, nogil=True)
def _sym_prolong_add(indptr, indices, data, diag, agg, scale, xc, x):  # pragma: no cover
    # x += u + scale * (A u) with u = T xc (u_i = xc[agg_i], 0 without aggregate)
    for i in range(diag.size):
        ci = agg[i]
        ui = xc[ci] if ci >= 0 else 0.0
        s = diag[i] * ui
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            a = data[p]
            cj = agg[j]
            if cj >= 0:
                s += a * xc[cj]
            if ui != 0.0:
                x[j] += scale[j] * (a * ui)
        x[i] += ui + scale[i] * s


@njit(cache=True)
def _transpose_pattern(indptr, indices, n):  # pragma: no cover - compiled
    # columns of the strict upper triangle by rows (row i: the j > i with a_ji stored),
    # ascending because rows j are visited in order
    tptr = np.zeros(n + 1, dtype=np.int64)
    for p in range(indptr[0], indptr[n]):
        tptr[indices[p] + 1] += 1
    for i in range(n):
        tptr[i + 1] += tptr[i]
    tcol = np.empty(tptr[n], dtype=indices.dtype)
    for j in range(n):
        for p in range(indptr[j], indptr[j + 1]):
            i = indices[p]
            tcol[tptr[i]] = j
            tptr[i] += 1
    for i in range(n, 0, -1):
        tptr[i] = tptr[i - 1]
    tptr[0] = 0
    return tptr, tcol


@njit(cache=True)
def _standard_aggregation(indptr, indices, tptr, tcol, x):  # pragma: no cover - compiled
    # Standard aggregation (Vanek, Mandel & Brezina 1996; pyamg's three passes) over the
    # full pattern, row i's neighbours in ascending order: the lower ones (row i), then the
    # upper ones (transposed pattern). x: 0 = free, > 0 = aggregate (1-based) of pass 1,
    # < 0 = joined in pass 2 (-aggregate) or isolated (-n). Returns the aggregate count and
    # leaves x[i] = aggregate (0-based) or -1.
    n = x.size
    for i in range(n):
        x[i] = 0
    nxt = 1
    for i in range(n):  # pass 1: a free node with only free neighbours seeds an aggregate
        if x[i] != 0:
            continue
        l0, l1, u0, u1 = indptr[i], indptr[i + 1], tptr[i], tptr[i + 1]
        if l0 == l1 and u0 == u1:
            x[i] = -n  # isolated (e.g. a grounded node): no aggregate
            continue
        taken = False
        for p in range(l0, l1):
            if x[indices[p]] != 0:
                taken = True
                break
        if not taken:
            for p in range(u0, u1):
                if x[tcol[p]] != 0:
                    taken = True
                    break
        if taken:
            continue
        x[i] = nxt
        for p in range(l0, l1):
            x[indices[p]] = nxt
        for p in range(u0, u1):
            x[tcol[p]] = nxt
        nxt += 1
    for i in range(n):  # pass 2: join the first neighbouring pass-1 aggregate
        if x[i] != 0:
            continue
        found = 0
        for p in range(indptr[i], indptr[i + 1]):
            xj = x[indices[p]]
            if xj > 0:
                found = xj
                break
        if found == 0:
            for p in range(tptr[i], tptr[i + 1]):
                xj = x[tcol[p]]
                if xj > 0:
                    found = xj
                    break
        if found > 0:
            x[i] = -found
    nxt -= 1
    for i in range(n):  # pass 3: leftovers aggregate with their free neighbours
        xi = x[i]
        if xi != 0:
            if xi > 0:
                x[i] = xi - 1
            elif xi == -n:
                x[i] = -1
            else:
                x[i] = -xi - 1
            continue
        x[i] = nxt
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if x[j] == 0:
                x[j] = nxt
        for p in range(tptr[i], tptr[i + 1]):
            j = tcol[p]
            if x[j] == 0:
                x[j] = nxt
        nxt += 1
    return nxt


@njit(cache=True)
def _block_last_rows(indptr, indices, n, rows):  # pragma: no cover - compiled
    # for each block of `rows` rows: the last row holding a column inside the block
    nb = (n + rows - 1) // rows
    last = np.full(nb, -1, dtype=np.int64)
    for j in range(n):
        for p in range(indptr[j], indptr[j + 1]):
            b = indices[p] // rows
            if j > last[b]:
                last[b] = j
    return last


@njit(cache=True)
def _block_counts(indptr, indices, diag, s, e, last, counts):  # pragma: no cover - compiled
    # counts[r + 1]: entries of full row s + r (lower part, nonzero diagonal, upper part)
    for i in range(s, e):
        counts[i - s + 1] = indptr[i + 1] - indptr[i] + (1 if diag[i] != 0.0 else 0)
    for j in range(s + 1, last + 1):
        for p in range(indptr[j], indptr[j + 1]):
            c = indices[p]
            if c >= s and c < e:
                counts[c - s + 1] += 1


@njit(cache=True)
def _block_fill(indptr, indices, data, diag, s, e, last, bptr, bind, bdat):  # pragma: no cover
    cursor = bptr[:-1].copy()
    for i in range(s, e):
        q = cursor[i - s]
        for p in range(indptr[i], indptr[i + 1]):
            bind[q] = indices[p]
            bdat[q] = data[p]
            q += 1
        if diag[i] != 0.0:
            bind[q] = i
            bdat[q] = diag[i]
            q += 1
        cursor[i - s] = q
    for j in range(s + 1, last + 1):  # rows in order: each row's upper part ascending
        for p in range(indptr[j], indptr[j + 1]):
            c = indices[p]
            if c >= s and c < e:
                q = cursor[c - s]
                bind[q] = j
                bdat[q] = data[p]
                cursor[c - s] = q + 1


@njit(cache=True)
def _find(parent, a):  # pragma: no cover - compiled
    while parent[a] != a:
        parent[a] = parent[parent[a]]  # path halving
        a = parent[a]
    return a


@njit(cache=True)
def _union(parent, a, b):  # pragma: no cover - compiled
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        if ra < rb:
            parent[rb] = ra
        else:
            parent[ra] = rb


@njit(cache=True)
def _uf_branches(ei, ej, parent):  # pragma: no cover - compiled
    for k in range(ei.size):
        _union(parent, ei[k], ej[k])


@njit(cache=True)
def _uf_lower(indptr, indices, parent):  # pragma: no cover - compiled
    for i in range(parent.size):
        for p in range(indptr[i], indptr[i + 1]):
            _union(parent, i, indices[p])


@njit(cache=True)
def _uf_labels(parent, labels):  # pragma: no cover - compiled
    # roots are the lowest node of their set (union keeps the smaller root), so numbering
    # roots as they are met numbers components in order of their lowest node
    count = 0
    for i in range(parent.size):
        r = _find(parent, i)
        if r == i:
            labels[i] = count
            count += 1
        else:
            labels[i] = labels[r]
    return count
