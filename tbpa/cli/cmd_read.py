"""``tbpa read-wdpa PATH`` and ``tbpa read-osm PATH``: load protected areas, summarise, save.

Both mirror the library readers (:func:`tbpa.io.read_wdpa`,
:func:`tbpa.io.read_osm_protected_areas`): they print a summary table and, with ``--out``,
write the standard-schema sites to a GeoPackage atomically (layer ``sites``).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``read-wdpa`` and ``read-osm`` sub-commands."""
    p = subparsers.add_parser(
        "read-wdpa",
        help="read a WDPA download (zip, shapefile, GeoPackage, FileGDB, GeoJSON) into the site schema",
        description="Read WDPA polygons and points (points buffered to their reported area), "
                    "filter them, print a summary and optionally write a GeoPackage.",
    )
    p.add_argument("path", metavar="PATH", help="WDPA download (file, .gdb, directory or zip)")
    p.add_argument("--iso3", action="append", metavar="CODE",
                   help="keep sites of this country (ISO3 or PARENT_ISO3; repeatable)")
    p.add_argument("--name", action="append", metavar="NAME", dest="names",
                   help="keep sites with this NAME or ORIG_NAME (case-insensitive; repeatable)")
    p.add_argument("--wdpaid", action="append", type=int, metavar="ID", dest="wdpaids",
                   help="keep this WDPAID (repeatable)")
    p.add_argument("--layer", action="append", metavar="NAME",
                   help="read only this layer (repeatable; default: every WDPA layer)")
    p.add_argument("--keep-columns", action="store_true", help="also keep the WDPA columns")
    p.add_argument("--out", metavar="FILE.gpkg", help="write the sites to this GeoPackage")
    p.set_defaults(func=run_wdpa)

    q = subparsers.add_parser(
        "read-osm",
        help="read protected areas from an OSM extract (.osm.pbf, .osm, GeoJSON)",
        description="Read areas tagged boundary=protected_area, boundary=national_park or "
                    "leisure=nature_reserve, print a summary and optionally write a GeoPackage.",
    )
    q.add_argument("path", metavar="PATH", help="OSM extract (.osm.pbf, .osm or GeoJSON)")
    q.add_argument("--layer", metavar="NAME", help="layer to read (default: multipolygons)")
    q.add_argument("--out", metavar="FILE.gpkg", help="write the sites to this GeoPackage")
    q.set_defaults(func=run_osm)


def _summary(gdf) -> str:
    """Counts by country and geometry quality, then the first sites."""
    import pandas as pd

    counts = (
        gdf.assign(iso3=gdf["iso3"].replace("", "?"))
        .groupby(["iso3", "geometry_quality"]).size().rename("sites").reset_index()
    )
    area = gdf["reported_area_ha"]
    lines = [
        f"{len(gdf)} site(s); reported area {area.sum(min_count=1):,.0f} ha "
        f"({int(area.isna().sum())} without a reported area); CRS {gdf.crs.to_string()}",
        counts.to_string(index=False),
        "",
    ]
    cols = ["site_id", "name_en", "iso3", "designation", "iucn_cat", "reported_area_ha"]
    with pd.option_context("display.max_colwidth", 40, "display.width", 160):
        lines.append(gdf[cols].head(20).to_string(index=False))
    if len(gdf) > 20:
        lines.append(f"... and {len(gdf) - 20} more")
    return "\n".join(lines)


def _write(gdf, out: str) -> None:
    from .._atomic import atomic_path

    with atomic_path(out) as tmp:
        gdf.to_file(tmp, layer="sites", driver="GPKG")
    print(f"wrote {out} (layer 'sites')")


def run_wdpa(args: argparse.Namespace) -> int:
    """Run ``tbpa read-wdpa``; returns the exit code."""
    from ..io import read_wdpa

    gdf = read_wdpa(args.path, iso3=args.iso3, names=args.names, wdpaids=args.wdpaids,
                    layer=args.layer, keep_columns=args.keep_columns)
    print(_summary(gdf))
    if args.out:
        _write(gdf, args.out)
    return 0


def run_osm(args: argparse.Namespace) -> int:
    """Run ``tbpa read-osm``; returns the exit code."""
    from ..io import read_osm_protected_areas

    gdf = read_osm_protected_areas(args.path, layer=args.layer)
    print(_summary(gdf))
    if args.out:
        _write(gdf, args.out)
    return 0
