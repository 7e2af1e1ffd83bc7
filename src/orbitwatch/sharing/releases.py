"""Releases: the originating nation widens who may read its records, as a recorded act.

A release only ever *adds* nations (a release never narrows, declassifies or changes the data mode);
only the nation that originated the record (its ``nation`` column, set at ingest) may release it; the
widened marking is written to the record's own marking columns in the same transaction as the
``releases`` row and the audit entry, so the new nations read it on their very next query.

Targets:

* ``element_set`` - one element set, by id;
* ``object`` - a catalogue object (by NORAD id) *and* every element set of it that this nation
  originated (releasing "our detection" of an object);
* ``batch`` - everything one ingest batch brought in (the batch row and its element sets).

Derived products (conjunctions, alerts) cannot be released: their releasability is the intersection of
their inputs' and follows from releasing the inputs and re-running the analysis.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, insert, select, update

from orbitwatch.errors import NotFound, PermissionDenied, ValidationError
from orbitwatch.markings import DEFAULT_SCHEME, ClassificationScheme, Marking, nation_bit, sort_trigraphs
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.authz import readable_by
from orbitwatch.sharing.principal import Principal
from orbitwatch.store.base import marking_from_row, marking_values
from orbitwatch.store.ingest import refresh_object_views
from orbitwatch.store.schema import element_sets, ingest_batches, space_objects
from orbitwatch.store.schema_sharing import releases

RELEASE_ROLES = ("analyst", "operator", "admin")
TARGETS: dict[str, tuple[Table, str]] = {
    "element_set": (element_sets, "id"),
    "object": (space_objects, "norad_id"),
    "batch": (ingest_batches, "id"),
}


@dataclass
class ReleaseResult:
    target: str
    key: str
    nations_added: list[str]
    records_widened: int
    markings: dict[str, str] = field(default_factory=dict)  # old marking -> new marking
    release_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "key": self.key, "nations_added": self.nations_added,
                "records_widened": self.records_widened, "markings": self.markings,
                "release_ids": self.release_ids}


def _parse_key(target: str, key: str | int) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise ValidationError(f"{target} key must be an integer, got {key!r}", field="key") from None


def release(engine: Engine, principal: Principal, target: str, key: str | int, nations: Iterable[str], *,
            reason: str | None = None, audit: AuditLog | None = None, now: float | None = None,
            scheme: ClassificationScheme = DEFAULT_SCHEME) -> ReleaseResult:
    """Widen the releasability of ``target``/``key`` by ``nations`` on behalf of ``principal``.

    Raises :class:`NotFound` when the record does not exist *or* the principal may not read it (the
    two are indistinguishable), :class:`PermissionDenied` when the principal's nation did not
    originate it or its role may not release.
    """
    if target not in TARGETS:
        raise ValidationError(f"cannot release a {target!r}; expected one of {', '.join(TARGETS)}",
                              field="target")
    add = sorted({n.strip().upper() for n in nations if n and n.strip()})
    if not add:
        raise ValidationError("name at least one nation to release to", field="nations")
    for n in add:
        nation_bit(n)
    if principal.nation is None:
        raise PermissionDenied("only a national user can release its nation's records")
    if not principal.has_role(*RELEASE_ROLES):
        raise PermissionDenied(f"releasing needs one of the roles {', '.join(RELEASE_ROLES)}")
    k = _parse_key(target, key)
    table, key_col = TARGETS[target]
    where = readable_by(principal, scheme)
    now = time.time() if now is None else now
    own = table.c[key_col] == k
    if target == "object":
        # Objects have one row per (marking, originating nation): a nation releases its own description.
        own = and_(own, table.c.n_sources == 1, table.c.nation == principal.nation)
    with engine.begin() as conn:
        row = conn.execute(select(table).where(own, where(table))).first() if target == "object" else None
        row = row or conn.execute(select(table).where(table.c[key_col] == k, where(table))).first()
        if row is None:
            raise NotFound(f"{target} {k} not found")
        originator = row.nation
        if originator != principal.nation:
            raise PermissionDenied(f"only the originating nation ({originator or 'unknown'}) can release "
                                   f"{target} {k}")
        result = ReleaseResult(target, str(k), [], 0)
        added_total: set[str] = set()
        # The record itself, then (for objects and batches) the element sets it covers.
        groups: list[tuple[Table, Any, str]] = [(table, own, f"{target}/{k}")]
        if target == "object":
            groups.append((element_sets, and_(element_sets.c.norad_id == k,
                                              element_sets.c.nation == principal.nation),
                           f"object/{k}/element_sets"))
        elif target == "batch":
            groups.append((element_sets, and_(element_sets.c.batch_id == k,
                                              element_sets.c.nation == principal.nation),
                           f"batch/{k}/element_sets"))
        for tbl, cond, label in groups:
            for old, new, n in _widen(conn, tbl, and_(cond, where(tbl)), add, scheme):
                result.records_widened += n
                result.markings[str(old)] = str(new)
                added = new.rel_to - old.rel_to
                added_total |= added
                rid = conn.execute(insert(releases).values(
                    table_name=tbl.name, record_key=label, norad_id=getattr(row, "norad_id", None),
                    releasing_nation=principal.nation, released_by=principal.username,
                    old_marking=str(old), new_marking=str(new),
                    added_nations=",".join(sort_trigraphs(added)), reason=reason, created_at=now,
                )).inserted_primary_key[0]
                result.release_ids.append(int(rid))
        result.nations_added = sort_trigraphs(added_total)
        if target == "object" and result.records_widened:
            refresh_object_views(conn, [k])  # the composed rows follow the widened description
        if audit is not None:
            audit.append(conn, actor=principal.username, nation=principal.nation, action="release",
                         resource=f"{target}/{k}",
                         detail={"added": result.nations_added, "records": result.records_widened,
                                 "markings": result.markings, "reason": reason})
    return result


def _widen(conn: Connection, table: Table, cond, add: list[str],
           scheme: ClassificationScheme) -> list[tuple[Marking, Marking, int]]:
    """Widen every row matching ``cond``: one UPDATE per distinct old marking; (old, new, rows) each."""
    cols = [table.c.marking, table.c.class_rank, table.c.rel_mask, table.c.data_mode, table.c.tlp,
            table.c.orgs]
    out = []
    for r in conn.execute(select(*cols).where(cond).distinct()).all():
        old = marking_from_row(r, scheme)
        new = old.widened(add)
        if new == old:
            continue
        n = conn.execute(update(table).where(cond, table.c.marking == r.marking,
                                             table.c.rel_mask == r.rel_mask,
                                             table.c.class_rank == r.class_rank)
                         .values(**marking_values(new, scheme))).rowcount
        if n:
            out.append((old, new, n))
    return out


def list_releases(conn: Connection, principal: Principal, *, norad_id: int | None = None,
                  limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Releases the caller's nation made (its own acts). Releases by others are not listed: a release
    row names records and markings the caller may not be cleared for."""
    if principal.nation is None:
        return []
    q = (select(releases).where(releases.c.releasing_nation == principal.nation)
         .order_by(releases.c.id.desc()).limit(limit).offset(offset))
    if norad_id is not None:
        q = q.where(releases.c.norad_id == norad_id)
    return [dict(r._mapping) for r in conn.execute(q)]
