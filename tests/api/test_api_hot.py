"""``api/hot.py`` answers the two hot reads exactly as their FastAPI routes do.

Two apps on one store - one with the hot path, one without (``create_app(hot_reads=False)``, the
reference) - get the same requests from every nation x clearance, organisations, the public and bad
credentials: valid searches and latest-element-set queries, pages, sorts, counts, invalid parameters
and shapes the hot path must hand over. Status, media type and body must be byte-identical, and so must
the audit entries each request leaves. The hot path must actually have served the valid requests (its
``served`` count), so that the comparison is not between two runs of the reference.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from orbitwatch.api import create_app
from orbitwatch.api.hot import HotReads
from orbitwatch.api.testing import AsgiClient, node_settings
from orbitwatch.formats.records import ElementSet, SatcatRecord
from orbitwatch.markings import Marking
from orbitwatch.sharing import identity
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.principal import Principal
from orbitwatch.sharing.testing import all_principals
from orbitwatch.store.engine import open_engine
from orbitwatch.store.ingest import ingest_records

NORADS = (5, 11, 25544, 40001, 43013, 48274)
NAMES = ("ISS (ZARYA)", "Starlink-1007", "STARLINK-2001", "cosmos 2251 deb", "VANGUARD 1", "Déb ß")
T0 = datetime(2023, 10, 9, 12, tzinfo=UTC)
#: (ingesting nation, marking): restricted and unrestricted, overlapping releasabilities.
BATCHES = (
    ("USA", "UNCLASSIFIED"),
    ("GBR", "SECRET//REL TO USA, AUS, CAN, GBR, NZL"),
    ("FRA", "CONFIDENTIAL//REL TO USA, DEU, FRA"),
    ("DEU", "RESTRICTED//REL TO DEU, FRA, ITA"),
    ("JPN", "SECRET//JPN EYES ONLY"),
    ("NZL", "UNCLASSIFIED//REL TO AUS, NZL//TLP:GREEN"),
)

SEARCHES = (
    "", "?name=star", "?name=DEB&limit=2", "?regime=LEO&limit=2&offset=1", "?regime=GEO",
    "?norad_id=5&norad_id=25544&norad_id=99999", "?sort=-name&limit=3", "?sort=inclination&offset=2",
    "?count=true&limit=2", "?owner=us", "?object_type=PAYLOAD&count=true", "?limit=5000", "?name=%C3%9F",
    "?unknown=1&regime=LEO",
    # invalid: the hot path hands these to the app (422)
    "?limit=0", "?regime=XXX", "?norad_id=abc", "?sort=bogus", "?offset=-1",
)
LATEST = (
    "?norad_id=5&norad_id=25544&norad_id=77777", "?norad_id=11&norad_id=40001&offset=1", "?norad_id=43013&limit=1",
    "?" + "&".join(f"norad_id={n}" for n in NORADS),
    # not the hot shape (text formats, filters): answered by the route
    "?norad_id=5&format=tle", "?regime=LEO", "?norad_id=5&regime=LEO", "",
    # invalid
    "?norad_id=-1", "?format=pdf&norad_id=5",
)
URLS = tuple("/api/v1/objects" + s for s in SEARCHES) + tuple("/api/v1/elsets/latest" + s for s in LATEST)


def _catalogue(engine) -> None:
    rng = random.Random(4)
    for nation, text in BATCHES:
        records: list = []
        for norad in rng.sample(NORADS, 4):
            name = rng.choice(NAMES)
            for day in rng.sample(range(4), 2):
                records.append(ElementSet(
                    norad_id=norad, epoch=T0 - timedelta(days=day), mean_motion=rng.choice([15.5, 2.0, 1.0027]),
                    eccentricity=0.001, inclination=rng.uniform(0, 100), raan=10.0, arg_perigee=20.0,
                    mean_anomaly=float(rng.randrange(360)), object_name=name, object_id="1998-067A"))
            if rng.random() < 0.6:
                records.append(SatcatRecord(norad_id=norad, object_id="1998-067A", object_name=name,
                                            object_type=rng.choice(["PAYLOAD", "DEBRIS"]),
                                            owner=rng.choice(["US", "UK", "CIS"]), launch_date="1998-11-20"))
        ingest_records(engine, records, source="test", nation=nation, marking=Marking.parse(text))


def seed_principals(engine, principals) -> dict[str, str]:
    tokens = {}
    for p in principals:
        if not p.is_anonymous:
            identity.create_user(engine, p.username, nation=p.nation, organisation=p.organisation,
                                 clearance=p.clearance, roles=tuple(p.roles))
            tokens[p.username], _ = identity.issue_token(engine, p.username)
    return tokens


def _served(app) -> int:
    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, HotReads):
        layer = getattr(layer, "app", None)
    assert layer is not None, "the hot path is not in the middleware stack"
    return layer.served


def _audit_since(engine, seq: int) -> tuple[int, list[tuple]]:
    with engine.connect() as conn:
        entries = AuditLog.entries(conn, after_seq=seq, limit=100, newest_first=False)
    new = [(e.actor, e.nation, e.action, e.resource, e.detail) for e in entries]
    return (entries[-1].seq if entries else seq), new


def test_hot_path_answers_like_the_routes(db_url):
    engine = open_engine(db_url)
    _catalogue(engine)
    principals = all_principals()
    tokens = seed_principals(engine, principals)
    hot_app = create_app(node_settings(), engine)
    ref_app = create_app(node_settings(), engine, hot_reads=False)
    hot, ref = AsgiClient(hot_app), AsgiClient(ref_app)
    try:
        callers: list[tuple[str, dict[str, str]]] = [
            (p.username, {"Authorization": f"Bearer {tokens[p.username]}"}) for p in principals if not p.is_anonymous]
        callers += [("anonymous", {}), ("bad token", {"Authorization": "Bearer not-a-token"}),
                    ("other scheme", {"Authorization": "Basic dXNlcjpwdw=="}), ("empty", {"Authorization": "Bearer "})]
        for _, headers in callers:  # the first call of a token resolves it (the app's path) and caches it
            hot.get("/api/v1/whoami", headers=headers)
        seq, _ = _audit_since(engine, 0)
        served0 = _served(hot_app)
        audited = 0
        for who, headers in callers:
            for url in URLS:
                a = hot.get(url, headers=headers)
                seq, audit_hot = _audit_since(engine, seq)
                b = ref.get(url, headers=headers)
                seq, audit_ref = _audit_since(engine, seq)
                assert (a.status_code, a.headers.get("content-type"), a.content) == \
                       (b.status_code, b.headers.get("content-type"), b.content), (who, url)
                assert a.headers.get("www-authenticate") == b.headers.get("www-authenticate"), (who, url)
                assert audit_hot == audit_ref, (who, url)
                audited += bool(audit_hot)
        valid = sum(1 for u in URLS if "=XXX" not in u)  # a rough floor: most valid requests went the hot way
        assert _served(hot_app) - served0 >= (len(callers) - 4) * valid // 2
        assert audited > 100  # restricted reads were compared, not only public ones
    finally:
        hot.close()
        ref.close()
        engine.dispose()


def test_hot_path_rate_limit_and_revocation(db_url):
    """The hot path charges the same bucket (429 + Retry-After as problem+json), and a revoked token stops
    working at once in the worker that revoked it."""
    engine = open_engine(db_url)
    p = Principal("gbr-secret", "GBR", "SECRET", roles=frozenset({"analyst"}))
    tokens = seed_principals(engine, [p])
    app = create_app(node_settings(rate_limit_per_minute=30), engine)  # bursts of 5
    client = AsgiClient(app)
    headers = {"Authorization": f"Bearer {tokens[p.username]}"}
    try:
        statuses = [client.get("/api/v1/objects?regime=LEO", headers=headers).status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5 and statuses[-1] == 429, statuses
        r = client.get("/api/v1/elsets/latest?norad_id=5", headers=headers)
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1
        assert _served(app) >= 4
    finally:
        client.close()
    app = create_app(node_settings(), engine)
    client = AsgiClient(app)
    try:
        assert client.get("/api/v1/objects", headers=headers).status_code == 200
        token_id = client.get("/api/v1/tokens", headers=headers).json()["items"][0]["id"]
        assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code in (200, 204)
        r = client.get("/api/v1/objects", headers=headers)
        assert r.status_code == 401, r.text
        r = client.get("/api/v1/elsets/latest?norad_id=5", headers=headers)
        assert r.status_code == 401, r.text
    finally:
        client.close()
        engine.dispose()
