"""Protected-area polygons from WDPA, OpenStreetMap and national files, in the standard schema.

Every reader returns a GeoDataFrame with the columns of :data:`tbpa._schema.SITE_COLUMNS`
(optionally followed by the file's own columns), keeps the file's CRS (which must be
defined) and never changes the input files. Shapefile text is decoded with the encoding
rules of :mod:`tbpa.io.encoding` (explicit ``encoding=``, else ``.cpg``, else detection that
raises rather than guesses).

Paths may be a file (``.shp``, ``.gpkg``, ``.geojson``/``.json``, ``.osm``/``.osm.pbf``), a
FileGDB directory (``.gdb``), a directory of such files, or a ``.zip`` holding any of these,
including the zip-of-zips layout of WDPA shapefile downloads (``..._shp_0.zip`` ...).
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from .._schema import SITE_COLUMNS
from ..errors import (
    CRSError,
    DataError,
    EmptySelectionError,
    EncodingError,
    TbpaWarning,
    ValidationError,
    close_matches,
)
from .encoding import choose_encoding, dbf_text_values

__all__ = ["read_vector", "read_wdpa", "read_osm_protected_areas", "read_boundaries"]

_DATA_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".osm", ".pbf")
_TEXT_COLUMNS = [c for c in SITE_COLUMNS if c not in ("status_year", "reported_area_ha", "geometry")]


# =============================================================================================
# Locating datasets (files, directories, zips, zips of zips)
# =============================================================================================
@dataclass
class _Dataset:
    """One GDAL dataset: what pyogrio opens, plus raw access to shapefile side-car files."""

    gdal_path: str
    label: str  # file name shown in messages and in the ``source`` column
    opener: Callable[[str], io.BufferedIOBase | None] | None = None  # suffix -> stream
    layers: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def is_shapefile(self) -> bool:
        return self.gdal_path.lower().endswith(".shp")


def _file_opener(shp: Path) -> Callable[[str], io.BufferedIOBase | None]:
    def open_sidecar(suffix: str):
        for cand in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
            if cand.exists():
                return open(cand, "rb")
        return None

    return open_sidecar


def _zip_opener(zip_bytes_or_path, member: str) -> Callable[[str], io.BufferedIOBase | None]:
    stem = member[: -len(Path(member).suffix)]

    def open_sidecar(suffix: str):
        zf = zipfile.ZipFile(zip_bytes_or_path)
        names = {n.lower(): n for n in zf.namelist()}
        name = names.get((stem + suffix).lower())
        return zf.open(name) if name else None

    return open_sidecar


def _zip_datasets(zip_ref, vsi_prefix: str, label: str, depth: int = 0) -> list[_Dataset]:
    try:
        zf = zipfile.ZipFile(zip_ref)
    except zipfile.BadZipFile:
        raise DataError(f"{label} is not a readable zip file (truncated download?)") from None
    out: list[_Dataset] = []
    gdbs: set[str] = set()
    for name in zf.namelist():
        low = name.lower()
        if ".gdb/" in low:
            gdbs.add(name[: low.index(".gdb/") + 4])
        elif low.endswith(_DATA_SUFFIXES) and not low.endswith("/"):
            opener = _zip_opener(zip_ref, name) if low.endswith(".shp") else None
            out.append(_Dataset(f"{vsi_prefix}/{name}", f"{label}/{name}", opener))
        elif low.endswith(".zip") and depth == 0:
            inner = zf.read(name)  # nested WDPA part (a few hundred MB at most per country)
            prefix = f"/vsizip/{{{vsi_prefix}/{name}}}"
            out += _zip_datasets(io.BytesIO(inner), prefix, f"{label}/{name}", depth + 1)
    out += [_Dataset(f"{vsi_prefix}/{g}", f"{label}/{g}") for g in sorted(gdbs)]
    return out


def _datasets(path) -> list[_Dataset]:
    """Every readable dataset under *path* (see the module docstring)."""
    path = Path(os.fspath(path))
    if not path.exists():
        raise DataError(f"`path` {str(path)!r} does not exist; check the file name")
    if path.is_dir() and path.suffix.lower() == ".gdb":
        return [_Dataset(str(path), path.name)]
    if path.is_dir():
        found: list[_Dataset] = []
        for sub in sorted(path.rglob("*")):
            if any(p.suffix.lower() == ".gdb" for p in sub.parents if p != path.parent):
                continue  # files inside a FileGDB
            if sub.is_dir() and sub.suffix.lower() == ".gdb":
                found.append(_Dataset(str(sub), sub.name))
            elif sub.is_file() and sub.suffix.lower() in _DATA_SUFFIXES:
                found.append(_from_file(sub))
            elif sub.is_file() and sub.suffix.lower() == ".zip":
                found += _zip_datasets(str(sub), f"/vsizip/{{{sub}}}", sub.name)
        return found
    if path.suffix.lower() == ".zip":
        return _zip_datasets(str(path), f"/vsizip/{{{path}}}", path.name)
    return [_from_file(path)]


def _from_file(path: Path) -> _Dataset:
    opener = _file_opener(path) if path.suffix.lower() == ".shp" else None
    return _Dataset(str(path), path.name, opener)


def _all_layers(datasets: list[_Dataset]) -> list[tuple[_Dataset, str, str | None]]:
    """(dataset, layer, geometry type) for every layer; with several datasets (a directory
    or zip), files GDAL cannot open (stray .json metadata ...) are skipped with a warning."""
    out = []
    for ds in datasets:
        try:
            out += [(ds, name, geom) for name, geom in _list_layers(ds)]
        except DataError as exc:
            if len(datasets) == 1:
                raise
            warnings.warn(f"skipped {ds.label}: {exc}", TbpaWarning, stacklevel=3)
    return out


def _list_layers(ds: _Dataset) -> list[tuple[str, str | None]]:
    if not ds.layers:
        try:
            layers = pyogrio.list_layers(ds.gdal_path)
        except Exception as exc:  # GDAL's own message says what is wrong with the file
            raise DataError(f"cannot open {ds.label}: {exc}") from exc
        ds.layers = [(str(n), None if g is None else str(g)) for n, g in layers]
    return ds.layers


# =============================================================================================
# Reading one layer
# =============================================================================================
def _layer_encoding(ds: _Dataset, encoding: str | None) -> str | None:
    """Codec for a shapefile's DBF (None for formats that are UTF-8 by definition).

    ``encoding`` applies to shapefile DBFs only: GeoPackage, GeoJSON and FileGDB store
    UTF-8 text by specification, and GDAL decodes them itself.
    """
    if not ds.is_shapefile or ds.opener is None:
        return None
    dbf = ds.opener(".dbf")
    if dbf is None:
        return encoding
    with dbf:
        values = dbf_text_values(dbf)
    cpg_stream = ds.opener(".cpg")
    cpg = None
    if cpg_stream is not None:
        with cpg_stream:
            cpg = cpg_stream.read().decode("ascii", errors="replace")
    return choose_encoding(values, where=ds.label, cpg=cpg, encoding=encoding)


def _require_crs(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise CRSError(
            f"{label} has no CRS (no .prj / SRS); tbpa will not guess it. Set it after reading "
            "with gdf.set_crs(...) (e.g. 'EPSG:4326' for longitude/latitude), or add the "
            ".prj file"
        )
    return gdf


def _read(ds: _Dataset, layer: str, encoding: str | None, **kw) -> gpd.GeoDataFrame:
    kw = {k: v for k, v in kw.items() if v is not None}
    with warnings.catch_warnings():
        # pyogrio warns about e.g. measured geometries; the caller sees the real problems.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        # GeoJSON ids like "way/1" are strings, which is what we want.
        warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
        try:
            return pyogrio.read_dataframe(ds.gdal_path, layer=layer, encoding=encoding, **kw)
        except UnicodeDecodeError as exc:
            if not (ds.is_shapefile and encoding):
                raise EncodingError(f"{ds.label}: text does not decode ({exc})") from None
            # Latin-1 maps every byte to one character, so the raw bytes survive and can
            # be decoded here with the right codec (see _recode).
            raw = pyogrio.read_dataframe(ds.gdal_path, layer=layer, encoding="ISO-8859-1", **kw)
    return _recode(raw, encoding, ds.label)


def _recode(gdf: gpd.GeoDataFrame, codec: str, label: str) -> gpd.GeoDataFrame:
    """Decode Latin-1-read text with *codec*, dropping characters cut by the field width.

    Shapefile writers truncate text at the DBF field's byte width, which can split the last
    multi-byte character; GDAL/pyogrio then fail on the whole file. Only such a cut at the
    very end of a value is forgiven; any other undecodable byte raises EncodingError.
    """
    cut = 0

    def fix(value):
        nonlocal cut
        if not isinstance(value, str):
            return value
        data = value.encode("latin-1")
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.end >= len(data) and len(data) - exc.start < 4:
                cut += 1
                return data[: exc.start].decode(codec)
            raise EncodingError(
                f"{label}: bytes {data[max(0, exc.start - 8):exc.end + 8]!r} do not decode as "
                f"{codec}; the file mixes encodings or is damaged. Pass the right encoding= "
                "or repair the DBF"
            ) from None

    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(fix)
    if cut:
        warnings.warn(
            f"{label}: {cut} text value(s) end in a character cut off by the DBF field width; "
            "the partial character was dropped",
            TbpaWarning,
            stacklevel=4,
        )
    return out


def _single_layer(datasets: list[_Dataset], layer: str | None, fn: str, path) -> tuple[_Dataset, str]:
    options = [(ds, name) for ds, name, geom in _all_layers(datasets) if geom]
    if layer is not None:
        hits = [(ds, n) for ds, n in options if n == layer]
        if not hits:
            names = [n for _, n in options]
            raise DataError(
                f"{fn}: layer={layer!r} not found in {path}; layers with geometry: {names}"
                + _did_you_mean(layer, names)
            )
        return hits[0]
    if len(options) != 1:
        raise ValidationError(
            f"{fn}: {path} holds {len(options)} layers with geometry "
            f"({[n for _, n in options]}); choose one with layer=..."
        )
    return options[0]


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    hits = close_matches(name, candidates)
    return f"; did you mean {hits}?" if hits else ""


def read_vector(
    path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    columns: Sequence[str] | None = None,
    where: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer with the encoding rules of tbpa and a mandatory CRS.

    Parameters
    ----------
    path : str or path-like
        Shapefile, GeoPackage, GeoJSON, FileGDB directory, OSM file, a directory or a zip.
    layer : str, optional
        Layer name; required when the source holds more than one layer with geometry.
    encoding : str, optional
        Text encoding of a shapefile DBF (else ``.cpg``, else detected; see
        :func:`tbpa.io.detect_dbf_encoding`).
    columns : sequence of str, optional
        Attribute columns to read (default all).
    where : str, optional
        OGR SQL attribute filter, e.g. ``"ISO3 = 'RUS'"``.
    bbox : tuple of float, optional
        (minx, miny, maxx, maxy) in the layer's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer as stored (no schema mapping).

    Raises
    ------
    CRSError
        The layer has no CRS.
    EncodingError
        Shapefile text whose encoding cannot be determined or does not decode.

    Examples
    --------
    >>> gdf = read_vector("zapovedniki.shp", encoding="cp1251")  # doctest: +SKIP
    """
    datasets = _datasets(path)
    ds, name = _single_layer(datasets, layer, "read_vector", path)
    gdf = _read(ds, name, _layer_encoding(ds, encoding), columns=columns, where=where, bbox=bbox)
    return _require_crs(gdf, ds.label)


