"""The exercise engine on a small catalogue: detections from the simulated world reach each nation as
its sensors and the releases allow; actions, consensus, contingencies and the red cell; restart exactly."""

from __future__ import annotations

import pytest
from exercise_fixtures import SCENARIO  # the shared mini scenario of this directory

from orbitwatch.demo.generate import generate_demo_catalog
from orbitwatch.errors import NotFound, PermissionDenied, ValidationError
from orbitwatch.exercise.catalog import records_catalog
from orbitwatch.exercise.engine import Exercise
from orbitwatch.exercise.players import ScriptedPlayers, load_players
from orbitwatch.store import open_engine


@pytest.fixture(scope="module")
def small_catalog():
    els, sc = generate_demo_catalog()
    keep = [e for e in els if (e.object_name or "").startswith(("SIM EO", "SIM ALLIED", "SIM INSPECTOR"))]
    ids = {e.norad_id for e in keep}
    return records_catalog(keep, [s for s in sc if s.norad_id in ids], "demo subset")


def _create(db_url, cat, **kw):
    return Exercise.create(open_engine(db_url), "mini.yaml", cat, text=SCENARIO, **kw)


def test_detections_follow_sensors_and_releases(sqlite_url, small_catalog):
    ex = _create(sqlite_url, small_catalog)
    isr, insp = ex.world.roles["isr"], ex.world.roles["inspector"]
    start = ex.start_ts
    # STARTEX: the inspector is already 5 km behind; every nation with LEO sensors holds the public
    # catalogue, NZL too (everyone holds the starting picture), so all see the proximity.
    first = [a for a in ex.alerts if a.kind == "proximity"]
    assert {a.nation for a in first} == {"USA", "GBR", "NZL"}
    assert all(a.sim_ts == start for a in first)
    ex.advance_to(start + 3 * 3600)
    man = [a for a in ex.alerts if a.kind == "manoeuvre" and "I-2" in a.causes]
    by_nation = {a.nation: a.sim_ts for a in man}
    burn = ex.injects["I-2"].fired_at
    assert burn == start + 3600
    assert by_nation["USA"] == burn + 1800  # 30 min sensor latency
    assert by_nation["GBR"] == burn + 3600  # 60 min
    assert "NZL" not in by_nation  # no sensors: must be told
    usa = next(a for a in man if a.nation == "USA")
    assert usa.severity == "high" and usa.detail["delta_v_mps"] > 0
    assert isr in usa.detail["approaching_assets"]
    # GBR does not hold the USA's product: for GBR it does not exist.
    with pytest.raises(NotFound):
        ex.act("GBR", "release", {"alert": usa.aid, "to": ["NZL"]})
    ex.act("USA", "release", {"alert": usa.aid, "to": "all"})
    assert ex.delivered("NZL", "alert", usa.aid)
    assert "NZL" in usa.marking.rel_to
    # NZL holds it now but is not its originator and has no product of its own to release.
    with pytest.raises(PermissionDenied):
        ex.act("NZL", "release", {"alert": usa.aid, "to": ["GBR"]})
    # The element set behind it is now held by NZL too: NZL's own view of the inspector is current.
    v = ex.world.view("NZL", insp, ex.sim_ts)
    assert v is ex.world.current[insp] or v.cause == "I-2"
    # Only its own assets can be manoeuvred; refusals are logged.
    with pytest.raises(PermissionDenied):
        ex.act("GBR", "manoeuvre", {"asset": "isr", "dv_rtn_mps": [0, 0.1, 0]})
    assert not ex.actions[-1].ok
    with pytest.raises(NotFound):
        ex.act("USA", "acknowledge", {"alert": 99999})
    with pytest.raises(ValidationError):
        ex.act("USA", "vote", {"proposal": "x"})


def test_contingency_consensus_and_red_cell(sqlite_url, small_catalog):
    ex = _create(sqlite_url, small_catalog)
    ex.advance_to(ex.start_ts + 2 * 3600)
    # Nobody released by T+4h: the contingency fires.
    ex.advance_to(ex.start_ts + 4 * 3600 + 1200)
    assert ex.injects["I-3"].status == "fired"
    assert any(m.ref == "I-3" for m in ex.messages)
    # A collective response under unanimity.
    a = ex.act("USA", "propose", {"title": "Joint statement on the inspector", "about": "inspector",
                                  "options": [{"id": "stmt", "text": "Public statement", "public": True}]})
    pid = a.result["proposal"]
    ex.act("GBR", "vote", {"proposal": pid, "position": "concur", "option": "stmt", "caveats": "cite UK data"})
    assert ex.proposals[pid].status == "open"
    ex.act("NZL", "vote", {"proposal": pid, "position": "concur", "option": "stmt"})
    p = ex.proposals[pid]
    assert (p.status, p.outcome) == ("adopted", "stmt")
    assert any(m.kind == "statement" and m.public for m in ex.messages)
    # The red cell reacts to a public call-out by a nation.
    ex.act("GBR", "notify", {"to": "PUBLIC", "about": "inspector", "public": True, "text": "Unsafe approach"})
    ex.step()
    assert "back-off" in ex.red_fired
    assert ex.injects["I-4"].status == "fired"
    assert ex.injects["I-4"].forced


