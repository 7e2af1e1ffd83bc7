"""Storing an exercise in the database and bringing it back exactly where it was.

Everything the engine needs to continue lives in the tables of
:mod:`orbitwatch.store.schema_exercise`: the scenario text, the clock, the world (every element-set
version with the nations that hold it, every object's status), the inject states, detections, alerts,
messages, deliveries, actions and proposals, and a small JSON state (red-cell rules fired, jamming,
outages, id counters). Rows are append-only except for what can change (an alert's releasability, a
version's holders, an object's status, a proposal's votes). The close-approach predictions are a cache:
after a load the detectors screen the look-ahead window again (detections already made keep their
keys, so nothing is alerted twice).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Engine, bindparam, delete, insert, select, update

from orbitwatch.exercise.catalog import ObjectInfo
from orbitwatch.exercise.detect import Detection
from orbitwatch.exercise.records import Action, Alert, Delivery, InjectState, Message, Proposal
from orbitwatch.exercise.world import BASELINE, NEVER, SETUP, Outage, SensorNet, Status, Version, World
from orbitwatch.formats.records import ElementSet
from orbitwatch.markings import DEFAULT_SCHEME, nations_from_mask
from orbitwatch.store.base import marking_from_row, marking_values
from orbitwatch.store.schema_exercise import (
    exercise_actions,
    exercise_alerts,
    exercise_deliveries,
    exercise_detections,
    exercise_elsets,
    exercise_injects,
    exercise_messages,
    exercise_objects,
    exercise_proposals,
    exercises,
)

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise

_CHUNK = 5000


def _j(x) -> str:
    return json.dumps(x, default=str, allow_nan=False)


def _finite(d: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in d.items() if math.isfinite(v)}


def _version_marking(ex: Exercise, vid: int) -> dict:
    held = ex._held.get(vid) or set()
    if held:
        return marking_values(ex.marking_for(held))
    # Held by no nation yet: white cell only (rel_mask 0 matches no reader).
    return {"marking": f"{ex.banner.classification}//WHITE CELL ONLY//EXERCISE",
            "class_rank": DEFAULT_SCHEME.rank(ex.banner.classification), "rel_mask": 0,
            "data_mode": "EXERCISE", "tlp": None, "orgs": ""}


def _version_row(ex: Exercise, v: Version, scheduled: bool) -> dict:
    e = v.elset
    baseline = v.cause in (BASELINE, SETUP)
    return {"id": v.vid, "exercise_id": ex.eid, "norad_id": v.norad_id, "valid_from": v.valid_from,
            "scheduled": scheduled, "cause": v.cause[:80], "dv_mps": v.dv_mps, "epoch_ts": e.epoch_unix,
            "mean_motion": e.mean_motion, "eccentricity": e.eccentricity, "inclination": e.inclination,
            "raan": e.raan, "arg_perigee": e.arg_perigee, "mean_anomaly": e.mean_anomaly, "bstar": e.bstar,
            "mean_motion_dot": e.mean_motion_dot, "mean_motion_ddot": e.mean_motion_ddot,
            "object_name": (e.object_name or "")[:128], "object_id": (e.object_id or "")[:24] or None,
            "original": e.original if e.source_format in ("tle", "3le") else None,
            "seen": None if baseline else _j(_finite(v.seen)), **_version_marking(ex, v.vid)}


def _object_row(ex: Exercise, k: int) -> dict:
    inf = ex.world.info.get(k) or ObjectInfo(k)
    st = ex.world.status.get(k) or Status()
    return {"exercise_id": ex.eid, "norad_id": k, "name": (inf.name or "")[:128], "object_id": inf.object_id,
            "object_type": inf.object_type, "owner": inf.owner, "mass_kg": inf.mass_kg, "hbr_m": inf.hbr_m,
            "state": st.state, "since": st.since, "fail_at": st.fail_at, "cause": (st.cause or "")[:80] or None}


def _state(ex: Exercise) -> dict:
    w = ex.world
    return {"red_fired": ex.red_fired, "jamming": ex.jamming, "counters": ex.counters, "next_norad": ex.next_norad,
            "outages": [{"nation": o.nation, "regimes": sorted(o.regimes), "start": o.start, "end": o.end,
                         "cause": o.cause} for o in w.outages],
            "roles": w.roles, "assets": w.assets, "next_vid": w._next_vid,
            "proposal_about": {str(k): sorted(v) for k, v in ex.proposal_about.items()},
            "detector": ex.detector.stats(), "timings": ex.timings, "overrides": ex.overrides}


def _exercise_values(ex: Exercise) -> dict:
    from orbitwatch.exercise.engines import engine_report

    return {"sim_ts": ex.sim_ts, "clock_mode": ex.clock.mode, "clock_rate": ex.clock.rate, "status": ex.status,
            "revision": ex.revision, "state": _j(_state(ex)), "engines": _j(engine_report())}


def create(db: Engine, ex: Exercise, *, created_by: str | None) -> None:
    """Insert a new exercise (its row, the world's starting versions and objects, the inject states)."""
    import hashlib

    t0 = time.time()
    with db.begin() as conn:
        row = {"name": ex.name[:200], "scenario_name": ex.scenario.exercise.name[:200],
               "scenario_text": ex.scenario_text,
               "scenario_digest": hashlib.sha256(ex.scenario_text.encode()).hexdigest(),
               "catalog": _j(ex.catalog_info), "created_at": t0, "created_by": created_by,
               "start_ts": ex.start_ts, "end_ts": ex.end_ts, "step_s": ex.step_s, "resolved": _j(ex.resolved),
               **_exercise_values(ex), **marking_values(ex.banner)}
        ex.eid = int(conn.execute(insert(exercises).values(**row)).inserted_primary_key[0])
        rows = [_version_row(ex, v, False) for v in ex.world.current.values()]
        for i in range(0, len(rows), _CHUNK):
            conn.execute(insert(exercise_elsets), rows[i:i + _CHUNK])
        orows = [_object_row(ex, k) for k in ex.world.current]
        for i in range(0, len(orows), _CHUNK):
            conn.execute(insert(exercise_objects), orows[i:i + _CHUNK])
        if ex.injects:
            conn.execute(insert(exercise_injects), [{"exercise_id": ex.eid, "inject_id": s.inject_id,
                                                     "status": s.status} for s in ex.injects.values()])
    ex._saved["versions"] = max(ex.world.by_vid, default=0)
    ex._saved["objects"] = set(ex.world.current)


def _alert_row(ex: Exercise, a: Alert) -> dict:
    return {"id": a.aid, "exercise_id": ex.eid, "detection_id": a.detection_id, "kind": a.kind,
            "severity": a.severity, "sim_ts": a.sim_ts, "nation": a.nation, "title": a.title,
            "detail": _j({"detail": a.detail, "objects": a.objects}), "causes": _j(a.causes),
            **marking_values(a.marking)}


def flush(db: Engine, ex: Exercise) -> None:
    """Write what changed since the last flush, in one transaction, and bump the revision."""
    w = ex.world
    ex.revision += 1
    with db.begin() as conn:
        # Element-set versions: new ones, then changed holders / activations, then cancellations.
        last = ex._saved["versions"]
        sched = {v.vid for v in w.scheduled}
        new = [v for vid, v in w.by_vid.items() if vid > last and vid not in w.cancelled]
        if new:
            conn.execute(insert(exercise_elsets), [_version_row(ex, v, v.vid in sched) for v in new])
            ex._saved["versions"] = max(v.vid for v in new)
        newids = {v.vid for v in new}
        upd = []
        for vid in sorted(ex._dirty_versions - newids):
            v = w.by_vid.get(vid)
            if v is None or vid > ex._saved["versions"]:
                continue
            mv = _version_marking(ex, vid)
            upd.append({"b_id": vid, "scheduled": vid in sched,
                        "seen": None if v.cause in (BASELINE, SETUP) else _j(_finite(v.seen)), **mv})
        if upd:
            t = exercise_elsets
            conn.execute(update(t).where(t.c.exercise_id == ex.eid, t.c.id == bindparam("b_id"))
                         .values({c: bindparam(c) for c in upd[0] if c != "b_id"}), upd)
        ex._dirty_versions.clear()
        if w.cancelled:
            conn.execute(delete(exercise_elsets).where(exercise_elsets.c.exercise_id == ex.eid,
                                                       exercise_elsets.c.id.in_(list(w.cancelled))))
            w.cancelled = []
        # Objects.
        new_objs = [k for k in w.current if k not in ex._saved["objects"]] if len(w.current) != len(
            ex._saved["objects"]) else []
        if new_objs:
            conn.execute(insert(exercise_objects), [_object_row(ex, k) for k in new_objs])
            ex._saved["objects"].update(new_objs)
        dirty = (ex._dirty_objects | set(w.status_dirty)) - set(new_objs)
        if dirty:
            t = exercise_objects
            rows = []
            for k in sorted(dirty):
                r = _object_row(ex, k)
                rows.append({"b_id": k, "state": r["state"], "since": r["since"], "fail_at": r["fail_at"],
                             "cause": r["cause"]})
            conn.execute(update(t).where(t.c.exercise_id == ex.eid, t.c.norad_id == bindparam("b_id"))
                         .values(state=bindparam("state"), since=bindparam("since"), fail_at=bindparam("fail_at"),
                                 cause=bindparam("cause")), rows)
        ex._dirty_objects.clear()
        w.status_dirty = []
        # Injects.
        for iid in sorted(ex._dirty_injects):
            s = ex.injects[iid]
            conn.execute(update(exercise_injects).where(exercise_injects.c.exercise_id == ex.eid,
                                                        exercise_injects.c.inject_id == iid)
                         .values(status=s.status, fired_at=s.fired_at, result=_j(s.result), error=s.error))
        ex._dirty_injects.clear()
        # Detections (append-only).
        dets = ex.detector.detections[ex._saved["detections"]:]
        if dets:
            conn.execute(insert(exercise_detections), [{
                "id": d.did, "exercise_id": ex.eid, "key": d.key[:160], "kind": d.kind, "severity": d.severity,
                "event_ts": d.ts, "found_ts": d.found_ts, "title": d.title, "detail": _j(d.detail),
                "objects": _j(d.objects), "causes": _j(d.causes), "versions": _j(d.versions),
                "knowable": _j(_finite(d.knowable)),
                "expires": d.expires if math.isfinite(d.expires) else None} for d in dets])
            ex._saved["detections"] += len(dets)
        # Alerts: new, and releases of older ones.
        als = ex.alerts[ex._saved["alerts"]:]
        if als:
            conn.execute(insert(exercise_alerts), [_alert_row(ex, a) for a in als])
            ex._saved["alerts"] += len(als)
        new_aids = {a.aid for a in als}
        for aid in sorted(ex._dirty_alerts - new_aids):
            a = ex.alert_by_id[aid]
            conn.execute(update(exercise_alerts).where(exercise_alerts.c.exercise_id == ex.eid,
                                                       exercise_alerts.c.id == aid).values(**marking_values(a.marking)))
        ex._dirty_alerts.clear()
        msgs = ex.messages[ex._saved["messages"]:]
        if msgs:
            conn.execute(insert(exercise_messages), [{
                "id": m.mid, "exercise_id": ex.eid, "sim_ts": m.sim_ts, "kind": m.kind, "sender": m.sender[:24],
                "recipients": _j(m.recipients), "title": m.title, "body": m.body, "ref": (m.ref or "")[:80] or None,
                "public": m.public, **marking_values(m.marking)} for m in msgs])
            ex._saved["messages"] += len(msgs)
        dels = ex.deliveries[ex._saved["deliveries"]:]
        if dels:
            conn.execute(insert(exercise_deliveries), [{
                "exercise_id": ex.eid, "item_type": d.item_type, "item_id": d.item_id, "nation": d.nation,
                "sim_ts": d.sim_ts, "via": d.via, "by_nation": d.by_nation,
                **marking_values(ex.marking_for([d.nation]))} for d in dels])
            ex._saved["deliveries"] += len(dels)
        acts = ex.actions[ex._saved["actions"]:]
        if acts:
            conn.execute(insert(exercise_actions), [{
                "id": a.aid, "exercise_id": ex.eid, "sim_ts": a.sim_ts, "wall_ts": a.wall_ts, "nation": a.nation,
                "username": a.username, "kind": a.kind, "payload": _j(a.payload), "result": _j(a.result),
                "ok": a.ok, **marking_values(a.marking)} for a in acts])
            ex._saved["actions"] += len(acts)
        for pid in sorted(ex._dirty_proposals):
            p = ex.proposals[pid]
            row = {"sim_ts": p.sim_ts, "proposer": p.proposer, "title": p.title, "options": _j(p.options),
                   "rule": p.rule, "deadline_ts": p.deadline_ts, "members": _j(p.members), "status": p.status,
                   "outcome": p.outcome, "decided_ts": p.decided_ts, "votes": _j(p.votes),
                   **marking_values(p.marking)}
            done = conn.execute(update(exercise_proposals).where(exercise_proposals.c.exercise_id == ex.eid,
                                                                 exercise_proposals.c.id == pid).values(**row))
            if done.rowcount == 0:
                conn.execute(insert(exercise_proposals).values(id=pid, exercise_id=ex.eid, **row))
        ex._dirty_proposals.clear()
        conn.execute(update(exercises).where(exercises.c.id == ex.eid).values(**_exercise_values(ex)))


def current_revision(db: Engine, exercise_id: int) -> int | None:
    with db.connect() as conn:
        r = conn.execute(select(exercises.c.revision).where(exercises.c.id == exercise_id)).first()
    return None if r is None else int(r[0])


def load(db: Engine, exercise_id: int, cls, *, wall: Callable[[], float] = time.time) -> Exercise:
    """Rebuild an exercise from its rows (see the module docstring)."""
    from orbitwatch.errors import NotFound
    from orbitwatch.exercise.clock import ExerciseClock
    from orbitwatch.exercise.scenario import load_scenario
    from orbitwatch.exercise.times import parse_duration

    with db.connect() as conn:
        row = conn.execute(select(exercises).where(exercises.c.id == exercise_id)).first()
        if row is None:
            raise NotFound(f"no exercise {exercise_id}")
        from orbitwatch.exercise.engine import apply_overrides

        sc = load_scenario(row.scenario_name or "scenario", text=row.scenario_text)
        state = json.loads(row.state or "{}")
        apply_overrides(sc, state.get("overrides"))
        sensors = {p.nation: SensorNet(frozenset(p.sensors.regimes), parse_duration(p.sensors.latency),
                                       p.sensors.nudet, frozenset(p.sensors.release_to) - {p.nation})
                   for p in sc.participants if p.nation}
        world = World(row.start_ts, sc.nations, sensors)
        for o in conn.execute(select(exercise_objects).where(exercise_objects.c.exercise_id == exercise_id)):
            world.info[o.norad_id] = ObjectInfo(o.norad_id, o.name or "", o.object_id, o.object_type, o.owner,
                                                o.mass_kg, o.hbr_m)
            st = Status(o.state, o.since, o.cause, o.fail_at)
            if o.fail_at is not None and o.state == "active":
                world._fail_heap.append((o.fail_at, o.norad_id))
            world.status[o.norad_id] = st
        everyone = dict.fromkeys(world.nations, -NEVER)
        held: dict[int, set[str]] = {}
        per_obj: dict[int, list[Version]] = {}
        scheduled: list[Version] = []
        from datetime import UTC, datetime

        for r in conn.execute(select(exercise_elsets).where(exercise_elsets.c.exercise_id == exercise_id)
                              .order_by(exercise_elsets.c.id)):
            es = ElementSet(norad_id=r.norad_id, epoch=datetime.fromtimestamp(r.epoch_ts, UTC),
                            mean_motion=r.mean_motion, eccentricity=r.eccentricity, inclination=r.inclination,
                            raan=r.raan, arg_perigee=r.arg_perigee, mean_anomaly=r.mean_anomaly, bstar=r.bstar,
                            mean_motion_dot=r.mean_motion_dot, mean_motion_ddot=r.mean_motion_ddot,
                            object_name=r.object_name, object_id=r.object_id, original=r.original,
                            source_format="tle" if r.original else "omm")
            seen = dict(everyone) if r.seen is None else {k: float(v) for k, v in json.loads(r.seen).items()}
            v = Version(r.id, r.norad_id, es, r.valid_from, r.cause, seen, r.dv_mps)
            world.by_vid[v.vid] = v
            held[v.vid] = set(nations_from_mask(r.rel_mask)) if r.rel_mask else set()
            if r.scheduled:
                scheduled.append(v)
            else:
                per_obj.setdefault(v.norad_id, []).append(v)
        for k, vs in per_obj.items():
            vs.sort(key=lambda x: (x.valid_from, x.vid))
            world.current[k] = vs[-1]
            if len(vs) > 1:
                world.previous[k] = vs[:-1]
            world.status.setdefault(k, Status())
        world.scheduled = sorted(scheduled, key=lambda x: x.valid_from)
        import heapq as _hq

        _hq.heapify(world._fail_heap)
        world._next_vid = int(state.get("next_vid", max(world.by_vid, default=0) + 1))
        world.roles = {k: int(v) for k, v in state.get("roles", {}).items()}
        world.set_assets({k: [int(x) for x in v] for k, v in state.get("assets", {}).items()})
        world.outages = [Outage(o["nation"], frozenset(o["regimes"]), o["start"], o["end"], o["cause"])
                         for o in state.get("outages", [])]
        ex = cls(sc, row.scenario_text, start_ts=row.start_ts, world=world, wall=wall)
        ex.eid = exercise_id
        ex.overrides = state.get("overrides") or {}
        ex.db = db
        ex.name = row.name
        ex.status = row.status
        ex.revision = int(row.revision)
        ex.clock = ExerciseClock.restore({"sim_ts": row.sim_ts, "mode": row.clock_mode, "rate": row.clock_rate},
                                         wall=wall)
        ex.catalog_info = json.loads(row.catalog or "{}")
        ex.resolved = json.loads(row.resolved or "{}")
        ex.red_fired = state.get("red_fired", {})
        ex.jamming = state.get("jamming", [])
        ex.counters = {k: int(v) for k, v in state.get("counters", {}).items()}
        ex.next_norad = int(state.get("next_norad", 980_000))
        ex.proposal_about = {int(k): set(v) for k, v in state.get("proposal_about", {}).items()}
        ex._held = held
        for vid, v in world.by_vid.items():
            for n, t in v.seen.items():
                if n not in held.get(vid, set()) and math.isfinite(t):
                    ex._obs_heap.append((t, vid, n))
        import heapq

        heapq.heapify(ex._obs_heap)
        for s in conn.execute(select(exercise_injects).where(exercise_injects.c.exercise_id == exercise_id)):
            if s.inject_id in ex.injects:
                res = json.loads(s.result) if s.result else {}
                ex.injects[s.inject_id] = InjectState(s.inject_id, s.status, s.fired_at, res, s.error,
                                                      bool(res.get("forced")))
        dets = []
        for d in conn.execute(select(exercise_detections).where(exercise_detections.c.exercise_id == exercise_id)
                              .order_by(exercise_detections.c.id)):
            dets.append(Detection(d.id, d.key, d.kind, d.severity, d.event_ts, d.found_ts, d.title,
                                  json.loads(d.detail or "{}"), json.loads(d.objects or "[]"),
                                  json.loads(d.causes or "[]"), json.loads(d.versions or "[]"),
                                  json.loads(d.knowable or "{}"), d.expires if d.expires is not None else NEVER))
        ex.detector.restore(dets)
        ex.detector.versions = dict(world.by_vid)
        ex.detector.screened_until = row.sim_ts  # predictions are a cache: screen the look-ahead again
        by_did = {d.did: d for d in dets}
        for a in conn.execute(select(exercise_alerts).where(exercise_alerts.c.exercise_id == exercise_id)
                              .order_by(exercise_alerts.c.id)):
            body = json.loads(a.detail or "{}")
            al = Alert(a.id, a.detection_id, a.kind, a.severity, a.sim_ts, a.nation, a.title, body.get("detail", {}),
                       json.loads(a.causes or "[]"), marking_from_row(a), body.get("objects", []))
            ex.alerts.append(al)
            ex.alert_by_id[al.aid] = al
            if al.detection_id in by_did:
                by_did[al.detection_id].alerted.add(al.nation)
        for m in conn.execute(select(exercise_messages).where(exercise_messages.c.exercise_id == exercise_id)
                              .order_by(exercise_messages.c.id)):
            msg = Message(m.id, m.sim_ts, m.kind, m.sender, json.loads(m.recipients or "[]"), m.title or "",
                          m.body or "", m.ref, bool(m.public), marking_from_row(m))
            ex.messages.append(msg)
            ex.message_by_id[msg.mid] = msg
        for d in conn.execute(select(exercise_deliveries).where(exercise_deliveries.c.exercise_id == exercise_id)
                              .order_by(exercise_deliveries.c.id)):
            ex.deliveries.append(Delivery(d.item_type, d.item_id, d.nation, d.sim_ts, d.via, d.by_nation))
            ex._delivered.setdefault((d.nation, d.item_type, d.item_id), d.sim_ts)
        for a in conn.execute(select(exercise_actions).where(exercise_actions.c.exercise_id == exercise_id)
                              .order_by(exercise_actions.c.id)):
            ex.actions.append(Action(a.id, a.sim_ts, a.wall_ts, a.nation, a.username, a.kind,
                                     json.loads(a.payload or "{}"), json.loads(a.result or "{}"), bool(a.ok),
                                     marking_from_row(a)))
        for p in conn.execute(select(exercise_proposals).where(exercise_proposals.c.exercise_id == exercise_id)
                              .order_by(exercise_proposals.c.id)):
            ex.proposals[p.id] = Proposal(p.id, p.sim_ts, p.proposer, p.title, json.loads(p.options),
                                          p.rule, p.deadline_ts, json.loads(p.members), p.status, p.outcome,
                                          p.decided_ts, json.loads(p.votes or "{}"), marking_from_row(p))
    ex._saved = {"versions": max(world.by_vid, default=0), "detections": len(dets), "alerts": len(ex.alerts),
                 "messages": len(ex.messages), "deliveries": len(ex.deliveries), "actions": len(ex.actions),
                 "objects": set(world.info) | set(world.current)}
    ex._open = [d for d in dets if len(d.alerted) < len(ex.participants)
                and (d.expires == NEVER or d.expires >= ex.sim_ts)]
    world.changed = []
    world.new_objects = []
    return ex
