"""Habitat: one legend across national land-cover schemes, unified maps, resistance surfaces.

Legend and crosswalks (``legend``, ``crosswalks``)
    legend, colours, iucn_code, schemes, crosswalk, reclassify, latitude_layer
Sea or inland water (``sea``)
    sea_layer
Unified map (``unify``)
    unify, embedded_inputs, load_modis, LANDSCAPES
Comparison and metrics (``agreement``, ``metrics``)
    agreement, AgreementReport, landscape_metrics
Species surfaces (``resistance``)
    resistance, core_areas

Unified codes follow Jung et al. (2020): IUCN class 1.4 -> 104, 14.1 -> 1401, level-1 class
k -> k * 100, and 0 is nodata. See ``docs/methods.md`` ("Unified habitat legend and
crosswalks").
"""

from __future__ import annotations


from .._lazy import lazy_exports

_EXPORTS = {
    "NODATA": "legend",
    "legend": "legend",
    "colours": "legend",
    "iucn_code": "legend",
    "to_level1": "legend",
    "schemes": "crosswalks",
    "crosswalk": "crosswalks",
    "reclassify": "crosswalks",
    "latitude_layer": "crosswalks",
    "sea_layer": "sea",
    "unify": "unify",
    "embedded_inputs": "unify",
    "load_modis": "unify",
    "LANDSCAPES": "unify",
    "agreement": "agreement",
    "AgreementReport": "agreement",
    "landscape_metrics": "metrics",
    "resistance": "resistance",
    "core_areas": "resistance",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
