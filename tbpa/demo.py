"""``tbpa demo``: run tbpa end to end on the embedded data and write the deliverables.

Stages (:data:`STAGES`, run in order by :func:`run_demo`), each a function
``stage(ctx: DemoContext) -> dict[str, Path]``:

``boundaries``
    For every landscape a GeoPackage (countries, sites, borders, AOI) and an overview map.
``land_of_big_cats``
    Unified habitat from the national samples; Amur leopard and Amur tiger resistance;
    corridor networks between the TLNP, LLNP, Kedrovaya Pad, Hunchun and Wangqing cores;
    pairwise current; border flow along the China-Russia border; scored corridors;
    unified map and habitat map.
``tumen_estuary``
    Comparison of the draft boundary options A/B/C, an optimised proposal (integer
    programme on hexagonal planning units), the joint species list; boundary options map.
``protconn``
    ProtConn per country with the transboundary fraction for Dauria and the Land of Big Cats.
``package``
    The data package (GeoPackage with QGIS styles, COGs, metadata.json) and ``report.html``.

All files are written atomically. Embedded site outlines are schematic and the national
land-cover samples synthetic; every map and the report say so.
"""

from __future__ import annotations

import logging
from pathlib import Path
import time
from dataclasses import dataclass, field
from typing import Callable

import geopandas as gpd

from ._atomic import atomic_path
from .options import resolve_progress
from .sites import LANDSCAPES, Landscape, load_landscape, load_tumen_options

__all__ = ["run_demo", "STAGES", "DemoContext", "stage_boundaries", "stage_land_of_big_cats",
           "stage_tumen_estuary", "stage_protconn", "stage_package", "write_landscape_gpkg", "overview_map",
           "tumen_proposal", "nested_cores", "china_russia_border"]

log = logging.getLogger("tbpa")

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
    """PNG overview map of a landscape, in the style of the unified map deliverables.

    Labels in English and the national languages of the landscape's countries; scale bar,
    north arrow, graticule, locator inset and the boxed "schematic boundaries" notice come
    from :func:`tbpa.maps.unified_map`.
    """
    import matplotlib.pyplot as plt

    from .maps import save_figure, unified_map
    from .maps.layers import landscape_languages
    from .maps.unified import _display_name

    title = f"{_display_name(landscape)}: overview"
    fig = unified_map(landscape, lang=landscape_languages(landscape.countries), title=title)
    try:
        return save_figure(fig, path, dpi=dpi)
    finally:
        plt.close(fig)


def stage_boundaries(ctx: "DemoContext") -> dict[str, Path]:
    """Stage 1: GeoPackage + overview map for every landscape."""
    from tqdm.auto import tqdm

    out_dir = ctx.out_dir
    written: dict[str, Path] = {}
    for name in tqdm(ctx.landscapes, desc="boundaries", disable=not ctx.progress):
        ls = load_landscape(name)
        extra = {"tumen_options": load_tumen_options(crs=ls.crs)} if name == "tumen_estuary" else None
        written[f"{name}/gpkg"] = write_landscape_gpkg(ls, out_dir / f"{name}.gpkg", extra=extra)
        written[f"{name}/map"] = overview_map(ls, out_dir / f"{name}_overview.png")
        log.info("demo: %s -> %s, %s", name, written[f"{name}/gpkg"], written[f"{name}/map"])
    return written


# ------------------------------------------------------------------------------ context
@dataclass
class DemoContext:
    """What the stages share: where to write, which landscapes, and what to package/report."""

    out_dir: Path
    landscapes: list
    progress: bool
    vectors: dict = field(default_factory=dict)      # layer name -> GeoDataFrame (package)
    rasters: dict = field(default_factory=dict)      # raster name -> DataArray (package)
    tables: dict = field(default_factory=dict)       # title -> DataFrame (report)
    figures: dict = field(default_factory=dict)      # title -> PNG path (report)
    parameters: dict = field(default_factory=dict)   # stage -> parameters (metadata, report)
    timings: dict = field(default_factory=dict)      # stage -> seconds
    notes: list = field(default_factory=list)        # one-line findings for the summary

    def save_map(self, fig, stem: str, title: str) -> dict[str, Path]:
        """Save *fig* as PNG and PDF at 300 dpi; remember the PNG for the report."""
        import matplotlib.pyplot as plt

        from .maps import save_figure

        png = save_figure(fig, self.out_dir / "maps" / f"{stem}.png", dpi=300)
        pdf = save_figure(fig, self.out_dir / "maps" / f"{stem}.pdf")
        plt.close(fig)
        self.figures[title] = png
        return {f"maps/{stem}.png": png, f"maps/{stem}.pdf": pdf}

    def save_table(self, table, stem: str, title: str, *, index: bool = True) -> dict[str, Path]:
        """Write *table* as CSV (atomically) and remember it for the report."""
        path = self.out_dir / "tables" / f"{stem}.csv"
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=index)
        self.tables[title] = table
        return {f"tables/{stem}.csv": path}


