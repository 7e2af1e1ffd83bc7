"""Live play over HTTP: the white cell runs the exercise; each nation reads only what its sensors and
partners' releases gave it (through the one read filter); players act only for their own nation."""

from __future__ import annotations

import pytest
from exercise_fixtures import SCENARIO  # the shared mini scenario of this directory

from orbitwatch.api import create_app
from orbitwatch.api.exercise_routes import router
from orbitwatch.api.testing import AsgiClient, node_settings
from orbitwatch.demo.generate import generate_demo_catalog
from orbitwatch.markings import Marking
from orbitwatch.sharing import identity
from orbitwatch.store import ingest_records, open_engine

USERS = {
    "usa": ("USA", ("analyst", "operator")), "gbr": ("GBR", ("analyst", "operator")),
    "nzl": ("NZL", ("analyst", "operator")), "fra": ("FRA", ("analyst", "operator")),
    "usa-analyst": ("USA", ("analyst",)), "excon": ("USA", ("exercise-control", "analyst")),
}


@pytest.fixture
def live(sqlite_url):
    engine = open_engine(sqlite_url)
    els, sc = generate_demo_catalog()
    keep = [e for e in els if (e.object_name or "").startswith(("SIM EO", "SIM ALLIED", "SIM INSPECTOR"))]
    ids = {e.norad_id for e in keep}
    ingest_records(engine, keep + [s for s in sc if s.norad_id in ids], marking=Marking.parse("UNCLASSIFIED"),
                   source="test")
    tokens = {}
    for name, (nation, roles) in USERS.items():
        identity.create_user(engine, name, nation=nation, clearance="SECRET", roles=roles)
        tokens[name], _ = identity.issue_token(engine, name)
    identity.create_user(engine, "acme", organisation="ACME", clearance="UNCLASSIFIED", roles=("analyst",),
                         organisations=("ACME",))
    tokens["acme"], _ = identity.issue_token(engine, "acme")
    app = create_app(node_settings(partner_organisations=("ACME",)), engine)
    app.include_router(router)
    client = AsgiClient(app)

    def call(user, method, url, **kw):
        return client.request(method, url, headers={"Authorization": f"Bearer {tokens[user]}"}, **kw)

    try:
        yield call
    finally:
        client.close()
        engine.dispose()


