"""Run Omniscape.jl ``.ini`` files unchanged: ``tbpa.omniscape.run_ini(path)``.

The INI is read the way Omniscape reads it: section headers (``[...]``) are ignored, each
``key = value`` line sets an option, later lines win. Options and defaults are Omniscape's
(``resistance_file``, ``radius``, ``block_size``, ``project_name``, ``source_file``,
``source_from_resistance``, ``resistance_is_conductance``, ``r_cutoff``, ``buffer``,
``source_threshold``, ``calc_normalized_current``, ``calc_flow_potential``,
``correct_artifacts``, ``connect_four_neighbors_only``, ``mask_nodata``,
``write_raw_currmap``, ``write_as_tif``, ``reclassify_resistance`` + ``reclass_table``,
``write_reclassified_resistance``, ``precision``, ``parallelize``, ...).

Outputs go to a folder named ``project_name`` (relative paths: relative to the current
directory, as Omniscape does; ``_1``, ``_2``... is appended when it exists) with
Omniscape's file names ``cum_currmap``, ``flow_potential``, ``normalized_cum_currmap``
(and ``classified_resistance``), as GeoTIFF when ``write_as_tif`` is true (Omniscape's
default) or ESRI ASCII grid otherwise, plus a copy of the INI as ``config.ini``. The folder
is written atomically.

Conditional connectivity (``conditional = true``) reads ``n_conditions`` (1 or 2),
``compare_to_future`` (``none``, ``1``, ``2`` or ``both``), ``conditionN_file``,
``conditionN_future_file`` (only for the conditions compared to the future),
``comparisonN`` (``within`` or ``equal``; Omniscape's code spelling ``equals`` is accepted)
and ``conditionN_lower`` / ``conditionN_upper`` (default 0), with Omniscape's semantics (see
:func:`tbpa.connectivity.omniscape`). Condition rasters must be on the resistance grid.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from ._atomic import atomic_dir
from .errors import DataError, GridMismatchError, TbpaWarning, ValidationError

__all__ = ["run_ini", "read_ini"]

_TRUE = {"true", "t", "1", "yes", "y", "on"}

_DEFAULTS = {
    "resistance_is_conductance": "false",
    "parallelize": "true",
    "parallel_batch_size": "10",
    "block_size": "1",
    "buffer": "0",
    "source_threshold": "0",
    "source_from_resistance": "false",
    "r_cutoff": "Inf",
    "precision": "double",
    "calc_flow_potential": "false",
    "calc_normalized_current": "false",
    "correct_artifacts": "true",
    "write_raw_currmap": "true",
    "write_as_tif": "true",
    "mask_nodata": "true",
    "conditional": "false",
    "n_conditions": "1",
    "compare_to_future": "none",
    "comparison1": "within",
    "comparison2": "within",
    "condition1_lower": "0",
    "condition1_upper": "0",
    "condition2_lower": "0",
    "condition2_upper": "0",
    "reclassify_resistance": "false",
    "write_reclassified_resistance": "false",
    "allow_different_projections": "false",
    "connect_four_neighbors_only": "false",
    "solver": "cg+amg",
}
_KNOWN = set(_DEFAULTS) | {
    "resistance_file", "source_file", "project_name", "radius", "reclass_table",
    "resistance_file_is_conductance", "condition1_file", "condition2_file",
    "condition1_future_file", "condition2_future_file",
    # spelling of Omniscape's early documentation
    "condition1_present_file", "condition2_present_file",
}
_SOLVERS = {"cg+amg", "cholmod", "mkl_pardiso", "pardiso", "accelerate"}


def read_ini(path: str | os.PathLike) -> dict[str, str]:
    """Parse an Omniscape INI file into a ``{key: value}`` dict (section names ignored).

    Examples
    --------
    >>> cfg = read_ini("config.ini")  # doctest: +SKIP
    >>> cfg["radius"]  # doctest: +SKIP
    '5'
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"omniscape.read_ini: no INI file at {str(path)!r}")
    cfg: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith(("[", "#", ";")) or "=" not in line:
            continue
        key, _, val = line.partition("=")
        cfg[key.strip().lower()] = val.strip()
    return cfg


