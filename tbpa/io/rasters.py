"""Raster construction, reading and atomic writing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from pyproj import CRS

from .._atomic import atomic_path
from ..errors import CRSError, DataError, ValidationError

__all__ = ["from_array", "read_raster", "write_raster"]


def from_array(values, *, transform, crs, nodata=None, name: str | None = None) -> xr.DataArray:
    """Wrap a 2-D numpy array as a georeferenced rioxarray DataArray.

    Parameters
    ----------
    values : array_like
        2-D array, row 0 at the top (north).
    transform : affine.Affine or sequence of 6 floats
        Affine transform of the upper-left corner (GDAL order a, b, c, d, e, f).
    crs : anything pyproj accepts
        Coordinate reference system of *transform*. There is no default: a raster without
        a CRS cannot be placed on the ground.
    nodata : float, optional
        Nodata value written to the raster's metadata. Float arrays use NaN by default.
    name : str, optional
        Variable name.

    Returns
    -------
    xarray.DataArray
        Dims ``("y", "x")`` with cell-centre coordinates, CRS and transform set.

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> da = from_array(np.ones((3, 4)), transform=Affine(100, 0, 0, 0, -100, 300),
    ...                 crs="EPSG:3857")
    >>> da.rio.resolution()
    (100.0, -100.0)
    """
    arr = np.asarray(values)
    if arr.ndim != 2:
        raise ValidationError(f"from_array: `values` must be 2-D, got shape {arr.shape}")
    if crs is None:
        raise CRSError("from_array: `crs` is None; pass the CRS of `transform`, e.g. 'EPSG:3035'")
    if transform is None:
        raise ValidationError("from_array: `transform` is None; pass an affine.Affine")
    if not isinstance(transform, Affine):
        transform = Affine(*list(transform)[:6])
    crs = CRS.from_user_input(crs)
    rows, cols = arr.shape
    xs = transform.c + (np.arange(cols) + 0.5) * transform.a
    ys = transform.f + (np.arange(rows) + 0.5) * transform.e
    da = xr.DataArray(arr, dims=("y", "x"), coords={"y": ys, "x": xs}, name=name)
    # inplace: the DataArray is new, and copying it would double memory on large grids
    da.rio.write_crs(crs, inplace=True)
    da.rio.write_transform(transform, inplace=True)
    if nodata is None and np.issubdtype(arr.dtype, np.floating):
        nodata = np.nan
    if nodata is not None:
        da.rio.write_nodata(nodata, encoded=False, inplace=True)
    return da


def read_raster(path: str | os.PathLike, *, band: int = 1, masked: bool = True) -> xr.DataArray:
    """Read one band of a raster file (GeoTIFF, ASCII grid, ...) as a 2-D DataArray.

    Nodata cells become NaN when *masked* (the array is then float). Raises
    :class:`~tbpa.errors.CRSError` if the file has no CRS.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"read_raster: no file at {str(path)!r}")
    da = rioxarray.open_rasterio(path, masked=masked)
    if "band" in da.dims:
        da = da.sel(band=band, drop=True)
    if da.rio.crs is None:
        raise CRSError(
            f"read_raster: {str(path)!r} has no CRS; add one, e.g. with "
            "da.rio.write_crs('EPSG:...') or gdal_edit.py -a_srs"
        )
    return da.load()


def write_raster(da: xr.DataArray, path: str | os.PathLike, **profile) -> Path:
    """Write a DataArray to GeoTIFF atomically (temporary file, then rename).

    Extra keyword arguments go to ``rio.to_raster`` (e.g. ``compress="DEFLATE"``).
    """
    if da.rio.crs is None:
        raise CRSError("write_raster: `da` has no CRS; set it with da.rio.write_crs(...)")
    path = Path(path)
    profile.setdefault("compress", "DEFLATE")
    with atomic_path(path) as tmp:
        da.rio.to_raster(tmp, **profile)
    return path
