"""Monitoring: readers, individuals across partners, crossings, validation, effort.

Every expected value is planted in the fixture and worked out by hand in the test.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import Geod
from shapely.geometry import LineString, Point, box

import tbpa
from tbpa.errors import CRSError, DataError, EmptySelectionError, TbpaWarning, ValidationError
from tbpa.monitoring import (
    crossing_segments,
    harmonize_individuals,
    read_detections,
    sampling_effort,
    summarize_transborder,
    transborder_individuals,
    validate_connectivity,
)

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
TIGER, LEOPARD = "Panthera tigris altaica", "Panthera pardus orientalis"


@pytest.fixture
def countries():
    """CHN west of 131 E, RUS east of it (a straight schematic border)."""
    return gpd.GeoDataFrame({"iso3": ["CHN", "RUS"]},
                            geometry=[box(130.0, 42.5, 131.0, 43.5), box(131.0, 42.5, 132.0, 43.5)],
                            crs="EPSG:4326")


def _table(rows):
    return pd.DataFrame(rows, columns=["station", "lon", "lat", "timestamp", "species", "individual", "sex"])


@pytest.fixture
def detections():
    rows = [
        # T1: CHN -> RUS -> CHN: 2 crossings
        ("C1", 130.80, 43.00, "2015-01-01T08:00:00+08:00", TIGER, "T1", "M"),
        ("R1", 131.20, 43.10, "2015-01-05T10:00:00+10:00", TIGER, "T1", "M"),
        ("C2", 130.70, 43.30, "2015-02-01T08:00:00+08:00", TIGER, "T1", "M"),
        # T2: RUS only
        ("R2", 131.50, 43.00, "2015-01-03T10:00:00+10:00", TIGER, "T2", "F"),
        ("R3", 131.60, 43.10, "2015-01-04T10:00:00+10:00", TIGER, "T2", "F"),
        # L1: RUS -> CHN: 1 crossing
        ("R1", 131.20, 43.10, "2015-03-01T22:00:00+10:00", LEOPARD, "L1", "F"),
        ("C1", 130.80, 43.00, "2015-03-03T02:00:00+08:00", LEOPARD, "L1", "F"),
    ]
    return read_detections(_table(rows), partner="joint")


# -- readers -------------------------------------------------------------------------------


def test_read_generic_converts_offsets_to_utc(detections):
    t1 = detections[detections.individual_id == "T1"].sort_values("timestamp")
    assert str(t1.timestamp.iloc[0]) == "2015-01-01 00:00:00+00:00"  # 08:00 +08:00
    assert str(t1.timestamp.iloc[1]) == "2015-01-05 00:00:00+00:00"  # 10:00 +10:00
    assert list(detections.columns) == tbpa.monitoring.DETECTION_COLUMNS
    assert detections.crs.to_epsg() == 4326
    assert set(detections.line) == set(range(1, 8))  # 1-based row numbers of a DataFrame


def test_naive_timestamps_need_a_timezone():
    t = _table([("R1", 131.2, 43.1, "2015-01-05 10:00:00", TIGER, "T1", "M")])
    with pytest.raises(DataError, match="no UTC offset.*timezone="):
        read_detections(t)
    det = read_detections(t, timezone="Asia/Vladivostok")
    assert str(det.timestamp.iloc[0]) == "2015-01-05 00:00:00+00:00"


def test_bad_rows_reported_by_line(tmp_path):
    path = tmp_path / "det.csv"
    path.write_text(
        "station,lon,lat,timestamp,species,individual\n"
        "C1,130.8,43.0,2015-01-01T08:00:00+08:00,P. tigris,T1\n"
        "C2,130.8,abc,2015-01-01T08:00:00+08:00,P. tigris,T1\n"
        "C3,130.8,43.0,2015-01-01T08:00:00+08:00,P. tigris,T2\n"
        "C4,130.8,43.0,not-a-date+08:00,P. tigris,T2\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"line 3: missing or invalid coordinate.*line 5"):
        read_detections(path)
    with pytest.warns(TbpaWarning, match="dropped 2 bad rows"):
        det = read_detections(path, on_bad_rows="drop")
    assert sorted(det.line) == [2, 4]
    assert sorted(r["line"] for r in det.attrs["bad_rows"]) == [3, 5]


def test_xy_columns_need_crs():
    t = pd.DataFrame({"station": ["A"], "x": [0.0], "y": [0.0], "timestamp": ["2015-01-01T00:00:00Z"],
                      "species": [TIGER]})
    with pytest.raises(CRSError, match="crs="):
        read_detections(t)
    assert read_detections(t, crs=LAEA).crs == gpd.GeoSeries(crs=LAEA).crs


def _write_camtrap_dp(folder):
    folder.mkdir()
    deployments = pd.DataFrame({
        "deploymentID": ["dep1", "dep2"], "locationID": ["RU-07", "CN-12"],
        "latitude": [43.1, 43.0], "longitude": [131.2, 130.8],
        "deploymentStart": ["2015-01-01T00:00:00+10:00", "2015-01-01T00:00:00+08:00"],
        "deploymentEnd": ["2015-03-01T00:00:00+10:00", "2015-03-01T00:00:00+08:00"],
    })
    media = pd.DataFrame({
        "mediaID": ["m1", "m2", "m3"], "deploymentID": ["dep1", "dep2", "dep1"],
        "timestamp": ["2015-01-10T03:00:00+10:00", "2015-01-12T01:00:00+08:00", "2015-01-20T00:00:00+10:00"],
        "filePath": ["a.jpg", "b.jpg", "c.jpg"], "filePublic": ["false"] * 3, "fileMediatype": ["image/jpeg"] * 3,
    })
    observations = pd.DataFrame({
        "observationID": ["o1", "o2", "o3"], "deploymentID": ["dep1", "dep2", "dep1"],
        "mediaID": ["m1", "m2", "m3"],
        "eventStart": ["2015-01-10T03:00:00+10:00", "2015-01-12T01:00:00+08:00", "2015-01-20T00:00:00+10:00"],
        "eventEnd": ["2015-01-10T03:00:10+10:00", "2015-01-12T01:00:10+08:00", "2015-01-20T00:00:10+10:00"],
        "observationLevel": ["media"] * 3, "observationType": ["animal", "animal", "blank"],
        "scientificName": [LEOPARD, LEOPARD, None], "count": [1, 1, None],
        "lifeStage": ["adult", "adult", None], "sex": ["female", "female", None],
        "individualID": ["LLNP-F12", "LLNP-F12", None],
    })
    for name, t in (("deployments", deployments), ("media", media), ("observations", observations)):
        t.to_csv(folder / f"{name}.csv", index=False)
    (folder / "datapackage.json").write_text(json.dumps({
        "profile": "https://raw.githubusercontent.com/tdwg/camtrap-dp/1.0/camtrap-dp-profile.json",
        "resources": [{"name": n, "path": f"{n}.csv", "profile": "tabular-data-resource"}
                      for n in ("deployments", "media", "observations")],
    }))
    return folder


def test_camtrap_dp_package(tmp_path):
    folder = _write_camtrap_dp(tmp_path / "pkg")
    det = read_detections(folder, partner="LLNP+TLNP")
    assert len(det) == 2  # the blank observation is not a detection
    assert det.station_id.tolist() == ["RU-07", "CN-12"]
    assert str(det.timestamp.iloc[1]) == "2015-01-11 17:00:00+00:00"
    assert det.geometry.iloc[1].equals(Point(130.8, 43.0))
    assert set(det.individual_id) == {"LLNP-F12"} and set(det.kind) == {"camera"}
    assert det.line.tolist() == [2, 3]  # lines of observations.csv


def test_camtrap_dp_required_fields(tmp_path):
    folder = _write_camtrap_dp(tmp_path / "pkg")
    obs = pd.read_csv(folder / "observations.csv").drop(columns=["observationLevel"])
    obs.to_csv(folder / "observations.csv", index=False)
    with pytest.raises(DataError, match="observationLevel"):
        read_detections(folder)


def test_movebank_csv(tmp_path):
    path = tmp_path / "movebank.csv"
    pd.DataFrame({
        "event-id": [1, 2], "visible": ["true", "true"],
        "timestamp": ["2016-02-01 00:00:00.000", "2016-02-01 04:00:00.000"],
        "location-long": [130.9, 131.1], "location-lat": [43.0, 43.0],
        "individual-taxon-canonical-name": [TIGER, TIGER], "individual-local-identifier": ["Pt-05", "Pt-05"],
    }).to_csv(path, index=False)
    det = read_detections(path)
    assert set(det.kind) == {"gps"}
    assert str(det.timestamp.iloc[1]) == "2016-02-01 04:00:00+00:00"  # Movebank is UTC
    assert det.record_id.tolist() == ["1", "2"]


# -- individuals ---------------------------------------------------------------------------


def test_harmonize_individuals_matches_and_conflicts(detections):
    ru = detections[detections.individual_id == "T2"].assign(partner=pd.NA)
    cn = detections[detections.individual_id == "T1"].assign(partner=pd.NA)
    cn = cn.assign(individual_id="HC-7")
    matches = pd.DataFrame({"partner": ["LLNP", "TLNP"], "local_id": ["T2", "HC-7"], "global_id": ["AT-1", "AT-1"]})
    merged = harmonize_individuals({"LLNP": ru, "TLNP": cn}, matches=matches)
    assert set(merged.individual_id) == {"AT-1"} and merged.matched.all()
    assert set(merged.local_individual_id) == {"T2", "HC-7"}
    assert set(merged.partner) == {"LLNP", "TLNP"}
    unmatched = harmonize_individuals({"LLNP": ru, "TLNP": ru})
    assert set(unmatched.individual_id) == {"LLNP:T2", "TLNP:T2"}  # equal local ids stay apart
    bad = pd.concat([matches, pd.DataFrame({"partner": ["LLNP"], "local_id": ["T2"], "global_id": ["AT-9"]})])
    with pytest.raises(DataError, match="more than one global id"):
        harmonize_individuals({"LLNP": ru, "TLNP": cn}, matches=bad)


def test_transborder_individuals_planted(detections, countries):
    table = transborder_individuals(detections, countries)
    assert table.loc["T1", "n_crossings"] == 2 and table.loc["T1", "countries"] == "CHN;RUS"
    assert table.loc["T2", "n_crossings"] == 0 and not table.loc["T2", "crossed"]
    assert table.loc["L1", "n_crossings"] == 1 and table.loc["L1", "crossed"]
    assert str(table.loc["T1", "first_CHN"]) == "2015-01-01 00:00:00+00:00"
    assert str(table.loc["T1", "last_CHN"]) == "2015-02-01 00:00:00+00:00"
    assert table.loc["T1", "n_RUS"] == 1
    # MCP of T1: geodesic area of its triangle is the oracle (1 % covers straight-edge differences)
    tri = [(130.80, 43.00), (131.20, 43.10), (130.70, 43.30)]
    lon, lat = zip(*tri)
    geod_km2 = abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0]) / 1e6
    assert table.loc["T1", "mcp_area_km2"] == pytest.approx(geod_km2, rel=0.01)
    assert table.loc["T1", ["mcp_km2_CHN", "mcp_km2_RUS"]].sum() == pytest.approx(table.loc["T1", "mcp_area_km2"])
    assert table.loc["T2", "mcp_area_km2"] == 0.0  # two points: no polygon
    summary = summarize_transborder(table)
    alls = summary[summary.group == "all"].set_index("species")
    assert alls.loc[TIGER, "n_individuals"] == 2 and alls.loc[TIGER, "n_crossed"] == 1
    assert alls.loc[LEOPARD, "n_crossed"] == 1
    by_sex = summary[(summary.group == "sex") & (summary.species == TIGER)].set_index("value")
    assert by_sex.loc["M", "n_crossed"] == 1 and by_sex.loc["F", "n_crossed"] == 0


def test_transborder_requires_individuals(detections, countries):
    with pytest.raises(EmptySelectionError, match="individual_id"):
        transborder_individuals(detections.assign(individual_id=pd.NA), countries)


# -- crossings -----------------------------------------------------------------------------


@pytest.fixture
def border():
    return gpd.GeoDataFrame({"iso3_a": ["CHN"], "iso3_b": ["RUS"]},
                            geometry=[LineString([(0, -5000), (0, 5000)])], crs=LAEA)


def test_gps_crossing_point_and_time(border):
    fixes = read_detections(pd.DataFrame({
        "x": [-1000.0, 3000.0, 3500.0], "y": [0.0, 400.0, 400.0],
        "timestamp": ["2016-01-01T00:00:00Z", "2016-01-01T04:00:00Z", "2016-01-01T05:00:00Z"],
        "species": [TIGER] * 3, "individual": ["Pt-05"] * 3, "station": ["gps"] * 3,
    }), crs=LAEA).assign(kind="gps")
    out = crossing_segments(fixes, border, segment_m=1000)
    assert len(out) == 1
    row = out.iloc[0]
    # the step (-1000,0)->(3000,400) meets x = 0 a quarter of the way: y = 100, t = +1 h
    assert row.geometry.x == pytest.approx(0.0) and row.geometry.y == pytest.approx(100.0)
    assert row.position_m == pytest.approx(5100.0) and row.segment_index == 5
    assert str(pd.Timestamp(row.time)) == "2016-01-01 01:00:00+00:00"


def test_camera_pair_border_stretch(border):
    det = read_detections(pd.DataFrame({
        "x": [-2000.0, 2000.0], "y": [1000.0, 3000.0],
        "timestamp": ["2015-01-01T00:00:00Z", "2015-01-03T00:00:00Z"],
        "species": [LEOPARD] * 2, "individual": ["L1"] * 2, "station": ["CN-1", "RU-1"],
        "country": ["CHN", "RUS"],
    }), crs=LAEA)
    out = crossing_segments(det, border)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row.position_from_m, row.position_to_m, row.length_m) == pytest.approx((6000, 8000, 2000))
    assert (row.station_from, row.station_to) == ("CN-1", "RU-1")


def test_crossings_need_projected_border(detections):
    with pytest.raises(CRSError, match="geographic"):
        crossing_segments(detections, gpd.GeoSeries([LineString([(131, 42), (131, 44)])], crs=4326))


# -- validation ----------------------------------------------------------------------------


@pytest.fixture
def stripe_surface():
    values = np.ones((50, 50))
    values[:, 20:25] = 10.0  # a high-current stripe, columns 20-24 (x 2000-2500 m)
    return tbpa.io.from_array(values, transform=Affine(100, 0, 0, 0, -100, 5000), crs=LAEA)


def _pairwise_auc(obs, rnd):
    o, r = np.asarray(obs)[:, None], np.asarray(rnd)[None, :]
    return float(((o > r) + 0.5 * (o == r)).mean())


def test_validate_auc_matches_pairwise_definition(stripe_surface):
    observed = gpd.GeoDataFrame(geometry=[Point(2050 + 80 * i, 300 + 900 * i) for i in range(5)], crs=LAEA)
    report = validate_connectivity(stripe_surface, observed, n_random=500, seed=3)
    assert report.auc == pytest.approx(_pairwise_auc(report.observed_values, report.random_values))
    assert report.auc > 0.9 and report.p_value < 1e-3
    assert np.all(report.observed_values == 10.0)
    again = validate_connectivity(stripe_surface, observed, n_random=500, seed=3)
    assert np.array_equal(again.random_values, report.random_values)  # seeded


def test_validate_cost_surface_and_border_support(stripe_surface):
    cost = 11.0 - stripe_surface  # low cost in the stripe
    border = gpd.GeoSeries([LineString([(50, 2500), (4950, 2500)])], crs=LAEA)
    observed = gpd.GeoDataFrame(geometry=[Point(2200, 2500), Point(2300, 2500)], crs=LAEA)
    report = validate_connectivity(cost, observed, border, n_random=400, higher_is_better=False)
    assert report.support == "border"
    assert report.auc == pytest.approx(_pairwise_auc(-report.observed_values, -report.random_values))
    flow = gpd.GeoDataFrame({"rank": [2, 1, 3]}, geometry=[
        LineString([(0, 2500), (2000, 2500)]), LineString([(2000, 2500), (2600, 2500)]),
        LineString([(2600, 2500), (5000, 2500)])], crs=LAEA)
    ranked = validate_connectivity(cost, observed, border, n_random=100, higher_is_better=False, flow=flow)
    assert ranked.flow_ranks["rank"].tolist() == [1, 1]


def test_validate_bad_input(stripe_surface):
    with pytest.raises(EmptySelectionError):
        validate_connectivity(stripe_surface, gpd.GeoDataFrame(geometry=[], crs=LAEA))
    with pytest.raises(ValidationError, match="n_random"):
        validate_connectivity(stripe_surface, gpd.GeoDataFrame(geometry=[Point(10, 10)], crs=LAEA), n_random=3)


# -- effort --------------------------------------------------------------------------------


def test_sampling_effort_trap_days(countries):
    deployments = pd.DataFrame({
        "deploymentID": ["d1", "d2", "d3"], "locationID": ["S1", "S1", "S2"],
        "latitude": [43.0, 43.0, 43.1], "longitude": [130.8, 130.8, 131.3],
        "deploymentStart": ["2015-01-01T00:00:00+08:00", "2015-01-06T00:00:00+08:00", "2015-01-01T00:00:00+10:00"],
        "deploymentEnd": ["2015-01-11T00:00:00+08:00", "2015-01-16T00:00:00+08:00", "2015-01-31T00:00:00+10:00"],
    })
    st = sampling_effort(deployments, countries=countries).set_index("station_id")
    assert st.loc["S1", "camera_days"] == pytest.approx(20.0)  # 10 + 10
    assert st.loc["S1", "trap_days"] == pytest.approx(15.0)    # union 1-16 Jan
    assert st.loc["S2", "trap_days"] == pytest.approx(30.0)
    assert st.loc["S1", "country"] == "CHN" and st.loc["S2", "country"] == "RUS"
    per_country = sampling_effort(deployments, countries=countries, by="country").set_index("country")
    assert per_country.loc["CHN", "trap_days"] == pytest.approx(15.0)
    assert per_country.loc["CHN", "n_stations"] == 1
    backwards = deployments.assign(deploymentEnd=deployments.deploymentStart)
    with pytest.raises(DataError, match="end before"):
        sampling_effort(backwards)


# -- embedded synthetic example -----------------------------------------------------------


def test_embedded_synthetic_example_is_labelled_and_readable():
    from tbpa._data import data_path

    folder = data_path("monitoring", "synthetic_camtrap_dp")
    meta = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert "SYNTHETIC" in meta["title"]
    det = read_detections(folder)
    assert set(det.kind) == {"camera"} and det.individual_id.notna().all()
    table = transborder_individuals(det, tbpa.sites.load_countries())
    assert table["crossed"].any() and (~table["crossed"]).any()
    gps = read_detections(data_path("monitoring", "synthetic_movebank_gps.csv"))
    crossings = crossing_segments(gps, tbpa.sites.load_landscape("land_of_big_cats").borders)
    assert len(crossings) >= 1 and (crossings["kind"] == "gps").all()


def test_cli_transborder(capsys):
    from tbpa._data import data_path
    from tbpa.cli import main

    assert main(["transborder", str(data_path("monitoring", "synthetic_camtrap_dp"))]) == 0
    out = capsys.readouterr().out
    assert "n_crossings" in out and "Panthera" in out


def test_excel_and_geopackage_inputs(tmp_path):
    table = pd.DataFrame({"station": ["R1", "C1"], "lon": [131.2, 130.8], "lat": [43.1, 43.0],
                          "timestamp": ["2015-01-05T10:00:00+10:00", "2015-01-06T08:00:00+08:00"],
                          "species": [TIGER, TIGER], "individual": ["T1", "T1"]})
    table.to_excel(tmp_path / "det.xlsx", index=False)
    det = read_detections(tmp_path / "det.xlsx")
    assert det.line.tolist() == [2, 3] and det.individual_id.tolist() == ["T1", "T1"]
    gdf = gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(table.lon, table.lat), crs=4326).to_crs(LAEA)
    gdf.to_file(tmp_path / "det.gpkg", layer="detections")
    back = read_detections(tmp_path / "det.gpkg")
    assert back.geometry.x.round(6).tolist() == [131.2, 130.8]  # returned in WGS 84
