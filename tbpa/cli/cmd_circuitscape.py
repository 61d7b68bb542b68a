"""``tbpa circuitscape FILE.ini``: run a Circuitscape configuration file unchanged."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``circuitscape`` sub-command."""
    p = subparsers.add_parser(
        "circuitscape",
        help="run a Circuitscape .ini file (raster or network modes) and write its outputs",
        description="Run a Circuitscape .ini file with tbpa's solvers; outputs get Circuitscape's "
                    "names and formats (paths in the file are relative to the working directory).",
    )
    p.add_argument("ini", metavar="FILE.ini", help="Circuitscape configuration file")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from ..circuitscape import run_ini

    out = run_ini(args.ini, progress=False if args.no_progress else None)
    files = out.get("files", {})
    print(f"tbpa circuitscape: wrote {len(files)} file(s)")
    for key, path in sorted(files.items()):
        print(f"  {key:<28} {path}")
    return 0
