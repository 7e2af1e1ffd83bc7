"""Audit entries of hot reads written on the event loop (``deps.LoopAudit``, SQLite).

The entry must be in the chain when the answer arrives - without the group commit's thread - and the
chain must verify; when SQLite's write lock is held elsewhere (an ingest) the loop must not wait for it:
the entry goes to the group commit, the answer waits for that commit, and it is in the chain when the
answer arrives all the same.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import select

from orbitwatch.api import create_app
from orbitwatch.api.testing import AsgiClient, node_settings
from orbitwatch.markings import Marking
from orbitwatch.sharing import identity
from orbitwatch.sharing.testing import MarkedRecord, insert_records
from orbitwatch.store.engine import open_engine
from orbitwatch.store.schema_sharing import audit_log

SECRET = Marking.parse("SECRET//REL TO USA, GBR")
OPEN = Marking.parse("UNCLASSIFIED")


def _node(url: str):
    engine = open_engine(url)
    insert_records(engine, [MarkedRecord(42100, SECRET, SECRET, "USA"), MarkedRecord(42101, OPEN, OPEN, "USA")])
    identity.create_user(engine, "gbr", nation="GBR", clearance="SECRET", roles=("analyst",))
    token, _ = identity.issue_token(engine, "gbr")
    identity.create_user(engine, "admin", nation="USA", clearance="SECRET", roles=("admin", "analyst"))
    admin, _ = identity.issue_token(engine, "admin")
    app = create_app(node_settings(), engine)
    return engine, app, AsgiClient(app), {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {admin}"}


def _read_entries(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.actor, audit_log.c.resource)
                                               .where(audit_log.c.action == "read").order_by(audit_log.c.seq))]


def test_entries_are_committed_on_the_loop_before_the_answer(sqlite_url):
    engine, app, client, h, admin = _node(sqlite_url)
    try:
        state = app.state.node
        assert state.loop_audit is not None
        client.get("/api/v1/whoami", headers=h)  # the token into the cache: the next reads are hot
        for i, url in enumerate(("/api/v1/objects?norad_id=42100", "/api/v1/elsets/latest?norad_id=42100",
                                 "/api/v1/objects?norad_id=42101")):
            r = client.get(url, headers=h)
            assert r.status_code == 200 and len(r.json()["items"]) == 1
            want = [("gbr", "objects"), ("gbr", "elsets/latest")][:min(i + 1, 2)]
            assert _read_entries(engine) == want  # right after the answer, no flush
        assert state.audit_buffer._thread is None  # the group commit was never needed
        verify = client.get("/api/v1/audit/verify", headers=admin).json()
        assert verify["ok"] is True, verify
    finally:
        client.close()
        engine.dispose()


def test_a_held_write_lock_sends_the_entry_to_the_group_commit(sqlite_url):
    engine, app, client, h, admin = _node(sqlite_url)
    try:
        state = app.state.node
        client.get("/api/v1/whoami", headers=h)
        holder = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # as an ingest would
        released = threading.Event()

        def release_later():
            time.sleep(0.5)
            holder.execute("COMMIT")
            released.set()

        threading.Thread(target=release_later).start()
        t0 = time.perf_counter()
        r = client.get("/api/v1/objects?norad_id=42100", headers=h)
        assert r.status_code == 200 and len(r.json()["items"]) == 1
        # The answer waited for the lock (through the group commit) and its entry is there.
        assert released.is_set() and time.perf_counter() - t0 >= 0.45
        assert _read_entries(engine) == [("gbr", "objects")]
        assert state.audit_buffer._thread is not None
        holder.close()
        time.sleep(state.loop_audit.BACKOFF_S)
        r = client.get("/api/v1/elsets/latest?norad_id=42100", headers=h)
        assert r.status_code == 200
        assert _read_entries(engine) == [("gbr", "objects"), ("gbr", "elsets/latest")]
        assert client.get("/api/v1/audit/verify", headers=admin).json()["ok"] is True
    finally:
        client.close()
        engine.dispose()
