"""Species resistance surfaces and core areas from a unified habitat raster.

:func:`resistance` turns a unified habitat raster (IUCN codes, Jung et al. 2020 encoding) into a
cost-per-metre surface for one species profile (:mod:`tbpa.species`):

.. math::

    R = R_{class} \\cdot M_{roads} \\cdot M_{settlements} \\cdot M_{elevation} \\cdot M_{slope}
        \\cdot M_{ruggedness}, \\qquad M(d) = 1 + (m - 1)\\, e^{-d / s}

with fence cells raised to at least the profile's fence resistance, except at gaps.
:func:`core_areas` finds the suitable patches that are at least one home range in size.
"""

from __future__ import annotations

import logging
import math
import warnings

import geopandas as gpd
import numpy as np
import shapely
import xarray as xr
from affine import Affine
from pyproj import CRS
from rasterio import features as rio_features
from scipy import ndimage

from .._grid import GridSpec
from ..errors import CRSError, TbpaWarning, ValidationError
from ..species import DistanceDecay, SpeciesProfile, Window, load

__all__ = ["resistance", "core_areas"]

log = logging.getLogger("tbpa")

# Distance decay is evaluated out to this many decay scales beyond the raster edge, so that a road
# just outside the raster still raises the resistance of the cells next to the edge.
_PAD_SCALES = 5.0


# ------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------
def resistance(habitat: xr.DataArray, species, *, roads=None, settlements=None, fence=None,
               dem: xr.DataArray | None = None) -> xr.DataArray:
    """Resistance surface (cost per metre) of a species on a unified habitat raster.

    Parameters
    ----------
    habitat : xarray.DataArray
        2-D unified habitat codes (IUCN level 1/2, e.g. 104, 504, 1401) in a projected metre
        CRS. 0, NaN and the raster's nodata value are nodata.
    species : str, path or SpeciesProfile
        A profile name (``"amur_tiger"``), a TOML file, or a loaded profile.
    roads, settlements : GeoDataFrame, GeoSeries or DataArray, optional
        Lines, points or polygons in the habitat's CRS, or a raster on the habitat's grid whose
        non-zero cells are the features. Resistance is multiplied by
        ``1 + (m - 1) * exp(-d / scale_m)``, with d the Euclidean distance (m, cell centre to
        cell centre, ``scipy.ndimage.distance_transform_edt``) to the nearest feature and m,
        scale_m from the profile. Features up to 5 scales outside the raster (at most one raster
        width) are included.
    fence : GeoDataFrame, GeoSeries or DataArray, optional
        Fence lines; cells they touch get at least the profile's fence resistance (or become
        impassable). Points and polygons, or rows whose boolean column ``gap`` is True, are
        gaps: cells they touch keep their no-fence value. A raster input marks fence cells by
        non-zero values (leave gaps out of it).
    dem : xarray.DataArray, optional
        Elevation (m) on the habitat's grid, for the profile's elevation window, slope window
        (degrees, from ``numpy.gradient`` in metres) and ruggedness window (local relief, m).

    Returns
    -------
    xarray.DataArray
        float64 on the habitat's grid, named ``resistance``: values >= 1, NaN where impassable
        or nodata. ``attrs["species"]`` names the profile.

    Raises
    ------
    CRSError
        If the habitat is geographic or a vector layer is in another CRS.
    GridMismatchError
        If a raster argument is on another grid.
    DataError
        If the habitat holds codes outside the IUCN code space.

    Examples
    --------
    >>> import numpy as np
    >>> from tbpa.io import from_array
    >>> hab = from_array(np.array([[104, 104], [1405, 0]]), transform=(100, 0, 0, 0, -100, 200),
    ...                  crs="EPSG:3035")
    >>> resistance(hab, "amur_tiger").values
    array([[  1.,   1.],
           [100.,  nan]])
    """
    grid = GridSpec.from_dataarray(habitat, "habitat")
    profile = load(species)
    r = profile.resistance_of(_habitat_codes(habitat))  # a new array: the input is never touched
    mods = profile.modifiers
    for name, layer, decay in (("roads", roads, mods.roads), ("settlements", settlements, mods.settlements)):
        if layer is None:
            continue
        if decay is None:
            warnings.warn(f"species profile {profile.id!r} has no `{name}` modifier; `{name}` is ignored",
                          TbpaWarning, stacklevel=2)
            continue
        r *= _decay_multiplier(layer, grid, name, decay)
    if dem is not None:
        r *= _terrain_multiplier(dem, grid, profile)
    if fence is not None:
        if mods.fence is None:
            warnings.warn(f"species profile {profile.id!r} has no `fence` modifier; `fence` is ignored",
                          TbpaWarning, stacklevel=2)
        else:
            _apply_fence(r, fence, grid, mods.fence.resistance)
    out = grid.to_dataarray(r, name="resistance")
    out.attrs.update(species=profile.id, units="cost per metre (dimensionless)",
                     long_name=f"resistance of {profile.names['en']}")
    return out


