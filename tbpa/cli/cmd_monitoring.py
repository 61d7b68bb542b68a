"""``tbpa transborder``: transborder individuals from a detection table or Camtrap DP package."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transborder",
        help="individuals detected in more than one country (camera traps, genetics, GPS)",
        description="Read detections (CSV/Excel/GeoPackage, Camtrap DP folder or Movebank CSV), "
                    "assign them to the embedded Natural Earth countries and print per-individual "
                    "crossings and the per-species summary.",
    )
    p.add_argument("detections", help="detection table, Camtrap DP folder or Movebank CSV")
    p.add_argument("--timezone", help="IANA zone of timestamps without UTC offset, e.g. Asia/Vladivostok")
    p.add_argument("--out", help="write the per-individual table to this CSV")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from .._atomic import atomic_path
    from ..monitoring import read_detections, summarize_transborder, transborder_individuals
    from ..sites import load_countries

    det = read_detections(args.detections, timezone=args.timezone)
    table = transborder_individuals(det, load_countries())
    print(table[["species", "sex", "countries", "n_detections", "n_crossings", "mcp_area_km2"]].to_string())
    print()
    print(summarize_transborder(table).to_string(index=False))
    if args.out:
        with atomic_path(args.out) as tmp:
            table.to_csv(tmp)
        print(f"\nwrote {args.out}")
    return 0
