"""Screening against constructed geometry, the classic traps, and SGP4 itself."""

from __future__ import annotations

import gzip
from datetime import timedelta

import numpy as np
import pytest
from brute_force_screen import _refine
from geometry import EPOCH, crossing_pair, elset

from orbitwatch.conjunctions.screen import screen
from orbitwatch.errors import ValidationError
from orbitwatch.formats.tle_fast import read_tle_fast
from orbitwatch.kernels.propagation import satrec_of

ONE_MS = 1e-3
ONE_M_KM = 1e-3


def _by_pair(events):
    out = {}
    for ev in events:
        out.setdefault((ev.norad1, ev.norad2), []).append(ev)
    return out


def test_constructed_crossing_is_found_every_revolution():
    a, b = crossing_pair(3000.0)
    res = screen([a, b], start=EPOCH, days=0.5, threshold_km=10.0, workers=1, with_pc=False)
    # the planes cross at two antipodal points, and the mirror-image phasing meets at both:
    # every half revolution, from 3000 s - P/2 on
    half = 86400.0 / 15.2 / 2
    expected = [3000.0 + k * half for k in range(-1, 15)]
    assert len(res.events) == 16
    sa, sb = satrec_of(a), satrec_of(b)
    for k, (ev, t_design) in enumerate(zip(res.events, expected, strict=True)):
        assert (ev.norad1, ev.norad2) == (90001, 90002)
        # the construction ignores SGP4's short-period terms: TCA within seconds, miss within km
        # (the designed crossing < 6 km; the antipodal one, less symmetric in those terms, < 10 km)
        # (SGP4's secular J2 terms make the true period ~1.6 s longer than 86400/n: allow 2 s per pass)
        assert abs(ev.tca_unix - EPOCH.timestamp() - t_design) < 5.0 + 2.0 * k
        assert ev.miss_km < (6.0 if k % 2 else 10.0)
        # ... and the refinement sits on SGP4's own minimum (scipy Brent on SGP4 distance)
        t_ref, d_ref = _refine(sa, sb, ev.tca_unix - 2.0, ev.tca_unix + 2.0)
        assert abs(ev.tca_unix - t_ref) < ONE_MS
        assert abs(ev.miss_km - d_ref) < ONE_M_KM
        assert ev.tca.microsecond % 1000 == 0  # reported to the millisecond
        assert abs(np.linalg.norm(np.subtract(ev.r2, ev.r1)) - ev.miss_km) < 1e-9
        assert abs(np.hypot(np.hypot(ev.r_km, ev.t_km), ev.n_km) - ev.miss_km) < 1e-6
        assert 5.0 < ev.relative_speed_kms < 8.0  # 60 degrees between the planes at 53 degrees
        assert ev.flags == ()


def test_threshold_is_respected():
    a, b = crossing_pair(3000.0)
    res = screen([a, b], start=EPOCH, days=0.5, threshold_km=4.0, workers=1, with_pc=False)
    assert res.events == []


def test_co_located_pair_reported_once():
    a = elset(91001, n=15.5, ma=10.0)
    b = elset(91002, n=15.5, ma=10.01)  # 0.01 degree behind: ~1.2 km, docked-like
    res = screen([a, b], start=EPOCH, days=1.0, threshold_km=5.0, workers=1, with_pc=False)
    assert len(res.events) == 1
    ev = res.events[0]
    assert "co-located" in ev.flags and "slow-relative-motion" in ev.flags
    assert 0.5 < ev.miss_km < 2.0


def test_geo_slow_relative_motion():
    # two GEO objects drifting past each other at ~1 m/s
    a = elset(92001, n=1.00273, e=0.0002, i=0.05, raan=80.0, argp=0.0, ma=100.0)
    b = elset(92002, n=1.00270, e=0.0002, i=0.06, raan=80.0, argp=0.0, ma=100.02)
    res = screen([a, b], start=EPOCH, days=3.0, threshold_km=20.0, workers=1, with_pc=False)
    assert res.events
    for ev in res.events:
        assert ev.relative_speed_kms < 0.1
        assert "slow-relative-motion" in ev.flags
        t_ref, d_ref = _refine(satrec_of(a), satrec_of(b), ev.tca_unix - 600.0, ev.tca_unix + 600.0)
        assert abs(ev.miss_km - d_ref) < ONE_M_KM


