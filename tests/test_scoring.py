"""score_corridors on small synthetic corridor networks with hand-checkable values.

Main case (100 m cells, 20 x 30): core A = columns 0-2, core B = columns 27-29, both rows
5-14. An impassable wall fills column 15 except a 3-cell gap (rows 9-11). Resistance is 1
west of column 20 (2 in the gap) and 2 from column 20 on, so the least-cost path (LCP) runs
straight along a gap row from column 2 to column 27: 26 cells, 25 steps of 100 m.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import tbpa
from tbpa.connectivity import corridor_network
from tbpa.errors import GridMismatchError, UnknownNameError, ValidationError
from tbpa.planning import score_corridors
from tbpa.planning.scoring import bottleneck_width, minmax_normalise

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
R, C = 20, 30


def _da(values, rows=R):
    return tbpa.io.from_array(values, transform=Affine(100, 0, 0, 0, -100, rows * 100), crs=LAEA)


def _cells(r0, r1, c0, c1, rows=R):
    """Polygon covering rows r0..r1-1 and columns c0..c1-1."""
    return shapely.box(c0 * 100, (rows - r1) * 100, c1 * 100, (rows - r0) * 100)


@pytest.fixture(scope="module")
def case():
    res = np.ones((R, C))
    res[:, 20:] = 2.0
    res[:, 15] = np.nan
    res[9:12, 15] = 2.0
    hab = np.full((R, C), 104, dtype=np.uint16)
    hab[:, 20:] = 504
    cur = np.ones((R, C))
    cur[:, 15] = 5.0
    cores = gpd.GeoDataFrame({"core_id": ["A", "B"]}, crs=LAEA,
                             geometry=[_cells(5, 15, 0, 3), _cells(5, 15, 27, 30)])
    with tbpa.set_options(progress=False):
        net = corridor_network(_da(res), cores, cutoff=2000)
    return net, _da(res), _da(hab), _da(cur)


@pytest.fixture(scope="module")
def scored(case):
    net, res, hab, cur = case
    countries = gpd.GeoDataFrame({"iso3": ["AAA", "BBB"]}, crs=LAEA,
                                 geometry=[shapely.box(0, 0, 1250, 2000), shapely.box(1250, 0, 3000, 2000)])
    roads = gpd.GeoDataFrame(crs=LAEA, geometry=[
        shapely.LineString([(725, 0), (725, 2000)]), shapely.LineString([(2225, 0), (2225, 2000)]),
        shapely.LineString([(1000, 0), (1000, 100)])])  # the last one ends before the path
    fence = gpd.GeoDataFrame(geometry=[shapely.LineString([(1825, 0), (1825, 2000)])], crs=LAEA)
    border = gpd.GeoDataFrame(geometry=[shapely.LineString([(1250, 0), (1250, 2000)])], crs=LAEA)
    with tbpa.set_options(progress=False):
        return score_corridors(net, habitat=hab, current=cur, countries=countries, resistance=res,
                               layers={"roads": roads, "fence": fence, "border": border})


def test_path_metrics(scored):
    row = scored.iloc[0]
    assert (row.core_a, row.core_b) == ("A", "B")
    assert row.n_cells == 26
    # steps: 12 at r=1 (cols 2-14), 2 x 1.5 into and out of the gap, 3 at 1 (cols 16-19),
    # 1 x 1.5 (19-20), 7 at 2 (cols 20-27); each 100 m
    assert row.cwd == pytest.approx(100 * (12 + 3 + 3 + 1.5 + 14))
    assert row.lcp_length_m == pytest.approx(2500)
    assert row.cwd_to_path_length == pytest.approx(row.cwd / 2500)
    assert row.mean_resistance == pytest.approx((17 * 1 + 9 * 2) / 26)  # col 15 (gap) is 2
    assert row.max_resistance == 2.0


def test_habitat_shares_and_country_lengths(scored):
    row = scored.iloc[0]
    assert row.share_104 == pytest.approx(18 / 26)  # columns 2-19
    assert row.share_504 == pytest.approx(8 / 26)  # columns 20-27
    assert row.length_m_AAA == pytest.approx(1250 - 250)  # path from x = 250 to x = 2750
    assert row.length_m_BBB == pytest.approx(2750 - 1250)


def test_bottleneck_width_of_the_gap(scored):
    # the corridor squeezes through the 3-cell gap: 300 m
    assert scored.iloc[0].bottleneck_width_m == pytest.approx(300.0)


def test_current(scored):
    row = scored.iloc[0]
    assert row.current_mean == pytest.approx((25 * 1 + 5) / 26)
    cells = row.corridor_area_ha  # 1 ha per cell: the number of corridor cells outside the cores
    assert row.current_corridor_sum == pytest.approx((cells - 3) * 1 + 3 * 5)  # the 3 gap cells carry 5 A


def test_crossings(scored):
    row = scored.iloc[0]
    assert row.crossings_roads == 2
    assert row.crossings_fence == 1
    assert row.crossings_border == 1


def test_single_link_score_is_one(scored):
    assert scored.iloc[0].score == pytest.approx(1.0)
    crit = scored.attrs["criteria"]
    assert {"cwd", "bottleneck_width_m", "effective_resistance", "crossings_roads"} <= set(crit.criterion)
    assert dict(zip(crit.criterion, crit.direction))["bottleneck_width_m"] == "higher"


def test_effective_resistance_in_series():
    """A one-cell-wide passage between walls: 6 unit resistors in series -> 6 ohms."""
    values = np.full((3, 7), np.nan)
    values[1] = 1.0
    res = _da(values, rows=3)
    cores = gpd.GeoDataFrame({"core_id": [1, 2]}, crs=LAEA, geometry=[_cells(1, 2, 0, 1, 3), _cells(1, 2, 6, 7, 3)])
    with tbpa.set_options(progress=False):
        net = corridor_network(res, cores, cutoff=100)
        s = score_corridors(net, habitat=_da(np.full((3, 7), 104), rows=3), resistance=res)
    assert s.effective_resistance.iloc[0] == pytest.approx(6.0)
    assert s.bottleneck_width_m.iloc[0] == pytest.approx(100.0)  # one cell wide
    assert s.cwd.iloc[0] == pytest.approx(600.0)


def _three_cores():
    """Cores A | B | C in a row; the A-B half has resistance 1, the B-C half 2."""
    rows, cols = 9, 41
    res = np.ones((rows, cols))
    res[:, 21:] = 2.0
    cores = gpd.GeoDataFrame({"core_id": ["A", "B", "C"]}, crs=LAEA, geometry=[
        _cells(0, 9, 0, 2, rows), _cells(0, 9, 19, 22, rows), _cells(0, 9, 39, 41, rows)])
    with tbpa.set_options(progress=False):
        net = corridor_network(_da(res, rows), cores, cutoff=500)
    roads = gpd.GeoDataFrame(crs=LAEA, geometry=[shapely.LineString([(x, 0), (x, 900)]) for x in (725, 1225)])
    return net, _da(np.full((rows, cols), 104), rows), roads


def test_composite_score_weights():
    net, hab, roads = _three_cores()
    with tbpa.set_options(progress=False):
        s = score_corridors(net, habitat=hab, layers={"roads": roads}, weights={"cwd": 3, "crossings_roads": 1})
    s = s.set_index(s.core_a + s.core_b)
    assert s.loc["AB", "cwd"] < s.loc["BC", "cwd"]
    assert s.loc["AB", "crossings_roads"] == 2 and s.loc["BC", "crossings_roads"] == 0
    # AB: n_cwd = 1, n_roads = 0 -> 3/4; BC: 0 and 1 -> 1/4
    assert s.loc["AB", "score"] == pytest.approx(0.75)
    assert s.loc["BC", "score"] == pytest.approx(0.25)
    assert s.loc["AB", "rank"] == 1
    with tbpa.set_options(progress=False):
        scaled = score_corridors(net, habitat=hab, layers={"roads": roads},
                                 weights={"cwd": 300, "crossings_roads": 100})
    assert scaled.score.tolist() == pytest.approx(s.score.tolist())


def test_errors(case):
    net, _, hab, _ = case
    with pytest.raises(UnknownNameError, match="bottleneck_width_m"):
        score_corridors(net, habitat=hab, weights={"bottleneck": 1})
    with pytest.raises(UnknownNameError):  # needs resistance=
        score_corridors(net, habitat=hab, weights={"effective_resistance": 1})
    with pytest.raises(GridMismatchError):
        score_corridors(net, habitat=_da(np.full((R, C + 1), 104)))
    net.corridors.attrs["cutoff"], saved = "none", net.corridors.attrs["cutoff"]
    try:
        with pytest.raises(ValidationError, match="cutoff"):
            score_corridors(net, habitat=hab)
    finally:
        net.corridors.attrs["cutoff"] = saved


def test_bottleneck_width_closed_forms():
    """Straight corridors of odd width k give k cells; the widest disc is found, not the LCP's."""
    for k in (1, 3, 5):
        corridor = np.zeros((15, 20), bool)
        corridor[2:2 + k, :] = True
        ta = np.zeros_like(corridor)
        tb = np.zeros_like(corridor)
        ta[2:2 + k, 0] = True
        tb[2:2 + k, -1] = True
        assert bottleneck_width(corridor, ta, tb, 50.0) == pytest.approx(50.0 * k)
    # two parallel branches of widths 1 and 5: the wide one decides
    corridor = np.zeros((15, 20), bool)
    corridor[0, :] = True
    corridor[6:11, :] = True
    ta = np.zeros_like(corridor)
    ta[:, 0] = True
    tb = np.zeros_like(corridor)
    tb[:, -1] = True
    assert bottleneck_width(corridor & ~ta & ~tb, ta, tb, 10.0) == pytest.approx(50.0)
    # touching terminals: no corridor between them
    ta2 = np.zeros((3, 3), bool)
    ta2[:, 0] = True
    tb2 = np.zeros((3, 3), bool)
    tb2[:, 1] = True
    assert np.isnan(bottleneck_width(np.zeros((3, 3), bool), ta2, tb2, 10.0))


def test_minmax_normalise():
    assert minmax_normalise([1.0, 3.0, 2.0], "higher").tolist() == [0.0, 1.0, 0.5]
    assert minmax_normalise([5.0, 5.0], "lower").tolist() == [1.0, 1.0]
    out = minmax_normalise([1.0, np.nan, 3.0], "lower")
    assert out[0] == 1.0 and np.isnan(out[1]) and out[2] == 0.0


def test_habitat_nodata_and_nan_count_as_share_nodata(case):
    net, _, _, _ = case
    hab = np.full((R, C), 104.0)
    hab[:, 20:] = 255.0  # the raster's nodata value
    hab[:, 10:12] = np.nan
    da = _da(hab)
    da.rio.write_nodata(255.0, encoded=False, inplace=True)
    with tbpa.set_options(progress=False):
        row = score_corridors(net, habitat=da).iloc[0]
    # path cells: columns 2-27 (26 cells); nodata columns 20-27 (8) and NaN columns 10-11 (2)
    assert row.share_nodata == pytest.approx(10 / 26)
    assert row.share_104 == pytest.approx(16 / 26)
    assert "share_255" not in row.index
