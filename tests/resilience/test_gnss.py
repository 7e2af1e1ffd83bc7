"""GNSS DOP/availability: checked against skyfield's topocentric geometry and published typical values."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from orbitwatch.resilience.gnss import gnss_availability, gnss_compare, standard_sets
from orbitwatch.resilience.regions import Grid, get_region
from orbitwatch.resilience.services import gnss_system

T0 = datetime(2026, 8, 18, 0, 0, tzinfo=UTC)
SITES = [(-35.3, 149.1), (45.4, -75.7), (59.9, 10.7)]  # Canberra, Ottawa, Oslo


def _grid(sites):
    lat = np.array([s[0] for s in sites])
    lon = np.array([s[1] for s in sites])
    return Grid(lat, lon, np.ones(lat.size), 1.0)


def _skyfield_dop(elsets, lat, lon, when, mask_deg=10.0):
    """Independent reference: skyfield alt/az (its own TEME->ITRS, topocentric frames), numpy inverse."""
    from skyfield.api import EarthSatellite, load, wgs84

    from orbitwatch.kernels.propagation import satrec_of

    ts = load.timescale(builtin=True)
    t = ts.from_datetime(when)
    site = wgs84.latlon(lat, lon)
    rows = []
    for e in elsets:
        sat = EarthSatellite.from_satrec(satrec_of(e), ts)
        alt, az, _ = (sat - site).at(t).altaz()
        if alt.degrees >= mask_deg:
            el, a = alt.radians, az.radians
            # east, north, up unit vector; geometry row [-u, 1]
            u = np.array([np.cos(el) * np.sin(a), np.cos(el) * np.cos(a), np.sin(el)])
            rows.append(np.concatenate([-u, [1.0]]))
    g = np.array(rows)
    q = np.linalg.inv(g.T @ g)
    return len(rows), float(np.sqrt(np.trace(q[:3, :3]))), float(np.sqrt(q[0, 0] + q[1, 1]))


@pytest.mark.parametrize("hour", [0, 7, 15])
def test_dop_matches_skyfield(gnss_groups, hour):
    gps = gnss_groups["gps"]
    when = T0.replace(hour=hour)
    res = gnss_availability(gps, _grid(SITES), start=when, systems=["GPS"], hours=1 / 60, step_s=60)
    for i, (lat, lon) in enumerate(SITES):
        n_ref, pdop_ref, hdop_ref = _skyfield_dop(gps, lat, lon, when)
        # a satellite within ~0.01 deg of the mask may fall either side (polar motion, UT1 are ignored)
        assert abs(int(res.nsat[i, 0]) - n_ref) <= 1
        if int(res.nsat[i, 0]) == n_ref:
            assert res.pdop[i, 0] == pytest.approx(pdop_ref, rel=2e-3)
            assert res.hdop[i, 0] == pytest.approx(hdop_ref, rel=2e-3)


def test_gps_alone_matches_published_typical_dop(gnss_groups):
    """Full GPS constellation, 10 deg mask: PDOP typically 1.5-2.5 and availability ~100 % (SPS PS)."""
    res = gnss_availability(gnss_groups["gps"], get_region("DEU"), start=T0, systems=["GPS"],
                            hours=12, step_s=300)
    s = res.summary()
    assert 1.3 <= s["pdop_median"] <= 2.5
    assert 0.5 <= s["hdop_median"] <= 1.5
    assert s["availability"] > 0.99
    assert 7 <= s["mean_satellites_in_view"] <= 14


def test_pooling_never_worse_than_alone(active_elsets):
    nav = [e for e in active_elsets if gnss_system(e) in ("GPS", "GALILEO", "QZSS")]
    sets = standard_sets(["GPS", "GALILEO", "QZSS"])
    assert set(sets) == {"GPS", "GALILEO", "QZSS", "ALLIED"}
    res = gnss_compare(nav, get_region("JPN"), sets, start=T0, hours=6, step_s=600)
    allied = res["ALLIED"]
    for k in ("GPS", "GALILEO", "QZSS"):
        assert allied.availability >= res[k].availability
        both = np.isfinite(allied.pdop) & np.isfinite(res[k].pdop)
        assert np.all(allied.pdop[both] <= res[k].pdop[both] + 1e-4)  # more satellites never worsen DOP
    # QZSS alone (a regional system with a handful of satellites) cannot give 4 in view everywhere
    assert res["QZSS"].availability < 0.5
    assert allied.summary()["mean_satellites_in_view"] == pytest.approx(
        sum(res[k].summary()["mean_satellites_in_view"] for k in ("GPS", "GALILEO", "QZSS")), abs=0.05)


def test_excluding_lost_satellites_reduces_service(gnss_groups):
    gps = gnss_groups["gps"]
    lost = {e.norad_id for e in gps[: len(gps) * 2 // 3]}
    before = gnss_availability(gps, get_region("GBR"), start=T0, systems=["GPS"], hours=6, step_s=600)
    after = gnss_availability(gps, get_region("GBR"), start=T0, systems=["GPS"], hours=6, step_s=600,
                              exclude=lost)
    assert len(after.norad_ids) == len(gps) - len(lost)
    assert after.availability < before.availability


def test_clock_per_system_matches_independent_geometry(gnss_groups):
    """Two systems, one clock each: compare with a geometry matrix built from skyfield alt/az with two
    clock columns; with one system the per-system and single-clock solutions are identical."""
    from skyfield.api import EarthSatellite, load, wgs84

    from orbitwatch.kernels.propagation import satrec_of

    gps, gal = gnss_groups["gps"], gnss_groups["galileo"]
    when = T0.replace(hour=5)
    lat, lon = 48.1, 11.6
    res = gnss_compare(gps + gal, _grid([(lat, lon)]), {"both": ["GPS", "GALILEO"], "gps": ["GPS"]}, start=when,
                       hours=1 / 60, step_s=60, clock_per_system=True)
    single = gnss_compare(gps, _grid([(lat, lon)]), {"gps": ["GPS"]}, start=when, hours=1 / 60, step_s=60)
    assert res["gps"].pdop[0, 0] == pytest.approx(single["gps"].pdop[0, 0], rel=1e-6)
    ts = load.timescale(builtin=True)
    t = ts.from_datetime(when)
    site = wgs84.latlon(lat, lon)
    rows = []
    for col, group in ((0, gps), (1, gal)):
        for e in group:
            alt, az, _ = (EarthSatellite.from_satrec(satrec_of(e), ts) - site).at(t).altaz()
            if alt.degrees >= 10:
                el, a = alt.radians, az.radians
                u = np.array([np.cos(el) * np.sin(a), np.cos(el) * np.cos(a), np.sin(el)])
                clocks = [1.0, 0.0] if col == 0 else [0.0, 1.0]
                rows.append(np.concatenate([-u, clocks]))
    g = np.array(rows)
    q = np.linalg.inv(g.T @ g)
    assert res["both"].pdop[0, 0] == pytest.approx(np.sqrt(np.trace(q[:3, :3])), rel=2e-3)
    assert int(res["both"].nsat[0, 0]) == len(rows) - 1  # the second clock costs one satellite
