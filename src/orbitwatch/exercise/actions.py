"""Player actions: each timed, attributed to a nation (and user), validated, applied and logged.

=============== ==========================================================================================
acknowledge     ``{alert: id}`` or ``{message: id}`` - the nation has seen it (decision latency starts here)
release         ``{alert: id, to: [nations] | 'all'}`` - widen one of *its own* alerts (only the
                originator may release) and the element sets behind it; the new nations get it at once
tasking         ``{object: role|NORAD, sensor: nation}`` - ask a sensor network (own by default) to
                observe an object now: the tasked nation holds its current element set within 10 minutes
                and shares it with the requester
manoeuvre       ``{asset: role|NORAD, dv_rtn_mps: [R, T, N]}`` or ``{asset, raise_km: x}`` - burn one of the
                nation's own assets (collision avoidance, evasion); Δv cost logged
notify          ``{to: [nations] | 'PUBLIC', about: role|NORAD, text, public: bool}`` - inform partners, or
                call out publicly (``public: true``: an unclassified TLP:CLEAR statement the world sees)
demarche        ``{to: actor code, about, text, public: bool}`` - a diplomatic protest to the adversary
propose         ``{title, options: [{id, text, public}], rule, deadline, members}`` - a collective
                response put to the coalition (the proposer concurs with its first option)
vote            ``{proposal: id, position: concur|nonconcur|abstain, option, caveats}``
break_silence   ``{proposal: id, reason}`` - a non-concurrence under the silence procedure
comment         ``{text}`` - anything else, for the record
=============== ==========================================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from orbitwatch.errors import NotFound, PermissionDenied, PropagationError, ValidationError
from orbitwatch.exercise import astro
from orbitwatch.exercise.consensus import POSITIONS
from orbitwatch.exercise.records import Proposal
from orbitwatch.exercise.times import iso, parse_duration
from orbitwatch.markings import NATIONS

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise

ACTIONS = ("acknowledge", "release", "tasking", "manoeuvre", "notify", "demarche", "propose", "vote",
           "break_silence", "comment")
TASKING_LATENCY_S = 600.0


def _int(payload: dict, key: str) -> int:
    v = payload.get(key)
    if isinstance(v, bool) or v is None:
        raise ValidationError(f"'{key}' is required (an id)", field=key)
    try:
        return int(v)
    except (TypeError, ValueError):
        raise ValidationError(f"'{key}' must be an integer id, got {v!r}", field=key) from None


def _nations(ex: Exercise, value: Any, field: str) -> list[str]:
    if value in ("all", ["all"], "ALL"):
        return list(ex.scenario.nations)
    vals = [value] if isinstance(value, str) else list(value or [])
    out = []
    for v in vals:
        v = str(v).upper()
        if v not in NATIONS:
            raise ValidationError(f"unknown nation {v!r}; expected trigraphs or 'all'", field=field)
        if v not in ex.scenario.nations:
            raise ValidationError(f"{v} does not take part in this exercise", field=field)
        out.append(v)
    if not out:
        raise ValidationError("no nation given", field=field)
    return out


def _object(ex: Exercise, ref: Any, field: str) -> int:
    if ref is None:
        raise ValidationError(f"'{field}' is required (an object role or NORAD id)", field=field)
    if isinstance(ref, str) and ref in ex.world.roles:
        return ex.world.roles[ref]
    try:
        nid = int(ref)
    except (TypeError, ValueError):
        raise ValidationError(f"unknown object {ref!r}", field=field) from None
    if nid not in ex.world.current:
        raise NotFound(f"object {nid} is not in this exercise")
    return nid


def perform(ex: Exercise, nation: str, kind: str, payload: dict, ts: float) -> dict:
    """Validate and apply one action of ``nation`` at ``ts``; returns the result (raises on refusal)."""
    if kind not in ACTIONS:
        raise ValidationError(f"unknown action {kind!r}; expected one of {', '.join(ACTIONS)}", field="kind")
    if nation not in ex.scenario.nations:
        raise PermissionDenied(f"{nation} does not take part in this exercise")
    fn = globals()["_" + kind]
    return fn(ex, nation, payload, ts)


def _acknowledge(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    if "alert" in p:
        aid = _int(p, "alert")
        if not ex.delivered(nation, "alert", aid, ts):
            raise NotFound(f"alert {aid} not found")
        return {"alert": aid}
    if "message" in p:
        mid = _int(p, "message")
        if not ex.delivered(nation, "message", mid, ts):
            raise NotFound(f"message {mid} not found")
        return {"message": mid}
    if "proposal" in p:
        pid = _int(p, "proposal")
        if not ex.delivered(nation, "proposal", pid, ts):
            raise NotFound(f"proposal {pid} not found")
        return {"proposal": pid}
    raise ValidationError("acknowledge needs 'alert', 'message' or 'proposal'", field="alert")


def _release(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    aid = _int(p, "alert")
    al = ex.alert_by_id.get(aid)
    if al is None or not ex.delivered(nation, "alert", aid, ts):
        raise NotFound(f"alert {aid} not found")
    if al.nation != nation:
        # A nation may release its own product about the same detection, never another nation's.
        own = next((a for a in ex.alerts if a.detection_id == al.detection_id and a.nation == nation), None)
        if own is None:
            raise PermissionDenied(f"only the originator ({al.nation}) may release alert {aid}; ask it to, "
                                   "or release your own product")
        al = own
    to = _nations(ex, p.get("to", "all"), "to")
    added = ex.release_alert(al, to, by=nation, ts=ts)
    return {"alert": al.aid, "released_to": added, "marking": str(al.marking)}


def _tasking(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    nid = _object(ex, p.get("object"), "object")
    sensor = str(p.get("sensor", nation)).upper()
    if sensor not in ex.scenario.nations:
        raise ValidationError(f"{sensor} does not take part in this exercise", field="sensor")
    v = ex.world.current[nid]
    net = ex.world.sensors.get(sensor)
    if net is None or v.regime not in net.regimes:
        return {"object": nid, "sensor": sensor, "accepted": False,
                "reason": f"{sensor} has no sensors covering {v.regime}"}
    if ex.world.outage_end(sensor, v.regime, ts) is not None:
        return {"object": nid, "sensor": sensor, "accepted": False, "reason": f"{sensor} sensors are out"}
    t_obs = ts + TASKING_LATENCY_S
    ex.world.release_version(v, [sensor], t_obs)
    if nation != sensor:
        ex.world.release_version(v, [nation], t_obs)
    ex.observation_changed(v)
    return {"object": nid, "sensor": sensor, "accepted": True, "observed_by": iso(t_obs)}


def _manoeuvre(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    nid = _object(ex, p.get("asset", p.get("object")), "asset")
    w = ex.world
    owner = w.asset_owner.get(nid) or w.owner_nation(nid)
    if owner != nation:
        raise PermissionDenied(f"{nation} may only manoeuvre its own assets ({nid} belongs to {owner or 'another'})")
    if not w.is_active(nid):
        raise ValidationError(f"asset {nid} is no longer active", field="asset")
    cur = w.current[nid].elset
    if "dv_rtn_mps" in p:
        dv = np.asarray(p["dv_rtn_mps"], dtype=float)
        if dv.shape != (3,) or not np.isfinite(dv).all():
            raise ValidationError("dv_rtn_mps must be three numbers [R, T, N] in m/s", field="dv_rtn_mps")
    elif "raise_km" in p:
        # One along-track burn changing the semi-major axis by raise_km (Gauss: Δa = 2 a² v Δv / μ).
        r, v = astro.state_of(cur, ts)
        a = cur.semi_major_axis_km
        dv_t = float(p["raise_km"]) * astro.MU / (2.0 * a * a * float(np.linalg.norm(v))) * 1000.0
        dv = np.array([0.0, dv_t, 0.0])
    else:
        raise ValidationError("manoeuvre needs 'dv_rtn_mps' [R, T, N] (m/s) or 'raise_km'", field="dv_rtn_mps")
    if float(np.linalg.norm(dv)) > 500.0:
        raise ValidationError("more than 500 m/s in one burn is not a manoeuvre an asset can make", field="dv_rtn_mps")
    try:
        es = astro.apply_impulse(cur, ts, dv / 1000.0)
    except PropagationError as exc:
        raise ValidationError(f"the burn is not feasible: {exc}", field="dv_rtn_mps") from None
    v = w.new_version(nid, es, ts, f"action:{nation}", dv_mps=float(np.linalg.norm(dv)))
    return {"asset": nid, "dv_rtn_mps": [round(float(x), 4) for x in dv], "dv_cost_mps": round(v.dv_mps, 4),
            "semi_major_axis_km": [round(cur.semi_major_axis_km, 3), round(es.semi_major_axis_km, 3)]}


def _notify(ex: Exercise, nation: str, p: dict, ts: float, kind: str = "notify") -> dict:
    public = bool(p.get("public", False)) or p.get("to") in ("PUBLIC", ["PUBLIC"])
    text = str(p.get("text", ""))[:4000]
    about = p.get("about")
    about_id = _object(ex, about, "about") if about is not None else None
    if public:
        recipients = ["PUBLIC"]
    elif kind == "demarche" and isinstance(p.get("to"), str) and p["to"].upper() not in NATIONS:
        recipients = [p["to"].upper()]  # to the adversary: not a partner feed
    else:
        recipients = _nations(ex, p.get("to", "all"), "to")
    title = p.get("title") or (f"{kind.title()} from {nation}" + (f" about {about}" if about else ""))
    m = ex.post_message(kind if not public else "statement", sender=nation, recipients=recipients, title=title,
                        body=text, ref=str(about_id) if about_id else None, ts=ts, public=public)
    return {"message": m.mid, "to": recipients, "public": public, "about": about_id}


def _demarche(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    return _notify(ex, nation, p, ts, kind="demarche")


def _propose(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    title = str(p.get("title", "")).strip()
    if not title:
        raise ValidationError("a proposal needs a 'title'", field="title")
    raw = p.get("options") or [{"id": "agree", "text": title}]
    options = []
    for k, o in enumerate(raw):
        if isinstance(o, str):
            o = {"id": o, "text": o}
        if not isinstance(o, dict) or "id" not in o:
            raise ValidationError("each option needs an 'id'", field=f"options[{k}]")
        options.append({"id": str(o["id"]), "text": str(o.get("text", o["id"])), "public": bool(o.get("public"))})
    rule = p.get("rule", ex.scenario.exercise.consensus.rule)
    if rule not in ("unanimity", "silence", "majority"):
        raise ValidationError(f"unknown rule {rule!r}; expected unanimity, silence or majority", field="rule")
    deadline = ts + parse_duration(p.get("deadline", ex.scenario.exercise.consensus.deadline), field="deadline")
    members = _nations(ex, p.get("members", ex.scenario.blue_nations), "members")
    if nation not in members:
        members.append(nation)
    pr = Proposal(ex.next_id("proposal"), ts, nation, title, options, rule, deadline,
                  [n for n in ex.scenario.nations if n in members])
    about = p.get("about")
    if about is not None:
        ex.proposal_about[pr.pid] = {_object(ex, about, "about")}
    ex.add_proposal(pr)
    first = options[0]["id"]
    ex.record_vote(pr, nation, {"position": "concur", "option": p.get("option", first), "caveats": "",
                                "sim_ts": ts})
    return {"proposal": pr.pid, "rule": rule, "deadline": iso(deadline), "members": pr.members}


def _vote(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    pid = _int(p, "proposal")
    pr = ex.proposals.get(pid)
    if pr is None or nation not in pr.members:
        raise NotFound(f"proposal {pid} not found")
    if pr.status != "open":
        raise ValidationError(f"proposal {pid} is already {pr.status}", field="proposal")
    position = p.get("position", "concur")
    if position not in POSITIONS:
        raise ValidationError(f"position must be one of {', '.join(POSITIONS)}", field="position")
    option = p.get("option")
    if option is not None and pr.option(option) is None:
        raise ValidationError(f"proposal {pid} has no option {option!r}; options: "
                              f"{', '.join(o['id'] for o in pr.options)}", field="option")
    ex.record_vote(pr, nation, {"position": position, "option": option,
                                "caveats": str(p.get("caveats", ""))[:2000], "sim_ts": ts})
    return {"proposal": pid, "position": position, "option": option, "status": pr.status}


def _break_silence(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    q = dict(p, position="nonconcur", caveats=p.get("reason", p.get("caveats", "")))
    q.pop("option", None)
    return _vote(ex, nation, q, ts)


def _comment(ex: Exercise, nation: str, p: dict, ts: float) -> dict:
    return {"text": str(p.get("text", ""))[:4000]}
