"""The catalogue an exercise starts from (the bundled demo, files, or the store) and how a scenario picks
its objects from it (by NORAD id, SATCAT-style filters, or placement relative to another object).

Scenarios must run on any catalogue, so an object role lists alternatives: the first that matches
wins (e.g. the demo's "SIM ALLIED ISR-1" by name, else any US LEO payload, else ...), and ``place``
creates the object when nothing in the catalogue fits (a foreign inspector 5 km behind whatever ISR
satellite was chosen). Owners come from the SATCAT (store objects, a SATCAT file, the demo's own);
a catalogue without one can still select by name, NORAD id, regime or orbit.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.exercise import astro
from orbitwatch.formats.records import (
    OWNER_CODE_TO_TRIGRAPH,
    TRIGRAPH_TO_OWNER_CODE,
    ElementSet,
    SatcatRecord,
    owner_trigraph,
    regime_of,
)

#: Catalogue numbers the exercise gives to objects it creates (placements, launches, fragments).
EXERCISE_ID_BASE = 980_000


@dataclass
class ObjectInfo:
    norad_id: int
    name: str = ""
    object_id: str | None = None  # international designator
    object_type: str | None = None
    owner: str | None = None  # SATCAT owner code (US, UK, CIS, PRC ...)
    mass_kg: float | None = None
    hbr_m: float | None = None

    @property
    def owner_nation(self) -> str | None:
        return owner_trigraph(self.owner)

    def as_dict(self) -> dict:
        return {"norad_id": self.norad_id, "name": self.name, "object_id": self.object_id,
                "object_type": self.object_type, "owner": self.owner, "mass_kg": self.mass_kg,
                "hbr_m": self.hbr_m}


@dataclass
class CatalogSource:
    """Element sets (newest per object) and what is known about each object."""

    kind: str  # demo | file | store | records
    description: str
    elsets: list[ElementSet]
    info: dict[int, ObjectInfo] = field(default_factory=dict)
    errors: int = 0
    digest: str = ""

    @property
    def newest_epoch_ts(self) -> float:
        return max(e.epoch_unix for e in self.elsets)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "description": self.description, "objects": len(self.elsets),
                "errors": self.errors, "digest": self.digest}


def _latest(elsets: Iterable[ElementSet]) -> list[ElementSet]:
    best: dict[int, ElementSet] = {}
    for e in elsets:
        cur = best.get(e.norad_id)
        if cur is None or e.epoch > cur.epoch:
            best[e.norad_id] = e
    return [best[k] for k in sorted(best)]


def _merge_info(info: dict[int, ObjectInfo], records: Iterable[SatcatRecord]) -> None:
    for r in records:
        cur = info.get(r.norad_id) or ObjectInfo(r.norad_id)
        cur.name = r.object_name or cur.name
        cur.object_id = r.object_id or cur.object_id
        cur.object_type = r.object_type or cur.object_type
        cur.owner = r.owner or cur.owner
        cur.mass_kg = r.mass_kg if r.mass_kg is not None else cur.mass_kg
        cur.hbr_m = r.hbr_m if r.hbr_m is not None else cur.hbr_m
        info[r.norad_id] = cur


def _info_from_elsets(elsets: Iterable[ElementSet], info: dict[int, ObjectInfo]) -> None:
    for e in elsets:
        cur = info.get(e.norad_id)
        if cur is None:
            cur = info[e.norad_id] = ObjectInfo(e.norad_id)
        cur.name = cur.name or (e.object_name or "")
        cur.object_id = cur.object_id or e.object_id
        if cur.object_type is None and cur.name:
            n = cur.name.upper()
            cur.object_type = ("DEBRIS" if " DEB" in n or n.endswith("DEB") else
                               "ROCKET BODY" if "R/B" in n else None)


def _digest(elsets: Sequence[ElementSet]) -> str:
    h = hashlib.sha256()
    for e in elsets:
        h.update(f"{e.norad_id}:{e.epoch_unix:.6f}:{e.mean_motion:.10g}:{e.mean_anomaly:.8g};".encode())
    return h.hexdigest()[:16]


def demo_catalog() -> CatalogSource:
    """The bundled SIMULATED demo catalogue (3,002 objects, SATCAT owners included)."""
    from orbitwatch.demo.generate import generate_demo_catalog

    elsets, satcat = generate_demo_catalog()
    info: dict[int, ObjectInfo] = {}
    _merge_info(info, satcat)
    _info_from_elsets(elsets, info)
    el = _latest(elsets)
    return CatalogSource("demo", "bundled demo catalogue (SIMULATED)", el, info, 0, _digest(el))


def file_catalog(paths: Sequence[str | Path], *, satcat: Sequence[str | Path] = ()) -> CatalogSource:
    """Element sets from catalogue files, owners and types from optional SATCAT files."""
    from orbitwatch.exercise.engines import read_catalog_file

    elsets: list[ElementSet] = []
    records: list[SatcatRecord] = []
    nerr = 0
    for p in list(paths) + list(satcat):
        el, sc, errs = read_catalog_file(p)
        elsets.extend(el)
        records.extend(sc)
        nerr += len(errs)
    if not elsets:
        raise ValidationError("no element set in the catalogue file(s)", file=", ".join(map(str, paths)))
    info: dict[int, ObjectInfo] = {}
    el = _latest(elsets)
    keep = {e.norad_id for e in el}
    _merge_info(info, (r for r in records if r.norad_id in keep))
    _info_from_elsets(el, info)
    names = ", ".join(Path(p).name for p in list(paths) + list(satcat))
    return CatalogSource("file", names, el, info, nerr, _digest(el))


def store_catalog(engine, *, where=None) -> CatalogSource:
    """The newest element set of every object in the store (``where``: a reader's filter, or None)."""
    from orbitwatch.store import element_sets_from_rows, latest_element_sets, search_objects

    with engine.connect() as conn:
        rows = latest_element_sets(conn, where=where)
        objs = search_objects(conn, where=where)
    el = element_sets_from_rows(rows)
    info: dict[int, ObjectInfo] = {}
    for o in objs:
        info[o.norad_id] = ObjectInfo(o.norad_id, o.name or "", o.object_id, o.object_type, o.owner,
                                      o.mass_kg, o.hbr_m)
    _info_from_elsets(el, info)
    if not el:
        raise ValidationError("the store holds no element set: ingest a catalogue first "
                              "(orbitwatch catalog ingest FILE, or orbitwatch demo load)")
    return CatalogSource("store", f"store ({len(el)} objects)", el, info, 0, _digest(el))


def records_catalog(elsets: Sequence[ElementSet], satcat: Sequence[SatcatRecord] = (),
                    description: str = "records") -> CatalogSource:
    info: dict[int, ObjectInfo] = {}
    el = _latest(elsets)
    _merge_info(info, satcat)
    _info_from_elsets(el, info)
    return CatalogSource("records", description, el, info, 0, _digest(el))


# ------------------------------------------------------------------------------------------------
# Selection

def owner_matches(info: ObjectInfo | None, owner: str) -> bool:
    """True when the object's SATCAT owner is ``owner`` (a SATCAT code or a partner trigraph)."""
    if info is None or not info.owner:
        return False
    want = owner.strip().upper()
    have = info.owner.strip().upper()
    return have == want or OWNER_CODE_TO_TRIGRAPH.get(have) == want or TRIGRAPH_TO_OWNER_CODE.get(want) == have


def mean_altitude_km(e: ElementSet) -> float:
    return e.semi_major_axis_km - astro.RE_KM


def _plane_angle_deg(a: ElementSet, b: ElementSet) -> float:
    i1, o1, i2, o2 = (math.radians(x) for x in (a.inclination, a.raan, b.inclination, b.raan))
    c = math.cos(i1) * math.cos(i2) + math.sin(i1) * math.sin(i2) * math.cos(o1 - o2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def filter_objects(cat_elsets: Sequence[ElementSet], info: dict[int, ObjectInfo], flt, *,
                   near: ElementSet | None = None, exclude: set[int] | None = None) -> list[ElementSet]:
    """Element sets matching every criterion of ``flt`` (a scenario ObjectFilter), best first.

    With ``near``, candidates are ranked by altitude difference plus plane angle (1° ~ 10 km) so that
    "a foreign satellite near the ISR satellite" means the closest in orbit; otherwise NORAD order.
    """
    exclude = exclude or set()
    out = []
    name = flt.name.upper() if flt.name else None
    for e in cat_elsets:
        if e.norad_id in exclude:
            continue
        if flt.norad is not None and e.norad_id != flt.norad:
            continue
        inf = info.get(e.norad_id)
        if name is not None and name not in ((inf.name if inf else "") or e.object_name or "").upper():
            continue
        if flt.owner is not None and not owner_matches(inf, flt.owner):
            continue
        if flt.not_owner and any(owner_matches(inf, o) for o in flt.not_owner):
            continue
        if flt.type is not None and (inf is None or (inf.object_type or "") != flt.type):
            continue
        if flt.regime is not None and regime_of(e.mean_motion, e.eccentricity) != flt.regime:
            continue
        if flt.inclination is not None and not (flt.inclination[0] <= e.inclination <= flt.inclination[1]):
            continue
        if flt.altitude_km is not None and not (flt.altitude_km[0] <= mean_altitude_km(e) <= flt.altitude_km[1]):
            continue
        out.append(e)
    if near is not None and out:
        alt0 = mean_altitude_km(near)
        score = np.array([abs(mean_altitude_km(e) - alt0) + 10.0 * _plane_angle_deg(e, near) for e in out])
        out = [out[i] for i in np.argsort(score, kind="stable")]
    return out


@dataclass
class Resolved:
    """What a scenario's object roles and assets resolved to on this catalogue."""

    roles: dict[str, int]  # role -> NORAD id
    created: list[tuple[ElementSet, ObjectInfo]]  # objects placed at STARTEX (not in the catalogue)
    assets: dict[str, list[int]]  # nation -> NORAD ids
    notes: list[str]

    def as_dict(self) -> dict:
        return {"roles": self.roles, "created": [i.as_dict() for _, i in self.created],
                "assets": self.assets, "notes": self.notes}


def placed_object(ref: ElementSet, ts: float, place, *, norad_id: int, owner: str) -> tuple[ElementSet, ObjectInfo]:
    """A new object at STARTEX ``ts``, ``place.rtn_km`` from ``ref`` (see :func:`astro.offset_state`)."""
    oid = place.object_id or f"EX-{norad_id}"
    dr, dt, dn = (float(x) for x in place.rtn_km)
    if dr == 0.0 and dn == 0.0:
        # Pure along-track: the same mean orbit shifted in phase (stays where it was put).
        es = astro.phased(ref, dt, norad_id=norad_id, object_name=place.name, object_id=oid)
    else:
        r, v = astro.state_of(ref, ts)
        r2, v2 = astro.offset_state(r, v, place.rtn_km)
        es = astro.fit_elset(r2, v2, ts, template=ref, norad_id=norad_id, object_name=place.name, object_id=oid)
    info = ObjectInfo(norad_id, place.name, oid, place.object_type, owner, place.mass_kg, None)
    return es, info


def resolve(scenario, cat: CatalogSource, start_ts: float) -> Resolved:
    """Pick every object role (in dependency order: ``near``/``relative_to`` first) and every asset."""
    from orbitwatch.errors import ValidationError as VE

    by_id = {e.norad_id: e for e in cat.elsets}
    roles: dict[str, int] = {}
    created: list[tuple[ElementSet, ObjectInfo]] = []
    notes: list[str] = []
    next_id = max([EXERCISE_ID_BASE] + [k + 1 for k in by_id if k >= EXERCISE_ID_BASE])
    pending = dict(scenario.objects)
    extra: dict[int, ElementSet] = {}
    guard = 0
    while pending:
        guard += 1
        if guard > 100:
            raise VE("object roles refer to each other in a circle (near / relative_to)", field="objects")
        progressed = False
        for role, spec in list(pending.items()):
            deps = {c.near for c in spec.select if c.near} | {c.place.relative_to for c in spec.select if c.place}
            if any(d not in roles for d in deps if d in scenario.objects and d != role):
                continue
            used = set(roles.values())
            chosen = None
            for k, ch in enumerate(spec.select):
                if ch.place is not None:
                    ref_id = roles[ch.place.relative_to]
                    ref = by_id.get(ref_id) or extra[ref_id]
                    nid = ch.place.norad or next_id
                    next_id = max(next_id, nid + 1)
                    es, inf = placed_object(ref, start_ts, ch.place, norad_id=nid, owner=spec.owner)
                    created.append((es, inf))
                    extra[nid] = es
                    chosen = nid
                    notes.append(f"{role}: placed {ch.place.rtn_km} km (RTN) from {ch.place.relative_to}")
                    break
                near = None
                if ch.near:
                    nid = roles[ch.near]
                    near = by_id.get(nid) or extra.get(nid)
                hits = filter_objects(cat.elsets, cat.info, ch, near=near, exclude=used)
                if hits:
                    chosen = hits[0].norad_id
                    notes.append(f"{role}: alternative {k + 1} matched {len(hits)} object(s); chose {chosen} "
                                 f"({cat.info.get(chosen).name if cat.info.get(chosen) else ''})")
                    break
            if chosen is None:
                raise VE(f"no object in this catalogue matches any alternative for role {role!r}; add a "
                         "'place' alternative so the scenario runs on any catalogue", field=f"objects.{role}")
            roles[role] = chosen
            del pending[role]
            progressed = True
        if not progressed:
            raise VE("object roles refer to each other in a circle (near / relative_to)", field="objects")
    assets: dict[str, list[int]] = {}
    all_el = list(cat.elsets) + list(extra.values())
    all_info = dict(cat.info)
    for _es, inf in created:
        all_info[inf.norad_id] = inf
    for p in scenario.participants:
        if not p.nation:
            continue
        ids: list[int] = []
        for a in p.assets:
            if a.ref:
                ids.append(roles[a.ref])
            ids.extend(n for n in a.norad if n in by_id or n in extra)
            missing = [n for n in a.norad if n not in by_id and n not in extra]
            if missing:
                notes.append(f"{p.nation}: assets {missing} are not in this catalogue")
            if a.select is not None:
                near = None
                if a.select.near:
                    nid = roles[a.select.near]
                    near = by_id.get(nid) or extra.get(nid)
                hits = filter_objects(all_el, all_info, a.select, near=near)
                ids.extend(h.norad_id for h in hits[: a.select.limit])
        seen: set[int] = set()
        assets[p.nation] = [i for i in ids if not (i in seen or seen.add(i))]
    return Resolved(roles, created, assets, notes)
