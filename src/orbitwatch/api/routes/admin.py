"""Administration: the audit chain (read and verify) and users. Admin role only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from orbitwatch.api.deps import Conn, CurrentUser, State, require_role
from orbitwatch.api.problems import problem_responses
from orbitwatch.sharing import identity
from orbitwatch.sharing.audit import ACTIONS, AuditLog
from orbitwatch.sharing.principal import ROLES

router = APIRouter(tags=["admin"], responses=problem_responses(401, 403, 422, 429),
                   dependencies=[require_role("admin")])

Action = Literal[tuple(sorted(ACTIONS))]  # type: ignore[valid-type]


@router.get("/api/v1/audit", summary="Audit entries, newest first")
def audit_entries(user: CurrentUser, state: State, conn: Conn, action: Action | None = None,
                  actor: Annotated[str | None, Query(max_length=128)] = None,
                  nation: Annotated[str | None, Query(pattern="^[A-Z]{3}$")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict:
    items = AuditLog.entries(conn, action=action, actor=actor, nation=nation, limit=limit, offset=offset)
    state.audit.record(state.engine, actor=user.username, nation=user.nation, action="audit_read",
                       resource="audit", detail={"action": action, "actor": actor, "limit": limit,
                                                 "offset": offset})
    return {"items": [e.as_dict() for e in items], "limit": limit, "offset": offset}


@router.get("/api/v1/audit/verify", summary="Verify the audit chain end to end")
def audit_verify(state: State, conn: Conn) -> dict:
    state.audit_buffer.flush(timeout=5)
    return state.audit.verify(conn).as_dict()


class UserCreate(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
    nation: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    organisation: str | None = Field(default=None, max_length=64)
    clearance: str = Field(default="UNCLASSIFIED", max_length=32)
    roles: list[Literal[ROLES]] = Field(default_factory=lambda: ["analyst"], max_length=4)  # type: ignore[valid-type]
    password: str | None = Field(default=None, min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=256)


@router.get("/api/v1/users", summary="Users of this node")
def list_users(conn: Conn) -> dict:
    return {"items": [u.as_dict() for u in identity.list_users(conn)]}


@router.post("/api/v1/users", status_code=201, summary="Add a user")
def add_user(body: UserCreate, user: CurrentUser, state: State) -> dict:
    info = identity.create_user(state.engine, body.username, nation=body.nation,
                                organisation=body.organisation, clearance=body.clearance,
                                roles=tuple(body.roles), password=body.password,
                                display_name=body.display_name, scheme=state.scheme,
                                organisations=state.organisations or None, audit=state.audit,
                                actor=user.username)
    return info.as_dict()
