"""Omniscape moving-window circuit analysis (omnidirectional connectivity).

Follows Omniscape.jl (McRae et al.; Landau et al. 2021, JOSS 6:2829), read from its source
and documentation:

1. **Targets.** Block centres on a grid of spacing ``block_size`` (odd), starting
   ``(block_size-1)/2`` cells from the top-left corner and keeping whole blocks inside the
   raster. A target's strength is the sum of the source strengths in its block; targets of
   strength 0 are dropped.
2. **Window.** Conductance is clipped to the cells within Euclidean distance
   ``radius + buffer`` of the target; sources to those within ``radius``. Sources inside
   the target's block are set to 0, and the remaining sources are rescaled so that they
   inject, in total, the target's strength, in proportion to their own strengths.
3. **Solve.** Circuitscape advanced mode with the target cell directly grounded (voltage 0),
   8 neighbours (or 4), average conductance. Components without the ground carry no
   current. The window's node-current map is added to the cumulative map.
4. **Flow potential.** The same sources and ground with conductance 1 on every cell of the
   (square, raster-clipped) window; ``normalized_cum_currmap = cum_currmap / flow_potential``
   (0 where the flow potential is 0).
5. **Block artefact correction** (``block_size > 1``): each window's currents are multiplied
   by the ratio of (a) the null-model current of block_size**2 single-cell targets, summed
   over the block, to (b) the null-model current of one block target (Omniscape's
   ``calc_correction``; never conditioned).
6. **Conditional connectivity** (optional, Omniscape's ``conditional = true``): after the
   rescaling of step 2, the sources whose condition does not match the target are set to
   0, *without* renormalising, so the window injects less than the target's strength. The
   target's value of a condition is the median (``within``) or the mode (``equal``) of its
   comparison layer (the future layer when compared to the future, else the present one)
   over the target's block, nodata skipped. A source matches ``within`` when
   ``lower <= source - target <= upper`` (inclusive) and ``equal`` when ``source ==
   target``, the source value always from the present layer; all conditions must match. An
   unknown comparison (nodata source, or a target block without data) excludes nothing, as
   Omniscape's ``coalesce(..., false)``. Current and flow potential use the same
   conditioned sources.

Windows are independent: they run serially, in a process pool (``n_jobs``), or on a
dask.distributed ``client``. Windows are grouped in fixed batches whose partial maps are
summed in batch order, so the result is bit-for-bit the same for any number of workers.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import numbers
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._grid import GridSpec
from ..errors import ValidationError, close_matches
from ..options import resolve_progress
from . import _window_solve as ws

__all__ = ["omniscape", "Condition"]

#: Accepted spellings of the comparisons (Omniscape documents "equal"; its code tests "equals").
COMPARISONS = {"within": "within", "equal": "equal", "equals": "equal"}

#: Windows per batch. Fixed (not derived from the number of workers) so that the summation
#: order, and hence every bit of the result, is independent of how the work is spread.
BATCH_SIZE = 24


@dataclass(frozen=True)
class _Params:
    radius: int
    buffer: int
    block_size: int
    four: bool
    calc_fp: bool
    correct: bool
    nrows: int
    ncols: int

    @property
    def half(self) -> int:
        return self.radius + self.buffer

    @property
    def block_radius(self) -> int:
        return (self.block_size - 1) // 2


@dataclass(frozen=True)
class Condition:
    """One condition of Omniscape's conditional connectivity (see :func:`omniscape`).

    Parameters
    ----------
    present : xarray.DataArray
        Present-day values on the resistance grid (NaN or nodata: unknown). Sources are
        always compared with their present value.
    future : xarray.DataArray, optional
        Future values; a target's value comes from this layer when the condition is
        compared to the future (see *compare_to_future* of :func:`omniscape`).
    comparison : {"within", "equal"}
        ``within``: a source is kept when ``lower <= source - target <= upper``.
        ``equal``: kept when ``source == target`` (categorical layers).
    lower, upper : float, optional
        Bounds of ``within`` (required there, ignored by ``equal``).
    """

    present: xr.DataArray
    future: xr.DataArray | None = None
    comparison: str = "within"
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True)
class ArrayCondition:
    """Array-level condition used by :func:`omniscape_arrays` (NaN = unknown).

    *present* gives the sources' values; *target* is the layer the target's value is taken
    from (the future layer when compared to the future, otherwise *present* again).
    *comparison* is ``"within"`` or ``"equal"``.
    """

    present: np.ndarray
    target: np.ndarray
    comparison: str = "within"
    lower: float = 0.0
    upper: float = 0.0


@dataclass(frozen=True)
class _CondPack:
    """What a worker needs to condition its windows: padded present layers and the rules."""

    present: tuple
    equal: tuple
    lower: tuple
    upper: tuple


# -- public API -----------------------------------------------------------------------------
def omniscape(
    resistance: xr.DataArray,
    *,
    sources: xr.DataArray | None = None,
    radius_cells: int,
    block_size: int = 1,
    source_threshold: float = 0,
    r_cutoff: float | None = None,
    buffer_cells: int = 0,
    source_from_resistance: bool | None = None,
    calc_flow_potential: bool = True,
    calc_normalized_current: bool = True,
    correct_artifacts: bool = True,
    connect: str = "eight",
    resistance_is_conductance: bool = False,
    client=None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    conditions=None,
    compare_to_future=None,
) -> xr.Dataset:
    """Omnidirectional current flow by Omniscape's moving window.

    Parameters
    ----------
    resistance : xarray.DataArray
        Resistance (or conductance, see *resistance_is_conductance*) in a projected CRS;
        NaN or the raster's nodata marks impassable cells. Values must be > 0.
    sources : xarray.DataArray, optional
        Source strengths on the same grid (NaN = 0). Values below *source_threshold* are
        set to 0. If omitted, sources are derived from resistance (see
        *source_from_resistance*).
    radius_cells : int
        Moving-window radius in cells (Omniscape ``radius``).
    block_size : int, default 1
        Target block size (odd; an even value is increased by one, as Omniscape does).
    source_threshold : float, default 0
        Sources below this strength are ignored (user-supplied *sources* only).
    r_cutoff : float, optional
        With sources derived from resistance: cells with resistance above *r_cutoff* are
        not sources (Omniscape ``r_cutoff``; default: no cutoff).
    buffer_cells : int, default 0
        Extra window margin (conductance only) beyond *radius_cells* (Omniscape ``buffer``).
    source_from_resistance : bool, optional
        Derive sources as 1/resistance (or the conductance itself). Default: True when
        *sources* is None.
    calc_flow_potential, calc_normalized_current : bool, default True
        Compute ``flow_potential`` and ``normalized_cum_currmap``.
    correct_artifacts : bool, default True
        Apply Omniscape's block-artefact correction (only matters for block_size > 1).
    connect : {"eight", "four"}
        Neighbourhood of the circuit graph.
    resistance_is_conductance : bool, default False
        *resistance* holds conductances.
    client : dask.distributed.Client, optional
        Run window batches on this cluster.
    n_jobs : int, optional
        Local worker processes (ignored when *client* is given). Default 1.
    progress : bool, optional
        Show a progress bar (default from ``tbpa.set_options``).
    conditions : Condition, dict or list of them, optional
        Conditional connectivity (Omniscape's ``conditional = true``): a target is only
        connected to the sources that meet every condition. Each item is a
        :class:`Condition` or a dict with the same keys (``present``, ``future``,
        ``comparison``, ``lower``, ``upper``). The target's value is the median
        (``within``) or mode (``equal``) of its block; non-matching sources are set to 0
        after the sources were scaled to the target's strength (not renormalised, as in
        Omniscape). Nodata (unknown) never excludes a source. Any number of conditions is
        accepted (Omniscape: 1 or 2).
    compare_to_future : {None, "none", "both", "all"}, int or list of int, optional
        Which conditions take the target's value from their ``future`` layer (Omniscape's
        ``compare_to_future``: ``none``, ``1``, ``2``, ``both``; numbers are 1-based).
        Default: every condition that has a ``future`` layer. A selected condition without
        one raises :class:`~tbpa.errors.ValidationError`.

    Returns
    -------
    xarray.Dataset
        ``cum_currmap`` and, as requested, ``flow_potential`` and
        ``normalized_cum_currmap`` (NaN on nodata cells); attrs record the options and
        ``n_targets`` (and ``n_conditions`` when conditioned).

    Raises
    ------
    GridMismatchError
        A condition layer is not on the resistance grid.
    ValidationError
        Unknown comparison, missing or inverted ``within`` bounds, a future layer missing
        for *compare_to_future*, bad radius/block/buffer, both or neither source inputs.

    Examples
    --------
    >>> import numpy as np, tbpa
    >>> from affine import Affine
    >>> r = tbpa.io.from_array(np.ones((21, 21)), transform=Affine(100, 0, 0, 0, -100, 2100),
    ...                        crs="EPSG:3035")
    >>> ds = tbpa.connectivity.omniscape(r, radius_cells=4)
    >>> round(float(ds.normalized_cum_currmap[10, 10]), 2)  # uniform: close to 1
    0.98

    Connect each target only to sources with a temperature within 1 degree of it, where
    targets use the future temperature (climate connectivity):

    >>> t_now = r.copy(data=np.tile(np.linspace(0, 10, 21), (21, 1)))
    >>> cond = tbpa.connectivity.Condition(
    ...     t_now, future=t_now + 1.0, comparison="within", lower=-1.0, upper=1.0)
    >>> ds = tbpa.connectivity.omniscape(r, radius_cells=4, conditions=[cond])
    >>> ds.attrs["n_conditions"]
    1
    """
    grid = GridSpec.from_dataarray(resistance, "resistance")
    res = _as_float(resistance)
    if sources is not None:
        if source_from_resistance:
            raise ValidationError(
                "omniscape: both `sources` and source_from_resistance=True were given; "
                "pass one of them"
            )
        grid.require_same(GridSpec.from_dataarray(sources, "sources"), ("resistance", "sources"))
        src = prepare_sources(_as_float(sources), source_threshold)
    else:
        if source_from_resistance is False:
            raise ValidationError(
                "omniscape: source_from_resistance=False needs a `sources` raster"
            )
        src = sources_from_resistance(res, r_cutoff, resistance_is_conductance)
    if connect not in ("eight", "four"):
        raise ValidationError(f"omniscape: `connect` must be 'eight' or 'four', got {connect!r}")
    conds = _parse_conditions(conditions, compare_to_future, grid)
    out = omniscape_arrays(
        res, src, radius=radius_cells, block_size=block_size, buffer=buffer_cells,
        resistance_is_conductance=resistance_is_conductance,
        calc_flow_potential=calc_flow_potential,
        calc_normalized_current=calc_normalized_current,
        correct_artifacts=correct_artifacts, four=connect == "four", client=client,
        n_jobs=n_jobs, progress=progress, conditions=conds,
    )
    nodata = ~np.isfinite(res)
    data = {}
    for key, arr in out.items():
        if key == "n_targets":
            continue
        arr = arr.copy()
        arr[nodata] = np.nan
        data[key] = arr
    ds = xr.Dataset({k: (("y", "x"), np.asarray(v)) for k, v in data.items()},
                    coords={"y": grid.ycoords(), "x": grid.xcoords()})
    ds = ds.rio.write_crs(grid.crs).rio.write_transform(grid.transform)
    ds.attrs.update(
        radius_cells=int(radius_cells), block_size=int(_odd_block(block_size)),
        buffer_cells=int(buffer_cells), connect=connect, n_targets=int(out["n_targets"]),
        method="Omniscape moving window (Circuitscape advanced mode per target)",
    )
    if conds:
        ds.attrs["n_conditions"] = len(conds)
    return ds


# -- conditional connectivity: input checks ---------------------------------------------------
_CONDITION_KEYS = ("present", "future", "comparison", "lower", "upper")


def _parse_conditions(conditions, compare_to_future, grid: GridSpec):
    """Validate the public *conditions* and return a list of :class:`ArrayCondition`."""
    if conditions is None:
        if compare_to_future not in (None, "none"):
            raise ValidationError(
                "omniscape: `compare_to_future` was given without `conditions`")
        return None
    if isinstance(conditions, (Condition, dict)):
        conditions = [conditions]
    conditions = list(conditions)
    if not conditions:
        raise ValidationError("omniscape: `conditions` is empty; pass None for no conditions")
    items = [_as_condition(c, i) for i, c in enumerate(conditions)]
    use_future = _future_selection(compare_to_future, items)
    out = []
    for i, c in enumerate(items):
        name = f"conditions[{i}]"
        if not isinstance(c.present, xr.DataArray):
            raise ValidationError(
                f"omniscape: {name}.present must be an xarray.DataArray on the resistance "
                f"grid, got {type(c.present).__name__}")
        grid.require_same(GridSpec.from_dataarray(c.present, f"{name}.present"),
                          ("resistance", f"{name}.present"))
        present = _as_float(c.present)
        target = present
        if use_future[i]:
            if c.future is None:
                raise ValidationError(
                    f"omniscape: compare_to_future={compare_to_future!r} selects {name} "
                    f"(condition {i + 1}) but it has no `future` layer; give one or leave "
                    "that condition out of compare_to_future")
            grid.require_same(GridSpec.from_dataarray(c.future, f"{name}.future"),
                              ("resistance", f"{name}.future"))
            target = _as_float(c.future)
        comparison = _comparison(c.comparison, name)
        lower = upper = 0.0
        if comparison == "within":
            lower, upper = _bounds(c.lower, c.upper, name)
        out.append(ArrayCondition(present, target, comparison, lower, upper))
    return out


def _as_condition(c, i: int) -> Condition:
    if isinstance(c, Condition):
        return c
    if isinstance(c, dict):
        bad = [k for k in c if k not in _CONDITION_KEYS]
        if bad:
            hint = close_matches(bad[0], _CONDITION_KEYS)
            raise ValidationError(
                f"omniscape: conditions[{i}] has unknown key(s) {bad}; allowed: "
                f"{list(_CONDITION_KEYS)}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        if "present" not in c:
            raise ValidationError(f"omniscape: conditions[{i}] needs a `present` layer")
        return Condition(**c)
    raise ValidationError(
        f"omniscape: conditions[{i}] must be a Condition or a dict, got {type(c).__name__}")


def _comparison(value, name: str) -> str:
    key = str(value).strip().lower()
    if key not in COMPARISONS:
        raise ValidationError(
            f"omniscape: {name}.comparison must be 'within' or 'equal', got {value!r}")
    return COMPARISONS[key]


def _bounds(lower, upper, name: str) -> tuple[float, float]:
    if lower is None or upper is None:
        raise ValidationError(
            f"omniscape: {name} compares 'within' and needs both `lower` and `upper` "
            f"(got lower={lower!r}, upper={upper!r}); e.g. lower=-1, upper=1")
    try:
        lo, hi = float(lower), float(upper)
    except (TypeError, ValueError):
        raise ValidationError(
            f"omniscape: {name}.lower/upper must be numbers, got {lower!r}, {upper!r}"
        ) from None
    if np.isnan(lo) or np.isnan(hi) or lo > hi:
        raise ValidationError(
            f"omniscape: {name} needs lower <= upper, got lower={lo}, upper={hi}")
    return lo, hi


def _future_selection(compare_to_future, items) -> list[bool]:
    """Which conditions take the target's value from their future layer."""
    n = len(items)
    if compare_to_future is None:
        return [c.future is not None for c in items]
    if isinstance(compare_to_future, str):
        key = compare_to_future.strip().lower()
        if key == "none":
            return [False] * n
        if key in ("both", "all"):
            return [True] * n
        if key.isdigit():
            compare_to_future = int(key)
        else:
            raise ValidationError(
                "omniscape: `compare_to_future` must be None, 'none', 'both', 'all', a "
                f"condition number or a list of them, got {compare_to_future!r}")
    picks = ([compare_to_future] if isinstance(compare_to_future, numbers.Integral)
             else list(compare_to_future))
    sel = [False] * n
    for k in picks:
        if not isinstance(k, numbers.Integral) or not 1 <= int(k) <= n:
            raise ValidationError(
                f"omniscape: `compare_to_future` numbers conditions from 1 to {n}, got {k!r}")
        sel[int(k) - 1] = True
    return sel