# ---------------------------------------------------------------- Land of Big Cats stage
LOBC_CORES = ["TLNP", "LLNP", "KEDROVAYA_PAD", "HUNCHUN_NNR", "WANGQING_NNR"]
LOBC_RESOLUTION_M = 1000.0
LOBC_SPECIES = ("amur_leopard", "amur_tiger")
#: Corridor truncation width (cost units = resistance x metres): 25 km through forest (R = 1).
LOBC_CORRIDOR_CUTOFF = 25_000.0


LOBC_CORE_INSET_M = 2000.0


def nested_cores(sites: gpd.GeoDataFrame, ids: list[str], *, inset_m: float = 0.0) -> gpd.GeoDataFrame:
    """Cores from site outlines, each minus the sites nested in it (e.g. TLNP minus Hunchun).

    Nested reserves (Hunchun and Wangqing inside TLNP; Kedrovaya Pad beside LLNP) are
    separate cores, so no cell belongs to two cores. With ``inset_m`` > 0 each core is its
    interior (the outline buffered inward): the schematic TLNP and LLNP outlines meet along
    the border, and without an inset every link between them would have zero length; with
    it, links measure movement across the parks' edge zones and the border.
    """
    s = sites.set_index("site_id").loc[ids]
    geoms = {}
    for sid, row in s.iterrows():
        others = [s.geometry[o] for o in ids if o != sid and s.geometry[o].within(row.geometry.buffer(1.0))]
        geom = row.geometry
        for other in others:
            geom = geom.difference(other)
        geoms[sid] = geom.buffer(-inset_m) if inset_m > 0 else geom
    return gpd.GeoDataFrame({"core_id": list(geoms), "iso3": s["iso3"].to_numpy()},
                            geometry=list(geoms.values()), crs=sites.crs).set_index("core_id", drop=False)


def china_russia_border(landscape: Landscape) -> gpd.GeoDataFrame:
    """The China-Russia stretch of a landscape's international borders."""
    b = landscape.borders
    pair = b["iso3_a"].isin(["CHN", "RUS"]) & b["iso3_b"].isin(["CHN", "RUS"])
    return b[pair]


