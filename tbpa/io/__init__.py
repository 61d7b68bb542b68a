"""Reading and writing rasters and vectors, with CRS and nodata made explicit.

Rasters in tbpa are 2-D rioxarray DataArrays in a projected metre CRS, float nodata = NaN.

Functions
---------
from_array, read_raster, write_raster
    Rasters (``rasters`` module).
read_wdpa, read_osm_protected_areas, read_boundaries, read_vector
    Protected-area polygons from WDPA, OpenStreetMap and national files (``vectors``), with
    DBF encoding detection (``encoding``).
write_package
    GeoPackage + Cloud-Optimised GeoTIFF deliverables with QGIS styles (``package``).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "from_array": "rasters",
    "read_raster": "rasters",
    "write_raster": "rasters",
    "read_wdpa": "vectors",
    "read_osm_protected_areas": "vectors",
    "read_boundaries": "vectors",
    "read_vector": "vectors",
    "detect_dbf_encoding": "encoding",
    "write_package": "package",
    "vector_qml": "styles",
    "raster_qml": "styles",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
