"""Locate the embedded data shipped with tbpa (``data/`` in the repository)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["data_path"]


def data_path(*parts: str) -> Path:
    """Path of an embedded data file, e.g. ``data_path("boundaries", "sites.csv")``.

    Works from a source checkout, an editable install and an installed wheel (where the
    repository's ``data/`` folder is installed as the package ``tbpa._embedded``).
    """
    try:
        root = Path(str(resources.files("tbpa._embedded")))
    except ModuleNotFoundError:  # running from a checkout without installing
        root = Path(__file__).resolve().parent.parent / "data"
    if not root.is_dir():
        root = Path(__file__).resolve().parent.parent / "data"
    return root.joinpath(*parts)
