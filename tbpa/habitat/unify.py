"""Unify national land-cover maps into one habitat map on one equal-area grid.

Each national raster keeps its own CRS, resolution and scheme until here. :func:`unify`
reclassifies it to the unified legend, resamples it categorically onto the common grid and
keeps it only inside its own country. Categorical resampling never interpolates codes: each
class's indicator is averaged onto the target cell (GDAL ``average``, area-weighted, nodata
ignored), giving the fraction of the cell's valid area in that class; the class with the
largest fraction wins (first class on ties, codes ascending).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import xarray as xr
from affine import Affine
from pyproj import CRS

from .._data import data_path
from .._geom import footprint
from ..crs import equal_area_crs, require_projected_crs
from ..errors import (
    CRSError,
    DataError,
    EmptySelectionError,
    UnknownNameError,
    ValidationError,
    close_matches,
)
from ..options import resolve_progress
from .crosswalks import _as_2d, reclassify
from .legend import NODATA

__all__ = ["unify", "embedded_inputs", "load_modis", "LANDSCAPES"]

#: Landscapes with embedded synthetic national samples -> lon/lat frame of the samples.
LANDSCAPES = {
    "land_of_big_cats": (129.4, 42.15, 132.05, 45.05),
    "tumen_estuary": (129.9, 42.05, 131.3, 43.05),
}
_ISO3_COLUMNS = ("iso3", "ISO3", "iso_a3", "ISO_A3", "adm0_a3", "ADM0_A3")


# -- embedded data -------------------------------------------------------------------------
def load_modis(bbox=None) -> xr.DataArray:
    """The embedded MODIS MCD12C1 2019 IGBP land cover of North-East Asia (0.05 degree).

    Parameters
    ----------
    bbox : (minlon, minlat, maxlon, maxlat), optional
        Clip to this box (degrees); default the whole clip (84-143 E, 37-57 N).

    Returns
    -------
    xarray.DataArray
        ``uint8`` IGBP codes (0 water incl. sea, 1-16 classes, 255 fill = nodata) in
        EPSG:4326; reclassify with scheme ``"modis_igbp"``. Provenance in
        ``data/habitat/README.md``.

    Examples
    --------
    >>> lc = load_modis((130.0, 42.0, 132.0, 44.0))
    >>> lc.shape
    (40, 40)
    """
    import rioxarray

    path = data_path("habitat", "modis_mcd12c1_2019_igbp.tif")
    da = rioxarray.open_rasterio(path, masked=False).squeeze("band", drop=True).load()
    da.name = "igbp"
    if bbox is None:
        return da
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not (minx < maxx and miny < maxy):
        raise ValidationError(f"load_modis: `bbox` must be (minlon, minlat, maxlon, maxlat), got {bbox!r}")
    if maxx <= 84 or minx >= 143 or maxy <= 37 or miny >= 57:
        raise EmptySelectionError(
            f"load_modis: `bbox` {bbox!r} lies outside the embedded clip (84-143 E, 37-57 N)"
        )
    # cells whose centres fall inside the box (y runs north to south)
    return da.sel(x=slice(minx, maxx), y=slice(maxy, miny))


def embedded_inputs(landscape_name: str) -> dict:
    """The embedded SYNTHETIC national land-cover samples of a landscape, ready for :func:`unify`.

    Parameters
    ----------
    landscape_name : str
        ``"land_of_big_cats"`` or ``"tumen_estuary"``.

    Returns
    -------
    dict
        ``{ISO3: (DataArray, scheme)}``: China in CLCD codes (Albers, 250 m), Russia in
        TerraNorte codes (UTM 52N, 300 m), DPRK in ESA WorldCover codes (EPSG:4326,
        0.0025 degree). Synthetic: derived from MODIS by ``tools/embedded_habitat.py``.

    Examples
    --------
    >>> sorted(embedded_inputs("tumen_estuary"))
    ['CHN', 'PRK', 'RUS']
    """
    from ..io import read_raster

    if landscape_name not in LANDSCAPES:
        hints = close_matches(str(landscape_name), LANDSCAPES)
        hint = f" Did you mean {', '.join(map(repr, hints))}?" if hints else ""
        raise UnknownNameError(
            f"embedded_inputs: no embedded land-cover samples for {landscape_name!r}.{hint} "
            f"Available: {', '.join(LANDSCAPES)}"
        )
    out = {}
    for path in sorted(Path(data_path("habitat")).glob(f"synthetic_*_{landscape_name}.tif")):
        da = read_raster(path, masked=False)
        iso3, scheme = da.attrs["TBPA_COUNTRY"], da.attrs["TBPA_SCHEME"]
        da.name = f"{iso3.lower()}_{scheme}"
        out[iso3] = (da, scheme)
    if not out:
        raise DataError(f"embedded_inputs: sample files for {landscape_name!r} are missing; "
                        "rebuild them with python tools/embedded_habitat.py")
    return out


# -- unify ---------------------------------------------------------------------------------
def _iso3_column(countries) -> str:
    if not isinstance(countries, (gpd.GeoDataFrame,)):
        raise ValidationError(
            "unify: `countries` must be a GeoDataFrame of country polygons with an ISO3 column, "
            "e.g. tbpa.sites.load_countries()"
        )
    if countries.crs is None:
        raise CRSError("unify: `countries` has no CRS; set it, e.g. countries.set_crs(4326)")
    for col in _ISO3_COLUMNS:
        if col in countries.columns:
            return col
    raise ValidationError(
        f"unify: `countries` needs an ISO3 column (one of {', '.join(_ISO3_COLUMNS)}); "
        f"it has {list(countries.columns)}"
    )


def _footprint(raster):
    """Raster footprint polygon (densified edges) as a GeoSeries in the raster CRS."""
    return footprint(raster.rio.bounds(), raster.rio.crs)


def _check_inputs(inputs, countries, col):
    if not isinstance(inputs, dict) or not inputs:
        raise ValidationError(
            "unify: `inputs` must be a non-empty dict {ISO3: (raster, scheme)}, e.g. "
            "tbpa.habitat.embedded_inputs('tumen_estuary')"
        )
    have = set(countries[col].astype(str))
    parts = {}
    for iso3, pair in inputs.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValidationError(f"unify: inputs[{iso3!r}] must be a (raster, scheme) tuple")
        if iso3 not in have:
            hints = close_matches(iso3, have)
            hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
            raise DataError(
                f"unify: inputs has country {iso3!r} but `countries` has no row with {col} == "
                f"{iso3!r}{hint}; add its polygon, e.g. countries=tbpa.sites.load_countries("
                f"{sorted(inputs)!r})"
            )
        raster = _as_2d(pair[0], "unify")
        geom = countries.loc[countries[col].astype(str) == iso3].to_crs(4326).union_all()
        foot = _footprint(raster).to_crs(4326).iloc[0]
        part = foot.intersection(geom)
        if part.is_empty:
            raise DataError(
                f"unify: the raster for {iso3!r} (bounds {tuple(round(v, 3) for v in raster.rio.bounds())} "
                f"in {raster.rio.crs}) does not overlap the {iso3!r} polygon; check the ISO3 key "
                "and the raster's CRS (raster.rio.write_crs(...) if it is wrong)"
            )
        parts[iso3] = (raster, pair[1], part)
    return parts


def _target_grid(parts, countries, col, crs, resolution):
    """CRS, transform and shape covering every raster footprint inside its own country, and
    the countries of *parts* in that CRS (reprojected once, for the grid and the mosaic)."""
    if crs is None:
        crs = equal_area_crs(gpd.GeoSeries([p[2] for p in parts.values()], crs=4326))
    crs = require_projected_crs(crs, "crs")
    own = countries.loc[countries[col].astype(str).isin(list(parts))].to_crs(crs)
    pieces = []
    for iso3, (raster, _, _) in parts.items():
        # intersect in the target CRS itself: a detour through degrees would pad the grid
        foot = _footprint(raster).to_crs(crs).iloc[0]
        geom = own.loc[own[col].astype(str) == iso3].geometry
        pieces.append(foot.intersection(geom.buffer(0).union_all()))
    minx, miny, maxx, maxy = gpd.GeoSeries(pieces, crs=crs).total_bounds
    r = float(resolution)
    eps = 1e-9  # bounds that sit on the grid must not grow by a cell through rounding noise
    minx, miny = np.floor(minx / r + eps) * r, np.floor(miny / r + eps) * r
    maxx, maxy = np.ceil(maxx / r - eps) * r, np.ceil(maxy / r - eps) * r
    shape = (int(round((maxy - miny) / r)), int(round((maxx - minx) / r)))
    return crs, Affine(r, 0, minx, 0, -r, maxy), shape, own


def _resample_classes(hab, weight, dst_crs, dst_transform, shape):
    """Majority-of-fractions resampling: (codes, confidence) on the target grid."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    src = hab.values
    valid = src != NODATA
    classes = np.unique(src[valid])
    best = np.zeros(shape, dtype=np.uint16)
    best_frac = np.full(shape, -1.0, dtype=np.float32)
    confidence = np.full(shape, np.nan, dtype=np.float32)
    kw = dict(src_transform=hab.rio.transform(), src_crs=hab.rio.crs, dst_transform=dst_transform,
              dst_crs=dst_crs, resampling=Resampling.average, src_nodata=np.nan, dst_nodata=np.nan)
    w = weight.values.astype(np.float32)
    for c in classes:
        ind = np.where(valid, (src == c).astype(np.float32), np.nan)
        frac = np.full(shape, np.nan, dtype=np.float32)
        reproject(ind, frac, **kw)
        wind = np.where(valid, np.where(src == c, w, 0).astype(np.float32), np.nan)
        wfrac = np.full(shape, np.nan, dtype=np.float32)
        reproject(wind, wfrac, **kw)
        win = np.nan_to_num(frac, nan=-1.0) > best_frac  # strict: ties keep the lower code
        best[win] = c
        best_frac[win] = frac[win]
        # mean weight inside class c x majority fraction = average of weight x indicator
        confidence[win] = wfrac[win]
    best[best_frac <= 0] = NODATA
    confidence[best == NODATA] = np.nan
    return best, confidence