# =============================================================================================
# Schema helpers
# =============================================================================================
def _script_names(local: pd.Series, iso3: pd.Series) -> dict[str, pd.Series]:
    """Fill name_zh/ru/ko/mn from a local-language name by its script and country."""
    local = local.fillna("").astype(str)
    iso = iso3.fillna("").astype(str).str.upper()
    han = local.str.contains(r"[\u4e00-\u9fff]", regex=True)
    hangul = local.str.contains(r"[\uac00-\ud7a3]", regex=True)
    cyr = local.str.contains(r"[\u0400-\u04ff]", regex=True)
    mong = local.str.contains(r"[\u1800-\u18af]", regex=True)
    tokens = [{t.strip() for t in re.split(r"[;,]", s)} for s in iso]
    has = lambda codes: np.array([bool(t & set(codes)) for t in tokens], dtype=bool)  # noqa: E731
    return {
        "name_zh": local.where(han & has(("CHN", "TWN", "HKG", "MAC")), ""),
        "name_ko": local.where(hangul, ""),
        "name_ru": local.where(cyr & has(("RUS",)), ""),
        "name_mn": local.where((cyr & has(("MNG",))) | mong, ""),
    }


def _finish(df: pd.DataFrame, geometry, crs, extra: pd.DataFrame | None) -> gpd.GeoDataFrame:
    out = pd.DataFrame(index=df.index)
    for col in SITE_COLUMNS[:-1]:
        if col in df:
            out[col] = df[col]
        elif col in ("status_year", "reported_area_ha"):
            out[col] = np.nan
        else:
            out[col] = ""
    for col in _TEXT_COLUMNS:
        out[col] = out[col].fillna("").astype(str)
    out["status_year"] = pd.to_numeric(out["status_year"], errors="coerce").astype("Int64")
    out["reported_area_ha"] = pd.to_numeric(out["reported_area_ha"], errors="coerce").astype(float)
    for col in df.columns:  # private helper columns (e.g. WDPA_PID) ride along
        if col.startswith("_"):
            out[col] = df[col]
    if extra is not None:
        extra = extra.drop(columns=[c for c in extra.columns if c in out.columns or c == "geometry"])
        out = pd.concat([out, extra], axis=1)
    gdf = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, index=df.index, crs=crs), crs=crs)
    return gdf.reset_index(drop=True)


