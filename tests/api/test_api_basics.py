"""HTTP behaviour: problem+json errors, authentication, sessions, limits, releases and audit via the API."""

from __future__ import annotations

import pytest

from orbitwatch.api import create_app
from orbitwatch.api.testing import AsgiClient
from orbitwatch.api.testing import node_settings as make_settings
from orbitwatch.errors import ConfigurationError
from orbitwatch.markings import Marking
from orbitwatch.settings import Settings
from orbitwatch.sharing import identity
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.testing import MarkedRecord, insert_records
from orbitwatch.store.engine import open_engine


def _p(node, nation, clearance="SECRET"):
    return next(p for p in node.principals if p.nation == nation and p.clearance == clearance)


def test_openapi_is_served_and_lists_resources(node):
    spec = node.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/objects", "/api/v1/objects/{norad_id}", "/api/v1/elsets/latest",
                 "/api/v1/objects/{norad_id}/elsets", "/api/v1/ingest", "/api/v1/releases", "/api/v1/audit",
                 "/api/v1/conjunctions", "/api/v1/alerts", "/auth/login"):
        assert path in spec["paths"], path


def test_unauthenticated_and_bad_tokens_are_problems(node):
    node.app_public = False
    for headers in ({"Authorization": "Bearer ow_nonsense"}, {"Authorization": "Basic abc"}):
        r = node.client.get("/api/v1/whoami", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        body = r.json()
        assert body["status"] == 401 and body["title"] == "Unauthorized" and body["instance"] == "/api/v1/whoami"
    assert node.client.get("/api/v1/whoami").status_code == 401


def test_invalid_parameters_are_422_problems_naming_the_field(node):
    h = node.headers(_p(node, "GBR"))
    r = node.client.get("/api/v1/objects?limit=0&regime=MARS", headers=h)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"limit", "regime"} <= fields
    r = node.client.get("/api/v1/objects/notanumber", headers=h)
    assert r.status_code == 422


def test_result_cap_applies(db_url):
    engine = open_engine(db_url)
    m = Marking()
    insert_records(engine, [MarkedRecord(100 + i, m, m, "USA") for i in range(12)])
    identity.create_user(engine, "u", nation="USA", clearance="UNCLASSIFIED")
    tok, _ = identity.issue_token(engine, "u")
    client = AsgiClient(create_app(make_settings(max_page_size=5), engine))
    try:
        h = {"Authorization": f"Bearer {tok}"}
        body = client.get("/api/v1/objects?limit=1000&count=true", headers=h).json()
        assert len(body["items"]) == 5 and body["limit"] == 5 and body["total"] == 12
        assert body["next_offset"] == 5
        body = client.get("/api/v1/objects?limit=1000", headers=h).json()
        assert "total" not in body and body["next_offset"] == 5
        body = client.get("/api/v1/objects?limit=5&offset=10", headers=h).json()
        assert [it["norad_id"] for it in body["items"]] == [110, 111]
        assert body["total"] == 12 and "next_offset" not in body
    finally:
        client.close()
        engine.dispose()


def test_rate_limit_answers_429_with_retry_after(sqlite_url):
    engine = open_engine(sqlite_url)
    identity.create_user(engine, "u", nation="USA", clearance="SECRET")
    tok, _ = identity.issue_token(engine, "u")
    identity.create_user(engine, "v", nation="GBR", clearance="SECRET")
    tok2, _ = identity.issue_token(engine, "v")
    client = AsgiClient(create_app(make_settings(rate_limit_per_minute=60), engine))  # burst 10
    try:
        codes = [client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {tok}"}).status_code
                 for _ in range(12)]
        assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
        r = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {tok}"})
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1 and r.json()["status"] == 429
        # Another token has its own bucket.
        assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {tok2}"}).status_code == 200
    finally:
        client.close()