def _flag(cfg, key) -> bool:
    return str(cfg[key]).strip().lower() in _TRUE


def _number(cfg, key) -> float:
    try:
        return float(cfg[key])
    except (KeyError, ValueError):
        raise ValidationError(
            f"omniscape INI: `{key}` must be a number, got {cfg.get(key)!r}"
        ) from None


def _resolve(name: str, ini_dir: Path, key: str) -> Path:
    """Omniscape resolves paths against the working directory; fall back to the INI's."""
    p = Path(name).expanduser()
    for cand in ([p] if p.is_absolute() else [Path.cwd() / p, ini_dir / p]):
        if cand.is_file():
            return cand
    raise DataError(
        f"omniscape INI: `{key}` = {name!r} not found (looked in {Path.cwd()} and {ini_dir}); "
        "paths are relative to the directory you run from, as in Omniscape"
    )


def _read_grid(path: Path):
    """(values with NaN nodata, transform, crs or None, kind 'asc'|'tif')."""
    name = path.name.lower()
    if name.endswith((".asc", ".asc.gz", ".txt", ".txt.gz", ".gz")):
        from ._ascii_grid import read_ascii_grid

        vals, hdr = read_ascii_grid(path)
        vals = np.asarray(vals, dtype=np.float64)
        if hdr.nodata is not None:
            vals[vals == hdr.nodata] = np.nan
        vals[vals == -9999] = np.nan  # Omniscape's own nodata convention
        return vals, hdr.transform, None, "asc"
    import rasterio

    with rasterio.open(path) as src:
        vals = src.read(1).astype(np.float64)
        nod = src.nodata
        transform, crs = src.transform, src.crs
    if nod is not None:
        vals[vals == nod] = np.nan
    vals[vals == -9999] = np.nan
    return vals, transform, crs, "tif"


def _check_aligned(a, b, names):
    (va, ta, ca, _), (vb, tb, cb, _) = a, b
    if va.shape != vb.shape or not ta.almost_equals(tb):
        raise GridMismatchError(
            f"omniscape INI: `{names[1]}` (shape {vb.shape}) is not on the grid of "
            f"`{names[0]}` (shape {va.shape}); align the rasters first"
        )


def _config(path: Path) -> dict[str, str]:
    user = read_ini(path)
    unknown = sorted(k for k in user if k not in _KNOWN and k)
    if unknown:
        warnings.warn(f"omniscape INI {path.name}: ignoring unsupported option(s) {unknown}",
                      TbpaWarning, stacklevel=3)
    cfg = dict(_DEFAULTS)
    cfg.update(user)
    if "resistance_file_is_conductance" in user:  # older Omniscape spelling
        cfg["resistance_is_conductance"] = user["resistance_file_is_conductance"]
    for key in ("resistance_file", "radius", "project_name"):
        if not cfg.get(key):
            raise ValidationError(f"omniscape INI {path.name}: required option `{key}` is missing")
    if cfg["solver"].lower() not in _SOLVERS:
        warnings.warn(
            f"omniscape INI {path.name}: unknown solver {cfg['solver']!r}; using tbpa's direct "
            "window solver (as Omniscape falls back to its default)", TbpaWarning, stacklevel=3)
    return cfg


