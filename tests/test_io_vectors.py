"""WDPA, OSM and national-file readers on fixtures written in the real field layouts.

The WDPA fixtures use the attribute layout of protectedplanet.net downloads (field names and
types of the 2024 public release); the values are SYNTHETIC (ids 9000xx do not exist in the
WDPA, areas and years are illustrative), so no test depends on a real record. Expected
values are stated by hand or computed with independent tools (pyproj.Geod geodesic areas).
"""

from __future__ import annotations

import json
import math
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import MultiPoint, Polygon, box

from tbpa._schema import SITE_COLUMNS
from tbpa.errors import (
    CRSError,
    DataError,
    EmptySelectionError,
    EncodingError,
    TbpaWarning,
    ValidationError,
)
from tbpa.io import read_boundaries, read_osm_protected_areas, read_vector, read_wdpa
from tbpa.io.vectors import parse_hstore

GEOD = Geod(ellps="WGS84")

WDPA_FIELDS = [
    "WDPAID", "WDPA_PID", "PA_DEF", "NAME", "ORIG_NAME", "DESIG", "DESIG_ENG", "DESIG_TYPE",
    "IUCN_CAT", "INT_CRIT", "MARINE", "REP_M_AREA", "REP_AREA", "GIS_M_AREA", "GIS_AREA",
    "NO_TAKE", "NO_TK_AREA", "STATUS", "STATUS_YR", "GOV_TYPE", "OWN_TYPE", "MANG_AUTH",
    "MANG_PLAN", "VERIF", "METADATAID", "SUB_LOC", "PARENT_ISO3", "ISO3", "SUPP_INFO",
    "CONS_OBJ",
]


def _wdpa_row(wdpaid, pid, name, orig, desig, desig_eng, iucn, rep_area, year, iso3, parent=None):
    return {
        "WDPAID": float(wdpaid), "WDPA_PID": pid, "PA_DEF": "1", "NAME": name, "ORIG_NAME": orig,
        "DESIG": desig, "DESIG_ENG": desig_eng, "DESIG_TYPE": "National", "IUCN_CAT": iucn,
        "INT_CRIT": "Not Applicable", "MARINE": "0", "REP_M_AREA": 0.0, "REP_AREA": rep_area,
        "GIS_M_AREA": 0.0, "GIS_AREA": rep_area, "NO_TAKE": "Not Applicable", "NO_TK_AREA": 0.0,
        "STATUS": "Designated", "STATUS_YR": year, "GOV_TYPE": "Federal or national ministry or agency",
        "OWN_TYPE": "State", "MANG_AUTH": "Synthetic authority", "MANG_PLAN": "Not Reported",
        "VERIF": "State Verified", "METADATAID": 1, "SUB_LOC": "Not Reported",
        "PARENT_ISO3": parent or iso3, "ISO3": iso3, "SUPP_INFO": "Not Applicable",
        "CONS_OBJ": "Not Applicable",
    }


def wdpa_polygons() -> gpd.GeoDataFrame:
    rows = [
        _wdpa_row(900001, "900001", "Kedrovaya Pad", "Кедровая Падь", "Заповедник",
                  "State Nature Reserve", "Ia", 179.0, 1916, "RUS"),
        _wdpa_row(900002, "900002", "Hunchun Amur Tiger", "珲春东北虎国家级自然保护区",
                  "国家级自然保护区", "National Nature Reserve", "Not Reported", 1087.0, 2001, "CHN"),
        _wdpa_row(900003, "900003", "Tumen Shared Wetland", "Tumen Shared Wetland", "Ramsar Site",
                  "Ramsar Site, Wetland of International Importance", "Not Applicable", 0.0, 0,
                  "CHN;RUS"),
        _wdpa_row(900004, "900004_A", "Split Reserve", "Разделённый", "Заказник",
                  "State Nature Refuge", "IV", 50.0, 1990, "RUS"),
        _wdpa_row(900004, "900004_B", "Split Reserve", "Разделённый", "Заказник",
                  "State Nature Refuge", "IV", 50.0, 1990, "RUS"),
    ]
    geoms = [
        box(131.05, 43.05, 131.25, 43.2),
        box(130.6, 42.9, 131.0, 43.3),
        box(130.5, 42.4, 130.7, 42.5),
        box(132.0, 44.0, 132.05, 44.05),
        box(132.1, 44.0, 132.15, 44.05),
    ]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")[WDPA_FIELDS + ["geometry"]]


