"""Shipped partner regions: grids whose area matches published land areas; bounding boxes; errors."""

from __future__ import annotations

import numpy as np
import pytest

from orbitwatch.errors import NotFound, ValidationError
from orbitwatch.resilience.regions import PARTNER_REGIONS, bbox_region, get_region

# Published total areas (km², CIA World Factbook), loose tolerance: 1:110m outlines and 1-deg cells.
AREAS = {"DEU": 357_022, "FRA": 551_500, "USA": 9_833_517, "AUS": 7_741_220, "JPN": 377_915,
         "CAN": 9_984_670, "GBR": 243_610, "ITA": 301_340, "NOR": 385_207, "NZL": 268_838}


@pytest.mark.parametrize("iso3", PARTNER_REGIONS)
def test_partner_region_area(iso3):
    r = get_region(iso3)
    assert r.source.startswith("Natural Earth")
    area = get_region(iso3).grid(0.5).area_km2.sum()
    # France's region holds French Guiana as well (+84 000 km²); Norway's Svalbard is not in NE 110m
    assert area == pytest.approx(AREAS[iso3], rel=0.3)


def test_names_and_aliases():
    assert get_region("germany").iso3 == "DEU"
    assert get_region("United Kingdom").iso3 == "GBR"
    with pytest.raises(NotFound, match="unknown region 'Atlantis'"):
        get_region("Atlantis")


def test_bbox_region_and_grid():
    r = bbox_region("5,45,15,55")
    g = r.grid(1.0)
    assert g.size == 100
    assert np.all((g.lat > 45) & (g.lat < 55) & (g.lon > 5) & (g.lon < 15))
    assert g.weights.sum() == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="W,S,E,N"):
        bbox_region("5,45,15")
    with pytest.raises(ValidationError, match="empty or out of range"):
        bbox_region("15,45,5,55")


def test_point_in_polygon_known_cities():
    deu = get_region("DEU")
    assert deu.contains(np.array([52.52]), np.array([13.40]))[0]  # Berlin
    assert not deu.contains(np.array([48.86]), np.array([2.35]))[0]  # Paris
    usa = get_region("USA")
    assert usa.contains(np.array([61.2]), np.array([-149.9]))[0]  # Anchorage
