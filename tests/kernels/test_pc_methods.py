"""Chan series, Alfano max Pc, Monte Carlo and warnings, each against an outside reference.

References used:
* Chan (2008) "Spacecraft Collision Probability" test cases with his published series values and
  numerical-integration values, as reproduced in Orekit's ``Chan1997Test`` / ``Alfano2005Test``
  (CS-SI/Orekit, Apache-2.0) — (xm, zm, σx, σz, R) in metres;
* direct summation of Chan's series in a plain loop (an independent implementation) and SciPy's
  non-central χ² CDF where it is accurate;
* SciPy ``dblquad`` of the Gaussian over the disc for the 2D integral;
* the small-HBR closed forms of the maximum Pc (Alfriend et al. 1999, eq. 20).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from orbitwatch.conjunctions.covariance import conjunction_from_cdm
from orbitwatch.formats.cdm import read_cdm_path
from orbitwatch.kernels.pc import (
    assess,
    chan_series,
    pc_chan,
    pc_circle,
    pc_foster_2d,
    pc_max_alfano,
    pc_max_unknown_covariance,
    pc_monte_carlo,
    pc_warnings,
)

PCTEST = "cdm-examples/nasa-cara/PcTestCaseCDMs"

# (xm, zm, sigma_x, sigma_z, R, Chan-series value, exact 2D value) — Chan (2008) via Orekit tests.
CHAN_CASES = [
    (0, 10, 25, 50, 5, 9.754e-3, 9.742e-3),
    (10, 0, 25, 50, 5, 9.189e-3, 9.181e-3),
    (0, 10, 25, 75, 5, 6.586e-3, 6.571e-3),
    (10, 0, 25, 75, 5, 6.135e-3, 6.125e-3),
    (0, 1000, 1000, 3000, 10, 1.577e-5, 1.577e-5),
    (1000, 0, 1000, 3000, 10, 1.011e-5, 1.011e-5),
    (0, 10000, 1000, 3000, 10, 6.443e-8, 6.443e-8),
    (10000, 0, 1000, 3000, 10, 3.216e-27, 3.219e-27),
    (0, 10000, 1000, 10000, 10, 3.033e-6, 3.033e-6),
    (10000, 0, 1000, 10000, 10, 9.645e-28, 9.656e-28),
    (0, 5000, 1000, 3000, 50, 1.039e-4, 1.039e-4),
    (5000, 0, 1000, 3000, 50, 1.556e-9, 1.564e-9),
]


def _encounter_states(xm, zm, sx, sz):
    """Inertial states/covariances whose encounter plane has miss (xm, zm) and sigmas (σx, σz) along
    the x/z axes: relative velocity along +Y, plane = X-Z."""
    r1 = np.array([7.0e6, 0.0, 0.0])
    v1 = np.array([0.0, 5000.0, 5000.0])
    r2 = r1 - np.array([xm, 0.0, zm])
    v2 = v1 - np.array([0.0, 10000.0, 0.0])
    c1 = np.diag([sx**2 / 2, 50.0**2, sz**2 / 2])
    return r1, v1, c1, r2, v2, c1.copy()


@pytest.mark.parametrize(("xm", "zm", "sx", "sz", "R", "chan", "exact"), CHAN_CASES)
def test_chan_series_matches_published(xm, zm, sx, sz, R, chan, exact):
    # The σ_x, σ_z of these cases are not ordered by size; u, v do not care.
    got = chan_series(R * R / (sx * sz), (xm / sx) ** 2 + (zm / sz) ** 2)[0]
    assert got == pytest.approx(chan, rel=6e-4)  # values published to 4 significant digits


@pytest.mark.parametrize(("xm", "zm", "sx", "sz", "R", "chan", "exact"), CHAN_CASES)
def test_foster_matches_published_exact_2d(xm, zm, sx, sz, R, chan, exact):
    big, small = max(sx, sz), min(sx, sz)
    xmaj, zmin = (xm, zm) if sx >= sz else (zm, xm)
    assert pc_circle(xmaj, zmin, big, small, R)[0] == pytest.approx(exact, rel=6e-4)
    # and through the full 3D path (projection, eigen-decomposition)
    states = _encounter_states(xm, zm, sx, sz)
    assert pc_foster_2d(*states, R) == pytest.approx(exact, rel=6e-4)
    assert pc_chan(*states, R) == pytest.approx(chan, rel=6e-4)


def _chan_direct(u: float, v: float, terms: int = 3000) -> float:
    """Chan's series summed term by term (independent of the windowed implementation)."""
    lam, x = v / 2.0, u / 2.0
    total = 0.0
    for m in range(terms):
        logw = -lam + (m * math.log(lam) if lam > 0 else (0.0 if m == 0 else -math.inf)) - math.lgamma(m + 1)
        total += math.exp(logw) * special.gammainc(m + 1, x) if logw > -745 else 0.0
    return total


