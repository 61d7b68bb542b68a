"""Score the links of a corridor network and combine the scores transparently.

:func:`score_corridors` describes every least-cost link of a
:class:`~tbpa.connectivity.CorridorNetwork` (cost, length, resistance, current, the width of
its narrowest cross-section, habitat along it, length per country, crossings of roads,
fences and borders) and adds a composite score: each criterion is min-max normalised across
the corridors in its stated direction and the score is the weighted mean of the normalised
values (:func:`minmax_normalise`, :func:`weighted_score`; also used by
:mod:`tbpa.planning.compare`). Conventions are in ``docs/methods.md`` ("Planning").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import shapely
from scipy import ndimage
from tqdm.auto import tqdm

from .._geom import features_to_cells
from .._grid import GridSpec
from ..connectivity.leastcost import _countries_by_iso, _lengths_by_country
from ..crs import require_projected_crs
from ..errors import EmptySelectionError, UnknownNameError, ValidationError, close_matches
from ..options import resolve_progress

__all__ = ["CORRIDOR_CRITERIA", "minmax_normalise", "score_corridors", "weighted_score"]

#: Criteria of the composite corridor score and their direction ("lower" or "higher" is better).
CORRIDOR_CRITERIA = {
    "cwd": "lower",
    "lcp_length_m": "lower",
    "cwd_to_path_length": "lower",
    "effective_resistance": "lower",
    "mean_resistance": "lower",
    "max_resistance": "lower",
    "current_mean": "higher",
    "bottleneck_width_m": "higher",
}
#: Direction of every ``crossings_<layer>`` criterion.
CROSSING_DIRECTION = "lower"


# -- MCDA helpers (shared with compare.py) ---------------------------------------------------
def minmax_normalise(values, direction: str) -> np.ndarray:
    """Min-max normalise *values* to 0..1 with 1 = best in *direction*.

    ``higher``: (x - min) / (max - min); ``lower``: (max - x) / (max - min). When every
    finite value is equal the criterion cannot discriminate and all get 1; NaN stays NaN.

    Examples
    --------
    >>> minmax_normalise([10.0, 20.0, 30.0], "lower").tolist()
    [1.0, 0.5, 0.0]
    """
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    out = np.full(x.shape, np.nan)
    if not finite.any():
        return out
    lo, hi = x[finite].min(), x[finite].max()
    if hi - lo <= 1e-12 * max(abs(hi), abs(lo), 1.0):
        out[finite] = 1.0
        return out
    if direction == "higher":
        out[finite] = (x[finite] - lo) / (hi - lo)
    elif direction == "lower":
        out[finite] = (hi - x[finite]) / (hi - lo)
    else:
        raise ValidationError(f"direction must be 'higher' or 'lower', got {direction!r}")
    return out


def check_weights(weights, valid: dict, what: str) -> dict[str, float]:
    """Validate user weights against the criteria in *valid* (name -> direction).

    None gives every criterion weight 1. Unknown names raise UnknownNameError listing the
    valid criteria; negative, non-finite or all-zero weights raise ValidationError.
    """
    if weights is None:
        return dict.fromkeys(valid, 1.0)
    if not hasattr(weights, "items"):
        raise ValidationError(f"{what}: `weights` must be a dict of criterion -> weight, got {type(weights).__name__}")
    out = {}
    for name, w in weights.items():
        if name not in valid:
            hints = close_matches(str(name), valid)
            hint = f" Did you mean {', '.join(hints)}?" if hints else ""
            raise UnknownNameError(
                f"{what}: {name!r} is not a criterion.{hint} Valid criteria: {', '.join(valid)}")
        w = float(w)
        if not np.isfinite(w) or w < 0:
            raise ValidationError(f"{what}: weight of {name!r} must be a finite number >= 0, got {w!r}")
        out[name] = w
    if not out or sum(out.values()) <= 0:
        raise ValidationError(f"{what}: `weights` must contain at least one positive weight")
    return out


def weighted_score(normalised: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Σ_c w_c n_c / Σ_c w_c over the columns named in *weights* (NaN counts as 0, the worst)."""
    names = list(weights)
    w = np.array([weights[n] for n in names], dtype=float)
    n = normalised[names].fillna(0.0).to_numpy(dtype=float)
    return pd.Series(n @ w / w.sum(), index=normalised.index, name="score")


