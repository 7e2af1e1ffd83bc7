"""Alerts: every detection becomes one, with severity, evidence, a derived marking and its audience.

An alert's marking is *derived* from the markings of the element sets that are its evidence
(:func:`orbitwatch.markings.derive`: highest classification, intersection of releasabilities), so an
alert built on a GBR-only element set can only go where that element set may go. ``releasable_to`` is
that marking's REL TO list - the nations the alert may be sent to.

Store access: :func:`save_alerts` (insert or update by ``dedupe_key``) and :func:`load_alerts` (with
the sharing layer's ``where`` filter applied inside the query).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orbitwatch.markings import Marking, derive, sort_trigraphs
from orbitwatch.threats.orbits import iso

SEVERITIES = ("info", "low", "medium", "high", "critical")
KINDS = ("manoeuvre", "proximity", "geo-neighbour", "geo-drift-and-stop", "breakup", "norms")


@dataclass
class Evidence:
    """What an alert rests on: element sets (NORAD, epoch, store id when known, marking) and plots."""

    element_sets: list[dict] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"element_sets": self.element_sets, "plots": self.plots, "detail": self.detail}


@dataclass
class Alert:
    """One alert. Times are unix seconds; ``payload`` is the detection as the CLI prints it."""

    kind: str
    severity: str
    title: str
    dedupe_key: str
    subjects: list[int]
    marking: Marking
    payload: dict
    evidence: Evidence = field(default_factory=Evidence)
    event_ts: float | None = None
    actor: str | None = None
    state: str | None = None
    marking_reasons: list[str] = field(default_factory=list)
    created_ts: float = field(default_factory=time.time)
    updated_ts: float | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; expected one of {', '.join(SEVERITIES)}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not self.id:
            self.id = "alert-" + hashlib.sha1(self.dedupe_key.encode()).hexdigest()[:24]
        if self.updated_ts is None:
            self.updated_ts = self.created_ts

    @property
    def releasable_to(self) -> list[str]:
        return sort_trigraphs(self.marking.rel_to)

    def as_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "severity": self.severity, "state": self.state, "title": self.title,
            "created": iso(self.created_ts), "updated": iso(self.updated_ts or self.created_ts),
            "event_time": None if self.event_ts is None else iso(self.event_ts), "subjects": self.subjects,
            "actor": self.actor, "marking": str(self.marking), "releasable_to": self.releasable_to,
            "marking_reasons": self.marking_reasons, "evidence": self.evidence.as_dict(), "payload": self.payload,
        }


# --------------------------------------------------------------------------------------------------
MarkingOf = Callable[[int], Sequence[tuple[str, Marking]]]


def _derived(subjects: Iterable[int], marking_of: MarkingOf | None, default: Marking | None):
    """Derived marking of the evidence of ``subjects``; ``marking_of(norad)`` gives (label, marking)
    pairs of the element sets used (store rows), ``default`` is used for inputs without one."""
    inputs: list[tuple[str, Marking]] = []
    for s in subjects:
        got = list(marking_of(s)) if marking_of else []
        if not got:
            got = [(f"element sets of {s}", default or Marking())]
        inputs.extend(got)
    d = derive(inputs)
    return d.marking, list(d.reasons)


def _elsets(subjects: Iterable[int], elsets: Mapping[int, Any] | None) -> list[dict]:
    out = []
    for s in subjects:
        es = (elsets or {}).get(s)
        if es is None:
            continue
        out.append({"norad": s, "epoch": iso(es.epoch_unix), "element_set_no": es.element_set_no,
                    "file": es.file, "line": es.line})
    return out


def from_manoeuvre(m, *, owner: str | None = None, marking_of: MarkingOf | None = None,
                   default_marking: Marking | None = None, elsets: Mapping[int, Any] | None = None) -> Alert:
    """Routine station-keeping is ``info``; Δv >= 1 m/s or a plane change ``medium``; deorbit ``low``."""
    sev = "info" if m.kind.startswith("station-keeping") or m.delta_v_mps < 0.1 else "low"
    if m.delta_v_mps >= 1.0 or m.plane != "in-plane":
        sev = "medium"
    mk, reasons = _derived([m.norad_id], marking_of, default_marking)
    ev = Evidence(element_sets=[{"norad": m.norad_id, "epoch": e, "element_set_no": n}
                                for e, n in zip(m.evidence_epochs, m.evidence_element_set_nos, strict=False)])
    return Alert("manoeuvre", sev, f"{m.norad_id}: {m.kind} manoeuvre, Δv {m.delta_v_mps:.3f} m/s at {m.epoch}",
                 f"manoeuvre:{m.norad_id}:{int(m.start_ts)}", [m.norad_id], mk, m.as_dict(), ev, m.epoch_ts,
                 owner, None, reasons)


def proximity_severity(ev) -> str:
    if ev.state == "CLOSED":
        return "info"
    if ev.sustained and ev.inside_volume:
        return "critical" if ev.closest_km is not None and ev.closest_km < 1.0 else "high"
    if ev.sustained or (ev.co_orbital is not None and ev.co_orbital.approaching):
        return "high" if ev.co_orbital and ev.co_orbital.reducing_manoeuvres else "medium"
    speed = ev.relative_speed_kms if ev.relative_speed_kms is not None else 99.0
    if ev.inside_volume and speed < 1.0:
        return "medium"
    return "low"  # a fast crossing inside the volume: a conjunction rather than an operation


def from_proximity(ev, *, marking_of: MarkingOf | None = None, default_marking: Marking | None = None,
                   elsets: Mapping[int, Any] | None = None, plots: Sequence[str] = ()) -> Alert:
    subj = [ev.asset, ev.object]
    mk, reasons = _derived(subj, marking_of, default_marking)
    closest = "n/a" if ev.closest_km is None else f"{ev.closest_km:.1f} km"
    what = "sustained co-orbital approach" if ev.sustained else "proximity"
    return Alert("proximity", proximity_severity(ev), f"{ev.object} {what} to asset {ev.asset} ({ev.state}, "
                 f"closest {closest})", f"proximity:{ev.asset}:{ev.object}", subj, mk, ev.as_dict(),
                 Evidence(_elsets(subj, elsets), list(plots)), ev.tca_ts, ev.object_owner, ev.state, reasons)


def from_geo_neighbour(nb, *, owner: str | None = None, marking_of: MarkingOf | None = None,
                       default_marking: Marking | None = None, elsets: Mapping[int, Any] | None = None) -> Alert:
    subj = [nb.asset, nb.object]
    mk, reasons = _derived(subj, marking_of, default_marking)
    return Alert("geo-neighbour", "medium", f"{nb.object} in GEO slot of asset {nb.asset} "
                 f"(Δλ {nb.delta_longitude_deg:+.3f}°, Δr {nb.delta_radius_km:+.1f} km)",
                 f"geo-neighbour:{nb.asset}:{nb.object}", subj, mk, nb.as_dict(), Evidence(_elsets(subj, elsets)),
                 nb.t_ts, owner, None, reasons)


def from_drift_and_stop(ds, *, owner: str | None = None, marking_of: MarkingOf | None = None,
                        default_marking: Marking | None = None, elsets: Mapping[int, Any] | None = None) -> Alert:
    subj = [ds.asset, ds.object]
    mk, reasons = _derived(subj, marking_of, default_marking)
    return Alert("geo-drift-and-stop", "high", f"{ds.object} drifted to and stopped {ds.final_gap_deg:+.2f}° from "
                 f"GEO asset {ds.asset}", f"geo-drift-and-stop:{ds.asset}:{ds.object}", subj, mk, ds.as_dict(),
                 Evidence(_elsets(subj, elsets)), ds.stop_ts, owner, None, reasons)


def from_breakup(b, *, marking_of: MarkingOf | None = None, default_marking: Marking | None = None,
                 elsets: Mapping[int, Any] | None = None) -> Alert:
    sev = "critical" if b.kind in ("ASAT-like", "collision") or len(b.fragments) >= 100 else "high"
    subj = ([b.parent] if b.parent is not None else []) + ([b.collider] if b.collider is not None else [])
    # the fragments are evidence too: their markings restrict the alert (sampled to keep it cheap)
    mk, reasons = _derived(subj + b.fragments[:50], marking_of, default_marking)
    when = "undated" if b.epoch_ts is None else iso(b.epoch_ts)
    return Alert("breakup", sev, f"{b.kind} breakup of {b.parent_name or b.parent} ({b.designator}), "
                 f"{len(b.fragments)} fragments, {when}", f"breakup:{b.designator}", subj or b.fragments[:1], mk,
                 b.as_dict(), Evidence(_elsets(subj, elsets), [b.gabbard_png] if b.gabbard_png else []),
                 b.epoch_ts, b.owner, None, reasons)


# --------------------------------------------------------------------------------------------------
# Store
def save_alerts(conn, alerts: Sequence[Alert]) -> int:
    """Insert alerts, or update the stored alert with the same ``dedupe_key`` (keeps its id and creation
    time). Returns the number written. Runs inside the caller's transaction."""
    from sqlalchemy import select

    from orbitwatch.store.base import marking_values
    from orbitwatch.store.schema_threats import alerts as t

    n = 0
    for a in alerts:
        row = {
            "dedupe_key": a.dedupe_key, "kind": a.kind, "severity": a.severity, "state": a.state, "title": a.title,
            "updated_ts": a.updated_ts or a.created_ts, "event_ts": a.event_ts, "subjects": json.dumps(a.subjects),
            "actor": a.actor, "releasable_to": json.dumps(a.releasable_to),
            "marking_reasons": json.dumps(a.marking_reasons), "evidence": json.dumps(a.evidence.as_dict(), default=str),
            "payload": json.dumps(a.payload, default=str), **marking_values(a.marking),
        }
        old = conn.execute(select(t.c.id, t.c.created_ts).where(t.c.dedupe_key == a.dedupe_key)).first()
        if old is not None:
            a.id, a.created_ts = old.id, old.created_ts
            conn.execute(t.update().where(t.c.id == old.id).values(**row))
        else:
            conn.execute(t.insert().values(id=a.id, created_ts=a.created_ts, **row))
        n += 1
    return n


