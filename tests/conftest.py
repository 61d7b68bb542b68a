"""Shared fixtures: tiny rasters with known answers, and access to ../shared oracles."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from affine import Affine

import tbpa

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LAEA = "+proj=laea +lat_0=43 +lon_0=131 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


def shared_path(*parts: str) -> Path:
    """Path under ../shared, skipping the test when ../shared is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared not available ({path})")
    return path


@pytest.fixture(autouse=True)
def _no_progress_bars():
    with tbpa.set_options(progress=False):
        yield


@pytest.fixture
def laea():
    """The LAEA CRS string used by synthetic test rasters."""
    return LAEA


@pytest.fixture
def make_raster():
    """Factory: ``make_raster(values, cell=100.0)`` -> DataArray in a LAEA CRS."""

    def _make(values, cell: float = 100.0, x0: float = 0.0, y0: float | None = None, crs=LAEA):
        values = np.asarray(values)
        top = values.shape[0] * cell if y0 is None else y0
        return tbpa.io.from_array(values, transform=Affine(cell, 0, x0, 0, -cell, top), crs=crs)

    return _make


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


os.environ.setdefault("MPLBACKEND", "Agg")
