"""``tbpa demo``: run tbpa end to end on the embedded landscapes and write the results.

The demo is a list of *stages* (:data:`STAGES`); each is a function
``stage(out_dir, landscapes, progress) -> dict[str, Path]`` that writes its files into the
output directory and returns them by key. Later work adds habitat, connectivity and planning
stages by appending to the list; :func:`run_demo` runs them in order.

Stage ``boundaries`` writes, for every landscape, ``<landscape>.gpkg`` (layers ``countries``,
``sites``, ``borders``, ``aoi``; the Tumen estuary file also holds ``tumen_options``) and
``<landscape>_overview.png``, a map of the countries and the sites labelled in English with a
"Schematic boundaries" notice. All files are written atomically.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import geopandas as gpd

from ._atomic import atomic_path
from .options import resolve_progress
from .sites import LANDSCAPES, Landscape, load_landscape, load_tumen_options

__all__ = ["run_demo", "STAGES", "stage_boundaries", "write_landscape_gpkg", "overview_map"]

log = logging.getLogger("tbpa")

SCHEMATIC_NOTICE = (
    "Schematic boundaries: site outlines digitised from published centroids, extents and "
    "areas - not official. Countries: Natural Earth 1:10m."
)


def write_landscape_gpkg(landscape: Landscape, path: Path, *, extra: dict | None = None) -> Path:
    """Write a landscape's layers (countries, sites, borders, aoi, + *extra*) to one GeoPackage."""
    aoi = gpd.GeoDataFrame({"name": [landscape.name], "area_km2": [landscape.aoi_area_km2]},
                           geometry=[landscape.aoi], crs=landscape.crs)
    layers = {"countries": landscape.countries, "sites": landscape.sites,
              "borders": landscape.borders, "aoi": aoi, **(extra or {})}
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG")
    return path


def overview_map(landscape: Landscape, path: Path, *, dpi: int = 120) -> Path:
    """PNG overview map of a landscape with a visible "Schematic boundaries" notice."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 9))
    ax = fig.add_subplot(1, 1, 1)
    landscape.plot(ax=ax)
    ax.set_title(f"{landscape.name.replace('_', ' ').title()}: overview (schematic boundaries)")
    fig.text(0.5, 0.015, SCHEMATIC_NOTICE, ha="center", va="bottom", fontsize=8, wrap=True,
             bbox={"boxstyle": "round", "facecolor": "#fff3cd", "edgecolor": "#b8860b"})
    fig.subplots_adjust(bottom=0.1)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path


def stage_boundaries(out_dir: Path, landscapes, progress: bool) -> dict[str, Path]:
    """Stage 1: GeoPackage + overview map for every landscape."""
    from tqdm.auto import tqdm

    written: dict[str, Path] = {}
    for name in tqdm(landscapes, desc="boundaries", disable=not progress):
        ls = load_landscape(name)
        extra = {"tumen_options": load_tumen_options(crs=ls.crs)} if name == "tumen_estuary" else None
        written[f"{name}/gpkg"] = write_landscape_gpkg(ls, out_dir / f"{name}.gpkg", extra=extra)
        written[f"{name}/map"] = overview_map(ls, out_dir / f"{name}_overview.png")
        log.info("demo: %s -> %s, %s", name, written[f"{name}/gpkg"], written[f"{name}/map"])
    return written


#: Demo stages in order: (name, function). Extend by appending.
STAGES: list[tuple[str, Callable[[Path, list, bool], dict]]] = [
    ("boundaries", stage_boundaries),
]


def run_demo(out_dir="tbpa-demo", *, landscapes=None, progress: bool | None = None) -> dict[str, Path]:
    """Run every demo stage on the embedded landscapes.

    Parameters
    ----------
    out_dir : str or Path
        Directory to write into (created if missing; existing demo files are replaced).
    landscapes : list of str, optional
        Subset of :data:`tbpa.sites.LANDSCAPES` (default: all six).
    progress : bool, optional
        Show progress bars (default: the ``progress`` option).

    Returns
    -------
    dict
        ``"<landscape>/<kind>" -> Path`` of every file written.

    Examples
    --------
    >>> from tbpa.demo import run_demo
    >>> paths = run_demo("tbpa-demo", landscapes=["khanka"])  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['khanka/gpkg', 'khanka/map']
    """
    from .sites import _check_landscape

    names = list(LANDSCAPES) if landscapes is None else [_check_landscape(n) for n in landscapes]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    show = resolve_progress(progress)
    written: dict[str, Path] = {}
    for _, stage in STAGES:
        written.update(stage(out, names, show))
    return written
