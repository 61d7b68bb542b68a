"""Harmonise national protected-area layers across borders and draft a transboundary PA.

National agencies publish their layers in different CRSs, with invalid rings, and digitised
against different border lines, so the same border shows overlaps (both sides claim a strip)
and sliver gaps (neither does). :func:`harmonize` puts the layers into one equal-area CRS
with the standard schema and reports those problems; :func:`draft_tbpa` dissolves national
parts into one draft transboundary protected area with per-country areas and the length of
border it spans.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ._schema import SITE_COLUMNS
from .crs import equal_area_crs, require_projected_crs
from .sites import to_crs_dense
from .errors import CRSError, EmptySelectionError, TbpaWarning, ValidationError

__all__ = ["harmonize", "HarmonizeReport", "draft_tbpa", "REPORT_COLUMNS"]

#: Columns of :attr:`HarmonizeReport.table` (plus ``geometry``, the problem area or point).
REPORT_COLUMNS = ["issue", "site_a", "site_b", "iso3_a", "iso3_b", "area_ha", "x", "y", "detail"]

#: Overlaps, gaps and clipped strips smaller than this (hectares) or thinner on average than
#: NOISE_WIDTH_M (2 x area / perimeter) are floating-point noise from reprojection, not findings.
MIN_AREA_HA = 1e-4
NOISE_WIDTH_M = 0.05


def _significant(geom) -> bool:
    if geom is None or geom.is_empty or geom.area / 1e4 <= MIN_AREA_HA:
        return False
    return 2.0 * geom.area / geom.length >= NOISE_WIDTH_M


# ----------------------------------------------------------------------------- report
@dataclass
class HarmonizeReport:
    """What :func:`harmonize` fixed and found.

    Attributes
    ----------
    table : geopandas.GeoDataFrame
        One row per finding, columns :data:`REPORT_COLUMNS` + ``geometry``. ``issue`` is one of
        ``invalid_geometry_fixed``, ``empty_geometry_dropped``, ``clipped_to_country``,
        ``no_country_polygon``, ``overlap`` (sites of different countries overlap),
        ``sliver`` (thin gap between sites of different countries). ``area_ha`` is the area
        concerned, ``x``/``y`` a representative point in ``crs``.
    crs : pyproj.CRS
        The equal-area CRS everything was reprojected to.
    sliver_tolerance_m : float
        Gaps narrower than this were reported as slivers.
    """

    table: gpd.GeoDataFrame
    crs: CRS
    sliver_tolerance_m: float

    def _rows(self, issue: str) -> gpd.GeoDataFrame:
        return self.table[self.table["issue"] == issue].reset_index(drop=True)

    @property
    def overlaps(self) -> gpd.GeoDataFrame:
        """Overlaps between sites of different countries."""
        return self._rows("overlap")

    @property
    def slivers(self) -> gpd.GeoDataFrame:
        """Thin gaps between sites of different countries."""
        return self._rows("sliver")

    @property
    def fixed(self) -> gpd.GeoDataFrame:
        """Geometries that were invalid and have been repaired."""
        return self._rows("invalid_geometry_fixed")

    def __len__(self) -> int:
        return len(self.table)

    def summary(self) -> pd.DataFrame:
        """Count and total area per issue."""
        if self.table.empty:
            return pd.DataFrame({"count": [], "area_ha": []})
        return self.table.groupby("issue").agg(count=("issue", "size"), area_ha=("area_ha", "sum"))

    def __repr__(self) -> str:
        if self.table.empty:
            return "HarmonizeReport: no issues found"
        lines = [f"HarmonizeReport: {len(self.table)} finding(s) "
                 f"(sliver tolerance {self.sliver_tolerance_m:g} m)"]
        for row in self.table.itertuples():
            pair = row.site_a if not row.site_b else f"{row.site_a} / {row.site_b}"
            isos = row.iso3_a if not row.iso3_b else f"{row.iso3_a}/{row.iso3_b}"
            lines.append(f"  {row.issue:<24} {pair:<32} {isos:<8} {row.area_ha:>12,.2f} ha "
                         f"at ({row.x:,.0f}, {row.y:,.0f})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = (f"<b>HarmonizeReport</b>: {len(self.table)} finding(s), sliver tolerance "
                f"{self.sliver_tolerance_m:g} m")
        if self.table.empty:
            return head
        cols = [c for c in REPORT_COLUMNS]
        body = pd.DataFrame(self.table[cols]).to_html(index=False, float_format=lambda v: f"{v:,.2f}")
        return head + body


def _finding(issue, geom, *, site_a="", site_b="", iso3_a="", iso3_b="", detail="", area_ha=None):
    pt = geom.representative_point() if geom is not None and not geom.is_empty else None
    if area_ha is None:
        area_ha = float(geom.area) / 1e4 if geom is not None and not geom.is_empty else 0.0
    return {
        "issue": issue, "site_a": site_a, "site_b": site_b, "iso3_a": iso3_a, "iso3_b": iso3_b,
        "area_ha": float(area_ha),
        "x": float(pt.x) if pt is not None else np.nan,
        "y": float(pt.y) if pt is not None else np.nan,
        "detail": detail, "geometry": geom,
    }


# ----------------------------------------------------------------------------- harmonize
def _as_layers(layers) -> list[tuple[str, gpd.GeoDataFrame]]:
    if isinstance(layers, gpd.GeoDataFrame):
        items = [("layer0", layers)]
    elif isinstance(layers, dict):
        items = list(layers.items())
    else:
        items = [(f"layer{i}", g) for i, g in enumerate(layers)]
    for name, g in items:
        if not isinstance(g, gpd.GeoDataFrame):
            raise ValidationError(
                f"harmonize: `layers` item {name!r} is a {type(g).__name__}; pass GeoDataFrames "
                "(e.g. from tbpa.io.read_wdpa or tbpa.sites.load_sites)"
            )
        if g.crs is None:
            raise CRSError(
                f"harmonize: `layers` item {name!r} has no CRS; set it with .set_crs(...) "
                "(EPSG:4326 if the coordinates are longitude/latitude)"
            )
        if "iso3" not in g.columns:
            raise ValidationError(
                f"harmonize: `layers` item {name!r} has no 'iso3' column; cross-border checks "
                "need each site's country (add it, e.g. gdf['iso3'] = 'RUS')"
            )
    if not items:
        raise EmptySelectionError("harmonize: `layers` is empty; pass at least one GeoDataFrame")
    return items


def _polygonal(geom):
    """Keep the polygonal part of a geometry (make_valid may return a collection)."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _standardise(name: str, gdf: gpd.GeoDataFrame, findings: list) -> gpd.GeoDataFrame:
    """Copy of *gdf* with the standard columns; invalid geometries fixed and reported."""
    gdf = gdf.copy()
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    kinds = set(gdf.geometry.dropna().geom_type)
    bad = kinds - {"Polygon", "MultiPolygon", "GeometryCollection"}
    if bad:
        raise ValidationError(
            f"harmonize: `layers` item {name!r} contains {sorted(bad)} geometries; only polygons "
            "are protected-area outlines (buffer WDPA points with tbpa.io.read_wdpa first)"
        )
    if "site_id" not in gdf.columns:
        gdf["site_id"] = [f"{name}_{i}" for i in range(len(gdf))]
    gdf["site_id"] = gdf["site_id"].astype(str)
    for col in SITE_COLUMNS:
        if col not in gdf.columns:
            gdf[col] = pd.NA
    fixed = []
    for i, geom in enumerate(gdf.geometry):
        sid, iso = gdf["site_id"].iat[i], str(gdf["iso3"].iat[i])
        if geom is None or geom.is_empty:
            findings.append(_finding("empty_geometry_dropped", None, site_a=sid, iso3_a=iso,
                                     detail=f"layer {name}"))
            fixed.append(None)
        elif not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            good = _polygonal(shapely.make_valid(geom))
            fixed.append(good)
            findings.append(("fix", sid, iso, reason, name, len(findings)))
        else:
            fixed.append(geom)
    gdf["geometry"] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf["layer"] = name
    return gdf[SITE_COLUMNS + ["layer"]]


