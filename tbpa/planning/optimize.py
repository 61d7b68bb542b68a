"""Boundary proposals as an exact integer linear programme (prioritizr-style, HiGHS).

Decision: x_i in {0, 1} selects planning unit i. Objective (minimised)::

    sum_i c_i x_i                                  planning cost
  + BLM * ( sum_i p_i x_i - 2 sum_{i<j} b_ij y_ij ) boundary length of the selection
  - w_conn * sum_i k_i x_i                          connectivity reward (current captured)

with p_i the perimeter of unit i, b_ij the length shared by units i and j, and
0 <= y_ij <= x_i, y_ij <= x_j (so y_ij = x_i x_j at the optimum: the linearisation of
prioritizr's boundary penalty; y need not be integer). Constraints::

    sum_i a_fi x_i >= T_f                 for every target f (e.g. ha of a habitat class)
    sum_{i in c} A_i x_i >= s_c sum_i A_i x_i   for every country c with a minimum share s_c
    x_i = 1 (locked in),  x_i = 0 (locked out)

Solved with HiGHS through :func:`scipy.optimize.milp` (branch and bound; the reported gap is
HiGHS's relative MIP gap, 0 when proven optimal).
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from ..crs import require_projected_crs
from ..errors import DataError, EmptySelectionError, InfeasibleError, ValidationError
from .units import shared_edges

__all__ = ["optimize_boundary"]


def _per_unit(units, value, name, *, default=None) -> np.ndarray:
    if value is None:
        if default is None:
            raise ValidationError(f"optimize_boundary: `{name}` is required")
        return np.full(len(units), float(default))
    if isinstance(value, str):
        if value not in units.columns:
            raise ValidationError(f"optimize_boundary: `{name}` names column {value!r}, which `units` lacks")
        arr = units[value].to_numpy(dtype=float)
    else:
        arr = np.asarray(value, dtype=float)
    if arr.shape != (len(units),):
        raise ValidationError(f"optimize_boundary: `{name}` must have one value per unit ({len(units)}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataError(f"optimize_boundary: `{name}` has missing or infinite values; fill them first")
    return arr


def _unit_mask(units, spec, name) -> np.ndarray:
    if spec is None:
        return np.zeros(len(units), dtype=bool)
    if isinstance(spec, str):
        if spec not in units.columns:
            raise ValidationError(f"optimize_boundary: `{name}` names column {spec!r}, which `units` lacks")
        return units[spec].fillna(False).to_numpy(dtype=bool)
    ids = set(spec)
    unknown = ids - set(units["unit_id"])
    if unknown:
        raise ValidationError(f"optimize_boundary: `{name}` has unit ids not in `units`: {sorted(unknown)[:5]}")
    return units["unit_id"].isin(ids).to_numpy()


def _check_targets(units, targets, allowed) -> dict[str, np.ndarray]:
    if not targets:
        raise ValidationError("optimize_boundary: `targets` is empty; give at least one {column: amount}")
    amounts = {}
    for feature, target in targets.items():
        if feature not in units.columns:
            raise ValidationError(f"optimize_boundary: target {feature!r} is not a column of `units`")
        a = units[feature].fillna(0).to_numpy(dtype=float)
        reachable = a[allowed].sum()
        if reachable < target:
            raise InfeasibleError(
                f"optimize_boundary: target {feature!r} = {target:g} cannot be met: all units that are not "
                f"locked out hold only {reachable:g}; lower the target or unlock units"
            )
        amounts[feature] = a
    return amounts


def optimize_boundary(units: gpd.GeoDataFrame, *, targets: dict, cost, blm: float = 0.0,
                      country_balance: dict | None = None, connectivity=None,
                      connectivity_weight: float = 1.0, locked_in=None, locked_out=None,
                      time_limit_s: float = 60, gap: float = 0.0) -> gpd.GeoDataFrame:
    """Propose a boundary: the cheapest compact set of planning units meeting the targets.

    Parameters
    ----------
    units : GeoDataFrame
        Planning units (:func:`planning_units`) in a projected CRS with ``unit_id`` and one
        column per feature (e.g. ``ha_504`` = hectares of class 5.4), optional ``iso3``.
    targets : dict
        Feature column -> minimum total amount (in that column's units).
    cost : str or array
        Column name or per-unit costs (e.g. area, human pressure, opportunity cost).
    blm : float
        Boundary length modifier: objective units per metre of boundary.
    country_balance : dict, optional
        ISO3 -> minimum share (0-1) of the selected area inside that country (needs ``iso3``).
    connectivity : str or array, optional
        Per-unit connectivity value (e.g. mean current); selecting unit i lowers the objective
        by ``connectivity_weight * value_i``.
    locked_in, locked_out : list of unit ids or boolean column name, optional
    time_limit_s : float
        HiGHS time limit in seconds; the best solution found is returned with its gap.
    gap : float
        Relative optimality gap at which HiGHS may stop (0 = prove optimality).

    Returns
    -------
    geopandas.GeoDataFrame
        One row: the dissolved boundary with ``n_units, area_ha, cost, boundary_length_m,
        objective, gap, status, solve_time_s`` and ``area_ha_<ISO3>``. ``attrs`` holds
        ``selected_unit_ids`` and ``targets`` (records: feature, target, achieved, met).

    Raises
    ------
    InfeasibleError
        Naming the unmet target, or the country balance that cannot hold.

    Examples
    --------
    >>> units = planning_units(aoi, 1000)  # doctest: +SKIP
    >>> proposal = optimize_boundary(units, targets={"ha_504": 2000}, cost="area_ha", blm=0.01)  # doctest: +SKIP
    """
    require_projected_crs(units.crs, "units")
    if len(units) == 0:
        raise EmptySelectionError("optimize_boundary: `units` is empty")
    if "unit_id" not in units.columns:
        raise ValidationError("optimize_boundary: `units` needs a 'unit_id' column (see planning_units)")
    if blm < 0:
        raise ValidationError(f"optimize_boundary: blm must be >= 0, got {blm}")
    units = units.reset_index(drop=True)
    n = len(units)
    c_cost = _per_unit(units, cost, "cost")
    lock_in, lock_out = _unit_mask(units, locked_in, "locked_in"), _unit_mask(units, locked_out, "locked_out")
    if (lock_in & lock_out).any():
        raise ValidationError("optimize_boundary: some units are both locked in and locked out")
    amounts = _check_targets(units, targets, ~lock_out)
    area = units.geometry.area.to_numpy()
    perimeter = units.geometry.length.to_numpy()
    edges = shared_edges(units) if blm > 0 else pd.DataFrame({"i": [], "j": [], "length_m": []})
    m = len(edges)
    conn = _per_unit(units, connectivity, "connectivity", default=0.0)
    # variables: x (n binaries) then y (m continuous edge indicators)
    c = np.concatenate([c_cost + blm * perimeter - connectivity_weight * conn,
                        -2.0 * blm * edges["length_m"].to_numpy()])
    rows, lo = [], []
    for feature, target in targets.items():
        rows.append(sparse.csr_matrix(np.concatenate([amounts[feature], np.zeros(m)])[None, :]))
        lo.append(float(target))
    for iso3, share in (country_balance or {}).items():
        if "iso3" not in units.columns:
            raise ValidationError("optimize_boundary: country_balance needs an 'iso3' column on `units`")
        inside = (units["iso3"] == iso3).to_numpy()
        rows.append(sparse.csr_matrix(np.concatenate([area * (inside - share), np.zeros(m)])[None, :]))
        lo.append(0.0)
    constraints = [LinearConstraint(sparse.vstack(rows), lo, np.inf)]
    if m:
        i, j = edges["i"].to_numpy(), edges["j"].to_numpy()
        k = np.arange(m)
        # y_k - x_i <= 0 and y_k - x_j <= 0
        a = sparse.csr_matrix((np.r_[np.ones(m), -np.ones(m), np.ones(m), -np.ones(m)],
                               (np.r_[k, k, m + k, m + k], np.r_[n + k, i, n + k, j])), shape=(2 * m, n + m))
        constraints.append(LinearConstraint(a, -np.inf, 0.0))
    lower = np.r_[lock_in.astype(float), np.zeros(m)]
    upper = np.r_[np.where(lock_out, 0.0, 1.0), np.ones(m)]
    integrality = np.r_[np.ones(n), np.zeros(m)]
    start = time.perf_counter()
    res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(lower, upper),
               options={"time_limit": float(time_limit_s), "mip_rel_gap": float(gap), "disp": False})
    elapsed = time.perf_counter() - start
    if res.x is None:
        raise InfeasibleError(
            f"optimize_boundary: no feasible selection ({res.message}); with the targets met, the "
            f"country balance {country_balance} or the locked units cannot all hold: relax them"
        )
    x = res.x[:n] > 0.5
    return _result(units, x, area, amounts, targets, c_cost, blm, res, elapsed, gap)


def _result(units, x, area, amounts, targets, c_cost, blm, res, elapsed, gap):
    sel = units[x]
    boundary = sel.geometry.union_all()
    row = {
        "n_units": int(x.sum()), "area_ha": float(area[x].sum() / 1e4),
        "cost": float(c_cost[x].sum()), "boundary_length_m": float(boundary.length),
        "blm": blm, "objective": float(res.fun),
        "gap": float(getattr(res, "mip_gap", 0.0) or 0.0),
        "status": ("time limit (best found)" if res.status != 0
                   else "optimal" if gap == 0 else f"optimal within gap {gap:g}"),
        "solve_time_s": elapsed,
    }
    if "iso3" in units.columns:
        for iso3, a in pd.Series(area[x]).groupby(sel["iso3"].to_numpy()).sum().items():
            row[f"area_ha_{iso3}"] = float(a / 1e4)
    out = gpd.GeoDataFrame([row], geometry=[boundary], crs=units.crs)
    out.attrs["selected_unit_ids"] = sel["unit_id"].tolist()
    out.attrs["targets"] = [{"feature": f, "target": float(t), "achieved": float(amounts[f][x].sum()),
                             "met": bool(amounts[f][x].sum() >= t - 1e-6)} for f, t in targets.items()]
    return out
