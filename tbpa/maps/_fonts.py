"""Fonts that render Chinese, Cyrillic and Korean labels.

Matplotlib's default DejaVu Sans has Cyrillic but no CJK glyphs, so Chinese labels would come
out as empty boxes. tbpa looks for a font that covers every character to be drawn: fonts
matplotlib already knows, then the Noto Sans CJK font shipped by the ``mplfonts`` package,
then system fonts (Debian ``fonts-noto-cjk``). When none covers the text, labels fall back
to English with a single :class:`~tbpa.errors.FontFallbackWarning`.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from ..errors import FontFallbackWarning

__all__ = ["font_for", "resolve_languages", "SAMPLE_TEXT"]

#: Characters each language's labels need (a sample of the scripts, checked for coverage).
SAMPLE_TEXT = {
    "en": "Land of the Leopard",
    "zh": "东北虎豹国家公园豹之乡珲春湿地",
    "ru": "Земля леопарда Кедровая падь",
    "ko": "라선 철새 보호구",
    "mn": "Монгол Дагуур Өө Үү",
}

_CANDIDATE_FILES = (
    "NotoSansCJKsc-Regular.otf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.ttf",
    "SourceHanSansSC-Regular.otf",
    "wqy-microhei.ttc",
)
_SYSTEM_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
_warned: set[str] = set()


def _covers(path: str, text: str) -> bool:
    try:
        font = FT2Font(path)
    except (OSError, RuntimeError):
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _candidate_paths() -> list[str]:
    paths = []
    try:
        import mplfonts

        fonts_dir = Path(mplfonts.__file__).parent / "fonts"
        paths += [str(fonts_dir / name) for name in _CANDIDATE_FILES if (fonts_dir / name).exists()]
    except ImportError:
        pass
    for root in _SYSTEM_DIRS:
        if os.path.isdir(root):
            for dirpath, _, files in os.walk(root):
                paths += [os.path.join(dirpath, f) for f in files if f in _CANDIDATE_FILES]
    return paths


@functools.lru_cache(maxsize=None)
def font_for(text: str) -> str | None:
    """Family name of a font covering every character of *text* (registered with matplotlib)."""
    default = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    if _covers(default, text):
        return font_manager.FontProperties(fname=default).get_name()
    for path in _candidate_paths():
        if _covers(path, text):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def resolve_languages(lang) -> tuple[tuple[str, ...], str | list[str] | None]:
    """Languages that can be rendered and the font family (or fallback list) to render them.

    Returns ``(languages, family)``. *family* is one family when a single font covers every
    script, else a list that matplotlib walks glyph by glyph; if some requested script has no
    font at all, falls back to ``("en",)`` with one warning per missing script per session.
    """
    langs = (lang,) if isinstance(lang, str) else tuple(lang)
    unknown = [code for code in langs if code not in SAMPLE_TEXT]
    if unknown:
        from ..errors import ValidationError

        raise ValidationError(f"lang: unknown language codes {unknown}; use {sorted(SAMPLE_TEXT)}")
    text = "".join(SAMPLE_TEXT[code] for code in langs)
    family = font_for(text)
    if family is not None:
        return langs, family
    per_language = [font_for(SAMPLE_TEXT[code]) for code in langs]
    if None not in per_language:
        # No single font has every script (e.g. a CJK font without Mongolian Ө/Ү), but each
        # script has one: matplotlib falls back glyph by glyph through a family list.
        return langs, list(dict.fromkeys(per_language))
    missing = [code for code, fam in zip(langs, per_language) if fam is None]
    key = ",".join(missing)
    if key not in _warned:
        _warned.add(key)
        warnings.warn(
            f"No installed font covers the {missing} labels; falling back to English labels. "
            "Install the 'mplfonts' package (pip install mplfonts) or Debian's fonts-noto-cjk.",
            FontFallbackWarning, stacklevel=3,
        )
    return ("en",), font_for(SAMPLE_TEXT["en"])
