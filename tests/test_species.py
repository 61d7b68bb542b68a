"""Species profiles: shipped files, provenance, look-ups, validation of user files, CLI."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tbpa import species
from tbpa.errors import DataError, UnknownNameError, ValidationError

REPO = Path(__file__).resolve().parents[1]
SPECIES_DIR = REPO / "data" / "habitat" / "species"
LEGEND = REPO / "data" / "habitat" / "legend.csv"
SHIPPED = ["amur_leopard", "amur_tiger", "black_faced_spoonbill", "hooded_crane", "snow_leopard",
           "white_naped_crane"]
CITATION = re.compile(r"(doi:[^\s,;)\"]+|https?://[^\s,;)\"]+)")


def raw(name: str) -> dict:
    """The TOML document read directly (the oracle for the loader)."""
    with open(SPECIES_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)


def value(v):
    return np.nan if v == "impassable" else float(v)


MINIMAL = """
schema_version = 1
id = "toy"
[names]
en = "Toy"
zh = "玩具"
ru = "игрушка"
ko = "장난감"
latin = "Ludus ludus"
[iucn]
status = "LC"
source = "expert default"
[home_range_km2]
female = 2.0
male = 3.0
source = "expert default"
[dispersal_m]
value = 1000.0
source = "expert default"
[default]
resistance = 77.0
suitability = 0.0
source = "expert default"
[classes]
500 = { resistance = 20.0, suitability = 0.5, source = "expert default" }
504 = { resistance = 3.0, suitability = 0.9, source = "expert default" }
900 = { resistance = "impassable", suitability = 0.0, source = "expert default" }
[modifiers.roads]
max_multiplier = 2.0
scale_m = 100.0
source = "expert default"
"""


@pytest.fixture
def write_toml(tmp_path):
    def _write(text: str, name: str = "toy.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


# -- shipped profiles ----------------------------------------------------------------------
def test_available_lists_the_six_profiles():
    assert species.available() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_loads_with_names_status_and_sizes(name):
    prof = species.load(name)
    doc = raw(name)
    assert prof.id == name
    assert set(prof.names) == {"en", "zh", "ru", "ko", "latin"}
    assert prof.names["latin"] == doc["names"]["latin"]
    assert prof.iucn_status in {"CR", "EN", "VU"}
    assert prof.home_range_km2.female == doc["home_range_km2"]["female"] > 0
    assert prof.home_range_km2.male == doc["home_range_km2"]["male"] > 0
    assert prof.dispersal_m == doc["dispersal_m"]["value"] > 0


@pytest.mark.parametrize("name", SHIPPED)
def test_every_value_has_a_source(name):
    src = species.load(name).sources
    assert list(src.columns) == ["key", "value", "source", "note", "is_expert_default"]
    assert src["source"].str.strip().str.len().gt(0).all()
    cited = src.loc[~src["is_expert_default"], "source"]
    # a source is either "expert default" or carries a DOI or a URL
    assert cited.map(lambda s: bool(CITATION.search(s))).all(), cited[~cited.map(lambda s: bool(CITATION.search(s)))]
    # one row per value: 2 per class, the default pair, home range F/M, dispersal, IUCN status
    n_classes = len(raw(name)["classes"])
    assert src["key"].str.startswith("classes.").sum() == 2 * n_classes


@pytest.mark.parametrize("name", SHIPPED)
def test_per_class_values_are_expert_defaults(name):
    # No per-class resistance table was found for any species (reference notes): all class
    # values must be labelled expert defaults, never dressed up as published.
    src = species.load(name).sources
    classes = src[src["key"].str.startswith("classes.") | src["key"].str.startswith("default.")]
    assert classes["is_expert_default"].all()


def test_every_citation_is_listed_in_the_readme():
    """Never invent citations: every DOI/URL in a profile also appears in the README's list."""
    readme = (SPECIES_DIR / "README.md").read_text(encoding="utf-8")
    for name in SHIPPED:
        text = (SPECIES_DIR / f"{name}.toml").read_text(encoding="utf-8")
        for cite in CITATION.findall(text):
            assert cite.rstrip(".") in readme, (name, cite)


def test_citations_from_reference_notes_match_them():
    from conftest import shared_path

    notes = shared_path("reference", "species-and-sites.md").read_text(encoding="utf-8")
    for doi in ["10.1111/1749-4877.12140", "10.5061/dryad.314b5", "10.1002/wll2.12020",
                "10.1002/ece3.4832", "10.3390/su14031638"]:
        assert doi in notes


def test_tiger_values_from_reference():
    tiger = species.load("amur_tiger")
    assert tiger.home_range_km2 == (401.0, 778.0)
    assert tiger.iucn_status == "EN"
    row = tiger.sources.set_index("key").loc["home_range_km2.female"]
    assert "10.1111/1749-4877.12140" in row["source"]