# -- source strengths -------------------------------------------------------------------------
def prepare_sources(src: np.ndarray, threshold: float) -> np.ndarray:
    """NaN -> 0 and values below *threshold* -> 0 (Omniscape, user-supplied sources)."""
    s = np.where(np.isfinite(src), src, 0.0)
    s[s < threshold] = 0.0
    return s


def sources_from_resistance(res: np.ndarray, r_cutoff, is_conductance: bool) -> np.ndarray:
    """Omniscape's ``source_from_resistance``: source = 1/R, 0 where R > r_cutoff or nodata.

    With conductance input the source is the conductance, 0 where it is below 1/r_cutoff.
    """
    cutoff = np.inf if r_cutoff is None else float(r_cutoff)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = res.copy() if is_conductance else 1.0 / res
        limit = 1.0 / cutoff if cutoff > 0 else np.inf
        s[~np.isfinite(s) | (s < limit)] = 0.0
    return s


def _as_float(da) -> np.ndarray:
    arr = np.asarray(da.values if hasattr(da, "values") else da, dtype=np.float64).copy()
    nod = getattr(getattr(da, "rio", None), "nodata", None) if hasattr(da, "rio") else None
    if nod is not None and np.isfinite(nod):
        arr[arr == nod] = np.nan
    return arr


