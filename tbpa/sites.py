"""The embedded site registry, country polygons and the six landscapes.

The registry (``data/boundaries/sites.csv`` + ``sites.gpkg``) holds the protected areas of six
North-East Asian landscapes with the standard schema (:data:`tbpa._schema.SITE_COLUMNS`).
Every outline is **schematic** (digitised from the published reference point, extent and
area by ``tools/build_sites.py``; see ``data/boundaries/README.md``), and says so in its
``geometry_quality`` column. Country polygons are Natural Earth 1:10m admin-0 (public domain).

A :class:`Landscape` bundles what an analysis of one landscape needs, all in one equal-area
CRS: the area of interest (AOI), the countries, the sites and the international borders.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import box

from ._data import data_path
from ._schema import SITE_COLUMNS
from .crs import equal_area_crs
from .errors import EmptySelectionError, UnknownNameError, UnknownSiteError, close_matches

__all__ = [
    "LANDSCAPES",
    "AOI_BUFFER_M",
    "Landscape",
    "list_sites",
    "load_sites",
    "load_countries",
    "load_landscape",
    "load_tumen_options",
    "country_borders",
    "to_crs_dense",
]

#: The six embedded landscapes, in registry order.
LANDSCAPES = (
    "land_of_big_cats",
    "lesser_khingan",
    "dauria",
    "tumen_estuary",
    "khanka",
    "altai_sayan",
)

#: A landscape's AOI is the convex hull of its sites buffered by this distance (metres),
#: intersected with the union of the country polygons (so the sea is excluded).
AOI_BUFFER_M = 40_000.0

#: Countries are clipped to the AOI's bounding box enlarged by this margin (metres): enough
#: context for maps without carrying all of Russia and China around.
FRAME_MARGIN_M = 20_000.0

#: Extra registry columns after the standard schema.
EXTRA_COLUMNS = [
    "area_uncertain",  # True where the reported area is not verified ([U] in the reference)
    "parent_site",  # site this one is nested in or part of ("" if none)
    "ref_lon",  # published reference point used for digitising (degrees)
    "ref_lat",
    "schematic_area_ha",  # geodesic area of the schematic outline
    "method",  # how the schematic outline was drawn
]

_ATTR_COLUMNS = [c for c in SITE_COLUMNS if c != "geometry"] + EXTRA_COLUMNS

#: Edges of lon/lat geometries are densified to this step (degrees, ~200 m) before they are
#: projected: a straight lon/lat edge of several km bends in a projected CRS, and without
#: densifying, a site that follows a border and the country polygon drift apart by metres.
DENSIFY_DEG = 0.002


def to_crs_dense(gdf, crs, step_deg: float = DENSIFY_DEG):
    """Reproject *gdf*, densifying its edges first when it is in a geographic CRS."""
    if gdf.crs is not None and gdf.crs.is_geographic and len(gdf):
        gdf = gdf.copy()
        gdf["geometry"] = shapely.segmentize(gdf.geometry.to_numpy(), step_deg)
    return gdf.to_crs(crs)


# ----------------------------------------------------------------------------- raw data
@functools.lru_cache(maxsize=1)
def _registry_table() -> pd.DataFrame:
    df = pd.read_csv(
        data_path("boundaries", "sites.csv"),
        dtype={"status_year": "Int64", "parent_site": str},
        keep_default_na=False,
        na_values={"status_year": [""]},
    )
    df["area_uncertain"] = df["area_uncertain"].astype(str).str.lower().eq("true")
    return df[_ATTR_COLUMNS]


@functools.lru_cache(maxsize=1)
def _registry_gdf() -> gpd.GeoDataFrame:
    geoms = gpd.read_file(data_path("boundaries", "sites.gpkg"), layer="sites")
    geoms = geoms.set_index("site_id").geometry
    table = _registry_table()
    return gpd.GeoDataFrame(
        table.assign(geometry=geoms.reindex(table["site_id"]).to_numpy()),
        geometry="geometry",
        crs="EPSG:4326",
    )[SITE_COLUMNS + EXTRA_COLUMNS]


@functools.lru_cache(maxsize=1)
def _countries_gdf() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(data_path("boundaries", "countries.gpkg"), layer="countries")
    return gdf.sort_values("iso3").reset_index(drop=True)


def _check_landscape(name) -> str:
    if name not in LANDSCAPES:
        hints = close_matches(str(name), LANDSCAPES)
        hint = f"; did you mean {', '.join(map(repr, hints))}?" if hints else ""
        raise UnknownNameError(
            f"`landscape` {name!r} is not an embedded landscape{hint}. "
            f"Known landscapes: {', '.join(LANDSCAPES)}"
        )
    return name


def _as_list(value) -> list:
    if isinstance(value, str):
        return [value]
    return list(value)


# ----------------------------------------------------------------------------- registry
def list_sites(landscape: str | None = None) -> pd.DataFrame:
    """The site registry as a table (no geometry).

    Parameters
    ----------
    landscape : str, optional
        Keep only this landscape (one of :data:`LANDSCAPES`).

    Returns
    -------
    pandas.DataFrame
        One row per site: the standard schema without geometry, plus ``area_uncertain``
        (reported area not verified), ``parent_site``, ``ref_lon``/``ref_lat`` (published
        reference point), ``schematic_area_ha`` and ``method``.

    Raises
    ------
    UnknownNameError
        If *landscape* is not an embedded landscape.

    Examples
    --------
    >>> from tbpa.sites import list_sites
    >>> list_sites("khanka")[["site_id", "iso3", "reported_area_ha"]]  # doctest: +SKIP
    """
    df = _registry_table().copy()
    if landscape is not None:
        df = df[df["landscape"] == _check_landscape(landscape)]
    return df.reset_index(drop=True)


def load_sites(ids=None, *, landscape: str | None = None, crs=None) -> gpd.GeoDataFrame:
    """Registry sites as a GeoDataFrame with the standard schema.

    Parameters
    ----------
    ids : str or iterable of str, optional
        Site ids (e.g. ``"TLNP"``; case-insensitive). Default: every site.
    landscape : str, optional
        Keep only sites of this landscape.
    crs : anything pyproj accepts, optional
        Reproject to this CRS (default: EPSG:4326, as stored).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`tbpa._schema.SITE_COLUMNS` followed by the extra registry columns
        (see :func:`list_sites`). ``geometry_quality`` is ``"schematic"`` for every site.

    Raises
    ------
    UnknownSiteError
        An id is not in the registry (the message lists close matches).
    UnknownNameError
        *landscape* is not an embedded landscape.
    EmptySelectionError
        The selection is empty (e.g. ids from another landscape).

    Examples
    --------
    >>> from tbpa.sites import load_sites
    >>> parks = load_sites(["TLNP", "LLNP"])
    >>> sorted(parks.iso3)
    ['CHN', 'RUS']
    """
    gdf = _registry_gdf()
    keep = np.ones(len(gdf), dtype=bool)
    if ids is not None:
        known = {s.upper(): s for s in gdf["site_id"]}
        wanted = []
        for raw in _as_list(ids):
            key = str(raw).strip().upper()
            if key not in known:
                candidates = list(gdf["site_id"]) + list(gdf["name_en"])
                hints = close_matches(str(raw), candidates)
                hint = f"; did you mean {', '.join(map(repr, hints))}?" if hints else ""
                raise UnknownSiteError(
                    f"`ids`: site {raw!r} is not in the registry{hint}. "
                    "List the known ids with tbpa.sites.list_sites()."
                )
            wanted.append(known[key])
        keep &= gdf["site_id"].isin(wanted).to_numpy()
    if landscape is not None:
        keep &= (gdf["landscape"] == _check_landscape(landscape)).to_numpy()
    out = gdf[keep].copy()
    if out.empty:
        raise EmptySelectionError(
            f"load_sites: no site matches ids={ids!r} and landscape={landscape!r}; "
            "check that the ids belong to that landscape (tbpa.sites.list_sites(landscape))"
        )
    if crs is not None:
        out = to_crs_dense(out, crs)
    return out.reset_index(drop=True)


def load_countries(iso3=None, *, crs=None) -> gpd.GeoDataFrame:
    """Natural Earth 1:10m country polygons clipped to North-East Asia (84-143 E, 37-57 N).

    Parameters
    ----------
    iso3 : str or iterable of str, optional
        ISO 3166-1 alpha-3 codes (CHN, JPN, KAZ, KOR, MNG, PRK, RUS). Default: all.
    crs : optional
        Reproject to this CRS (default EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``iso3, adm0_a3, name, name_en, name_zh, name_ru, name_ko, source, geometry``.

    Raises
    ------
    UnknownNameError
        An ISO3 code is not among the embedded countries.

    Examples
    --------
    >>> from tbpa.sites import load_countries
    >>> load_countries(["RUS", "PRK"]).iso3.tolist()
    ['PRK', 'RUS']
    """
    gdf = _countries_gdf()
    if iso3 is not None:
        codes = [str(c).upper() for c in _as_list(iso3)]
        for code in codes:
            if code not in set(gdf["iso3"]):
                hints = close_matches(code, gdf["iso3"])
                hint = f"; did you mean {', '.join(hints)}?" if hints else ""
                raise UnknownNameError(
                    f"`iso3` {code!r} is not an embedded country{hint}. "
                    f"Embedded: {', '.join(gdf['iso3'])}"
                )
        gdf = gdf[gdf["iso3"].isin(codes)]
    gdf = gdf.copy()
    if crs is not None:
        gdf = to_crs_dense(gdf, crs)
    return gdf.reset_index(drop=True)


def load_tumen_options(crs=None) -> gpd.GeoDataFrame:
    """Schematic draft boundary options A/B/C for the transboundary Tumen estuary Ramsar site.

    A "Ramsar core" (existing wetland sites), B "Delta complex" (plus Jingxin, Maloye
    Mramornoye Lake and the lower Tumen corridor), C "Extended estuary" (plus coastal lagoons
    and a 2 km buffer). See ``data/boundaries/README.md``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``option_id, name, description, geometry_quality, geometry``.

    Examples
    --------
    >>> from tbpa.sites import load_tumen_options
    >>> load_tumen_options().option_id.tolist()
    ['A', 'B', 'C']
    """
    gdf = gpd.read_file(data_path("boundaries", "tumen_options.gpkg"), layer="options")
    if crs is not None:
        gdf = to_crs_dense(gdf, crs)
    return gdf


# ----------------------------------------------------------------------------- borders
@functools.lru_cache(maxsize=64)
def _shared_border_lonlat(a: str, b: str):
    """Shared boundary of countries a and b in lon/lat (Natural Earth shares vertices)."""
    c = _countries_gdf().set_index("iso3").geometry
    line = c[a].boundary.intersection(c[b].buffer(1e-7))
    parts = [g for g in getattr(line, "geoms", [line]) if g.geom_type in ("LineString", "MultiLineString")]
    if not parts:
        return None
    merged = shapely.line_merge(shapely.union_all(parts))
    return None if merged.is_empty else merged


def country_borders(iso3: Iterable[str], *, crs, within=None) -> gpd.GeoDataFrame:
    """International border lines between the given countries.

    Parameters
    ----------
    iso3 : iterable of str
        Country codes to pair up.
    crs : CRS
        Output CRS; should be projected so that ``length_m`` is in metres.
    within : shapely geometry, optional
        Keep only the parts inside this geometry (in *crs*).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per pair with a shared border: ``iso3_a, iso3_b, length_m, geometry``.

    Examples
    --------
    >>> from tbpa.sites import country_borders
    >>> b = country_borders(["CHN", "RUS", "PRK"], crs="+proj=laea +lat_0=43 +lon_0=131")
    >>> sorted(zip(b.iso3_a, b.iso3_b))
    [('CHN', 'PRK'), ('CHN', 'RUS'), ('PRK', 'RUS')]
    """
    codes = sorted({str(c) for c in iso3})
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            line = _shared_border_lonlat(a, b)
            if line is None:
                continue
            rows.append({"iso3_a": a, "iso3_b": b, "geometry": line})
    gdf = to_crs_dense(gpd.GeoDataFrame(rows, columns=["iso3_a", "iso3_b", "geometry"],
                                        geometry="geometry", crs="EPSG:4326"), crs)
    if within is not None and len(gdf):
        gdf["geometry"] = gdf.geometry.intersection(within)
        gdf = gdf[~gdf.geometry.is_empty & (gdf.geometry.length > 0)].copy()
    gdf["length_m"] = gdf.geometry.length.astype(float)
    return gdf[["iso3_a", "iso3_b", "length_m", "geometry"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- landscapes
@dataclass
class Landscape:
    """One embedded landscape, every layer in the analysis CRS ``crs`` (metres).

    Attributes
    ----------
    name : str
        Landscape name (one of :data:`LANDSCAPES`).
    aoi : shapely Polygon or MultiPolygon
        Area of interest: convex hull of the sites buffered by :data:`AOI_BUFFER_M`,
        intersected with the union of countries.
    countries : GeoDataFrame
        Country polygons clipped to the AOI frame (AOI bounding box + 20 km).
    sites : GeoDataFrame
        The landscape's registry sites (standard schema).
    crs : pyproj.CRS
        Lambert azimuthal equal-area CRS centred on the sites (:func:`tbpa.crs.equal_area_crs`).
    borders : GeoDataFrame
        Shared international border lines inside the AOI: ``iso3_a, iso3_b, length_m``.
    """

    name: str
    aoi: object
    countries: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    crs: CRS
    borders: gpd.GeoDataFrame

    @property
    def aoi_area_km2(self) -> float:
        """Area of the area of interest in km²."""
        return float(self.aoi.area) / 1e6

    @property
    def aoi_gdf(self) -> gpd.GeoDataFrame:
        """The area of interest as a one-row GeoDataFrame in the landscape CRS."""
        return gpd.GeoDataFrame({"name": [self.name], "area_km2": [self.aoi_area_km2]},
                                geometry=[self.aoi], crs=self.crs)

    def _summary(self) -> list[tuple[str, str]]:
        b = self.borders
        border = ", ".join(f"{r.iso3_a}-{r.iso3_b} {r.length_m / 1000:,.0f} km" for r in b.itertuples())
        return [
            ("sites", ", ".join(f"{r.site_id} ({r.iso3})" for r in self.sites.itertuples())),
            ("countries in AOI", ", ".join(self.sites_countries())),
            ("AOI", f"{self.aoi_area_km2:,.0f} km2 (site hull + {AOI_BUFFER_M / 1000:.0f} km, on land)"),
            ("borders in AOI", border or "none"),
            ("CRS", _crs_label(self.crs)),
            ("geometry", "schematic outlines (see data/boundaries/README.md)"),
        ]

    def sites_countries(self) -> list[str]:
        inside = self.countries[self.countries.intersects(self.aoi)]
        return sorted(inside["iso3"])

    def __repr__(self) -> str:
        lines = [f"Landscape({self.name!r})"]
        lines += [f"  {k:<17} {v}" for k, v in self._summary()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self._summary()
        )
        return f"<b>Landscape {html.escape(self.name)}</b><table>{rows}</table>"

    def plot(self, ax=None, *, labels: bool = True):
        """Overview map: countries, AOI, borders and sites (labelled in English).

        Returns the matplotlib Axes.

        Examples
        --------
        >>> ax = load_landscape("khanka").plot()  # doctest: +SKIP
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(8, 8))
        palette = ["#e8e4d8", "#d9e6d0", "#e6d9e8", "#d8e3ec", "#f0e0c8", "#dde0e0", "#ecd8d8"]
        for i, (_, row) in enumerate(self.countries.iterrows()):
            gpd.GeoSeries([row.geometry], crs=self.crs).plot(
                ax=ax, color=palette[i % len(palette)], edgecolor="#999999", linewidth=0.5)
            if labels:
                pt = row.geometry.representative_point()
                ax.annotate(row["name"], (pt.x, pt.y), color="#777777", fontsize=9,
                            ha="center", style="italic")
        gpd.GeoSeries([self.aoi], crs=self.crs).boundary.plot(
            ax=ax, color="#555555", linestyle="--", linewidth=0.8)
        if len(self.borders):
            self.borders.plot(ax=ax, color="#b22222", linewidth=1.5)
        self.sites.plot(ax=ax, color="#2e7d32", alpha=0.45, edgecolor="#1b5e20", linewidth=0.8)
        if labels:
            for row in self.sites.itertuples():
                pt = row.geometry.representative_point()
                ax.annotate(row.name_en, (pt.x, pt.y), fontsize=7, ha="center",
                            color="#0b3d0b")
        minx, miny, maxx, maxy = self.aoi.bounds
        pad = 0.05 * max(maxx - minx, maxy - miny)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
        ax.set_aspect("equal")
        ax.set_title(f"{self.name}: schematic boundaries")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        return ax


