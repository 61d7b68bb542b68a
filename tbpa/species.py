"""Species profiles: movement resistance and habitat suitability per unified habitat class.

A profile is a TOML file (schema in ``data/habitat/species/README.md``) giving, for one species,
per unified habitat class (IUCN Habitats Classification Scheme v3.1 level 1 and 2, integer-coded
as in Jung et al. 2020: 1.4 -> 104, 14.1 -> 1401, level 1 = k * 100, 0 = nodata):

* ``resistance`` (cost per metre, >= 1, or ``"impassable"``) and ``suitability`` (0-1);
* modifiers: distance decay from roads and settlements, border-fence resistance, and
  elevation / slope / ruggedness windows;
* home-range size (km2, female and male) and a dispersal distance (m);
* a ``source`` for every value: a citation, or ``"expert default"``.

Six profiles ship with tbpa (:func:`available`); :func:`load` also reads a user's own file.

Examples
--------
>>> import numpy as np
>>> from tbpa import species
>>> tiger = species.load("amur_tiger")
>>> tiger.home_range_km2.female
401.0
>>> tiger.resistance_of(np.array([104, 1405, 0]))
array([  1., 100.,  nan])
"""

from __future__ import annotations

import html
import math
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

import numpy as np
import pandas as pd

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from ._data import data_path
from .errors import DataError, UnknownNameError, ValidationError, close_matches

__all__ = [
    "SpeciesProfile",
    "ClassValues",
    "DistanceDecay",
    "Fence",
    "Window",
    "Modifiers",
    "HomeRange",
    "load",
    "available",
    "EXPERT_DEFAULT",
    "IMPASSABLE",
]

EXPERT_DEFAULT = "expert default"
IMPASSABLE = "impassable"
NODATA_CODE = 0
# The code space: level-1 class k in 1..18 and level-2 index j in 0..18 (5.18 is the largest in
# v3.1), code = 100 k + j. Anything else (e.g. 255, a common uint8 nodata) is rejected, not guessed.
MAX_SUB = 18
MAX_CODE = 18 * 100 + MAX_SUB
IUCN_CATEGORIES = ("EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE")
NAME_LANGUAGES = ("en", "zh", "ru", "ko", "latin")


def _species_dir() -> Path:
    return data_path("habitat", "species")


# ------------------------------------------------------------------------------------------
# value objects
# ------------------------------------------------------------------------------------------
class HomeRange(NamedTuple):
    """Home-range size in km2 of an adult female and an adult male."""

    female: float
    male: float


@dataclass(frozen=True)
class ClassValues:
    """Resistance (NaN = impassable) and suitability of one habitat class, with their source."""

    resistance: float
    suitability: float
    source: str


@dataclass(frozen=True)
class DistanceDecay:
    """Resistance multiplier ``1 + (max_multiplier - 1) * exp(-d / scale_m)`` at distance d (m)."""

    max_multiplier: float
    scale_m: float
    source: str
    note: str = ""

    def multiplier(self, distance_m: np.ndarray) -> np.ndarray:
        """Multiplier (>= 1) at each distance in metres; equals ``max_multiplier`` at d = 0."""
        d = np.asarray(distance_m, dtype=np.float64)
        return 1.0 + (self.max_multiplier - 1.0) * np.exp(-d / self.scale_m)


@dataclass(frozen=True)
class Fence:
    """Resistance of a fence cell (NaN = impassable); gap cells keep their no-fence value."""

    resistance: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class Window:
    """A preferred range of a terrain variable; cells outside get ``outside_multiplier``.

    ``lower``/``upper`` are in the variable's unit (m for elevation and ruggedness, degrees for
    slope); either may be None (one-sided window). ``outside_multiplier`` NaN = impassable.
    ``radius_m`` is the half-width of the neighbourhood (ruggedness only).
    """

    lower: float | None
    upper: float | None
    outside_multiplier: float
    source: str
    note: str = ""
    radius_m: float | None = None

    def multiplier(self, values: np.ndarray) -> np.ndarray:
        """1 inside the window (and where *values* is NaN), ``outside_multiplier`` outside."""
        v = np.asarray(values, dtype=np.float64)
        outside = np.zeros(v.shape, dtype=bool)
        with np.errstate(invalid="ignore"):  # NaN compares False: unknown terrain is not penalised
            if self.lower is not None:
                outside |= v < self.lower
            if self.upper is not None:
                outside |= v > self.upper
        out = np.ones(v.shape, dtype=np.float64)
        out[outside] = self.outside_multiplier
        return out