# -- per-link measurements ------------------------------------------------------------------
def _path_cells(line, grid: GridSpec) -> np.ndarray:
    """Flat indices of the cells of a least-cost path (its vertices are the cell centres)."""
    xy = shapely.get_coordinates(line)
    r, c = grid.rowcol(xy[:, 0], xy[:, 1])
    flat = r * grid.shape[1] + c
    _, first = np.unique(flat, return_index=True)
    return flat[np.sort(first)]  # drop the duplicated vertex of a one-cell path


def habitat_codes(habitat) -> np.ndarray:
    """Habitat codes as int64 with NaN and the raster's nodata value mapped to 0 (nodata)."""
    values = np.asarray(habitat.values, dtype=float)
    nodata = habitat.rio.nodata
    if nodata is not None and np.isfinite(nodata):
        values = np.where(values == nodata, 0.0, values)
    return np.nan_to_num(values, nan=0.0).astype(np.int64)


def _check_grid(da, grid: GridSpec, name: str) -> None:
    grid.require_same(GridSpec.from_dataarray(da, name), ("network", name))


def _on_grid(da, grid: GridSpec, name: str) -> np.ndarray:
    _check_grid(da, grid, name)
    return np.asarray(da.values, dtype=float).ravel()


def bottleneck_width(corridor: np.ndarray, term_a: np.ndarray, term_b: np.ndarray, cell: float) -> float:
    """Diameter (m) of the widest disc that can travel from *term_a* to *term_b* in the corridor.

    The Euclidean distance transform ``d`` gives, for every corridor or terminal cell, the
    distance (in cells) from its centre to the centre of the nearest cell outside (the raster
    edge is not an edge: the corridor may continue beyond it). The bottleneck value ``t*`` is the largest ``t`` such that the
    cells with ``d >= t`` (plus the two terminals, i.e. the cores) still join *term_a* to
    *term_b* 8-connectedly: a max-min (widest) path, found by bisection over the distinct
    values of ``d``. The narrowest cross-section is then ``(2 t* - 1) * cell``: the edge of
    the corridor lies half a cell before the nearest outside centre on either side. A
    corridor k cells wide gives k * cell for odd k and (k - 1) * cell for even k (one cell of
    resolution). NaN when the terminals touch (no corridor between them) or never connect.
    """
    inside = corridor | term_a | term_b
    if inside.all():
        return float("nan")  # nothing outside the corridor: no edge, no width
    if not inside.any():
        return float("nan")
    # Work on the bounding box plus a one-cell ring of outside cells (kept only where the
    # raster goes on): the nearest outside centre of any inside cell is never farther than
    # that ring, and every component lies in the box, so the result equals the full grid's.
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    win = (slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2))
    corridor, term_a, term_b, inside = corridor[win], term_a[win], term_b[win], inside[win]
    d = ndimage.distance_transform_edt(inside)
    eight = np.ones((3, 3), dtype=bool)

    def joined(t: float) -> bool:
        lab, _ = ndimage.label((corridor & (d >= t)) | term_a | term_b, structure=eight)
        a = np.unique(lab[term_a])
        return bool(np.intersect1d(a[a > 0], lab[term_b]).size)

    if joined(np.inf):
        return float("nan")  # the cores touch: no corridor cell separates them
    levels = np.unique(d[corridor & ~term_a & ~term_b])
    if levels.size == 0 or not joined(levels[0]):
        return float("nan")
    lo, hi = 0, levels.size - 1  # invariant: joined(levels[lo]) holds
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if joined(levels[mid]):
            lo = mid
        else:
            hi = mid - 1
    return float((2.0 * levels[lo] - 1.0) * cell)


def _layer_geometry(layer, crs, name: str):
    if isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        require_projected_crs(layer.crs, f"layers[{name!r}]")
        geoms = layer.to_crs(crs).geometry.values if isinstance(layer, gpd.GeoDataFrame) else layer.to_crs(crs).values
        return shapely.union_all(np.asarray(geoms, dtype=object))
    raise ValidationError(
        f"score_corridors: layers[{name!r}] must be a GeoDataFrame or GeoSeries of lines or "
        f"polygons in a projected CRS, got {type(layer).__name__}")


def _crossings(line, geom) -> int:
    """Number of separate pieces of ``line ∩ geom``: crossings of lines, entries into polygons."""
    if geom is None or geom.is_empty or line.is_empty:
        return 0
    inter = shapely.intersection(line, geom)
    if inter.is_empty:
        return 0
    parts = [g for g in shapely.get_parts(inter) if not g.is_empty]
    lines = [g for g in parts if g.geom_type == "LineString"]
    if len(lines) > 1:  # pieces that share an end are one stretch along the feature
        merged = shapely.line_merge(shapely.MultiLineString(lines))
        lines = list(shapely.get_parts(merged))
    points = [g for g in parts if g.geom_type == "Point"
              and not any(ln.distance(g) < 1e-9 for ln in lines)]
    return len(lines) + len(points)


