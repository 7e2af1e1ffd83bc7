"""The grid sweep: the numba kernel and the scipy KD-tree reference emit exactly the same rows."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from orbitwatch.formats.tle_fast import read_tle_fast
from orbitwatch.kernels.interpolation import build_knots, radial_accel_bound
from orbitwatch.kernels.propagation import satrec_of
from orbitwatch.kernels.spatial import HAVE_NUMBA, V_SPLIT, Emitted, interpolate_all, sweep


@pytest.fixture(scope="module")
def shell(shared_data):
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    # A busy shell (perigee 700-900 km) plus a few eccentric and GEO objects, 400 in all.
    busy = [e for e in elsets if 700 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 900][:360]
    other = [e for e in elsets if e.regime in ("GEO", "HEO")][:40]
    # low-perigee transfer orbits: faster than V_SPLIT near perigee, so the wide-block path is exercised
    fast = [e for e in elsets if e.eccentricity > 0.6 and e.semi_major_axis_km * (1 - e.eccentricity) < 6900][:60]
    return [satrec_of(e) for e in busy + other + fast]


def _rows(em):
    return sorted(zip(em.i.tolist(), em.j.tolist(), em.k.tolist(), np.round(em.dmin, 9).tolist(), strict=True))


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize(("primaries_only", "with_secondaries", "h", "grouped"),
                         [(False, False, 20.0, False), (True, False, 20.0, False), (True, True, 20.0, False),
                          (False, False, 60.0, False), (True, True, 60.0, True), (False, False, 60.0, True)])
def test_numba_equals_reference(shell, primaries_only, with_secondaries, h, grouped):
    t0 = 1696809600.0  # 2023-10-09T00:00Z
    ks = build_knots(shell, t0, t0 + 7200.0, tolerance_km=5.0)
    n = len(shell)
    samples = t0 + h / 2 + h * np.arange(int(7200 // h))
    active = np.ones(n, dtype=bool)
    primary = np.zeros(n, dtype=bool)
    primary[::7] = True
    secondary = None
    if with_secondaries:
        secondary = np.zeros(n, dtype=bool)
        secondary[::3] = True  # overlaps the primaries at every 21st object
    args = (samples, h, ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, ks.bound, active, primary,
            primaries_only, 40.0)
    bound = radial_accel_bound(shell, ks.step, ks.bound)
    group = np.where(np.arange(n) % 5 == 4, -1, np.arange(n) % 2) if grouped else None  # two owners + unknowns
    d0_radial = 15.0 if grouped and not with_secondaries else None  # a flat volume's narrower radial test
    # the per-pair acceleration pad at 60 s, the crude one at 20 s
    from orbitwatch.kernels.interpolation import lateral_accel_error
    ae = lateral_accel_error(ks.step, ks.bound, ks.bound) if h == 60.0 else None
    fast = sweep(*args, radial_accel=bound, is_secondary=secondary, group=group, d0_radial=d0_radial,
                 accel_error=ae, use_numba=True, ka=ks.a)
    ref = sweep(*args, radial_accel=bound, is_secondary=secondary, group=group, d0_radial=d0_radial,
                accel_error=ae, use_numba=False, ka=ks.a)
    assert len(ref) > (5 if grouped and with_secondaries else 10 if with_secondaries else 20)
    assert _rows(fast) == _rows(ref)
    if grouped:
        assert ((group[fast.i] < 0) | (group[fast.i] != group[fast.j])).all()
        assert (group[fast.i] == -1).any()
    if with_secondaries:
        assert ((primary[fast.i] & secondary[fast.j]) | (primary[fast.j] & secondary[fast.i])).all()
    pos, vel, ok = interpolate_all(float(samples[100]), ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, active,
                                   ks.a)
    speeds = np.linalg.norm(vel[ok], axis=1)
    assert any(np.linalg.norm(interpolate_all(float(t), ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v,
                                              active, ks.a)[1], axis=1).max() > V_SPLIT for t in samples[::10])
    assert speeds.max() < 12.0
    if primaries_only:
        assert (primary[fast.i] | primary[fast.j]).all()


def test_radial_accel_bound_holds_for_the_interpolant(shell):
    """|d2 rho / dt2| of the Hermite interpolant stays within the bound the sweep's radial test relies
    on, for LEO, eccentric, GEO/HEO and low-perigee transfer orbits (second differences at 1 s)."""
    t0 = 1696809600.0
    ks = build_knots(shell, t0, t0 + 6 * 3600.0, tolerance_km=5.0)
    bound = radial_accel_bound(shell, ks.step, ks.bound)
    t = t0 + 1.0 + np.arange(0.0, 6 * 3600.0 - 2.0, 7.0)
    worst = np.zeros(len(shell))
    for i in range(len(shell)):
        idx = np.full(len(t), i)
        rho = [np.linalg.norm(ks.states(idx, t + d)[0], axis=1) for d in (-1.0, 0.0, 1.0)]
        ok = np.isfinite(rho[0]) & np.isfinite(rho[1]) & np.isfinite(rho[2])
        if ok.any():
            worst[i] = np.abs(rho[0] - 2 * rho[1] + rho[2])[ok].max()
    assert (worst <= bound).all(), np.flatnonzero(worst > bound)
    # and it is a bound worth having: near-circular LEO objects get well under surface gravity
    assert np.median(bound) < 5e-3


def test_radial_accel_from_its_jump_free_part(shell):
    """A run computes the costly jump-free part once; adding one slice's measured jumps gives the full bound."""
    from orbitwatch.kernels.interpolation import plan_steps, radial_accel_with_jumps

    t0 = 1696809600.0
    steps, analytic_bounds = plan_steps(shell, tolerance_km=5.0, t_unix=t0)
    ks = build_knots(shell, t0, t0 + 6 * 3600.0, tolerance_km=5.0, plan=(steps, analytic_bounds))
    base = radial_accel_bound(shell, steps, analytic_bounds)
    assert np.allclose(radial_accel_with_jumps(base, steps, analytic_bounds, ks.bound),
                       radial_accel_bound(shell, ks.step, ks.bound), rtol=1e-9, atol=0)
    assert (ks.bound > analytic_bounds + 1e-6).any()  # some deep-space object jumped: the test has teeth


