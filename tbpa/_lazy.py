"""Lazy re-exports: a package lists its public names and the submodule defining each.

Importing ``tbpa`` stays fast (numba kernels, GDAL drivers and fonts load on first use), and
``dir()`` still lists every public name for notebook tab completion.
"""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """Return ``(__getattr__, __dir__)`` for *package* exporting ``name -> submodule``."""

    def __getattr__(name: str):
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
