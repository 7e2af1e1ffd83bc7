"""The audit chain: an append-only log where each entry commits to the one before it.

Every entry's ``hash`` is ``HMAC-SHA256(key, canonical(prev_hash, seq, ts, actor, nation, action,
resource, detail))`` and its ``prev_hash`` is the previous entry's hash (``0`` x 64 for the first). The
key is derived from the node's secret, so someone with write access to the database but not the secret
cannot rebuild a consistent chain after editing it. A one-row head (``audit_head``) holds the last
sequence number and hash: appending locks it first (serialising writers on SQLite and PostgreSQL alike)
and :meth:`AuditLog.verify` compares it with the log, so a truncated tail is caught too.

:meth:`AuditLog.verify` reports *where* the chain breaks: a modified entry (its content no longer
matches its hash), a removed entry (a gap in the sequence) and a reordered or replaced entry (its
``prev_hash`` does not match its predecessor's hash).

Reads of restricted data are frequent (every API page a nation reads), so the API queues them in an
:class:`AuditBuffer` that appends them in group commits (many requests, one transaction) and holds each
response back until its entry is committed; acts (logins, ingests, releases, user and token changes)
are appended synchronously by the code that performs them.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from orbitwatch.store.schema_sharing import audit_head, audit_log

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_HEAD_ID = 1

#: Actions the chain records (free text is refused so that queries on ``action`` stay meaningful).
ACTIONS: frozenset[str] = frozenset({
    "read", "ingest", "release", "login", "login_failed", "logout", "user_add", "user_revoke",
    "token_issue", "token_revoke", "audit_read", "admin",
})


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: float
    actor: str
    nation: str | None
    action: str
    resource: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "actor": self.actor, "nation": self.nation,
                "action": self.action, "resource": self.resource, "detail": self.detail,
                "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class AuditProblem:
    seq: int | None
    kind: str  # modified | removed | chain | truncated | head
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class VerifyReport:
    ok: bool
    checked: int
    last_seq: int
    head_hash: str
    problems: list[AuditProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "last_seq": self.last_seq,
                "head_hash": self.head_hash,
                "problems": [{"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems]}


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    """The byte-stable JSON text of a detail mapping (sorted keys, no spaces)."""
    return json.dumps(dict(detail or {}), sort_keys=True, separators=(",", ":"), default=str,
                      ensure_ascii=True)


def _ts6(ts: float) -> float:
    # Microsecond resolution survives a float round trip through SQLite and PostgreSQL exactly.
    return round(float(ts), 6)


class AuditLog:
    """Append to and verify the chain. ``key`` is the HMAC key (see :meth:`from_secret`)."""

    def __init__(self, key: bytes):
        if not key:
            raise ValueError("the audit chain needs a non-empty key")
        self._key = key

    @classmethod
    def from_secret(cls, secret: str) -> AuditLog:
        """Derive the chain key from the node secret (``ORBITWATCH_SECRET_KEY``), domain-separated."""
        return cls(hashlib.sha256(b"orbitwatch-audit-chain-v1\x00" + secret.encode()).digest())

    # -- hashing -------------------------------------------------------------------------------
    def entry_hash(self, *, prev_hash: str, seq: int, ts: float, actor: str, nation: str | None,
                   action: str, resource: str | None, detail_json: str) -> str:
        material = json.dumps([prev_hash, int(seq), f"{_ts6(ts):.6f}", actor, nation, action, resource,
                               detail_json], separators=(",", ":"), ensure_ascii=True)
        return hmac.new(self._key, material.encode(), hashlib.sha256).hexdigest()

    # -- writing -------------------------------------------------------------------------------
    def append_many(self, conn: Connection, events: Iterable[Mapping[str, Any]]) -> list[AuditEntry]:
        """Append events inside the caller's transaction (commit with the act they record).

        Each event is a mapping with ``actor``, ``action`` and optional ``nation``, ``resource``,
        ``detail``, ``ts``. Locks the head row first, so concurrent writers queue up rather than fork
        the chain.
        """
        events = list(events)
        if not events:
            return []
        now = time.time()
        # Take the write lock before reading the head: UPDATE locks the row on PostgreSQL and takes
        # SQLite's RESERVED lock, so no other writer can read the same head and fork the chain.
        locked = conn.execute(update(audit_head).where(audit_head.c.id == _HEAD_ID)
                              .values(updated_at=now)).rowcount
        if not locked:
            conn.execute(insert(audit_head).values(id=_HEAD_ID, seq=0, hash=GENESIS, updated_at=now))
        head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                            .where(audit_head.c.id == _HEAD_ID)).one()
        rows, seq, prev = self._chain(int(head.seq), head.hash, events, now)
        conn.execute(insert(audit_log), rows)
        conn.execute(update(audit_head).where(audit_head.c.id == _HEAD_ID)
                     .values(seq=seq, hash=prev, updated_at=now))
        return [AuditEntry(r["seq"], r["ts"], r["actor"], r["nation"], r["action"], r["resource"],
                           json.loads(r["detail"]), r["prev_hash"], r["hash"]) for r in rows]

    def _chain(self, seq: int, prev: str, events: list[Mapping[str, Any]],
               now: float) -> tuple[list[dict[str, Any]], int, str]:
        """The rows that continue the chain after (``seq``, ``prev``), and the new head."""
        rows: list[dict[str, Any]] = []
        for ev in events:
            action = ev["action"]
            if action not in ACTIONS:
                raise ValueError(f"unknown audit action {action!r}; expected one of {sorted(ACTIONS)}")
            seq += 1
            ts = _ts6(ev.get("ts") or now)
            detail_json = canonical_detail(ev.get("detail"))
            actor = str(ev["actor"])
            nation = ev.get("nation")
            resource = ev.get("resource")
            h = self.entry_hash(prev_hash=prev, seq=seq, ts=ts, actor=actor, nation=nation, action=action,
                                resource=resource, detail_json=detail_json)
            rows.append({"seq": seq, "ts": ts, "actor": actor, "nation": nation, "action": action,
                         "resource": resource, "detail": detail_json, "prev_hash": prev, "hash": h})
            prev = h
        return rows, seq, prev

    def write_batch(self, engine: Engine, events: list[Mapping[str, Any]], *, raw: Any = None) -> None:
        """Append ``events`` in a transaction of their own on a plain DBAPI cursor - the same statements,
        lock order and rows as :meth:`append_many`, without SQLAlchemy's per-statement machinery, which
        cost more than the work for the many small batches of reads the API appends every second.
        ``raw``: a DBAPI connection of ``engine``'s database to write on (left open), instead of one from
        the engine's pool."""
        if not events:
            return
        ph = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        own = raw is None
        if own:
            raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            if engine.dialect.name == "sqlite":
                # Explicitly, whatever the driver's transaction mode: the write lock before the head is read.
                cur.execute("BEGIN IMMEDIATE")
            now = time.time()
            cur.execute(f"UPDATE audit_head SET updated_at = {ph} WHERE id = {ph}", (now, _HEAD_ID))
            if cur.rowcount < 1:
                cur.execute(f"INSERT INTO audit_head (id, seq, hash, updated_at) VALUES ({ph}, {ph}, {ph}, {ph})",
                            (_HEAD_ID, 0, GENESIS, now))
            cur.execute(f"SELECT seq, hash FROM audit_head WHERE id = {ph}", (_HEAD_ID,))
            seq, prev = cur.fetchone()
            rows, seq, prev = self._chain(int(seq), prev, events, now)
            cols = ("seq", "ts", "actor", "nation", "action", "resource", "detail", "prev_hash", "hash")
            cur.executemany(f"INSERT INTO audit_log ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))})",
                            [tuple(r[c] for c in cols) for r in rows])
            cur.execute(f"UPDATE audit_head SET seq = {ph}, hash = {ph}, updated_at = {ph} WHERE id = {ph}",
                        (seq, prev, now, _HEAD_ID))
            cur.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            if own:
                raw.close()

    def append(self, conn: Connection, *, actor: str, action: str, nation: str | None = None,
               resource: str | None = None, detail: Mapping[str, Any] | None = None,
               ts: float | None = None) -> AuditEntry:
        return self.append_many(conn, [{"actor": actor, "action": action, "nation": nation,
                                        "resource": resource, "detail": detail, "ts": ts}])[0]

    def record_many(self, engine: Engine, events: Iterable[Mapping[str, Any]],
                    attempts: int = 5) -> list[AuditEntry]:
        """Append in a transaction of its own, retrying when two first writers race for the head."""
        events = list(events)
        for attempt in range(attempts):
            try:
                with engine.begin() as conn:
                    return self.append_many(conn, events)
            except (IntegrityError, OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        return []  # unreachable

    def record(self, engine: Engine, **event: Any) -> AuditEntry:
        return self.record_many(engine, [event])[0]

    # -- reading -------------------------------------------------------------------------------
    @staticmethod
    def entries(conn: Connection, *, action: str | None = None, actor: str | None = None,
                nation: str | None = None, after_seq: int | None = None, limit: int = 100,
                offset: int = 0, newest_first: bool = True) -> list[AuditEntry]:
        q = select(audit_log)
        if action:
            q = q.where(audit_log.c.action == action)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if nation:
            q = q.where(audit_log.c.nation == nation)
        if after_seq is not None:
            q = q.where(audit_log.c.seq > after_seq)
        q = q.order_by(audit_log.c.seq.desc() if newest_first else audit_log.c.seq)
        q = q.limit(limit).offset(offset)
        return [_entry(r) for r in conn.execute(q)]

    @staticmethod
    def count(conn: Connection) -> int:
        from sqlalchemy import func

        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())

    def verify(self, conn: Connection, *, max_problems: int = 100) -> VerifyReport:
        """Walk the whole chain; report every entry that was modified, removed or moved, and where."""
        problems: list[AuditProblem] = []
        expected_seq, expected_prev, checked, last_seq = 1, GENESIS, 0, 0

        def add(seq: int | None, kind: str, message: str) -> None:
            if len(problems) < max_problems:
                problems.append(AuditProblem(seq, kind, message))

        rows = conn.execution_options(yield_per=2000).execute(
            select(audit_log).order_by(audit_log.c.seq))
        for r in rows:
            seq = int(r.seq)
            checked += 1
            if seq > expected_seq:
                gap = (f"entry {expected_seq}" if seq == expected_seq + 1
                       else f"entries {expected_seq}..{seq - 1}")
                add(expected_seq, "removed", f"{gap} removed: the sequence jumps from {expected_seq - 1} "
                                             f"to {seq}")
            if r.prev_hash != expected_prev:
                add(seq, "chain", f"entry {seq} does not follow entry {last_seq}: its prev_hash "
                                  f"{r.prev_hash[:12]}... is not entry {last_seq}'s hash "
                                  f"{expected_prev[:12]}... "
                                  "(an entry was removed, replaced or reordered here)")
            computed = self.entry_hash(prev_hash=r.prev_hash, seq=seq, ts=r.ts, actor=r.actor,
                                       nation=r.nation, action=r.action, resource=r.resource,
                                       detail_json=r.detail)
            if not hmac.compare_digest(computed, r.hash):
                add(seq, "modified", f"entry {seq} ({r.action} by {r.actor}) was modified or moved: its "
                                     "content does not match its hash")
            # Continue from the stored hash so one edit reports one place, not a cascade.
            expected_prev, expected_seq, last_seq = r.hash, seq + 1, seq
        head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)
                            .where(audit_head.c.id == _HEAD_ID)).one_or_none()
        head_seq, head_hash = (int(head.seq), head.hash) if head else (0, GENESIS)
        if head_seq != last_seq:
            if head_seq > last_seq:
                add(last_seq + 1, "truncated", f"entries {last_seq + 1}..{head_seq} removed from the end: "
                                               f"the head records {head_seq} entries, the log ends at "
                                               f"{last_seq}")
            else:
                add(head_seq + 1, "head", f"entries {head_seq + 1}..{last_seq} were added behind the "
                                          f"head's back (head records {head_seq})")
        elif head_hash != expected_prev:
            add(last_seq, "head", f"entry {last_seq} does not match the head hash (the last entry was "
                                  "replaced)")
        return VerifyReport(ok=not problems, checked=checked, last_seq=last_seq, head_hash=head_hash,
                            problems=problems)


