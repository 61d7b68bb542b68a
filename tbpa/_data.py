"""Locate the embedded data shipped with tbpa (``data/`` in the repository)."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

__all__ = ["data_path"]


@lru_cache(maxsize=1)  # the install does not move while running: look it up once
def _root() -> Path:
    # ``data/`` is installed as the namespace package ``tbpa._embedded`` (no __init__.py), so
    # its location comes from the import spec's search locations, not from ``__file__``.
    try:
        spec = importlib.util.find_spec("tbpa._embedded")
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if Path(location, "boundaries").is_dir():
            return Path(location)
    return Path(__file__).resolve().parent.parent / "data"  # a source checkout


def data_path(*parts: str) -> Path:
    """Path of an embedded data file, e.g. ``data_path("boundaries", "sites.csv")``.

    Works from a source checkout, an editable install and an installed wheel.
    """
    return _root().joinpath(*parts)
