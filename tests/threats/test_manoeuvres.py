"""Manoeuvre detection validated against operator manoeuvre records (dpshorten TLE histories).

Thresholds were tuned on the training satellites only (benchmarks/manoeuvres.py --tune); the
satellites asserted here are from the held-out test split. Asserted numbers are the achieved ones
minus a margin (achieved in session 2, events - see docs/threats.md for the table): Sentinel-3A window
P 0.96 / R 0.93, best epoch within one interval P 0.92 / R 0.92; Sentinel-3B window P 1.00 / R 0.93, epoch
P 0.93 / R 0.87; Fengyun-4A P 0.82 / R 0.93 (GEO keeps the pairwise method). Session 3 (burn sequences,
echoes): Sentinel-3A P 0.95 / R 0.92 both rules; Sentinel-3B window P 0.96 / R 0.93, epoch P 0.89 / R 0.87
(one more detection; the floors were left as they were). Training-satellite subsets are asserted in
test_manoeuvre_labels_subsets.py.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import numpy as np
import pytest

from orbitwatch.formats.tle import read_tle
from orbitwatch.threats import labels as L
from orbitwatch.threats.manoeuvres import compute_residuals, detect_manoeuvres, rolling_robust


def _tles(path):
    with gzip.open(path, "rt") as fh:
        return [r for r in read_tle(fh, file=str(path)) if not hasattr(r, "reason")]


@pytest.fixture(scope="module")
def dp(shared_data):
    return shared_data / "manoeuvre-labels" / "dpshorten-tle-benchmark"


def _score(dp, name, opfile, norad=None, epoch_only=False):
    sets = _tles(dp / "tle" / f"{name}.tle.gz")
    res = compute_residuals(sets)
    dets = detect_manoeuvres(sets, residuals=res)
    path = dp / "raw_operator_manoeuvre_files" / opfile
    labels = L.read_fengyun_manoeuvres(path, norad_id=norad) if opfile.endswith(".fy") else L.read_ids_manoeuvres(path)
    interval = float(np.median(np.diff(res.t)))
    events = L.group_labels(L.labels_in_span(labels, res.t[0], res.t[-1]), 2.0 * interval)
    return L.match_detections(dets, events, interval_s=interval, epoch_only=epoch_only), dets, events


@pytest.mark.parametrize("name,opfile,p_min,r_min,pe_min,re_min", [
    ("Sentinel-3A", "s3aman.txt", 0.92, 0.88, 0.88, 0.87),
    ("Sentinel-3B", "s3bman.txt", 0.95, 0.88, 0.88, 0.82),
])
def test_leo_test_split_precision_recall(dp, name, opfile, p_min, r_min, pe_min, re_min):
    m, _, _ = _score(dp, name, opfile)
    assert m.precision >= p_min, m.as_dict()
    assert m.recall >= r_min, m.as_dict()
    # the rule: the best epoch itself within one element-set interval of the operator's time
    me, _, _ = _score(dp, name, opfile, epoch_only=True)
    assert me.precision >= pe_min, me.as_dict()
    assert me.recall >= re_min, me.as_dict()


def _at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_burns_a_few_sets_apart_are_separate_manoeuvres(dp):
    """Sentinel-3A 2021-11-30, 12-03, 12-07 (operator: -15, +30, -15 mm/s along-track, 3-4 element sets
    apart): three manoeuvres with those signs, each dated within a day of the operator's time."""
    sets = _tles(dp / "tle" / "Sentinel-3A.tle.gz")
    dets = [d for d in detect_manoeuvres(sets) if _at("2021-11-28") <= d.epoch_ts <= _at("2021-12-10")]
    assert [d.kind for d in dets] == ["lowering", "raising", "lowering"]
    for d, t_op in zip(dets, ("2021-11-30T02:42", "2021-12-03T02:55", "2021-12-07T03:00"), strict=True):
        assert abs(d.epoch_ts - _at(t_op)) <= 86400.0


