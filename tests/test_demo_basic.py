"""``tbpa demo`` (boundaries stage): files for every landscape, written atomically."""

from __future__ import annotations

import pyogrio
import pytest

from tbpa.demo import STAGES, run_demo
from tbpa.errors import UnknownNameError
from tbpa.sites import LANDSCAPES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, progress=False)


def test_demo_writes_every_landscape(demo):
    out, written = demo
    assert STAGES[0][0] == "boundaries"
    assert set(written) == {f"{n}/{k}" for n in LANDSCAPES for k in ("gpkg", "map")}
    for name in LANDSCAPES:
        gpkg = out / f"{name}.gpkg"
        assert written[f"{name}/gpkg"] == gpkg and gpkg.stat().st_size > 0
        layers = {row[0] for row in pyogrio.list_layers(gpkg)}
        assert {"countries", "sites", "borders", "aoi"} <= layers
        png = out / f"{name}_overview.png"
        assert written[f"{name}/map"] == png
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 20_000
    # atomic writes leave no temporary files behind
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_demo_gpkg_content(demo):
    import geopandas as gpd

    out, _ = demo
    sites = gpd.read_file(out / "tumen_estuary.gpkg", layer="sites")
    assert set(sites.site_id) == {"RASON", "FANGCHUAN", "JINGXIN", "KHASANSKY", "MALOYE_MRAMORNOYE"}
    assert (sites.geometry_quality == "schematic").all()
    assert sites.crs.is_projected
    opts = gpd.read_file(out / "tumen_estuary.gpkg", layer="tumen_options")
    assert list(opts.option_id) == ["A", "B", "C"]
    borders = gpd.read_file(out / "land_of_big_cats.gpkg", layer="borders")
    assert ("CHN", "RUS") in set(zip(borders.iso3_a, borders.iso3_b))
    assert (borders.length_m > 0).all()


def test_demo_cli_subset(tmp_path, capsys):
    from tbpa.cli import main

    assert main(["demo", "--out", str(tmp_path / "d"), "--landscape", "khanka", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "khanka/gpkg" in out and str(tmp_path / "d") in out
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["khanka.gpkg", "khanka_overview.png"]
    with pytest.raises(UnknownNameError):
        run_demo(tmp_path / "e", landscapes=["nowhere"])
