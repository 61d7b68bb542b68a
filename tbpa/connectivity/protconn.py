"""ProtConn: the protected and connected share of each country (Saura et al. 2017, 2018).

For each country c with area A_c (m², in the CRS of the inputs, which should be equal-area):

1. **Nodes.** Every protected-area polygon is cut into single-part polygons and clipped to
   c. The clipped parts are dissolved (unioned): overlapping *and* touching PAs become one
   *PA unit* i with attribute a_i = its area in c, so overlap never counts twice and
   contiguous PAs act as one protected block. The parts of any PA (of any country, or of
   none) that lie outside c and within ``transboundary_m`` of c are added, dissolved, as
   transboundary *stepping stones* with attribute 0: they can carry movement between c's
   PAs but add no area (Saura et al. 2017). Parts smaller than ``min_part_m2`` (1 ha)
   after clipping are dropped: slivers where a PA outline and the border were digitised
   at different precision.
2. **ECA.** Equivalent connected area with the probability-of-connectivity machinery
   (:mod:`tbpa.connectivity.graph`): p_ij = exp(−k d_ij), k = −ln(p)/dispersal_m, d_ij the
   edge-to-edge (default) or centroid distance in m, p*_ij the maximum-product path
   probability, ECA = √(Σ_i Σ_j a_i a_j p*_ij) (m²). ECA_noTrans is the same without the
   stepping stones.
3. **Indicators** (% of A_c)::

       Prot       = 100 Σ a_i / A_c
       ProtConn   = 100 ECA / A_c
       ProtUnconn = Prot − ProtConn
       RelConn    = 100 ProtConn / Prot
       Unprotected = 100 − Prot

4. **Fractions** (% of ProtConn; Saura et al. 2017, as implemented in Makurhini)::

       ProtConn[Prot]   = 100 (100 √(Σ a_i²) / A_c) / ProtConn        = 100 √(Σ a_i²) / ECA
       ProtConn[Trans]  = 100 (100 (ECA − ECA_noTrans) / A_c) / ProtConn
       ProtConn[Unprot] = 100 − ProtConn[Prot] − ProtConn[Trans]
       ProtConn[Within] = 100 √(Σ a'_j² · Σ a_i / Σ a'_j) / ECA
       ProtConn[Contig] = ProtConn[Prot] − ProtConn[Within]

   [Prot] is the connectivity reached by moving only inside protected land (within the PA
   units), [Trans] what the foreign stepping stones add, [Unprot] what is reached by
   crossing the country's unprotected land. [Prot] splits into [Within], movement inside
   each individually designated PA (a'_j: the single-part PA polygons clipped to c,
   *before* dissolving; the factor √(Σa_i/Σa'_j) removes the double counting of overlaps,
   and is 1 without overlaps), and [Contig], the extra reach from contiguous (touching or
   overlapping) PAs that together form larger protected blocks. Each ``_land`` column is the
   fraction × ProtConn / 100, i.e. in % of the country's area; the four of [Within],
   [Contig], [Unprot], [Trans] add up to ProtConn.

References
----------
Saura, S., Bastin, L., Battistella, L., Mandrici, A. & Dubois, G. (2017). Protected areas in
the world's ecoregions: how well connected are they? Ecological Indicators 76: 144-158.
Saura, S., Bertzky, B., Bastin, L., Battistella, L., Mandrici, A. & Dubois, G. (2018).
Protected area connectivity: shortfalls in global targets and country-level priorities.
Biological Conservation 219: 53-67.
Godínez-Gómez, O. & Correa Ayram, C. A. Makurhini: analyzing landscape connectivity
(R package), ``MK_ProtConn``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import shapely

from ..crs import require_projected_crs
from ..errors import CRSError, EmptySelectionError, TbpaWarning, ValidationError
from ..options import resolve_progress
from .graph import (
    _centroid_distance_matrix,
    _edge_distance_matrix,
    _kappa,
    _metric_core,
)

__all__ = ["protconn", "PROTCONN_COLUMNS"]

_FRACTIONS = ["Prot", "Trans", "Unprot", "Within", "Contig"]

#: Columns of the table returned by :func:`protconn`, in order.
PROTCONN_COLUMNS = (
    ["area_m2", "protected_m2", "ECA_m2", "ECA_noTrans_m2", "n_pa_units", "n_stepping_stones",
     "Prot", "Unprotected", "ProtConn", "ProtUnconn", "RelConn"]
    + [f"ProtConn[{f}]" for f in _FRACTIONS]
    + [f"ProtConn[{f}]_land" for f in _FRACTIONS]
)

# Pairs farther apart than this many "half-lives" get no direct link: p_ij < 1e-30 there,
# and each pair's share of the PC numerator is at most p_ij, so the result is unchanged in
# float64 while the STRtree avoids computing n² polygon distances.
_NEGLIGIBLE_P = 1e-30


def _polygons(geoms) -> np.ndarray:
    """Single-part, non-empty polygons of an array of geometries (collections unpacked)."""
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(geoms)
    while True:  # unpack nested collections / multipolygons
        multi = shapely.get_type_id(parts) >= 4
        if not multi.any():
            break
        parts = np.concatenate([parts[~multi], shapely.get_parts(parts[multi])])
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts = parts[keep]
    return parts[shapely.area(parts) > 0]


def _dissolve(polys: np.ndarray) -> np.ndarray:
    """Union overlapping and touching polygons into single-part blocks."""
    if polys.size == 0:
        return polys
    return _polygons([shapely.union_all(polys)])


def _country_ids(countries) -> pd.Series:
    if "iso3" in countries.columns:
        ids = countries["iso3"]
    else:
        ids = pd.Series(countries.index, index=countries.index)
    if ids.isna().any():
        raise ValidationError(f"protconn: `countries` has missing iso3 at rows {list(ids.index[ids.isna()][:5])}")
    return ids


def _validate(pas, countries) -> None:
    for name, gdf in (("pas", pas), ("countries", countries)):
        if not hasattr(gdf, "geometry") or not hasattr(gdf, "crs"):
            raise ValidationError(f"protconn: `{name}` must be a GeoDataFrame, got {type(gdf).__name__}")
    if len(countries) == 0:
        raise EmptySelectionError("protconn: `countries` is empty; pass at least one country polygon")
    crs = require_projected_crs(countries.crs, "countries")
    if len(pas) > 0:
        pcrs = require_projected_crs(pas.crs, "pas")
        if pcrs != crs:
            raise CRSError(
                f"protconn: `pas` is in {pcrs.to_string()} but `countries` is in "
                f"{crs.to_string()}; reproject one, e.g. pas = pas.to_crs(countries.crs)"
            )


def _pa_parts(pas) -> tuple[np.ndarray, np.ndarray]:
    """Single-part valid PA polygons and, for each, the position of its PA row."""
    geoms = shapely.make_valid(np.asarray(pas.geometry.values, dtype=object))
    parts, owner = [], []
    for k, g in enumerate(geoms):
        if g is None:
            continue
        polys = _polygons([g])
        parts.append(polys)
        owner.append(np.full(polys.size, k))
    if not parts:
        return np.empty(0, dtype=object), np.empty(0, dtype=int)
    return np.concatenate(parts), np.concatenate(owner)


def _eca(W: np.ndarray, a: np.ndarray, kappa: float) -> float:
    if a.size == 0:
        return 0.0
    return math.sqrt(_metric_core(W, a, kappa=kappa, deltas=False).numerator)


def _drop_slivers(polys: np.ndarray, min_part_m2: float) -> np.ndarray:
    """Drop clipping slivers: PA outlines that follow a border leave hairline parts behind."""
    return polys[shapely.area(polys) >= min_part_m2] if polys.size else polys


def _country_row(C, parts, tree, *, kappa, d_cut, transboundary_m, distance, min_part_m2=0.0) -> dict:
    area = float(shapely.area(C))
    idx = tree.query(C, predicate="intersects")
    individual = _polygons(shapely.intersection(parts[idx], C)) if idx.size else np.empty(0, object)
    individual = _drop_slivers(individual, min_part_m2)
    units = _dissolve(individual)
    a = shapely.area(units)

    idx_near = tree.query(C, predicate="dwithin", distance=transboundary_m)
    outside = _polygons(shapely.difference(parts[idx_near], C)) if idx_near.size else np.empty(0, object)
    outside = outside[shapely.distance(outside, C) <= transboundary_m] if outside.size else outside
    outside = _drop_slivers(outside, min_part_m2)
    stones = _dissolve(outside)

    nodes = np.concatenate([units, stones])
    attr = np.concatenate([a, np.zeros(stones.size)])
    dist_fn = _edge_distance_matrix if distance == "edge" else _centroid_distance_matrix
    W = dist_fn(nodes, d_cut) if nodes.size else np.zeros((0, 0))
    eca = _eca(W, attr, kappa)
    eca_domestic = _eca(W[: units.size, : units.size], a, kappa) if stones.size else eca

    prot_area = float(a.sum())
    row = {
        "area_m2": area,
        "protected_m2": prot_area,
        "ECA_m2": eca,
        "ECA_noTrans_m2": eca_domestic,
        "n_pa_units": int(units.size),
        "n_stepping_stones": int(stones.size),
        "Prot": 100.0 * prot_area / area,
        "ProtConn": 100.0 * eca / area,
    }
    row["Unprotected"] = 100.0 - row["Prot"]
    row["ProtUnconn"] = row["Prot"] - row["ProtConn"]
    if eca > 0:
        row["RelConn"] = 100.0 * row["ProtConn"] / row["Prot"]
        f_prot = 100.0 * math.sqrt(float((a**2).sum())) / eca
        f_trans = 100.0 * (eca - eca_domestic) / eca
        a_ind = shapely.area(individual)
        overlap = prot_area / float(a_ind.sum())  # 1 without overlaps, < 1 with them
        f_within = 100.0 * math.sqrt(float((a_ind**2).sum()) * overlap) / eca
        fr = {
            "Prot": f_prot,
            "Trans": f_trans,
            # rounding can push these an ulp below 0; both are >= 0 analytically (no overlap)
            "Unprot": max(100.0 - f_prot - f_trans, 0.0),
            "Within": min(f_within, f_prot),
            "Contig": max(f_prot - f_within, 0.0),
        }
    else:
        row["RelConn"] = np.nan
        fr = dict.fromkeys(_FRACTIONS, np.nan)
    for name, value in fr.items():
        row[f"ProtConn[{name}]"] = value
        row[f"ProtConn[{name}]_land"] = value * row["ProtConn"] / 100.0
    return row


def protconn(
    pas,
    countries,
    *,
    dispersal_m: float = 10_000,
    p: float = 0.5,
    transboundary_m: float = 50_000,
    distance: str = "edge",
    min_part_m2: float = 10_000,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Protected Connected (ProtConn) indicator and its fractions for each country.

    Parameters
    ----------
    pas : geopandas.GeoDataFrame
        Protected-area polygons (any country; overlaps allowed) in a projected, ideally
        equal-area, metre CRS (``tbpa.crs.equal_area_crs``).
    countries : geopandas.GeoDataFrame
        Country polygons in the same CRS; the ``iso3`` column (else the index) names them,
        rows sharing an iso3 are merged.
    dispersal_m : float, default 10 000
        Median dispersal distance (m): the distance at which the direct dispersal
        probability is `p`. Saura et al. (2017, 2018) report 10 km as the main setting.
    p : float, default 0.5
        Direct dispersal probability at `dispersal_m`.
    transboundary_m : float, default 50 000
        PAs (parts) outside a country and within this distance (m) of it are stepping stones
        (attribute 0) for that country.
    distance : {"edge", "centroid"}, default "edge"
        Edge-to-edge (Saura et al.) or centroid-to-centroid distance between PA units.
    min_part_m2 : float, default 10 000
        PA parts smaller than this (m², default 1 ha) after clipping to a country are
        ignored: slivers left where a PA outline follows the border at another precision.
    progress : bool, optional
        Progress bar over countries (default: tbpa option).

    Returns
    -------
    pandas.DataFrame
        One row per country (index ``iso3``), columns :data:`PROTCONN_COLUMNS`: areas in m²
        (``area_m2``, ``protected_m2``, ``ECA_m2``, ``ECA_noTrans_m2``), node counts, the
        indicators Prot, Unprotected, ProtConn, ProtUnconn (% of the country's area),
        RelConn (% of Prot), the fractions ``ProtConn[Prot|Trans|Unprot|Within|Contig]``
        (% of ProtConn) and their ``_land`` versions (% of the country's area). Fractions and
        RelConn are NaN for a country without PAs.

    Raises
    ------
    CRSError
        Geographic or differing CRSs.
    EmptySelectionError
        `countries` is empty.

    Warns
    -----
    TbpaWarning
        When PAs lie outside every country (they count for no country's Prot but can still
        be stepping stones).

    Notes
    -----
    Formulas (module docstring and docs/methods.md): Prot = 100 Σa_i/A_c,
    ProtConn = 100 ECA/A_c with ECA = √ΣΣ a_i a_j p*_ij; ProtConn[Prot] = 100 √Σa_i² / ECA;
    ProtConn[Trans] = 100 (ECA − ECA_noTrans)/ECA; ProtConn[Unprot] = 100 − [Prot] − [Trans];
    ProtConn[Within] = 100 √(Σa'_j² Σa_i/Σa'_j)/ECA over the undissolved PA parts a'_j;
    ProtConn[Contig] = [Prot] − [Within]. The `_land` variants are × ProtConn/100.
    ProtConn[Trans] answers "how much does transboundary cooperation add": the part of a
    country's protected connected land that depends on its neighbours' PAs.

    References
    ----------
    Saura et al. (2017) Ecological Indicators 76: 144-158; Saura et al. (2018) Biological
    Conservation 219: 53-67.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> crs = "+proj=laea +lat_0=43 +lon_0=131 +units=m"
    >>> countries = gpd.GeoDataFrame({"iso3": ["AAA"]}, geometry=[shapely.box(0, 0, 1e5, 1e5)], crs=crs)
    >>> pas = gpd.GeoDataFrame(geometry=[shapely.box(1e4, 1e4, 2e4, 2e4)], crs=crs)
    >>> t = protconn(pas, countries, progress=False)
    >>> round(float(t.loc["AAA", "Prot"]), 6), round(float(t.loc["AAA", "ProtConn"]), 6)
    (1.0, 1.0)
    """
    fname = "protconn"
    kappa = _kappa(dispersal_m, p, fname)
    transboundary_m = float(transboundary_m)
    if not transboundary_m >= 0:
        raise ValidationError(f"{fname}: `transboundary_m` must be >= 0 (m), got {transboundary_m!r}")
    if distance not in ("edge", "centroid"):
        raise ValidationError(
            f"{fname}: `distance` must be 'edge' or 'centroid', got {distance!r}; for "
            "least-cost ProtConn build a patch_graph(distance='least_cost') per country"
        )
    _validate(pas, countries)
    ids = _country_ids(countries)
    cgeoms = shapely.make_valid(np.asarray(countries.geometry.values, dtype=object))
    merged = pd.Series(list(cgeoms), index=ids.values).groupby(level=0, sort=False).agg(
        lambda g: shapely.union_all(list(g))
    )
    parts, owner = _pa_parts(pas)
    tree = shapely.STRtree(parts)

    if parts.size:
        all_land = shapely.union_all(list(merged.values))
        hits = tree.query(all_land, predicate="intersects")
        outside_rows = np.setdiff1d(np.unique(owner), np.unique(owner[hits]))
        if outside_rows.size:
            warnings.warn(
                f"{fname}: {outside_rows.size} protected area(s) lie outside every country in "
                f"`countries` (rows {list(pas.index[outside_rows][:5])}); they count toward no "
                "country's Prot but can act as stepping stones. Check the CRS and extent of both inputs.",
                TbpaWarning, stacklevel=2,
            )

    d_cut = dispersal_m * math.log(1.0 / _NEGLIGIBLE_P) / -math.log(p)
    from tqdm.auto import tqdm

    rows = {}
    for iso3, C in tqdm(merged.items(), total=len(merged), desc="ProtConn", disable=not resolve_progress(progress)):
        if shapely.is_empty(C) or shapely.area(C) <= 0:
            raise ValidationError(f"{fname}: country {iso3!r} has an empty or zero-area geometry")
        rows[iso3] = _country_row(
            C, parts, tree, kappa=kappa, d_cut=d_cut, transboundary_m=transboundary_m, distance=distance,
            min_part_m2=min_part_m2,
        )
    table = pd.DataFrame.from_dict(rows, orient="index")[PROTCONN_COLUMNS]
    table.index.name = "iso3"
    return table