def _year(values: pd.Series) -> pd.Series:
    """Four-digit year from numbers or date strings ('1997', '1997-12-10'); 0 -> missing."""
    text = values.astype("string").str.extract(r"(\d{4})", expand=False)
    years = pd.to_numeric(text, errors="coerce")
    return years.where(years > 0).astype("Int64")


# =============================================================================================
# WDPA
# =============================================================================================
_WDPA_REQUIRED = ["WDPAID", "NAME", "ORIG_NAME", "DESIG_ENG", "IUCN_CAT", "ISO3", "REP_AREA", "STATUS_YR"]
_BUFFER_QUAD_SEGS = 16  # 64-gon circles


def _as_list(value) -> list | None:
    if value is None:
        return None
    if isinstance(value, (str, int, np.integer, float)):
        return [value]
    return list(value)


def _norm(text) -> str:
    return " ".join(str(text).split()).casefold()


def _parent_col(columns) -> str | None:
    # Shapefiles truncate field names to 10 characters: PARENT_ISO3 -> PARENT_ISO.
    return next((c for c in ("PARENT_ISO3", "PARENT_ISO") if c in columns), None)


def _iso3_where(codes: list[str], fields: Sequence[str]) -> str | None:
    cols = [c for c in ("ISO3", _parent_col(fields)) if c and c in fields]
    if not cols:
        return None
    terms = [f"{c} LIKE '%{code}%'" for code in codes for c in cols]
    return " OR ".join(terms)


def _iso_match(series: pd.Series, codes: list[str]) -> pd.Series:
    wanted = {c.upper() for c in codes}
    hits = [bool(wanted & {t.strip().upper() for t in re.split(r"[;,]", str(s))})
            for s in series.fillna("")]
    return pd.Series(np.array(hits, dtype=bool), index=series.index)


