"""The web routes over HTTP (no browser): releasability of the snapshot, positions and tracks against
skyfield, manoeuvres derived only from readable history, the page and its Content-Security-Policy.

Runs on SQLite and on PostgreSQL (the ``db_url`` fixture)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from webnode import FRA_ONLY, GBR_FRA, GBR_ONLY, add_marked_object, marked_elset

from orbitwatch.api import create_app
from orbitwatch.markings import Marking
from orbitwatch.settings import Settings
from orbitwatch.sharing import identity
from orbitwatch.store import ingest_bytes
from orbitwatch.store.engine import open_engine

EPOCH = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ISS_3LE = """ISS (ZARYA)
1 25544U 98067A   24061.50000000  .00016717  00000-0  30294-3 0  9993
2 25544  51.6410 208.9163 0005700  36.5051 101.2049 15.49564836442006
"""
# A Molniya orbit (deep space, SDP4) and a geostationary one: the positions route must handle both.
MOLNIYA_3LE = """MOLNIYA 1-91
1 25485U 98054A   24061.25000000  .00000117  00000-0  10000-3 0  9998
2 25485  64.2370 102.3330 7221870 282.6350  12.3460  2.00606127187901
"""


def _fix_checksums(text: str) -> str:
    out = []
    for line in text.splitlines():
        if line[:2] in ("1 ", "2 ") and len(line) >= 68:
            body = line[:68]
            s = sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in body) % 10
            line = body + str(s)
        out.append(line)
    return "\n".join(out) + "\n"


ISS_3LE = _fix_checksums(ISS_3LE)
MOLNIYA_3LE = _fix_checksums(MOLNIYA_3LE)
PASSWORD = "correct-horse-battery-staple"


def settings() -> Settings:
    return Settings(environment="test", rate_limit_per_minute=10_000_000, secret_key="web-api-test-secret")


@pytest.fixture
def node(db_url):
    engine = open_engine(db_url)
    for text, name in ((ISS_3LE, "iss.3le"), (MOLNIYA_3LE, "molniya.3le")):
        r = ingest_bytes(engine, text.encode(), name, fmt="tle", source="test", marking=Marking.parse("UNCLASSIFIED"),
                         user="test")
        assert r.accepted == 1, r.as_dict()
    ep = EPOCH - timedelta(hours=1)
    add_marked_object(engine, marked_elset(GBR_ONLY, "UKSAT SECRET", inc=97.5, raan=40.0, epoch=ep),
                      "SECRET//GBR EYES ONLY", "GBR", owner="UK", owner_nation="GBR")
    add_marked_object(engine, marked_elset(FRA_ONLY, "FRSAT SECRET", inc=98.2, raan=120.0, epoch=ep),
                      "SECRET//FRA EYES ONLY", "FRA", owner="FR", owner_nation="FRA")
    add_marked_object(engine, marked_elset(GBR_FRA, "JOINT CONFIDENTIAL", inc=53.0, raan=200.0, epoch=ep),
                      "CONFIDENTIAL//REL TO FRA, GBR", "GBR", owner="UK", owner_nation="GBR")
    for nation, clearance in (("GBR", "SECRET"), ("FRA", "SECRET"), ("USA", "SECRET"), ("DEU", "UNCLASSIFIED")):
        identity.create_user(engine, f"{nation.lower()}-user", nation=nation, clearance=clearance, password=PASSWORD)
    app = create_app(settings(), engine)
    from orbitwatch.web import mount_web

    mount_web(app)
    yield app, engine
    engine.dispose()


def client_for(app, username: str) -> TestClient:
    c = TestClient(app)
    r = c.post("/auth/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


def test_catalogue_snapshot_holds_only_what_each_nation_may_read(node):
    app, _ = node
    seen = {}
    for user, want, never in (
        ("gbr-user", {GBR_ONLY, GBR_FRA}, {FRA_ONLY}),
        ("fra-user", {FRA_ONLY, GBR_FRA}, {GBR_ONLY}),
        ("usa-user", set(), {GBR_ONLY, FRA_ONLY, GBR_FRA}),
        ("deu-user", set(), {GBR_ONLY, FRA_ONLY, GBR_FRA}),  # cleared UNCLASSIFIED only
    ):
        with client_for(app, user) as c:
            r = c.get("/api/v1/web/catalog", headers={"Accept-Encoding": "identity"})
            assert r.status_code == 200
            body = r.json()
            ids = set(body["norad"])
            assert want <= ids, user
            assert not (never & ids), user
            assert {25544, 25485} <= ids
            # Nothing of an unreleased object anywhere in the bytes (names included).
            for hidden in never:
                assert str(hidden) not in r.text
            if GBR_ONLY in never:
                assert "UKSAT" not in r.text
            if FRA_ONLY in never:
                assert "FRSAT" not in r.text
            texts = {m["text"] for m in body["markings"]}
            if user == "gbr-user":
                i = body["norad"].index(GBR_ONLY)
                assert body["markings"][body["marking"][i]]["text"] == "SECRET//GBR EYES ONLY"
                assert body["owner_nation"][i] == "GBR"
            if user in ("usa-user", "deu-user"):
                assert texts == {str(Marking.parse("UNCLASSIFIED"))}
            seen[user] = body["snapshot"]
    # Snapshots differ by what was given; the gzip answer is the same document.
    assert len({seen["gbr-user"], seen["fra-user"], seen["usa-user"]}) == 3
    with client_for(app, "gbr-user") as c:
        raw = c.get("/api/v1/web/catalog", headers={"Accept-Encoding": "gzip"})
        assert raw.json()["snapshot"] == seen["gbr-user"]


def test_positions_need_the_callers_own_snapshot(node):
    app, _ = node
    with client_for(app, "gbr-user") as gbr, client_for(app, "fra-user") as fra:
        sid = gbr.get("/api/v1/web/catalog").json()["snapshot"]
        ok = gbr.get("/api/v1/web/positions", params={"snapshot": sid, "start": EPOCH.timestamp(), "count": 2})
        assert ok.status_code == 200
        assert ok.headers["content-type"] == "application/octet-stream"
        # FRA cannot read GBR's snapshot: refused as stale, no positions leave.
        r = fra.get("/api/v1/web/positions", params={"snapshot": sid, "start": EPOCH.timestamp(), "count": 2})
        assert r.status_code == 409
        assert r.headers["content-type"].startswith("application/problem+json")
        assert b"\x00" not in r.content
    anon = TestClient(app)
    r = anon.get("/api/v1/web/positions", params={"snapshot": sid, "start": EPOCH.timestamp(), "count": 2})
    assert r.status_code == 401
    assert anon.get("/api/v1/web/catalog").status_code == 401


def test_release_reaches_the_other_nations_snapshot_at_once(node):
    app, _ = node
    with client_for(app, "gbr-user") as gbr, client_for(app, "fra-user") as fra:
        before = fra.get("/api/v1/web/catalog").json()
        assert GBR_ONLY not in before["norad"]
        r = gbr.post("/api/v1/releases", json={"target": "object", "key": GBR_ONLY, "nations": ["FRA"]})
        assert r.status_code == 201, r.text
        after = fra.get("/api/v1/web/catalog").json()
        assert GBR_ONLY in after["norad"]
        assert after["snapshot"] != before["snapshot"]
        i = after["norad"].index(GBR_ONLY)
        assert after["markings"][after["marking"][i]]["text"] == "SECRET//REL TO FRA, GBR"
        # The old snapshot is refused now: the browser reloads rather than mixing two catalogues.
        old = fra.get("/api/v1/web/positions", params={"snapshot": before["snapshot"], "start": EPOCH.timestamp()})
        assert old.status_code == 409


def test_positions_match_skyfield_from_the_original_tle_lines(node):
    """The snapshot rebuilds each Satrec from the stored elements; skyfield (from the TLE text) is the
    outside reference. Float32 transport: < 5 m at GEO distances, < 1 m in LEO."""
    from skyfield.api import EarthSatellite, load

    app, _ = node
    ts = load.timescale(builtin=True)
    with client_for(app, "usa-user") as c:
        cat = c.get("/api/v1/web/catalog").json()
        start, step, count = EPOCH.timestamp() - 3600, 300.0, 25
        r = c.get("/api/v1/web/positions", params={"snapshot": cat["snapshot"], "start": start, "step": step,
                                                   "count": count})
        data = np.frombuffer(r.content, "<f4").reshape(count, cat["count"], 6)
    for text in (ISS_3LE, MOLNIYA_3LE):
        name, l1, l2 = text.strip().splitlines()
        sat = EarthSatellite(l1, l2, name, ts)
        i = cat["norad"].index(sat.model.satnum)
        t = ts.from_datetimes([datetime.fromtimestamp(start + k * step, UTC) for k in range(count)])
        r_ref, v_ref, err = sat._position_and_velocity_TEME_km(t)
        assert not np.any(err)
        dr = np.linalg.norm(data[:, i, :3] - r_ref.T, axis=1)
        dv = np.linalg.norm(data[:, i, 3:] - v_ref.T, axis=1)
        assert dr.max() < 0.005, (name, dr.max())
        assert dv.max() < 1e-5, (name, dv.max())


def test_cubic_hermite_between_knots_is_accurate(node):
    """What the GPU does between knots (cubic Hermite on position and velocity), checked here against
    SGP4 itself at the mid-points: ISS with 60 s knots < 2 m, with 600 s knots < 5 km (the spacing used
    beyond 1000x)."""
    from sgp4.api import Satrec

    app, _ = node
    name, l1, l2 = ISS_3LE.strip().splitlines()
    sat = Satrec.twoline2rv(l1, l2)
    with client_for(app, "usa-user") as c:
        cat = c.get("/api/v1/web/catalog").json()
        i = cat["norad"].index(25544)
        for step, tol_km in ((60.0, 0.002), (600.0, 5.0)):
            start = EPOCH.timestamp()
            r = c.get("/api/v1/web/positions", params={"snapshot": cat["snapshot"], "start": start, "step": step,
                                                       "count": 9})
            d = np.frombuffer(r.content, "<f4").reshape(9, cat["count"], 6)[:, i].astype(np.float64)
            worst = 0.0
            for k in range(8):
                s = 0.5
                h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
                p = h00 * d[k, :3] + h10 * step * d[k, 3:] + h01 * d[k + 1, :3] + h11 * step * d[k + 1, 3:]
                tm = start + (k + 0.5) * step
                days = np.floor(tm / 86400)
                e, ref, _ = sat.sgp4(days + 2440587.5, (tm - days * 86400) / 86400)
                assert e == 0
                worst = max(worst, float(np.linalg.norm(p - np.array(ref))))
            assert worst < tol_km, (step, worst)


def test_ground_track_matches_skyfield_subpoint(node):
    """Ground track: GMST rotation with UT1 = UTC, so skyfield's (true UT1, IAU 2000) sub-point differs by
    the Earth's rotation over |UT1-UTC| < 0.9 s: < 0.005 deg of longitude; latitude < 0.002 deg."""
    from skyfield.api import EarthSatellite, load, wgs84

    app, _ = node
    ts = load.timescale(builtin=True)
    name, l1, l2 = ISS_3LE.strip().splitlines()
    sat = EarthSatellite(l1, l2, name, ts)
    with client_for(app, "usa-user") as c:
        tr = c.get("/api/v1/web/objects/25544/track", params={"t": EPOCH.timestamp(), "revs": 1, "points": 60}).json()
    g = tr["ground"]
    t = ts.from_datetimes([datetime.fromtimestamp(x, UTC) for x in g["times"]])
    pos = wgs84.geographic_position_of(sat.at(t))
    dlon = (np.array(g["lon"]) - pos.longitude.degrees + 180) % 360 - 180
    assert np.abs(dlon).max() < 0.006
    assert np.abs(np.array(g["lat"]) - pos.latitude.degrees).max() < 0.002
    assert np.abs(np.array(g["height_km"]) - pos.elevation.km).max() < 0.05
    assert abs(tr["period_min"] - 1440 / 15.49564836) < 1e-6
    assert len(tr["orbit"]["km"]) == 61
    assert tr["marking"] == str(Marking.parse("UNCLASSIFIED"))


