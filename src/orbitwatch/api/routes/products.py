"""Derived products: conjunctions (with CDM downloads) and alerts, through the same read filter.

A product's marking is the combination of its inputs' (highest classification, intersection of
releasabilities), so filtering products with the caller's filter never shows a nation a product built
from data it may not read. The producing packages arrive separately; until they are installed these
routes answer 404 like any absent record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from orbitwatch.api.deps import Caller, Conn, ReadFilter, State, audit_reads
from orbitwatch.api.problems import problem_responses
from orbitwatch.api.render import row_dict
from orbitwatch.errors import NotFound, ValidationError

router = APIRouter(tags=["products"], responses=problem_responses(401, 404, 422, 429))

Limit = Annotated[int, Query(ge=1, le=100_000)]


def _since(dt: datetime | None) -> float | None:
    if dt is None:
        return None
    from datetime import UTC

    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ValidationError("date out of range", field="since") from None


def _as_dict(item) -> dict:
    if hasattr(item, "as_dict"):
        return item.as_dict()
    if hasattr(item, "_mapping"):
        return row_dict(item)
    if isinstance(item, dict):
        return {k: v for k, v in item.items() if k not in ("class_rank", "rel_mask", "orgs")}
    from dataclasses import asdict, is_dataclass

    if is_dataclass(item):
        return asdict(item)
    raise TypeError(f"cannot render {type(item).__name__}")


def _storage():
    try:
        from orbitwatch.conjunctions import storage
    except ImportError:
        return None
    return storage if hasattr(storage, "load_events") else None


@router.get("/api/v1/conjunctions", summary="Conjunctions the caller may read")
def conjunctions(state: State, user: Caller, where: ReadFilter, conn: Conn,
                 norad_id: Annotated[int | None, Query(ge=0, le=2_147_483_647)] = None,
                 since: datetime | None = None, limit: Limit = 100) -> JSONResponse:
    storage = _storage()
    limit = min(limit, state.settings.max_page_size)
    if storage is None:
        return JSONResponse({"items": [], "limit": limit})
    events = storage.load_events(conn, where=where, norad=norad_id, since=_since(since), limit=limit)
    items = [_as_dict(e) for e in events]
    audit_reads(state, user, "conjunctions", items)
    return JSONResponse({"items": items, "limit": limit}, headers=None)


def _one_event(conn, where, event_id: int):
    storage = _storage()
    if storage is None:
        raise NotFound(f"conjunction {event_id} not found")
    getter = getattr(storage, "get_event", None)
    if getter is not None:
        ev = getter(conn, event_id, where=where)
    else:  # fall back to scanning the caller's readable events
        ev = next((e for e in storage.load_events(conn, where=where, limit=None)
                   if _as_dict(e).get("id") == event_id), None)
    if ev is None:
        raise NotFound(f"conjunction {event_id} not found")
    return ev


EventId = Annotated[int, Path(ge=0, le=2**53)]


@router.get("/api/v1/conjunctions/{event_id}", summary="One conjunction")
def conjunction(event_id: EventId, state: State, user: Caller, where: ReadFilter, conn: Conn) -> JSONResponse:
    item = _as_dict(_one_event(conn, where, event_id))
    audit_reads(state, user, f"conjunctions/{event_id}", [item])
    return JSONResponse(item)


@router.get("/api/v1/conjunctions/{event_id}/cdm", summary="The conjunction as a CCSDS CDM (KVN)")
def conjunction_cdm(event_id: EventId, state: State, user: Caller, where: ReadFilter, conn: Conn) -> Response:
    ev = _one_event(conn, where, event_id)
    try:
        from orbitwatch.formats.cdm import format_cdm_kvn
    except ImportError:
        raise NotFound(f"conjunction {event_id} not found") from None
    storage = _storage()
    to_cdm = getattr(storage, "event_to_cdm", None)
    doc = format_cdm_kvn(to_cdm(conn, ev, where=where) if to_cdm else ev)
    audit_reads(state, user, f"conjunctions/{event_id}/cdm", [_as_dict(ev)])
    return Response(doc, media_type="text/plain; charset=utf-8")


@router.get("/api/v1/alerts", summary="Alerts the caller may read")
def alerts(state: State, user: Caller, where: ReadFilter, conn: Conn, since: datetime | None = None,
           limit: Limit = 100) -> JSONResponse:
    limit = min(limit, state.settings.max_page_size)
    try:
        from orbitwatch.threats.alerts import load_alerts
    except ImportError:
        return JSONResponse({"items": [], "limit": limit})
    items = [_as_dict(a) for a in load_alerts(conn, where=where, since=_since(since), limit=limit)]
    audit_reads(state, user, "alerts", items)
    return JSONResponse({"items": items, "limit": limit})