def wdpa_points() -> gpd.GeoDataFrame:
    rows = [
        _wdpa_row(900010, "900010", "Lotus Lake", "Озеро Лотосов", "Памятник природы",
                  "Natural Monument", "III", 25.0, 1981, "RUS"),
        _wdpa_row(900011, "900011", "Nameless Spring", "Родник", "Памятник природы",
                  "Natural Monument", "III", 0.0, 1981, "RUS"),
        _wdpa_row(900012, "900012", "Twin Islands", "双岛", "省级自然保护区",
                  "Provincial Nature Reserve", "Not Reported", 8.0, 2005, "CHN"),
    ]
    geoms = [
        MultiPoint([(130.5, 42.6)]),  # WDPA point layers are MultiPoint
        MultiPoint([(131.9, 43.1)]),
        MultiPoint([(129.0, 42.0), (129.2, 42.1)]),  # two islands share the 8 km2
    ]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")[WDPA_FIELDS + ["geometry"]]


@pytest.fixture
def wdpa_gpkg(tmp_path) -> Path:
    path = tmp_path / "WDPA_fixture.gpkg"
    wdpa_polygons().to_file(path, layer="WDPA_poly_Nov2024", driver="GPKG")
    wdpa_points().to_file(path, layer="WDPA_point_Nov2024", driver="GPKG")
    return path


@pytest.fixture
def wdpa_shp_zip(tmp_path) -> Path:
    """The zip-of-zips layout of WDPA shapefile downloads (one part here)."""
    work = tmp_path / "parts"
    work.mkdir()
    with warnings.catch_warnings():  # PARENT_ISO3 -> PARENT_ISO, exactly as in real WDPA shapefiles
        warnings.simplefilter("ignore")
        wdpa_polygons().to_file(work / "WDPA_Nov2024_Public_shp-polygons.shp", encoding="utf-8")
        wdpa_points().to_file(work / "WDPA_Nov2024_Public_shp-points.shp", encoding="utf-8")
    inner = tmp_path / "WDPA_Nov2024_Public_shp_0.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        for f in sorted(work.iterdir()):
            zf.write(f, f.name)
    outer = tmp_path / "WDPA_Nov2024_Public_shp.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, inner.name)
        zf.writestr("WDPA_Manual_1_6.pdf", b"%PDF-1.4 placeholder")
    return outer


def _read(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TbpaWarning)
        return read_wdpa(*args, **kw)


# ------------------------------------------------------------------------------------ WDPA
def test_wdpa_gpkg_standard_schema(wdpa_gpkg):
    with pytest.warns(TbpaWarning, match="1 WDPA point"):
        gdf = read_wdpa(wdpa_gpkg)
    assert list(gdf.columns) == SITE_COLUMNS
    assert gdf.crs.to_epsg() == 4326
    kp = gdf.set_index("site_id").loc["WDPA:900001"]
    assert kp["name_en"] == "Kedrovaya Pad"
    assert kp["name_local"] == "Кедровая Падь"
    assert kp["name_ru"] == "Кедровая Падь" and kp["name_zh"] == ""
    assert kp["iso3"] == "RUS"
    assert kp["designation"] == "State Nature Reserve"
    assert kp["iucn_cat"] == "Ia"
    assert kp["status_year"] == 1916
    assert kp["reported_area_ha"] == pytest.approx(17900.0)  # 179 km2 * 100
    assert kp["source"] == "WDPA WDPA_fixture.gpkg"
    assert kp["geometry_quality"] == "wdpa"
    hc = gdf.set_index("site_id").loc["WDPA:900002"]
    assert hc["name_zh"] == "珲春东北虎国家级自然保护区" and hc["name_ru"] == ""
    # REP_AREA 0 and STATUS_YR 0 are WDPA's "not reported": missing, not zero.
    tumen = gdf.set_index("site_id").loc["WDPA:900003"]
    assert np.isnan(tumen["reported_area_ha"]) and pd.isna(tumen["status_year"])
    # 5 polygons + 2 drawable points; the parcel WDPAID gets its WDPA_PID ids
    assert len(gdf) == 7 and gdf["site_id"].is_unique
    assert {"WDPA:900004_A", "WDPA:900004_B"} <= set(gdf["site_id"])