def test_object_routes_answer_404_for_unreleased_objects(node):
    app, _ = node
    with client_for(app, "fra-user") as fra, client_for(app, "gbr-user") as gbr:
        for path in (f"/api/v1/web/objects/{GBR_ONLY}/track?t={EPOCH.timestamp()}",
                     f"/api/v1/web/objects/{GBR_ONLY}/history"):
            denied = fra.get(path)
            missing = fra.get(path.replace(str(GBR_ONLY), "89999"))
            assert denied.status_code == missing.status_code == 404
            assert denied.json()["detail"].replace(str(GBR_ONLY), "N") == missing.json()["detail"].replace("89999", "N")
            assert gbr.get(path).status_code == 200


def test_history_uses_only_readable_element_sets(db_url, shared_data):
    """Jason-3's real TLE history: the first half released to all, the second half GBR EYES ONLY. FRA's
    history (and the manoeuvres found in it) covers only the first half; GBR's covers all of it."""
    from orbitwatch.store.schema import element_sets

    with gzip.open(shared_data / "manoeuvre-labels/dpshorten-tle-benchmark/tle/Jason-3.tle.gz", "rt") as fh:
        lines = fh.read()
    tle = [x for x in lines.splitlines() if x.strip()][:1600]  # 800 element sets, 2016
    half = len(tle) // 2 // 2 * 2
    engine = open_engine(db_url)
    for part, marking, nation in ((tle[:half], "UNCLASSIFIED", None), (tle[half:], "SECRET//GBR EYES ONLY", "GBR")):
        r = ingest_bytes(engine, ("\n".join(part) + "\n").encode(), "jason3.tle", fmt="tle", source="test",
                         marking=Marking.parse(marking), nation=nation, user="test")
        assert r.rejected == 0, r.as_dict()
    for nation in ("GBR", "FRA"):
        identity.create_user(engine, f"{nation.lower()}-user", nation=nation, clearance="SECRET", password=PASSWORD)
    app = create_app(settings(), engine)
    from sqlalchemy import func, select

    with engine.connect() as conn:
        split_ts = conn.execute(select(func.min(element_sets.c.epoch_ts))
                                .where(element_sets.c.marking == "SECRET//GBR EYES ONLY")).scalar()
    with client_for(app, "fra-user") as fra, client_for(app, "gbr-user") as gbr:
        hf = fra.get("/api/v1/web/objects/41240/history").json()
        hg = gbr.get("/api/v1/web/objects/41240/history").json()
    assert hf["count"] == half // 2
    assert hg["count"] == len(tle) // 2
    assert max(hf["epoch_ts"]) < split_ts
    assert hf["marking"] == str(Marking.parse("UNCLASSIFIED"))
    assert hg["marking"] == "SECRET//GBR EYES ONLY"
    for m in hf["manoeuvres"]:
        assert m["end_ts"] < split_ts
    if hg["detector"] == "orbitwatch.threats.manoeuvres":
        assert len(hg["manoeuvres"]) > 0  # Jason-3 manoeuvred often in its first year (operator labels)
        # GBR also sees the manoeuvres of the second half, which FRA cannot (the counts in the first half
        # may differ: the detector's noise model uses the whole readable history)
        assert any(m["end_ts"] >= split_ts for m in hg["manoeuvres"])
    # Mean altitude from mean motion: Jason-3 flies at ~1,336 km.
    assert 1300 < np.nanmedian(np.array(hg["mean_altitude_km"], dtype=float)) < 1380
    engine.dispose()