def _crs_label(crs) -> str:
    """Short CRS description without pyproj's lossy-PROJ-string warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return CRS.from_user_input(crs).to_proj4().replace(" +type=crs", "")


@functools.lru_cache(maxsize=8)
def _build_landscape(name: str) -> Landscape:
    sites4326 = load_sites(landscape=name)
    crs = equal_area_crs(sites4326)
    sites = to_crs_dense(sites4326, crs)
    hull = sites.union_all().convex_hull.buffer(AOI_BUFFER_M)

    # clip countries in lon/lat first (cheap) with a generous window, then project
    frame = box(*hull.bounds).buffer(FRAME_MARGIN_M, join_style="mitre")
    lon0, lat0, lon1, lat1 = gpd.GeoSeries([frame], crs=crs).to_crs(4326).total_bounds
    raw = _countries_gdf()
    raw = raw[raw.intersects(box(lon0, lat0, lon1, lat1))].copy()
    raw["geometry"] = raw.geometry.clip_by_rect(lon0 - 0.5, lat0 - 0.5, lon1 + 0.5, lat1 + 0.5)
    countries = to_crs_dense(raw, crs)
    countries["geometry"] = shapely.make_valid(countries.geometry.intersection(frame).to_numpy())
    countries = countries[~countries.geometry.is_empty].reset_index(drop=True)

    aoi = shapely.make_valid(hull.intersection(countries.union_all()))
    borders = country_borders(countries["iso3"], crs=crs, within=aoi)
    return Landscape(name=name, aoi=aoi, countries=countries, sites=sites, crs=crs, borders=borders)


def load_landscape(name: str) -> Landscape:
    """Load one of the six embedded landscapes in its equal-area analysis CRS.

    Parameters
    ----------
    name : str
        One of :data:`LANDSCAPES`: ``land_of_big_cats``, ``lesser_khingan``, ``dauria``,
        ``tumen_estuary``, ``khanka``, ``altai_sayan``.

    Returns
    -------
    Landscape
        ``name, aoi, countries, sites, crs, borders``; every layer in ``crs`` (metres).

    Raises
    ------
    UnknownNameError
        *name* is not an embedded landscape (the message suggests close matches).

    Examples
    --------
    >>> from tbpa.sites import load_landscape
    >>> ls = load_landscape("tumen_estuary")
    >>> ls.crs.is_projected
    True
    >>> sorted(ls.sites.iso3.unique())
    ['CHN', 'PRK', 'RUS']
    """
    base = _build_landscape(_check_landscape(name))
    # hand out copies: the cached layers must not be changed by a caller
    return Landscape(
        name=base.name, aoi=base.aoi, countries=base.countries.copy(), sites=base.sites.copy(),
        crs=base.crs, borders=base.borders.copy(),
    )
