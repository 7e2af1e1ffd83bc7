"""The norms-of-behaviour ledger: observed events scored against checkable rules with cited sources.

Rules live in ``norms_rules.yaml`` (shipped with the package; pass another file to change
thresholds). Each rule ``applies_to`` one kind of evidence:

* ``proximity`` - :class:`~orbitwatch.threats.proximity.ProximityEvent` (unannounced RPO),
* ``breakup`` - :class:`~orbitwatch.threats.breakups.Breakup` (ASAT tests, debris, long-lived debris),
* ``catalogue`` - element sets with SATCAT facts (LEO 25-year / FCC 5-year disposal, GEO disposal),
* ``conjunction`` - predicted conjunctions and the primary's manoeuvres (unmitigated collisions).

Every :class:`NormsEntry` names the actor (SATCAT owner code of the responsible object), the rule,
the evidence and the rule's sources. :func:`render_report` turns entries into a per-actor report in
Markdown, HTML or JSON, worded for a public statement: it states what was observed and against which
published guideline, not intent.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.markings import Marking, derive
from orbitwatch.threats.orbits import RE_KM, iso

GEO_ALT_KM = 35786.0
RULES_PATH = Path(__file__).with_name("norms_rules.yaml")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    applies_to: str
    severity: str
    thresholds: dict
    text: str
    sources: tuple[str, ...]


@dataclass
class Rules:
    rules: dict[str, Rule]
    announcements: list[dict] = field(default_factory=list)

    def by_kind(self, kind: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.applies_to == kind]


def load_rules(path: str | Path | None = None) -> Rules:
    """Read a rules file (default: the shipped ``norms_rules.yaml``); errors name the rule and field."""
    import yaml

    p = Path(path) if path else RULES_PATH
    try:
        doc = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(f"cannot read norms rules: {exc}", file=str(p)) from None
    rules = {}
    for i, r in enumerate(doc.get("rules") or []):
        for key in ("id", "title", "applies_to", "severity", "sources"):
            if key not in r:
                raise ValidationError(f"rule {i + 1} has no {key!r}", file=str(p), field=key)
        if r["applies_to"] not in ("proximity", "breakup", "catalogue", "conjunction"):
            raise ValidationError(f"rule {r['id']}: applies_to {r['applies_to']!r} is not one of proximity, "
                                  "breakup, catalogue, conjunction", file=str(p), field="applies_to")
        if not r["sources"]:
            raise ValidationError(f"rule {r['id']} cites no source", file=str(p), field="sources")
        rules[r["id"]] = Rule(r["id"], r["title"], r["applies_to"], r["severity"], dict(r.get("thresholds") or {}),
                              str(r.get("text", "")).strip(), tuple(r["sources"]))
    return Rules(rules, list(doc.get("announcements") or []))


@dataclass
class NormsEntry:
    """One ledger entry: ``actor`` (SATCAT owner code) did what ``rule_id`` describes, per ``evidence``."""

    rule_id: str
    actor: str
    event_ts: float | None
    subjects: list[int]
    summary: str
    severity: str
    evidence: dict
    sources: list[str]
    marking: Marking = field(default_factory=Marking)
    created_ts: float = field(default_factory=time.time)
    alert_id: str | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            key = f"{self.rule_id}:{self.actor}:{','.join(map(str, self.subjects))}:{self.evidence.get('key', '')}"
            self.id = "norm-" + hashlib.sha1(key.encode()).hexdigest()[:24]

    def as_dict(self) -> dict:
        return {"id": self.id, "rule": self.rule_id, "actor": self.actor,
                "event_time": None if self.event_ts is None else iso(self.event_ts), "subjects": self.subjects,
                "summary": self.summary, "severity": self.severity, "evidence": self.evidence,
                "sources": self.sources, "marking": str(self.marking), "alert_id": self.alert_id}


def _entry(rule: Rule, actor: str | None, event_ts, subjects, summary, evidence, marking) -> NormsEntry:
    return NormsEntry(rule.id, (actor or "UNKNOWN").upper(), event_ts, list(subjects), summary, rule.severity,
                      evidence, list(rule.sources), marking or Marking())


# --------------------------------------------------------------------------------------------------
def score_proximity(events: Iterable, rules: Rules, *, owners: Mapping[int, str | None],
                    markings: Mapping[int, Marking] | None = None) -> list[NormsEntry]:
    """Unannounced RPO: a sustained approach within the threshold to an object of *another* owner."""
    out = []
    for rule in rules.by_kind("proximity"):
        th = rule.thresholds
        for ev in events:
            if ev.state == "CLOSED" or ev.closest_km is None:
                continue
            limit = th.get("max_range_geo_km", 100.0) if ev.regime == "GEO" else th.get("max_range_km", 50.0)
            if ev.closest_km > limit or (th.get("require_sustained", True) and not ev.sustained):
                continue
            actor, victim = owners.get(ev.object), owners.get(ev.asset)
            if actor is None or actor == victim:
                continue
            if _announced(rules.announcements, actor, ev.object, ev.asset, ev.tca_ts):
                continue
            mk = _marking([ev.asset, ev.object], markings)
            out.append(_entry(rule, actor, ev.tca_ts, [ev.object, ev.asset],
                              f"{ev.object} ({actor}) operated within {ev.closest_km:.1f} km of {ev.asset} "
                              f"({victim or 'unknown owner'}) in a sustained co-orbital approach; "
                              "no notification on record",
                              {"key": f"{ev.asset}:{ev.object}", "proximity": ev.as_dict()}, mk))
    return out


def _announced(announcements, actor, obj, asset, ts) -> bool:
    for a in announcements:
        if str(a.get("actor", "")).upper() != actor.upper() or int(a.get("object", -1)) != obj:
            continue
        if a.get("asset") is not None and int(a["asset"]) != asset:
            continue
        lo = datetime.fromisoformat(str(a["start"])).replace(tzinfo=UTC).timestamp() if a.get("start") else -math.inf
        hi = datetime.fromisoformat(str(a["end"])).replace(tzinfo=UTC).timestamp() if a.get("end") else math.inf
        if ts is None or lo <= ts <= hi:
            return True
    return False


def _marking(subjects, markings) -> Marking:
    ms = [(f"element sets of {s}", (markings or {}).get(s) or Marking()) for s in subjects]
    return derive(ms).marking


def score_breakups(breakups: Iterable, rules: Rules, *, owners: Mapping[int, str | None],
                   elsets: Mapping[int, ElementSet] | None = None,
                   markings: Mapping[int, Marking] | None = None) -> list[NormsEntry]:
    """ASAT tests, debris-generating events and long-lived debris, attributed to the parent's owner
    (and, for a collision, to neither party as a test: only as a debris-generating event)."""
    from orbitwatch.threats.lifetime import elset_lifetime_years

    out = []
    for b in breakups:
        actor = owners.get(b.parent) if b.parent is not None else None
        subj = [b.parent] if b.parent is not None else []
        mk = _marking(subj + b.fragments[:20], markings)
        base_ev = {"key": b.designator, "breakup": {k: v for k, v in b.as_dict().items() if k != "fragments"},
                   "fragments_sample": b.fragments[:20]}
        for rule in rules.by_kind("breakup"):
            th = rule.thresholds
            if b.kind not in th.get("kinds", [b.kind]) or len(b.fragments) < th.get("min_fragments", 1):
                continue
            if "lifetime_years" in th:
                if not elsets:
                    continue
                lts = [elset_lifetime_years(elsets[f]) for f in b.fragments if f in elsets]
                if not lts:
                    continue
                long = [x for x in lts if x > th["lifetime_years"]]
                share = len(long) / len(lts)
                if share < th.get("min_fraction", 0.1):
                    continue
                ev = dict(base_ev, lifetime={"fragments_assessed": len(lts), "share_over_limit": round(share, 3),
                                             "median_years": round(sorted(lts)[len(lts) // 2], 1),
                                             "limit_years": th["lifetime_years"]})
                summary = (f"{share:.0%} of {len(lts)} assessed fragments of {b.parent_name or b.designator} "
                           f"have estimated lifetimes above {th['lifetime_years']:.0f} years")
            else:
                ev = base_ev
                when = "undated" if b.epoch_ts is None else iso(b.epoch_ts)
                summary = (f"{b.kind} breakup of {b.parent_name or b.parent} ({b.designator}) at {when}: "
                           f"{len(b.fragments)} catalogued fragments")
            out.append(_entry(rule, actor, b.epoch_ts, subj, summary, ev, mk))
    return out


def score_catalogue(elsets: Iterable[ElementSet], rules: Rules, *, satcat: Mapping[int, Mapping],
                    manoeuvre_epochs: Mapping[int, Sequence[float]] | None = None, now_ts: float | None = None,
                    markings: Mapping[int, Marking] | None = None) -> list[NormsEntry]:
    """Disposal rules over a catalogue. An object is taken as inactive when its history shows no
    manoeuvre in ``inactive_days`` (objects without history are judged by orbit alone and the entry
    says so). GEO: drifting faster than ``drift_deg_day`` means no station-keeping."""
    from orbitwatch.threats.geo import drift_rate_deg_day
    from orbitwatch.threats.lifetime import elset_lifetime_years

    now_ts = now_ts or time.time()
    out = []
    for es in elsets:
        info = satcat.get(es.norad_id) or {}
        otype = (info.get("object_type") or "").upper()
        owner = info.get("owner")
        a = es.semi_major_axis_km
        perigee = a * (1 - es.eccentricity) - RE_KM
        apogee = a * (1 + es.eccentricity) - RE_KM
        mans = (manoeuvre_epochs or {}).get(es.norad_id)
        for rule in rules.by_kind("catalogue"):
            th = rule.thresholds
            if th.get("object_types") and otype not in th["object_types"]:
                continue
            if th.get("owners") and (owner or "").upper() not in th["owners"]:
                continue
            if th.get("launched_after") and (info.get("launch_date") or "") <= str(th["launched_after"]):
                continue
            basis = "orbit only (no element-set history)"
            if mans is not None:
                recent = [t for t in mans if now_ts - t <= th.get("inactive_days", 365) * 86400.0]
                if recent:
                    continue  # still manoeuvring: the mission is not over
                basis = f"no manoeuvre detected in the last {th.get('inactive_days', 365)} days of history"
            if "cr" in th:  # GEO disposal
                drift = abs(float(drift_rate_deg_day(es.mean_motion)))
                in_band = abs(a - RE_KM - GEO_ALT_KM) <= th.get("protected_band_km", 200.0) + 500.0
                if not in_band or drift < th.get("drift_deg_day", 0.1) or otype not in ("PAYLOAD", "ROCKET BODY", ""):
                    continue
                need = GEO_ALT_KM + 235.0 + 1000.0 * th["cr"] * th["area_to_mass_m2_kg"]
                if perigee >= need:
                    continue
                summary = (f"{es.norad_id} drifts {drift:.2f}°/day with perigee {perigee:.0f} km, below the IADC "
                           f"minimum {need:.0f} km (GEO + 235 + 1000·{th['cr']}·{th['area_to_mass_m2_kg']})")
                ev = {"key": f"{es.norad_id}", "perigee_km": round(perigee, 1), "apogee_km": round(apogee, 1),
                      "drift_deg_day": round(drift, 4), "required_perigee_km": round(need, 1),
                      "element_set": {"epoch": iso(es.epoch_unix), "element_set_no": es.element_set_no},
                      "basis": basis}
            else:
                if perigee > th.get("max_perigee_km", 2000.0):
                    continue
                life = elset_lifetime_years(es)
                if life <= th["lifetime_years"]:
                    continue
                summary = (f"{es.norad_id} ({otype.lower() or 'object'}) at {perigee:.0f} x {apogee:.0f} km has an "
                           f"estimated remaining lifetime of {life:.0f} years (> {th['lifetime_years']:.0f})")
                ev = {"key": f"{es.norad_id}", "perigee_km": round(perigee, 1), "apogee_km": round(apogee, 1),
                      "bstar": es.bstar, "lifetime_years": round(life, 1),
                      "element_set": {"epoch": iso(es.epoch_unix), "element_set_no": es.element_set_no},
                      "basis": basis}
            out.append(_entry(rule, owner, es.epoch_unix, [es.norad_id], summary, ev,
                              _marking([es.norad_id], markings)))
    return out


def score_conjunctions(conjunctions: Iterable[Mapping], rules: Rules, *, owners: Mapping[int, str | None],
                       manoeuvre_epochs: Mapping[int, Sequence[float]],
                       markings: Mapping[int, Marking] | None = None) -> list[NormsEntry]:
    """``conjunctions``: mappings with ``norad1`` (primary), ``norad2``, ``tca_ts``, ``miss_km`` and optional
    ``pc``. The primary counts as manoeuvrable if it manoeuvred within the lookback before TCA; the
    entry is made when it did not manoeuvre between ``TCA - lead`` and TCA."""
    out = []
    for rule in rules.by_kind("conjunction"):
        th = rule.thresholds
        for c in conjunctions:
            risky = c["miss_km"] <= th.get("max_miss_km", 1.0) or (c.get("pc") or 0.0) >= th.get("min_pc", 1e-4)
            if not risky:
                continue
            tca = c["tca_ts"]
            mans = manoeuvre_epochs.get(c["norad1"], [])
            capable = any(tca - th.get("manoeuvre_lookback_days", 365) * 86400.0 <= t < tca for t in mans)
            acted = any(tca - th.get("decision_lead_hours", 72) * 3600.0 <= t <= tca for t in mans)
            if not capable or acted:
                continue
            actor = owners.get(c["norad1"])
            pc = f", Pc {c['pc']:.1e}" if c.get("pc") else ""
            summary = (f"{c['norad1']} passed a predicted conjunction with {c['norad2']} (miss {c['miss_km']:.3f} km"
                       f"{pc}) without manoeuvring, although it manoeuvres")
            out.append(_entry(rule, actor, tca, [c["norad1"], c["norad2"]], summary,
                              {"key": f"{c['norad1']}:{c['norad2']}:{int(tca)}", "conjunction": dict(c)},
                              _marking([c["norad1"], c["norad2"]], markings)))
    return out


# --------------------------------------------------------------------------------------------------
# Store
def save_entries(conn, entries: Sequence[NormsEntry]) -> int:
    """Insert or replace ledger entries (by id). Runs inside the caller's transaction."""
    from orbitwatch.store.base import marking_values
    from orbitwatch.store.schema_threats import norms_entries as t

    for e in entries:
        conn.execute(t.delete().where(t.c.id == e.id))
        conn.execute(t.insert().values(
            id=e.id, rule_id=e.rule_id, actor=e.actor, event_ts=e.event_ts, created_ts=e.created_ts,
            subjects=json.dumps(e.subjects), summary=e.summary, severity=e.severity,
            evidence=json.dumps(e.evidence, default=str), sources=json.dumps(e.sources), alert_id=e.alert_id,
            **marking_values(e.marking)))
    return len(entries)