def test_page_is_served_with_a_same_origin_policy(node, monkeypatch):
    app, _ = node
    import orbitwatch.web as web

    c = TestClient(app)
    monkeypatch.setattr(web, "vendor_ready", lambda: True)
    r = c.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "http" not in csp
    assert 'src="/static/js/main.js"' in r.text
    assert c.get("/static/js/main.js").status_code == 200
    assert c.get("/static/js/points.js").headers["cache-control"] == "no-cache"
    # No page asset refers to another origin (no CDN at run time).
    for path in ("/static/index.html", "/static/js/main.js", "/static/js/globe.js", "/static/css/app.css"):
        body = c.get(path).text
        assert "http://" not in body and "https://" not in body, path
    monkeypatch.setattr(web, "vendor_ready", lambda: False)
    r = c.get("/")
    assert r.status_code == 503 and "setup-web.sh" in r.text


def test_config_gives_the_banner_colours(node):
    app, _ = node
    with client_for(app, "gbr-user") as c:
        cfg = c.get("/api/v1/web/config").json()
    colours = {lv["name"]: lv["background"] for lv in cfg["levels"]}
    assert colours == {"UNCLASSIFIED": "#007a33", "RESTRICTED": "#502b85", "CONFIDENTIAL": "#0033a0",
                       "SECRET": "#c8102e"}
    assert [lv["rank"] for lv in cfg["levels"]] == [0, 1, 2, 3]
    assert cfg["user"]["nation"] == "GBR"
    assert cfg["exercise_banner"]["text"] == "EXERCISE"