@pytest.mark.parametrize("name", SHIPPED)
def test_lookup_matches_the_file(name):
    prof = species.load(name)
    doc = raw(name)
    codes = np.array([int(c) for c in doc["classes"]])
    want_r = np.array([value(doc["classes"][str(c)]["resistance"]) for c in codes])
    want_s = np.array([float(doc["classes"][str(c)]["suitability"]) for c in codes])
    np.testing.assert_array_equal(prof.resistance_of(codes), want_r)
    np.testing.assert_array_equal(prof.suitability_of(codes), want_s)
    r = prof.resistance_of(codes)
    assert np.all(np.isnan(r) | (r >= 1))
    s = prof.suitability_of(codes)
    assert np.all((s >= 0) & (s <= 1))


@pytest.mark.parametrize("name", SHIPPED)
def test_profiles_cover_the_legend(name):
    """Every NE-Asian level-2 class of the unified legend and every level-1 class is listed."""
    if not LEGEND.exists():
        pytest.skip("data/habitat/legend.csv not present yet")
    legend = pd.read_csv(LEGEND)
    codes = {int(c) for c in raw(name)["classes"]}
    assert codes <= set(legend["code"]), codes - set(legend["code"])
    ne = legend[legend["occurs_ne_asia"].astype(str).str.lower() == "true"]
    assert set(ne["code"]) - {0} <= codes
    assert {k * 100 for k in range(1, 19)} <= codes


# -- look-up semantics ---------------------------------------------------------------------
def test_level1_fallback_then_default(write_toml):
    prof = species.load(write_toml(MINIMAL))
    got = prof.resistance_of(np.array([504, 505, 500, 1401, 910, 0]))
    # 504 own row; 505 -> 500; 1401 -> default (no 1400 row); 910 -> 900 impassable; 0 nodata
    np.testing.assert_array_equal(got, [3.0, 20.0, 20.0, 77.0, np.nan, np.nan])
    np.testing.assert_array_equal(prof.suitability_of([504, 517, 1401, 0]), [0.9, 0.5, 0.0, np.nan])


def test_level1_fallback_on_shipped_profile():
    tiger = species.load("amur_tiger")
    doc = raw("amur_tiger")["classes"]
    assert "102" not in doc  # subarctic forest is not listed: it takes the forest (100) value
    assert tiger.resistance_of([102])[0] == value(doc["100"]["resistance"])
    assert tiger.suitability_of([1406])[0] == float(doc["1400"]["suitability"])


def test_lookup_keeps_shape_and_accepts_float_codes_with_nan():
    prof = species.load("amur_tiger")
    codes = np.array([[104.0, np.nan], [1405.0, 0.0]])
    out = prof.resistance_of(codes)
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert out[0, 0] == 1.0 and np.isnan(out[0, 1]) and np.isnan(out[1, 1])


@pytest.mark.parametrize("bad", [[255], [50], [-1], [1919], [104.5], [1900]])
def test_codes_outside_the_iucn_space_raise(bad):
    with pytest.raises(DataError, match="code"):
        species.load("amur_tiger").resistance_of(np.array(bad))


def test_profile_is_frozen():
    prof = species.load("amur_tiger")
    with pytest.raises(dataclasses.FrozenInstanceError):
        prof.dispersal_m = 1.0
    with pytest.raises(TypeError):
        prof.classes[104] = None
    with pytest.raises(ValueError):
        prof._res_lut[104] = 5.0


def test_repr_and_html():
    prof = species.load("snow_leopard")
    text = repr(prof)
    assert "snow_leopard" in text and "Panthera uncia" in text and "雪豹" in text
    assert "<table>" in prof._repr_html_() and "снежный барс" in prof._repr_html_()


def test_class_table():
    t = species.load("hooded_crane").class_table()
    assert list(t.columns) == ["code", "level", "resistance", "suitability", "source"]
    assert t.loc[t["code"] == 504, "suitability"].item() == 1.0
    assert set(t.loc[t["code"] % 100 == 0, "level"]) == {1}


# -- loading by name and path ----------------------------------------------------------------
def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="amur_tiger") as exc:
        species.load("amur_tigre")
    assert isinstance(exc.value, KeyError)


def test_names_are_normalised():
    assert species.load("Amur tiger").id == "amur_tiger"
    assert species.load("white-naped-crane").id == "white_naped_crane"


def test_load_user_file_by_str_and_path(write_toml):
    path = write_toml(MINIMAL)
    assert species.load(path).id == "toy"
    assert species.load(str(path)).home_range_km2.male == 3.0
    prof = species.load(path)
    assert species.load(prof) is prof


