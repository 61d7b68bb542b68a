"""Corridor networks between core areas (Linkage Mapper style) and barrier improvement.

:func:`corridor_network` follows Linkage Mapper's Build Network and Map Linkages steps
(McRae & Kavanagh 2011): cost-allocation adjacency of cores, one cost-distance surface per
core, least-cost paths, dropping links that pass through a third core or exceed a cost
limit, optional nearest-neighbour pruning, and the mosaic of normalized least-cost
corridors truncated at a width. :func:`barrier_improvement` is the Barrier Mapper score of
McRae et al. (2012). Conventions are in ``docs/methods.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage
from tqdm.auto import tqdm

from ..errors import ValidationError
from ..options import resolve_progress
from ._dijkstra import trace_backlinks
from .leastcost import COST_UNITS, normalized_corridor, path_cells_to_line, prepare

__all__ = ["CorridorNetwork", "corridor_network", "barrier_improvement"]

LINK_COLUMNS = ["core_a", "core_b", "cwd", "euclid_m", "lcp_length_m", "cwd_to_euclid",
                "cwd_to_path_length"]


@dataclass
class CorridorNetwork:
    """Result of :func:`corridor_network`.

    Attributes
    ----------
    links : geopandas.GeoDataFrame
        One row per kept link: ``core_a``, ``core_b``, ``cwd`` (least cost distance between
        the two cores, resistance units x metres), ``euclid_m`` (edge-to-edge), ``lcp_length_m``,
        ``cwd_to_euclid``, ``cwd_to_path_length`` and the least-cost path as geometry.
    graph : networkx.Graph
        Nodes = core ids (attribute ``area_m2``); edges = links with their attributes
        and ``weight`` = cwd.
    corridors : xarray.DataArray
        Mosaic (cell-wise minimum) of the normalized corridors CWD_a + CWD_b - LCD of the
        kept links, NaN beyond the truncation width.
    cwd : dict
        Core id -> cost-distance DataArray from that core (computed once per core; ``inf``
        beyond the search limit when ``max_cwd`` is set).
    dropped : pandas.DataFrame
        Candidate links that were removed and why (``reason``).
    cores : geopandas.GeoDataFrame
        The cores, indexed by core id.
    """

    links: gpd.GeoDataFrame
    graph: nx.Graph
    corridors: xr.DataArray
    cwd: dict = field(repr=False)
    dropped: pd.DataFrame = field(repr=False)
    cores: gpd.GeoDataFrame = field(repr=False)

    def plot(self, ax=None, *, cmap: str = "viridis_r", label: bool = True):
        """Map the corridor mosaic with cores and least-cost paths; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 7))
        self.corridors.plot.imshow(ax=ax, cmap=cmap,
                                   cbar_kwargs={"label": f"normalized corridor ({COST_UNITS})"})
        self.cores.boundary.plot(ax=ax, color="black", linewidth=1.0)
        if len(self.links):
            self.links.plot(ax=ax, color="crimson", linewidth=1.5)
        if label:
            for cid, geom in self.cores.geometry.items():
                p = geom.representative_point()
                ax.annotate(str(cid), (p.x, p.y), ha="center", va="center", fontsize=8,
                            fontweight="bold")
        ax.set_title(f"Corridor network: {len(self.cores)} cores, {len(self.links)} links")
        ax.set_aspect("equal")
        return ax


# -- helpers -----------------------------------------------------------------------------
def _core_series(cores) -> gpd.GeoSeries:
    if not isinstance(cores, gpd.GeoDataFrame):
        raise ValidationError(
            f"`cores` must be a GeoDataFrame of polygons, got {type(cores).__name__}")
    ids = cores["core_id"] if "core_id" in cores.columns else cores.index.to_series()
    if ids.duplicated().any():
        dup = sorted(set(ids[ids.duplicated()]))[:5]
        raise ValidationError(f"`cores` ids are not unique: {dup}; ids come from `core_id` "
                              "or, without that column, the index")
    if len(cores) < 2:
        raise ValidationError(f"`cores` needs at least 2 cores, got {len(cores)}")
    return gpd.GeoSeries(cores.geometry.values, index=pd.Index(ids.values, name="core_id"),
                         crs=cores.crs)


