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
                         resolution=1000, crs=land.crs)
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
                         resolution=1000, crs=land.crs)
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
