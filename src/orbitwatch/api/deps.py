"""Dependencies: the node's state, the caller (the one authentication path), and its read filter.

Routes never look at tokens, cookies or markings themselves: they declare ``CurrentUser`` (or
``Caller`` for endpoints that also serve the anonymous public) and ``ReadFilter``, and pass the filter
to the store as ``where=``. That is the one place authorisation happens.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from orbitwatch.api.limits import RateLimiter
from orbitwatch.api.reads import LoopConnections
from orbitwatch.errors import AuthenticationError, PermissionDenied
from orbitwatch.markings import ClassificationScheme
from orbitwatch.settings import Settings
from orbitwatch.sharing.audit import AuditBuffer, AuditLog
from orbitwatch.sharing.authz import Where, readable_by, restricted_row
from orbitwatch.sharing.identity import authenticate_token, secret_digest, session_principal
from orbitwatch.sharing.principal import Principal, anonymous

log = logging.getLogger("orbitwatch.api")

SESSION_COOKIE = "ow_session"
SPACETRACK_COOKIE = "chocolatechip"  # the cookie name Space-Track's own clients receive


@dataclass
class NodeState:
    """Everything a request needs from the node; built once by :func:`orbitwatch.api.create_app`."""

    settings: Settings
    engine: Engine
    scheme: ClassificationScheme
    audit: AuditLog
    audit_buffer: AuditBuffer
    limiter: RateLimiter
    login_limiter: RateLimiter
    organisations: tuple[str, ...] = ()
    session_hours: float = 12.0
    cookie_secure: bool = False
    token_cache_s: float = 2.0
    #: Recent large Space-Track-compatible answers (see ``api/compat/spacetrack.py``).
    compat_cache: OrderedDict = field(default_factory=OrderedDict)
    #: One database connection per event-loop thread for small reads run on the loop (``ReadContext``).
    loop_conns: LoopConnections | None = None
    #: Audit entries written on the event loop before the answer leaves (SQLite; see :class:`LoopAudit`).
    loop_audit: LoopAudit | None = None
    _cache: dict[str, tuple[Principal, float]] = field(default_factory=dict)
    _cache_lock: threading.Lock = field(default_factory=threading.Lock)

    def peek_principal(self, kind: str, secret: str) -> Principal | None:
        """The cached principal for a token or session id, without touching the database."""
        return self.peek_digest(kind, secret_digest(secret))

    def peek_digest(self, kind: str, digest: str) -> Principal | None:
        """:meth:`peek_principal` by the secret's digest (``identity.secret_digest``)."""
        hit = self._cache.get(kind + ":" + digest)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def cached_principal(self, kind: str, secret: str) -> Principal:
        """Resolve a token or session id, caching the answer for ``token_cache_s`` seconds (so a revoked
        token stops working within that time in every worker). Blocking: call it from a thread."""
        hit = self.peek_principal(kind, secret)
        if hit is not None:
            return hit
        key = kind + ":" + secret_digest(secret)
        now = time.monotonic()
        with self.engine.connect() as conn:
            resolve = authenticate_token if kind == "token" else session_principal
            p = resolve(conn, secret)
        with self._cache_lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = (p, now + self.token_cache_s)
        return p

    def forget(self, kind: str, secret: str) -> None:
        with self._cache_lock:
            self._cache.pop(kind + ":" + secret_digest(secret), None)

    def forget_all(self) -> None:
        with self._cache_lock:
            self._cache.clear()


# Dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` dependencies in its thread pool,
# one hop each, which costs more than the work they do. Their blocking parts (a cached token lookup, a
# pool checkout) take microseconds.
async def get_state(request: Request) -> NodeState:
    return request.app.state.node


