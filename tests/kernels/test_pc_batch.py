"""The batch forms of the Foster 2D kernel against their plain definitions.

* ``_gc_sum`` (blocked Gauss–Chebyshev chord sum with the erf/erfc switch decided per event where it
  can be) against the whole-array formula with :func:`orbitwatch.kernels.pc._erf_diff` at every node,
  on events whose nodes are all in the erfc tail, none, or some;
* :func:`pc_and_max` against :func:`pc_foster_2d` and :func:`pc_max_alfano` called separately.
"""

from __future__ import annotations

import numpy as np
import pytest

from orbitwatch.kernels import pc as pcm
from orbitwatch.kernels.pc import pc_and_max, pc_foster_2d, pc_max_alfano


def _whole_array_sum(xm, zm, dx, dz, hbr, order):
    gx, gy, gw = pcm._gauss_chebyshev(order)
    h2 = order // 2
    hx = hbr[:, None] * gy[None, h2:]
    e = pcm._erf_diff((zm[:, None] + hx) / dz[:, None], (zm[:, None] - hx) / dz[:, None])
    rx = hbr[:, None] * gx[None, h2:]
    g = np.exp(-np.square((xm[:, None] + rx) / dx[:, None])) + np.exp(-np.square((xm[:, None] - rx) / dx[:, None]))
    return np.einsum("ij,j->i", e * g, gw[h2:])


@pytest.mark.parametrize("order", [64, 16])
def test_gc_sum_equals_the_node_by_node_formula(order):
    rng = np.random.default_rng(11)
    n = 3 * pcm.GC_BLOCK + 77  # several blocks and a short one
    sx = rng.uniform(50.0, 3000.0, n)
    sz = sx * rng.uniform(0.02, 1.0, n)
    hbr = rng.choice([5.0, 20.0, 200.0], n)
    xm = rng.uniform(0.0, 3.0, n) * sx
    # minor-axis miss from inside the hard body to far in the tail, and events straddling b = 3
    zm = np.concatenate([rng.uniform(0.0, 12.0, n - 600) * np.sqrt(2) * sz[:n - 600],
                         3.0 * np.sqrt(2) * sz[n - 600:] + rng.uniform(-1.0, 1.0, 600) * hbr[n - 600:]])
    dx, dz = np.sqrt(2) * sx, np.sqrt(2) * sz
    y = pcm._GC_RULES.get(order, pcm._gauss_chebyshev(order))[1][order // 2:]
    all_tail = (zm - hbr * y.max()) / dz > 3.0
    some_tail = (zm - hbr * y.min()) / dz > 3.0
    mixed = some_tail & ~all_tail
    assert all_tail.sum() > 500 and (~some_tail).sum() > 500 and mixed.sum() > 100
    got = pcm._gc_sum(xm, zm, dx, dz, hbr, order)
    want = _whole_array_sum(xm, zm, dx, dz, hbr, order)
    # positive terms: only the summation order of 32 (8) products may differ
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    # in the tail the erfc difference matters: plain erf differences there would be far off or zero
    far = all_tail & ((zm - hbr) / dz > 6.5)
    assert np.all(got[far] > 0)


def _batch(n, seed):
    rng = np.random.default_rng(seed)
    r1 = rng.normal(size=(n, 3))
    r1 *= 7.0e6 / np.linalg.norm(r1, axis=1)[:, None]
    v1 = np.cross(r1, rng.normal(size=(n, 3)))
    v1 *= 7500.0 / np.linalg.norm(v1, axis=1)[:, None]
    r2 = r1 + rng.normal(size=(n, 3)) * rng.choice([5.0, 300.0, 3000.0], (n, 1))
    v2 = v1 + rng.normal(size=(n, 3)) * 3000.0
    a = rng.normal(size=(n, 3, 3)) * rng.uniform(10.0, 800.0, (n, 1, 1))
    b = rng.normal(size=(n, 3, 3)) * rng.uniform(10.0, 800.0, (n, 1, 1))
    return r1, v1, a @ np.swapaxes(a, 1, 2), r2, v2, b @ np.swapaxes(b, 1, 2), rng.uniform(1.0, 30.0, n)


@pytest.mark.parametrize("scaling", ["both", "primary", "separate"])
def test_pc_and_max_equals_the_two_calls(scaling):
    args = _batch(3000, 4)
    pc, mx = pc_and_max(*args, scaling=scaling)
    np.testing.assert_array_equal(pc, pc_foster_2d(*args))
    want = pc_max_alfano(*args, scaling=scaling)
    for f in ("pc_max", "scale_max", "pc_nominal", "diluted", "sigma_dilution"):
        np.testing.assert_array_equal(getattr(mx, f), getattr(want, f))
    one = [a[7] for a in args]
    p1, m1 = pc_and_max(*one, scaling=scaling)
    assert np.ndim(p1) == 0 and p1 == pc[7]
    # alone, the event's max-Pc search sees other BLAS row positions: last bits only
    assert m1.pc_max == pytest.approx(mx.pc_max[7], rel=1e-12)
    with pytest.raises(ValueError):
        pc_and_max(*args, scaling="neither")
