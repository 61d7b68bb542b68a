"""Do observed movements follow the modelled connectivity?

Values of a connectivity surface (current density, or cost / resistance) at observed
locations are compared with values at random locations drawn from the same support: along
the border when crossings are tested, else over the valid cells of the surface. The
statistic is the ROC AUC = U / (n_obs n_random), the Mann-Whitney U statistic normalised:
the probability that an observed location scores better than a random one (0.5 = no better
than chance). With a :func:`tbpa.connectivity.border_flow` table, each observed crossing is
also given the rank of the border segment it falls on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats

from .._grid import GridSpec
from ..errors import EmptySelectionError, TbpaWarning, ValidationError

__all__ = ["validate_connectivity", "ValidationReport"]


@dataclass
class ValidationReport:
    """Result of :func:`validate_connectivity`.

    Attributes
    ----------
    auc : float
        ROC AUC: probability that an observed location scores better than a random one.
    u_statistic, p_value : float
        One-sided Mann-Whitney U test (observed better than random).
    observed_values, random_values : numpy.ndarray
        Surface values used.
    flow_ranks : pandas.DataFrame or None
        Per observed feature: the border-flow segment it falls on, its rank and percentile.
    """

    auc: float
    u_statistic: float
    p_value: float
    higher_is_better: bool
    support: str
    observed_values: np.ndarray
    random_values: np.ndarray
    n_dropped: int = 0
    flow_ranks: pd.DataFrame | None = field(default=None)

    @property
    def table(self) -> pd.DataFrame:
        """Tidy one-row-per-metric table."""
        rows = [
            ("n_observed", len(self.observed_values)), ("n_random", len(self.random_values)),
            ("n_observed_dropped_nodata", self.n_dropped), ("support", self.support),
            ("higher_is_better", self.higher_is_better), ("roc_auc", self.auc),
            ("mann_whitney_u", self.u_statistic), ("p_value_one_sided", self.p_value),
            ("median_observed", float(np.median(self.observed_values))),
            ("median_random", float(np.median(self.random_values))),
        ]
        if self.flow_ranks is not None and len(self.flow_ranks):
            rows.append(("median_border_flow_rank", float(self.flow_ranks["rank"].median())))
            rows.append(("median_border_flow_percentile", float(self.flow_ranks["percentile"].median())))
        return pd.DataFrame(rows, columns=["metric", "value"])

    def __repr__(self) -> str:
        lines = [f"ValidationReport ({self.support}, {len(self.observed_values)} observed vs "
                 f"{len(self.random_values)} random)"]
        lines += [f"  {m:<32} {v}" for m, v in self.table.itertuples(index=False)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)

    def plot(self, ax=None):
        """ROC curve of observed vs random values; returns the figure."""
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(4, 4)) if ax is None else (ax.figure, ax))
        sign = 1.0 if self.higher_is_better else -1.0
        obs, rnd = sign * self.observed_values, sign * self.random_values
        thresholds = np.unique(np.concatenate([obs, rnd]))[::-1]
        tpr = [(obs >= t).mean() for t in thresholds]
        fpr = [(rnd >= t).mean() for t in thresholds]
        ax.plot([0, *fpr, 1], [0, *tpr, 1], label=f"AUC = {self.auc:.2f}")
        ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
        ax.set_xlabel("random locations above threshold")
        ax.set_ylabel("observed locations above threshold")
        ax.legend(loc="lower right")
        return fig


def validate_connectivity(surface, observed, border=None, *, n_random: int = 1000, seed: int = 0,
                          higher_is_better: bool = True, flow: gpd.GeoDataFrame | None = None
                          ) -> ValidationReport:
    """Compare a connectivity surface at observed locations with random locations.

    Parameters
    ----------
    surface : xarray.DataArray
        Current density (``higher_is_better=True``) or cost / resistance
        (``higher_is_better=False``) in a projected CRS.
    observed : GeoDataFrame
        Points (detections, GPS crossing points) or lines (camera border stretches from
        :func:`crossing_segments`); reprojected to the surface CRS. A line scores the mean of
        the cells along it.
    border : GeoDataFrame or GeoSeries, optional
        Draw random locations along these lines (uniform by length; random stretches of the
        observed lengths when ``observed`` holds lines). Without it, random cells of the
        surface's valid area.
    n_random : int
        Number of random locations.
    seed : int
        Seed of the random generator (results are reproducible).
    higher_is_better : bool
        True for current, False for cost or resistance.
    flow : GeoDataFrame, optional
        Output of :func:`tbpa.connectivity.border_flow` (with ``rank``); each observed
        feature gets the rank of the nearest segment.

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> report = validate_connectivity(current, crossings, land.borders)  # doctest: +SKIP
    >>> report.auc  # doctest: +SKIP
    """
    grid = GridSpec.from_dataarray(surface, "surface")
    values = np.asarray(surface.values, dtype=float)
    if observed is None or len(observed) == 0:
        raise EmptySelectionError("validate_connectivity: `observed` is empty")
    if n_random < 10:
        raise ValidationError(f"validate_connectivity: n_random must be >= 10, got {n_random}")
    observed = observed.to_crs(grid.crs)
    obs = observed.geometry.values
    obs_values = np.array([_score(g, grid, values) for g in obs])
    dropped = int(np.isnan(obs_values).sum())
    if dropped:
        warnings.warn(
            f"validate_connectivity: {dropped} observed features fall on nodata or outside the "
            "surface; they are left out of the test",
            TbpaWarning, stacklevel=2,
        )
    obs_values = obs_values[~np.isnan(obs_values)]
    if len(obs_values) == 0:
        raise EmptySelectionError("validate_connectivity: no observed feature falls on valid surface cells")
    rng = np.random.default_rng(seed)
    if border is not None:
        rnd = _random_along_border(border, grid, values, obs, n_random, rng)
        support = "border"
    else:
        rnd = _random_cells(values, n_random, rng)
        support = "landscape"
    sign = 1.0 if higher_is_better else -1.0
    test = stats.mannwhitneyu(sign * obs_values, sign * rnd, alternative="greater")
    auc = float(test.statistic) / (len(obs_values) * len(rnd))
    ranks = _flow_ranks(flow, observed) if flow is not None else None
    return ValidationReport(auc=auc, u_statistic=float(test.statistic), p_value=float(test.pvalue),
                            higher_is_better=higher_is_better, support=support,
                            observed_values=obs_values, random_values=rnd, n_dropped=dropped,
                            flow_ranks=ranks)


def _cell_values(grid: GridSpec, values: np.ndarray, x, y) -> np.ndarray:
    r, c = grid.rowcol(x, y)
    inside = grid.contains(r, c)
    out = np.full(np.shape(x), np.nan)
    out[inside] = values[r[inside], c[inside]]
    return out


def _score(geom, grid: GridSpec, values: np.ndarray) -> float:
    """Value at a point; mean of the cells along a line (sampled every half cell)."""
    if geom.geom_type == "Point":
        return float(_cell_values(grid, values, geom.x, geom.y))
    if geom.length == 0:
        p = shapely.get_coordinates(geom)[0]
        return float(_cell_values(grid, values, p[0], p[1]))
    n = max(2, int(np.ceil(geom.length / (grid.cell_size / 2))) + 1)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(geom, np.linspace(0, geom.length, n)))
    sampled = _cell_values(grid, values, pts[:, 0], pts[:, 1])
    return float(np.nanmean(sampled)) if np.isfinite(sampled).any() else np.nan


def _random_cells(values: np.ndarray, n: int, rng) -> np.ndarray:
    valid = values[np.isfinite(values)]
    if valid.size == 0:
        raise EmptySelectionError("validate_connectivity: `surface` has no valid cells")
    return rng.choice(valid, size=n, replace=True)


def _random_along_border(border, grid, values, obs, n, rng) -> np.ndarray:
    series = border.geometry if isinstance(border, gpd.GeoDataFrame) else gpd.GeoSeries(border)
    lines = series.to_crs(grid.crs).explode(index_parts=False).values
    lines = lines[shapely.length(lines) > 0]
    if len(lines) == 0:
        raise EmptySelectionError("validate_connectivity: `border` has no lines")
    lengths = shapely.length(lines)
    obs_lengths = np.array([g.length if g.geom_type != "Point" else 0.0 for g in obs])
    out = np.empty(0)
    while out.size < n:  # redraw the few samples that land on nodata
        pick = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
        span = rng.choice(obs_lengths, size=n)
        start = rng.uniform(0, np.maximum(lengths[pick] - span, 0))
        geoms = [lines[k].interpolate(s) if L == 0 else shapely.ops.substring(lines[k], s, s + L)
                 for k, s, L in zip(pick, start, span)]
        scores = np.array([_score(g, grid, values) for g in geoms])
        if not np.isfinite(scores).any():
            raise EmptySelectionError("validate_connectivity: the border crosses no valid surface cells")
        out = np.concatenate([out, scores[np.isfinite(scores)]])
    return out[:n]


def _flow_ranks(flow: gpd.GeoDataFrame, observed: gpd.GeoDataFrame) -> pd.DataFrame:
    if "rank" not in flow.columns:
        raise ValidationError("validate_connectivity: `flow` must be the output of border_flow (needs 'rank')")
    flow = flow.to_crs(observed.crs).reset_index(drop=True)
    points = observed.geometry.representative_point() if (observed.geom_type != "Point").any() else observed.geometry
    nearest = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=points.values, crs=observed.crs),
                                flow[["rank", "geometry"]], how="left")
    nearest = nearest[~nearest.index.duplicated(keep="first")]
    out = pd.DataFrame({"segment": nearest["index_right"].to_numpy(), "rank": nearest["rank"].to_numpy()})
    out["percentile"] = 100.0 * (1 - (out["rank"] - 1) / len(flow))
    return out
