"""Read detections: generic tables, Camtrap DP packages and Movebank CSV.

Every reader returns a GeoDataFrame in the detection schema (:data:`DETECTION_COLUMNS`):
one row per detection (camera-trap observation, genetic sample or GPS fix), timestamps as
timezone-aware UTC, and ``line`` = the line of the source file the row came from, so that any
problem can be traced back and reported to the partner who sent the data.

Timezones are never guessed: a timestamp without a UTC offset needs ``timezone=``. Rows that
cannot be read are reported by line number; by default they raise :class:`DataError`, with
``on_bad_rows="drop"`` they are dropped with a warning and listed in ``gdf.attrs["bad_rows"]`` (records: ``pd.DataFrame(gdf.attrs["bad_rows"])``).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import CRSError, DataError, TbpaWarning, ValidationError

__all__ = ["read_detections", "DETECTION_COLUMNS"]

#: Columns of every detection GeoDataFrame.
DETECTION_COLUMNS = [
    "record_id", "station_id", "timestamp", "species", "individual_id", "sex", "life_stage",
    "partner", "country", "kind", "source", "line", "geometry",
]

# Column names recognised without a ``columns`` mapping (lower-cased).
_ALIASES = {
    "record_id": ["record_id", "id", "observationid", "event-id", "detection_id"],
    "station_id": ["station_id", "station", "camera_id", "camera", "locationid", "site", "trap_id"],
    "timestamp": ["timestamp", "datetime", "date_time", "eventstart", "time"],
    "species": ["species", "scientificname", "scientific_name", "individual-taxon-canonical-name"],
    "individual_id": ["individual_id", "individual", "individualid", "animal_id",
                      "individual-local-identifier"],
    "sex": ["sex", "animal-sex"],
    "life_stage": ["life_stage", "lifestage", "age", "age_class"],
    "partner": ["partner", "source_partner", "organisation", "organization"],
    "country": ["country", "iso3", "source_country"],
    "lon": ["lon", "longitude", "long", "location-long", "decimallongitude"],
    "lat": ["lat", "latitude", "location-lat", "decimallatitude"],
    "x": ["x", "easting"],
    "y": ["y", "northing"],
}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_MOVEBANK = {"location-long", "location-lat", "timestamp", "individual-local-identifier"}
_CAMTRAP_REQUIRED = {
    "deployments": ["deploymentID", "latitude", "longitude", "deploymentStart", "deploymentEnd"],
    "observations": ["observationID", "deploymentID", "eventStart", "eventEnd",
                     "observationLevel", "observationType"],
    "media": ["mediaID", "deploymentID", "timestamp", "filePath", "filePublic", "fileMediatype"],
}


def read_detections(
    path_or_df,
    *,
    columns: dict[str, str] | None = None,
    crs=None,
    timezone: str | None = None,
    partner: str | None = None,
    country: str | None = None,
    on_bad_rows: str = "raise",
) -> gpd.GeoDataFrame:
    """Read camera-trap detections, genetic samples or GPS fixes.

    Parameters
    ----------
    path_or_df : str, Path, DataFrame or GeoDataFrame
        A CSV, Excel (.xlsx) or GeoPackage file; a Camtrap DP package (its folder or its
        ``datapackage.json``); a Movebank CSV (recognised by ``location-long``,
        ``location-lat``, ``timestamp``, ``individual-local-identifier``); or a table.
    columns : dict, optional
        Maps standard names (``station_id, timestamp, species, individual_id, sex,
        life_stage, partner, country, lon, lat, x, y, record_id``) to the file's column
        names, for tables whose names tbpa does not recognise.
    crs : optional
        CRS of ``x``/``y`` columns (required with them). ``lon``/``lat`` are WGS 84.
    timezone : str, optional
        IANA zone (e.g. ``"Asia/Vladivostok"``, ``"Asia/Shanghai"``) of timestamps written
        without a UTC offset. Without it such timestamps are an error.
    partner, country : str, optional
        Fill the ``partner`` / ``country`` columns when the table has none.
    on_bad_rows : {"raise", "drop"}
        Unreadable rows raise DataError listing their line numbers, or are dropped with a
        warning and listed in ``gdf.attrs["bad_rows"]``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`DETECTION_COLUMNS`; ``timestamp`` in UTC; sorted by individual and time.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"station": ["A1"], "lon": [131.0], "lat": [43.0],
    ...                       "datetime": ["2015-03-01T06:30:00+10:00"],
    ...                       "species": ["Panthera pardus orientalis"], "individual": ["L01"]})
    >>> det = read_detections(table, partner="LLNP", country="RUS")
    >>> str(det.timestamp.iloc[0])
    '2015-02-28 20:30:00+00:00'
    """
    if on_bad_rows not in ("raise", "drop"):
        raise ValidationError(f"read_detections: on_bad_rows must be 'raise' or 'drop', got {on_bad_rows!r}")
    source, table, first_line, kind = _load_table(path_or_df)
    if kind == "camtrap-dp":
        table, kind_col = table, "camera"
    elif kind == "movebank":
        kind_col = "gps"
        if timezone is None:
            timezone = "UTC"  # Movebank stores every timestamp in UTC (its documented convention)
    else:
        kind_col = "camera"
    std, bad = _standardise(table, columns, crs, timezone, first_line, kind)
    if partner is not None:
        std["partner"] = std["partner"].fillna(partner)
    if country is not None:
        std["country"] = std["country"].fillna(country)
    std["kind"] = std["kind"].fillna(kind_col)
    std["source"] = source
    return _finish(std, bad, source, on_bad_rows)


# -- loading -----------------------------------------------------------------------------


def _load_table(path_or_df) -> tuple[str, pd.DataFrame, int, str]:
    """Return (source name, raw table, line number of the first data row, kind)."""
    if isinstance(path_or_df, pd.DataFrame):
        if isinstance(path_or_df, gpd.GeoDataFrame):
            table = _geometry_to_columns(path_or_df)  # a new table
        else:
            table = pd.DataFrame(path_or_df).copy()  # never modify the caller's table
        kind = "movebank" if _MOVEBANK <= set(table.columns) else "table"
        return "<DataFrame>", table.reset_index(drop=True), 1, kind
    path = Path(path_or_df)
    if path.is_dir() or path.name == "datapackage.json":
        folder = path if path.is_dir() else path.parent
        return str(folder), _read_camtrap_dp(folder), 2, "camtrap-dp"
    if not path.exists():
        raise DataError(f"read_detections: no file or folder at {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".gz"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        kind = "movebank" if _MOVEBANK <= set(table.columns) else "table"
        return str(path), table, 2, kind
    if suffix in (".xlsx", ".xls"):
        try:
            table = pd.read_excel(path, dtype=str)
        except ImportError as exc:
            from ..errors import MissingDependencyError

            raise MissingDependencyError(
                "read_detections: reading Excel needs openpyxl; pip install openpyxl"
            ) from exc
        return str(path), table, 2, "table"
    if suffix in (".gpkg", ".geojson", ".json", ".shp"):
        gdf = gpd.read_file(path)
        return str(path), _geometry_to_columns(gdf), 1, "table"
    raise DataError(
        f"read_detections: cannot read {path.name!r}; use CSV, Excel, GeoPackage, a Movebank "
        "CSV or a Camtrap DP folder"
    )


def _geometry_to_columns(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    if gdf.crs is None:
        raise CRSError("read_detections: the layer has no CRS; set it with gdf.set_crs(...)")
    pts = gdf.geometry.to_crs(4326)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    table["lon"], table["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    return table


def _read_camtrap_dp(folder: Path) -> pd.DataFrame:
    """Join Camtrap DP observations to their deployments (location) into one table."""
    descriptor = folder / "datapackage.json"
    resources = (json.loads(descriptor.read_text(encoding="utf-8")).get("resources", [])
                 if descriptor.exists() else [])
    tables = {}
    for name in ("deployments", "observations", "media"):
        resource = _camtrap_resource_path(folder, resources, name)
        if resource is None:
            if name == "media":
                continue
            raise DataError(f"read_detections: Camtrap DP package {str(folder)!r} has no {name}.csv")
        tables[name] = pd.read_csv(resource, dtype=str, keep_default_na=False, na_values=[""])
        missing = [c for c in _CAMTRAP_REQUIRED[name] if c not in tables[name].columns]
        if missing:
            raise DataError(
                f"read_detections: {name}.csv of the Camtrap DP package lacks required fields "
                f"{missing} (Camtrap DP 1.0)"
            )
    obs = tables["observations"].copy()
    obs["line"] = np.arange(len(obs)) + 2
    obs = obs[obs["observationType"] == "animal"]
    dep = tables["deployments"]
    dep_cols = ["deploymentID", "latitude", "longitude"] + (["locationID"] if "locationID" in dep else [])
    merged = obs.merge(dep[dep_cols], on="deploymentID", how="left", validate="many_to_one")
    out = pd.DataFrame({
        "record_id": merged["observationID"],
        "station_id": merged["locationID"] if "locationID" in merged else merged["deploymentID"],
        "timestamp": merged["eventStart"],
        "species": merged.get("scientificName"),
        "individual_id": merged.get("individualID"),
        "sex": merged.get("sex"),
        "life_stage": merged.get("lifeStage"),
        "lon": merged["longitude"],
        "lat": merged["latitude"],
        "line": merged["line"],
        "deploymentID": merged["deploymentID"],
    })
    return out.reset_index(drop=True)


def _camtrap_resource_path(folder: Path, resources: list, name: str) -> Path | None:
    """The file of resource *name* as the descriptor's *resources* list it, else <name>.csv."""
    for res in resources:
        if res.get("name") == name and isinstance(res.get("path"), str):
            path = folder / res["path"]
            if path.exists():
                return path
    path = folder / f"{name}.csv"
    return path if path.exists() else None


