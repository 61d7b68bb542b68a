"""Unified legend, crosswalk tables and reclassify.

The official code lists below are typed from each product's documentation, independently of
the crosswalk CSVs, so a code dropped from a table fails here.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from affine import Affine

import tbpa
from tbpa.errors import CRSError, DataError, GridMismatchError, TbpaWarning, UnknownSchemeError
from tbpa.habitat import crosswalk, latitude_layer, legend, reclassify, schemes

# ESA WorldCover v100/v200 PUM: 11 classes, 0 = no data.
WORLDCOVER = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
# ESA CCI LC PUG v2: LCCS level-1 and regional level-2 classes, 0 = no data.
CCI = [0, 10, 11, 12, 20, 30, 40, 50, 60, 61, 62, 70, 71, 72, 80, 81, 82, 90, 100, 110, 120,
       121, 122, 130, 140, 150, 151, 152, 153, 160, 170, 180, 190, 200, 201, 202, 210, 220]
# MODIS IGBP: MCD12Q1 LC_Type1 1-17 + 255 unclassified; MCD12C1 majority layer uses 0 for water.
MODIS = list(range(0, 18)) + [255]
# Copernicus CGLS-LC100 v3 discrete_classification.
CGLS = [0, 20, 30, 40, 50, 60, 70, 80, 90, 100, 111, 112, 113, 114, 115, 116,
        121, 122, 123, 124, 125, 126, 200]
GLOBELAND30 = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255]
CLCD = list(range(0, 10))
# GB/T 21010-2017: 12 level-1 and 73 level-2 classes (raster value = code without leading 0).
GBT_L2 = [101, 102, 103, 201, 202, 203, 204, 301, 302, 303, 304, 305, 306, 307,
          401, 402, 403, 404, 501, 502, 503, 504, 505, 506, 507, 601, 602, 603, 604, 701, 702,
          801, 802, 803, 804, 805, 806, 807, 808, 809, 810, 901, 902, 903, 904, 905, 906,
          1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009,
          1101, 1102, 1103, 1104, 1105, 1106, 1107, 1108, 1109, 1110,
          1201, 1202, 1203, 1204, 1205, 1206, 1207]
GBT = [0] + list(range(1, 13)) + GBT_L2
# TerraNorte RLC: 22 classes (codes unverified, see data/habitat/README.md) + fill values.
TERRANORTE = list(range(0, 23)) + [255]
MONGOLIA_MP14 = list(range(0, 15))

OFFICIAL = {
    "esa_worldcover": WORLDCOVER, "esa_cci": CCI, "modis_igbp": MODIS, "cgls_lc100": CGLS,
    "globeland30": GLOBELAND30, "clcd": CLCD, "gbt21010": GBT, "terranorte": TERRANORTE,
    "mongolia_mp14": MONGOLIA_MP14,
}
NODATA_CODES = {"esa_worldcover": [0], "esa_cci": [0], "modis_igbp": [255], "cgls_lc100": [0],
                "globeland30": [0, 255], "clcd": [0], "gbt21010": [0], "terranorte": [0, 255],
                "mongolia_mp14": [0]}


# -- legend ----------------------------------------------------------------------------------
def test_gbt_has_73_level2_classes():
    assert len(GBT_L2) == 73 and len(set(GBT_L2)) == 73


def test_legend_has_every_iucn_class_with_jung_codes():
    lg = legend()
    codes = set(lg.code)
    assert {k * 100 for k in range(1, 19)} <= codes
    counts = {1: 9, 2: 2, 3: 8, 4: 7, 5: 18, 7: 2, 8: 3, 9: 10, 10: 4, 11: 6, 12: 7, 13: 5,
              14: 6, 15: 13}
    for k, n in counts.items():
        assert {k * 100 + j for j in range(1, n + 1)} <= codes, k
    l2 = legend(level=2)
    assert len(l2) == sum(counts.values())
    assert len(legend(level=1)) == 18
    for row in lg[lg.level > 0].itertuples():
        parts = row.iucn_label.split(".")
        expect = int(parts[0]) * 100 + (int(parts[1]) if len(parts) > 1 else 0)
        assert row.code == expect
    assert lg.loc[lg.code == 0, "level"].item() == 0
    assert lg.loc[lg.code == 104, "iucn_label"].item() == "1.4"
    assert lg.loc[lg.code == 1401, "name_en"].item().endswith("Arable land")


def test_legend_colours_and_names():
    lg = legend()
    assert lg.colour.str.fullmatch(r"#[0-9a-f]{6}").all()
    ne = lg[lg.occurs_ne_asia]
    assert ne.colour.is_unique
    assert {101, 104, 504, 1204, 1401, 1508}.issubset(set(ne.code))
    assert (lg.name_zh.str.len() > 0).all() and (lg.name_ru.str.len() > 0).all()
    assert re.search("[\u4e00-\u9fff]", lg.loc[lg.code == 104, "name_zh"].item())
    assert re.search("[а-яА-Я]", lg.loc[lg.code == 104, "name_ru"].item())


def test_iucn_code_and_level1():
    assert tbpa.habitat.iucn_code("14.1") == 1401
    assert tbpa.habitat.iucn_code("5.10") == 510
    assert tbpa.habitat.to_level1(np.array([510, 1401, 0])).tolist() == [500, 1400, 0]


# -- crosswalk tables ------------------------------------------------------------------------
def test_schemes_list():
    assert sorted(OFFICIAL) == schemes()


@pytest.mark.parametrize("scheme", sorted(OFFICIAL))
def test_every_official_code_is_crosswalked(scheme):
    cw = crosswalk(scheme)
    assert set(OFFICIAL[scheme]) == set(cw.source_code)


@pytest.mark.parametrize("scheme", sorted(OFFICIAL))
def test_weights_targets_and_nodata(scheme):
    cw = crosswalk(scheme)
    sums = cw.groupby("source_code").weight.sum()
    assert np.allclose(sums.to_numpy(), 1.0)
    assert (cw.weight > 0).all()
    assert set(cw.target_code) <= set(legend().code)
    assert set(cw.certainty) <= {"V", "U"}
    for code in NODATA_CODES[scheme]:
        rows = cw[cw.source_code == code]
        assert rows.target_code.tolist() == [0] and rows.weight.tolist() == [1.0]
    # nothing but a nodata code may map to nodata
    assert set(cw.loc[cw.target_code == 0, "source_code"]) == set(NODATA_CODES[scheme])


def test_ambiguous_classes_have_several_targets():
    wc = crosswalk("esa_worldcover")
    assert set(wc.loc[wc.source_code == 90, "target_code"]) == {504, 1205, 1508}
    assert set(wc.loc[wc.source_code == 10, "target_code"]) == {104, 101}
    gb = crosswalk("gbt21010")
    assert gb.loc[gb.source_code == 101, "target_code"].tolist() == [1508]  # paddy
    assert set(gb.loc[gb.source_code == 1105, "target_code"]) == {1204, 1205}


def test_unknown_scheme_suggests_close_names():
    with pytest.raises(UnknownSchemeError, match="esa_worldcover"):
        crosswalk("esa_worldcovr")
    with pytest.raises(UnknownSchemeError, match="globeland30"):
        reclassify(tbpa.io.from_array(np.zeros((2, 2), "uint8"), transform=Affine(1, 0, 0, 0, -1, 2),
                                      crs="EPSG:4326"), "globland30")
    assert crosswalk("MCD12Q1").equals(crosswalk("modis_igbp"))


# -- reclassify ------------------------------------------------------------------------------
def _wc(values, dtype="uint8", nodata=None):
    da = tbpa.io.from_array(np.array(values, dtype=dtype), transform=Affine(10, 0, 0, 0, -10, 30),
                            crs="EPSG:32652")
    if nodata is not None:
        da = da.rio.write_nodata(nodata)
    return da


def test_reclassify_hand_built():
    da = _wc([[10, 20, 30], [40, 50, 60], [80, 90, 0]])
    out = reclassify(da, "esa_worldcover")
    # highest-weight target of each class, read off the WorldCover documentation mapping
    assert out.values.tolist() == [[104, 304, 404], [1401, 1405, 802], [505, 504, 0]]
    assert out.dtype == np.uint16
    assert out.rio.crs == da.rio.crs and out.rio.transform() == da.rio.transform()
    assert out.rio.nodata == 0
    ds = reclassify(da, "esa_worldcover", return_weight=True)
    # water 80 without a `sea` layer: 505 (.5, the highest of 505 .5 / 501 .2 / 901 .1 / ...)
    np.testing.assert_allclose(ds.weight.values, [[0.75, 0.8, 0.8], [0.8, 1.0, 0.5], [0.5, 0.6, 0.0]])


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "int64", "float32"])
def test_reclassify_dtypes_agree_with_dictionary_oracle(dtype, rng):
    cw = crosswalk("esa_cci")
    best = cw.loc[cw.groupby("source_code").weight.idxmax()]  # idxmax: first row on ties
    mapping = dict(zip(best.source_code, best.target_code))
    codes = np.array(sorted(mapping))
    values = rng.choice(codes, size=(40, 50)).astype(dtype)
    out = reclassify(_wc(values, dtype), "esa_cci").values
    expect = np.vectorize(mapping.get)(values.astype(int))
    np.testing.assert_array_equal(out, expect)


def test_reclassify_nan_and_declared_nodata():
    f = _wc([[10, np.nan], [80, 20]], dtype="float64")
    assert reclassify(f, "esa_worldcover").values.tolist() == [[104, 0], [505, 304]]
    # a declared nodata value wins even when it is also a class code (MCD12C1 water = 0)
    m = _wc([[0, 1], [255, 12]], nodata=0)
    assert reclassify(m, "modis_igbp").values.tolist() == [[0, 104], [0, 1401]]
    with pytest.raises(DataError, match="non-integer"):
        reclassify(_wc([[10.5, 20]], dtype="float64"), "esa_worldcover")


def test_unknown_codes_error_names_code_and_count():
    da = _wc([[10, 12, 12], [12, 99, 10], [10, 10, 10]])
    with pytest.raises(DataError) as err:
        reclassify(da, "esa_worldcover")
    msg = str(err.value)
    assert "12 (3 cells)" in msg and "99 (1 cells)" in msg and "unknown='nodata'" in msg
    with pytest.warns(TbpaWarning, match="12 \\(3 cells\\)"):
        out = reclassify(da, "esa_worldcover", unknown="nodata")
    assert out.attrs["unknown_codes"] == {12: 3, 99: 1}
    assert out.values.tolist() == [[104, 0, 0], [0, 0, 104], [104, 104, 104]]


def test_raster_without_crs():
    import xarray as xr

    da = xr.DataArray(np.array([[10, 20]], dtype="uint8"), dims=("y", "x"))
    with pytest.raises(CRSError, match="no CRS"):
        reclassify(da, "esa_worldcover")


def test_ancillary_rules_hand_worked():
    # WorldCover 90 (herbaceous wetland): 504 w.6 if coast_dist_m>=3000, 1205 w.2 if <3000,
    # 1508 w.2 without rule. Near the coast 504 is ruled out: 1205 wins with weight
    # .2 / (.2 + .2) = .5. Inland 1205 is ruled out: 504 wins with .6 / (.6 + .2) = .75.
    # WorldCover 10 (tree cover): 104 if lat<50, 101 if lat>=50; one is always ruled out -> 1.
    da = _wc([[90, 90], [10, 10]])
    coast = da.copy(data=np.array([[1000.0, 10000.0], [0, 0]]))
    lat = da.copy(data=np.array([[45.0, 45.0], [43.0, 52.0]]))
    ds = reclassify(da, "esa_worldcover", ancillary={"coast_dist_m": coast, "lat": lat},
                    return_weight=True)
    assert ds.habitat.values.tolist() == [[1205, 504], [104, 101]]
    np.testing.assert_allclose(ds.weight.values, [[0.5, 0.75], [1.0, 1.0]])
    # a NaN ancillary value fails its rule; other rows stay possible
    nan_coast = coast.copy(data=np.array([[np.nan, np.nan], [0, 0]]))
    out = reclassify(da, "esa_worldcover", ancillary={"coast_dist_m": nan_coast})
    assert out.values[0].tolist() == [1508, 1508]
    # layers a rule needs but that are absent leave that rule undecided
    out = reclassify(da, "esa_worldcover", ancillary={"lat": lat})
    assert out.values[0].tolist() == [504, 504]


def test_latitude_layer_drives_forest_split():
    da = tbpa.io.from_array(np.full((3, 1), 10, "uint8"), transform=Affine(1, 0, 130, 0, -3, 56),
                            crs="EPSG:4326")
    lat = latitude_layer(da)
    np.testing.assert_allclose(lat.values[:, 0], [54.5, 51.5, 48.5])
    out = reclassify(da, "esa_worldcover", ancillary={"lat": lat})
    assert out.values[:, 0].tolist() == [101, 101, 104]


def test_ancillary_must_share_the_grid():
    da = _wc([[10, 20], [30, 40]])
    with pytest.raises(GridMismatchError):
        reclassify(da, "esa_worldcover", ancillary={"lat": np.zeros((3, 3))})


def test_level1_merges_targets():
    da = _wc([[10, 80], [90, 40]])
    ds = reclassify(da, "esa_worldcover", level=1, return_weight=True)
    assert ds.habitat.values.tolist() == [[100, 500], [500, 1400]]
    # water 80: 505 .5 + 501 .2 + 514 .1 are all Wetlands (500): .8 (901 .1 and 1501 .1 are
    # other level-1 classes); wetland 90: 504 .6 -> .6
    np.testing.assert_allclose(ds.weight.values, [[1.0, 0.8], [0.6, 0.8]])


def test_reclassify_does_not_modify_input():
    da = _wc([[10, 20], [30, 40]])
    before = da.values.copy()
    reclassify(da, "esa_worldcover", return_weight=True)
    np.testing.assert_array_equal(da.values, before)


def test_cli_schemes_and_reclassify(tmp_path, capsys):
    from tbpa.cli import main

    assert main(["habitat", "schemes"]) == 0
    assert "esa_worldcover" in capsys.readouterr().out
    src = tmp_path / "wc.tif"
    tbpa.io.write_raster(_wc([[10, 50], [80, 0]]), src)
    out = tmp_path / "hab.tif"
    assert main(["habitat", "reclassify", str(src), "--scheme", "esa_worldcover", "--out", str(out)]) == 0
    back = tbpa.io.read_raster(out, masked=False)
    assert back.values.tolist() == [[104, 1405], [505, 0]]
    assert main(["habitat", "reclassify", str(src), "--scheme", "worldcovr", "--out", str(out)]) == 2
    assert "esa_worldcover" in capsys.readouterr().err


def test_warnings_are_not_raised_for_clean_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reclassify(_wc([[10, 20], [30, 40]]), "esa_worldcover")
