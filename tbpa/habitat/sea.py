"""Sea or inland water: the ``sea`` ancillary layer for the crosswalk rules.

Several land-cover products give all open water one code, lakes and sea alike: MODIS
MCD12C1 (0) and MCD12Q1 (17), ESA WorldCover (80), ESA CCI (210), and, wherever their
extent reaches the coast, CLCD (5) and TerraNorte (21). Country polygons alone cannot tell
the two apart either: a generalised coastline (Natural Earth 1:10m) leaves coastal sea
inside the land polygons. What separates a bay from a lake is connection: a bay opens
onto the sea, a lake does not. :func:`sea_layer` turns that into a raster the crosswalk
rules read (``sea==1`` -> 9.1 marine neritic, ``sea==0`` -> 5.5 lake ...).

Definition
    *Open water* is every water cell whose centre lies outside the land polygons. A water
    cell is **sea** (1) when it is joined to open water by a chain of water cells that
    share an edge (4-neighbours; ``connectivity=8`` adds corners) and that all lie within
    ``max_inland_m`` of open water (straight-line distance between cell centres). Every
    other cell is 0: lakes and reservoirs with no water connection, water reached only
    through land, nodata or a diagonal step, and river reaches farther than
    ``max_inland_m`` from open water (the limit stops a river, connected to the sea at its
    mouth, from turning marine all the way upstream). Open water itself is sea.

    Nodata cells connect nothing (unknown is not sea). Beyond the raster's edge the land
    polygons decide: the position one cell past an edge cell is open water when it lies
    outside the land but inside the land polygons' bounding box. So a lake cut by the
    raster's edge inside the land stays a lake, a bay cut by the edge where the coast runs
    on is sea, and land polygons clipped to the raster's own frame (the embedded countries
    and the MODIS clip share 84-143 E, 37-57 N) do not make every edge a coast.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import geopandas as gpd
import numpy as np
import xarray as xr
from affine import Affine
from pyproj import CRS

from .._geom import footprint
from ..errors import CRSError, ValidationError, TbpaWarning
from .crosswalks import _as_2d, _read, _resolve

__all__ = ["sea_layer", "DEFAULT_MAX_INLAND_M"]

#: Default reach of the sea inside the land polygons (metres): two 0.05-degree MODIS cells,
#: above the Natural Earth 1:10m coastline's generalisation (sea up to ~1 cell inside it).
DEFAULT_MAX_INLAND_M = 10_000.0
_SEA_TERM = re.compile(r"(^|&)\s*sea\s*(<=|>=|==|!=|<|>)")
_BAND_DEG = 1.0  # geographic rasters: metre spacing re-evaluated every degree of latitude


def _scheme_sea_codes(scheme: str) -> list[int]:
    """Source codes of *scheme* whose crosswalk rows have a rule on the ``sea`` layer."""
    return list(_sea_codes(_resolve(scheme)))


@lru_cache(maxsize=None)
def _sea_codes(name: str) -> tuple[int, ...]:
    # unify asks once per input and sea_layer again: scan each table's rules only once
    cw = _read(name)
    return tuple(sorted({int(c) for c, r in zip(cw.source_code, cw.rule) if _SEA_TERM.search(r or "")}))


def _land(land, raster, bounds) -> tuple[list, gpd.GeoSeries]:
    """Land polygons near *bounds* (raster CRS) reprojected to the raster's CRS, and the land."""
    if isinstance(land, gpd.GeoDataFrame):
        land = land.geometry
    if not isinstance(land, gpd.GeoSeries):
        raise ValidationError(
            f"sea_layer: `land` must be a GeoDataFrame or GeoSeries of land polygons with a CRS, "
            f"got {type(land).__name__}; e.g. tbpa.sites.load_countries()"
        )
    if land.crs is None:
        raise CRSError(
            "sea_layer: `land` has no CRS, so it cannot be placed on the raster; set it, e.g. "
            "land.set_crs('EPSG:4326') for longitude/latitude polygons"
        )
    land = land[land.notna() & ~land.is_empty]
    # clip by rectangle in the land's own CRS first (cheap, robust to invalid rings), then project
    minx, miny, maxx, maxy = footprint(bounds, raster.rio.crs).to_crs(land.crs).total_bounds
    padx, pady = 0.05 * (maxx - minx), 0.05 * (maxy - miny)
    clipped = land.clip_by_rect(minx - padx, miny - pady, maxx + padx, maxy + pady)
    clipped = clipped[~clipped.is_empty]
    if len(land) and not len(clipped):
        warnings.warn(
            "sea_layer: `land` does not overlap the raster, so every water cell counts as sea; "
            f"check the CRS of `land` ({land.crs}) and of the raster ({raster.rio.crs})",
            TbpaWarning, stacklevel=3,
        )
    return [g for g in clipped.to_crs(raster.rio.crs) if g is not None and not g.is_empty], land