@dataclass(frozen=True)
class Modifiers:
    """The optional modifiers of a profile (None = the profile has no such modifier)."""

    roads: DistanceDecay | None = None
    settlements: DistanceDecay | None = None
    fence: Fence | None = None
    elevation: Window | None = None
    slope: Window | None = None
    ruggedness: Window | None = None


# ------------------------------------------------------------------------------------------
# the profile
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class SpeciesProfile:
    """Resistance and suitability of one species per unified habitat class, with provenance.

    Build with :func:`load`. Look-ups are vectorised through two lookup tables indexed by
    class code: a level-2 code absent from the profile takes its level-1 class (504 -> 500),
    then the profile's ``default``.

    Attributes
    ----------
    id : str
        Profile name (file stem), e.g. ``"amur_tiger"``.
    names : Mapping[str, str]
        Names by language: ``en``, ``zh``, ``ru``, ``ko`` and ``latin``.
    group : str
        ``"mammal"`` or ``"bird"`` (free text in user profiles).
    iucn_status : str
        IUCN Red List category (``"CR"``, ``"EN"``, ``"VU"`` ...).
    classes : Mapping[int, ClassValues]
        Per-class values as given in the file.
    default : ClassValues
        Values for codes whose level-2 and level-1 classes are both absent.
    modifiers : Modifiers
        Distance decay, fence and terrain windows.
    home_range_km2 : HomeRange
        Home-range size (km2) of a female and a male.
    dispersal_m : float
        Dispersal distance in metres.
    path : pathlib.Path or None
        The TOML file the profile was read from.
    provenance : str
        Free-text account of how the class values were chosen.
    """

    id: str
    names: Mapping[str, str]
    group: str
    iucn_status: str
    classes: Mapping[int, ClassValues]
    default: ClassValues
    modifiers: Modifiers
    home_range_km2: HomeRange
    dispersal_m: float
    path: Path | None = None
    provenance: str = ""
    _records: tuple = field(default=(), compare=False)
    _res_lut: np.ndarray = field(init=False, compare=False)
    _suit_lut: np.ndarray = field(init=False, compare=False)

    def __post_init__(self) -> None:
        res, suit = _build_luts(self.classes, self.default)
        object.__setattr__(self, "_res_lut", res)
        object.__setattr__(self, "_suit_lut", suit)

    # -- look-ups ------------------------------------------------------------------------
    def resistance_of(self, codes) -> np.ndarray:
        """Resistance per cell for an array of unified habitat codes.

        Parameters
        ----------
        codes : array_like of int
            Unified habitat codes; 0 (or NaN in a float array) is nodata.

        Returns
        -------
        numpy.ndarray
            float64 of the same shape: resistance >= 1, NaN where impassable or nodata.

        Raises
        ------
        DataError
            If a code is not in the IUCN code space (negative, 1-99, a level-2 index above 18,
            above 1818, or fractional).

        Examples
        --------
        >>> load("amur_tiger").resistance_of([[104, 504], [900, 0]])
        array([[ 1., 20.],
               [nan, nan]])
        """
        return _lookup(self._res_lut, codes)

    def suitability_of(self, codes) -> np.ndarray:
        """Habitat suitability (0-1) per cell; NaN where the code is nodata.

        Examples
        --------
        >>> load("hooded_crane").suitability_of([504, 1508, 0])
        array([1. , 0.7, nan])
        """
        return _lookup(self._suit_lut, codes)

    # -- provenance ----------------------------------------------------------------------
    @property
    def sources(self) -> pd.DataFrame:
        """One row per value in the profile: ``key``, ``value``, ``source``, ``note``.

        ``source`` is a citation or ``"expert default"``; ``is_expert_default`` flags the latter.
        """
        df = pd.DataFrame(list(self._records), columns=["key", "value", "source", "note"])
        df["is_expert_default"] = df["source"].str.lower().str.startswith(EXPERT_DEFAULT)
        return df

    def class_table(self) -> pd.DataFrame:
        """The per-class values as a DataFrame (code, level, resistance, suitability, source)."""
        rows = [
            (code, 1 if code % 100 == 0 else 2, v.resistance, v.suitability, v.source)
            for code, v in sorted(self.classes.items())
        ]
        return pd.DataFrame(rows, columns=["code", "level", "resistance", "suitability", "source"])

    # -- display -------------------------------------------------------------------------
    def _summary(self) -> dict[str, str]:
        hr = self.home_range_km2
        expert = self.sources["is_expert_default"].mean() * 100
        return {
            "names": " | ".join(self.names[k] for k in ("en", "zh", "ru", "ko")),
            "latin": self.names["latin"],
            "IUCN": self.iucn_status,
            "home range": f"F {hr.female:g} km2, M {hr.male:g} km2",
            "dispersal": f"{self.dispersal_m / 1000:g} km",
            "classes": f"{len(self.classes)} (+ level-1 fallback and default)",
            "modifiers": ", ".join(
                k for k in ("roads", "settlements", "fence", "elevation", "slope", "ruggedness")
                if getattr(self.modifiers, k) is not None
            ) or "none",
            "values": f"{len(self._records)}, {expert:.0f} % expert defaults",
        }

    def __repr__(self) -> str:
        s = self._summary()
        return (
            f"SpeciesProfile({self.id!r}: {s['names']} ({s['latin']}); IUCN {s['IUCN']}; "
            f"home range {s['home range']}; dispersal {s['dispersal']}; {s['values']})"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td></tr>"
            for k, v in self._summary().items()
        )
        return f"<b>SpeciesProfile</b> <code>{html.escape(self.id)}</code><table>{rows}</table>"


