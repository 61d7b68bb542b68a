"""tbpa: transboundary protected areas and wildlife corridors.

Submodules
----------
sites, boundaries
    The embedded site registry on Natural Earth country polygons; harmonising national layers.
io
    Rasters (``from_array``), WDPA/OSM/national readers, data packages.
crs
    Equal-area analysis CRS, GCJ-02/BD-09 conversions.
habitat, species
    Unified IUCN habitat legend, crosswalks, resistance surfaces, species profiles.
connectivity
    Least-cost, circuit theory (Circuitscape-compatible), Omniscape, PC/IIC/ProtConn.
circuitscape, omniscape
    Run Circuitscape/Omniscape ``.ini`` files unchanged.
planning
    Corridor scoring, boundary comparison and optimisation.
maps
    Multilingual unified maps.
monitoring
    Camera-trap and GPS data across borders.
"""

from __future__ import annotations

import importlib
import logging

from . import errors
from .options import get_option, set_options

__version__ = "0.1.0"

logging.getLogger("tbpa").addHandler(logging.NullHandler())

_SUBMODULES = (
    "sites", "boundaries", "io", "crs", "habitat", "species", "connectivity", "circuitscape",
    "omniscape", "planning", "maps", "monitoring", "demo",
)

__all__ = ["__version__", "errors", "get_option", "set_options", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"tbpa.{name}")
    raise AttributeError(f"module 'tbpa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
