"""Agreement between two habitat maps on one grid: confusion matrix, overall agreement, kappa.

Map ``a`` is the row (reference) map and ``b`` the column map, as in an accuracy
assessment where ``a`` plays the reference; with two national maps neither is truth, so the
per-class figures are called agreements, not accuracies:

* producer's agreement of class c = n_cc / (cells that are c in ``a``)
* user's agreement of class c = n_cc / (cells that are c in ``b``)
* overall agreement p_o = sum_c n_cc / n
* Cohen's kappa = (p_o - p_e) / (1 - p_e), with p_e = sum_c (row_c / n) (col_c / n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .._grid import GridSpec
from ..errors import CRSError, EmptySelectionError, ValidationError
from .legend import NODATA, legend

__all__ = ["agreement", "AgreementReport"]


@dataclass(frozen=True)
class AgreementReport:
    """Result of :func:`agreement`.

    Attributes
    ----------
    table : pandas.DataFrame
        Confusion matrix of cell counts: rows = classes of ``a``, columns = classes of
        ``b`` (unified codes, union of the classes present in either map).
    n : int
        Cells compared (valid in both maps and inside ``within``).
    overall : float
        Share of compared cells with the same class.
    kappa : float
        Cohen's kappa (NaN when expected agreement is 1, i.e. one class only).
    per_class : pandas.DataFrame
        Index unified code; columns ``name_en``, ``n_a``, ``n_b``, ``agree``,
        ``producers`` (agree / n_a) and ``users`` (agree / n_b).
    """

    table: pd.DataFrame
    n: int
    overall: float
    kappa: float
    per_class: pd.DataFrame

    def __repr__(self) -> str:
        lines = [
            f"AgreementReport: {self.n:,} cells, overall agreement {self.overall:.1%}, "
            f"Cohen's kappa {self.kappa:.3f}",
            "per class (a = rows, b = columns):",
        ]
        pc = self.per_class.copy()
        pc["producers"] = pc["producers"].map(lambda v: f"{v:.1%}" if np.isfinite(v) else "-")
        pc["users"] = pc["users"].map(lambda v: f"{v:.1%}" if np.isfinite(v) else "-")
        lines.append(pc.to_string())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = (f"<b>AgreementReport</b>: {self.n:,} cells, overall agreement "
                f"{self.overall:.1%}, Cohen's kappa {self.kappa:.3f}")
        return head + self.per_class.to_html(float_format=lambda v: f"{v:.3f}") + self.table.to_html()


def _habitat(x, name: str) -> xr.DataArray:
    if isinstance(x, xr.Dataset):
        if "habitat" not in x:
            raise ValidationError(f"agreement: Dataset `{name}` has no 'habitat' variable")
        x = x["habitat"]
    if not isinstance(x, xr.DataArray):
        raise ValidationError(f"agreement: `{name}` must be a habitat DataArray, got {type(x).__name__}")
    if x.rio.crs is None:
        raise CRSError(f"agreement: `{name}` has no CRS; set it with {name}.rio.write_crs(...)")
    return x


def _within_mask(within, grid: GridSpec) -> np.ndarray:
    import geopandas as gpd
    from rasterio.features import geometry_mask
    from shapely.geometry.base import BaseGeometry

    if isinstance(within, BaseGeometry):
        geoms = [within]  # assumed in the maps' CRS
    elif isinstance(within, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if within.crs is None:
            raise CRSError("agreement: `within` has no CRS; set it (within.set_crs(...))")
        geoms = list(within.to_crs(grid.crs).geometry)
    else:
        raise ValidationError(
            f"agreement: `within` must be a shapely geometry, GeoSeries or GeoDataFrame, got "
            f"{type(within).__name__}"
        )
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        raise EmptySelectionError("agreement: `within` holds no geometry")
    return geometry_mask(geoms, out_shape=grid.shape, transform=grid.transform, invert=True)


def agreement(a, b, *, within=None) -> AgreementReport:
    """Compare two unified habitat maps cell by cell.

    Parameters
    ----------
    a, b : xarray.DataArray or Dataset
        Unified habitat codes on the same grid (a Dataset's ``habitat`` variable is used).
        Cells that are nodata (0 or NaN) in either map are left out.
    within : shapely geometry, GeoSeries or GeoDataFrame, optional
        Compare only cells whose centres lie inside (e.g. a strip along a border).
        GeoDataFrames are reprojected to the maps' CRS; bare geometries must already be in it.

    Returns
    -------
    AgreementReport
        ``.table`` (confusion matrix), ``.overall``, ``.kappa``, ``.per_class``.

    Raises
    ------
    GridMismatchError
        The maps are on different grids.
    EmptySelectionError
        No cell is valid in both maps (inside ``within``).

    Examples
    --------
    >>> import numpy as np
    >>> from tbpa.io import from_array
    >>> from affine import Affine
    >>> t, crs = Affine(100, 0, 0, 0, -100, 200), "EPSG:32652"
    >>> a = from_array(np.array([[104, 104], [404, 1401]], "uint16"), transform=t, crs=crs)
    >>> b = from_array(np.array([[104, 404], [404, 1401]], "uint16"), transform=t, crs=crs)
    >>> agreement(a, b).overall
    0.75
    """
    a, b = _habitat(a, "a"), _habitat(b, "b")
    ga = GridSpec.from_dataarray(a, "a", projected=False)
    gb = GridSpec.from_dataarray(b, "b", projected=False)
    ga.require_same(gb, ("a", "b"))
    va = np.asarray(a.values, dtype=np.float64)
    vb = np.asarray(b.values, dtype=np.float64)
    ok = np.isfinite(va) & np.isfinite(vb) & (va != NODATA) & (vb != NODATA)
    if within is not None:
        ok &= _within_mask(within, ga)
    if not ok.any():
        raise EmptySelectionError(
            "agreement: no cell is valid (non-nodata) in both maps"
            + (" inside `within`" if within is not None else "")
        )
    xa, xb = va[ok].astype(np.int64), vb[ok].astype(np.int64)
    classes = np.union1d(np.unique(xa), np.unique(xb))
    ia, ib = np.searchsorted(classes, xa), np.searchsorted(classes, xb)
    k = len(classes)
    m = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k)
    return _report(m, classes)


def _report(m: np.ndarray, classes: np.ndarray) -> AgreementReport:
    n = int(m.sum())
    rows, cols, diag = m.sum(axis=1), m.sum(axis=0), np.diag(m)
    po = diag.sum() / n
    pe = float((rows / n) @ (cols / n))
    kappa = (po - pe) / (1 - pe) if pe < 1 else float("nan")
    names = legend().set_index("code")["name_en"]
    idx = pd.Index(classes.astype(int), name="a \\ b")
    table = pd.DataFrame(m, index=idx, columns=pd.Index(classes.astype(int), name="b"))
    with np.errstate(invalid="ignore", divide="ignore"):
        per = pd.DataFrame({
            "name_en": [names.get(int(c), "?") for c in classes],
            "n_a": rows, "n_b": cols, "agree": diag,
            "producers": diag / rows, "users": diag / cols,
        }, index=pd.Index(classes.astype(int), name="code"))
    return AgreementReport(table=table, n=n, overall=float(po), kappa=float(kappa), per_class=per)
