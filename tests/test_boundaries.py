"""harmonize and draft_tbpa on planted, hand-computed rectangles (LAEA metres).

Layout (x, y in metres; the China/Russia border is the line x = 0):

* A (CHN) box(-3000, 0, 200, 4000) and B (RUS) box(0, 0, 3000, 4000): A crosses the border
  by 200 m -> planted overlap 200 x 4000 m = 80 ha.
* C (CHN) box(-3000, 5000, -100, 9000) and D (RUS) box(50, 5000, 3000, 9000): a 150 m gap
  -> planted sliver 150 x 4000 m = 60 ha (tolerance 500 m).
* E (CHN) box(-3000, 12000, -400, 14000) and F (RUS) box(400, 12000, 3000, 14000): an 800 m
  gap, wider than the tolerance -> not a sliver.
* G (RUS) box(1000, 1000, 2000, 2000) inside B: same country -> not an overlap.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from tbpa._schema import SITE_COLUMNS
from tbpa.boundaries import REPORT_COLUMNS, HarmonizeReport, draft_tbpa, harmonize
from tbpa.errors import CRSError, EmptySelectionError, TbpaWarning, ValidationError

LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def layer(rows, crs=LAEA):
    return gpd.GeoDataFrame(
        {"site_id": [r[0] for r in rows], "iso3": [r[1] for r in rows]},
        geometry=[r[2] for r in rows], crs=crs,
    )


@pytest.fixture
def china():
    return layer([
        ("A", "CHN", box(-3000, 0, 200, 4000)),
        ("C", "CHN", box(-3000, 5000, -100, 9000)),
        ("E", "CHN", box(-3000, 12000, -400, 14000)),
    ])


@pytest.fixture
def russia():
    return layer([
        ("B", "RUS", box(0, 0, 3000, 4000)),
        ("D", "RUS", box(50, 5000, 3000, 9000)),
        ("F", "RUS", box(400, 12000, 3000, 14000)),
        ("G", "RUS", box(1000, 1000, 2000, 2000)),
    ])


@pytest.fixture
def countries():
    return layer([("cn", "CHN", box(-10000, -1000, 0, 20000)),
                  ("ru", "RUS", box(0, -1000, 10000, 20000))])


def test_planted_overlap_and_sliver(china, russia):
    sites, report = harmonize([china, russia], crs=LAEA, sliver_tolerance_m=500)
    assert isinstance(report, HarmonizeReport)
    assert list(report.table.columns) == REPORT_COLUMNS + ["geometry"]
    assert list(sites.columns) == SITE_COLUMNS + ["layer"]
    assert len(sites) == 7 and sites.crs == gpd.GeoSeries(crs=LAEA).crs

    ov = report.overlaps
    assert len(ov) == 1
    assert {ov.site_a[0], ov.site_b[0]} == {"A", "B"}
    assert {ov.iso3_a[0], ov.iso3_b[0]} == {"CHN", "RUS"}
    assert ov.area_ha[0] == pytest.approx(80.0)  # 200 m x 4000 m
    assert 0 <= ov.x[0] <= 200 and 0 <= ov.y[0] <= 4000

    sl = report.slivers
    assert len(sl) == 1
    assert {sl.site_a[0], sl.site_b[0]} == {"C", "D"}
    assert sl.area_ha[0] == pytest.approx(60.0)  # 150 m x 4000 m
    assert -100 <= sl.x[0] <= 50 and 5000 <= sl.y[0] <= 9000
    assert sl.geometry[0].equals_exact(box(-100, 5000, 50, 9000).normalize(), 1e-6) or \
        sl.geometry[0].symmetric_difference(box(-100, 5000, 50, 9000)).area < 1e-3
    # nothing else: E/F gap is 800 m > 500 m, G is inside B (same country)
    assert set(report.table.issue) == {"overlap", "sliver"}


def test_sliver_tolerance_controls_detection(china, russia):
    _, narrow = harmonize([china, russia], crs=LAEA, sliver_tolerance_m=100)
    assert narrow.slivers.empty  # 150 m gap is wider than 100 m
    _, wide = harmonize([china, russia], crs=LAEA, sliver_tolerance_m=1000)
    areas = dict(zip(zip(wide.slivers.site_a, wide.slivers.site_b), wide.slivers.area_ha))
    assert areas[("C", "D")] == pytest.approx(60.0)
    assert areas[("E", "F")] == pytest.approx(800 * 2000 / 1e4)  # 160 ha


def test_clip_to_countries_removes_planted_overlap(china, russia, countries):
    sites, report = harmonize([china, russia], crs=LAEA, clip_to_countries=True,
                              countries=countries)
    clipped = report.table[report.table.issue == "clipped_to_country"]
    assert list(clipped.site_a) == ["A"]
    assert clipped.area_ha.iloc[0] == pytest.approx(80.0)
    assert report.overlaps.empty
    a = sites.set_index("site_id").geometry["A"]
    assert a.area == pytest.approx(3000 * 4000)
    assert a.bounds[2] == pytest.approx(0.0)


def test_inputs_not_modified(china, russia):
    before = china.copy()
    harmonize([china, russia], crs=LAEA)
    assert china.geometry.equals(before.geometry) and list(china.columns) == list(before.columns)


def test_bow_tie_fixed_and_reported():
    bow = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    assert not bow.is_valid
    bad = layer([("BOW", "RUS", bow), ("OK", "CHN", box(-5000, 0, -4000, 1000))])
    sites, report = harmonize(bad, crs=LAEA)
    assert sites.geometry.is_valid.all()
    fixed = report.fixed
    assert list(fixed.site_a) == ["BOW"]
    assert "Self-intersection" in fixed.detail.iloc[0]
    # two triangles of 1000 x 500 / 2 each = 500,000 m2 = 50 ha
    assert fixed.area_ha.iloc[0] == pytest.approx(50.0)
    assert sites.set_index("site_id").geometry["BOW"].area == pytest.approx(500_000)


def test_mixed_crs_layers(china, russia):
    geo = russia.to_crs(4326)
    _, report = harmonize({"cn": china, "ru": geo}, crs=LAEA)
    assert report.overlaps.area_ha.iloc[0] == pytest.approx(80.0, rel=1e-3)
    assert report.slivers.area_ha.iloc[0] == pytest.approx(60.0, rel=1e-3)


def test_default_crs_is_equal_area(china, russia):
    sites, report = harmonize([china.to_crs(4326), russia.to_crs(4326)])
    assert sites.crs.is_projected
    assert "Lambert Azimuthal Equal Area" in sites.crs.coordinate_operation.method_name
    assert report.overlaps.area_ha.iloc[0] == pytest.approx(80.0, rel=2e-3)


def test_report_display(china, russia):
    _, report = harmonize([china, russia], crs=LAEA)
    text = repr(report)
    assert "overlap" in text and "sliver" in text and "A / B" in text and "80.00 ha" in text
    html = report._repr_html_()
    assert "<table" in html and "sliver" in html
    assert report.summary().loc["overlap", "count"] == 1
    assert repr(harmonize(layer([("X", "RUS", box(0, 0, 1, 1))]), crs=LAEA)[1]).endswith("no issues found")


def test_embedded_landscape_is_clean():
    from tbpa.sites import load_sites

    _, report = harmonize([load_sites(landscape="land_of_big_cats")], clip_to_countries=True)
    assert report.overlaps.empty and report.slivers.empty


def test_harmonize_bad_input(china):
    with pytest.raises(CRSError, match="crs"):
        harmonize(china, crs="EPSG:4326")
    with pytest.raises(CRSError):
        harmonize(gpd.GeoDataFrame({"iso3": ["RUS"]}, geometry=[box(0, 0, 1, 1)]))
    with pytest.raises(ValidationError, match="iso3"):
        harmonize(china.drop(columns="iso3"), crs=LAEA)
    with pytest.raises(ValidationError, match="Point"):
        harmonize(layer([("P", "RUS", Point(0, 0))]), crs=LAEA)
    with pytest.raises(ValidationError, match="sliver_tolerance_m"):
        harmonize(china, crs=LAEA, sliver_tolerance_m=-1)
    with pytest.raises(EmptySelectionError):
        harmonize([])
    with pytest.raises(ValidationError):
        harmonize([china, "not a layer"])


# ----------------------------------------------------------------------------- draft_tbpa
def test_draft_tbpa_areas_and_shared_border(countries):
    parts = layer([
        ("cn1", "CHN", box(-3000, 0, 0, 4000)),
        ("cn2", "CHN", box(-6000, 0, -4000, 1000)),  # not on the border
        ("ru1", "RUS", box(0, 0, 3000, 4000)),
    ])
    draft = draft_tbpa(parts, name="Test TBPA", countries=countries)
    assert len(draft) == 1 and draft.name.iloc[0] == "Test TBPA"
    row = draft.iloc[0]
    assert row.area_ha_CHN == pytest.approx((12e6 + 2e6) / 1e4)  # 1,400 ha
    assert row.area_ha_RUS == pytest.approx(12e6 / 1e4)  # 1,200 ha
    assert row.area_ha == pytest.approx(row.area_ha_CHN + row.area_ha_RUS)
    # both national parts face each other along x = 0 for y in [0, 4000]
    assert row.shared_border_m == pytest.approx(4000.0)
    assert draft.geometry.iloc[0].area == pytest.approx(26e6)
    assert row.countries == "CHN,RUS"


def test_draft_tbpa_shared_border_only_where_both_sides(countries):
    parts = layer([("cn", "CHN", box(-3000, 0, 0, 4000)), ("ru", "RUS", box(0, 2500, 3000, 9000))])
    draft = draft_tbpa(parts, name="offset", countries=countries)
    assert draft.shared_border_m.iloc[0] == pytest.approx(1500.0)  # y from 2500 to 4000
    # parts 1.2 km from the border on each side (tolerance 1 km): no shared border
    apart = layer([("cn", "CHN", box(-3000, 0, -1200, 4000)), ("ru", "RUS", box(1200, 0, 3000, 4000))])
    assert draft_tbpa(apart, name="apart", countries=countries).shared_border_m.iloc[0] == 0.0
    assert draft_tbpa(apart, name="apart", countries=countries,
                      border_tolerance_m=1500).shared_border_m.iloc[0] == pytest.approx(4000.0, abs=50)
    # (the border is measured in 50 m pieces, so the ends are resolved to within 50 m)


def test_draft_tbpa_embedded_parts_sum():
    from tbpa.sites import load_landscape

    ls = load_landscape("land_of_big_cats")
    parts = ls.sites[ls.sites.site_id.isin(["TLNP", "LLNP", "KEDROVAYA_PAD"])]
    with warnings.catch_warnings():
        warnings.simplefilter("error", TbpaWarning)  # no cross-border overlap in the registry
        draft = draft_tbpa(parts, name="Land of Big Cats")
    row = draft.iloc[0]
    assert row.area_ha == pytest.approx(row.area_ha_CHN + row.area_ha_RUS, rel=1e-9)
    # TLNP and LLNP face each other along the border between ~42.6 and ~43.8 N: >100 km
    border = ls.borders.set_index(["iso3_a", "iso3_b"]).geometry[("CHN", "RUS")]
    assert 100_000 < row.shared_border_m <= border.length + 1.0


def test_draft_tbpa_overlap_warns(countries):
    parts = layer([("cn", "CHN", box(-3000, 0, 200, 4000)), ("ru", "RUS", box(0, 0, 3000, 4000))])
    with pytest.warns(TbpaWarning, match="overlap by 80.0 ha"):
        draft_tbpa(parts, name="x", countries=countries)


def test_draft_tbpa_bad_input():
    geo = layer([("cn", "CHN", box(130, 42, 131, 43))], crs="EPSG:4326")
    with pytest.raises(CRSError, match="sites"):
        draft_tbpa(geo, name="x")
    with pytest.raises(CRSError):
        draft_tbpa(gpd.GeoDataFrame({"iso3": ["CHN"]}, geometry=[box(0, 0, 1, 1)]), name="x")
    with pytest.raises(EmptySelectionError):
        draft_tbpa(layer([]), name="x")
    with pytest.raises(ValidationError, match="iso3"):
        draft_tbpa(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs=LAEA), name="x")


def test_spanned_length_against_hand_geometry():
    from tbpa.boundaries import _spanned_length

    line = LineString([(0, 0), (0, 10_000)])
    a = box(-2000, 1000, 0, 3000)
    b = shapely.union(box(0, 2000, 2000, 6000), box(0, 8000, 50, 9000))
    # both sides from y=2000 to 3000 only
    assert _spanned_length(line, a, b, 500.0) == pytest.approx(1000.0)