def _touching_pairs(zone: np.ndarray, eight: bool) -> set[tuple[int, int]]:
    """Pairs of different non-zero labels in neighbouring cells (vectorised)."""
    shifts = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if eight else [])
    nr, nc = zone.shape
    found = []
    for dr, dc in shifts:
        a = zone[: nr - dr, max(0, -dc): nc - max(0, dc)]
        b = zone[dr:, max(0, dc): nc + min(0, dc) or None]
        m = (a != b) & (a > 0) & (b > 0)
        if m.any():
            p = np.column_stack([np.minimum(a[m], b[m]), np.maximum(a[m], b[m])])
            found.append(np.unique(p, axis=0))
    if not found:
        return set()
    return {tuple(map(int, p)) for p in np.unique(np.vstack(found), axis=0)}


def _euclidean_zones(labels: np.ndarray) -> np.ndarray:
    """Label of the nearest core cell for every cell (Euclidean allocation)."""
    _, (ri, ci) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
    return labels[ri, ci]


def _prune_neighbours(links: pd.DataFrame, n: int, keep_connected: bool):
    """Keep each core's n lowest-CWD links; re-add cheapest links that rejoin components."""
    ends = pd.concat([  # one row per (core, link) so each core ranks all its links
        pd.DataFrame({"core": links.a, "cwd": links.cwd, "link": links.index}),
        pd.DataFrame({"core": links.b, "cwd": links.cwd, "link": links.index}),
    ])
    keep = set(ends.sort_values("cwd", kind="stable").groupby("core").head(n).link)
    kept = links.loc[sorted(keep)]
    removed = links.drop(index=sorted(keep))
    if keep_connected and len(removed):
        parent = {}

        def find(x):
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in zip(kept.a, kept.b):
            parent[find(a)] = find(b)
        readd = []
        for idx, row in removed.sort_values("cwd").iterrows():  # Kruskal over the rest
            ra, rb = find(row.a), find(row.b)
            if ra != rb:
                parent[ra] = rb
                readd.append(idx)
        kept = links.loc[sorted(set(kept.index) | set(readd))]
        removed = removed.drop(index=readd)
    return kept, removed


