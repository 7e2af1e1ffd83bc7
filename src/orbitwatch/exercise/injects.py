"""Playing the MSEL: when each inject is due, and what firing it does to the simulated world.

Timing. An inject fires at ``at``; or, with ``after``, once all its dependencies have fired (plus
``delay``, and not before ``at`` when both are given); a *contingency* inject fires at its deadline
only if the expected action has not happened by then (otherwise it is cancelled); a ``red_cell``
inject waits for a red-cell rule. Information injects become messages to the nations in ``to``;
world-changing injects change the world and are *not* announced (unless ``announce: true``): the
nations must detect them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from orbitwatch.errors import OrbitwatchError, PropagationError, ValidationError
from orbitwatch.exercise import astro
from orbitwatch.exercise.catalog import ObjectInfo, placed_object
from orbitwatch.exercise.scenario import INFO_KINDS
from orbitwatch.exercise.times import iso, parse_duration, parse_time

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.exercise.engine import Exercise


def object_ref(ex: Exercise, ref: str | int | None) -> int | None:
    """NORAD id of an object role or a NORAD id given as text."""
    if ref is None:
        return None
    if isinstance(ref, int):
        return ref
    if ref in ex.world.roles:
        return ex.world.roles[ref]
    if str(ref).isdigit():
        return int(ref)
    raise ValidationError(f"unknown object {ref!r}", field="object")


def due_time(ex: Exercise, inj) -> float | None:
    """When a pending inject should fire given what has happened (None: not yet determinable)."""
    st = ex.injects[inj.id]
    if st.status != "pending":
        return None
    if inj.red_cell:
        return None
    at = parse_time(inj.at, ex.start_ts) if inj.at is not None else None
    if inj.contingency is not None:
        return parse_time(inj.contingency.by, ex.start_ts)
    if inj.after:
        deps = [ex.injects[d] for d in inj.after]
        if any(d.status in ("cancelled", "failed") for d in deps):
            return None
        if any(d.status != "fired" for d in deps):
            return None
        t = max(d.fired_at for d in deps) + (parse_duration(inj.delay) if inj.delay is not None else 0.0)
        return max(t, at) if at is not None else t
    return at


def dependencies_dead(ex: Exercise, inj) -> bool:
    return any(ex.injects[d].status in ("cancelled", "failed") for d in inj.after)


def fire(ex: Exercise, inj, ts: float) -> dict:
    """Apply one inject at ``ts``; returns its result (stored with the inject state)."""
    kind = inj.kind
    if kind in INFO_KINDS:
        return _info(ex, inj, ts)
    result: dict
    if kind == "manoeuvre":
        result = _manoeuvre(ex, inj, ts)
    elif kind == "breakup":
        result = _breakup(ex, inj, ts)
    elif kind == "nuclear":
        result = _nuclear(ex, inj, ts)
    elif kind == "jamming":
        result = _jamming(ex, inj, ts)
    elif kind == "launch":
        result = _launch(ex, inj, ts)
    elif kind == "sensor_outage":
        result = _outage(ex, inj, ts)
    else:  # pragma: no cover - the schema allows no other kind
        raise ValidationError(f"unknown inject kind {kind!r}")
    if inj.announce:
        _info(ex, inj, ts, kind_override="news")
    return result


def _recipients(ex: Exercise, to) -> list[str]:
    if to == "all" or to == ["all"]:
        return list(ex.scenario.nations)
    vals = [to] if isinstance(to, str) else list(to)
    out: list[str] = []
    for v in vals:
        if v == "all":
            out.extend(ex.scenario.nations)
        elif v.startswith("owner:"):
            n = ex.world.owner_nation(ex.world.roles[v[6:]])
            if n:
                out.append(n)
        else:
            out.append(v.upper())
    return [n for n in ex.scenario.nations if n in set(out)]


def _info(ex: Exercise, inj, ts: float, kind_override: str | None = None) -> dict:
    to = _recipients(ex, inj.to)
    msg = ex.post_message(kind_override or inj.kind, sender=inj.from_, recipients=to, title=inj.title or inj.id,
                          body=inj.text, ref=inj.id, ts=ts, marking_text=inj.marking)
    return {"message": msg.mid, "to": to}


def _manoeuvre(ex: Exercise, inj, ts: float) -> dict:
    w = ex.world
    nid = object_ref(ex, inj.object)
    if nid not in w.current or not w.is_active(nid):
        raise ValidationError(f"object {inj.object} ({nid}) is not in the exercise or no longer active")
    w.cancel_scheduled(nid)  # a new plan replaces any burn still scheduled
    cur = w.current[nid].elset
    if inj.dv_rtn_mps is not None:
        dv = np.asarray(inj.dv_rtn_mps, float) / 1000.0
        es = astro.apply_impulse(cur, ts, dv)
        v = w.new_version(nid, es, ts, inj.id, dv_mps=float(np.linalg.norm(dv)) * 1000.0)
        return {"object": nid, "dv_rtn_mps": list(inj.dv_rtn_mps), "dv_mps": round(v.dv_mps, 4),
                "semi_major_axis_km": [round(cur.semi_major_axis_km, 3), round(es.semi_major_axis_km, 3)]}
    ap = inj.approach
    target = object_ref(ex, ap.target)
    if target not in w.current:
        raise ValidationError(f"approach target {ap.target} ({target}) is not in the exercise")
    by = parse_time(ap.by, ex.start_ts)
    if by <= ts + 60:
        raise ValidationError(f"approach deadline {iso(by)} is not after the inject ({iso(ts)})")
    try:
        sol = astro.solve_approach(cur, w.current[target].elset, ts, by, ap.range_km, arrive=ap.arrive)
    except (PropagationError, ValueError, np.linalg.LinAlgError) as exc:
        raise OrbitwatchError(f"no feasible approach of {nid} to {target} by {iso(by)}: {exc}") from None
    v1 = w.new_version(nid, sol.elset_after_burn1, sol.burn1_ts, inj.id,
                       dv_mps=float(np.linalg.norm(sol.dv1_rtn_mps)), scheduled=sol.burn1_ts > ts)
    out = {"object": nid, "target": target, **sol.as_dict(), "version_1": v1.vid}
    if sol.elset_after_burn2 is not None:
        v2 = w.new_version(nid, sol.elset_after_burn2, sol.arrival_ts, inj.id,
                           dv_mps=float(np.linalg.norm(sol.dv2_rtn_mps)), scheduled=True)
        out["version_2"] = v2.vid
    return out


def _breakup(ex: Exercise, inj, ts: float) -> dict:
    from orbitwatch.exercise.engines import breakup_fragments

    w = ex.world
    nid = object_ref(ex, inj.object)
    if nid not in w.current or not w.is_active(nid):
        raise ValidationError(f"object {inj.object} ({nid}) is not in the exercise or no longer active")
    parent = w.current[nid].elset
    info = w.info.get(nid) or ObjectInfo(nid)
    spec = inj.breakup
    mass = info.mass_kg or 1000.0
    base = ex.allocate_ids(spec.max_fragments)
    frags = breakup_fragments(parent, mass_kg=mass, object_type=info.object_type, kind=spec.model,
                              impactor_mass_kg=spec.impactor_mass_kg, impact_speed_kms=spec.impact_speed_kms,
                              epoch_ts=ts, seed=ex.seed_for(inj.id), min_size_m=spec.min_size_m,
                              max_fragments=spec.max_fragments, norad_base=base)
    w.destroy(nid, ts, inj.id)
    desig = (info.object_id or f"EX-{nid}")[:8]
    for k, e in enumerate(frags.elsets):
        piece = _piece(k + 1)
        fi = ObjectInfo(e.norad_id, f"{info.name or nid} DEB", f"{desig}{piece}", "DEBRIS", info.owner, None, 0.1)
        e.object_name, e.object_id = fi.name, fi.object_id
        # Cataloguing a new cloud takes longer than updating a known object.
        w.add_object(e, fi, ts, inj.id, latency_scale=2.0)
    ex.destroyed_now[nid] = ts
    return {"parent": nid, "parent_mass_kg": mass, "fragments": len(frags.elsets), **frags.summary}


def _piece(k: int) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    out = ""
    k += 1
    while k > 0:
        k, r = divmod(k - 1, len(letters))
        out = letters[r] + out
    return out


def _nuclear(ex: Exercise, inj, ts: float) -> dict:
    from orbitwatch.exercise.engines import nuclear_effects

    w = ex.world
    carrier = object_ref(ex, inj.object) if inj.object else None
    if carrier is not None and w.is_active(carrier):
        w.destroy(carrier, ts, inj.id)
        ex.destroyed_now[carrier] = ts
    # Satellites that can fail: payloads (debris and rocket bodies have nothing to lose).
    elsets = []
    owners = {}
    for k in w.active_ids():
        inf = w.info.get(k)
        if inf is not None and (inf.object_type or "PAYLOAD") not in ("PAYLOAD", "UNKNOWN"):
            continue
        elsets.append(w.current[k].elset)
        if inf is not None and inf.owner_nation:
            owners[k] = inf.owner_nation
    res = nuclear_effects(elsets, lat=inj.lat, lon=inj.lon, alt_km=inj.alt_km, yield_kt=inj.yield_kt, ts=ts,
                          horizon_days=(ex.end_ts - ts) / 86400.0 + 365.0, owners=owners)
    for k in res.prompt:
        w.destroy(k, ts, inj.id, state="failed")
        ex.failed_now.append(k)
    for k, t in res.failures.items():
        w.schedule_failure(k, t, inj.id)
    nudet = [n for n, net in w.sensors.items() if net.nudet]
    ex.detector.add("nudet", f"nudet:{inj.id}", severity="critical", ts=ts, found_ts=ts,
                    title=f"Nuclear detonation at {inj.alt_km:.0f} km over {inj.lat:.1f}, {inj.lon:.1f}",
                    detail={"lat": inj.lat, "lon": inj.lon, "alt_km": inj.alt_km,
                            "yield_kt_estimate": inj.yield_kt, "l_shell": round(res.l_shell, 3),
                            "prompt_losses": len(res.prompt)},
                    objects=[], causes=[inj.id], knowable={n: ts + 60.0 for n in nudet})
    lost_assets = [k for k in res.prompt if k in w.asset_owner]
    failing_assets = {k: iso(t) for k, t in res.failures.items() if k in w.asset_owner}
    return {"carrier": carrier, **res.summary, "prompt_assets": lost_assets, "failing_assets": failing_assets}


def _jamming(ex: Exercise, inj, ts: float) -> dict:
    from orbitwatch.exercise.engines import jamming_effect

    res = jamming_effect(lat=inj.lat, lon=inj.lon, alt_km=inj.alt_km, eirp_dbw=inj.eirp_dbw,
                         tolerance_db=inj.tolerance_db, nations=ex.scenario.nations)
    end = ts + parse_duration(inj.duration)
    ex.jamming.append({"inject": inj.id, "start": ts, "end": end, "radius_km": res.radius_km,
                       "denied": res.denied, "lat": inj.lat, "lon": inj.lon})
    affected = [n for n, s in res.denied.items() if s > 0]
    # Nations notice GNSS interference over their territory within minutes.
    ex.detector.add("jamming", f"jam:{inj.id}", severity="high", ts=ts, found_ts=ts,
                    title=f"GNSS interference: receivers denied within ~{res.radius_km:.0f} km of "
                          f"{inj.lat:.1f}, {inj.lon:.1f}",
                    detail={**res.summary, "until": iso(end), "affected": affected},
                    objects=[], causes=[inj.id], knowable={n: ts + 900.0 for n in affected}, expires=end)
    return {**res.summary, "until": iso(end), "affected": affected}


def _launch(ex: Exercise, inj, ts: float) -> dict:
    w = ex.world
    ref = w.roles.get(inj.place.relative_to)
    if ref is None or ref not in w.current:
        raise ValidationError(f"unknown object role {inj.place.relative_to!r}")
    nid = inj.place.norad or ex.allocate_ids(1)
    es, info = placed_object(w.current[ref].elset, ts, inj.place, norad_id=nid, owner=inj.owner)
    year = astro.dt_of(ts).year
    info.object_id = inj.place.object_id or f"{year}-{900 + (nid % 100):03d}A"
    es.object_id = info.object_id
    w.add_object(es, info, ts, inj.id)
    role = f"launch:{inj.id}"
    w.roles[role] = nid
    return {"object": nid, "name": info.name, "designator": info.object_id, "owner": inj.owner,
            "relative_to": ref, "rtn_km": list(inj.place.rtn_km)}


def _outage(ex: Exercise, inj, ts: float) -> dict:
    from orbitwatch.exercise.world import Outage

    end = ts + parse_duration(inj.duration)
    ex.world.outages.append(Outage(inj.nation, frozenset(inj.regimes), ts, end, inj.id))
    ex.detector.add("sensor_outage", f"outage:{inj.id}", severity="high", ts=ts, found_ts=ts,
                    title=f"{inj.nation} sensor outage ({', '.join(inj.regimes)}) until {iso(end)}",
                    detail={"nation": inj.nation, "regimes": list(inj.regimes), "until": iso(end)},
                    objects=[], causes=[inj.id], knowable={inj.nation: ts}, expires=end)
    return {"nation": inj.nation, "regimes": list(inj.regimes), "until": iso(end)}