def test_scripted_players_and_ratings(sqlite_url, small_catalog):
    from orbitwatch.exercise.metrics import compute

    players = ScriptedPlayers(load_players("p.yaml", text="""\
players:
  - nations: all
    when: {alert: [manoeuvre, proximity], about: inspector}
    after: 10m
    do: {action: acknowledge}
  - nations: [USA]
    when: {message: I-1}
    after: 20m
    do: {action: acknowledge}
  - nations: [USA]
    when: {alert: manoeuvre, about: inspector}
    after: 30m
    do: {action: release, to: all}
"""))
    ex = _create(sqlite_url, small_catalog, players=players)
    ex.run()
    assert ex.status == "ended"
    assert ex.injects["I-3"].status == "cancelled"  # the USA released in time
    m = compute(ex, gnss=False)
    o1 = m["objectives"][0]
    assert o1["rating"] == "P" and o1["missed"] == 0
    d = next(x for x in m["detection"] if x["inject"] == "I-2")
    assert d["time_to_detect_s"] == 1800 and d["first_alert_nation"] == "USA"
    # First alert: USA at burn + 30 min; NZL by release 30 min later, GBR by its own sensors then too.
    assert d["never_informed"] == [] and d["time_to_share_s"] == 1800
    assert m["decision_latency"]["USA"]["median_ack_s"] == 600


def test_restart_resumes_exactly(db_url, small_catalog):
    """Stop after T+3h, load in a fresh engine, finish: identical to an uninterrupted run."""
    def play(ex, until=None):
        while ex.status != "ended" and (until is None or ex.sim_ts < until):
            if ex.sim_ts >= ex.start_ts + 3600 * 2 and not any(a.kind == "release" for a in ex.actions):
                man = [a for a in ex.alerts if a.kind == "manoeuvre" and a.nation == "USA"]
                if man:
                    ex.act("USA", "release", {"alert": man[0].aid, "to": "all"})
            ex.step()

    a = _create(db_url, small_catalog)
    play(a)
    b = _create(db_url, small_catalog)
    play(b, until=b.start_ts + 3 * 3600)
    b.set_clock("accelerated", 30.0)
    eid = b.eid
    del b
    c = Exercise.load(open_engine(db_url), eid)
    assert c.sim_ts == c.start_ts + 3 * 3600 and (c.clock.mode, c.clock.rate) == ("accelerated", 30.0)
    c.set_clock("stepped")
    play(c)

    def sig(ex):
        return ([(x.kind, x.nation, x.sim_ts - ex.start_ts, x.title, tuple(x.causes), str(x.marking))
                 for x in ex.alerts],
                {k: (v.status, v.fired_at) for k, v in ex.injects.items()},
                [(x.nation, x.kind, x.sim_ts, x.ok) for x in ex.actions],
                sorted((k, v.elset.mean_anomaly, v.valid_from) for k, v in ex.world.current.items()),
                [(d.item_type, d.nation, d.sim_ts, d.via) for d in ex.deliveries])

    assert sig(a) == sig(c)
    # And the database holds what memory holds.
    d = Exercise.load(open_engine(db_url), eid)
    assert sig(d) == sig(c)


def test_launch_outage_and_accelerated_clock(sqlite_url, small_catalog):
    text = SCENARIO.replace("msel:\n", """msel:
  - id: L-1
    at: T+40m
    kind: launch
    owner: PRC
    place: {relative_to: isr, rtn_km: [0, 300, 0], name: "SHIYAN-99", object_id: "2026-950A"}
  - id: O-1
    at: T+30m
    kind: sensor_outage
    nation: GBR
    regimes: [LEO]
    duration: 2h
""")

    class Wall:
        t = 1_000_000.0

        def __call__(self):
            return self.t

    wall = Wall()
    ex = Exercise.create(open_engine(sqlite_url), "mini.yaml", small_catalog, text=text, wall=wall)
    ex.set_clock("accelerated", 3600.0)  # one simulated hour per wall second
    wall.t += 3.0
    assert ex.catch_up() == 9  # 3 h in 20-minute steps
    assert ex.sim_ts == ex.start_ts + 3 * 3600
    new = [a for a in ex.alerts if a.kind == "new_object"]
    assert {a.nation for a in new} == {"USA"}  # GBR's LEO sensors are out until T+2h30m
    assert new[0].sim_ts == ex.injects["L-1"].fired_at + 1800
    assert any(a.kind == "sensor_outage" and a.nation == "GBR" for a in ex.alerts)
    # GBR sees the inspector's burn (T+1h) only after its outage ends (T+2h30m) plus its latency (1 h).
    wall.t += 2.0
    ex.catch_up()
    gbr = [a for a in ex.alerts if a.kind == "manoeuvre" and a.nation == "GBR" and "I-2" in a.causes]
    assert gbr and min(a.sim_ts for a in gbr) == ex.start_ts + 3.5 * 3600
    ex.set_clock("paused")
    wall.t += 100.0
    assert ex.catch_up() == 0


def test_white_cell_fires_an_inject_now(sqlite_url, small_catalog):
    ex = _create(sqlite_url, small_catalog)
    st = ex.fire_inject("I-4")  # the red cell's back-off, forced by the white cell at STARTEX
    assert (st.status, st.forced, st.fired_at) == ("fired", True, ex.start_ts)
    with pytest.raises(ValidationError):
        ex.fire_inject("I-4")
    with pytest.raises(NotFound):
        ex.fire_inject("nope")
    again = Exercise.load(open_engine(sqlite_url), ex.eid).injects["I-4"]
    assert (again.status, again.forced) == ("fired", True)