def _codes_column(code) -> str:
    return "share_nodata" if int(code) == 0 else f"share_{int(code)}"


# -- public -----------------------------------------------------------------------------------
def score_corridors(network, *, habitat, current=None, countries=None, layers=None, weights=None,
                    cutoff=None, resistance=None, connect: str = "eight",
                    iso3_column: str = "iso3", progress: bool | None = None) -> gpd.GeoDataFrame:
    """Describe and score every corridor link of a corridor network.

    Parameters
    ----------
    network : CorridorNetwork
        From :func:`tbpa.connectivity.corridor_network`; its least-cost paths (LCP) and its
        cost-distance maps are used, nothing is recomputed except effective resistance.
    habitat : xarray.DataArray
        Unified habitat codes on the network's grid (for ``share_<code>`` along the LCP).
    current : xarray.DataArray, optional
        Current density (A) on the network's grid, e.g. ``cumulative_current`` of
        :func:`tbpa.connectivity.current_map`; adds ``current_mean`` (mean over the LCP
        cells) and ``current_corridor_sum`` (sum over the truncated corridor's cells outside
        the two cores, A x cells).
    countries : GeoDataFrame, optional
        Country polygons with an ISO3 column: adds ``length_m_<ISO3>`` of the LCP.
    layers : dict of str -> GeoDataFrame, optional
        Linear or polygon barriers, e.g. ``{"roads": roads, "fence": fence, "border":
        borders}``: adds ``crossings_<name>``, the number of times the LCP crosses the lines
        (or enters the polygons) of the layer.
    weights : dict, optional
        Criterion -> weight (>= 0) of the composite score; default 1 for every available
        criterion. Criteria: :data:`CORRIDOR_CRITERIA` that could be computed plus
        ``crossings_<name>``.
    cutoff : float, optional
        Width of each corridor in cost units (resistance x m): the cells with
        CWD_a + CWD_b - CWD <= cutoff. Default: the network's own truncation
        (``network.corridors.attrs["cutoff"]``); required if the network is untruncated.
    resistance : xarray.DataArray, optional
        The resistance the network was built on (a CorridorNetwork does not carry it). Adds
        ``effective_resistance`` between the two cores (ohms, Circuitscape pairwise mode with
        the cores as focal regions, :func:`tbpa.connectivity.pairwise_resistance`) and
        ``mean_resistance`` / ``max_resistance`` over the LCP cells.
    connect : {"eight", "four"}
        Circuit graph for the effective resistance (use the network's).
    iso3_column : str
        ISO3 column of *countries*.
    progress : bool, optional
        Progress bar over links.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per link (LCP geometry): ``core_a, core_b, cwd, lcp_length_m,
        cwd_to_path_length`` (from the network), ``n_cells`` of the LCP, ``corridor_area_ha``,
        ``bottleneck_width_m`` (:func:`bottleneck_width`), the optional columns above,
        ``share_<code>`` (fraction of LCP cells per habitat class), ``norm_<criterion>`` (0-1,
        1 best), ``score`` (Σ w n / Σ w) and ``rank`` (1 = best). ``attrs["criteria"]`` is a
        table of criterion, direction and weight.

    Raises
    ------
    UnknownNameError
        A weight names no available criterion (the message lists them).
    GridMismatchError
        A raster is not on the network's grid.
    ValidationError
        No cutoff is known, or a layer is not a GeoDataFrame.

    Examples
    --------
    >>> net = tbpa.connectivity.corridor_network(res, cores, cutoff=5000)  # doctest: +SKIP
    >>> scores = score_corridors(net, habitat=hab, resistance=res,
    ...                          weights={"cwd": 2, "bottleneck_width_m": 1})  # doctest: +SKIP
    """
    links = network.links
    if len(links) == 0:
        raise EmptySelectionError("score_corridors: the network has no links to score")
    grid = GridSpec.from_dataarray(network.corridors, "network.corridors")
    cell = grid.require_square("network.corridors")
    cutoff = _resolve_cutoff(network, cutoff)
    _check_grid(habitat, grid, "habitat")
    hab = habitat_codes(habitat).ravel()  # nodata -> share_nodata
    res = _on_grid(resistance, grid, "resistance") if resistance is not None else None
    cur = _on_grid(current, grid, "current") if current is not None else None
    layer_geoms = {name: _layer_geometry(lay, grid.crs, name) for name, lay in (layers or {}).items()}
    by_iso = _countries_by_iso(countries, grid.crs, iso3_column) if countries is not None else None
    cores = network.cores
    fc = features_to_cells(cores.geometry, grid, "network.cores")
    core_labels = fc.labels.ravel()
    pos = {cid: k + 1 for k, cid in enumerate(fc.ids)}

    rows = []
    for link in tqdm(list(links.itertuples(index=False)), desc="scoring corridors",
                     disable=not resolve_progress(progress)):
        path = _path_cells(link.geometry, grid)
        ta = (core_labels == pos[link.core_a]).reshape(grid.shape)
        tb = (core_labels == pos[link.core_b]).reshape(grid.shape)
        total = network.cwd[link.core_a].values + network.cwd[link.core_b].values - link.cwd
        with np.errstate(invalid="ignore"):
            corridor = np.isfinite(total) & (total <= cutoff + 1e-9 * max(link.cwd, 1.0))
        between = corridor & ~ta & ~tb
        row = {"n_cells": int(path.size), "corridor_area_ha": float(between.sum() * grid.cell_area / 1e4),
               "bottleneck_width_m": bottleneck_width(corridor, ta, tb, cell)}
        if res is not None:
            row["mean_resistance"] = float(np.nanmean(res[path]))
            row["max_resistance"] = float(np.nanmax(res[path]))
        if cur is not None:
            row["current_mean"] = float(np.nanmean(cur[path]))
            row["current_corridor_sum"] = float(np.nansum(cur[between.ravel()]))
        codes, counts = np.unique(hab[path], return_counts=True)
        row.update({_codes_column(c): n / path.size for c, n in zip(codes, counts)})
        if by_iso is not None:
            row.update(_lengths_by_country(link.geometry, by_iso))
        for name, geom in layer_geoms.items():
            row[f"crossings_{name}"] = _crossings(link.geometry, geom)
        rows.append(row)

    base = pd.DataFrame(links.drop(columns="geometry")).reset_index(drop=True)
    table = pd.concat([base, pd.DataFrame(rows)], axis=1)
    share_cols = sorted(c for c in table.columns if c.startswith("share_"))
    table[share_cols] = table[share_cols].fillna(0.0)
    if resistance is not None:
        table["effective_resistance"] = _effective_resistance(resistance, cores, links, connect)
    return _add_score(gpd.GeoDataFrame(table, geometry=list(links.geometry.values), crs=links.crs),
                      weights, list(layer_geoms))


