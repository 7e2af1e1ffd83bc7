"""The exercise engine: one exercise, its clock, world, detectors, players and records, kept in the database.

``Exercise.create(engine, scenario_text, catalog)`` resolves the scenario on a catalogue, copies the
catalogue into the exercise (the world is the exercise's own), runs the detectors at STARTEX and stores
everything; ``Exercise.load(engine, id)`` brings it back exactly where it was. ``step``/``advance_to``
move the world in whole steps; ``act`` applies a player action; ``feed`` is what one nation sees.

One step (``t0 → t1``):

1. due injects fire at their own times (dependencies, contingencies), scheduled burns take effect;
2. scripted players (headless runs) act at their times; the red cell reacts; consensus deadlines pass;
3. satellites whose radiation dose runs out fail;
4. the detectors run on the changed world (:mod:`orbitwatch.exercise.detect`) and every nation that now
   holds the data behind a detection gets its own alert, dated when it could first have known
   (auto-shared to the nations its scenario says it shares with);
5. everything new is written to the database in one transaction, with the clock.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from orbitwatch.errors import NotFound, OrbitwatchError, ValidationError
from orbitwatch.exercise import injects as inj_mod
from orbitwatch.exercise.catalog import CatalogSource, resolve
from orbitwatch.exercise.clock import ExerciseClock
from orbitwatch.exercise.consensus import evaluate
from orbitwatch.exercise.detect import Detection, Detector
from orbitwatch.exercise.matching import satisfied
from orbitwatch.exercise.players import ScriptedPlayers
from orbitwatch.exercise.records import Action, Alert, Delivery, InjectState, Message, Proposal
from orbitwatch.exercise.scenario import Scenario, load_scenario
from orbitwatch.exercise.times import iso, parse_duration, parse_time
from orbitwatch.exercise.world import NEVER, SETUP, SensorNet, Version, World
from orbitwatch.markings import Marking


def _start_ts(sc: Scenario, cat: CatalogSource | None, wall: Callable[[], float]) -> float:
    s = sc.exercise.start
    if s == "catalog":
        if cat is None:
            raise ValidationError("start: catalog needs a catalogue", field="exercise.start")
        newest = cat.newest_epoch_ts
        return float(int(newest // 3600 + 1) * 3600)  # the next whole hour after the newest element set
    if s == "now":
        return float(int(wall() // 60) * 60)
    return parse_time(s, None)


class Exercise:
    """A running (or finished) exercise. Build with :meth:`create` or :meth:`load`."""

    def __init__(self, scenario: Scenario, scenario_text: str, *, start_ts: float, world: World,
                 wall: Callable[[], float] = time.time):
        self.scenario = scenario
        self.scenario_text = scenario_text
        self.name = scenario.exercise.name
        self.start_ts = start_ts
        self.end_ts = start_ts + parse_duration(scenario.exercise.duration)
        self.step_s = parse_duration(scenario.exercise.step)
        self.banner = scenario.marking
        self.wall = wall
        self.clock = ExerciseClock(start_ts, "paused", 1.0, wall(), wall)
        self.world = world
        self.detector = Detector(world, lookahead_s=parse_duration(scenario.exercise.lookahead),
                                 conjunction_km=scenario.exercise.conjunction_km,
                                 proximity_rtn_km=scenario.exercise.proximity_rtn_km)
        self.injects: dict[str, InjectState] = {i.id: InjectState(i.id) for i in scenario.msel}
        self.alerts: list[Alert] = []
        self.alert_by_id: dict[int, Alert] = {}
        self.messages: list[Message] = []
        self.message_by_id: dict[int, Message] = {}
        self.deliveries: list[Delivery] = []
        self._delivered: dict[tuple[str, str, int], float] = {}
        self.actions: list[Action] = []
        self.proposals: dict[int, Proposal] = {}
        self.proposal_about: dict[int, set[int]] = {}
        self.red_fired: dict[str, dict] = {}
        self.jamming: list[dict] = []
        self.destroyed_now: dict[int, float] = {}
        self.failed_now: list[int] = []
        self.players: ScriptedPlayers | None = None
        self.status = "ready"
        self.counters: dict[str, int] = {}
        self.next_norad = 0
        self.catalog_info: dict = {}
        self.resolved: dict = {}
        self.eid: int | None = None
        self.overrides: dict = {}
        self.db: Engine | None = None
        self.revision = 0
        self._open: list[Detection] = []
        self._obs_heap: list[tuple[float, int, str]] = []
        self._held: dict[int, set[str]] = {}
        # What the next flush must write.
        self._dirty_versions: set[int] = set()
        self._dirty_objects: set[int] = set()
        self._dirty_injects: set[str] = set()
        self._dirty_alerts: set[int] = set()
        self._dirty_proposals: set[int] = set()
        self._cancelled_versions: set[int] = set()
        self._saved = {"versions": 0, "detections": 0, "alerts": 0, "messages": 0, "deliveries": 0,
                       "actions": 0, "objects": set()}
        self.timings: dict[str, float] = {"inject": 0.0, "detect": 0.0, "alerts": 0.0, "persist": 0.0,
                                          "players": 0.0}

    # ------------------------------------------------------------------------------------------------
    # construction
    @classmethod
    def create(cls, db: Engine, scenario: str | Path, catalog: CatalogSource, *, text: str | None = None,
               created_by: str | None = None, wall: Callable[[], float] = time.time,
               players: ScriptedPlayers | None = None, overrides: dict | None = None,
               name: str | None = None) -> Exercise:
        """Resolve ``scenario`` on ``catalog``, store the new exercise and run the detectors at STARTEX.

        ``overrides`` replaces fields of the scenario's ``exercise`` section (e.g. ``{"step": "30m"}`` for
        a coarse test run); they are stored with the exercise and applied again on load."""
        from orbitwatch.exercise import persist

        if text is None:
            text = Path(scenario).read_text(encoding="utf-8")
        sc = load_scenario(scenario if isinstance(scenario, str | Path) else "scenario", text=text)
        apply_overrides(sc, overrides)
        start = _start_ts(sc, catalog, wall)
        sensors = {}
        for p in sc.participants:
            if p.nation:
                sensors[p.nation] = SensorNet(frozenset(p.sensors.regimes), parse_duration(p.sensors.latency),
                                              p.sensors.nudet, frozenset(p.sensors.release_to) - {p.nation})
        world = World(start, sc.nations, sensors)
        res = resolve(sc, catalog, start)
        world.add_baseline(catalog.elsets, catalog.info)
        for es, info in res.created:
            world.add_baseline([es], {info.norad_id: info}, cause=SETUP)
        world.roles = dict(res.roles)
        world.set_assets(res.assets)
        ex = cls(sc, text, start_ts=start, world=world, wall=wall)
        ex.overrides = dict(overrides or {})
        if name:
            ex.name = name
        ex.players = players
        ex.catalog_info = catalog.as_dict()
        ex.resolved = res.as_dict()
        ex.next_norad = max([980_000] + [k + 1 for k in world.current if k >= 980_000])
        for v in world.current.values():
            ex._held[v.vid] = set(world.nations)
        ex.detector.register_versions(list(world.current.values()))
        world.changed = []
        world.new_objects = []
        ex.db = db
        persist.create(db, ex, created_by=created_by)
        # STARTEX: injects dated at or before it, then what the detectors see in the starting picture.
        ex._fire_due_injects(start, floor=-NEVER)
        ex._detect_and_alert(start)
        if ex.players is not None:
            ex.players.schedule(ex)
        ex.flush()
        return ex

    @classmethod
    def load(cls, db: Engine, exercise_id: int, *, wall: Callable[[], float] = time.time,
             players: ScriptedPlayers | None = None) -> Exercise:
        from orbitwatch.exercise import persist

        ex = persist.load(db, exercise_id, cls, wall=wall)
        ex.players = players
        if players is not None:
            players.schedule(ex)
        return ex

    # ------------------------------------------------------------------------------------------------
    # ids, seeds
    def next_id(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def allocate_ids(self, n: int) -> int:
        base = self.next_norad
        self.next_norad += max(1, n)
        return base

    def seed_for(self, key: str) -> int:
        h = hashlib.sha256(f"{self.scenario.exercise.seed}:{key}".encode()).digest()
        return int.from_bytes(h[:4], "little")

    @property
    def sim_ts(self) -> float:
        return self.clock.sim_ts

    @property
    def participants(self) -> list[str]:
        return list(self.scenario.nations)

    # ------------------------------------------------------------------------------------------------
    # markings
    def marking_for(self, nations) -> Marking:
        rel = frozenset(nations) & frozenset(self.participants) or frozenset(nations)
        return Marking(self.banner.classification, rel, "EXERCISE", None, frozenset())

    def public_marking(self) -> Marking:
        return Marking(self.banner.classification if self.banner.classification == "UNCLASSIFIED" else "UNCLASSIFIED",
                       frozenset(self.participants), "EXERCISE", "CLEAR", frozenset())

    # ------------------------------------------------------------------------------------------------
    # feeds
    def deliver(self, item_type: str, item_id: int, nation: str, ts: float, via: str, by: str | None = None) -> bool:
        key = (nation, item_type, item_id)
        if key in self._delivered:
            return False
        self._delivered[key] = ts
        self.deliveries.append(Delivery(item_type, item_id, nation, ts, via, by))
        return True

    def delivered(self, nation: str, item_type: str, item_id: int, ts: float | None = None) -> bool:
        t = self._delivered.get((nation, item_type, item_id))
        return t is not None and (ts is None or t <= ts)

    def post_message(self, kind: str, *, sender: str, recipients: list[str], title: str, body: str,
                     ref: str | None, ts: float, marking_text: str | None = None, public: bool = False) -> Message:
        if public:
            marking = self.public_marking()
            to = list(self.participants)
        else:
            to = [n for n in recipients if n in self.participants]
            marking = Marking.parse(marking_text) if marking_text else self.marking_for(to or [sender])
            if marking_text:
                to = [n for n in to if n in marking.rel_to]
        m = Message(self.next_id("message"), ts, kind, sender, recipients if not public else ["PUBLIC"], title,
                    body, ref, public, marking)
        self.messages.append(m)
        self.message_by_id[m.mid] = m
        for n in to:
            self.deliver("message", m.mid, n, ts, "message", sender if sender in self.participants else None)
        return m

    def add_proposal(self, pr: Proposal) -> None:
        pr.marking = self.marking_for(pr.members)
        self.proposals[pr.pid] = pr
        self._dirty_proposals.add(pr.pid)
        for n in pr.members:
            self.deliver("proposal", pr.pid, n, pr.sim_ts, "proposal", pr.proposer)

    def record_vote(self, pr: Proposal, nation: str, vote: dict) -> None:
        pr.votes[nation] = vote
        self._dirty_proposals.add(pr.pid)
        self._decide(pr, vote["sim_ts"])

    def _decide(self, pr: Proposal, now: float) -> None:
        status, outcome, when = evaluate(pr, now)
        if status == "open":
            return
        pr.status, pr.outcome, pr.decided_ts = status, outcome, when
        self._dirty_proposals.add(pr.pid)
        opt = pr.option(outcome) if outcome else None
        text = f"Proposal '{pr.title}' {status}" + (f": {opt['text']}" if opt else "")
        self.post_message("decision", sender="COALITION", recipients=pr.members, title=text, body=text,
                          ref=f"proposal:{pr.pid}", ts=when)
        if status == "adopted" and opt is not None and opt.get("public"):
            self.post_message("statement", sender="COALITION", recipients=["PUBLIC"],
                              title=f"Joint statement: {opt['text']}", body=opt["text"], ref=f"proposal:{pr.pid}",
                              ts=when, public=True)

    def release_alert(self, al: Alert, to: list[str], *, by: str, ts: float) -> list[str]:
        added = [n for n in to if n not in al.marking.rel_to]
        if added:
            al.marking = al.marking.widened(added)
            self._dirty_alerts.add(al.aid)
        for n in to:
            self.deliver("alert", al.aid, n, ts, "release", by)
        # The element sets behind the product go with it, so the recipients' own tools can use them.
        d = self.detector.by_key.get(next((x.key for x in self.detector.detections if x.did == al.detection_id), ""))
        if d is not None:
            for vid in d.versions:
                v = self.detector.versions.get(vid)
                if v is not None and v.held_by(by, ts):
                    self.world.release_version(v, to, ts)
                    self.observation_changed(v)
        return added

    def observation_changed(self, v: Version) -> None:
        for n, t in v.seen.items():
            if n not in self._held.get(v.vid, set()):
                heapq.heappush(self._obs_heap, (t, v.vid, n))

    # ------------------------------------------------------------------------------------------------
    # actions
    def act(self, nation: str, kind: str, payload: dict | None = None, *, username: str | None = None,
            ts: float | None = None, script_key: str | None = None) -> Action:
        """Perform and log one action now (or at ``ts`` within the current step). Refusals raise and are
        logged as failed actions."""
        from orbitwatch.exercise.actions import perform

        payload = dict(payload or {})
        if script_key:
            payload["script_key"] = script_key
        ts = self.sim_ts if ts is None else ts
        if self.status == "ended":
            raise ValidationError("the exercise has ended (ENDEX)", field="exercise")
        ok = True
        try:
            result = perform(self, nation, kind, payload, ts)
        except OrbitwatchError as exc:
            ok = False
            result = {"error": str(exc), "type": type(exc).__name__}
            err = exc
        else:
            err = None
        public = bool(payload.get("public")) and kind in ("notify", "demarche") and ok
        marking = self.public_marking() if public else self.marking_for([nation])
        a = Action(self.next_id("action"), ts, self.wall(), nation, username, kind, payload, result, ok, marking)
        self.actions.append(a)
        if ok:
            # Element sets released or tasked now are held now (red-cell reactions wait for the next step).
            self._update_holders(ts)
        if err is not None and script_key is None:
            self.flush()
            raise err
        return a

    # ------------------------------------------------------------------------------------------------
    # stepping
    def advance_to(self, target_ts: float, *, max_steps: int | None = None) -> int:
        """Advance in whole steps while a full step fits before ``target_ts`` (and ENDEX)."""
        n = 0
        while self.status != "ended" and self.sim_ts + self.step_s <= min(target_ts, self.end_ts) + 1e-6:
            self._step_once()
            n += 1
            if max_steps is not None and n >= max_steps:
                break
        if self.status != "ended" and self.sim_ts >= self.end_ts - 1e-6:
            self._end()
            self.flush()
        return n

    def step(self, n: int = 1) -> int:
        return self.advance_to(self.sim_ts + n * self.step_s)

    def catch_up(self) -> int:
        """In real-time/accelerated mode, advance to where the clock says it is."""
        if not self.clock.running or self.status == "ended":
            return 0
        return self.advance_to(self.clock.target())

    def run(self, *, until: float | None = None, progress: Callable[[Exercise], None] | None = None) -> int:
        """Headless: step to ``until`` (default ENDEX)."""
        n = 0
        target = self.end_ts if until is None else min(until, self.end_ts)
        while self.status != "ended" and self.sim_ts + self.step_s <= target + 1e-6:
            n += self.advance_to(self.sim_ts + self.step_s)
            if progress is not None:
                progress(self)
        if self.sim_ts >= self.end_ts - 1e-6 and self.status != "ended":
            self._end()
            self.flush()
        return n

    def _end(self) -> None:
        self.status = "ended"
        self.clock.set_mode("paused")
        self.post_message("news", sender="WHITE", recipients=list(self.participants), title="ENDEX",
                          body="End of exercise.", ref="ENDEX", ts=self.sim_ts)

    def _step_once(self) -> None:
        t0 = self.sim_ts
        t1 = min(t0 + self.step_s, self.end_ts)
        if self.status == "ready":
            self.status = "running"
        c0 = time.perf_counter()
        self._fire_due_injects(t1)
        self.timings["inject"] += time.perf_counter() - c0
        c0 = time.perf_counter()
        if self.players is not None:
            for ts, nation, key, payload in self.players.due(self, t1):
                kind = payload.pop("action")
                self.act(nation, kind, payload, ts=max(ts, t0), script_key=key, username="script")
        self.timings["players"] += time.perf_counter() - c0
        c0 = time.perf_counter()
        self._red_cell(t1)
        for pr in list(self.proposals.values()):
            if pr.status == "open":
                self._decide(pr, t1)
        self._fire_due_injects(t1)  # injects released by red-cell rules or actions
        self.timings["inject"] += time.perf_counter() - c0
        failed = self.world.failures_due(t1) + self.failed_now
        self.failed_now = []
        for k in failed:
            self._dirty_objects.add(k)
        self.clock.advanced_to(t1)
        self._detect_and_alert(t1, failed=failed)
        if self.players is not None:
            self.players.schedule(self)
        self.flush()

    def _fire_due_injects(self, t1: float, floor: float | None = None) -> None:
        """Fire every pending inject due by ``t1`` (at its own time, not before ``floor``: by default
        the start of the current step)."""
        floor = self.sim_ts if floor is None else floor
        for _ in range(len(self.scenario.msel) + 1):
            due = []
            for inj in self.scenario.msel:
                st = self.injects[inj.id]
                if st.status != "pending":
                    continue
                if inj.after and inj_mod.dependencies_dead(self, inj):
                    st.status, st.error = "cancelled", "a dependency did not fire"
                    self._dirty_injects.add(inj.id)
                    continue
                t = inj_mod.due_time(self, inj)
                if t is not None and t <= t1:
                    due.append((t, inj))
            if not due:
                return
            due.sort(key=lambda x: x[0])
            for t, inj in due:
                self._fire(inj, max(t, floor))

    def _fire(self, inj, ts: float, *, forced: bool = False) -> None:
        st = self.injects[inj.id]
        self._dirty_injects.add(inj.id)
        if inj.contingency is not None and not forced:
            deadline = parse_time(inj.contingency.by, self.start_ts)
            if satisfied(self, inj.contingency.expected, until=deadline):
                st.status, st.error = "cancelled", "the expected action happened in time"
                return
        self.world.activate_due(ts)
        try:
            st.result = inj_mod.fire(self, inj, ts)
            if forced:
                st.result["forced"] = True
            st.status, st.fired_at, st.forced = "fired", ts, forced
        except OrbitwatchError as exc:
            st.status, st.fired_at, st.error = "failed", ts, str(exc)

    def fire_inject(self, inject_id: str) -> InjectState:
        """White cell: fire a pending inject now (recorded as forced, like a red-cell rule); the detectors
        see its effects at the next step."""
        inj = self.scenario.inject(inject_id)
        if inj is None:
            raise NotFound(f"inject {inject_id} not found")
        st = self.injects[inject_id]
        if st.status != "pending":
            raise ValidationError(f"inject {inject_id} is {st.status}, not pending", field="inject")
        self._fire(inj, self.sim_ts, forced=True)
        self._update_holders(self.sim_ts)
        self.flush()
        return st

    def _red_cell(self, t1: float) -> None:
        from orbitwatch.exercise import redcell

        for rule_id, t, fire, cancel in redcell.evaluate(self, t1):
            live_fire = [i for i in fire if self.injects.get(i) and self.injects[i].status == "pending"]
            live_cancel = [i for i in cancel if self.injects.get(i) and self.injects[i].status == "pending"]
            self.red_fired[rule_id] = {"time": t, "fire": live_fire, "cancel": live_cancel,
                                       "result": "acted" if (live_fire or live_cancel) else "no effect"}
            for i in cancel:
                st = self.injects.get(i)
                if st is not None and st.status == "pending":
                    st.status, st.error = "cancelled", f"red cell rule {rule_id}"
                    self._dirty_injects.add(i)
            for i in fire:
                st = self.injects.get(i)
                if st is not None and st.status == "pending":
                    self._fire(self.scenario.inject(i), max(t, self.sim_ts), forced=True)

    # ------------------------------------------------------------------------------------------------
    # detection and alerts
    def _detect_and_alert(self, now: float, *, failed: list[int] | None = None) -> None:
        w = self.world
        c0 = time.perf_counter()
        activated = w.activate_due(now)
        for v in activated:
            self._dirty_versions.add(v.vid)
        changed = list(w.changed)
        w.changed = []
        for v in changed:
            self.observation_changed(v)
        destroyed = dict(self.destroyed_now)
        self.destroyed_now = {}
        for k in destroyed:
            self._dirty_objects.add(k)
        new = self.detector.run(now, changed, destroyed)
        if failed:
            n0 = len(self.detector.detections)
            self.detector.failures(failed, now)
            new = new + self.detector.detections[n0:]
        # Effects detections added directly by injects since the last step are open too.
        known = {d.did for d in self._open}
        for d in self.detector.detections:
            if d.did not in known and not d.alerted and d.found_ts <= now and d not in new:
                new.append(d)
        self._open.extend(d for d in new if d.did not in known)
        self.timings["detect"] += time.perf_counter() - c0
        c0 = time.perf_counter()
        self._update_holders(now)
        self._raise_alerts(now)
        self.timings["alerts"] += time.perf_counter() - c0

    def _update_holders(self, now: float) -> None:
        while self._obs_heap and self._obs_heap[0][0] <= now:
            _, vid, n = heapq.heappop(self._obs_heap)
            v = self.detector.versions.get(vid)
            if v is None or v.seen.get(n, NEVER) > now:
                continue
            held = self._held.setdefault(vid, set())
            if n not in held:
                held.add(n)
                self._dirty_versions.add(vid)

    def _raise_alerts(self, now: float) -> None:
        keep = []
        nations = self.participants
        for d in self._open:
            for n in nations:
                if n in d.alerted:
                    continue
                kt = d.know_time(n, self.detector.versions)
                if kt > now:
                    continue
                t_alert = max(kt, d.available_ts if d.available_ts is not None else d.found_ts)
                if t_alert > d.expires:
                    d.alerted.add(n)  # learnt of it only after it was over: nothing to alert
                    continue
                self._alert(d, n, t_alert)
            if len(d.alerted) < len(nations) and (d.expires == NEVER or d.expires >= now):
                keep.append(d)
        self._open = keep

    def _alert(self, d: Detection, nation: str, ts: float) -> Alert:
        net = self.world.sensors.get(nation)
        share = sorted(net.release_to) if net else []
        marking = self.marking_for([nation, *share])
        al = Alert(self.next_id("alert"), d.did, d.kind, d.severity, ts, nation, d.title, d.detail, d.causes,
                   marking, list(d.objects))
        d.alerted.add(nation)
        self.alerts.append(al)
        self.alert_by_id[al.aid] = al
        self.deliver("alert", al.aid, nation, ts, "own")
        for n in share:
            if n in self.participants:
                self.deliver("alert", al.aid, n, ts, "auto-share", nation)
        return al

    # ------------------------------------------------------------------------------------------------
    # persistence
    def flush(self) -> None:
        if self.db is None:
            return
        from orbitwatch.exercise import persist

        c0 = time.perf_counter()
        persist.flush(self.db, self)
        self.timings["persist"] += time.perf_counter() - c0

    def set_clock(self, mode: str, rate: float | None = None) -> None:
        self.clock.set_mode(mode, rate)
        self.flush()

    # ------------------------------------------------------------------------------------------------
    # views
    def status_dict(self) -> dict:
        return {
            "id": self.eid, "name": self.name, "status": self.status, "marking": str(self.banner),
            "start": iso(self.start_ts), "end": iso(self.end_ts), "sim_time": iso(self.sim_ts),
            "elapsed_h": round((self.sim_ts - self.start_ts) / 3600.0, 3), "step_s": self.step_s,
            "clock": {"mode": self.clock.mode, "rate": self.clock.rate},
            "participants": self.participants, "catalog": self.catalog_info,
            "injects": {k: v.status for k, v in self.injects.items()},
            "counts": {"objects": len(self.world.current), "alerts": len(self.alerts), "messages": len(self.messages),
                       "actions": len(self.actions), "proposals": len(self.proposals),
                       "detections": len(self.detector.detections)},
            "roles": self.world.roles, "revision": self.revision,
        }

    def feed(self, nation: str, *, since: float | None = None) -> list[dict]:
        """Everything delivered to ``nation`` (alerts, messages, proposals), oldest first."""
        out = []
        for d in self.deliveries:
            if d.nation != nation or (since is not None and d.sim_ts <= since):
                continue
            item: dict
            if d.item_type == "alert":
                item = self.alert_by_id[d.item_id].as_dict()
            elif d.item_type == "message":
                item = self.message_by_id[d.item_id].as_dict()
            else:
                item = self.proposals[d.item_id].as_dict()
            out.append({"type": d.item_type, "received": iso(d.sim_ts), "via": d.via, "from": d.by_nation,
                        "item": item})
        return out

    def truth(self) -> dict:
        """The white cell's picture: injects, detections, red cell."""
        return {"injects": [s.as_dict() for s in self.injects.values()],
                "detections": [d.as_dict() for d in self.detector.detections],
                "red_cell": self.red_fired, "jamming": [dict(j) for j in self.jamming],
                "lost": self.world.lost_assets(), "detector": self.detector.stats(), "timings": self.timings}

    def to_json(self) -> str:
        return json.dumps(self.status_dict(), default=str)


def apply_overrides(sc: Scenario, overrides: dict | None) -> None:
    """Replace fields of the scenario's ``exercise`` section, validated like the file itself."""
    if not overrides:
        return
    from orbitwatch.exercise.scenario import ExerciseMeta

    merged = {**sc.exercise.model_dump(by_alias=True), **overrides}
    sc.exercise = ExerciseMeta.model_validate(merged)


def find_exercise(db: Engine, ref: str | int) -> int:
    """Exercise id from an id or a name (the newest exercise of that name)."""
    from sqlalchemy import select

    from orbitwatch.store.schema_exercise import exercises

    with db.connect() as conn:
        if isinstance(ref, int) or str(ref).isdigit():
            row = conn.execute(select(exercises.c.id).where(exercises.c.id == int(ref))).first()
        else:
            row = conn.execute(select(exercises.c.id).where(exercises.c.name == str(ref))
                               .order_by(exercises.c.id.desc())).first()
    if row is None:
        raise NotFound(f"no exercise {ref!r} in this database")
    return int(row[0])