def test_lateral_accel_error_holds_for_the_interpolant(shell):
    """The interpolant's acceleration departs from point-mass gravity at its own position by no more than
    ``lateral_accel_error`` (what the sweep's per-pair pad relies on), for LEO, eccentric, GEO/HEO and
    low-perigee transfer orbits, SDP4 jumps included (second differences at 1 s, 6 h)."""
    from orbitwatch.kernels.interpolation import MU_KM3_S2, lateral_accel_error, plan_steps

    t0 = 1696809600.0
    steps, analytic_bounds = plan_steps(shell, tolerance_km=5.0, t_unix=t0)
    ks = build_knots(shell, t0, t0 + 6 * 3600.0, tolerance_km=5.0, plan=(steps, analytic_bounds))
    bound = lateral_accel_error(ks.step, analytic_bounds, ks.bound)
    t = t0 + 1.0 + np.arange(0.0, 6 * 3600.0 - 2.0, 7.0)
    worst = np.zeros(len(shell))
    for i in range(len(shell)):
        idx = np.full(len(t), i)
        p = [ks.states(idx, t + d)[0] for d in (-1.0, 0.0, 1.0)]
        acc = p[0] - 2 * p[1] + p[2]
        rn = np.linalg.norm(p[1], axis=1)
        grav = -MU_KM3_S2 * p[1] / rn[:, None] ** 3
        dev = np.linalg.norm(acc - grav, axis=1)
        ok = np.isfinite(dev)
        if ok.any():
            worst[i] = dev[ok].max()
    assert (worst <= bound).all(), [(int(i), worst[i], bound[i]) for i in np.flatnonzero(worst > bound)]
    # and the pad it gives is far below the crude one: 2.3e-2 km/s^2 for everyone
    assert np.median(bound) < 3e-3
    # The quintic knots carry J2, so their interpolants depart from point-mass gravity by J2 (~2e-5 km/s^2
    # in LEO) plus little: the bound is dominated by its fixed allowance for SGP4's own departures
    # (2.5e-4, set by a 183 km-perigee Molniya), and some object must still use a few per cent of it.
    assert (worst > 0.03 * bound).any()