def unify(inputs: dict, *, countries, resolution: float, crs=None, level: int = 2,
          ancillary: dict | str | None = None, keep_inputs: bool = False,
          progress: bool | None = None) -> xr.Dataset:
    """Reclassify, resample and mosaic national land-cover rasters into one habitat map.

    Parameters
    ----------
    inputs : dict
        ``{ISO3: (raster, scheme)}``; each raster in its own CRS, resolution and scheme
        (see :func:`~tbpa.habitat.schemes`).
    countries : geopandas.GeoDataFrame
        Country polygons with an ISO3 column (``iso3``; e.g. :func:`tbpa.sites.load_countries`).
        Every key of *inputs* must be there; each raster is used only inside its country.
    resolution : float
        Cell size of the output in metres.
    crs : optional
        Projected metre CRS of the output. Default: :func:`tbpa.crs.equal_area_crs` of the
        countries clipped to the rasters' footprints (the landscape's LAEA).
    level : {2, 1}
        Unified legend level.
    ancillary : dict or {"auto", "latitude", "sea"}, optional
        Layers that decide ambiguous classes by the crosswalks' rules (see
        :func:`~tbpa.habitat.reclassify`): ``{ISO3: {"lat": da, "sea": da, "elev_m": da,
        "coast_dist_m": da}}`` on each input's own grid, or a name to derive layers of every
        input automatically: ``"latitude"`` the ``lat`` layer (temperate vs boreal forest),
        ``"sea"`` the ``sea`` layer (:func:`~tbpa.habitat.sea_layer` with the union of all
        *countries* as land: water joined to the open sea becomes 9.1 marine neritic,
        other water stays inland), ``"auto"`` both. Without it each ambiguous class takes
        its highest-weight target (all water becomes 5.5 freshwater lake, the sea
        included). For ``"sea"``/``"auto"``, *countries* should cover the rasters' extent:
        a polygon edge that is not a coast (a clip frame) makes the water beyond it sea.
    keep_inputs : bool
        Also return each input resampled over its whole footprint as ``habitat_<ISO3>``
        (not clipped to its country), e.g. to compare neighbours along a border with
        :func:`~tbpa.habitat.agreement`.
    progress : bool, optional
        Progress bar over inputs (default: the ``progress`` option).

    Returns
    -------
    xarray.Dataset
        On the common grid: ``habitat`` (uint16 unified code, 0 nodata), ``source`` (int8
        index into ``attrs["sources"]`` = ``["ISO3/scheme", ...]``, -1 where habitat is
        nodata) and ``confidence`` (float32: mean crosswalk weight of the chosen class x the
        fraction of the cell's valid area in that class; NaN at nodata).

    Raises
    ------
    DataError
        A key of *inputs* is not in *countries*, or a raster does not overlap its country.
    CRSError
        A raster has no CRS, or *crs* is not projected.

    Examples
    --------
    >>> from tbpa.sites import load_countries
    >>> ds = unify(embedded_inputs("tumen_estuary"), countries=load_countries(),
    ...            resolution=1000)
    >>> ds.attrs["sources"]
    ['CHN/clcd', 'PRK/esa_worldcover', 'RUS/terranorte']
    """
    from rasterio.features import rasterize
    from tqdm.auto import tqdm

    if not (np.isscalar(resolution) and float(resolution) > 0):
        raise ValidationError(f"unify: `resolution` must be a positive number of metres, got {resolution!r}")
    col = _iso3_column(countries)
    parts = _check_inputs(inputs, countries, col)
    dst_crs, transform, shape, country_cells = _target_grid(parts, countries, col, crs, resolution)
    order = sorted(parts)
    sources = [f"{iso3}/{parts[iso3][1]}" for iso3 in order]

    habitat = np.zeros(shape, dtype=np.uint16)
    source = np.full(shape, -1, dtype=np.int8)
    confidence = np.full(shape, np.nan, dtype=np.float32)
    kept = {}
    for k, iso3 in enumerate(tqdm(order, desc="unify", disable=not resolve_progress(progress))):
        raster, scheme, _ = parts[iso3]
        layers = _ancillary_for(ancillary, iso3, raster, scheme, countries)
        ds = reclassify(raster, scheme, level=level, return_weight=True, ancillary=layers)
        codes, conf = _resample_classes(ds["habitat"], ds["weight"], dst_crs, transform, shape)
        geom = country_cells.loc[country_cells[col].astype(str) == iso3].geometry
        inside = rasterize([(g, 1) for g in geom if g is not None and not g.is_empty],
                           out_shape=shape, transform=transform, fill=0, dtype="uint8").astype(bool)
        take = inside & (codes != NODATA)
        habitat[take] = codes[take]
        source[take] = k
        confidence[take] = conf[take]
        if keep_inputs:
            kept[iso3] = codes
    return _dataset(habitat, source, confidence, kept, dst_crs, transform, sources, level, resolution)


