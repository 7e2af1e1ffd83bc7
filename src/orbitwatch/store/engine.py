"""Engines: SQLite (WAL) by default, PostgreSQL by URL; schema creation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from orbitwatch.store.base import metadata


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL sync is crash-safe in WAL (a commit is atomic).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-200000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder when needed."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        # Plain postgresql:// means psycopg 3 here (psycopg2 is not a dependency).
        u = u.set(drivername="postgresql+psycopg")
    return create_engine(u, pool_pre_ping=True, pool_size=10, max_overflow=20)


def init_schema(engine: Engine) -> None:
    """Create every table that does not exist yet (idempotent)."""
    import orbitwatch.store.schema  # noqa: F401  (registers tables on the metadata)
    import orbitwatch.store.schema_exercise  # noqa: F401
    import orbitwatch.store.schema_products  # noqa: F401
    import orbitwatch.store.schema_sharing  # noqa: F401
    import orbitwatch.store.schema_threats  # noqa: F401

    metadata.create_all(engine)


def open_engine(url: str) -> Engine:
    """Engine with the schema in place: what commands and the API call."""
    engine = make_engine(url)
    init_schema(engine)
    return engine