def _wdpa_layers(datasets: list[_Dataset], layer, path) -> list[tuple[_Dataset, str, list[str]]]:
    wanted = _as_list(layer)
    found, seen = [], []
    for ds, name, geom in _all_layers(datasets):
        if not geom:
            continue  # e.g. the WDPA_source table of the FileGDB
        seen.append(name)
        if wanted is not None and name not in wanted:
            continue
        fields = list(pyogrio.read_info(ds.gdal_path, layer=name)["fields"])
        if "WDPAID" in fields:
            found.append((ds, name, fields))
    if wanted is not None:
        missing = [w for w in wanted if w not in seen]
        if missing:
            raise DataError(
                f"read_wdpa: layer(s) {missing} not found in {path}; layers: {seen}"
                + _did_you_mean(str(missing[0]), seen)
            )
    if not found:
        raise DataError(
            f"read_wdpa: no WDPA layer (a layer with a WDPAID field) in {path}; layers found: "
            f"{seen}. Is this a WDPA download from protectedplanet.net?"
        )
    return found


def _wdpa_filter(attrs: pd.DataFrame, iso3, names, wdpaids) -> pd.Series:
    keep = pd.Series(True, index=attrs.index)
    if iso3 is not None:
        match = _iso_match(attrs["ISO3"], iso3)
        parent = _parent_col(attrs.columns)
        if parent:
            match |= _iso_match(attrs[parent], iso3)
        keep &= match
    if names is not None:
        wanted = {_norm(n) for n in names}
        in_name = np.array([_norm(v) in wanted for v in attrs["NAME"].fillna("")], dtype=bool)
        in_orig = np.array([_norm(v) in wanted for v in attrs["ORIG_NAME"].fillna("")], dtype=bool)
        keep &= in_name | in_orig
    if wdpaids is not None:
        ids = pd.to_numeric(attrs["WDPAID"], errors="coerce")
        keep &= ids.isin([float(i) for i in wdpaids])
    return keep


def _laea_pipeline(lon0: float, lat0: float) -> Transformer:
    """Degrees -> Lambert azimuthal equal-area metres centred on (lon0, lat0).

    The same projection as :func:`tbpa.crs.equal_area_crs` (LAEA, WGS 84 ellipsoid), built
    as a PROJ pipeline because that takes ~0.1 ms instead of ~15 ms for a CRS-to-CRS
    transformer, which matters with thousands of WDPA points.
    """
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +ellps=WGS84"
    )


def _buffer_points(geoms: gpd.GeoSeries, area_km2: np.ndarray) -> np.ndarray:
    """Circles of *area_km2* around each point, computed in a local equal-area CRS.

    A 64-gon inscribed in a circle of radius r has area (n/2) r^2 sin(2 pi / n), so r is
    enlarged to make the polygon, not the ideal circle, carry the reported area. Points
    are grouped by 1-degree cell and projected to a Lambert azimuthal equal-area CRS
    centred on the cell (equal-area everywhere; near its centre also nearly conformal, so
    the circle stays round). A MultiPoint gets one circle per part, sharing the area.
    """
    n = 4 * _BUFFER_QUAD_SEGS
    geoms = geoms.reset_index(drop=True)
    src = CRS.from_user_input(geoms.crs)
    geographic = src.equals(CRS.from_epsg(4326), ignore_axis_order=True)
    to_ll = None if geographic else Transformer.from_crs(src, 4326, always_xy=True)
    part_geoms, owner = shapely.get_parts(geoms.values, return_index=True)
    n_parts = np.bincount(owner, minlength=len(geoms))
    area_m2 = np.asarray(area_km2, dtype=float)[owner] * 1e6 / n_parts[owner]
    radius = np.sqrt(2.0 * area_m2 / (n * np.sin(2.0 * np.pi / n)))
    lon, lat = shapely.get_x(part_geoms), shapely.get_y(part_geoms)
    if to_ll is not None:
        lon, lat = to_ll.transform(lon, lat)
    circles = np.empty(len(part_geoms), dtype=object)
    cells = np.floor(lon).astype(int) * 1000 + np.floor(lat).astype(int)
    for cell in np.unique(cells):
        sel = np.flatnonzero(cells == cell)
        laea = _laea_pipeline(np.floor(lon[sel[0]]) + 0.5, np.floor(lat[sel[0]]) + 0.5)
        px, py = laea.transform(lon[sel], lat[sel])
        disc = shapely.buffer(shapely.points(px, py), radius[sel], quad_segs=_BUFFER_QUAD_SEGS)
        circles[sel] = shapely.transform(
            disc, lambda c: np.column_stack(laea.transform(c[:, 0], c[:, 1], direction="INVERSE"))
        )
    if to_ll is not None:
        back = Transformer.from_crs(4326, src, always_xy=True)
        circles = shapely.transform(circles, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
    if len(owner) == len(geoms):  # the usual case: one point per site
        return circles
    merged = np.empty(len(geoms), dtype=object)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(len(geoms) + 1))
    for i in range(len(geoms)):
        own = circles[order[bounds[i] : bounds[i + 1]]]
        merged[i] = own[0] if len(own) == 1 else shapely.union_all(own)
    return merged