def core_areas(habitat: xr.DataArray, species, *, min_area_ha: float | None = None,
               suitability_min: float = 0.5) -> gpd.GeoDataFrame:
    """Suitable habitat patches at least one home range in size.

    Cells with suitability >= ``suitability_min`` are grouped into 8-connected patches
    (``scipy.ndimage.label``); patches smaller than ``min_area_ha`` are dropped and the rest
    polygonised (``rasterio.features.shapes``; cells touching only at a corner become one
    MultiPolygon).

    Parameters
    ----------
    habitat : xarray.DataArray
        Unified habitat codes in a projected metre CRS.
    species : str, path or SpeciesProfile
        Species profile.
    min_area_ha : float, optional
        Minimum patch area in hectares; default the profile's female home range
        (``home_range_km2.female * 100``).
    suitability_min : float, default 0.5
        Suitability threshold in (0, 1].

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``core_id`` (1 = largest), ``area_ha`` (cell count x cell area),
        ``mean_suitability``, ``geometry``, in the habitat's CRS. Empty (with a TbpaWarning) if
        no patch is large enough.

    Examples
    --------
    >>> import numpy as np
    >>> from tbpa.io import from_array
    >>> codes = np.zeros((4, 6), dtype=int); codes[:2, :2] = 504; codes[:, 4:] = 504
    >>> hab = from_array(codes, transform=(100, 0, 0, 0, -100, 400), crs="EPSG:3035")
    >>> core_areas(hab, "white_naped_crane", min_area_ha=5)[["core_id", "area_ha"]]
       core_id  area_ha
    0        1      8.0
    """
    grid = GridSpec.from_dataarray(habitat, "habitat")
    profile = load(species)
    suitability_min = float(suitability_min)
    if not (0.0 < suitability_min <= 1.0):
        raise ValidationError(f"core_areas: `suitability_min` must be in (0, 1], got {suitability_min}")
    if min_area_ha is None:
        min_area_ha = profile.home_range_km2.female * 100.0  # km2 -> ha
    min_area_ha = float(min_area_ha)
    if not (min_area_ha >= 0 and math.isfinite(min_area_ha)):
        raise ValidationError(f"core_areas: `min_area_ha` must be a finite number >= 0, got {min_area_ha}")

    suit = profile.suitability_of(_habitat_codes(habitat))
    with np.errstate(invalid="ignore"):
        mask = suit >= suitability_min  # NaN (nodata) compares False
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    area_ha = np.bincount(labels.ravel(), minlength=n + 1) * (grid.cell_area / 1e4)
    keep = np.flatnonzero(area_ha[1:] >= min_area_ha) + 1
    columns = ["core_id", "area_ha", "mean_suitability"]
    if keep.size == 0:
        warnings.warn(
            f"core_areas: no patch with suitability >= {suitability_min:g} reaches {min_area_ha:g} ha for "
            f"{profile.id!r} (largest: {area_ha[1:].max() if n else 0:g} ha); lower `min_area_ha` or "
            "`suitability_min`", TbpaWarning, stacklevel=2)
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=grid.crs), crs=grid.crs)

    order = keep[np.argsort(-area_ha[keep], kind="stable")]  # core 1 = largest
    remap = np.zeros(n + 1, dtype=np.int32)
    remap[order] = np.arange(1, order.size + 1, dtype=np.int32)
    cores = remap[labels]
    means = np.asarray(ndimage.mean(suit, labels, order), dtype=np.float64)

    # 4-connected polygonising gives valid polygons; corner-touching parts are unioned below.
    pieces = [(shapely.geometry.shape(g), int(v)) for g, v in
              rio_features.shapes(cores, mask=cores > 0, transform=grid.transform, connectivity=4)]
    parts = gpd.GeoDataFrame({"core_id": [v for _, v in pieces]},
                             geometry=[g for g, _ in pieces], crs=grid.crs)
    geoms = parts.dissolve(by="core_id").geometry.reindex(np.arange(1, order.size + 1))
    out = gpd.GeoDataFrame(
        {"core_id": np.arange(1, order.size + 1), "area_ha": area_ha[order], "mean_suitability": means},
        geometry=geoms.values, crs=grid.crs,
    )
    out.attrs["species"] = profile.id
    return out


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _habitat_codes(habitat: xr.DataArray) -> np.ndarray:
    """Habitat codes with the raster's nodata (and NaN) replaced by 0, as a new array."""
    values = np.array(habitat.values, copy=True)
    nodata = habitat.rio.nodata
    if nodata is None:
        nodata = habitat.rio.encoded_nodata
    if np.issubdtype(values.dtype, np.floating):
        values = np.where(np.isnan(values), 0.0, values)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)) and nodata != 0:
        values = np.where(values == nodata, 0, values)
    return values


