"""The FastAPI application factory.

``create_app(settings=None, engine=None)`` builds a fresh app: settings and the engine are parameters
(tests and exercises pass their own), nothing is built at import time. ``orbitwatch serve`` runs it
under uvicorn (``uvicorn --factory orbitwatch.api.app:create_app`` works too).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from orbitwatch.settings import Settings

log = logging.getLogger("orbitwatch.api")

DESCRIPTION = """\
The shared, marked space catalogue of a coalition node.

Authenticate with `Authorization: Bearer <token>` (scripts) or a session cookie from `POST /auth/login`
(browsers). Every answer contains only records released to your nation at or below your clearance; a
record that is not released to you answers 404 exactly as one that does not exist. Errors are RFC 9457
`application/problem+json`.
"""


def create_app(settings: Settings | None = None, engine: Engine | None = None, *, hot_reads: bool = True) -> FastAPI:
    """The API. ``hot_reads=False`` serves the two hot reads through their FastAPI routes only (for
    tests that compare both paths; see ``api/hot.py``)."""
    from orbitwatch.api import problems
    from orbitwatch.api.deps import AuditGate, LoopAudit, NodeState
    from orbitwatch.api.limits import BodySizeLimit, RateLimiter
    from orbitwatch.api.reads import LoopConnections
    from orbitwatch.api.routes import admin, auth, catalog, ingest, meta, products, releases
    from orbitwatch.markings import ClassificationScheme
    from orbitwatch.settings import database_url, get_settings
    from orbitwatch.sharing.audit import AuditBuffer, AuditLog
    from orbitwatch.store.engine import init_schema, open_engine

    settings = settings or get_settings()
    if engine is None:
        engine = open_engine(database_url(settings.database_url))
    else:
        init_schema(engine)
    scheme = ClassificationScheme(tuple(settings.classification_levels))
    audit = AuditLog.from_secret(settings.secret_key)
    rate = float(settings.rate_limit_per_minute)
    state = NodeState(
        settings=settings, engine=engine, scheme=scheme, audit=audit,
        audit_buffer=AuditBuffer(audit, engine, interval_s=float(getattr(settings, "audit_gather_s", 0.01))),
        limiter=RateLimiter(rate, burst=getattr(settings, "rate_limit_burst", None)),
        login_limiter=RateLimiter(float(getattr(settings, "login_rate_per_minute", 30)), burst=10),
        organisations=tuple(getattr(settings, "partner_organisations", ()) or ()),
        session_hours=float(getattr(settings, "session_hours", 12.0)),
        cookie_secure=settings.environment == "production",
        token_cache_s=float(getattr(settings, "token_cache_s", 2.0)),
        loop_conns=LoopConnections(engine),
    )
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        state.loop_audit = LoopAudit(state)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _bound_threads(engine)
        yield
        state.audit_buffer.close()
        state.loop_conns.close()
        if state.loop_audit is not None:
            state.loop_audit.close()

    app = FastAPI(title="orbitwatch", version=_version(), description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None, **_telemetry_off())
    app.state.node = state
    problems.install(app)
    # Routes are matched in order, one by one: the catalogue's (the busiest) go first.
    for module in (catalog, meta, auth, ingest, releases, products, admin):
        app.include_router(module.router)
    for name in OPTIONAL_ROUTERS:
        router = _optional_router(name)
        if router is not None:
            app.include_router(router)
    _mount_web(app)
    if hot_reads:
        from orbitwatch.api.hot import HotReads

        # Innermost of ours: inside AuditGate, which holds audited answers until their entry is committed.
        app.add_middleware(HotReads, node=state, exception_handlers=app.exception_handlers)
    app.add_middleware(AuditGate, buffer=state.audit_buffer)
    app.add_middleware(BodySizeLimit, max_bytes=int(settings.max_request_bytes))
    return app


def _telemetry_off() -> dict:
    """FastAPI's built-in OpenTelemetry hooks look up the global providers on every request even when
    none is configured (tens of microseconds each). Off unless ``ORBITWATCH_OTEL=1``; FastAPI versions
    without the hooks take no such argument."""
    import inspect
    import os

    if os.environ.get("ORBITWATCH_OTEL") == "1" or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}


def _bound_threads(engine: Engine) -> None:
    """Run at most as many routes at once as the connection pool can serve (less two: one for the audit
    writer, one for token lookups), so that requests queue in the server rather than time out waiting
    for a connection."""
    import anyio.to_thread

    pool = engine.pool
    try:
        capacity = int(pool.size()) + max(0, int(getattr(pool, "_max_overflow", 0)))
    except (AttributeError, TypeError):  # pools without a size (SQLite in memory): leave the default
        return
    anyio.to_thread.current_default_thread_limiter().total_tokens = max(4, min(40, capacity - 2))


#: Routers owned by other packages, included when they are installed (each holds ``router``).
OPTIONAL_ROUTERS = (
    "orbitwatch.api.exercise_routes",
    "orbitwatch.api.compat.spacetrack",
    "orbitwatch.api.compat.celestrak",
)


def _optional_router(module: str):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None  # not installed in this build
        raise
    return getattr(mod, "router", None)


def _mount_web(app: FastAPI) -> None:
    """Let the web UI package serve its static files from this app, when it is installed."""
    try:
        import orbitwatch.web as web
    except ImportError:  # pragma: no cover
        return
    mount = getattr(web, "mount", None)
    if callable(mount):
        mount(app)


def _version() -> str:
    from orbitwatch import __version__

    return __version__
