"""Run Circuitscape ``.ini`` files unchanged and write Circuitscape's output files.

:func:`run_ini` reads a Circuitscape (v4 / Circuitscape.jl v5) configuration, runs it with
tbpa's circuit engine (:mod:`tbpa.connectivity.circuit`) and writes the outputs Circuitscape
would write, with its names and formats, next to ``output_file``:

* ``NAME_resistances.out`` (pairwise: matrix, first row/column = focal ids, top-left 0,
  -1 = not connected; one-to-all / all-to-one: two columns id, value) and
  ``NAME_resistances_3columns.out`` (pairwise);
* ``NAME_cum_curmap.asc``, ``NAME_max_curmap.asc``, ``NAME_curmap_i_j.asc`` /
  ``NAME_voltmap_i_j.asc`` (pairwise), ``NAME_curmap_ID.asc`` / ``NAME_voltmap_ID.asc``
  (one-to-all, all-to-one), ``NAME_curmap.asc`` / ``NAME_voltmap.asc`` (advanced);
* network mode: ``NAME_resistances.out``, ``NAME_resistances_3columns.out``,
  ``NAME_node_currents[_i_j].txt``, ``NAME_branch_currents[_i_j].txt``,
  ``NAME_voltages[_i_j].txt``.

Paths in the file are taken relative to the current working directory (as Circuitscape
does); when a path does not exist there, relative to the ``.ini`` file's folder. Inputs may
be ESRI ASCII grids (optionally ``.gz``) or GeoTIFFs. Every file is written atomically.
"""

from __future__ import annotations

import configparser
import os
import warnings
from pathlib import Path

import numpy as np

from ._ascii_grid import AsciiHeader, open_text, read_ascii_grid, write_ascii_grid
from ._atomic import atomic_path
from .errors import DataError, UnknownNameError, ValidationError
from .connectivity.circuit import (
    Focal,
    Options,
    prepare_sources_grounds,
    solve_advanced,
    solve_one_to_all,
    solve_pairwise,
    _pairwise_points,
    _solve_sources_grounds,
)
from .connectivity._solvers import _ALIASES as _SOLVER_ALIASES

__all__ = ["run_ini", "read_ini"]

_TRUE = ("true", "1", "yes", "t")
_NONE = ("", "none", "false")
_DEFAULTS = {
    "data_type": "raster", "scenario": "pairwise", "habitat_map_is_resistances": "True",
    "connect_four_neighbors_only": "False", "connect_using_avg_resistances": "False",
    "use_polygons": "False", "polygon_file": "None", "use_mask": "False", "mask_file": "None",
    "point_file": "None", "use_included_pairs": "False", "included_pairs_file": "None",
    "use_variable_source_strengths": "False", "variable_source_file": "None",
    "write_cur_maps": "False", "write_cum_cur_map_only": "False", "write_max_cur_maps": "False",
    "write_volt_maps": "False", "log_transform_maps": "False",
    "set_focal_node_currents_to_zero": "False", "set_null_currents_to_nodata": "False",
    "set_null_voltages_to_nodata": "False", "compress_grids": "False",
    "source_file": "None", "ground_file": "None", "ground_file_is_resistances": "True",
    "use_direct_grounds": "False", "use_unit_currents": "False", "remove_src_or_gnd": "keepall",
    "output_file": "output.out", "solver": "auto", "habitat_file": "None",
}
_SCENARIOS = {"pairwise": "pairwise", "one-to-all": "one_to_all", "one_to_all": "one_to_all",
              "all-to-one": "all_to_one", "all_to_one": "all_to_one", "advanced": "advanced"}


