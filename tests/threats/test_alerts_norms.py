"""Alerts (derived markings, store round trip on SQLite and PostgreSQL, the reader filter), STIX 2.1
export, the norms ledger and report, and the lifetime model."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import literal

from orbitwatch.markings import Marking, nation_bit
from orbitwatch.threats.alerts import Alert, Evidence, from_breakup, from_proximity, load_alerts, save_alerts
from orbitwatch.threats.breakups import Breakup
from orbitwatch.threats.lifetime import ballistic_coefficient, density, lifetime_years
from orbitwatch.threats.norms import (
    load_rules,
    render_report,
    score_breakups,
    score_catalogue,
    score_conjunctions,
    score_proximity,
)
from orbitwatch.threats.proximity import CoOrbital, ProximityEvent
from orbitwatch.threats.stix import TLP2_IDS, export_bundle

GBR_ONLY = Marking.parse("SECRET//GBR EYES ONLY")
REL_USA_GBR = Marking.parse("UNCLASSIFIED//REL TO USA, GBR//TLP:AMBER")


def _event(state="DETECTED", sustained=True, closest=3.0, regime="LEO"):
    co = CoOrbital(1001, 2002, 0.01, -2.0, [(0.0, 50.0), (1.0, 3.0)], -40.0, 4, True, sustained, 5.0)
    return ProximityEvent(1001, 2002, state, closest, 1.7e9, (0.5, 2.0, 0.1), 0.002, sustained, True, 2, co, 5.0,
                          regime, "US", "PRC")


def test_alert_marking_is_derived_from_evidence():
    markings = {1001: [("elset 1001", REL_USA_GBR)], 2002: [("elset 2002", GBR_ONLY)]}
    a = from_proximity(_event(), marking_of=lambda n: markings.get(n, []))
    assert a.marking.classification == "SECRET"
    assert a.releasable_to == ["GBR"]
    assert any("not releasable" in r for r in a.marking_reasons)
    assert a.severity == "high"
    d = a.as_dict()
    assert d["payload"]["sustained"] is True and d["releasable_to"] == ["GBR"]


def test_closed_event_is_info():
    assert from_proximity(_event(state="CLOSED")).severity == "info"


def test_co_located_object_is_medium_not_low():
    ev = ProximityEvent(1001, 2002, "DETECTED", 0.0, 1.7e9, (0.0, 0.0, 0.0), 0.0, False, True, 1)
    assert from_proximity(ev).severity == "medium"  # zero relative speed is slow, not "unknown"


def test_store_round_trip_and_reader_filter(db_url):
    from orbitwatch.store import open_engine

    engine = open_engine(db_url)
    alerts = [
        Alert("proximity", "high", "a", "proximity:1:2", [1, 2], REL_USA_GBR, {"x": 1}, Evidence([{"norad": 1}])),
        Alert("breakup", "critical", "b", "breakup:1982-092", [13552], GBR_ONLY, {"y": 2}),
    ]
    with engine.begin() as conn:
        assert save_alerts(conn, alerts) == 2
    # same dedupe key again: updated, not duplicated
    again = Alert("proximity", "medium", "a2", "proximity:1:2", [1, 2], REL_USA_GBR, {"x": 3})
    with engine.begin() as conn:
        save_alerts(conn, [again])
    with engine.connect() as conn:
        got = load_alerts(conn)
        assert len(got) == 2
        prox = next(a for a in got if a.kind == "proximity")
        assert prox.title == "a2" and prox.payload == {"x": 3} and prox.id == alerts[0].id
        assert str(prox.marking) == str(REL_USA_GBR)

        # the sharing layer's filter: a USA reader at UNCLASSIFIED sees only what is released to USA
        def usa(t):
            return (t.c.rel_mask.op("&")(nation_bit("USA")) != literal(0)) & (t.c.class_rank <= 0)

        seen = load_alerts(conn, where=usa)
        assert [a.kind for a in seen] == ["proximity"]
        assert [a.kind for a in load_alerts(conn, min_severity="critical")] == ["breakup"]
        assert load_alerts(conn, since=2e9) == []
    engine.dispose()


def test_stix_bundle():
    stix2 = pytest.importorskip("stix2")
    a = Alert("proximity", "high", "2002 near 1001", "proximity:1001:2002", [1001, 2002], REL_USA_GBR,
              {"closest_km": 3.0, "tca": None}, Evidence([{"norad": 1001, "epoch": "2023-10-09T12:00:00Z"}]),
              1.7e9, "PRC", "DETECTED")
    b = export_bundle([a])
    parsed = stix2.parse(json.dumps(b), allow_custom=True)
    types = [o["type"] for o in b["objects"]]
    assert {"identity", "extension-definition", "marking-definition", "x-orbitwatch-space-event"} <= set(types)
    ev = next(o for o in b["objects"] if o["type"] == "x-orbitwatch-space-event")
    assert TLP2_IDS["AMBER"] in ev["object_marking_refs"]
    tlp = next(o for o in b["objects"] if o["id"] == TLP2_IDS["AMBER"])
    assert tlp["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"] == "amber"
    stmt = next(o for o in b["objects"] if o.get("definition_type") == "statement")
    assert "REL TO USA, GBR" in stmt["definition"]["statement"]
    assert ev["releasable_to"] == ["USA", "GBR"] and ev["norad_ids"] == [1001, 2002]
    assert "tca" not in ev["detection"]  # STIX forbids nulls
    assert len(parsed.objects) == len(b["objects"])
    # re-exporting gives the same STIX id for the same alert
    assert next(o for o in export_bundle([a])["objects"] if o["type"] == ev["type"])["id"] == ev["id"]


# ------------------------------------------------------------------------------------------- norms
def test_rules_cite_sources():
    rules = load_rules()
    for rid in ("unannounced-rpo", "destructive-asat-test", "long-lived-debris", "leo-disposal-25y",
                "leo-disposal-fcc-5y", "geo-disposal", "unmitigated-collision", "debris-generating-event"):
        assert rules.rules[rid].sources
    assert any("77/41" in s for s in rules.rules["destructive-asat-test"].sources)


def test_bad_rules_file_names_the_problem(tmp_path):
    from orbitwatch.errors import ValidationError

    p = tmp_path / "r.yaml"
    p.write_text("rules:\n  - id: x\n    title: t\n    applies_to: weather\n    severity: low\n    sources: [s]\n")
    with pytest.raises(ValidationError, match="applies_to"):
        load_rules(p)


def test_unannounced_rpo_only_against_another_state():
    rules = load_rules()
    ev = _event()
    entries = score_proximity([ev], rules, owners={1001: "US", 2002: "PRC"})
    assert [e.rule_id for e in entries] == ["unannounced-rpo"] and entries[0].actor == "PRC"
    assert score_proximity([ev], rules, owners={1001: "PRC", 2002: "PRC"}) == []
    assert score_proximity([_event(sustained=False)], rules, owners={1001: "US", 2002: "PRC"}) == []
    rules.announcements.append({"actor": "PRC", "object": 2002})
    assert score_proximity([ev], rules, owners={1001: "US", 2002: "PRC"}) == []


def _fragment(norad, perigee, apogee, bstar):
    from datetime import UTC, datetime

    from orbitwatch.formats.records import ElementSet

    a = 6378.135 + (perigee + apogee) / 2
    e = (apogee - perigee) / (2 * a)
    n = 86400.0 / (2 * 3.141592653589793 * (a**3 / 398600.8) ** 0.5)
    return ElementSet(norad, datetime(2022, 7, 14, tzinfo=UTC), n, e, 82.0, 10.0, 0.0, 0.0, bstar=bstar)


def test_breakup_entries_asat_and_long_lived():
    rules = load_rules()
    frags = {5000 + k: _fragment(5000 + k, 700 + k, 900 + k, 1e-5) for k in range(30)}
    b = Breakup(13552, "1982-092", sorted(frags), 1.637e9, "min-dispersion", "ASAT-like", parent_name="COSMOS 1408")
    entries = score_breakups([b], rules, owners={13552: "CIS"}, elsets=frags)
    rids = {e.rule_id for e in entries}
    assert {"destructive-asat-test", "debris-generating-event", "long-lived-debris"} <= rids
    assert all(e.actor == "CIS" for e in entries)
    ll = next(e for e in entries if e.rule_id == "long-lived-debris")
    assert ll.evidence["lifetime"]["share_over_limit"] == 1.0
    # the same breakup at 350 km: short-lived fragments, no long-lived-debris entry
    low = {k: _fragment(k, 340, 360, 1e-4) for k in frags}
    rids_low = {e.rule_id for e in score_breakups([b], rules, owners={13552: "CIS"}, elsets=low)}
    assert "long-lived-debris" not in rids_low
    a = from_breakup(b)
    assert a.severity == "critical"


def test_catalogue_disposal_rules():
    rules = load_rules()
    leo = _fragment(1, 800, 820, 1e-5)
    fcc_sat = _fragment(2, 600, 610, 2e-5)
    geo_dead = _fragment(3, 35786 + 30, 35786 + 60, 0.0)  # 45 km above GEO: drifts ~0.58 deg/day west
    satcat = {1: {"object_type": "PAYLOAD", "owner": "CIS"},
              2: {"object_type": "PAYLOAD", "owner": "US", "launch_date": "2025-01-10"},
              3: {"object_type": "PAYLOAD", "owner": "FR"}}
    entries = score_catalogue([leo, fcc_sat, geo_dead], rules, satcat=satcat)
    by = {(e.rule_id, e.subjects[0]) for e in entries}
    assert ("leo-disposal-25y", 1) in by
    assert ("leo-disposal-fcc-5y", 2) in by
    assert ("geo-disposal", 3) in by
    # still manoeuvring in the last year: mission not over, no disposal entry
    assert score_catalogue([leo], rules, satcat=satcat, manoeuvre_epochs={1: [leo.epoch_unix - 86400]},
                           now_ts=leo.epoch_unix) == []


def test_unmitigated_collision():
    rules = load_rules()
    c = {"norad1": 10, "norad2": 20, "tca_ts": 1.7e9, "miss_km": 0.2, "pc": 3e-4}
    capable = {10: [1.7e9 - 100 * 86400]}
    got = score_conjunctions([c], rules, owners={10: "US"}, manoeuvre_epochs=capable)
    assert [e.rule_id for e in got] == ["unmitigated-collision"]
    acted = {10: [1.7e9 - 100 * 86400, 1.7e9 - 3600]}
    assert score_conjunctions([c], rules, owners={10: "US"}, manoeuvre_epochs=acted) == []
    assert score_conjunctions([c], rules, owners={10: "US"}, manoeuvre_epochs={}) == []  # cannot manoeuvre


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_report_formats(fmt):
    rules = load_rules()
    entries = score_proximity([_event()], rules, owners={1001: "US", 2002: "PRC"})
    text = render_report(entries, rules, fmt=fmt, actor="PRC")
    assert "PRC" in text and "75/36" in text
    if fmt == "json":
        d = json.loads(text)
        assert d["actors"][0]["actor"] == "PRC" and d["actors"][0]["entries"] == 1
    if fmt == "html":
        assert text.startswith("<!doctype html>") and "<script" not in text
    assert "PRC" not in render_report(entries, rules, fmt="md", actor="CIS").split("# Responsible")[1]


def test_report_escapes_html():
    rules = load_rules()
    entries = score_proximity([_event()], rules, owners={1001: "US", 2002: "<b>X</b>"})
    assert "<b>X</b>" not in render_report(entries, rules, fmt="html")


# ---------------------------------------------------------------------------------------- lifetime
def test_density_table():
    assert density(0.0) == pytest.approx(1.225)
    assert density(400.0) == pytest.approx(3.725e-12)
    assert density(450.0) < density(400.0)


def test_twenty_five_year_altitude():
    """For C_D A/m of 0.01-0.02 m²/kg the 25-year altitude lies near 600 km, as the usual IADC guidance."""
    for b in (0.01, 0.02):
        alts = [h for h in range(400, 900, 10) if lifetime_years(h, h, b) > 25.0]
        assert 550 <= alts[0] <= 700


def test_bstar_to_ballistic_coefficient():
    assert ballistic_coefficient(3.5e-4) == pytest.approx(2 * 3.5e-4 / 0.15696615)
    assert ballistic_coefficient(0.0) == 0.02 and ballistic_coefficient(-1e-4) == 0.02
