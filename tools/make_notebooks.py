"""Write the notebooks in notebooks/ from the cell lists below (outputs stripped).

Keeping the notebooks' source here makes reviews readable (plain Python diffs) and keeps
them free of outputs in git. Run:  python tools/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"


def md(text):
    return new_markdown_cell(text.strip())


def code(text):
    return new_code_cell(text.strip())


SETUP = code("""
import warnings
import matplotlib
matplotlib.use("Agg")          # notebooks also run headless in the test suite
import matplotlib.pyplot as plt
import tbpa
tbpa.set_options(progress=False)
""")

NOTEBOOKS = {}

NOTEBOOKS["06_transborder_monitoring.ipynb"] = [
    md("""
# 06 · Transborder monitoring: who crossed, where, and does the model predict it?

The joint China–Russia camera-trap study of 2014–2016 identified Amur tigers and leopards
on both sides of the border and found that some individuals crossed it (19 tigers and 15
leopards by the partners' count). Partners exchange such data as detection tables,
**Camtrap DP** packages and **Movebank** GPS files. This notebook runs the workflow on
tbpa's **synthetic** example: invented stations, invented animals, an invented GPS track.
Nothing below is an observation; replace the inputs with the partners' files.
"""),
    SETUP,
    code("""
from tbpa._data import data_path
from tbpa.monitoring import (read_detections, transborder_individuals, summarize_transborder,
                             crossing_segments, sampling_effort, validate_connectivity)

land = tbpa.sites.load_landscape("land_of_big_cats")
det = read_detections(data_path("monitoring", "synthetic_camtrap_dp"), partner="synthetic example")
det.head()
"""),
    md("""
## Individuals across the border
Each detection is placed in a country (Natural Earth polygons); consecutive detections of
one individual in different countries count as a crossing. The minimum convex polygon is
computed in the landscape's equal-area CRS and split by country.
"""),
    code("""
table = transborder_individuals(det, land.countries)
table[["species", "sex", "countries", "n_detections", "n_crossings", "mcp_area_km2"]]
"""),
    code("summarize_transborder(table)"),
    md("## Effort: trap-days per country\nDetection differences between partners must be read against effort."),
    code("""
effort = sampling_effort(data_path("monitoring", "synthetic_camtrap_dp"), countries=land.countries, by="country")
effort[["country", "n_stations", "camera_days", "trap_days"]]
"""),
    md("""
## Where did the GPS-collared animal cross?
For GPS tracks the crossing point is where a step between fixes cuts the border line.
"""),
    code("""
gps = read_detections(data_path("monitoring", "synthetic_movebank_gps.csv"))
crossings = crossing_segments(gps, land.borders, segment_m=1000)
crossings[["individual_id", "position_m", "segment_index", "time"]]
"""),
    md("""
## Does a connectivity surface predict the crossings?
Here the surface is the least-cost distance from the Land of the Leopard NP over a
resistance built from the embedded habitat; the test compares it at observed crossing
points with random points along the border (ROC AUC and Mann-Whitney U). With a current
map from `tbpa.connectivity.current_map`, pass `higher_is_better=True` and the border-flow
table as `flow=`.
"""),
    code("""
hab = tbpa.habitat.unify(tbpa.habitat.embedded_inputs(land.name), countries=land.countries,
                         resolution=1000, crs=land.crs, ancillary="sea")
res = tbpa.habitat.resistance(hab["habitat"], "amur_leopard")
llnp = land.sites[land.sites.site_id == "LLNP"]
cwd = tbpa.connectivity.cost_distance(res, llnp)
report = validate_connectivity(cwd, crossings, land.borders, n_random=500, higher_is_better=False)
report
"""),
    code("fig = report.plot()"),
]

NOTEBOOKS["01_quickstart.ipynb"] = [
    md("""
# 01 · Quickstart

tbpa analyses transboundary protected areas (TBPAs) and wildlife corridors in North-East
Asia. This notebook loads a landscape from the embedded registry, looks at its sites and
borders, builds a habitat map and a species resistance surface, and maps a least-cost
corridor between two parks. Site outlines are **schematic** (digitised from published
centroids, extents and areas); every map says so.
"""),
    SETUP,
    code("""
tbpa.sites.list_sites(landscape="land_of_big_cats")[["site_id", "name_en", "iso3", "reported_area_ha", "geometry_quality"]]
"""),
    code("""
land = tbpa.sites.load_landscape("land_of_big_cats")
print(land.crs)         # Lambert azimuthal equal-area centred on the landscape (metres)
land.borders
"""),
    code("""
hab = tbpa.habitat.unify(tbpa.habitat.embedded_inputs(land.name), countries=land.countries,
                         resolution=1000, crs=land.crs, ancillary="sea")
hab
"""),
    code("""
res = tbpa.habitat.resistance(hab["habitat"], "amur_leopard")
sites = land.sites.set_index("site_id")
corridor = tbpa.connectivity.least_cost_corridor(res, sites.loc[["LLNP"]], sites.loc[["WANGQING_NNR"]], cutoff=200_000)
path = tbpa.connectivity.least_cost_path(res, sites.loc[["LLNP"]].geometry.iloc[0].centroid,
                                         sites.loc[["WANGQING_NNR"]].geometry.iloc[0].centroid,
                                         countries=land.countries)
path.drop(columns="geometry")
"""),
    code("""
fig = tbpa.maps.corridor_map(land, path, lang=("en", "zh", "ru"))
"""),
]

NOTEBOOKS["04_habitat_unification.ipynb"] = [
    md("""
# 04 · One habitat legend across national land-cover schemes

China, Russia, Mongolia and the DPRK map land cover in different schemes. tbpa translates
every scheme into one legend, the **IUCN Habitats Classification Scheme v3.1** (integer
codes as in Jung et al. 2020: class 1.4 → 104, 14.1 → 1401), through crosswalk tables that
list every official code of each scheme. Ambiguous classes (herbaceous wetland = inland
marsh, salt marsh or paddy) keep all their targets with weights, and ancillary rules
(sea or inland water, distance to coast, latitude, elevation) decide where given.

The national rasters used here are **synthetic samples** derived from the real MODIS
MCD12C1 2019 land cover (see `data/habitat/README.md`): they show the workflow, not the
partners' maps.
"""),
    SETUP,
    code("""
from tbpa import habitat
habitat.schemes()
"""),
    code("""
habitat.crosswalk("esa_worldcover")
"""),
    md("## The national inputs: each on its own grid, CRS and scheme"),
    code("""
land = tbpa.sites.load_landscape("land_of_big_cats")
inputs = habitat.embedded_inputs(land.name)
{iso3: (scheme, str(r.rio.crs)[:40], r.rio.resolution()) for iso3, (r, scheme) in inputs.items()}
"""),
    md("""
## Sea or lake?
The samples' water class holds lakes and sea alike (MODIS codes all water 0), and the
generalised Natural Earth coastline leaves coastal sea inside the country polygons. The
`sea` layer tells them apart: water joined to water outside the land is sea (9.1 marine
neritic), other water stays inland (5.5 lake). `tbpa.habitat.sea_layer` builds it for one
raster; `unify(..., ancillary="sea")` derives it for every input from `countries`.
"""),
    code("""
ru, scheme = inputs["RUS"]                       # TerraNorte codes: water is class 21
sea = habitat.sea_layer(ru, land.countries, scheme=scheme)
print(f"{int((ru == 21).sum())} water cells, {int(sea.sum())} of them sea")
"""),
    md("""
## Unify
Each raster is reclassified, brought onto one grid in the landscape's equal-area CRS by the
majority of class fractions (never bilinear), and mosaicked inside its own country.
`confidence` is the crosswalk weight of the chosen class, lowered where resampling mixed
classes.
"""),
    code("""
hab = habitat.unify(inputs, countries=land.countries, resolution=1000, crs=land.crs, ancillary="sea")
fig = tbpa.maps.habitat_map(land, hab["habitat"], lang=("en", "zh", "ru"))
"""),
    code("""
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
hab["confidence"].plot(ax=axes[0], vmin=0, vmax=1)
hab["source"].plot(ax=axes[1])
"""),
    md("""
## Do both sides describe the same ground the same way?
Where the Chinese and Russian samples overlap along the border, compare them in the
unified legend (level 1): confusion matrix, overall agreement and Cohen's kappa.
"""),
    code("""
from rasterio.enums import Resampling
cn = habitat.reclassify(*inputs["CHN"], level=1)
ru = habitat.reclassify(*inputs["RUS"], level=1)
report = habitat.agreement(cn.rio.reproject_match(ru, resampling=Resampling.mode), ru)
report
"""),
    md("## Habitat per protected area"),
    code("""
habitat.landscape_metrics(hab["habitat"], land.sites.set_index("site_id")).head(12)
"""),
]

NOTEBOOKS["05_dauria_protconn.ipynb"] = [
    md("""
# 05 · Dauria: how well connected are the protected areas, and what does cooperation add?

The Dauria International Protected Area links Daursky zapovednik (Russia), Mongol Daguur
(Mongolia) and Dalai Lake (China). **ProtConn** (Saura et al. 2017, 2018) is the share of a
country that is protected *and* connected; its **[Trans]** fraction is what protected areas
across the border add as stepping stones. Outlines are schematic; the reporting unit here is
each country's part of the landscape, not the whole country.
"""),
    SETUP,
    code("""
import geopandas as gpd
from tbpa.connectivity import protconn, patch_graph, probability_of_connectivity

land = tbpa.sites.load_landscape("dauria")
land.sites[["site_id", "name_en", "iso3", "reported_area_ha", "geometry_quality"]]
"""),
    code("""
units = gpd.clip(land.countries, land.aoi)   # each country's part of the landscape
table = protconn(land.sites, units, dispersal_m=10_000, p=0.5, transboundary_m=50_000)
table[["Prot", "ProtConn", "ProtUnconn", "RelConn", "ProtConn[Prot]", "ProtConn[Trans]", "ProtConn[Unprot]"]].round(2)
"""),
    md("""
With one protected area per country, nothing domestic needs linking, so [Trans] is 0: a
stepping stone across the border can only add connectivity between two domestic areas.
Cranes disperse over tens of kilometres; at landscape scale the probability of
connectivity (PC) of the three sites and each site's contribution (dPC, split into intra,
flux and connector parts) show which site holds the network together.
"""),
    code("""
