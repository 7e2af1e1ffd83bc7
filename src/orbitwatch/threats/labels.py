"""Ground-truth manoeuvre labels and the scoring of detections against them.

Readers for the public operator manoeuvre records used to validate :mod:`orbitwatch.threats.manoeuvres`:

* IDS/DORIS ``*man.txt`` files (CryoSat-2, Jason-1/2/3, Sentinel-3A/B/6A, SARAL, HY-2A, TOPEX, SPOT,
  Envisat). Format: https://ids-doris.org/documents/BC/satellites/man.readme - times are **TAI**,
  day-of-year; one line per manoeuvre with one or more burns (median time, duration, Δv in the
  satellite's frame).
* Fengyun ``.fy`` files (GEO station-keeping), times in China Standard Time (UTC+8).
* The dpshorten benchmark YAML files and the maneuver-detect ``labels.json``, as published.

Matching rule (see docs/threats.md, fixed before looking at scores): a detection with window
``[start, end]`` matches a label at time ``L`` when ``start - tau <= L <= end + tau``, ``tau`` being the
object's median element-set interval; the stricter "epoch" rule asks ``|epoch - L| <= tau``.
Detections and labels are paired one-to-one, closest best-estimate epoch first. Labels before the
first or after the last element set are not counted.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from orbitwatch.errors import ValidationError

# TAI - UTC (s) from the given UTC date (IERS Bulletin C); enough for every manoeuvre file since 1990.
_LEAP = [
    (datetime(1990, 1, 1, tzinfo=UTC), 25), (datetime(1991, 1, 1, tzinfo=UTC), 26),
    (datetime(1992, 7, 1, tzinfo=UTC), 27), (datetime(1993, 7, 1, tzinfo=UTC), 28),
    (datetime(1994, 7, 1, tzinfo=UTC), 29), (datetime(1996, 1, 1, tzinfo=UTC), 30),
    (datetime(1997, 7, 1, tzinfo=UTC), 31), (datetime(1999, 1, 1, tzinfo=UTC), 32),
    (datetime(2006, 1, 1, tzinfo=UTC), 33), (datetime(2009, 1, 1, tzinfo=UTC), 34),
    (datetime(2012, 7, 1, tzinfo=UTC), 35), (datetime(2015, 7, 1, tzinfo=UTC), 36),
    (datetime(2017, 1, 1, tzinfo=UTC), 37),
]


def tai_to_utc(t: datetime) -> datetime:
    offset = 25
    for start, s in _LEAP:
        if t >= start:
            offset = s
    return t - timedelta(seconds=offset)


@dataclass(slots=True)
class ManoeuvreLabel:
    """One reported manoeuvre. Times are UTC unix seconds; Δv in m/s (None when not reported).

    ``dv_mps`` is the total Δv spent (sum of burn magnitudes); ``dv_rtn`` the net burn Δv in (radial,
    along-track, cross-track), summed as vectors, when the source gives it.
    """

    norad_id: int
    time: float
    start: float
    end: float
    source: str
    kind: str | None = None
    dv_mps: float | None = None
    dv_rtn: tuple[float, float, float] | None = None
    ref: str | None = None


# IDS satellite codes -> NORAD numbers (from the IDS satellite pages / SATCAT).
IDS_NORAD = {
    "CRYO2": 36508, "JASO1": 26997, "JASO2": 33105, "JASO3": 41240, "SEN3A": 41335, "SEN3B": 43437,
    "SEN6A": 46984, "SARAL": 39086, "HY-2A": 37781, "TOPEX": 22076, "SPOT2": 20436, "SPOT3": 22823,
    "SPOT4": 25260, "SPOT5": 27421, "ENVI1": 27386, "HY-2C": 46469, "HY-2D": 48621,
}


def _doy(year: str, day: str, hour: str, minute: str, second: str = "0") -> datetime:
    return (datetime(int(year), 1, 1, tzinfo=UTC) + timedelta(days=int(day) - 1, hours=int(hour),
                                                             minutes=int(minute), seconds=float(second)))


def read_ids_manoeuvres(path: str | Path, *, norad_id: int | None = None) -> list[ManoeuvreLabel]:
    """Manoeuvres of an IDS ``*man.txt`` file (one label per line; times converted TAI -> UTC).

    The label time is the median time of the first burn (the line start when no burns are listed);
    ``start``/``end`` are the line's begin/end of manoeuvre. Each burn's Δv is rotated into (radial,
    along-track, cross-track) from the parameter type's frame (005: T,R,L; 006: R,T,N; 007: Q,S,W).

    ``dv_mps`` is the **sum of the burn magnitudes** (the Δv the operator spent), not the norm of the
    summed vectors: the burns of one line are minutes to hours apart in a rotating local frame, and the
    operators fly pairs of opposite burns half an orbit apart (Jason-1 2010-07-25: -2.446 and +2.446 m/s
    cross-track, an inclination change of 0.04 deg) whose vector sum is zero. ``dv_rtn`` keeps the net
    (vector-summed) local components - its along-track part is what changes the semi-major axis - and
    ``kind`` is out-of-plane when the burns' summed cross-track magnitudes exceed the in-plane ones.
    """
    path = Path(path)
    out: list[ManoeuvreLabel] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        tok = raw.split()
        if not tok:
            continue
        try:
            sat = tok[0].upper()
            begin = tai_to_utc(_doy(*tok[1:5]))
            finish = tai_to_utc(_doy(*tok[5:9]))
            rest = tok[9:]
            if rest and rest[0].isalpha():  # SPOT manoeuvre type MCC/MCO
                rest = rest[1:]
            ptype = rest[0] if rest else None
            nburns = int(rest[1]) if len(rest) > 1 else 0
            burns = rest[2:]
            first = begin
            dv = np.zeros(3)
            dv_abs = np.zeros(3)  # per-axis sums of |component|
            dv_total = 0.0
            has_dv = False
            for b in range(nburns):
                chunk = burns[b * 15:(b + 1) * 15]
                if len(chunk) < 8:
                    break
                t_b = tai_to_utc(_doy(*chunk[0:5]))
                if b == 0:
                    first = t_b
                comp = np.array([float(x) for x in chunk[6:9]])
                if ptype == "005":
                    comp = np.array([comp[1], comp[0], comp[2]])
                dv += comp
                dv_abs += np.abs(comp)
                dv_total += float(np.linalg.norm(comp))
                has_dv = True
        except (ValueError, IndexError, TypeError) as exc:
            raise ValidationError(f"not an IDS manoeuvre line ({exc})", file=str(path), line=lineno) from None
        nid = norad_id if norad_id is not None else IDS_NORAD.get(sat)
        if nid is None:
            raise ValidationError(f"unknown IDS satellite code {sat!r}", file=str(path), line=lineno,
                                  field="satellite")
        kind = None
        if has_dv:
            kind = "out-of-plane" if dv_abs[2] > np.hypot(dv_abs[0], dv_abs[1]) else "in-plane"
        out.append(ManoeuvreLabel(
            nid, first.timestamp(), begin.timestamp(), finish.timestamp(), f"IDS:{path.name}", kind,
            dv_total if has_dv else None, tuple(float(x) for x in dv) if has_dv else None,
            f"{path.name}:{lineno}"))
    return out


def read_fengyun_manoeuvres(path: str | Path, *, norad_id: int,
                            include_attitude: bool = False) -> list[ManoeuvreLabel]:
    """Fengyun ``.fy`` manoeuvre records (``TYPE INTLDES "start CST" "end CST"``), times -> UTC."""
    path = Path(path)
    out: list[ManoeuvreLabel] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        if not raw.strip():
            continue
        parts = raw.split('"')
        try:
            kind_raw = parts[0].split()[0]
            t0, t1 = (_cst(parts[1]), _cst(parts[3]))
        except (IndexError, ValueError) as exc:
            raise ValidationError(f"not a Fengyun manoeuvre line ({exc})", file=str(path), line=lineno) from None
        if kind_raw == "GEO-ATTITUDE-CONTROL" and not include_attitude:
            continue
        kind = {"GEO-EW-STATION-KEEPING": "station-keeping-ew",
                "GEO-NS-STATION-KEEPING": "station-keeping-ns"}.get(kind_raw, kind_raw.lower())
        mid = t0 + (t1 - t0) / 2
        out.append(ManoeuvreLabel(norad_id, mid.timestamp(), t0.timestamp(), t1.timestamp(),
                                  f"FY:{path.name}", kind, None, None, f"{path.name}:{lineno}"))
    out.sort(key=lambda lb: lb.time)
    return out


def _cst(text: str) -> datetime:
    # One real record writes the date with slashes (2015/12/23); accept it rather than drop the label.
    local = datetime.fromisoformat(text.replace(" CST", "").replace("/", "-").strip())
    return local.replace(tzinfo=UTC) - timedelta(hours=8)


def read_dpshorten_labels(path: str | Path) -> list[ManoeuvreLabel]:
    """A dpshorten benchmark ``manoeuvres_<sat>.yaml`` as published (see docs: its LEO times are one
    day late and its Fengyun times are CST read as UTC)."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text())
    nid = int(doc["SATCAT number"])
    out = []
    for t in doc["manoeuvre_timestamps"]:
        dt = t if isinstance(t, datetime) else datetime.fromisoformat(str(t))
        ts = dt.replace(tzinfo=UTC).timestamp()
        out.append(ManoeuvreLabel(nid, ts, ts, ts, f"dpshorten:{Path(path).name}"))
    return out


