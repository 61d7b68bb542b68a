"""ProtConn on hand-built countries (rectangles in a LAEA CRS) with every value worked by hand."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from tbpa import errors
from tbpa.connectivity import protconn

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
KM = 1000.0


def box_km(x0, y0, x1, y1):
    return shapely.box(x0 * KM, y0 * KM, x1 * KM, y1 * KM)


def three_countries():
    """AAA and BBB share the border x = 100 km; CCC lies 200 km north of AAA.

    AAA: PA1 and PA2 (20 × 10 km each) on AAA's eastern border, 60 km apart, both 1 km from
         BBB's strip PA3: they connect through BBB (2 km) far better than directly (60 km).
    BBB: PA3 (9 × 90 km strip) alone; AAA's PAs are stepping stones but add no area.
    CCC: PA4 and PA5 (10 × 10 km) touch (one contiguous block); PA6 (10 × 10 km) 30 km away.
    """
    countries = gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB", "CCC"]},
        geometry=[box_km(0, 0, 100, 100), box_km(100, 0, 200, 100), box_km(0, 300, 100, 400)],
        crs=LAEA,
    )
    pas = gpd.GeoDataFrame(
        {"site_id": ["PA1", "PA2", "PA3", "PA4", "PA5", "PA6"],
         "iso3": ["AAA", "AAA", "BBB", "CCC", "CCC", "CCC"]},
        geometry=[
            box_km(80, 80, 100, 90), box_km(80, 10, 100, 20), box_km(101, 5, 110, 95),
            box_km(10, 340, 20, 350), box_km(20, 340, 30, 350), box_km(60, 340, 70, 350),
        ],
        crs=LAEA,
    )
    return pas, countries


FRACTIONS = ["Prot", "Trans", "Unprot", "Within", "Contig"]


@pytest.fixture(scope="module")
def table():
    pas, countries = three_countries()
    return protconn(pas, countries, dispersal_m=10_000, p=0.5, transboundary_m=50_000)


def test_country_whose_pas_connect_through_a_neighbour(table):
    r = table.loc["AAA"]
    A, a = 1e10, 2e8  # 100 × 100 km; each PA 20 × 10 km
    p_direct = 0.5 ** (60 / 10)  # 60 km apart
    p_via_b = 0.5 ** (1 / 10) * 0.5 ** (1 / 10)  # 1 km to PA3 and 1 km back
    assert p_via_b > p_direct
    eca = math.sqrt(2 * a**2 + 2 * a * a * p_via_b)
    eca_no_trans = math.sqrt(2 * a**2 + 2 * a * a * p_direct)
    assert r["area_m2"] == pytest.approx(A)
    assert r["protected_m2"] == pytest.approx(2 * a)
    assert r["ECA_m2"] == pytest.approx(eca, rel=1e-12)
    assert r["ECA_noTrans_m2"] == pytest.approx(eca_no_trans, rel=1e-12)
    assert r["n_pa_units"] == 2 and r["n_stepping_stones"] == 1
    assert r["Prot"] == pytest.approx(4.0)
    assert r["Unprotected"] == pytest.approx(96.0)
    protconn_ = 100 * eca / A
    assert r["ProtConn"] == pytest.approx(protconn_, rel=1e-12)
    assert r["ProtUnconn"] == pytest.approx(4.0 - protconn_, rel=1e-12)
    assert r["RelConn"] == pytest.approx(100 * protconn_ / 4.0, rel=1e-12)
    f_prot = 100 * (100 * math.sqrt(2 * a**2) / A) / protconn_
    f_trans = 100 * (100 * (eca - eca_no_trans) / A) / protconn_
    assert r["ProtConn[Prot]"] == pytest.approx(f_prot, rel=1e-12)
    assert r["ProtConn[Trans]"] == pytest.approx(f_trans, rel=1e-12)
    assert r["ProtConn[Trans]"] > 25  # what transboundary cooperation adds: ~26 % of ProtConn
    assert r["ProtConn[Unprot]"] == pytest.approx(100 - f_prot - f_trans, rel=1e-12)
    assert r["ProtConn[Unprot]"] > 0
    # no contiguous PAs: everything "protected" is within individual PAs
    assert r["ProtConn[Within]"] == pytest.approx(f_prot, rel=1e-12)
    assert r["ProtConn[Contig]"] == pytest.approx(0.0, abs=1e-9)
    for f in FRACTIONS:
        assert r[f"ProtConn[{f}]_land"] == pytest.approx(r[f"ProtConn[{f}]"] * protconn_ / 100, rel=1e-12)


def test_country_with_one_pa(table):
    r = table.loc["BBB"]
    a3 = 9 * 90 * 1e6
    assert r["Prot"] == pytest.approx(100 * a3 / 1e10)
    # a single PA: ProtConn = Prot (ECA = its area; the stepping stones add nothing)
    assert r["ECA_m2"] == pytest.approx(a3, rel=1e-12)
    assert r["ProtConn"] == pytest.approx(r["Prot"], rel=1e-12)
    assert r["n_stepping_stones"] == 2  # AAA's PA1 and PA2 touch the border
    assert r["ProtConn[Prot]"] == pytest.approx(100.0)
    assert r["ProtConn[Within]"] == pytest.approx(100.0)
    assert r["ProtConn[Trans]"] == pytest.approx(0.0, abs=1e-9)
    assert r["ProtConn[Unprot]"] == pytest.approx(0.0, abs=1e-9)
    assert r["ProtConn[Contig]"] == pytest.approx(0.0, abs=1e-9)
    assert r["RelConn"] == pytest.approx(100.0)


def test_contiguous_pas_give_contig_fraction(table):
    r = table.loc["CCC"]
    A = 1e10
    block, single = 2e8, 1e8  # PA4 + PA5 dissolved into one 20 × 10 km block; PA6 alone
    p = 0.5 ** (30 / 10)
    eca = math.sqrt(block**2 + single**2 + 2 * block * single * p)
    assert eca == pytest.approx(math.sqrt(5.5e16))
    assert r["n_pa_units"] == 2 and r["n_stepping_stones"] == 0
    assert r["Prot"] == pytest.approx(3.0)
    assert r["ECA_m2"] == pytest.approx(eca, rel=1e-12)
    assert r["ProtConn[Prot]"] == pytest.approx(100 * math.sqrt(block**2 + single**2) / eca, rel=1e-12)
    # individual PAs: three of 1e8 m² each
    within = 100 * math.sqrt(3 * single**2) / eca
    assert r["ProtConn[Within]"] == pytest.approx(within, rel=1e-12)
    assert r["ProtConn[Contig]"] == pytest.approx(r["ProtConn[Prot]"] - within, rel=1e-12)
    assert r["ProtConn[Contig]"] > 0
    assert r["ProtConn[Trans]"] == pytest.approx(0.0, abs=1e-9)
    assert r["ProtConn[Unprot]"] == pytest.approx(100 - r["ProtConn[Prot]"], rel=1e-12)
    assert r["ProtConn"] == pytest.approx(100 * eca / A, rel=1e-12)


def test_land_fractions_add_up_to_protconn(table):
    land = table[[f"ProtConn[{f}]_land" for f in ("Within", "Contig", "Unprot", "Trans")]].sum(axis=1)
    np.testing.assert_allclose(land, table["ProtConn"], rtol=1e-12)
    parts = table[[f"ProtConn[{f}]" for f in ("Prot", "Trans", "Unprot")]].sum(axis=1)
    np.testing.assert_allclose(parts, 100.0, rtol=1e-12)
    assert table.index.name == "iso3" and list(table.index) == ["AAA", "BBB", "CCC"]


def test_transboundary_distance_limits_stepping_stones():
    pas, countries = three_countries()
    t = protconn(pas, countries, transboundary_m=500)  # PA3 is 1 km from AAA: excluded
    r = t.loc["AAA"]
    assert r["n_stepping_stones"] == 0
    assert r["ECA_m2"] == pytest.approx(math.sqrt(2 * 4e16 * (1 + 0.5**6)), rel=1e-12)
    assert r["ProtConn[Trans]"] == pytest.approx(0.0, abs=1e-12)


def test_centroid_distances():
    pas, countries = three_countries()
    r = protconn(pas, countries, distance="centroid").loc["AAA"]
    # centroids (90, 85), (90, 15) km; via PA3's centroid (105.5, 50) is longer than direct
    d12 = 70.0
    eca = math.sqrt(2 * 4e16 * (1 + 0.5 ** (d12 / 10)))
    assert r["ECA_m2"] == pytest.approx(eca, rel=1e-12)
    assert r["ProtConn[Trans]"] == pytest.approx(0.0, abs=1e-9)


def test_overlap_is_dissolved_and_within_corrected():
    countries = gpd.GeoDataFrame({"iso3": ["DDD"]}, geometry=[box_km(0, 0, 100, 100)], crs=LAEA)
    pas = gpd.GeoDataFrame(geometry=[box_km(10, 10, 30, 30), box_km(20, 20, 40, 40)], crs=LAEA)
    r = protconn(pas, countries).loc["DDD"]
    union = (400 + 400 - 100) * 1e6
    assert r["protected_m2"] == pytest.approx(union)  # overlap counted once
    assert r["Prot"] == pytest.approx(7.0)
    assert r["ProtConn"] == pytest.approx(7.0)
    assert r["ProtConn[Prot]"] == pytest.approx(100.0)
    # [Within] = 100 √(Σa'² · Σa/Σa') / ECA with the undissolved parts a' = 4e8, 4e8
    within = 100 * math.sqrt(2 * 4e8**2 * union / 8e8) / union
    assert r["ProtConn[Within]"] == pytest.approx(within, rel=1e-12)
    assert r["ProtConn[Contig]"] == pytest.approx(100 - within, rel=1e-12)


def test_pa_across_a_border_is_split_between_countries():
    countries = gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB"]}, geometry=[box_km(0, 0, 100, 100), box_km(100, 0, 200, 100)], crs=LAEA
    )
    pas = gpd.GeoDataFrame(geometry=[box_km(90, 40, 110, 60)], crs=LAEA)
    t = protconn(pas, countries)
    assert t.loc["AAA", "protected_m2"] == pytest.approx(2e8)
    assert t.loc["BBB", "protected_m2"] == pytest.approx(2e8)
    assert t.loc["AAA", "n_stepping_stones"] == 1  # BBB's half
    assert t.loc["AAA", "ProtConn"] == pytest.approx(2.0)


def test_country_without_pas_and_multiple_rows_per_country():
    countries = gpd.GeoDataFrame(
        {"iso3": ["AAA", "AAA", "EEE"]},
        geometry=[box_km(0, 0, 50, 100), box_km(50, 0, 100, 100), box_km(500, 0, 600, 100)], crs=LAEA,
    )
    pas = gpd.GeoDataFrame(geometry=[box_km(10, 10, 20, 20)], crs=LAEA)
    t = protconn(pas, countries)
    assert list(t.index) == ["AAA", "EEE"]
    assert t.loc["AAA", "area_m2"] == pytest.approx(1e10)
    e = t.loc["EEE"]
    assert e["Prot"] == 0 and e["ProtConn"] == 0 and e["Unprotected"] == 100
    assert np.isnan(e["RelConn"]) and np.isnan(e["ProtConn[Prot]"])


def test_countries_indexed_without_iso3_column():
    pas, countries = three_countries()
    t = protconn(pas, countries.set_index("iso3"))
    assert t.loc["BBB", "ProtConn"] == pytest.approx(8.1)


def test_bad_inputs():
    pas, countries = three_countries()
    with pytest.raises(errors.CRSError, match="countries"):
        protconn(pas.to_crs(4326), countries.to_crs(4326))
    with pytest.raises(errors.CRSError, match="pas"):
        protconn(pas.to_crs(4326), countries)
    with pytest.raises(errors.CRSError, match="reproject"):
        protconn(pas.to_crs("EPSG:3857"), countries)
    with pytest.raises(errors.EmptySelectionError):
        protconn(pas, countries.iloc[:0])
    with pytest.raises(errors.ValidationError, match="p"):
        protconn(pas, countries, p=0)
    with pytest.raises(errors.ValidationError, match="distance"):
        protconn(pas, countries, distance="least_cost")


def test_pa_outside_every_country_warns_but_serves_as_stepping_stone():
    pas, countries = three_countries()
    sea = gpd.GeoDataFrame({"site_id": ["SEA"], "iso3": ["XXX"]}, geometry=[box_km(40, 150, 60, 160)], crs=LAEA)
    pas2 = gpd.GeoDataFrame(
        {"site_id": list(pas["site_id"]) + ["SEA"], "iso3": list(pas["iso3"]) + ["XXX"]},
        geometry=list(pas.geometry) + list(sea.geometry), crs=LAEA,
    )
    with pytest.warns(errors.TbpaWarning, match="outside every country"):
        t = protconn(pas2, countries)
    assert t.loc["AAA", "n_stepping_stones"] == 2  # PA3 and the offshore PA (50 km away)
    assert t.loc["AAA", "Prot"] == pytest.approx(4.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        protconn(*three_countries())  # no warning when all PAs are on land


def test_input_not_modified():
    pas, countries = three_countries()
    before = (pas.copy(), countries.copy())
    protconn(pas, countries)
    assert pas.equals(before[0]) and countries.equals(before[1])


def test_cli_writes_csv(tmp_path):
    from tbpa.cli import main

    pas, countries = three_countries()
    pas.to_file(tmp_path / "pas.gpkg")
    countries.to_file(tmp_path / "countries.gpkg")
    out = tmp_path / "table.csv"
    code = main(["protconn", str(tmp_path / "pas.gpkg"), str(tmp_path / "countries.gpkg"), "--out", str(out)])
    assert code == 0
    import pandas as pd

    t = pd.read_csv(out, index_col="iso3")
    assert t.loc["BBB", "ProtConn"] == pytest.approx(8.1)
    assert "ProtConn[Trans]" in t.columns


def test_border_slivers_below_min_part_are_ignored():
    countries = gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB"]}, geometry=[box_km(0, 0, 100, 100), box_km(100, 0, 200, 100)], crs=LAEA
    )
    # the PA outline overshoots the border by 0.2 m: a 0.2 m × 20 km = 4000 m² sliver in BBB
    pas = gpd.GeoDataFrame(geometry=[shapely.box(90 * KM, 40 * KM, 100 * KM + 0.2, 60 * KM)], crs=LAEA)
    t = protconn(pas, countries)  # default min_part_m2 = 1 ha
    assert t.loc["BBB", "protected_m2"] == 0 and t.loc["AAA", "n_stepping_stones"] == 0
    assert t.loc["AAA", "protected_m2"] == pytest.approx(2e8)
    t0 = protconn(pas, countries, min_part_m2=0)
    assert t0.loc["BBB", "protected_m2"] == pytest.approx(4000.0, rel=1e-6)
    assert t0.loc["AAA", "n_stepping_stones"] == 1
