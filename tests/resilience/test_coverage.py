"""Coverage/revisit against closed-form geometry: an equatorial LEO pass train and a GEO footprint."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience.coverage import coverage, coverage_compare
from orbitwatch.resilience.regions import Grid

T0 = datetime(2026, 8, 18, tzinfo=UTC)
MU = 398600.8
RE = 6378.135


def _circular(norad, alt_km, incl=0.0, raan=0.0, ma=0.0):
    a = RE + alt_km
    n = math.sqrt(MU / a ** 3) * 86400 / (2 * math.pi)
    return ElementSet(norad_id=norad, epoch=T0, mean_motion=n, eccentricity=1e-5, inclination=incl,
                      raan=raan, arg_perigee=0.0, mean_anomaly=ma, object_name=f"SAT {norad}")


def _point(lat, lon):
    return Grid(np.array([lat]), np.array([lon]), np.array([1.0]), 1.0)


def test_equatorial_leo_matches_footprint_geometry():
    alt, eps = 800.0, 10.0
    sat = _circular(1, alt)
    res = coverage([sat], _point(0.0, 0.0), start=T0, hours=24, step_s=5, min_elevation_deg=eps)
    # Earth-central half-angle of the footprint: λ = acos(Re cos ε / r) - ε
    lam = math.acos(RE * math.cos(math.radians(eps)) / (RE + alt)) - math.radians(eps)
    s = res.summary()
    assert s["percent_coverage"] == pytest.approx(100 * lam / math.pi, rel=0.03)
    # passes repeat at the synodic period 2π/(n - ω_E); gaps last that minus the pass
    n = math.sqrt(MU / (RE + alt) ** 3)
    syn = 2 * math.pi / (n - 7.2921159e-5)
    assert s["max_gap_s"] == pytest.approx(syn * (1 - lam / math.pi), rel=0.03)
    assert s["mean_revisit_s"] == pytest.approx(syn, rel=0.1)


def test_geo_footprint_and_sensor_cone():
    geo = _circular(2, 35786.0 - 8.0)  # about GEO
    grid = Grid(np.array([0.0, 0.0, 60.0, 85.0]), np.array([0.0, 0.0, 0.0, 0.0]), np.ones(4), 1.0)
    res = coverage([geo], grid, start=T0, hours=2, step_s=600, min_elevation_deg=5)
    frac = res.covered.mean(axis=1)
    # a GEO footprint at 5 deg elevation reaches acos(Re cos 5° / r) - 5° = 76.3 deg from the
    # sub-satellite point: 85 deg N is never covered, whatever the satellite's longitude
    assert frac[3] == 0.0
    assert frac[0] == frac[1]
    assert res.summary()["points_never_covered"] >= 1
    with pytest.raises(ValidationError, match="exactly one of"):
        coverage([geo], grid, start=T0, hours=1, min_elevation_deg=5, half_angle_deg=3)


def test_sensor_cone_narrower_than_horizon():
    sat = _circular(3, 500.0)
    pt = _point(0.0, 0.0)
    wide = coverage([sat], pt, start=T0, hours=24, step_s=5, min_elevation_deg=0).summary()
    cone = coverage([sat], pt, start=T0, hours=24, step_s=5, half_angle_deg=20).summary()
    # a 20 deg nadir cone from 500 km reaches λ = asin(r sin η / Re) - η
    r = RE + 500
    lam = math.asin(r * math.sin(math.radians(20)) / RE) - math.radians(20)
    assert cone["percent_coverage"] == pytest.approx(100 * lam / math.pi, rel=0.05)
    assert cone["percent_coverage"] < wide["percent_coverage"]


def test_groups_share_geometry_and_union():
    sats = [_circular(10 + k, 1000.0, incl=53.0, raan=45.0 * k) for k in range(8)]
    grid = Grid(np.array([10.0, 40.0, -30.0]), np.array([0.0, 20.0, 100.0]), np.ones(3), 1.0)
    res = coverage_compare(sats, grid, {"a": [10, 11, 12, 13], "b": [14, 15, 16, 17],
                                        "all": [s.norad_id for s in sats]},
                           start=T0, hours=12, step_s=60, min_elevation_deg=10)
    assert np.array_equal(res["all"].covered, res["a"].covered | res["b"].covered)
    assert np.array_equal(res["all"].nview, res["a"].nview + res["b"].nview)
    assert res["all"].summary()["percent_coverage"] >= res["a"].summary()["percent_coverage"]
    assert set(res["a"].serving_ids) <= {10, 11, 12, 13}


def test_three_geo_satellites_cover_the_equator_continuously():
    geos = [_circular(50 + k, 35786.0 - 8.0, ma=120.0 * k) for k in range(3)]
    grid = Grid(np.array([0.0, 0.0, 0.0]), np.array([0.0, 100.0, -130.0]), np.ones(3), 1.0)
    s = coverage(geos, grid, start=T0, hours=6, step_s=600, min_elevation_deg=5).summary()
    assert s["percent_coverage"] == 100.0
    assert s["max_gap_s"] == 0.0 and s["mean_revisit_s"] == 0.0
