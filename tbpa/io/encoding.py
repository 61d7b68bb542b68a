"""Text encoding of shapefile attribute tables (DBF), detected instead of guessed.

A shapefile stores its attributes in a dBase (.dbf) file whose text has no declared encoding
unless a ``.cpg`` file sits beside it. Russian national data is usually Windows-1251 and
Chinese data GBK/GB18030, very often without a ``.cpg``; GDAL then assumes ISO-8859-1 and
returns mojibake such as ``Êåäðîâàÿ Ïàäü`` without any warning. tbpa instead:

1. uses an explicit ``encoding=`` argument (checked: bytes that do not decode raise),
2. else the ``.cpg`` (mapped to a Python codec name, also checked),
3. else decodes the raw bytes of the DBF's text fields with each candidate codec and scores
   how plausible each decode is; it decides only when one candidate is clearly best and
   otherwise raises :class:`~tbpa.errors.EncodingError` with the scores and the fix.

Plausibility of a decode (a number in [0, 1]) multiplies three factors computed over the
non-ASCII characters (ASCII text is identical in every candidate):

* script share: fraction of characters in the script the codec is used for (Russian letters
  for cp1251/cp866/koi8-r, CJK ideographs for GB18030, Hangul for cp949, any letter for
  UTF-8), with box-drawing, Latin-1 supplement, C1 controls and private-use characters
  (the signature of mojibake) counted against it;
* word shape (Cyrillic only): words must be lower, UPPER or Title case; ``йЕДРОВАЯ`` (KOI8-R
  read as cp1251 or vice versa) is not;
* commonness: the share of letters among the 15 most frequent Russian letters (about 82 % of
  running Russian text, about 45 % for a wrong single-byte table), or of ideographs in the
  GB2312 level-1 set of 3,755 common characters (nearly all of real Chinese names; Russian
  bytes read as GB18030 fall mostly in level 2 and the GBK extensions).
"""

from __future__ import annotations

import codecs
import os
import re
import struct
import unicodedata
import warnings
from pathlib import Path
from typing import BinaryIO, Iterable, Sequence

from ..errors import EncodingError, TbpaWarning

__all__ = [
    "detect_dbf_encoding",
    "DEFAULT_CANDIDATES",
    "codec_from_cpg",
    "dbf_text_values",
    "score_encodings",
    "choose_encoding",
]

#: Candidate codecs tried, in this order, when neither ``encoding=`` nor a ``.cpg`` is given.
DEFAULT_CANDIDATES: tuple[str, ...] = ("utf-8", "cp1251", "gb18030", "cp866", "koi8_r", "cp949")

#: A decode is accepted only if it scores at least this ...
MIN_SCORE = 0.6
#: ... and beats every other candidate by at least this much.
MIN_MARGIN = 0.2

#: A strict UTF-8 decode at least this plausible wins outright (see choose_encoding).
UTF8_SCORE = 0.9

#: Distinct non-ASCII text values scored per candidate.
MAX_SCORED_VALUES = 3000

#: Records sampled from the start of the DBF (enough statistics, bounded cost on big files).
MAX_RECORDS = 20_000

# ESRI .cpg spellings (code-page numbers, ANSI names, IANA names) -> Python codec names.
_CPG_ALIASES = {
    "UTF8": "utf-8", "UTF-8": "utf-8", "65001": "utf-8",
    "1251": "cp1251", "CP1251": "cp1251", "ANSI1251": "cp1251", "WINDOWS-1251": "cp1251",
    "866": "cp866", "CP866": "cp866", "IBM866": "cp866", "OEM866": "cp866",
    "KOI8-R": "koi8_r", "KOI8R": "koi8_r", "20866": "koi8_r",
    # Files labelled GB2312 routinely hold GBK-only characters; gbk is its strict superset.
    "936": "gbk", "CP936": "gbk", "GBK": "gbk", "GB2312": "gbk", "ANSI936": "gbk",
    "GB18030": "gb18030", "54936": "gb18030",
    "949": "cp949", "CP949": "cp949", "EUC-KR": "cp949", "EUCKR": "cp949", "ANSI949": "cp949",
    "950": "big5", "BIG5": "big5",
    "1252": "cp1252", "CP1252": "cp1252", "ANSI1252": "cp1252",
    "88591": "latin-1", "ISO-8859-1": "latin-1", "ISO88591": "latin-1", "LATIN1": "latin-1",
    "88595": "iso8859_5", "ISO-8859-5": "iso8859_5",
}