def stage_land_of_big_cats(ctx: DemoContext) -> dict[str, Path]:
    """Habitat, resistance, corridors, current, border flow and maps for the Land of Big Cats."""
    if "land_of_big_cats" not in ctx.landscapes:
        return {}
    from tqdm.auto import tqdm

    from . import connectivity as conn
    from . import habitat, maps, planning
    from .species import load as load_species

    land = load_landscape("land_of_big_cats")
    written: dict[str, Path] = {}
    steps = tqdm(total=4 + 3 * len(LOBC_SPECIES), desc="land of big cats", disable=not ctx.progress)
    # ancillary="sea": water joined to the open sea is marine (9.1), not a freshwater lake
    hab = habitat.unify(habitat.embedded_inputs(land.name), countries=land.countries,
                        resolution=LOBC_RESOLUTION_M, crs=land.crs, ancillary="sea")
    ctx.rasters["lobc_habitat"] = hab["habitat"]
    metrics = habitat.landscape_metrics(hab["habitat"], nested_cores(land.sites, LOBC_CORES))
    written.update(ctx.save_table(metrics, "lobc_habitat_metrics",
                                  "Land of Big Cats: habitat per protected area (ha, patches, effective mesh)",
                                  index=False))
    steps.update()
    cores = nested_cores(land.sites, LOBC_CORES, inset_m=LOBC_CORE_INSET_M)
    border = china_russia_border(land)
    networks, currents = {}, {}
    for name in LOBC_SPECIES:
        res = habitat.resistance(hab["habitat"], load_species(name))
        ctx.rasters[f"lobc_resistance_{name}"] = res
        steps.update()
        net = conn.corridor_network(res, cores, cutoff=LOBC_CORRIDOR_CUTOFF, progress=False)
        networks[name] = net
        steps.update()
        current = conn.current_map(res, cores, mode="pairwise", progress=False)
        currents[name] = current["cumulative_current"]
        ctx.rasters[f"lobc_current_{name}"] = currents[name]
        flow = conn.border_flow(currents[name], border, segment_m=2000)
        ctx.vectors[f"lobc_border_flow_{name}"] = flow
        scored = planning.score_corridors(net, habitat=hab["habitat"], current=currents[name],
                                          countries=land.countries, resistance=res)
        ctx.vectors[f"lobc_corridors_{name}"] = scored
        written.update(ctx.save_table(scored.drop(columns="geometry"), f"lobc_corridors_{name}",
                                      f"Land of Big Cats: scored corridors ({name.replace('_', ' ')})", index=False))
        top = flow.nsmallest(10, "rank")[["rank", "segment", "from_m", "to_m", "current", "share", "lon", "lat"]]
        written.update(ctx.save_table(top, f"lobc_border_flow_{name}",
                                      f"China-Russia border: top 10 crossing segments ({name.replace('_', ' ')})",
                                      index=False))
        ctx.notes.append(f"{name}: {len(net.links)} corridor links; the top 2 km border segment carries "
                         f"{100 * flow['share'].max():.1f} % of the current crossing the China-Russia border")
        steps.update()
    ctx.vectors.update({"lobc_sites": land.sites, "lobc_countries": land.countries, "lobc_borders": land.borders})
    leopard = "amur_leopard"
    written.update(ctx.save_map(
        maps.unified_map(land, habitat=hab["habitat"], current=currents[leopard],
                         corridors=networks[leopard].links, lang=("en", "zh", "ru")),
        "land_of_big_cats_unified_map", "Land of Big Cats: unified map (Amur leopard corridors and current)"))
    steps.update()
    written.update(ctx.save_map(maps.habitat_map(land, hab["habitat"], lang=("en", "zh", "ru")),
                                "land_of_big_cats_habitat_map", "Land of Big Cats: unified habitat map"))
    written.update(ctx.save_map(maps.current_map(land, currents["amur_tiger"], lang=("en", "zh", "ru")),
                                "land_of_big_cats_tiger_current_map",
                                "Land of Big Cats: Amur tiger current density (pairwise between cores)"))
    steps.update()
    steps.close()
    ctx.parameters["land_of_big_cats"] = {
        "resolution_m": LOBC_RESOLUTION_M, "crs": land.crs.srs, "cores": LOBC_CORES,
        "core_inset_m": LOBC_CORE_INSET_M, "corridor_cutoff_cost": LOBC_CORRIDOR_CUTOFF,
        "species": list(LOBC_SPECIES), "habitat_inputs": hab.attrs.get("sources"),
        "circuit": "pairwise, 8 neighbours, average conductance (Circuitscape conventions)",
        "border_segment_m": 2000,
        "note": "national land-cover samples are SYNTHETIC (derived from MODIS MCD12C1 2019); site outlines schematic",
    }
    return written


# ---------------------------------------------------------------------- Tumen stage
TUMEN_RESOLUTION_M = 250.0
TUMEN_UNIT_M = 1500.0


