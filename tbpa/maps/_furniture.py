"""Map furniture in a projected CRS: scale bar, north arrow, graticule, inset, title block."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrow, Rectangle
from pyproj import CRS, Transformer

__all__ = ["scale_bar", "north_arrow", "graticule", "inset_locator", "title_block"]


def _nice_length(max_m: float) -> float:
    """Largest 1-2-5 x 10^k length not exceeding *max_m*."""
    exp = 10 ** np.floor(np.log10(max_m))
    for mult in (5, 2, 1):
        if mult * exp <= max_m:
            return float(mult * exp)
    return float(exp)


def scale_bar(ax, *, fontsize: float = 7) -> float:
    """Draw a 4-part km scale bar in the lower left; returns its length in metres.

    The map CRS is an equal-area projection centred on the landscape, so distances are true
    at the centre and within a fraction of a percent across a landscape-sized map.
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length((x1 - x0) / 4)
    height = (y1 - y0) * 0.012
    bx, by = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, height,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", lw=0.6, zorder=20))
    for frac in (0, 0.5, 1):
        ax.text(bx + frac * length, by + height * 1.6, f"{frac * length / 1000:g}",
                ha="center", va="bottom", fontsize=fontsize, zorder=20)
    ax.text(bx + length + (x1 - x0) * 0.01, by + height / 2, "km", va="center", fontsize=fontsize, zorder=20)
    return length


def north_arrow(ax, crs, *, fontsize: float = 9) -> None:
    """Arrow to true north at the upper right of the map (north varies across LAEA maps)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x1 - (x1 - x0) * 0.06, y1 - (y1 - y0) * 0.16
    to_geo = Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_geo.transform(x, y)
    nx, ny = to_map.transform(lon, lat + 0.05)
    d = np.array([nx - x, ny - y])
    d = d / np.hypot(*d) * (y1 - y0) * 0.08
    ax.add_patch(FancyArrow(x, y, d[0], d[1], width=(x1 - x0) * 0.006, head_width=(x1 - x0) * 0.02,
                            head_length=(y1 - y0) * 0.03, length_includes_head=True,
                            color="black", zorder=20))
    ax.text(x + d[0] * 1.25, y + d[1] * 1.25, "N", ha="center", va="center", fontsize=fontsize,
            fontweight="bold", zorder=20)


def _degree_label(value: float, positive: str, negative: str) -> str:
    hemi = positive if value >= 0 else negative
    v = abs(value)
    return f"{v:.0f}°{hemi}" if float(v).is_integer() else f"{v:.1f}°{hemi}"


def graticule(ax, crs, *, fontsize: float = 6.5, color: str = "#8c8c8c") -> None:
    """Lines of longitude and latitude with degree labels on the bottom and left edges."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    to_geo = Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 25), np.linspace(y0, y1, 25))
    lon, lat = to_geo.transform(gx, gy)
    span = max(np.nanmax(lon) - np.nanmin(lon), np.nanmax(lat) - np.nanmin(lat))
    step = next(s for s in (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10) if span / s <= 7)
    lons = np.arange(np.floor(np.nanmin(lon) / step) * step, np.nanmax(lon) + step, step)
    lats = np.arange(np.floor(np.nanmin(lat) / step) * step, np.nanmax(lat) + step, step)
    t = np.linspace(np.nanmin(lat) - step, np.nanmax(lat) + step, 200)
    for lo in lons:
        mx, my = to_map.transform(np.full_like(t, lo), t)
        ax.plot(mx, my, color=color, lw=0.4, ls=":", zorder=15)
        _edge_label(ax, mx, my, y0, axis="bottom", text=_degree_label(lo, "E", "W"), fontsize=fontsize)
    t = np.linspace(np.nanmin(lon) - step, np.nanmax(lon) + step, 200)
    for la in lats:
        mx, my = to_map.transform(t, np.full_like(t, la))
        ax.plot(mx, my, color=color, lw=0.4, ls=":", zorder=15)
        _edge_label(ax, mx, my, x0, axis="left", text=_degree_label(la, "N", "S"), fontsize=fontsize)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _edge_label(ax, mx, my, edge, *, axis, text, fontsize):
    """Label a graticule line where it crosses the bottom (y = edge) or left (x = edge) frame."""
    along, across = (mx, my) if axis == "bottom" else (my, mx)
    sign = np.sign(across - edge)
    idx = np.flatnonzero(np.diff(sign) != 0)
    if not len(idx):
        return
    i = idx[0]
    f = (edge - across[i]) / (across[i + 1] - across[i])
    pos = along[i] + f * (along[i + 1] - along[i])
    lo, hi = ax.get_xlim() if axis == "bottom" else ax.get_ylim()
    if not lo < pos < hi:
        return
    if axis == "bottom":
        ax.annotate(text, (pos, edge), xytext=(0, -3), textcoords="offset points", ha="center",
                    va="top", fontsize=fontsize, annotation_clip=False)
    else:
        ax.annotate(text, (edge, pos), xytext=(-3, 0), textcoords="offset points", ha="right",
                    va="center", fontsize=fontsize, rotation=90, annotation_clip=False)


