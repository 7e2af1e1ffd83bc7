"""Catalogue queries. Every function takes ``where``: the reader's authorisation filter.

``where`` is a callable ``table -> SQL boolean`` built by ``orbitwatch.sharing`` for the caller; it is
applied inside the query so that rows leave the store already filtered and nothing downstream has to
filter again by hand. ``None`` means an unrestricted internal caller (CLI on the node's own database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, and_, func, select

from orbitwatch.formats.records import ElementSet
from orbitwatch.store.schema import element_sets, space_objects

Where = Callable[[Table], ColumnElement[bool]] | None

OBJECT_SORTS = {"norad_id", "name", "object_id", "owner", "object_type", "regime", "launch_date",
                "perigee_km", "apogee_km", "inclination"}


def _object_filters(q: Select, *, where: Where, norad_ids: Sequence[int] | None, name: str | None,
                    owner: str | None, owner_nation: str | None, object_type: str | None,
                    regime: str | None) -> Select:
    so = space_objects
    if where is not None:
        q = q.where(where(so))
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


def search_objects(conn: Connection, *, where: Where = None, norad_ids: Sequence[int] | None = None,
                   name: str | None = None, owner: str | None = None, owner_nation: str | None = None,
                   object_type: str | None = None, regime: str | None = None, sort: str = "norad_id",
                   descending: bool = False, limit: int | None = None, offset: int = 0) -> list[Row]:
    """Space objects matching the filters (name is a case-insensitive substring)."""
    if sort not in OBJECT_SORTS:
        raise ValueError(f"cannot sort by {sort!r}; expected one of {', '.join(sorted(OBJECT_SORTS))}")
    so = space_objects
    q = _object_filters(select(so), where=where, norad_ids=norad_ids, name=name, owner=owner,
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
    q = select(space_objects).where(space_objects.c.norad_id == norad_id)
    if where is not None:
        q = q.where(where(space_objects))
    return conn.execute(q).first()


def latest_element_sets(conn: Connection, *, where: Where = None, norad_ids: Sequence[int] | None = None,
                        owner: str | None = None, owner_nation: str | None = None,
                        object_type: str | None = None, regime: str | None = None, name: str | None = None,
                        limit: int | None = None, offset: int = 0,
                        epoch_before: float | None = None) -> list[Row]:
    """The newest element set of each object *that the reader may see*, ordered by NORAD id.

    A reader who may not see an object's newest set gets its newest releasable one: "latest" is
    computed after the filter, never before (otherwise the answer would leak that a newer set exists).
    ``epoch_before`` (unix seconds) gives the catalogue as it stood at that time.
    """
    e = element_sets
    newest = select(e.c.norad_id, func.max(e.c.epoch_ts).label("m"))
    if where is not None:
        newest = newest.where(where(e))
    if norad_ids:
        newest = newest.where(e.c.norad_id.in_(list(norad_ids)))
    if epoch_before is not None:
        newest = newest.where(e.c.epoch_ts <= epoch_before)
    if any((owner, owner_nation, object_type, regime, name)):
        objs = _object_filters(select(space_objects.c.norad_id), where=where, norad_ids=None, name=name,
                               owner=owner, owner_nation=owner_nation, object_type=object_type,
                               regime=regime)
        newest = newest.where(e.c.norad_id.in_(objs.scalar_subquery()))
    newest = newest.group_by(e.c.norad_id).subquery()
    q = select(e).join(newest, and_(e.c.norad_id == newest.c.norad_id, e.c.epoch_ts == newest.c.m))
    if where is not None:
        q = q.where(where(e))
    q = q.order_by(e.c.norad_id, e.c.id.desc())
    if limit is None and not offset:
        return _first_per_object(conn.execute(q))
    # Paginate over objects, not rows: ties (one epoch from two sources) collapse to one row each.
    rows = _first_per_object(conn.execute(q))
    end = None if limit is None else offset + limit
    return rows[offset:end]


def _first_per_object(result: Any) -> list[Row]:
    out: list[Row] = []
    last = None
    for row in result:
        if row.norad_id != last:
            out.append(row)
            last = row.norad_id
    return out


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
        q = select(col, func.count()).group_by(col)
        if where is not None:
            q = q.where(where(so))
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
