"""``tbpa cost-distance`` and ``tbpa corridors``: least-cost surfaces and corridor networks."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``cost-distance`` and ``corridors`` sub-commands."""
    p = subparsers.add_parser(
        "cost-distance",
        help="accumulated least cost from sources over a resistance raster",
        description=(
            "Cost distance (resistance units x metres) from the nearest source point/polygon. "
            "Step cost = mean of the two cells' resistances x centre distance; NaN/nodata cells "
            "are impassable; unreachable cells are written as inf. The raster must be in a "
            "projected metre CRS with square cells; sources are reprojected to it."
        ),
    )
    p.add_argument("resistance", help="resistance GeoTIFF (values > 0, nodata = impassable)")
    p.add_argument("sources", help="source points/polygons (any vector file GDAL reads)")
    p.add_argument("--out", required=True, help="output cost-distance GeoTIFF")
    p.add_argument("--connect", choices=["eight", "four"], default="eight",
                   help="grid neighbourhood (default eight)")
    p.add_argument("--max-cost", type=float, default=None,
                   help="stop the search at this cost (cells beyond are inf)")
    p.add_argument("--allocation", default=None,
                   help="also write the allocation raster (1-based source feature number)")
    p.set_defaults(func=run_cost_distance)

    c = subparsers.add_parser(
        "corridors",
        help="Linkage-Mapper-style corridor network between core areas",
        description=(
            "Cost-allocation adjacency, one cost distance per core, least-cost paths (links "
            "crossing a third core are dropped), normalized corridors mosaicked and truncated. "
            "Writes links.gpkg, corridors.tif and dropped_links.csv into --out."
        ),
    )
    c.add_argument("resistance", help="resistance GeoTIFF (values > 0, nodata = impassable)")
    c.add_argument("cores", help="core-area polygons (id from a core_id column, else row order)")
    c.add_argument("--out", required=True, help="output directory (replaced atomically)")
    c.add_argument("--max-cwd", type=float, default=None,
                   help="drop links with cost distance above this; also the corridor width")
    c.add_argument("--cutoff", type=float, default=None,
                   help="corridor width in cost units (default: --max-cwd)")
    c.add_argument("--max-neighbors", type=int, default=None,
                   help="keep at most N lowest-cost links per core")
    c.add_argument("--adjacency", choices=["cost", "euclidean", "both"], default="cost",
                   help="how candidate core pairs are found (default cost allocation)")
    c.add_argument("--connect", choices=["eight", "four"], default="eight")
    c.set_defaults(func=run_corridors)


def run_cost_distance(args: argparse.Namespace) -> int:
    """Run ``tbpa cost-distance``; returns the exit code."""
    from ..connectivity import cost_distance
    from ..io import read_raster, read_vector, write_raster

    res = read_raster(args.resistance)
    sources = read_vector(args.sources).to_crs(res.rio.crs)
    out = cost_distance(res, sources, connect=args.connect, max_cost=args.max_cost,
                        return_allocation=args.allocation is not None)
    cwd = out[0] if isinstance(out, tuple) else out
    write_raster(cwd, args.out)
    if args.allocation:
        write_raster(out[1], args.allocation)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def run_corridors(args: argparse.Namespace) -> int:
    """Run ``tbpa corridors``; returns the exit code."""
    from .._atomic import atomic_dir
    from ..connectivity import corridor_network
    from ..io import read_raster, read_vector, write_raster

    res = read_raster(args.resistance)
    cores = read_vector(args.cores).to_crs(res.rio.crs)
    net = corridor_network(res, cores, max_cwd=args.max_cwd, cutoff=args.cutoff,
                           max_neighbors=args.max_neighbors, adjacency=args.adjacency,
                           connect=args.connect)
    with atomic_dir(args.out) as tmp:
        links = net.links.copy()
        links["core_a"] = links["core_a"].astype(str)
        links["core_b"] = links["core_b"].astype(str)
        links.to_file(tmp / "links.gpkg", layer="links", driver="GPKG")
        write_raster(net.corridors, tmp / "corridors.tif")
        net.dropped.to_csv(tmp / "dropped_links.csv", index=False)
    print(f"wrote {len(net.links)} links ({len(net.dropped)} dropped) to {args.out}",
          file=sys.stderr)
    return 0
