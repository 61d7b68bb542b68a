"""``tbpa omniscape FILE.ini``: run an Omniscape.jl INI file unchanged."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``omniscape`` sub-command."""
    p = subparsers.add_parser(
        "omniscape",
        help="run an Omniscape .ini file (moving-window circuit connectivity)",
        description=(
            "Run an Omniscape.jl INI file unchanged. Outputs (cum_currmap, flow_potential, "
            "normalized_cum_currmap) go to the folder named by project_name, relative to the "
            "current directory, as Omniscape writes them."
        ),
    )
    p.add_argument("ini", help="Omniscape INI file")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes for the windows (default: 1; results are identical)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from ..omniscape import run_ini

    out = run_ini(args.ini, n_jobs=args.jobs, progress=True if args.progress else None)
    for f in out["files"]:
        print(f)
    print(f"omniscape: wrote {len(out['files'])} files to {out['output_dir']}", file=sys.stderr)
    return 0
