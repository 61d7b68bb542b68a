"""Connectivity engine: least-cost and circuit theory, patch-graph metrics.

Least-cost (``leastcost``, ``corridors``)
    cost_distance, least_cost_path, least_cost_corridor, corridor_network, barrier_improvement
Graph metrics (``graph``, ``protconn``)
    patch_graph, probability_of_connectivity, integral_index_of_connectivity, protconn
Circuit theory (``circuit``, ``pinch``, ``moving_window``, ``border``)
    pairwise_resistance, current_map, advanced, pinchpoints, omniscape (Condition), border_flow

Conventions (cost of a step, Circuitscape graph) are in ``docs/methods.md``.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "cost_distance": "leastcost",
    "least_cost_path": "leastcost",
    "least_cost_corridor": "leastcost",
    "corridor_network": "corridors",
    "CorridorNetwork": "corridors",
    "barrier_improvement": "corridors",
    "patch_graph": "graph",
    "probability_of_connectivity": "graph",
    "integral_index_of_connectivity": "graph",
    "protconn": "protconn",
    "pairwise_resistance": "circuit",
    "current_map": "circuit",
    "advanced": "circuit",
    "pinchpoints": "pinch",
    "omniscape": "moving_window",
    "Condition": "moving_window",
    "border_flow": "border",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