def load_entries(conn, *, where=None, actor: str | None = None) -> list[NormsEntry]:
    from sqlalchemy import select

    from orbitwatch.store.base import marking_from_row
    from orbitwatch.store.schema_threats import norms_entries as t

    q = select(t)
    if where is not None:
        q = q.where(where(t))
    if actor:
        q = q.where(t.c.actor == actor.upper())
    q = q.order_by(t.c.actor, t.c.event_ts, t.c.id)
    return [NormsEntry(r.rule_id, r.actor, r.event_ts, json.loads(r.subjects), r.summary, r.severity,
                       json.loads(r.evidence), json.loads(r.sources), marking_from_row(r), r.created_ts, r.alert_id,
                       r.id) for r in conn.execute(q)]


# --------------------------------------------------------------------------------------------------
# Report
def report_data(entries: Sequence[NormsEntry], rules: Rules, *, actor: str | None = None) -> dict:
    """The report as data: per actor, per rule, the entries (newest first) and the cited sources."""
    sel = [e for e in entries if actor is None or e.actor == actor.upper()]
    actors: dict[str, dict] = {}
    for e in sel:
        a = actors.setdefault(e.actor, {"actor": e.actor, "entries": 0, "by_rule": {}})
        a["entries"] += 1
        r = a["by_rule"].setdefault(e.rule_id, {"rule": e.rule_id, "title": rules.rules[e.rule_id].title
                                                if e.rule_id in rules.rules else e.rule_id,
                                                "sources": e.sources, "entries": []})
        r["entries"].append(e.as_dict())
    for a in actors.values():
        for r in a["by_rule"].values():
            r["entries"].sort(key=lambda x: x["event_time"] or "", reverse=True)
    marking = derive([(e.id, e.marking) for e in sel]).marking if sel else Marking()
    return {"generated": iso(time.time()), "marking": str(marking), "actor_filter": actor,
            "actors": sorted(actors.values(), key=lambda a: (-a["entries"], a["actor"]))}


