"""Individuals across partners and borders.

:func:`harmonize_individuals` merges partners' detection tables where the same animal carries
different local ids; :func:`transborder_individuals` computes, per individual, the countries
it was detected in, first/last dates per country, inferred crossings and minimum convex
polygons; :func:`summarize_transborder` gives the per-species table of the kind reported by
the 2014-2016 joint China-Russia camera-trap study (how many individuals crossed, by sex/age).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from ..crs import equal_area_crs
from ..errors import CRSError, DataError, EmptySelectionError, TbpaWarning, ValidationError

__all__ = ["harmonize_individuals", "transborder_individuals", "summarize_transborder"]

_MATCH_COLUMNS = ("partner", "local_id", "global_id")


def harmonize_individuals(tables, *, matches: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Merge partners' detection tables into one, with one id per animal.

    Parameters
    ----------
    tables : dict of str -> GeoDataFrame, or list of GeoDataFrame
        Detection tables from :func:`read_detections`. Dict keys name the partner (they fill
        ``partner`` where the table has none); list items must carry ``partner``.
    matches : DataFrame, optional
        Columns ``partner, local_id, global_id``: the result of photo (stripe/rosette) or
        genetic comparison. Rows of the same ``global_id`` are the same animal.

    Returns
    -------
    geopandas.GeoDataFrame
        All detections in EPSG:4326 with ``individual_id`` = ``global_id`` where matched,
        else ``"<partner>:<local id>"`` (so equal local ids of different partners never merge
        by accident); provenance is kept in ``partner``, ``local_individual_id``, ``source``,
        ``line`` and ``matched``.

    Examples
    --------
    >>> import pandas as pd
    >>> from tbpa.monitoring import read_detections
    >>> ru = read_detections(pd.DataFrame({"station": ["R1"], "lon": [131.1], "lat": [43.1],
    ...     "timestamp": ["2015-01-02T10:00:00+10:00"], "species": ["Panthera tigris"],
    ...     "individual": ["T12"]}), partner="LLNP", country="RUS")
    >>> cn = read_detections(pd.DataFrame({"station": ["C7"], "lon": [130.9], "lat": [43.2],
    ...     "timestamp": ["2015-01-09T08:00:00+08:00"], "species": ["Panthera tigris"],
    ...     "individual": ["HC-3"]}), partner="TLNP", country="CHN")
    >>> m = pd.DataFrame({"partner": ["LLNP", "TLNP"], "local_id": ["T12", "HC-3"],
    ...                   "global_id": ["AT-001", "AT-001"]})
    >>> harmonize_individuals({"LLNP": ru, "TLNP": cn}, matches=m).individual_id.tolist()
    ['AT-001', 'AT-001']
    """
    frames = _collect_tables(tables)
    merged = pd.concat(frames, ignore_index=True)
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")
    merged["local_individual_id"] = merged["individual_id"]
    has_id = merged["individual_id"].notna()
    prefixed = merged["partner"].astype("string") + ":" + merged["individual_id"].astype("string")
    merged["individual_id"] = prefixed.where(has_id, pd.NA)
    merged["matched"] = False
    if matches is not None:
        lookup = _match_lookup(matches)
        keys = merged["partner"].astype("string") + ":" + merged["local_individual_id"].astype("string")
        hit = keys.isin(lookup.index) & has_id
        merged.loc[hit, "individual_id"] = lookup.loc[keys[hit]].to_numpy()
        merged.loc[hit, "matched"] = True
        _check_species_consistent(merged[hit])
        unused = sorted(set(lookup.index) - set(keys[hit]))
        if unused:
            warnings.warn(
                f"harmonize_individuals: {len(unused)} rows of `matches` matched no detection "
                f"(e.g. {unused[:3]}); check partner names and local ids",
                TbpaWarning, stacklevel=2,
            )
    return merged.sort_values(["individual_id", "timestamp"], na_position="last").reset_index(drop=True)


def _collect_tables(tables) -> list[gpd.GeoDataFrame]:
    items = tables.items() if isinstance(tables, dict) else [(None, t) for t in tables]
    frames = []
    for partner, table in items:
        if not isinstance(table, gpd.GeoDataFrame) or table.crs is None:
            raise CRSError(
                "harmonize_individuals: every table must be a GeoDataFrame with a CRS, as "
                "returned by tbpa.monitoring.read_detections"
            )
        frame = table.to_crs(4326).copy()
        frame.attrs = {}
        if partner is not None:
            frame["partner"] = frame["partner"].fillna(partner) if "partner" in frame else partner
        if "partner" not in frame or frame["partner"].isna().any():
            raise ValidationError(
                "harmonize_individuals: some detections have no partner; pass tables as a dict "
                "{partner: table} or fill the `partner` column"
            )
        frames.append(frame)
    if not frames:
        raise EmptySelectionError("harmonize_individuals: `tables` is empty")
    return frames