def test_decay_mid_window_is_a_flag_not_an_error():
    a, b = crossing_pair(3000.0)
    doomed = elset(93001, n=16.3, e=0.001, bstar=0.05)  # ~200 km: re-enters within the window
    res = screen([a, b, doomed], start=EPOCH, days=2.0, threshold_km=10.0, workers=1, with_pc=False)
    assert 93001 in res.flags
    assert "SGP4 error" in res.flags[93001]
    assert len(_by_pair(res.events)[(90001, 90002)]) > 40


def test_sgp4_xp_element_set_is_screened_and_flagged():
    """An SGP4-XP set (ephemeris type 4) has no propagator here: the object is still screened (its events
    are not hidden) and the run says its positions are SGP4's approximation."""
    import dataclasses

    a, b = crossing_pair(3000.0)
    xp = dataclasses.replace(b, ephemeris_type=4)
    plain = screen([a, b], start=EPOCH, days=0.2, threshold_km=10.0, workers=1, with_pc=False)
    res = screen([a, xp], start=EPOCH, days=0.2, threshold_km=10.0, workers=1, with_pc=False)
    assert "SGP4-XP" in res.flags[90002] and 90001 not in res.flags
    assert len(res.events) == len(plain.events) > 0
    assert "SGP4-XP" not in " ".join(plain.flags.values())


def test_objects_a_one_vs_all_run_leaves_out_are_not_flagged(shared_data):
    """Objects whose shells meet no primary's only get hourly knots (to see them decay); a healthy one
    must not come out flagged as implausible (an hour-long interpolant of a LEO orbit is nonsense, and
    once flagged 11,981 of 26,140 objects in an ISS run)."""
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    start = max(e.epoch for e in elsets)
    fresh = [e for e in elsets if (start - e.epoch).days < 3]
    leo = [e for e in fresh if 1000 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 1500][:50]
    geo = [e for e in fresh if e.regime == "GEO"][:20]
    # Vanguard 1 and others the old code flagged (healthy, element sets nine days old)
    leo += [e for e in elsets if e.norad_id in (5, 16, 50, 51, 53)]
    iss = next(e for e in elsets if e.norad_id == 25544)
    neighbour = elset(93002, n=15.5, i=51.6, epoch=start)  # shares the ISS's shell: the sweep runs
    res = screen([iss, neighbour, *leo, *geo], start=start, days=0.5, threshold_km=5.0, primaries=[25544],
                 workers=1, with_pc=False)
    assert res.stats["active"] == 2  # the others were left out of the sweep
    assert res.flags == {}
    # and a left-out object that does decay in the window is still flagged
    doomed = elset(93001, n=16.3, e=0.001, bstar=0.05, epoch=start)
    res = screen([iss, *geo, doomed, neighbour], start=start, days=2.0, threshold_km=5.0, primaries=[25544],
                 workers=1, with_pc=False)
    assert res.stats["active"] == 2
    assert set(res.flags) == {93001} and "SGP4 error" in res.flags[93001]


def test_one_vs_all_equals_all_vs_all_restricted(shared_data):
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    busy = [e for e in elsets if 700 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 900][:400]
    start = busy[0].epoch.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    full = screen(busy, start=start, days=0.25, threshold_km=25.0, workers=1, with_pc=False)
    primaries = {e.norad1 for e in full.events[:3]} | {busy[5].norad_id}
    one = screen(busy, start=start, days=0.25, threshold_km=25.0, primaries=primaries, workers=1, with_pc=False)
    want = sorted((min(e.norad1, e.norad2), max(e.norad1, e.norad2), round(e.tca_unix, 3))
                  for e in full.events if e.norad1 in primaries or e.norad2 in primaries)
    got = sorted((min(e.norad1, e.norad2), max(e.norad1, e.norad2), round(e.tca_unix, 3)) for e in one.events)
    assert got == want and got
    assert all(e.norad1 in primaries for e in one.events)


def test_rtn_volumes():
    a, b = crossing_pair(3000.0, dnode=2.0)  # nearly co-planar: a slow, mostly along-track pass
    ell = screen([a, b], start=EPOCH, days=0.1, volume="rtn-ellipsoid", rtn_km=(10.0, 50.0, 10.0), workers=1,
                 with_pc=False)
    box = screen([a, b], start=EPOCH, days=0.1, volume="rtn-box", rtn_km=(10.0, 50.0, 10.0), workers=1,
                 with_pc=False)
    assert len(box.events) >= len(ell.events) >= 1
    for ev in ell.events:
        assert abs(ev.r_km) <= 10.0 + 1e-9 or abs(ev.n_km) <= 10.0
    with pytest.raises(ValidationError, match="rtn_km"):
        screen([a, b], start=EPOCH, days=0.1, volume="rtn-box", workers=1)
    with pytest.raises(ValidationError, match="volume"):
        screen([a, b], start=EPOCH, days=0.1, volume="cube", workers=1)