def _entry(r) -> AuditEntry:
    return AuditEntry(int(r.seq), float(r.ts), r.actor, r.nation, r.action, r.resource,
                      json.loads(r.detail), r.prev_hash, r.hash)


class AuditBuffer:
    """Queue read events and append them to the chain in group commits from one background thread.

    ``submit`` never blocks a request on the database and returns a *ticket*; :meth:`committed` (async)
    resolves once that ticket's entry is committed. The API holds back every response that carries
    restricted records until its ticket is committed (``api/deps.py: AuditGate``), so no restricted read
    leaves the node without its entry in the chain, yet many requests share one transaction: the writer
    gathers for ``interval_s`` and then appends everything pending at once, and whatever arrives while a
    commit runs goes into the next one. If the chain cannot be written (after retries) the waiting
    responses are refused (``committed`` answers False) rather than sent unlogged.
    """

    def __init__(self, audit: AuditLog, engine: Engine, *, interval_s: float = 0.01, max_batch: int = 2000,
                 attempts: int = 3):
        self._audit = audit
        self._engine = engine
        self._interval = interval_s
        self._max_batch = max_batch
        self._attempts = attempts
        self._cond = threading.Condition()
        self._pending: list[dict[str, Any]] = []
        self._submitted = 0
        self._done = 0
        self._failed: list[tuple[int, int]] = []  # ticket ranges [first, last] that could not be written
        self._waiters: list[tuple[int, Any, Any]] = []  # (ticket, event loop, future)
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, event: dict[str, Any]) -> int:
        """Queue one event; returns its ticket (0 when it was written synchronously, after close)."""
        event.setdefault("ts", time.time())
        with self._cond:
            if not self._closed:
                self._pending.append(event)
                self._submitted += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="audit-buffer", daemon=True)
                    self._thread.start()
                self._cond.notify_all()
                return self._submitted
        self._audit.record_many(self._engine, [event])
        return 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending and self._closed:
                    return
                closing = self._closed
            if not closing and self._interval > 0:
                time.sleep(self._interval)  # gather: one transaction for the reads of many requests
            with self._cond:
                batch = self._pending[:self._max_batch]
                del self._pending[:self._max_batch]
                first = self._done + 1
            ok = self._write(batch)
            with self._cond:
                self._done += len(batch)
                if not ok:
                    self._failed.append((first, self._done))
                    del self._failed[:-100]
                self._wake()
                self._cond.notify_all()

    def _write(self, batch: list[dict[str, Any]]) -> bool:
        for attempt in range(self._attempts):
            try:
                self._audit.write_batch(self._engine, batch)
                return True
            except Exception:  # noqa: BLE001 - the writer thread must survive a bad moment of the database
                log.exception("could not append %d audit entries (attempt %d)", len(batch), attempt + 1)
                time.sleep(0.2 * (attempt + 1))
        log.error("could not write %d audit read entries: their responses are refused", len(batch))
        return False

    def _ok(self, ticket: int) -> bool:
        return not any(a <= ticket <= b for a, b in self._failed)

    def _wake(self) -> None:
        """Resolve the futures of committed tickets (called with the lock held): one call per event loop."""
        if not self._waiters:
            return
        ready: dict[Any, list[tuple[Any, bool]]] = {}
        keep = []
        for ticket, loop, fut in self._waiters:
            if ticket <= self._done:
                ready.setdefault(loop, []).append((fut, self._ok(ticket)))
            else:
                keep.append((ticket, loop, fut))
        self._waiters = keep
        for loop, futs in ready.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, futs)

    async def committed(self, ticket: int, timeout: float = 30.0) -> bool:
        """Wait (without blocking the event loop) until ``ticket`` is in the chain. False if it could not
        be written or the wait timed out."""
        import asyncio

        with self._cond:
            if ticket <= self._done:
                return self._ok(ticket)
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            self._waiters.append((ticket, loop, fut))
        try:
            # asyncio.timeout rather than wait_for, which (3.11) resumes the caller through a second future:
            # one more turn of a busy event loop for every held answer.
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            return False

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is in the chain; False on timeout."""
        with self._cond:
            target = self._submitted
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= target, timeout=timeout)

    def close(self, timeout: float = 30.0) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=timeout)


def _resolve(futs: list[tuple[Any, bool]]) -> None:
    for fut, ok in futs:
        if not fut.done():
            fut.set_result(ok)