@pytest.mark.parametrize(("u", "v"), [(1e-4, 0.5), (0.3, 12.0), (48.05563114638046, 788.4123142730595),
                                      (1.4251189494111072, 1265.9), (91.88, 1421.67), (3.0, 100.0),
                                      (200.0, 50.0), (2000.0, 1900.0), (1e-6, 4000.0)])
def test_chan_series_against_direct_sum(u, v):
    assert chan_series(u, v)[0] == pytest.approx(_chan_direct(u, v), rel=1e-10, abs=1e-300)


def test_chan_series_against_noncentral_chi2_where_scipy_is_accurate():
    rng = np.random.default_rng(5)
    u = 10 ** rng.uniform(-5, 3, 2000)
    v = 10 ** rng.uniform(-3, 3, 2000)
    ref = stats.ncx2.cdf(u, 2, v)
    ok = ref > 1e-30  # scipy's ncx2 loses accuracy deep in the tail (checked against mpmath)
    np.testing.assert_allclose(chan_series(u, v)[ok], ref[ok], rtol=1e-9)


def test_chan_equals_foster_for_circular_covariance():
    """The equal-area circle of Chan's method is exact when σx = σz."""
    for xm, sig, R in [(30.0, 40.0, 10.0), (500.0, 100.0, 20.0), (5.0, 1.0, 3.0), (2e3, 300.0, 5.0)]:
        states = _encounter_states(xm, 0.3 * xm, sig, sig)
        assert pc_chan(*states, R) == pytest.approx(pc_foster_2d(*states, R), rel=1e-9)


def test_chan_close_to_foster_where_chan_applies(shared_data):
    """Chan's equal-area approximation needs the HBR small against the minor-axis sigma; on the real
    CARA CDMs with R < 0.4 σz and a Mahalanobis miss < 2.5 it is within 5 % of Foster."""
    from orbitwatch.kernels.pc import encounter_plane

    checked = 0
    for path in sorted((shared_data / "cdm-examples/nasa-cara").glob("*/*.cdm")):
        c = conjunction_from_cdm(read_cdm_path(path))
        if c.hbr is None:
            continue
        ep = encounter_plane(c.r1, c.v1, c.cov1, c.r2, c.v2, c.cov2, c.hbr)
        mahal = math.hypot(ep.xm[0] / ep.sx[0], ep.zm[0] / ep.sz[0])
        if c.hbr < 0.4 * ep.sz[0] and mahal < 2.5:
            res = assess(c.r1, c.v1, c.cov1, c.r2, c.v2, c.cov2, c.hbr)
            assert res.pc_chan[0] == pytest.approx(res.pc_foster_2d[0], rel=0.05), path.name
            checked += 1
    assert checked >= 8


def _simpson_theta(xm, zm, sx, sz, R, n=400_001):
    """Brute-force reference: composite Simpson over the circle angle on CARA's ±5σ-clipped range."""
    xlo, xhi = xm - R, xm + R
    if xlo < 0:
        xlo, xhi = max(xlo, -5 * sx), min(xhi, 5 * sx)
    ta = math.acos(max(-1.0, min(1.0, (xhi - xm) / R)))
    tb = math.acos(max(-1.0, min(1.0, (xlo - xm) / R)))
    th = np.linspace(ta, tb, n)
    x, rx = xm + R * np.cos(th), R * np.sin(th)
    a, b = (zm + rx) / (math.sqrt(2) * sz), (zm - rx) / (math.sqrt(2) * sz)
    e = np.where(b > 3, special.erfc(b) - special.erfc(a), special.erf(a) - special.erf(b))
    f = np.exp(-((x / (math.sqrt(2) * sx)) ** 2)) * e * rx
    h = (tb - ta) / (n - 1)
    return h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum()) / sx / math.sqrt(8 * math.pi)


