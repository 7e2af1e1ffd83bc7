"""How well the coalition coordinated: the measures of the after-action report.

* **Time to detect** (per world-changing inject): from the inject to the first alert, in any nation,
  about a detection it caused.
* **Time to share** (per inject): from that first alert to the moment every participating nation had
  received an alert of the same detection (its own sensors, an automatic share or a release); nations
  never informed are listed.
* **Decision latency** (per nation): from receiving an alert or inject message to acknowledging it,
  and to the nation's first substantive action after it (release, notify, démarche, tasking, manoeuvre,
  proposal, vote).
* **Time to consensus** (per proposal): from the proposal to its adoption or rejection.
* **Service availability and assets lost**: assets per nation lost during the exercise, and failing
  within 30 days of ENDEX; pooled allied GNSS availability over each nation's territory at STARTEX, at
  ENDEX (lost navigation satellites removed) and at its worst (the most territory jammed at once).
* **Objective ratings** (HSEEP): each expected action of each inject is *on time*, *late* or *missed*;
  an objective's score is (on time + ½ late) / expected, rated **P** (performed without challenges,
  ≥ 0.9), **S** (some challenges, ≥ 0.6), **M** (major challenges, ≥ 0.3) or **U** (unable to be
  performed).
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from orbitwatch.exercise.matching import nations_of
from orbitwatch.exercise.scenario import INFO_KINDS
from orbitwatch.exercise.times import human_duration, iso, parse_duration

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise

SUBSTANTIVE = ("release", "notify", "demarche", "tasking", "manoeuvre", "propose", "vote", "break_silence")
RATINGS = (("P", 0.9, "Performed without challenges"), ("S", 0.6, "Performed with some challenges"),
           ("M", 0.3, "Performed with major challenges"), ("U", -1.0, "Unable to be performed"))


def rating_of(score: float | None) -> tuple[str, str]:
    if score is None:
        return "—", "Not evaluated (no expected action was due)"
    for code, floor, text in RATINGS:
        if score >= floor:
            return code, text
    return "U", RATINGS[-1][2]


def _first_alert_by_inject(ex: Exercise) -> dict[str, list]:
    out: dict[str, list] = {}
    for a in ex.alerts:
        for c in a.causes:
            out.setdefault(c, []).append(a)
    return out


def _deliveries_of_alerts(ex: Exercise) -> dict[int, dict[str, float]]:
    """detection id -> nation -> first time it received any alert of that detection."""
    out: dict[int, dict[str, float]] = {}
    for d in ex.deliveries:
        if d.item_type != "alert":
            continue
        al = ex.alert_by_id.get(d.item_id)
        if al is None:
            continue
        cur = out.setdefault(al.detection_id, {})
        if d.nation not in cur or d.sim_ts < cur[d.nation]:
            cur[d.nation] = d.sim_ts
    return out


def inject_start_for(ex: Exercise, inj, nation: str, alerts_by_inject: dict[str, list]) -> float | None:
    """When ``nation`` could start acting on an inject: its message, or its first alert caused by it."""
    st = ex.injects[inj.id]
    if st.status != "fired":
        return None
    if inj.kind in INFO_KINDS:
        mid = st.result.get("message")
        t = ex._delivered.get((nation, "message", mid)) if mid is not None else None
        return t
    times = []
    for a in alerts_by_inject.get(inj.id, []):
        t = ex._delivered.get((nation, "alert", a.aid))
        if t is not None:
            times.append(t)
    return min(times) if times else None


def _first_action(ex: Exercise, nation: str, kinds: tuple[str, ...], since: float, option: str | None = None,
                  public: bool | None = None):
    for a in ex.actions:
        if not a.ok or a.nation != nation or a.sim_ts < since:
            continue
        if a.kind not in kinds and not (a.kind == "demarche" and "notify" in kinds):
            continue
        if option is not None and a.payload.get("option") != option:
            continue
        if public is not None and bool(a.payload.get("public", False)) != public:
            continue
        return a
    return None


def _decided_without(ex: Exercise, nation: str, start: float, end: float) -> bool:
    """A proposal the nation was party to was decided in the window before it voted (nothing left to do)."""
    return any(nation in p.members and nation not in p.votes and p.decided_ts is not None
               and start <= p.decided_ts <= end for p in ex.proposals.values())


def expected_action_records(ex: Exercise) -> list[dict]:
    """One record per (inject, expected action, nation) - or per inject for ``by: any``."""
    alerts_by_inject = _first_alert_by_inject(ex)
    out = []
    for inj in ex.scenario.msel:
        st = ex.injects[inj.id]
        objectives = [inj.objective] if isinstance(inj.objective, str) else list(inj.objective or [])
        for ea in inj.expected_actions:
            within = parse_duration(ea.within)
            nations, _ = nations_of(ex, ea.by)
            kinds = (ea.action,)
            per = []
            for n in nations:
                if st.status != "fired":
                    start = None
                elif ea.from_ == "fire":
                    start = st.fired_at
                else:
                    start = inject_start_for(ex, inj, n, alerts_by_inject)
                act = _first_action(ex, n, kinds, start, ea.option, ea.public) if start is not None else None
                if st.status != "fired":
                    status = "not played"
                elif start is None:
                    status = "missed (never informed)"
                elif act is None and ea.action in ("vote", "break_silence") and _decided_without(ex, n, start,
                                                                                                start + within):
                    status = "not needed (decided)"
                elif act is None:
                    status = "missed"
                elif act.sim_ts - start <= within:
                    status = "on time"
                else:
                    status = "late"
                per.append({"inject": inj.id, "objective": [ea.objective] if ea.objective else objectives,
                            "action": ea.action, "nation": n,
                            "start": start, "done": act.sim_ts if act else None, "within_s": within,
                            "status": status, "description": ea.description or inj.title})
            if ea.by == "any":
                played = [p for p in per if p["status"] != "not played"]
                if not played:
                    out.append({**per[0], "nation": "any"} if per else {})
                    continue
                best = next((p for p in per if p["status"] == "on time"), None) or \
                    next((p for p in per if p["status"] == "late"), None) or played[0]
                out.append({**best, "nation": f"any ({best['nation']})" if best["done"] else "any"})
            else:
                out.extend(per)
    return [r for r in out if r]


def objective_ratings(ex: Exercise, records: list[dict]) -> list[dict]:
    out = []
    for obj in ex.scenario.objectives:
        items = [r for r in records if obj.id in r["objective"]
                 and r["status"] not in ("not played", "not needed (decided)")]
        on = sum(r["status"] == "on time" for r in items)
        late = sum(r["status"] == "late" for r in items)
        score = (on + 0.5 * late) / len(items) if items else None
        code, text = rating_of(score)
        out.append({"id": obj.id, "title": obj.title, "capability": obj.capability, "expected": len(items),
                    "on_time": on, "late": late, "missed": len(items) - on - late,
                    "score": None if score is None else round(score, 3), "rating": code, "rating_text": text})
    return out


def detection_metrics(ex: Exercise) -> list[dict]:
    """Time to detect and time to share, per world-changing inject that fired."""
    alerts_by_inject = _first_alert_by_inject(ex)
    recv = _deliveries_of_alerts(ex)
    nations = ex.participants
    out = []
    for inj in ex.scenario.msel:
        st = ex.injects[inj.id]
        if inj.kind in INFO_KINDS or st.status != "fired":
            continue
        als = sorted(alerts_by_inject.get(inj.id, []), key=lambda a: a.sim_ts)
        row = {"inject": inj.id, "kind": inj.kind, "title": inj.title, "fired": st.fired_at, "first_alert": None,
               "first_alert_nation": None, "first_alert_kind": None, "time_to_detect_s": None,
               "time_to_share_s": None, "all_informed": None, "never_informed": list(nations), "detections": 0}
        if als:
            first = als[0]
            row.update(first_alert=first.sim_ts, first_alert_nation=first.nation, first_alert_kind=first.kind,
                       time_to_detect_s=first.sim_ts - st.fired_at)
            dets = {a.detection_id for a in als}
            row["detections"] = len(dets)
            # The detection that reached most nations (earliest on ties) measures sharing.
            best = None
            for did in dets:
                got = recv.get(did, {})
                cand = (len(got), -min(got.values()) if got else 0, did)
                if best is None or cand > best[0]:
                    best = (cand, did, got)
            _, did, got = best
            t0 = min(got.values()) if got else first.sim_ts
            missing = [n for n in nations if n not in got]
            row["never_informed"] = missing
            if not missing:
                row["all_informed"] = max(got.values())
                row["time_to_share_s"] = max(got.values()) - t0
            row["informed"] = {n: got[n] - t0 for n in nations if n in got}
        out.append(row)
    return out


def decision_latency(ex: Exercise) -> dict[str, dict]:
    """Per nation: median time from receipt to acknowledgement and to first substantive action."""
    acks: dict[str, list[float]] = {n: [] for n in ex.participants}
    subs: dict[str, list[float]] = {n: [] for n in ex.participants}
    acked: dict[tuple[str, str, int], float] = {}
    for a in ex.actions:
        if a.ok and a.kind == "acknowledge":
            for key in ("alert", "message", "proposal"):
                if key in a.payload:
                    acked.setdefault((a.nation, key, int(a.payload[key])), a.sim_ts)
    important = set()
    for al in ex.alerts:
        if al.causes or al.severity in ("high", "critical"):
            important.add(al.aid)
    received = 0
    for d in ex.deliveries:
        if d.item_type == "alert" and d.item_id not in important:
            continue
        if d.item_type == "message":
            m = ex.message_by_id.get(d.item_id)
            if m is None or m.kind not in INFO_KINDS:
                continue
        received += 1
        t = acked.get((d.nation, d.item_type, d.item_id))
        if t is not None and t >= d.sim_ts:
            acks[d.nation].append(t - d.sim_ts)
        act = _first_action(ex, d.nation, SUBSTANTIVE, d.sim_ts)
        if act is not None:
            subs[d.nation].append(act.sim_ts - d.sim_ts)
    out = {}
    for n in ex.participants:
        out[n] = {"acknowledged": len(acks[n]),
                  "median_ack_s": statistics.median(acks[n]) if acks[n] else None,
                  "median_action_s": statistics.median(subs[n]) if subs[n] else None,
                  "actions": sum(1 for a in ex.actions if a.nation == n and a.ok),
                  "refused": sum(1 for a in ex.actions if a.nation == n and not a.ok)}
    return out


def consensus_metrics(ex: Exercise) -> list[dict]:
    out = []
    for p in ex.proposals.values():
        caveats = {n: v.get("caveats") for n, v in p.votes.items() if v.get("caveats")}
        out.append({"id": p.pid, "title": p.title, "proposer": p.proposer, "rule": p.rule, "proposed": p.sim_ts,
                    "status": p.status, "outcome": p.outcome, "decided": p.decided_ts,
                    "time_to_consensus_s": (p.decided_ts - p.sim_ts) if p.decided_ts is not None else None,
                    "votes": {n: v["position"] for n, v in p.votes.items()}, "caveats": caveats,
                    "silent": [n for n in p.members if n not in p.votes]})
    return out


def service_metrics(ex: Exercise, *, gnss: bool = True, hours: float = 3.0, step_s: float = 900.0,
                    step_deg: float = 4.0) -> dict:
    """Assets lost per nation and pooled allied GNSS availability at STARTEX and ENDEX."""
    from orbitwatch.exercise.engines import gnss_service

    w = ex.world
    end = min(ex.sim_ts, ex.end_ts)
    assets = {}
    for n, ids in w.assets.items():
        lost = [i for i in ids if not w.is_active(i)]
        failing = [i for i in ids if w.is_active(i) and w.status.get(i) is not None
                   and w.status[i].fail_at is not None and w.status[i].fail_at <= end + 30 * 86400]
        failing_y = [i for i in ids if w.is_active(i) and w.status.get(i) is not None
                     and w.status[i].fail_at is not None and w.status[i].fail_at <= end + 365 * 86400]
        assets[n] = {"assets": len(ids), "lost": len(lost), "failing_30d": len(failing),
                     "failing_365d": len(failing_y),
                     "lost_ids": lost, "failing_ids": failing,
                     "kept_share": round(1.0 - len(lost) / len(ids), 4) if ids else None}
    all_lost = [k for k, st in w.status.items() if st.state != "active"]
    sats_failed = [k for k, st in w.status.items() if st.state == "failed"]
    out = {"assets": assets, "objects_destroyed": sum(1 for k in all_lost if w.status[k].state == "destroyed"),
           "satellites_failed": len(sats_failed),
           "satellites_failing_30d": sum(1 for st in w.status.values()
                                         if st.state == "active" and st.fail_at is not None
                                         and st.fail_at <= end + 30 * 86400)}
    if gnss:
        base = [v.elset for v in (w.previous.get(k, [w.current[k]])[0] for k in w.current)]
        lost = set(all_lost)
        # Worst jamming over each nation during the exercise (concurrent campaigns add up).
        jammed: dict[str, float] = {}
        for j in ex.jamming:
            at = j["start"]
            share: dict[str, float] = {}
            for k in ex.jamming:
                if k["start"] <= at <= k["end"]:
                    for n, s in k["denied"].items():
                        share[n] = min(1.0, share.get(n, 0.0) + s)
            for n, s in share.items():
                jammed[n] = max(jammed.get(n, 0.0), s)
        before = gnss_service(base, ex.participants, start_ts=ex.start_ts, exclude=set(), hours=hours,
                              step_s=step_s, step_deg=step_deg)
        after = gnss_service([w.current[k].elset for k in w.current], ex.participants, start_ts=end,
                             exclude=lost, hours=hours, step_s=step_s, step_deg=step_deg)
        out["gnss"] = {}
        for n in ex.participants:
            a = after.get(n, {}).get("availability")
            out["gnss"][n] = {"before": before.get(n, {}).get("availability"), "after": a,
                              "worst": None if a is None else round(a * (1.0 - jammed.get(n, 0.0)), 4),
                              "jammed_share": round(jammed.get(n, 0.0), 4)}
    return out


def compute(ex: Exercise, *, gnss: bool = True) -> dict:
    records = expected_action_records(ex)
    det = detection_metrics(ex)
    return {
        "exercise": ex.status_dict(),
        "objectives": objective_ratings(ex, records),
        "expected_actions": records,
        "detection": det,
        "decision_latency": decision_latency(ex),
        "consensus": consensus_metrics(ex),
        "service": service_metrics(ex, gnss=gnss),
        "red_cell": ex.red_fired,
        "injects": [s.as_dict() for s in ex.injects.values()],
        "alerts_by_kind": _count(a.kind for a in ex.alerts),
        "detector": ex.detector.stats(),
    }


def _count(items) -> dict:
    out: dict[str, int] = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


def strengths_and_improvements(ex: Exercise, m: dict) -> tuple[list[str], list[dict]]:
    """Observations for the AAR: strengths, and areas for improvement with a corrective action each."""
    strengths: list[str] = []
    afi: list[dict] = []
    for d in m["detection"]:
        if d["time_to_detect_s"] is not None and d["time_to_detect_s"] <= 3600:
            strengths.append(f"{d['inject']} ({d['kind']}) was detected by {d['first_alert_nation']} sensors "
                             f"{human_duration(d['time_to_detect_s'])} after it happened, without a scripted cue.")
        elif d["time_to_detect_s"] is None:
            afi.append({"issue": f"{d['inject']} ({d['kind']}) was never detected by any nation.",
                        "action": "Review sensor coverage and tasking for this regime; add tasking requests "
                                  "to the response checklist.",
                        "capability": "Space domain awareness", "owner": "All"})
        else:
            afi.append({"issue": f"{d['inject']} took {human_duration(d['time_to_detect_s'])} to detect.",
                        "action": "Shorten the revisit of the affected regime or task sensors on warning.",
                        "capability": "Space domain awareness", "owner": d["first_alert_nation"] or "All"})
        if d["first_alert"] is not None:
            if d["never_informed"]:
                afi.append({"issue": f"After {d['inject']}, {', '.join(d['never_informed'])} never received the "
                                     "detection.",
                            "action": "Release detections to all partners by default (standing REL TO CSPO) or "
                                      "add a release step to the alert checklist.",
                            "capability": "Information sharing", "owner": d["first_alert_nation"] or "All"})
            elif d["time_to_share_s"] is not None and d["time_to_share_s"] <= 2 * 3600:
                strengths.append(f"All {len(ex.participants)} nations held the {d['inject']} detection within "
                                 f"{human_duration(d['time_to_share_s'])} of the first alert.")
            elif d["time_to_share_s"] is not None:
                afi.append({"issue": f"Sharing the {d['inject']} detection with all partners took "
                                     f"{human_duration(d['time_to_share_s'])}.",
                            "action": "Pre-agree releasability of SSA products so they can be shared at once.",
                            "capability": "Information sharing", "owner": d["first_alert_nation"] or "All"})
    for c in m["consensus"]:
        if c["status"] == "adopted":
            strengths.append(f"The coalition adopted '{c['outcome']}' ({c['rule']}) "
                             f"{human_duration(c['time_to_consensus_s'])} after it was proposed.")
        else:
            afi.append({"issue": f"Proposal '{c['title']}' was {c['status']}.",
                        "action": "Prepare pre-agreed response options and national positions before a crisis.",
                        "capability": "Coalition decision-making", "owner": c["proposer"]})
    missed: dict[str, list[str]] = {}
    for r in m["expected_actions"]:
        if r["status"].startswith("missed"):
            missed.setdefault(f"{r['inject']}:{r['action']}", []).append(r["nation"])
    for key, ns in sorted(missed.items()):
        inj, act = key.split(":", 1)
        afi.append({"issue": f"Expected '{act}' after {inj} not performed by {', '.join(ns)}.",
                    "action": f"Exercise the '{act}' procedure and its triggers with {', '.join(ns)}.",
                    "capability": "Procedures", "owner": ", ".join(ns)})
    lost = {n: v for n, v in m["service"]["assets"].items() if v["lost"] or v["failing_30d"]}
    for n, v in sorted(lost.items()):
        afi.append({"issue": f"{n} lost {v['lost']} of {v['assets']} assets during the exercise "
                             f"({v['failing_30d']} more expected to fail within 30 days).",
                    "action": "Diversify and harden critical services; pre-arrange partner backup (pooling).",
                    "capability": "Resilience", "owner": n})
    if not strengths:
        strengths.append("The exercise ran to ENDEX with every inject played.")
    return strengths, afi


def fmt_time(ex: Exercise, ts: float | None) -> str:
    if ts is None:
        return "—"
    from orbitwatch.exercise.times import offset_label

    return f"{offset_label(ts, ex.start_ts)} ({iso(ts)})"
