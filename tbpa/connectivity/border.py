"""Where does current cross a border? ``border_flow`` ranks border segments by crossing current.

Definition (documented in ``docs/methods.md``): a current map from Circuitscape or
Omniscape holds, per cell, the current flowing through that cell's node (A). Seen as a
current density, a cell of size ``c`` carries ``I_cell / c`` amperes per metre of a line
drawn across it. The current crossing a border segment is therefore the line integral

    I_seg = sum over cells k the segment passes through of  I_k * l_k / c,

where ``l_k`` is the length of the segment inside cell ``k``: a segment crossing a cell
straight through (``l_k = c``) collects that cell's full current, one running along a cell
diagonal collects sqrt(2) of it, and a segment clipping a corner only a little. Cells
outside the raster or NaN contribute 0. Node currents are magnitudes, so ``I_seg`` measures
how much current passes *through* the segment's cells, not a signed net flux.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._grid import GridSpec
from ..errors import CRSError, EmptySelectionError, ValidationError

__all__ = ["border_flow"]


def border_flow(current, border, *, segment_m: float = 1000.0):
    """Cut a border line into segments and rank them by the current crossing each one.

    Parameters
    ----------
    current : xarray.DataArray or xarray.Dataset
        Current map in a projected metre CRS (e.g. ``omniscape(...).cum_currmap`` or a
        Circuitscape cumulative current map). A Dataset is accepted if it has
        ``cum_currmap`` or ``cum_current``.
    border : geopandas.GeoDataFrame or GeoSeries
        The border as (Multi)LineStrings in the raster's CRS (e.g. ``Landscape.borders``).
        Parts are chained in their order; positions along the border run over all parts.
    segment_m : float, default 1000
        Segment length in metres (the last segment of each part may be shorter).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per segment: ``segment`` (0..n-1 along the border), ``part`` (index of the
        LineString part), ``from_m``/``to_m`` (position along the border, m), ``length_m``,
        ``current`` (A, the line integral defined in the module docstring), ``share`` (of
        the total over all segments), ``rank`` (1 = highest current; ties by position),
        ``lon``/``lat`` (WGS84 of the segment midpoint) and the segment ``geometry``.

    Raises
    ------
    CRSError
        Raster or border in a geographic CRS, border without CRS, or different CRSs.
    EmptySelectionError
        The border has no line geometry.

    Examples
    --------
    >>> ds = tbpa.connectivity.omniscape(resistance, radius_cells=50)   # doctest: +SKIP
    >>> seg = tbpa.connectivity.border_flow(ds.cum_currmap, land.borders, segment_m=2000)
    >>> seg.nsmallest(5, "rank")[["from_m", "to_m", "current", "share"]]  # doctest: +SKIP
    """
    import geopandas as gpd

    da = _as_dataarray(current)
    grid = GridSpec.from_dataarray(da, "current")
    cell = grid.require_square("current")
    if not np.isfinite(segment_m) or segment_m <= 0:
        raise ValidationError(f"border_flow: `segment_m` must be > 0 metres, got {segment_m}")
    lines = _border_lines(border, grid.crs)

    # 1. cut every part at multiples of segment_m (and keep its vertices) -> pieces
    xs, ys, seg_of_point, meta = [], [], [], []
    seg_id = 0
    offset = 0.0
    for part, line in enumerate(lines):
        coords = np.asarray(line.coords)[:, :2]
        d = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
        total = d[-1]
        if total <= 0:
            continue
        cuts = np.arange(0.0, total, segment_m)
        n_seg = cuts.size
        ends = np.append(cuts[1:], total)
        breaks = np.union1d(d, np.append(cuts, total))
        px = np.interp(breaks, d, coords[:, 0])
        py = np.interp(breaks, d, coords[:, 1])
        # each segment's own vertex list: its breakpoints, including both end points
        start_idx = np.searchsorted(breaks, cuts)
        end_idx = np.searchsorted(breaks, ends)
        counts = end_idx - start_idx + 1
        idx = np.repeat(start_idx, counts) + _ramp(counts)
        xs.append(px[idx])
        ys.append(py[idx])
        seg_of_point.append(np.repeat(np.arange(seg_id, seg_id + n_seg), counts))
        meta.append(pd.DataFrame({
            "part": part, "from_m": offset + cuts, "to_m": offset + ends,
            "length_m": ends - cuts,
        }))
        seg_id += n_seg
        offset += total
    if seg_id == 0:
        raise EmptySelectionError("border_flow: the border has zero length")
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    sid = np.concatenate(seg_of_point)
    table = pd.concat(meta, ignore_index=True)

    # 2. pieces between consecutive points of the same segment
    same = sid[1:] == sid[:-1]
    x0, y0, x1, y1 = x[:-1][same], y[:-1][same], x[1:][same], y[1:][same]
    piece_seg = sid[:-1][same]
    values = np.nan_to_num(np.asarray(da.values, dtype=np.float64), nan=0.0)
    flow = _line_integral(values, grid, cell, x0, y0, x1, y1, piece_seg, seg_id)

    # 3. table
    geoms = shapely.linestrings(np.column_stack([x, y]), indices=sid)
    mids = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    lonlat = gpd.GeoSeries(mids, crs=grid.crs).to_crs("EPSG:4326")
    total = flow.sum()
    table.insert(0, "segment", np.arange(seg_id))
    table["current"] = flow
    table["share"] = flow / total if total > 0 else 0.0
    order = np.lexsort((table["from_m"].to_numpy(), -flow))
    rank = np.empty(seg_id, dtype=np.int64)
    rank[order] = np.arange(1, seg_id + 1)
    table["rank"] = rank
    table["lon"] = lonlat.x.to_numpy()
    table["lat"] = lonlat.y.to_numpy()
    out = gpd.GeoDataFrame(table, geometry=geoms, crs=grid.crs)
    out.attrs["definition"] = "sum of cell current x (segment length in cell / cell size)"
    out.attrs["segment_m"] = float(segment_m)
    return out


def _ramp(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each c in *counts*, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _line_integral(values, grid, cell, x0, y0, x1, y1, piece_seg, n_seg):
    """Sum over pieces of cell value x length in cell / cell size, per segment (vectorised)."""
    t = grid.transform
    u0, u1 = (x0 - t.c) / t.a, (x1 - t.c) / t.a  # fractional column
    v0, v1 = (y0 - t.f) / t.e, (y1 - t.f) / t.e  # fractional row
    length = np.hypot(x1 - x0, y1 - y0)
    params = [np.zeros_like(u0), np.ones_like(u0)]
    owners = [np.arange(u0.size), np.arange(u0.size)]
    for a0, a1 in ((u0, u1), (v0, v1)):
        lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
        first = np.floor(lo) + 1
        n = np.maximum(0, np.ceil(hi) - first).astype(np.int64)  # grid lines strictly inside
        owner = np.repeat(np.arange(a0.size), n)
        k = first[owner] + _ramp(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            params.append((k - a0[owner]) / (a1[owner] - a0[owner]))
        owners.append(owner)
    tt = np.concatenate(params)
    ow = np.concatenate(owners)
    order = np.lexsort((tt, ow))
    tt, ow = tt[order], ow[order]
    keep = ow[1:] == ow[:-1]
    ta, tb, pw = tt[:-1][keep], tt[1:][keep], ow[:-1][keep]
    tm = 0.5 * (ta + tb)
    col = np.floor(u0[pw] + tm * (u1[pw] - u0[pw])).astype(np.int64)
    row = np.floor(v0[pw] + tm * (v1[pw] - v0[pw])).astype(np.int64)
    inside = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    sub_len = (tb - ta) * length[pw]
    val = np.zeros(pw.size)
    val[inside] = values[row[inside], col[inside]]
    return np.bincount(piece_seg[pw], weights=val * sub_len / cell, minlength=n_seg)


def _as_dataarray(current):
    import xarray as xr

    if isinstance(current, xr.Dataset):
        for name in ("cum_currmap", "cum_current", "current"):
            if name in current:
                return current[name]
        raise ValidationError(
            "border_flow: `current` is a Dataset without cum_currmap/cum_current; pass the "
            "current DataArray, e.g. ds['cum_currmap']"
        )
    if not isinstance(current, xr.DataArray):
        raise ValidationError(
            f"border_flow: `current` must be an xarray.DataArray, got {type(current).__name__}"
        )
    return current


def _border_lines(border, raster_crs):
    """Flatten *border* into a list of LineStrings after CRS checks."""
    import geopandas as gpd

    if isinstance(border, gpd.GeoDataFrame):
        geoms = border.geometry
    elif isinstance(border, gpd.GeoSeries):
        geoms = border
    else:
        raise ValidationError(
            "border_flow: `border` must be a GeoDataFrame or GeoSeries, got "
            f"{type(border).__name__}"
        )
    if geoms.crs is None:
        raise CRSError(
            "border_flow: `border` has no CRS; set it with border.set_crs(...) (it must be "
            "the current map's CRS)"
        )
    bcrs = CRS.from_user_input(geoms.crs)
    if not bcrs.is_projected:
        raise CRSError(
            f"border_flow: `border` is in {bcrs.to_string()} (geographic, degrees); reproject "
            "it to the current map's CRS: border.to_crs(current.rio.crs)"
        )
    if bcrs != CRS.from_user_input(raster_crs):
        raise CRSError(
            f"border_flow: `border` is in {bcrs.to_string()} but `current` in "
            f"{CRS.from_user_input(raster_crs).to_string()}; use border.to_crs(current.rio.crs)"
        )
    parts = shapely.get_parts(np.asarray(geoms.dropna().to_numpy()))
    parts = [g for g in parts if not g.is_empty]
    bad = {g.geom_type for g in parts if g.geom_type not in ("LineString", "LinearRing")}
    if bad:
        raise ValidationError(
            f"border_flow: `border` must hold lines, got {sorted(bad)}; for polygons pass "
            "their .boundary"
        )
    if not parts:
        raise EmptySelectionError("border_flow: `border` holds no line geometry")
    return parts
