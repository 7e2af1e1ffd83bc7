"""Event assembly and the Pc stage of the screening, checked field by field against their specification
(the per-event formulas they replace with column work) on constructed inputs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import numpy as np
import pytest

from orbitwatch.conjunctions import engine
from orbitwatch.conjunctions.covariance import default_covariance_batch, rtn_to_inertial
from orbitwatch.conjunctions.screen import (
    DEFAULT_HBR_M,
    Conjunction,
    _assemble,
    _attach_pc,
    _build_events,
    _event_rows,
    _ms,
    _ms_many,
    _object_type,
    _pair_key,
    _pc_columns,
    event_covariances,
)
from orbitwatch.formats.records import ElementSet
from orbitwatch.kernels.frames import to_rtn
from orbitwatch.kernels.pc import pc_foster_2d, pc_max_alfano


def test_ms_many_equals_ms():
    rng = np.random.default_rng(3)
    t = np.concatenate([
        1.7e9 + rng.random(2000) * 4e8,
        # exact half-millisecond ties (round half to even, as round()) and calendar edges
        np.array([1_700_000_000.0005, 1_700_000_000.0015, 1_700_000_000.0025, 1_704_067_199.9995,
                  1_704_067_199.9994, 1_709_164_800.0, 1_709_251_199.9996, 951_782_400.0, 0.0, 86_399.9996]),
    ])
    got = _ms_many(t)
    want = [_ms(x) for x in t.tolist()]
    assert got == want
    assert all(g.tzinfo is UTC for g in got)
    assert _ms_many(np.array([1_704_067_199.9996]))[0] == datetime(2024, 1, 1, tzinfo=UTC)
    assert _ms_many(np.array([1_709_251_199.9994]))[0] == datetime(2024, 2, 29, 23, 59, 59, 999_000, tzinfo=UTC)


def _assembly_inputs(n_obj=40, rows=300, seed=5):
    rng = np.random.default_rng(seed)
    norads = np.sort(rng.choice(np.arange(1000, 60000), n_obj, replace=False)).astype(np.int64)
    pairs: dict[frozenset, tuple[int, int]] = {}
    while len(pairs) < rows:  # distinct pairs, given in either order (orientation by catalogue number)
        i, j = rng.choice(n_obj, 2, replace=False)
        pairs.setdefault(frozenset((int(i), int(j))), (int(i), int(j)))
    gi, gj = (np.array(x, dtype=np.int64) for x in zip(*pairs.values(), strict=True))
    t_start, t_end = 1.7e9, 1.7e9 + 86400.0
    t = t_start + 100.0 + rng.random(rows) * 86000.0
    r1 = rng.normal(size=(rows, 3))
    r1 *= (6800.0 + rng.random(rows) * 1000.0)[:, None] / np.linalg.norm(r1, axis=1)[:, None]
    v1 = np.cross(r1, rng.normal(size=(rows, 3)))
    v1 *= 7.5 / np.linalg.norm(v1, axis=1)[:, None]
    r2 = r1 + rng.normal(size=(rows, 3)) * 1.5
    dv = rng.normal(size=(rows, 3))
    dv *= np.where(rng.random(rows) < 0.2, 0.05, 5.0)[:, None] / np.linalg.norm(dv, axis=1)[:, None]
    v2 = v1 + dv
    ref = engine.Refined(t, r1, v1, r2, v2, np.arange(rows))
    gcol = rng.random(rows) < 0.2
    first_fail = np.where(rng.random(n_obj) < 0.3, t_start + 5000.0, np.inf)
    codes = np.where(rng.random(n_obj) < 0.5, 6, 1).astype(np.int64)
    return (ref, gi, gj, gcol, t - 60.0, t + 60.0, norads, np.zeros(n_obj, dtype=bool), False, t_start, t_end,
            "sphere", 1e9, None, first_fail, codes)


def test_assemble_fields_follow_their_definitions():
    args = _assembly_inputs()
    ref, gi, gj, gcol, _, _, norads, _, _, _, _, _, _, _, first_fail, codes = args
    events = _assemble(*args)
    assert len(events) == len(gi)  # distinct pairs, all in the window: nothing merged or dropped
    seen_flags = set()
    lo = np.minimum(norads[gi], norads[gj])
    hi = np.maximum(norads[gi], norads[gj])
    for ev in events:
        k = int(np.flatnonzero((lo == ev.norad1) & (hi == ev.norad2))[0])
        assert ev.norad1 < ev.norad2 and type(ev.norad1) is int
        swap = norads[gi[k]] > norads[gj[k]]
        pr, pv, sr, sv = (ref.r2[k], ref.v2[k], ref.r1[k], ref.v1[k]) if swap else (ref.r1[k], ref.v1[k], ref.r2[k],
                                                                                   ref.v2[k])
        assert ev.r1 == tuple(pr.tolist()) and ev.v1 == tuple(pv.tolist())
        assert ev.r2 == tuple(sr.tolist()) and ev.v2 == tuple(sv.tolist())
        assert all(type(x) is tuple for x in (ev.r1, ev.v1, ev.r2, ev.v2, ev.flags))
        assert ev.tca == _ms(float(ref.t[k])) and ev.tca_unix == float(ref.t[k])
        assert ev.miss_km == float(np.linalg.norm((ref.r2 - ref.r1)[k:k + 1], axis=1)[0])
        speed = float(np.linalg.norm((ref.v2 - ref.v1)[k:k + 1], axis=1)[0])
        assert ev.relative_speed_kms == speed
        rtn = to_rtn((sr - pr)[None], pr[None], pv[None])[0]
        assert (ev.r_km, ev.t_km, ev.n_km) == tuple(rtn.tolist())
        want = []
        if gcol[k]:
            want.append("co-located")
        if speed < 0.1:
            want.append("slow-relative-motion")
        for o in (gi[k], gj[k]):
            if np.isfinite(first_fail[o]):
                want.append("decayed-in-window" if codes[o] == 6 else "propagation-error-in-window")
        assert ev.flags == tuple(dict.fromkeys(want))
        assert ev.pc is None and ev.pc_max is None and ev.hbr_m is None and ev.covariance_source is None
        seen_flags.add(ev.flags)
    # the constructed input reaches every kind of flag, alone and combined, and a repeated failure flag
    assert ("co-located", "slow-relative-motion") in {f[:2] for f in seen_flags}
    assert any(f.count("decayed-in-window") == 1 and len(f) == 1 for f in seen_flags)
    assert any("decayed-in-window" in f and "propagation-error-in-window" in f for f in seen_flags)
    assert () in seen_flags


def test_assemble_of_nothing():
    args = list(_assembly_inputs(rows=5))
    args[9], args[10] = 0.0, 1.0  # a window none of the rows is in
    assert _assemble(*args) == []


def _catalogue():
    epoch = datetime(2023, 10, 9, 12, tzinfo=UTC)
    names = ["ISS (ZARYA)", "COSMOS 1408 DEB", "SL-16 R/B", None, "DEB 2", "FENGYUN 1C DEB"]
    motions = [15.5, 14.2, 2.0, 1.0027, 13.0, 14.9]  # LEO, LEO, MEO/HEO, GEO ...
    eccs = [0.0005, 0.01, 0.7, 0.0002, 0.001, 0.005]
    return [ElementSet(norad_id=25544 + 7 * k, epoch=epoch.replace(hour=k), mean_motion=m, eccentricity=e,
                       inclination=51.6, raan=10.0 * k, arg_perigee=0.0, mean_anomaly=0.0, object_name=nm)
            for k, (nm, m, e) in enumerate(zip(names, motions, eccs, strict=True))]


def _events(cat, n=60, seed=9):
    rng = np.random.default_rng(seed)
    ids = [es.norad_id for es in cat]
    out = []
    for _ in range(n):
        a, b = sorted(rng.choice(ids, 2, replace=False).tolist())
        r1 = rng.normal(size=3)
        r1 *= 7000.0 / np.linalg.norm(r1)
        v1 = np.cross(r1, rng.normal(size=3))
        v1 *= 7.5 / np.linalg.norm(v1)
        r2 = r1 + rng.normal(size=3) * rng.choice([0.05, 0.5, 3.0])
        v2 = v1 + rng.normal(size=3) * 3.0
        t = 1_696_852_800.0 + rng.random() * 7 * 86400.0
        out.append(Conjunction(norad1=a, norad2=b, tca=_ms(t), miss_km=0.0, relative_speed_kms=0.0, r_km=0.0,
                               t_km=0.0, n_km=0.0, r1=tuple(r1.tolist()), v1=tuple(v1.tolist()),
                               r2=tuple(r2.tolist()), v2=tuple(v2.tolist()), tca_unix=t))
    return out


def _covariances_per_event(events, cat):
    """The per-event definition: regime, type from the name and |TCA - epoch| of each object."""
    by = {es.norad_id: es for es in cat}
    out = []
    for side in ("norad1", "norad2"):
        objs = [by[getattr(ev, side)] for ev in events]
        ages = [abs(ev.tca_unix - es.epoch.timestamp()) / 86400.0 for ev, es in zip(events, objs, strict=True)]
        cov, src = default_covariance_batch([es.regime for es in objs], [_object_type(es.object_name) for es in objs],
                                            ages)
        out.append(cov)
    return out[0], out[1], src


def test_event_covariances_equal_the_per_event_model():
    cat = _catalogue()
    events = _events(cat)
    got = event_covariances(events, cat)
    want = _covariances_per_event(events, cat)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2]
    assert len({es.regime for es in cat}) >= 3 and len({_object_type(es.object_name) for es in cat}) == 4
    with pytest.raises(KeyError):
        event_covariances(events, cat[:2])


@pytest.mark.parametrize("n", [60, 45_000])  # one chunk, and several on threads
def test_attach_pc_equals_the_public_kernels(n):
    cat = _catalogue()
    events = _events(cat, n=n)
    sizes = {cat[0].norad_id: 15.0, cat[2].norad_id: 3.5, cat[3].norad_id: float("nan"), cat[4].norad_id: None}
    _attach_pc(events, cat, np.array(sorted(es.norad_id for es in cat)), sizes)
    c1, c2, src = _covariances_per_event(events, cat)
    k = 1e3
    r1, v1, r2, v2 = (np.array([getattr(ev, f) for ev in events]) * k for f in ("r1", "v1", "r2", "v2"))
    half = DEFAULT_HBR_M / 2
    good = {a: b for a, b in sizes.items() if b is not None and b == b}
    hbr = np.array([good.get(ev.norad1, half) + good.get(ev.norad2, half) for ev in events])
    i1, i2 = rtn_to_inertial(c1, r1, v1), rtn_to_inertial(c2, r2, v2)
    pc = pc_foster_2d(r1, v1, i1, r2, v2, i2, hbr)
    mx = pc_max_alfano(r1, v1, i1, r2, v2, i2, hbr)
    # the same arithmetic; BLAS may round the last bit of a matrix-vector product by row position
    np.testing.assert_allclose([ev.pc for ev in events], pc, rtol=1e-13, atol=0)
    np.testing.assert_allclose([ev.pc_max for ev in events], mx.pc_max, rtol=1e-12, atol=0)
    np.testing.assert_allclose([ev.dilution_sigma_km for ev in events], mx.sigma_dilution / 1e3, rtol=1e-12, atol=0)
    assert [ev.hbr_m for ev in events] == hbr.tolist()
    hows = {0: "default", 1: "one object's size known", 2: "both sizes known"}
    for ev in events:
        kn = (ev.norad1 in good) + (ev.norad2 in good)
        assert ev.covariance_source == f"{src}; HBR {ev.hbr_m:.3g} m combined ({hows[kn]})"
    assert {(ev.norad1 in good) + (ev.norad2 in good) for ev in events} == {0, 1, 2}


def test_events_in_result_order_with_the_pc_of_their_rows():
    args = _assembly_inputs(rows=400, seed=8)
    rows = _event_rows(*args)
    events = _build_events(rows)
    assert events == _assemble(*args)
    assert [(e.tca_unix, e.norad1, e.norad2) for e in events] == sorted((e.tca_unix, e.norad1, e.norad2)
                                                                         for e in events)
    norads = args[6]
    names = ["PAYLOAD A", "X DEB", "Y R/B", None]
    cat = [ElementSet(norad_id=int(k), epoch=datetime(2023, 11, 14, tzinfo=UTC), mean_motion=15.0,
                      eccentricity=0.001, inclination=98.0, raan=0.0, arg_perigee=0.0, mean_anomaly=0.0,
                      object_name=names[n % 4]) for n, k in enumerate(norads.tolist())]
    sizes = {int(norads[0]): 4.0}
    with_pc = _build_events(rows, _pc_columns(rows, cat, sizes))
    attached = copy.deepcopy(events)
    _attach_pc(attached, cat, norads, sizes)
    assert all(ev.pc is not None for ev in with_pc)
    for a, b, c in zip(with_pc, attached, events, strict=True):
        for f in ("norad1", "norad2", "tca", "miss_km", "r_km", "flags", "r1", "v2", "tca_unix"):
            assert getattr(a, f) == getattr(c, f)
        assert (a.hbr_m, a.covariance_source) == (b.hbr_m, b.covariance_source)
        assert a.pc == pytest.approx(b.pc, rel=1e-13)
        # computed in another order: BLAS last bits, which the max-Pc search's steps amplify
        assert a.pc_max == pytest.approx(b.pc_max, rel=1e-8)
        assert a.dilution_sigma_km == pytest.approx(b.dilution_sigma_km, rel=1e-8)


def test_rows_with_catalogue_numbers_beyond_the_pair_key():
    """Catalogue numbers of 2^31 and more have no one-key pair order: the three-key sort gives the same
    events."""
    args = list(_assembly_inputs(rows=300, seed=12))
    small = _event_rows(*args)
    shift = 2**31
    args[6] = args[6] + shift
    big = _event_rows(*args)
    assert _pair_key(args[6], args[6]) is None and _pair_key(small.norad1, small.norad2) is not None
    np.testing.assert_array_equal(big.norad1, small.norad1 + shift)
    np.testing.assert_array_equal(big.result, small.result)
    for f in ("t", "miss", "r1", "v2", "flag_code"):
        np.testing.assert_array_equal(getattr(big, f), getattr(small, f))


def test_duplicate_guesses_keep_the_first_smallest_miss():
    args = list(_assembly_inputs(rows=50, seed=13))
    ref = args[0]
    # three guesses of row 0's pair within 1 s, the middle one closest, and a tie after it
    extra = [0, 0, 0]
    dt = [0.3, 0.6, 0.9]
    scale = [0.5, 0.5, 2.0]
    t = np.concatenate([ref.t, ref.t[extra] + dt])
    r1 = np.concatenate([ref.r1, ref.r1[extra]])
    r2 = np.concatenate([ref.r2, ref.r1[extra] + (ref.r2[extra] - ref.r1[extra]) * np.array(scale)[:, None]])
    v1, v2 = (np.concatenate([a, a[extra]]) for a in (ref.v1, ref.v2))
    args[0] = engine.Refined(t, r1, v1, r2, v2, np.arange(len(t)))
    for k in (1, 2, 3):  # gi, gj, gcol
        args[k] = np.concatenate([args[k], args[k][extra]])
    args[4], args[5] = t - 60.0, t + 60.0
    events = _assemble(*args)
    assert len(events) == 50
    i, j = sorted((int(args[6][args[1][0]]), int(args[6][args[2][0]])))
    (ev,) = [e for e in events if (e.norad1, e.norad2) == (i, j)]
    assert ev.tca_unix == float(t[50])  # the first of the two half-miss guesses


def test_gc_paused_restores_the_collector_state():
    import gc

    from orbitwatch._gc import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