def test_mount_web_is_idempotent(node):
    from fastapi import FastAPI

    from orbitwatch.api.web_routes import router
    from orbitwatch.web import mount_web

    app, _ = node
    n = len(app.routes)
    mount_web(app)
    assert len(app.routes) == n
    ops = [op for path, item in app.openapi()["paths"].items() if path == "/api/v1/web/catalog" for op in item]
    assert ops == ["get"]
    # An app that already includes the web routes (the lead's wiring) does not get them twice.
    other = FastAPI()
    other.include_router(router)
    mount_web(other)
    assert list(other.openapi()["paths"]).count("/api/v1/web/catalog") == 1
    assert sum(1 for r in other.routes if getattr(r, "original_router", None) is router
               or getattr(r, "path", "") == "/api/v1/web/catalog") == 1


def test_earth_fixed_rotation_without_the_frames_kernel_is_the_same(monkeypatch):
    """The ground track's TEME -> Earth-fixed rotation falls back to its own GMST-82 when the frames
    kernel is absent; both must agree exactly (same formula)."""
    import sys

    from orbitwatch.api.web_routes import teme_to_earth_fixed

    rng = np.random.default_rng(7)
    r = rng.normal(size=(40, 3)) * 7000.0
    t = 1.7e9 + np.arange(40) * 1234.5
    with_kernel = teme_to_earth_fixed(r, t)
    monkeypatch.setitem(sys.modules, "orbitwatch.kernels.frames", None)
    without = teme_to_earth_fixed(r, t)
    assert np.abs(with_kernel - without).max() < 1e-9
    # A rotation about z: heights and z unchanged.
    assert np.allclose(np.linalg.norm(without, axis=1), np.linalg.norm(r, axis=1))
    assert np.array_equal(without[:, 2], r[:, 2])


