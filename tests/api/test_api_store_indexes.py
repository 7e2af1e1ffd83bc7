"""The index the API's regime pages rely on exists in new stores, is created when an older store (made
before it existed) is opened, and is the one SQLite plans the regime page with."""

from __future__ import annotations

from sqlalchemy import text

from orbitwatch.api import reads
from orbitwatch.markings import DEFAULT_SCHEME
from orbitwatch.sharing.authz import readable_by
from orbitwatch.sharing.principal import Principal
from orbitwatch.store.engine import open_engine

INDEX = "ix_space_objects_regime"


def _indexes(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            q = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'space_objects'"
        else:
            q = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'space_objects'"
        return set(conn.execute(text(q)).scalars())


def test_new_store_has_the_regime_index(db_url):
    engine = open_engine(db_url)
    try:
        assert INDEX in _indexes(engine)
    finally:
        engine.dispose()


def test_older_store_gets_the_index_when_opened(db_url):
    engine = open_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {INDEX}"))  # the store as the previous version left it
    assert INDEX not in _indexes(engine)
    engine.dispose()
    engine = open_engine(db_url)
    try:
        assert INDEX in _indexes(engine)
        # Opening again is a no-op (no error for an index that is there).
        open_engine(db_url).dispose()
    finally:
        engine.dispose()


def test_sqlite_plans_regime_pages_on_the_index(sqlite_url):
    engine = open_engine(sqlite_url)
    try:
        where = readable_by(Principal("u", "USA", "SECRET"), DEFAULT_SCHEME)
        raw = engine.raw_connection()
        try:
            reads.search_objects(raw.driver_connection, engine, where, reads.ObjectQuery(regime="MEO"),
                                 limit=20, offset=40)
            p = next(v for k, v in reads._PREPARED.items() if k[0] == id(engine.dialect) and k[1] == "search"
                     and k[2] is where and k[3] == reads.ObjectQuery(regime="MEO").shape())
            params = [{"q_regime": "MEO", "q_limit": 20, "q_offset": 40}.get(n, p.defaults.get(n)) for n in p.names]
            plan = " ".join(str(r[-1]) for r in raw.driver_connection.execute("EXPLAIN QUERY PLAN " + p.text,
                                                                                params).fetchall())
        finally:
            raw.close()
        assert INDEX in plan, plan
        assert "TEMP B-TREE" not in plan.upper(), plan  # walked in order, not sorted
    finally:
        engine.dispose()


def test_loop_connections_do_not_jit_on_postgresql(db_url):
    """PostgreSQL JIT-compiles every execution whose estimated cost is high (stale statistics after a bulk
    ingest make a 1-5 ms name search 10-17 ms): the hot reads' connections switch it off."""
    engine = open_engine(db_url)
    try:
        conns = reads.LoopConnections(engine)
        raw = conns.get()
        if engine.dialect.name == "postgresql":
            assert raw.execute("SHOW jit").fetchone()[0] == "off"
            assert raw.autocommit is True
        else:
            assert raw.execute("SELECT 1").fetchone()[0] == 1
        conns.close()
    finally:
        engine.dispose()