# -- standardising -----------------------------------------------------------------------


def _find(table: pd.DataFrame, name: str, columns: dict[str, str] | None) -> str | None:
    if columns and name in columns:
        if columns[name] not in table.columns:
            raise DataError(
                f"read_detections: columns maps {name!r} to {columns[name]!r}, which is not a "
                f"column; columns are {list(table.columns)}"
            )
        return columns[name]
    lowered = {str(c).lower(): c for c in table.columns}
    for alias in _ALIASES.get(name, []):
        if alias in lowered:
            return lowered[alias]
    return None


def _standardise(table, columns, crs, timezone, first_line, kind):
    if columns:
        unknown = sorted(set(columns) - set(_ALIASES))
        if unknown:
            raise ValidationError(
                f"read_detections: unknown keys {unknown} in `columns`; valid keys are {sorted(_ALIASES)}"
            )
    n = len(table)
    lines = (pd.to_numeric(table["line"]).to_numpy() if "line" in table
             else np.arange(n) + first_line)
    out = pd.DataFrame(index=range(n))
    for name in ("record_id", "station_id", "species", "individual_id", "sex", "life_stage",
                 "partner", "country"):
        col = _find(table, name, columns)
        out[name] = table[col].astype("string").str.strip().to_numpy() if col else pd.NA
    out["kind"] = pd.NA
    out["line"] = lines
    if out["record_id"].isna().all():
        out["record_id"] = [f"row{int(v)}" for v in lines]
    problems: list[tuple[int, str, str, str]] = []
    x, y, point_crs = _coordinates(table, columns, crs, problems, lines)
    out["timestamp"] = _timestamps(table, columns, timezone, problems, lines)
    for i in np.flatnonzero(out["species"].isna().to_numpy()):
        problems.append((int(lines[i]), "species", "", "missing species"))
    if kind != "movebank":
        for i in np.flatnonzero(out["station_id"].isna().to_numpy()):
            problems.append((int(lines[i]), "station_id", "", "missing station id"))
    geometry = gpd.points_from_xy(x, y)
    gdf = gpd.GeoDataFrame(out, geometry=geometry, crs=point_crs)
    bad = pd.DataFrame(problems, columns=["line", "column", "value", "problem"]).sort_values("line")
    return gdf, bad