def _wdpa_schema(df: pd.DataFrame, geometry, crs, label: str, quality: str, keep_columns: bool):
    parent = _parent_col(df.columns)
    iso3 = df["ISO3"].fillna("").astype(str)
    if parent:
        iso3 = iso3.where(iso3.str.strip() != "", df[parent].fillna("").astype(str))
    orig = df["ORIG_NAME"].fillna("").astype(str)
    name = df["NAME"].fillna("").astype(str)
    local = orig.where(orig.str.strip() != "", name)
    rep = pd.to_numeric(df["REP_AREA"], errors="coerce")
    ids = pd.to_numeric(df["WDPAID"], errors="coerce")
    std = pd.DataFrame(
        {
            "site_id": ["WDPA:" + (f"{int(i)}" if np.isfinite(i) else "?") for i in ids],
            "name_en": name,
            "name_local": local,
            **_script_names(local, iso3),
            "iso3": iso3,
            "designation": df["DESIG_ENG"],
            "iucn_cat": df["IUCN_CAT"],
            "status_year": _year(df["STATUS_YR"]),
            # WDPA writes 0 where no area was reported: missing, not zero.
            "reported_area_ha": (rep * 100.0).where(rep > 0),
            "source": f"WDPA {label}",
            "geometry_quality": quality,
        },
        index=df.index,
    )
    if "WDPA_PID" in df:
        std["_pid"] = df["WDPA_PID"].astype(str)
    extra = df.drop(columns="geometry", errors="ignore") if keep_columns else None
    return std, geometry, crs, extra