def _pairs_within(geoms: np.ndarray, distance: float) -> np.ndarray:
    """Index pairs (i < j) of geometries closer than *distance* (STRtree)."""
    tree = shapely.STRtree(geoms)
    if distance > 0:
        left, right = tree.query(geoms, predicate="dwithin", distance=distance)
    else:
        left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    return np.column_stack([left[keep], right[keep]])


def _closing_gaps(a, b, tol: float):
    """Gaps between *a* and *b* narrower than *tol* that touch both (morphological closing).

    The union is dilated by tol/2 then eroded by tol/2 with mitred joins, which fills every
    gap narrower than tol and, for straight edges, nothing else; the filled parts that touch
    both sites are the slivers.
    """
    union = shapely.union(a, b)
    closed = union.buffer(tol / 2, join_style="mitre").buffer(-tol / 2, join_style="mitre")
    gaps = shapely.difference(closed, union)
    touch = max(tol * 1e-6, 1e-3)
    parts = [g for g in shapely.get_parts(_polygonal(gaps))
             if _significant(g) and g.distance(a) <= touch and g.distance(b) <= touch]
    return shapely.union_all(parts) if parts else None


def harmonize(layers, *, crs=None, clip_to_countries: bool = False, countries=None,
              sliver_tolerance_m: float = 500.0):
    """Harmonise protected-area layers from several countries into one clean layer.

    Steps: (1) repair invalid geometries with :func:`shapely.make_valid` (reported);
    (2) reproject everything to one equal-area CRS; (3) bring the columns to the standard
    schema (:data:`tbpa._schema.SITE_COLUMNS`, plus ``layer``); (4) optionally clip each site
    to its own country; (5) detect overlaps between sites of different countries and sliver
    gaps narrower than ``sliver_tolerance_m`` between them.

    Parameters
    ----------
    layers : GeoDataFrame, list of GeoDataFrame or dict name -> GeoDataFrame
        Protected-area layers with a CRS and an ``iso3`` column. Inputs are not modified.
    crs : optional
        Target CRS; must be projected (metres). Default: :func:`tbpa.crs.equal_area_crs` of
        all layers together.
    clip_to_countries : bool
        Clip each site to the polygon of its own ``iso3`` country (reported per site).
    countries : GeoDataFrame, optional
        Country polygons with an ``iso3`` column for clipping; default the embedded Natural
        Earth countries (:func:`tbpa.sites.load_countries`).
    sliver_tolerance_m : float
        Gaps between sites of different countries narrower than this are slivers.

    Returns
    -------
    (GeoDataFrame, HarmonizeReport)
        The harmonised sites in ``crs`` and the report of what was fixed and found.

    Raises
    ------
    CRSError
        A layer has no CRS, or *crs* is geographic.
    ValidationError
        A layer lacks ``iso3``, holds non-polygon geometries, or the tolerance is negative.
    EmptySelectionError
        No layer, or no geometry left after dropping empty ones.

    Examples
    --------
    >>> from tbpa.sites import load_sites
    >>> from tbpa.boundaries import harmonize
    >>> sites, report = harmonize([load_sites(landscape="tumen_estuary")])
    >>> report.overlaps.empty
    True
    """
    if not np.isfinite(sliver_tolerance_m) or sliver_tolerance_m < 0:
        raise ValidationError(
            f"harmonize: `sliver_tolerance_m` must be a distance >= 0 in metres, got "
            f"{sliver_tolerance_m!r}"
        )
    items = _as_layers(layers)
    findings: list = []
    parts = [_standardise(name, g, findings) for name, g in items]
    if crs is None:
        lonlat = pd.concat([p.to_crs(4326) for p in parts if len(p)])
        if lonlat.empty:
            raise EmptySelectionError("harmonize: every geometry in `layers` is empty")
        crs = equal_area_crs(lonlat)
    else:
        crs = require_projected_crs(crs, "crs")
    parts = [to_crs_dense(p, crs) for p in parts if len(p)]
    if not parts:
        raise EmptySelectionError("harmonize: every geometry in `layers` is empty")
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    # reprojection can (rarely) create self-touching rings: repair silently, it is not the input
    sites["geometry"] = [g if g.is_valid else _polygonal(shapely.make_valid(g)) for g in sites.geometry]

    # invalid-geometry findings were kept as tuples; locate them now that sites are in the output CRS
    rows = []
    for f in findings:
        if isinstance(f, tuple):
            _, sid, iso, reason, name, _ = f
            geom = sites.loc[sites["site_id"] == sid, "geometry"]
            geom = geom.iloc[0] if len(geom) else None
            rows.append(_finding("invalid_geometry_fixed", geom, site_a=sid, iso3_a=iso,
                                 detail=f"{reason} (layer {name})"))
        else:
            rows.append(f)

    if clip_to_countries:
        rows += _clip_to_countries(sites, countries, crs)

    geoms = sites.geometry.to_numpy()
    iso = sites["iso3"].astype(str).to_numpy()
    ids = sites["site_id"].to_numpy()
    for i, j in _pairs_within(geoms, 0.0):
        if iso[i] == iso[j]:
            continue  # nested/overlapping designations within one country are normal
        inter = _polygonal(shapely.intersection(geoms[i], geoms[j]))
        if _significant(inter):
            rows.append(_finding("overlap", inter, site_a=ids[i], site_b=ids[j],
                                 iso3_a=iso[i], iso3_b=iso[j]))
    if sliver_tolerance_m > 0:
        tree = shapely.STRtree(geoms)
        for i, j in _pairs_within(geoms, sliver_tolerance_m):
            if iso[i] == iso[j]:
                continue
            gap = _closing_gaps(geoms[i], geoms[j], sliver_tolerance_m)
            if gap is not None:  # a gap covered by a third site (e.g. a parent park) is none
                others = [k for k in tree.query(gap, predicate="intersects") if k not in (i, j)]
                if others:
                    gap = _polygonal(shapely.difference(gap, shapely.union_all(geoms[others])))
                    gap = gap if _significant(gap) else None
            if gap is not None:
                rows.append(_finding("sliver", gap, site_a=ids[i], site_b=ids[j],
                                     iso3_a=iso[i], iso3_b=iso[j],
                                     detail=f"gap narrower than {sliver_tolerance_m:g} m"))

    table = gpd.GeoDataFrame(rows, columns=REPORT_COLUMNS + ["geometry"], geometry="geometry",
                             crs=crs)
    table = table.astype({"area_ha": float, "x": float, "y": float})
    return sites, HarmonizeReport(table=table, crs=crs, sliver_tolerance_m=float(sliver_tolerance_m))


