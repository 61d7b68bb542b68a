"""``tbpa species``: list the shipped species profiles, or show one with its sources.

Examples
--------
``tbpa species list``
``tbpa species show amur_tiger``
``tbpa species show my_profile.toml --classes``
"""

from __future__ import annotations

import argparse

import pandas as pd


def register(subparsers) -> None:
    """Add the ``species`` sub-command."""
    p = subparsers.add_parser("species", help="species profiles (resistance, suitability, home range)",
                              description="List or show species profiles (tbpa.species).")
    sub = p.add_subparsers(dest="species_command", metavar="ACTION")
    p_list = sub.add_parser("list", help="list the shipped profiles")
    p_list.set_defaults(func=_list)
    p_show = sub.add_parser("show", help="show one profile and the source of every value")
    p_show.add_argument("name", help="profile name (see `tbpa species list`) or path of a TOML file")
    p_show.add_argument("--classes", action="store_true", help="also print the per-class table")
    p_show.set_defaults(func=_show)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def _list(args: argparse.Namespace) -> int:
    from .. import species

    rows = []
    for name in species.available():
        prof = species.load(name)
        rows.append({"name": name, "english": prof.names["en"], "latin": prof.names["latin"],
                     "iucn": prof.iucn_status, "home_range_f_km2": prof.home_range_km2.female,
                     "dispersal_km": prof.dispersal_m / 1000})
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


def _show(args: argparse.Namespace) -> int:
    from .. import species

    prof = species.load(args.name)
    print(f"{prof.id}  ({prof.path})")
    for key, value in prof._summary().items():
        print(f"  {key:<11} {value}")
    if prof.provenance:
        print(f"\n  {prof.provenance}")
    src = prof.sources
    # class rows are many and usually share one source: summarise them, list everything else
    is_class = src["key"].str.startswith("classes.")
    print("\nSources (every value except per-class rows):")
    rows = src.loc[~is_class]
    width = max(len(k) for k in rows["key"])
    for key, value, source in zip(rows["key"], rows["value"], rows["source"]):
        print(f"  {key:<{width}}  {value!s:<10}  {source}")
    counts = src.loc[is_class, "source"].value_counts()
    print("\nPer-class values: " + "; ".join(f"{n} x {s}" for s, n in counts.items()))
    if args.classes:
        print()
        print(prof.class_table().to_string(index=False))
    return 0