def _build_luts(classes: Mapping[int, ClassValues], default: ClassValues):
    """Lookup tables over every code 0..MAX_CODE: level 2 -> level 1 -> default fallback."""
    res = np.full(MAX_CODE + 1, default.resistance, dtype=np.float64)
    suit = np.full(MAX_CODE + 1, default.suitability, dtype=np.float64)
    # level-1 rows first, so that level-2 rows overwrite their block afterwards
    for code in sorted(classes, key=lambda c: (c % 100 != 0, c)):
        v = classes[code]
        sl = slice(code, code + MAX_SUB + 1) if code % 100 == 0 else slice(code, code + 1)
        res[sl], suit[sl] = v.resistance, v.suitability
    res[NODATA_CODE] = suit[NODATA_CODE] = np.nan
    # codes outside the code space (1-99, level-2 index > 18) get a sentinel < 0 that no real
    # value can take, so validity is checked on the output in one cheap pass
    invalid = _INVALID_CODES
    res[invalid] = suit[invalid] = _SENTINEL
    res.setflags(write=False)
    suit.setflags(write=False)
    return res, suit


_SENTINEL = -1.0
_INVALID_CODES = np.array(
    [c for c in range(1, MAX_CODE + 1) if c < 100 or c % 100 > MAX_SUB], dtype=np.intp
)


def _lookup(lut: np.ndarray, codes) -> np.ndarray:
    """``lut[codes]`` with nodata (0, NaN) -> NaN, raising DataError for invalid codes."""
    arr = _as_index(codes)
    out = lut[arr]
    bad = out == _SENTINEL
    if bad.any():
        _raise_bad_codes(arr[bad])
    return out


def _as_index(codes) -> np.ndarray:
    """Integer index array into a lookup table (NaN -> 0 = nodata), range-checked."""
    arr = np.asarray(codes)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise DataError(f"habitat codes must be integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        filled = np.where(np.isnan(arr), 0.0, arr)
        frac = np.mod(filled, 1.0) != 0.0
        if frac.any():
            raise DataError(f"habitat codes must be whole numbers, got e.g. {np.unique(filled[frac])[:5].tolist()}")
        arr = filled.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() > MAX_CODE):
        _raise_bad_codes(arr[(arr < 0) | (arr > MAX_CODE)])
    return arr


def _raise_bad_codes(bad: np.ndarray):
    values, counts = np.unique(bad, return_counts=True)
    listing = ", ".join(f"{v:g} ({c} cells)" for v, c in zip(values[:10].tolist(), counts[:10].tolist()))
    raise DataError(
        f"habitat codes outside the IUCN code space (0 = nodata, otherwise 100 x level-1 class "
        f"(1-18) + level-2 index (0-{MAX_SUB})): {listing}; mask the raster's nodata or reclassify "
        "it first with tbpa.habitat.reclassify"
    )


# ------------------------------------------------------------------------------------------
# loading and validation
# ------------------------------------------------------------------------------------------
def available() -> list[str]:
    """Names of the species profiles shipped with tbpa.

    Examples
    --------
    >>> available()[:3]
    ['amur_leopard', 'amur_tiger', 'black_faced_spoonbill']
    """
    return sorted(p.stem for p in _species_dir().glob("*.toml"))


