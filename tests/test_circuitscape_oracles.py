"""Circuitscape.jl's own verification cases through tbpa.circuitscape.run_ini.

Expected outputs come from Circuitscape (../shared/oracles/circuitscape, MIT). Compared with
Circuitscape's own rules (test/test_utils.jl): resistances within 1e-3; grids: skip the six
header lines, sum of squared differences < 1e-6; every expected ``NAME_*`` file produced.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path

CASES = ([("pairwise", i) for i in range(1, 11)] + [("one_to_all", i) for i in range(1, 9)]
         + [("all_to_one", i) for i in range(1, 9)])


@pytest.fixture(scope="module")
def cs_tree(tmp_path_factory):
    """A private copy of the oracle ``test/`` tree (Circuitscape runs with it as cwd)."""
    src = shared_path("oracles", "circuitscape", "test")
    dst = tmp_path_factory.mktemp("circuitscape") / "test"
    shutil.copytree(src / "input", dst / "input")
    (dst / "output").mkdir()
    return dst


def _table(path: Path, skip: int) -> np.ndarray:
    return np.loadtxt(path, skiprows=skip, ndmin=2)


@pytest.mark.parametrize("mode,case", CASES, ids=[f"{m}-{c}" for m, c in CASES])
def test_verify_case(mode, case, cs_tree, monkeypatch):
    from tbpa.circuitscape import run_ini

    verify = shared_path("oracles", "circuitscape", "test", "output_verify")
    monkeypatch.chdir(cs_tree)
    (ini,) = sorted((cs_tree / "input" / "raster" / mode / str(case)).glob("*.ini"))
    name = ini.stem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_ini(ini.relative_to(cs_tree), progress=False)
    expected = sorted(verify.glob(f"{name}_*"))
    assert expected, f"no expected outputs for {name}"
    for exp in expected:
        got = cs_tree / "output" / exp.name
        assert got.exists(), f"{exp.name} was not produced"
        if exp.suffix == ".out":
            a, b = _table(exp, 0), _table(got, 0)
            assert a.shape == b.shape, exp.name
            np.testing.assert_allclose(b, a, atol=1e-3, rtol=0, err_msg=exp.name)
        else:
            a, b = _table(exp, 6), _table(got, 6)
            assert a.shape == b.shape, exp.name
            assert ((a - b) ** 2).sum() < 1e-6, exp.name


def test_outputs_are_circuitscape_formatted(cs_tree, monkeypatch):
    """Resistance matrix: ids in first row/column with 0 top-left; grids: 6-line header."""
    from tbpa.circuitscape import run_ini

    monkeypatch.chdir(cs_tree)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run_ini("input/raster/pairwise/2/sgVerify2.ini", progress=False)
    mat = out["resistances"]
    assert mat[0, 0] == 0
    np.testing.assert_array_equal(mat[0, 1:], mat[1:, 0])
    head = (cs_tree / "output" / "sgVerify2_cum_curmap.asc").read_text().splitlines()[:6]
    assert [h.split()[0] for h in head] == ["ncols", "nrows", "xllcorner", "yllcorner",
                                            "cellsize", "NODATA_value"]


def test_cli_runs_ini(cs_tree, monkeypatch, capsys):
    from tbpa.cli import main

    monkeypatch.chdir(cs_tree)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["circuitscape", "input/raster/one_to_all/4/oneToAllVerify4.ini", "--no-progress"])
    assert code == 0
    assert "oneToAllVerify4_resistances.out" in capsys.readouterr().out