_DERIVED = {"latitude": ("lat",), "sea": ("sea",), "auto": ("lat", "sea")}


def _ancillary_for(ancillary, iso3, raster, scheme, countries):
    """The ancillary layers of one input (see ``unify``'s ``ancillary`` parameter)."""
    if ancillary is None:
        return None
    if isinstance(ancillary, dict):
        return ancillary.get(iso3)
    if not (isinstance(ancillary, str) and ancillary in _DERIVED):
        raise ValidationError(
            "unify: `ancillary` must be a dict {ISO3: {name: layer}} or one of "
            f"{', '.join(map(repr, _DERIVED))}, got {ancillary!r}"
        )
    layers = {}
    if "lat" in _DERIVED[ancillary]:
        from .crosswalks import latitude_layer

        layers["lat"] = latitude_layer(raster)
    if "sea" in _DERIVED[ancillary]:
        from .sea import _scheme_sea_codes, sea_layer

        if _scheme_sea_codes(scheme):  # schemes whose water never includes the sea need no layer
            layers["sea"] = sea_layer(raster, countries, scheme=scheme)
    return layers


def _dataset(habitat, source, confidence, kept, crs, transform, sources, level, resolution):
    from ..io import from_array

    def wrap(values, name, nodata):
        return from_array(values, transform=transform, crs=crs, nodata=nodata, name=name)

    data = {"habitat": wrap(habitat, "habitat", NODATA), "source": wrap(source, "source", -1),
            "confidence": wrap(confidence, "confidence", np.nan)}
    for iso3, codes in kept.items():
        data[f"habitat_{iso3}"] = wrap(codes, f"habitat_{iso3}", NODATA)
    ds = xr.Dataset(data)
    ds.attrs = {"sources": sources, "level": level, "resolution_m": float(resolution),
                "legend": "IUCN Habitats Classification Scheme v3.1, Jung et al. 2020 codes"}
    return ds.rio.write_crs(CRS.from_user_input(crs))