def test_orbit_change_missing_from_the_operator_file_is_found(dp):
    """HY-2A raised its orbit by ~2 km in March 2016 (visible in every element set from 03-17 on); its
    IDS file lists only 7-13 mm/s burns on 03-01 and 03-23. The detector reports the raise - one of the
    'false positives' the operator file makes."""
    sets = _tles(dp / "tle" / "Haiyang-2A.tle.gz")
    dets = [d for d in detect_manoeuvres(sets) if _at("2016-03-14") <= d.epoch_ts <= _at("2016-03-22")]
    assert dets and all(d.kind.startswith("raising") for d in dets)
    assert sum(d.delta_a_km for d in dets) > 1.5
    labels = L.read_ids_manoeuvres(dp / "raw_operator_manoeuvre_files" / "h2aman.txt")
    assert not [lb for lb in labels if _at("2016-03-05") <= lb.time <= _at("2016-03-20")]


def test_geo_test_split_precision_recall(dp):
    m, _, _ = _score(dp, "Fengyun-4A", "manFY4A.txt.fy", norad=41882)
    assert m.precision >= 0.75, m.as_dict()
    assert m.recall >= 0.85, m.as_dict()


def test_delta_v_estimate_matches_operator(dp):
    """Gauss in-plane Δv (n|Δa|/2) against the operator's reported burn Δv on matched manoeuvres whose
    burns all pushed one way along-track (only then is the spent Δv what the semi-major axis shows)."""
    m, dets, events = _score(dp, "Sentinel-3A", "s3aman.txt")
    ratios = [dets[d].delta_v_mps / events[e].dv_mps for d, e in m.matched
              if events[e].dv_mps and events[e].dv_mps > 0.005 and abs(events[e].dv_rtn[1]) >= 0.9 * events[e].dv_mps]
    assert len(ratios) >= 10
    assert 0.8 <= float(np.median(ratios)) <= 1.2


def test_ids_reader_sums_burn_magnitudes(dp):
    """Jason-1 2010 day 206: two cross-track burns of -2.446 and +2.446 m/s half an orbit apart (an
    inclination change). The operator spent 4.89 m/s; the summed vector is zero."""
    labels = L.read_ids_manoeuvres(dp / "raw_operator_manoeuvre_files" / "ja1man.txt")
    lb = next(x for x in labels if x.ref == "ja1man.txt:64")
    assert lb.dv_mps == pytest.approx(2 * 2.44641, rel=1e-6)
    assert lb.dv_rtn == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert lb.kind == "out-of-plane"


def test_ids_reader_day_of_year_and_tai(dp):
    labels = L.read_ids_manoeuvres(dp / "raw_operator_manoeuvre_files" / "cs2man.txt")
    first = labels[0]
    # "CRYO2 2010 105 17 47 ..." : day 105 of 2010 is 15 April; burn median 17:47:34 TAI, TAI-UTC = 34 s
    assert datetime.fromtimestamp(first.time, UTC) == datetime(2010, 4, 15, 17, 47, 0, tzinfo=UTC)
    assert first.norad_id == 36508
    assert first.dv_mps == pytest.approx(0.005495, rel=1e-3)
    # the dpshorten YAML gives the same manoeuvre one day later (its day-of-year is off by one)
    dps = L.read_dpshorten_labels(dp / "labels" / "manoeuvres_CryoSat-2.yaml")
    assert dps[0].time - first.time == pytest.approx(86400.0, abs=60.0)


def test_fengyun_reader_converts_cst(dp):
    labels = L.read_fengyun_manoeuvres(dp / "raw_operator_manoeuvre_files" / "manFY2D.txt.fy", norad_id=29640)
    # "2011-02-01T15:00:00 CST" .. "16:00 CST" -> midpoint 07:30 UTC
    assert datetime.fromtimestamp(labels[0].time, UTC) == datetime(2011, 2, 1, 7, 30, tzinfo=UTC)
    assert labels[0].kind == "station-keeping-ew"