def _match_lookup(matches: pd.DataFrame) -> pd.Series:
    missing = [c for c in _MATCH_COLUMNS if c not in matches.columns]
    if missing:
        raise ValidationError(
            f"harmonize_individuals: `matches` lacks columns {missing}; it needs {list(_MATCH_COLUMNS)}"
        )
    m = matches.dropna(subset=list(_MATCH_COLUMNS)).astype({c: "string" for c in _MATCH_COLUMNS})
    key = m["partner"] + ":" + m["local_id"]
    conflicts = m.groupby(key)["global_id"].nunique()
    conflicts = conflicts[conflicts > 1]
    if len(conflicts):
        raise DataError(
            "harmonize_individuals: these local ids are matched to more than one global id: "
            f"{list(conflicts.index)}; each (partner, local_id) may belong to one animal only"
        )
    return pd.Series(m["global_id"].to_numpy(), index=key.to_numpy()).groupby(level=0).first()


def _check_species_consistent(matched: pd.DataFrame) -> None:
    n_species = matched.groupby("individual_id")["species"].nunique()
    bad = n_species[n_species > 1]
    if len(bad):
        raise DataError(
            f"harmonize_individuals: matched individuals {list(bad.index)} were recorded as "
            "different species by different partners; check the match table"
        )


# -- transborder table ---------------------------------------------------------------------


def assign_countries(points: gpd.GeoDataFrame, countries: gpd.GeoDataFrame, *, snap_m: float = 1000.0,
                     crs=None) -> pd.Series:
    """ISO3 of the country each point lies in (snapping up to *snap_m* metres across a border line)."""
    if countries.crs is None or points.crs is None:
        raise CRSError("`detections` and `countries` need a CRS; set them with .set_crs(...)")
    if "iso3" not in countries.columns:
        raise ValidationError("`countries` needs an 'iso3' column (e.g. tbpa.sites.load_countries())")
    crs = crs or equal_area_crs(points)
    pts = points.to_crs(crs)[["geometry"]]
    polys = _local_countries(countries, points, crs)
    joined = gpd.sjoin_nearest(pts, polys, how="left", max_distance=snap_m, distance_col="_d")
    joined = joined[~joined.index.duplicated(keep="first")]
    iso3 = joined["iso3"].reindex(points.index)
    outside = int(iso3.isna().sum())
    if outside:
        warnings.warn(
            f"{outside} detections lie more than {snap_m:g} m outside every country polygon; "
            "they are kept with country NA and ignored in crossings",
            TbpaWarning, stacklevel=3,
        )
    return iso3.astype("string")


