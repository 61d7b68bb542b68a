"""Where animals crossed the border.

For GPS tracks the crossing point is where the straight step between two consecutive fixes
cuts the border line (time interpolated linearly along the step). For camera-trap (or genetic)
detections the crossing place is unknown; what the data do say is the stretch of border
between the two stations, taken as the part of the border line between the stations'
projections onto it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import ops

from ..crs import require_projected_crs
from ..errors import EmptySelectionError, ValidationError
from .individuals import assign_countries

__all__ = ["crossing_segments"]

_GPS_COLUMNS = ["individual_id", "species", "kind", "border_index", "position_m", "segment_index",
                "time", "time_before", "time_after", "geometry"]
_CAMERA_COLUMNS = ["individual_id", "species", "kind", "border_index", "station_from", "station_to",
                   "country_from", "country_to", "time_before", "time_after", "position_from_m",
                   "position_to_m", "length_m", "geometry"]


def crossing_segments(tracks_or_detections: gpd.GeoDataFrame, border, *, countries=None,
                      segment_m: float = 1000.0, kind: str = "auto") -> gpd.GeoDataFrame:
    """Locate border crossings on the border line.

    Parameters
    ----------
    tracks_or_detections : GeoDataFrame
        Output of :func:`read_detections` (GPS fixes have ``kind == "gps"``).
    border : GeoDataFrame or GeoSeries
        Border line(s) in a projected metre CRS, e.g. ``Landscape.borders``. Positions along
        the border are measured from the start of each line (``border_index`` = its row).
    countries : GeoDataFrame, optional
        Country polygons (``iso3``) used to decide where each camera detection lies; without
        it the detections' ``country`` column is used.
    segment_m : float
        Length of border segments in metres; ``segment_index`` = position // segment_m, the
        same cut as :func:`tbpa.connectivity.border_flow` with the same ``segment_m``.
    kind : {"auto", "gps", "camera"}
        "auto" treats rows with ``kind == "gps"`` as tracks and the rest as camera pairs.

    Returns
    -------
    geopandas.GeoDataFrame
        In the border's CRS. GPS rows (``kind = "gps"``): a Point per crossing with
        ``position_m``, ``segment_index``, interpolated ``time``. Camera rows
        (``kind = "camera"``): a LineString border stretch with ``station_from/to``,
        ``country_from/to`` and ``length_m``.

    Examples
    --------
    >>> land = tbpa.sites.load_landscape("land_of_big_cats")  # doctest: +SKIP
    >>> crossing_segments(fixes, land.borders)  # doctest: +SKIP
    """
    if kind not in ("auto", "gps", "camera"):
        raise ValidationError(f"crossing_segments: kind must be 'auto', 'gps' or 'camera', got {kind!r}")
    lines = _border_lines(border)
    det = tracks_or_detections[tracks_or_detections["individual_id"].notna()]
    if det.empty:
        raise EmptySelectionError("crossing_segments: no detection has an individual_id")
    det = det.to_crs(lines.crs)
    is_gps = (det["kind"] == "gps") if kind == "auto" else pd.Series(kind == "gps", index=det.index)
    parts = []
    if is_gps.any():
        parts.append(_gps_crossings(det[is_gps], lines, segment_m))
    if (~is_gps).any():
        parts.append(_camera_crossings(det[~is_gps], lines, countries))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_GPS_COLUMNS)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=lines.crs)


def _border_lines(border) -> gpd.GeoSeries:
    series = border.geometry if isinstance(border, gpd.GeoDataFrame) else gpd.GeoSeries(border)
    require_projected_crs(series.crs, "border")
    if series.empty or series.is_empty.all():
        raise EmptySelectionError("crossing_segments: `border` has no lines")
    merged = [ops.linemerge(g) if g.geom_type == "MultiLineString" else g for g in series.values]
    lines = gpd.GeoSeries(merged, crs=series.crs).explode(index_parts=False).reset_index(drop=True)
    return lines[lines.geom_type == "LineString"]


def _gps_crossings(fixes: gpd.GeoDataFrame, lines: gpd.GeoSeries, segment_m: float) -> pd.DataFrame:
    rows = []
    for ind, track in fixes.sort_values("timestamp").groupby("individual_id", sort=True):
        if len(track) < 2:
            continue
        xy = shapely.get_coordinates(track.geometry.values)
        steps = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
        t = track["timestamp"].to_numpy()
        for b, line in enumerate(lines.values):
            hits = shapely.intersection(steps, line)
            for i in np.flatnonzero(~shapely.is_empty(hits)):
                for point in shapely.get_parts(hits[i]):
                    if point.geom_type != "Point":
                        continue
                    frac = steps[i].project(point) / max(steps[i].length, 1e-12)
                    pos = line.project(point)
                    rows.append({
                        "individual_id": ind, "species": track["species"].iloc[0], "kind": "gps",
                        "border_index": b, "position_m": pos, "segment_index": int(pos // segment_m),
                        "time": t[i] + (t[i + 1] - t[i]) * frac,
                        "time_before": t[i], "time_after": t[i + 1], "geometry": point,
                    })
    return pd.DataFrame(rows, columns=_GPS_COLUMNS)


def _camera_crossings(det: gpd.GeoDataFrame, lines: gpd.GeoSeries, countries) -> pd.DataFrame:
    where = (assign_countries(det, countries, crs=lines.crs) if countries is not None
             else det["country"].astype("string"))
    det = det.assign(_iso3=where).dropna(subset=["_iso3"])
    rows = []
    for ind, group in det.sort_values("timestamp").groupby("individual_id", sort=True):
        iso = group["_iso3"].to_numpy()
        for i in np.flatnonzero(iso[1:] != iso[:-1]):
            a, b = group.iloc[i], group.iloc[i + 1]
            k = int(np.argmin([line.distance(a.geometry) + line.distance(b.geometry) for line in lines.values]))
            line = lines.values[k]
            p0, p1 = sorted((line.project(a.geometry), line.project(b.geometry)))
            stretch = shapely.ops.substring(line, p0, p1) if p1 > p0 else line.interpolate(p0)
            rows.append({
                "individual_id": ind, "species": a["species"], "kind": "camera", "border_index": k,
                "station_from": a["station_id"], "station_to": b["station_id"],
                "country_from": iso[i], "country_to": iso[i + 1],
                "time_before": a["timestamp"], "time_after": b["timestamp"],
                "position_from_m": p0, "position_to_m": p1, "length_m": p1 - p0, "geometry": stretch,
            })
    return pd.DataFrame(rows, columns=_CAMERA_COLUMNS)