# -- corridor network ----------------------------------------------------------------------
def corridor_network(resistance, cores, *, max_cwd=None, max_neighbors=None, cutoff=None,
                     adjacency="cost", keep_connected: bool = True, connect="eight",
                     progress: bool | None = None) -> CorridorNetwork:
    """Build a Linkage-Mapper-style corridor network between core areas.

    Steps: (1) rasterise the cores; (2) one multi-source Dijkstra gives the cost
    allocation, and cores whose allocation zones touch are candidate pairs (plus pairs
    whose Euclidean allocation zones touch with ``adjacency="both"``); (3) one Dijkstra per
    core gives its cost-distance surface (k cores -> k runs), from which each pair's
    least cost distance (CWD) and least-cost path (LCP) follow; (4) links whose LCP
    crosses a third core's cells, links with CWD > *max_cwd* and unreachable pairs are
    dropped; (5) with *max_neighbors*, each core keeps its N lowest-CWD links (a link
    survives if either end keeps it) and, with *keep_connected*, the cheapest removed
    links that rejoin components are restored (Linkage Mapper's "connect constellations");
    (6) the corridors of the kept links are mosaicked and truncated at *cutoff*.

    Parameters
    ----------
    resistance : xarray.DataArray
        Resistance raster (projected metres, square cells, > 0, NaN impassable).
    cores : geopandas.GeoDataFrame
        Core-area polygons in the raster CRS; ids from a ``core_id`` column, else the index.
    max_cwd : float, optional
        Drop links whose CWD exceeds this (resistance units x metres); also bounds the
        Dijkstra searches, so ``cwd`` maps are ``inf`` beyond ``max_cwd + cutoff``.
    max_neighbors : int, optional
        Keep at most this many lowest-CWD links per core (see step 5).
    cutoff : float, optional
        Corridor width: normalized corridor values above it are NaN. Defaults to
        *max_cwd* (Linkage Mapper's truncated-LCC mosaic); None keeps all values.
    adjacency : {"cost", "euclidean", "both"}
        How candidate pairs are found.
    keep_connected : bool
        After *max_neighbors* pruning, re-add the cheapest links needed to keep each
        connected component of the unpruned network connected.
    connect : {"eight", "four"}
        Neighbourhood of the grid graph.
    progress : bool, optional
        Progress bar over cores (default: the global ``progress`` option).

    Returns
    -------
    CorridorNetwork

    Examples
    --------
    >>> import numpy as np, geopandas as gpd, shapely, tbpa
    >>> from affine import Affine
    >>> r = tbpa.io.from_array(np.ones((10, 30)), transform=Affine(100, 0, 0, 0, -100, 1000),
    ...                        crs="EPSG:3035")
    >>> cores = gpd.GeoDataFrame({"core_id": ["A", "B"]}, crs="EPSG:3035",
    ...     geometry=[shapely.box(0, 300, 300, 700), shapely.box(2700, 300, 3000, 700)])
    >>> net = corridor_network(r, cores, progress=False)
    >>> net.links[["core_a", "core_b", "cwd"]].values.tolist()
    [['A', 'B', 2500.0]]
    """
    surface = prepare(resistance, connect)
    if adjacency not in ("cost", "euclidean", "both"):
        raise ValidationError(
            f"`adjacency` must be 'cost', 'euclidean' or 'both', got {adjacency!r}")
    if max_neighbors is not None and int(max_neighbors) < 1:
        raise ValidationError(f"`max_neighbors` must be >= 1, got {max_neighbors!r}")
    for name, val in (("max_cwd", max_cwd), ("cutoff", cutoff)):
        if val is not None and not val > 0:
            raise ValidationError(f"`{name}` must be > 0, got {val!r}")
    gs = _core_series(cores)
    labels2d, ids = surface.cells(gs, "cores")
    labels = labels2d.ravel()
    present = np.bincount(labels, minlength=len(ids) + 1)[1:]
    if (present == 0).any():
        lost = [ids[k] for k in np.flatnonzero(present == 0)]
        raise ValidationError(f"`cores` {lost[:5]!r} cover no cell of their own (hidden by "
                              "overlapping cores); dissolve or separate overlapping cores")
    width = max_cwd if cutoff is None else cutoff
    limit = None if max_cwd is None else max_cwd + (width or 0.0)

    pairs = _candidate_pairs(surface, labels, labels2d, adjacency)
    records, dropped, cwd = _link_records(surface, labels, ids, pairs, limit, progress)
    links = pd.DataFrame(records, columns=["a", "b", "cwd", "path"])
    if max_cwd is not None and len(links):
        over = links.cwd > max_cwd
        dropped += [(ids[a - 1], ids[b - 1], c, f"cwd > max_cwd ({max_cwd:g})")
                    for a, b, c in links.loc[over, ["a", "b", "cwd"]].itertuples(index=False)]
        links = links.loc[~over]
    if max_neighbors is not None and len(links):
        links, removed = _prune_neighbours(links, int(max_neighbors), keep_connected)
        dropped += [(ids[a - 1], ids[b - 1], c, f"not among {max_neighbors} nearest neighbours")
                    for a, b, c in removed[["a", "b", "cwd"]].itertuples(index=False)]

    links_gdf = _links_frame(surface, links, ids, gs)
    corr = np.full(labels.shape, np.inf)
    for a, b in zip(links.a, links.b):
        nc, _ = normalized_corridor(cwd[a], cwd[b], width)
        np.fmin(corr, nc, out=corr)
    corr[~np.isfinite(corr)] = np.nan
    corridors = surface.to_da(corr, "corridors")
    corridors.attrs.update(units=COST_UNITS, cutoff=float(width) if width else "none")

    graph = nx.Graph()
    for cid, geom in gs.items():
        graph.add_node(cid, area_m2=float(geom.area))
    for row in links_gdf.itertuples(index=False):
        attrs = {c: getattr(row, c) for c in LINK_COLUMNS[2:]}
        graph.add_edge(row.core_a, row.core_b, weight=row.cwd, geometry=row.geometry, **attrs)
    cwd_maps = {}
    blocked = ~surface.passable
    for k, dist in cwd.items():  # in place: the corridors above are already computed
        dist[blocked] = np.nan
        da = surface.to_da(dist, f"cwd_{ids[k - 1]}")
        da.attrs["units"] = COST_UNITS
        cwd_maps[ids[k - 1]] = da
    dropped_df = pd.DataFrame(dropped, columns=["core_a", "core_b", "cwd", "reason"])
    return CorridorNetwork(links=links_gdf, graph=graph, corridors=corridors, cwd=cwd_maps,
                           dropped=dropped_df, cores=gpd.GeoDataFrame(geometry=gs))


