"""Storing screening results with derived markings, and reading them back (filtered by reader).

:func:`save_events` writes one ``screening_runs`` row and one ``conjunctions`` row per event. Each
event's marking is derived (:func:`orbitwatch.markings.derive`) from the markings of its two input
element sets, given per catalogue number in ``markings``; an object without a marking is taken as
plain ``UNCLASSIFIED`` (releasable to all partners), which is what public TLEs are.

:func:`load_events` re-reads them; ``where`` is the reader's authorisation filter (a callable
``table -> SQL boolean`` from ``orbitwatch.sharing``), applied inside the query.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, insert, or_, select

from orbitwatch.conjunctions.screen import Conjunction
from orbitwatch.errors import MarkingError
from orbitwatch.markings import DEFAULT_SCHEME, Marking, derive
from orbitwatch.store.base import marking_values
from orbitwatch.store.schema_products import conjunctions, screening_runs

Where = Callable[[Table], ColumnElement[bool]] | None
PUBLIC = Marking()


def save_events(conn: Connection, run_meta: Mapping[str, Any], events: Sequence[Conjunction],
                markings: Mapping[int, Marking], *, epochs: Mapping[int, float] | None = None) -> int:
    """Store one screening run and its events; returns the run id.

    ``run_meta`` keys (all optional but the window): ``window_start``, ``window_end`` (datetime or UTC
    seconds), ``threshold_km``, ``volume``, ``rtn_km``, ``primaries``, ``objects``, ``stage_seconds``,
    ``flags``, ``source``, ``user``. The run itself is marked with the combination of every event's
    marking (or UNCLASSIFIED when it found nothing). Events whose inputs share no releasable nation
    are refused with :class:`~orbitwatch.errors.MarkingError` naming the pair.
    """
    rows = []
    run_marks: list[Marking] = []
    for ev in events:
        m1 = markings.get(ev.norad1, PUBLIC)
        m2 = markings.get(ev.norad2, PUBLIC)
        try:
            d = derive([(f"element set of {ev.norad1}", m1), (f"element set of {ev.norad2}", m2)])
        except MarkingError as exc:
            raise MarkingError(f"conjunction {ev.norad1}/{ev.norad2}: {exc.reason}", field="marking") from None
        run_marks.append(d.marking)
        rows.append({
            "norad1": ev.norad1, "norad2": ev.norad2, "tca_ts": ev.tca_unix, "tca": ev.as_dict()["tca"],
            "miss_km": ev.miss_km, "relative_speed_kms": ev.relative_speed_kms, "r_km": ev.r_km,
            "t_km": ev.t_km, "n_km": ev.n_km, "pc": ev.pc, "pc_max": ev.pc_max,
            "dilution_sigma_km": ev.dilution_sigma_km, "covariance_source": ev.covariance_source,
            "hbr_m": ev.hbr_m,
            "flags": ",".join(ev.flags), "state1": json.dumps([*ev.r1, *ev.v1]),
            "state2": json.dumps([*ev.r2, *ev.v2]),
            "elset1_epoch": (epochs or {}).get(ev.norad1), "elset2_epoch": (epochs or {}).get(ev.norad2),
            "marking_reasons": "; ".join(d.reasons), **marking_values(d.marking),
        })
    run_mark = _combine_all(run_marks)
    rtn = run_meta.get("rtn_km")
    prim = run_meta.get("primaries")
    run = {
        "started_at": time.time(),
        "window_start": _ts(run_meta["window_start"]), "window_end": _ts(run_meta["window_end"]),
        "threshold_km": run_meta.get("threshold_km"), "volume": run_meta.get("volume", "sphere"),
        "rtn_km": ",".join(f"{x:g}" for x in rtn) if rtn else None,
        "primaries": ",".join(str(p) for p in sorted(prim)) if prim else None,
        "objects": run_meta.get("objects"), "events": len(rows),
        "stage_seconds": json.dumps(run_meta.get("stage_seconds") or {}),
        "flags": json.dumps({str(k): v for k, v in (run_meta.get("flags") or {}).items()}),
        "source": run_meta.get("source"), "user": run_meta.get("user"), **marking_values(run_mark),
    }
    run_id = conn.execute(insert(screening_runs).values(**run).returning(screening_runs.c.id)).scalar_one()
    if rows:
        for r in rows:
            r["run_id"] = run_id
        conn.execute(insert(conjunctions), rows)
    return int(run_id)


def _combine_all(marks: Iterable[Marking]) -> Marking:
    marks = list(marks)
    if not marks:
        return PUBLIC
    # Highest classification and the *union* of releasabilities would be wrong for a run; a run row
    # is readable by whoever may read all of its events: the derived marking of them all.
    try:
        return derive([(f"event {i}", m) for i, m in enumerate(marks)]).marking
    except MarkingError:
        # events for disjoint audiences: the run summary is for its originator only
        return max(marks, key=lambda m: DEFAULT_SCHEME.rank(m.classification))


def _ts(x: datetime | float) -> float:
    return x.timestamp() if isinstance(x, datetime) else float(x)


def load_events(conn: Connection, *, where: Where = None, norad: int | Sequence[int] | None = None,
                since: datetime | float | None = None, until: datetime | float | None = None,
                run_id: int | None = None, max_miss_km: float | None = None, min_pc: float | None = None,
                limit: int | None = 1000) -> list[Row]:
    """Stored conjunctions, soonest TCA first, filtered by reader (``where``), object, time, run."""
    c = conjunctions
    q = select(c)
    if where is not None:
        q = q.where(where(c))
    if norad is not None:
        ids = [norad] if isinstance(norad, int) else list(norad)
        q = q.where(or_(c.c.norad1.in_(ids), c.c.norad2.in_(ids)))
    if since is not None:
        q = q.where(c.c.tca_ts >= _ts(since))
    if until is not None:
        q = q.where(c.c.tca_ts <= _ts(until))
    if run_id is not None:
        q = q.where(c.c.run_id == run_id)
    if max_miss_km is not None:
        q = q.where(c.c.miss_km <= max_miss_km)
    if min_pc is not None:
        q = q.where(c.c.pc >= min_pc)
    q = q.order_by(c.c.tca_ts, c.c.norad1, c.c.norad2)
    if limit is not None:
        q = q.limit(limit)
    return list(conn.execute(q))


def get_event(conn: Connection, event_id: int, *, where: Where = None) -> Row | None:
    q = select(conjunctions).where(conjunctions.c.id == event_id)
    if where is not None:
        q = q.where(where(conjunctions))
    return conn.execute(q).first()


def load_runs(conn: Connection, *, where: Where = None, limit: int | None = 50) -> list[Row]:
    q = select(screening_runs)
    if where is not None:
        q = q.where(where(screening_runs))
    q = q.order_by(screening_runs.c.id.desc())
    if limit is not None:
        q = q.limit(limit)
    return list(conn.execute(q))


def event_from_row(row: Any) -> Conjunction:
    """A :class:`Conjunction` back from a stored row."""
    s1 = json.loads(row.state1) if row.state1 else [0.0] * 6
    s2 = json.loads(row.state2) if row.state2 else [0.0] * 6
    return Conjunction(
        norad1=row.norad1, norad2=row.norad2,
        tca=datetime(1970, 1, 1, tzinfo=UTC) + (datetime.fromtimestamp(round(row.tca_ts * 1000) / 1000, UTC)
                                                 - datetime(1970, 1, 1, tzinfo=UTC)),
        miss_km=row.miss_km, relative_speed_kms=row.relative_speed_kms, r_km=row.r_km, t_km=row.t_km,
        n_km=row.n_km, pc=row.pc, pc_max=row.pc_max, dilution_sigma_km=row.dilution_sigma_km,
        covariance_source=row.covariance_source, hbr_m=getattr(row, "hbr_m", None),
        flags=tuple(f for f in (row.flags or "").split(",") if f),
        r1=tuple(s1[:3]), v1=tuple(s1[3:]), r2=tuple(s2[:3]), v2=tuple(s2[3:]), tca_unix=row.tca_ts)
