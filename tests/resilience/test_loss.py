"""Resilience under loss: alone vs pooled, before/after, and the taxonomy numbers."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience.loss import (
    coverage_under_loss,
    gnss_under_loss,
    lost_ids_from_text,
    orbital_planes,
    taxonomy,
)
from orbitwatch.resilience.regions import get_region
from orbitwatch.resilience.services import gnss_system

T0 = datetime(2026, 8, 18, tzinfo=UTC)


def test_losing_gps_leaves_the_coalition_served(active_elsets):
    nav = [e for e in active_elsets if gnss_system(e) in ("GPS", "GALILEO", "QZSS")]
    gps = {e.norad_id for e in nav if gnss_system(e) == "GPS"}
    rep = gnss_under_loss(nav, get_region("GBR"), gps, start=T0, hours=6, step_s=900)
    usa = rep["nations"]["USA"]
    assert usa["systems"] == ["GPS"]
    assert usa["before"]["availability"] > 0.99 and usa["after"]["availability"] == 0.0
    assert rep["nations"]["GBR"]["systems"] == []  # no navigation system of its own
    assert rep["nations"]["FRA"]["systems"] == ["GALILEO"]
    co = rep["coalition"]
    assert co["after"]["availability"] > 0.99  # Galileo (+QZSS) still serve
    assert co["taxonomy_before"]["diversification_systems"] == 3
    assert co["taxonomy_after"]["diversification_systems"] == 2
    assert co["taxonomy_after"]["proliferation_serving"] == co["taxonomy_before"]["proliferation_serving"] - len(gps)
    assert sorted(rep["lost_navigation_satellites"]) == sorted(gps)


def _sat(norad, name, alt, incl, raan):
    a = 6378.135 + alt
    n = math.sqrt(398600.8 / a ** 3) * 86400 / (2 * math.pi)
    return ElementSet(norad_id=norad, epoch=T0, mean_motion=n, eccentricity=1e-4, inclination=incl, raan=raan,
                      arg_perigee=0, mean_anomaly=norad * 37 % 360, object_name=name)


def test_coverage_alone_vs_pooled():
    sats = [_sat(100 + k, f"SKYNET {k}", 1200, 60, 30 * k) for k in range(6)]  # GBR
    sats += [_sat(200 + k, f"SYRACUSE {k}", 1200, 60, 30 * k + 15) for k in range(6)]  # FRA
    lost = {100, 101, 102}
    rep = coverage_under_loss(sats, get_region("DEU"), lost, start=T0, hours=12, step_s=120,
                              min_elevation_deg=10)
    gbr, fra, co = rep["nations"]["GBR"], rep["nations"]["FRA"], rep["coalition"]
    assert gbr["satellites"] == 6 and fra["satellites"] == 6 and co["satellites"] == 12
    assert rep["nations"]["DEU"]["satellites"] == 0
    assert co["before"]["percent_coverage"] >= max(gbr["before"]["percent_coverage"],
                                                   fra["before"]["percent_coverage"])
    assert gbr["after"]["percent_coverage"] <= gbr["before"]["percent_coverage"]
    assert fra["change"]["percent_coverage"] == 0.0  # France lost nothing
    assert co["taxonomy_before"]["diversification_providers"] == 2
    assert co["taxonomy_before"]["distribution_planes"] == 12


def test_taxonomy_and_planes():
    sats = [_sat(1, "A", 500, 53, 10), _sat(2, "B", 500, 53.5, 12), _sat(3, "C", 500, 97, 100)]
    assert orbital_planes(sats) == 2
    t = taxonomy(sats, 1.5, owners={1: "USA", 2: "GBR"})
    assert t.proliferation_serving == 3 and t.diversification_providers == 3  # USA, GBR, UNKNOWN
    assert t.regimes == ("LEO",)
    assert lost_ids_from_text("25544, 43013;1") == {25544, 43013, 1}
    with pytest.raises(ValueError):
        lost_ids_from_text("abc")


def test_is_payload():
    from orbitwatch.resilience.services import is_payload

    deb = _sat(1, "COSMOS 1408 DEB", 500, 82, 0)
    rb = _sat(2, "SL-14 R/B", 600, 82, 0)
    sat = _sat(3, "ISS (ZARYA)", 420, 51, 0)
    assert not is_payload(deb) and not is_payload(rb) and is_payload(sat)
    assert not is_payload(sat, {3: "DEBRIS"})
