"""Display colours shared by the matplotlib maps and the QGIS styles of data packages,
so a layer looks the same in a PNG, a PDF and QGIS."""

from __future__ import annotations

__all__ = ["COUNTRY_COLOURS", "SITE_COLOURS", "OPTION_COLOURS"]

#: Pastel country fills by ISO3.
COUNTRY_COLOURS = {
    "CHN": "#f6e3d4", "RUS": "#dde6f1", "MNG": "#e8efd6", "PRK": "#f1ead3", "KOR": "#eadcf0",
    "JPN": "#f0dada", "KAZ": "#e2eee9",
}
#: Protected-area outlines by ISO3 of the designating country.
SITE_COLOURS = {"CHN": "#b2182b", "RUS": "#2166ac", "MNG": "#4d9221", "PRK": "#8c510a", "KOR": "#762a83"}
#: Draft boundary options, in option order.
OPTION_COLOURS = ["#e41a1c", "#377eb8", "#ff7f00", "#984ea3", "#4daf4a", "#a65628"]
