"""QGIS styles (QML) for tbpa layers, so deliverables open styled in QGIS.

Vector layers get a categorized renderer by ``iso3`` (countries, sites) or ``option_id``
(boundary options), or a single symbol; the unified habitat raster gets a paletted renderer
with the unified legend's colours and labels; continuous rasters (current, cost) a
pseudocolour ramp stretched between robust percentiles.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import numpy as np
from matplotlib import colors as mcolors

from .._palette import COUNTRY_COLOURS, OPTION_COLOURS, SITE_COLOURS

__all__ = ["vector_qml", "raster_qml"]

_HEADER = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"

def _rgba(colour: str, alpha: float = 1.0) -> str:
    r, g, b, _ = mcolors.to_rgba(colour)
    return f"{int(r * 255)},{int(g * 255)},{int(b * 255)},{int(alpha * 255)}"


def _option(name: str, value) -> str:
    return f'<Option name="{name}" type="QString" value={quoteattr(str(value))}/>'


def _symbol(index: int, geom_type: str, colour: str, *, fill_alpha: float = 0.35) -> str:
    if "Line" in geom_type:
        layer = ('<layer class="SimpleLine" enabled="1" locked="0" pass="0"><Option type="Map">'
                 + _option("line_color", _rgba(colour)) + _option("line_width", "0.8")
                 + _option("line_width_unit", "MM") + "</Option></layer>")
        kind = "line"
    elif "Point" in geom_type:
        layer = ('<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">'
                 + _option("color", _rgba(colour)) + _option("size", "2.4") + _option("name", "circle")
                 + "</Option></layer>")
        kind = "marker"
    else:
        layer = ('<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
                 + _option("color", _rgba(colour, fill_alpha)) + _option("outline_color", _rgba(colour))
                 + _option("outline_width", "0.5") + _option("style", "solid")
                 + "</Option></layer>")
        kind = "fill"
    return f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">{layer}</symbol>'


def vector_qml(gdf, layer_name: str) -> str:
    """QML style for a vector layer (categorized by iso3/option_id where present)."""
    geom_type = str(gdf.geom_type.iloc[0]) if len(gdf) else "Polygon"
    if "option_id" in gdf.columns:
        attr, values = "option_id", sorted(map(str, gdf["option_id"].dropna().unique()))
        palette = {v: OPTION_COLOURS[i % len(OPTION_COLOURS)] for i, v in enumerate(values)}
    elif "iso3" in gdf.columns:
        attr, values = "iso3", sorted(map(str, gdf["iso3"].dropna().unique()))
        table = COUNTRY_COLOURS if layer_name == "countries" else SITE_COLOURS
        palette = {v: table.get(v, "#999999") for v in values}
    else:
        attr, palette = None, {}
    fill_alpha = 1.0 if layer_name == "countries" else 0.35
    if attr is None:
        renderer = (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0"><symbols>'
                    f'{_symbol(0, geom_type, "#006d2c", fill_alpha=fill_alpha)}</symbols></renderer-v2>')
    else:
        cats = "".join(f'<category value={quoteattr(v)} symbol="{i}" label={quoteattr(v)} render="true"/>'
                       for i, v in enumerate(palette))
        syms = "".join(_symbol(i, geom_type, c, fill_alpha=fill_alpha) for i, c in enumerate(palette.values()))
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
                    f'enableorderby="0"><categories>{cats}</categories><symbols>{syms}</symbols>'
                    "</renderer-v2>")
    return f'{_HEADER}<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>\n'


def raster_qml(da, layer_name: str) -> str:
    """QML style for a raster: paletted unified legend for habitat layers (integer rasters whose
    name contains "habitat"), pseudocolour otherwise."""
    values = np.asarray(da.values)
    if "habitat" in layer_name and values.dtype.kind in "iu":
        from ..habitat import legend

        table = legend().set_index("code")
        codes = [int(c) for c in np.unique(values) if c > 0 and c in table.index]
        entries = "".join(
            f'<paletteEntry value="{c}" color="{table.loc[c, "colour"]}" alpha="255" '
            f'label={quoteattr(str(table.loc[c, "iucn_label"]) + " " + str(table.loc[c, "name_en"]))}/>'
            for c in codes)
        renderer = (f'<rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1">'
                    f"<colorPalette>{entries}</colorPalette></rasterrenderer>")
    else:
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values.ravel()
        lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
        hi = hi if hi > lo else lo + 1
        stops = ["#000004", "#51127c", "#b73779", "#fc8961", "#fcfdbf"]
        items = "".join(
            f'<item value="{lo + (hi - lo) * i / (len(stops) - 1):.6g}" color="{c}" alpha="255" '
            f'label="{lo + (hi - lo) * i / (len(stops) - 1):.4g}"/>' for i, c in enumerate(stops))
        renderer = (f'<rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" '
                    f'classificationMin="{lo:.6g}" classificationMax="{hi:.6g}"><rastershader>'
                    f'<colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0">'
                    f"{items}</colorrampshader></rastershader></rasterrenderer>")
    return f'{_HEADER}<qgis version="3.28.0" styleCategories="Symbology"><pipe>{renderer}</pipe></qgis>\n'
