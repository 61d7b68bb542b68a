"""``tbpa protconn PAS COUNTRIES``: ProtConn and its fractions per country (CSV)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``protconn`` sub-command."""
    p = subparsers.add_parser(
        "protconn",
        help="Protected Connected (ProtConn) indicator and fractions per country",
        description=(
            "ProtConn (Saura et al. 2017, 2018) per country: Prot, ProtConn, ProtUnconn, RelConn "
            "and the fractions ProtConn[Prot|Trans|Unprot|Within|Contig]. Both inputs must be in "
            "the same projected metre CRS (reproject with an equal-area CRS first)."
        ),
    )
    p.add_argument("pas", help="protected-area polygons (any vector file GDAL reads)")
    p.add_argument("countries", help="country polygons with an iso3 column")
    p.add_argument("--dispersal-m", type=float, default=10_000.0,
                   help="median dispersal distance in metres (p = --p at this distance; default 10000)")
    p.add_argument("--p", type=float, default=0.5, help="dispersal probability at --dispersal-m (default 0.5)")
    p.add_argument("--transboundary-m", type=float, default=50_000.0,
                   help="foreign PAs within this many metres act as stepping stones (default 50000)")
    p.add_argument("--distance", choices=["edge", "centroid"], default="edge",
                   help="distance between PAs (default: edge to edge)")
    p.add_argument("--min-part-m2", type=float, default=10_000.0,
                   help="ignore PA parts smaller than this after clipping to a country (m², default 1 ha)")
    p.add_argument("--out", help="write the table to this CSV file (default: print to stdout)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from .._atomic import atomic_path
    from ..connectivity import protconn
    from ..io import read_vector

    pas = read_vector(args.pas)
    countries = read_vector(args.countries)
    table = protconn(
        pas, countries, dispersal_m=args.dispersal_m, p=args.p,
        transboundary_m=args.transboundary_m, distance=args.distance,
        min_part_m2=args.min_part_m2,
    )
    if args.out:
        with atomic_path(args.out, suffix=".csv") as tmp:
            table.to_csv(tmp)
        print(f"wrote {len(table)} countries to {args.out}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, float_format="%.6g")
    return 0
