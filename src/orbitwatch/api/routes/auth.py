"""Login for the browser (a session cookie), logout, who am I, and a user's own API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orbitwatch.api.deps import SESSION_COOKIE, CurrentUser, NodeState, State
from orbitwatch.api.problems import problem_responses
from orbitwatch.errors import AuthenticationError, NotFound, PermissionDenied
from orbitwatch.sharing import identity
from orbitwatch.sharing.principal import Principal

router = APIRouter(tags=["auth"], responses=problem_responses(401, 422, 429))


def principal_dict(p: Principal) -> dict:
    return {"username": p.username, "nation": p.nation, "organisation": p.organisation,
            "clearance": p.clearance, "roles": sorted(p.roles), "auth": p.auth}


def login_session(request: Request, state: NodeState, username: str, password: str,
                  cookie_name: str = SESSION_COOKIE) -> tuple[Principal, str]:
    """Check a password (or token-as-password), open a session, audit the attempt either way."""
    client = request.client.host if request.client else "unknown"
    state.login_limiter.check("login:" + client)
    try:
        p = identity.check_login(state.engine, username, password)
    except AuthenticationError:
        actor = username if identity.valid_username(username) else "(malformed username)"
        state.audit.record(state.engine, actor=actor, action="login_failed",
                           resource="auth/login", detail={"client": client})
        raise
    sid = identity.create_session(state.engine, p, hours=state.session_hours, client=client)
    state.audit.record(state.engine, actor=p.username, nation=p.nation, action="login",
                       resource="auth/login", detail={"client": client})
    return p, sid


def set_session_cookie(response: Response, state: NodeState, sid: str, name: str = SESSION_COOKIE) -> None:
    response.set_cookie(name, sid, max_age=int(state.session_hours * 3600), httponly=True, samesite="strict",
                        secure=state.cookie_secure, path="/")


@router.post("/auth/login", summary="Log in (browser): sets an HttpOnly, SameSite=Strict session cookie")
def login(request: Request, state: State, username: Annotated[str, Form(max_length=128)],
          password: Annotated[str, Form(max_length=256)]) -> JSONResponse:
    p, sid = login_session(request, state, username, password)
    resp = JSONResponse(principal_dict(p))
    set_session_cookie(resp, state, sid)
    return resp


@router.post("/auth/logout", summary="End the browser session")
def logout(request: Request, state: State) -> JSONResponse:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        try:
            p: Principal | None = state.cached_principal("session", sid)
        except AuthenticationError:
            p = None
        if identity.end_session(state.engine, sid) and p is not None:
            state.audit.record(state.engine, actor=p.username, nation=p.nation, action="logout",
                               resource="auth/logout")
        state.forget("session", sid)
    resp = JSONResponse({"logged_out": bool(sid)})
    resp.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=state.cookie_secure)
    return resp


@router.get("/api/v1/whoami", summary="The authenticated caller")
def whoami(user: CurrentUser) -> dict:
    return principal_dict(user)


class TokenRequest(BaseModel):
    name: str | None = Field(default=None, max_length=128)
    days: float = Field(default=90.0, gt=0, le=366)


@router.get("/api/v1/tokens", summary="Your API tokens (never the secrets)")
def my_tokens(user: CurrentUser, state: State) -> dict:
    with state.engine.connect() as conn:
        return {"items": [t.as_dict() for t in identity.list_tokens(conn, user.username)]}


@router.post("/api/v1/tokens", status_code=201, summary="Issue yourself a new API token (shown once)")
def new_token(body: TokenRequest, user: CurrentUser, state: State) -> dict:
    token, info = identity.issue_token(state.engine, user.username, name=body.name, days=body.days,
                                       audit=state.audit, actor=user.username)
    return {"token": token, **info.as_dict()}


@router.delete("/api/v1/tokens/{token_id}", summary="Revoke one of your tokens (admins: any token)",
               responses=problem_responses(403, 404))
def delete_token(token_id: Annotated[int, Path(ge=0, le=2**53)], user: CurrentUser, state: State) -> dict:
    with state.engine.connect() as conn:
        mine = {t.id for t in identity.list_tokens(conn, user.username)}
    if token_id not in mine and not user.has_role("admin"):
        raise NotFound(f"token {token_id} not found")
    if token_id not in mine and user.nation is None:
        raise PermissionDenied("organisation admins manage their own tokens only")
    info = identity.revoke_token(state.engine, token_id, audit=state.audit, actor=user.username)
    state.forget_all()  # the revoked token stops working in this worker at once
    return info.as_dict()
