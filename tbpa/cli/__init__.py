"""Command line: ``tbpa <command>``; each command mirrors a library function.

Every module ``tbpa/cli/cmd_<name>.py`` defines ``register(subparsers)`` which adds its
sub-command; they are discovered here, so adding a command touches no shared file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from ..errors import TbpaError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every discovered sub-command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="tbpa",
        description="Transboundary protected areas and wildlife corridors (North-East Asia).",
    )
    parser.add_argument("--version", action="version", version=f"tbpa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tbpa`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except TbpaError as exc:  # user-facing errors: one clear line, no traceback
        print(f"tbpa {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