def test_body_size_limit_answers_413(sqlite_url):
    engine = open_engine(sqlite_url)
    identity.create_user(engine, "u", nation="USA", clearance="SECRET")
    tok, _ = identity.issue_token(engine, "u")
    client = AsgiClient(create_app(make_settings(max_request_bytes=2000), engine))
    try:
        r = client.post("/api/v1/ingest", headers={"Authorization": f"Bearer {tok}"},
                        data={"marking": "UNCLASSIFIED"}, files={"file": ("big.tle", b"x" * 5000)})
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        assert "2000 bytes" in r.json()["detail"]
    finally:
        client.close()


def test_default_secret_refused_outside_development(sqlite_url):
    with pytest.raises(ConfigurationError, match="ORBITWATCH_SECRET_KEY"):
        create_app(Settings(environment="production"), open_engine(sqlite_url))


def test_browser_login_session_cookie_and_logout(db_url):
    engine = open_engine(db_url)
    identity.create_user(engine, "analyst", nation="CAN", clearance="SECRET", password="a long password")
    client = AsgiClient(create_app(make_settings(), engine))
    try:
        r = client.post("/auth/login", data={"username": "analyst", "password": "wrong password"})
        assert r.status_code == 401 and "set-cookie" not in r.headers
        r = client.post("/auth/login", data={"username": "analyst", "password": "a long password"})
        assert r.status_code == 200 and r.json()["nation"] == "CAN"
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "ow_session=ows_" in cookie
        assert client.get("/api/v1/whoami").json()["auth"] == "session"
        client.post("/auth/logout")
        client.cookies.clear()
        assert client.get("/api/v1/whoami").status_code == 401
        with engine.connect() as conn:
            actions = [e.action for e in AuditLog.entries(conn, newest_first=False)]
        assert actions == ["login_failed", "login", "logout"]
    finally:
        client.close()
        engine.dispose()


def test_release_through_the_api_is_visible_at_once(node):
    gbr_only = Marking.parse("SECRET//GBR EYES ONLY")
    insert_records(node.engine, [MarkedRecord(41000, gbr_only, gbr_only, "GBR")])
    gbr, aus = _p(node, "GBR"), _p(node, "AUS")
    assert node.client.get("/api/v1/objects/41000", headers=node.headers(aus)).status_code == 404
    r = node.client.post("/api/v1/releases", headers=node.headers(aus),
                         json={"target": "object", "key": 41000, "nations": ["AUS"]})
    assert r.status_code == 404  # AUS may not even learn that it exists
    r = node.client.post("/api/v1/releases", headers=node.headers(gbr),
                         json={"target": "object", "key": 41000, "nations": ["AUS"], "reason": "exercise"})
    assert r.status_code == 201, r.text
    assert r.json()["nations_added"] == ["AUS"]
    body = node.client.get("/api/v1/objects/41000", headers=node.headers(aus)).json()
    assert body["marking"] == "SECRET//REL TO AUS, GBR"
    listed = node.client.get("/api/v1/releases", headers=node.headers(gbr)).json()["items"]
    assert listed and listed[0]["added_nations"] == "AUS"
    assert node.client.get("/api/v1/releases", headers=node.headers(aus)).json()["items"] == []


def test_audit_is_admin_only_and_records_restricted_reads(node):
    secret = Marking.parse("SECRET//REL TO USA, GBR")
    insert_records(node.engine, [MarkedRecord(42000, secret, secret, "USA")])
    usa = _p(node, "USA")
    assert node.client.get("/api/v1/objects/42000", headers=node.headers(usa)).status_code == 200
    assert node.client.get("/api/v1/audit", headers=node.headers(usa)).status_code == 403
    admin = node.headers("admin")
    verify = node.client.get("/api/v1/audit/verify", headers=admin).json()  # flushes pending reads
    assert verify["ok"] is True
    reads = node.client.get("/api/v1/audit?action=read", headers=admin).json()["items"]
    assert any(e["resource"] == "objects/42000" and e["actor"] == usa.username for e in reads)
    # Unrestricted reads (UNCLASSIFIED, all partners) are the public picture: not logged.
    insert_records(node.engine, [MarkedRecord(42001, Marking(), Marking(), "USA")])
    node.client.get("/api/v1/objects/42001", headers=node.headers(usa))
    node.client.get("/api/v1/audit/verify", headers=admin)
    reads = node.client.get("/api/v1/audit?action=read", headers=admin).json()["items"]
    assert not any(e["resource"] == "objects/42001" for e in reads)