def _clip_to_countries(sites: gpd.GeoDataFrame, countries, crs) -> list:
    if countries is None:
        from .sites import load_countries

        countries = load_countries()
    if "iso3" not in countries.columns or countries.crs is None:
        raise ValidationError("harmonize: `countries` needs an 'iso3' column and a CRS")
    shapes = countries.geometry
    if not countries.crs.is_projected:  # cut huge countries (Russia) down before projecting
        window = sites.to_crs(countries.crs).total_bounds + np.array([-1, -1, 1, 1])
        shapes = shapes.clip_by_rect(*window)
    shapes = to_crs_dense(gpd.GeoDataFrame(geometry=shapes, crs=countries.crs), crs).geometry
    by_iso = {}
    for code, geom in zip(countries["iso3"].astype(str), shapes):
        by_iso[code] = shapely.union(by_iso[code], geom) if code in by_iso else geom
    rows = []
    for k in range(len(sites)):
        code, geom, sid = str(sites["iso3"].iat[k]), sites.geometry.iat[k], sites["site_id"].iat[k]
        if code not in by_iso:
            rows.append(_finding("no_country_polygon", geom, site_a=sid, iso3_a=code,
                                 detail="not clipped: iso3 not among `countries`"))
            continue
        clipped = _polygonal(shapely.intersection(geom, shapely.make_valid(by_iso[code])))
        removed = _polygonal(shapely.difference(geom, clipped))
        if _significant(removed):
            rows.append(_finding("clipped_to_country", removed, site_a=sid, iso3_a=code,
                                 detail="area outside its own country removed"))
        sites.iloc[k, sites.columns.get_loc("geometry")] = clipped
    return rows


