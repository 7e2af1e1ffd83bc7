"""The audit chain: appends verify; edits, deletions, reordering and truncation are caught and located."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, update

from orbitwatch.sharing.audit import GENESIS, AuditBuffer, AuditLog
from orbitwatch.store.engine import open_engine
from orbitwatch.store.schema_sharing import audit_log

KEY = b"test-key-0123456789"


@pytest.fixture
def chain(db_url):
    engine = open_engine(db_url)
    log = AuditLog(KEY)
    for i in range(10):
        log.record(engine, actor=f"user{i}", nation="GBR", action="read", resource=f"objects/{i}",
                   detail={"restricted": i})
    yield engine, log
    engine.dispose()


def verify(engine, log):
    with engine.connect() as conn:
        return log.verify(conn)


def test_intact_chain_verifies(chain):
    engine, log = chain
    report = verify(engine, log)
    assert report.ok, report.problems
    assert report.checked == 10 and report.last_seq == 10
    with engine.connect() as conn:
        first, *_ = AuditLog.entries(conn, newest_first=False, limit=1)
    assert first.prev_hash == GENESIS and first.seq == 1


def test_edit_is_detected_at_the_entry(chain):
    engine, log = chain
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 4).values(actor="mallory"))
    report = verify(engine, log)
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "modified")]
    assert "entry 4" in report.problems[0].message


def test_edit_with_recomputed_plain_hash_is_detected(chain):
    # Without the key, an attacker cannot produce a matching HMAC; a plain SHA-256 will not do.
    import hashlib

    engine, log = chain
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 6).values(
            detail='{"restricted":0}', hash=hashlib.sha256(b"forged").hexdigest()))
    report = verify(engine, log)
    kinds = {(p.seq, p.kind) for p in report.problems}
    assert (6, "modified") in kinds and (7, "chain") in kinds


def test_delete_is_detected_where_it_happened(chain):
    engine, log = chain
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    report = verify(engine, log)
    assert not report.ok
    removed = [p for p in report.problems if p.kind == "removed"]
    assert removed and removed[0].seq == 5 and "entry 5 removed" in removed[0].message
    assert any(p.kind == "chain" and p.seq == 6 for p in report.problems)


def test_reorder_is_detected(chain):
    engine, log = chain
    # Swap entries 3 and 7 (renumbering them so the sequence has no gap).
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=-3))
        conn.execute(update(audit_log).where(audit_log.c.seq == 7).values(seq=3))
        conn.execute(update(audit_log).where(audit_log.c.seq == -3).values(seq=7))
    report = verify(engine, log)
    assert not report.ok
    seqs = {p.seq for p in report.problems}
    assert {3, 7} <= seqs, report.problems


def test_truncated_tail_is_detected(chain):
    engine, log = chain
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq >= 9))
    report = verify(engine, log)
    assert [(p.seq, p.kind) for p in report.problems] == [(9, "truncated")]
    assert "9..10" in report.problems[0].message


def test_wrong_key_fails_everywhere(chain):
    engine, _ = chain
    report = verify(engine, AuditLog(b"another key"))
    assert not report.ok and len([p for p in report.problems if p.kind == "modified"]) == 10


def test_concurrent_writers_keep_one_chain(db_url):
    engine = open_engine(db_url)
    log = AuditLog(KEY)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(15):
                log.record(engine, actor=f"w{k}", action="read", detail={"i": i})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = verify(engine, log)
    assert report.ok and report.checked == 60, report.problems
    engine.dispose()


def test_buffer_flushes_in_order_and_on_close(sqlite_url):
    engine = open_engine(sqlite_url)
    log = AuditLog(KEY)
    buf = AuditBuffer(log, engine, interval_s=0.05)
    for i in range(120):
        buf.submit({"actor": "reader", "action": "read", "detail": {"i": i}})
    assert buf.flush(timeout=10)
    buf.submit({"actor": "reader", "action": "read", "detail": {"i": 120}})
    buf.close()
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.detail).order_by(audit_log.c.seq)).scalars().all()
        assert [int(r.split(":")[1].rstrip("}")) for r in rows] == list(range(121))
        assert log.verify(conn).ok


def test_unknown_action_refused(sqlite_url):
    engine = open_engine(sqlite_url)
    with pytest.raises(ValueError, match="unknown audit action"):
        AuditLog(KEY).record(engine, actor="x", action="delete-everything")


def test_batches_written_on_the_driver_continue_the_chain(chain):
    # The buffer's DBAPI path and the SQLAlchemy path write one chain: interleave them, verify, tamper.
    engine, log = chain
    log.write_batch(engine, [{"actor": "reader", "action": "read", "detail": {"i": i}} for i in range(5)])
    log.record(engine, actor="admin", action="release", nation="USA", detail={"key": 1})
    log.write_batch(engine, [{"actor": "reader", "action": "read", "nation": "GBR", "resource": "elsets/latest",
                              "detail": {"ids": [1, 2]}}])
    report = verify(engine, log)
    assert report.ok and report.checked == 17, report.problems
    with engine.connect() as conn:
        entries = AuditLog.entries(conn, newest_first=False)
    assert [e.seq for e in entries] == list(range(1, 18))
    assert entries[-1].detail == {"ids": [1, 2]} and entries[-1].resource == "elsets/latest"
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 12).values(actor="someone else"))
    report = verify(engine, log)
    assert not report.ok and report.problems[0].seq == 12 and report.problems[0].kind == "modified"


def test_committed_answers_once_written_and_refuses_when_the_chain_cannot_be_written(sqlite_url):
    import asyncio

    engine = open_engine(sqlite_url)
    log = AuditLog(KEY)
    buf = AuditBuffer(log, engine, interval_s=0.01)

    async def wait(ticket):
        return await buf.committed(ticket, timeout=10)

    ticket = buf.submit({"actor": "reader", "action": "read", "detail": {"i": 1}})
    assert asyncio.run(wait(ticket)) is True
    with engine.connect() as conn:  # committed means in the table, no flush needed
        assert conn.execute(select(audit_log.c.detail)).scalars().all() == ['{"i":1}']

    broken = AuditBuffer(log, engine, interval_s=0.0, attempts=1)
    ticket = broken.submit({"actor": "reader", "action": "not-an-action"})  # refused by the chain
    assert asyncio.run(broken_wait(broken, ticket)) is False
    buf.close()
    broken.close()
    engine.dispose()


async def broken_wait(buf, ticket):
    return await buf.committed(ticket, timeout=10)