def _check_vector_crs(layer, grid: GridSpec, name: str) -> gpd.GeoSeries:
    gs = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    if gs.crs is None:
        raise CRSError(f"`{name}` has no CRS; set it with {name}.set_crs(...) (the habitat is "
                       f"{grid.crs.to_string()})")
    if CRS.from_user_input(gs.crs) != grid.crs:
        raise CRSError(f"`{name}` is in {CRS.from_user_input(gs.crs).to_string()} but the habitat is in "
                       f"{grid.crs.to_string()}; reproject with {name}.to_crs(habitat.rio.crs)")
    return gs


def _raster_mask(layer: xr.DataArray, grid: GridSpec, name: str) -> np.ndarray:
    """Non-zero, non-NaN cells of a raster that must be on *grid*."""
    GridSpec.from_dataarray(layer, name).require_same(grid, ("habitat", name))
    v = np.asarray(layer.values)
    if v.dtype == bool:
        return v.copy()
    with np.errstate(invalid="ignore"):
        return (v != 0) & ~np.isnan(v.astype(np.float64))


def _burn(geoms, shape, transform, *, all_touched: bool) -> np.ndarray:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(shape, dtype=bool)
    return rio_features.rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform,
                                  fill=0, all_touched=all_touched, dtype="uint8").astype(bool)


def _vector_mask(gs: gpd.GeoSeries, shape, transform) -> np.ndarray:
    """Cells holding a feature: lines and points by every cell they touch, polygons by cell
    centre plus the cell of a representative point (so small polygons never vanish)."""
    gs = gs[gs.notna() & ~gs.is_empty]
    kinds = gs.geom_type.str.replace("Multi", "", regex=False)
    polys = gs[kinds == "Polygon"]
    mask = _burn(gs[kinds != "Polygon"].values, shape, transform, all_touched=True)
    if len(polys):
        mask |= _burn(polys.values, shape, transform, all_touched=False)
        mask |= _burn(polys.representative_point().values, shape, transform, all_touched=True)
    return mask


def _decay_multiplier(layer, grid: GridSpec, name: str, decay: DistanceDecay) -> np.ndarray:
    """``decay.multiplier(distance to the nearest feature)`` on *grid* (1 where there is none)."""
    dx, dy = abs(grid.transform.a), abs(grid.transform.e)
    if isinstance(layer, xr.DataArray):
        mask, pad = _raster_mask(layer, grid, name), 0
    elif isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gs = _check_vector_crs(layer, grid, name)
        # pad so that features just outside the raster count; capped at one raster width
        pad = min(int(math.ceil(_PAD_SCALES * decay.scale_m / min(dx, dy))), max(grid.shape))
        transform = grid.transform * Affine.translation(-pad, -pad)
        shape = (grid.shape[0] + 2 * pad, grid.shape[1] + 2 * pad)
        mask = _vector_mask(gs, shape, transform)
    else:
        raise ValidationError(f"`{name}` must be a GeoDataFrame, GeoSeries or DataArray, got "
                              f"{type(layer).__name__}")
    if not mask.any():
        log.info("resistance: no %s within reach of the raster; no %s effect", name, name)
        return np.ones(grid.shape)
    dist = ndimage.distance_transform_edt(~mask, sampling=(dy, dx))
    if pad:
        dist = dist[pad:-pad, pad:-pad]
    return decay.multiplier(dist)


