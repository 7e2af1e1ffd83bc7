"""Upload through the API: marking checks, per-record errors, audit in the same transaction, filtering."""

from __future__ import annotations

import pytest

from orbitwatch.sharing.audit import AuditLog

ISS = ("ISS (ZARYA)\n"
       "1 25544U 98067A   23282.50000000  .00016717  00000-0  10270-3 0  9997\n"
       "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391417423\n")
BAD = "1 25545U 98067A   23282.50000000  .00016717  00000-0  10270-3 0  9990\n"


def _p(node, nation, clearance="SECRET"):
    return next(p for p in node.principals if p.nation == nation and p.clearance == clearance)


def _upload(node, who, marking, text=ISS, name="iss.tle"):
    return node.client.post("/api/v1/ingest", headers=node.headers(who), data={"marking": marking},
                            files={"file": (name, text.encode())})


def test_ingest_marks_filters_and_audits(node):
    gbr, fra, usa = _p(node, "GBR"), _p(node, "FRA"), _p(node, "USA")
    r = _upload(node, gbr, "SECRET//REL TO USA, GBR", ISS + BAD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1 and body["rejected"] == 1
    err = body["errors"][0]
    assert err["file"] == "iss.tle" and err["line"] == 4 and err["reason"]
    for who, visible in ((gbr, True), (usa, True), (fra, False), (_p(node, "USA", "CONFIDENTIAL"), False)):
        items = node.client.get("/api/v1/elsets/latest?norad_id=25544", headers=node.headers(who)).json()["items"]
        assert bool(items) is visible, who
        if items:
            assert items[0]["marking"] == "SECRET//REL TO USA, GBR" and items[0]["nation"] == "GBR"
    with node.engine.connect() as conn:
        entry = AuditLog.entries(conn, action="ingest")[0]
    assert entry.actor == gbr.username and entry.detail["accepted"] == 1
    assert entry.detail["marking"] == "SECRET//REL TO USA, GBR"


@pytest.mark.parametrize(("marking", "status", "text"), [
    ("SECRET//REL TO USA, AUS", 422, "does not include the originator GBR"),
    ("SECRET", 422, "needs a releasability"),
    ("SECRET//REL TO USA, XYZ", 422, "unknown trigraph"),
])
def test_ingest_refuses_bad_markings(node, marking, status, text):
    r = _upload(node, _p(node, "GBR"), marking)
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
    assert text in r.json()["detail"]


def test_ingest_needs_a_role_and_a_nation(node):
    org = next(p for p in node.principals if p.organisation == "ACME")
    assert _upload(node, org, "UNCLASSIFIED//TLP:CLEAR").status_code == 403


def test_unreadable_content_is_a_located_error(node):
    r = _upload(node, _p(node, "GBR"), "UNCLASSIFIED", text="hello world\n", name="junk.txt")
    body = r.json()
    assert body["accepted"] == 0 and body["rejected"] == 1 and body["errors"][0]["file"] == "junk.txt"


def test_ingest_does_not_reveal_records_of_other_nations(node):
    usa, gbr = _p(node, "USA"), _p(node, "GBR")
    assert _upload(node, usa, "SECRET//USA EYES ONLY").json()["accepted"] == 1
    body = _upload(node, gbr, "UNCLASSIFIED//REL TO GBR").json()
    # GBR must neither learn that USA holds this element set nor lose its own copy.
    assert body["duplicates"] == 0
    items = node.client.get("/api/v1/elsets/latest?norad_id=25544", headers=node.headers(gbr)).json()["items"]
    assert items
