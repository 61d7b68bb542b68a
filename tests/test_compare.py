"""compare_boundaries on a tiny synthetic landscape: every metric against hand-computed values.

Landscape (LAEA, metres): countries AAA = [0, 2000] x [0, 2000] and BBB = [2000, 4000] x
[0, 2000] with the border x = 2000. Habitat on 100 m cells:

    x < 1000           : 104 (forest)
    1000 <= x < 2000   : 504 (marsh) above y = 1000, 1401 (cropland) below
    2000 <= x < 3000   : 1501 (artificial aquatic) above y = 1000, 505 (lake) below
    x >= 3000          : 1405 (built-up) below y = 500, 1401 above

Existing PAs: PA1 = [0, 1000] x [0, 1000], PA2 = [2000, 3000] x [0, 1000] (1000 m apart).
Options: A = [1000, 2000] x [0, 1000] bridges the two PAs; B = [500, 2500] x [500, 1500]
overlaps both and spans the border; C = [3000, 4000] x [1500, 2000] lies 500 m from PA2.
Dispersal: p = 0.5 at 1000 m, so p_ij = 0.5 ** (d_ij / 1000).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

import tbpa
from tbpa.errors import CRSError, EmptySelectionError, UnknownNameError, ValidationError
from tbpa.planning import BoundaryComparison, BoundaryContext, compare_boundaries
from tbpa.species import load

A_L = 8e6  # landscape area (m²)
LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def _grid(cell=100.0):
    xs = (np.arange(40) + 0.5) * cell
    ys = 2000 - (np.arange(20) + 0.5) * cell
    return np.meshgrid(xs, ys)


@pytest.fixture(scope="module")
def world():
    laea = LAEA
    x, y = _grid()
    hab = np.full(x.shape, 104)
    hab[(x >= 1000) & (x < 2000)] = np.where(y[(x >= 1000) & (x < 2000)] >= 1000, 504, 1401)
    m = (x >= 2000) & (x < 3000)
    hab[m] = np.where(y[m] >= 1000, 1501, 505)
    m = x >= 3000
    hab[m] = np.where(y[m] < 500, 1405, 1401)
    transform = Affine(100, 0, 0, 0, -100, 2000)
    habitat = tbpa.io.from_array(hab.astype(np.uint16), transform=transform, crs=laea)
    cur = np.ones(x.shape)
    cur[:, 10] = 3.0  # the column 1000 <= x < 1100 carries 3 A
    current = tbpa.io.from_array(cur, transform=transform, crs=laea)
    countries = gpd.GeoDataFrame({"iso3": ["AAA", "BBB"]}, crs=laea,
                                 geometry=[shapely.box(0, 0, 2000, 2000), shapely.box(2000, 0, 4000, 2000)])
    pas = gpd.GeoDataFrame({"site_id": ["PA1", "PA2"]}, crs=laea,
                           geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(2000, 0, 3000, 1000)])
    borders = gpd.GeoDataFrame(geometry=[shapely.LineString([(2000, 0), (2000, 2000)])], crs=laea)
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 250), (4000, 250)])], crs=laea)
    ports = gpd.GeoDataFrame(geometry=[shapely.Point(3500, 1750), shapely.Point(1500, 250)], crs=laea)
    logistics = gpd.GeoDataFrame(geometry=[shapely.box(1800, 800, 2200, 1200)], crs=laea)
    ctx = BoundaryContext(countries=countries, habitat=habitat, species=["hooded_crane"], existing_pas=pas,
                          current=current, borders=borders, dispersal_m=1000.0, p=0.5,
                          pressure={"roads": roads, "ports": ports, "logistics": logistics})
    options = gpd.GeoDataFrame({"option_id": ["A", "B", "C"]}, crs=laea, geometry=[
        shapely.box(1000, 0, 2000, 1000), shapely.box(500, 500, 2500, 1500), shapely.box(3000, 1500, 4000, 2000)])
    return options, ctx


@pytest.fixture(scope="module")
def result(world):
    options, ctx = world
    with tbpa.set_options(progress=False):
        return compare_boundaries(options, context=ctx)


def _value(cmp, option, metric):
    return cmp.wide.loc[option, metric]


def test_tidy_table_shape(result):
    t = result.table
    assert list(t.columns) == ["option_id", "metric", "value", "unit", "direction"]
    assert set(t.option_id) == {"A", "B", "C"}
    assert t.groupby("option_id").size().nunique() == 1  # the same metrics for every option
    assert set(t.direction) <= {"higher", "lower", "none"}
    assert result.wide.shape == (3, t.metric.nunique())


def test_areas_and_balance(result):
    w = result.wide
    assert w.loc[["A", "B", "C"], "area_ha"].tolist() == pytest.approx([100, 200, 50])
    assert w.loc[["A", "B", "C"], "area_ha_AAA"].tolist() == pytest.approx([100, 150, 0])
    assert w.loc[["A", "B", "C"], "area_ha_BBB"].tolist() == pytest.approx([0, 50, 50])
    j_b = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)  # Pielou, K = 2
    assert w.loc[["A", "B", "C"], "country_evenness"].tolist() == pytest.approx([0, j_b, 0], abs=1e-12)
    assert w.loc[["A", "B", "C"], "min_country_share"].tolist() == pytest.approx([0, 25, 0])


def test_habitat_wetland_and_suitability(result):
    w = result.wide
    expected = {  # ha per class (100 m cells = 1 ha)
        "A": {1401: 100},
        "B": {104: 50, 504: 50, 1401: 50, 1501: 25, 505: 25},
        "C": {1401: 50},
    }
    for option, classes in expected.items():
        for code in (104, 504, 505, 1401, 1501):
            assert w.loc[option, f"habitat_ha_{code}"] == pytest.approx(classes.get(code, 0)), (option, code)
    assert "habitat_ha_1405" not in w.columns  # only classes found inside some option
    assert w.loc[["A", "B", "C"], "wetland_ha"].tolist() == pytest.approx([0, 100, 0])  # 504 + 505 + 1501
    s = {c: float(load("hooded_crane").suitability_of([c])[0]) for c in (104, 504, 505, 1401, 1501)}
    assert w.loc["A", "suitable_ha_hooded_crane"] == pytest.approx(100 * s[1401])
    assert w.loc["B", "suitable_ha_hooded_crane"] == pytest.approx(
        50 * s[104] + 50 * s[504] + 50 * s[1401] + 25 * s[1501] + 25 * s[505])
    assert w.loc["C", "suitable_ha_hooded_crane"] == pytest.approx(50 * s[1401])


def test_existing_pas_included(result):
    # B covers [500, 1000] x [500, 1000] of PA1 and [2000, 2500] x [500, 1000] of PA2
    assert result.wide["pa_included_pct"].tolist() == pytest.approx([0, 25, 0])


def test_connectivity_change(result):
    half = lambda d: 0.5 ** (d / 1000.0)
    base = 1e12 * (1 + 1 + 2 * half(1000))  # two 1 km² PAs, 1000 m apart
    assert result.baseline["pc"] == pytest.approx(base / A_L**2)
    assert result.baseline["protconn"] == pytest.approx(100 * math.sqrt(base) / A_L)
    with_a = (3e6) ** 2  # A touches both PAs: one 3 km² patch
    with_b = (3.5e6) ** 2  # B overlaps both: 1 + 1 + 2 - 0.25 - 0.25 km²
    # C: 0.5 km², 500 m from PA2; PA1-C best path via PA2 beats the direct 2061.55 m link
    p13 = max(half(math.hypot(2000, 500)), half(1000) * half(500))
    with_c = 1e12 * (1 + 1 + 0.25 + 2 * (half(1000) + 0.5 * half(500) + 0.5 * p13))
    w = result.wide
    for option, num in (("A", with_a), ("B", with_b), ("C", with_c)):
        assert w.loc[option, "delta_pc"] == pytest.approx((num - base) / A_L**2, rel=1e-9)
        assert w.loc[option, "delta_pc_pct"] == pytest.approx(100 * (num - base) / base, rel=1e-9)
        assert w.loc[option, "delta_protconn"] == pytest.approx(100 * (math.sqrt(num) - math.sqrt(base)) / A_L, rel=1e-9)
    assert w.loc["A", "delta_pc_pct"] == pytest.approx(200.0)


def test_current_and_pressure(result):
    w = result.wide
    total = 800 + 20 * 2  # 800 cells of 1 A, the 20 cells of column 10 carry 3 A
    assert w.loc[["A", "B", "C"], "current_sum"].tolist() == pytest.approx([120, 220, 50])
    assert w.loc[["A", "B", "C"], "current_share_pct"].tolist() == pytest.approx(
        [100 * 120 / total, 100 * 220 / total, 100 * 50 / total])
    assert w.loc[["A", "B", "C"], "builtup_ha"].tolist() == pytest.approx([0, 0, 0])
    assert w.loc[["A", "B", "C"], "cropland_ha"].tolist() == pytest.approx([100, 50, 50])
    assert w.loc[["A", "B", "C"], "pressure_roads"].tolist() == pytest.approx([1000, 0, 0])
    assert w.loc[["A", "B", "C"], "pressure_ports"].tolist() == pytest.approx([1, 0, 1])
    assert w.loc[["A", "B", "C"], "pressure_logistics"].tolist() == pytest.approx([4, 16, 0])
    units = result.table.drop_duplicates("metric").set_index("metric")["unit"]
    assert (units["pressure_roads"], units["pressure_ports"], units["pressure_logistics"]) == ("m", "count", "ha")


def test_builtup_from_habitat(world):
    options, ctx = world
    extra = gpd.GeoDataFrame({"option_id": ["D"]}, geometry=[shapely.box(3000, 0, 4000, 1000)], crs=options.crs)
    cmp = compare_boundaries(pd.concat([options, extra], ignore_index=True), context=ctx)
    assert cmp.wide.loc["D", "builtup_ha"] == pytest.approx(50)  # y < 500 is 1405
    assert cmp.wide.loc["D", "cropland_ha"] == pytest.approx(50)


def test_shape_and_border(result):
    w = result.wide
    assert w.loc[["A", "B", "C"], "perimeter_m"].tolist() == pytest.approx([4000, 6000, 3000])
    assert w.loc[["A", "B", "C"], "compactness"].tolist() == pytest.approx(
        [math.pi / 4, 4 * math.pi * 2e6 / 6000**2, 4 * math.pi * 0.5e6 / 3000**2])
    # A runs along the border for 1000 m, B crosses it for 1000 m, C is 1000 m away
    assert w.loc[["A", "B", "C"], "border_length_m"].tolist() == pytest.approx([1000, 1000, 0])


def test_rank_hand_computed_and_scale_invariant(result):
    # area (higher): 100, 200, 50 -> 1/3, 1, 0; cropland (lower): 100, 50, 50 -> 0, 1, 1
    r = result.rank({"area_ha": 1, "cropland_ha": 1})
    assert r.loc[["A", "B", "C"], "score"].tolist() == pytest.approx([1 / 6, 1.0, 0.5])
    assert r.index.tolist() == ["B", "C", "A"]
    assert r.loc[["B", "C", "A"], "rank"].tolist() == [1, 2, 3]
    weights = {"wetland_ha": 2.0, "delta_pc_pct": 1.0, "builtup_ha": 0.5, "compactness": 3.0}
    a = result.rank(weights)
    b = result.rank({k: 1000.0 * v for k, v in weights.items()})
    pd.testing.assert_frame_equal(a, b)
    assert result.rank().shape[0] == 3  # equal weights by default


def test_unknown_and_bad_weights(result):
    with pytest.raises(UnknownNameError, match="area_ha"):
        result.rank({"area_hectares": 1})
    with pytest.raises(UnknownNameError):
        result.rank({"perimeter_m": 1})  # descriptive metric, not a criterion
    with pytest.raises(ValidationError):
        result.rank({"area_ha": -1})
    with pytest.raises(UnknownNameError):
        result.sensitivity(10, weights={"nope": 1})
    with pytest.raises(UnknownNameError):
        result.pareto(["nope"])


def test_pareto(result):
    p = result.pareto(["area_ha", "cropland_ha"])
    assert p["non_dominated"].to_dict() == {"A": False, "B": True, "C": False}
    assert p.loc["A", "dominated_by"] == "B" and p.loc["C", "dominated_by"] == "B"
    p = result.pareto(["area_ha", "compactness"])  # A most compact, B largest; C ties B's shape
    assert p["non_dominated"].to_dict() == {"A": True, "B": True, "C": False}


def _two_option_comparison():
    """A is best on c1, B on c2: A ranks first iff w1 > w2."""
    rows = [("A", "c1", 1.0, "-", "higher"), ("B", "c1", 0.0, "-", "higher"),
            ("A", "c2", 0.0, "-", "higher"), ("B", "c2", 1.0, "-", "higher")]
    table = pd.DataFrame(rows, columns=["option_id", "metric", "value", "unit", "direction"])
    opts = gpd.GeoDataFrame({"option_id": ["A", "B"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs="EPSG:3035")
    return BoundaryComparison(table=table, options=opts)


def test_sensitivity_closed_form_and_seed():
    cmp = _two_option_comparison()
    # w_k = base_k exp(0.5 z_k): P(2 e^{0.5 z1} > e^{0.5 z2}) = Phi(ln 2 / (0.5 sqrt 2))
    from scipy.stats import norm

    s = cmp.sensitivity(20000, weights={"c1": 2, "c2": 1}, seed=3, spread=0.5)
    expected = norm.cdf(math.log(2) / (0.5 * math.sqrt(2)))
    assert s.loc["A", "p_first"] == pytest.approx(expected, abs=0.01)
    assert s["p_first"].sum() == pytest.approx(1.0)
    again = cmp.sensitivity(20000, weights={"c1": 2, "c2": 1}, seed=3, spread=0.5)
    pd.testing.assert_frame_equal(s, again)
    other = cmp.sensitivity(20000, weights={"c1": 2, "c2": 1}, seed=4, spread=0.5)
    assert other.loc["A", "p_first"] != s.loc["A", "p_first"]


def test_sensitivity_on_landscape(result):
    s = result.sensitivity(500, weights={"area_ha": 1, "cropland_ha": 1}, seed=0, spread=0.0)
    assert s.loc["B", "p_first"] == 1.0 and s.loc["B", "rank_at_weights"] == 1
    s1 = result.sensitivity(300, seed=7)
    pd.testing.assert_frame_equal(s1, result.sensitivity(300, seed=7))
    assert s1["p_first"].sum() == pytest.approx(1.0)


def test_bad_input(world):
    options, ctx = world
    with pytest.raises(CRSError, match="options"):
        compare_boundaries(options.to_crs(4326), context=ctx)
    with pytest.raises(EmptySelectionError):
        compare_boundaries(options.iloc[:0], context=ctx)
    far = options.copy()
    far["geometry"] = [shapely.box(50_000, 50_000, 51_000, 51_000)] * 3
    with pytest.raises(ValidationError, match="outside the landscape"):
        compare_boundaries(far, context=ctx)
    empty = options.copy()
    empty.loc[1, "geometry"] = shapely.Polygon()
    with pytest.raises(EmptySelectionError, match="'B'"):
        compare_boundaries(empty, context=ctx)


def test_inputs_not_modified(world):
    options, ctx = world
    before = options.copy()
    compare_boundaries(options, context=ctx)
    pd.testing.assert_frame_equal(pd.DataFrame(options), pd.DataFrame(before))


def test_repr_and_plot(result):
    import matplotlib.pyplot as plt

    text = repr(result)
    assert text.startswith("BoundaryComparison(3 options") and "wetland_ha" in text
    assert "<table" in result._repr_html_()
    fig = result.plot()
    assert len(fig.axes) == 2
    fig2, axes = plt.subplots(1, 2)
    assert result.plot(ax=axes, weights={"area_ha": 1}) is fig2
    plt.close("all")


def test_cli_species_list_and_compare_options(tmp_path):
    from tbpa.cli import main

    out = tmp_path / "species.csv"
    assert main(["species-list", "--out", str(out)]) == 0
    joint = pd.read_csv(out, index_col=0)
    assert joint.loc["Antigone vipio", "countries"] == "CHN;RUS"  # Grus vipio merged as a synonym
    table = tmp_path / "table.csv"
    assert main(["compare-options", "--resolution", "1000", "--sensitivity", "0", "--out", str(table)]) == 0
    t = pd.read_csv(table)
    assert list(t.columns) == ["option_id", "metric", "value", "unit", "direction"]
    wide = t.pivot(index="option_id", columns="metric", values="value")
    assert wide.index.tolist() == ["A", "B", "C"]
    assert (wide["area_ha"].diff().dropna() > 0).all()  # options are nested and grow A < B < C
    assert wide.loc["A", "delta_protconn"] == pytest.approx(0.0, abs=1e-4)  # A = the existing sites
    assert main(["compare-options", "--resolution", "1000", "--weights", "nope=1"]) == 2


def test_habitat_nodata_value_is_not_a_class(world):
    options, ctx = world
    values = ctx.habitat.values.copy()
    values[10:20, 10:11] = 65535  # ten cells of option A (x 1000-1100, y < 1000) are nodata
    hab = tbpa.io.from_array(values, transform=ctx.habitat.rio.transform(), crs=ctx.habitat.rio.crs, nodata=65535)
    ctx2 = BoundaryContext(countries=ctx.countries, habitat=hab, species=["hooded_crane"])
    w = compare_boundaries(options, context=ctx2).wide
    assert w.loc["A", "habitat_ha_1401"] == pytest.approx(90)
    assert not any(c.endswith("65535") for c in w.columns)
    assert "delta_pc_pct" in w.columns and np.isnan(w.loc["A", "delta_pc_pct"])  # no PAs: no baseline PC
