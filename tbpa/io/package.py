"""Data packages: one GeoPackage of vector layers with QGIS styles, COG rasters, metadata.

Layout of a package folder::

    PACKAGE/
      vectors.gpkg          every vector layer + the QGIS ``layer_styles`` table
      rasters/NAME.tif      Cloud-Optimised GeoTIFFs (tiled, internal overviews, DEFLATE)
      rasters/NAME.qml      QGIS style beside each raster
      metadata.json         CRS, layers, provenance, tbpa version, parameters

The whole folder is built in a temporary sibling and renamed into place, so a failure
leaves no half package (and an earlier package at the same path is kept).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import xarray as xr

from .._atomic import atomic_dir
from ..errors import CRSError, EmptySelectionError, ValidationError
from .styles import raster_qml, vector_qml

__all__ = ["write_package"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def write_package(path, *, vectors: dict | None = None, rasters: dict | None = None,
                  styles: bool = True, metadata: dict | None = None) -> Path:
    """Write a deliverable data package (GeoPackage + COGs + QGIS styles + metadata.json).

    Parameters
    ----------
    path : str or Path
        Package folder to create (replaced atomically if it exists).
    vectors : dict of str -> GeoDataFrame
        Layer name -> layer (e.g. ``{"countries": ..., "sites": ..., "corridors": ...}``).
        Names: letters, digits, underscores, starting with a letter.
    rasters : dict of str -> xarray.DataArray
        Raster name -> 2-D DataArray with CRS (``habitat`` is styled with the unified legend).
    styles : bool
        Store QGIS styles (``layer_styles`` table and ``.qml`` files).
    metadata : dict, optional
        Extra provenance and parameters recorded in ``metadata.json`` (JSON-serialisable).

    Returns
    -------
    pathlib.Path
        The package folder.

    Examples
    --------
    >>> land = tbpa.sites.load_landscape("tumen_estuary")  # doctest: +SKIP
    >>> write_package("tumen_pkg", vectors={"sites": land.sites, "countries": land.countries})  # doctest: +SKIP
    """
    vectors, rasters = dict(vectors or {}), dict(rasters or {})
    if not vectors and not rasters:
        raise EmptySelectionError("write_package: pass at least one layer in `vectors` or `rasters`")
    _check_inputs(vectors, rasters)
    path = Path(path)
    with atomic_dir(path) as tmp:
        layers = _write_vectors(tmp / "vectors.gpkg", vectors, styles) if vectors else []
        grids = _write_rasters(tmp / "rasters", rasters, styles) if rasters else []
        meta = _metadata(layers, grids, metadata)
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str),
                                           encoding="utf-8")
    return path


def _check_inputs(vectors: dict, rasters: dict) -> None:
    for name, gdf in vectors.items():
        if not _NAME.match(str(name)):
            raise ValidationError(f"write_package: layer name {name!r} must match {_NAME.pattern}")
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise ValidationError(f"write_package: vectors[{name!r}] is {type(gdf).__name__}, not a GeoDataFrame")
        if gdf.crs is None:
            raise CRSError(f"write_package: vectors[{name!r}] has no CRS; set it with .set_crs(...)")
    for name, da in rasters.items():
        if not _NAME.match(str(name)):
            raise ValidationError(f"write_package: raster name {name!r} must match {_NAME.pattern}")
        if not isinstance(da, xr.DataArray) or da.ndim != 2:
            raise ValidationError(f"write_package: rasters[{name!r}] must be a 2-D DataArray")
        if da.rio.crs is None:
            raise CRSError(f"write_package: rasters[{name!r}] has no CRS; set it with da.rio.write_crs(...)")


def _gpkg_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy with column types GeoPackage can store (lists/dicts as JSON text)."""
    out = gdf.copy()
    out.attrs = {}
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object:
            sample = out[col].dropna()
            if len(sample) and isinstance(sample.iloc[0], (list, dict, tuple, set)):
                out[col] = out[col].map(lambda v: json.dumps(v, default=str) if v is not None else None)
    return out


def _write_vectors(gpkg: Path, vectors: dict, styles: bool) -> list[dict]:
    info, style_rows = [], []
    for name, gdf in vectors.items():
        pyogrio.write_dataframe(_gpkg_ready(gdf), gpkg, layer=name, driver="GPKG")
        info.append({"name": name, "features": int(len(gdf)), "crs": gdf.crs.to_wkt(),
                     "geometry_types": sorted(map(str, gdf.geom_type.dropna().unique())),
                     "columns": [c for c in gdf.columns if c != gdf.geometry.name]})
        if styles:
            style_rows.append({
                "f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                "f_geometry_column": "geom", "styleName": f"tbpa {name}", "styleQML": vector_qml(gdf, name),
                "styleSLD": "", "useAsDefault": True, "description": "tbpa default style",
                "owner": "tbpa", "ui": "", "update_time": _dt.datetime.now(_dt.timezone.utc).isoformat(),
            })
    if style_rows:  # QGIS reads default styles from this table when it opens the layer
        pyogrio.write_dataframe(pd.DataFrame(style_rows), gpkg, layer="layer_styles", driver="GPKG")
    return info


def _blocksize(shape) -> int:
    """Tile size giving at least one internal overview for small rasters too."""
    smallest = min(shape)
    for size in (512, 256, 128, 64, 32, 16):
        if smallest >= 2 * size:
            return size
    return 16


def _write_rasters(folder: Path, rasters: dict, styles: bool) -> list[dict]:
    folder.mkdir()
    info = []
    for name, da in rasters.items():
        target = folder / f"{name}.tif"
        data = da
        if data.dtype == bool:
            data = data.astype("uint8")
        nodata = data.rio.nodata
        if nodata is None and data.dtype.kind == "f":
            data = data.rio.write_nodata(np.nan, encoded=False)
        data.rio.to_raster(target, driver="COG", compress="DEFLATE", blocksize=_blocksize(data.shape),
                           overviews="AUTO", overview_resampling="nearest" if data.dtype.kind in "iu" else "average")
        if styles:
            (folder / f"{name}.qml").write_text(raster_qml(da, name), encoding="utf-8")
        info.append({"name": name, "file": f"rasters/{name}.tif", "shape": list(da.shape),
                     "dtype": str(da.dtype), "crs": da.rio.crs.to_wkt(),
                     "transform": list(da.rio.transform())[:6],
                     "attrs": {k: v for k, v in da.attrs.items() if isinstance(v, (str, int, float, bool))}})
    return info


def _metadata(layers, grids, extra) -> dict:
    from .. import __version__

    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "tbpa_version": __version__,
        "vectors": layers,
        "rasters": grids,
        "provenance": {
            "countries": "Natural Earth 1:10m admin-0 countries (public domain)",
            "sites": "tbpa site registry: schematic outlines digitised from published centroids, "
                     "extents and areas (not legal boundaries)",
        },
        "parameters": extra or {},
    }
