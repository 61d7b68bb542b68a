"""Turn points and polygons (sources, targets, focal nodes, cores) into grid cells."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from rasterio import features as rio_features

from ._grid import GridSpec
from .errors import CRSError, EmptySelectionError, ValidationError

__all__ = ["FeatureCells", "features_to_cells", "as_geoseries", "footprint"]


@dataclass
class FeatureCells:
    """Cells covered by each feature.

    Attributes
    ----------
    labels : numpy.ndarray
        int32 array of the grid's shape: 0 = no feature, k = feature ``ids[k - 1]``.
        Where features overlap, the later one wins.
    ids : list
        Feature ids in label order (the GeoDataFrame index, or 1..n).
    """

    labels: np.ndarray
    ids: list

    def cells(self, k: int) -> np.ndarray:
        """Flat indices of the cells of the k-th feature (0-based position in ``ids``)."""
        return np.flatnonzero(self.labels.ravel() == k + 1)


def footprint(bounds, crs, parts: int = 64) -> gpd.GeoSeries:
    """The rectangle *bounds* = (minx, miny, maxx, maxy) in *crs* as a one-row GeoSeries.

    Its edges are cut into about *parts* pieces, so that reprojecting it (``.to_crs``) bends
    them with the projection instead of joining the four corners by straight lines.
    """
    minx, miny, maxx, maxy = bounds
    step = max(maxx - minx, maxy - miny) / parts
    return gpd.GeoSeries([shapely.box(minx, miny, maxx, maxy).segmentize(step)], crs=crs)


def as_geoseries(features, grid_crs: CRS, name: str) -> gpd.GeoSeries:
    """Coerce points/polygons input to a GeoSeries in the grid CRS (CRS must already match).

    Accepts a GeoDataFrame/GeoSeries (its CRS must equal the grid's), a shapely geometry, a
    list of shapely geometries, an (x, y) tuple or an (n, 2) array of coordinates; the last
    three are taken to be in the grid CRS.
    """
    if isinstance(features, gpd.GeoDataFrame):
        gs = features.geometry
    elif isinstance(features, gpd.GeoSeries):
        gs = features
    else:
        if isinstance(features, shapely.Geometry):
            geoms = [features]
        elif isinstance(features, tuple) and len(features) == 2 and np.isscalar(features[0]):
            geoms = [shapely.Point(features)]
        else:
            arr = features if isinstance(features, list) else np.asarray(features)
            if isinstance(arr, np.ndarray) and arr.dtype != object:
                arr = np.atleast_2d(arr)
                if arr.shape[1] != 2:
                    raise ValidationError(f"`{name}`: coordinates must be (n, 2), got {arr.shape}")
                geoms = list(shapely.points(arr))
            else:
                geoms = list(arr)
        gs = gpd.GeoSeries(geoms, crs=grid_crs, index=range(1, len(geoms) + 1))
    if len(gs) == 0:
        raise EmptySelectionError(f"`{name}` is empty; pass at least one point or polygon")
    if gs.crs is None:
        raise CRSError(f"`{name}` has no CRS; set it with .set_crs(...) (the raster is {grid_crs.to_string()})")
    if CRS.from_user_input(gs.crs) != grid_crs:
        raise CRSError(
            f"`{name}` is in {CRS.from_user_input(gs.crs).to_string()} but the raster is in "
            f"{grid_crs.to_string()}; reproject with {name}.to_crs(raster.rio.crs)"
        )
    if gs.is_empty.any() or gs.isna().any():
        raise ValidationError(f"`{name}` has empty or missing geometries at {list(gs.index[gs.is_empty | gs.isna()])}")
    return gs


def features_to_cells(features, grid: GridSpec, name: str = "features", *, all_touched: bool = False) -> FeatureCells:
    """Rasterise points and polygons onto *grid*.

    Points take the cell they fall in; polygons take every cell whose centre they contain
    (plus, for polygons too small to contain a centre, the cell of their centroid) so that
    no feature vanishes. Raises ValidationError when a feature lies outside the grid.
    """
    gs = as_geoseries(features, grid.crs, name)
    labels = np.zeros(grid.shape, dtype=np.int32)
    for k, geom in enumerate(gs.values, start=1):
        if geom.geom_type in ("Point", "MultiPoint"):
            pts = shapely.get_coordinates(geom)
            r, c = grid.rowcol(pts[:, 0], pts[:, 1])
            inside = grid.contains(r, c)
            if not inside.all():
                raise ValidationError(
                    f"`{name}` feature {gs.index[k - 1]!r} at {pts[~inside][0].tolist()} lies outside "
                    f"the raster (bounds {grid.bounds}); clip or move it"
                )
            labels[r, c] = k
            continue
        mask = rio_features.geometry_mask(
            [geom], out_shape=grid.shape, transform=grid.transform, invert=True, all_touched=all_touched
        )
        if not mask.any():
            p = geom.representative_point()
            r, c = grid.rowcol(p.x, p.y)
            if not grid.contains(r, c):
                raise ValidationError(
                    f"`{name}` feature {gs.index[k - 1]!r} lies outside the raster (bounds {grid.bounds})"
                )
            mask[r, c] = True
        labels[mask] = k
    return FeatureCells(labels=labels, ids=list(gs.index))
