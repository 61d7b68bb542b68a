"""unify with ancillary rules: temperate vs boreal forest decided by latitude."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import box

import tbpa
from tbpa.errors import ValidationError
from tbpa.habitat import unify


@pytest.fixture
def forest():
    # CGLS-LC100 111 (closed evergreen needleleaf forest): 1.4 below 50 N, 1.1 from 50 N
    values = np.full((40, 20), 111, dtype="uint8")
    return tbpa.io.from_array(values, transform=Affine(0.05, 0, 120.0, 0, -0.1, 52.0), crs="EPSG:4326")


def test_latitude_rule_splits_forest(forest):
    countries = gpd.GeoDataFrame({"iso3": ["RUS"]}, geometry=[box(119, 47, 122, 53)], crs=4326)
    crs = "+proj=laea +lat_0=50 +lon_0=120.5 +datum=WGS84 +units=m +no_defs"
    plain = unify({"RUS": (forest, "cgls_lc100")}, countries=countries, resolution=5000, crs=crs)
    codes = set(np.unique(plain["habitat"].values)) - {0}
    assert codes == {104}  # without ancillary layers the highest-weight target wins
    ruled = unify({"RUS": (forest, "cgls_lc100")}, countries=countries, resolution=5000, crs=crs,
                  ancillary="latitude")
    hab = ruled["habitat"]
    # the projection is centred on 50 N: rows 20 km north of its origin lie north of 50 N
    north = hab.where(hab.y > 20_000).values
    south = hab.where(hab.y < -20_000).values
    assert set(np.unique(north[np.isfinite(north) & (north > 0)])) == {101}
    assert set(np.unique(south[np.isfinite(south) & (south > 0)])) == {104}
    with pytest.raises(ValidationError, match="ancillary"):
        unify({"RUS": (forest, "cgls_lc100")}, countries=countries, resolution=5000, crs=crs, ancillary=3)