def _alerts(call, user, eid):
    r = call(user, "GET", f"/api/v1/exercises/{eid}/alerts")
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.mark.slow
def test_live_play_over_http(live):
    call = live
    # Only the white cell creates; a bad scenario answers 422 with every problem located.
    assert call("usa", "POST", "/api/v1/exercises", json={"scenario_yaml": SCENARIO}).status_code == 403
    bad = call("excon", "POST", "/api/v1/exercises", json={"scenario_yaml": SCENARIO.replace("8h", "8 hours")})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["line"] == 4 and bad.json()["errors"][0]["field"] == "exercise.duration"
    r = call("excon", "POST", "/api/v1/exercises", json={"scenario_yaml": SCENARIO, "catalog": "store"})
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    # Participants see it; others do not, and cannot tell it exists.
    assert [x["id"] for x in call("usa", "GET", "/api/v1/exercises").json()["items"]] == [eid]
    assert call("fra", "GET", "/api/v1/exercises").json()["items"] == []
    missing = call("fra", "GET", f"/api/v1/exercises/{eid}")
    assert missing.status_code == 404
    assert call("fra", "GET", "/api/v1/exercises/99999").json()["detail"].replace("99999", str(eid)) == \
        missing.json()["detail"]
    assert call("acme", "GET", f"/api/v1/exercises/{eid}").status_code == 404
    # Players do not see the MSEL; the white cell does.
    assert "injects" not in call("usa", "GET", f"/api/v1/exercises/{eid}").json()
    assert call("usa", "GET", f"/api/v1/exercises/{eid}/truth").status_code == 403
    # The white cell steps to T+3h: the inspector's burn at T+1h has been seen by US and UK sensors.
    r = call("excon", "POST", f"/api/v1/exercises/{eid}/step", json={"to": "T+3h"})
    assert r.status_code == 200 and r.json()["elapsed_h"] == 3.0
    usa = [a for a in _alerts(call, "usa", eid) if a["kind"] == "manoeuvre"]
    nzl = [a for a in _alerts(call, "nzl", eid) if a["kind"] == "manoeuvre"]
    assert usa and not nzl
    aid = usa[0]["id"]
    assert usa[0]["marking"] == "UNCLASSIFIED//USA EYES ONLY//EXERCISE"
    # Not released to NZL: 404 exactly like an alert that does not exist.
    a404 = call("nzl", "GET", f"/api/v1/exercises/{eid}/alerts/{aid}")
    n404 = call("nzl", "GET", f"/api/v1/exercises/{eid}/alerts/999999")
    assert a404.status_code == n404.status_code == 404
    assert a404.json()["detail"].replace(str(aid), "X") == n404.json()["detail"].replace("999999", "X")
    # NZL's view of the inspector is the starting catalogue; the USA's is the manoeuvred orbit.
    insp = call("excon", "GET", f"/api/v1/exercises/{eid}/truth").json()
    insp_id = next(d["objects"][0] for d in insp["detections"] if d["kind"] == "manoeuvre")

    def view(user):
        r = call(user, "GET", f"/api/v1/exercises/{eid}/elsets", params={"norad_id": insp_id})
        assert r.status_code == 200
        (item,) = r.json()["items"]
        return item

    assert view("usa")["mean_anomaly"] != view("nzl")["mean_anomaly"]
    # An analyst without the operator role cannot act; GBR cannot manoeuvre a US satellite.
    act = {"kind": "release", "payload": {"alert": aid, "to": "all"}}
    assert call("usa-analyst", "POST", f"/api/v1/exercises/{eid}/actions", json=act).status_code == 403
    gbr = call("gbr", "POST", f"/api/v1/exercises/{eid}/actions",
               json={"kind": "manoeuvre", "payload": {"asset": "isr", "dv_rtn_mps": [0, 0.1, 0]}})
    assert gbr.status_code == 403
    # The USA releases: NZL now has the alert (via release) and the element set behind it.
    r = call("usa", "POST", f"/api/v1/exercises/{eid}/actions", json=act)
    assert r.status_code == 201 and r.json()["ok"]
    assert call("nzl", "GET", f"/api/v1/exercises/{eid}/alerts/{aid}").status_code == 200
    feed = call("nzl", "GET", f"/api/v1/exercises/{eid}/feed").json()["items"]
    assert any(i["type"] == "alert" and i["item"]["id"] == aid and i["via"] == "release" for i in feed)
    assert view("usa")["mean_anomaly"] == view("nzl")["mean_anomaly"]
    # Every alert a nation reads is releasable to it (no leak through the list).
    for user, nation in (("usa", "USA"), ("gbr", "GBR"), ("nzl", "NZL")):
        for a in _alerts(call, user, eid):
            assert nation in Marking.parse(a["marking"]).rel_to
    # Actions are the nation's own.
    assert all(a["nation"] == "NZL" for a in call("nzl", "GET", f"/api/v1/exercises/{eid}/actions").json()["items"])
    # Clock and report for the white cell.
    r = call("excon", "POST", f"/api/v1/exercises/{eid}/clock", json={"mode": "accelerated", "rate": 60})
    assert r.status_code == 200 and r.json()["clock"] == {"mode": "accelerated", "rate": 60.0}
    html = call("excon", "GET", f"/api/v1/exercises/{eid}/report.html")
    banner = "UNCLASSIFIED//REL TO USA, AUS, CAN, DEU, FRA, GBR, ITA, JPN, NOR, NZL//EXERCISE"
    assert html.status_code == 200 and banner in html.text
    pdf = call("excon", "GET", f"/api/v1/exercises/{eid}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