@pytest.mark.parametrize("args", [
    (19167.96295490059, 129.74535573056554, 123210.12399627385, 18.64517450571683, 1000.0),  # CARA, HBR 1 km
    (19167.96295490059, 129.74535573056554, 123210.12399627385, 18.64517450571683, 30000.0),  # HBR 30 km
    (1064.0164778256483, 96.4526995728963, 333.1324214404675, 0.2807047279518758, 139.30521222225448),
    (150.6956066302672, 226.60119033493493, 19.583011217603225, 10.466632281125397, 152.3547858952596),
    (5.220153254455275, 0.0, 1.0, 1.0, 3.0),
])
def test_large_hbr_exact(args):
    """HBR large against a sigma: the graded rule agrees with brute-force integration to 1e-9."""
    assert pc_circle(*args)[0] == pytest.approx(_simpson_theta(*args), rel=1e-9)


# ------------------------------------------------------------------------------------------ max Pc

def test_max_pc_small_hbr_matches_alfriend_closed_form():
    """HBR ≪ miss, sigmas: Pc_max = R² / (e·σx·σz·m²) with m the Mahalanobis miss (Alfriend 1999)."""
    states = _encounter_states(400.0, 150.0, 120.0, 40.0)
    R = 0.5
    res = pc_max_alfano(*states, R)
    m2 = (400.0 / 120.0) ** 2 + (150.0 / 40.0) ** 2
    assert res.pc_max == pytest.approx(R * R / (math.e * 120.0 * 40.0 * m2), rel=1e-4)
    assert res.scale_max == pytest.approx(math.sqrt(m2 / 2), rel=1e-3)
    assert res.diluted == (res.scale_max < 1)


def test_max_pc_is_a_maximum_over_scale():
    states = _encounter_states(60.0, 20.0, 200.0, 50.0)
    R = 15.0
    res = pc_max_alfano(*states, R)
    r1, v1, c1, r2, v2, c2 = states
    for k in (0.3, 0.5, 0.8, 1.0, 1.5, 3.0):
        assert pc_foster_2d(r1, v1, c1 * k * k, r2, v2, c2 * k * k, R) <= res.pc_max * (1 + 1e-9)
    assert res.pc_max >= res.pc_nominal


def test_max_pc_inside_hard_body_is_one():
    states = _encounter_states(3.0, 0.0, 100.0, 30.0)
    res = pc_max_alfano(*states, 10.0)
    assert res.pc_max == 1.0 and res.scale_max == 0.0


def test_socrates_max_pc_closed_form():
    """Worst orientation, HBR ≪ miss: Pc_max = R²·(σmaj/σmin)/(e·d²), dilution sigma d/√2."""
    r1 = np.array([7.0e6, 0.0, 0.0])
    v1 = np.array([0.0, 7546.0, 0.0])
    r2 = r1 + np.array([2000.0, 0.0, 0.0])  # miss normal to the relative velocity: TCA already exact
    v2 = np.array([0.0, 0.0, 7546.0])
    res = pc_max_unknown_covariance(r1, v1, r2, v2, 1.0)
    from orbitwatch.kernels.pc import _rtn_to_inertial_3, encounter_plane

    cov = np.diag([100.0**2, 300.0**2, 100.0**2])
    ep = encounter_plane(r1, v1, _rtn_to_inertial_3(cov, r1[None], v1[None])[0], r2, v2,
                         _rtn_to_inertial_3(cov, r2[None], v2[None])[0], 1.0)
    aspect = ep.sx[0] / ep.sz[0]
    assert res.pc_max == pytest.approx(aspect / (math.e * 2000.0**2), rel=1e-3)
    assert res.sigma_dilution == pytest.approx(2000.0 / math.sqrt(2), rel=1e-3)


# -------------------------------------------------------------------------------------- Monte Carlo

