"""agreement (confusion matrix, kappa) and landscape_metrics, against hand-worked numbers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import box

import tbpa
from tbpa.errors import CRSError, EmptySelectionError, GridMismatchError
from tbpa.habitat import agreement, landscape_metrics

UTM52 = "EPSG:32652"


def _hab(values, cell=100.0, crs=UTM52, x0=0.0):
    values = np.asarray(values, dtype=np.uint16)
    return tbpa.io.from_array(values, transform=Affine(cell, 0, x0, 0, -cell, values.shape[0] * cell),
                              crs=crs)


A = [[104, 104, 104, 404],
     [104, 404, 404, 404],
     [1401, 1401, 404, 0]]
B = [[104, 104, 1401, 404],
     [104, 404, 404, 1401],
     [1401, 104, 404, 404]]


def test_confusion_matrix_and_kappa_by_hand():
    # Cell (2,3) is nodata in A -> 11 cells. Pairs (a, b):
    #   104: (104,104) x3, (104,1401) x1           -> row 104  = [3, 0, 1], total 4
    #   404: (404,404) x4, (404,1401) x1           -> row 404  = [0, 4, 1], total 5
    #   1401: (1401,1401) x1, (1401,104) x1        -> row 1401 = [1, 0, 1], total 2
    # column totals 104: 4, 404: 4, 1401: 3; diagonal 3 + 4 + 1 = 8.
    # p_o = 8/11; p_e = (4*4 + 5*4 + 2*3) / 121 = 42/121; kappa = (88 - 42) / (121 - 42) = 46/79.
    r = agreement(_hab(A), _hab(B))
    assert r.n == 11
    assert r.table.to_numpy().tolist() == [[3, 0, 1], [0, 4, 1], [1, 0, 1]]
    assert r.table.index.tolist() == [104, 404, 1401]
    assert r.overall == pytest.approx(8 / 11)
    assert r.kappa == pytest.approx(46 / 79)
    pc = r.per_class
    assert pc.producers.tolist() == pytest.approx([3 / 4, 4 / 5, 1 / 2])
    assert pc.users.tolist() == pytest.approx([3 / 4, 4 / 4, 1 / 3])
    assert pc.loc[104, "name_en"] == "Forest - Temperate"
    text = repr(r)
    assert "11 cells" in text and "72.7%" in text and "0.582" in text


def test_identical_maps_and_single_class():
    r = agreement(_hab(A), _hab(A))
    assert r.overall == 1.0 and r.kappa == pytest.approx(1.0)
    one = agreement(_hab([[104, 104]]), _hab([[104, 104]]))
    assert one.overall == 1.0 and np.isnan(one.kappa)


def test_within_polygon_restricts_cells():
    # only the left two columns (x < 200 m): pairs 104-104 x3, 104-104... by hand:
    # (0,0) 104/104 (0,1) 104/104 (1,0) 104/104 (1,1) 404/404 (2,0) 1401/1401 (2,1) 1401/104
    r = agreement(_hab(A), _hab(B), within=box(0, 0, 200, 300))
    assert r.n == 6
    assert r.overall == pytest.approx(5 / 6)
    gdf = gpd.GeoDataFrame(geometry=[box(0, 0, 200, 300)], crs=UTM52).to_crs(4326)
    assert agreement(_hab(A), _hab(B), within=gdf).n == 6


def test_dataset_input_and_nan():
    ds = _hab(A).to_dataset(name="habitat")
    b = _hab(B).astype(float)
    b.values[0, 0] = np.nan
    assert agreement(ds, b).n == 10


def test_grid_mismatch_and_empty():
    with pytest.raises(GridMismatchError):
        agreement(_hab(A), _hab(B, x0=100.0))
    with pytest.raises(GridMismatchError):
        agreement(_hab(A), _hab(B, crs="EPSG:32653"))
    with pytest.raises(EmptySelectionError):
        agreement(_hab([[0, 104]]), _hab([[104, 0]]))


# -- landscape metrics -----------------------------------------------------------------------
H = [[104, 0, 104],
     [0, 104, 0],
     [404, 404, 0]]


def test_metrics_by_hand():
    # 100 m cells = 1 ha. The three 104 cells touch only diagonally: one 8-connected patch
    # of 3 ha (4-connectivity would give three). 404: one patch of 2 ha. Mapped area 5 ha.
    # Jaeger mesh: 104 -> 3^2 / 5 = 1.8 ha; 404 -> 2^2 / 5 = 0.8 ha.
    zones = gpd.GeoDataFrame({"name": ["all", "left"]},
                             geometry=[box(0, 0, 300, 300), box(0, 0, 100, 300)], crs=UTM52)
    m = landscape_metrics(_hab(H), zones, zone_id="name", progress=False)
    full = m[m.zone == "all"].set_index("code")
    assert full.loc[104, "area_ha"] == pytest.approx(3)
    assert full.loc[104, "n_patches"] == 1
    assert full.loc[104, "largest_patch_ha"] == pytest.approx(3)
    assert full.loc[104, "mesh_ha"] == pytest.approx(1.8)
    assert full.loc[404, "mesh_ha"] == pytest.approx(0.8)
    assert full.loc[404, "zone_area_ha"] == pytest.approx(5)
    # left column: 104 (1 ha), nodata, 404 (1 ha): cut-out patches, A_total = 2 ha
    left = m[m.zone == "left"].set_index("code")
    assert left.loc[104, "area_ha"] == pytest.approx(1) and left.loc[104, "mesh_ha"] == pytest.approx(0.5)
    assert left.loc[404, "area_ha"] == pytest.approx(1) and left.loc[404, "mesh_ha"] == pytest.approx(0.5)


def test_metrics_two_patches_and_units():
    # two separate 404 patches of 2 and 1 cells at 200 m (4 ha cells); 4 mapped cells = 16 ha,
    # mesh = (8^2 + 4^2) / 16 = 5 ha
    hab = _hab([[404, 404, 104, 404]], cell=200.0)
    zones = gpd.GeoDataFrame(geometry=[box(0, 0, 800, 200)], crs=UTM52)
    m = landscape_metrics(hab, zones).set_index("code")
    assert m.loc[404, "n_patches"] == 2
    assert m.loc[404, "largest_patch_ha"] == pytest.approx(8)
    assert m.loc[404, "mesh_ha"] == pytest.approx(80 / 16)
    assert m.loc[104, "mesh_ha"] == pytest.approx(16 / 16)


def test_metrics_need_metres():
    hab = _hab(H, cell=0.01, crs="EPSG:4326")
    zones = gpd.GeoDataFrame(geometry=[box(0, 0, 0.03, 0.03)], crs="EPSG:4326")
    with pytest.raises(CRSError):
        landscape_metrics(hab, zones)
