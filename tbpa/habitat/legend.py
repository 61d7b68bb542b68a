"""The unified habitat legend: IUCN Habitats Classification Scheme v3.1, levels 1 and 2.

Codes follow Jung et al. (2020, Sci. Data 7:256): IUCN class ``k.j`` is the integer
``k * 100 + j`` (1.4 -> 104, 14.1 -> 1401, 5.10 -> 510) and level-1 class ``k`` is
``k * 100`` (Forest -> 100). Code ``0`` is nodata. Because level-2 indices never exceed 18,
``code // 100 * 100`` is always the level-1 parent of a code.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .._data import data_path
from ..errors import ValidationError

__all__ = ["NODATA", "legend", "to_level1", "colours", "iucn_code"]

#: Unified code of nodata cells (no class, outside the map, unknown source code).
NODATA = 0


@lru_cache(maxsize=1)
def _legend_table() -> pd.DataFrame:
    df = pd.read_csv(data_path("habitat", "legend.csv"), dtype={"iucn_label": str}, keep_default_na=False)
    df["code"] = df["code"].astype(np.int64)
    df["level"] = df["level"].astype(np.int64)
    df["occurs_ne_asia"] = df["occurs_ne_asia"].astype(str).str.lower().eq("true")
    return df


def legend(level: int | None = None) -> pd.DataFrame:
    """The unified habitat legend as a table.

    Parameters
    ----------
    level : {None, 1, 2}
        ``None`` returns every row (the nodata row ``code == 0, level == 0`` first, then all
        IUCN level-1 and level-2 classes); ``1`` or ``2`` returns only that level.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (int, Jung et al. 2020 encoding), ``level``, ``iucn_label``
        (e.g. ``"1.4"``), ``name_en``, ``name_zh``, ``name_ru``, ``colour`` (hex) and
        ``occurs_ne_asia`` (bool). A copy: edit it freely.

    Examples
    --------
    >>> lg = legend(level=2)
    >>> lg.loc[lg.code == 104, "name_en"].item()
    'Forest - Temperate'
    """
    df = _legend_table()
    if level is not None:
        if level not in (1, 2):
            raise ValidationError(f"legend: `level` must be None, 1 or 2, got {level!r}")
        df = df[df["level"] == level]
    return df.reset_index(drop=True).copy()


def to_level1(codes):
    """Collapse unified level-2 codes to their level-1 parent (``104 -> 100``; 0 stays 0).

    Examples
    --------
    >>> to_level1(np.array([0, 104, 1401, 500])).tolist()
    [0, 100, 1400, 500]
    """
    codes = np.asarray(codes)
    return (codes // 100) * 100


def colours(level: int | None = None) -> dict[int, str]:
    """Map unified code -> display colour (hex), e.g. for a matplotlib ListedColormap.

    Examples
    --------
    >>> colours()[104]
    '#38a800'
    """
    df = legend(level)
    return dict(zip(df["code"].astype(int), df["colour"]))


def iucn_code(label: str) -> int:
    """Integer code of an IUCN label (``"1.4" -> 104``, ``"14" -> 1400``).

    Raises :class:`~tbpa.errors.ValidationError` for labels not in the legend.

    Examples
    --------
    >>> iucn_code("5.10")
    510
    """
    parts = str(label).strip().split(".")
    try:
        code = int(parts[0]) * 100 + (int(parts[1]) if len(parts) > 1 else 0)
    except ValueError:
        raise ValidationError(f"iucn_code: {label!r} is not an IUCN label like '1.4'") from None
    if len(parts) > 2 or code not in set(_legend_table()["code"]) or code == NODATA:
        raise ValidationError(
            f"iucn_code: {label!r} is not an IUCN level-1/level-2 class; see tbpa.habitat.legend()"
        )
    return code
