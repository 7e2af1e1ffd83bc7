"""The exercise's assets-versus-catalogue screening: exact on a constructed crossing, no event missed
against a dense brute-force reference on SGP4, both search methods agree, slow co-orbital pairs found."""

from __future__ import annotations

import numpy as np
import pytest

from orbitwatch.demo.generate import DEMO_EPOCH, generate_demo_catalog
from orbitwatch.exercise import astro
from orbitwatch.exercise.screening import Obj, knot_bounds, screen
from orbitwatch.kernels.propagation import jd_of, propagate

T0 = DEMO_EPOCH.timestamp()


@pytest.fixture(scope="module")
def demo():
    els, sc = generate_demo_catalog()
    return els, {s.norad_id: s for s in sc}


def _objs(elsets):
    b = knot_bounds(elsets)
    return [Obj(e.norad_id, astro.satrec_of(e), e, float(x)) for e, x in zip(elsets, b, strict=True)]


def _closest(po, so, t0: float, t1: float, grid: float) -> tuple[float, float]:
    tt = np.arange(t0, t1, grid)
    jj, ff = jd_of(astro.dt_of(tt[0]))
    rr = propagate([po.sat, so.sat], np.full(tt.size, jj), ff + (tt - tt[0]) / 86400.0).r
    dd = np.linalg.norm(rr[1] - rr[0], axis=1)
    m = int(np.argmin(dd))
    return float(tt[m]), float(dd[m])


def _reference(prim, sec, t_a, t_b, radius, step=5.0):
    """Dense brute force on SGP4 alone: every pair every ``step`` seconds, each local minimum below the
    radius (plus a margin) refined on a 10 ms then 0.1 ms grid."""
    t = np.arange(t_a, t_b + step / 2, step)
    jd, fr = jd_of(astro.dt_of(t_a))
    p = propagate([o.sat for o in prim], np.full(t.size, jd), fr + (t - t_a) / 86400.0).r
    s = propagate([o.sat for o in sec], np.full(t.size, jd), fr + (t - t_a) / 86400.0).r
    out = {}
    for i, po in enumerate(prim):
        diff = (s - p[i][None]).astype(np.float32)
        d = np.sqrt(np.einsum("stk,stk->st", diff, diff))  # (S, T)
        # A minimum between samples is at most |v_rel| * step / 2 below them (~40 km at 16 km/s).
        mins = (d[:, 1:-1] <= d[:, :-2]) & (d[:, 1:-1] <= d[:, 2:]) & (d[:, 1:-1] < radius + 8.0 * step)
        for j, k in zip(*np.nonzero(mins), strict=True):
            so = sec[j]
            if so.norad_id == po.norad_id:
                continue
            tc, dc = _closest(po, so, t[k + 1] - step, t[k + 1] + step, 0.05)
            if dc > radius + 1.0:
                continue
            tc, dc = _closest(po, so, tc - 0.05, tc + 0.05, 1e-4)
            if dc < radius:
                out[(po.norad_id, so.norad_id, round(tc))] = (tc, dc)
    return out


def test_constructed_crossing_is_exact(demo):
    els, _ = demo
    isr = next(e for e in els if e.object_name == "SIM ALLIED ISR-1")
    t_star = T0 + 5000.0
    r, v = astro.state_of(isr, t_star)
    rad = r / np.linalg.norm(r)
    crosser = astro.fit_elset(r + 3.0 * rad, astro.rotate(v, rad, np.radians(60.0)), t_star, template=isr,
                              norad_id=990123, object_name="CROSSER")
    prim, sec = _objs([isr]), _objs([crosser])
    enc = screen(prim, sec, T0, T0 + 4 * 3600.0, 5.0)
    ref = _reference(prim, sec, T0, T0 + 4 * 3600.0, 5.0, step=2.0)
    assert len(ref) >= 1 and len(enc) == len(ref)
    (t_ref, d_ref), = [x for x in ref.values() if abs(x[0] - t_star) < 60]
    e = min(enc, key=lambda x: abs(x.tca - t_star))
    assert abs(e.tca - t_ref) < 0.01  # 10 ms
    assert abs(e.miss_km - d_ref) < 0.01  # 10 m
    assert e.miss_km == pytest.approx(3.0, abs=0.05)
    assert e.rel_speed_kms == pytest.approx(2 * np.linalg.norm(v) * np.sin(np.radians(30.0)), rel=0.01)
    assert not e.slow


def test_no_event_missed_against_dense_reference(demo):
    els, sat = demo
    # Twenty sun-synchronous payloads against every object whose shell they cross (debris included).
    prim_e = [e for e in els if (e.object_name or "").startswith("SIM EO")][:12]
    lo = min(astro.RE_KM + 300, *(e.semi_major_axis_km * (1 - e.eccentricity) for e in prim_e))
    sec_e = [e for e in els if e.semi_major_axis_km * (1 + e.eccentricity) > lo - 100 and e.mean_motion > 11.25]
    prim, sec = _objs(prim_e), _objs(sec_e)
    t_a, t_b = T0, T0 + 2 * 3600.0
    enc = screen(prim, sec, t_a, t_b, 25.0)
    ref = _reference(prim, sec, t_a, t_b, 25.0, step=10.0)
    found = {(e.primary, e.secondary): e for e in enc}
    missed = [k for k in ref if (k[0], k[1]) not in found and (k[1], k[0]) not in found]
    assert len(ref) >= 5, f"the reference should see some events in this window ({len(ref)})"
    assert not missed
    for k, (t, d) in ref.items():
        e = found.get((k[0], k[1])) or found.get((k[1], k[0]))
        if abs(e.tca - t) < 30:
            assert abs(e.tca - t) < 0.01 and abs(e.miss_km - d) < 0.01  # 10 ms, 10 m


def test_brute_and_kdtree_agree(demo):
    els, _ = demo
    prim = _objs([e for e in els if (e.object_name or "").startswith("SIM EO-US")][:15])
    sec = _objs(els[:800] + [e for e in els if (e.object_name or "").startswith("SIM EO")])
    a = screen(prim, sec, T0, T0 + 3 * 3600.0, 5.0, slow_radius_km=50.0, method="brute")
    b = screen(prim, sec, T0, T0 + 3 * 3600.0, 5.0, slow_radius_km=50.0, method="kdtree")
    key = lambda e: (e.primary, e.secondary, round(e.tca, 2))  # noqa: E731
    assert sorted(map(key, a)) == sorted(map(key, b))


def test_slow_co_orbital_pair_needs_the_proximity_radius(demo):
    els, _ = demo
    isr = next(e for e in els if e.object_name == "SIM ALLIED ISR-1")
    insp = next(e for e in els if e.object_name == "SIM INSPECTOR-7")
    prim, sec = _objs([isr]), _objs([insp])
    assert screen(prim, sec, T0, T0 + 3600.0, 4.0) == []
    enc = screen(prim, sec, T0, T0 + 3600.0, 4.0, slow_radius_km=50.0)
    assert len(enc) == 1
    e = enc[0]
    assert e.slow and e.rel_speed_kms < 0.01
    assert e.miss_km == pytest.approx(5.0, abs=0.1)  # the demo's inspector starts 5 km behind
    assert e.rtn_km[1] < -4.9 and e.end - e.start >= 3500
