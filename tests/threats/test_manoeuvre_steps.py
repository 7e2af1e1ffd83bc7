"""The step finder behind the LEO manoeuvre detector, on synthetic series whose truth is known.

Noise is drawn from a fixed seed, heavy-tailed like TLE noise (Student t, 3 degrees of freedom), on a
drag-like trend; steps, ramps and spikes are put in by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from orbitwatch.threats import steps as st

SCALES = [st.Scale(2, 2), st.Scale(4, 4), st.Scale(6, 6), st.Scale(8, 8)]
LOCATORS = [st.Scale(2, 0), st.Scale(2, 1)]
DAY = 86400.0


def _series(n=400, sigma=1.0, seed=1, decay_per_day=-2.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * DAY + rng.uniform(-0.2, 0.2, n) * DAY
    y = decay_per_day * t / DAY + sigma * rng.standard_t(3, n)
    return t, y


def _find(t, y, threshold=7.0, **kw):
    channels = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    return st.find_steps(t, y, scales=SCALES, locators=LOCATORS, floors=[1e-6] * channels, threshold=threshold,
                         **kw)


def test_noise_and_trend_alone_give_no_step():
    t, y = _series()
    assert _find(t, y) == []


def test_single_set_outliers_are_not_steps():
    t, y = _series()
    y[[50, 120, 121, 300]] += [40.0, -60.0, -55.0, 80.0]  # one- and two-set outliers, 40-80 sigma
    assert _find(t, y) == []


def test_three_burns_a_few_sets_apart_are_all_found():
    # Sentinel-3A 2021-11-30 .. 12-07 had -15/+30/-15 mm/s burns 3-4 sets apart; here -20/+40/-20 sigma
    t, y = _series()
    truth = ((200, -20.0), (203, 40.0), (207, -20.0))
    for k, d in truth:
        y[k:] += d
    found = _find(t, y)
    assert [s.onset for s in found] == [200, 203, 207]
    for s, (_, d) in zip(found, truth, strict=True):
        assert float(s.delta[0]) == pytest.approx(d, rel=0.3)


def test_absorption_ramp_is_found_and_dated_at_its_start():
    # a 30-sigma burn between sets 199 and 200, taken in by the orbit determination over ~6 sets: found
    # as one step, or as a step and its remainder a few sets later (the detector groups them)
    t, y = _series(sigma=0.5)
    t_burn = 0.5 * (t[199] + t[200])
    x = np.clip((t - t_burn) / (6 * DAY), 0.0, 1.0)
    y += 15.0 * x * x * (3.0 - 2.0 * x)
    found = _find(t, y)
    assert 1 <= len(found) <= 2
    assert all(199 <= s.onset <= 206 for s in found)
    assert sum(float(s.delta[0]) for s in found) == pytest.approx(15.0, rel=0.3)
    assert abs(min(s.ramp_start for s in found) - t_burn) <= DAY  # within one element-set interval


def test_noise_free_series_uses_the_floor():
    t = np.arange(60) * DAY
    y = np.where(np.arange(60) >= 30, 0.002, 0.0)  # 2 m in km, nothing else
    found = st.find_steps(t, y, scales=SCALES, floors=[5e-5], threshold=7.0)
    assert len(found) == 1 and found[0].onset == 30
    assert np.isfinite(found[0].score)


def test_a_large_burn_leaves_no_remainder_detections():
    # a 2 km raise that also changes the decay rate (drag is lower higher up)
    t, y = _series(sigma=0.5)
    y[250:] += 2000.0 + 1.0 * (t[250:] - t[250]) / DAY
    found = _find(t, y)
    assert len(found) == 1 and found[0].onset == 250


def test_two_channels_share_a_step():
    t, y1 = _series(seed=2)
    _, y2 = _series(seed=3)
    y2[150:] += 25.0  # only the second channel moves (a plane change seen in the RAAN residual)
    found = _find(t, np.column_stack([y1, y2]))
    assert len(found) == 1 and found[0].onset == 150
    assert abs(found[0].delta[0]) < 3.0 and found[0].delta[1] == pytest.approx(25.0, rel=0.25)


def test_step_statistic_matches_a_direct_computation():
    t, y = _series(n=50)
    slope = np.full(50, -2.0 / DAY)
    s = st.Scale(3, 2)
    d = st.step_stat(t, y, slope, s)
    j = 20
    right, left = slice(j + 2, j + 5), slice(j - 3, j)
    expect = y[right].mean() - y[left].mean() - slope[j] * (t[right].mean() - t[left].mean())
    assert d[j] == pytest.approx(expect)
    assert d[0] == 0.0 and d[1] == 0.0  # not enough sets on the left


def test_despike_keeps_steps_and_ramps():
    y = np.r_[np.zeros(10), np.linspace(0, 1, 6), np.ones(10)]
    assert np.allclose(st.despike(y, 5), y)
    z = y.copy()
    z[3] = 9.0
    assert np.allclose(st.despike(z, 5), y)


def test_small_obvious_step_next_to_a_huge_one_is_kept_when_levels_are_flat_between():
    # Jason-2 2017: +111 m five sets before a -30 km lowering. Here an 80-sigma step (43 set-to-set
    # sigmas) five sets before a 20 000-sigma one: under 5 % of it, so the shadow rule alone takes it for
    # the big step's remainder; with ``separate_k`` an obvious jump with a flat level between is a step
    # of its own. (At 20 sigma the five sets between, heavy-tailed noise, spread over 45 % of it: not flat.)
    t, y = _series(sigma=0.5)
    y[200:] += 40.0
    y[205:] -= 10000.0
    assert [s.onset for s in _find(t, y, shadow=0.05)] == [205]
    found = _find(t, y, shadow=0.05, separate_k=20.0)
    assert [s.onset for s in found] == [200, 205]
    assert float(found[0].delta[0]) == pytest.approx(40.0, rel=0.1)


def test_ramp_remainder_is_still_a_remainder_with_separate_k():
    # a 2 km raise absorbed over three sets: no flat level inside the ramp, so nothing is split off it
    t, y = _series(sigma=0.5)
    y[250:] += np.r_[700.0, 1500.0, np.full(t.size - 252, 2000.0)]
    found = _find(t, y, shadow=0.05, separate_k=20.0)
    assert sum(float(s.delta[0]) for s in found) == pytest.approx(2000.0, rel=0.05)
    assert all(248 <= s.onset <= 253 for s in found)


def test_flat_between():
    r = np.r_[np.zeros(3), np.full(3, 10.0), np.full(3, 10.5), np.full(3, 30.0)]
    assert st.flat_between(r, 3, 9, size=20.0)  # 10 .. 10.5: flat to 2.5 % of a 20 step
    assert not st.flat_between(r, 3, 9, size=1.0)
    assert not st.flat_between(r, 3, 4, size=20.0)  # one set is no level