def test_pair_pad_keeps_every_approach_the_crude_pad_finds(shell):
    """The per-pair acceleration pad only drops candidates that cannot reach the distance: every approach
    within it that the crude pad's candidates lead to (closest sampled distance at 1 s) is still led to."""
    from orbitwatch.kernels.interpolation import lateral_accel_error, plan_steps

    t0 = 1696809600.0
    steps, analytic_bounds = plan_steps(shell, tolerance_km=5.0)
    ks = build_knots(shell, t0, t0 + 7200.0, tolerance_km=5.0, plan=(steps, analytic_bounds))
    n = len(shell)
    h = 60.0
    samples = t0 + h / 2 + h * np.arange(int(7200 // h))
    args = (samples, h, ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, ks.bound, np.ones(n, dtype=bool),
            np.zeros(n, dtype=bool), False, 5.0)
    bound = radial_accel_bound(shell, ks.step, ks.bound)
    crude = sweep(*args, radial_accel=bound, ka=ks.a)
    tight = sweep(*args, radial_accel=bound, accel_error=lateral_accel_error(ks.step, analytic_bounds, ks.bound),
                  ka=ks.a)
    assert 10 < len(tight) < len(crude)
    kept = set(zip(tight.i.tolist(), tight.j.tolist(), tight.k.tolist(), strict=True))
    assert kept <= set(zip(crude.i.tolist(), crude.j.tolist(), crude.k.tolist(), strict=True))
    # every dropped (pair, sample) really stays beyond 5 km + both bounds over its interval (dense check)
    dropped = [(i, j, k) for i, j, k in zip(crude.i.tolist(), crude.j.tolist(), crude.k.tolist(), strict=True)
               if (i, j, k) not in kept]
    assert dropped
    tau = np.linspace(-h / 2, h / 2, 61)
    for i, j, k in dropped[:2000]:
        tt = samples[k] + tau
        pi = ks.states(np.full(len(tt), i), tt)[0]
        pj = ks.states(np.full(len(tt), j), tt)[0]
        assert np.linalg.norm(pj - pi, axis=1).min() > 5.0 + ks.bound[i] + ks.bound[j] - 1e-6


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_sweep_over_compact_windows_equals_the_whole_table(shell):
    """Cutting the knot table into compact hour-long copies (per-object first-knot times) changes nothing:
    the same rows as sweeping the whole table, on both implementations."""
    from orbitwatch.kernels.spatial import window_of

    t0 = 1696809600.0
    h = 60.0
    ks = build_knots(shell, t0, t0 + 3 * 3600.0, tolerance_km=5.0)
    n = len(shell)
    samples = t0 + h / 2 + h * np.arange(int(3 * 3600 // h) - 1)
    bound = radial_accel_bound(shell, ks.step, ks.bound)
    common = (np.ones(n, dtype=bool), np.zeros(n, dtype=bool), False, 40.0)
    for use_numba in (True, False):
        whole = sweep(samples, h, ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, ks.bound, *common,
                      radial_accel=bound, use_numba=use_numba, ka=ks.a)
        parts = []
        for lo in range(0, len(samples), 50):
            sub = samples[lo:lo + 50]
            t0s, off, cnt, kr, kv, ka = window_of(ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, sub[0], sub[-1],
                                                  ks.a)
            assert cnt.sum() < ks.count.sum()
            em = sweep(sub, h, t0s, ks.step, off, cnt, kr, kv, ks.bound, *common, radial_accel=bound,
                       use_numba=use_numba, ka=ka)
            em.k += lo
            parts.append(em)
        cut = Emitted.concat(parts)
        assert len(whole) > 20
        assert _rows(cut) == _rows(whole)