def _beyond_edge_known(land: gpd.GeoSeries, crs, transform: Affine, shape) -> np.ndarray:
    """Padded-grid ring cells whose centres fall inside the land's bounding box."""
    from pyproj import Transformer

    ring = np.ones(shape, dtype=bool)
    ring[1:-1, 1:-1] = False
    if not len(land):
        return np.zeros(shape, dtype=bool)
    rows, cols = np.nonzero(ring)
    xs, ys = transform * (cols + 0.5, rows + 0.5)
    lx, ly = Transformer.from_crs(crs, land.crs, always_xy=True).transform(xs, ys)
    minx, miny, maxx, maxy = land.total_bounds
    known = np.zeros(shape, dtype=bool)
    known[rows, cols] = (lx > minx) & (lx < maxx) & (ly > miny) & (ly < maxy)
    return known


def _water_mask(values, scheme, water) -> tuple[np.ndarray, str]:
    if water is not None:
        arr = water.values if isinstance(water, xr.DataArray) else np.asarray(water)
        if arr.dtype == bool and arr.shape == values.shape:
            return arr, "mask"
        codes = np.atleast_1d(arr).ravel()
        if codes.dtype.kind not in "uif" or codes.size == 0:
            raise ValidationError(
                "sea_layer: `water` must be class codes (e.g. [0, 17]) or a boolean mask of the "
                f"raster's shape {values.shape}"
            )
        return np.isin(values, codes), f"codes {codes.tolist()}"
    if scheme is None:
        raise ValidationError(
            "sea_layer: say which cells are water: scheme='modis_igbp' (its water classes are the "
            "codes whose crosswalk rules read `sea`) or water=[codes]"
        )
    codes = _scheme_sea_codes(scheme)
    if not codes:
        raise ValidationError(
            f"sea_layer: no class of scheme {scheme!r} has a rule on the `sea` layer (its water "
            "classes do not include the sea, or it codes the sea separately); pass water=[codes] "
            "to build the layer anyway"
        )
    return np.isin(values, codes), f"{scheme} codes {codes}"


def _cell_metres(crs: CRS, res: tuple[float, float], lat: float) -> tuple[float, float]:
    """(row spacing, column spacing) in metres; geodesic at latitude *lat* if geographic."""
    rx, ry = res
    if crs.is_geographic:
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        dx = geod.inv(0.0, lat, rx, lat)[2]
        dy = geod.inv(0.0, lat - ry / 2, 0.0, lat + ry / 2)[2]
        return dy, dx
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return ry * factor, rx * factor


def _near_open(open_water: np.ndarray, crs: CRS, res, row_y: np.ndarray, max_m: float) -> np.ndarray:
    """Cells within *max_m* metres of an open-water cell (Euclidean, between cell centres)."""
    from scipy import ndimage

    n = open_water.shape[0]
    if not crs.is_geographic:
        dy, dx = _cell_metres(crs, res, 0.0)
        return ndimage.distance_transform_edt(~open_water, sampling=(dy, dx)) <= max_m
    # degrees: the metre width of a column shrinks with latitude, so measure band by band,
    # each band padded by enough rows to see every open cell within max_m of it
    step = max(1, int(_BAND_DEG / res[1]))
    out = np.zeros(open_water.shape, dtype=bool)
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        dy, dx = _cell_metres(crs, res, float(np.mean(row_y[r0:r1])))
        pad = int(np.ceil(max_m / dy)) + 1
        a0, a1 = max(0, r0 - pad), min(n, r1 + pad)
        sub = open_water[a0:a1]
        if sub.any():
            d = ndimage.distance_transform_edt(~sub, sampling=(dy, dx))
            out[r0:r1] = d[r0 - a0 : r1 - a0] <= max_m
    return out


