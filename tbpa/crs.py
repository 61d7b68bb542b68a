"""Coordinate reference systems: the analysis CRS and conversions.

tbpa computes areas, distances and costs in a projected, equal-area CRS in metres. North-East
Asian landscapes straddle UTM zones (the Land of Big Cats lies across zones 52 and 53), so
the analysis CRS is a Lambert azimuthal equal-area projection centred on the data, never UTM.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
from pyproj import CRS

from .errors import CRSError, EmptySelectionError

__all__ = ["equal_area_crs", "to_analysis_crs", "require_projected_crs"]

log = logging.getLogger("tbpa")


def _lonlat_bounds(geodata) -> tuple[float, float, float, float]:
    if isinstance(geodata, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if len(geodata) == 0:
            raise EmptySelectionError("equal_area_crs: `geodata` is empty; pass at least one feature")
        if geodata.crs is None:
            raise CRSError(
                "equal_area_crs: `geodata` has no CRS; set it with gdf.set_crs('EPSG:4326') "
                "if the coordinates are longitude/latitude"
            )
        return tuple(geodata.to_crs(4326).total_bounds)
    if hasattr(geodata, "rio"):  # xarray raster
        if geodata.rio.crs is None:
            raise CRSError("equal_area_crs: raster has no CRS; set it with da.rio.write_crs(...)")
        return tuple(geodata.rio.transform_bounds("EPSG:4326"))
    if len(geodata) == 4:  # (minlon, minlat, maxlon, maxlat)
        return tuple(float(v) for v in geodata)
    raise CRSError(
        f"equal_area_crs: cannot read an extent from {type(geodata).__name__}; pass a "
        "GeoDataFrame, a raster DataArray or (minlon, minlat, maxlon, maxlat)"
    )


def equal_area_crs(geodata) -> CRS:
    """Lambert azimuthal equal-area CRS centred on the extent of *geodata*.

    Parameters
    ----------
    geodata : GeoDataFrame, GeoSeries, DataArray or tuple
        Anything with a CRS, or a (minlon, minlat, maxlon, maxlat) tuple in degrees.

    Returns
    -------
    pyproj.CRS
        ``+proj=laea`` with the centre rounded to 0.1 degree (so nearby calls agree), WGS 84
        datum, metre units.

    Examples
    --------
    >>> crs = equal_area_crs((130.0, 42.0, 132.0, 44.0))
    >>> crs.to_proj4()
    '+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs +type=crs'
    """
    minx, miny, maxx, maxy = _lonlat_bounds(geodata)
    lon0 = round((minx + maxx) / 2, 1)
    lat0 = round((miny + maxy) / 2, 1)
    fmt = lambda v: f"{v:g}"  # noqa: E731
    crs = CRS.from_proj4(
        f"+proj=laea +lat_0={fmt(lat0)} +lon_0={fmt(lon0)} +x_0=0 +y_0=0 "
        "+datum=WGS84 +units=m +no_defs"
    )
    log.info("equal_area_crs: Lambert azimuthal equal-area centred on %.1f E, %.1f N", lon0, lat0)
    return crs


def to_analysis_crs(obj, crs=None):
    """Reproject a GeoDataFrame or raster to *crs* (default: :func:`equal_area_crs` of it).

    Rasters are reprojected with nearest-neighbour resampling when integer (categorical)
    and bilinear when float; pass your own ``rio.reproject`` call for anything else.
    """
    crs = equal_area_crs(obj) if crs is None else CRS.from_user_input(crs)
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return obj.to_crs(crs)
    from rasterio.enums import Resampling

    categorical = np.issubdtype(obj.dtype, np.integer)
    return obj.rio.reproject(crs, resampling=Resampling.nearest if categorical else Resampling.bilinear)


def require_projected_crs(crs, name: str) -> CRS:
    """Return *crs* as pyproj.CRS, raising CRSError unless it is projected in metres."""
    if crs is None:
        raise CRSError(f"`{name}` has no CRS; set one (gdf.set_crs / da.rio.write_crs)")
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        raise CRSError(
            f"`{name}` is in {crs.to_string()} (geographic, degrees) but metres are needed; "
            f"reproject first, e.g. {name}.to_crs(tbpa.crs.equal_area_crs({name}))"
        )
    return crs
