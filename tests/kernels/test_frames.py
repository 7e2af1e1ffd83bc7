"""Frames against skyfield: TEME->ITRF and TEME->GCRS, and RTN geometry."""

from __future__ import annotations

import numpy as np
import pytest

from orbitwatch.kernels.frames import (
    cov_from_rtn,
    cov_to_rtn,
    from_rtn,
    rtn_basis,
    teme_to_gcrs,
    teme_to_itrf,
    to_rtn,
)

ISS = ("1 25544U 98067A   23282.53635417  .00016717  00000-0  30012-3 0  9993",
       "2 25544  51.6416 104.0743 0005064  78.2338  40.8232 15.49802054419839")
ONE_MM_KM = 1e-6


@pytest.fixture(scope="module")
def iss_states():
    from sgp4.api import SatrecArray
    from skyfield.api import EarthSatellite, load

    ts = load.timescale(builtin=True)
    sat = EarthSatellite(*ISS, ts=ts)
    unix = 1696852800.0 + np.arange(0, 600, 7.0)  # 2023-10-09T12:00Z onwards
    t = ts.utc(2023, 10, 9, 12, 0, unix - 1696852800.0)
    jd = np.floor(unix / 86400.0) + 2440587.5
    fr = (unix - (jd - 2440587.5) * 86400.0) / 86400.0
    e, r, v = SatrecArray([sat.model]).sgp4(jd, fr)
    assert (e == 0).all()
    return sat, t, unix, r[0], v[0]


def test_itrf_matches_skyfield(iss_states):
    from skyfield.sgp4lib import TEME_to_ITRF

    sat, t, unix, r, v = iss_states
    ri, vi = teme_to_itrf(r, v, unix)
    whole = np.floor(unix / 86400.0) + 2440587.5
    frac = (unix - (whole - 2440587.5) * 86400.0) / 86400.0
    # skyfield's TEME_to_ITRF works in km and km/day (UT1 taken equal to UTC here, as in ours).
    rs, vs = TEME_to_ITRF(whole, r.T, v.T * 86400.0, fraction_ut1=frac)
    np.testing.assert_allclose(ri, rs.T, atol=ONE_MM_KM)
    # skyfield differentiates GMST for the Earth rate; Vallado uses the constant: 4e-9 km/s apart.
    np.testing.assert_allclose(vi, vs.T / 86400.0, atol=1e-8)


def test_gcrs_matches_skyfield(iss_states):
    sat, t, unix, r, v = iss_states
    rg, vg = teme_to_gcrs(r, v, unix)
    ref = sat.at(t)
    np.testing.assert_allclose(rg, ref.position.km.T, atol=ONE_MM_KM)
    # skyfield adds the tiny rotation rate of the precession-nutation matrix: < 1e-6 km/s.
    np.testing.assert_allclose(vg, ref.velocity.km_per_s.T, atol=1e-6)


def test_rtn_of_circular_orbit():
    r = np.array([7000.0, 0.0, 0.0])
    v = np.array([0.0, 7.5, 0.0])
    np.testing.assert_allclose(rtn_basis(r, v), np.eye(3))
    d = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(to_rtn(d, r, v), d)
    v2 = np.array([0.0, 0.0, -7.5])  # polar, moving south: T = -z, N = R x T = +y
    np.testing.assert_allclose(to_rtn(np.array([0.0, 1.0, 0.0]), r, v2), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(to_rtn(np.array([0.0, 0.0, -1.0]), r, v2), [0.0, 1.0, 0.0])


def test_rtn_round_trips_and_is_orthonormal():
    rng = np.random.default_rng(3)
    r = rng.normal(size=(50, 3)) * 7000
    v = rng.normal(size=(50, 3)) * 7
    b = rtn_basis(r, v)
    np.testing.assert_allclose(b @ np.swapaxes(b, -1, -2), np.broadcast_to(np.eye(3), b.shape), atol=1e-12)
    x = rng.normal(size=(50, 3))
    np.testing.assert_allclose(from_rtn(to_rtn(x, r, v), r, v), x, atol=1e-12)
    a = rng.normal(size=(50, 6, 6))
    cov = a @ np.swapaxes(a, -1, -2)
    np.testing.assert_allclose(cov_from_rtn(cov_to_rtn(cov, r, v), r, v), cov, atol=1e-9)
    # The trace (total variance) is invariant under rotation.
    np.testing.assert_allclose(np.trace(cov_to_rtn(cov[:, :3, :3], r, v), axis1=-2, axis2=-1),
                               np.trace(cov[:, :3, :3], axis1=-2, axis2=-1))
