"""``tbpa compare-options`` and ``tbpa species-list``: planning commands on embedded data."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``compare-options`` and ``species-list`` sub-commands."""
    p = subparsers.add_parser(
        "compare-options",
        help="compare draft boundary options of a landscape (area, habitat, connectivity, pressure)",
        description=(
            "Measure draft boundary options against a landscape's embedded layers (countries, "
            "sites as existing PAs, borders, unified habitat from the embedded SYNTHETIC national "
            "samples) and rank them by a weighted sum of min-max normalised criteria. Default: the "
            "schematic Tumen estuary options A/B/C."
        ),
    )
    p.add_argument("--landscape", default="tumen_estuary",
                   help="embedded landscape with habitat samples (tumen_estuary, land_of_big_cats)")
    p.add_argument("--options", help="vector file of options (one polygon per row, column option_id); "
                                     "default: the embedded Tumen options (tumen_estuary only)")
    p.add_argument("--resolution", type=float, default=250.0, help="habitat cell size in metres (default 250)")
    p.add_argument("--species", help="comma-separated species profiles for suitability-weighted habitat "
                                     "(default: the landscape's flagship species)")
    p.add_argument("--dispersal-m", type=float, default=10_000.0,
                   help="distance in metres at which the dispersal probability is 0.5 (default 10000)")
    p.add_argument("--weights", help="ranking weights as metric=weight,... (default: equal weights)")
    p.add_argument("--sensitivity", type=int, default=1000,
                   help="random weight draws for rank stability (0 = skip; default 1000)")
    p.add_argument("--out", help="write the tidy metric table to this CSV file")
    p.add_argument("--map", help="write the comparison figure to this PNG file")
    p.set_defaults(func=run_compare)

    s = subparsers.add_parser(
        "species-list",
        help="joint species list from national checklists (<ISO3>.csv files)",
        description=(
            "Merge national checklists (<ISO3>.csv with scientific_name, local_name, "
            "national_status) by scientific name with synonyms; report species found on one "
            "side only. Without FOLDER: the shipped ILLUSTRATIVE example lists."
        ),
    )
    s.add_argument("folder", nargs="?", help="folder of <ISO3>.csv checklists")
    s.add_argument("--out", help="write the joint list to this CSV file (default: stdout)")
    s.set_defaults(func=run_species_list)


def _parse_weights(text: str | None) -> dict | None:
    from ..errors import ValidationError

    if not text:
        return None
    weights = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValidationError(f"--weights: expected metric=number, got {item!r}")
    return weights


def _load_options(args, land):
    from ..errors import ValidationError
    from ..io import read_vector
    from ..sites import load_tumen_options

    if args.options:
        return read_vector(args.options).to_crs(land.crs)
    if land.name != "tumen_estuary":
        raise ValidationError(f"--options is required for landscape {land.name!r}: only the Tumen "
                              "estuary ships draft options")
    return load_tumen_options(crs=land.crs)


def run_compare(args: argparse.Namespace) -> int:
    """Run ``compare-options``; returns the exit code."""
    import pandas as pd

    from .._atomic import atomic_path
    from ..demo import LOBC_SPECIES, TUMEN_SPECIES
    from ..habitat import embedded_inputs, unify
    from ..planning import BoundaryContext, compare_boundaries
    from ..sites import load_landscape

    land = load_landscape(args.landscape)
    weights = _parse_weights(args.weights)
    options = _load_options(args, land)
    # ancillary="sea": coastal water is sea (9.1), not freshwater lake counted as wetland
    habitat = unify(embedded_inputs(land.name), countries=land.countries, resolution=args.resolution,
                    crs=land.crs, ancillary="sea")["habitat"]
    flagship = {"tumen_estuary": TUMEN_SPECIES, "land_of_big_cats": LOBC_SPECIES}  # the demo's
    species = ([s.strip() for s in args.species.split(",") if s.strip()] if args.species
               else list(flagship.get(land.name, ())))
    context = BoundaryContext.from_landscape(land, habitat=habitat, species=species,
                                             dispersal_m=args.dispersal_m)
    result = compare_boundaries(options, context=context)
    ranking = result.rank(weights)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result)
        print("\nranking (weighted mean of min-max normalised criteria):")
        print(ranking[["score", "rank"]].to_string(float_format=lambda v: f"{v:.3f}"))
        if args.sensitivity > 0:
            print(f"\nrank stability ({args.sensitivity} lognormal weight draws, seed 0):")
            print(result.sensitivity(args.sensitivity, weights=weights).to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nNOTE: schematic boundaries and synthetic habitat samples; see data/boundaries/README.md",
          file=sys.stderr)
    if args.out:
        with atomic_path(args.out, suffix=".csv") as tmp:
            result.table.to_csv(tmp, index=False)
        print(f"wrote {len(result.table)} rows to {args.out}", file=sys.stderr)
    if args.map:
        import matplotlib

        matplotlib.use("Agg")
        fig = result.plot(weights=weights)
        with atomic_path(args.map, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=150)
        print(f"wrote {args.map}", file=sys.stderr)
    return 0


def run_species_list(args: argparse.Namespace) -> int:
    """Run ``species-list``; returns the exit code."""
    from .._atomic import atomic_path
    from ..planning import joint_species_list, load_checklists

    joint = joint_species_list(load_checklists(args.folder))
    if args.out:
        with atomic_path(args.out, suffix=".csv") as tmp:
            joint.to_csv(tmp)
        print(f"wrote {len(joint)} species to {args.out}", file=sys.stderr)
    else:
        joint.to_csv(sys.stdout)
    one_side = int(joint["one_side_only"].sum())
    print(f"{len(joint)} species, {one_side} reported on one side only", file=sys.stderr)
    return 0
