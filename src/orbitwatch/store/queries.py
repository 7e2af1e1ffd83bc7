"""Catalogue queries. Every function takes ``where``: the reader's authorisation filter.

``where`` is a callable ``table -> SQL boolean`` built by ``orbitwatch.sharing`` for the caller; it is
applied inside the query so that rows leave the store already filtered and nothing downstream has to
filter again by hand. ``None`` means an unrestricted internal caller (CLI on the node's own database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, and_, exists, func, or_, select

from orbitwatch.formats.records import ElementSet
from orbitwatch.store.schema import element_sets, space_objects

Where = Callable[[Table], ColumnElement[bool]] | None

OBJECT_SORTS = {"norad_id", "name", "object_id", "owner", "object_type", "regime", "launch_date",
                "perigee_km", "apogee_km", "inclination"}

#: Bookkeeping columns of ``space_objects`` that are not part of an object's description.
OBJECT_INTERNAL = ("row_id", "n_sources", "multi")
#: The columns object queries return (an object's description and its marking).
OBJECT_COLUMNS = tuple(c.name for c in space_objects.columns if c.name not in OBJECT_INTERNAL)

# Module-level aliases: ``where`` callables cache their clause per table object, so one alias for good.
_BETTER = space_objects.alias("so_better")
_X = element_sets.alias("es_x")
_G = element_sets.alias("es_g")


def _view_condition(where: Where) -> ColumnElement[bool]:
    """The reader's view of each object: its readable ``space_objects`` row with the highest ``n_sources``
    (ties: the newest row). Composed rows rank so that this is the reader's own composition, each field
    from the newest description it may read (``store.ingest.compose_views``). Objects with a single
    description (``multi = 0``) skip the test."""
    so, b = space_objects, _BETTER
    better = and_(b.c.norad_id == so.c.norad_id,
                  or_(b.c.n_sources > so.c.n_sources, and_(b.c.n_sources == so.c.n_sources, b.c.row_id > so.c.row_id)))
    if where is not None:
        better = and_(better, where(b))
    view = or_(so.c.multi == 0, ~exists().where(better))
    return view if where is None else and_(where(so), view)


_VIEWS: dict[Any, Callable[[Table], ColumnElement[bool]]] = {}


def readable_objects(where: Where) -> Callable[[Table], ColumnElement[bool]]:
    """A ``where``-style callable for ``space_objects`` that keeps exactly one row per object: the
    reader's view (every field from descriptions released to the reader). Use it instead of ``where``
    wherever ``space_objects`` is read directly. The same callable comes back for the same ``where``
    (callers cache compiled SQL by it)."""
    hit = _VIEWS.get(where)
    if hit is None:
        clause = _view_condition(where)

        def view(t: Table, _clause=clause) -> ColumnElement[bool]:
            if t is not space_objects:
                raise ValueError("readable_objects() filters space_objects only")
            return _clause

        if len(_VIEWS) > 4096:  # where callables are cached per principal kind; this bounds odd growth
            _VIEWS.clear()
        hit = _VIEWS[where] = view
    return hit


def _object_filters(q: Select, *, where: Where, norad_ids: Sequence[int] | None, name: str | None,
                    owner: str | None, owner_nation: str | None, object_type: str | None,
                    regime: str | None) -> Select:
    so = space_objects
    q = q.where(readable_objects(where)(so))
    if norad_ids:
        q = q.where(so.c.norad_id.in_(list(norad_ids)))
    if name:
        q = q.where(func.upper(so.c.name).like(f"%{name.upper()}%"))
    if owner:
        q = q.where(so.c.owner == owner.upper())
    if owner_nation:
        q = q.where(so.c.owner_nation == owner_nation.upper())
    if object_type:
        q = q.where(so.c.object_type == object_type.upper())
    if regime:
        q = q.where(so.c.regime == regime.upper())
    return q


def _object_columns():
    return [space_objects.c[c] for c in OBJECT_COLUMNS]


def search_objects(conn: Connection, *, where: Where = None, norad_ids: Sequence[int] | None = None,
                   name: str | None = None, owner: str | None = None, owner_nation: str | None = None,
                   object_type: str | None = None, regime: str | None = None, sort: str = "norad_id",
                   descending: bool = False, limit: int | None = None, offset: int = 0) -> list[Row]:
    """Space objects matching the filters (name is a case-insensitive substring)."""
    if sort not in OBJECT_SORTS:
        raise ValueError(f"cannot sort by {sort!r}; expected one of {', '.join(sorted(OBJECT_SORTS))}")
    so = space_objects
    q = _object_filters(select(*_object_columns()), where=where, norad_ids=norad_ids, name=name, owner=owner,
                        owner_nation=owner_nation, object_type=object_type, regime=regime)
    col = so.c[sort]
    q = q.order_by(col.desc() if descending else col.asc(), so.c.norad_id.asc())
    if limit is not None:
        q = q.limit(limit)
    if offset:
        q = q.offset(offset)
    return list(conn.execute(q))


def count_objects(conn: Connection, *, where: Where = None, norad_ids: Sequence[int] | None = None,
                  name: str | None = None, owner: str | None = None, owner_nation: str | None = None,
                  object_type: str | None = None, regime: str | None = None) -> int:
    q = _object_filters(select(func.count()).select_from(space_objects), where=where, norad_ids=norad_ids,
                        name=name, owner=owner, owner_nation=owner_nation, object_type=object_type,
                        regime=regime)
    return int(conn.execute(q).scalar_one())


def get_object(conn: Connection, norad_id: int, *, where: Where = None) -> Row | None:
    """The reader's view of one object (see :func:`readable_objects`), or None."""
    q = select(*_object_columns()).where(space_objects.c.norad_id == norad_id, readable_objects(where)(space_objects))
    return conn.execute(q).first()