def read_wdpa(
    path,
    *,
    iso3: str | Sequence[str] | None = None,
    names: str | Sequence[str] | None = None,
    wdpaids: int | Sequence[int] | None = None,
    layer: str | Sequence[str] | None = None,
    keep_columns: bool = False,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a World Database on Protected Areas download in the standard site schema.

    Parameters
    ----------
    path : str or path-like
        A WDPA download as distributed by protectedplanet.net: shapefile zip (including the
        zip of ``_shp_0/1/2.zip`` parts), FileGDB (``.gdb`` or zipped), GeoPackage, GeoJSON,
        or an unzipped directory. Polygon and point layers are both read.
    iso3 : str or sequence of str, optional
        Keep sites whose ``ISO3`` or ``PARENT_ISO3`` holds one of these codes (``ISO3`` may
        hold several, e.g. ``"CHN;RUS"``).
    names : str or sequence of str, optional
        Keep sites whose ``NAME`` or ``ORIG_NAME`` equals one of these, ignoring case and
        repeated spaces.
    wdpaids : int or sequence of int, optional
        Keep these WDPA ids.
    layer : str or sequence of str, optional
        Read only these layers (default: every layer with a ``WDPAID`` field).
    keep_columns : bool, default False
        Append the original WDPA columns after the standard ones.
    encoding : str, optional
        Shapefile DBF encoding override (WDPA ships UTF-8 with a ``.cpg``).

    Returns
    -------
    geopandas.GeoDataFrame
        Standard schema, in the file's CRS (EPSG:4326 for WDPA). ``site_id`` is
        ``"WDPA:<WDPAID>"`` (``"WDPA:<WDPA_PID>"`` when a WDPAID has several parcels),
        ``reported_area_ha = REP_AREA * 100`` (missing where WDPA reports 0),
        ``geometry_quality`` is ``"wdpa"`` for polygons and ``"buffered_point"`` for points,
        which are replaced by a circle of area ``REP_AREA`` built in a local equal-area CRS.
        Points without a reported area cannot be drawn; they are left out with a
        :class:`~tbpa.errors.TbpaWarning` and listed in ``result.attrs["points_without_area"]``.

    Raises
    ------
    EmptySelectionError
        Nothing matches the filters (the message names them and offers close names or the
        ISO3 codes present).
    DataError
        No WDPA layer in *path*, or required WDPA fields missing.

    Examples
    --------
    >>> sites = read_wdpa("WDPA_Nov2024_Public_RUS_shp.zip", iso3="RUS",
    ...                   names=["Kedrovaya Pad", "Zemlya Leoparda"])  # doctest: +SKIP
    >>> sites[["site_id", "name_en", "iucn_cat", "reported_area_ha"]]  # doctest: +SKIP
    """
    iso3, names, wdpaids = _as_list(iso3), _as_list(names), _as_list(wdpaids)
    bad_iso = [c for c in iso3 or [] if not re.fullmatch(r"[A-Za-z]{3}", str(c))]
    if bad_iso:
        raise ValidationError(
            f"read_wdpa: `iso3` must hold ISO 3166-1 alpha-3 codes such as 'RUS' or 'CHN', "
            f"got {bad_iso}"
        )
    try:
        wdpaids = None if wdpaids is None else [int(i) for i in wdpaids]
    except (TypeError, ValueError):
        raise ValidationError(f"read_wdpa: `wdpaids` must be integers, got {wdpaids!r}") from None
    path_label = Path(os.fspath(path)).name
    parts, no_area, crs = [], [], None
    filtered = any(v is not None for v in (iso3, names, wdpaids))
    for ds, name, fields in _wdpa_layers(_datasets(path), layer, path):
        missing = [c for c in _WDPA_REQUIRED if c not in fields]
        if missing:
            raise DataError(
                f"read_wdpa: layer {name!r} of {ds.label} lacks the WDPA fields {missing} "
                f"(has {fields}); for other layouts use read_boundaries(path, mapping=...)"
            )
        enc = _layer_encoding(ds, encoding)
        where = _iso3_where([str(c) for c in iso3], fields) if iso3 else None
        if filtered:  # attributes first, geometry only for the selected features
            attrs = _read(ds, name, enc, read_geometry=False, where=where, fid_as_index=True)
            attrs = attrs[_wdpa_filter(attrs, iso3, names, wdpaids).to_numpy()]
            if attrs.empty:
                continue
            geo = _read(ds, name, enc, columns=[], fids=attrs.index.to_numpy(), fid_as_index=True)
            gdf = gpd.GeoDataFrame(attrs, geometry=geo.geometry.reindex(attrs.index), crs=geo.crs)
        else:
            gdf = _read(ds, name, enc)
        if gdf.empty:
            continue
        _require_crs(gdf, ds.label)
        crs = gdf.crs if crs is None else crs
        gdf = gdf.to_crs(crs) if not CRS.from_user_input(gdf.crs).equals(crs) else gdf
        kinds = shapely.get_type_id(gdf.geometry.values)
        points = np.isin(kinds, (0, 4))  # Point, MultiPoint
        if points.any():
            pts = gdf[points]
            area = pd.to_numeric(pts["REP_AREA"], errors="coerce").to_numpy()
            bad = ~(area > 0)
            if bad.any():
                no_area.append(pts.loc[bad, ["WDPAID", "NAME", "ISO3"]].assign(layer=name))
            good = pts[~bad]
            if len(good):
                circles = _buffer_points(good.geometry, area[~bad])
                parts.append(_wdpa_schema(good, circles, crs, path_label, "buffered_point", keep_columns))
        polys = gdf[~points]
        if len(polys):
            parts.append(_wdpa_schema(polys, polys.geometry.values, crs, path_label, "wdpa", keep_columns))
    if no_area:
        table = pd.concat(no_area, ignore_index=True)
        warnings.warn(
            f"read_wdpa: {len(table)} WDPA point(s) have no reported area (REP_AREA 0 or "
            f"missing) and were left out (WDPAIDs {[int(float(i)) for i in table['WDPAID'].tolist()[:20]]}); they are "
            "listed in result.attrs['points_without_area']",
            TbpaWarning,
            stacklevel=2,
        )
    if not parts:
        raise EmptySelectionError(_wdpa_empty_message(path, iso3, names, wdpaids, layer, encoding))
    frames = [_finish(std, geom, c, extra) for std, geom, c, extra in parts]
    result = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    result = _unique_wdpa_ids(result)
    result.attrs["points_without_area"] = (
        pd.concat(no_area, ignore_index=True) if no_area else pd.DataFrame(columns=["WDPAID", "NAME", "ISO3", "layer"])
    )
    return result


def _unique_wdpa_ids(result: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Use WDPA_PID for WDPAIDs split into several parcels, so site_id stays unique."""
    pid = result.pop("_pid") if "_pid" in result else None
    dup = result["site_id"].duplicated(keep=False)
    if dup.any() and pid is not None:
        result.loc[dup, "site_id"] = "WDPA:" + pid[dup].astype(str)
    return result


def _wdpa_empty_message(path, iso3, names, wdpaids, layer, encoding) -> str:
    filters = ", ".join(
        f"{k}={v!r}" for k, v in (("iso3", iso3), ("names", names), ("wdpaids", wdpaids)) if v is not None
    ) or "no filters"
    hint = ""
    try:  # an attribute-only pass to say what *is* there
        frames = []
        for ds, name, fields in _wdpa_layers(_datasets(path), layer, path):
            cols = [c for c in ("NAME", "ORIG_NAME", "ISO3") if c in fields]
            frames.append(_read(ds, name, _layer_encoding(ds, encoding), read_geometry=False, columns=cols))
        attrs = pd.concat(frames, ignore_index=True)
        if iso3 is not None:
            codes = sorted({t for s in attrs["ISO3"].dropna() for t in re.split(r"[;,]", str(s)) if t})
            if not _iso_match(attrs["ISO3"], iso3).any():
                hint += f"; ISO3 codes present: {codes[:40]}"
            else:
                attrs = attrs[_iso_match(attrs["ISO3"], iso3)]
        if names is not None:
            pool = pd.concat([attrs["NAME"], attrs.get("ORIG_NAME", pd.Series(dtype=str))]).dropna().astype(str)
            close = sorted({m for n in names for m in close_matches(n, pool.unique())})
            hint += f"; close names: {close}" if close else "; no close names"
    except Exception:  # the hint is a courtesy; never hide the real error behind it
        pass
    return f"read_wdpa: no site in {path} matches {filters}{hint}"


# =============================================================================================
# OpenStreetMap
# =============================================================================================
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>(?:"((?:[^"\\]|\\.)*)"|NULL)')
_OSM_META = {"osm_id", "osm_way_id", "other_tags", "tags", "geometry", "@id", "id", "@type", "type_"}
# ISO 3166-1 alpha-2 -> alpha-3 for North-East Asia and its neighbours (addr:country and
# is_in:country_code hold alpha-2); other codes are kept as given.
_ALPHA2 = {
    "CN": "CHN", "RU": "RUS", "MN": "MNG", "KP": "PRK", "KR": "KOR", "JP": "JPN",
    "KZ": "KAZ", "TW": "TWN", "HK": "HKG", "MO": "MAC",
}
_PROTECT_CLASS_IUCN = {"1a": "Ia", "1b": "Ib", "1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI"}


def parse_hstore(text) -> dict[str, str]:
    """Parse GDAL's ``other_tags`` string (``"k"=>"v","k2"=>"v2"``) into a dict."""
    if not isinstance(text, str) or not text:
        return {}
    unescape = lambda s: re.sub(r"\\(.)", r"\1", s)  # noqa: E731
    return {unescape(k): unescape(v) for k, v in _HSTORE.findall(text)}


def _missing(value) -> bool:
    return value is None or (np.ndim(value) == 0 and bool(pd.isna(value)))


