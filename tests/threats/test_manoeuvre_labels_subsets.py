"""Regression tests of the LEO manoeuvre detector against fixed subsets of the operators' own records.

Each test runs the detector on a satellite's whole element-set history (the noise model needs it) and
scores only a fixed time span, against the IDS/DORIS manoeuvre file, with the issue's rule: a detection
counts only when its best-estimate epoch is within one element-set interval of the operator's time
(labels closer than two intervals are one event, as in benchmarks/manoeuvres.py). The floors are the
scores achieved when the tests were written minus a margin of about one event; the scores of the
detector before burn sequences and orbit-determination echoes were handled are given for each, so each
floor is one the previous detector fails.

The spans are on *training* satellites (TOPEX, Jason-1, Jason-2, HY-2A), the ones the rules were designed on;
the held-out satellites are asserted in test_manoeuvres.py.
"""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pytest

from orbitwatch.formats.tle import read_tle
from orbitwatch.threats import labels as L
from orbitwatch.threats.manoeuvres import DEFAULT_CONFIGS, compute_residuals, detect_manoeuvres, position_sma
from orbitwatch.threats.orbits import mean_motion_rad_s

OPERATOR_FILE = {"TOPEX": "topman.txt", "Jason-1": "ja1man.txt", "Jason-2": "ja2man.txt",
                 "Haiyang-2A": "h2aman.txt"}


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def dp(shared_data):
    return shared_data / "manoeuvre-labels" / "dpshorten-tle-benchmark"


@cache
def _sets(root: str, name: str):
    with gzip.open(f"{root}/tle/{name}.tle.gz", "rt") as fh:
        sets = [r for r in read_tle(fh, file=name) if not hasattr(r, "reason")]
    return sets, compute_residuals(sets)


@cache
def _run(root: str, name: str):
    sets, res = _sets(root, name)
    dets = detect_manoeuvres(sets, residuals=res)
    labels = L.read_ids_manoeuvres(f"{root}/raw_operator_manoeuvre_files/{OPERATOR_FILE[name]}")
    interval = float(np.median(np.diff(res.t)))
    events = L.group_labels(L.labels_in_span(labels, res.t[0], res.t[-1]), 2.0 * interval)
    return res, dets, events, interval


def _score(dp, name, start, end):
    _, dets, events, interval = _run(str(dp), name)
    a, b = _ts(start), _ts(end)
    d = [x for x in dets if a <= x.epoch_ts < b]
    e = [x for x in events if a <= x.time < b]
    return L.match_detections(d, e, interval_s=interval, epoch_only=True)


@pytest.mark.parametrize("name,start,end,n_events,p_min,r_min", [
    # 2012-2014: 24 events. Achieved P 0.80 (16/20) / R 0.67; before: P 0.64 (16/25) - five 4-7 m
    # "lowerings" 5-8 days after ~14 m raises, the orbit determination giving part of the raise back.
    ("Haiyang-2A", "2012-01-01", "2015-01-01", 24, 0.75, 0.62),
    # 2002-08/09 orbit change to the interleaved track, two raises and two lowerings a few days apart,
    # each of 0.1-0.35 km. Achieved 6/6 events; before: the pairs merged, R 0.67.
    ("TOPEX", "2002-08-01", "2002-10-01", 6, 0.99, 0.99),
    # 2016-2018: 26 events incl. the 2017 move to the interleaved orbit. Achieved P 0.86 / R 0.73
    # (19 events); before: 18 events, R 0.69.
    ("Jason-2", "2016-01-01", "2019-01-01", 26, 0.82, 0.72),
])
def test_operator_label_subsets(dp, name, start, end, n_events, p_min, r_min):
    m = _score(dp, name, start, end)
    assert m.n_labels == n_events  # the reference subset itself is fixed
    assert m.precision >= p_min, m.as_dict()
    assert m.recall >= r_min, m.as_dict()


def test_burn_sequence_is_found_burn_by_burn(dp):
    """TOPEX's 1992 orbit acquisition: raises on 09-02 and 09-08 (operator file), six days apart, each
    a flat new level for 3 element sets. Each must be its own manoeuvre dated within one interval of the
    operator's time, sized as the element sets' own semi-major-axis jump (not the sum of both)."""
    res, dets, _, interval = _run(str(dp), "TOPEX")
    t, a = res.t, res.a_km
    for op_time in ("1992-09-02T18:21", "1992-09-08T18:48"):
        tl = _ts(op_time)
        k = int(np.searchsorted(t, tl))
        # the element sets' own step: the largest set-to-set change of the first sets after the burn
        jump = float(max(np.diff(a[k - 1:k + 3]), key=abs))
        near = [d for d in dets if abs(d.epoch_ts - tl) <= interval]
        assert len(near) == 1, [(d.epoch, d.delta_a_km) for d in near]
        assert near[0].kind.startswith("raising")
        assert near[0].delta_a_km == pytest.approx(jump, rel=0.05)


