"""The API's two hot reads as prepared SQL on plain DBAPI cursors: latest element sets of given objects,
and object search.

They are what partner scripts and the web UI ask all the time, and through SQLAlchemy's execution path
each costs about 0.6 ms of Python (building the statement, its cache key, the execution context, Row
objects) around 0.02-0.4 ms of SQL. Here each statement is built with SQLAlchemy Core once per shape
(which optional conditions, how many ids, the caller's filter), compiled once per dialect
(:class:`Prepared`), and run on a DBAPI cursor with fresh parameters; rows come back as tuples.

Authorisation is not re-implemented: the statements are built from the caller's
:func:`orbitwatch.sharing.readable_by` filter and, for objects, the store's reader view built on it
(``store.queries.readable_objects``: one readable row per object), so rows leave the database already
filtered, as everywhere else. The rest mirrors ``store.queries.latest_element_sets`` and
``store.queries.search_objects`` (latest computed after the filter by one index probe per object);
``tests/api/test_api_reads.py`` checks that both give the same rows for random catalogues and markings,
so a change of the store's semantics that is not carried over fails there.

Every function takes a DBAPI connection and returns plain tuples; :class:`LoopConnections` keeps one
such connection per event-loop thread for reads that are cheap enough to run on the loop.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, bindparam, func, literal_column, select

from orbitwatch.store import queries
from orbitwatch.store.schema import element_sets, space_objects

#: Marking columns kept out of answers (the banner ``marking`` itself is always shown).
HIDDEN = frozenset({"class_rank", "rel_mask", "orgs", "digest", "batch_id", "original", "file_line"})


def visible_columns(table: Table) -> list[str]:
    # Plain str (not SQLAlchemy's quoted_name): orjson takes exact str keys only.
    return [str(c.name) for c in table.columns if c.name not in HIDDEN]


class Prepared:
    """A statement compiled once for one dialect: SQL text, the order of its parameters (positional
    paramstyles) and the values of the parameters fixed at build time (the filter's nation bit, ...)."""

    __slots__ = ("defaults", "names", "text")

    def __init__(self, stmt: Any, engine: Engine):
        compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
        self.text: str = compiled.string
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.names: tuple[str, ...] | None = (tuple(compiled.positiontup) if engine.dialect.positional
                                              else None)

    def run(self, raw, values: dict[str, Any]) -> list[tuple]:
        if self.names is None:
            params: Any = {**self.defaults, **values}
        else:
            d = self.defaults
            params = [values[n] if n in values else d[n] for n in self.names]
        cur = raw.cursor()
        try:
            cur.execute(self.text, params)
            return cur.fetchall()
        finally:
            cur.close()


_PREPARED: dict[tuple, Prepared] = {}
_LOCK = threading.Lock()


def prepared(key: tuple, build: Callable[[], Any], engine: Engine) -> Prepared:
    """The compiled statement for ``key`` (which must name everything the statement's shape depends
    on: the filter, the dialect, which optional clauses are present, list lengths)."""
    key = (id(engine.dialect), *key)
    hit = _PREPARED.get(key)
    if hit is None:
        hit = Prepared(build(), engine)
        with _LOCK:
            if len(_PREPARED) > 4096:  # shapes x principal kinds; this bounds odd growth
                _PREPARED.clear()
            _PREPARED[key] = hit
    return hit


def _expanding(name: str, n: int):
    return bindparam(name, value=[0] * n, expanding=True)


# -- latest element sets of given objects -------------------------------------------------------------
ELSET_COLUMNS = visible_columns(element_sets)
_PROBE = element_sets.alias("es_probe")  # one alias for good: filters cache their clause per table object


def _latest_stmt(where: Callable, n: int, columns: tuple[str, ...]):
    e, x = element_sets, _PROBE

    def pick(i: int):
        # One probe of the (norad_id, epoch_ts) index from the object's newest set down to the first one
        # the reader may read (as the store does): latest after the filter, never before.
        return (select(x.c.id).where(x.c.norad_id == bindparam(f"q_ids_{i + 1}", 0), where(x))
                .order_by(x.c.epoch_ts.desc(), x.c.id.desc()).limit(1).scalar_subquery())

    # "id IN (probe 1, probe 2, ...)" rather than the store's "JOIN ... ON id = (probe)" over the
    # distinct ids: the same rows, but a plan that does not depend on table statistics - PostgreSQL,
    # misled by a table not yet analysed after a bulk ingest, hashes the whole table for the join
    # (45-60 ms for five objects instead of 0.1).
    return select(*[e.c[c] for c in columns]).where(e.c.id.in_([pick(i) for i in range(n)])).order_by(e.c.norad_id)


LATEST_COLUMNS = (*ELSET_COLUMNS, "class_rank", "rel_mask")


def latest_of(raw, engine: Engine, where: Callable, norad_ids: Sequence[int],
              columns: tuple[str, ...] = LATEST_COLUMNS) -> list[tuple]:
    """The newest element set each of ``norad_ids`` has *that the caller may read*, by NORAD id.

    Rows hold ``columns`` of ``element_sets`` (by default :data:`ELSET_COLUMNS` followed by
    ``class_rank`` and ``rel_mask``, for the audit decision). Same statement as
    ``store.queries.latest_element_sets`` (of two readable sets with one epoch, the one ingested last).
    """
    ids = sorted(set(norad_ids))
    if not ids:
        return []
    n = len(ids)
    p = prepared(("latest", where, n, columns), lambda: _latest_stmt(where, n, columns), engine)
    return p.run(raw, {f"q_ids_{i + 1}": v for i, v in enumerate(ids)})


def latest_all(raw, engine: Engine, where: Callable, columns: tuple[str, ...]) -> list[tuple]:
    """The newest readable element set of every object (the whole-catalogue pull), by NORAD id.

    For all objects at once, ranking the readable sets of each object in the database (newest epoch
    first, then the one ingested last - the choice of ``latest_element_sets``) and fetching the wide
    rows of the winners only beats a probe per object and never hands the history to Python.
    """
    e, x = element_sets, _PROBE

    def build():
        rank = func.row_number().over(partition_by=x.c.norad_id, order_by=(x.c.epoch_ts.desc(), x.c.id.desc()))
        ranked = select(x.c.id.label("id"), rank.label("rn")).where(where(x)).subquery("ranked")
        picked = select(ranked.c.id).where(ranked.c.rn == 1).subquery("picked")
        return (select(*[e.c[c] for c in columns]).select_from(e.join(picked, e.c.id == picked.c.id))
                .order_by(e.c.norad_id))

    return prepared(("latest_all", where, columns), build, engine).run(raw, {})


def history_of(raw, engine: Engine, where: Callable, norad_id: int, columns: tuple[str, ...], *,
               start: float | None = None, end: float | None = None, limit: int | None = None) -> list[tuple]:
    """Every readable element set of one object in ``[start, end]``, oldest first (as
    ``store.queries.element_set_history``)."""
    e = element_sets
    shape = (start is not None, end is not None, limit is not None)

    def build():
        stmt = select(*[e.c[c] for c in columns]).where(e.c.norad_id == bindparam("q_norad", 0), where(e))
        if shape[0]:
            stmt = stmt.where(e.c.epoch_ts >= bindparam("q_start", 0.0))
        if shape[1]:
            stmt = stmt.where(e.c.epoch_ts <= bindparam("q_end", 0.0))
        stmt = stmt.order_by(e.c.epoch_ts.asc(), e.c.id)
        return stmt.limit(bindparam("q_limit", 1)) if shape[2] else stmt

    p = prepared(("history", where, shape, columns), build, engine)
    values: dict[str, Any] = {"q_norad": int(norad_id)}
    if start is not None:
        values["q_start"] = float(start)
    if end is not None:
        values["q_end"] = float(end)
    if limit is not None:
        values["q_limit"] = int(limit)
    return p.run(raw, values)


def object_views(raw, engine: Engine, where: Callable, columns: tuple[str, ...],
                 norad_ids: Sequence[int] | None = None) -> list[tuple]:
    """The reader's view of every object (or of ``norad_ids``): ``norad_id`` then ``columns``."""
    so = space_objects
    n = len(norad_ids) if norad_ids is not None else None

    def build():
        stmt = select(so.c.norad_id, *[so.c[c] for c in columns]).where(queries.readable_objects(where)(so))
        return stmt if n is None else stmt.where(so.c.norad_id.in_(_expanding("q_ids", n)))

    p = prepared(("views", where, n, columns), build, engine)
    return p.run(raw, {} if norad_ids is None else {f"q_ids_{i + 1}": v for i, v in enumerate(norad_ids)})


# -- object search ----------------------------------------------------------------------------------
#: An object's description as answers show it (the store's object columns less the hidden ones).
OBJECT_COLUMNS = [str(c) for c in queries.OBJECT_COLUMNS if c not in HIDDEN]
OBJECT_SORTS = ("norad_id", "name", "object_id", "owner", "object_type", "regime", "launch_date",
                "perigee_km", "apogee_km", "inclination")
_EQUALS = ("owner", "owner_nation", "object_type", "regime")


@dataclass(frozen=True)
class ObjectQuery:
    norad_ids: tuple[int, ...] | None = None
    name: str | None = None
    owner: str | None = None
    owner_nation: str | None = None
    object_type: str | None = None
    regime: str | None = None

    def shape(self) -> tuple:
        return (len(self.norad_ids or ()), bool(self.name), *(bool(getattr(self, c)) for c in _EQUALS))

    def values(self) -> dict[str, Any]:
        v: dict[str, Any] = {f"q_ids_{i + 1}": k for i, k in enumerate(self.norad_ids or ())}
        if self.name:
            v["q_name"] = f"%{self.name.upper()}%"
        for c in _EQUALS:
            value = getattr(self, c)
            if value:
                v["q_" + c] = value.upper()
        return v


def _conditions(where: Callable, shape: tuple, dialect: str) -> list:
    """The search's own conditions, as ``store.queries._object_filters`` writes them, and the reader's
    view of the objects (``store.queries.readable_objects``: one readable row per object)."""
    so = space_objects
    n_ids, name, *equals = shape
    conds = []
    if n_ids:
        conds.append(so.c.norad_id.in_(_expanding("q_ids", n_ids)))
    if name:
        # The store writes upper(name) LIKE '%NAME%'. SQLite's LIKE already ignores ASCII case and its
        # upper() folds only ASCII, so plain LIKE selects the same rows there, for less per row.
        col = so.c.name if dialect == "sqlite" else func.upper(so.c.name)
        conds.append(col.like(bindparam("q_name", "")))
    for column, present in zip(_EQUALS, equals, strict=True):
        if present:
            conds.append(so.c[column] == bindparam("q_" + column, ""))
    # The reader's view last: SQLite tests conditions in the order written, and a row that fails the
    # search's cheap test then never costs the view's (the same rows either way).
    return [*conds, queries.readable_objects(where)(so)]


def search_objects(raw, engine: Engine, where: Callable, q: ObjectQuery, *, sort: str = "norad_id",
                   descending: bool = False, limit: int = 100, offset: int = 0) -> list[tuple]:
    """One page of the objects the caller may read: :data:`OBJECT_COLUMNS` + ``class_rank``, ``rel_mask``."""
    if sort not in OBJECT_SORTS:
        raise ValueError(f"cannot sort by {sort!r}")
    shape = q.shape()

    def build():
        so = space_objects
        col = so.c[sort]
        if sort == "norad_id" and shape[1] and engine.dialect.name == "sqlite":
            # A name search matches few rows: walking the norad_id index and looking every row up costs
            # four times a plain scan and a sort of the matches (20-30 ms against 5-7 on the full
            # catalogue). "+ 0" (same order) keeps SQLite's planner off the index for this shape only.
            col = so.c.norad_id + literal_column("0")
        cols = [so.c[c] for c in OBJECT_COLUMNS] + [so.c.class_rank, so.c.rel_mask]
        order = [col.desc() if descending else col.asc()]
        if sort != "norad_id":  # ties broken by object (ORDER BY norad_id, norad_id made SQLite sort again)
            order.append(so.c.norad_id.asc())
        return (select(*cols).where(*_conditions(where, shape, engine.dialect.name)).order_by(*order)
                .limit(bindparam("q_limit", 1)).offset(bindparam("q_offset", 0)))

    p = prepared(("search", where, shape, sort, descending), build, engine)
    return p.run(raw, {**q.values(), "q_limit": int(limit), "q_offset": int(offset)})


def count_objects(raw, engine: Engine, where: Callable, q: ObjectQuery) -> int:
    shape = q.shape()

    def build():
        return select(func.count()).select_from(space_objects).where(*_conditions(where, shape,
                                                                                  engine.dialect.name))

    p = prepared(("count", where, shape), build, engine)
    return int(p.run(raw, q.values())[0][0])


# -- connections --------------------------------------------------------------------------------------
class LoopConnections:
    """One DBAPI connection per event-loop thread, for reads that run on the loop itself.

    A small read costs less than the hop to a worker thread and back, so the hot routes run it on the
    event loop - but never with a connection from the shared pool: a loop blocked on an exhausted pool
    would stall the very requests that return connections (the deadlock docs/api.md describes). Each
    loop thread therefore owns one connection, detached from the pool, in autocommit so that every
    statement sees the latest committed data and nothing holds a transaction open.
    """

    def __init__(self, engine: Engine, setup: Callable[[Any], None] | None = None):
        self.engine = engine
        self._setup = setup  # run once on each new connection
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def get(self):
        raw = getattr(self._local, "raw", None)
        if raw is None:
            fairy = self.engine.raw_connection()
            raw = fairy.driver_connection
            fairy.detach()  # ours alone: never handed to another user with autocommit switched on
            if self.engine.dialect.name == "postgresql":
                raw.autocommit = True
                # PostgreSQL JIT-compiles a plan's expressions on every execution whose estimated cost is
                # high - as stale statistics make it after a bulk ingest (or wherever autovacuum is off):
                # 10-17 ms for a name search that runs in 0.1-6 ms without. Short reads never gain from it.
                raw.execute("SET jit = off")
            if self._setup is not None:
                self._setup(raw)
            self._local.raw = raw
            with self._lock:
                self._all.append(raw)
        return raw

    def discard(self) -> None:
        """Drop this thread's connection (after an error that may have broken it)."""
        raw = getattr(self._local, "raw", None)
        self._local.raw = None
        if raw is not None:
            with self._lock:
                if raw in self._all:
                    self._all.remove(raw)
            with contextlib.suppress(Exception):  # it is being thrown away
                raw.close()

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for raw in conns:
            with contextlib.suppress(Exception):
                raw.close()