def _alert_from_row(r) -> Alert:
    from orbitwatch.store.base import marking_from_row

    ev = json.loads(r.evidence or "{}")
    return Alert(kind=r.kind, severity=r.severity, title=r.title, dedupe_key=r.dedupe_key,
                 subjects=json.loads(r.subjects), marking=marking_from_row(r), payload=json.loads(r.payload),
                 evidence=Evidence(ev.get("element_sets", []), ev.get("plots", []), ev.get("detail", {})),
                 event_ts=r.event_ts, actor=r.actor, state=r.state,
                 marking_reasons=json.loads(r.marking_reasons or "[]"), created_ts=r.created_ts,
                 updated_ts=r.updated_ts, id=r.id)


def load_alerts(conn, *, where=None, since: float | None = None, limit: int | None = None,
                kind: str | None = None, min_severity: str | None = None) -> list[Alert]:
    """Stored alerts, newest first. ``where`` is the sharing layer's ``table -> clause`` filter (applied
    in SQL); ``since`` (unix s) keeps alerts updated at or after it."""
    from sqlalchemy import select

    from orbitwatch.store.schema_threats import alerts as t

    q = select(t)
    if where is not None:
        q = q.where(where(t))
    if since is not None:
        q = q.where(t.c.updated_ts >= since)
    if kind is not None:
        q = q.where(t.c.kind == kind)
    if min_severity is not None:
        if min_severity not in SEVERITIES:
            raise ValueError(f"unknown severity {min_severity!r}; expected one of {', '.join(SEVERITIES)}")
        q = q.where(t.c.severity.in_(SEVERITIES[SEVERITIES.index(min_severity):]))
    q = q.order_by(t.c.updated_ts.desc(), t.c.id)
    if limit is not None:
        q = q.limit(limit)
    return [_alert_from_row(r) for r in conn.execute(q)]
