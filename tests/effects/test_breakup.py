"""NASA Standard Breakup Model: published formulas by hand, element-set fit against SGP4, Cosmos 1408."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from orbitwatch.effects.breakup import (
    SIMULATED_NORAD_BASE,
    am_large,
    am_small,
    area_m2,
    bstar_from_area_to_mass,
    classify_event,
    delta_v_ms,
    fragment_count,
    next_simulated_base,
    simulate_breakup,
)
from orbitwatch.effects.orbits import RE_WGS72, apsides_km, rv_to_kepler
from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience._sgp4 import propagate_teme

ASAT_EPOCH = datetime(2021, 11, 15, 2, 47, tzinfo=UTC)


def _leo_parent() -> ElementSet:
    return ElementSet(norad_id=99001, epoch=datetime(2024, 1, 1, tzinfo=UTC), mean_motion=14.8,
                      eccentricity=0.001, inclination=86.4, raan=120.0, arg_perigee=90.0,
                      mean_anomaly=10.0, bstar=1e-4, object_name="TESTSAT")


def test_fragment_count_laws_by_hand():
    cat = classify_event("collision", 1000.0, 10.0, 10.0)
    # ½·10 kg·(10 km/s)² / 1000 kg = 5e8 J / 1e6 g = 500 J/g >= 40: catastrophic, M = 1010 kg
    assert cat.catastrophic and cat.specific_energy_j_per_g == pytest.approx(500.0)
    assert cat.m_eff_kg == pytest.approx(1010.0)
    assert fragment_count(0.1, cat) == pytest.approx(0.1 * 1010 ** 0.75 * 0.1 ** -1.71, rel=1e-12)
    assert fragment_count(0.1, classify_event("collision", 1000.0, 1000.0 - 990, 10.0)) > 900
    non = classify_event("collision", 1000.0, 0.1, 1.0)  # 0.05 J/g
    assert not non.catastrophic and non.m_eff_kg == pytest.approx(0.1 * 1.0 ** 2)
    exp = classify_event("explosion", 1000.0, None, None)
    assert fragment_count(0.1, exp) == pytest.approx(6 * 0.1 ** -1.6)
    assert fragment_count(0.1, exp, explosion_scale=0.5) == pytest.approx(3 * 0.1 ** -1.6)
    with pytest.raises(ValidationError, match="unknown breakup kind 'nuke'"):
        classify_event("nuke", 1000.0, None, None)


def test_area_to_mass_distributions_match_published_parameters():
    rng = np.random.default_rng(0)
    n = 200_000
    # spacecraft, Lc = 1 m (λ = 0): α = 0.3 + 0.4·1.2 = 0.78, μ1 = -0.95, μ2 = -2.0
    chi = am_large(np.full(n, 1.0), "spacecraft", rng)
    assert chi.mean() == pytest.approx(0.78 * -0.95 + 0.22 * -2.0, abs=0.01)
    # rocket body, Lc = 1 m: α = 0.5, μ1 = -0.9, μ2 = -0.9, σ1 = 0.55, σ2 = 0.1
    chi = am_large(np.full(n, 1.0), "rocket_body", rng)
    assert chi.mean() == pytest.approx(-0.9, abs=0.01)
    assert chi.std() == pytest.approx(np.sqrt(0.5 * 0.55 ** 2 + 0.5 * 0.1 ** 2), abs=0.01)
    # small fragments, Lc = 1 cm (λ = -2 <= -1.75): μ = -0.3, σ = 0.2 + 0.1333·1.5
    chi = am_small(np.full(n, 0.01), rng)
    assert chi.mean() == pytest.approx(-0.3, abs=0.01)
    assert chi.std() == pytest.approx(0.2 + 0.1333 * 1.5, abs=0.01)
    # Lc = 3 cm (λ = -1.5229): on the slope, μ = -0.3 - 1.4·(λ + 1.75)
    lam = np.log10(0.03)
    assert am_small(np.full(n, 0.03), rng).mean() == pytest.approx(-0.3 - 1.4 * (lam + 1.75), abs=0.01)
    assert area_m2(np.array([0.1]))[0] == pytest.approx(0.556945 * 0.1 ** 2.0047077)
    assert area_m2(np.array([0.001]))[0] == pytest.approx(0.540424e-6)


def test_delta_v_lognormal():
    rng = np.random.default_rng(1)
    chi = np.full(100_000, -1.0)
    assert np.median(np.log10(delta_v_ms(chi, "collision", rng))) == pytest.approx(0.9 * -1 + 2.9, abs=0.01)
    assert np.log10(delta_v_ms(chi, "explosion", rng)).std() == pytest.approx(0.4, abs=0.01)
    assert np.median(np.log10(delta_v_ms(chi, "explosion", rng))) == pytest.approx(0.2 * -1 + 1.85, abs=0.01)


def test_bstar_formula():
    # B* = 0.15696615 kg/m²/ER · 2.2 · 0.1 m²/kg / 2
    assert bstar_from_area_to_mass(0.1) == pytest.approx(0.15696615 * 2.2 * 0.1 / 2)


def test_cloud_is_reproducible_conserves_mass_and_fits_sgp4():
    parent = _leo_parent()
    a = simulate_breakup(parent, mass_kg=1000.0, kind="collision", impactor_mass_kg=10, impact_speed_kms=10,
                         rng=42, min_size_m=0.05)
    b = simulate_breakup(parent, mass_kg=1000.0, kind="collision", impactor_mass_kg=10, impact_speed_kms=10,
                         rng=42, min_size_m=0.05)
    assert np.array_equal(a.lc_m, b.lc_m) and len(a.elsets) == len(b.elsets)
    assert a.mass_kg.sum() == pytest.approx(1010.0, rel=1e-9)
    assert a.elsets[0].norad_id == SIMULATED_NORAD_BASE
    assert a.marking.data_mode == "SIMULATED"
    # Poisson count around the law between 5 cm and 1 m (mass budget trims the largest only)
    expected = 0.1 * 1010 ** 0.75 * (0.05 ** -1.71 - 1.0 ** -1.71)
    assert abs(a.count_over(0.05) - expected) < 5 * np.sqrt(expected) + 10
    # every element set, propagated by sgp4 itself at the epoch, is back at the breakup point
    sats = []
    for e in a.elsets[:200]:
        s = Satrec()
        s.sgp4init(WGS72, "i", 0, e.epoch_unix / 86400.0 + 2440587.5 - 2433281.5, e.bstar, 0, 0,
                   e.eccentricity, np.radians(e.arg_perigee), np.radians(e.inclination),
                   np.radians(e.mean_anomaly), e.mean_motion * 2 * np.pi / 1440, np.radians(e.raan))
        sats.append(s)
    r, v, err = propagate_teme(sats, np.array([a.epoch.timestamp()]))
    assert (err == 0).all()
    assert np.max(np.linalg.norm(r[:, 0] - a.r_teme_km, axis=1)) < 0.01  # 10 m
    assert np.max(np.linalg.norm(v[:, 0] - a.v_teme_kms[a.elset_index[:200]], axis=1)) < 1e-5
    # Gabbard 'X': every fragment's perigee is at or below the breakup altitude, apogee at or above it
    alt = np.linalg.norm(a.r_teme_km) - RE_WGS72
    io = a.in_orbit
    assert np.all(a.perigee_km[io] <= alt + 1e-6) and np.all(a.apogee_km[io] >= alt - 1e-6)


def test_non_catastrophic_keeps_a_remnant_parent():
    parent = _leo_parent()
    c = simulate_breakup(parent, mass_kg=1000.0, kind="collision", impactor_mass_kg=0.05,
                         impact_speed_kms=10, rng=3, min_size_m=0.01)
    assert not c.energy.catastrophic
    assert c.mass_kg.max() > 900  # the cratered parent survives as one big piece
    assert c.delta_v_ms[np.argmax(c.mass_kg)] == 0.0


def test_cosmos_1408_count_and_spread(cosmos1408, cosmos1408_debris_2022, cosmos1408_pieces_ever):
    """Validation against the real event (see docs/effects.md for the numbers).

    Catalogued: 1,805 pieces numbered after the test in the CelesTrak SATCAT (2025-03); 742 still in
    orbit on 2022-07-14. Tolerances: the predicted >= 10 cm count within ±25 % of the pieces ever
    catalogued (the SBM is a mean law, and the 10 cm tracking limit is soft); after SGP4 decay to
    2022-07-14, the survivors' median perigee and apogee within 100 km of the catalogued cloud's.
    """
    assert cosmos1408_pieces_ever == 1805
    assert len(cosmos1408_debris_2022) == 742  # + parent and its rocket body = 744
    cloud = simulate_breakup(cosmos1408, mass_kg=2200.0, kind="asat", epoch=ASAT_EPOCH, rng=1)
    ratio = cloud.count_over(0.1) / cosmos1408_pieces_ever
    assert 0.75 <= ratio <= 1.25
    when = datetime(2022, 7, 14, tzinfo=UTC)
    r, v, err = propagate_teme(cloud.elsets, np.array([when.timestamp()]))
    ok = err[:, 0] == 0
    k = rv_to_kepler(r[ok, 0], v[ok, 0])
    perigee = k["a"] * (1 - k["e"]) - RE_WGS72
    apogee = k["a"] * (1 + k["e"]) - RE_WGS72
    alive = (perigee > 150) & (k["a"] < 50_000)
    cat_pe, cat_ap = apsides_km(np.array([e.mean_motion for e in cosmos1408_debris_2022]),
                                np.array([e.eccentricity for e in cosmos1408_debris_2022]))
    assert abs(np.median(perigee[alive]) - np.median(cat_pe)) < 100
    assert abs(np.median(apogee[alive]) - np.median(cat_ap)) < 100


def test_successive_breakups_get_fresh_numbers():
    assert next_simulated_base([25544, 43013]) == SIMULATED_NORAD_BASE
    assert next_simulated_base([25544, 800000, 800417]) == 800418