def test_fengyun_reader_names_bad_line(tmp_path):
    p = tmp_path / "bad.fy"
    p.write_text('GEO-EW-STATION-KEEPING 2006-053A "not a time CST" "2015-04-10T16:30:00 CST"\n')
    with pytest.raises(Exception, match=r"bad.fy:1"):
        L.read_fengyun_manoeuvres(p, norad_id=1)


def test_matching_is_one_to_one():
    class D:
        def __init__(self, s, e):
            self.start_ts, self.end_ts, self.epoch_ts = s, e, (s + e) / 2

    labels = [L.ManoeuvreLabel(1, 100.0, 100.0, 100.0, "x"), L.ManoeuvreLabel(1, 110.0, 110.0, 110.0, "x")]
    m = L.match_detections([D(90, 120)], labels, interval_s=10.0)
    assert m.true_positives == 1 and m.recall == 0.5 and m.precision == 1.0


def test_epoch_only_matching_ignores_the_window():
    class D:
        start_ts, end_ts, epoch_ts = 0.0, 200.0, 150.0

    label = [L.ManoeuvreLabel(1, 20.0, 20.0, 20.0, "x")]
    assert L.match_detections([D()], label, interval_s=10.0).true_positives == 1  # inside the window
    assert L.match_detections([D()], label, interval_s=10.0, epoch_only=True).true_positives == 0
    assert L.match_detections([D()], label, interval_s=130.0, epoch_only=True).true_positives == 1


@pytest.mark.slow
def test_iss_reboosts(shared_data):
    """ISS 2020-2024 (no operator file): reboosts are semi-major-axis raises of ~0.5-2 m/s. The reference
    is the element sets themselves: the days with a consecutive-set SMA jump > 0.4 km (as the data README
    counts them) must each be inside a raising detection's window (+- one day)."""
    sets = _tles(shared_data / "tle-history" / "iss_25544_spacetrack_2020-01-01_2024-12-31.tle.gz")
    res = compute_residuals(sets)
    dets = detect_manoeuvres(sets, residuals=res)
    raises = [d for d in dets if d.kind.startswith("raising") and 0.2 <= d.delta_v_mps <= 3.0]
    assert len(raises) >= 50
    t, a = res.t, res.a_km
    jumps = []
    for k in range(1, t.size):
        if a[k] - a[k - 1] > 0.4 and (not jumps or t[k] - jumps[-1] > 86400.0):
            jumps.append(t[k])
    covered = sum(any(d.start_ts - 86400.0 <= tj <= d.end_ts + 86400.0 for d in raises) for tj in jumps)
    assert len(jumps) >= 60 and covered >= 0.9 * len(jumps)


def test_rolling_robust_ignores_outliers():
    x = np.zeros(200)
    x[::2] = 1.0
    x[100] = 1000.0
    med, sig = rolling_robust(x, 41, 1e-3)
    assert np.all(med[20:-20] <= 1.0)
    assert sig[100] < 2.0  # one huge outlier does not inflate the scale


def test_too_short_history_is_empty(dp):
    sets = _tles(dp / "tle" / "Sentinel-6A.tle.gz")[:3]
    assert detect_manoeuvres(sets) == []


def test_ramp_of_a_step_sharing_its_boundary_is_dated_from_the_data_after_it(dp):
    """Jason-2 2018-04-06 (operator 00:59 UTC): a 14 m jump between the sets of 04-06 02:46 and 04-07 is
    found as a step and a 1.3 m remainder at the same boundary. The remainder once bounded the first
    step's ramp fit at that boundary, leaving it no set after the jump, and the manoeuvre was dated
    2018-03-31, five days early. Each step's fit now ends only at the next step with a later boundary."""
    sets = _tles(dp / "tle" / "Jason-2.tle.gz")
    dets = [d for d in detect_manoeuvres(sets) if _at("2018-03-28") <= d.epoch_ts <= _at("2018-04-09")]
    assert dets, "the 2018-04-06 jump is detected"
    interval = float(np.median(np.diff(compute_residuals(sets).t)))
    assert min(abs(d.epoch_ts - _at("2018-04-06T00:59")) for d in dets) <= interval, [d.epoch for d in dets]