_RUSSIAN_CODECS = {"cp1251", "cp866", "koi8_r", "iso8859_5"}
_CHINESE_CODECS = {"gb18030", "gbk", "gb2312"}
_KOREAN_CODECS = {"cp949", "euc_kr"}
_COMMON_RUSSIAN = set("оеаинтсрвлкмдпу")  # the 15 most frequent letters, ~82 % of Russian text
_NEUTRAL = set("«»°№–—‘’‚“”„…•·\u00a0\u2116")  # punctuation legitimately met in local text


def _canonical(codec: str) -> str:
    return codecs.lookup(codec).name.replace("-", "_") if codec else codec


def codec_from_cpg(text: str) -> str | None:
    """Python codec name for the content of a ``.cpg`` file, or None if unknown.

    Examples
    --------
    >>> codec_from_cpg("ANSI 1251"), codec_from_cpg("UTF-8"), codec_from_cpg("GB2312")
    ('cp1251', 'utf-8', 'gbk')
    """
    key = re.sub(r"\s+", "", text.strip().upper())
    if key in _CPG_ALIASES:
        return _CPG_ALIASES[key]
    digits = re.fullmatch(r"(?:CP|ANSI|WINDOWS-?|OEM)?(\d{3,5})", key)
    candidates = [f"cp{digits.group(1)}"] if digits else [key.lower()]
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return None


# --------------------------------------------------------------------------- DBF parsing
class FullWidth(bytes):
    """Bytes of a DBF text value that fills its field (possibly truncated by the writer)."""


def _decode(value: bytes, codec: str) -> str:
    """Strict decode, forgiving only a character cut off at the end of a full-width field."""
    try:
        return value.decode(codec)
    except UnicodeDecodeError as exc:
        # Writers truncate at the byte width of the field, which can split the last
        # multi-byte character: that is truncation, not evidence against the codec.
        if isinstance(value, FullWidth) and exc.end >= len(value) and len(value) - exc.start < 4:
            return value[: exc.start].decode(codec)
        raise


