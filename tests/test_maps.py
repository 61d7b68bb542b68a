"""Maps: multilingual labels render without missing glyphs; fallback; layout; outputs."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from affine import Affine
from PIL import Image

import tbpa
from tbpa.errors import CRSError, FontFallbackWarning, ValidationError
from tbpa.maps import _fonts, boundary_options_map, habitat_map, save_figure, unified_map
from tbpa.maps.layers import site_label


@pytest.fixture(scope="module")
def tumen():
    return tbpa.sites.load_landscape("tumen_estuary")


def _glyph_warnings(record):
    return [str(w.message) for w in record if "missing from font" in str(w.message)
            or "Glyph" in str(w.message)]


def test_chinese_and_cyrillic_labels_render_without_missing_glyphs(tumen, tmp_path):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fig = unified_map(tumen, lang=("en", "zh", "ru", "ko"))
        save_figure(fig, tmp_path / "map.png", dpi=60)
    plt.close(fig)
    assert _glyph_warnings(record) == []
    assert not [w for w in record if issubclass(w.category, FontFallbackWarning)]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("敬信湿地" in t for t in texts)          # Chinese name of Jingxin wetland
    assert any("Хасанский" in t for t in texts)         # Russian name of Khasansky


def test_mongolian_with_chinese_renders_through_a_font_fallback_list(tmp_path):
    """Dauria: no single installed font has both CJK and Mongolian Cyrillic (Ө, Ү); each
    script has one, so all four languages are kept and every glyph renders."""
    dauria = tbpa.sites.load_landscape("dauria")
    langs = tbpa.maps.layers.landscape_languages(dauria.countries)
    assert langs == ("en", "zh", "ru", "mn")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fig = unified_map(dauria, lang=langs)
        fig.axes[0].text(0.5, 0.5, "达乌尔 Даурия Дагуур Өвөр Үүр", transform=fig.axes[0].transAxes,
                         family=_fonts.resolve_languages(langs)[1])
        save_figure(fig, tmp_path / "dauria.png", dpi=60)
    plt.close(fig)
    assert _glyph_warnings(record) == []
    assert not [w for w in record if issubclass(w.category, FontFallbackWarning)]
    subtitle = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "Монгол" in subtitle  # the language list names Mongolian: it was not dropped


def test_missing_font_falls_back_to_english_once(tumen, monkeypatch):
    monkeypatch.setattr(_fonts, "_candidate_paths", lambda: [])
    monkeypatch.setattr(_fonts, "_warned", set())
    _fonts.font_for.cache_clear()
    try:
        with pytest.warns(FontFallbackWarning, match="falling back to English") as record:
            fig1 = unified_map(tumen, lang=("en", "zh"))
            fig2 = unified_map(tumen, lang=("en", "zh"))
        assert sum(issubclass(w.category, FontFallbackWarning) for w in record) == 1
        texts = " ".join(t.get_text() for t in fig2.axes[0].texts)
        assert "Jingxin" in texts and "敬信" not in texts
        plt.close(fig1), plt.close(fig2)
    finally:
        _fonts.font_for.cache_clear()


def test_site_label_uses_short_local_name():
    row = {"site_id": "LLNP", "iso3": "RUS", "name_en": "Land of the Leopard NP",
           "name_local": "Земля леопарда", "name_ru": "Национальный парк «Земля леопарда»", "name_zh": None}
    assert site_label(row, ("en", "zh", "ru")) == "Land of the Leopard NP / Земля леопарда"


@pytest.mark.parametrize("page, inches", [("A4", (11.69, 8.27)), ("A3", (16.54, 11.69))])
def test_page_sizes_and_formats(tumen, tmp_path, page, inches):
    fig = unified_map(tumen, lang=("en",), page=page)
    assert tuple(np.round(fig.get_size_inches(), 2)) == inches
    png = save_figure(fig, tmp_path / "m.png", dpi=300)
    with Image.open(png) as im:
        assert abs(im.size[0] - round(inches[0] * 300)) <= 2
    for suffix in ("pdf", "svg"):
        out = save_figure(fig, tmp_path / f"m.{suffix}")
        assert out.stat().st_size > 10_000
    plt.close(fig)
    with pytest.raises(ValidationError, match="page"):
        unified_map(tumen, page="letter")


def test_map_has_schematic_notice_scale_bar_and_graticule(tumen):
    fig = unified_map(tumen, lang=("en",))
    all_text = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "SCHEMATIC BOUNDARIES" in all_text
    assert "km" in all_text and "N" in all_text
    labels = [a.get_text() for a in fig.axes[0].texts if "°" in a.get_text()]
    assert any(lbl.endswith("E") for lbl in labels) and any(lbl.endswith("N") for lbl in labels)
    plt.close(fig)


@pytest.mark.parametrize("title", [
    "Tumen River estuary (China-DPRK-Russia): draft boundary options",
    "Land of Big Cats (China-Russia): unified habitat map (IUCN Habitats Classification v3.1, "
    "level 2) for the transboundary protected area feasibility study",
])
def test_long_title_never_runs_under_the_schematic_notice(tumen, title):
    fig = unified_map(tumen, lang=("en",), title=title)
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts]
    notice = next(t for t in texts if t.get_text().startswith("SCHEMATIC BOUNDARIES"))
    head = next(t for t in texts if t.get_text().replace("\n", " ") == title)
    assert head.get_window_extent(renderer).x1 < notice.get_window_extent(renderer).x0
    plt.close(fig)


def test_site_labels_never_overlap_and_free_ones_stay_on_their_anchor():
    from tbpa.maps.layers import place_labels

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    items = [("Khasansky Nature Park", (50, 50)), ("Fangchuan Scenic Area", (52, 51)),
             ("Jingxin Wetland", (49, 49)), ("Rason Reserve", (10, 90))]
    anns = place_labels(ax, items, fontsize=8)
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text

    boxes = []
    for a in anns:  # the label text, not its leader line
        a.update_positions(renderer)
        boxes.append(Text.get_window_extent(a, renderer))
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (items[i][0], items[j][0])
    offsets = [a.xyann for a in anns]
    assert offsets[0] == (0, 0) and offsets[3] == (0, 0)  # first and isolated: on anchor
    assert offsets[1] != (0, 0) and anns[1].arrow_patch is not None  # moved, with a leader
    plt.close(fig)


def test_ax_argument_and_layers(tumen):
    crs = tumen.crs
    minx, miny, maxx, maxy = tumen.aoi.bounds
    codes = np.array([[104, 504], [1401, 1508]]).repeat(20, 0).repeat(20, 1)
    cell = (maxx - minx) / codes.shape[1]
    habitat = tbpa.io.from_array(codes, transform=Affine(cell, 0, minx, 0, -cell, maxy), crs=crs)
    fig, ax = plt.subplots()
    out = habitat_map(tumen, habitat, ax=ax)
    assert out is fig
    options = tbpa.sites.load_tumen_options(crs=crs)
    fig2 = boundary_options_map(tumen, options, habitat=habitat)
    legend_texts = [t.get_text() for t in fig2.axes[1].get_legend().get_texts()]
    assert any(t.startswith("5.4") for t in legend_texts) and any(t.startswith("option A") for t in legend_texts)
    plt.close(fig), plt.close(fig2)
    with pytest.raises(CRSError, match="reproject"):
        unified_map(tumen, habitat=habitat.rio.reproject("EPSG:4326"), lang=("en",))
