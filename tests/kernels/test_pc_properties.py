"""Property tests (hypothesis) of the 2D Pc: bounds, symmetry, monotonicity, frame invariance.

Monotonicity in the miss distance is Anderson's theorem: for a centred Gaussian and a disc, moving the
disc outward along any ray from the centre can only lower the probability.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from orbitwatch.kernels.pc import assess, pc_chan, pc_foster_2d, pc_max_alfano

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conjunctions(draw):
    """A random LEO-like conjunction exactly at TCA (miss normal to the relative velocity)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    radius = 6.778e6 + draw(st.floats(0, 1.5e6))
    r1 = rng.normal(size=3)
    r1 *= radius / np.linalg.norm(r1)
    v1 = np.cross(r1, rng.normal(size=3))
    v1 *= 7500.0 / np.linalg.norm(v1)
    speed = draw(st.floats(20.0, 15000.0))
    dv = rng.normal(size=3)
    dv *= speed / np.linalg.norm(dv)
    miss_dir = np.cross(dv, rng.normal(size=3))
    miss_dir /= np.linalg.norm(miss_dir)
    miss = draw(st.floats(0.0, 3000.0))
    r2 = r1 + miss * miss_dir
    v2 = v1 + dv

    def cov():
        sig = 10 ** rng.uniform(0.5, 3.5, 3)
        q = Rotation.random(random_state=rng).as_matrix()
        return q @ np.diag(sig**2) @ q.T

    hbr = draw(st.floats(0.5, 200.0))
    return r1, v1, cov(), r2, v2, cov(), hbr, miss_dir


@SETTINGS
@given(conjunctions())
def test_probabilities_are_in_unit_interval(c):
    r1, v1, c1, r2, v2, c2, hbr, _ = c
    res = assess(r1, v1, c1, r2, v2, c2, hbr)
    for p in (res.pc_foster_2d, res.pc_chan, res.pc_max):
        assert np.all((p >= 0) & (p <= 1))
    assert res.pc_max[0] >= res.pc_foster_2d[0]


@SETTINGS
@given(conjunctions())
def test_symmetric_in_swapping_objects(c):
    r1, v1, c1, r2, v2, c2, hbr, _ = c
    a = pc_foster_2d(r1, v1, c1, r2, v2, c2, hbr)
    b = pc_foster_2d(r2, v2, c2, r1, v1, c1, hbr)
    assert np.isclose(a, b, rtol=1e-9, atol=1e-300)
    assert np.isclose(pc_chan(r1, v1, c1, r2, v2, c2, hbr), pc_chan(r2, v2, c2, r1, v1, c1, hbr),
                      rtol=1e-9, atol=1e-300)


@SETTINGS
@given(conjunctions(), st.floats(1.05, 4.0))
def test_decreasing_with_miss_distance(c, factor):
    r1, v1, c1, r2, v2, c2, hbr, _ = c
    near = pc_foster_2d(r1, v1, c1, r2, v2, c2, hbr)
    far = pc_foster_2d(r1, v1, c1, r1 + factor * (r2 - r1) + 1e-3 * (r2 - r1), v2, c2, hbr)
    assert far <= near * (1 + 1e-9) + 1e-300


@SETTINGS
@given(conjunctions(), st.floats(1.01, 5.0))
def test_increasing_with_hard_body_radius(c, factor):
    r1, v1, c1, r2, v2, c2, hbr, _ = c
    assert pc_foster_2d(r1, v1, c1, r2, v2, c2, hbr * factor) >= pc_foster_2d(r1, v1, c1, r2, v2, c2, hbr) \
        * (1 - 1e-9)


@SETTINGS
@given(conjunctions(), st.integers(0, 2**32 - 1))
def test_invariant_under_a_common_rotation(c, seed):
    r1, v1, c1, r2, v2, c2, hbr, _ = c
    q = Rotation.random(random_state=np.random.default_rng(seed)).as_matrix()
    a = pc_foster_2d(r1, v1, c1, r2, v2, c2, hbr)
    b = pc_foster_2d(q @ r1, q @ v1, q @ c1 @ q.T, q @ r2, q @ v2, q @ c2 @ q.T, hbr)
    assert np.isclose(a, b, rtol=1e-7, atol=1e-300)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conjunctions(), min_size=2, max_size=5))
def test_batch_equals_single(cs):
    stack = [np.stack([c[i] for c in cs]) for i in range(6)]
    hbr = np.array([c[6] for c in cs])
    batch = pc_foster_2d(*stack, hbr)
    single = [float(pc_foster_2d(*c[:7])) for c in cs]
    np.testing.assert_allclose(batch, single, rtol=1e-12, atol=0)
    mb = pc_max_alfano(*stack, hbr).pc_max
    ms = [float(pc_max_alfano(*c[:7]).pc_max) for c in cs]
    np.testing.assert_allclose(mb, ms, rtol=1e-9, atol=0)
