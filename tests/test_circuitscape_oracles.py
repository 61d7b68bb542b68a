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
    _check_case(mode, case, cs_tree, monkeypatch)


@pytest.mark.parametrize("method", ["superpose", "per_pair"])
@pytest.mark.parametrize("case", range(1, 11))
def test_pairwise_focal_region_methods(case, method, cs_tree, monkeypatch):
    """Both focal-region methods (one factorisation / one graph per pair) pass every case."""
    from tbpa.connectivity import circuit

    monkeypatch.setattr(circuit, "_region_method", lambda *args: method)
    _check_case("pairwise", case, cs_tree, monkeypatch)


def _check_case(mode, case, cs_tree, monkeypatch):
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
        code = main(["circuitscape", "input/raster/one_to_all/4/oneToAllVerify4.ini",
                     "--no-progress"])
    assert code == 0
    assert "oneToAllVerify4_resistances.out" in capsys.readouterr().out


# --------------------------------------------------------------- hand-made INI files
def _asc(path, arr, nodata=-9999):
    arr = np.asarray(arr, dtype=float)
    head = (f"ncols {arr.shape[1]}\nnrows {arr.shape[0]}\nxllcorner 0\nyllcorner 0\n"
            f"cellsize 1\nNODATA_value {nodata}\n")
    body = "\n".join(" ".join(f"{v:g}" for v in row) for row in arr)
    if str(path).endswith(".gz"):
        import gzip

        with gzip.open(path, "wt") as fh:
            fh.write(head + body + "\n")
    else:
        Path(path).write_text(head + body + "\n")


def _ini(path, **opts):
    lines = ["[Circuitscape mode]"] + [f"{k} = {v}" for k, v in opts.items()]
    Path(path).write_text("\n".join(lines) + "\n")


def test_network_pairwise_and_advanced(tmp_path, monkeypatch):
    from tbpa.circuitscape import run_ini

    monkeypatch.chdir(tmp_path)
    Path("graph.txt").write_text("10 11 1\n11 12 2\n12 13 1\n10 13 8\n")
    Path("focal.txt").write_text("10\n13\n")
    _ini("net.ini", data_type="network", scenario="pairwise", habitat_file="graph.txt",
         habitat_map_is_resistances="True", point_file="focal.txt", output_file="out/net.out",
         write_cur_maps="True", write_volt_maps="True")
    out = run_ini("net.ini")
    # 4 ohm path in parallel with the 8 ohm edge: 8/3
    assert out["resistances"][1, 2] == pytest.approx(8 / 3)
    assert Path("out/net_resistances_3columns.out").exists()
    volt = np.loadtxt("out/net_voltages_10_13.txt")
    assert volt[volt[:, 0] == 13, 1][0] == pytest.approx(8 / 3)
    Path("src.txt").write_text("10 1\n")
    Path("gnd.txt").write_text("13 0\n")
    _ini("adv.ini", data_type="network", scenario="advanced", habitat_file="graph.txt",
         habitat_map_is_resistances="True", source_file="src.txt", ground_file="gnd.txt",
         ground_file_is_resistances="True", output_file="out/adv.out", write_volt_maps="True")
    res = run_ini("adv.ini")
    assert res["voltage"][0] == pytest.approx(8 / 3)  # node 10, grounded 13 via 0 ohm


def test_network_pairwise_components_and_missing_nodes(tmp_path, monkeypatch):
    """Several focal nodes over two components, one id not in the graph, a parallel edge:
    resistances against networkx, voltages and node currents of a pair by hand."""
    import networkx as nx

    from tbpa.circuitscape import run_ini

    monkeypatch.chdir(tmp_path)
    edges = [(1, 2, 1.0), (2, 3, 2.0), (3, 4, 1.0), (1, 4, 8.0), (2, 4, 4.0), (2, 4, 4.0),
             (7, 8, 3.0)]
    Path("graph.txt").write_text("".join(f"{a} {b} {r}\n" for a, b, r in edges))
    focal = [1, 3, 4, 7, 8, 99]
    Path("focal.txt").write_text("".join(f"{f}\n" for f in focal))
    _ini("net.ini", data_type="network", scenario="pairwise", habitat_file="graph.txt",
         habitat_map_is_resistances="True", point_file="focal.txt", output_file="out/n.out",
         write_cur_maps="True", write_volt_maps="True")
    R = run_ini("net.ini")["resistances"][1:, 1:]
    G = nx.Graph()
    for a, b, r in edges:  # parallel edges: conductances add
        G.add_edge(a, b, g=G.get_edge_data(a, b, {"g": 0.0})["g"] + 1.0 / r)
    for x, a in enumerate(focal):
        for y, b in enumerate(focal):
            if a == b:
                want = 0.0
            elif a in G and b in G and nx.has_path(G, a, b):
                part = G.subgraph(nx.node_connected_component(G, a))
                want = nx.resistance_distance(part, a, b, weight="g", invert_weight=False)
            else:
                want = -1.0  # Circuitscape's "not connected"
            assert R[x, y] == pytest.approx(want, rel=1e-9, abs=1e-12)
    # pair (7, 8): one 3-ohm branch, 1 A; the other component sits at 0 V
    volt = dict(np.loadtxt("out/n_voltages_7_8.txt"))
    assert volt[7] == pytest.approx(0.0) and volt[8] == pytest.approx(3.0)
    assert volt[1] == volt[2] == volt[3] == volt[4] == 0.0
    cur = dict(np.loadtxt("out/n_node_currents_7_8.txt"))
    assert cur[7] == pytest.approx(1.0) and cur[8] == pytest.approx(1.0) and cur[1] == 0.0


