"""Package-wide options.

``progress``
    Show tqdm progress bars on long work (default True).
``n_jobs``
    Threads used for independent solves (default: number of CPUs).
``max_memory_gb``
    Memory budget that solvers refuse to exceed (default: 80 % of available RAM).

Use :func:`set_options` globally or as a context manager::

    with tbpa.set_options(progress=False):
        ...
"""

from __future__ import annotations

import os
from typing import Any

from .errors import UnknownNameError, ValidationError, close_matches

__all__ = ["set_options", "get_option"]

_OPTIONS: dict[str, Any] = {"progress": True, "n_jobs": None, "max_memory_gb": None}


class set_options:  # noqa: N801  (context-manager function, named like rioxarray's)
    """Set options globally, or temporarily inside a ``with`` block."""

    def __init__(self, **kwargs: Any) -> None:
        for key in kwargs:
            if key not in _OPTIONS:
                raise UnknownNameError(
                    f"set_options: unknown option {key!r}; valid options are "
                    f"{sorted(_OPTIONS)} (did you mean {close_matches(key, _OPTIONS)}?)"
                )
        if kwargs.get("n_jobs") is not None and int(kwargs["n_jobs"]) < 1:
            raise ValidationError(f"set_options: n_jobs must be >= 1, got {kwargs['n_jobs']!r}")
        self._old = {k: _OPTIONS[k] for k in kwargs}
        _OPTIONS.update(kwargs)

    def __enter__(self) -> "set_options":
        return self

    def __exit__(self, *exc: object) -> None:
        _OPTIONS.update(self._old)


def get_option(name: str) -> Any:
    """Return the current value of option *name* (resolving defaults such as ``n_jobs``)."""
    if name not in _OPTIONS:
        raise UnknownNameError(f"get_option: unknown option {name!r}; valid: {sorted(_OPTIONS)}")
    value = _OPTIONS[name]
    if name == "n_jobs" and value is None:
        return os.cpu_count() or 1
    if name == "max_memory_gb" and value is None:
        return 0.8 * available_memory_gb()
    return value


def available_memory_gb() -> float:
    """Available RAM in GiB, read from /proc/meminfo where it exists (else a 4 GiB guess)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 4.0


def resolve_progress(progress: bool | None) -> bool:
    """Return *progress* or, when None, the global ``progress`` option."""
    return bool(_OPTIONS["progress"]) if progress is None else bool(progress)