@pytest.mark.slow
def test_exercise_world_snapshot_is_what_the_nation_holds(sqlite_url):
    """The picture can show an exercise's simulated world: exactly the element sets the caller's nation
    holds (as GET /api/v1/exercises/{eid}/elsets lists them), all EXERCISE-marked, positions included."""
    from pathlib import Path

    engine = open_engine(sqlite_url)
    identity.create_user(engine, "white", nation="USA", clearance="SECRET", roles=("exercise-control", "analyst"),
                         password=PASSWORD)
    identity.create_user(engine, "gbr-user", nation="GBR", clearance="SECRET", roles=("operator",), password=PASSWORD)
    app = create_app(settings(), engine)
    scenario = (Path(__file__).resolve().parents[2] / "examples" / "shadow.yaml").read_text()
    with client_for(app, "white") as w, client_for(app, "gbr-user") as g:
        r = w.post("/api/v1/exercises", json={"scenario_yaml": scenario, "catalog": "demo"})
        assert r.status_code == 201, r.text
        eid = r.json()["id"]
        assert w.post(f"/api/v1/exercises/{eid}/step", json={"steps": 3}).status_code == 200
        held = g.get(f"/api/v1/exercises/{eid}/elsets", params={"limit": 50000}).json()["items"]
        cat = g.get("/api/v1/web/catalog", params={"exercise": eid}).json()
        assert cat["source"] == f"exercise:{eid}"
        assert cat["norad"] == sorted(x["norad_id"] for x in held)
        assert all("EXERCISE" in m["text"] for m in cat["markings"])
        sim = w.get(f"/api/v1/exercises/{eid}").json()["sim_time"]
        assert abs(cat["reference_ts"] - datetime.fromisoformat(sim.replace("Z", "+00:00")).timestamp()) < 1e-3
        assert all(v is not None for v in cat["regime"][:50])
        pos = g.get("/api/v1/web/positions", params={"snapshot": cat["snapshot"], "exercise": eid, "count": 2})
        assert pos.status_code == 200
        assert float(pos.headers["X-Start"]) == pytest.approx(cat["reference_ts"] // 60 * 60)
        data = np.frombuffer(pos.content, "<f4").reshape(2, cat["count"], 6)
        assert (np.linalg.norm(data[0, :, :3], axis=1) > 6000).mean() > 0.95
        # A step moves the simulated time on; the snapshot id changes only if what GBR holds changed.
        w.post(f"/api/v1/exercises/{eid}/step", json={"steps": 1})
        after = g.get("/api/v1/web/catalog", params={"exercise": eid}).json()
        assert after["reference_ts"] == pytest.approx(cat["reference_ts"] + 600)
        again = g.get("/api/v1/web/positions", params={"snapshot": cat["snapshot"], "exercise": eid, "count": 2})
        assert again.status_code == (200 if after["snapshot"] == cat["snapshot"] else 409)
        assert g.get("/api/v1/web/catalog", params={"exercise": 999}).status_code == 404
    engine.dispose()
