"""Derived products: conjunctions (with CDM downloads) and alerts, through the same read filter.

A product's marking is the combination of its inputs' (highest classification, intersection of
releasabilities), so filtering products with the caller's filter never shows a nation a product built
from data it may not read. The producing packages arrive separately; until they are installed these
routes answer 404 like any absent record.
"""

from __future__ import annotations

import json
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
        d = row_dict(item)
        for key in ("state1", "state2"):  # stored as JSON text; give clients numbers
            if isinstance(d.get(key), str):
                d[key] = json.loads(d[key])
        return d
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
    audit_reads(state, user, "conjunctions", events)
    return JSONResponse({"items": items, "limit": limit})


def _one_event(conn, where, event_id: int):
    storage = _storage()
    ev = storage.get_event(conn, event_id, where=where) if storage is not None else None
    if ev is None:
        raise NotFound(f"conjunction {event_id} not found")
    return ev


EventId = Annotated[int, Path(ge=0, le=2**53)]


@router.get("/api/v1/conjunctions/{event_id}", summary="One conjunction")
def conjunction(event_id: EventId, state: State, user: Caller, where: ReadFilter, conn: Conn) -> JSONResponse:
    row = _one_event(conn, where, event_id)
    audit_reads(state, user, f"conjunctions/{event_id}", [row])
    return JSONResponse(_as_dict(row))


def _input_elset(conn, where, norad_id: int, epoch: float | None, event_id: int):
    """The element set an event was computed from, read through the caller's filter (the event's
    derived marking guarantees the caller may read both inputs; if not, it answers as not found)."""
    from orbitwatch.store.queries import element_set_from_row, element_set_history, latest_element_sets

    rows = []
    if epoch is not None:
        rows = element_set_history(conn, norad_id, where=where, start=epoch - 1e-3, end=epoch + 1e-3)
    if not rows:
        rows = latest_element_sets(conn, where=where, norad_ids=[norad_id])
    if not rows:
        raise NotFound(f"conjunction {event_id} not found")
    return element_set_from_row(rows[-1])


def cdm_text(conn, where, row, event_id: int) -> str:
    """CCSDS CDM (KVN) of a stored event: GCRF states at TCA, default-model RTN covariances."""
    import numpy as np

    from orbitwatch.conjunctions.screen import DEFAULT_HBR_M, event_covariances
    from orbitwatch.conjunctions.storage import event_from_row
    from orbitwatch.formats.cdm import cdm_from_conjunction, format_cdm_kvn
    from orbitwatch.kernels.frames import teme_to_gcrs

    ev = event_from_row(row)
    a = _input_elset(conn, where, row.norad1, row.elset1_epoch, event_id)
    b = _input_elset(conn, where, row.norad2, row.elset2_epoch, event_id)
    cov1, cov2, source = event_covariances([ev], [a, b])
    t = np.array([ev.tca_unix])
    r1, v1 = teme_to_gcrs(np.array([ev.r1]), np.array([ev.v1]), t)
    r2, v2 = teme_to_gcrs(np.array([ev.r2]), np.array([ev.v2]), t)
    cdm = cdm_from_conjunction(
        tca=ev.tca, r1_km=r1[0], v1_kms=v1[0], cov1_rtn=cov1[0], r2_km=r2[0], v2_kms=v2[0], cov2_rtn=cov2[0],
        object1_designator=str(ev.norad1), object1_name=a.object_name or "UNKNOWN",
        object2_designator=str(ev.norad2), object2_name=b.object_name or "UNKNOWN",
        object1_international_designator=a.object_id or "UNKNOWN",
        object2_international_designator=b.object_id or "UNKNOWN",
        ref_frame="GCRF", collision_probability=ev.pc,
        collision_probability_method="FOSTER-1992" if ev.pc is not None else None,
        hbr_m=ev.hbr_m if ev.hbr_m is not None else DEFAULT_HBR_M, covariance_method="DEFAULT",
        comments=[f"orbitwatch conjunction {event_id}; marking {row.marking}",
                  f"covariance: {source}", *(f"flag: {f}" for f in ev.flags)])
    return format_cdm_kvn(cdm)


@router.get("/api/v1/conjunctions/{event_id}/cdm", summary="The conjunction as a CCSDS CDM (KVN)")
def conjunction_cdm(event_id: EventId, state: State, user: Caller, where: ReadFilter, conn: Conn) -> Response:
    row = _one_event(conn, where, event_id)
    doc = cdm_text(conn, where, row, event_id)
    audit_reads(state, user, f"conjunctions/{event_id}/cdm", [row])
    return Response(doc, media_type="text/plain; charset=utf-8",
                    headers={"X-Marking": row.marking.replace("\n", " ")})


@router.get("/api/v1/alerts", summary="Alerts the caller may read")
def alerts(state: State, user: Caller, where: ReadFilter, conn: Conn, since: datetime | None = None,
           limit: Limit = 100) -> JSONResponse:
    limit = min(limit, state.settings.max_page_size)
    try:
        from orbitwatch.threats.alerts import load_alerts
    except ImportError:
        return JSONResponse({"items": [], "limit": limit})
    found = load_alerts(conn, where=where, since=_since(since), limit=limit)
    items = [_as_dict(a) for a in found]
    audit_reads(state, user, "alerts", [_marking_cols(a.marking) | {"id": a.id} for a in found])
    return JSONResponse({"items": items, "limit": limit})


def _marking_cols(m) -> dict:
    from orbitwatch.store.base import marking_values

    return marking_values(m)