def latest_element_sets(conn: Connection, *, where: Where = None, norad_ids: Sequence[int] | None = None,
                        owner: str | None = None, owner_nation: str | None = None,
                        object_type: str | None = None, regime: str | None = None, name: str | None = None,
                        limit: int | None = None, offset: int = 0,
                        epoch_before: float | None = None) -> list[Row]:
    """The newest element set of each object *that the reader may see*, ordered by NORAD id.

    A reader who may not see an object's newest set gets its newest releasable one: "latest" is
    computed after the filter, never before (otherwise the answer would leak that a newer set exists).
    Of two readable sets with the same epoch (one epoch from two sources) the one ingested last wins.
    ``epoch_before`` (unix seconds) gives the catalogue as it stood at that time.
    """
    g, x, e = _G, _X, element_sets
    chosen = None
    if any((owner, owner_nation, object_type, regime, name)):
        chosen = _object_filters(select(space_objects.c.norad_id), where=where, norad_ids=None, name=name,
                                 owner=owner, owner_nation=owner_nation, object_type=object_type,
                                 regime=regime).scalar_subquery()
    if conn.dialect.name == "postgresql":
        return _latest_pg(conn, where=where, norad_ids=norad_ids, chosen=chosen, limit=limit, offset=offset,
                          epoch_before=epoch_before)
    # SQLite: per object, one probe of the (norad_id, epoch_ts) index from the newest set down to the first one
    # the reader may read, then one fetch by id: no join back on (object, epoch), no sort of whole rows,
    # and the cost follows the number of objects, not the length of their history.
    pick = select(x.c.id).where(x.c.norad_id == g.c.norad_id)
    if where is not None:
        pick = pick.where(where(x))
    if epoch_before is not None:
        pick = pick.where(x.c.epoch_ts <= epoch_before)
    pick = pick.order_by(x.c.epoch_ts.desc(), x.c.id.desc()).limit(1).scalar_subquery()
    objs = select(g.c.norad_id, pick.label("pick"))
    if norad_ids:
        objs = objs.where(g.c.norad_id.in_(list(norad_ids)))
    if chosen is not None:
        objs = objs.where(g.c.norad_id.in_(chosen))
    n = objs.group_by(g.c.norad_id).subquery("n")
    if limit is not None or offset:
        # Pages are pages of objects that have a readable set: order and cut the ids, not the rows.
        page = select(n.c.norad_id, n.c.pick).where(n.c.pick.is_not(None)).order_by(n.c.norad_id)
        page = page.limit(limit).offset(offset or None).subquery("page")
        q = select(e).select_from(page.join(e, e.c.id == page.c.pick))
    else:
        q = select(e).select_from(n.join(e, e.c.id == n.c.pick))
    rows = _bulk_rows(conn, q) if not norad_ids or len(norad_ids) > 50 else list(conn.execute(q))
    keys = [r.norad_id for r in rows]
    if keys != sorted(keys):  # the plan gives NORAD order; SQL does not promise it without a sort
        rows.sort(key=lambda r: r.norad_id)
    return rows


