"""The grid sweep: the numba kernel and the scipy KD-tree reference emit exactly the same rows."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from orbitwatch.formats.tle_fast import read_tle_fast
from orbitwatch.kernels.interpolation import build_knots
from orbitwatch.kernels.propagation import satrec_of
from orbitwatch.kernels.spatial import HAVE_NUMBA, V_SPLIT, interpolate_all, sweep


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
@pytest.mark.parametrize("primaries_only", [False, True])
def test_numba_equals_reference(shell, primaries_only):
    t0 = 1696809600.0  # 2023-10-09T00:00Z
    ks = build_knots(shell, t0, t0 + 7200.0, tolerance_km=5.0)
    n = len(shell)
    samples = t0 + 10.0 + 20.0 * np.arange(360)
    active = np.ones(n, dtype=bool)
    primary = np.zeros(n, dtype=bool)
    primary[::7] = True
    args = (samples, 20.0, ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, ks.bound, active, primary,
            primaries_only, 40.0)
    fast = sweep(*args, use_numba=True)
    ref = sweep(*args, use_numba=False)
    assert len(ref) > 20
    assert _rows(fast) == _rows(ref)
    pos, vel, ok = interpolate_all(float(samples[100]), ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v, active)
    speeds = np.linalg.norm(vel[ok], axis=1)
    assert any(np.linalg.norm(interpolate_all(float(t), ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v,
                                              active)[1], axis=1).max() > V_SPLIT for t in samples[::10])
    assert speeds.max() < 12.0
    if primaries_only:
        assert (primary[fast.i] | primary[fast.j]).all()
