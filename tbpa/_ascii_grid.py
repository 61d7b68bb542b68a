"""ESRI ASCII grids (``.asc``, optionally gzip-compressed), as Circuitscape and Omniscape use them.

The format is six header lines (``ncols``, ``nrows``, ``xllcorner``/``xllcenter``,
``yllcorner``/``yllcenter``, ``cellsize``, optional ``NODATA_value``) followed by ``nrows``
rows of whitespace-separated numbers, north row first. Reading is tolerant (any whitespace,
trailing tabs, header keys in any case, a missing NODATA line); writing produces the exact
layout Circuitscape writes, atomically.
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from .errors import DataError, ValidationError

__all__ = ["AsciiHeader", "read_ascii_grid", "write_ascii_grid", "open_text"]

_KEYS = ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize", "nodata_value")


@dataclass(frozen=True)
class AsciiHeader:
    """Georeferencing of an ASCII grid (lower-left *corner* coordinates, square cells)."""

    ncols: int
    nrows: int
    xllcorner: float
    yllcorner: float
    cellsize: float
    nodata: float | None = -9999.0

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nrows, self.ncols)

    @property
    def transform(self):
        """Affine transform of the upper-left corner (north-up)."""
        from affine import Affine

        top = self.yllcorner + self.nrows * self.cellsize
        return Affine(self.cellsize, 0.0, self.xllcorner, 0.0, -self.cellsize, top)

    def with_nodata(self, nodata: float | None) -> "AsciiHeader":
        return replace(self, nodata=nodata)

    @classmethod
    def from_transform(cls, transform, shape, nodata: float | None = -9999.0) -> "AsciiHeader":
        """Header for a north-up grid with square cells given its affine transform."""
        rows, cols = int(shape[0]), int(shape[1])
        size = abs(transform.a)
        if not np.isclose(size, abs(transform.e), rtol=1e-9):
            raise ValidationError(
                f"ASCII grids need square cells, got {abs(transform.a)} x {abs(transform.e)}"
            )
        bottom = float(transform.f - rows * size)
        return cls(cols, rows, float(transform.c), bottom, float(size), nodata)


def open_text(path: str | os.PathLike):
    """Open a text file for reading, transparently un-gzipping ``*.gz`` (or gzip magic bytes)."""
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_ascii_grid(path: str | os.PathLike) -> tuple[np.ndarray, AsciiHeader]:
    """Read an ESRI ASCII grid.

    Returns the values as a float64 array (north row first; nodata cells keep the file's
    nodata value, so callers decide what nodata means) and the :class:`AsciiHeader`.

    Examples
    --------
    >>> values, header = read_ascii_grid("cellmap.asc")  # doctest: +SKIP
    >>> values.shape == header.shape  # doctest: +SKIP
    True
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"ASCII grid {str(path)!r} does not exist")
    with open_text(path) as fh:
        text = fh.read()
    tokens = text.split()
    header: dict[str, float] = {}
    pos = 0
    center = {"x": False, "y": False}
    while pos + 1 < len(tokens) and tokens[pos][:1].isalpha():
        key = tokens[pos].lower()
        if key in ("xllcenter", "yllcenter"):
            center[key[0]] = True
            key = key.replace("center", "corner")
        if key not in _KEYS:
            raise DataError(f"{path}: unknown ASCII grid header key {tokens[pos]!r}")
        try:
            header[key] = float(tokens[pos + 1])
        except ValueError as exc:
            raise DataError(f"{path}: header {tokens[pos]!r} has non-numeric value "
                            f"{tokens[pos + 1]!r}") from exc
        pos += 2
    missing = [k for k in _KEYS[:5] if k not in header]
    if missing:
        raise DataError(f"{path}: ASCII grid header lacks {missing}; is it an ESRI .asc file?")
    ncols, nrows, size = int(header["ncols"]), int(header["nrows"]), header["cellsize"]
    try:
        values = np.asarray(tokens[pos:], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: non-numeric cell values in ASCII grid ({exc})") from exc
    if values.size != ncols * nrows:
        raise DataError(
            f"{path}: header says {nrows} rows x {ncols} cols = {nrows * ncols} cells, "
            f"but the file holds {values.size} values"
        )
    x0 = header["xllcorner"] - (size / 2 if center["x"] else 0.0)
    y0 = header["yllcorner"] - (size / 2 if center["y"] else 0.0)
    nodata = header.get("nodata_value")
    return values.reshape(nrows, ncols), AsciiHeader(ncols, nrows, x0, y0, size, nodata)


def _format_header(h: AsciiHeader) -> str:
    lines = [
        f"ncols         {h.ncols}",
        f"nrows         {h.nrows}",
        f"xllcorner     {h.xllcorner!r}",
        f"yllcorner     {h.yllcorner!r}",
        f"cellsize      {h.cellsize!r}",
    ]
    lines.append(f"NODATA_value  {_fmt_scalar(h.nodata if h.nodata is not None else -9999)}")
    return "\n".join(lines) + "\n"


def _fmt_scalar(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def write_ascii_grid(
    path: str | os.PathLike, values: np.ndarray, header: AsciiHeader, *,
    compress: bool | None = None,
) -> Path:
    """Write *values* as an ESRI ASCII grid, atomically.

    NaN cells are written as the header's nodata value (``-9999`` when the header has none).
    With ``compress=True`` (or a path ending in ``.gz``) the file is gzip-compressed and
    ``.gz`` is appended to the name when missing. Returns the path written.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape != header.shape:
        raise ValidationError(f"write_ascii_grid: values shape {values.shape} != header shape "
                              f"{header.shape}")
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress and path.suffix != ".gz":
        path = path.with_name(path.name + ".gz")
    nodata = header.nodata if header.nodata is not None else -9999.0
    header = header.with_nodata(nodata)
    out = np.where(np.isnan(values), nodata, values)
    buf = io.StringIO()
    buf.write(_format_header(header))
    # repr-precision floats: Circuitscape's verify compares sums of squared differences
    np.savetxt(buf, out, fmt="%.17g", delimiter=" ")
    data = buf.getvalue().encode()
    with atomic_path(path) as tmp:
        if compress:
            with gzip.open(tmp, "wb") as fh:
                fh.write(data)
        else:
            tmp.write_bytes(data)
    return path
