"""Multilingual maps: the unified TBPA map and single-theme maps.

Functions return matplotlib Figures and accept ``ax=`` to draw into an existing axes.

unified_map, habitat_map, current_map, corridor_map, boundary_options_map
    Maps of a :class:`tbpa.sites.Landscape` with optional layers.
save_figure
    Atomic PNG / PDF / SVG output at 300 dpi.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "unified_map": "unified",
    "habitat_map": "unified",
    "current_map": "unified",
    "corridor_map": "unified",
    "boundary_options_map": "unified",
    "save_figure": "unified",
    "PAGES": "unified",
    "resolve_languages": "_fonts",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