def _coordinates(table, columns, crs, problems, lines):
    lon_col, lat_col = _find(table, "lon", columns), _find(table, "lat", columns)
    x_col, y_col = _find(table, "x", columns), _find(table, "y", columns)
    if lon_col and lat_col:
        xc, yc, point_crs, limits = lon_col, lat_col, "EPSG:4326", (180.0, 90.0)
    elif x_col and y_col:
        if crs is None:
            raise CRSError(
                f"read_detections: coordinates are in columns {x_col!r}/{y_col!r} but `crs` is "
                "None; pass crs='EPSG:...' (lon/lat columns are taken as WGS 84)"
            )
        xc, yc, point_crs, limits = x_col, y_col, crs, (np.inf, np.inf)
    else:
        raise DataError(
            "read_detections: no coordinate columns found (looked for lon/lat, longitude/"
            "latitude, location-long/location-lat, x/y); map yours with columns={'lon': ..., 'lat': ...}"
        )
    x = pd.to_numeric(table[xc], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(table[yc], errors="coerce").to_numpy(dtype=float)
    for col, values, raw, limit in ((xc, x, table[xc], limits[0]), (yc, y, table[yc], limits[1])):
        for i in np.flatnonzero(~np.isfinite(values) | (np.abs(values) > limit)):
            problems.append((int(lines[i]), col, str(raw.iloc[i]), "missing or invalid coordinate"))
    return x, y, point_crs


def _timestamps(table, columns, timezone, problems, lines) -> pd.Series:
    col = _find(table, "timestamp", columns)
    if col is None:
        raise DataError(
            "read_detections: no timestamp column (looked for timestamp, datetime, eventStart); "
            "map it with columns={'timestamp': ...}"
        )
    raw = table[col].astype("string").str.strip()
    result = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    has_offset = raw.str.contains(_OFFSET, na=False).to_numpy()
    if has_offset.any():
        result[has_offset] = pd.to_datetime(raw[has_offset], utc=True, format="ISO8601", errors="coerce")
    naive = ~has_offset & raw.notna().to_numpy()
    if naive.any():
        if timezone is None:
            first = [int(v) for v in lines[naive][:5]]
            raise DataError(
                f"read_detections: {int(naive.sum())} timestamps in column {col!r} have no UTC "
                f"offset (lines {first}...); pass timezone='Asia/Vladivostok' (or the partner's "
                "zone) or write offsets such as 2015-03-01T06:30:00+10:00"
            )
        parsed = pd.to_datetime(raw[naive], format="mixed", errors="coerce")
        result[naive] = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    for i in np.flatnonzero(result.isna().to_numpy()):
        problems.append((int(lines[i]), col, str(raw.iloc[i]), "missing or unparseable timestamp"))
    return result.to_numpy()


def _finish(gdf: gpd.GeoDataFrame, bad: pd.DataFrame, source: str, on_bad_rows: str):
    if len(bad):
        listing = "; ".join(f"line {r.line}: {r.problem} ({r.column}={r.value!r})"
                            for r in bad.head(10).itertuples())
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        if on_bad_rows == "raise":
            raise DataError(
                f"read_detections: {bad.line.nunique()} bad rows in {source}: {listing}{more}. "
                "Fix them, or pass on_bad_rows='drop' to drop them (they are then listed in "
                "gdf.attrs['bad_rows'])"
            )
        warnings.warn(
            f"read_detections: dropped {bad.line.nunique()} bad rows from {source}: {listing}{more}",
            TbpaWarning, stacklevel=3,
        )
        gdf = gdf[~gdf["line"].isin(bad["line"])]
    gdf = gdf[DETECTION_COLUMNS].sort_values(["individual_id", "timestamp", "line"], na_position="last")
    gdf = gdf.reset_index(drop=True)
    # attrs hold plain records: pandas compares attrs with == when concatenating frames
    gdf.attrs["bad_rows"] = bad.to_dict("records")
    gdf.attrs["source"] = source
    return gdf
