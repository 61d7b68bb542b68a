"""joint_species_list: synonym merge, names, one-side-only flags (hand-checked)."""

from __future__ import annotations

import pandas as pd
import pytest

from tbpa.errors import DataError, ValidationError
from tbpa.planning import joint_species_list, load_checklists
from tbpa.planning.species_list import _normalise


def test_normalise_names():
    assert _normalise("  grus   VIPIO Pallas, 1811") == "Grus vipio"
    assert _normalise("Panthera pardus orientalis") == "Panthera pardus orientalis"


def test_merge_with_synonyms_and_flags():
    lists = {
        "CHN": pd.DataFrame({"scientific_name": ["Grus vipio", "Panthera tigris altaica"],
                             "national_status": ["Class I", "Class I"]}),
        "RUS": pd.DataFrame({"scientific_name": ["Antigone vipio", "Grus monacha"],
                             "local_name": ["даурский журавль", "черный журавль"]}),
        "PRK": pd.DataFrame({"scientific_name": ["Milvus migrans"], "local_name": ["솔개"]}),
    }
    joint = joint_species_list(lists)
    assert joint.loc["Antigone vipio", "countries"] == "CHN;RUS"
    assert not joint.loc["Antigone vipio", "one_side_only"]
    assert joint.loc["Antigone vipio", "reported_as"] == "Antigone vipio; Grus vipio"
    assert joint.loc["Antigone vipio", "name_zh"] == "白枕鹤"
    assert joint.loc["Grus monacha", "one_side_only"] and joint.loc["Grus monacha", "present_RUS"]
    assert joint.loc["Panthera tigris altaica", "national_status_CHN"] == "Class I"
    # a species missing from the reference keeps the national list's name and no invented status
    assert joint.loc["Milvus migrans", "name_ko"] == "솔개"
    assert pd.isna(joint.loc["Milvus migrans", "iucn_status"])
    assert len(joint) == 4


def test_shipped_examples_are_labelled():
    lists = load_checklists()
    assert set(lists) == {"CHN", "RUS", "PRK"}
    for table in lists.values():
        assert table["record_basis"].str.contains("ILLUSTRATIVE").all()
    joint = joint_species_list(lists)
    assert joint.loc["Platalea minor", "one_side_only"]


def test_bad_lists():
    with pytest.raises(ValidationError, match="scientific_name"):
        joint_species_list({"CHN": pd.DataFrame({"name": ["x"]})})
    with pytest.raises(DataError, match="line 3"):
        joint_species_list({"CHN": pd.DataFrame({"scientific_name": ["Grus monacha", "  "]})})