def test_rtn_volume_membership_does_not_depend_on_the_sample_interval(shared_data):
    """Slow co-orbital pairs near a flat RTN volume (real 2023 objects, 0.03-0.1 km/s relative): a guess
    that ends on a bound of its search window is no encounter, and extrapolating a straight track from
    it used to put such pairs "inside" for some sample intervals and not others (5 of 20,295 allied-asset
    pairs in a day). Every interval must now report the same passages."""
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    pairs = [(26033, 35269), (27847, 37666), (40015, 46266), (43115, 46281), (41771, 47467)]
    wanted = {n for p in pairs for n in p}
    pool = [e for e in elsets if e.norad_id in wanted]
    start = max(e.epoch for e in elsets)
    runs = {}
    for h in (30.0, 60.0, 90.0):
        res = screen(pool, start=start, days=1.0, primaries=[a for a, _ in pairs], volume="rtn-ellipsoid",
                     rtn_km=(10.0, 50.0, 10.0), workers=1, with_pc=False, sample_s=h)
        runs[h] = sorted((e.norad1, e.norad2, round(e.tca_unix)) for e in res.events)
        for ev in res.events:  # what is reported is a real closest approach inside the volume's reach
            assert ev.miss_km <= 50.0
    assert runs[30.0] == runs[60.0] == runs[90.0]


def test_duplicates_keep_the_newest_element_set():
    a, b = crossing_pair(3000.0)
    stale = elset(90002, n=14.0, epoch=EPOCH - timedelta(days=3))
    res = screen([a, stale, b], start=EPOCH, days=0.1, threshold_km=10.0, workers=1, with_pc=False)
    assert len(res.events) == 3  # 0.1 day: 157 s, 3000 s and 5842 s


