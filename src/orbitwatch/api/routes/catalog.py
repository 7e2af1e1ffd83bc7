"""Catalogue resources: space objects and element sets (latest and history).

The two reads every client makes all the time - object search and the latest element sets of given
objects - run as prepared SQL on the event loop (``api/reads.py``, ``deps.ReadContext``) and answer
JSON built by orjson from plain tuples; everything else goes through the store's query functions in a
worker thread. Either way the rows come filtered by the caller's ``readable_by`` clause.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from orbitwatch.api import reads
from orbitwatch.api.deps import Caller, Conn, ReadContext, Reader, ReadFilter, State, audit_reads, audit_restricted
from orbitwatch.api.params import query_params
from orbitwatch.api.problems import problem_responses
from orbitwatch.api.render import TEXT_MEDIA, elsets_text, rows_dicts
from orbitwatch.errors import NotFound, ValidationError
from orbitwatch.sharing.authz import restricted_row
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

#: Reads at most this many rows run on the event loop (``ReadContext.run(small=True)``); larger ones in
#: a worker thread, so that one big answer never holds up the loop's other requests.
SMALL_READ = 100
_NORAD_ID = Field(default=None, max_length=1000, description="NORAD catalogue numbers (repeat the parameter)")
_NORAD_INT = Annotated[int, Field(ge=0, le=2_147_483_647)]


class ObjectFilters(BaseModel):
    norad_id: list[_NORAD_INT] | None = _NORAD_ID
    name: str | None = Field(default=None, max_length=128)
    owner: str | None = Field(default=None, max_length=128)
    owner_nation: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    object_type: ObjectType | None = None
    regime: Regime | None = None

    def object_query(self) -> reads.ObjectQuery:
        return reads.ObjectQuery(tuple(self.norad_id) if self.norad_id else None, self.name, self.owner,
                                 self.owner_nation, self.object_type, self.regime)

    def store_filters(self) -> dict:
        return dict(norad_ids=self.norad_id, name=self.name, owner=self.owner, owner_nation=self.owner_nation,
                    object_type=self.object_type, regime=self.regime)


class ObjectSearch(ObjectFilters):
    sort: SortKey = "norad_id"
    limit: int = Field(default=100, ge=1, le=1_000_000, description="page size (capped by the node)")
    offset: int = Field(default=0, ge=0, le=10_000_000)
    count: bool = Field(default=False, description="always include the total (costs a count query)")


class LatestQuery(ObjectFilters):
    format: ElsetFormat = "json"
    limit: int = Field(default=1000, ge=1, le=1_000_000, description="page size (capped by the node)")
    offset: int = Field(default=0, ge=0, le=10_000_000)


SearchParams, SEARCH_DOC = query_params(ObjectSearch)
LatestParams, LATEST_DOC = query_params(LatestQuery)


def _json_bytes(body: bytes) -> Response:
    # orjson straight to bytes: no pydantic pass, no json.dumps (rows are plain values already).
    return Response(body, media_type="application/json")


def _items(names: list[str], rows: list[tuple]) -> list[dict]:
    # Rows end with class_rank and rel_mask, which never leave: zip stops at the visible names.
    return [dict(zip(names, r, strict=False)) for r in rows]


def _audit_tuples(ctx: ReadContext, resource: str, rows: list[tuple], key: str, key_index: int) -> None:
    """The audit entry for rows of ``api/reads.py`` (their last two values are class_rank, rel_mask)."""
    keys = [r[key_index] for r in rows if restricted_row({"class_rank": r[-2], "rel_mask": r[-1]})]
    if keys:
        audit_restricted(ctx.state, ctx.principal, resource, len(keys), len(rows), key, keys)


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


@router.get("/api/v1/objects", summary="Search space objects", openapi_extra=SEARCH_DOC)
async def search_objects(ctx: Reader, q: Annotated[ObjectSearch, SearchParams]) -> Response:
    """Objects the caller may read, filtered (name: case-insensitive substring) and sorted (``-`` for
    descending). ``total`` (only what the caller may read) is given when the page is the last one, or
    always with ``count=true``; ``next_offset`` points to the next page when there may be one."""
    return _json_bytes(await search_answer(ctx, q))


# The two hot reads' answers as JSON bytes: what the routes above and below send, and what ``api/hot.py``
# sends when it serves the same requests without FastAPI's routing and dependency layers.
async def search_answer(ctx: ReadContext, q: ObjectSearch) -> bytes:
    state, where = ctx.state, ctx.where
    limit, offset = _page(state, q.limit), q.offset
    oq = q.object_query()
    engine = state.engine

    def work(raw) -> tuple[list[tuple], int | None]:
        rows = reads.search_objects(raw, engine, where, oq, sort=q.sort.lstrip("-"),
                                    descending=q.sort.startswith("-"), limit=limit, offset=offset)
        return rows, (reads.count_objects(raw, engine, where, oq) if q.count else None)

    rows, total = await ctx.run(work, small=limit <= SMALL_READ and not q.count)
    names = reads.OBJECT_COLUMNS
    body: dict = {"items": _items(names, rows), "limit": limit, "offset": offset}
    if q.count or (rows and len(rows) < limit) or (not rows and offset == 0):
        # A short first-or-later page ends the result: its total is exact without counting.
        body["total"] = total if q.count else offset + len(rows)
    if len(rows) == limit:
        body["next_offset"] = offset + limit
    _audit_tuples(ctx, "objects", rows, "norad_id", _OBJECT_KEY)
    return orjson.dumps(body)


_OBJECT_KEY = reads.OBJECT_COLUMNS.index("norad_id")
_ELSET_KEY = reads.ELSET_COLUMNS.index("id")


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


@router.get("/api/v1/elsets/latest", summary="Latest element set of each object", openapi_extra=LATEST_DOC)
async def latest_elsets(ctx: Reader, q: Annotated[LatestQuery, LatestParams]) -> Response:
    """The newest element set the caller may read of each object, by NORAD id. Text formats (TLE, 3LE,
    OMM) return the whole page as one document."""
    state = ctx.state
    if latest_is_hot(q):
        return _json_bytes(await latest_answer(ctx, q))
    cap = _export_cap(state, q.limit)
    envelope = {"limit": cap, "offset": q.offset}

    def work() -> Response:
        with state.engine.connect() as conn:
            rows = queries.latest_element_sets(conn, where=ctx.where, limit=cap, offset=q.offset,
                                               **q.store_filters())
        audit_reads(state, ctx.principal, "elsets/latest", rows)
        return _elsets_response(rows, q.format, {"count": len(rows), **envelope})

    return await run_in_threadpool(work)


def latest_is_hot(q: LatestQuery) -> bool:
    """"The latest of these objects" as JSON: the shape served by prepared SQL (:func:`latest_answer`)."""
    return q.format == "json" and bool(q.norad_id) and not any((q.name, q.owner, q.owner_nation, q.object_type,
                                                                 q.regime))


def _export_cap(state, limit: int) -> int:
    return _page(state, limit, getattr(state.settings, "max_export_rows", 100_000))


async def latest_answer(ctx: ReadContext, q: LatestQuery) -> bytes:
    """The JSON answer of a :func:`latest_is_hot` query: prepared SQL, on the loop when it is small."""
    state = ctx.state
    cap = _export_cap(state, q.limit)
    ids, engine, where = q.norad_id, state.engine, ctx.where
    rows = await ctx.run(lambda raw: reads.latest_of(raw, engine, where, ids), small=len(ids) <= SMALL_READ)
    rows = rows[q.offset:q.offset + cap]
    _audit_tuples(ctx, "elsets/latest", rows, "id", _ELSET_KEY)
    return orjson.dumps({"items": _items(reads.ELSET_COLUMNS, rows), "count": len(rows), "limit": cap,
                         "offset": q.offset})


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