def stage_tumen_estuary(ctx: DemoContext) -> dict[str, Path]:
    """Boundary options compared, an optimised proposal, the joint species list, the map."""
    if "tumen_estuary" not in ctx.landscapes:
        return {}
    import pandas as pd
    from tqdm.auto import tqdm

    from . import habitat, maps, planning

    land = load_landscape("tumen_estuary")
    written: dict[str, Path] = {}
    steps = tqdm(total=5, desc="tumen estuary", disable=not ctx.progress)
    # ancillary="sea": the coastal water inside the generalised country polygons is sea (9.1)
    hab = habitat.unify(habitat.embedded_inputs(land.name), countries=land.countries,
                        resolution=TUMEN_RESOLUTION_M, crs=land.crs, ancillary="sea")
    ctx.rasters["tumen_habitat"] = hab["habitat"]
    options = load_tumen_options(crs=land.crs)
    steps.update()
    context = planning.BoundaryContext.from_landscape(
        land, habitat=hab["habitat"], species=list(TUMEN_SPECIES))
    comparison = planning.compare_boundaries(options, context=context)
    written.update(ctx.save_table(comparison.wide, "tumen_options_comparison",
                                  "Tumen estuary: draft boundary options compared"))
    ranking = comparison.rank(None)
    written.update(ctx.save_table(ranking, "tumen_options_rank", "Tumen estuary: options ranked (equal weights)"))
    stability = comparison.sensitivity(n=1000, seed=0)
    written.update(ctx.save_table(stability, "tumen_options_sensitivity",
                                  "Tumen estuary: probability each option ranks first (1000 random weightings)"))
    written.update(ctx.save_map(comparison.plot(), "tumen_options_comparison",
                                "Tumen estuary: options compared (normalised criteria)"))
    steps.update()
    proposal, targets = tumen_proposal(land, hab["habitat"])
    ctx.vectors["tumen_optimised_proposal"] = proposal
    written.update(ctx.save_table(targets, "tumen_proposal_targets", "Tumen estuary: optimised proposal, targets", index=False))
    steps.update()
    species = planning.joint_species_list(planning.load_checklists())
    written.update(ctx.save_table(species, "tumen_joint_species_list",
                                  "Tumen estuary: joint species list (ILLUSTRATIVE example checklists)"))
    steps.update()
    columns = ["option_id", "name", "geometry_quality", "geometry"]
    proposal_row = proposal.assign(option_id="P", name="optimised proposal", geometry_quality="derived")
    shown = pd.concat([options[columns], proposal_row[columns]], ignore_index=True)
    written.update(ctx.save_map(maps.boundary_options_map(land, shown, habitat=hab["habitat"],
                                                          lang=("en", "zh", "ru", "ko")),
                                "tumen_boundary_options_map", "Tumen estuary: draft boundary options"))
    steps.update()
    steps.close()
    ctx.vectors.update({"tumen_options": options, "tumen_sites": land.sites})
    best = ranking.index[0] if len(ranking) else "?"
    ctx.notes.append(f"tumen estuary: option {best} ranks first with equal weights; the optimised "
                     f"proposal covers {proposal['area_ha'].iloc[0]:,.0f} ha")
    ctx.parameters["tumen_estuary"] = {
        "resolution_m": TUMEN_RESOLUTION_M, "planning_unit_m": TUMEN_UNIT_M, "blm": TUMEN_BLM,
        "proposal": f"hexagons within {TUMEN_REGION_M / 1000:g} km of the existing sites, those over the "
                    f"sites locked in; targets {100 * TUMEN_TARGET_SHARE:g} % of each wetland class (IUCN 5, 12, "
                    "13, 15) and of each waterbird's suitability-weighted habitat in that region; cost = area",
        "habitat_rules": "sea layer: water joined to the open sea is 9.1 marine neritic, other water inland",
        "species": context.species, "crs": land.crs.srs,
        "note": "options and site outlines schematic; habitat samples SYNTHETIC",
    }
    return written


TUMEN_BLM = 0.5  # ha of cost per metre of boundary: favours one compact block over scattered units
TUMEN_REGION_M = 10_000.0  # planning region: within 10 km of the existing sites
TUMEN_TARGET_SHARE = 0.5   # of each wetland class and of each species' habitat in the planning region
TUMEN_SPECIES = ("hooded_crane", "white_naped_crane", "black_faced_spoonbill")