def render_report(entries: Sequence[NormsEntry], rules: Rules, *, fmt: str = "md",
                  actor: str | None = None) -> str:
    """Per-actor behaviour report in ``md``, ``html`` or ``json``."""
    data = report_data(entries, rules, actor=actor)
    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    if fmt == "md":
        return _markdown(data)
    if fmt == "html":
        return _html(data)
    raise ValidationError(f"unknown report format {fmt!r}; expected md, html or json", field="format")


def _markdown(d: dict) -> str:
    lines = [f"**{d['marking']}**", "", "# Responsible behaviour in space: observed events", "",
             f"Generated {d['generated']}. Each entry states what the catalogue shows and the published "
             "guideline it is measured against; it does not assert intent.", ""]
    if not d["actors"]:
        lines.append("No entries.")
    for a in d["actors"]:
        lines += [f"## {a['actor']} ({a['entries']} entries)", ""]
        for r in a["by_rule"].values():
            lines += [f"### {r['title']}", "", "Measured against: " + "; ".join(r["sources"]), ""]
            for e in r["entries"]:
                when = e["event_time"] or "date not established"
                lines.append(f"- **{when}** - {e['summary']} (objects: {', '.join(map(str, e['subjects']))}; "
                             f"entry `{e['id']}`)")
            lines.append("")
    lines += [f"**{d['marking']}**", ""]
    return "\n".join(lines)


