"""Map layers: countries, sites, habitat, current, corridors, boundary options."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import xarray as xr
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.patches import Patch

from .._grid import GridSpec
from .._palette import COUNTRY_COLOURS, OPTION_COLOURS, SITE_COLOURS
from ..errors import CRSError, ValidationError

__all__ = ["COUNTRY_COLOURS", "site_label", "plot_countries", "plot_sites", "plot_habitat",
           "plot_current", "plot_corridors", "plot_options"]

_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


def _require_crs(obj, crs, name):
    obj_crs = obj.rio.crs if isinstance(obj, xr.DataArray) else obj.crs
    if obj_crs is None:
        raise CRSError(f"`{name}` has no CRS; set it before mapping")
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        return obj.to_crs(crs)
    if obj.rio.crs != crs:
        raise CRSError(
            f"`{name}` is in {obj.rio.crs} but the map is in the landscape CRS {crs}; reproject "
            f"with {name}.rio.reproject(landscape.crs)"
        )
    return obj


_LOCAL_LANGUAGE = {"CHN": "zh", "RUS": "ru", "PRK": "ko", "KOR": "ko", "MNG": "mn"}


def landscape_languages(countries) -> tuple[str, ...]:
    """English plus the national languages of the countries of a landscape, in map order.

    >>> landscape_languages(["RUS", "CHN", "PRK"])
    ('en', 'zh', 'ru', 'ko')
    """
    iso3s = countries["iso3"] if hasattr(countries, "columns") else countries
    local = {_LOCAL_LANGUAGE[i] for i in iso3s if i in _LOCAL_LANGUAGE}
    return ("en",) + tuple(code for code in ("zh", "ru", "ko", "mn") if code in local)


def site_label(row, langs) -> str:
    """Site name in each language, joined with ' / ' (languages without a name are skipped).

    In the site's own language the short local name (``name_local``) is used, e.g.
    "Земля леопарда" rather than the full official title.
    """
    names = []
    for code in langs:
        value = row.get(f"name_{code}")
        if code != "en" and _LOCAL_LANGUAGE.get(row.get("iso3")) == code:
            local = row.get("name_local")
            value = local if isinstance(local, str) and local.strip() else value
        if isinstance(value, str) and value.strip() and value.strip() not in names:
            names.append(value.strip())
    return " / ".join(names) if names else str(row.get("site_id", ""))


def plot_countries(ax, countries: gpd.GeoDataFrame, crs) -> None:
    """Country fills in pastel colours with dark borders."""
    c = countries.to_crs(crs)
    fills = [COUNTRY_COLOURS.get(iso, "#eeeeee") for iso in c.get("iso3", [None] * len(c))]
    c.plot(ax=ax, color=fills, edgecolor="none", zorder=1)
    c.boundary.plot(ax=ax, color="#4d4d4d", lw=0.9, zorder=12)


def plot_sites(ax, sites: gpd.GeoDataFrame, crs, *, langs, family=None, fontsize=7.0, label=True):
    """Site outlines (hatched when schematic) labelled in the chosen languages."""
    s = sites.to_crs(crs)
    for _, row in s.iterrows():
        colour = SITE_COLOURS.get(row.get("iso3"), "#333333")
        schematic = row.get("geometry_quality") == "schematic"
        gpd.GeoSeries([row.geometry], crs=crs).plot(
            ax=ax, facecolor=mcolors.to_rgba(colour, 0.12), edgecolor=colour, lw=1.1,
            hatch="////" if schematic else None, linestyle="--" if schematic else "-", zorder=13)
    if label:
        kw = {"family": family} if family else {}
        order = s.geometry.area.sort_values(ascending=False).index  # big sites keep their spot
        items = [(site_label(s.loc[i], langs), s.loc[i].geometry.representative_point())
                 for i in order]
        place_labels(ax, [(text, (p.x, p.y)) for text, p in items], fontsize=fontsize, **kw)
    return [Patch(facecolor="white", edgecolor="#333333", hatch="////", ls="--",
                  label="site (schematic outline)")]


#: Vertical label offsets tried, in label line heights (0 = on the anchor).
_LABEL_STEPS = (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5)


def place_labels(ax, items, *, fontsize: float, **text_kw) -> list:
    """Draw labels at their anchors, moving any that would overlap an earlier one.

    *items* are ``(text, (x, y))`` in data coordinates, most important first. A label that
    collides is moved up or down by whole line heights to the nearest free place and joined
    to its anchor by a thin leader line; if no place is free it stays on its anchor. The
    placement is deterministic (the same map always looks the same).

    Returns the annotation artists.
    """
    renderer = ax.figure.canvas.get_renderer()
    placed, artists = [], []
    style = dict(fontsize=fontsize, ha="center", va="center", zorder=25, path_effects=_HALO,
                 textcoords="offset points", **text_kw)
    offsets = [step * fontsize * 1.5 for step in _LABEL_STEPS]
    for text, xy in items:
        # measure the text once on its anchor; an offset label's box is that box shifted
        probe = ax.annotate(text, xy, xytext=(0, 0), **style)
        anchored = probe.get_window_extent(renderer)
        probe.remove()
        shifted = ((dy, anchored.translated(0, renderer.points_to_pixels(dy))) for dy in offsets)
        # nowhere free: keep the anchor
        chosen, box = next(((dy, b) for dy, b in shifted if not any(b.overlaps(o) for o in placed)),
                           (0.0, anchored))
        arrow = {"arrowstyle": "-", "lw": 0.5, "color": "#555555"} if chosen else None
        artists.append(ax.annotate(text, xy, xytext=(0, chosen), arrowprops=arrow, **style))
        placed.append(box)
    return artists


def _extent(da: xr.DataArray):
    grid = GridSpec.from_dataarray(da, da.name or "raster")
    minx, miny, maxx, maxy = grid.bounds
    return [minx, maxx, miny, maxy]


def plot_habitat(ax, habitat: xr.DataArray, crs, *, langs=("en",), family=None, alpha=0.85):
    """Unified habitat codes in the legend colours; returns legend handles of present classes."""
    from ..habitat import legend as load_legend

    habitat = _require_crs(habitat, crs, "habitat")
    values = np.asarray(habitat.values)
    codes = np.unique(values[np.isfinite(values) & (values > 0)]).astype(int) if values.dtype.kind == "f" \
        else np.unique(values[values > 0])
    table = load_legend().set_index("code")
    unknown = [int(c) for c in codes if c not in table.index]
    if unknown:
        raise ValidationError(f"habitat: codes {unknown} are not in the unified legend")
    index = np.searchsorted(codes, values)  # one pass: each cell's position among the codes
    index[~np.isin(values, codes)] = -1
    cmap = mcolors.ListedColormap([table.loc[c, "colour"] for c in codes] or ["#ffffff"])
    shown = np.ma.masked_less(index, 0)
    ax.imshow(shown, extent=_extent(habitat), cmap=cmap, vmin=-0.5, vmax=max(len(codes) - 0.5, 0.5),
              interpolation="nearest", alpha=alpha, zorder=3)
    lang = langs[0]
    name_col = f"name_{lang}" if f"name_{lang}" in table.columns else "name_en"
    return [Patch(facecolor=table.loc[c, "colour"], label=f"{table.loc[c, 'iucn_label']} {table.loc[c, name_col]}")
            for c in codes]


def plot_current(ax, current: xr.DataArray, crs, *, alpha=0.75, cmap="magma", floor_percentile=None):
    """Current density with a robust (1st-99.5th percentile) logarithmic colour scale.

    With ``floor_percentile`` only cells above that percentile are drawn, so a habitat map
    underneath stays readable and the channels of high current stand out.
    """
    current = _require_crs(current, crs, "current")
    values = np.asarray(current.values, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        raise ValidationError("current: no positive current to map")
    lo, hi = np.percentile(positive, [floor_percentile or 1, 99.5])
    floor = lo if floor_percentile else 0.0
    norm = mcolors.LogNorm(vmin=max(lo, hi * 1e-6), vmax=hi)
    shown = np.ma.masked_where(~np.isfinite(values) | (values <= floor), values)
    return ax.imshow(shown, extent=_extent(current), cmap=cmap, norm=norm, alpha=alpha,
                     interpolation="nearest", zorder=4)


def plot_corridors(ax, corridors, crs, *, cutoff=None):
    """Corridor links (GeoDataFrame lines) or a normalized least-cost corridor raster."""
    if isinstance(corridors, xr.DataArray):
        corridors = _require_crs(corridors, crs, "corridors")
        values = np.asarray(corridors.values, dtype=float)
        limit = cutoff if cutoff is not None else np.nanpercentile(values, 10)
        shown = np.ma.masked_where(~np.isfinite(values) | (values > limit), values)
        ax.imshow(shown, extent=_extent(corridors), cmap="Greens_r", alpha=0.7,
                  interpolation="nearest", zorder=5)
        return [Patch(facecolor="#41ab5d", label="least-cost corridor (normalized)")]
    links = _require_crs(corridors, crs, "corridors")
    links.plot(ax=ax, color="#006d2c", lw=2.0, zorder=18)
    from matplotlib.lines import Line2D

    return [Line2D([], [], color="#006d2c", lw=2.0, label="least-cost path (corridor link)")]


def plot_options(ax, options: gpd.GeoDataFrame, crs, *, fontsize=8.0, family=None):
    """Draft boundary options as coloured outlines labelled by option id."""
    o = _require_crs(options, crs, "options")
    handles = []
    id_col = "option_id" if "option_id" in o.columns else None
    for i, (_, row) in enumerate(o.iterrows()):
        colour = OPTION_COLOURS[i % len(OPTION_COLOURS)]
        gpd.GeoSeries([row.geometry], crs=crs).boundary.plot(ax=ax, color=colour, lw=1.8, zorder=17)
        label = str(row[id_col]) if id_col else str(i + 1)
        name = row.get("name")
        handles.append(Patch(facecolor="none", edgecolor=colour, lw=1.8,
                             label=f"option {label}" + (f": {name}" if isinstance(name, str) else "")))
    return handles