def _candidate_pairs(surface, labels, labels2d, adjacency) -> list[tuple[int, int]]:
    eight = surface.n_nb == 8
    pairs: set[tuple[int, int]] = set()
    if adjacency in ("cost", "both"):
        src = np.flatnonzero(labels)
        _, alloc, _ = surface.run(src, labels[src], alloc=True)
        pairs |= _touching_pairs(alloc.reshape(surface.grid.shape), eight)
    if adjacency in ("euclidean", "both"):
        pairs |= _touching_pairs(_euclidean_zones(labels2d), eight)
    return sorted(pairs)


def _link_records(surface, labels, ids, pairs, limit, progress):
    """One Dijkstra per core; CWD, LCP and third-core check for each candidate pair."""
    by_first: dict[int, list[int]] = {}
    for a, b in pairs:
        by_first.setdefault(a, []).append(b)
    needed = sorted({k for p in pairs for k in p})
    # Cells of every core in one pass, instead of a full-grid scan per core and per pair.
    core_cells = {int(k): v[0] for k, v in ndimage.value_indices(labels, ignore_value=0).items()}
    records, dropped, cwd = [], [], {}
    for k in tqdm(needed, desc="core cost distances", disable=not resolve_progress(progress)):
        dist, _, back = surface.run(core_cells[k], back=k in by_first, max_cost=limit)
        cwd[k] = dist
        for j in by_first.get(k, []):
            cells = core_cells[j]
            end = cells[np.argmin(dist[cells])]
            lcd = float(dist[end])
            if not np.isfinite(lcd):
                why = "unreachable" if limit is None else "unreachable within max_cwd"
                dropped.append((ids[k - 1], ids[j - 1], lcd, why))
                continue
            path = trace_backlinks(back, surface.ncols, end)
            third = np.setdiff1d(np.unique(labels[path]), [0, k, j])
            if third.size:
                names = ", ".join(str(ids[t - 1]) for t in third)
                dropped.append((ids[k - 1], ids[j - 1], lcd, f"path crosses core {names}"))
                continue
            records.append((k, j, lcd, path))
    return records, dropped, cwd


def _links_frame(surface, links, ids, gs) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for a, b, c, path in links[["a", "b", "cwd", "path"]].itertuples(index=False):
        line, length = path_cells_to_line(surface, path)
        euclid = float(gs.loc[ids[a - 1]].distance(gs.loc[ids[b - 1]]))
        rows.append({
            "core_a": ids[a - 1], "core_b": ids[b - 1], "cwd": c, "euclid_m": euclid,
            "lcp_length_m": length,
            "cwd_to_euclid": c / euclid if euclid > 0 else np.nan,
            "cwd_to_path_length": c / length if length > 0 else np.nan,
        })
        geoms.append(line)
    frame = pd.DataFrame(rows, columns=LINK_COLUMNS)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=surface.grid.crs)


# -- barrier mapper --------------------------------------------------------------------------
def _disk(radius_cells: float) -> np.ndarray:
    n = int(np.floor(radius_cells))
    off = np.arange(-n, n + 1)
    return (off[:, None] ** 2 + off[None, :] ** 2) <= radius_cells**2 + 1e-9