def dbf_text_values(stream: BinaryIO, max_records: int = MAX_RECORDS) -> list[bytes]:
    """Raw bytes of every non-empty text (type C) value in the first *max_records* records.

    Parses the dBase III+ header directly: 32-byte header (record count at offset 4, header
    and record lengths at 8 and 10), then 32-byte field descriptors up to the 0x0D
    terminator (name, type at 11, length at 16), then fixed-length records whose first byte
    is the deletion flag.
    """
    head = stream.read(32)
    if len(head) < 32:
        raise EncodingError("not a dBase file: header shorter than 32 bytes")
    n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
    descriptors = stream.read(header_len - 32)
    fields: list[tuple[int, int]] = []  # (offset in record, length) of text fields
    offset = 1  # byte 0 of each record is the deletion flag
    for i in range(0, len(descriptors) - 31, 32):
        desc = descriptors[i : i + 32]
        if desc[0] == 0x0D:
            break
        ftype = chr(desc[11])
        # As shapelib: numeric fields keep decimals in byte 17; other fields use it as the
        # high byte of the width (text fields longer than 255 characters).
        width = desc[16] + (0 if ftype in "NF" else desc[17] << 8)
        if ftype == "C":
            fields.append((offset, width))
        offset += width
    n = min(n_records, max_records)
    body = stream.read(n * record_len) if record_len else b""
    values = []
    for r in range(len(body) // record_len if record_len else 0):
        rec = body[r * record_len : (r + 1) * record_len]
        if rec[:1] == b"*":  # deleted record
            continue
        for start, length in fields:
            full = rec[start : start + length]
            raw = full.rstrip(b" \x00")
            if raw:
                # A value filling its whole field may have been cut inside a multi-byte
                # character by the writer; remember that so decoding can forgive it.
                values.append(FullWidth(raw) if len(raw) == length else raw)
    return values


# --------------------------------------------------------------------------- scoring
def _is_mojibake(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x80 <= cp <= 0xFF  # C1 controls and Latin-1 supplement (Ã, Ð, ±, ¤ ...)
        or 0x2500 <= cp <= 0x259F  # box drawing and block elements (cp866 misreads)
        or 0xE000 <= cp <= 0xF8FF  # private use area (GBK user-defined areas)
        or cp == 0xFFFD
        or unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs")
    )


_REGION_BLOCKS = (
    (0x00C0, 0x024F),  # Latin-1 letters, Latin Extended-A/B (transliterations)
    (0x0370, 0x03FF),  # Greek (IUCN "Ia"-style labels sometimes use it)
    (0x0400, 0x052F),  # Cyrillic (Russian, Mongolian) and supplement
    (0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7A3),  # Hangul
    (0x1800, 0x18AF),  # Mongolian script
    (0x1E00, 0x1EFF),  # Latin Extended Additional
    (0x2000, 0x206F),  # general punctuation
    (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF),  # CJK
)


def _in_script(ch: str, codec: str) -> float:
    """Weight in [0, 1] saying how expected *ch* is in text written with *codec*."""
    cp = ord(ch)
    if codec in _RUSSIAN_CODECS:
        if 0x0410 <= cp <= 0x044F or ch in "Ёё":
            return 1.0
        return 0.5 if 0x0400 <= cp <= 0x04FF else 0.0  # Ђ Ў Ґ ...: Cyrillic, not Russian
    if codec in _CHINESE_CODECS:
        cjk = 0x4E00 <= cp <= 0x9FFF or 0x3000 <= cp <= 0x303F or 0xFF00 <= cp <= 0xFFEF
        return 1.0 if cjk else 0.0
    if codec in _KOREAN_CODECS:
        return 1.0 if 0xAC00 <= cp <= 0xD7A3 or 0x3130 <= cp <= 0x318F else 0.0
    # UTF-8: the scripts of the region and Latin letters are expected; any other letter
    # (IPA, Arabic ...) is what a short legacy byte string misread as UTF-8 looks like.
    if any(lo <= cp <= hi for lo, hi in _REGION_BLOCKS):
        return 1.0
    return 0.3 if unicodedata.category(ch)[0] in "LMN" else 0.0


# A well-formed word: optional leading/trailing punctuation around letters, with only
# hyphens, apostrophes or dots inside. Mojibake such as "Р‘Р°СЃ" has symbols inside words.
_WORD_SHAPE = re.compile(r"[\W_]*[^\W\d_]+(?:[-'.][^\W\d_]+)*[\W_]*|[\W\d_]+")


def _word_shape(text: str) -> float:
    """Share of non-ASCII words that are well formed and lower, UPPER or Title case."""
    words = [w for w in text.split() if any(ord(c) > 0x7F for c in w)]
    if not words:
        return 1.0
    good = 0
    for w in words:
        letters = "".join(c for c in w if c.isalpha())
        cased = letters.islower() or letters.isupper() or (
            letters[:1].isupper() and letters[1:].islower()
        )
        good += bool(_WORD_SHAPE.fullmatch(w)) and (len(letters) < 2 or cased)
    return good / len(words)


def _spaced_ideographs(text: str) -> float:
    """Factor < 1 when ideograph runs are separated by spaces (Chinese names have none)."""
    lines = [ln for ln in text.split("\n") if ln]
    if not lines:
        return 1.0
    spaced = sum(bool(_SPACED_HANZI.search(ln)) for ln in lines)
    return 1.0 - 0.5 * spaced / len(lines)


_SPACED_HANZI = re.compile(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]")


def _commonness(chars: list[str], codec: str) -> float:
    """Share of common letters/ideographs, rescaled so that real text scores about 1."""
    if codec in _RUSSIAN_CODECS:
        letters = [c.lower() for c in chars if 0x0400 <= ord(c) <= 0x04FF]
        if not letters:
            return 0.0
        share = sum(c in _COMMON_RUSSIAN for c in letters) / len(letters)
        return min(1.0, share / 0.65)  # real text ~0.82; a wrong table ~0.45
    if codec in _CHINESE_CODECS:
        hanzi = [c for c in chars if 0x4E00 <= ord(c) <= 0x9FFF]
        if not hanzi:
            return 0.0
        share = sum(_gb2312_level1(c) for c in hanzi) / len(hanzi)
        return min(1.0, share / 0.7)
    if codec in _KOREAN_CODECS:
        # Modern Korean names are written in Hangul; each Hanja is evidence of a misread
        # (GBK Chinese read as EUC-KR gives a Hangul/Hanja mix), hence the fourth power.
        return 1.0 if not chars else (sum(0xAC00 <= ord(c) <= 0xD7A3 for c in chars) / len(chars)) ** 4
    return 1.0


def _gb2312_level1(ch: str) -> bool:
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and 0xB0 <= raw[0] <= 0xD7


def _plausibility(text: str, codec: str) -> float:
    chars = [c for c in text if ord(c) > 0x7F]
    if not chars:
        return 1.0
    neutral = [c for c in chars if c in _NEUTRAL]
    scored = [c for c in chars if c not in _NEUTRAL]
    if not scored:
        return 1.0 if neutral else 0.0
    legacy = codec not in ("utf_8", "utf-8")
    bad = sum(_is_mojibake(c) for c in scored) if legacy else sum(
        unicodedata.category(c) in ("Cc", "Co", "Cn") or c == "\ufffd" or 0x2500 <= ord(c) <= 0x259F
        for c in scored
    )
    script = sum(_in_script(c, codec) for c in scored) / len(scored)
    score = script * (1.0 - bad / len(scored))
    if codec in _RUSSIAN_CODECS:
        score *= _word_shape(text)
    elif codec in _CHINESE_CODECS:
        score *= _spaced_ideographs(text)
    return score * _commonness(scored, codec)


def score_encodings(values: Iterable[bytes], candidates: Sequence[str] = DEFAULT_CANDIDATES) -> dict[str, float | None]:
    """Plausibility of decoding *values* with each candidate (None: not decodable at all).

    Only values with non-ASCII bytes matter (ASCII reads the same in every candidate).
    """
    # Distinct values only (designations repeat on every row), capped: a few thousand
    # strings give stable statistics and keep detection well under a second.
    sample = list({v: None for v in values if not v.isascii()})[:MAX_SCORED_VALUES]
    scores: dict[str, float | None] = {}
    for cand in candidates:
        codec = _canonical(cand)
        try:
            text = "\n".join(_decode(v, codec) for v in sample)  # strict: no replacement
        except UnicodeDecodeError:
            scores[cand] = None
            continue
        scores[cand] = round(_plausibility(text, codec), 3) if sample else 1.0
    return scores


def _format_scores(scores: dict[str, float | None]) -> str:
    return ", ".join(f"{k}={'undecodable' if v is None else f'{v:.2f}'}" for k, v in scores.items())


def _fix_hint(where: str) -> str:
    stem = Path(str(where)).with_suffix("")
    return (
        f"pass the encoding explicitly (e.g. encoding='cp1251' for Russian, 'gb18030' for "
        f"Chinese, 'cp949' for Korean) or write it into {stem}.cpg (e.g. the single line '1251')"
    )


def choose_encoding(
    values: Sequence[bytes],
    *,
    where: str,
    cpg: str | None = None,
    encoding: str | None = None,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
) -> str:
    """Decide the codec of DBF text *values* (see the module docstring for the rules).

    Parameters
    ----------
    values : sequence of bytes
        Raw text values, e.g. from :func:`dbf_text_values`.
    where : str
        File name used in messages.
    cpg : str, optional
        Content of the ``.cpg`` file, if there is one.
    encoding : str, optional
        Encoding requested by the user; it wins but must decode every value.
    candidates : sequence of str
        Codecs tried when neither *encoding* nor *cpg* decides.

    Returns
    -------
    str
        A Python codec name.
    """
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise EncodingError(
                f"encoding={encoding!r} for {where} is not a codec Python knows; use e.g. "
                "'cp1251', 'gb18030', 'utf-8'"
            ) from None
        _check_decodes(values, codec, where, f"encoding={encoding!r}")
        return codec
    if cpg is not None and cpg.strip():
        codec = codec_from_cpg(cpg)
        if codec is not None:
            _check_decodes(values, codec, where, f"its .cpg ({cpg.strip()!r})")
            return codec
        warnings.warn(
            f"{where}: its .cpg ({cpg.strip()!r}) names no known codec; detecting the "
            "encoding from the text instead",
            TbpaWarning,
            stacklevel=3,
        )
    scores = score_encodings(values, candidates)
    valid = sorted(((s, c) for c, s in scores.items() if s is not None), reverse=True)
    if all(v.isascii() for v in values):
        return "utf-8"  # pure ASCII: every candidate reads it identically
    utf8 = next((s for c, s in scores.items() if _canonical(c) == "utf_8"), None)
    if utf8 is not None and utf8 >= UTF8_SCORE:
        # Legacy multi-byte text is almost never valid UTF-8 by accident (a cp1251 or GBK
        # lead byte must be followed by exactly the right continuation bytes), so a strict
        # UTF-8 decode that also reads as letters of the region settles it.
        return "utf-8"
    if valid:
        best, codec = valid[0]
        second = valid[1][0] if len(valid) > 1 else 0.0
        if best >= MIN_SCORE and best - second >= MIN_MARGIN:
            return codecs.lookup(codec).name
    unknown = f"; its .cpg ({cpg.strip()!r}) names no known codec" if cpg else ""
    raise EncodingError(
        f"cannot tell the text encoding of {where} (no .cpg{unknown}): plausibility of each "
        f"candidate (needs >= {MIN_SCORE} and a lead of {MIN_MARGIN}): {_format_scores(scores)}. "
        f"Fix: {_fix_hint(where)}"
    )


def _check_decodes(values: Sequence[bytes], codec: str, where: str, source: str) -> None:
    for v in values:
        try:
            _decode(v, codec)
        except UnicodeDecodeError as exc:
            raise EncodingError(
                f"{where}: text bytes {v[max(0, exc.start - 8):exc.end + 8]!r} do not decode as "
                f"{codec} requested by {source}; detect it with "
                "tbpa.io.detect_dbf_encoding(path) (after removing a wrong .cpg) or pass the "
                "right encoding="
            ) from None


# --------------------------------------------------------------------------- public API
def _sibling(path: Path, suffix: str) -> Path | None:
    for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if cand.exists():
            return cand
    return None


def detect_dbf_encoding(
    path: str | os.PathLike,
    *,
    encoding: str | None = None,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
) -> str:
    """Text encoding of a shapefile's attribute table, never a silent guess.

    Parameters
    ----------
    path : str or path-like
        The ``.shp`` or ``.dbf`` file.
    encoding : str, optional
        Encoding you believe is right; returned (as a codec name) if every text value
        decodes with it, else :class:`~tbpa.errors.EncodingError`.
    candidates : sequence of str
        Codecs scored when there is neither *encoding* nor a ``.cpg`` file. The default
        covers UTF-8, Russian (cp1251, cp866, KOI8-R), Chinese (GB18030 ⊃ GBK ⊃ GB2312) and
        Korean (cp949).

    Returns
    -------
    str
        A Python codec name such as ``"cp1251"``, usable as ``encoding=`` in pyogrio,
        geopandas and the tbpa readers.

    Raises
    ------
    EncodingError
        No candidate is clearly the most plausible (the message lists the scores), or the
        requested/``.cpg`` encoding does not decode the bytes.

    Examples
    --------
    >>> detect_dbf_encoding("zapovedniki.shp")  # doctest: +SKIP
    'cp1251'
    """
    path = Path(path)
    dbf = _sibling(path, ".dbf")
    if dbf is None:
        raise EncodingError(f"detect_dbf_encoding: no .dbf next to {path}; pass the .shp or .dbf path")
    cpg_path = _sibling(path, ".cpg")
    cpg = cpg_path.read_text(encoding="ascii", errors="replace") if cpg_path else None
    with open(dbf, "rb") as fh:
        values = dbf_text_values(fh)
    return choose_encoding(values, where=str(dbf), cpg=cpg, encoding=encoding, candidates=candidates)