def test_missing_file_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="no species profile file"):
        species.load(tmp_path / "nope.toml")


def test_edited_file_is_reloaded(write_toml):
    path = write_toml(MINIMAL)
    assert species.load(path).dispersal_m == 1000.0
    import os

    path.write_text(MINIMAL.replace("value = 1000.0", "value = 2500.0"), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new mtime invalidates the cache
    assert species.load(path).dispersal_m == 2500.0


# -- validation of user files ----------------------------------------------------------------
@pytest.mark.parametrize(
    "old, new, key",
    [
        ("male = 3.0\n", "", "home_range_km2.male"),
        ('504 = { resistance = 3.0', '504 = { resistance = 0.5', "classes.504.resistance"),
        ('suitability = 0.9', 'suitability = 1.5', "classes.504.suitability"),
        ('suitability = 0.9', 'suitability = -0.1', "classes.504.suitability"),
        ('504 = { resistance = 3.0, suitability = 0.9, source = "expert default" }',
         '504 = { resistance = 3.0, suitability = 0.9 }', "classes.504.resistance"),
        ('504 = { resistance = 3.0', '504 = { resistence = 3.0', "classes.504.resistence"),
        ('504 = {', '255 = {', "classes.255"),
        ('status = "LC"', 'status = "XX"', "iucn.status"),
        ('resistance = 77.0', 'resistance = inf', "default.resistance"),
        ('resistance = 77.0', 'resistance = "blocked"', "default.resistance"),
        ('max_multiplier = 2.0', 'max_multiplier = 0.5', "modifiers.roads.max_multiplier"),
        ('scale_m = 100.0', 'scale_m = 0.0', "modifiers.roads.scale_m"),
        ('female = 2.0', 'female = -2.0', "home_range_km2.female"),
        ('ko = "장난감"\n', "", "names.ko"),
        ("schema_version = 1", "schema_version = 2", "schema_version"),
    ],
)
def test_invalid_values_name_the_key(write_toml, old, new, key):
    assert old in MINIMAL
    path = write_toml(MINIMAL.replace(old, new, 1))
    with pytest.raises(ValidationError) as exc:
        species.load(path)
    assert f"`{key}`" in str(exc.value)
    assert "toy.toml" in str(exc.value)


def test_window_bounds_must_be_ordered(write_toml):
    text = MINIMAL + '[modifiers.elevation]\nmin_m = 3000.0\nmax_m = 1000.0\noutside_multiplier = 2.0\nsource = "expert default"\n'
    with pytest.raises(ValidationError, match="modifiers.elevation"):
        species.load(write_toml(text))


def test_ruggedness_needs_radius(write_toml):
    text = MINIMAL + '[modifiers.ruggedness]\nmin_m = 100.0\noutside_multiplier = 2.0\nsource = "expert default"\n'
    with pytest.raises(ValidationError, match="modifiers.ruggedness.radius_m"):
        species.load(write_toml(text))


def test_per_value_source_override(write_toml):
    text = MINIMAL.replace('scale_m = 100.0\nsource = "expert default"',
                           'scale_m = 100.0\nscale_m_source = "Someone 2020, doi:10.0/x"\nsource = "expert default"')
    src = species.load(write_toml(text)).sources.set_index("key")
    assert src.loc["modifiers.roads.scale_m", "source"] == "Someone 2020, doi:10.0/x"
    assert src.loc["modifiers.roads.max_multiplier", "source"] == "expert default"


def test_not_toml_raises_validation_error(write_toml):
    with pytest.raises(ValidationError, match="not valid TOML"):
        species.load(write_toml("schema_version = = 1"))


def test_shipped_snow_leopard_window_values():
    sl = species.load("snow_leopard")
    doc = raw("snow_leopard")["modifiers"]
    assert sl.modifiers.elevation.lower == doc["elevation"]["min_m"]
    assert sl.modifiers.elevation.upper == doc["elevation"]["max_m"]
    assert sl.modifiers.ruggedness.radius_m == doc["ruggedness"]["radius_m"]
    assert "10.1371/journal.pone.0211509" in sl.modifiers.ruggedness.source


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_list(capsys):
    from tbpa.cli import main

    assert main(["species", "list"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out


def test_cli_show(capsys, write_toml):
    from tbpa.cli import main

    assert main(["species", "show", "amur_tiger"]) == 0
    out = capsys.readouterr().out
    assert "10.1111/1749-4877.12140" in out and "expert default" in out and "401" in out
    assert main(["species", "show", str(write_toml(MINIMAL)), "--classes"]) == 0
    assert "504" in capsys.readouterr().out


def test_cli_show_unknown(capsys):
    from tbpa.cli import main

    assert main(["species", "show", "tigr"]) == 2
    assert "amur_tiger" in capsys.readouterr().err