@pytest.mark.parametrize("case_id", [
    "000025994_conj_000037558_20210324_151047_20210323_154356",
    "000037849_conj_000013512_20210612_084905_20210611_062043",
    "000032060_conj_000044396_20221004_061656_20221003_054027",
])
def test_monte_carlo_interval_contains_foster(case_id, shared_data):
    """Seeded, 40k samples: Foster inside the Monte Carlo interval. The 95 % interval is returned; the
    check uses the 99.9 % one so that the test is not a 5 %-per-case coin toss."""
    from orbitwatch.kernels.pc import clopper_pearson

    c = conjunction_from_cdm(read_cdm_path(shared_data / "cdm-examples/nasa-cara/PcTestCaseCDMs" / f"{case_id}.cdm"))
    mc = pc_monte_carlo(c.r1, c.v1, c.cov1, c.r2, c.v2, c.cov2, c.hbr, 40_000, np.random.default_rng(2024))
    pc = pc_foster_2d(c.r1, c.v1, c.cov1, c.r2, c.v2, c.cov2, c.hbr)
    lo, hi = clopper_pearson(mc.hits, mc.n, level=0.999)
    assert lo <= pc <= hi
    assert 0 < lo < mc.lo < mc.pc < mc.hi < hi < 1


def test_monte_carlo_is_reproducible_and_batched():
    states = _encounter_states(20.0, 5.0, 30.0, 10.0)
    a = pc_monte_carlo(*states, 10.0, 5000, 7)
    b = pc_monte_carlo(*states, 10.0, 5000, np.random.default_rng(7))
    assert a.hits == b.hits
    batch = pc_monte_carlo(*(np.stack([s, s]) for s in states), 10.0, 5000, 7)
    assert batch.pc.shape == (2,)
    with pytest.raises(ValueError, match="positive"):
        pc_monte_carlo(*states, 10.0, 0, 1)


def test_clopper_pearson_zero_hits():
    states = _encounter_states(5000.0, 0.0, 30.0, 10.0)
    mc = pc_monte_carlo(*states, 1.0, 1000, 3)
    assert mc.hits == 0 and mc.lo == 0.0
    assert mc.hi == pytest.approx(1 - 0.025 ** (1 / 1000), rel=1e-9)


# ----------------------------------------------------------------------------------------- warnings

def test_warnings_slow_and_extended_encounter(shared_data):
    # CARA test case of two formation-flying objects, 0.33 m/s relative speed: CARA flags it.
    path = shared_data / PCTEST / "000048901_conj_000048903_20211219_182317_20211217_232706.cdm"
    c = conjunction_from_cdm(read_cdm_path(path))
    w = pc_warnings(c.r1, c.v1, c.cov1, c.r2, c.v2, c.cov2, c.hbr)[0]
    assert any(s.startswith("small relative velocity") for s in w)
    assert any(s.startswith("extended encounter") for s in w)


def test_no_warnings_for_clean_fast_encounter(shared_data):
    path = shared_data / PCTEST / "000025994_conj_000037558_20210324_151047_20210323_154356.cdm"
    c = conjunction_from_cdm(read_cdm_path(path))
    assert pc_warnings(c.r1, c.v1, c.cov1, c.r2, c.v2, c.cov2, c.hbr) == [[]]


def test_warning_for_npd_object_covariance_and_zero_velocity():
    r1, v1, c1, r2, v2, c2 = _encounter_states(20.0, 5.0, 30.0, 10.0)
    bad = c1.copy()
    bad[0, 0] = -5.0
    w = pc_warnings(r1, v1, bad, r2, v2, c2, 10.0)[0]
    assert any("non-positive-definite primary position covariance" in s for s in w)
    w0 = pc_warnings(r1, v1, c1, r2, v1, c2, 10.0)[0]
    assert any("zero relative velocity" in s for s in w0)
    assert np.isnan(pc_foster_2d(r1, v1, c1, r2, v1, c2, 10.0))


def test_input_validation():
    r1, v1, c1, r2, v2, c2 = _encounter_states(20.0, 5.0, 30.0, 10.0)
    with pytest.raises(ValueError, match="hbr"):
        pc_foster_2d(r1, v1, c1, r2, v2, c2, -1.0)
    with pytest.raises(ValueError, match="cov1"):
        pc_foster_2d(r1, v1, np.eye(2), r2, v2, c2, 1.0)
    with pytest.raises(ValueError, match="scaling"):
        pc_max_alfano(r1, v1, c1, r2, v2, c2, 1.0, scaling="sideways")