def _resolve_cutoff(network, cutoff) -> float:
    if cutoff is None:
        cutoff = network.corridors.attrs.get("cutoff", "none")
        if isinstance(cutoff, str):
            raise ValidationError(
                "score_corridors: the network's corridors are not truncated (cutoff 'none'), so "
                "a corridor has no edge; pass cutoff=<cost units> (e.g. the max_cwd you used)")
    cutoff = float(cutoff)
    if not cutoff >= 0:
        raise ValidationError(f"score_corridors: `cutoff` must be >= 0 (resistance x m), got {cutoff!r}")
    return cutoff


def _effective_resistance(resistance, cores, links, connect) -> np.ndarray:
    from ..connectivity import pairwise_resistance

    pairs = list(zip(links.core_a, links.core_b))
    matrix = pairwise_resistance(resistance, cores, included_pairs=pairs, connect=connect, progress=False)
    return np.array([float(matrix.loc[a, b]) for a, b in pairs])


def _add_score(table: gpd.GeoDataFrame, weights, layer_names) -> gpd.GeoDataFrame:
    valid = {c: d for c, d in CORRIDOR_CRITERIA.items() if c in table.columns}
    valid.update({f"crossings_{n}": CROSSING_DIRECTION for n in layer_names})
    w = check_weights(weights, valid, "score_corridors")
    for name, direction in valid.items():
        table[f"norm_{name}"] = minmax_normalise(table[name].to_numpy(dtype=float), direction)
    norm = table[[f"norm_{n}" for n in w]].rename(columns=lambda c: c[5:])
    table["score"] = weighted_score(norm, w).to_numpy()
    table["rank"] = table["score"].rank(ascending=False, method="min").astype(int)
    table.attrs["criteria"] = pd.DataFrame(
        [(n, d, w.get(n, 0.0)) for n, d in valid.items()], columns=["criterion", "direction", "weight"])
    return table
