"""``tbpa demo [--out DIR]``: run the end-to-end demo on the embedded landscapes."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="run the main job on the embedded data: maps, tables, data package, report",
        description="Run every demo stage (tbpa.demo.run_demo) and write the results into DIR.",
    )
    p.add_argument("--out", default="tbpa-demo", metavar="DIR",
                   help="output directory (default: ./tbpa-demo)")
    p.add_argument("--landscape", action="append", metavar="NAME",
                   help="only this landscape (repeatable; default: all six)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from pathlib import Path

    from ..demo import run_demo

    written, ctx = run_demo(args.out, landscapes=args.landscape,
                            progress=False if args.no_progress else None, return_context=True)
    out = Path(args.out).resolve()
    print(f"tbpa demo: wrote {len(written)} file(s) into {out}")
    for key, path in written.items():
        print(f"  {key:<44} {path}")
    print("\nSummary")
    for note in ctx.notes:
        print(f"  - {note}")
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in ctx.timings.items())
    print(f"\nTimings: {timing} (total {sum(ctx.timings.values()):.1f} s)")
    if "report.html" in written:
        print(f"Open the report: {written['report.html']}")
    return 0