def test_wdpa_buffered_point_area_and_shape(wdpa_gpkg):
    gdf = _read(wdpa_gpkg, wdpaids=[900010, 900012])
    assert set(gdf["geometry_quality"]) == {"buffered_point"}
    lotus = gdf.set_index("site_id").loc["WDPA:900010"]
    area, _ = GEOD.geometry_area_perimeter(lotus.geometry)
    assert abs(area) == pytest.approx(25.0e6, rel=0.01)  # REP_AREA 25 km2
    # a circle centred on the point: every vertex at the same geodesic distance
    lon, lat = np.asarray(lotus.geometry.exterior.coords).T
    _, _, dist = GEOD.inv(np.full(lon.size, 130.5), np.full(lat.size, 42.6), lon, lat)
    r_ideal = math.sqrt(25.0e6 / math.pi)
    assert dist.max() / dist.min() < 1.005
    assert dist.mean() == pytest.approx(r_ideal, rel=0.01)
    twins = gdf.set_index("site_id").loc["WDPA:900012"]
    assert twins.geometry.geom_type == "MultiPolygon" and len(twins.geometry.geoms) == 2
    assert abs(GEOD.geometry_area_perimeter(twins.geometry)[0]) == pytest.approx(8.0e6, rel=0.01)


def test_wdpa_projected_point_layer(tmp_path):
    # A national WDPA extract re-saved in a projected CRS: circles still carry REP_AREA.
    path = tmp_path / "projected.gpkg"
    wdpa_points().to_crs("EPSG:32652").to_file(path, layer="points")
    gdf = _read(path, wdpaids=900010)
    assert gdf.crs.to_epsg() == 32652
    area, _ = GEOD.geometry_area_perimeter(gdf.to_crs(4326).geometry.iloc[0])
    assert abs(area) == pytest.approx(25.0e6, rel=0.01)


def test_wdpa_points_without_area_are_reported(wdpa_gpkg):
    with pytest.warns(TbpaWarning, match=r"no reported area.*900011"):
        gdf = read_wdpa(wdpa_gpkg, layer="WDPA_point_Nov2024")
    assert "WDPA:900011" not in set(gdf["site_id"])
    assert gdf.attrs["points_without_area"]["WDPAID"].tolist() == [900011]


def test_wdpa_shapefile_zip_of_zips(wdpa_shp_zip):
    gdf = _read(wdpa_shp_zip)
    assert list(gdf.columns) == SITE_COLUMNS
    assert len(gdf) == 7
    assert gdf.set_index("site_id").loc["WDPA:900001", "name_local"] == "Кедровая Падь"
    assert gdf["source"].iloc[0] == "WDPA WDPA_Nov2024_Public_shp.zip"
    # shapefiles truncate PARENT_ISO3 to PARENT_ISO: the iso3 filter still sees it
    assert set(_read(wdpa_shp_zip, iso3="CHN")["site_id"]) == {"WDPA:900002", "WDPA:900003", "WDPA:900012"}


def test_wdpa_filegdb_plain_and_zipped(tmp_path):
    import pyogrio

    gdb = tmp_path / "WDPA_Nov2024_Public.gdb"
    with warnings.catch_warnings():  # FileGDB stores Int64 as Float64 for old ArcGIS versions
        warnings.simplefilter("ignore", RuntimeWarning)
        wdpa_polygons().to_file(gdb, layer="WDPA_poly_Nov2024", driver="OpenFileGDB")
        wdpa_points().to_file(gdb, layer="WDPA_point_Nov2024", driver="OpenFileGDB")
        # the attribute-only source table of real WDPA geodatabases
        pyogrio.write_dataframe(pd.DataFrame({"METADATAID": [1], "DATA_TITLE": ["synthetic"]}),
                                gdb, layer="WDPA_source", driver="OpenFileGDB")
    gdf = _read(gdb)
    assert len(gdf) == 7 and gdf.set_index("site_id").loc["WDPA:900001", "status_year"] == 1916
    zipped = tmp_path / "WDPA_Nov2024_Public.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in sorted(gdb.iterdir()):
            zf.write(f, f"WDPA_Nov2024_Public.gdb/{f.name}")
    assert sorted(_read(zipped, iso3="CHN")["site_id"]) == ["WDPA:900002", "WDPA:900003", "WDPA:900012"]


