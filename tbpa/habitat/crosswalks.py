"""Crosswalks from national and global land-cover schemes to the unified legend, and reclassify.

Each scheme has a table ``data/habitat/crosswalks/<scheme>.csv`` with one row per
(source code, unified target) pair: ``source_code, source_name, target_code, weight, rule,
certainty, note``. The weights of one source code sum to 1 and say how much of that class is
expected to be each target; a ``rule`` (e.g. ``lat>=50``, ``sea==1`` or
``coast_dist_m<3000&elev_m<1500``) lets ancillary layers decide between targets cell by cell.

How one target is chosen for a cell (:func:`reclassify`)
    Each candidate row scores 2 if its rule can be evaluated (every layer it names is in
    ``ancillary``) and is true, 0 if it can be evaluated and is false, and 1 if it has no
    rule or its layers were not given. The row with the highest score wins, ties going to
    the higher weight (then to the first row). The chosen weight is the row's weight divided
    by the summed weight of the rows that were not ruled out (score > 0), i.e. the share of
    the source class that the chosen target is expected to cover there.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from .._data import data_path
from ..errors import (
    CRSError,
    DataError,
    GridMismatchError,
    TbpaWarning,
    UnknownSchemeError,
    ValidationError,
    close_matches,
)
from .legend import NODATA, to_level1

__all__ = ["schemes", "crosswalk", "reclassify", "latitude_layer"]

# Common names people type for a scheme -> the table name.
_ALIASES = {
    "worldcover": "esa_worldcover",
    "esa_worldcover_v100": "esa_worldcover",
    "esa_worldcover_v200": "esa_worldcover",
    "cci": "esa_cci",
    "esa_cci_lc": "esa_cci",
    "igbp": "modis_igbp",
    "mcd12q1": "modis_igbp",
    "mcd12c1": "modis_igbp",
    "modis": "modis_igbp",
    "cgls": "cgls_lc100",
    "copernicus_lc100": "cgls_lc100",
    "gl30": "globeland30",
    "gb/t21010": "gbt21010",
    "gbt_21010": "gbt21010",
    "gb_t_21010_2017": "gbt21010",
    "rlc": "terranorte",
    "terranorte_rlc": "terranorte",
}
_SENTINEL = np.iinfo(np.uint16).max  # marks unknown source codes inside the lookup table
_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9.eE+-]+)\s*$")


def _crosswalk_dir():
    return data_path("habitat", "crosswalks")


def schemes() -> list[str]:
    """Names of the land-cover schemes that have a crosswalk, sorted.

    Examples
    --------
    >>> "esa_worldcover" in schemes()
    True
    """
    return list(_scheme_names())


@lru_cache(maxsize=1)
def _scheme_names() -> tuple[str, ...]:
    # the embedded tables never change at run time: list the directory once, not per lookup
    return tuple(sorted(p.stem for p in _crosswalk_dir().glob("*.csv")))


def _resolve(scheme: str) -> str:
    known = schemes()
    key = str(scheme).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key in known:
        return key
    hints = close_matches(str(scheme), known + list(_ALIASES))
    hints = sorted({_ALIASES.get(h, h) for h in hints})
    hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
    raise UnknownSchemeError(
        f"unknown land-cover scheme {scheme!r}.{hint} Known schemes: {', '.join(known)} "
        "(tbpa.habitat.schemes())."
    )


@lru_cache(maxsize=None)
def _read(scheme: str) -> pd.DataFrame:
    df = pd.read_csv(_crosswalk_dir() / f"{scheme}.csv", keep_default_na=False,
                     dtype={"rule": str, "note": str, "certainty": str, "source_name": str})
    df["source_code"] = df["source_code"].astype(np.int64)
    df["target_code"] = df["target_code"].astype(np.int64)
    df["weight"] = df["weight"].astype(float)
    return df


def crosswalk(scheme: str) -> pd.DataFrame:
    """The crosswalk table of *scheme* (a copy).

    Parameters
    ----------
    scheme : str
        One of :func:`schemes` (a few aliases such as ``"worldcover"`` or ``"mcd12q1"`` work
        too). Unknown names raise :class:`~tbpa.errors.UnknownSchemeError` listing close
        matches.

    Returns
    -------
    pandas.DataFrame
        ``source_code`` (int), ``source_name``, ``target_code`` (unified code, 0 = nodata),
        ``weight`` (share of the source class, summing to 1 per source code), ``rule``
        (ancillary rule or ""), ``certainty`` ("V" code checked against product
        documentation, "U" unverified) and ``note``.

    Examples
    --------
    >>> cw = crosswalk("esa_worldcover")
    >>> cw.loc[cw.source_code == 50, "target_code"].tolist()
    [1405]
    """
    return _read(_resolve(scheme)).copy()


# -- compiled tables -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Compiled:
    """A crosswalk as padded arrays: one row per source code, K candidate columns."""

    codes: np.ndarray  # (n,) int64 sorted source codes
    targets: np.ndarray  # (n, K) uint16, 0-padded
    weights: np.ndarray  # (n, K) float64, 0-padded (padding can never win: score -1)
    rules: tuple  # rules[i][k] = tuple of (layer, op, value) terms, () when no rule
    default_target: np.ndarray  # (n,) uint16: highest weight, first row on ties
    default_weight: np.ndarray  # (n,) float32
    has_rule: np.ndarray  # (n,) bool


def _parse_rule(rule: str, scheme: str, code: int) -> tuple:
    rule = (rule or "").strip()
    if not rule:
        return ()
    terms = []
    for part in rule.split("&"):
        m = _TERM.match(part)
        if not m:
            raise DataError(
                f"crosswalk {scheme!r}: cannot parse rule {rule!r} of source code {code}; "
                "rules look like 'lat>=50' or 'coast_dist_m<3000&elev_m<1500'"
            )
        terms.append((m.group(1), m.group(2), float(m.group(3))))
    return tuple(terms)


def _collapse_level1(df: pd.DataFrame) -> pd.DataFrame:
    """Merge rows whose targets share a level-1 class (weights add; the rule is kept only
    when every merged row has the same one, e.g. 5.5/5.1/5.14 all ``sea==0``)."""
    df = df.copy()
    df["target_code"] = to_level1(df["target_code"].to_numpy())
    df["order"] = np.arange(len(df))
    agg = df.groupby(["source_code", "target_code"], sort=False).agg(
        weight=("weight", "sum"), rule=("rule", lambda r: r.iloc[0] if r.nunique() == 1 else ""),
        order=("order", "min"),
    )
    return agg.reset_index().sort_values("order").drop(columns="order")


@lru_cache(maxsize=None)
def _compile(scheme: str, level: int) -> _Compiled:
    df = _read(scheme)
    if level == 1:
        df = _collapse_level1(df)
    groups = [(int(c), g) for c, g in df.groupby("source_code", sort=True)]
    n, k = len(groups), max(len(g) for _, g in groups)
    codes = np.array([c for c, _ in groups], dtype=np.int64)
    targets = np.zeros((n, k), dtype=np.uint16)
    weights = np.zeros((n, k), dtype=np.float64)
    rules = []
    for i, (code, g) in enumerate(groups):
        targets[i, : len(g)] = g["target_code"].to_numpy()
        weights[i, : len(g)] = g["weight"].to_numpy()
        rules.append(tuple(_parse_rule(r, scheme, code) for r in g["rule"]) + ((),) * (k - len(g)))
    best = np.argmax(weights, axis=1)  # argmax returns the first of tied maxima
    rows = np.arange(n)
    has_rule = np.array([any(len(r) > 0 for r in rr) for rr in rules])
    return _Compiled(codes, targets, weights, tuple(rules), targets[rows, best],
                     weights[rows, best].astype(np.float32), has_rule)


# -- lookup machinery ----------------------------------------------------------------------
def _keys(values: np.ndarray, nodata) -> tuple[np.ndarray, np.ndarray]:
    """Return (keys, key_codes): integer keys into a dense table, and the source code of each key.

    Small integer dtypes are read through an unsigned view (no copy); other integer and
    float rasters are offset by their minimum (one copy). Nodata / NaN cells get a key whose
    code is ``None``-like (marked by returning code ``nodata`` for it).
    """
    dt = values.dtype
    if dt.kind in "ui" and dt.itemsize <= 2:
        udt = np.dtype(f"u{dt.itemsize}")
        keys = values.view(udt)
        span = np.arange(2 ** (8 * dt.itemsize), dtype=np.int64)
        codes = span if dt.kind == "u" else span.astype(udt).view(dt).astype(np.int64)
        return keys, codes
    if dt.kind == "b":
        return values.view(np.uint8), np.arange(256, dtype=np.int64)
    if dt.kind not in "uif":
        raise DataError(f"reclassify: raster dtype {dt} is not numeric; pass integer class codes")
    valid = np.isfinite(values) if dt.kind == "f" else None
    if valid is not None:
        finite = values[valid]
        if finite.size and not np.array_equal(finite, np.round(finite)):
            bad = np.unique(finite[finite != np.round(finite)])[:5]
            raise DataError(
                f"reclassify: raster holds non-integer values (e.g. {bad.tolist()}); class "
                "rasters must hold integer codes (was it resampled bilinearly?)"
            )
        vmin = float(finite.min()) if finite.size else 0.0
        vmax = float(finite.max()) if finite.size else 0.0
    else:
        vmin, vmax = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    span = int(vmax - vmin) + 2  # key 0 is reserved for NaN
    if span > 2**24:
        raise DataError(
            f"reclassify: class codes span {vmin:g}..{vmax:g}, too wide for a lookup table; "
            "is this a class raster?"
        )
    base = int(vmin) - 1
    key_dtype = np.uint32 if span < 2**32 else np.int64
    if valid is not None:
        keys = np.where(valid, values, base).astype(np.int64) - base
        keys = keys.astype(key_dtype)
    else:
        keys = (values.astype(np.int64) - base).astype(key_dtype)
    codes = base + np.arange(span, dtype=np.int64)
    codes[0] = np.iinfo(np.int64).min  # NaN key: never a class code
    return keys, codes


def _tables(comp: _Compiled, key_codes: np.ndarray, nodata):
    """Per-key lookup tables: habitat code (SENTINEL unknown, 0 nodata), weight, row index."""
    pos = np.searchsorted(comp.codes, key_codes).clip(0, len(comp.codes) - 1)
    hit = comp.codes[pos] == key_codes
    lut_h = np.where(hit, comp.default_target[pos], _SENTINEL).astype(np.uint16)
    lut_w = np.where(hit, comp.default_weight[pos], 0).astype(np.float32)
    lut_row = np.where(hit, pos, -1).astype(np.int32)
    nodata_keys = key_codes == np.iinfo(np.int64).min
    if nodata is not None and np.isfinite(nodata):
        nodata_keys |= key_codes == int(nodata)
    lut_h[nodata_keys] = NODATA
    lut_w[lut_h == NODATA] = 0  # nodata carries no class, hence no weight
    lut_row[nodata_keys] = -1
    return lut_h, lut_w, lut_row


def _check_ancillary(ancillary, raster) -> dict[str, np.ndarray]:
    if ancillary is None:
        return {}
    if not isinstance(ancillary, dict):
        raise ValidationError(
            "reclassify: `ancillary` must be a dict of layer name -> DataArray, e.g. "
            "{'lat': latitude_layer(raster), 'coast_dist_m': dist}"
        )
    out = {}
    for name, layer in ancillary.items():
        arr = layer.values if hasattr(layer, "values") else np.asarray(layer)
        if arr.ndim == 3 and arr.shape[0] == 1:  # a single-band raster read with its band dim
            arr = arr[0]
        if arr.shape != raster.shape:
            raise GridMismatchError(
                f"reclassify: ancillary layer {name!r} has shape {arr.shape} but the raster has "
                f"{raster.shape}; align it first with layer.rio.reproject_match(raster)"
            )
        if hasattr(layer, "rio") and layer.rio.crs is not None and raster.rio.crs is not None:
            if layer.rio.crs != raster.rio.crs or not layer.rio.transform().almost_equals(
                raster.rio.transform()
            ):
                raise GridMismatchError(
                    f"reclassify: ancillary layer {name!r} is not on the raster's grid (CRS or "
                    "transform differ); align it with layer.rio.reproject_match(raster)"
                )
        out[str(name)] = arr
    return out


_OP_CODES = {"<": 0, "<=": 1, ">": 2, ">=": 3, "==": 4, "!=": 5}


def _rule_arrays(comp: _Compiled, layer_names: list[str]):
    """Rules as arrays for the kernel: term layer index (-2 unused, -1 layer not given), op, value."""
    n, k = comp.targets.shape
    t_max = max([len(t) for rr in comp.rules for t in rr] + [1])
    lay = np.full((n, k, t_max), -2, dtype=np.int64)
    ops = np.zeros((n, k, t_max), dtype=np.int64)
    val = np.zeros((n, k, t_max), dtype=np.float32)
    for i, rr in enumerate(comp.rules):
        for j, terms in enumerate(rr):
            for t, (layer, op, value) in enumerate(terms):
                lay[i, j, t] = layer_names.index(layer) if layer in layer_names else -1
                ops[i, j, t] = _OP_CODES[op]
                val[i, j, t] = value
    return lay, ops, val


@lru_cache(maxsize=1)
def _rules_kernel():
    import numba

    @numba.njit(parallel=True, cache=True)
    def kernel(keys, lut_row, has_rule, targets, weights, lay, ops, val, layers, habitat, weight):
        n_cells = keys.size
        k = targets.shape[1]
        t_max = lay.shape[2]
        for i in numba.prange(n_cells):
            r = lut_row[keys[i]]
            if r < 0 or not has_rule[r]:
                continue
            best_j = -1
            best_key = -1.0
            alive = 0.0
            for j in range(k):
                w = weights[r, j]
                if w <= 0.0:
                    continue
                score = 1
                evaluable = True
                ok = True
                has_terms = False
                for t in range(t_max):
                    li = lay[r, j, t]
                    if li == -2:
                        continue
                    has_terms = True
                    if li == -1:
                        evaluable = False
                        continue
                    x = layers[li, i]
                    v = val[r, j, t]
                    o = ops[r, j, t]
                    if o == 0:
                        res = x < v
                    elif o == 1:
                        res = x <= v
                    elif o == 2:
                        res = x > v
                    elif o == 3:
                        res = x >= v
                    elif o == 4:
                        res = x == v
                    else:
                        res = x != v
                    ok = ok and res  # NaN compares False: a NaN ancillary cell fails the rule
                if has_terms and evaluable:
                    score = 2 if ok else 0
                if score > 0:
                    alive += w
                key = score * 10.0 + w
                if key > best_key:
                    best_key = key
                    best_j = j
            habitat[i] = targets[r, best_j]
            wj = weights[r, best_j]
            weight[i] = wj / alive if alive > 0.0 else wj

    return kernel


def _apply_rules(comp: _Compiled, keys, lut_row, layers: dict, habitat, weight) -> None:
    """Overwrite *habitat*/*weight* (flat) where a crosswalk rule can decide between targets."""
    used = {t[0] for rr in comp.rules for terms in rr for t in terms}
    names = sorted(set(layers) & used)  # copy only the layers some rule reads
    if not names:
        return
    lay, ops, val = _rule_arrays(comp, names)
    stack = np.empty((len(names), keys.size), dtype=np.float32)
    for i, name in enumerate(names):
        stack[i] = layers[name].reshape(-1)
    _rules_kernel()(keys.reshape(-1), lut_row, comp.has_rule, comp.targets,
                    comp.weights, lay, ops, val, stack, habitat.reshape(-1), weight.reshape(-1))


def _unknown_report(values, keys, lut_h) -> dict[int, int]:
    mask = lut_h[keys] == _SENTINEL
    if not mask.any():
        return {}
    bad = values[mask]
    codes, counts = np.unique(bad, return_counts=True)
    return {int(c) if float(c).is_integer() else float(c): int(n) for c, n in zip(codes, counts)}


def latitude_layer(raster: xr.DataArray) -> xr.DataArray:
    """Latitude (degrees north) of every cell centre of *raster*, for rules such as ``lat>=50``.

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> from tbpa.io import from_array
    >>> da = from_array(np.zeros((2, 2), "uint8"), transform=Affine(1, 0, 130, 0, -1, 45),
    ...                 crs="EPSG:4326")
    >>> latitude_layer(da).values[:, 0].tolist()
    [44.5, 43.5]
    """
    from pyproj import Transformer

    if raster.rio.crs is None:
        raise CRSError("latitude_layer: `raster` has no CRS; set it with da.rio.write_crs(...)")
    xs, ys = np.meshgrid(raster["x"].values, raster["y"].values)
    tr = Transformer.from_crs(raster.rio.crs, "EPSG:4326", always_xy=True)
    _, lat = tr.transform(xs, ys)
    return raster.copy(data=np.asarray(lat, dtype=np.float32)).rename("lat")


def _as_2d(raster, who: str = "reclassify") -> xr.DataArray:
    """*raster* as a 2-D DataArray with a CRS (a single band dropped); errors name *who*."""
    if not isinstance(raster, xr.DataArray):
        raise ValidationError(
            f"{who}: `raster` must be an xarray DataArray with a CRS, got "
            f"{type(raster).__name__}; build one with tbpa.io.from_array(values, transform=..., crs=...)"
        )
    if raster.ndim == 3 and raster.shape[0] == 1:
        raster = raster.squeeze(raster.dims[0], drop=True)
    if raster.ndim != 2:
        raise ValidationError(f"{who}: `raster` must be 2-D, got dims {raster.dims}")
    if raster.rio.crs is None:
        raise CRSError(
            f"{who}: `raster` has no CRS; a land-cover map must be placed on the ground. "
            "Set it with raster.rio.write_crs('EPSG:...')"
        )
    return raster


def reclassify(raster: xr.DataArray, scheme: str, *, unknown: str = "raise", ancillary=None,
               level: int = 2, return_weight: bool = False):
    """Translate a land-cover raster from *scheme* codes to unified habitat codes.

    Parameters
    ----------
    raster : xarray.DataArray
        2-D class raster with a CRS (geographic CRSs are fine: this is a cell-by-cell
        lookup). Its declared nodata value and NaN become nodata (0).
    scheme : str
        Source scheme, one of :func:`schemes`.
    unknown : {"raise", "nodata"}
        What to do with codes that are not in the crosswalk: raise
        :class:`~tbpa.errors.DataError` naming each code and its cell count, or map them to
        nodata (0), warn, and list them in ``attrs["unknown_codes"]``.
    ancillary : dict of str -> DataArray, optional
        Same-grid layers that crosswalk rules refer to: ``lat`` (degrees north, see
        :func:`latitude_layer`), ``sea`` (1 for water joined to the open sea, 0 otherwise,
        see :func:`~tbpa.habitat.sea_layer`), ``elev_m`` (metres), ``coast_dist_m``
        (metres). Without them every ambiguous class resolves to its highest-weight target
        (water: 5.5 freshwater lake, the sea included).
    level : {2, 1}
        Unified level of the output. Level 1 merges targets of the same level-1 class first
        (weights add), so e.g. a temperate/boreal forest class becomes Forest (100) with
        weight 1.
    return_weight : bool
        Also return each cell's crosswalk weight (share of the source class expected to be
        the chosen target; 0 at nodata).

    Returns
    -------
    xarray.DataArray or xarray.Dataset
        ``uint16`` unified codes on the raster's grid (nodata 0) with attrs ``scheme``,
        ``level`` and ``unknown_codes`` ({code: cells}); with ``return_weight`` a Dataset with
        variables ``habitat`` and ``weight`` (float32).

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> from tbpa.io import from_array
    >>> wc = from_array(np.array([[10, 50], [80, 0]], dtype="uint8"),
    ...                 transform=Affine(10, 0, 0, 0, -10, 20), crs="EPSG:32652")
    >>> reclassify(wc, "esa_worldcover").values.tolist()
    [[104, 1405], [505, 0]]
    """
    if unknown not in ("raise", "nodata"):
        raise ValidationError(f"reclassify: `unknown` must be 'raise' or 'nodata', got {unknown!r}")
    if level not in (1, 2):
        raise ValidationError(f"reclassify: `level` must be 1 or 2, got {level!r}")
    raster = _as_2d(raster)
    name = _resolve(scheme)
    comp = _compile(name, level)
    layers = _check_ancillary(ancillary, raster)

    values = np.ascontiguousarray(raster.values)
    nodata = raster.rio.nodata
    keys, key_codes = _keys(values, nodata)
    lut_h, lut_w, lut_row = _tables(comp, key_codes, nodata)

    habitat = np.take(lut_h, keys)
    report = {}
    if habitat.size and (lut_h == _SENTINEL).any():
        report = _unknown_report(values, keys, lut_h) if (habitat == _SENTINEL).any() else {}
    if report:
        listing = ", ".join(f"{c} ({n} cells)" for c, n in sorted(report.items()))
        if unknown == "raise":
            raise DataError(
                f"reclassify: raster codes not in the {name!r} crosswalk: {listing}. Check that "
                f"the scheme is right (tbpa.habitat.crosswalk({name!r}) lists its codes), declare "
                "fill values as nodata (raster.rio.write_nodata(v)), or pass unknown='nodata'"
            )
        warnings.warn(f"reclassify: codes not in the {name!r} crosswalk mapped to nodata: {listing}",
                      TbpaWarning, stacklevel=2)
        habitat[habitat == _SENTINEL] = NODATA

    weight = np.take(lut_w, keys) if (return_weight or layers) else None
    if layers and comp.has_rule.any():
        _apply_rules(comp, keys, lut_row, layers, habitat, weight)

    out = raster.copy(data=habitat).rename("habitat")
    out.attrs = {"scheme": name, "level": level, "unknown_codes": report,
                 "legend": "IUCN Habitats Classification Scheme v3.1, Jung et al. 2020 codes"}
    out = out.rio.write_nodata(NODATA, encoded=False)
    if not return_weight:
        return out
    wda = raster.copy(data=weight.astype(np.float32)).rename("weight")
    wda.attrs = {"long_name": "crosswalk weight of the chosen class", "units": "1"}
    wda = wda.rio.write_nodata(np.nan, encoded=False)
    return xr.Dataset({"habitat": out, "weight": wda}, attrs=dict(out.attrs))