def read_maneuver_detect_labels(path: str | Path, *, norad_ids: Iterable[int] | None = None
                                ) -> list[ManoeuvreLabel]:
    """The maneuver-detect dataset ``labels.json(.gz)`` (one label per burn)."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt") as fh:
        rows = json.load(fh)
    wanted = set(norad_ids) if norad_ids is not None else None
    out = []
    for r in rows:
        if wanted is not None and r["norad_id"] not in wanted:
            continue
        t = datetime.fromisoformat(r["epoch"]).timestamp()
        s = datetime.fromisoformat(r["window_start"]).timestamp() if r.get("window_start") else t
        e = datetime.fromisoformat(r["window_end"]).timestamp() if r.get("window_end") else t
        out.append(ManoeuvreLabel(int(r["norad_id"]), t, s, e, f"maneuver-detect:{r['source']}",
                                  r.get("maneuver_type"), r.get("delta_v"), None, r.get("source_ref")))
    return out


# --------------------------------------------------------------------------------------------------
@dataclass
class MatchResult:
    """Scores of one object's detections against its labels."""

    norad_id: int
    n_detections: int
    n_labels: int
    matched: list[tuple[int, int]] = field(default_factory=list)  # (detection index, label index)
    timing_errors_s: list[float] = field(default_factory=list)  # detection epoch - label time
    interval_s: float = 0.0

    @property
    def true_positives(self) -> int:
        return len(self.matched)

    @property
    def precision(self) -> float:
        return self.true_positives / self.n_detections if self.n_detections else float("nan")

    @property
    def recall(self) -> float:
        return self.true_positives / self.n_labels if self.n_labels else float("nan")

    @property
    def within_one_interval(self) -> float:
        if not self.timing_errors_s:
            return float("nan")
        err = np.abs(np.asarray(self.timing_errors_s))
        return float(np.mean(err <= self.interval_s))

    def as_dict(self) -> dict:
        err = np.abs(np.asarray(self.timing_errors_s)) / 3600.0
        return {
            "norad": self.norad_id, "detections": self.n_detections, "labels": self.n_labels,
            "true_positives": self.true_positives,
            "precision": _r(self.precision), "recall": _r(self.recall),
            "median_abs_timing_error_h": _r(float(np.median(err))) if err.size else None,
            "p90_abs_timing_error_h": _r(float(np.percentile(err, 90))) if err.size else None,
            "p95_abs_timing_error_h": _r(float(np.percentile(err, 95))) if err.size else None,
            "within_one_interval": _r(self.within_one_interval),
            "median_interval_h": _r(self.interval_s / 3600.0),
        }


