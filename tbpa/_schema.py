"""The standard protected-area schema shared by the registry and every loader."""

from __future__ import annotations

__all__ = ["SITE_COLUMNS", "GEOMETRY_QUALITIES"]

#: Columns of every protected-area GeoDataFrame tbpa returns (registry, WDPA, OSM, national).
#: ``name_local`` is the name in the site's own language; ``name_zh/ru/ko/mn`` hold the names
#: in each language where known (empty otherwise). ``reported_area_ha`` is the area stated by
#: the designating authority (not computed); ``status_year`` is an integer year or missing.
SITE_COLUMNS = [
    "site_id",
    "name_en",
    "name_local",
    "name_zh",
    "name_ru",
    "name_ko",
    "name_mn",
    "iso3",
    "designation",
    "iucn_cat",
    "status_year",
    "reported_area_ha",
    "landscape",
    "source",
    "geometry_quality",
    "geometry",
]

#: ``geometry_quality`` values: "official" (authority's polygon), "wdpa", "osm",
#: "schematic" (digitised from published centroid, extent and area), "buffered_point"
#: (a WDPA point buffered to its reported area).
GEOMETRY_QUALITIES = ("official", "wdpa", "osm", "national", "schematic", "buffered_point")
