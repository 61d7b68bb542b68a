"""The README's notebook example runs as written, and its two set-up commands are present."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_has_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e ".[test]" && tbpa demo' in text
    assert 'pip install -e ".[test]" && pytest' in text


def test_readme_example_runs():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) <= 12
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    cwd = namespace["cwd"]
    assert cwd.rio.crs is not None and np.nanmin(cwd.values) == 0.0  # zero inside the source park