def sea_layer(raster: xr.DataArray, land, *, scheme: str | None = None, water=None,
              max_inland_m: float | None = DEFAULT_MAX_INLAND_M, connectivity: int = 4) -> xr.DataArray:
    """Which water cells of a land-cover raster belong to the sea (1) rather than inland water (0).

    Parameters
    ----------
    raster : xarray.DataArray
        2-D class raster with a CRS, in its own codes (any CRS; distances are measured in
        metres, on the ellipsoid for geographic rasters).
    land : geopandas.GeoDataFrame or GeoSeries
        Land polygons with a CRS (reprojected to the raster's), e.g. the countries around
        the raster (:func:`tbpa.sites.load_countries`). Their union is the land; water
        outside it is open sea. Use polygons that cover the raster's whole extent: water
        inside the raster beyond a polygon edge that is not a coast (a study frame cutting
        through the raster) would count as sea.
    scheme : str, optional
        Land-cover scheme of *raster*; its water classes are the codes whose crosswalk rows
        have a rule on ``sea`` (e.g. ``modis_igbp``: 0 and 17).
    water : sequence of int or boolean array, optional
        Water cells given directly: class codes, or a boolean mask of the raster's shape.
        Overrides *scheme*.
    max_inland_m : float or None
        How far from open water (metres) sea may reach inside the land polygons; ``None``
        for no limit. The default (10 km) spans the Natural Earth 1:10m coastline's
        generalisation at 0.05-degree MODIS cells while keeping rivers inland.
    connectivity : {4, 8}
        Water cells connect through shared edges (4) or also through corners (8).

    Returns
    -------
    xarray.DataArray
        ``uint8`` named ``sea`` on the raster's grid: 1 for sea water, 0 for every other
        cell (inland water, land, nodata). Pass it as ``ancillary={"sea": layer}`` to
        :func:`~tbpa.habitat.reclassify`, or let :func:`~tbpa.habitat.unify` derive it
        (``ancillary="auto"``).

    Raises
    ------
    CRSError
        *raster* or *land* has no CRS.
    ValidationError
        Neither *scheme* nor *water* says which cells are water, or *scheme* has no rule on
        ``sea``.

    Notes
    -----
    A water cell is sea when a chain of edge-sharing water cells, each within
    *max_inland_m* of open water, joins it to open water: water outside the land, and,
    one cell beyond the raster's edge, any position outside the land but inside the land
    polygons' bounding box (see the module docstring). Nodata never connects. The result
    inherits the accuracy of *land* and of the raster: a coastal lagoon that opens onto
    the sea through a channel narrower than a cell stays inland water, and a coastal lake
    that the raster joins to the sea becomes sea. Land clipped to a non-rectangular study
    area makes the area between that outline and its bounding box "sea" beyond the edge.

    Examples
    --------
    A bay (left column) reaching the open sea south of the land, and a lake inside the land:

    >>> import numpy as np, geopandas as gpd
    >>> from affine import Affine
    >>> from shapely.geometry import box
    >>> from tbpa.io import from_array
    >>> lc = from_array(np.array([[0, 10, 10, 10],
    ...                           [0, 10,  0, 10],
    ...                           [0, 10, 10, 10],
    ...                           [0,  0,  0,  0]], dtype="uint8"),
    ...                 transform=Affine(1000, 0, 500_000, 0, -1000, 4_704_000), crs="EPSG:32652")
    >>> land = gpd.GeoSeries([box(500_000, 4_701_000, 504_000, 4_704_000)], crs="EPSG:32652")
    >>> sea_layer(lc, land, scheme="modis_igbp").values.tolist()
    [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]]
    """
    from scipy import ndimage
    from rasterio.features import rasterize

    raster = _as_2d(raster, "sea_layer")
    if connectivity not in (4, 8):
        raise ValidationError(f"sea_layer: `connectivity` must be 4 or 8, got {connectivity!r}")
    if max_inland_m is not None and not (np.isscalar(max_inland_m) and float(max_inland_m) >= 0):
        raise ValidationError(
            f"sea_layer: `max_inland_m` must be a distance >= 0 in metres or None, got {max_inland_m!r}"
        )
    values = np.asarray(raster.values)
    is_water, water_label = _water_mask(values, scheme, water)
    # work on the grid grown by one cell on every side: the ring stands for what lies beyond
    shape = (values.shape[0] + 2, values.shape[1] + 2)
    transform = raster.rio.transform() * Affine.translation(-1, -1)
    bounds = (*(transform * (0, shape[0])), *(transform * (shape[1], 0)))
    geoms, land = _land(land, raster, bounds)
    on_land = np.zeros(shape, dtype=bool)
    if geoms:
        on_land = rasterize([(g, 1) for g in geoms], out_shape=shape, transform=transform,
                            fill=0, dtype="uint8").astype(bool)
    water_pad = np.pad(is_water, 1, constant_values=False)
    beyond = _beyond_edge_known(land, raster.rio.crs, transform, shape)
    open_water = (water_pad | beyond) & ~on_land
    sea = np.zeros(values.shape, dtype=np.uint8)
    if open_water.any():
        path = water_pad | open_water
        if max_inland_m is not None:
            crs = CRS.from_user_input(raster.rio.crs)
            res = tuple(abs(float(v)) for v in raster.rio.resolution())
            row_y = (transform * (np.zeros(shape[0]), np.arange(shape[0]) + 0.5))[1]
            path &= _near_open(open_water, crs, res, row_y, float(max_inland_m))
        structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
        labels, n = ndimage.label(path, structure=structure)
        reaches_sea = np.zeros(n + 1, dtype=bool)
        reaches_sea[labels[open_water]] = True  # open water is on the path (distance 0)
        reaches_sea[0] = False
        sea = (reaches_sea[labels] & water_pad)[1:-1, 1:-1].astype(np.uint8)
    out = raster.copy(data=sea).rename("sea")
    out.attrs = {
        "long_name": "water connected to the open sea (1) or not (0)",
        "units": "1",
        "water": water_label,
        "max_inland_m": "none" if max_inland_m is None else float(max_inland_m),
        "connectivity": connectivity,
    }
    out.encoding = {}
    return out.rio.write_nodata(None, encoded=False)
