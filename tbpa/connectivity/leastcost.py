"""Least-cost analysis on resistance rasters: cost distance, least-cost path and corridor.

Convention (GRASS r.cost, ArcGIS Cost Distance, gdistance, skimage ``MCP_Geometric``):
the grid is a graph whose nodes are cells and whose edges join each cell to its 8 (or 4)
neighbours. A step between neighbouring cells ``u`` and ``v`` costs
``(r[u] + r[v]) / 2 * d`` with ``d`` the centre-to-centre distance in metres (the cell
size, or sqrt(2) times it on diagonals). NaN cells are impassable; diagonal steps between
two passable cells are allowed even when both orthogonal cells between them are NaN.
Costs are therefore in *resistance units x metres*. Sources and targets are points (the
cell they fall in) or polygons (every cell whose centre they cover, cost 0 inside).

The search is a compiled multi-source Dijkstra over the implicit grid graph
(:mod:`tbpa.connectivity._dijkstra`), about 20 bytes per cell.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from .._geom import features_to_cells
from .._grid import GridSpec
from ..errors import CRSError, DataError, UnreachableWarning, ValidationError
from ._dijkstra import DC, DR, dijkstra_grid, trace_backlinks

__all__ = ["cost_distance", "least_cost_path", "least_cost_corridor"]

_NO_STOP = np.zeros(1, dtype=np.uint8)
COST_UNITS = "resistance*m"


# -- input preparation (shared with corridors.py) ---------------------------------------
@dataclass
class Surface:
    """A validated resistance grid ready for the Dijkstra kernel."""

    grid: GridSpec
    cell: float
    res: np.ndarray  # float64, flat, NaN = impassable
    n_nb: int

    @property
    def ncols(self) -> int:
        return self.grid.shape[1]

    @property
    def passable(self) -> np.ndarray:
        return ~np.isnan(self.res)

    def run(self, src, labels=None, *, alloc=False, back=False, stop_mask=None, n_stop=0,
            max_cost=None):
        """Run the kernel; returns (dist, alloc or None, back or None), flat arrays."""
        src = np.ascontiguousarray(src, dtype=np.int64)
        lab = (np.ones(len(src), dtype=np.int32) if labels is None
               else np.ascontiguousarray(labels, dtype=np.int32))
        stop = _NO_STOP if stop_mask is None else np.ascontiguousarray(stop_mask, dtype=np.uint8)
        limit = np.inf if max_cost is None else float(max_cost)
        dist, al, bk = dijkstra_grid(self.res, self.ncols, self.cell, self.n_nb, src, lab,
                                     bool(alloc), bool(back), stop, int(n_stop), limit)
        return dist, (al if alloc else None), (bk if back else None)

    def cells(self, features, name: str):
        """Rasterise *features*; returns (labels 2-D int32, ids), checked against NaN cells.

        Cells of a polygon that are NaN are dropped (they stay impassable); a feature with
        no passable cell at all raises ValidationError naming it.
        """
        fc = features_to_cells(features, self.grid, name)
        lab = fc.labels.ravel()
        n = len(fc.ids)
        covered = np.flatnonzero(lab)  # work on covered cells only: memory ~ feature size
        total = np.bincount(lab[covered], minlength=n + 1)
        blocked = covered[np.isnan(self.res[covered])]
        usable = total - np.bincount(lab[blocked], minlength=n + 1)
        bad = [fc.ids[k - 1] for k in range(1, n + 1) if total[k] > 0 and usable[k] == 0]
        if bad:
            raise ValidationError(
                f"`{name}` feature(s) {bad[:5]!r} lie only on NaN (impassable) cells of "
                "`resistance`; move them onto passable cells or fill the NaN there"
            )
        lab[blocked] = 0  # in place: fc.labels is our own array
        return fc.labels, fc.ids

    def cost_from(self, features, name: str, *, max_cost=None) -> np.ndarray:
        """Flat cost distance from the cells of *features* (inf where unreached)."""
        labels, _ = self.cells(features, name)
        return self.run(np.flatnonzero(labels.ravel()), max_cost=max_cost)[0]

    def to_da(self, flat, name, *, nodata=None):
        """Wrap a flat result as a DataArray on the grid without copying it."""
        return self.grid.to_dataarray(flat.reshape(self.grid.shape), name=name, nodata=nodata)


def _n_neighbours(connect) -> int:
    if connect in ("eight", 8, "8"):
        return 8
    if connect in ("four", 4, "4"):
        return 4
    raise ValidationError(f"`connect` must be 'eight' or 'four', got {connect!r}")


def prepare(resistance, connect="eight", name: str = "resistance") -> Surface:
    """Validate a resistance DataArray (projected metres, square cells, > 0 or NaN)."""
    if not isinstance(resistance, xr.DataArray):
        raise ValidationError(
            f"`{name}` must be a rioxarray DataArray, got {type(resistance).__name__}; build "
            "one with tbpa.io.from_array(values, transform=..., crs=...)"
        )
    grid = GridSpec.from_dataarray(resistance, name)
    cell = grid.require_square(name)
    res = np.array(resistance.values, dtype=np.float64).ravel()  # a copy: never mutate input
    # Reductions instead of boolean-indexed copies keep the peak memory per cell low.
    if np.isnan(res).all():
        raise DataError(f"`{name}` is all NaN: no passable cell")
    lo, hi = np.nanmin(res), np.nanmax(res)
    if np.isinf(hi) or np.isinf(lo):
        raise ValidationError(
            f"`{name}` has {int(np.isinf(res).sum())} infinite cells; mark impassable cells "
            "with NaN instead"
        )
    if lo <= 0:
        raise ValidationError(
            f"`{name}` must be > 0 (or NaN = impassable); got {int(np.sum(res <= 0))} cells "
            f"<= 0 (minimum {float(lo)!r}). If these are nodata, mask them: "
            "resistance.where(resistance > 0)"
        )
    return Surface(grid=grid, cell=float(cell), res=res, n_nb=_n_neighbours(connect))


def path_cells_to_line(surface: Surface, path: np.ndarray):
    """(LineString through cell centres, length in metres) for a flat-index path."""
    rows, cols = np.divmod(path, surface.ncols)
    xs, ys = surface.grid.xy(rows, cols)
    if len(path) == 1:  # start and end share a cell: a zero-length line
        xs, ys = np.repeat(xs, 2), np.repeat(ys, 2)
    diag = (np.diff(rows) != 0) & (np.diff(cols) != 0)
    length = surface.cell * (np.count_nonzero(~diag) + np.sqrt(2.0) * np.count_nonzero(diag))
    return shapely.LineString(np.column_stack([xs, ys])), float(length)


# -- public functions --------------------------------------------------------------------
def cost_distance(resistance, sources, *, connect="eight", max_cost=None,
                  return_allocation: bool = False, return_backlink: bool = False):
    """Accumulated least cost from the nearest source to every cell.

    Parameters
    ----------
    resistance : xarray.DataArray
        2-D resistance raster in a projected metre CRS with square cells; values > 0,
        NaN = impassable.
    sources : GeoDataFrame, GeoSeries, shapely geometry, (x, y) or (n, 2) array
        Points and/or polygons in the raster's CRS. Polygons contribute every cell whose
        centre they cover (cost 0 inside; NaN cells inside are skipped).
    connect : {"eight", "four"}
        Neighbourhood of the grid graph.
    max_cost : float, optional
        Stop the search at this cost; cells beyond it are ``inf`` (faster for corridors).
    return_allocation : bool
        Also return the allocation raster: the 1-based position of the nearest source
        feature (0 = none); ``allocation.attrs["source_ids"]`` maps positions to ids.
    return_backlink : bool
        Also return the back-link raster (int8): index k of the move that reached the cell,
        the predecessor being ``(row - DR[k], col - DC[k])`` with the offsets in
        ``attrs["dr"]``/``attrs["dc"]``; -1 at sources and unreached cells.

    Returns
    -------
    xarray.DataArray or tuple
        Cost distance in resistance units x metres (``attrs["units"]``); NaN on impassable
        cells, ``inf`` on passable cells that no source reaches. With either flag, a tuple
        ``(cost, allocation[, backlink])`` in that order.

    Raises
    ------
    CRSError
        Geographic or missing CRS, or sources in another CRS.
    ValidationError
        Non-square cells, resistance <= 0, sources outside the grid or only on NaN cells.

    Examples
    --------
    >>> import numpy as np, tbpa
    >>> from affine import Affine
    >>> r = tbpa.io.from_array(np.ones((3, 3)), transform=Affine(100, 0, 0, 0, -100, 300),
    ...                        crs="EPSG:3035")
    >>> cwd = cost_distance(r, (50.0, 250.0))
    >>> float(cwd[2, 2])  # two diagonal steps of sqrt(2) * 100 m at resistance 1
    282.842712474619
    """
    surface = prepare(resistance, connect)
    labels, ids = surface.cells(sources, "sources")
    lab = labels.ravel()
    src = np.flatnonzero(lab)
    src_lab = lab[src]
    del labels, lab  # free the label raster before the search
    dist, alloc, back = surface.run(src, src_lab, alloc=return_allocation,
                                    back=return_backlink, max_cost=max_cost)
    dist[np.isnan(surface.res)] = np.nan
    cwd = surface.to_da(dist, "cost_distance")
    cwd.attrs.update(units=COST_UNITS, connect="eight" if surface.n_nb == 8 else "four")
    if not (return_allocation or return_backlink):
        return cwd
    out = [cwd]
    if return_allocation:
        da = surface.to_da(alloc, "allocation", nodata=0)
        da.attrs["source_ids"] = list(ids)
        out.append(da)
    if return_backlink:
        da = surface.to_da(back, "backlink", nodata=-1)
        da.attrs.update(dr=DR.tolist(), dc=DC.tolist())
        out.append(da)
    return tuple(out)


def least_cost_path(resistance, start, end, *, countries=None, connect="eight",
                    iso3_column: str = "iso3"):
    """The least-cost path from *start* to *end* through cell centres.

    Parameters
    ----------
    resistance : xarray.DataArray
        Resistance raster (see :func:`cost_distance`).
    start, end : points or polygons
        Anything :func:`cost_distance` accepts as sources. With several features (or a
        polygon) the path runs between the cheapest pair of cells.
    countries : GeoDataFrame, optional
        Country polygons with an ISO3 column; adds ``length_m_<ISO3>`` columns with the
        length of the path inside each country (reprojected to the raster CRS if needed).
    connect : {"eight", "four"}
        Neighbourhood of the grid graph.
    iso3_column : str
        Name of the ISO3 column of *countries*.

    Returns
    -------
    geopandas.GeoDataFrame
        One row: ``cost`` (resistance units x metres, equal to the cost distance from
        *start* at the end cell), ``length_m``, ``n_cells``, the per-country lengths and a
        LineString geometry. If *end* cannot be reached: cost ``inf``, length NaN, empty
        geometry and an :class:`~tbpa.errors.UnreachableWarning`.

    Examples
    --------
    >>> import numpy as np, tbpa
    >>> from affine import Affine
    >>> r = tbpa.io.from_array(np.ones((3, 4)), transform=Affine(100, 0, 0, 0, -100, 300),
    ...                        crs="EPSG:3035")
    >>> p = least_cost_path(r, (50.0, 150.0), (350.0, 150.0))
    >>> float(p.cost.iloc[0]), float(p.length_m.iloc[0])
    (300.0, 300.0)
    """
    surface = prepare(resistance, connect)
    s_lab, _ = surface.cells(start, "start")
    e_lab, _ = surface.cells(end, "end")
    src = np.flatnonzero(s_lab.ravel())
    target = (e_lab.ravel() > 0).view(np.uint8)
    # Dijkstra settles cells in cost order: the first end cell settled is the cheapest.
    dist, _, back = surface.run(src, back=True, stop_mask=target, n_stop=1)
    tcells = np.flatnonzero(target)
    best = tcells[np.argmin(dist[tcells])]
    row = {"cost": float(dist[best])}
    if not np.isfinite(row["cost"]):
        warnings.warn(
            "least_cost_path: `end` cannot be reached from `start` (separated by NaN "
            "cells); returning cost inf and an empty geometry",
            UnreachableWarning,
            stacklevel=2,
        )
        row.update(length_m=np.nan, n_cells=0)
        geom = shapely.LineString()
    else:
        path = trace_backlinks(back, surface.ncols, best)
        geom, length = path_cells_to_line(surface, path)
        row.update(length_m=length, n_cells=len(path))
    if countries is not None:
        row.update(_lengths_by_country(geom, _countries_by_iso(countries, surface.grid.crs,
                                                               iso3_column)))
    return gpd.GeoDataFrame([row], geometry=[geom], crs=surface.grid.crs)


def _countries_by_iso(countries, crs, iso3_column: str) -> gpd.GeoDataFrame:
    """Validated country polygons in *crs*, dissolved by ISO3 (do this once per call)."""
    if not isinstance(countries, gpd.GeoDataFrame):
        raise ValidationError(
            f"`countries` must be a GeoDataFrame with an {iso3_column!r} column, got "
            f"{type(countries).__name__}"
        )
    if iso3_column not in countries.columns:
        raise ValidationError(
            f"`countries` has no {iso3_column!r} column (columns: {list(countries.columns)}); "
            "pass iso3_column='...'"
        )
    if countries.crs is None:
        raise CRSError("`countries` has no CRS; set it with countries.set_crs(...)")
    return countries.to_crs(crs).dissolve(by=iso3_column)


def _lengths_by_country(line, by_iso: gpd.GeoDataFrame) -> dict:
    """``length_m_<ISO3>`` of *line* inside each country of :func:`_countries_by_iso`."""
    lengths = shapely.length(shapely.intersection(line, np.asarray(by_iso.geometry.values)))
    if line.is_empty:
        lengths = np.full(len(by_iso), np.nan)
    return {f"length_m_{iso}": float(v) for iso, v in zip(by_iso.index, lengths)}


def least_cost_corridor(resistance, a, b, *, cutoff=None, connect="eight"):
    """Normalized least-cost corridor between *a* and *b*: CWD_a + CWD_b - LCD.

    Each cell gets the extra cost of the best a-b path forced through it, so the value is
    0 along the least-cost path and grows away from it (Linkage Mapper's normalized LCC).

    Parameters
    ----------
    resistance : xarray.DataArray
        Resistance raster (see :func:`cost_distance`).
    a, b : points or polygons
        The two ends (typically core areas).
    cutoff : float, optional
        Corridor width in cost units: cells with a value above it become NaN (Linkage
        Mapper's CWD threshold truncation).
    connect : {"eight", "four"}
        Neighbourhood of the grid graph.

    Returns
    -------
    xarray.DataArray
        Normalized corridor (resistance units x metres) with ``attrs["lcd"]``, the least
        cost distance between *a* and *b*. NaN on impassable/unreachable cells and beyond
        *cutoff*. All NaN, with an UnreachableWarning, if *b* cannot be reached from *a*.

    Examples
    --------
    >>> import numpy as np, tbpa
    >>> from affine import Affine
    >>> r = tbpa.io.from_array(np.ones((3, 5)), transform=Affine(100, 0, 0, 0, -100, 300),
    ...                        crs="EPSG:3035")
    >>> c = least_cost_corridor(r, (50.0, 150.0), (450.0, 150.0))
    >>> float(c[1, 2]), c.attrs["lcd"]
    (0.0, 400.0)
    """
    surface = prepare(resistance, connect)
    if cutoff is not None and not cutoff >= 0:
        raise ValidationError(f"`cutoff` must be >= 0, got {cutoff!r}")
    corr, lcd = normalized_corridor(surface.cost_from(a, "a"), surface.cost_from(b, "b"), cutoff)
    if not np.isfinite(lcd):
        warnings.warn("least_cost_corridor: `b` cannot be reached from `a`; the corridor is "
                      "empty (all NaN)", UnreachableWarning, stacklevel=2)
    da = surface.to_da(corr, "corridor")
    da.attrs.update(units=COST_UNITS, lcd=float(lcd),
                    cutoff=float(cutoff) if cutoff is not None else "none")
    return da


def normalized_corridor(cwd_a, cwd_b, cutoff=None):
    """(CWD_a + CWD_b - LCD with NaN off-corridor, LCD) for two flat cost arrays.

    LCD is taken as min(CWD_a + CWD_b), which equals the a-b least cost distance because
    step costs are symmetric, and makes the corridor exactly 0 at its minimum.
    """
    total = cwd_a + cwd_b
    finite = np.isfinite(total)
    if not finite.any():
        return np.full(total.shape, np.nan), np.inf
    lcd = total[finite].min()
    corr = np.where(finite, total - lcd, np.nan)
    if cutoff is not None:
        corr[corr > cutoff] = np.nan
    return corr, float(lcd)

