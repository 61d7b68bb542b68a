"""A single self-contained HTML report of a demo or analysis run.

Maps are embedded as PNG data URIs (downscaled for the page; the 300 dpi PNG and PDF stay
beside the report and are linked), tables as HTML, parameters as JSON. Links point only to
files that exist when the report is written.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import os
from pathlib import Path

from ._atomic import atomic_path

__all__ = ["write_report"]

_CSS = """
body{font-family:'Noto Sans','Noto Sans CJK SC','DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.45} h1{font-size:1.7em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.notice{background:#fff3f3;border:1px solid #8b0000;color:#8b0000;padding:.6em 1em;border-radius:4px}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0} td,th{border:1px solid #ddd;padding:.25em .5em}
th{background:#f4f4f4} img{max-width:100%;border:1px solid #ddd} pre{background:#f7f7f7;padding:.8em;overflow:auto}
"""
NOTICE = ("Protected-area outlines and draft boundary options are SCHEMATIC (digitised from published "
          "centroids, extents and areas), not legal boundaries. National land-cover samples are SYNTHETIC "
          "(derived from MODIS MCD12C1 2019). Example species checklists and monitoring data are ILLUSTRATIVE.")


def _png_data_uri(path: Path, width: int = 1600) -> str:
    from PIL import Image

    with Image.open(path) as im:
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)))
        buf = io.BytesIO()
        im.convert("RGB").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _link(target: Path, report_dir: Path, label: str) -> str:
    if not target.exists():
        return ""
    rel = os.path.relpath(target, report_dir)
    return f'<a href="{html.escape(rel)}">{html.escape(label)}</a>'


def write_report(path, ctx) -> Path:
    """Write ``report.html`` for a :class:`tbpa.demo.DemoContext` (or anything with the same fields)."""
    from . import __version__

    path = Path(path)
    out = path.parent
    parts = [f"<h1>tbpa report</h1><p>tbpa {__version__} · {_dt.date.today().isoformat()} · "
             f"landscapes: {', '.join(ctx.landscapes)}</p>", f'<p class="notice">{html.escape(NOTICE)}</p>']
    if ctx.notes:
        parts.append("<h2>Summary</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in ctx.notes) + "</ul>")
    if ctx.figures:
        parts.append("<h2>Maps</h2>")
        for title, png in ctx.figures.items():
            png = Path(png)
            links = " · ".join(filter(None, [_link(png, out, "PNG 300 dpi"),
                                              _link(png.with_suffix(".pdf"), out, "PDF")]))
            parts.append(f"<h3>{html.escape(title)}</h3><p>{links}</p>"
                         f'<img alt="{html.escape(title)}" src="{_png_data_uri(png)}">')
    if ctx.tables:
        parts.append("<h2>Tables</h2>")
        for title, table in ctx.tables.items():
            shown = table.head(50)
            more = f"<p>{len(table) - 50} more rows in the CSV.</p>" if len(table) > 50 else ""
            parts.append(f"<h3>{html.escape(title)}</h3>{shown.to_html(float_format=lambda v: f'{v:,.4g}', na_rep='')}{more}")
    package = out / "package"
    if package.exists():
        files = sorted(p for p in package.rglob("*") if p.is_file())
        parts.append("<h2>Data package</h2><ul>" + "".join(
            f"<li>{_link(p, out, str(p.relative_to(out)))}</li>" for p in files) + "</ul>")
    parts.append("<h2>Parameters</h2><pre>" + html.escape(json.dumps(ctx.parameters, indent=2, default=str,
                                                                      ensure_ascii=False)) + "</pre>")
    if ctx.timings:
        parts.append("<h2>Timings</h2><ul>" + "".join(f"<li>{html.escape(k)}: {v:.1f} s</li>"
                                                       for k, v in ctx.timings.items()) + "</ul>")
    doc = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>tbpa report</title>'
           f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")
    with atomic_path(path) as tmp:
        tmp.write_text(doc, encoding="utf-8")
    return path