def test_wdpa_directory_skips_unreadable_files(tmp_path):
    folder = tmp_path / "download"
    folder.mkdir()
    wdpa_polygons().to_file(folder / "WDPA_polygons.geojson", driver="GeoJSON")
    (folder / "metadata.json").write_text("this is not GeoJSON")
    with pytest.warns(TbpaWarning, match="skipped.*metadata.json"):
        gdf = read_wdpa(folder, wdpaids=900001)
    assert gdf["site_id"].tolist() == ["WDPA:900001"]


def test_wdpa_geojson_and_keep_columns(tmp_path):
    path = tmp_path / "wdpa_polygons.geojson"
    wdpa_polygons().to_file(path, driver="GeoJSON")
    gdf = _read(path, keep_columns=True)
    assert list(gdf.columns[: len(SITE_COLUMNS) - 1]) == SITE_COLUMNS[:-1]
    assert {"DESIG_TYPE", "MANG_AUTH", "WDPA_PID", "CONS_OBJ"} <= set(gdf.columns)
    assert gdf.geometry.name == "geometry"
    assert set(gdf["geometry_quality"]) == {"wdpa"}


def test_wdpa_filters(wdpa_gpkg):
    rus = _read(wdpa_gpkg, iso3="RUS")
    # "CHN;RUS" multi-country entries belong to both countries
    assert set(rus["site_id"]) == {
        "WDPA:900001", "WDPA:900003", "WDPA:900004_A", "WDPA:900004_B", "WDPA:900010"
    }
    by_name = _read(wdpa_gpkg, names=["kedrovaya  PAD", "珲春东北虎国家级自然保护区"])
    assert set(by_name["site_id"]) == {"WDPA:900001", "WDPA:900002"}
    by_orig = _read(wdpa_gpkg, names="кедровая падь")
    assert by_orig["site_id"].tolist() == ["WDPA:900001"]
    both = _read(wdpa_gpkg, iso3=["CHN"], wdpaids=[900001, 900002])
    assert both["site_id"].tolist() == ["WDPA:900002"]


def test_wdpa_empty_selection_offers_close_names(wdpa_gpkg):
    with pytest.raises(EmptySelectionError, match=r"names=\['Kedrovaya Padd'\].*Kedrovaya Pad"):
        _read(wdpa_gpkg, names=["Kedrovaya Padd"])
    with pytest.raises(EmptySelectionError, match=r"iso3=\['JPN'\].*ISO3 codes present.*RUS"):
        _read(wdpa_gpkg, iso3="JPN")


def test_wdpa_bad_filter_values(wdpa_gpkg):
    with pytest.raises(ValidationError, match="alpha-3"):
        read_wdpa(wdpa_gpkg, iso3="RU' OR 1=1 --")
    with pytest.raises(ValidationError, match="wdpaids"):
        read_wdpa(wdpa_gpkg, wdpaids=["Kedrovaya"])