def _row_tags(df: pd.DataFrame) -> list[dict[str, str]]:
    cols = [c for c in df.columns if c not in _OSM_META]
    tags = []
    records = df[cols].to_dict("records")
    other = df["other_tags"] if "other_tags" in df else None
    nested = df["tags"] if "tags" in df else None
    for i, rec in enumerate(records):
        t = {k: str(v) for k, v in rec.items() if not _missing(v)}
        if other is not None:
            t.update(parse_hstore(other.iloc[i]))
        if nested is not None:
            value = nested.iloc[i]
            if isinstance(value, str) and value.strip().startswith("{"):
                value = json.loads(value)
            if isinstance(value, dict):
                t.update({str(k): str(v) for k, v in value.items()})
        tags.append(t)
    return tags


def _osm_id(row: pd.Series, fallback: str) -> str:
    for col, kind in (("osm_id", "relation"), ("osm_way_id", "way")):
        v = row.get(col)
        if v is not None and not pd.isna(v) and str(v):
            return f"OSM:{kind}/{int(float(v))}"
    for col in ("@id", "id"):
        v = row.get(col)
        if v is None or pd.isna(v):
            continue
        text = str(v)
        m = re.fullmatch(r"(node|way|relation)/(\d+)", text) or re.fullmatch(r"([nwr])(\d+)", text)
        if m:
            kind = {"n": "node", "w": "way", "r": "relation"}.get(m.group(1), m.group(1))
            return f"OSM:{kind}/{m.group(2)}"
        for type_col in ("@type", "type"):  # osmium --attributes / old osmtogeojson
            typ = row.get(type_col)
            if typ in ("node", "way", "relation") and re.fullmatch(r"\d+(\.0)?", text):
                return f"OSM:{typ}/{int(float(text))}"
    return fallback


def _is_protected(tags: dict[str, str]) -> bool:
    return (
        tags.get("boundary") in ("protected_area", "national_park")
        or tags.get("leisure") == "nature_reserve"
    )


