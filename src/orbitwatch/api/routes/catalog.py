"""Catalogue resources: space objects and element sets (latest and history)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from orbitwatch.api.deps import Caller, Conn, ReadFilter, State, audit_reads
from orbitwatch.api.problems import problem_responses
from orbitwatch.api.render import TEXT_MEDIA, elsets_text, rows_dicts
from orbitwatch.errors import NotFound, ValidationError
from orbitwatch.store import queries

router = APIRouter(tags=["catalogue"], responses=problem_responses(401, 422, 429))

ObjectType = Literal["PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN"]
Regime = Literal["LEO", "MEO", "GEO", "HEO"]
ElsetFormat = Literal["json", "tle", "3le", "omm-xml", "omm-kvn", "omm-json", "omm-csv"]
SortKey = Literal["norad_id", "name", "object_id", "owner", "object_type", "regime", "launch_date",
                  "perigee_km", "apogee_km", "inclination", "-norad_id", "-name", "-object_id", "-owner",
                  "-object_type", "-regime", "-launch_date", "-perigee_km", "-apogee_km", "-inclination"]
NoradIds = Annotated[list[Annotated[int, Query(ge=0, le=2_147_483_647)]] | None,
                     Query(description="NORAD catalogue numbers (repeat the parameter)", max_length=1000)]
Text = Annotated[str | None, Query(max_length=128)]
NoradId = Annotated[int, Path(ge=0, le=2_147_483_647, description="NORAD catalogue number")]
ElsetId = Annotated[int, Path(ge=0, le=2**53)]
Limit = Annotated[int, Query(ge=1, le=1_000_000, description="page size (capped by the node)")]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


def _page(state, limit: int, cap: int | None = None) -> int:
    return min(limit, cap or state.settings.max_page_size)


def _ts(dt: datetime | None, name: str) -> float | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        from datetime import UTC

        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ValidationError("date out of range", field=name) from None


@router.get("/api/v1/objects", summary="Search space objects")
def search_objects(state: State, user: Caller, where: ReadFilter, conn: Conn,
                   norad_id: NoradIds = None, name: Text = None, owner: Text = None,
                   owner_nation: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
                   object_type: ObjectType | None = None, regime: Regime | None = None,
                   sort: SortKey = "norad_id", limit: Limit = 100, offset: Offset = 0,
                   count: Annotated[bool, Query(description="always include the total (costs a count query)")]
                   = False) -> JSONResponse:
    """Objects the caller may read, filtered (name: case-insensitive substring) and sorted (``-`` for
    descending). ``total`` (only what the caller may read) is given when the page is the last one, or
    always with ``count=true``; ``next_offset`` points to the next page when there may be one."""
    limit = _page(state, limit)
    filters = dict(norad_ids=norad_id, name=name, owner=owner, owner_nation=owner_nation,
                   object_type=object_type, regime=regime)
    rows = queries.search_objects(conn, where=where, sort=sort.lstrip("-"), descending=sort.startswith("-"),
                                  limit=limit, offset=offset, **filters)
    body: dict = {"items": rows_dicts(rows), "limit": limit, "offset": offset}
    if count or (rows and len(rows) < limit) or (not rows and offset == 0):
        # A short first-or-later page ends the result: its total is exact without counting.
        body["total"] = (queries.count_objects(conn, where=where, **filters) if count
                         else offset + len(rows))
    if len(rows) == limit:
        body["next_offset"] = offset + limit
    audit_reads(state, user, "objects", rows, key="norad_id")
    return JSONResponse(body)


@router.get("/api/v1/objects/{norad_id}", summary="One space object", responses=problem_responses(404))
def get_object(norad_id: NoradId, state: State, user: Caller, where: ReadFilter, conn: Conn) -> JSONResponse:
    row = queries.get_object(conn, norad_id, where=where)
    if row is None:
        raise NotFound(f"object {norad_id} not found")
    audit_reads(state, user, f"objects/{norad_id}", [row], key="norad_id")
    return JSONResponse(rows_dicts([row])[0])


def _elsets_response(rows, fmt: str, envelope: dict) -> Response:
    if fmt == "json":
        return JSONResponse({"items": rows_dicts(rows), **envelope})
    return Response(elsets_text(rows, fmt), media_type=TEXT_MEDIA[fmt])


@router.get("/api/v1/objects/{norad_id}/elsets", summary="Element set history of one object",
            responses=problem_responses(404))
def elset_history(norad_id: NoradId, state: State, user: Caller, where: ReadFilter, conn: Conn,
                  start: datetime | None = None, end: datetime | None = None, format: ElsetFormat = "json",
                  limit: Limit = 1000, descending: bool = False) -> Response:
    """Every element set of the object the caller may read in ``[start, end]`` (UTC), oldest first."""
    cap = _page(state, limit, getattr(state.settings, "max_export_rows", 100_000))
    rows = queries.element_set_history(conn, norad_id, where=where, start=_ts(start, "start"),
                                       end=_ts(end, "end"), limit=cap, descending=descending)
    if not rows and queries.get_object(conn, norad_id, where=where) is None:
        raise NotFound(f"object {norad_id} not found")
    audit_reads(state, user, f"objects/{norad_id}/elsets", rows)
    return _elsets_response(rows, format, {"norad_id": norad_id, "count": len(rows), "limit": cap})


@router.get("/api/v1/elsets/latest", summary="Latest element set of each object")
def latest_elsets(state: State, user: Caller, where: ReadFilter, conn: Conn, norad_id: NoradIds = None,
                  name: Text = None, owner: Text = None,
                  owner_nation: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
                  object_type: ObjectType | None = None, regime: Regime | None = None,
                  format: ElsetFormat = "json", limit: Limit = 1000, offset: Offset = 0) -> Response:
    """The newest element set the caller may read of each object, by NORAD id. Text formats (TLE, 3LE,
    OMM) return the whole page as one document."""
    cap = _page(state, limit, getattr(state.settings, "max_export_rows", 100_000))
    rows = queries.latest_element_sets(conn, where=where, norad_ids=norad_id, name=name, owner=owner,
                                       owner_nation=owner_nation, object_type=object_type, regime=regime,
                                       limit=cap, offset=offset)
    audit_reads(state, user, "elsets/latest", rows)
    return _elsets_response(rows, format, {"count": len(rows), "limit": cap, "offset": offset})


@router.get("/api/v1/elsets/{elset_id}", summary="One element set", responses=problem_responses(404))
def get_elset(elset_id: ElsetId, state: State, user: Caller, where: ReadFilter, conn: Conn,
              format: ElsetFormat = "json") -> Response:
    from sqlalchemy import select

    from orbitwatch.store.schema import element_sets

    row = conn.execute(select(element_sets).where(element_sets.c.id == elset_id, where(element_sets))).first()
    if row is None:
        raise NotFound(f"element set {elset_id} not found")
    audit_reads(state, user, f"elsets/{elset_id}", [row])
    if format == "json":
        return JSONResponse(rows_dicts([row])[0])
    return Response(elsets_text([row], format), media_type=TEXT_MEDIA[format])