def test_tokens_issue_and_revoke_take_effect_at_once(node):
    usa = _p(node, "USA")
    r = node.client.post("/api/v1/tokens", headers=node.headers(usa), json={"name": "script", "days": 1})
    assert r.status_code == 201
    new = r.json()
    h = {"Authorization": f"Bearer {new['token']}"}
    assert node.client.get("/api/v1/whoami", headers=h).json()["username"] == usa.username
    mine = node.client.get("/api/v1/tokens", headers=h).json()["items"]
    assert all("token" not in t for t in mine) and len(mine) == 2
    # Another user cannot see or revoke it; the answer is the same as for an absent token.
    other = node.headers(_p(node, "GBR"))
    assert node.client.delete(f"/api/v1/tokens/{new['id']}", headers=other).status_code == 404
    assert node.client.delete(f"/api/v1/tokens/{new['id']}", headers=h).status_code == 200
    assert node.client.get("/api/v1/whoami", headers=h).status_code == 401


def test_nul_characters_are_input_errors_not_crashes(db_url):
    # PostgreSQL refuses NUL in text: found by schemathesis as a 500 on POST /auth/login.
    engine = open_engine(db_url)
    identity.create_user(engine, "u", nation="USA", clearance="SECRET")
    tok, _ = identity.issue_token(engine, "u")
    client = AsgiClient(create_app(make_settings(), engine))
    try:
        r = client.post("/auth/login", data={"username": "a\x00b", "password": "x\x00y"})
        assert r.status_code == 401
        r = client.get("/api/v1/objects?name=a%00b", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code in (200, 422) and r.headers["content-type"].startswith("application")
        r = client.get("/basicspacedata/query/class/gp/OBJECT_NAME/a%00b", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code < 500
    finally:
        client.close()
        engine.dispose()


def test_restricted_reads_are_in_the_chain_before_the_answer_leaves(node):
    # The answer waits for its audit entry's commit (group commit): read the table straight after it,
    # without the flush the admin verify endpoint does. If the chain cannot be written: 503, no data.
    from sqlalchemy import select

    from orbitwatch.store.schema_sharing import audit_log

    secret = Marking.parse("SECRET//REL TO USA, GBR")
    insert_records(node.engine, [MarkedRecord(42100, secret, secret, "USA")])
    usa = _p(node, "USA")
    for url in ("/api/v1/objects?norad_id=42100", "/api/v1/elsets/latest?norad_id=42100"):
        r = node.client.get(url, headers=node.headers(usa))
        assert r.status_code == 200 and len(r.json()["items"]) == 1
        with node.engine.connect() as conn:
            resources = conn.execute(select(audit_log.c.resource).where(audit_log.c.action == "read")).scalars().all()
        assert url.split("?")[0].removeprefix("/api/v1/") in resources, resources
    buffer = node.client.app.state.node.audit_buffer
    buffer._audit.write_batch = lambda engine, events: (_ for _ in ()).throw(RuntimeError("disk full"))
    buffer._attempts = 1
    r = node.client.get("/api/v1/objects?norad_id=42100", headers=node.headers(usa))
    assert r.status_code == 503 and "42100" not in r.text
    assert r.headers["content-type"] == "application/problem+json"
    # Unrestricted answers do not wait for the chain.
    assert node.client.get("/api/v1/objects?norad_id=1", headers=node.headers(usa)).status_code == 200