def _r(x: float) -> float | None:
    return None if x != x else round(float(x), 4)


def labels_in_span(labels: Sequence[ManoeuvreLabel], first_epoch: float,
                   last_epoch: float) -> list[ManoeuvreLabel]:
    """Labels an element-set history can reveal: strictly after its first and before its last set."""
    return [lb for lb in labels if first_epoch < lb.time < last_epoch]


def match_detections(detections: Sequence, labels: Sequence[ManoeuvreLabel], *, interval_s: float,
                     norad_id: int = 0, epoch_only: bool = False) -> MatchResult:
    """One-to-one matching of detections (objects with unix-second ``epoch_ts``, ``start_ts``,
    ``end_ts``) to labels, per the rule in the module docstring.

    ``epoch_only``: the stricter rule of the issue's target - a detection matches a label only when its
    best-estimate epoch is within one interval of it (``|epoch - L| <= tau``), whatever its window."""
    res = MatchResult(norad_id, len(detections), len(labels), interval_s=interval_s)
    cands = []
    for di, d in enumerate(detections):
        lo, hi = (d.epoch_ts, d.epoch_ts) if epoch_only else (d.start_ts, d.end_ts)
        for li, lb in enumerate(labels):
            if lo - interval_s <= lb.time <= hi + interval_s:
                cands.append((abs(d.epoch_ts - lb.time), di, li))
    cands.sort()
    used_d: set[int] = set()
    used_l: set[int] = set()
    for _, di, li in cands:
        if di in used_d or li in used_l:
            continue
        used_d.add(di)
        used_l.add(li)
        res.matched.append((di, li))
        res.timing_errors_s.append(detections[di].epoch_ts - labels[li].time)
    return res


def group_labels(labels: Sequence[ManoeuvreLabel], gap_s: float) -> list[ManoeuvreLabel]:
    """Merge labels of one object closer than ``gap_s`` into one manoeuvre event.

    Element sets arrive about once a day and the orbit determination needs a set or two to absorb a
    burn, so burns closer than two element-set intervals cannot be told apart from element sets
    alone; scoring them as separate events would count an unresolvable pair as a miss. The event
    keeps the first burn's time, spans all burns, and sums their Δv.
    """
    out: list[ManoeuvreLabel] = []
    for lb in sorted(labels, key=lambda x: x.time):
        if out and lb.time - out[-1].end <= gap_s and lb.norad_id == out[-1].norad_id:
            g = out[-1]
            g.end = max(g.end, lb.end)
            if lb.dv_mps is not None:
                g.dv_mps = (g.dv_mps or 0.0) + lb.dv_mps
            if lb.dv_rtn is not None:
                g.dv_rtn = tuple(x + y for x, y in zip(g.dv_rtn or (0.0, 0.0, 0.0), lb.dv_rtn, strict=True))
            if lb.kind and g.kind and lb.kind != g.kind:
                g.kind = "both"
            continue
        out.append(ManoeuvreLabel(lb.norad_id, lb.time, lb.start, max(lb.end, lb.time), lb.source, lb.kind,
                                  lb.dv_mps, lb.dv_rtn, lb.ref))
    return out