# ----------------------------------------------------------------------------- draft TBPA
def _pair_borders(countries: gpd.GeoDataFrame, codes: list[str]) -> dict:
    """Shared border line per country pair, from polygons in a projected CRS."""
    shapes = {c: shapely.union_all(countries.loc[countries["iso3"] == c].geometry.to_numpy())
              for c in codes if (countries["iso3"] == c).any()}
    out = {}
    keys = sorted(shapes)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            line = shapely.intersection(shapes[a].boundary, shapes[b].buffer(0.01))
            line = [g for g in shapely.get_parts(line) if g.geom_type in ("LineString", "MultiLineString")]
            if line:
                out[(a, b)] = shapely.line_merge(shapely.union_all(line))
    return out


def _spanned_length(line, part_a, part_b, tol: float) -> float:
    """Length of *line* where a transect across it (+-tol) meets both *part_a* and *part_b*.

    The border is cut into short pieces; each piece counts when the perpendicular through its
    midpoint, *tol* long on each side, reaches the national parts on both sides. Unlike a
    buffer test, this does not count the border beyond the ends of the parts. Pieces are
    at most 50 m long, so each end of a shared stretch is resolved to within 50 m.
    """
    zone = shapely.intersection(part_a.buffer(tol), part_b.buffer(tol))
    line = shapely.intersection(line, zone)
    if line.is_empty or line.length == 0:
        return 0.0
    step = max(min(50.0, tol / 4.0), 1e-3)
    dense = shapely.segmentize(line, step)
    total = 0.0
    for part in shapely.get_parts(dense):
        if part.geom_type != "LineString":
            continue
        xy = np.asarray(part.coords)
        if len(xy) < 2:
            continue
        p0, p1 = xy[:-1], xy[1:]
        seg = p1 - p0
        length = np.hypot(seg[:, 0], seg[:, 1])
        ok = length > 0
        p0, p1, seg, length = p0[ok], p1[ok], seg[ok], length[ok]
        mid = (p0 + p1) / 2
        normal = np.column_stack([-seg[:, 1], seg[:, 0]]) / length[:, None] * tol
        transects = shapely.linestrings(np.stack([mid - normal, mid + normal], axis=1))
        both = shapely.intersects(transects, part_a) & shapely.intersects(transects, part_b)
        total += float(length[both].sum())
    return total


