"""Engines: SQLite (WAL) by default, PostgreSQL by URL; schema creation."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from orbitwatch.store.base import metadata


def _null(_value: None) -> None:
    return None


# Binding None costs the sqlite3 module two failed attribute lookups (each an exception) before it
# falls back to NULL: ten times the cost of binding a number, and SATCAT rows are mostly NULLs. A
# registered adapter is found by one dict lookup. (Process-wide, and None still binds as NULL.)
sqlite3.register_adapter(type(None), _null)


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
    """Create every table that does not exist yet (idempotent), upgrading a store made by an earlier
    version first (:func:`_upgrade_objects_per_marking`)."""
    import orbitwatch.store.schema  # noqa: F401  (registers tables on the metadata)
    import orbitwatch.store.schema_exercise  # noqa: F401
    import orbitwatch.store.schema_products  # noqa: F401
    import orbitwatch.store.schema_sharing  # noqa: F401
    import orbitwatch.store.schema_threats  # noqa: F401

    _upgrade_objects_per_marking(engine)
    metadata.create_all(engine)
    _add_missing_columns(engine)
    _create_missing_indexes(engine)


def _add_missing_columns(engine: Engine) -> None:
    """Nullable columns added to tables that already existed (``create_all`` leaves existing tables as
    they are): a store made by an earlier version gets them, empty, when it is opened."""
    from sqlalchemy import inspect, text

    insp = inspect(engine)
    tables = set(insp.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in tables:
            continue
        have = {c["name"] for c in insp.get_columns(table.name)}
        missing = [c for c in table.columns if c.name not in have]
        if not missing:
            continue
        with engine.begin() as conn:
            for col in missing:
                if not col.nullable or col.primary_key:
                    raise RuntimeError(f"store upgrade: column {table.name}.{col.name} cannot be added in place "
                                       "(not nullable); export and re-ingest into a new store")
                _log.warning("upgrading the store: adding column %s.%s", table.name, col.name)
                kind = col.type.compile(dialect=engine.dialect)
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {kind}'))


def _create_missing_indexes(engine: Engine) -> None:
    """Indexes added to tables that already existed (``create_all`` creates indexes only with their
    table): a store made by an earlier version gets them when it is opened. One catalogue query."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            have = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
        elif engine.dialect.name == "postgresql":
            have = set(conn.execute(text("SELECT indexname FROM pg_indexes "
                                         "WHERE schemaname = current_schema()")).scalars())
        else:  # pragma: no cover - other dialects: ask table by table
            insp = inspect(conn)
            have = {ix["name"] for t in metadata.sorted_tables for ix in insp.get_indexes(t.name)}
    for table in metadata.sorted_tables:
        for index in table.indexes:
            if index.name not in have:
                _log.warning("upgrading the store: creating index %s", index.name)
                index.create(engine, checkfirst=True)


def _upgrade_objects_per_marking(engine: Engine) -> None:
    """Stores made before object rows were kept per marking: one ``space_objects`` row per object (keyed
    by ``norad_id``) and element-set digests as 32 hex digits. The old rows become base rows as they
    are (their marking was already the union of their sources': re-ingesting the sources under their own
    markings gives the separated rows; the merged row can then be deleted by an operator); digests
    become the 16 bytes they spell, so a re-ingest of the same sets is still a duplicate.
    """
    from sqlalchemy import inspect, text

    from orbitwatch.store.schema import space_objects

    insp = inspect(engine)
    if "space_objects" not in insp.get_table_names():
        return
    if "row_id" in {c["name"] for c in insp.get_columns("space_objects")}:
        return
    _log.warning("upgrading the store: object rows per marking, binary element-set digests")
    pg = engine.dialect.name == "postgresql"
    old_indexes = [ix["name"] for ix in insp.get_indexes("space_objects")]
    # Only the columns the old table has: a column added to space_objects since then stays empty (NULL)
    # instead of breaking the copy.
    old_cols = {c["name"] for c in insp.get_columns("space_objects")}
    keep = [c.name for c in space_objects.columns if c.name not in ("row_id", "n_sources", "multi")
            and c.name in old_cols]
    names = ", ".join(f'"{c}"' for c in keep)
    with engine.begin() as conn:
        for ix in old_indexes:
            conn.execute(text(f'DROP INDEX IF EXISTS "{ix}"'))
        conn.execute(text("ALTER TABLE space_objects RENAME TO space_objects_v1"))
        if pg:
            conn.execute(text("ALTER TABLE space_objects_v1 RENAME CONSTRAINT pk_space_objects TO pk_space_objects_v1"))
        space_objects.create(conn)
        conn.execute(text(f"INSERT INTO space_objects ({names}, n_sources, multi) "
                          f"SELECT {names}, 1, 0 FROM space_objects_v1 ORDER BY norad_id"))
        conn.execute(text("DROP TABLE space_objects_v1"))
        if pg:
            conn.execute(text("ALTER TABLE element_sets DROP CONSTRAINT IF EXISTS "
                              "fk_element_sets_batch_id_ingest_batches"))
            conn.execute(text("ALTER TABLE element_sets ALTER COLUMN digest TYPE bytea "
                              "USING decode(digest, 'hex')"))
        else:  # SQLite has no unhex() before 3.41; the rows were text, now the bytes they spell
            raw = conn.connection.driver_connection
            rows = raw.execute("SELECT id, digest FROM element_sets WHERE typeof(digest) = 'text'").fetchall()
            raw.executemany("UPDATE element_sets SET digest = ? WHERE id = ?",
                            [(bytes.fromhex(d), i) for i, d in rows])


