"""The detectors that run on their own at every exercise step, and the detections they produce.

Players should discover a hostile approach from detections, not from scripted messages, so every step:

* **screening** (:mod:`orbitwatch.exercise.screening`) keeps close-approach predictions between the
  assets and the catalogue up to ``now + lookahead``, extending the window chunk by chunk and
  re-screening only the objects whose element sets changed (and only from the change onwards);
* **proximity (RPO)**: a foreign object inside an asset's RTN ellipsoid (default 10 × 50 × 10 km) -
  ``DETECTED`` the first time a pair is seen, ``UPDATED`` when new element sets change the prediction;
  ``sustained`` when the approach lasts more than an hour at low relative speed (co-orbital);
* **conjunctions**: any object passing within ``conjunction_km`` of an asset;
* **manoeuvres**: an object's new element set differs from the prediction of its previous one (the
  impulse is estimated from the velocity change at the new epoch, in the object's RTN frame);
* **breakups and launches**: new objects sharing the designator of an existing object (a breakup,
  parent identified) or of none (a launch);
* effects report **nuclear detonations**, **failed assets**, **jamming** and **sensor outages** here too.

A *detection* is the truth of an event; a nation learns of it when it holds every element set the
detection was computed from (see :mod:`orbitwatch.exercise.world`) or, for effects, at the time its
sensors would register it. The engine turns that into per-nation alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orbitwatch.exercise import astro
from orbitwatch.exercise.screening import Encounter, Obj, knot_bounds, screen
from orbitwatch.exercise.times import iso
from orbitwatch.exercise.world import NEVER, Version, World
from orbitwatch.formats.records import OWNER_CODE_TO_TRIGRAPH

SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass
class Detection:
    did: int
    key: str
    kind: str
    severity: str
    ts: float  # when the event happens (TCA, burn, breakup...)
    found_ts: float  # simulated time the detectors found it
    title: str
    detail: dict
    objects: list[int]
    causes: list[str]
    versions: list[int] = field(default_factory=list)
    knowable: dict[str, float] = field(default_factory=dict)
    expires: float = NEVER
    alerted: set[str] = field(default_factory=set)
    available_ts: float | None = None  # when the data behind it existed (alerts are dated from here)

    def know_time(self, nation: str, world_versions: dict[int, Version]) -> float:
        """When ``nation`` can first know of this detection (inf: not with what it holds)."""
        t = self.knowable.get(nation, -NEVER if self.versions else NEVER)
        for vid in self.versions:
            v = world_versions.get(vid)
            t = max(t, NEVER if v is None else v.seen.get(nation, NEVER))
        return max(t, self.found_ts)

    def as_dict(self) -> dict:
        return {"id": self.did, "key": self.key, "kind": self.kind, "severity": self.severity,
                "time": iso(self.ts), "found": iso(self.found_ts), "title": self.title, "detail": self.detail,
                "objects": self.objects, "causes": self.causes}


def _is_partner(owner_code: str | None) -> bool:
    return bool(owner_code) and owner_code.strip().upper() in OWNER_CODE_TO_TRIGRAPH


class Detector:
    """Incremental detection over a :class:`World` (see the module docstring)."""

    def __init__(self, world: World, *, lookahead_s: float, conjunction_km: float,
                 proximity_rtn_km: tuple[float, float, float], chunk_s: float = 6 * 3600.0,
                 sample_s: float = 120.0, knot_s: float = 300.0, engine_screen=None):
        self.world = world
        self.lookahead_s = lookahead_s
        self.conjunction_km = conjunction_km
        self.rtn_axes = tuple(proximity_rtn_km)
        self.radius_km = conjunction_km
        self.slow_radius_km = max(proximity_rtn_km)
        self.chunk_s = chunk_s
        self.sample_s = sample_s
        self.knot_s = knot_s
        self.screened_until: float | None = None
        self.encounters: list[Encounter] = []
        self.detections: list[Detection] = []
        self.by_key: dict[str, Detection] = {}
        self.versions: dict[int, Version] = {}
        self._bounds: dict[int, float] = {}
        self._next_did = 1
        self.screen_seconds = 0.0
        self.screened_pairs_windows = 0
        self.engine_screen = engine_screen
        self._prox_pairs: set[tuple[int, int]] = set()

    # -- bookkeeping ---------------------------------------------------------------------------------
    def register_versions(self, versions: list[Version]) -> None:
        for v in versions:
            self.versions[v.vid] = v
        missing = [v for v in versions if v.vid not in self._bounds]
        if missing:
            b = knot_bounds([v.elset for v in missing], self.knot_s)
            for v, x in zip(missing, b, strict=True):
                self._bounds[v.vid] = float(x)

    def add(self, kind: str, key: str, *, severity: str, ts: float, found_ts: float, title: str, detail: dict,
            objects: list[int], causes: list[str], versions: list[int] | None = None,
            knowable: dict[str, float] | None = None, expires: float = NEVER,
            available_ts: float | None = None) -> Detection | None:
        if key in self.by_key:
            return None
        d = Detection(self._next_did, key, kind, severity, ts, found_ts, title, detail, list(objects),
                      sorted(set(c for c in causes if c)), list(versions or []), dict(knowable or {}), expires,
                      available_ts=found_ts if available_ts is None else min(available_ts, found_ts))
        self._next_did += 1
        self.detections.append(d)
        self.by_key[key] = d
        return d

    def restore(self, detections: list[Detection]) -> None:
        for d in detections:
            self.detections.append(d)
            self.by_key[d.key] = d
            self._next_did = max(self._next_did, d.did + 1)
            if d.kind == "proximity":
                self._prox_pairs.add((d.objects[0], d.objects[1]))

    def _obj(self, norad_id: int) -> Obj:
        v = self.world.current[norad_id]
        if v.vid not in self._bounds:
            self.register_versions([v])
        return Obj(norad_id, v.sat, v.elset, self._bounds[v.vid])

    def _screen(self, prim: list[int], sec: list[int], t_a: float, t_b: float) -> list[Encounter]:
        import time

        if not prim or not sec or t_b <= t_a:
            return []
        t0 = time.perf_counter()
        out: list[Encounter] = []
        t = t_a
        while t < t_b:
            te = min(t_b, t + self.chunk_s)
            if self.engine_screen is not None:
                out.extend(self.engine_screen(self.world, prim, sec, t, te, self.radius_km))
            else:
                out.extend(screen([self._obj(i) for i in prim], [self._obj(i) for i in sec], t, te,
                                  self.radius_km, sample_s=self.sample_s, knot_s=self.knot_s,
                                  slow_radius_km=self.slow_radius_km))
            t = te
        self.screen_seconds += time.perf_counter() - t0
        return out

    # -- one step --------------------------------------------------------------------------------------
    def run(self, now: float, changed: list[Version], destroyed: dict[int, float]) -> list[Detection]:
        """Update predictions and detections up to ``now``; returns the detections found this step."""
        w = self.world
        self.register_versions(changed)
        new: list[Detection] = []
        start_n = len(self.detections)
        assets = [a for a in w.asset_ids if w.is_active(a)]
        # Destroyed objects: drop their predictions after the event.
        if destroyed:
            self.encounters = [e for e in self.encounters
                               if not ((e.primary in destroyed and e.tca > destroyed[e.primary])
                                       or (e.secondary in destroyed and e.tca > destroyed[e.secondary]))]
        fresh: list[Encounter] = []
        if self.screened_until is None:
            self.screened_until = now
        # Changed objects: forget their predictions from the change on, screen them again.
        if changed:
            tc_of: dict[int, float] = {}
            for v in changed:
                tc_of[v.norad_id] = min(tc_of.get(v.norad_id, NEVER), v.valid_from)
            self.encounters = [e for e in self.encounters
                               if not ((e.primary in tc_of and e.end >= tc_of[e.primary])
                                       or (e.secondary in tc_of and e.end >= tc_of[e.secondary]))]
            active = set(w.active_ids())
            ch_assets = sorted(k for k in tc_of if k in w.asset_owner and k in active)
            ch_other = sorted(k for k in tc_of if k not in w.asset_owner and k in active)
            t_from = min(tc_of.values())
            if ch_other and assets:
                fresh += self._screen(assets, ch_other, t_from, self.screened_until)
            if ch_assets:
                fresh += self._screen(ch_assets, sorted(active), t_from, self.screened_until)
        # Extend the window.
        # Extend the window a whole chunk at a time (screening the catalogue has a fixed cost per call).
        horizon = now + self.lookahead_s
        if self.screened_until < horizon:
            all_active = sorted(w.active_ids())
            until = horizon + self.chunk_s
            fresh += self._screen(assets, all_active, self.screened_until, until)
            self.screened_until = until
        self.encounters.extend(fresh)
        self.screened_pairs_windows += len(fresh)
        self._events_from_encounters(fresh, now)
        self._manoeuvres(changed, now)
        self._new_objects(now)
        new = self.detections[start_n:]
        return new

    # -- detectors -------------------------------------------------------------------------------------
    def _foreign(self, other: int) -> bool:
        """Could ``other`` conduct proximity operations against an allied asset? Objects of the ten
        partners are not watched against each other; debris and rocket bodies cannot manoeuvre; anything
        else (other states' payloads, unknown owners or types) is watched."""
        oi = self.world.info.get(other)
        if oi is not None and (oi.object_type or "").upper() in ("DEBRIS", "ROCKET BODY"):
            return False
        return not _is_partner(oi.owner if oi else None)

    def _causes(self, *vids: int) -> list[str]:
        out = []
        for vid in vids:
            v = self.versions.get(vid)
            if v is not None and v.cause not in ("baseline", "setup"):
                out.append(v.cause)
        return out

    def _manoeuvre_history(self, norad_id: int, since: float) -> list[dict]:
        out = []
        for v in self.world.previous.get(norad_id, []) + [self.world.current[norad_id]]:
            if v.dv_mps is not None and v.valid_from >= since:
                out.append({"time": iso(v.valid_from), "dv_mps": round(v.dv_mps, 3), "cause": v.cause})
        return out

    def _events_from_encounters(self, encs: list[Encounter], now: float) -> None:
        w = self.world
        for e in sorted(encs, key=lambda x: x.tca):
            asset, other = e.primary, e.secondary
            va, vo = w.current.get(asset), w.current.get(other)
            if va is None or vo is None:
                continue
            self.register_versions([va, vo])
            name_a = w.info[asset].name if asset in w.info else str(asset)
            name_o = w.info[other].name if other in w.info else str(other)
            causes = self._causes(va.vid, vo.vid)
            avail = max(va.valid_from, vo.valid_from, e.tca - self.lookahead_s, e.start - self.lookahead_s)
            base = {"asset": asset, "asset_name": name_a, "object": other, "object_name": name_o,
                    "tca": iso(e.tca), "closest_km": round(e.miss_km, 3), "rtn_km": [round(x, 3) for x in e.rtn_km],
                    "relative_speed_kms": round(e.rel_speed_kms, 4), "asset_owner": w.asset_owner.get(asset)}
            if e.miss_km <= self.conjunction_km and not e.slow:
                sev = "high" if e.miss_km < 1.0 else "medium"
                self.add("conjunction", f"conj:{asset}:{other}:{int(e.tca // 60)}", severity=sev, ts=e.tca,
                         found_ts=now, title=f"Conjunction: {name_o} passes {e.miss_km:.2f} km from {name_a}",
                         detail=base, objects=[asset, other], causes=causes, versions=[va.vid, vo.vid],
                         expires=e.tca, available_ts=avail)
            foreign = self._foreign(other)
            if foreign and e.inside_rtn(self.rtn_axes) and (e.slow or e.rel_speed_kms < 1.0):
                pair = (asset, other)
                state = "UPDATED" if pair in self._prox_pairs else "DETECTED"
                sustained = e.slow and (e.end - e.start) >= 3600.0
                history = self._manoeuvre_history(other, now - 72 * 3600.0)
                sev = "high" if (e.miss_km < 5.0 or history) else "medium"
                detail = dict(base, state=state, sustained=sustained, window=[iso(e.start), iso(e.end)],
                              manoeuvres=history, dv_to_close_mps=round(e.rel_speed_kms * 1000.0, 2))
                d = self.add("proximity", f"prox:{asset}:{other}:{va.vid}:{vo.vid}", severity=sev, ts=e.tca,
                             found_ts=now, title=f"Proximity ({state}): {name_o} within {e.miss_km:.2f} km of "
                                                 f"{name_a}", detail=detail, objects=[asset, other], causes=causes,
                             versions=[va.vid, vo.vid], expires=e.end, available_ts=avail)
                if d is not None:
                    self._prox_pairs.add(pair)

    def _manoeuvres(self, changed: list[Version], now: float) -> None:
        w = self.world
        for v in changed:
            prev = w.previous.get(v.norad_id)
            if not prev:
                continue
            old = prev[-1]
            t = v.valid_from
            try:
                r0, v0 = astro.sgp4_state(old.sat, t)
                r1, v1 = astro.sgp4_state(v.sat, t)
            except Exception:  # noqa: BLE001 - a decayed prediction: nothing to compare
                continue
            dv = (v1 - v0)
            rtn = astro.rtn_basis(r0, v0) @ dv * 1000.0
            mag = float(np.linalg.norm(rtn))
            dr = float(np.linalg.norm(r1 - r0))
            if mag < 0.05 and dr < 1.0:
                continue  # below what element sets resolve
            plane = "out-of-plane" if abs(rtn[2]) > 0.7 * mag else ("both" if abs(rtn[2]) > 0.2 * mag else "in-plane")
            da = v.elset.semi_major_axis_km - old.elset.semi_major_axis_km
            di = v.elset.inclination - old.elset.inclination
            inf = w.info.get(v.norad_id)
            name = inf.name if inf else str(v.norad_id)
            owner_code = inf.owner if inf else None
            foreign = not _is_partner(owner_code)
            near = [e for e in self.encounters if e.secondary == v.norad_id and e.tca >= t
                    and e.inside_rtn(self.rtn_axes)]
            sev = "high" if (foreign and near) else ("medium" if foreign else "info")
            detail = {"object": v.norad_id, "object_name": name, "owner": owner_code, "epoch": iso(t),
                      "kind": plane, "delta_v_mps": round(mag, 3), "dv_rtn_mps": [round(float(x), 3) for x in rtn],
                      "delta_a_km": round(da, 3), "delta_i_deg": round(di, 5), "position_jump_km": round(dr, 3),
                      "approaching_assets": sorted({e.primary for e in near})}
            self.add("manoeuvre", f"man:{v.norad_id}:{v.vid}", severity=sev, ts=t, found_ts=now,
                     title=f"Manoeuvre: {name} ({owner_code or 'unknown owner'}) Δv ≈ {mag:.2f} m/s ({plane})",
                     detail=detail, objects=[v.norad_id] + detail["approaching_assets"], causes=self._causes(v.vid),
                     versions=[old.vid, v.vid], available_ts=t)

    def _new_objects(self, now: float) -> None:
        w = self.world
        if not w.new_objects:
            return
        groups: dict[str, list[int]] = {}
        for k in w.new_objects:
            inf = w.info.get(k)
            desig = (inf.object_id or "")[:8] if inf else ""
            groups.setdefault(desig or f"#{k}", []).append(k)
        w.new_objects = []
        existing: dict[str, int] = {}
        newset = {k for ks in groups.values() for k in ks}
        for k, inf in w.info.items():
            if k not in newset and inf.object_id:
                existing.setdefault(inf.object_id[:8], k)
        for desig, ids in groups.items():
            vers = [w.current[i] for i in ids if i in w.current]
            if not vers:
                continue
            self.register_versions(vers)
            t = min(v.valid_from for v in vers)
            parent = existing.get(desig)
            causes = self._causes(*(v.vid for v in vers))
            rep = [vers[0].vid]
            if parent is not None and len(ids) >= 3:
                pinf = w.info.get(parent)
                alts = np.array([v.elset.semi_major_axis_km - astro.RE_KM for v in vers])
                detail = {"parent": parent, "parent_name": pinf.name if pinf else str(parent), "designator": desig,
                          "epoch": iso(t), "fragments": len(ids), "fragment_ids_sample": ids[:20],
                          "altitude_km": [round(float(alts.min()), 1), round(float(np.median(alts)), 1),
                                          round(float(alts.max()), 1)],
                          "parent_state": w.status.get(parent).state if parent in w.status else None}
                self.add("breakup", f"breakup:{desig}:{parent}", severity="critical", ts=t, found_ts=now,
                         title=f"Breakup of {detail['parent_name']}: {len(ids)} new objects catalogued",
                         detail=detail, objects=[parent] + ids[:50], causes=causes, versions=rep, available_ts=t)
            else:
                names = sorted({(w.info[i].name if i in w.info else str(i)) for i in ids})
                detail = {"designator": desig, "objects": ids, "names": names[:10], "epoch": iso(t)}
                self.add("new_object", f"new:{desig}:{ids[0]}", severity="medium", ts=t, found_ts=now,
                         title=f"New object(s) {', '.join(names[:3])} ({desig})", detail=detail, objects=ids,
                         causes=causes, versions=rep, available_ts=t)

    def failures(self, failed: list[int], now: float) -> None:
        """Asset failures (radiation dose, debris strike) become detections for the owner."""
        w = self.world
        for k in failed:
            owner = w.asset_owner.get(k)
            if owner is None:
                continue
            st = w.status[k]
            name = w.info[k].name if k in w.info else str(k)
            self.add("asset_lost", f"lost:{k}", severity="critical", ts=st.since or now, found_ts=now,
                     title=f"Asset lost: {name} ({owner}) stopped responding", detail={
                         "object": k, "object_name": name, "owner": owner, "cause": st.cause,
                         "state": st.state, "time": iso(st.since or now)},
                     objects=[k], causes=[st.cause or ""], knowable={owner: st.since or now})

    # -- for the report -------------------------------------------------------------------------------
    def stats(self) -> dict:
        return {"screened_until": iso(self.screened_until) if self.screened_until else None,
                "encounters": len(self.encounters), "detections": len(self.detections),
                "screen_seconds": round(self.screen_seconds, 2)}

