"""Embedded site registry, countries and landscapes: rules of issue 2 checked independently.

Areas are recomputed with pyproj.Geod (not the registry's own schematic_area_ha), extents are
the published DMS values typed in here, the expected registry is written out by hand.
"""

from __future__ import annotations

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from tbpa._schema import SITE_COLUMNS
from tbpa.errors import EmptySelectionError, UnknownNameError, UnknownSiteError
from tbpa.sites import (
    LANDSCAPES,
    Landscape,
    country_borders,
    list_sites,
    load_countries,
    load_landscape,
    load_sites,
    load_tumen_options,
)

GEOD = Geod(ellps="WGS84")

EXPECTED = {
    "land_of_big_cats": {"TLNP", "LLNP", "KEDROVAYA_PAD", "HUNCHUN_NNR", "WANGQING_NNR"},
    "lesser_khingan": {"KHINGANSKY", "BASTAK", "TAIPINGGOU_NNR"},
    "dauria": {"DAURSKY", "MONGOL_DAGUUR", "DALAI_LAKE_NNR"},
    "tumen_estuary": {"RASON", "FANGCHUAN", "JINGXIN", "KHASANSKY", "MALOYE_MRAMORNOYE"},
    "khanka": {"KHANKAISKY", "XINGKAI_HU_NNR"},
    "altai_sayan": {"SAILYUGEMSKY", "SIILKHEM", "TUNKINSKY", "KHUVSGUL"},
}
EXPECTED_ISO3 = {
    "TLNP": "CHN", "LLNP": "RUS", "KEDROVAYA_PAD": "RUS", "HUNCHUN_NNR": "CHN",
    "WANGQING_NNR": "CHN", "KHINGANSKY": "RUS", "BASTAK": "RUS", "TAIPINGGOU_NNR": "CHN",
    "DAURSKY": "RUS", "MONGOL_DAGUUR": "MNG", "DALAI_LAKE_NNR": "CHN", "RASON": "PRK",
    "FANGCHUAN": "CHN", "JINGXIN": "CHN", "KHASANSKY": "RUS", "MALOYE_MRAMORNOYE": "RUS",
    "KHANKAISKY": "RUS", "XINGKAI_HU_NNR": "CHN", "SAILYUGEMSKY": "RUS", "SIILKHEM": "MNG",
    "TUNKINSKY": "RUS", "KHUVSGUL": "MNG",
}


def dms(d, m=0, s=0):
    return d + m / 60 + s / 3600


