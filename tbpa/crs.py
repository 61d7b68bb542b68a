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

__all__ = [
    "equal_area_crs", "to_analysis_crs", "require_projected_crs",
    "wgs84_to_gcj02", "gcj02_to_wgs84", "wgs84_to_bd09", "bd09_to_wgs84",
    "gcj02_to_bd09", "bd09_to_gcj02", "in_china_bbox",
]

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


# =============================================================================================
# GCJ-02 and BD-09: the offset coordinates of Chinese web maps
# =============================================================================================
# Maps published in China (AMap/Gaode, Tencent, Google Maps China) show coordinates in GCJ-02,
# WGS 84 shifted by an obfuscating, smoothly varying offset of a few hundred metres; Baidu
# adds a second shift (BD-09). The algorithm below is the widely published definition
# (a polynomial + sine series in (lon - 105, lat - 35), scaled to degrees on the Krasovsky
# ellipsoid a = 6378245 m, e^2 = 0.00669342162296594323). It is implemented here from that
# definition; nothing is copied. The offset only applies in China; like every public
# implementation we test "in China" with the rough rectangle 72.004-137.8347 E,
# 0.8293-55.8271 N. That rectangle also covers Mongolia, both Koreas and the Russian Far East
# south of 55.8 N: coordinates there are shifted too, so convert only the features you
# actually digitised from a Chinese web map.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)  # lon_min, lat_min, lon_max, lat_max
_BD_X_PI = np.pi * 3000.0 / 180.0


def in_china_bbox(lon, lat) -> np.ndarray:
    """True where (lon, lat) lies in the rough China rectangle used for GCJ-02.

    The rectangle is 72.004-137.8347 E, 0.8293-55.8271 N, the conventional test of the
    published GCJ-02 implementations; it is wider than China (see the module notes).
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = _CHINA_BBOX
    return (lon > x0) & (lon < x1) & (lat > y0) & (lat < y1)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS 84 at WGS 84 (lon, lat), in degrees (defined everywhere)."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    # The series is in metres; convert with the Krasovsky radii of curvature at lat.
    rad = np.radians(lat)
    w = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    meridian = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (w * np.sqrt(w))
    normal = _KRASOVSKY_A / np.sqrt(w)
    return np.degrees(dlon / (normal * np.cos(rad))), np.degrees(dlat / meridian)


def _gcj_forward(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    inside = in_china_bbox(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _invert(forward, lon, lat, *, tol: float = 1e-9, max_iter: int = 50):
    """Solve forward(w) = (lon, lat) for w by fixed-point iteration.

    The offset's derivative is about 5e-3, so the map w -> w - (forward(w) - target)
    contracts by that factor per step: four or five steps bring the residual below 1e-9
    degrees (0.1 mm), and the last update leaves an error near 1e-11 degrees.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iter):
        flon, flat = forward(wlon, wlat)
        elon, elat = flon - lon, flat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if not (np.nanmax(np.abs(elon), initial=0.0) > tol or np.nanmax(np.abs(elat), initial=0.0) > tol):
            break
    return wlon, wlat