def inset_locator(ax, countries, extent_geom, crs) -> None:
    """Small map of North-East Asia with the map extent outlined in red."""
    region_crs = CRS.from_proj4("+proj=laea +lat_0=47 +lon_0=115 +datum=WGS84 +units=m +no_defs")
    countries.to_crs(region_crs).plot(ax=ax, facecolor="#ececec", edgecolor="#7f7f7f", lw=0.3)
    import geopandas as gpd

    gpd.GeoSeries([extent_geom], crs=crs).to_crs(region_crs).plot(
        ax=ax, facecolor="none", edgecolor="#d62728", lw=1.2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("North-East Asia", fontsize=6.5, pad=2)


def title_block(ax, *, title: str, subtitle: str, sources: str, notice: str | None,
                footer: str, fontsize: float = 8, family=None) -> None:
    """Title, sources and (where schematic geometry is shown) a boxed notice."""
    ax.set_axis_off()
    kw = {"family": family} if family else {}
    # title and notice are English: the default font has a bold face (CJK fonts here do not)
    head = ax.text(0.0, 0.98, title, fontsize=fontsize * 1.7, fontweight="bold", va="top")
    ax.text(0.0, 0.62, subtitle, fontsize=fontsize * 1.05, va="top", **kw)
    ax.text(0.0, 0.30, sources, fontsize=fontsize * 0.8, va="top", wrap=True, **kw)
    ax.text(1.0, 0.02, footer, fontsize=fontsize * 0.7, ha="right", va="bottom", color="#555555")
    if notice:
        box = ax.text(1.0, 0.98, notice, fontsize=fontsize * 0.95, ha="right", va="top",
                      color="#8b0000", fontweight="bold",
                      bbox={"boxstyle": "round,pad=0.4", "fc": "#fff3f3", "ec": "#8b0000"})
        _fit_left_of(head, box, min_size=fontsize * 1.05)


def _fit_left_of(text, obstacle, *, min_size: float, gap_px: float = 12.0) -> None:
    """Shrink *text* (then wrap it in two lines) until it ends left of *obstacle*.

    A long title must never run under the schematic-boundaries notice: both are read by
    the people the map is handed to.
    """
    fig = text.figure
    renderer = fig.canvas.get_renderer()
    limit = obstacle.get_window_extent(renderer).x0 - gap_px

    def fits() -> bool:
        return text.get_window_extent(renderer).x1 <= limit

    size = text.get_fontsize()
    while not fits() and size * 0.92 >= min_size:
        size *= 0.92
        text.set_fontsize(size)
    if fits():
        return
    words = text.get_text().split()
    for cut in range(len(words) - 1, 0, -1):  # the latest break whose first line fits
        text.set_text(" ".join(words[:cut]) + "\n" + " ".join(words[cut:]))
        if fits():
            break
    else:
        text.set_text(" ".join(words))
    text.set_va("top")
