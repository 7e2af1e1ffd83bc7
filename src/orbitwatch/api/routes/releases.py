"""Releases: the originating nation widens a record's releasability."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from orbitwatch.api.deps import Conn, CurrentUser, State
from orbitwatch.api.problems import problem_responses
from orbitwatch.sharing import releases as rel

router = APIRouter(tags=["releases"], responses=problem_responses(401, 403, 404, 422, 429))

Trigraph = Annotated[str, Field(pattern="^[A-Z]{3}$")]


class ReleaseRequest(BaseModel):
    target: Literal["element_set", "object", "batch"] = Field(
        description="element_set (by id), object (NORAD id: the object and this nation's element sets "
                    "of it) or batch (an ingest batch id)")
    key: int = Field(ge=0, le=2**53)
    nations: list[Trigraph] = Field(min_length=1, max_length=10)
    reason: str | None = Field(default=None, max_length=1000)


@router.post("/api/v1/releases", status_code=201, summary="Release a record to more nations")
def create_release(body: ReleaseRequest, user: CurrentUser, state: State) -> dict:
    """Only the originating nation may release; a release only adds nations. The widened record is
    visible to them on their next request, and the act is recorded (``releases`` and the audit chain)."""
    result = rel.release(state.engine, user, body.target, body.key, body.nations, reason=body.reason,
                         audit=state.audit, scheme=state.scheme)
    return result.as_dict()


@router.get("/api/v1/releases", summary="Releases your nation made")
def list_releases(user: CurrentUser, conn: Conn, norad_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> dict:
    return {"items": rel.list_releases(conn, user, norad_id=norad_id, limit=limit, offset=offset),
            "limit": limit, "offset": offset}
