"""Sampling effort: trap-days per station and per country.

Partners' detection counts differ partly because their effort differs (the 2014-2016 study
used 634 traps at 317 spots in China and 314 traps at 157 spots in Russia, as reported). Two
measures per station:

``camera_days``
    Sum over deployments of (end - start) in days: two cameras at one spot count twice.
``trap_days``
    Length of the union of the station's deployment intervals in days: a station is
    operating when at least one of its cameras is (the usual "trap-night" unit of
    camera-trap density studies).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import DataError, EmptySelectionError, ValidationError
from .individuals import assign_countries
from .readers import _OFFSET

__all__ = ["sampling_effort"]


def sampling_effort(deployments, *, countries: gpd.GeoDataFrame | None = None, by: str = "station"
                    ) -> gpd.GeoDataFrame:
    """Trap-days per station (or per country) from camera deployments.

    Parameters
    ----------
    deployments : str, Path or DataFrame
        A Camtrap DP package folder, its ``deployments.csv``, or a table with the Camtrap DP
        deployment fields ``deploymentID, latitude, longitude, deploymentStart,
        deploymentEnd`` (timestamps with UTC offsets) and optionally ``locationID``
        (station; defaults to the deployment) and ``country``.
    countries : GeoDataFrame, optional
        Country polygons (``iso3``) to place stations; else the ``country`` column.
    by : {"station", "country"}
        Level of the result. Both levels are always computed; the other one is in
        ``attrs["per_country"]`` / ``attrs["per_station"]`` (as records).

    Returns
    -------
    geopandas.GeoDataFrame
        Station level: ``station_id, country, n_deployments, camera_days, trap_days,
        first_start, last_end`` and the station point (EPSG:4326). Country level:
        ``country, n_stations, n_deployments, camera_days, trap_days`` with a MultiPoint.

    Examples
    --------
    >>> effort = sampling_effort("data/monitoring/synthetic_camtrap_dp")  # doctest: +SKIP
    >>> effort.attrs["per_country"]  # doctest: +SKIP
    """
    if by not in ("station", "country"):
        raise ValidationError(f"sampling_effort: by must be 'station' or 'country', got {by!r}")
    table = _load(deployments)
    start = _utc(table["deploymentStart"], "deploymentStart")
    end = _utc(table["deploymentEnd"], "deploymentEnd")
    bad = np.flatnonzero((end <= start).to_numpy())
    if len(bad):
        raise DataError(
            f"sampling_effort: deployments {table['deploymentID'].iloc[bad].tolist()[:5]} end before "
            "they start; fix deploymentStart/deploymentEnd"
        )
    table = table.assign(_start=start, _end=end,
                         station_id=table.get("locationID", table["deploymentID"]).fillna(table["deploymentID"]))
    points = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(pd.to_numeric(table["longitude"]), pd.to_numeric(table["latitude"])),
        crs="EPSG:4326",
    )
    if countries is not None:
        points["country"] = assign_countries(points, countries)
    elif "country" not in points:
        points["country"] = pd.NA
    stations = _per_station(points)
    per_country = _per_country(stations)
    stations.attrs["per_country"] = pd.DataFrame(per_country.drop(columns="geometry")).to_dict("records")
    per_country.attrs["per_station"] = pd.DataFrame(stations.drop(columns="geometry")).to_dict("records")
    return stations if by == "station" else per_country


def _load(deployments) -> pd.DataFrame:
    if isinstance(deployments, pd.DataFrame):
        table = pd.DataFrame(deployments).copy()
    else:
        path = Path(deployments)
        path = path / "deployments.csv" if path.is_dir() else path
        if not path.exists():
            raise DataError(f"sampling_effort: no deployments file at {str(path)!r}")
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    required = ["deploymentID", "latitude", "longitude", "deploymentStart", "deploymentEnd"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(f"sampling_effort: deployments lack fields {missing} (Camtrap DP 1.0 names)")
    if table.empty:
        raise EmptySelectionError("sampling_effort: no deployments")
    return table


def _utc(values: pd.Series, name: str) -> pd.Series:
    text = values.astype("string").str.strip()
    if not text.str.contains(_OFFSET, na=False).all():
        raise DataError(
            f"sampling_effort: {name} values need UTC offsets (e.g. 2015-01-01T00:00:00+10:00), "
            "as Camtrap DP requires"
        )
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if parsed.isna().any():
        raise DataError(f"sampling_effort: unparseable {name} at rows {list(np.flatnonzero(parsed.isna()))[:5]}")
    return parsed


def _union_days(starts: np.ndarray, ends: np.ndarray) -> float:
    order = np.argsort(starts)
    total, cur_s, cur_e = pd.Timedelta(0), starts[order[0]], ends[order[0]]
    for s, e in zip(starts[order[1:]], ends[order[1:]]):
        if s > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    total += cur_e - cur_s
    return total / pd.Timedelta(days=1)


def _per_station(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for station, g in points.groupby("station_id", sort=True):
        starts, ends = g["_start"].to_numpy(), g["_end"].to_numpy()
        rows.append({
            "station_id": station,
            "country": g["country"].dropna().iloc[0] if g["country"].notna().any() else pd.NA,
            "n_deployments": len(g),
            "camera_days": float(((g["_end"] - g["_start"]) / pd.Timedelta(days=1)).sum()),
            "trap_days": _union_days(starts, ends),
            "first_start": g["_start"].min(), "last_end": g["_end"].max(),
            "geometry": g.geometry.iloc[0],
        })
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=points.crs)


def _per_country(stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    s = stations.assign(country=stations["country"].fillna("unknown"))
    agg = s.dissolve(by="country", aggfunc={"station_id": "count", "n_deployments": "sum",
                                            "camera_days": "sum", "trap_days": "sum"})
    return agg.rename(columns={"station_id": "n_stations"}).reset_index()
