"""``tbpa sites [--landscape NAME]``: print the embedded site registry."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``sites`` sub-command."""
    p = subparsers.add_parser(
        "sites",
        help="print the embedded site registry (schematic outlines)",
        description="Print the embedded protected-area registry (tbpa.sites.list_sites). "
        "Areas marked * are reported areas that are not verified.",
    )
    p.add_argument("--landscape", metavar="NAME",
                   help="only this landscape (land_of_big_cats, lesser_khingan, dauria, "
                        "tumen_estuary, khanka, altai_sayan)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    import pandas as pd

    from ..sites import list_sites

    df = list_sites(args.landscape)
    area = [f"{a:,.1f}{' *' if u else '  '}" for a, u in zip(df["reported_area_ha"], df["area_uncertain"])]
    table = pd.DataFrame({
        "site_id": df["site_id"], "iso3": df["iso3"], "landscape": df["landscape"],
        "name_en": df["name_en"], "designation": df["designation"], "iucn": df["iucn_cat"],
        "year": df["status_year"].astype("string").fillna(""), "reported_ha": area,
    })
    with pd.option_context("display.width", 200, "display.max_colwidth", 48,
                           "display.max_rows", 500):
        print(table.to_string(index=False))
    print(f"\n{len(df)} site(s); * = reported area not verified; all outlines are schematic "
          "(see data/boundaries/README.md)")
    return 0
