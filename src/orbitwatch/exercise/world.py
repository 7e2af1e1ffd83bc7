"""The exercise's own simulated world: versioned element sets, object status, sensors and what each
nation holds.

Truth. Every object has a current *version* (an element set valid from a simulated time, with the cause
that produced it: the starting catalogue, an inject, a player's manoeuvre). Injects add versions
(manoeuvres), objects (launches, fragments) and status changes (destroyed, failed); some versions are
scheduled for later (the second burn of an approach). Everything produced is EXERCISE data.

Knowledge. A nation *holds* a version from the time its sensors observe it: at once for its own
satellites (operators know their burns), after its sensor latency when its network covers the object's
regime (LEO/MEO/GEO/HEO, as configured per participant) and no outage is running, or when another nation
releases data to it. Nations without coverage keep predicting from the old version - which is why sharing
matters. The starting catalogue is held by everyone (the public catalogue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sgp4.api import Satrec

from orbitwatch.exercise import astro
from orbitwatch.exercise.catalog import ObjectInfo
from orbitwatch.formats.records import ElementSet, regime_of

BASELINE = "baseline"
SETUP = "setup"
NEVER = math.inf


@dataclass
class Version:
    vid: int
    norad_id: int
    elset: ElementSet
    valid_from: float
    cause: str
    seen: dict[str, float] = field(default_factory=dict)  # nation -> sim time it holds this version
    dv_mps: float | None = None  # the burn that produced it, when it was one
    _sat: Satrec | None = None

    @property
    def regime(self) -> str:
        return regime_of(self.elset.mean_motion, self.elset.eccentricity)

    @property
    def sat(self) -> Satrec:
        if self._sat is None:
            self._sat = astro.satrec_of(self.elset)
        return self._sat

    def held_by(self, nation: str, ts: float) -> bool:
        return self.seen.get(nation, NEVER) <= ts


@dataclass
class Status:
    state: str = "active"  # active | destroyed | failed
    since: float | None = None
    cause: str | None = None
    fail_at: float | None = None  # scheduled failure (radiation dose), when known


@dataclass
class SensorNet:
    regimes: frozenset[str]
    latency_s: float
    nudet: bool
    release_to: frozenset[str]


@dataclass
class Outage:
    nation: str
    regimes: frozenset[str]
    start: float
    end: float
    cause: str


class World:
    """Truth and per-nation knowledge of the simulated space picture."""

    def __init__(self, start_ts: float, nations: list[str], sensors: dict[str, SensorNet]):
        self.start_ts = start_ts
        self.nations = list(nations)
        self.sensors = sensors
        self.info: dict[int, ObjectInfo] = {}
        self.current: dict[int, Version] = {}
        self.previous: dict[int, list[Version]] = {}
        self.scheduled: list[Version] = []
        self.status: dict[int, Status] = {}
        self.outages: list[Outage] = []
        self.assets: dict[str, list[int]] = {}
        self.asset_owner: dict[int, str] = {}
        self.roles: dict[str, int] = {}
        self._next_vid = 1
        self.by_vid: dict[int, Version] = {}
        self.cancelled: list[int] = []  # scheduled versions dropped (for persistence)
        self.changed: list[Version] = []  # versions that became current since the detectors last ran
        self._fail_heap: list[tuple[float, int]] = []
        self.status_dirty: list[int] = []  # objects whose status changed (for persistence)
        self.new_objects: list[int] = []

    # -- building -----------------------------------------------------------------------------------
    def next_vid(self) -> int:
        v = self._next_vid
        self._next_vid += 1
        return v

    def add_baseline(self, elsets: list[ElementSet], info: dict[int, ObjectInfo], *, cause: str = BASELINE
                     ) -> list[Version]:
        out = []
        everyone = dict.fromkeys(self.nations, -NEVER)
        for e in elsets:
            v = Version(self.next_vid(), e.norad_id, e, min(self.start_ts, e.epoch_unix), cause, dict(everyone))
            self.current[e.norad_id] = v
            self.by_vid[v.vid] = v
            self.status.setdefault(e.norad_id, Status())
            if e.norad_id in info:
                self.info[e.norad_id] = info[e.norad_id]
            else:
                self.info.setdefault(e.norad_id, ObjectInfo(e.norad_id, e.object_name or "", e.object_id))
            out.append(v)
        return out

    def set_assets(self, assets: dict[str, list[int]]) -> None:
        self.assets = {n: [i for i in ids if i in self.current] for n, ids in assets.items()}
        self.asset_owner = {}
        for n, ids in self.assets.items():
            for i in ids:
                self.asset_owner.setdefault(i, n)

    @property
    def asset_ids(self) -> list[int]:
        return sorted(self.asset_owner)

    # -- knowledge ----------------------------------------------------------------------------------
    def outage_end(self, nation: str, regime: str, ts: float) -> float | None:
        """End of an outage of ``nation``'s sensors for ``regime`` running at ``ts`` (None if none)."""
        end = None
        for o in self.outages:
            if o.nation == nation and regime in o.regimes and o.start <= ts < o.end:
                end = max(end or o.end, o.end)
        return end

    def observe_times(self, version: Version, *, owner: str | None, latency_scale: float = 1.0
                      ) -> dict[str, float]:
        """When each nation comes to hold a new version (see the module docstring)."""
        t = version.valid_from
        out: dict[str, float] = {}
        for n in self.nations:
            if owner is not None and n == owner:
                out[n] = t
                continue
            net = self.sensors.get(n)
            if net is None or version.regime not in net.regimes:
                continue
            begin = self.outage_end(n, version.regime, t) or t
            out[n] = begin + net.latency_s * latency_scale
        return out

    def owner_nation(self, norad_id: int) -> str | None:
        inf = self.info.get(norad_id)
        return inf.owner_nation if inf else None

    def new_version(self, norad_id: int, elset: ElementSet, valid_from: float, cause: str, *,
                    dv_mps: float | None = None, scheduled: bool = False, latency_scale: float = 1.0) -> Version:
        """Register a new truth version (now, or scheduled for ``valid_from`` in the future)."""
        v = Version(self.next_vid(), norad_id, elset, valid_from, cause, {}, dv_mps)
        self.by_vid[v.vid] = v
        v.seen = self.observe_times(v, owner=self.owner_nation(norad_id), latency_scale=latency_scale)
        if scheduled:
            self.scheduled.append(v)
            self.scheduled.sort(key=lambda x: x.valid_from)
        else:
            self._make_current(v)
        return v

    def _make_current(self, v: Version) -> None:
        old = self.current.get(v.norad_id)
        if old is not None:
            self.previous.setdefault(v.norad_id, []).append(old)
        else:
            self.new_objects.append(v.norad_id)
        self.current[v.norad_id] = v
        self.status.setdefault(v.norad_id, Status())
        self.changed.append(v)

    def add_object(self, elset: ElementSet, info: ObjectInfo, valid_from: float, cause: str, *,
                   latency_scale: float = 1.0) -> Version:
        self.info[elset.norad_id] = info
        return self.new_version(elset.norad_id, elset, valid_from, cause, latency_scale=latency_scale)

    def activate_due(self, ts: float) -> list[Version]:
        """Make scheduled versions whose time has come current."""
        due = [v for v in self.scheduled if v.valid_from <= ts]
        self.scheduled = [v for v in self.scheduled if v.valid_from > ts]
        for v in due:
            if self.is_active(v.norad_id):
                self._make_current(v)
        return due

    def cancel_scheduled(self, norad_id: int) -> None:
        self.cancelled.extend(v.vid for v in self.scheduled if v.norad_id == norad_id)
        self.scheduled = [v for v in self.scheduled if v.norad_id != norad_id]

    def release_version(self, v: Version, nations: list[str], ts: float) -> None:
        for n in nations:
            if v.seen.get(n, NEVER) > ts:
                v.seen[n] = ts

    def view(self, nation: str, norad_id: int, ts: float) -> Version | None:
        """The newest version of an object that ``nation`` holds at ``ts``."""
        cur = self.current.get(norad_id)
        if cur is not None and cur.held_by(nation, ts):
            return cur
        for v in reversed(self.previous.get(norad_id, [])):
            if v.held_by(nation, ts):
                return v
        return None

    # -- status -------------------------------------------------------------------------------------
    def is_active(self, norad_id: int) -> bool:
        st = self.status.get(norad_id)
        return st is None or st.state == "active"

    def destroy(self, norad_id: int, ts: float, cause: str, state: str = "destroyed") -> None:
        st = self.status.setdefault(norad_id, Status())
        if st.state != "active":
            return
        st.state, st.since, st.cause = state, ts, cause
        self.status_dirty.append(norad_id)
        self.cancel_scheduled(norad_id)

    def schedule_failure(self, norad_id: int, fail_at: float, cause: str) -> None:
        import heapq

        st = self.status.setdefault(norad_id, Status())
        if st.state == "active" and (st.fail_at is None or fail_at < st.fail_at):
            st.fail_at, st.cause = fail_at, cause
            heapq.heappush(self._fail_heap, (fail_at, norad_id))
            self.status_dirty.append(norad_id)

    def failures_due(self, ts: float) -> list[int]:
        """Objects whose scheduled failure time has come (now failed)."""
        import heapq

        out = []
        while self._fail_heap and self._fail_heap[0][0] <= ts:
            t, k = heapq.heappop(self._fail_heap)
            st = self.status.get(k)
            if st is not None and st.state == "active" and st.fail_at is not None and st.fail_at <= ts:
                st.state, st.since = "failed", st.fail_at
                self.status_dirty.append(k)
                out.append(k)
        return out

    def active_ids(self) -> list[int]:
        return [k for k in self.current if self.is_active(k)]

    def lost_assets(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for n, ids in self.assets.items():
            out[n] = [i for i in ids if not self.is_active(i)]
        return out

    # -- geometry ------------------------------------------------------------------------------------
    def positions(self, norad_ids: list[int], ts: float) -> tuple[np.ndarray, np.ndarray]:
        """TEME r, v (n, 3) of current versions at ``ts`` (NaN where SGP4 fails)."""
        from orbitwatch.kernels.propagation import jd_of, propagate

        if not norad_ids:
            return np.zeros((0, 3)), np.zeros((0, 3))
        jd, fr = jd_of(astro.dt_of(ts))
        p = propagate([self.current[i].sat for i in norad_ids], np.array([jd]), np.array([fr]))
        return p.r[:, 0, :], p.v[:, 0, :]