def barrier_improvement(resistance, a, b, *, radii_m, restored_resistance: float = 1.0,
                        connect="eight", progress: bool | None = None) -> xr.Dataset:
    """Barrier Mapper improvement scores (McRae et al. 2012) between *a* and *b*.

    For a circular window of radius R centred on each cell, restoration is scored as the
    drop in least cost distance per metre restored::

        LCD'(c, R) = min_{p in D(c,R)} CWD_a(p) + min_{q in D(c,R)} CWD_b(q) + 2 R r0
        score(c, R) = max(LCD - LCD'(c, R), 0) / (2 R)

    with D(c, R) the cells whose centres lie within R of c, r0 = *restored_resistance*
    and CWD computed on the unrestored landscape. The two minima are circular
    ``scipy.ndimage.minimum_filter`` passes, so each radius costs two filters, not a
    Dijkstra per window.

    Parameters
    ----------
    resistance : xarray.DataArray
        Resistance raster (projected metres, square cells, > 0, NaN impassable).
    a, b : points or polygons
        The two cores.
    radii_m : sequence of float
        Window radii in metres (> 0).
    restored_resistance : float
        Resistance of restored cells (r0 above).
    connect : {"eight", "four"}
        Neighbourhood of the grid graph.
    progress : bool, optional
        Progress bar over radii.

    Returns
    -------
    xarray.Dataset
        ``improvement_r<R>`` per radius, ``max_improvement`` over radii and
        ``best_radius_m`` (NaN where no radius improves); scores in resistance units
        (cost saved per metre restored). ``attrs["lcd"]`` is the unrestored LCD.

    Examples
    --------
    >>> import numpy as np, tbpa
    >>> from affine import Affine
    >>> res = np.ones((5, 11)); res[:, 5] = 50.0  # a one-cell wall
    >>> r = tbpa.io.from_array(res, transform=Affine(100, 0, 0, 0, -100, 500), crs="EPSG:3035")
    >>> ds = barrier_improvement(r, (50.0, 250.0), (1050.0, 250.0), radii_m=[100])
    >>> float(ds.max_improvement[2, 5])  # LCD 5900 -> 1000: saves 4900 over 200 m
    24.5
    """
    surface = prepare(resistance, connect)
    radii = np.atleast_1d(np.asarray(radii_m, dtype=float))
    if radii.size == 0 or not np.all(radii > 0):
        raise ValidationError(f"`radii_m` must be positive radii in metres, got {radii_m!r}")
    if not restored_resistance > 0:
        raise ValidationError(f"`restored_resistance` must be > 0, got {restored_resistance!r}")
    cwd_a, cwd_b = surface.cost_from(a, "a"), surface.cost_from(b, "b")
    total = cwd_a + cwd_b
    if not np.isfinite(total).any():
        raise ValidationError("barrier_improvement: `b` cannot be reached from `a`; "
                              "no least-cost distance to improve")
    lcd = float(total[np.isfinite(total)].min())
    shape = surface.grid.shape
    ca, cb = cwd_a.reshape(shape), cwd_b.reshape(shape)
    data, names = {}, []
    for radius in tqdm(radii, desc="barrier radii", disable=not resolve_progress(progress)):
        fp = _disk(radius / surface.cell)
        min_a = ndimage.minimum_filter(ca, footprint=fp, mode="constant", cval=np.inf)
        min_b = ndimage.minimum_filter(cb, footprint=fp, mode="constant", cval=np.inf)
        restored = min_a + min_b + 2.0 * radius * restored_resistance
        score = np.maximum(lcd - restored, 0.0) / (2.0 * radius)
        name = f"improvement_r{radius:g}"
        data[name] = surface.to_da(score.ravel(), name)
        names.append(name)
    stack = np.stack([data[n].values for n in names])
    best = stack.max(axis=0)
    best_r = np.where(best > 0, radii[np.argmax(stack, axis=0)], np.nan)
    data["max_improvement"] = surface.to_da(best.ravel(), "max_improvement")
    data["best_radius_m"] = surface.to_da(best_r.ravel(), "best_radius_m")
    ds = xr.Dataset(data)
    ds = ds.rio.write_crs(surface.grid.crs).rio.write_transform(surface.grid.transform)
    ds.attrs.update(lcd=lcd, units="resistance (cost saved per metre restored)",
                    restored_resistance=float(restored_resistance), radii_m=radii.tolist())
    return ds
