"""Errors raised by tbpa.

Every error derives from :class:`TbpaError` and from the builtin that matches its meaning
(``ValueError``, ``KeyError``, ``MemoryError`` ...), so ``except ValueError`` in user code keeps
working. Messages name the argument, say what was received and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "TbpaError",
    "CRSError",
    "GridMismatchError",
    "ValidationError",
    "DataError",
    "EmptySelectionError",
    "EncodingError",
    "UnknownSiteError",
    "UnknownSchemeError",
    "UnknownNameError",
    "ConnectivityError",
    "InfeasibleError",
    "SolverMemoryError",
    "MissingDependencyError",
    "TbpaWarning",
    "FontFallbackWarning",
    "UnreachableWarning",
]


class TbpaError(Exception):
    """Root of every error raised by tbpa."""


class _KeyLikeError(TbpaError, KeyError):
    """KeyError subclass whose message prints as text, not as a quoted key."""

    def __str__(self) -> str:  # KeyError.__str__ would repr() the message
        return str(self.args[0]) if self.args else ""


class CRSError(TbpaError, ValueError):
    """A CRS is missing, geographic where metres are needed, or differs between inputs."""


class GridMismatchError(TbpaError, ValueError):
    """Rasters that must share one grid (CRS, transform, shape) do not."""


class ValidationError(TbpaError, ValueError):
    """An argument has an invalid value (e.g. resistance <= 0, invalid geometry)."""


class DataError(TbpaError, ValueError):
    """Input data is unusable as given (unknown class codes, nodata where values are needed)."""


class EmptySelectionError(TbpaError, ValueError):
    """A selection (sites, features, cells) came out empty."""


class EncodingError(TbpaError, ValueError):
    """A text attribute file (e.g. a shapefile DBF) cannot be decoded unambiguously."""


class UnknownSiteError(_KeyLikeError):
    """A site id is not in the registry."""


class UnknownSchemeError(_KeyLikeError):
    """A land-cover scheme name is not known."""


class UnknownNameError(_KeyLikeError):
    """A named item (landscape, species profile, criterion, option) is not known."""


class ConnectivityError(TbpaError, ValueError):
    """A connectivity problem cannot be solved as posed (e.g. all nodes in one region)."""


class InfeasibleError(TbpaError, ValueError):
    """An optimisation problem has no feasible solution."""


class SolverMemoryError(TbpaError, MemoryError):
    """A solve would need more memory than is available."""


class MissingDependencyError(TbpaError, ImportError):
    """An optional dependency needed for this function is not installed."""


class TbpaWarning(UserWarning):
    """Root of tbpa's warnings."""


class FontFallbackWarning(TbpaWarning):
    """No font covers the requested script; labels fall back to English."""


class UnreachableWarning(TbpaWarning):
    """Some targets cannot be reached from the sources (infinite cost)."""


def close_matches(name: str, candidates, n: int = 3) -> list[str]:
    """Return up to *n* candidates that look like *name* (for 'did you mean' hints)."""
    import difflib

    candidates = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]