def test_primaries_against_secondaries_equals_the_filtered_full_run(shared_data):
    """secondaries= keeps exactly the primary-secondary pairs of the all-vs-all run (no primary-primary,
    no secondary-secondary), e.g. a debris cloud against allied assets."""
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    busy = [e for e in elsets if 700 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 900][:400]
    start = busy[0].epoch.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    full = screen(busy, start=start, days=0.25, threshold_km=25.0, workers=1, with_pc=False)
    ids = [e.norad_id for e in busy]
    prim, sec = set(ids[::2]), set(ids[1::3])  # every 6th object is both
    got = screen(busy, start=start, days=0.25, threshold_km=25.0, primaries=prim, secondaries=sec, workers=1,
                 with_pc=False)

    def key(e):
        return min(e.norad1, e.norad2), max(e.norad1, e.norad2), round(e.tca_unix, 3)

    want = sorted(key(e) for e in full.events
                  if (e.norad1 in prim and e.norad2 in sec) or (e.norad2 in prim and e.norad1 in sec))
    assert sorted(key(e) for e in got.events) == want and want
    owner = {n: ("A" if n % 3 else "B") for n in ids[: len(ids) // 2]}  # the rest: owner unknown
    grouped = screen(busy, start=start, days=0.25, threshold_km=25.0, primaries=prim, secondaries=sec,
                     groups=owner, workers=1, with_pc=False)
    want_g = [k for k in want if owner.get(k[0]) is None or owner.get(k[1]) is None or owner[k[0]] != owner[k[1]]]
    assert sorted(key(e) for e in grouped.events) == want_g and len(want_g) < len(want)
    with pytest.raises(ValidationError, match="secondaries need primaries"):
        screen(busy, start=start, days=0.1, secondaries=sec)


def test_hard_body_radii_enter_the_pc():
    """Per-object radii (CARA's SATCAT estimates) are summed for the pair and change Pc as Foster's integral
    says; unknown sizes fall back to CARA's 20 m combined default."""
    from orbitwatch.conjunctions.covariance import rtn_to_inertial
    from orbitwatch.conjunctions.screen import event_covariances
    from orbitwatch.kernels.pc import pc_foster_2d

    a, b = crossing_pair(3000.0)
    start = EPOCH + timedelta(days=3)  # three-day-old elements: the default covariance is km-sized
    base = screen([a, b], start=start, days=0.1, threshold_km=10.0, workers=1)
    sized = screen([a, b], start=start, days=0.1, threshold_km=10.0, workers=1, hbr_m={90001: 2.5, 90002: 60.0})
    assert base.events and len(base.events) == len(sized.events)
    assert "HBR 20 m combined (default)" in base.events[0].covariance_source
    assert "HBR 62.5 m combined (both sizes known)" in sized.events[0].covariance_source
    assert (base.events[0].hbr_m, sized.events[0].hbr_m) == (20.0, 62.5)  # what CDMs then state
    ev = sized.events[0]
    c1, c2, _ = event_covariances([ev], [a, b])
    r1, v1 = np.array([ev.r1]) * 1e3, np.array([ev.v1]) * 1e3
    r2, v2 = np.array([ev.r2]) * 1e3, np.array([ev.v2]) * 1e3
    want = float(np.asarray(pc_foster_2d(r1, v1, rtn_to_inertial(c1, r1, v1), r2, v2, rtn_to_inertial(c2, r2, v2),
                                         np.array([62.5]))).reshape(-1)[0])
    assert ev.pc == pytest.approx(want, rel=1e-12)
    assert ev.pc > 1e-12
    assert ev.pc > 5 * base.events[0].pc  # Pc grows about as HBR^2 for HBR << miss
    assert ev.pc_max > 5 * base.events[0].pc_max


def test_rtn_ellipsoid_equals_the_sphere_run_filtered(shared_data):
    """The ellipsoid screen (whose sweep narrows its radial test to the flat volume) finds exactly the
    approaches of a sphere screen at the ellipsoid's reach whose straight-line track enters the volume."""
    from orbitwatch.kernels.frames import to_rtn

    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    busy = [e for e in elsets if 700 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 900][:400]
    start = busy[0].epoch.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    axes = np.array([10.0, 50.0, 10.0])
    ell = screen(busy, start=start, days=0.25, volume="rtn-ellipsoid", rtn_km=tuple(axes), workers=1, with_pc=False)
    sph = screen(busy, start=start, days=0.25, threshold_km=50.0, workers=1, with_pc=False)
    want = []
    for e in sph.events:
        p_r, p_v = np.array([e.r1]), np.array([e.v1])
        x0 = to_rtn(np.array([e.r2]) - p_r, p_r, p_v)[0] / axes
        w = to_rtn(np.array([e.v2]) - p_v, p_r, p_v)[0] / axes
        tau = -(x0 @ w) / (w @ w)
        if ((x0 + w * tau) ** 2).sum() <= 1.0:
            want.append((e.norad1, e.norad2, round(e.tca_unix, 3)))
    got = [(e.norad1, e.norad2, round(e.tca_unix, 3)) for e in ell.events]
    assert sorted(got) == sorted(want) and len(want) >= 3


def test_slices_group_their_own_runs_as_one_slice_would(shared_data, monkeypatch):
    """Slices group and refine the runs wholly inside them and hand back the runs that touch their edges
    (engine.sweep_slice): with the window cut into many slices, in worker processes or not, the events are
    those of the window screened as one slice - including co-located stays and passes that straddle a
    boundary - with the same TCAs, misses and flags."""
    from orbitwatch.conjunctions import engine

    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    # a dense shell, and docked or co-located objects: ISS modules and visiting vehicles, the Chinese
    # station's, and a pair whose range swings in and out of the distance (43234/44113)
    docked = {49044, 56740, 57488, 57691, 57697, 57862, 53239, 54216, 56446, 56761, 43234, 44113}
    busy = [e for e in elsets if 530 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 560
            and e.norad_id not in docked][:500]
    busy += [e for e in elsets if e.norad_id in docked]
    start = max(e.epoch for e in busy)

    def key(res):
        return [(e.norad1, e.norad2, round(e.tca_unix, 6), round(e.miss_km, 9), e.flags) for e in res.events]

    many = screen(busy, start=start, days=0.5, threshold_km=10.0, workers=2, with_pc=False)
    assert many.stats["guesses"] > 0 and len(many.events) > 20
    assert any("co-located" in e.flags for e in many.events)
    one_process = screen(busy, start=start, days=0.5, threshold_km=10.0, workers=1, with_pc=False)
    monkeypatch.setattr(engine, "slice_plan", lambda n, workers, h, max_slice_s=0: [(0, n)])
    whole = screen(busy, start=start, days=0.5, threshold_km=10.0, workers=1, with_pc=False)
    assert key(many) == key(whole) == key(one_process)
    # the edges were exercised: some pass lies within a sample interval of a slice boundary
    cuts = [start.timestamp() + k1 * 120.0 for _, k1 in engine.split_evenly(360, 6)[:-1]]
    assert any(abs(e.tca_unix - c) < 240.0 for e in many.events for c in cuts)
