"""The unified geographical map of a projected TBPA, and single-theme maps.

All maps share one layout at A4 or A3 landscape: the map frame (graticule with degree labels,
scale bar in km, north arrow), a side panel (legend, inset locator of North-East Asia) and a
title block (title, languages, data sources, a boxed notice whenever schematic outlines are
shown). With ``ax=`` the map is drawn into that axes only (no side panel or title block), so
maps compose into a user's own figure.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from shapely.geometry import box

from .._atomic import atomic_path
from ..errors import ValidationError
from . import _furniture as furniture
from ._fonts import resolve_languages
from .layers import plot_corridors, plot_countries, plot_current, plot_habitat, plot_options, plot_sites

__all__ = ["unified_map", "habitat_map", "current_map", "corridor_map", "boundary_options_map",
           "save_figure", "PAGES"]

#: Landscape-orientation page sizes in inches.
PAGES = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}
SCHEMATIC_NOTICE = ("SCHEMATIC BOUNDARIES: protected-area outlines are digitised from published\n"
                    "centroids, extents and areas; they are not legal or surveyed boundaries.")
_LANG_NAMES = {"en": "English", "zh": "中文", "ru": "Русский", "ko": "한국어", "mn": "Монгол"}


def unified_map(landscape, *, habitat=None, current=None, corridors=None, options=None,
                lang=("en", "zh", "ru"), page: str = "A4", ax=None, title: str | None = None):
    """Unified geographical map of a landscape (projected TBPA).

    Parameters
    ----------
    landscape : tbpa.sites.Landscape
        From :func:`tbpa.sites.load_landscape` (countries, sites, AOI, CRS, borders).
    habitat : xarray.DataArray, optional
        Unified habitat codes (:func:`tbpa.habitat.unify`), drawn in the legend colours.
    current : xarray.DataArray, optional
        Current density (:func:`tbpa.connectivity.current_map`), log colour scale.
    corridors : GeoDataFrame or xarray.DataArray, optional
        Corridor links (``CorridorNetwork.links``) or a normalized corridor raster.
    options : GeoDataFrame, optional
        Draft boundary options (``option_id``, ``name``).
    lang : tuple of str
        Label languages among "en", "zh", "ru", "ko", "mn", e.g. ``("en", "zh", "ru")`` gives
        "Land of the Leopard NP / 豹之乡国家公园 / Земля леопарда". Falls back to English with
        one warning when no installed font covers a script.
    page : {"A4", "A3"}
        Landscape page size when a new figure is made.
    ax : matplotlib Axes, optional
        Draw the map frame into this axes only.
    title : str, optional
        Defaults to "<Landscape>: unified map".

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> land = tbpa.sites.load_landscape("land_of_big_cats")  # doctest: +SKIP
    >>> fig = unified_map(land, lang=("en", "zh", "ru"))  # doctest: +SKIP
    >>> save_figure(fig, "land_of_big_cats.pdf")  # doctest: +SKIP
    """
    langs, family = resolve_languages(lang)
    fig, map_ax, side_ax, title_ax, scale = _layout(page, ax)
    crs = landscape.crs
    handles = _draw_frame(map_ax, landscape, family=family, scale=scale)
    if habitat is not None:
        handles += plot_habitat(map_ax, habitat, crs, langs=langs, family=family)
    if current is not None:
        # over a habitat map only the top quarter of current is drawn, so both stay readable
        mappable = plot_current(map_ax, current, crs, floor_percentile=75 if habitat is not None else None)
        cax = fig.add_axes(_colorbar_box(map_ax)) if side_ax is not None else None
        fig.colorbar(mappable, ax=map_ax if cax is None else None, cax=cax, label="current density (A)",
                     shrink=0.6)
    if corridors is not None:
        handles += plot_corridors(map_ax, corridors, crs)
    if options is not None:
        handles += plot_options(map_ax, options, crs, family=family)
    handles += plot_sites(map_ax, landscape.sites, crs, langs=langs, family=family, fontsize=6.5 * scale)
    _finish_frame(map_ax, crs, scale)
    schematic = _has_schematic(landscape.sites, options)
    if side_ax is None:
        if schematic:
            map_ax.text(0.5, 0.01, "Schematic boundaries: not legal boundaries", transform=map_ax.transAxes,
                        ha="center", va="bottom", fontsize=6.5 * scale, color="#8b0000", zorder=30,
                        bbox={"fc": "white", "ec": "#8b0000", "alpha": 0.85})
        return fig
    _side_panel(side_ax, fig, landscape, handles, family, scale)
    furniture.title_block(
        title_ax, title=title or f"{_display_name(landscape)}: unified map",
        subtitle="Labels: " + " / ".join(_LANG_NAMES[c] for c in langs)
                 + f"   ·   CRS: Lambert azimuthal equal-area ({_crs_centre(crs)})",
        sources=_sources_text(habitat, current, corridors, options),
        notice=SCHEMATIC_NOTICE if schematic else None,
        footer=f"tbpa {_version()} · {_dt.date.today().isoformat()}", fontsize=8 * scale, family=family)
    return fig


def _layout(page, ax):
    if ax is not None:
        return ax.figure, ax, None, None, 1.0
    if page not in PAGES:
        raise ValidationError(f"page must be one of {sorted(PAGES)}, got {page!r}")
    size = PAGES[page]
    scale = size[0] / PAGES["A4"][0]
    fig = plt.figure(figsize=size)
    map_ax = fig.add_axes([0.05, 0.20, 0.66, 0.76])
    side_ax = fig.add_axes([0.74, 0.20, 0.24, 0.76])
    title_ax = fig.add_axes([0.05, 0.015, 0.93, 0.135])
    return fig, map_ax, side_ax, title_ax, scale


def _country_label_point(geom, occupied):
    """Pole of inaccessibility of the country's largest part left free by *occupied* (sites).

    The grey country code is drawn under everything else; placed on a site it disappears
    behind the hatching (e.g. CHN under Dalai Lake in Dauria).
    """
    from shapely.ops import polylabel

    free = geom.difference(occupied) if occupied is not None else geom
    if free.is_empty:
        free = geom
    parts = getattr(free, "geoms", [free])
    part = max((g for g in parts if g.geom_type == "Polygon"), key=lambda g: g.area, default=None)
    if part is None:
        return geom.representative_point()
    return polylabel(part, tolerance=max(part.length / 1000.0, 1.0))


def _draw_frame(ax, landscape, *, family, scale):
    minx, miny, maxx, maxy = landscape.aoi.bounds
    pad = 0.06 * max(maxx - minx, maxy - miny)
    bounds = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    frame = gpd.GeoDataFrame(geometry=[box(*bounds)], crs=landscape.crs)
    countries = gpd.clip(landscape.countries.to_crs(landscape.crs), frame)
    plot_countries(ax, countries, landscape.crs)
    gpd.GeoSeries([landscape.aoi], crs=landscape.crs).boundary.plot(ax=ax, color="#7f7f7f", lw=0.6,
                                                                     ls="--", zorder=11)
    kw = {"family": family} if family else {}
    # the sites with a small margin, buffered once for every country
    occupied = (landscape.sites.to_crs(landscape.crs).geometry.union_all().buffer(pad * 0.2)
                if len(landscape.sites) else None)
    for _, row in countries.iterrows():
        p = _country_label_point(row.geometry, occupied)
        ax.text(p.x, p.y, str(row.get("iso3", "")), fontsize=11 * scale, color="#9e9e9e",
                ha="center", va="center", zorder=2, alpha=0.8, **kw)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    ax.set_xlabel("")
    ax.set_ylabel("")
    from matplotlib.lines import Line2D

    return [Line2D([], [], color="#4d4d4d", lw=0.9, label="international border (Natural Earth 1:10m)")]


def _finish_frame(ax, crs, scale):
    furniture.graticule(ax, crs, fontsize=6.5 * scale)
    furniture.scale_bar(ax, fontsize=7 * scale)
    furniture.north_arrow(ax, crs, fontsize=9 * scale)


def _colorbar_box(map_ax):
    pos = map_ax.get_position()
    return [pos.x1 + 0.005, pos.y0 + 0.02, 0.01, pos.height * 0.35]


def _side_panel(ax, fig, landscape, handles, family, scale):
    ax.set_axis_off()
    kw = {"family": family} if family else {}
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=6.3 * scale, frameon=False,
                  title="Legend", title_fontsize=8 * scale, prop={"size": 6.3 * scale, **kw})
    pos = ax.get_position()
    inset = fig.add_axes([pos.x0 + 0.02, pos.y0, pos.width - 0.04, pos.height * 0.33])
    from ..sites import load_countries

    furniture.inset_locator(inset, load_countries(), landscape.aoi, landscape.crs)


def _has_schematic(sites, options) -> bool:
    frames = [f for f in (sites, options) if f is not None and "geometry_quality" in f.columns]
    return any((f["geometry_quality"] == "schematic").any() for f in frames)


_DISPLAY_NAMES = {
    "land_of_big_cats": "Land of Big Cats (China-Russia)",
    "lesser_khingan": "Lesser Khingan (China-Russia)",
    "dauria": "Dauria International Protected Area (China-Mongolia-Russia)",
    "tumen_estuary": "Tumen River estuary (China-DPRK-Russia)",
    "khanka": "Lake Khanka / Xingkai (China-Russia)",
    "altai_sayan": "Altai-Sayan (Mongolia-Russia)",
}


def _display_name(landscape) -> str:
    name = str(landscape.name)
    return _DISPLAY_NAMES.get(name, name.replace("_", " ").title())


def _crs_centre(crs) -> str:
    params = {p.name: p.value for p in crs.coordinate_operation.params} if crs.coordinate_operation else {}
    lon = params.get("Longitude of natural origin", "?")
    lat = params.get("Latitude of natural origin", "?")
    return f"{lon}°E, {lat}°N"


def _version() -> str:
    from .. import __version__

    return __version__


def _sources_text(habitat, current, corridors, options) -> str:
    parts = ["Countries: Natural Earth 1:10m admin-0 (public domain).",
             "Protected areas: tbpa site registry (schematic outlines; see data/boundaries/README.md)."]
    if habitat is not None:
        source = habitat.attrs.get("source_description") or habitat.attrs.get("sources") or "tbpa.habitat.unify"
        parts.append(f"Habitat: unified IUCN Habitats v3.1 legend from {source}.")
    if current is not None:
        parts.append("Current: circuit-theory current density (tbpa.connectivity, Circuitscape conventions).")
    if corridors is not None:
        parts.append("Corridors: least-cost paths / normalized corridors (Linkage Mapper method).")
    if options is not None:
        parts.append("Boundary options: schematic drafts for discussion (tbpa).")
    return "  ".join(parts)


# -- single-theme maps ------------------------------------------------------------------


def habitat_map(landscape, habitat, *, lang=("en",), page="A4", ax=None):
    """Unified habitat map (legend in the first language)."""
    return unified_map(landscape, habitat=habitat, lang=lang, page=page, ax=ax,
                       title=f"{_display_name(landscape)}: unified habitat map (IUCN Habitats v3.1)")


def current_map(landscape, current, *, lang=("en",), page="A4", ax=None):
    """Current-density map."""
    return unified_map(landscape, current=current, lang=lang, page=page, ax=ax,
                       title=f"{_display_name(landscape)}: predicted movement (current density)")


def corridor_map(landscape, corridors, *, current=None, lang=("en",), page="A4", ax=None):
    """Corridor links or normalized corridors, optionally over current."""
    return unified_map(landscape, corridors=corridors, current=current, lang=lang, page=page, ax=ax,
                       title=f"{_display_name(landscape)}: ecological corridors")


def boundary_options_map(landscape, options, *, habitat=None, lang=("en",), page="A4", ax=None):
    """Draft TBPA boundary options over habitat."""
    return unified_map(landscape, options=options, habitat=habitat, lang=lang, page=page, ax=ax,
                       title=f"{_display_name(landscape)}: draft boundary options")


def save_figure(fig, path, *, dpi: int = 300) -> Path:
    """Save *fig* atomically as PNG, PDF or SVG (by suffix) at *dpi*."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf", "svg"):
        raise ValidationError(f"save_figure: use a .png, .pdf or .svg path, got {path.name!r}")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=fmt)
    return path
