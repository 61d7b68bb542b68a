"""Lazy re-exports: a package lists its public names and the submodule defining each.

Importing ``tbpa`` stays fast (numba kernels, GDAL drivers and fonts load on first use), and
``dir()`` still lists every public name for notebook tab completion.

Exported names always win over submodule attributes: when a submodule shares the name of
the function it exports (``tbpa.connectivity.protconn``), importing the submodule makes
Python bind the package attribute to the *module*; the package class installed here makes
``package.name`` resolve to the exported object regardless.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Callable


class _LazyPackage(types.ModuleType):
    """Module type whose exported names resolve through the export map first."""

    def __getattribute__(self, name: str):
        exports = types.ModuleType.__getattribute__(self, "__dict__").get("_EXPORTS")
        if exports and name in exports:
            pkg = types.ModuleType.__getattribute__(self, "__name__")
            return getattr(importlib.import_module(f"{pkg}.{exports[name]}"), name)
        return types.ModuleType.__getattribute__(self, name)


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable, Callable]:
    """Return ``(__getattr__, __dir__)`` for *package* exporting ``name -> submodule``.

    The package module must define ``_EXPORTS = exports`` before calling this.
    """
    module = sys.modules.get(package)
    if module is not None and type(module) is types.ModuleType:
        module.__class__ = _LazyPackage

    def __getattr__(name: str):
        try:
            submodule = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(f"{package}.{submodule}"), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