def test_small_burn_next_to_a_large_one_is_not_its_remainder(dp):
    """Jason-2 2017-06-28: +54 mm/s (+111 m, a flat new level for 6 sets) five days before the 12 m/s,
    30 km lowering to the interleaved orbit. The small raise is a manoeuvre of its own."""
    _, dets, _, interval = _run(str(dp), "Jason-2")
    tl = _ts("2017-06-28T05:46")
    near = [d for d in dets if abs(d.epoch_ts - tl) <= interval]
    assert len(near) == 1 and near[0].kind == "raising"
    assert 0.09 <= near[0].delta_a_km <= 0.13
    big = [d for d in dets if _ts("2017-07-01") <= d.epoch_ts <= _ts("2017-07-06")]
    assert len(big) == 1 and big[0].delta_a_km < -25.0


def test_position_sma_shows_a_burn_the_fitted_mean_motion_is_still_absorbing(dp):
    """Jason-1 2003-04-16 07:40: two along-track burns of +4.16 mm/s (operator file), Δa = 2·Δv/n =
    +17.9 m. Three to nine days later the sets' fitted semi-major axis has moved +7.7 m (the 18 SDS fit
    takes Jason-1's burns in over a week or more); the semi-major axis their positions show
    (:func:`position_sma`) has moved +19.0 m."""
    _, res = _sets(str(dp), "Jason-1")
    _, _, events, _ = _run(str(dp), "Jason-1")
    t, tb = res.t, _ts("2003-04-16T07:40")
    ev = [e for e in events if abs(e.time - tb) < 3600.0]
    assert len(ev) == 1 and ev[0].dv_rtn[1] == pytest.approx(0.00832)
    before = (t >= _ts("2003-04-10")) & (t < tb)
    after = (t >= _ts("2003-04-19")) & (t < _ts("2003-04-26"))  # before the next burn (04-26 05:38)
    assert before.sum() >= 5 and after.sum() >= 5
    da_op = 2.0 * ev[0].dv_rtn[1] / 1000.0 / float(mean_motion_rad_s(np.median(res.a_km[before])))
    ab = position_sma(res)
    da_pos = float(np.median(ab[after]) - np.median(ab[before]))
    da_fit = float(np.median(res.a_km[after]) - np.median(res.a_km[before]))
    assert da_pos == pytest.approx(da_op, rel=0.15)
    assert da_fit < 0.5 * da_op


def test_changes_the_positions_do_not_follow_are_dropped(dp):
    """Jason-1 2004-03-07 (+1.7 m, z 5.3) and 2004-11-24 (-2.3 m, z 5.2): weak steps of the fitted
    semi-major axis with no operator burn within five days, which the sets' positions do not follow
    (position-derived step -2.2 and 0.2 times the fitted one). The detector without the position check
    (``confirm_ratio=0``) reports both; with it, neither - and every event it matched in 2003-2004 (7 of
    12 under the issue's rule) is still matched."""
    sets, res = _sets(str(dp), "Jason-1")
    _, dets, events, interval = _run(str(dp), "Jason-1")
    old = detect_manoeuvres(sets, residuals=res, config=dataclasses.replace(DEFAULT_CONFIGS["LEO"], confirm_ratio=0.0))
    for day in ("2004-03-07", "2004-11-24"):
        a, b = _ts(day), _ts(day) + 86400.0
        assert any(a <= d.epoch_ts < b for d in old)
        assert not any(a <= d.epoch_ts < b for d in dets)
        assert not any(abs(e.time - a) < 5 * 86400.0 for e in events)
    a, b = _ts("2003-01-01"), _ts("2005-01-01")
    e = [x for x in events if a <= x.time < b]

    def score(ds):
        return L.match_detections([x for x in ds if a <= x.epoch_ts < b], e, interval_s=interval, epoch_only=True)

    m_old, m_new = score(old), score(dets)
    assert m_old.n_labels == m_new.n_labels == 12
    assert m_new.true_positives == m_old.true_positives == 7
    assert m_new.n_detections <= m_old.n_detections - 3