def load(name_or_path) -> SpeciesProfile:
    """Load a shipped species profile by name, or a user's TOML file by path.

    Parameters
    ----------
    name_or_path : str, os.PathLike or SpeciesProfile
        A name from :func:`available` (case, spaces and hyphens are ignored: ``"Amur tiger"``
        works), or the path of a TOML file following the schema in
        ``data/habitat/species/README.md``. A SpeciesProfile is returned unchanged.

    Returns
    -------
    SpeciesProfile

    Raises
    ------
    UnknownNameError
        If the name is not a shipped profile (close names are suggested).
    DataError
        If a path is given and no file exists there.
    ValidationError
        If the file is not valid TOML or breaks the schema (the message names the key).

    Examples
    --------
    >>> load("snow_leopard").modifiers.elevation.lower
    1500.0
    """
    if isinstance(name_or_path, SpeciesProfile):
        return name_or_path
    text = os.fspath(name_or_path) if isinstance(name_or_path, os.PathLike) else name_or_path
    if not isinstance(text, str):
        raise ValidationError(
            f"load: `name_or_path` must be a profile name or a path, got {type(name_or_path).__name__}"
        )
    looks_like_path = isinstance(name_or_path, os.PathLike) or text.lower().endswith(".toml") or (
        os.sep in text or "/" in text
    )
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_file():
            raise DataError(f"load: no species profile file at {str(path)!r}")
    else:
        key = text.strip().lower().replace(" ", "_").replace("-", "_")
        names = available()
        if key not in names:
            hint = close_matches(key, names)
            did = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
            raise UnknownNameError(
                f"unknown species profile {text!r}{did} Available: {', '.join(names)}; or pass the "
                "path of your own TOML file"
            )
        path = _species_dir() / f"{key}.toml"
    resolved = path.resolve()
    return _load_cached(str(resolved), resolved.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int) -> SpeciesProfile:  # mtime: edits invalidate the cache
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{p.name}: not valid TOML ({exc})") from None
    return _Parser(p).profile(raw)


_TOP_REQUIRED = ("schema_version", "id", "names", "iucn", "home_range_km2", "dispersal_m", "default",
                 "classes", "modifiers")
_TOP_OPTIONAL = ("group", "provenance")
_NOTE_KEYS = ("note", "label", "scope")