def run_ini(path: str | os.PathLike, *, n_jobs: int | None = None, client=None,
            progress: bool | None = None) -> dict:
    """Run an Omniscape ``.ini`` file and write its outputs.

    Parameters
    ----------
    path : str or path-like
        The Omniscape INI file.
    n_jobs : int, optional
        Worker processes for the windows (default: serial; results do not depend on it).
    client : dask.distributed.Client, optional
        Run windows on a Dask cluster.
    progress : bool, optional
        Progress bar.

    Returns
    -------
    dict
        ``cum_currmap`` and, as configured, ``flow_potential`` and
        ``normalized_cum_currmap`` (numpy arrays, NaN on nodata), plus ``output_dir``
        (Path) and ``files`` (list of Paths written).

    Examples
    --------
    >>> out = run_ini("omniscape_run.ini")  # doctest: +SKIP
    >>> out["output_dir"]  # doctest: +SKIP
    PosixPath('my_project')
    """
    from .connectivity.moving_window import (omniscape_arrays, prepare_sources,
                                             sources_from_resistance)

    path = Path(path)
    cfg = _config(path)
    ini_dir = path.resolve().parent
    res_grid = _read_grid(_resolve(cfg["resistance_file"], ini_dir, "resistance_file"))
    resistance = res_grid[0].copy()
    is_cond = _flag(cfg, "resistance_is_conductance")

    if _flag(cfg, "reclassify_resistance"):
        table_path = _resolve(cfg.get("reclass_table", ""), ini_dir, "reclass_table")
        table = np.loadtxt(table_path, ndmin=2)
        if table.shape[1] < 2:
            raise ValidationError(f"omniscape INI: reclass_table {table_path} needs 2 columns")
        old = resistance.copy()
        for a, b in table[:, :2]:
            resistance[old == a] = b

    if _flag(cfg, "source_from_resistance"):
        sources = sources_from_resistance(resistance, _number(cfg, "r_cutoff"), is_cond)
    else:
        if not cfg.get("source_file"):
            raise ValidationError(
                f"omniscape INI {path.name}: `source_file` is required unless "
                "source_from_resistance = true"
            )
        src_grid = _read_grid(_resolve(cfg["source_file"], ini_dir, "source_file"))
        _check_aligned(res_grid, src_grid, ("resistance_file", "source_file"))
        sources = prepare_sources(src_grid[0], _number(cfg, "source_threshold"))

    conditions = (_conditions(cfg, path, ini_dir, res_grid) if _flag(cfg, "conditional")
                  else None)
    fp = _flag(cfg, "calc_flow_potential")
    norm = _flag(cfg, "calc_normalized_current")
    out = omniscape_arrays(
        resistance, sources, radius=_number(cfg, "radius"),
        block_size=_number(cfg, "block_size"), buffer=_number(cfg, "buffer"),
        resistance_is_conductance=is_cond, calc_flow_potential=fp,
        calc_normalized_current=norm, correct_artifacts=_flag(cfg, "correct_artifacts"),
        four=_flag(cfg, "connect_four_neighbors_only"), client=client, n_jobs=n_jobs,
        progress=progress, conditions=conditions,
    )
    nodata = ~np.isfinite(resistance)
    maps = {"cum_currmap": out["cum_currmap"]}
    if fp:
        maps["flow_potential"] = out["flow_potential"]
    if norm:
        maps["normalized_cum_currmap"] = out["normalized_cum_currmap"]

    single = cfg["precision"].lower() in ("single", "float32")
    to_write = {}
    if _flag(cfg, "write_raw_currmap"):
        to_write["cum_currmap"] = maps["cum_currmap"]
    for k in ("flow_potential", "normalized_cum_currmap"):
        if k in maps:
            to_write[k] = maps[k]
    if _flag(cfg, "reclassify_resistance") and _flag(cfg, "write_reclassified_resistance"):
        to_write["classified_resistance"] = resistance
    mask = _flag(cfg, "mask_nodata")
    as_tif = _flag(cfg, "write_as_tif")

    outdir = _project_dir(cfg["project_name"])
    files = []
    with atomic_dir(outdir) as tmp:
        for name, arr in to_write.items():
            arr = np.array(arr, dtype=np.float32 if single else np.float64)
            if mask or name == "classified_resistance":
                arr[nodata] = np.nan
            files.append(_write(tmp, name, arr, res_grid, as_tif))
        shutil.copyfile(path, tmp / "config.ini")
    result = {k: np.where(nodata, np.nan, v) for k, v in maps.items()}
    result["output_dir"] = outdir
    result["files"] = [outdir / f for f in files] + [outdir / "config.ini"]
    return result


