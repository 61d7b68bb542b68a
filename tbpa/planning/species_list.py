"""Joint species list of a transboundary site from national checklists.

Names are matched on the accepted scientific name after synonym resolution, so "Grus vipio"
in one country's list and "Antigone vipio" in another's become one species. Vernacular
names in English, Chinese, Russian and Korean and the IUCN category come from a reference
table (the shipped flagship table by default) or from the lists themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .._data import data_path
from ..errors import DataError, EmptySelectionError, ValidationError

__all__ = ["joint_species_list", "load_checklists"]

_LANGS = ("en", "zh", "ru", "ko")
_LOCAL_LANG = {"CHN": "zh", "RUS": "ru", "PRK": "ko", "KOR": "ko", "MNG": "mn"}


def _normalise(name: str) -> str:
    """'  grus   VIPIO Pallas, 1811' -> 'Grus vipio' (genus, species, optional subspecies)."""
    tokens = [t for t in re.split(r"\s+", str(name).strip()) if t]
    keep = [t for t in tokens[:3] if re.fullmatch(r"[A-Za-z-]+", t)]
    if len(keep) >= 3 and keep[2][0].isupper():  # an author, not a subspecies
        keep = keep[:2]
    if not keep:
        return ""
    return " ".join([keep[0].capitalize(), *[t.lower() for t in keep[1:]]])


def load_checklists(folder=None) -> dict[str, pd.DataFrame]:
    """Read ``<ISO3>.csv`` checklists from *folder* (default: the shipped illustrative examples)."""
    folder = Path(folder) if folder is not None else data_path("planning", "example_checklists")
    lists = {p.stem.upper(): pd.read_csv(p, dtype=str) for p in sorted(folder.glob("*.csv"))}
    if not lists:
        raise EmptySelectionError(f"load_checklists: no <ISO3>.csv files in {str(folder)!r}")
    return lists


def joint_species_list(lists: dict, *, synonyms: pd.DataFrame | None = None,
                       reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Merge national checklists into one joint list.

    Parameters
    ----------
    lists : dict of str -> DataFrame or path
        ISO3 -> checklist with ``scientific_name`` and optionally ``local_name`` and
        ``national_status``.
    synonyms : DataFrame, optional
        ``synonym, accepted_name`` (default: ``data/planning/synonyms.csv``).
    reference : DataFrame, optional
        ``scientific_name, name_en, name_zh, name_ru, name_ko, iucn_status`` (default: the
        shipped flagship species table).

    Returns
    -------
    pandas.DataFrame
        One row per accepted species: names in four languages, ``iucn_status``,
        ``present_<ISO3>``, ``national_status_<ISO3>``, ``countries``, ``n_countries``,
        ``one_side_only`` and ``reported_as`` (the names used in the national lists).

    Examples
    --------
    >>> joint = joint_species_list(load_checklists())
    >>> joint.loc["Antigone vipio", "countries"]
    'CHN;RUS'
    """
    if not lists:
        raise EmptySelectionError("joint_species_list: `lists` is empty")
    syn = synonyms if synonyms is not None else pd.read_csv(data_path("planning", "synonyms.csv"))
    ref = reference if reference is not None else pd.read_csv(data_path("planning", "flagship_species.csv"))
    to_accepted = {_normalise(s): _normalise(a) for s, a in zip(syn["synonym"], syn["accepted_name"])}
    ref = ref.assign(_key=ref["scientific_name"].map(_normalise)).set_index("_key")
    records = []
    for iso3, table in lists.items():
        table = pd.read_csv(table, dtype=str) if isinstance(table, (str, Path)) else table
        if "scientific_name" not in table.columns:
            raise ValidationError(f"joint_species_list: the {iso3} list has no 'scientific_name' column")
        for line, row in enumerate(table.itertuples(index=False), start=2):
            raw = getattr(row, "scientific_name")
            key = _normalise(raw) if isinstance(raw, str) else ""
            if not key:
                raise DataError(f"joint_species_list: {iso3} list line {line}: empty or invalid scientific name {raw!r}")
            records.append({"iso3": str(iso3).upper(), "accepted": to_accepted.get(key, key), "reported": raw.strip(),
                            "local_name": getattr(row, "local_name", None),
                            "national_status": getattr(row, "national_status", None)})
    # One pass over the records (in list order) instead of filtering each species' rows
    # per language and per country: the first non-missing local name / national status wins.
    where: dict[str, set] = {}
    reported: dict[str, set] = {}
    local: dict[tuple, object] = {}
    status: dict[tuple, object] = {}
    for rec in records:
        acc, iso3 = rec["accepted"], rec["iso3"]
        where.setdefault(acc, set()).add(iso3)
        reported.setdefault(acc, set()).add(rec["reported"])
        lang = _LOCAL_LANG.get(iso3)
        if lang is not None and not pd.isna(rec["local_name"]):
            local.setdefault((acc, lang), rec["local_name"])
        if not pd.isna(rec["national_status"]):
            status.setdefault((acc, iso3), rec["national_status"])
    countries = sorted({rec["iso3"] for rec in records})
    rows = []
    for accepted in sorted(where):
        row = {"scientific_name": accepted}
        known = ref.loc[accepted] if accepted in ref.index else None
        for lang in _LANGS:
            value = known[f"name_{lang}"] if known is not None and f"name_{lang}" in known else None
            if not isinstance(value, str):  # fall back to a national list's local name
                value = local.get((accepted, lang))
            row[f"name_{lang}"] = value
        row["iucn_status"] = known["iucn_status"] if known is not None else None
        for iso3 in countries:
            row[f"present_{iso3}"] = iso3 in where[accepted]
            row[f"national_status_{iso3}"] = status.get((accepted, iso3))
        present = sorted(where[accepted])
        row["countries"] = ";".join(present)
        row["n_countries"] = len(present)
        row["one_side_only"] = len(present) == 1
        row["reported_as"] = "; ".join(sorted(reported[accepted]))
        rows.append(row)
    return pd.DataFrame(rows).set_index("scientific_name")