class _Parser:
    """Validate a decoded TOML document and build a SpeciesProfile, collecting provenance."""

    def __init__(self, path: Path):
        self.path = path
        self.records: list[tuple[str, Any, str, str]] = []

    # -- helpers ---------------------------------------------------------------------------
    def fail(self, key: str, problem: str) -> ValidationError:
        return ValidationError(f"{self.path.name}: `{key}` {problem}")

    def table(self, raw: Mapping, key: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
        if not isinstance(raw, dict):
            raise self.fail(key, f"must be a table, got {type(raw).__name__}")
        extra = [k for k in raw if k not in allowed]  # typos first: "resistence" beats "missing"
        if extra:
            k = extra[0]
            hint = close_matches(k, allowed)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise self.fail(f"{key}.{k}" if key else k, f"is not a known key{did}; allowed: {', '.join(allowed)}")
        for k in required:
            if k not in raw:
                raise self.fail(f"{key}.{k}" if key else k, "is missing")
        return raw

    def number(self, value, key: str, *, minimum: float | None = None, strict: bool = False,
               maximum: float | None = None, impassable: bool = False) -> float:
        if impassable and isinstance(value, str) and value.strip().lower() == IMPASSABLE:
            return math.nan
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            extra = ' or "impassable"' if impassable else ""
            raise self.fail(key, f"must be a number{extra}, got {value!r}")
        v = float(value)
        if not math.isfinite(v):
            extra = '; write "impassable" for a barrier' if impassable else ""
            raise self.fail(key, f"must be finite, got {value!r}{extra}")
        if minimum is not None and (v <= minimum if strict else v < minimum):
            raise self.fail(key, f"must be {'>' if strict else '>='} {minimum:g}, got {v:g}")
        if maximum is not None and v > maximum:
            raise self.fail(key, f"must be <= {maximum:g}, got {v:g}")
        return v

    def source(self, block: Mapping, key: str, value_key: str) -> str:
        """The source of ``block[value_key]``: ``<value_key>_source`` or the block's ``source``."""
        src = block.get(f"{value_key}_source", block.get("source"))
        if src is None:
            raise self.fail(f"{key}.{value_key}", 'has no source; add `source = "<citation>"` or '
                            '`source = "expert default"` to the table')
        if not isinstance(src, str) or not src.strip():
            raise self.fail(f"{key}.source", f"must be a non-empty string, got {src!r}")
        return src.strip()

    def record(self, key: str, value, source: str, note: str = "") -> None:
        self.records.append((key, value, source, note))

    def allowed_with_sources(self, values: tuple[str, ...]) -> tuple[str, ...]:
        return values + tuple(f"{v}_source" for v in values) + ("source",) + _NOTE_KEYS

    # -- sections --------------------------------------------------------------------------
    def profile(self, raw: Mapping) -> SpeciesProfile:
        self.table(raw, "", _TOP_REQUIRED + _TOP_OPTIONAL, _TOP_REQUIRED)
        if raw["schema_version"] != 1:
            raise self.fail("schema_version", f"must be 1, got {raw['schema_version']!r}")
        pid = raw["id"]
        if not isinstance(pid, str) or not pid.strip():
            raise self.fail("id", f"must be a non-empty string, got {pid!r}")
        names = self.table(raw["names"], "names", NAME_LANGUAGES, NAME_LANGUAGES)
        for lang in NAME_LANGUAGES:
            if not isinstance(names[lang], str) or not names[lang].strip():
                raise self.fail(f"names.{lang}", f"must be a non-empty string, got {names[lang]!r}")
        status = self.iucn(raw["iucn"])
        home = self.home_range(raw["home_range_km2"])
        dispersal = self.dispersal(raw["dispersal_m"])
        default = self.class_values(raw["default"], "default")
        classes = self.classes(raw["classes"])
        modifiers = self.modifiers(raw["modifiers"])
        provenance = raw.get("provenance", {})
        if not isinstance(provenance, dict):
            raise self.fail("provenance", "must be a table")
        return SpeciesProfile(
            id=pid.strip(),
            names=MappingProxyType({k: names[k].strip() for k in NAME_LANGUAGES}),
            group=str(raw.get("group", "")),
            iucn_status=status,
            classes=MappingProxyType(classes),
            default=default,
            modifiers=modifiers,
            home_range_km2=home,
            dispersal_m=dispersal,
            path=self.path,
            provenance=" ".join(str(v) for v in provenance.values()),
            _records=tuple(self.records),
        )

    def iucn(self, raw) -> str:
        block = self.table(raw, "iucn", ("status", "criteria", "year", "scope", "note", "source"),
                           ("status",))
        status = block["status"]
        if status not in IUCN_CATEGORIES:
            raise self.fail("iucn.status", f"must be one of {', '.join(IUCN_CATEGORIES)}, got {status!r}")
        src = self.source(block, "iucn", "status")
        note = "; ".join(str(block[k]) for k in ("criteria", "year", "scope", "note") if k in block)
        self.record("iucn.status", status, src, note)
        return status

    def home_range(self, raw) -> HomeRange:
        block = self.table(raw, "home_range_km2", self.allowed_with_sources(("female", "male")),
                           ("female", "male"))
        values = {}
        for sex in ("female", "male"):
            key = f"home_range_km2.{sex}"
            values[sex] = self.number(block[sex], key, minimum=0, strict=True)
            self.record(key, values[sex], self.source(block, "home_range_km2", sex), block.get("note", ""))
        return HomeRange(values["female"], values["male"])

    def dispersal(self, raw) -> float:
        block = self.table(raw, "dispersal_m", self.allowed_with_sources(("value",)), ("value",))
        v = self.number(block["value"], "dispersal_m.value", minimum=0, strict=True)
        self.record("dispersal_m", v, self.source(block, "dispersal_m", "value"), block.get("note", ""))
        return v

    def class_values(self, raw, key: str) -> ClassValues:
        block = self.table(raw, key, self.allowed_with_sources(("resistance", "suitability")),
                           ("resistance", "suitability"))
        r = self.number(block["resistance"], f"{key}.resistance", minimum=1, impassable=True)
        s = self.number(block["suitability"], f"{key}.suitability", minimum=0, maximum=1)
        r_src = self.source(block, key, "resistance")
        s_src = self.source(block, key, "suitability")
        note = block.get("note", block.get("label", ""))
        self.record(f"{key}.resistance", IMPASSABLE if math.isnan(r) else r, r_src, note)
        self.record(f"{key}.suitability", s, s_src, note)
        return ClassValues(r, s, r_src if r_src == s_src else f"resistance: {r_src}; suitability: {s_src}")

    def classes(self, raw) -> dict[int, ClassValues]:
        if not isinstance(raw, dict) or not raw:
            raise self.fail("classes", "must be a non-empty table of `code = { resistance, suitability, source }`")
        out: dict[int, ClassValues] = {}
        for k, row in raw.items():
            try:
                code = int(k)
            except ValueError:
                raise self.fail(f"classes.{k}", "is not an integer habitat code (e.g. 104 for IUCN 1.4)") from None
            if not (100 <= code <= MAX_CODE) or code % 100 > MAX_SUB:
                raise self.fail(
                    f"classes.{k}", f"is not a unified habitat code (100 x level-1 class 1-18 + level-2 "
                    f"index 0-{MAX_SUB}, e.g. 104 for IUCN 1.4)"
                )
            out[code] = self.class_values(row, f"classes.{k}")
        return out

    def modifiers(self, raw) -> Modifiers:
        kinds = ("roads", "settlements", "fence", "elevation", "slope", "ruggedness")
        block = self.table(raw, "modifiers", kinds, ())
        parts: dict[str, Any] = {}
        for kind in ("roads", "settlements"):
            if kind in block:
                parts[kind] = self.decay(block[kind], f"modifiers.{kind}")
        if "fence" in block:
            key = "modifiers.fence"
            b = self.table(block["fence"], key, self.allowed_with_sources(("resistance",)), ("resistance",))
            r = self.number(b["resistance"], f"{key}.resistance", minimum=1, impassable=True)
            src = self.source(b, key, "resistance")
            self.record(f"{key}.resistance", IMPASSABLE if math.isnan(r) else r, src, b.get("note", ""))
            parts["fence"] = Fence(r, src, b.get("note", ""))
        windows = {"elevation": ("min_m", "max_m", None), "slope": ("min_deg", "max_deg", 90.0),
                   "ruggedness": ("min_m", "max_m", None)}
        for kind, (lo, hi, cap) in windows.items():
            if kind in block:
                parts[kind] = self.window(block[kind], f"modifiers.{kind}", lo, hi, cap,
                                          needs_radius=kind == "ruggedness")
        return Modifiers(**parts)

    def decay(self, raw, key: str) -> DistanceDecay:
        b = self.table(raw, key, self.allowed_with_sources(("max_multiplier", "scale_m")),
                       ("max_multiplier", "scale_m"))
        m = self.number(b["max_multiplier"], f"{key}.max_multiplier", minimum=1)
        s = self.number(b["scale_m"], f"{key}.scale_m", minimum=0, strict=True)
        note = b.get("note", "")
        self.record(f"{key}.max_multiplier", m, self.source(b, key, "max_multiplier"), note)
        self.record(f"{key}.scale_m", s, self.source(b, key, "scale_m"), note)
        return DistanceDecay(m, s, self.source(b, key, "max_multiplier"), note)

    def window(self, raw, key: str, lo: str, hi: str, cap: float | None, *, needs_radius: bool) -> Window:
        value_keys = (lo, hi, "outside_multiplier") + (("radius_m",) if needs_radius else ())
        required = ("outside_multiplier",) + (("radius_m",) if needs_radius else ())
        b = self.table(raw, key, self.allowed_with_sources(value_keys), required)
        if lo not in b and hi not in b:
            raise self.fail(key, f"needs `{lo}`, `{hi}` or both")
        note = b.get("note", "")
        bounds = {}
        for k in (lo, hi):
            if k in b:
                bounds[k] = self.number(b[k], f"{key}.{k}", minimum=0 if cap else None, maximum=cap)
                self.record(f"{key}.{k}", bounds[k], self.source(b, key, k), note)
        if lo in bounds and hi in bounds and bounds[lo] >= bounds[hi]:
            raise self.fail(key, f"`{lo}` ({bounds[lo]:g}) must be below `{hi}` ({bounds[hi]:g})")
        mult = self.number(b["outside_multiplier"], f"{key}.outside_multiplier", minimum=1, impassable=True)
        self.record(f"{key}.outside_multiplier", IMPASSABLE if math.isnan(mult) else mult,
                    self.source(b, key, "outside_multiplier"), note)
        radius = None
        if needs_radius:
            radius = self.number(b["radius_m"], f"{key}.radius_m", minimum=0, strict=True)
            self.record(f"{key}.radius_m", radius, self.source(b, key, "radius_m"), note)
        src = self.source(b, key, lo if lo in b else hi)
        return Window(bounds.get(lo), bounds.get(hi), mult, src, note, radius)