def _terrain_multiplier(dem: xr.DataArray, grid: GridSpec, profile: SpeciesProfile) -> np.ndarray:
    if not isinstance(dem, xr.DataArray):
        raise ValidationError(f"`dem` must be a DataArray on the habitat's grid, got {type(dem).__name__}")
    GridSpec.from_dataarray(dem, "dem").require_same(grid, ("habitat", "dem"))
    z = np.asarray(dem.values, dtype=np.float64).copy()
    nodata = dem.rio.nodata
    if nodata is not None and not math.isnan(nodata):
        z[z == nodata] = np.nan
    mods = profile.modifiers
    if mods.elevation is None and mods.slope is None and mods.ruggedness is None:
        log.info("resistance: profile %r has no terrain modifiers; `dem` is not used", profile.id)
        return np.ones(grid.shape)
    if np.isnan(z).any():
        warnings.warn("`dem` has nodata cells; terrain modifiers leave them (and, for slope, their "
                      "neighbours) unchanged", TbpaWarning, stacklevel=3)
    dx, dy = abs(grid.transform.a), abs(grid.transform.e)
    out = np.ones(grid.shape)
    if mods.elevation is not None:
        out *= mods.elevation.multiplier(z)
    if mods.slope is not None:
        out *= mods.slope.multiplier(_slope_deg(z, dx, dy))
    if mods.ruggedness is not None:
        out *= mods.ruggedness.multiplier(_relief_m(z, dx, dy, mods.ruggedness))
    return out


def _slope_deg(z: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Slope in degrees from central differences in metres (one-sided at the edges)."""
    if min(z.shape) < 2:
        return np.zeros_like(z)
    gy, gx = np.gradient(z, dy, dx)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def _relief_m(z: np.ndarray, dx: float, dy: float, window: Window) -> np.ndarray:
    """Local relief: max minus min elevation in a square window of half-width ``radius_m``."""
    size = (2 * max(1, round(window.radius_m / dy)) + 1, 2 * max(1, round(window.radius_m / dx)) + 1)
    nan = np.isnan(z)
    hi = ndimage.maximum_filter(np.where(nan, -np.inf, z), size=size, mode="nearest")
    lo = ndimage.minimum_filter(np.where(nan, np.inf, z), size=size, mode="nearest")
    relief = hi - lo
    relief[nan] = np.nan
    return relief


def _apply_fence(r: np.ndarray, fence, grid: GridSpec, fence_resistance: float) -> None:
    """Raise fence cells (not gaps) to at least *fence_resistance*, in place (NaN = impassable)."""
    if isinstance(fence, xr.DataArray):
        cells = _raster_mask(fence, grid, "fence")
    elif isinstance(fence, (gpd.GeoDataFrame, gpd.GeoSeries)):
        gs = _check_vector_crs(fence, grid, "fence")
        kinds = gs.geom_type.str.replace("Multi", "", regex=False)
        if isinstance(fence, gpd.GeoDataFrame) and "gap" in fence.columns:
            flag = fence["gap"]
            if flag.isna().any() or not set(flag.unique()) <= {True, False, 0, 1}:
                raise ValidationError(f"fence: column `gap` must be boolean, got values {sorted(map(str, flag.unique()))[:5]}")
            is_gap = flag.astype(bool).to_numpy()
        else:
            is_gap = (kinds != "LineString").to_numpy()  # points and polygons mark gaps
        points_as_fence = ~is_gap & (kinds == "Point").to_numpy()
        if points_as_fence.any():
            raise ValidationError(
                "fence: point features with gap=False cannot be fences; mark them gap=True or use lines")
        lines = gs[~is_gap]
        # polygons with gap=False are fenced enclosures: their boundary is the fence
        lines = lines.where(~lines.geom_type.str.endswith("Polygon"), lines.boundary)
        # all_touched: a fence rasterised without it is only 8-connected, and 8-neighbour moves
        # would slip diagonally through it
        cells = _burn(lines.values, grid.shape, grid.transform, all_touched=True)
        cells &= ~_burn(gs[is_gap].values, grid.shape, grid.transform, all_touched=True)
    else:
        raise ValidationError(f"`fence` must be a GeoDataFrame, GeoSeries or DataArray, got {type(fence).__name__}")
    if not cells.any():
        warnings.warn("fence: no fence cell falls on the habitat raster (outside, or all gaps)",
                      TbpaWarning, stacklevel=3)
        return
    if math.isnan(fence_resistance):
        r[cells] = np.nan
    else:
        r[cells] = np.maximum(r[cells], fence_resistance)  # NaN (impassable) stays NaN