# ---------------------------------------------------------------------------- config
def read_ini(path: str | os.PathLike) -> dict:
    """Read a Circuitscape INI file into a flat ``{option: str}`` dict with defaults."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"Circuitscape INI file {str(path)!r} does not exist")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str.lower
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise DataError(f"{path}: not a valid Circuitscape INI file ({exc})") from exc
    cfg = dict(_DEFAULTS)
    for section in parser.sections():
        for key, value in parser.items(section):
            cfg[key] = value.strip()
    return cfg


def _flag(cfg, key) -> bool:
    return str(cfg.get(key, "False")).strip().lower() in _TRUE


def _is_set(value) -> bool:
    v = str(value).strip()
    return v.lower() not in _NONE and not v.startswith("(Browse")


def _resolve(value: str, ini_dir: Path, what: str) -> Path:
    p = Path(os.path.expanduser(value))
    for cand in (p, ini_dir / p):
        if cand.exists():
            return cand
    raise DataError(f"{what} {value!r} not found (looked in {Path.cwd()} and {ini_dir})")


# ---------------------------------------------------------------------------- rasters
def _read_grid(path: Path) -> tuple[np.ndarray, AsciiHeader]:
    """Values (nodata as NaN) and header of an ASCII grid (.asc/.gz) or GeoTIFF."""
    name = path.name.lower()
    if name.endswith((".tif", ".tiff", ".tif.gz")):
        import rasterio

        with rasterio.open(path) as src:
            arr = src.read(1).astype(np.float64)
            nodata = src.nodata
            header = AsciiHeader.from_transform(src.transform, arr.shape,
                                                nodata if nodata is not None else -9999.0)
        if nodata is not None:
            arr[arr == nodata] = np.nan
        return arr, header
    arr, header = read_ascii_grid(path)
    if header.nodata is not None:
        arr[arr == header.nodata] = np.nan
    return arr, header


def _same_grid(arr, header, ref: AsciiHeader, what):
    if arr.shape != ref.shape:
        raise DataError(f"{what} has shape {arr.shape} but the habitat map {ref.shape}")
    if not np.isclose(header.cellsize, ref.cellsize):
        warnings.warn(f"{what}: cellsize {header.cellsize} differs from the habitat map's "
                      f"{ref.cellsize}")


def _label_grid(path, ref, what):
    arr, header = _read_grid(path)
    _same_grid(arr, header, ref, what)
    return np.where(np.isfinite(arr), arr, 0.0)


def _read_points(path: Path, ref: AsciiHeader) -> Focal:
    """Focal points: a raster of ids, or a text list ``id x y`` (Circuitscape's cell rule)."""
    if path.suffix.lower() == ".txt":
        data = _read_table(path, 3)
        ids, x, y = data[:, 0], data[:, 1], data[:, 2]
        rows = np.ceil(ref.nrows - (y - ref.yllcorner) / ref.cellsize).astype(np.int64) - 1
        cols = np.ceil((x - ref.xllcorner) / ref.cellsize).astype(np.int64) - 1
        return Focal.from_rowcol(ids, rows, cols, ref.shape)
    lab = _label_grid(path, ref, "point_file")
    return Focal.from_labels(lab)


def _read_table(path: Path, ncols: int) -> np.ndarray:
    with open_text(path) as fh:
        rows = [ln.split() for ln in fh if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        data = np.array([[float(v) for v in r[:ncols]] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: expected {ncols} numeric columns ({exc})") from exc
    if data.size == 0:
        return np.zeros((0, ncols))
    if data.ndim != 2 or data.shape[1] < ncols:
        raise DataError(f"{path}: expected {ncols} columns per line")
    return data


def _read_included_pairs(path: Path, ids: list) -> np.ndarray:
    """k x k exclusion matrix (Circuitscape: matrix with min/max, or 'mode include|exclude')."""
    with open_text(path) as fh:
        lines = [ln.split() for ln in fh if ln.strip()]
    pos = {i: t for t, i in enumerate(ids)}
    k = len(ids)
    if lines and lines[0][0].lower() == "min":
        lo, hi = float(lines[0][1]), float(lines[1][1])
        head = [int(float(v)) for v in lines[2][1:]]
        body = np.array([[float(v) for v in ln] for ln in lines[3:]])
        row_ids = body[:, 0].astype(int)
        vals = body[:, 1:]
        vals = np.where(vals > hi, 0, vals)
        inc = vals >= lo
        include = np.zeros((k, k), bool)
        for a, ra in enumerate(row_ids):
            for b, cb in enumerate(head):
                if ra in pos and cb in pos and inc[a, b]:
                    include[pos[ra], pos[cb]] = True
        listed = set(row_ids) | set(head)
        mode = "include"
    elif lines and lines[0][0].lower() == "mode":
        mode = lines[0][1].lower()
        if mode not in ("include", "exclude"):
            raise DataError(f"{path}: mode must be include or exclude, got {lines[0][1]!r}")
        include = np.zeros((k, k), bool)
        listed = set()
        for ln in lines[1:]:
            a, b = int(float(ln[0])), int(float(ln[1]))
            listed.update((a, b))
            if a in pos and b in pos:
                include[pos[a], pos[b]] = include[pos[b], pos[a]] = True
    else:
        raise DataError(f"{path}: included pairs file must start with 'min'/'max' or 'mode'")
    listed.discard(0)
    excl = ~include if mode == "include" else include
    excl = excl & excl.T
    # points missing from the file are dropped (Circuitscape prunes them)
    for t, i in enumerate(ids):
        if i not in listed:
            excl[t, :] = excl[:, t] = True
    np.fill_diagonal(excl, False)
    return excl


# ---------------------------------------------------------------------------- writing
def _fmt(v: float) -> str:
    v = float(v)
    if np.isfinite(v) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _write_text(path: Path, rows) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text("".join(" ".join(_fmt(x) for x in r) + "\n" for r in rows))
    return path


class _Writer:
    def __init__(self, cfg, header: AsciiHeader, gmap: np.ndarray):
        out = cfg["output_file"]
        self.prefix = out[:-4] if out.endswith(".out") else out
        Path(self.prefix).parent.mkdir(parents=True, exist_ok=True)
        self.header = header.with_nodata(header.nodata if header.nodata is not None else -9999.0)
        self.gmap = gmap
        self.compress = _flag(cfg, "compress_grids")
        self.log = _flag(cfg, "log_transform_maps")
        self.null_cur = _flag(cfg, "set_null_currents_to_nodata")
        self.null_volt = _flag(cfg, "set_null_voltages_to_nodata")
        self.written: dict[str, Path] = {}

    def path(self, suffix):
        return Path(f"{self.prefix}_{suffix}")

    def grid(self, key, arr):
        out = np.round(np.asarray(arr, dtype=np.float64), 8)
        p = write_ascii_grid(self.path(f"{key}.asc"), out, self.header, compress=self.compress)
        self.written[key] = p

    def process_current(self, cmap):
        nod = self.header.nodata
        c = cmap.copy()
        if self.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                c = np.where(c > 0, np.log10(np.where(c > 0, c, 1.0)), nod)
        if self.null_cur:
            c[self.gmap <= 0] = nod
        return c

    def process_voltage(self, vmap):
        v = vmap.copy()
        if self.null_volt:
            v[self.gmap <= 0] = self.header.nodata
        return v

    def text(self, key, rows):
        self.written[key] = _write_text(self.path(key), rows)


# ---------------------------------------------------------------------------- runner
def run_ini(path: str | os.PathLike, *, progress: bool | None = None) -> dict:
    """Run a Circuitscape ``.ini`` file and write Circuitscape's outputs.

    Parameters
    ----------
    path : path-like
        The configuration file, unchanged from Circuitscape.
    progress : bool, optional
        Progress bars for long loops.

    Returns
    -------
    dict
        ``{"resistances": ndarray (as written to NAME_resistances.out), "files": {key: Path}}``.

    Examples
    --------
    >>> out = run_ini("input/raster/pairwise/1/sgVerify1.ini")  # doctest: +SKIP
    >>> out["files"]["resistances"]  # doctest: +SKIP
    PosixPath('output/sgVerify1_resistances.out')
    """
    path = Path(path)
    cfg = read_ini(path)
    ini_dir = path.resolve().parent
    scenario = _SCENARIOS.get(cfg["scenario"].strip().lower())
    if scenario is None:
        raise UnknownNameError(f"{path}: unknown scenario {cfg['scenario']!r}; one of "
                               f"{sorted(_SCENARIOS)}")
    # Circuitscape's solver names as the solver knows them; any other (pardiso, ...) -> auto
    solver = _SOLVER_ALIASES.get(cfg.get("solver", "auto").strip().lower(), "auto")
    opts = Options(
        connect="four" if _flag(cfg, "connect_four_neighbors_only") else "eight",
        average="resistance" if _flag(cfg, "connect_using_avg_resistances") else "conductance",
        solver=solver, progress=progress,
    )
    if cfg["data_type"].strip().lower() == "network":
        return _run_network(cfg, ini_dir, scenario, opts)
    return _run_raster(cfg, ini_dir, scenario, opts)


def _run_raster(cfg, ini_dir, scenario, opts):
    hab_path = _resolve(cfg["habitat_file"], ini_dir, "habitat_file")
    values, header = _read_grid(hab_path)
    is_res = _flag(cfg, "habitat_map_is_resistances")
    from .connectivity._laplacian import to_conductance

    gmap = to_conductance(values, is_resistance=is_res)
    if _flag(cfg, "use_mask") and _is_set(cfg["mask_file"]):
        mask = _label_grid(_resolve(cfg["mask_file"], ini_dir, "mask_file"), header, "mask_file")
        gmap = gmap * (mask > 0)
        if not (gmap > 0).any():
            raise DataError("mask_file removed every cell of the habitat map")
    polymap = None
    if _flag(cfg, "use_polygons") and _is_set(cfg["polygon_file"]):
        poly_path = _resolve(cfg["polygon_file"], ini_dir, "polygon_file")
        polymap = _label_grid(poly_path, header, "polygon_file")
    w = _Writer(cfg, header, gmap)
    if scenario == "advanced":
        return _run_advanced(cfg, ini_dir, gmap, header, polymap, opts, w)
    focal = _read_points(_resolve(cfg["point_file"], ini_dir, "point_file"), header)
    if not focal.ids:
        raise DataError("point_file holds no focal node")
    zero_focal = _flag(cfg, "set_focal_node_currents_to_zero")
    zero_cells = np.concatenate(focal.cells) if zero_focal else None
    if scenario == "pairwise":
        return _run_pairwise(cfg, ini_dir, gmap, focal, polymap, opts, w, zero_cells)
    return _run_node_mode(cfg, ini_dir, scenario, gmap, focal, polymap, opts, w, zero_cells)


def _zero(cmap, cells):
    if cells is not None:
        cmap = cmap.copy()
        cmap.ravel()[cells] = 0.0
    return cmap


def _run_pairwise(cfg, ini_dir, gmap, focal, polymap, opts, w, zero_cells):
    excl = None
    if _flag(cfg, "use_included_pairs") and _is_set(cfg["included_pairs_file"]):
        pairs_path = _resolve(cfg["included_pairs_file"], ini_dir, "included_pairs_file")
        excl = _read_included_pairs(pairs_path, focal.ids)
    cur_maps = _flag(cfg, "write_cur_maps")
    cum_only = _flag(cfg, "write_cum_cur_map_only")
    volt_maps = _flag(cfg, "write_volt_maps")
    max_maps = _flag(cfg, "write_max_cur_maps")
    maps = cur_maps or cum_only or volt_maps or max_maps
    cum = np.zeros(gmap.shape)
    mx = np.full(gmap.shape, -9999.0)

    def on_pair(i, j, vgrid, cgrid):
        if volt_maps:
            w.grid(f"voltmap_{i}_{j}", w.process_voltage(vgrid))
        if cur_maps or cum_only or max_maps:
            c = w.process_current(_zero(cgrid, zero_cells))
            cum[...] += c
            np.maximum(mx, c, out=mx)
            if cur_maps and not cum_only:
                w.grid(f"curmap_{i}_{j}", c)

    res = solve_pairwise(gmap, focal, polymap=polymap, exclude=excl, maps=maps, opts=opts,
                         on_pair=on_pair)
    ids = res.ids
    R = res.resistances
    table = [[0] + ids] + [[ids[a]] + list(R[a]) for a in range(len(ids))]
    w.text("resistances.out", table)
    w.text("resistances_3columns.out",
           [[ids[a], ids[b], R[b, a]] for a in range(len(ids)) for b in range(a + 1, len(ids))])
    if cur_maps or cum_only:
        w.grid("cum_curmap", np.maximum(cum, -9999.0))
    if max_maps:
        w.grid("max_curmap", np.maximum(mx, -9999.0))
    return {"resistances": np.array(table, dtype=float), "files": dict(w.written)}


def _run_node_mode(cfg, ini_dir, scenario, gmap, focal, polymap, opts, w, zero_cells):
    strengths = None
    if _flag(cfg, "use_variable_source_strengths") and _is_set(cfg["variable_source_file"]):
        tab = _read_table(_resolve(cfg["variable_source_file"], ini_dir, "variable_source_file"), 2)
        strengths = {int(a): float(b) for a, b in tab}
    if _flag(cfg, "use_included_pairs") and _is_set(cfg["included_pairs_file"]):
        pairs_path = _resolve(cfg["included_pairs_file"], ini_dir, "included_pairs_file")
        excl = _read_included_pairs(pairs_path, focal.ids)
        k = len(focal.ids)
        keep = [t for t in range(k) if k == 1 or not excl[t, np.arange(k) != t].all()]
        focal = Focal([focal.ids[t] for t in keep], [focal.cells[t] for t in keep])
    cur_maps = _flag(cfg, "write_cur_maps")
    cum_only = _flag(cfg, "write_cum_cur_map_only")
    volt_maps = _flag(cfg, "write_volt_maps")
    max_maps = _flag(cfg, "write_max_cur_maps")
    cum = np.zeros(gmap.shape)
    mx = np.full(gmap.shape, -9999.0)

    def on_node(i, vgrid, cgrid):
        c = w.process_current(_zero(cgrid, zero_cells))
        cum[...] += c
        np.maximum(mx, c, out=mx)
        if volt_maps:
            w.grid(f"voltmap_{i}", w.process_voltage(vgrid))
        if cur_maps and not cum_only:
            w.grid(f"curmap_{i}", c)

    res = solve_one_to_all(gmap, focal, mode=scenario, polymap=polymap, strengths=strengths,
                           opts=opts, on_node=on_node)
    table = [[i, v] for i, v in zip(res.ids, res.values)]
    w.text("resistances.out", table)
    if cur_maps or cum_only:
        w.grid("cum_curmap", np.maximum(cum, -9999.0))
    if max_maps:
        w.grid("max_curmap", np.maximum(mx, -9999.0))
    return {"resistances": np.array(table, dtype=float), "files": dict(w.written)}


def _run_advanced(cfg, ini_dir, gmap, header, polymap, opts, w):
    src = _label_grid(_resolve(cfg["source_file"], ini_dir, "source_file"), header, "source_file") \
        if Path(cfg["source_file"]).suffix.lower() != ".txt" else \
        _points_grid(_resolve(cfg["source_file"], ini_dir, "source_file"), header)
    gpath = _resolve(cfg["ground_file"], ini_dir, "ground_file")
    if gpath.suffix.lower() == ".txt":
        gnd = _points_grid(gpath, header)
    else:
        gnd, gh = _read_grid(gpath)
        _same_grid(gnd, gh, header, "ground_file")
    src, gnd = prepare_sources_grounds(src, gnd, _flag(cfg, "ground_file_is_resistances"),
                                       _flag(cfg, "use_direct_grounds"),
                                       _flag(cfg, "use_unit_currents"))
    policy = cfg.get("remove_src_or_gnd", "keepall").strip().lower()
    res = solve_advanced(gmap, src, gnd, polymap=polymap, policy=policy, opts=opts)
    if _flag(cfg, "write_volt_maps"):
        w.grid("voltmap", w.process_voltage(res.voltage))
    if _flag(cfg, "write_cur_maps"):
        w.grid("curmap", w.process_current(res.current))
    return {"resistances": None, "voltage": res.voltage, "current": res.current,
            "files": dict(w.written)}


def _points_grid(path, header):
    """Text source/ground list ``value row col`` (1-based, as Circuitscape.jl reads it)."""
    data = _read_table(path, 3)
    out = np.full(header.shape, np.nan)
    rows, cols = data[:, 1].astype(int) - 1, data[:, 2].astype(int) - 1
    ok = (rows >= 0) & (rows < header.nrows) & (cols >= 0) & (cols < header.ncols)
    if not ok.all():
        warnings.warn(f"{path}: {int((~ok).sum())} entries outside the grid ignored")
    out[rows[ok], cols[ok]] = data[ok, 0]
    return out


# ---------------------------------------------------------------------------- network mode
def _run_network(cfg, ini_dir, scenario, opts):
    import scipy.sparse as sp

    from .connectivity._laplacian import CircuitGraph

    edges = _read_table(_resolve(cfg["habitat_file"], ini_dir, "habitat_file"), 3)
    a_ids, b_ids, val = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64), edges[:, 2]
    if _flag(cfg, "habitat_map_is_resistances"):
        if (val == 0).any():
            raise ValidationError("network habitat file: zero resistance on an edge is not allowed")
        val = 1.0 / val
    labels, inv = np.unique(np.concatenate([a_ids, b_ids]), return_inverse=True)
    n = labels.size
    i, j = inv[: a_ids.size], inv[a_ids.size:]
    keep = (i != j) & (val > 0)
    ii, jj, vv = i[keep], j[keep], val[keep]
    adj = sp.coo_matrix((np.r_[vv, vv], (np.r_[ii, jj], np.r_[jj, ii])), shape=(n, n)).tocsr()
    up = sp.triu(adj, k=1).tocoo()
    edge_arr = (up.row.astype(np.int64), up.col.astype(np.int64), up.data)
    out = cfg["output_file"]
    prefix = out[:-4] if out.endswith(".out") else out
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    written = {}
    pos = {int(l): t for t, l in enumerate(labels)}
    write_c, write_v = _flag(cfg, "write_cur_maps"), _flag(cfg, "write_volt_maps")
    # the raster modes' solvers run on the network seen as a 1 x n "grid" whose cells are
    # the nodes (branches: the summed parallel edges)
    graph = CircuitGraph((1, n), np.arange(n).reshape(1, n), np.zeros((1, n)), *edge_arr, n)

    def write_solution(name, v, nc):
        if write_v:
            written[f"voltages{name}"] = _write_text(Path(f"{prefix}_voltages{name}.txt"),
                                                     [[labels[t], v[t]] for t in range(n)])
        if write_c:
            written[f"node_currents{name}"] = _write_text(Path(f"{prefix}_node_currents{name}.txt"),
                                                          [[labels[t], nc[t]] for t in range(n)])
            bc = np.abs(edge_arr[2] * (v[edge_arr[0]] - v[edge_arr[1]]))
            written[f"branch_currents{name}"] = _write_text(
                Path(f"{prefix}_branch_currents{name}.txt"),
                [[labels[a], labels[b], c] for a, b, c in zip(edge_arr[0], edge_arr[1], bc)])

    if scenario == "advanced":
        src = np.zeros(n)
        gnd = np.zeros(n)
        listed = np.zeros(n, bool)
        for fname, arr in (("source_file", src), ("ground_file", gnd)):
            tab = _read_table(_resolve(cfg[fname], ini_dir, fname), 2)
            for node, value in tab:
                if int(node) in pos:
                    arr[pos[int(node)]] += value
                    if fname == "ground_file":
                        listed[pos[int(node)]] = True
        # the raster mode's reading rules, nodes not listed as grounds being "none" (NaN):
        # a listed 0-ohm ground is a direct ground
        src, gnd = prepare_sources_grounds(src, np.where(listed, gnd, np.nan),
                                           _flag(cfg, "ground_file_is_resistances"),
                                           _flag(cfg, "use_direct_grounds"),
                                           _flag(cfg, "use_unit_currents"))
        policy = cfg.get("remove_src_or_gnd", "keepall").strip().lower()
        v, nc, _ = _solve_sources_grounds(graph, src, gnd, policy, opts)
        write_solution("", v, nc)
        return {"resistances": None, "voltage": v, "files": written}

    fp = [int(x) for x in _read_table(_resolve(cfg["point_file"], ini_dir, "point_file"), 1)[:, 0]]
    k = len(fp)
    R = -np.ones((k, k))
    np.fill_diagonal(R, 0)
    nodes = np.array([pos.get(f, -1) for f in fp], dtype=np.int64)

    def emit(a, b, grids):
        volt, cur = grids()
        write_solution(f"_{fp[a]}_{fp[b]}", volt.ravel(), cur.ravel())

    maps = write_c or write_v
    _pairwise_points(graph, nodes, list(range(k)), np.zeros((k, k), bool), maps, opts, R,
                     emit if maps else None)
    table = [[0] + fp] + [[fp[a]] + list(R[a]) for a in range(k)]
    written["resistances.out"] = _write_text(Path(f"{prefix}_resistances.out"), table)
    written["resistances_3columns.out"] = _write_text(
        Path(f"{prefix}_resistances_3columns.out"),
        [[fp[a], fp[b], R[a, b]] for a in range(k) for b in range(a + 1, k)])
    return {"resistances": np.array(table, dtype=float), "files": written}