def open_engine(url: str) -> Engine:
    """Engine with the schema in place: what commands and the API call."""
    engine = make_engine(url)
    init_schema(engine)
    return engine


# -- SQLite WAL checkpoints off the ingest's critical path ---------------------------------------------
# SQLite copies the write-ahead log back into the database file ("checkpoint") on the commit that takes
# the log past 1000 pages, in the committing thread: after a bulk ingest that is 15-20 MB written and
# synced twice, a third of the ingest's time spent *after* its rows are committed. Bulk writers commit
# with that automatic checkpoint off and hand the checkpoint to a background thread that starts at
# once: the same work, the same durability (synchronous=NORMAL syncs the log at checkpoint either way),
# but the caller does not wait for it. The thread is not a daemon, so a command-line run still finishes
# the checkpoint before the process exits.
_log = logging.getLogger(__name__)
_CHECKPOINT_LOCK = threading.Lock()
_CHECKPOINT_PENDING: dict[int, bool] = {}
#: Seconds spent in background checkpoints (for benchmarks).
CHECKPOINT_STATS = {"runs": 0, "seconds": 0.0}


def _is_sqlite_file(engine: Engine) -> bool:
    u = engine.url
    return u.get_backend_name() == "sqlite" and bool(u.database) and u.database != ":memory:"


@contextmanager
def deferred_checkpoint(engine: Engine, conn: Connection) -> Iterator[None]:
    """Around a bulk transaction on ``conn``: its commit does not checkpoint; a background thread does,
    right after. A no-op on PostgreSQL and in-memory SQLite."""
    if not _is_sqlite_file(engine):
        yield
        return
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA wal_autocheckpoint=0")
    try:
        yield
    finally:
        raw.execute("PRAGMA wal_autocheckpoint=1000")
    schedule_checkpoint(engine)


def schedule_checkpoint(engine: Engine) -> None:
    """Checkpoint the SQLite WAL of ``engine`` on a background thread (coalesced: one thread at a time)."""
    key = id(engine)
    with _CHECKPOINT_LOCK:
        if key in _CHECKPOINT_PENDING:
            _CHECKPOINT_PENDING[key] = True  # the running thread goes round once more
            return
        _CHECKPOINT_PENDING[key] = True
    threading.Thread(target=_checkpoint_loop, args=(engine, key), name="orbitwatch-wal-checkpoint").start()


def _checkpoint_loop(engine: Engine, key: int) -> None:
    import time

    while True:
        with _CHECKPOINT_LOCK:
            if not _CHECKPOINT_PENDING.get(key):
                del _CHECKPOINT_PENDING[key]
                return
            _CHECKPOINT_PENDING[key] = False
        t0 = time.perf_counter()
        try:
            with engine.connect() as conn:
                conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:  # noqa: BLE001 - a later commit or checkpoint catches up; never crash
            _log.warning("background WAL checkpoint failed: %s", exc)
        CHECKPOINT_STATS["runs"] += 1
        CHECKPOINT_STATS["seconds"] += time.perf_counter() - t0


def wait_for_checkpoints(timeout: float = 60.0) -> None:
    """Block until no background checkpoint is running (tests and benchmarks)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _CHECKPOINT_LOCK:
            if not _CHECKPOINT_PENDING:
                return
        time.sleep(0.005)