def _latest_pg(conn: Connection, *, where: Where, norad_ids: Sequence[int] | None, chosen: Any,
               limit: int | None, offset: int, epoch_before: float | None) -> list[Row]:
    """PostgreSQL: ``DISTINCT ON (norad_id)`` over the readable sets, newest first within each object.
    A per-object subplan costs PostgreSQL 26,000 executor starts (and a JIT compile); in descending order
    the unique index is read backwards with an incremental sort on id, no sort of whole rows."""
    from sqlalchemy.dialects.postgresql import distinct_on

    e = element_sets
    q = select(e).ext(distinct_on(e.c.norad_id))
    if where is not None:
        q = q.where(where(e))
    if norad_ids:
        q = q.where(e.c.norad_id.in_(list(norad_ids)))
    if chosen is not None:
        q = q.where(e.c.norad_id.in_(chosen))
    if epoch_before is not None:
        q = q.where(e.c.epoch_ts <= epoch_before)
    if limit is not None or offset:
        q = q.order_by(e.c.norad_id, e.c.epoch_ts.desc(), e.c.id.desc()).limit(limit).offset(offset or None)
        return list(conn.execute(q))
    q = q.order_by(e.c.norad_id.desc(), e.c.epoch_ts.desc(), e.c.id.desc())
    rows = _bulk_rows(conn, q) if not norad_ids or len(norad_ids) > 50 else list(conn.execute(q))
    rows.reverse()
    return rows


def _bulk_rows(conn: Connection, stmt: Select) -> list[Row]:
    """Rows of a large result straight from the driver (PostgreSQL: binary protocol, half the decoding),
    made into :class:`Row` objects without the per-statement execution machinery."""
    from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    if not conn.in_transaction():
        conn.begin()  # what executing through the Connection would do (autobegin)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor(binary=True) as cur:
            cur.execute(str(compiled), compiled.params)
            data = cur.fetchall()
    else:
        params = [compiled.params[k] for k in compiled.positiontup or ()]
        cur = raw.cursor()
        try:
            data = cur.execute(str(compiled), params).fetchall()
        finally:
            cur.close()
    keys = [c.key for c in stmt.selected_columns]
    return IteratorResult(SimpleResultMetaData(keys), iter(data)).all()


def element_set_history(conn: Connection, norad_id: int, *, where: Where = None, start: float | None = None,
                        end: float | None = None, limit: int | None = None,
                        descending: bool = False) -> list[Row]:
    """Every element set of one object in ``[start, end]`` (unix seconds), oldest first by default."""
    e = element_sets
    q = select(e).where(e.c.norad_id == norad_id)
    if where is not None:
        q = q.where(where(e))
    if start is not None:
        q = q.where(e.c.epoch_ts >= start)
    if end is not None:
        q = q.where(e.c.epoch_ts <= end)
    q = q.order_by(e.c.epoch_ts.desc() if descending else e.c.epoch_ts.asc(), e.c.id)
    if limit is not None:
        q = q.limit(limit)
    return list(conn.execute(q))


def catalog_summary(conn: Connection, *, where: Where = None) -> dict:
    """Counts for a first look: objects by type, regime and partner owner, element sets, epoch span."""
    so, e = space_objects, element_sets

    def grouped(col) -> dict:
        q = select(col, func.count()).where(readable_objects(where)(so)).group_by(col)
        return {(k if k is not None else "UNKNOWN"): n for k, n in conn.execute(q)}

    q = select(func.count(), func.min(e.c.epoch_ts), func.max(e.c.epoch_ts))
    if where is not None:
        q = q.where(where(e))
    n_elsets, first, last = conn.execute(q).one()
    return {
        "objects": count_objects(conn, where=where),
        "element_sets": int(n_elsets or 0),
        "first_epoch_ts": first,
        "last_epoch_ts": last,
        "by_type": grouped(so.c.object_type),
        "by_regime": grouped(so.c.regime),
        "by_partner_owner": grouped(so.c.owner_nation),
    }


def element_set_from_row(row: Any) -> ElementSet:
    """The canonical :class:`ElementSet` of an ``element_sets`` row (``original`` keeps the TLE text)."""
    return ElementSet(
        norad_id=row.norad_id, epoch=datetime.fromtimestamp(row.epoch_ts, UTC), mean_motion=row.mean_motion,
        eccentricity=row.eccentricity, inclination=row.inclination, raan=row.raan,
        arg_perigee=row.arg_perigee, mean_anomaly=row.mean_anomaly, bstar=row.bstar,
        mean_motion_dot=row.mean_motion_dot, mean_motion_ddot=row.mean_motion_ddot,
        object_name=row.object_name, object_id=row.object_id,
        classification_type=row.classification_type or "U", ephemeris_type=row.ephemeris_type or 0,
        element_set_no=row.element_set_no, rev_at_epoch=row.rev_at_epoch,
        source_format=row.source_format or "tle", original=row.original, line=row.file_line)


def element_sets_from_rows(rows: Iterable[Any]) -> list[ElementSet]:
    return [element_set_from_row(r) for r in rows]
