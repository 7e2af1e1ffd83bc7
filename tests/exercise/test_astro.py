"""Orbit arithmetic of the exercise, checked against outside references: textbook Lambert solutions,
the Gauss variational equation, and the sgp4 library itself (through TLE text it parses on its own)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from orbitwatch.demo.generate import DEMO_EPOCH, generate_demo_catalog
from orbitwatch.exercise import astro
from orbitwatch.formats.records import ElementSet
from orbitwatch.formats.tle import format_tle
from orbitwatch.kernels.propagation import jd_of

T0 = DEMO_EPOCH.timestamp()


@pytest.fixture(scope="module")
def demo():
    els, _ = generate_demo_catalog()
    return {e.object_name: e for e in els}


def _independent_state(es: ElementSet, ts: float, norad: int = 12345) -> np.ndarray:
    """Position from sgp4's own TLE parser: the element set written as TLE text, read back by sgp4."""
    from dataclasses import replace

    text = format_tle(replace(es, norad_id=norad, original=None))
    l1, l2 = text.splitlines()[-2:]
    sat = Satrec.twoline2rv(l1, l2, WGS72)
    jd, fr = jd_of(astro.dt_of(ts))
    e, r, _ = sat.sgp4(jd, fr)
    assert e == 0
    return np.array(r)


def test_lambert_curtis_example_5_2():
    # H. D. Curtis, Orbital Mechanics for Engineering Students, Example 5.2 (mu = 398600 km^3/s^2).
    r1 = np.array([5000.0, 10000.0, 2100.0])
    r2 = np.array([-14600.0, 2500.0, 7000.0])
    v1, v2 = astro.lambert(r1, r2, 3600.0)
    # Our mu is WGS-72's 398600.8: the published velocities hold to ~1e-6 relative; allow 1 m/s.
    assert np.allclose(v1, [-5.9925, 1.9254, 3.2456], atol=1e-3)
    assert np.allclose(v2, [-3.3125, -4.1966, -0.38529], atol=1e-3)


def test_lambert_quarter_circle():
    # A circular orbit's quarter in a quarter period: the circular velocity, exactly.
    r = 7000.0
    v_c = math.sqrt(astro.MU / r)
    tof = 0.25 * 2 * math.pi * math.sqrt(r ** 3 / astro.MU)
    v1, _ = astro.lambert(np.array([r, 0, 0]), np.array([0, r, 0]), tof)
    assert np.allclose(v1, [0.0, v_c, 0.0], atol=1e-6)


def test_fit_reproduces_the_state_through_sgp4(demo):
    es = demo["SIM INSPECTOR-7"]
    r, v = astro.state_of(es, T0 + 3600)
    r2, v2 = r + [0.5, -0.3, 0.2], v + [0.001, 0.0005, -0.0002]
    fit = astro.fit_elset(r2, v2, T0 + 3600, template=es)
    rf, vf = astro.state_of(fit, T0 + 3600)
    assert np.linalg.norm(rf - r2) < 1e-3  # 1 m
    assert np.linalg.norm(vf - v2) < 1e-6  # 1 mm/s
    # And sgp4's own TLE reader agrees to TLE-text precision (tens of metres).
    assert np.linalg.norm(_independent_state(fit, T0 + 3600) - r2) < 0.1


def test_along_track_burn_raises_the_orbit_as_gauss_says(demo):
    es = demo["SIM ALLIED ISR-1"]
    r, v = astro.state_of(es, T0)
    a0 = astro.equinoctial(r, v)[0]
    after = astro.apply_impulse(es, T0, (0.0, 0.001, 0.0))  # +1 m/s along track
    r1, v1 = astro.state_of(after, T0)
    da = astro.equinoctial(r1, v1)[0] - a0
    expected = 2.0 * a0 ** 2 * float(np.linalg.norm(v)) * 0.001 / astro.MU  # Gauss: da = 2 a^2 v dv / mu
    assert da == pytest.approx(expected, rel=1e-3)
    assert np.linalg.norm(r1 - r) < 1e-3  # an impulse does not move the object


def test_trailing_placement_stays_behind(demo):
    isr = demo["SIM ALLIED ISR-1"]
    chaser = astro.phased(isr, -20.0, norad_id=990001)
    for dt in (0.0, 6 * 3600.0, 72 * 3600.0):
        rt, vt = astro.state_of(isr, T0 + dt)
        rc, _ = astro.state_of(chaser, T0 + dt)
        rel = astro.relative_rtn(rc, rt, vt)
        assert rel[1] == pytest.approx(-20.0, abs=0.3)
        assert abs(rel[0]) < 0.1 and abs(rel[2]) < 0.1


def test_state_offset_is_exact_at_its_epoch(demo):
    isr = demo["SIM ALLIED ISR-1"]
    r, v = astro.state_of(isr, T0)
    r2, _ = astro.offset_state(r, v, (1.5, -20.0, 0.7))
    rel = astro.relative_rtn(r2, r, v)
    assert rel == pytest.approx([1.5, -20.0, 0.7], abs=0.05)


@pytest.mark.parametrize("hours", [3.0, 6.0])
def test_approach_arrives_at_range_on_sgp4(demo, hours):
    isr, insp = demo["SIM ALLIED ISR-1"], demo["SIM INSPECTOR-7"]
    t0, tf = T0 + 1800.0, T0 + 1800.0 + hours * 3600.0
    sol = astro.solve_approach(insp, isr, t0, tf, 1.0, arrive="stop")
    assert sol.method == "cw+sgp4-shooting"
    assert sol.aim_error_km < 0.01
    # Checked with sgp4's own TLE reader, not our propagation.
    rc = _independent_state(sol.elset_after_burn1, tf, 11111)
    rt = _independent_state(isr, tf, 22222)
    assert np.linalg.norm(rc - rt) == pytest.approx(1.0, abs=0.1)
    # A few m/s at most for a 5 km -> 1 km co-orbital approach.
    assert 0.01 < sol.total_dv_mps < 10.0
    # After the stopping burn it keeps station behind the target for hours.
    rt2, vt2 = astro.state_of(isr, tf + 3 * 3600.0)
    rc2, _ = astro.state_of(sol.elset_after_burn2, tf + 3 * 3600.0)
    rel = astro.relative_rtn(rc2, rt2, vt2)
    assert rel[1] == pytest.approx(-1.0, abs=0.05)