def _odd_block(block_size: int) -> int:
    b = int(round(block_size))
    if b < 1:
        raise ValidationError(f"omniscape: `block_size` must be >= 1, got {block_size}")
    return b + 1 if b % 2 == 0 else b


# -- targets ----------------------------------------------------------------------------------
def targets(src: np.ndarray, block_size: int) -> np.ndarray:
    """Target rows, columns and strengths, shape (n, 3), in Omniscape's (column-major) order."""
    br = (block_size - 1) // 2
    nrows, ncols = src.shape
    ys = np.arange(br, nrows - br, block_size)
    xs = np.arange(br, ncols - br, block_size)
    if ys.size == 0 or xs.size == 0:
        return np.zeros((0, 3))
    ii = np.zeros((nrows + 1, ncols + 1))
    ii[1:, 1:] = src.cumsum(0).cumsum(1)
    X, Y = np.meshgrid(xs, ys, indexing="ij")  # x outer, y inner: Omniscape's order
    Y, X = Y.ravel(), X.ravel()
    if br == 0:
        strength = src[Y, X]
    else:
        strength = (ii[Y + br + 1, X + br + 1] - ii[Y - br, X + br + 1]
                    - ii[Y + br + 1, X - br] + ii[Y - br, X - br])
        # the integral image can leave round-off where the block is empty
        strength = np.where(np.abs(strength) < 1e-12 * max(1.0, np.abs(src).max()), 0.0,
                            strength)
    keep = strength > 0
    return np.column_stack([Y[keep], X[keep], strength[keep]])