def _gcj_inverse(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = in_china_bbox(lon, lat)
    wlon, wlat = _invert(_gcj_forward, lon, lat)
    return np.where(inside, wlon, lon), np.where(inside, wlat, lat)


def _bd_forward(lon, lat):
    """GCJ-02 -> BD-09 (Baidu's published second shift), inside the China rectangle."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    inside = in_china_bbox(lon, lat)
    return (
        np.where(inside, z * np.cos(theta) + 0.0065, lon),
        np.where(inside, z * np.sin(theta) + 0.006, lat),
    )


def _bd_inverse(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    inside = in_china_bbox(lon, lat)
    glon, glat = _invert(_bd_forward, lon, lat)
    return np.where(inside, glon, lon), np.where(inside, glat, lat)


def _apply(func, name: str, lon, lat):
    """Run a (lon, lat) -> (lon, lat) conversion on scalars, arrays or geodata."""
    if isinstance(lon, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if lat is not None:
            raise TypeError(f"{name}: pass a GeoDataFrame/GeoSeries alone, without `lat`")
        return _apply_geodata(func, name, lon)
    if lat is None:
        raise TypeError(f"{name}: pass `lon` and `lat` (arrays or scalars), or one GeoDataFrame")
    out_lon, out_lat = func(lon, lat)
    if np.ndim(out_lon) == 0:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


def _apply_geodata(func, name: str, geodata):
    import shapely

    if geodata.crs is None or not CRS.from_user_input(geodata.crs).equals(
        CRS.from_epsg(4326), ignore_axis_order=True
    ):
        got = "no CRS" if geodata.crs is None else CRS.from_user_input(geodata.crs).to_string()
        raise CRSError(
            f"{name}: `geodata` must hold longitude/latitude labelled EPSG:4326 (GCJ-02 and "
            f"BD-09 are offsets of WGS 84 degrees) but has {got}; use "
            "geodata.set_crs(4326) for coordinates copied from a web map, or "
            "geodata.to_crs(4326) for projected data"
        )

    def _xy(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    geoms = geodata.geometry.values
    has_z = bool(np.any(shapely.has_z(np.asarray(geoms))))
    new = shapely.transform(np.asarray(geoms), _xy, include_z=has_z)
    result = geodata.copy()
    if isinstance(result, gpd.GeoDataFrame):
        result[result.geometry.name] = gpd.GeoSeries(new, index=result.index, crs=result.crs)
    else:
        result = gpd.GeoSeries(new, index=result.index, crs=result.crs, name=result.name)
    return result


def wgs84_to_gcj02(lon, lat=None):
    """Shift WGS 84 longitude/latitude to GCJ-02 (the coordinates of Chinese web maps).

    Parameters
    ----------
    lon, lat : float or array-like
        WGS 84 degrees; any broadcastable shapes. Alternatively pass one GeoDataFrame or
        GeoSeries in EPSG:4326 as *lon* (and no *lat*) to get a converted copy.

    Returns
    -------
    tuple of float, tuple of numpy.ndarray, or GeoDataFrame/GeoSeries
        GCJ-02 (lon, lat). Points outside the rough China rectangle (72.004-137.8347 E,
        0.8293-55.8271 N) are returned unchanged.

    Raises
    ------
    CRSError
        A GeoDataFrame/GeoSeries not in EPSG:4326.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon - 116.404, 4), round(lat - 39.915, 4)
    (0.0062, 0.0014)
    """
    return _apply(_gcj_forward, "wgs84_to_gcj02", lon, lat)


def gcj02_to_wgs84(lon, lat=None):
    """Convert GCJ-02 longitude/latitude (AMap, Tencent, Google China) back to WGS 84.

    The inverse has no closed form; it is solved by fixed-point iteration until the
    residual is below 1e-9 degrees (0.1 mm), not by the common one-step approximation,
    which is off by 0.7 m on median and up to about 5 m.

    Parameters
    ----------
    lon, lat : float or array-like
        GCJ-02 degrees, or one GeoDataFrame/GeoSeries labelled EPSG:4326 as *lon*.

    Returns
    -------
    tuple of float, tuple of numpy.ndarray, or GeoDataFrame/GeoSeries
        WGS 84 (lon, lat); points outside the China rectangle unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(131.0, 43.0))
    >>> round(lon, 9), round(lat, 9)
    (131.0, 43.0)
    """
    return _apply(_gcj_inverse, "gcj02_to_wgs84", lon, lat)


def gcj02_to_bd09(lon, lat=None):
    """Convert GCJ-02 to Baidu's BD-09 (published rotation-and-shift formula).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410369, 39.921337)
    """
    return _apply(_bd_forward, "gcj02_to_bd09", lon, lat)


def bd09_to_gcj02(lon, lat=None):
    """Convert Baidu BD-09 to GCJ-02 (iterated inverse of :func:`gcj02_to_bd09`).

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(116.404, 39.915))
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    """
    return _apply(_bd_inverse, "bd09_to_gcj02", lon, lat)


def wgs84_to_bd09(lon, lat=None):
    """Convert WGS 84 to Baidu BD-09 (WGS 84 -> GCJ-02 -> BD-09).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.404, 39.915)
    >>> round(lon - 116.404, 3), round(lat - 39.915, 3)
    (0.013, 0.008)
    """
    return _apply(lambda x, y: _bd_forward(*_gcj_forward(x, y)), "wgs84_to_bd09", lon, lat)


def bd09_to_wgs84(lon, lat=None):
    """Convert Baidu BD-09 longitude/latitude (Baidu Maps) to WGS 84.

    Both steps (BD-09 -> GCJ-02 -> WGS 84) are solved iteratively, so the round trip with
    :func:`wgs84_to_bd09` is exact to far below 0.5 m.

    Parameters
    ----------
    lon, lat : float or array-like
        BD-09 degrees, or one GeoDataFrame/GeoSeries labelled EPSG:4326 as *lon*.

    Returns
    -------
    tuple of float, tuple of numpy.ndarray, or GeoDataFrame/GeoSeries
        WGS 84 (lon, lat); points outside the China rectangle unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(130.3, 42.8))
    >>> round(lon, 9), round(lat, 9)
    (130.3, 42.8)
    """
    return _apply(lambda x, y: _gcj_inverse(*_bd_inverse(x, y)), "bd09_to_wgs84", lon, lat)