graph = patch_graph(land.sites.set_index("site_id"), distance="edge")
pc = probability_of_connectivity(graph, dispersal_m=50_000, p=0.5, landscape_area=land.aoi.area)
print(f"PC = {pc.PC:.4f}, EC = {pc.EC / 1e4:,.0f} ha")
pc.patches.round(2)
"""),
    code("""
fig = tbpa.maps.unified_map(land, lang=("en", "zh", "ru", "mn"))
"""),
]

NOTEBOOKS["02_land_of_big_cats_corridors.ipynb"] = [
    md("""
# 02 · Land of Big Cats: corridors, current and where cats cross the border

China's Northeast Tiger and Leopard NP (TLNP) and Russia's Land of the Leopard NP (LLNP)
share a border fenced on the Russian side; camera traps found tigers and leopards crossing
it. This notebook builds Amur leopard resistance from the unified habitat, maps a
Linkage-Mapper-style corridor network between the five parks, runs a pairwise circuit
(Circuitscape conventions) and ranks 2 km stretches of the China–Russia border by the
current crossing them. Outlines are schematic and the national habitat samples synthetic.
"""),
    SETUP,
    code("""
from tbpa import connectivity as conn, habitat
from tbpa.demo import nested_cores, china_russia_border, LOBC_CORES