def _html(d: dict) -> str:
    from jinja2 import Environment

    env = Environment(autoescape=True)
    tpl = env.from_string(_HTML)
    return tpl.render(d=d, esc=html.escape)


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Responsible behaviour in space: observed events</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}.banner{text-align:center;font-weight:bold;
background:#2e7d32;color:#fff;padding:.3em}li{margin:.3em 0}.src{color:#555;font-size:.9em}</style></head>
<body><div class="banner">{{ d.marking }}</div>
<h1>Responsible behaviour in space: observed events</h1>
<p>Generated {{ d.generated }}. Each entry states what the catalogue shows and the published guideline it is
measured against; it does not assert intent.</p>
{% if not d.actors %}<p>No entries.</p>{% endif %}
{% for a in d.actors %}<h2>{{ a.actor }} ({{ a.entries }} entries)</h2>
{% for r in a.by_rule.values() %}<h3>{{ r.title }}</h3>
<p class="src">Measured against: {{ r.sources | join("; ") }}</p><ul>
{% for e in r.entries %}<li><b>{{ e.event_time or "date not established" }}</b> - {{ e.summary }}
<span class="src">(objects {{ e.subjects | join(", ") }}; entry {{ e.id }})</span></li>{% endfor %}</ul>
{% endfor %}{% endfor %}
<div class="banner">{{ d.marking }}</div></body></html>
"""
