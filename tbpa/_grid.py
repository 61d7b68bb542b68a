"""GridSpec: the CRS, affine transform and shape that numeric kernels work on.

Kernels take plain numpy arrays plus a :class:`GridSpec`; public functions take rioxarray
DataArrays and convert with :meth:`GridSpec.from_dataarray`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

from .errors import CRSError, GridMismatchError, ValidationError

__all__ = ["GridSpec"]


@dataclass(frozen=True)
class GridSpec:
    """A north-up raster grid in a projected metre CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS with metre units.
    transform : affine.Affine
        Maps (col, row) of the upper-left cell corner to (x, y).
    shape : tuple of int
        (rows, cols).
    """

    crs: CRS
    transform: Affine
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", CRS.from_user_input(self.crs))
        object.__setattr__(self, "shape", (int(self.shape[0]), int(self.shape[1])))
        t = self.transform
        if t.b != 0 or t.d != 0:
            raise ValidationError(
                f"transform must be north-up without rotation, got {tuple(t)[:6]}; "
                "warp the raster first (rioxarray: da.rio.reproject(crs))"
            )

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_dataarray(cls, da, name: str = "raster", *, projected: bool = True) -> "GridSpec":
        """Describe the grid of a 2-D rioxarray DataArray, checking CRS and square cells."""
        if da.ndim != 2:
            raise ValidationError(
                f"`{name}` must be a 2-D raster, got dims {da.dims}; select one band, "
                "e.g. da.squeeze('band', drop=True)"
            )
        crs = da.rio.crs
        if crs is None:
            raise CRSError(
                f"`{name}` has no CRS; set it with da.rio.write_crs(...) or build it with "
                "tbpa.io.from_array(values, transform=..., crs=...)"
            )
        crs = CRS.from_user_input(crs)
        grid = cls(crs, da.rio.transform(recalc=True), da.shape)
        if projected:
            grid.require_projected(name)
        return grid

    # -- checks -------------------------------------------------------------------------
    def require_projected(self, name: str = "raster") -> None:
        """Raise CRSError unless the CRS is projected in metres."""
        if not self.crs.is_projected:
            raise CRSError(
                f"`{name}` is in {self.crs.to_string()} (geographic, degrees) but this function "
                "needs metres; reproject to an equal-area CRS first, e.g. "
                "da.rio.reproject(tbpa.crs.equal_area_crs(countries))"
            )
        unit = self.crs.axis_info[0].unit_name if self.crs.axis_info else "metre"
        if unit not in ("metre", "meter", "m"):
            raise CRSError(f"`{name}` CRS units are {unit!r}; tbpa needs metres")

    def require_square(self, name: str = "raster") -> float:
        """Return the cell size in metres, raising unless cells are square."""
        dx, dy = abs(self.transform.a), abs(self.transform.e)
        if not np.isclose(dx, dy, rtol=1e-6):
            raise ValidationError(
                f"`{name}` has non-square cells ({dx} x {dy} m); resample to square cells, e.g. "
                f"da.rio.reproject(da.rio.crs, resolution={max(dx, dy)})"
            )
        return dx

    def require_same(self, other: "GridSpec", names: tuple[str, str] = ("a", "b")) -> None:
        """Raise GridMismatchError unless *other* is the same grid."""
        if self.crs != other.crs:
            raise GridMismatchError(
                f"`{names[0]}` is in {self.crs.to_string()} but `{names[1]}` in "
                f"{other.crs.to_string()}; align with other.rio.reproject_match(first)"
            )
        if self.shape != other.shape or not self.transform.almost_equals(other.transform):
            raise GridMismatchError(
                f"`{names[0]}` (shape {self.shape}, transform {tuple(self.transform)[:6]}) and "
                f"`{names[1]}` (shape {other.shape}, transform {tuple(other.transform)[:6]}) are "
                "on different grids; align with b.rio.reproject_match(a, resampling=...)"
            )

    # -- geometry -----------------------------------------------------------------------
    @property
    def cell_size(self) -> float:
        """Cell size in CRS units (x resolution)."""
        return abs(self.transform.a)

    @property
    def cell_area(self) -> float:
        """Cell area in CRS units squared."""
        return abs(self.transform.a * self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy)."""
        rows, cols = self.shape
        x0, y0 = self._apply(0.0, 0.0)
        x1, y1 = self._apply(float(cols), float(rows))
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def xcoords(self) -> np.ndarray:
        """x of cell centres, one per column."""
        return self.transform.c + (np.arange(self.shape[1]) + 0.5) * self.transform.a

    def ycoords(self) -> np.ndarray:
        """y of cell centres, one per row."""
        return self.transform.f + (np.arange(self.shape[0]) + 0.5) * self.transform.e

    def rowcol(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices of points (may fall outside the grid)."""
        t = self.transform  # north-up: invert each axis separately
        c = (np.asarray(x, dtype=float) - t.c) / t.a
        r = (np.asarray(y, dtype=float) - t.f) / t.e
        return np.floor(r).astype(np.int64), np.floor(c).astype(np.int64)

    def xy(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """Centre coordinates of cells."""
        r = np.asarray(row, dtype=float) + 0.5
        c = np.asarray(col, dtype=float) + 0.5
        return self._apply(c, r)

    def _apply(self, col, row):
        t = self.transform
        return t.a * col + t.b * row + t.c, t.d * col + t.e * row + t.f

    def contains(self, row, col) -> np.ndarray:
        """Boolean: which (row, col) pairs lie inside the grid."""
        row, col = np.asarray(row), np.asarray(col)
        return (row >= 0) & (row < self.shape[0]) & (col >= 0) & (col < self.shape[1])

    def to_dataarray(self, values: np.ndarray, *, name: str | None = None, nodata=None):
        """Wrap *values* (shape == self.shape) as a rioxarray DataArray on this grid."""
        from .io import from_array

        da = from_array(values, transform=self.transform, crs=self.crs, nodata=nodata)
        if name is not None:
            da.name = name
        return da