land = tbpa.sites.load_landscape("land_of_big_cats")
hab = habitat.unify(habitat.embedded_inputs(land.name), countries=land.countries,
                    resolution=1000, crs=land.crs, ancillary="sea")
res = habitat.resistance(hab["habitat"], "amur_leopard")
tbpa.species.load("amur_leopard")
"""),
    md("""
Cores are the parks' interiors (2 km inward), each minus the reserves nested in it: the
schematic TLNP and LLNP outlines meet along the border, and links between touching cores
would have zero length.
"""),
    code("""
cores = nested_cores(land.sites, LOBC_CORES, inset_m=2000)
net = conn.corridor_network(res, cores, cutoff=25_000)
net.links.drop(columns="geometry")
"""),
    code("ax = net.plot()"),
    md("## Circuit theory: all pairs of parks at once (k − 1 solves)"),
    code("""
current = conn.current_map(res, cores, mode="pairwise")
current["resistance"].to_pandas().round(4)
"""),
    code("""
fig = tbpa.maps.current_map(land, current["cumulative_current"], lang=("en", "zh", "ru"))
"""),
    md("""
## Border flow: where are cats predicted to cross?
The China–Russia border is cut into 2 km segments; each gets the current crossing it, its
share of the total and its rank. High-ranked segments are candidates for crossing structures
or fence gaps.
"""),
    code("""
