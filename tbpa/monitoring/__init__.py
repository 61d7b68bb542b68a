"""Monitoring data across borders: camera traps, genetics and GPS.

Partners exchange detection tables; tbpa reads them (generic tables, Camtrap DP packages,
Movebank CSV), merges individuals identified on both sides, finds who crossed the border and
where, and tests whether modelled connectivity predicts the observed crossings.

Functions
---------
read_detections
    Detections or GPS fixes -> GeoDataFrame in the standard detection schema.
harmonize_individuals
    Merge partners' tables with a match table of local ids.
transborder_individuals, summarize_transborder
    Per-individual countries, dates, crossings, MCP areas; per-species summary.
crossing_segments
    Where crossings happened on the border line.
validate_connectivity, ValidationReport
    Observed vs random locations: ROC AUC, Mann-Whitney U, border-flow ranks.
sampling_effort
    Trap-days per station and per country.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "read_detections": "readers",
    "DETECTION_COLUMNS": "readers",
    "harmonize_individuals": "individuals",
    "transborder_individuals": "individuals",
    "summarize_transborder": "individuals",
    "crossing_segments": "crossings",
    "validate_connectivity": "validation",
    "ValidationReport": "validation",
    "sampling_effort": "effort",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
