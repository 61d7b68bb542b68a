"""Circuitscape's resistor graph of a raster, and its Laplacian.

Conventions (Circuitscape.jl ``construct_node_map`` / ``construct_graph``):

* Every cell with conductance > 0 is a node. NaN, nodata, infinite resistance and
  conductance <= 0 are not nodes. (Zero *resistance* is refused by the callers, as in
  Circuitscape: short-circuit it with a region instead.)
* Cells of one short-circuit region (``regions`` label > 0) form ONE node, provided at
  least one of its cells is a valid node; then every cell of the region belongs to that node,
  including region cells without conductance (they take part in the averaging with G = 0,
  exactly as Circuitscape does).
* Neighbours: 4 (N, S, E, W) or 8 (plus diagonals). Edge conductance between cells a and b:

  - average conductance (default): ``(Ga + Gb) / 2``; diagonals ``(Ga + Gb) / (2 sqrt 2)``;
  - average resistance: ``1 / ((Ra + Rb) / 2)``; diagonals ``1 / (sqrt 2 (Ra + Rb) / 2)``.

  Cell size does not enter: Circuitscape resistances are per cell.
* Edges inside one merged node are dropped (a self-loop carries no current); parallel edges
  between two merged nodes add up.

All construction is vectorised with array slicing; nothing loops over cells in Python.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import connected_components as _cc

from ..errors import TbpaWarning, ValidationError
from ._symmetric import branch_components

__all__ = [
    "CircuitGraph",
    "to_conductance",
    "conductance_graph",
    "laplacian",
    "connected_components",
]

_SQRT2 = np.sqrt(2.0)

# (drow, dcol) of the neighbours looked at from each cell: every undirected pair once.
_ORTHOGONAL = ((0, 1), (1, 0))
_DIAGONAL = ((1, 1), (1, -1))


@dataclass
class CircuitGraph:
    """A raster's resistor network.

    Attributes
    ----------
    shape : tuple of int
        Grid shape (rows, cols).
    nodemap : numpy.ndarray
        int64 array of the grid's shape: node index of each cell, -1 where a cell is no node.
    conductance : numpy.ndarray
        float64 cell conductances used for the weights (0 where a cell is not valid); may be
        the conductance array passed to :func:`conductance_graph` itself (not a copy).
    edge_i, edge_j, edge_w : numpy.ndarray
        Node-level branches (i != j; int32 indices) with conductance ``edge_w``, one per
        neighbouring cell pair (parallel branches between merged nodes kept separately).
    n_nodes : int
        Number of nodes.

    ``laplacian`` (CSR, assembled once straight from the branch list, no COO copies) and
    ``adjacency`` (summed branch conductances, no diagonal) are computed on first use.
    """

    shape: tuple[int, int]
    nodemap: np.ndarray
    conductance: np.ndarray
    edge_i: np.ndarray
    edge_j: np.ndarray
    edge_w: np.ndarray
    n_nodes: int
    _components: tuple[int, np.ndarray] | None = field(default=None, repr=False)
    _laplacian: sp.csr_matrix | None = field(default=None, repr=False)

    @property
    def laplacian(self) -> sp.csr_matrix:
        """The Laplacian D - A (CSR, cached: do not modify in place)."""
        if self._laplacian is None:
            self._laplacian = _csr_laplacian(self.edge_i, self.edge_j, self.edge_w, self.n_nodes)
        return self._laplacian

    @property
    def adjacency(self) -> sp.csr_matrix:
        """Summed branch conductances (symmetric, no diagonal)."""
        lap = self.laplacian
        adj = sp.csr_matrix(-(lap - sp.diags(lap.diagonal())))
        adj.eliminate_zeros()
        return adj

    def components(self) -> tuple[int, np.ndarray]:
        """(number of components, component label of each node), cached."""
        if self._components is None:
            self._components = connected_components(self)
        return self._components

    def node_of_cells(self, flat_cells: np.ndarray) -> np.ndarray:
        """Node index of flat cell indices (-1 where the cell is no node)."""
        return self.nodemap.ravel()[np.asarray(flat_cells, dtype=np.int64)]

    def node_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat cell indices, their node) for every cell that belongs to a node."""
        flat = self.nodemap.ravel()
        cells = np.flatnonzero(flat >= 0)
        return cells, flat[cells]

    def to_grid(self, node_values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Spread per-node values onto the grid (cells of a merged node share its value)."""
        flat = self.nodemap.ravel()
        vals = np.asarray(node_values, dtype=np.float64)
        if vals.size == 0:
            return np.full(self.shape, fill, dtype=np.float64)
        return np.where(flat >= 0, vals[np.maximum(flat, 0)], fill).reshape(self.shape)


@njit(cache=True)
def _fill_csr(ei, ej, w, n, indptr, indices, data):  # pragma: no cover - compiled
    # each row: one entry per incident branch, then the diagonal (duplicates summed later)
    pos = indptr[:-1].copy()
    diag = np.zeros(n)
    for k in range(ei.size):
        a, b, x = ei[k], ej[k], w[k]
        indices[pos[a]] = b
        data[pos[a]] = -x
        pos[a] += 1
        indices[pos[b]] = a
        data[pos[b]] = -x
        pos[b] += 1
        diag[a] += x
        diag[b] += x
    for i in range(n):
        indices[pos[i]] = i
        data[pos[i]] = diag[i]


def _csr_laplacian(ei, ej, w, n) -> sp.csr_matrix:
    """Laplacian D - A in CSR, filled in place from a branch list (no COO temporaries)."""
    counts = np.bincount(ei, minlength=n) + np.bincount(ej, minlength=n) + 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    small = nnz < 2**31 - 1
    indices = np.empty(nnz, dtype=np.int32 if small else np.int64)
    data = np.empty(nnz, dtype=np.float64)
    _fill_csr(ei, ej, w, n, indptr, indices, data)
    if small:
        indptr = indptr.astype(np.int32)
    lap = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    lap.sum_duplicates()  # sorts indices and merges parallel branches of merged nodes
    return lap


def to_conductance(values, *, is_resistance: bool = True,
                   nodata: float | None = None) -> np.ndarray:
    """Cell conductances from a resistance or conductance array (0 = no node).

    NaN, ``nodata`` and non-finite or non-positive values give 0 (no node). Zero resistance
    raises :class:`~tbpa.errors.ValidationError`, as Circuitscape does: a zero-resistance area
    must be given as a short-circuit region instead.
    """
    arr = np.array(values, dtype=np.float64, copy=True)
    if arr.ndim != 2:
        raise ValidationError(f"resistance/conductance must be 2-D, got shape {arr.shape}")
    invalid = ~np.isfinite(arr)
    if nodata is not None and np.isfinite(nodata):
        invalid |= arr == nodata
    if is_resistance:
        zero = (arr == 0) & ~invalid
        if zero.any():
            r, c = np.argwhere(zero)[0]
            raise ValidationError(
                f"resistance is 0 in {int(zero.sum())} cell(s) (first at row {r}, col {c}); "
                "Circuitscape does not allow zero resistance: give such areas as short-circuit "
                "regions (`short_circuit=` / polygon_file) or use a small positive resistance"
            )
        _warn_negative(arr, invalid, "resistance")
        invalid |= arr < 0
        with np.errstate(divide="ignore"):
            g = np.where(invalid, 0.0, 1.0 / np.where(invalid, 1.0, arr))
    else:
        _warn_negative(arr, invalid, "conductance")
        invalid |= arr <= 0
        g = np.where(invalid, 0.0, arr)
    return g


def _clean_conductance(values) -> np.ndarray | None:
    """*values* itself when it is already a clean float64 conductance array, else None.

    A conductance array with no NaN, inf or negative value is exactly what
    :func:`to_conductance` would return, so the graph can share it instead of holding a
    raster-sized copy (the circuit solvers pass such an array; 72 MB at 9 M cells).
    """
    if not (isinstance(values, np.ndarray) and values.dtype == np.float64 and values.ndim == 2):
        return None
    if not (np.isfinite(values).all() and (values >= 0).all()):
        return None
    return values


def _warn_negative(arr, invalid, what):
    neg = int(np.count_nonzero((arr < 0) & ~invalid))
    if neg:
        warnings.warn(f"{neg} cell(s) with negative {what} are treated as barriers (no node), "
                      "as Circuitscape does; fix the surface if they are not meant as nodata",
                      TbpaWarning, stacklevel=4)


def _node_map(g: np.ndarray, regions: np.ndarray | None) -> np.ndarray:
    """Node index per cell: valid cells numbered row-major, regions merged."""
    valid = g > 0
    if regions is None:
        nodemap = np.full(g.shape, -1, dtype=np.int64)
        nodemap[valid] = np.arange(int(valid.sum()), dtype=np.int64)
        return nodemap
    regions = np.asarray(regions)
    if regions.shape != g.shape:
        raise ValidationError(f"regions shape {regions.shape} != grid shape {g.shape}")
    lab = np.where(np.isfinite(regions.astype(np.float64)), regions, 0).astype(np.int64)
    lab[lab < 0] = 0  # negative / nodata labels mean "no region"
    # A region is a node iff one of its cells is valid; then all its cells join it.
    live = np.unique(lab[valid & (lab > 0)])
    in_region = np.isin(lab, live) & (lab > 0)
    # Provisional key per cell: region cells share -(label), single cells their flat index.
    flat_index = np.arange(g.size, dtype=np.int64).reshape(g.shape)
    member = valid | in_region
    key = np.where(in_region, -lab, flat_index)
    keys = key[member]
    # Number nodes in order of their first cell (row-major), like a plain numbering.
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    nodemap = np.full(g.shape, -1, dtype=np.int64)
    nodemap[member] = rank[inverse.ravel()]
    return nodemap


def _pair_weights(ga: np.ndarray, gb: np.ndarray, average: str, diagonal: bool) -> np.ndarray:
    if average == "conductance":
        w = (ga + gb) / 2.0
    else:  # average resistance; a zero conductance gives an infinite resistance -> 0
        with np.errstate(divide="ignore"):
            r = (1.0 / ga + 1.0 / gb) / 2.0
            w = np.where(np.isfinite(r), 1.0 / r, 0.0)
    return w / _SQRT2 if diagonal else w


def conductance_graph(
    values,
    *,
    is_resistance: bool = True,
    connect: str = "eight",
    average: str = "conductance",
    regions: np.ndarray | None = None,
    nodata: float | None = None,
) -> CircuitGraph:
    """Build Circuitscape's resistor graph of a 2-D raster.

    Parameters
    ----------
    values : array_like
        2-D resistances (``is_resistance=True``) or conductances.
    is_resistance : bool
        Whether *values* are resistances (Circuitscape's ``habitat_map_is_resistances``).
    connect : {"eight", "four"}
        Neighbourhood (``connect_four_neighbors_only`` selects "four").
    average : {"conductance", "resistance"}
        Branch weight rule (``connect_using_avg_resistances`` selects "resistance").
    regions : array_like of int, optional
        Short-circuit labels on the same grid; cells sharing a label > 0 become one node.
    nodata : float, optional
        Value marking missing cells, in addition to NaN.

    Returns
    -------
    CircuitGraph

    Examples
    --------
    >>> import numpy as np
    >>> g = conductance_graph(np.ones((1, 3)), connect="four")
    >>> g.adjacency.toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    """
    if connect not in ("eight", "four"):
        raise ValidationError(f"connect must be 'eight' or 'four', got {connect!r}")
    if average not in ("conductance", "resistance"):
        raise ValidationError(f"average must be 'conductance' or 'resistance', got {average!r}")
    g = _clean_conductance(values) if not is_resistance and nodata is None else None
    if g is None:
        g = to_conductance(values, is_resistance=is_resistance, nodata=nodata)
    nodemap = _node_map(g, regions)
    offsets = np.array(_ORTHOGONAL + (_DIAGONAL if connect == "eight" else ()), dtype=np.int64)
    rows, cols = g.shape
    n = int(nodemap.max()) + 1 if nodemap.size and nodemap.max() >= 0 else 0
    itype = np.int32 if n < 2**31 - 1 else np.int64
    # two compiled passes over the cells (count, then fill the exact-size arrays): no
    # per-offset masks, copies or concatenation (they peaked at 0.6 GiB at 9 M cells)
    by_resistance = average == "resistance"
    m = _stencil_branches(nodemap, g, offsets, by_resistance, None, None, None)
    edge_i, edge_j, edge_w = np.empty(m, itype), np.empty(m, itype), np.empty(m)
    _stencil_branches(nodemap, g, offsets, by_resistance, edge_i, edge_j, edge_w)
    return CircuitGraph((rows, cols), nodemap, g, edge_i, edge_j, edge_w, n)


@njit(cache=True, error_model="numpy")
def _stencil_branches(nodemap, g, offsets, by_resistance, ei, ej, ew):  # pragma: no cover
    # Branches offset by offset, "from" cells in row-major order, between two different
    # nodes and with a positive weight (see _pair_weights); counts them, and fills ei, ej,
    # ew when given. Returns the count.
    rows, cols = nodemap.shape
    m = 0
    for t in range(offsets.shape[0]):
        dr, dc = offsets[t, 0], offsets[t, 1]
        diagonal = dr != 0 and dc != 0
        for r in range(0, rows - dr):
            for c in range(max(0, -dc), cols - max(0, dc)):
                na, nb = nodemap[r, c], nodemap[r + dr, c + dc]
                if na < 0 or nb < 0 or na == nb:
                    continue
                ga, gb = g[r, c], g[r + dr, c + dc]
                if by_resistance:
                    rr = (1.0 / ga + 1.0 / gb) / 2.0
                    w = 1.0 / rr if np.isfinite(rr) else 0.0
                else:
                    w = (ga + gb) / 2.0
                if diagonal:
                    w = w / _SQRT2
                if not w > 0:
                    continue
                if ei is not None:  # pruned at compile time in the counting pass
                    ei[m] = na
                    ej[m] = nb
                    ew[m] = w
                m += 1
    return m


def laplacian(graph: CircuitGraph | sp.spmatrix,
              ground_conductance: np.ndarray | None = None) -> sp.csr_matrix:
    """Graph Laplacian ``D - A`` (CSR), plus optional per-node conductances to ground.

    For a :class:`CircuitGraph` the cached Laplacian is returned (do not modify it in place)
    unless *ground_conductance* is given; a sparse matrix argument is taken as adjacency.

    Examples
    --------
    >>> import numpy as np
    >>> laplacian(conductance_graph(np.ones((1, 2)))).toarray()
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    if isinstance(graph, CircuitGraph):
        lap = graph.laplacian
    else:
        adj = sp.csr_matrix(graph)
        deg = np.asarray(adj.sum(axis=1)).ravel()
        lap = (sp.diags(deg) - adj).tocsr()
        lap.sort_indices()
    if ground_conductance is not None:
        lap = (lap + sp.diags(np.asarray(ground_conductance, dtype=np.float64))).tocsr()
    return lap


def connected_components(graph: CircuitGraph | sp.spmatrix) -> tuple[int, np.ndarray]:
    """Number of connected components and a component label per node."""
    if isinstance(graph, CircuitGraph):
        # union-find on the branch list: no Laplacian needed (the large AMG path never
        # builds the CSR one); components are numbered in order of their lowest node
        return branch_components(graph.edge_i, graph.edge_j, graph.n_nodes)
    mat = sp.csr_matrix(graph)
    if mat.shape[0] == 0:
        return 0, np.zeros(0, dtype=np.int64)
    n, labels = _cc(mat, directed=False)  # the diagonal only adds self-loops
    return int(n), labels.astype(np.int64)