def draft_tbpa(sites: gpd.GeoDataFrame, *, name: str, countries=None,
               border_tolerance_m: float = 1000.0) -> gpd.GeoDataFrame:
    """Dissolve national parts into one draft transboundary protected area.

    Parameters
    ----------
    sites : GeoDataFrame
        National parts in a projected metre CRS, with an ``iso3`` column (e.g. the output of
        :func:`harmonize`).
    name : str
        Name of the draft TBPA.
    countries : GeoDataFrame, optional
        Country polygons (``iso3``) defining the border; default the embedded Natural Earth
        countries.
    border_tolerance_m : float
        A border segment counts as shared when parts of *both* countries lie within this
        distance of it (national layers rarely follow the border line exactly): a border piece
        counts when the perpendicular through it, this long on each side, reaches both.

    Returns
    -------
    GeoDataFrame
        One row: ``name``, ``geometry`` (dissolved), ``area_ha``, ``area_ha_<ISO3>`` per
        country, ``shared_border_m`` (length of the international border spanned by the
        draft, i.e. with national parts on both sides), ``countries``.

    Raises
    ------
    CRSError
        *sites* has no CRS or a geographic one.
    EmptySelectionError
        *sites* is empty.
    ValidationError
        *sites* has no ``iso3`` column.

    Examples
    --------
    >>> from tbpa.sites import load_sites
    >>> from tbpa.boundaries import draft_tbpa
    >>> parts = load_sites(["TLNP", "LLNP", "KEDROVAYA_PAD"], crs="+proj=laea +lat_0=43 +lon_0=131")
    >>> draft = draft_tbpa(parts, name="Land of Big Cats")
    >>> round(float(draft.area_ha.iloc[0]) / 1e6, 1)   # million ha
    1.7
    """
    if not isinstance(sites, gpd.GeoDataFrame):
        raise ValidationError(f"draft_tbpa: `sites` must be a GeoDataFrame, got {type(sites).__name__}")
    if len(sites) == 0:
        raise EmptySelectionError("draft_tbpa: `sites` is empty; pass at least one national part")
    crs = require_projected_crs(sites.crs, "sites")
    if "iso3" not in sites.columns:
        raise ValidationError("draft_tbpa: `sites` needs an 'iso3' column naming each part's country")
    geoms = [g if g.is_valid else _polygonal(shapely.make_valid(g)) for g in sites.geometry]
    parts = gpd.GeoDataFrame({"iso3": sites["iso3"].astype(str).to_numpy()}, geometry=geoms, crs=crs)
    codes = sorted(parts["iso3"].unique())
    national = {c: shapely.union_all(parts.loc[parts.iso3 == c].geometry.to_numpy()) for c in codes}
    whole = shapely.union_all(list(national.values()))

    row = {"name": name, "area_ha": whole.area / 1e4}
    for c in codes:
        row[f"area_ha_{c}"] = national[c].area / 1e4
    cross = sum(row[f"area_ha_{c}"] for c in codes) - row["area_ha"]
    if cross > 1e-6 * row["area_ha"] + MIN_AREA_HA:
        warnings.warn(
            f"draft_tbpa: national parts of different countries overlap by {cross:,.1f} ha, so "
            "per-country areas sum to more than the total; run tbpa.boundaries.harmonize("
            "..., clip_to_countries=True) first", TbpaWarning, stacklevel=2)

    if len(codes) > 1:
        if countries is None:
            from .sites import country_borders

            borders = country_borders(codes, crs=crs)
            pairs = {(r.iso3_a, r.iso3_b): r.geometry for r in borders.itertuples()}
        else:
            if "iso3" not in countries.columns or countries.crs is None:
                raise ValidationError("draft_tbpa: `countries` needs an 'iso3' column and a CRS")
            pairs = _pair_borders(to_crs_dense(countries, crs), codes)
        shared = 0.0
        for (a, b), line in pairs.items():
            if a in national and b in national:
                shared += _spanned_length(line, national[a], national[b], border_tolerance_m)
        row["shared_border_m"] = float(shared)
    else:
        row["shared_border_m"] = 0.0
    row["countries"] = ",".join(codes)
    return gpd.GeoDataFrame([row], geometry=[whole], crs=crs)