def _conditions(cfg, path: Path, ini_dir: Path, res_grid) -> list:
    """The ``[Conditional connectivity options]`` as array-level conditions."""
    from .connectivity.moving_window import COMPARISONS, ArrayCondition

    n_raw = str(cfg["n_conditions"]).strip()
    try:
        n = int(float(n_raw))
    except ValueError:
        n = -1
    if n not in (1, 2):
        raise ValidationError(
            f"omniscape INI {path.name}: `n_conditions` must be 1 or 2, got {n_raw!r}")
    future = str(cfg["compare_to_future"]).strip().lower()
    choices = {"none": (), "1": (1,), "2": (2,), "both": (1, 2)}
    if future not in choices:
        raise ValidationError(
            f"omniscape INI {path.name}: `compare_to_future` must be one of none, 1, 2, both; "
            f"got {cfg['compare_to_future']!r}")
    if n == 1 and 2 in choices[future] and future != "both":
        raise ValidationError(
            f"omniscape INI {path.name}: compare_to_future = 2 but n_conditions = 1")
    out = []
    for i in range(1, n + 1):
        key = f"condition{i}_file"
        name = cfg.get(key) or cfg.get(f"condition{i}_present_file")
        if not name:
            raise ValidationError(
                f"omniscape INI {path.name}: conditional = true needs `{key}`")
        present = _read_grid(_resolve(name, ini_dir, key))
        _check_aligned(res_grid, present, ("resistance_file", key))
        target = present
        if i in choices[future]:
            fkey = f"condition{i}_future_file"
            if not cfg.get(fkey):
                raise ValidationError(
                    f"omniscape INI {path.name}: compare_to_future = {future} needs `{fkey}`")
            target = _read_grid(_resolve(cfg[fkey], ini_dir, fkey))
            _check_aligned(res_grid, target, ("resistance_file", fkey))
        comparison = str(cfg[f"comparison{i}"]).strip().lower()
        if comparison not in COMPARISONS:
            raise ValidationError(
                f"omniscape INI {path.name}: `comparison{i}` must be within or equal, got "
                f"{cfg[f'comparison{i}']!r}")
        lower, upper = _number(cfg, f"condition{i}_lower"), _number(cfg, f"condition{i}_upper")
        if COMPARISONS[comparison] == "within" and not lower <= upper:
            raise ValidationError(
                f"omniscape INI {path.name}: condition{i}_lower ({lower}) is above "
                f"condition{i}_upper ({upper})")
        out.append(ArrayCondition(present[0], target[0], COMPARISONS[comparison], lower, upper))
    return out


def _project_dir(name: str) -> Path:
    """Omniscape never overwrites: an existing project folder gets ``_1``, ``_2``..."""
    base = Path(name).expanduser()
    if not base.is_absolute():
        base = Path.cwd() / base
    if not base.exists():
        return base
    i = 1
    while Path(f"{base}_{i}").exists():
        i += 1
    return Path(f"{base}_{i}")


def _write(folder: Path, name: str, arr: np.ndarray, grid, as_tif: bool) -> str:
    _, transform, crs, _ = grid
    if as_tif:
        import rasterio

        fname = f"{name}.tif"
        with rasterio.open(
            folder / fname, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1],
            count=1, dtype=arr.dtype.name, crs=crs, transform=transform, nodata=-9999.0,
        ) as dst:
            dst.write(np.where(np.isnan(arr), -9999.0, arr).astype(arr.dtype), 1)
        return fname
    from ._ascii_grid import AsciiHeader, write_ascii_grid

    fname = f"{name}.asc"
    header = AsciiHeader.from_transform(transform, arr.shape, nodata=-9999.0)
    write_ascii_grid(folder / fname, arr.astype(np.float64), header)
    return fname