def read_osm_protected_areas(path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Protected areas from an OpenStreetMap extract, in the standard site schema.

    Parameters
    ----------
    path : str or path-like
        GeoJSON exported from Overpass (osmtogeojson) or ``osmium export``, or an
        ``.osm.pbf`` / ``.osm`` file read through GDAL's OSM driver (its ``multipolygons``
        layer; tags outside the driver's default columns are parsed from ``other_tags``).
    layer : str, optional
        Layer to read (default ``multipolygons`` for OSM files, the only layer otherwise).

    Returns
    -------
    geopandas.GeoDataFrame
        Areas tagged ``boundary=protected_area``, ``boundary=national_park`` or
        ``leisure=nature_reserve``. ``name_local`` is ``name``; ``name_en`` is ``name:en``
        (else ``name``); ``name_zh/ru/ko/mn`` from ``name:xx``; ``iucn_cat`` from
        ``protect_class`` 1a-6 (IUCN Ia-VI; other classes are not IUCN categories and stay
        empty); ``designation`` from ``protection_title``; ``status_year`` from
        ``start_date``; ``iso3`` from ``addr:country`` / ``is_in:country_code``;
        ``geometry_quality = "osm"``; no reported area (missing). Points and lines tagged as
        reserves are skipped with a warning (they have no area).

    Raises
    ------
    EmptySelectionError
        No protected area in the file.
    CRSError
        The file has no CRS.

    Examples
    --------
    >>> pas = read_osm_protected_areas("primorsky-krai-latest.osm.pbf")  # doctest: +SKIP
    """
    datasets = _datasets(path)
    is_osm = any(ds.gdal_path.lower().endswith((".osm", ".pbf")) for ds in datasets)
    if is_osm and layer is None:
        layer = "multipolygons"
    ds, name = _single_layer(datasets, layer, "read_osm_protected_areas", path)
    where = None
    if is_osm:  # the driver exposes boundary and leisure as columns: filter inside GDAL
        where = "boundary IN ('protected_area', 'national_park') OR leisure = 'nature_reserve'"
    gdf = _require_crs(_read(ds, name, None, where=where), ds.label)
    tags = _row_tags(gdf)
    keep = np.array([_is_protected(t) for t in tags], dtype=bool)
    polygonal = np.isin(shapely.get_type_id(gdf.geometry.values), (3, 6))
    skipped = int((keep & ~polygonal).sum())
    if skipped:
        warnings.warn(
            f"read_osm_protected_areas: {skipped} protected-area feature(s) in {ds.label} are "
            "points or lines (no area) and were skipped",
            TbpaWarning,
            stacklevel=2,
        )
    keep &= polygonal
    if not keep.any():
        raise EmptySelectionError(
            f"read_osm_protected_areas: no area tagged boundary=protected_area, "
            f"boundary=national_park or leisure=nature_reserve in {path} ({len(gdf)} features "
            "read); check the extract covers the region and kept those tags"
        )
    sel = gdf[keep]
    tags = [t for t, k in zip(tags, keep) if k]
    label = Path(os.fspath(path)).name
    get = lambda key: pd.Series([t.get(key, "") for t in tags], index=sel.index)  # noqa: E731
    country = get("addr:country").where(get("addr:country") != "", get("is_in:country_code"))
    iso3 = country.str.upper().map(lambda c: _ALPHA2.get(c, c))
    name_local = get("name")
    name_en = get("name:en").where(get("name:en") != "", name_local)
    std = pd.DataFrame(
        {
            "site_id": [_osm_id(row, f"OSM:{label}:{i}") for i, (_, row) in enumerate(sel.iterrows())],
            "name_en": name_en,
            "name_local": name_local,
            "name_zh": get("name:zh"),
            "name_ru": get("name:ru"),
            "name_ko": get("name:ko"),
            "name_mn": get("name:mn"),
            "iso3": iso3,
            "designation": get("protection_title"),
            "iucn_cat": get("protect_class").str.lower().map(_PROTECT_CLASS_IUCN).fillna(""),
            "status_year": _year(get("start_date")),
            "source": f"OSM {label}",
            "geometry_quality": "osm",
        },
        index=sel.index,
    )
    return _finish(std, sel.geometry.values, sel.crs, None)


# =============================================================================================
# National files
# =============================================================================================
def _repair(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Make invalid geometries valid (keeping their polygonal parts) and say how many."""
    geoms = gdf.geometry.values
    present = ~shapely.is_missing(np.asarray(geoms))
    invalid = present & ~shapely.is_valid(np.asarray(geoms))
    n_missing = int((~present).sum())
    if n_missing:
        warnings.warn(f"read_boundaries: {n_missing} feature(s) of {label} have no geometry; "
                      "kept with an empty geometry", TbpaWarning, stacklevel=3)
    if not invalid.any():
        return gdf
    fixed = np.asarray(geoms).copy()
    try:  # shapely >= 2.1: polygon in, polygon out (collapsed parts removed)
        repaired = shapely.make_valid(fixed[invalid], method="structure", keep_collapsed=False)
    except TypeError:
        repaired = shapely.make_valid(fixed[invalid])
    # "linework" repair can return a collection with stray lines: keep the polygonal parts.
    repaired = np.array([_polygonal(g) for g in repaired], dtype=object)
    fixed[invalid] = repaired
    emptied = int(shapely.is_empty(repaired).sum())
    warnings.warn(
        f"read_boundaries: {int(invalid.sum())} invalid geometr{'y' if invalid.sum() == 1 else 'ies'} "
        f"in {label} repaired with shapely.make_valid"
        + (f"; {emptied} had no area left and are kept as empty geometries" if emptied else ""),
        TbpaWarning,
        stacklevel=3,
    )
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
    return out


def _polygonal(geom):
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        return shapely.Polygon()
    return shapely.union_all(polys)


def read_boundaries(
    path,
    *,
    mapping: dict[str, str],
    encoding: str | None = None,
    layer: str | None = None,
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a national protected-area file into the standard schema with a column mapping.

    Parameters
    ----------
    path : str or path-like
        Any format :func:`read_vector` reads.
    mapping : dict
        Standard column -> file column, e.g. ``{"name_local": "NAME_RU", "designation":
        "CATEGORY", "status_year": "YEAR"}``. Unmapped standard columns are left empty;
        ``site_id`` defaults to ``"<file stem>:<row>"``.
    encoding : str, optional
        Shapefile DBF encoding (else ``.cpg``, else detected; undecodable text raises).
    layer : str, optional
        Layer name for multi-layer sources.
    source : str, optional
        Text for the ``source`` column (default: the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        Standard schema, file CRS, ``geometry_quality = "national"`` unless mapped.
        Invalid geometries are repaired with ``shapely.make_valid`` (a
        :class:`~tbpa.errors.TbpaWarning` gives the count); none is dropped.

    Raises
    ------
    ValidationError
        *mapping* has keys that are not standard columns.
    DataError
        *mapping* names columns the file does not have.
    CRSError
        The file has no CRS.
    EncodingError
        The text encoding cannot be determined or *encoding* does not decode it.

    Examples
    --------
    >>> zap = read_boundaries("oopt_primorye.shp", encoding="cp1251",
    ...                       mapping={"name_local": "NAME", "designation": "CATEGORY"})  # doctest: +SKIP
    """
    allowed = [c for c in SITE_COLUMNS if c != "geometry"]
    if not isinstance(mapping, dict):
        raise ValidationError(f"read_boundaries: `mapping` must be a dict standard->file column, got {type(mapping).__name__}")
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        hints = "".join(_did_you_mean(k, allowed) for k in unknown)
        raise ValidationError(
            f"read_boundaries: `mapping` keys {unknown} are not standard columns; the schema "
            f"is {allowed}{hints}"
        )
    gdf = read_vector(path, layer=layer, encoding=encoding)
    missing = [v for v in mapping.values() if v not in gdf.columns]
    if missing:
        hints = "".join(_did_you_mean(v, gdf.columns) for v in missing)
        raise DataError(
            f"read_boundaries: `mapping` refers to columns {missing} that {Path(os.fspath(path)).name} "
            f"lacks; its columns are {[c for c in gdf.columns if c != 'geometry']}{hints}"
        )
    label = Path(os.fspath(path)).name
    gdf = _repair(gdf, label)
    std = pd.DataFrame({k: gdf[v] for k, v in mapping.items()}, index=gdf.index)
    if "site_id" not in std:
        std["site_id"] = [f"{Path(label).stem}:{i}" for i in range(len(gdf))]
    if "source" not in std:
        std["source"] = source or label
    if "geometry_quality" not in std:
        std["geometry_quality"] = "national"
    if "status_year" in std:
        std["status_year"] = _year(std["status_year"])
    if "name_local" in std and "iso3" in std:
        for col, values in _script_names(std["name_local"], std["iso3"]).items():
            if col not in std:
                std[col] = values
    return _finish(std, gdf.geometry.values, gdf.crs, None)