State = Annotated[NodeState, Depends(get_state)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _credentials(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationError("use 'Authorization: Bearer <token>'")
        return "token", value.strip()
    for name in (SESSION_COOKIE, SPACETRACK_COOKIE):
        sid = request.cookies.get(name)
        if sid:
            return "session", sid
    return None


async def resolve_caller(request: Request, state: NodeState, *, allow_anonymous: bool) -> Principal:
    """Authenticate the request and charge its rate limit. The only authentication path.

    A cache hit costs a dictionary lookup; a miss goes to the database from a worker thread, never from
    the event loop (a loop blocked on the connection pool would stall every request of the worker).
    """
    creds = _credentials(request)
    if creds is None:
        if allow_anonymous and state.settings.public_access:
            state.limiter.check("ip:" + _client(request))
            p = anonymous(state.scheme)
            request.state.principal = p
            return p
        state.limiter.check("ip:" + _client(request))
        raise AuthenticationError("authentication required: send 'Authorization: Bearer <token>' or log "
                                  "in at POST /auth/login")
    kind, secret = creds
    try:
        p = state.peek_principal(kind, secret)
        if p is None:
            p = await run_in_threadpool(state.cached_principal, kind, secret)
    except AuthenticationError:
        # Failed credentials cost from the client's address bucket: guessing tokens is rate limited too.
        state.limiter.check("ip:" + _client(request))
        raise
    state.limiter.check(kind + ":" + secret_digest(secret)[:32])
    request.state.principal = p
    return p


async def current_user(request: Request, state: State) -> Principal:
    return await resolve_caller(request, state, allow_anonymous=False)


async def current_caller(request: Request, state: State) -> Principal:
    return await resolve_caller(request, state, allow_anonymous=True)


CurrentUser = Annotated[Principal, Depends(current_user)]
Caller = Annotated[Principal, Depends(current_caller)]


async def read_filter(request: Request, state: State) -> Where:
    p: Principal | None = getattr(request.state, "principal", None)
    if p is None:  # pragma: no cover - every route declares the caller before the filter
        raise AuthenticationError("authentication required")
    return readable_by(p, state.scheme)


ReadFilter = Annotated[Where, Depends(read_filter)]

T = TypeVar("T")


@dataclass(slots=True)
class ReadContext:
    """The caller and its read filter in one dependency (what the hot read routes declare: FastAPI
    resolves one dependency much faster than four), plus where to run the read.

    ``run(fn, small=True)`` runs ``fn(dbapi_connection)`` on the event loop with the loop's own
    connection: for bounded reads that take well under a millisecond this beats the hop to a worker
    thread. Anything else (``small=False``) runs in the thread pool with a pooled connection, checked
    out and returned inside the thread.
    """

    state: NodeState
    principal: Principal
    where: Where

    async def run(self, fn: Callable[[Any], T], *, small: bool) -> T:
        state = self.state
        # On the loop for PostgreSQL too: measured, worker threads waiting on the server in parallel cost
        # the workers 60% more CPU per request and kept many backends busy on two cores, for no more
        # throughput.
        if small and state.loop_conns is not None:
            return _on_loop(state, fn)
        return await run_in_threadpool(_in_thread, state, fn)


def _dbapi_errors(state: NodeState) -> tuple[type[BaseException], ...]:
    dbapi = state.engine.dialect.loaded_dbapi
    return (dbapi.OperationalError, dbapi.InterfaceError)


def _data_error(state: NodeState, exc: BaseException):
    """Raise a value the database refused (NUL in text, out of range) as SQLAlchemy's DataError, which
    ``api/problems.py`` answers with 422 like the rest of the API."""
    from sqlalchemy.exc import DataError

    raise DataError("(hot read)", None, exc) from exc  # type: ignore[arg-type]


def _on_loop(state: NodeState, fn: Callable[[Any], T]) -> T:
    conns = state.loop_conns
    dbapi = state.engine.dialect.loaded_dbapi
    for attempt in (0, 1):
        raw = conns.get()
        try:
            return fn(raw)
        except dbapi.DataError as exc:
            _data_error(state, exc)
        except _dbapi_errors(state):
            conns.discard()  # a dropped connection: retry once on a fresh one
            if attempt:
                raise
    raise AssertionError("unreachable")


def _in_thread(state: NodeState, fn: Callable[[Any], T]) -> T:
    raw = state.engine.raw_connection()
    try:
        return fn(raw)
    except state.engine.dialect.loaded_dbapi.DataError as exc:
        _data_error(state, exc)
    finally:
        raw.close()


async def reader(request: Request) -> ReadContext:
    state: NodeState = request.app.state.node
    p = await resolve_caller(request, state, allow_anonymous=True)
    return ReadContext(state, p, readable_by(p, state.scheme))


Reader = Annotated[ReadContext, Depends(reader)]


class LazyConnection:
    """A :class:`~sqlalchemy.Connection` checked out from the pool on first use.

    Routes run in worker threads; checking a connection out in the (async) dependency would block the
    event loop whenever the pool is exhausted - and with it the very requests that would give
    connections back. Deferring the checkout to the route's first statement keeps waits in threads.
    """

    __slots__ = ("_conn", "_engine")

    def __init__(self, engine: Engine):
        self._engine = engine
        self._conn: Connection | None = None

    def _get(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def __getattr__(self, name: str):
        return getattr(self._get(), name)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def db(state: State) -> AsyncIterator[Connection]:
    conn = LazyConnection(state.engine)
    try:
        yield conn  # type: ignore[misc]  (a Connection in every way routes use it)
    finally:
        conn.close()


Conn = Annotated[Connection, Depends(db)]


def require_role(*roles: str):
    """Dependency factory: the caller must hold one of ``roles``."""

    async def check(user: CurrentUser) -> Principal:
        if not user.has_role(*roles):
            raise PermissionDenied(f"this needs one of the roles: {', '.join(roles)}")
        return user

    return Depends(check)


#: Tickets of the audit entries queued while handling the current request (set by :class:`AuditGate`).
_AUDIT_TICKETS: ContextVar[list[int] | None] = ContextVar("orbitwatch_audit_tickets", default=None)


def audit_reads(state: NodeState, principal: Principal, resource: str, rows: list[Any],
                key: str = "id") -> None:
    """Queue one audit entry when a response carries restricted records (any above the lowest level or
    not releasable to every partner). Unrestricted reads are not logged: they are the public picture."""
    restricted = [r for r in rows if restricted_row(r)]
    if not restricted:
        return
    keys = []
    for r in restricted[:50]:
        m = r._mapping if hasattr(r, "_mapping") else r
        keys.append(m.get(key) if hasattr(m, "get") else None)
    audit_restricted(state, principal, resource, len(restricted), len(rows), key, keys)


def audit_restricted(state: NodeState, principal: Principal, resource: str, restricted: int, returned: int,
                     key: str, keys: list[Any]) -> None:
    """Record the audit entry of a read that returned ``restricted`` restricted records (``keys``: the
    first 50 of them): committed at once on the event loop when :class:`LoopAudit` can, else queued for
    the group commit, and then the response waits for it (:class:`AuditGate`)."""
    event = {"actor": principal.username, "nation": principal.nation, "action": "read", "resource": resource,
             "detail": {"restricted": restricted, "returned": returned, key + "s": keys[:50]}}
    if state.loop_audit is not None and state.loop_audit.write(event):
        return  # in the chain already: the answer need not wait
    ticket = state.audit_buffer.submit(event)
    pending = _AUDIT_TICKETS.get()
    if pending is not None and ticket:
        pending.append(ticket)


class LoopAudit:
    """Audit entries of reads answered on the event loop, committed right there (SQLite only).

    On SQLite one entry is a 0.05-0.1 ms transaction, less than the group commit's cost to the answer: a
    10 ms gather, a thread that has to win the GIL from a busy loop several times, and two more turns of
    the loop before the held answer leaves (30-50 ms under load). So on the loop each entry is appended
    at once, on the loop's own connection, with the same statements and chain as the group commit
    (``AuditLog.write_batch``) - before the route returns, so the answer never leaves ahead of it.

    The loop must never wait for SQLite's write lock (an ingest may hold it for seconds): the connection
    does not wait (``busy_timeout`` 0), and an entry that cannot be written at once - locked database,
    any error - goes to the group commit as before (``audit_buffer``), whose answer waits for it or is
    refused with 503. Nothing is written twice: a failed transaction is rolled back whole. Off the loop
    (routes in worker threads) and on PostgreSQL (a commit waits for the WAL flush) entries take the
    group commit.
    """

    #: Entries between two background WAL checkpoints (the loop's connection never checkpoints itself).
    CHECKPOINT_EVERY = 2000
    #: How long the loop may wait for SQLite's write lock (the other workers' entries hold it for 0.05 ms,
    #: longer only when the OS preempts their process), and how long after a failed wait it does not try.
    LOCK_WAIT_MS = 2
    BACKOFF_S = 0.1

    def __init__(self, state: NodeState):
        self.state = state
        self.conns = LoopConnections(state.engine, setup=_loop_writer)
        self._written = 0
        self._skip_until = 0.0

    def write(self, event: dict[str, Any]) -> bool:
        """Commit ``event`` now if this is an event-loop thread and the database is free; False otherwise
        (nothing written)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        now = time.monotonic()
        if now < self._skip_until:  # the lock was busy a moment ago (an ingest holds it for seconds)
            return False
        event.setdefault("ts", time.time())
        try:
            raw = self.conns.get()
            self.state.audit.write_batch(self.state.engine, [event], raw=raw)
        except Exception as exc:  # noqa: BLE001 - the group commit writes it (or the answer is refused)
            if _is_locked(exc):
                self._skip_until = now + self.BACKOFF_S
            else:
                log.warning("audit entry not written on the loop (%s); using the group commit", exc)
                self.conns.discard()
            return False
        self._written += 1
        if self._written % self.CHECKPOINT_EVERY == 0:
            from orbitwatch.store.engine import schedule_checkpoint

            schedule_checkpoint(self.state.engine)
        return True

    def close(self) -> None:
        self.conns.close()


def _loop_writer(raw) -> None:
    # Never wait for the write lock on the loop; never copy the WAL back into the database in the loop's
    # commit (a checkpoint is milliseconds of I/O): a background thread does it (LoopAudit.write).
    raw.execute(f"PRAGMA busy_timeout = {LoopAudit.LOCK_WAIT_MS}")
    raw.execute("PRAGMA wal_autocheckpoint = 0")


def _is_locked(exc: Exception) -> bool:
    return "locked" in str(exc) or "busy" in str(exc).lower()


class AuditGate:
    """ASGI middleware: a response that carries restricted records leaves only once their audit entry is
    committed to the chain (group commit, see ``sharing.audit.AuditBuffer``); if the chain cannot be
    written the caller gets 503 instead of unlogged data. Requests that queued no entry pass untouched.
    """

    def __init__(self, app, buffer: AuditBuffer):
        self.app = app
        self.buffer = buffer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        tickets: list[int] = []
        token = _AUDIT_TICKETS.set(tickets)
        refused = False

        async def gated(message):
            nonlocal refused
            if refused:
                return
            if tickets and message["type"] == "http.response.start":
                ok = await self.buffer.committed(max(tickets))
                tickets.clear()
                if not ok:
                    refused = True
                    from orbitwatch.api.problems import problem

                    resp = problem(503, "the audit log cannot be written; restricted data is not served "
                                        "until it can", instance=scope.get("path"))
                    await resp(scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, gated)
        finally:
            _AUDIT_TICKETS.reset(token)