def test_wdpa_rejects_non_wdpa_files(tmp_path):
    path = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"NAME": ["x"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(path)
    with pytest.raises(DataError, match="no WDPA layer"):
        read_wdpa(path)
    with pytest.raises(DataError, match="does not exist"):
        read_wdpa(tmp_path / "missing.zip")


def test_wdpa_unknown_layer(wdpa_gpkg):
    with pytest.raises(DataError, match="WDPA_poly_Nov2024"):
        read_wdpa(wdpa_gpkg, layer="WDPA_poly_Nov2025")


# ------------------------------------------------------------------------------------- OSM
OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="tbpa test fixture (hand-written)">
  <node id="1" lat="43.00" lon="131.00" version="1"/>
  <node id="2" lat="43.00" lon="131.20" version="1"/>
  <node id="3" lat="43.15" lon="131.20" version="1"/>
  <node id="4" lat="43.15" lon="131.00" version="1"/>
  <node id="5" lat="42.50" lon="130.50" version="1"/>
  <node id="6" lat="42.50" lon="130.60" version="1"/>
  <node id="7" lat="42.60" lon="130.60" version="1"/>
  <node id="8" lat="42.60" lon="130.50" version="1"/>
  <node id="11" lat="44.00" lon="132.00" version="1"/>
  <node id="12" lat="44.00" lon="132.10" version="1"/>
  <node id="13" lat="44.10" lon="132.10" version="1"/>
  <node id="14" lat="44.10" lon="132.00" version="1"/>
  <way id="10" version="1">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="boundary" v="protected_area"/>
    <tag k="name" v="Кедровая Падь"/>
    <tag k="name:en" v="Kedrovaya Pad"/>
    <tag k="name:zh" v="凯德罗瓦亚帕德"/>
    <tag k="protect_class" v="1a"/>
    <tag k="protection_title" v="государственный природный заповедник"/>
    <tag k="start_date" v="1916-08-10"/>
    <tag k="is_in:country_code" v="RU"/>
    <tag k="note" v="quote &quot;inside&quot; value"/>
  </way>
  <way id="20" version="1">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  </way>
  <relation id="100" version="1">
    <member type="way" ref="20" role="outer"/>
    <tag k="type" v="multipolygon"/>
    <tag k="leisure" v="nature_reserve"/>
    <tag k="name" v="珲春湿地"/>
    <tag k="addr:country" v="CN"/>
    <tag k="protect_class" v="97"/>
  </relation>
  <way id="30" version="1">
    <nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/>
    <tag k="landuse" v="forest"/>
    <tag k="name" v="Not protected"/>
  </way>
</osm>
"""


def test_osm_xml_through_gdal_osm_driver(tmp_path):
    path = tmp_path / "fixture.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    gdf = read_osm_protected_areas(path)
    assert list(gdf.columns) == SITE_COLUMNS
    by_id = gdf.set_index("site_id")
    assert set(by_id.index) == {"OSM:way/10", "OSM:relation/100"}  # the forest is dropped
    kp = by_id.loc["OSM:way/10"]
    assert kp["name_en"] == "Kedrovaya Pad" and kp["name_local"] == "Кедровая Падь"
    assert kp["name_zh"] == "凯德罗瓦亚帕德"  # parsed from GDAL's other_tags
    assert kp["iucn_cat"] == "Ia" and kp["status_year"] == 1916 and kp["iso3"] == "RUS"
    assert kp["designation"] == "государственный природный заповедник"
    assert kp["geometry_quality"] == "osm" and kp["source"] == "OSM fixture.osm"
    hw = by_id.loc["OSM:relation/100"]
    assert hw["name_en"] == "珲春湿地" and hw["iso3"] == "CHN"
    assert hw["iucn_cat"] == ""  # protect_class 97 is not an IUCN category
    assert hw.geometry.area == pytest.approx(0.01)  # the 0.1 x 0.1 degree outer way


def _osm_geojson(tmp_path) -> Path:
    square = lambda x, y, d: [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]  # noqa: E731
    features = [
        {"type": "Feature", "id": "relation/200",
         "properties": {"@id": "relation/200", "boundary": "national_park",
                        "name": "Земля леопарда", "name:en": "Land of the Leopard",
                        "name:ko": "표범의 땅", "protect_class": "2",
                        "start_date": "2012", "addr:country": "RU"},
         "geometry": {"type": "Polygon", "coordinates": [square(131.0, 43.0, 0.5)]}},
        {"type": "Feature", "id": "way/300",
         "properties": {"@id": "way/300", "leisure": "nature_reserve", "name": "Хасанский"},
         "geometry": {"type": "Polygon", "coordinates": [square(130.6, 42.3, 0.1)]}},
        {"type": "Feature", "id": "node/400",
         "properties": {"@id": "node/400", "leisure": "nature_reserve", "name": "Spot"},
         "geometry": {"type": "Point", "coordinates": [130.0, 42.0]}},
        {"type": "Feature", "id": "way/500",
         "properties": {"@id": "way/500", "landuse": "forest"},
         "geometry": {"type": "Polygon", "coordinates": [square(129.0, 42.0, 0.1)]}},
    ]
    path = tmp_path / "export.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_osm_geojson_overpass_export(tmp_path):
    with pytest.warns(TbpaWarning, match="1 protected-area feature"):
        gdf = read_osm_protected_areas(_osm_geojson(tmp_path))
    by_id = gdf.set_index("site_id")
    assert list(by_id.index) == ["OSM:relation/200", "OSM:way/300"]
    lol = by_id.loc["OSM:relation/200"]
    assert lol["name_en"] == "Land of the Leopard" and lol["name_ko"] == "표범의 땅"
    assert lol["iucn_cat"] == "II" and lol["status_year"] == 2012 and lol["iso3"] == "RUS"
    assert by_id.loc["OSM:way/300", "name_en"] == "Хасанский"  # no name:en -> name


def test_osm_geojson_other_exporters(tmp_path):
    # osmium export (--add-unique-id=type_id: "w123") and old osmtogeojson (nested "tags")
    sq = [[[131.0, 43.0], [131.1, 43.0], [131.1, 43.1], [131.0, 43.1], [131.0, 43.0]]]
    features = [
        {"type": "Feature", "id": "w123",
         "properties": {"boundary": "protected_area", "name": "Бастак", "name:ru": "Бастак"},
         "geometry": {"type": "Polygon", "coordinates": sq}},
        {"type": "Feature",
         "properties": {"type": "relation", "id": 55,
                        "tags": {"boundary": "protected_area", "name": "兴凯湖",
                                 "name:en": "Xingkai Lake", "is_in:country_code": "CN"}},
         "geometry": {"type": "Polygon", "coordinates": sq}},
    ]
    path = tmp_path / "osmium.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    gdf = read_osm_protected_areas(path).set_index("site_id")
    assert list(gdf.index) == ["OSM:way/123", "OSM:relation/55"]
    assert gdf.loc["OSM:way/123", "name_ru"] == "Бастак"
    assert gdf.loc["OSM:relation/55", "name_en"] == "Xingkai Lake"
    assert gdf.loc["OSM:relation/55", "iso3"] == "CHN"


def test_osm_without_protected_areas(tmp_path):
    path = tmp_path / "forest.geojson"
    gpd.GeoDataFrame({"landuse": ["forest"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(path)
    with pytest.raises(EmptySelectionError, match="boundary=protected_area"):
        read_osm_protected_areas(path)


def test_parse_hstore():
    text = r'"name:en"=>"Land of the \"Leopard\"","a\\b"=>"c","empty"=>""'
    assert parse_hstore(text) == {"name:en": 'Land of the "Leopard"', "a\\b": "c", "empty": ""}
    assert parse_hstore(None) == {}


# ------------------------------------------------------------------------ national files
def _national(tmp_path, encoding="cp1251", cpg=False, crs="EPSG:4326", geoms=None) -> Path:
    gdf = gpd.GeoDataFrame(
        {"NAME_RU": ["Кедровая Падь", "Хасанский природный парк"],
         "CATEGORY": ["заповедник", "природный парк"], "YEAR": [1916, 2007]},
        geometry=geoms or [box(131.05, 43.05, 131.25, 43.2), box(130.6, 42.3, 130.8, 42.5)],
        crs=crs,
    )
    path = tmp_path / "oopt.shp"
    with warnings.catch_warnings():  # writing without a CRS is the point of one test
        warnings.simplefilter("ignore", UserWarning)
        gdf.to_file(path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def test_read_boundaries_mapping_and_detected_cp1251(tmp_path):
    path = _national(tmp_path)
    gdf = read_boundaries(path, mapping={"name_local": "NAME_RU", "designation": "CATEGORY",
                                          "status_year": "YEAR"})
    assert list(gdf.columns) == SITE_COLUMNS
    assert gdf["name_local"].tolist() == ["Кедровая Падь", "Хасанский природный парк"]
    assert gdf["designation"].tolist() == ["заповедник", "природный парк"]
    assert gdf["status_year"].tolist() == [1916, 2007]
    assert gdf["site_id"].tolist() == ["oopt:0", "oopt:1"]
    assert set(gdf["geometry_quality"]) == {"national"} and set(gdf["source"]) == {"oopt.shp"}


def test_read_boundaries_bad_mapping(tmp_path):
    path = _national(tmp_path, encoding="utf-8", cpg=True)
    with pytest.raises(ValidationError, match=r"\['name_lokal'\].*'name_local'"):
        read_boundaries(path, mapping={"name_lokal": "NAME_RU"})
    with pytest.raises(DataError, match=r"\['CATEGORIE'\].*CATEGORY"):
        read_boundaries(path, mapping={"designation": "CATEGORIE"})


def test_read_boundaries_repairs_invalid_geometry(tmp_path):
    bowtie = Polygon([(131.0, 43.0), (131.2, 43.2), (131.2, 43.0), (131.0, 43.2), (131.0, 43.0)])
    assert not bowtie.is_valid
    path = _national(tmp_path, encoding="utf-8", cpg=True, geoms=[bowtie, box(130.6, 42.3, 130.8, 42.5)])
    with pytest.warns(TbpaWarning, match="1 invalid geometry"):
        gdf = read_boundaries(path, mapping={"name_local": "NAME_RU"})
    assert len(gdf) == 2 and gdf.geometry.is_valid.all()
    # the bow-tie is two triangles of base 0.2 and height 0.1 degree: 2 * 0.01 = 0.02 deg2
    assert gdf.geometry.iloc[0].area == pytest.approx(0.02)
    assert gdf.geometry.iloc[0].geom_type == "MultiPolygon"


def test_read_boundaries_without_crs(tmp_path):
    path = _national(tmp_path, encoding="utf-8", cpg=True, crs=None)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(CRSError, match="no CRS"):
        read_boundaries(path, mapping={"name_local": "NAME_RU"})


def test_read_boundaries_wrong_explicit_encoding(tmp_path):
    zh = gpd.GeoDataFrame({"NAME": ["珲春东北虎国家级自然保护区"]}, geometry=[box(130, 42, 131, 43)], crs=4326)
    path = tmp_path / "zh.shp"
    zh.to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink()
    assert read_boundaries(path, mapping={"name_local": "NAME"})["name_local"].tolist() == [
        "珲春东北虎国家级自然保护区"
    ]
    with pytest.raises(EncodingError, match="utf-8"):
        read_boundaries(path, mapping={"name_local": "NAME"}, encoding="utf-8")


def test_read_vector_needs_layer_for_multilayer(wdpa_gpkg):
    with pytest.raises(ValidationError, match="layer="):
        read_vector(wdpa_gpkg)
    pts = read_vector(wdpa_gpkg, layer="WDPA_point_Nov2024")
    assert len(pts) == 3 and pts.crs.to_epsg() == 4326


# -------------------------------------------------------------------------------------- CLI
def test_cli_read_wdpa_and_read_osm(wdpa_gpkg, tmp_path, capsys):
    from tbpa.cli import main

    out = tmp_path / "out" / "rus.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TbpaWarning)
        assert main(["read-wdpa", str(wdpa_gpkg), "--iso3", "RUS", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5 site(s)" in printed and "Kedrovaya Pad" in printed and "buffered_point" in printed
    written = gpd.read_file(out, layer="sites")
    assert sorted(written["site_id"]) == sorted(_read(wdpa_gpkg, iso3="RUS")["site_id"])
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left
    # user errors: one line, exit code 2
    assert main(["read-wdpa", str(wdpa_gpkg), "--iso3", "JPN"]) == 2
    assert "ISO3 codes present" in capsys.readouterr().err

    osm = tmp_path / "fixture.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    assert main(["read-osm", str(osm), "--out", str(tmp_path / "osm.gpkg")]) == 0
    assert "2 site(s)" in capsys.readouterr().out
    assert len(gpd.read_file(tmp_path / "osm.gpkg", layer="sites")) == 2
