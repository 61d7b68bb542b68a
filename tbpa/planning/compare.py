"""Compare draft boundaries of a transboundary protected area.

:func:`compare_boundaries` measures every option (area and its split between countries,
habitat and wetland area, suitability-weighted habitat per species, existing protected areas
included, the change in landscape connectivity -- ΔProtConn and ΔPC -- when the option is
added as one protected area, current captured, human pressure, shape and border length) and
returns a :class:`BoundaryComparison` that ranks the options by a transparent weighted sum of
min-max normalised metrics, tests the ranking's stability under random weights and finds the
Pareto front. Definitions are in the docstrings and in ``docs/methods.md`` ("Planning").
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import shapely
import xarray as xr
from rasterio import features as rio_features
from tqdm.auto import tqdm

from .._grid import GridSpec
from ..crs import require_projected_crs
from ..errors import (
    CRSError,
    EmptySelectionError,
    TbpaWarning,
    ValidationError,
)
from ..options import resolve_progress
from .scoring import check_weights, habitat_codes, minmax_normalise, weighted_score

__all__ = ["WETLAND_LEVEL1", "BoundaryComparison", "BoundaryContext", "compare_boundaries"]

#: Level-1 classes of the unified legend counted as wetland (Ramsar: inland wetlands 5,
#: marine intertidal 12, marine coastal/supratidal 13, artificial aquatic 15).
WETLAND_LEVEL1 = (5, 12, 13, 15)
_DIRECTIONS = ("higher", "lower", "none")


# ----------------------------------------------------------------------------------------------
# context
# ----------------------------------------------------------------------------------------------
@dataclass
class BoundaryContext:
    """The landscape layers every boundary option is measured against.

    Attributes
    ----------
    countries : GeoDataFrame
        Country polygons with an ISO3 column (``iso3_column``), projected metre CRS.
    habitat : xarray.DataArray
        Unified habitat codes (IUCN level 2, 0 = nodata) in a projected metre CRS. Its CRS
        is the analysis CRS: every other layer and the options are reprojected to it.
    species : sequence of str or SpeciesProfile
        Species whose suitability-weighted habitat area is reported.
    existing_pas : GeoDataFrame, optional
        Existing protected areas (for the share included and the connectivity baseline).
    current : xarray.DataArray, optional
        Current density (A), e.g. ``cumulative_current`` of
        :func:`tbpa.connectivity.current_map`.
    pressure : dict of str -> GeoDataFrame or DataArray
        Extra human-pressure layers (roads, ports, logistics zones ...). Lines count their
        length inside an option (m), polygons their area (ha), points their number; a
        raster counts the area (ha) of its non-zero cells. Built-up land and cropland are
        always taken from the habitat classes ``builtup_classes`` and ``cropland_classes``.
    borders : GeoDataFrame, optional
        International border lines (e.g. ``Landscape.borders``).
    dispersal_m, p : float
        Distance (m) at which the dispersal probability is *p*, for PC and ProtConn.
    transboundary_m : float
        ProtConn stepping-stone distance (m).
    landscape : shapely geometry, optional
        The landscape region (default: the union of the countries); ProtConn is computed for
        this region and PC counts protected area inside it.
    landscape_area : float, optional
        A_L of PC in m² (default: the area of *landscape*).
    builtup_classes, cropland_classes : tuple of int
        Habitat codes counted as built-up (1405, IUCN 14.5 urban) and cropland (1401, 14.1
        arable land).
    iso3_column : str
        ISO3 column of *countries*.
    """

    countries: gpd.GeoDataFrame
    habitat: xr.DataArray
    species: Sequence = ()
    existing_pas: gpd.GeoDataFrame | None = None
    current: xr.DataArray | None = None
    pressure: Mapping = field(default_factory=dict)
    borders: gpd.GeoDataFrame | None = None
    dispersal_m: float = 10_000.0
    p: float = 0.5
    transboundary_m: float = 50_000.0
    landscape: object = None
    landscape_area: float | None = None
    builtup_classes: tuple = (1405,)
    cropland_classes: tuple = (1401,)
    iso3_column: str = "iso3"

    @classmethod
    def from_landscape(cls, landscape, *, habitat, species=(), current=None, pressure=None,
                       **kwargs) -> BoundaryContext:
        """Context of an embedded :class:`tbpa.sites.Landscape`: its countries, sites as
        existing PAs, borders and AOI as the landscape region.

        Examples
        --------
        >>> land = tbpa.sites.load_landscape("tumen_estuary")  # doctest: +SKIP
        >>> ctx = BoundaryContext.from_landscape(land, habitat=hab, species=["hooded_crane"])  # doctest: +SKIP
        """
        return cls(countries=landscape.countries, habitat=habitat, species=list(species),
                   existing_pas=landscape.sites, current=current, pressure=dict(pressure or {}),
                   borders=landscape.borders, landscape=landscape.aoi, **kwargs)


@dataclass
class _Prepared:
    """The context validated and reprojected to the analysis CRS."""

    crs: object
    countries: pd.Series  # iso3 -> geometry
    region: object
    landscape_area: float
    habitat: np.ndarray
    hgrid: GridSpec
    profiles: list
    pas: object  # union of existing PAs or None
    pa_geoms: np.ndarray
    current: tuple | None
    pressure: dict
    borders: object
    dispersal_m: float
    p: float
    transboundary_m: float
    builtup: tuple
    cropland: tuple


def _vector(gdf, crs, name):
    if gdf is None:
        return None
    if not isinstance(gdf, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise ValidationError(f"compare_boundaries: `context.{name}` must be a GeoDataFrame, got {type(gdf).__name__}")
    require_projected_crs(gdf.crs, f"context.{name}")
    return gdf.to_crs(crs)


def _prepare(ctx: BoundaryContext) -> _Prepared:
    from ..species import SpeciesProfile, load

    if not isinstance(ctx, BoundaryContext):
        raise ValidationError(f"compare_boundaries: `context` must be a BoundaryContext, got {type(ctx).__name__}")
    hgrid = GridSpec.from_dataarray(ctx.habitat, "context.habitat")
    crs = hgrid.crs
    countries = _vector(ctx.countries, crs, "countries")
    if countries is None or len(countries) == 0:
        raise EmptySelectionError("compare_boundaries: `context.countries` is empty")
    if ctx.iso3_column not in countries.columns:
        raise ValidationError(f"compare_boundaries: `context.countries` has no {ctx.iso3_column!r} column")
    by_iso = countries.geometry.groupby(countries[ctx.iso3_column].astype(str)).agg(
        lambda g: shapely.union_all(shapely.make_valid(np.asarray(g.values, dtype=object))))
    region = ctx.landscape
    if region is None:
        region = shapely.union_all(list(by_iso.values))
    elif isinstance(region, (gpd.GeoDataFrame, gpd.GeoSeries)):
        region = _vector(region, crs, "landscape").union_all()
    area = float(ctx.landscape_area) if ctx.landscape_area is not None else float(region.area)
    if not area > 0:
        raise ValidationError(f"compare_boundaries: landscape area must be > 0 m², got {area!r}")
    pas = _vector(ctx.existing_pas, crs, "existing_pas")
    pa_geoms = np.asarray(pas.geometry.values, dtype=object) if pas is not None and len(pas) else np.empty(0, object)
    current = None
    if ctx.current is not None:
        cgrid = GridSpec.from_dataarray(ctx.current, "context.current")
        if cgrid.crs != crs:
            raise CRSError("compare_boundaries: `context.current` must be in the habitat's CRS; "
                           "align it with current.rio.reproject_match(habitat)")
        current = (np.asarray(ctx.current.values, dtype=float), cgrid)
    pressure = {}
    for name, layer in dict(ctx.pressure or {}).items():
        if isinstance(layer, xr.DataArray):
            g = GridSpec.from_dataarray(layer, f"context.pressure[{name!r}]")
            if g.crs != crs:
                raise CRSError(f"compare_boundaries: `context.pressure[{name!r}]` must be in the habitat's CRS")
            pressure[name] = (np.nan_to_num(np.asarray(layer.values, dtype=float)) != 0, g)
        else:
            pressure[name] = _vector(layer, crs, f"pressure[{name!r}]")
    borders = _vector(ctx.borders, crs, "borders")
    profiles = [s if isinstance(s, SpeciesProfile) else load(s) for s in (ctx.species or ())]
    return _Prepared(
        crs=crs, countries=by_iso, region=shapely.make_valid(region), landscape_area=area,
        habitat=habitat_codes(ctx.habitat),
        hgrid=hgrid, profiles=profiles,
        pas=shapely.union_all(pa_geoms) if pa_geoms.size else None, pa_geoms=pa_geoms,
        current=current, pressure=pressure,
        borders=shapely.union_all(np.asarray(borders.geometry.values, dtype=object)) if borders is not None and len(borders) else None,
        dispersal_m=float(ctx.dispersal_m), p=float(ctx.p), transboundary_m=float(ctx.transboundary_m),
        builtup=tuple(ctx.builtup_classes), cropland=tuple(ctx.cropland_classes))


# ----------------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------------
def _cells_inside(geom, grid: GridSpec) -> np.ndarray:
    """Cells whose centre lies inside *geom* (rasterio's default rule)."""
    return rio_features.geometry_mask([geom], out_shape=grid.shape, transform=grid.transform, invert=True)


def _connectivity(prep: _Prepared, extra) -> tuple[float, float]:
    """(landscape ProtConn in %, PC) with the existing PAs plus *extra* (None = baseline)."""
    from ..connectivity import patch_graph, probability_of_connectivity
    from ..connectivity.protconn import protconn

    geoms = list(prep.pa_geoms) + ([extra] if extra is not None else [])
    if not geoms:
        return 0.0, 0.0
    pas = gpd.GeoDataFrame(geometry=geoms, crs=prep.crs)
    region = gpd.GeoDataFrame({"iso3": ["landscape"]}, geometry=[prep.region], crs=prep.crs)
    with warnings.catch_warnings():  # parts outside the region are stepping stones by design
        warnings.simplefilter("ignore", TbpaWarning)
        pc_table = protconn(pas, region, dispersal_m=prep.dispersal_m, p=prep.p,
                            transboundary_m=prep.transboundary_m, progress=False)
    # PC nodes: the protected land inside the region, overlapping/touching PAs merged (as ProtConn)
    inside = shapely.intersection(shapely.union_all(geoms), prep.region)
    parts = [g for g in shapely.get_parts(inside) if g.geom_type == "Polygon" and g.area > 0]
    if not parts:
        return float(pc_table["ProtConn"].iloc[0]), 0.0
    graph = patch_graph(gpd.GeoDataFrame(geometry=parts, crs=prep.crs))
    pc = probability_of_connectivity(graph, dispersal_m=prep.dispersal_m, p=prep.p,
                                     landscape_area=prep.landscape_area, progress=False).PC
    return float(pc_table["ProtConn"].iloc[0]), float(pc)


def _pressure_vector(geom, layer: gpd.GeoDataFrame) -> tuple[float, str]:
    geoms = np.asarray(layer.geometry.values, dtype=object)
    kinds = set(shapely.get_type_id(geoms).tolist()) - {7}
    inter = shapely.intersection(geoms, geom)
    if kinds <= {1, 5, 2}:  # (multi)lines, linear rings
        return float(shapely.length(inter).sum()), "m"
    if kinds <= {3, 6}:
        return float(shapely.area(inter).sum() / 1e4), "ha"
    if kinds <= {0, 4}:
        return float(shapely.get_num_geometries(inter[~shapely.is_empty(inter)]).sum()), "count"
    raise ValidationError("compare_boundaries: a pressure layer mixes points, lines and polygons; split it by type")


def _option_rows(geom, codes, prep: _Prepared, classes, baseline) -> list[tuple]:
    """(metric, value, unit, direction) rows for one option; *codes*: its habitat cells."""
    rows = []
    masks = {}  # rasterise the option once per distinct grid (layers usually share one)

    def inside(grid: GridSpec) -> np.ndarray:
        if grid not in masks:
            masks[grid] = _cells_inside(geom, grid)
        return masks[grid]

    add = lambda m, v, u, d="none": rows.append((m, float(v), u, d))
    area = geom.area
    add("area_ha", area / 1e4, "ha", "higher")
    per = {iso: shapely.intersection(geom, c).area for iso, c in prep.countries.items()}
    for iso, a in per.items():
        add(f"area_ha_{iso}", a / 1e4, "ha")
    total = sum(per.values())
    shares = np.array([a / total for a in per.values()]) if total > 0 else np.zeros(len(per))
    k = len(per)
    nz = shares[shares > 0]
    evenness = float(-(nz * np.log(nz)).sum() / math.log(k)) if k > 1 else float("nan")
    add("country_evenness", evenness, "Pielou J (0-1)", "higher")
    add("min_country_share", 100.0 * shares.min() if k else float("nan"), "%")

    cell_ha = prep.hgrid.cell_area / 1e4
    counts = pd.Series(codes).value_counts()
    for code in classes:
        add(f"habitat_ha_{code}", counts.get(code, 0) * cell_ha, "ha")
    wet = sum(n for c, n in counts.items() if c // 100 in WETLAND_LEVEL1)
    add("wetland_ha", wet * cell_ha, "ha", "higher")
    for prof in prep.profiles:
        suit = np.nan_to_num(prof.suitability_of(codes), nan=0.0)
        add(f"suitable_ha_{prof.id}", suit.sum() * cell_ha, "ha (suitability-weighted)", "higher")

    if prep.pas is not None:
        add("pa_included_pct", 100.0 * shapely.intersection(geom, prep.pas).area / prep.pas.area, "%", "higher")
    protconn_with, pc_with = _connectivity(prep, geom)
    protconn_base, pc_base = baseline
    add("delta_protconn", protconn_with - protconn_base, "percentage points", "higher")
    add("delta_pc", pc_with - pc_base, "PC (0-1)")
    add("delta_pc_pct", 100.0 * (pc_with - pc_base) / pc_base if pc_base > 0 else float("nan"),
        "% of baseline PC", "higher")
    if prep.current is not None:
        values, grid = prep.current
        captured = np.nansum(values[inside(grid)])
        whole = np.nansum(values)
        add("current_sum", captured, "A (summed over cells)")
        add("current_share_pct", 100.0 * captured / whole if whole > 0 else float("nan"), "% of landscape current", "higher")

    add("builtup_ha", np.isin(codes, prep.builtup).sum() * cell_ha, "ha", "lower")
    add("cropland_ha", np.isin(codes, prep.cropland).sum() * cell_ha, "ha", "lower")
    for name, layer in prep.pressure.items():
        if isinstance(layer, tuple):
            mask, grid = layer
            add(f"pressure_{name}", mask[inside(grid)].sum() * grid.cell_area / 1e4, "ha", "lower")
        else:
            value, unit = _pressure_vector(geom, layer)
            add(f"pressure_{name}", value, unit, "lower")

    perimeter = geom.length
    add("perimeter_m", perimeter, "m")
    add("compactness", 4.0 * math.pi * area / perimeter**2, "Polsby-Popper (0-1)", "higher")
    if prep.borders is not None:
        add("border_length_m", shapely.intersection(prep.borders, geom).length, "m", "higher")
    return rows


def _check_options(options, prep: _Prepared) -> tuple[list, list]:
    if not isinstance(options, gpd.GeoDataFrame):
        raise ValidationError(f"compare_boundaries: `options` must be a GeoDataFrame, got {type(options).__name__}")
    if len(options) == 0:
        raise EmptySelectionError("compare_boundaries: `options` is empty; pass one polygon per draft boundary")
    require_projected_crs(options.crs, "options")
    ids = list(options["option_id"]) if "option_id" in options.columns else list(options.index)
    if len(set(ids)) != len(ids):
        raise ValidationError(f"compare_boundaries: option ids are not unique: {ids}")
    geoms = list(shapely.make_valid(np.asarray(options.to_crs(prep.crs).geometry.values, dtype=object)))
    bounds = shapely.box(*prep.hgrid.bounds)
    for oid, g in zip(ids, geoms):
        if g is None or g.is_empty or g.area <= 0:
            raise EmptySelectionError(f"compare_boundaries: option {oid!r} has an empty or zero-area geometry")
        inside = shapely.intersection(g, prep.region).area
        if inside <= 0 or not g.intersects(bounds):
            raise ValidationError(
                f"compare_boundaries: option {oid!r} lies outside the landscape (no overlap with "
                "the countries / landscape region or the habitat raster); check its CRS and extent")
        outside = 1.0 - inside / g.area
        if outside > 0.01:
            warnings.warn(f"compare_boundaries: {100 * outside:.1f} % of option {oid!r} lies outside the "
                          "landscape region (e.g. sea); it counts for area and shape but not for "
                          "country areas or ProtConn", TbpaWarning, stacklevel=3)
    return ids, geoms


def compare_boundaries(options: gpd.GeoDataFrame, *, context: BoundaryContext,
                       progress: bool | None = None) -> BoundaryComparison:
    """Measure and compare draft boundary options.

    Parameters
    ----------
    options : geopandas.GeoDataFrame
        One (multi)polygon per option in a projected metre CRS; ids from ``option_id``, else
        the index.
    context : BoundaryContext
        The landscape layers.
    progress : bool, optional
        Progress bar over options (default: the ``progress`` option).

    Returns
    -------
    BoundaryComparison
        ``.table`` has one row per option and metric (option_id, metric, value, unit,
        direction). Metrics, with ``direction`` = which is better ("none" = descriptive):

        - ``area_ha`` (higher), ``area_ha_<ISO3>`` (polygon area per country);
        - ``country_evenness`` (higher): Pielou's J = -Σ s_c ln s_c / ln K of the shares s_c of
          the option's in-country area, K = number of countries in the context (1 = equal
          split, 0 = one country); ``min_country_share`` (%);
        - ``habitat_ha_<code>`` for every class found in any option, ``wetland_ha`` (higher,
          classes 5xx, 12xx, 13xx, 15xx); area of cells whose centre lies inside;
        - ``suitable_ha_<species>`` (higher): Σ suitability x cell area;
        - ``pa_included_pct`` (higher): % of the existing PAs' (union) area inside;
        - ``delta_protconn`` (higher, percentage points) and ``delta_pc_pct`` (higher,
          100 ΔPC / PC_base) with ``delta_pc`` (absolute): landscape ProtConn and PC with the
          option added to the existing PAs as one PA, minus the baseline (computed once);
        - ``current_sum`` (A) and ``current_share_pct`` (higher, % of the raster's total);
        - ``builtup_ha``, ``cropland_ha``, ``pressure_<name>`` (lower);
        - ``perimeter_m``, ``compactness`` (higher): Polsby-Popper 4πA/P²;
        - ``border_length_m`` (higher): length of international border inside or on the
          option's boundary.

    Raises
    ------
    CRSError
        Options (or context layers) in a geographic CRS.
    EmptySelectionError
        No options, or an option with an empty geometry.
    ValidationError
        An option outside the landscape.

    Examples
    --------
    >>> ctx = BoundaryContext(countries=countries, habitat=hab, existing_pas=pas)  # doctest: +SKIP
    >>> cmp = compare_boundaries(options, context=ctx)  # doctest: +SKIP
    >>> cmp.rank({"wetland_ha": 2, "delta_pc_pct": 1, "builtup_ha": 1})  # doctest: +SKIP
    """
    prep = _prepare(context)
    ids, geoms = _check_options(options, prep)
    codes = [prep.habitat[_cells_inside(g, prep.hgrid)] for g in geoms]  # rasterised once per option
    classes = sorted({int(c) for k in codes for c in np.unique(k) if c != 0})
    baseline = _connectivity(prep, None)
    records = []
    for oid, g, k in tqdm(list(zip(ids, geoms, codes)), desc="options", disable=not resolve_progress(progress)):
        records += [(oid, *row) for row in _option_rows(g, k, prep, classes, baseline)]
    table = pd.DataFrame(records, columns=["option_id", "metric", "value", "unit", "direction"])
    frame = gpd.GeoDataFrame({"option_id": ids}, geometry=geoms, crs=prep.crs)
    return BoundaryComparison(table=table, options=frame,
                              baseline={"protconn": baseline[0], "pc": baseline[1]},
                              countries=gpd.GeoDataFrame(geometry=list(prep.countries.values), crs=prep.crs),
                              existing_pas=gpd.GeoDataFrame(geometry=list(prep.pa_geoms), crs=prep.crs))


# ----------------------------------------------------------------------------------------------
# the comparison
# ----------------------------------------------------------------------------------------------
@dataclass(repr=False)
class BoundaryComparison:
    """Metrics of draft boundary options with ranking, sensitivity and Pareto analysis.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: ``option_id, metric, value, unit, direction``.
    options : geopandas.GeoDataFrame
        The options (``option_id``, geometry) in the analysis CRS.
    baseline : dict
        Landscape ``protconn`` (%) and ``pc`` of the existing PAs alone.
    """

    table: pd.DataFrame
    options: gpd.GeoDataFrame
    baseline: dict = field(default_factory=dict)
    countries: gpd.GeoDataFrame | None = None
    existing_pas: gpd.GeoDataFrame | None = None

    # -- views ---------------------------------------------------------------------------------
    @property
    def wide(self) -> pd.DataFrame:
        """Options x metrics (metrics in table order)."""
        order = list(dict.fromkeys(self.table["metric"]))
        w = self.table.pivot(index="option_id", columns="metric", values="value")
        return w.loc[list(dict.fromkeys(self.table["option_id"])), order]

    @property
    def criteria(self) -> dict[str, str]:
        """Metric -> direction ("higher"/"lower") of the metrics usable for ranking."""
        d = self.table.drop_duplicates("metric").set_index("metric")["direction"]
        return {m: v for m, v in d.items() if v in ("higher", "lower")}

    def normalised(self) -> pd.DataFrame:
        """Min-max normalised criteria (0-1, 1 = best option for that criterion)."""
        wide = self.wide
        return pd.DataFrame({m: minmax_normalise(wide[m].to_numpy(dtype=float), d)
                             for m, d in self.criteria.items()}, index=wide.index)

    # -- decisions -----------------------------------------------------------------------------
    def rank(self, weights: dict | None = None) -> pd.DataFrame:
        """Rank options by the weighted mean of min-max normalised criteria.

        score = Σ_c w_c n_c / Σ_c w_c, with n_c = (x - min)/(max - min) for "higher"
        criteria and (max - x)/(max - min) for "lower" ones (across options; a criterion on
        which all options are equal gives every option 1). Scaling all weights by one factor
        changes nothing.

        Parameters
        ----------
        weights : dict, optional
            Criterion -> weight >= 0; default equal weights on every criterion.

        Returns
        -------
        pandas.DataFrame
            Indexed by option_id: ``score``, ``rank`` (1 = best, ties share the best rank)
            and the normalised criteria used.

        Examples
        --------
        >>> cmp.rank({"wetland_ha": 2, "builtup_ha": 1})  # doctest: +SKIP
        """
        w = check_weights(weights, self.criteria, "BoundaryComparison.rank")
        norm = self.normalised()[list(w)]
        out = pd.DataFrame({"score": weighted_score(norm, w)})
        out["rank"] = out["score"].rank(ascending=False, method="min").astype(int)
        return pd.concat([out, norm.add_prefix("n_")], axis=1).sort_values(["rank", "score"], ascending=[True, False])

    def sensitivity(self, n: int = 1000, *, weights: dict | None = None, seed: int = 0,
                    spread: float = 0.5) -> pd.DataFrame:
        """Rank stability under random weights.

        Each of *n* draws multiplies every weight by an independent lognormal factor
        exp(spread · z), z ~ N(0, 1) (median factor 1; spread 0.5 gives a factor within
        0.38-2.7 in 95 % of draws; zero weights stay zero) and ranks the options as
        :meth:`rank` does.

        Returns
        -------
        pandas.DataFrame
            Indexed by option_id: ``p_first`` (share of draws in which the option ranks
            first; ties split the draw), ``mean_rank``, ``rank_at_weights`` (rank with the
            unperturbed weights). Reproducible for a given *seed*.

        Examples
        --------
        >>> cmp.sensitivity(1000, seed=1)  # doctest: +SKIP
        """
        from scipy.stats import rankdata

        if int(n) < 1:
            raise ValidationError(f"sensitivity: `n` must be >= 1, got {n!r}")
        if not spread >= 0:
            raise ValidationError(f"sensitivity: `spread` must be >= 0, got {spread!r}")
        w = check_weights(weights, self.criteria, "BoundaryComparison.sensitivity")
        names = list(w)
        base = np.array([w[k] for k in names])
        norm = self.normalised()[names].fillna(0.0).to_numpy()
        rng = np.random.default_rng(seed)
        draws = base * np.exp(spread * rng.standard_normal((int(n), len(names))))
        draws = draws[draws.sum(axis=1) > 0]
        scores = draws @ norm.T / draws.sum(axis=1, keepdims=True)  # draws x options
        best = scores.max(axis=1, keepdims=True)
        winners = np.isclose(scores, best, rtol=1e-12, atol=1e-12)
        p_first = (winners / winners.sum(axis=1, keepdims=True)).mean(axis=0)
        ranks = rankdata(-scores, axis=1, method="min")
        out = pd.DataFrame({"p_first": p_first, "mean_rank": ranks.mean(axis=0)}, index=self.wide.index)
        out["rank_at_weights"] = self.rank(w)["rank"].reindex(out.index)
        out.attrs.update(n=int(n), seed=seed, spread=spread, perturbation="multiplicative lognormal")
        return out.sort_values(["p_first", "mean_rank"], ascending=[False, True])

    def pareto(self, objectives: Sequence[str] | None = None) -> pd.DataFrame:
        """Options not dominated on *objectives* (default: all criteria).

        Option i dominates j when it is at least as good on every objective (in its
        direction) and strictly better on one.

        Returns
        -------
        pandas.DataFrame
            Every option with the objective values, ``non_dominated`` (bool) and
            ``dominated_by`` (ids, ";"-separated).

        Examples
        --------
        >>> cmp.pareto(["wetland_ha", "builtup_ha"])  # doctest: +SKIP
        """
        crit = self.criteria
        objectives = list(crit) if objectives is None else list(objectives)
        check_weights(dict.fromkeys(objectives, 1.0), crit, "BoundaryComparison.pareto")
        wide = self.wide[objectives]
        signed = wide.to_numpy(dtype=float) * np.array([1.0 if crit[o] == "higher" else -1.0 for o in objectives])
        signed = np.where(np.isnan(signed), -np.inf, signed)
        ge = (signed[:, None, :] >= signed[None, :, :]).all(axis=2)
        gt = (signed[:, None, :] > signed[None, :, :]).any(axis=2)
        dom = ge & gt  # dom[i, j]: i dominates j
        ids = list(wide.index)
        out = wide.copy()
        out["non_dominated"] = ~dom.any(axis=0)
        out["dominated_by"] = [";".join(str(ids[i]) for i in np.flatnonzero(dom[:, j])) for j in range(len(ids))]
        return out

    # -- display -------------------------------------------------------------------------------
    def plot(self, ax=None, *, weights: dict | None = None, metrics: Sequence[str] | None = None):
        """Map of the options beside a bar chart of their normalised criteria.

        Parameters
        ----------
        ax : matplotlib Axes or pair of Axes, optional
            A pair ``(map_ax, bar_ax)``; a single Axes receives only the bar chart. Default:
            a new figure with both.
        weights : dict, optional
            Weights for the score shown in the bar-chart legend.
        metrics : sequence of str, optional
            Criteria to show (default: all).

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, (map_ax, bar_ax) = plt.subplots(1, 2, figsize=(13, 5.5), gridspec_kw={"width_ratios": [1, 1.3]})
        elif isinstance(ax, (list, tuple, np.ndarray)):
            map_ax, bar_ax = ax
            fig = bar_ax.figure
        else:
            map_ax, bar_ax, fig = None, ax, ax.figure
        ids = list(self.wide.index)
        colours = plt.get_cmap("tab10")(np.arange(len(ids)) % 10)
        if map_ax is not None:
            if self.countries is not None and len(self.countries):
                self.countries.plot(ax=map_ax, color="#eeeeee", edgecolor="#999999", linewidth=0.5)
            if self.existing_pas is not None and len(self.existing_pas):
                self.existing_pas.plot(ax=map_ax, color="#2e7d32", alpha=0.35, linewidth=0)
            for oid, colour in zip(ids[::-1], colours[::-1]):
                sel = self.options[self.options["option_id"] == oid]
                sel.boundary.plot(ax=map_ax, color=colour, linewidth=1.6, label=str(oid))
            minx, miny, maxx, maxy = self.options.total_bounds
            pad = 0.15 * max(maxx - minx, maxy - miny)
            map_ax.set_xlim(minx - pad, maxx + pad)
            map_ax.set_ylim(miny - pad, maxy + pad)
            map_ax.set_aspect("equal")
            map_ax.legend(title="option", loc="best", fontsize=8)
            map_ax.set_title("Draft boundary options (existing PAs shaded)")
        norm = self.normalised()
        if metrics is not None:
            check_weights(dict.fromkeys(metrics, 1.0), self.criteria, "BoundaryComparison.plot")
            norm = norm[list(metrics)]
        score = self.rank(weights)["score"]
        y = np.arange(norm.shape[1])
        h = 0.8 / max(len(ids), 1)
        for k, (oid, colour) in enumerate(zip(ids, colours)):
            bar_ax.barh(y + k * h, norm.loc[oid].fillna(0.0).to_numpy(), height=h, color=colour,
                        label=f"{oid} (score {score[oid]:.2f})")
        bar_ax.set_yticks(y + 0.4 - h / 2)
        bar_ax.set_yticklabels([f"{m} ({'↑' if self.criteria[m] == 'higher' else '↓'})" for m in norm.columns], fontsize=8)
        bar_ax.invert_yaxis()
        bar_ax.set_xlim(0, 1)
        bar_ax.set_xlabel("min-max normalised across options (1 = best)")
        bar_ax.legend(fontsize=8, loc="lower right")
        bar_ax.set_title("Criteria")
        fig.tight_layout()
        return fig

    def _summary(self) -> pd.DataFrame:
        crit = self.criteria
        wide = self.wide[list(crit)]
        units = self.table.drop_duplicates("metric").set_index("metric")["unit"]
        wide.columns = [f"{m} [{units[m]}] {'↑' if crit[m] == 'higher' else '↓'}" for m in crit]
        return wide.T

    def __repr__(self) -> str:
        head = (f"BoundaryComparison({len(self.wide)} options, {self.table['metric'].nunique()} metrics, "
                f"{len(self.criteria)} criteria; baseline ProtConn {self.baseline.get('protconn', float('nan')):.4g} %, "
                f"PC {self.baseline.get('pc', float('nan')):.4g})")
        return head + "\n" + self._summary().to_string(float_format=lambda v: f"{v:.4g}")

    def _repr_html_(self) -> str:
        head = html.escape(repr(self).splitlines()[0])
        return f"<b>{head}</b>" + self._summary().to_html(float_format=lambda v: f"{v:.4g}")