def geodesic_ha(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e4


@pytest.fixture(scope="module")
def sites():
    return load_sites()


@pytest.fixture(scope="module")
def countries():
    return load_countries().set_index("iso3")


# ----------------------------------------------------------------------------- registry
def test_registry_complete(sites):
    assert set(LANDSCAPES) == set(EXPECTED)
    for landscape, ids in EXPECTED.items():
        got = set(sites.loc[sites.landscape == landscape, "site_id"])
        assert got == ids, landscape
    assert dict(zip(sites.site_id, sites.iso3)) == EXPECTED_ISO3
    assert sites.site_id.is_unique


def test_standard_schema_and_quality(sites):
    assert list(sites.columns[: len(SITE_COLUMNS)]) == SITE_COLUMNS
    assert (sites.geometry_quality == "schematic").all()
    assert str(sites.crs).upper().endswith("4326")
    assert sites.geometry.is_valid.all()
    assert sites.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (sites.name_en.str.len() > 0).all() and (sites.name_local.str.len() > 0).all()
    assert sites.reported_area_ha.gt(0).all()
    # local names in the right script
    by_id = sites.set_index("site_id")
    assert by_id.loc["TLNP", "name_zh"] == "东北虎豹国家公园"
    assert "Земля леопарда" in by_id.loc["LLNP", "name_ru"]
    assert by_id.loc["RASON", "name_ko"] == "라선철새보호구"
    assert by_id.loc["MONGOL_DAGUUR", "name_mn"].startswith("Монгол Дагуур")


def test_uncertain_areas_flagged():
    df = list_sites()
    flagged = set(df.loc[df.area_uncertain, "site_id"])
    # [V] areas in the reference: TLNP, LLNP, Khingansky, Khankaisky core, Sailyugemsky, Rason
    for sid in ("TLNP", "LLNP", "KHINGANSKY", "KHANKAISKY", "SAILYUGEMSKY", "RASON"):
        assert sid not in flagged
    for sid in ("TAIPINGGOU_NNR", "DALAI_LAKE_NNR", "JINGXIN", "FANGCHUAN", "KHUVSGUL"):
        assert sid in flagged


def test_reported_areas_match_sources():
    area = list_sites().set_index("site_id").reported_area_ha
    assert area["TLNP"] == 1_410_000
    assert area["LLNP"] == 262_000
    assert area["KHASANSKY"] == pytest.approx(9_885.8)
    assert area["MALOYE_MRAMORNOYE"] == pytest.approx(83.3)
    assert area["RASON"] == pytest.approx(3_525.7)
    assert area["FANGCHUAN"] == pytest.approx(1_416.13)
    assert area["JINGXIN"] == 8_000
    assert area["KHANKAISKY"] == 39_289
    assert area["SAILYUGEMSKY"] == 118_380


@pytest.mark.parametrize("site_id", sorted(EXPECTED_ISO3))
def test_site_area_within_15_percent(sites, site_id):
    row = sites.set_index("site_id").loc[site_id]
    ratio = geodesic_ha(row.geometry) / row.reported_area_ha
    assert 0.85 <= ratio <= 1.15, (site_id, ratio)


@pytest.mark.parametrize("site_id", sorted(EXPECTED_ISO3))
def test_site_inside_own_country(sites, countries, site_id):
    row = sites.set_index("site_id").loc[site_id]
    inside = row.geometry.intersection(countries.loc[row.iso3].geometry)
    assert geodesic_ha(inside) / geodesic_ha(row.geometry) >= 0.995


def test_khasansky_within_published_extent(sites):
    by_id = sites.set_index("site_id").geometry
    extent = box(dms(130, 38, 25), dms(42, 18), dms(130, 47, 25), dms(42, 28, 25))
    minx, miny, maxx, maxy = by_id["KHASANSKY"].bounds
    tol = 1e-6
    assert minx >= extent.bounds[0] - tol and maxx <= extent.bounds[2] + tol
    assert miny >= extent.bounds[1] - tol and maxy <= extent.bounds[3] + tol
    # the outline fills a good part of the published box (not a dot in a corner)
    assert (maxy - miny) > 0.5 * (extent.bounds[3] - extent.bounds[1])


def test_tumen_points(sites):
    by_id = sites.set_index("site_id").geometry
    mm = by_id["MALOYE_MRAMORNOYE"]
    assert mm.contains(Point(dms(130, 46, 47), dms(42, 33, 15)))
    # 83.3 ha is a circle of ~515 m radius: the outline stays within ~1.5 km of the point
    assert mm.bounds[2] - mm.bounds[0] < 0.02
    # Rason is near 42 20'N 130 35'E (DPRK coast)
    rason = by_id["RASON"]
    lon, lat = dms(130, 35), dms(42, 20)
    _, _, dist = GEOD.inv(lon, lat, rason.centroid.x, rason.centroid.y)
    assert dist < 5_000


def test_no_overlap_between_countries(sites):
    geoms, iso = sites.geometry.to_numpy(), sites.iso3.to_numpy()
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            if iso[i] != iso[j] and geoms[i].intersects(geoms[j]):
                inter = geoms[i].intersection(geoms[j])
                assert geodesic_ha(inter) < 0.01, (sites.site_id[i], sites.site_id[j])


def test_nesting(sites):
    by_id = sites.set_index("site_id").geometry
    for child in ("HUNCHUN_NNR", "WANGQING_NNR"):
        share = geodesic_ha(by_id[child].intersection(by_id["TLNP"])) / geodesic_ha(by_id[child])
        assert share > 0.995
    # Kedrovaya Pad is an enclave of LLNP: adjacent, not overlapping
    kp, ll = by_id["KEDROVAYA_PAD"], by_id["LLNP"]
    assert geodesic_ha(kp.intersection(ll)) < 0.01
    assert kp.distance(ll) < 1e-6
    # TLNP is the big belt along the Jilin-Primorye border, LLNP across it in Russia
    assert by_id["TLNP"].distance(by_id["LLNP"]) < 1e-6


# ----------------------------------------------------------------------------- selection
def test_list_and_load_by_landscape():
    df = list_sites("khanka")
    assert set(df.site_id) == EXPECTED["khanka"]
    gdf = load_sites(landscape="dauria", crs="EPSG:3857")
    assert set(gdf.site_id) == EXPECTED["dauria"] and gdf.crs.to_epsg() == 3857
    assert set(load_sites("tlnp").site_id) == {"TLNP"}  # ids are case-insensitive


def test_unknown_site_lists_close_matches():
    with pytest.raises(UnknownSiteError, match="TLNP") as err:
        load_sites(["LLNP", "TLPN"])
    assert isinstance(err.value, KeyError)
    assert "TLPN" in str(err.value)


def test_unknown_landscape():
    with pytest.raises(UnknownNameError, match="tumen_estuary"):
        load_landscape("tumen")
    with pytest.raises(UnknownNameError):
        list_sites("atlantis")


def test_empty_selection():
    with pytest.raises(EmptySelectionError):
        load_sites(["TLNP"], landscape="khanka")
    with pytest.raises(EmptySelectionError):
        load_sites([])


def test_countries(countries):
    assert {"CHN", "RUS", "MNG", "PRK", "KOR", "JPN", "KAZ"} <= set(countries.index)
    assert countries.loc["CHN", "name_zh"] == "中华人民共和国"
    assert countries.loc["RUS", "name_ru"] == "Россия"
    assert countries.loc["KOR", "name_ko"] == "대한민국"
    assert countries.loc["PRK", "name_en"] == "North Korea"
    minx, miny, maxx, maxy = countries.total_bounds
    assert minx >= 84 - 1e-9 and maxx <= 143 + 1e-9 and miny >= 37 - 1e-9 and maxy <= 57 + 1e-9
    with pytest.raises(UnknownNameError, match="PRK"):
        load_countries("PRC")


def test_country_borders_known_lengths():
    crs = "+proj=laea +lat_0=43 +lon_0=131 +datum=WGS84 +units=m"
    b = country_borders(["PRK", "RUS", "CHN"], crs=crs).set_index(["iso3_a", "iso3_b"])
    # The DPRK-Russia border (lower Tumen) is quoted as 17 km (straight) up to ~39 km (along
    # the river channel); NE 1:10m follows the river. The China-DPRK border is ~1,416 km
    # officially; the 1:10m generalisation drops the Yalu/Tumen meanders (~1,000 km).
    assert 15_000 < b.loc[("PRK", "RUS"), "length_m"] < 45_000
    assert 900_000 < b.loc[("CHN", "PRK"), "length_m"] < 1_500_000
    # the line lies on both countries' boundaries
    c = load_countries(["CHN", "PRK"], crs=crs).set_index("iso3").geometry
    line = b.loc[("CHN", "PRK"), "geometry"]
    for code in ("CHN", "PRK"):
        assert line.difference(c[code].boundary.buffer(1.0)).length < 10.0
    assert b.length_m.to_numpy() == pytest.approx(b.geometry.length.to_numpy())


# ----------------------------------------------------------------------------- landscapes
@pytest.mark.parametrize("name", LANDSCAPES)
def test_landscape_loads_projected(name):
    ls = load_landscape(name)
    assert isinstance(ls, Landscape) and ls.name == name
    assert ls.crs.is_projected
    assert "Lambert Azimuthal Equal Area" in ls.crs.coordinate_operation.method_name
    for layer in (ls.sites, ls.countries, ls.borders):
        assert layer.crs == ls.crs
    assert set(ls.sites.site_id) == EXPECTED[name]
    # the AOI covers every site (it is the buffered hull on land)
    covered = shapely.intersection(ls.sites.union_all(), ls.aoi).area / ls.sites.union_all().area
    assert covered > 0.999
    assert set(ls.sites.iso3) <= set(ls.countries.iso3)
    assert list(ls.borders.columns[:3]) == ["iso3_a", "iso3_b", "length_m"]
    # borders lie inside the AOI
    if len(ls.borders):
        assert ls.borders.union_all().difference(ls.aoi.buffer(1.0)).length < 1.0


def test_tumen_landscape_borders_and_repr():
    ls = load_landscape("tumen_estuary")
    pairs = set(zip(ls.borders.iso3_a, ls.borders.iso3_b))
    assert {("CHN", "PRK"), ("CHN", "RUS"), ("PRK", "RUS")} <= pairs
    text = repr(ls)
    assert "tumen_estuary" in text and "schematic" in text and "RASON" in text
    assert "<table" in ls._repr_html_()
    # load_landscape hands out copies: changing one does not change the next
    ls.sites.loc[0, "name_en"] = "changed"
    assert "changed" not in set(load_landscape("tumen_estuary").sites.name_en)


def test_landscape_plot():
    import matplotlib.pyplot as plt

    ax = load_landscape("khanka").plot()
    labels = {t.get_text() for t in ax.texts}
    assert "Khankaisky Zapovednik" in labels
    plt.close("all")


def test_tumen_options():
    opts = load_tumen_options()
    assert list(opts.option_id) == ["A", "B", "C"]
    assert (opts.geometry_quality == "schematic").all()
    g = opts.set_index("option_id").geometry
    # nested options: A inside B inside C (up to floating noise)
    assert geodesic_ha(g["A"].difference(g["B"])) < 1.0
    assert geodesic_ha(g["B"].difference(g["C"])) < 1.0
    assert geodesic_ha(g["A"]) < geodesic_ha(g["B"]) < geodesic_ha(g["C"])
    countries = load_countries(["CHN", "RUS", "PRK"]).set_index("iso3").geometry
    for opt in "ABC":
        spans = {c for c in countries.index if geodesic_ha(g[opt].intersection(countries[c])) > 100}
        assert spans == {"CHN", "RUS", "PRK"}, opt
    assert load_tumen_options(crs=load_landscape("tumen_estuary").crs).crs.is_projected


def test_cli_sites(capsys):
    from tbpa.cli import main

    assert main(["sites", "--landscape", "khanka"]) == 0
    out = capsys.readouterr().out
    assert "KHANKAISKY" in out and "XINGKAI_HU_NNR" in out and "TLNP" not in out
    assert main(["sites", "--landscape", "nowhere"]) == 2
