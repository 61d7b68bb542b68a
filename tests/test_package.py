"""Data packages: GeoPackage layers + QGIS styles, valid COGs, metadata, atomicity."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine

import tbpa
from tbpa.errors import CRSError, EmptySelectionError, ValidationError
from tbpa.io import write_package


@pytest.fixture(scope="module")
def tumen():
    return tbpa.sites.load_landscape("tumen_estuary")


@pytest.fixture
def rasters(tumen):
    minx, _, _, maxy = tumen.aoi.bounds
    codes = np.where(np.add.outer(np.arange(300), np.arange(300)) % 50 < 25, 104, 504).astype("int16")
    t = Affine(100, 0, minx, 0, -100, maxy)
    current = np.random.default_rng(0).gamma(2.0, size=(300, 300))
    return {"habitat": tbpa.io.from_array(codes, transform=t, crs=tumen.crs),
            "current": tbpa.io.from_array(current, transform=t, crs=tumen.crs)}


def test_package_round_trip(tmp_path, tumen, rasters):
    out = write_package(tmp_path / "pkg", vectors={"countries": tumen.countries, "sites": tumen.sites,
                                                    "options": tbpa.sites.load_tumen_options(crs=tumen.crs)},
                        rasters=rasters, metadata={"species": "hooded_crane", "resolution_m": 100})
    layers = {name for name, _ in pyogrio.list_layers(out / "vectors.gpkg")}
    assert {"countries", "sites", "options", "layer_styles"} <= layers
    sites = pyogrio.read_dataframe(out / "vectors.gpkg", layer="sites")
    assert len(sites) == len(tumen.sites) and sites.crs == tumen.crs
    with sqlite3.connect(out / "vectors.gpkg") as con:
        styles = dict(con.execute("select f_table_name, styleQML from layer_styles").fetchall())
        kinds = dict(con.execute("select table_name, data_type from gpkg_contents").fetchall())
    assert set(styles) == {"countries", "sites", "options"} and kinds["layer_styles"] == "attributes"
    root = ET.fromstring(styles["sites"].split("\n", 1)[1])
    assert root.find("renderer-v2").get("attr") == "iso3"
    for name in ("habitat", "current"):
        with rasterio.open(out / "rasters" / f"{name}.tif") as src:
            assert src.profile["tiled"] and src.overviews(1), "COG must be tiled with overviews"
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.compression.name.upper() == "DEFLATE"
            assert src.crs is not None
        ET.parse(out / "rasters" / f"{name}.qml")  # well-formed QGIS style
    palette = ET.parse(out / "rasters" / "habitat.qml").getroot().findall(".//paletteEntry")
    assert sorted(int(e.get("value")) for e in palette) == [104, 504]
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["tbpa_version"] == tbpa.__version__ and meta["parameters"]["resolution_m"] == 100
    assert {v["name"] for v in meta["vectors"]} == {"countries", "sites", "options"}


def test_failure_leaves_no_half_package(tmp_path, tumen, rasters, monkeypatch):
    target = tmp_path / "pkg"
    write_package(target, vectors={"sites": tumen.sites})
    before = sorted(p.name for p in target.iterdir())

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("tbpa.io.package._write_rasters", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_package(target, vectors={"sites": tumen.sites}, rasters=rasters)
    assert sorted(p.name for p in target.iterdir()) == before   # old package intact
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]      # no temporary left behind


def test_bad_input(tmp_path, tumen, rasters):
    with pytest.raises(EmptySelectionError):
        write_package(tmp_path / "p")
    with pytest.raises(ValidationError, match="layer name"):
        write_package(tmp_path / "p", vectors={"bad name": tumen.sites})
    with pytest.raises(CRSError):
        write_package(tmp_path / "p", vectors={"sites": tumen.sites.set_crs(None, allow_override=True)})
    with pytest.raises(CRSError):
        import xarray as xr

        write_package(tmp_path / "p", rasters={"r": xr.DataArray(np.ones((3, 3)), dims=("y", "x"))})
    assert not (tmp_path / "p").exists()