def test_network_advanced_conductance_ground_unit_currents(tmp_path, monkeypatch):
    from tbpa.circuitscape import run_ini

    monkeypatch.chdir(tmp_path)
    Path("graph.txt").write_text("10 11 1\n11 12 2\n12 13 1\n10 13 8\n")
    Path("src.txt").write_text("10 3\n")  # unit currents: 1 A
    Path("gnd.txt").write_text("13 1\n")  # 1 S to ground (not a resistance)
    _ini("adv.ini", data_type="network", scenario="advanced", habitat_file="graph.txt",
         habitat_map_is_resistances="True", source_file="src.txt", ground_file="gnd.txt",
         ground_file_is_resistances="False", use_unit_currents="True",
         output_file="out/adv.out")
    v = run_ini("adv.ini")["voltage"]
    # 1 A drains through 1 S at node 13 (1 V); 10 -> 13 is 8/3 ohm (4 ohm path || 8 ohm edge)
    assert v[3] == pytest.approx(1.0)
    assert v[0] == pytest.approx(1.0 + 8 / 3)


def test_raster_advanced_ini(tmp_path, monkeypatch):
    from tbpa.circuitscape import run_ini

    monkeypatch.chdir(tmp_path)
    _asc("cells.asc", [[1, 1, 1]])
    _asc("src.asc", [[1, -9999, -9999]])
    _asc("gnd.asc", [[-9999, -9999, 0.5]])
    _ini("adv.ini", scenario="advanced", habitat_file="cells.asc",
         habitat_map_is_resistances="True",
         connect_four_neighbors_only="True", source_file="src.asc", ground_file="gnd.asc",
         ground_file_is_resistances="False", output_file="o/adv.out", write_volt_maps="True",
         write_cur_maps="True")
    run_ini("adv.ini")
    np.testing.assert_allclose(_table(Path("o/adv_voltmap.asc"), 6), [[4, 3, 2]])
    np.testing.assert_allclose(_table(Path("o/adv_curmap.asc"), 6), [[1, 1, 1]])


def test_raster_options_gz_mask_included_pairs_textpoints(tmp_path, monkeypatch):
    """gzip input, mask, text point list, included pairs, compressed output, paths from INI dir."""
    import gzip

    from tbpa.circuitscape import run_ini

    sub = tmp_path / "case"
    sub.mkdir()
    _asc(sub / "cells.asc.gz", np.ones((1, 6)))
    _asc(sub / "mask.asc", [[1, 1, 1, 1, 1, 0]])
    (sub / "pts.txt").write_text("1 0.5 0.5\n2 3.5 0.5\n3 4.5 0.5\n")
    (sub / "pairs.txt").write_text("mode include\n1 2\n")
    _ini(sub / "run.ini", scenario="pairwise", habitat_file="cells.asc.gz",
         habitat_map_is_resistances="True", connect_four_neighbors_only="True",
         use_mask="True", mask_file="mask.asc", point_file="pts.txt",
         use_included_pairs="True", included_pairs_file="pairs.txt", output_file="out/r.out",
         write_cur_maps="True", compress_grids="True")
    monkeypatch.chdir(tmp_path)  # paths resolve relative to the INI's folder as a fallback
    out = run_ini(sub / "run.ini")
    R = out["resistances"]
    assert R[1, 2] == pytest.approx(3.0)  # cells 0 -> 3
    assert R[1, 3] == -1 and R[2, 3] == -1  # excluded pairs keep Circuitscape's -1
    with gzip.open(Path("out/r_curmap_1_2.asc.gz"), "rt") as fh:
        cur = np.loadtxt(fh, skiprows=6, ndmin=2)
    np.testing.assert_allclose(cur, [[1, 1, 1, 1, 0, 0]])


def test_run_ini_errors(tmp_path, monkeypatch):
    from tbpa.circuitscape import run_ini
    from tbpa.errors import DataError, UnknownNameError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        run_ini("missing.ini")
    _ini("bad.ini", scenario="two-to-three", habitat_file="x.asc")
    with pytest.raises(UnknownNameError, match="scenario"):
        run_ini("bad.ini")
    _ini("nofile.ini", scenario="pairwise", habitat_file="nothere.asc", point_file="p.txt")
    with pytest.raises(DataError, match="habitat_file"):
        run_ini("nofile.ini")