def target_condition_values(tg: np.ndarray, cond: ArrayCondition,
                            block_size: int) -> np.ndarray:
    """Each target's value of a condition: median (within) or mode (equal) over its block.

    NaN cells are skipped (Julia's ``skipmissing``); a block without data gives NaN. The
    mode follows StatsBase's ``mode`` exactly, ties included: scanning the block in
    column-major order (Julia's), the first value whose running count exceeds all earlier
    counts and is never exceeded later wins, i.e. among the most frequent values the one
    that reaches that count first.
    """
    if tg.shape[0] == 0:
        return np.zeros(0)
    br = (block_size - 1) // 2
    ty = tg[:, 0].astype(np.int64)
    tx = tg[:, 1].astype(np.int64)
    # block cells in column-major order: dx outer, dy inner
    dy, dx = np.meshgrid(np.arange(-br, br + 1), np.arange(-br, br + 1), indexing="xy")
    vals = cond.target[ty[:, None] + dy.ravel()[None, :], tx[:, None] + dx.ravel()[None, :]]
    if cond.comparison == "within":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN block -> NaN
            return np.nanmedian(vals, axis=1)
    return _block_mode(vals)


def _block_mode(vals: np.ndarray) -> np.ndarray:
    """Row-wise StatsBase ``mode`` of *vals* (n, m), NaN skipped (NaN when a row is empty)."""
    n, m = vals.shape
    out = np.full(n, np.nan)
    upto = np.tril(np.ones((m, m), dtype=bool))  # upto[j, k]: k <= j
    step = max(1, 4_000_000 // (m * m))
    for i0 in range(0, n, step):
        v = vals[i0 : i0 + step]
        eq = v[:, :, None] == v[:, None, :]  # NaN equals nothing
        running = (eq & upto).sum(axis=2)  # count of v[j] among the first j+1 cells
        best = eq.sum(axis=2).max(axis=1)
        hit = (running == best[:, None]) & (best[:, None] > 0)
        ok = hit.any(axis=1)
        first = hit.argmax(axis=1)
        out[i0 : i0 + step][ok] = v[ok, first[ok]]
    return out


# -- block artefact correction ----------------------------------------------------------------
def correction_array(p: _Params) -> np.ndarray:
    """Omniscape's block-artefact correction for one (untruncated) window, flat."""
    half, size, br = p.half, 2 * p.half + 1, p.block_radius
    st = ws.stencil(half, True, p.four)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    in_r = (yy * yy + xx * xx) <= p.radius * p.radius
    g = np.where((yy * yy + xx * xx) <= half * half, 1.0, np.nan).ravel()

    n_src = int(in_r.sum())
    s_null = np.where(in_r, 1.0 / (n_src - 1), 0.0)
    s_null[half, half] = 0.0
    s_block = in_r.astype(float)
    s_block[half - br : half + br + 1, half - br : half + br + 1] = 0.0
    s_block *= p.block_size**2 / s_block.sum()
    s_block = s_block.ravel()

    fac = ws.factorize(st, g)
    block_null = ws.solve_window(st, g, s_block, fac).reshape(size, size)
    null = ws.solve_window(st, g, s_null.ravel(), fac).reshape(size, size)
    total = np.zeros((size + 2 * br, size + 2 * br))
    for dy in range(p.block_size):
        for dx in range(p.block_size):
            total[dy : dy + size, dx : dx + size] += null
    total = total[br : br + size, br : br + size]
    total[block_null == 0] = 0.0
    total[total == 0] = 1.0
    block_null[block_null == 0] = 1.0
    return (total / block_null).ravel()


# -- one batch of windows ---------------------------------------------------------------------
class _FPCache:
    """Per-process LRU of flow-potential (all-ones window) factorisations.

    The flow-potential conductance depends only on how the raster edge clips the window,
    so interior windows share one factorisation and edge windows share one per clipping
    (the same clippings recur in every column of targets). The cache lives for the
    process, i.e. across batches on a worker, and is bounded by a memory budget.
    """

    budget_bytes = 1.0e9

    def __init__(self):
        self.items: OrderedDict = OrderedDict()
        self.maxsize = 4
        self.lock = threading.Lock()  # dask workers with threads share the cache

    def get(self, key, st, g, wanted: int):
        with self.lock:
            return self._get(key, st, g, wanted)

    def _get(self, key, st, g, wanted: int):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        val = ws.factorize(st, g)
        if val is not None:
            nbytes = val[0].nbytes + 1.0
            self.maxsize = max(2, min(wanted, int(self.budget_bytes // nbytes)))
        self.items[key] = val
        while len(self.items) > self.maxsize:
            self.items.popitem(last=False)
        return val


_FP_CACHE = _FPCache()


def _apply_conditions(s: np.ndarray, conds: _CondPack, values, y: int, x: int,
                      size: int) -> None:
    """Zero, in place, the window sources that do not match the target's *values*.

    Comparisons with NaN (unknown) are false, so they exclude nothing (Omniscape's
    ``coalesce(..., false)``).
    """
    for layer, equal, lo, hi, v in zip(conds.present, conds.equal, conds.lower, conds.upper,
                                       values):
        if np.isnan(v):
            continue
        c = layer[y : y + size, x : x + size].ravel()
        if equal:
            s[(c != v) & ~np.isnan(c)] = 0.0
        else:
            d = c - v
            s[(d > hi) | (d < lo)] = 0.0


def _run_batch(p: _Params, cond_pad, src_pad, tg, corr, conds: _CondPack | None = None):
    """Solve the windows of targets *tg*; return (row0, col0, cum, fp) over their bbox.

    With *conds*, column 3 onwards of *tg* hold the targets' condition values.
    """
    half, size = p.half, 2 * p.half + 1
    br = p.block_radius
    st_c = ws.stencil(half, True, p.four)
    st_f = ws.stencil(half, False, p.four)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    in_r = ((yy * yy + xx * xx) <= p.radius * p.radius).ravel()
    in_block = ((np.abs(yy) <= br) & (np.abs(xx) <= br)).ravel()
    ty = tg[:, 0].astype(np.int64)
    tx = tg[:, 1].astype(np.int64)
    r0, r1 = int(ty.min()), int(ty.max()) + size
    c0, c1 = int(tx.min()), int(tx.max()) + size
    cum = np.zeros((r1 - r0, c1 - c0))
    fp = np.zeros_like(cum) if p.calc_fp else None
    # distinct clippings met in one column of targets: top and bottom edge rows + interior
    wanted = 2 * (half // p.block_size + 2) + 1
    for k in range(tg.shape[0]):
        y, x, strength = int(ty[k]), int(tx[k]), float(tg[k, 2])
        # padded arrays: window rows y .. y+2D in padded coordinates
        g = cond_pad[y : y + size, x : x + size].ravel()
        s = src_pad[y : y + size, x : x + size].ravel().copy()
        s[~in_r] = 0.0
        if y >= half and x >= half:
            s[in_block] = 0.0
        else:
            # Omniscape zeroes the target block at the centre of its *raster-clipped*
            # sub-array, which is not the target when the window is cut by the top or left
            # edge; reproduce that so results match Omniscape.jl cell for cell.
            sq = s.reshape(size, size)
            oy, ox = half - br + max(0, half - y), half - br + max(0, half - x)
            sq[oy : oy + p.block_size, ox : ox + p.block_size] = 0.0
        total = s[s > 0].sum()
        if total > 0:
            s[s > 0] *= strength / total
        if conds is not None:
            # after the rescaling, without renormalising: Omniscape's order
            _apply_conditions(s, conds, tg[k, 3:], y, x, size)
        if not s.any():
            continue  # nothing injected: no current, skip both factorisations
        cur = ws.solve_window(st_c, g, s)
        if corr is not None:
            cur *= corr
        cum[y - r0 : y - r0 + size, x - c0 : x - c0 + size] += cur.reshape(size, size)
        if p.calc_fp:
            top, left = max(0, half - y), max(0, half - x)
            bottom = max(0, y + half - (p.nrows - 1))
            right = max(0, x + half - (p.ncols - 1))
            key = (half, p.four, top, bottom, left, right)
            inside = np.zeros((size, size))
            inside[top : size - bottom, left : size - right] = 1.0
            gf = np.where(inside > 0, 1.0, np.nan).ravel()
            fac = _FP_CACHE.get(key, st_f, gf, wanted)
            fcur = ws.solve_window(st_f, gf, s, fac)
            if corr is not None:
                fcur *= corr
            fp[y - r0 : y - r0 + size, x - c0 : x - c0 + size] += fcur.reshape(size, size)
    return r0, c0, cum, fp


# Worker-process globals (set once per process by the pool initialiser).
_W: dict = {}


def _init_worker(p, cond_pad, src_pad, corr, conds=None):
    _W.update(p=p, cond=cond_pad, src=src_pad, corr=corr, conds=conds)


def _pool_batch(tg):
    return _run_batch(_W["p"], _W["cond"], _W["src"], tg, _W["corr"], _W["conds"])


# -- driver -----------------------------------------------------------------------------------
def omniscape_arrays(
    resistance: np.ndarray,
    sources: np.ndarray,
    *,
    radius: int,
    block_size: int = 1,
    buffer: int = 0,
    resistance_is_conductance: bool = False,
    calc_flow_potential: bool = True,
    calc_normalized_current: bool = True,
    correct_artifacts: bool = True,
    four: bool = False,
    client=None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    conditions: list[ArrayCondition] | None = None,
) -> dict:
    """Array-level Omniscape (no CRS needed); used by :func:`omniscape` and ``run_ini``.

    *resistance* has NaN for nodata; *sources* are final source strengths (>= 0, no NaN).
    *conditions* (list of :class:`ArrayCondition`) switches on conditional connectivity.
    Returns a dict with ``cum_currmap`` and optionally ``flow_potential`` and
    ``normalized_cum_currmap`` (0 where the flow potential is 0), plus ``n_targets``.
    """
    res = np.asarray(resistance, dtype=np.float64)
    src = np.asarray(sources, dtype=np.float64)
    if res.ndim != 2 or res.shape != src.shape:
        raise ValidationError(
            f"omniscape: resistance {res.shape} and sources {src.shape} must be 2-D and equal"
        )
    finite = res[np.isfinite(res)]
    if finite.size and finite.min() <= 0:
        raise ValidationError(
            "omniscape: resistance has zero or negative values (min "
            f"{finite.min()}); Omniscape requires values > 0. Use NaN for impassable cells"
        )
    radius = int(round(radius))
    buffer = int(round(buffer))
    if radius < 1:
        raise ValidationError(f"omniscape: `radius_cells` must be >= 1, got {radius}")
    if buffer < 0:
        raise ValidationError(f"omniscape: `buffer_cells` must be >= 0, got {buffer}")
    bs = _odd_block(block_size)
    calc_fp = bool(calc_flow_potential or calc_normalized_current)
    p = _Params(radius, buffer, bs, bool(four), calc_fp, bool(correct_artifacts and bs > 1),
                res.shape[0], res.shape[1])
    cond = res if resistance_is_conductance else 1.0 / res
    half = p.half
    cond_pad = np.pad(cond, half, constant_values=np.nan)
    src_pad = np.pad(np.where(np.isfinite(src), src, 0.0), half)
    tg = targets(np.where(np.isfinite(src), src, 0.0), bs)
    corr = correction_array(p) if p.correct else None
    conds = None
    if conditions:
        conds, values = _pack_conditions(conditions, res.shape, half, tg, bs)
        tg = np.column_stack([tg, values])

    cum_pad = np.zeros_like(cond_pad)
    fp_pad = np.zeros_like(cond_pad) if calc_fp else None
    batches = [tg[i : i + BATCH_SIZE] for i in range(0, tg.shape[0], BATCH_SIZE)]
    for r0, c0, cum, fp in _map_batches(p, cond_pad, src_pad, batches, corr, client,
                                        n_jobs, progress, conds):
        # padded coordinates: a window at target y starts at padded row y
        cum_pad[r0 : r0 + cum.shape[0], c0 : c0 + cum.shape[1]] += cum
        if calc_fp:
            fp_pad[r0 : r0 + fp.shape[0], c0 : c0 + fp.shape[1]] += fp
    inner = (slice(half, half + res.shape[0]), slice(half, half + res.shape[1]))
    out = {"cum_currmap": cum_pad[inner].copy(), "n_targets": tg.shape[0]}
    if calc_fp:
        fpm = fp_pad[inner].copy()
        if calc_flow_potential:
            out["flow_potential"] = fpm
        if calc_normalized_current:
            with np.errstate(divide="ignore", invalid="ignore"):
                norm = out["cum_currmap"] / fpm
            norm[~np.isfinite(norm)] = 0.0
            out["normalized_cum_currmap"] = norm
    return out


def _pack_conditions(conditions, shape, half: int, tg: np.ndarray, bs: int):
    """Padded present layers for the workers and the targets' values, shape (n, k)."""
    present, equal, lower, upper, values = [], [], [], [], []
    for i, c in enumerate(conditions):
        pres = np.asarray(c.present, dtype=np.float64)
        targ = np.asarray(c.target, dtype=np.float64)
        if pres.shape != tuple(shape) or targ.shape != tuple(shape):
            raise ValidationError(
                f"omniscape: condition {i + 1} layers {pres.shape}/{targ.shape} must have the "
                f"resistance shape {tuple(shape)}")
        comparison = COMPARISONS.get(str(c.comparison).lower())
        if comparison is None:
            raise ValidationError(
                f"omniscape: condition {i + 1} comparison must be 'within' or 'equal', got "
                f"{c.comparison!r}")
        lo, hi = float(c.lower), float(c.upper)
        if comparison == "within" and not lo <= hi:
            raise ValidationError(
                f"omniscape: condition {i + 1} needs lower <= upper, got {lo}, {hi}")
        present.append(np.pad(pres, half, constant_values=np.nan))
        equal.append(comparison == "equal")
        lower.append(lo)
        upper.append(hi)
        values.append(target_condition_values(
            tg, ArrayCondition(pres, targ, comparison, lo, hi), bs))
    pack = _CondPack(tuple(present), tuple(equal), tuple(lower), tuple(upper))
    return pack, np.column_stack(values) if tg.shape[0] else np.zeros((0, len(values)))


def _map_batches(p, cond_pad, src_pad, batches, corr, client, n_jobs, progress, conds=None):
    """Yield batch results IN BATCH ORDER, computed serially, in processes or on dask."""
    show = resolve_progress(progress)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(batches), desc="omniscape windows", unit="batch")
    try:
        if client is not None:
            yield from _dask_batches(p, cond_pad, src_pad, batches, corr, client, bar, conds)
        elif n_jobs is not None and n_jobs > 1 and len(batches) > 1:
            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            with cf.ProcessPoolExecutor(max_workers=int(n_jobs), mp_context=ctx,
                                        initializer=_init_worker,
                                        initargs=(p, cond_pad, src_pad, corr,
                                                  conds)) as pool:
                for res in pool.map(_pool_batch, batches):
                    if bar is not None:
                        bar.update(1)
                    yield res
        else:
            for b in batches:
                res = _run_batch(p, cond_pad, src_pad, b, corr, conds)
                if bar is not None:
                    bar.update(1)
                yield res
    finally:
        if bar is not None:
            bar.close()


def _dask_batches(p, cond_pad, src_pad, batches, corr, client, bar, conds=None):
    cond_f = client.scatter(cond_pad, broadcast=True)
    src_f = client.scatter(src_pad, broadcast=True)
    conds_f = None if conds is None else client.scatter(conds, broadcast=True)
    futures = [client.submit(_run_batch, p, cond_f, src_f, b, corr, conds_f, pure=False)
               for b in batches]
    try:
        for fut in futures:  # consume in submission order: deterministic sums
            res = fut.result()
            fut.release()
            if bar is not None:
                bar.update(1)
            yield res
    finally:
        for fut in futures:
            fut.cancel()