def tumen_proposal(land: Landscape, hab, *, blm: float = TUMEN_BLM, species=TUMEN_SPECIES):
    """Hexagonal units within 10 km of the existing sites, those over the sites locked in;
    targets: half of each wetland class (IUCN level 1 5, 12, 13, 15, as counted by
    ``compare_boundaries``) and half of each species' suitability-weighted habitat in that
    region; cost = unit area (ha); BLM > 0. The sea (9.1) is no wetland target: with the
    ``sea`` layer it is no longer mistaken for freshwater lake."""
    import numpy as np
    import pandas as pd
    from rasterio import features

    from .planning import optimize_boundary, planning_units
    from .planning.compare import WETLAND_LEVEL1
    from .species import load as load_species

    existing = land.sites.geometry.union_all()
    region = existing.buffer(TUMEN_REGION_M).intersection(land.aoi)
    units = planning_units(gpd.GeoDataFrame(geometry=[region], crs=land.crs), TUMEN_UNIT_M, "hex")
    grid_transform = hab.rio.transform()
    labels = features.rasterize(((g, i + 1) for i, g in enumerate(units.geometry)), out_shape=hab.shape,
                                transform=grid_transform, fill=0, dtype="int32")
    cell_ha = abs(grid_transform.a * grid_transform.e) / 1e4
    codes = np.asarray(hab.values).ravel()
    labels = labels.ravel()
    per_feature = {f"ha_{c}": (codes == c).astype(float)
                 for c in np.unique(codes[labels > 0]) if c // 100 in WETLAND_LEVEL1}
    for name in species:
        per_feature[f"suitable_ha_{name}"] = np.nan_to_num(load_species(name).suitability_of(codes), nan=0.0)
    for column, per_cell in per_feature.items():
        counts = np.bincount(labels, weights=per_cell, minlength=len(units) + 1)
        units[column] = counts[1:] * cell_ha
    centroid_iso = gpd.sjoin(gpd.GeoDataFrame(geometry=units.geometry.representative_point(), crs=land.crs),
                             land.countries[["iso3", "geometry"]], how="left")
    units["iso3"] = centroid_iso[~centroid_iso.index.duplicated()]["iso3"].to_numpy()
    present = {c: units[c].sum() for c in per_feature if units[c].sum() > 0}
    targets = {c: TUMEN_TARGET_SHARE * total for c, total in present.items()}
    locked = units.loc[units.geometry.representative_point().within(existing), "unit_id"].tolist()
    proposal = optimize_boundary(units, targets=targets, cost="area_ha", blm=blm, locked_in=locked,
                                 time_limit_s=30)
    return proposal, pd.DataFrame(proposal.attrs["targets"])


# --------------------------------------------------------------------- ProtConn stage
PROTCONN_LANDSCAPES = ("dauria", "land_of_big_cats")


def stage_protconn(ctx: DemoContext) -> dict[str, Path]:
    """ProtConn per country, with and without transboundary stepping stones."""
    from .connectivity import protconn

    written: dict[str, Path] = {}
    for name in [n for n in PROTCONN_LANDSCAPES if n in ctx.landscapes]:
        land = load_landscape(name)
        # the landscape's share of each country (countries clipped to the AOI) is the reporting unit
        units = gpd.clip(land.countries, land.aoi)
        table = protconn(land.sites, units, dispersal_m=10_000, p=0.5, transboundary_m=50_000, progress=False)
        written.update(ctx.save_table(table, f"{name}_protconn",
                                      f"{name.replace('_', ' ').title()}: ProtConn per country (landscape part)"))
        ctx.notes.append(f"{name}: ProtConn (Prot) by country " + ", ".join(
            f"{iso} {row['ProtConn']:.1f} % ({row['Prot']:.1f} %), [Trans] {row['ProtConn[Trans]']:.1f} %"
            for iso, row in table.iterrows() if row["Prot"] > 0))
    ctx.parameters["protconn"] = {"dispersal_m": 10_000, "p": 0.5, "transboundary_m": 50_000,
                                  "reporting_unit": "country part inside the landscape AOI"}
    return written


# ------------------------------------------------------------- package and report stage
def stage_package(ctx: DemoContext) -> dict[str, Path]:
    """Write the data package and the self-contained report.html."""
    from .io import write_package
    from .report import write_report

    written: dict[str, Path] = {}
    if ctx.vectors or ctx.rasters:
        pkg = write_package(ctx.out_dir / "package", vectors=ctx.vectors, rasters=ctx.rasters,
                            metadata={"demo": ctx.parameters})
        written["package"] = pkg
    written["report.html"] = write_report(ctx.out_dir / "report.html", ctx)
    return written


#: Demo stages in order: (name, function). Extend by appending.
STAGES: list[tuple[str, Callable[[DemoContext], dict]]] = [
    ("boundaries", stage_boundaries),
    ("land_of_big_cats", stage_land_of_big_cats),
    ("tumen_estuary", stage_tumen_estuary),
    ("protconn", stage_protconn),
    ("package", stage_package),
]


def run_demo(out_dir="tbpa-demo", *, landscapes=None, progress: bool | None = None,
             return_context: bool = False):
    """Run every demo stage on the embedded data.

    Parameters
    ----------
    out_dir : str or Path
        Directory to write into (created if missing; existing demo files are replaced).
    landscapes : list of str, optional
        Subset of :data:`tbpa.sites.LANDSCAPES` (default: all six). Stages for landscapes
        not listed are skipped.
    progress : bool, optional
        Show progress bars (default: the ``progress`` option).
    return_context : bool
        Also return the :class:`DemoContext` (tables, notes, timings, parameters).

    Returns
    -------
    dict or (dict, DemoContext)
        Key -> Path of every file written.

    Examples
    --------
    >>> from tbpa.demo import run_demo
    >>> paths = run_demo("tbpa-demo", landscapes=["khanka"])  # doctest: +SKIP
    """
    from .sites import _check_landscape

    names = list(LANDSCAPES) if landscapes is None else [_check_landscape(n) for n in landscapes]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out_dir=out, landscapes=names, progress=resolve_progress(progress))
    written: dict[str, Path] = {}
    for stage_name, stage in STAGES:
        start = time.perf_counter()
        written.update(stage(ctx))
        ctx.timings[stage_name] = time.perf_counter() - start
        log.info("demo: stage %s took %.1f s", stage_name, ctx.timings[stage_name])
    return (written, ctx) if return_context else written
