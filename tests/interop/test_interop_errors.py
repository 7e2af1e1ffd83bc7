"""Errors and rate limiting on the compatible routes take the shapes the real services use."""

from __future__ import annotations

from orbitwatch.api import create_app
from orbitwatch.api.testing import AsgiClient, node_settings
from orbitwatch.markings import Marking
from orbitwatch.sharing import identity
from orbitwatch.sharing.testing import MarkedRecord, insert_records
from orbitwatch.store.engine import open_engine


def _node(url: str, **settings):
    engine = open_engine(url)
    insert_records(engine, [MarkedRecord(25544, Marking(), Marking(), "USA")])
    identity.create_user(engine, "st-user", nation="USA", clearance="SECRET", password="space track pw")
    return AsgiClient(create_app(node_settings(**settings), engine))


def test_spacetrack_login_cookie_logout_and_rate_limit(db_url):
    c = _node(db_url, rate_limit_per_minute=60)  # bursts of 10
    try:
        r = c.post("/ajaxauth/login", data={"identity": "st-user", "password": "nope nope"})
        assert r.status_code == 200 and r.json() == {"Login": "Failed"}
        r = c.post("/ajaxauth/login", data={"identity": "st-user", "password": "space track pw"})
        assert r.status_code == 200 and r.json() == "" and "chocolatechip=" in r.headers["set-cookie"]
        codes = [c.get("/basicspacedata/query/class/gp/NORAD_CAT_ID/25544").status_code for _ in range(11)]
        assert codes[:10] == [200] * 10
        r = c.get("/basicspacedata/query/class/gp/NORAD_CAT_ID/25544")
        # Space-Track's text, as a 429 (the service sends 500; the node sends no 5xx for client input)
        assert r.status_code == 429 and "violated your query rate limit" in r.text
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/ajaxauth/logout").json() == "Successfully logged out"
        c.cookies.clear()
        r = c.get("/basicspacedata/query/class/gp/NORAD_CAT_ID/25544")
        assert r.status_code in (401, 429)  # logged out (or still rate limited by address)
    finally:
        c.close()


def test_spacetrack_error_shapes(sqlite_url):
    c = _node(sqlite_url)
    try:
        tok = identity.issue_token(c.app.state.node.engine, "st-user")[0]
        h = {"Authorization": f"Bearer {tok}"}
        r = c.get("/basicspacedata/query/class/gp/NOT_A_FIELD/1", headers=h)
        assert r.status_code == 422 and "NOT_A_FIELD" in r.json()["error"]
        r = c.get("/basicspacedata/query/class/boxscore", headers=h)
        assert r.status_code == 422 and "not served" in r.json()["error"]
        r = c.get("/basicspacedata/query/class/satcat/format/kvn", headers=h)
        assert r.status_code == 422 and "only available for gp" in r.json()["error"]
        r = c.get("/basicspacedata/query/class/gp/format/xml", headers=h)
        assert r.status_code == 200 and r.text.startswith("<?xml") and "<omm" in r.text
        r = c.get("/basicspacedata/query/class/gp/format/kvn", headers=h)
        assert "CCSDS_OMM_VERS" in r.text and "NORAD_CAT_ID" in r.text
        r = c.get("/basicspacedata/query/class/gp/format/csv", headers=h)
        assert r.text.startswith("CCSDS_OMM_VERS,COMMENT,CREATION_DATE") and "\r\n" in r.text
        r = c.get("/basicspacedata/query/class/decay/format/xml", headers=h)
        assert r.status_code == 200 and "<xml>" in r.text
        r = c.get("/NORAD/elements/gp.php?CATNR=25544")
        assert r.status_code == 200 and r.text == "No GP data found"  # public access on, nothing public
    finally:
        c.close()


def test_celestrak_anonymous_refused_when_public_access_is_off(sqlite_url):
    c = _node(sqlite_url, public_access=False)
    try:
        r = c.get("/NORAD/elements/gp.php?CATNR=25544")
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/plain")
        assert "authentication required" in r.text
    finally:
        c.close()


def test_cached_answers_follow_releases_and_readers(sqlite_url, monkeypatch):
    from orbitwatch.api.compat import spacetrack
    from orbitwatch.sharing.releases import release

    monkeypatch.setattr(spacetrack, "CACHE_MIN_BYTES", 0)  # cache every answer
    c = _node(sqlite_url)
    try:
        engine = c.app.state.node.engine
        gbr_only = Marking.parse("SECRET//GBR EYES ONLY")
        insert_records(engine, [MarkedRecord(40001, gbr_only, gbr_only, "GBR")])
        identity.create_user(engine, "gbr", nation="GBR", clearance="SECRET", roles=("analyst",))
        identity.create_user(engine, "aus", nation="AUS", clearance="SECRET")
        h_gbr = {"Authorization": f"Bearer {identity.issue_token(engine, 'gbr')[0]}"}
        h_aus = {"Authorization": f"Bearer {identity.issue_token(engine, 'aus')[0]}"}

        def ids(h):
            return sorted(int(r["NORAD_CAT_ID"]) for r in c.get("/basicspacedata/query/class/gp", headers=h).json())

        assert ids(h_gbr) == [25544, 40001] and ids(h_aus) == [25544]
        assert ids(h_aus) == [25544]  # served from the cache: still only what AUS may read
        with engine.connect() as conn:
            principal = identity.get_user(conn, "gbr").principal()
        release(engine, principal, "object", 40001, ["AUS"])
        assert ids(h_aus) == [25544, 40001]  # the release moved the revision: no stale answer
        assert len(c.app.state.node.compat_cache) >= 2
    finally:
        c.close()


def test_fast_gp_json_equals_record_by_record(sqlite_url):
    import json

    from orbitwatch.api.compat import classes
    from orbitwatch.sharing import Principal, readable_by
    from orbitwatch.store.queries import latest_element_sets, search_objects

    engine = open_engine(sqlite_url)
    insert_records(engine, [MarkedRecord(n, Marking(), Marking(), "USA") for n in (5, 11, 25544, 400000)])
    from sqlalchemy import update

    from orbitwatch.store.schema import element_sets

    with engine.begin() as conn:  # a name that needs JSON escaping, and a record without object row
        conn.execute(update(element_sets).where(element_sets.c.norad_id == 11).values(object_name='A "B" \\ C'))
    where = readable_by(Principal("u", "USA", "SECRET"))
    with engine.connect() as conn:
        rows = latest_element_sets(conn, where=where)
        objs = {o.norad_id: o for o in search_objects(conn, where=where) if o.norad_id != 5}
    recs = classes.gp_records(rows, objs, "2024-01-01T00:00:00")
    fast = classes.gp_json(recs)
    assert fast == "[" + ",".join(classes.gp_json_object(g) for g in recs) + "]"
    parsed = json.loads(fast)
    assert [p["NORAD_CAT_ID"] for p in parsed] == ["5", "11", "25544", "400000"]
    assert parsed[1]["OBJECT_NAME"] == 'A "B" \\ C' and parsed[0]["OBJECT_TYPE"] is None
    assert parsed[3]["TLE_LINE1"] is None  # 400000 cannot be written as a TLE (above Alpha-5)
    engine.dispose()
