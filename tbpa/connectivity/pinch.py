"""Pinch points inside a least-cost corridor (Linkage Mapper's Pinchpoint Mapper).

Method (McRae 2012, Pinchpoint Mapper; Linkage Mapper ``lm_pinchpoints``):

1. The normalized least-cost corridor between the two cores, ``CWD_a + CWD_b - LCD``, is
   truncated at ``cwd_cutoff`` (cost units: resistance x metres).
2. Resistance is kept only inside that corridor and in the two cores; every other cell
   becomes nodata.
3. Circuitscape runs in pairwise mode with the cores as focal regions (1 A from one core
   to the other): the current map shows where flow is forced through narrow parts of the
   corridor (pinch points), and the solve gives the effective resistance ``R_eff``.
4. ``cwd_to_reff = LCD / R_eff`` is Linkage Mapper's CWD:R_eff ratio.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._grid import GridSpec
from ..errors import ConnectivityError, ValidationError

__all__ = ["pinchpoints"]


def pinchpoints(resistance, a, b, *, cwd_cutoff: float, mode: str = "pairwise",
                connect: str = "eight", solver: str = "auto") -> xr.DataArray:
    """Current through the truncated least-cost corridor between two cores.

    Parameters
    ----------
    resistance : xarray.DataArray
        Resistance raster in a projected metre CRS (NaN = barrier).
    a, b : points or polygons
        The two core areas (focal regions), in the raster's CRS.
    cwd_cutoff : float
        Corridor width: cells whose normalized least-cost corridor value
        (CWD_a + CWD_b - LCD, resistance x metres) exceeds it are excluded.
    mode : {"pairwise"}
        Circuitscape mode between the two cores (Pinchpoint Mapper's pairwise option; with
        two cores its all-to-one option gives the same map).
    connect : {"eight", "four"}
        Neighbourhood for both the cost-distance and the circuit graph.
    solver : {"auto", "direct", "amg"}
        Linear solver of the circuit.

    Returns
    -------
    xarray.DataArray
        Current (A, 1 A between the cores) inside the corridor and cores, NaN elsewhere.
        ``attrs``: ``effective_resistance`` (ohm), ``lcd`` (least-cost distance),
        ``cwd_to_reff`` (LCD / R_eff), ``cwd_cutoff``.

    Raises
    ------
    ConnectivityError
        When the cores are not connected inside the corridor.

    Examples
    --------
    >>> pp = tbpa.connectivity.pinchpoints(res, core_a, core_b, cwd_cutoff=20_000)  # doctest: +SKIP
    >>> pp.attrs["effective_resistance"]  # doctest: +SKIP
    """
    from .._geom import features_to_cells
    from .circuit import current_map
    from .leastcost import least_cost_corridor

    if mode not in ("pairwise", "all_to_one"):
        raise ValidationError(f"pinchpoints: `mode` must be 'pairwise', got {mode!r}")
    if not (cwd_cutoff is not None and np.isfinite(cwd_cutoff) and cwd_cutoff >= 0):
        raise ValidationError(f"pinchpoints: `cwd_cutoff` must be a cost >= 0, got {cwd_cutoff!r}")
    grid = GridSpec.from_dataarray(resistance, "resistance")
    corridor = least_cost_corridor(resistance, a, b, cutoff=float(cwd_cutoff), connect=connect)
    lcd = float(corridor.attrs["lcd"])
    if not np.isfinite(lcd):
        raise ConnectivityError("pinchpoints: `b` cannot be reached from `a` (no corridor)")
    in_a = features_to_cells(a, grid, "a").labels > 0
    in_b = features_to_cells(b, grid, "b").labels > 0
    if (in_a & in_b).any():
        raise ValidationError("pinchpoints: cores `a` and `b` overlap; pass two distinct cores")
    values = np.asarray(resistance.values, dtype=np.float64).copy()
    nod = resistance.rio.nodata
    if nod is not None and np.isfinite(nod):
        values[values == nod] = np.nan
    keep = np.isfinite(corridor.values) | in_a | in_b
    restricted = np.where(keep, values, np.nan)
    labels = np.zeros(grid.shape, dtype=np.float64)
    labels[in_a] = 1
    labels[in_b] = 2
    labels[~np.isfinite(restricted)] = 0  # focal cells on nodata are not nodes
    # the grid was checked above and only values come back: the solver takes the array
    ds = current_map(restricted, labels, mode="pairwise", connect=connect, solver=solver)
    reff = float(ds["resistance"].values[0, 1])
    if not np.isfinite(reff):
        raise ConnectivityError(
            "pinchpoints: the cores are not connected inside the corridor; raise `cwd_cutoff`"
        )
    cur = np.asarray(ds["cumulative_current"].values, dtype=np.float64)
    cur = np.where(keep & np.isfinite(values), cur, np.nan)
    out = resistance.copy(data=cur)
    out.name = "pinchpoint_current"
    out.attrs = {
        "units": "A", "effective_resistance": reff, "lcd": lcd,
        "cwd_to_reff": lcd / reff if reff > 0 else np.inf, "cwd_cutoff": float(cwd_cutoff),
        "method": "Pinchpoint Mapper: pairwise Circuitscape in the truncated least-cost corridor",
    }
    return out