flow = conn.border_flow(current["cumulative_current"], china_russia_border(land), segment_m=2000)
flow.nsmallest(10, "rank")[["rank", "from_m", "to_m", "current", "share", "lon", "lat"]]
"""),
    md("## Corridors scored with transparent weights"),
    code("""
scores = tbpa.planning.score_corridors(net, habitat=hab["habitat"], current=current["cumulative_current"],
                                       countries=land.countries, resistance=res)
scores.drop(columns="geometry").round(3)
"""),
    code("""
fig = tbpa.maps.unified_map(land, habitat=hab["habitat"], current=current["cumulative_current"],
                            corridors=net.links, lang=("en", "zh", "ru"))
"""),
]

NOTEBOOKS["03_tumen_boundary_options.ipynb"] = [
    md("""
# 03 · Tumen River estuary: comparing draft boundaries of a transboundary Ramsar site

Rason Migratory Bird Reserve (DPRK), Fangchuan and Jingxin wetlands (China) and Khasansky
Nature Park (Russia) could form the first transboundary Ramsar site of the region. Three
**schematic** draft options are shipped: A "Ramsar core", B "delta complex", C "extended
estuary". This notebook compares them on area and balance between countries, wetland
habitat, habitat for three waterbirds, protected areas included, connectivity gain, human
pressure and shape; ranks them with stated weights, checks how stable the ranking is, and
proposes an optimised boundary. Habitat samples are synthetic.
"""),
    SETUP,
    code("""
from tbpa import habitat, planning
land = tbpa.sites.load_landscape("tumen_estuary")
hab = habitat.unify(habitat.embedded_inputs(land.name), countries=land.countries,
                    resolution=250, crs=land.crs, ancillary="sea")   # coastal water is sea, not lake
options = tbpa.sites.load_tumen_options(crs=land.crs)
options.drop(columns="geometry")
"""),
    code("""
context = planning.BoundaryContext.from_landscape(
    land, habitat=hab["habitat"], species=["hooded_crane", "white_naped_crane", "black_faced_spoonbill"])
cmp = planning.compare_boundaries(options, context=context)
cmp.wide.T
"""),
    md("## Ranking, its stability and the Pareto front"),
    code("""
cmp.rank({"wetland_ha": 3, "suitable_ha_black_faced_spoonbill": 2, "country_evenness": 2, "compactness": 1})
"""),
    code("cmp.sensitivity(n=1000, seed=0)"),
    code("""cmp.pareto(["wetland_ha", "compactness", "cropland_ha"])"""),
    code("fig = cmp.plot()"),
    md("""
## An optimised proposal
Hexagonal planning units within 10 km of the existing sites; units over the sites locked
in; targets: half of each wetland class present and half of each waterbird's
suitability-weighted habitat; cost = area; a boundary-length modifier keeps it compact.
Solved exactly as an integer programme (HiGHS). The sea (9.1) is not a wetland target.
"""),
    code("""
from tbpa.demo import tumen_proposal
proposal, targets = tumen_proposal(land, hab["habitat"])
proposal.drop(columns="geometry"), targets
"""),
    code("""
fig = tbpa.maps.boundary_options_map(land, options, habitat=hab["habitat"], lang=("en", "zh", "ru", "ko"))
"""),
    md("## The joint species list (illustrative example checklists)"),
    code("""
planning.joint_species_list(planning.load_checklists())
"""),
]


def write_all() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    write_all()