def _local_countries(countries: gpd.GeoDataFrame, points: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """Countries near the points, in *crs*, valid.

    Projecting all of North-East Asia into a local equal-area CRS distorts far-away polygons
    until GEOS finds them invalid; only the countries within ~2 degrees of the data matter.
    """
    minx, miny, maxx, maxy = points.to_crs(4326).total_bounds
    near = countries.to_crs(4326).cx[minx - 2:maxx + 2, miny - 2:maxy + 2]
    near = gpd.clip(near, (minx - 2, miny - 2, maxx + 2, maxy + 2))[["iso3", "geometry"]]
    near = near.to_crs(crs)
    near["geometry"] = near.geometry.make_valid()
    return near


def transborder_individuals(detections: gpd.GeoDataFrame, countries: gpd.GeoDataFrame, *,
                            crs=None, snap_m: float = 1000.0) -> pd.DataFrame:
    """Per individual: countries, first/last dates per country, crossings and MCP areas.

    Crossings are inferred from consecutive detections (in time) located in different
    countries; detections outside every country are ignored for crossings. The minimum
    convex polygon (MCP, 100 %) of all detections is computed in an equal-area CRS and split
    by country; fewer than three distinct locations give an MCP area of 0.

    Parameters
    ----------
    detections : GeoDataFrame
        From :func:`read_detections` / :func:`harmonize_individuals`; rows without an
        ``individual_id`` are ignored.
    countries : GeoDataFrame
        Country polygons with ``iso3`` (e.g. ``tbpa.sites.load_countries()``).
    crs : optional
        Equal-area CRS for areas (default: :func:`tbpa.crs.equal_area_crs` of the detections).
    snap_m : float
        Points this close to a country (e.g. a camera on the border road) are assigned to it.

    Returns
    -------
    pandas.DataFrame
        One row per individual (index ``individual_id``) with ``species, sex, life_stage,
        countries, n_countries, n_detections, n_crossings, crossed, mcp_area_km2`` and, per
        country ``<ISO3>``, ``n_<ISO3>, first_<ISO3>, last_<ISO3>, mcp_km2_<ISO3>``. ``attrs["summary"]``
        holds :func:`summarize_transborder` of it as records.

    Examples
    --------
    >>> table = transborder_individuals(detections, tbpa.sites.load_countries())  # doctest: +SKIP
    >>> table.attrs["summary"]  # doctest: +SKIP
    """
    det = detections[detections["individual_id"].notna()].copy()
    if det.empty:
        raise EmptySelectionError(
            "transborder_individuals: no detection has an individual_id; identify individuals "
            "first (photo or genetic ids)"
        )
    crs = crs or equal_area_crs(det)
    det["iso3"] = assign_countries(det, countries, snap_m=snap_m, crs=crs)
    det = det.sort_values(["individual_id", "timestamp"])
    det_ea = det.to_crs(crs)
    countries_ea = _local_countries(countries, det, crs).dissolve(by="iso3")
    codes = sorted(det["iso3"].dropna().unique())
    rows = [_individual_row(ind, group, det_ea.loc[group.index], countries_ea, codes)
            for ind, group in det.groupby("individual_id", sort=True)]
    table = pd.DataFrame(rows).set_index("individual_id")
    table.attrs["summary"] = summarize_transborder(table).to_dict("records")
    return table


def _individual_row(ind, group, group_ea, countries_ea, codes) -> dict:
    seq = group["iso3"].dropna().to_numpy()
    row = {
        "individual_id": ind,
        "species": _mode(group["species"]),
        "sex": _mode(group["sex"]),
        "life_stage": _mode(group["life_stage"]),
        "countries": ";".join(sorted(set(seq))),
        "n_countries": len(set(seq)),
        "n_detections": len(group),
        "n_crossings": int(np.count_nonzero(seq[1:] != seq[:-1])) if len(seq) > 1 else 0,
    }
    row["crossed"] = row["n_countries"] > 1
    hull = group_ea.geometry.union_all().convex_hull
    row["mcp_area_km2"] = hull.area / 1e6
    for code in codes:
        in_c = group[group["iso3"] == code]
        row[f"n_{code}"] = len(in_c)
        row[f"first_{code}"] = in_c["timestamp"].min() if len(in_c) else pd.NaT
        row[f"last_{code}"] = in_c["timestamp"].max() if len(in_c) else pd.NaT
        area = hull.intersection(countries_ea.geometry.loc[code]).area if code in countries_ea.index else 0.0
        row[f"mcp_km2_{code}"] = area / 1e6
    return row


def _mode(values: pd.Series):
    values = values.dropna()
    return values.mode().iloc[0] if len(values) else pd.NA


def summarize_transborder(table: pd.DataFrame) -> pd.DataFrame:
    """Per species: individuals identified and individuals that crossed, overall and by sex/age.

    Returns a tidy table with columns ``species, group, value, n_individuals, n_crossed,
    share_crossed`` where ``group`` is ``"all"``, ``"sex"`` or ``"life_stage"``.
    """
    parts = []
    for group, column in (("all", None), ("sex", "sex"), ("life_stage", "life_stage")):
        keys = ["species"] if column is None else ["species", column]
        t = table.assign(**{column: table[column].fillna("unknown")}) if column else table
        agg = t.groupby(keys, dropna=False)["crossed"].agg(n_individuals="size", n_crossed="sum")
        agg = agg.reset_index()
        agg["group"] = group
        agg["value"] = "all" if column is None else agg[column].astype(str)
        parts.append(agg[["species", "group", "value", "n_individuals", "n_crossed"]])
    out = pd.concat(parts, ignore_index=True)
    out["n_crossed"] = out["n_crossed"].astype(int)
    out["share_crossed"] = out["n_crossed"] / out["n_individuals"]
    return out
