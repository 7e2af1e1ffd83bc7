"""Recall against the dense brute-force reference (tools/brute_force_screen.py) in regimes the screener
was not tuned on: an older catalogue (2022), highly eccentric orbits crossing LEO (deep-space objects
above the Lyddane switch get no SDP4 jump checks), low-perigee / strong-drag objects (cubic knots at
CUBIC_TOLERANCE_KM), the GEO belt (SDP4, co-located satellites, slow relative motion), a CelesTrak OMM
CSV from 2026, and one-vs-all with an RTN ellipsoid. Each case: every reference approach is found (pair
and TCA within 5 s), TCA within 10 ms and miss within 10 m, and nothing else is reported; one worker and
two workers (different time slices, so different slice edges) give the same events."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import numpy as np
import pytest
from brute_force_screen import brute_force

from orbitwatch.conjunctions.screen import newest, screen
from orbitwatch.formats.detect import read_path
from orbitwatch.formats.tle_fast import read_tle_fast
from orbitwatch.kernels.frames import to_rtn
from orbitwatch.kernels.interpolation import jd_split
from orbitwatch.kernels.propagation import satrec_of

RE = 6378.135


def _catalogue(shared_data, name: str) -> list:
    path = shared_data / "catalog" / name
    return newest(read_tle_fast(gzip.decompress(path.read_bytes()))[0])


def _alt(e) -> tuple[float, float]:
    a = e.semi_major_axis_km
    return a * (1 - e.eccentricity) - RE, a * (1 + e.eccentricity) - RE


def _densest(elsets: list, lo: float, hi: float, count: int) -> list:
    """``count`` near-circular objects with perigee in [lo, hi] km nearest the densest 5-km perigee bin."""
    cand = [e for e in elsets if lo <= _alt(e)[0] <= hi and e.eccentricity < 0.01]
    hp = np.array([_alt(e)[0] for e in cand])
    hist, edges = np.histogram(hp, bins=np.arange(lo, hi + 5.0, 5.0))
    centre = 0.5 * (edges[hist.argmax()] + edges[hist.argmax() + 1])
    return [cand[i] for i in np.argsort(np.abs(hp - centre), kind="stable")[:count]]


def _check(events, ref, *, colocated_ok: bool = False, window_s: float = 5.0, tca_tol_s: float = 0.010) -> None:
    """Every reference approach found (same pair, TCA within ``window_s``) with TCA within ``tca_tol_s``
    and miss within 10 m; no other events. With ``colocated_ok``, reference minima of a pair the screener
    reports as one co-located stay are not required (by design: one event per stay)."""
    found: dict[tuple[int, int], list] = {}
    for ev in events:
        found.setdefault(tuple(sorted((ev.norad1, ev.norad2))), []).append(ev)
    stays = {p for p, evs in found.items() if any("co-located" in ev.flags for ev in evs)}
    used = set()
    for r in ref:
        pair = (r["norad1"], r["norad2"])
        if colocated_ok and pair in stays:
            continue
        cands = [e for e in found.get(pair, []) if abs(e.tca_unix - r["tca_unix"]) < window_s]
        assert cands, f"missed {r}"
        ev = min(cands, key=lambda e: abs(e.tca_unix - r["tca_unix"]))
        used.add(id(ev))
        assert abs(ev.tca_unix - r["tca_unix"]) < tca_tol_s, (r, ev.tca_unix)
        assert abs(ev.miss_km - r["miss_km"]) < 0.010, (r, ev.miss_km)
    extra = [e for e in events if id(e) not in used and not (colocated_ok and "co-located" in e.flags)]
    assert not extra, f"events not in the reference: {extra[:3]}"


def _key(events) -> list:
    return [(e.norad1, e.norad2, e.tca_unix, e.miss_km, e.flags) for e in events]


def _against_brute_force(sel: list, start: datetime, hours: float, threshold: float, *, workers: int = 1,
                         min_reference: int = 5, colocated_ok: bool = False):
    """Screen ``sel`` and check the events against the brute force (:func:`_check`); the screening result."""
    res = screen(sel, start=start, days=hours / 24, threshold_km=threshold, workers=workers, with_pc=False)
    ref = brute_force(sel, start.timestamp(), hours * 3600.0, threshold)
    assert len(ref) >= min_reference
    _check(res.events, ref, colocated_ok=colocated_ok)
    return res


def test_recall_2022_shell_one_and_two_workers(shared_data):
    """2022 catalogue, the densest 500-600 km perigee shell (Starlink era), 2 hours at 20 km, an odd
    start time: all reference approaches, and identical events from one and from two workers."""
    sel = _densest(_catalogue(shared_data, "spacetrack_full_catalog_3le_2022-07-14.txt.gz"), 500, 600, 250)
    start = datetime(2022, 7, 15, 3, 17, 23, tzinfo=UTC)
    one = _against_brute_force(sel, start, 2.0, 20.0)
    two = screen(sel, start=start, days=2.0 / 24, threshold_km=20.0, workers=2, with_pc=False)
    assert _key(one.events) == _key(two.events)


def test_recall_heo_above_lyddane_switch_with_leo(shared_data):
    """Highly eccentric deep-space objects (e > 0.5) whose inclination keeps them clear of the Lyddane
    switch (no SDP4 jump midpoints, :func:`sdp4_may_jump`), with the LEO objects around their perigees:
    2 hours at 20 km."""
    els = _catalogue(shared_data, "spacetrack_full_catalog_3le_2023-10-09.txt.gz")
    heo = [e for e in els if e.eccentricity > 0.5 and np.radians(e.inclination) >= 0.25
           and 1440.0 / e.mean_motion >= 225.0 and _alt(e)[0] < 700][:150]
    hp = np.sort([_alt(e)[0] for e in heo])
    leo = [e for e in els if e.mean_motion > 11.25 and e.eccentricity < 0.05
           and np.any((hp >= _alt(e)[0] - 25) & (hp <= _alt(e)[1] + 25))]
    rng = np.random.default_rng(3)
    sel = heo + [leo[i] for i in sorted(rng.choice(len(leo), size=200, replace=False))]
    start = datetime(2023, 10, 9, 6, 0, tzinfo=UTC)
    _against_brute_force(sel, start, 2.0, 20.0, min_reference=3, colocated_ok=True)


@pytest.mark.slow
def test_recall_low_perigee_and_strong_drag(shared_data):
    """Objects with perigee below 300 km or |B*| > 0.01 (cubic knots at the 10-km tolerance, decay in the
    window) with LEO neighbours of their shells, 6 hours at 10 km, two workers."""
    els = _catalogue(shared_data, "spacetrack_full_catalog_3le_2023-10-09.txt.gz")
    low = [e for e in els if e.mean_motion > 11.25 and (_alt(e)[0] < 300 or abs(e.bstar) > 0.01)]
    shells = np.array([_alt(e) for e in low])
    ids = {e.norad_id for e in low}
    nb = [e for e in els if e.norad_id not in ids and e.mean_motion > 11.25
          and np.any((shells[:, 0] <= _alt(e)[1]) & (shells[:, 1] >= _alt(e)[0]))]
    rng = np.random.default_rng(4)
    sel = low + [nb[i] for i in sorted(rng.choice(len(nb), size=500, replace=False))]
    start = datetime(2023, 10, 9, 12, 0, tzinfo=UTC)
    _against_brute_force(sel, start, 6.0, 10.0, workers=2, colocated_ok=True)


@pytest.mark.slow
def test_recall_geo_belt(shared_data):
    """The GEO belt (period 1,400-1,480 min; SDP4, co-located clusters, slow relative motion), 300
    objects for 12 hours at 20 km. Co-located pairs are reported once per stay, so their reference
    minima are not required one by one. Slow GEO encounters have flat distance minima: the TCA is held
    to 10 ms like every other (test_geo_slow_encounter_tca_is_the_distance_minimum)."""
    els = _catalogue(shared_data, "spacetrack_full_catalog_3le_2023-10-09.txt.gz")
    geo = [e for e in els if 1400 <= 1440.0 / e.mean_motion <= 1480]
    start = datetime(2023, 10, 9, 0, 0, tzinfo=UTC)
    # 300 objects in a row of right ascension at the start (neighbours along the belt)
    jd, fr = jd_split(np.array([start.timestamp()]))
    ra = np.array([np.degrees(np.arctan2(*np.array(satrec_of(e).sgp4(jd[0], fr[0])[1])[[1, 0]])) % 360 for e in geo])
    order = np.argsort(ra)
    sel = [geo[i] for i in order[:300]]
    _against_brute_force(sel, start, 12.0, 20.0, colocated_ok=True)


@pytest.mark.slow
def test_recall_celestrak_omm_2026_starlink(shared_data):
    """CelesTrak OMM CSV (2026): 300 objects of the densest Starlink shell, 2 hours at 20 km."""
    folder = shared_data / "catalog" / "celestrak_gp_omm_csv_2026-08-18"
    star = {e.norad_id for e in read_path(str(folder / "starlink.csv.gz")).records}
    els = [e for e in newest(read_path(str(folder / "active.csv.gz")).records) if e.norad_id in star]
    sel = _densest(els, 300, 700, 300)
    start = datetime(2026, 8, 18, 0, 0, tzinfo=UTC)
    _against_brute_force(sel, start, 2.0, 20.0)


@pytest.mark.slow
def test_rtn_ellipsoid_one_vs_all_against_brute_force(shared_data):
    """One-vs-all (20 LEO payloads) with the (10, 50, 10) km RTN ellipsoid against the brute force at the
    circumscribing 50 km sphere: every reference approach whose straight relative track at TCA enters the
    ellipsoid is found, and every event's track does (screen.py's membership rule)."""
    els = [e for e in _catalogue(shared_data, "spacetrack_full_catalog_3le_2023-10-09.txt.gz")
           if e.mean_motion > 11.25]
    rng = np.random.default_rng(6)
    payloads = [e for e in els if e.eccentricity < 0.05 and "DEB" not in (e.object_name or "")
                and "R/B" not in (e.object_name or "")]
    prim = [payloads[i] for i in sorted(rng.choice(len(payloads), size=20, replace=False))]
    pset = {e.norad_id for e in prim}
    shells = np.array([_alt(e) for e in prim])
    nb = [e for e in els if e.norad_id not in pset
          and np.any((shells[:, 0] - 60 <= _alt(e)[1]) & (shells[:, 1] + 60 >= _alt(e)[0]))]
    sel = prim + [nb[i] for i in sorted(rng.choice(len(nb), size=800, replace=False))]
    start = datetime(2023, 10, 9, 9, 0, tzinfo=UTC)
    hours = 2.0
    axes = np.array([10.0, 50.0, 10.0])
    res = screen(sel, start=start, days=hours / 24, primaries=pset, volume="rtn-ellipsoid",
                 rtn_km=tuple(axes), workers=1, with_pc=False)
    ref = [r for r in brute_force(sel, start.timestamp(), hours * 3600.0, 50.0)
           if r["norad1"] in pset or r["norad2"] in pset]
    sats = {e.norad_id: satrec_of(e) for e in sel}

    def track_metric(p: int, s: int, t: float) -> float:
        jd, fr = jd_split(np.array([t]))
        _, rp, vp = sats[p].sgp4(jd[0], fr[0])
        _, rs, vs = sats[s].sgp4(jd[0], fr[0])
        rp, vp, rs, vs = (np.array(x)[None] for x in (rp, vp, rs, vs))
        x0 = to_rtn(rs - rp, rp, vp)[0] / axes
        w = to_rtn(vs - vp, rp, vp)[0] / axes
        xm = x0 - w * (x0 @ w) / (w @ w)
        return float(xm @ xm)

    inside = []
    for r in ref:
        p, s = (r["norad1"], r["norad2"]) if r["norad1"] in pset else (r["norad2"], r["norad1"])
        if track_metric(p, s, r["tca_unix"]) <= 1.0:
            inside.append(r)
    assert len(inside) >= 3
    for ev in res.events:
        assert track_metric(ev.norad1, ev.norad2, ev.tca_unix) <= 1.0 + 1e-9
    _check(res.events, inside)


def _pair(shared_data, a: int, b: int) -> list:
    els = {e.norad_id: e for e in _catalogue(shared_data, "spacetrack_full_catalog_3le_2023-10-09.txt.gz")}
    return [els[a], els[b]]


def test_geo_slow_encounter_tca_is_the_distance_minimum(shared_data):
    """BSAT-3A / BSAT-3B (co-orbiting GEO, 3.8 m/s relative speed): the SGP4 distance is smallest at
    2023-10-10T03:12:51.726Z (17.734083 km, brute force). Refinement on dr.dv with SDP4's own velocities,
    which differ from the derivative of its positions by ~70 mm/s here, put it 24 s later (17.734378 km);
    slow pairs are now finished with velocities differenced from the positions."""
    sel = _pair(shared_data, 32019, 37207)
    start = datetime(2023, 10, 10, 2, 0, tzinfo=UTC)
    res = screen(sel, start=start, days=2 / 24, threshold_km=20.0, workers=1, with_pc=False)
    ref = brute_force(sel, start.timestamp(), 2 * 3600.0, 20.0)
    assert len(ref) == 1 and abs(ref[0]["tca_unix"] - 1696907571.726) < 0.01
    _check(res.events, ref)


@pytest.mark.xfail(strict=True, reason="first guesses come from sign changes of dr.dv between 120-s samples: a "
                   "local maximum and a local minimum of the distance inside one sample interval (dr.dv +, -, + "
                   "with both samples positive) give no guess")
def test_two_range_rate_roots_in_one_sample_interval(shared_data):
    """NORSAT-TD / GHOST-2 (slowly separating pair, ~11 m/s): the distance has a 10 cm deep local minimum
    of 9.966700 km at 2023-10-19T06:40:10.824Z, 55 s after a local maximum; the 120-s samples on either
    side both show the pair receding, and the screener reports no approach there."""
    sel = _pair(shared_data, 56194, 56197)
    start = datetime(2023, 10, 19, 6, 0, tzinfo=UTC)
    res = screen(sel, start=start, days=1.5 / 24, threshold_km=10.0, workers=1, with_pc=False)
    ref = brute_force(sel, start.timestamp(), 1.5 * 3600.0, 10.0)
    assert any(abs(r["tca_unix"] - 1697697610.824) < 0.01 for r in ref)
    _check(res.events, ref)


@pytest.mark.parametrize("pair", [(58016, 58017), (58023, 58025), (56057, 56065)])
def test_separating_pair_is_no_colocated_stay(shared_data, pair):
    """Freshly deployed objects drifting apart (2023-155A/B, 2023-155H/K; 2023-042): within 10 km for
    2.4 h, 2.9 h and 1.4 h of the 12-hour window, so no co-located stay by the definition; every distance
    minimum within 10 km is an approach. 58016/58017's 5.1231 km approach at 2023-10-09T04:43:58.985Z was
    not reported at all when stays were judged by padded candidate runs (samples up to 13 km apart) and
    refined only around their closest sample, which here was the window's first."""
    sel = _pair(shared_data, *pair)
    start = datetime(2023, 10, 9, 3, 0, tzinfo=UTC)
    _against_brute_force(sel, start, 12.0, 10.0, min_reference=1)


def test_docked_vehicle_stay_starting_at_the_window_edge(shared_data):
    """ISS / Progress MS-24 (docked, within 0.9 km for the whole 3.4-hour window from 2023-10-09T01:03Z):
    the brute force finds minima of 0.2318 km (+5482 s) and 0.2529 km. The stay is one event at its
    closest point; it used to get none (as for 15 of 206 such windows started every 7 minutes over the
    day; CSS modules 8, 2023-155 pieces 71) when its closest sample was the window's first and the search
    ran outside the window."""
    sel = _pair(shared_data, 25544, 57691)
    start = datetime(2023, 10, 9, 1, 3, tzinfo=UTC)
    res = screen(sel, start=start, days=3.4 / 24, threshold_km=5.0, workers=1, with_pc=False)
    ref = brute_force(sel, start.timestamp(), 3.4 * 3600.0, 5.0)
    assert len(ref) == 2
    assert res.events, "no event for a pair within 1 km for the whole window"
    assert "co-located" in res.events[0].flags
    assert res.events[0].miss_km <= min(r["miss_km"] for r in ref) + 0.010
