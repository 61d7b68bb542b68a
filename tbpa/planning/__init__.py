"""Planning: score corridors, compare draft TBPA boundaries, propose optimised boundaries.

score_corridors (``scoring``)
    One row per corridor of a :class:`~tbpa.connectivity.CorridorNetwork` with a transparent
    composite score.
compare_boundaries, BoundaryComparison (``compare``)
    Metrics per draft boundary option; rank, sensitivity, Pareto front, plot.
planning_units, optimize_boundary (``units``, ``optimize``)
    Hexagonal/square planning units and an exact integer-programme boundary proposal
    (HiGHS through scipy.optimize.milp), in the manner of prioritizr.
joint_species_list (``species_list``)
    Merge national checklists by scientific name (with synonyms).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "score_corridors": "scoring",
    "compare_boundaries": "compare",
    "BoundaryComparison": "compare",
    "BoundaryContext": "compare",
    "planning_units": "units",
    "optimize_boundary": "optimize",
    "joint_species_list": "species_list",
    "load_checklists": "species_list",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
