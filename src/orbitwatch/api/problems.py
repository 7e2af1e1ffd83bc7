"""RFC 9457 ``application/problem+json``: the one place where errors become HTTP answers.

Every exception of :mod:`orbitwatch.errors`, every framework error (unknown route, bad method, invalid
parameters) and every unexpected crash leaves the API as a problem document. ``NotFound`` is rendered
from the message the route gave, which names only what the caller asked for - so a record that exists
but is not released to the caller answers byte-for-byte like one that does not exist.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from orbitwatch.errors import (
    AuthenticationError,
    ConfigurationError,
    MarkingError,
    NotFound,
    OrbitwatchError,
    PermissionDenied,
    PropagationError,
    RateLimited,
    ValidationError,
)

log = logging.getLogger("orbitwatch.api")

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "urn:orbitwatch:problem:"

#: Error class -> (status, problem type slug). Order matters: the first match wins.
STATUS_MAP: tuple[tuple[type[Exception], int, str], ...] = (
    (NotFound, 404, "not-found"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (RateLimited, 429, "rate-limited"),
    (MarkingError, 422, "invalid-marking"),
    (ValidationError, 422, "invalid-input"),
    (PropagationError, 422, "propagation-failed"),
    (ConfigurationError, 500, "configuration"),
    (OrbitwatchError, 400, "bad-request"),
)


class PayloadTooLarge(OrbitwatchError):
    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"request body larger than the limit of {limit} bytes")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(status: int, detail: str | None = None, *, type_: str | None = None, title: str | None = None,
            instance: str | None = None, headers: dict[str, str] | None = None,
            **extensions: Any) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=headers)


def problem_for(exc: Exception, instance: str | None = None) -> ProblemResponse:
    """The problem document for an orbitwatch error (unknown errors become an opaque 500)."""
    if isinstance(exc, PayloadTooLarge):
        return problem(413, str(exc), type_=_TYPE_BASE + "payload-too-large", instance=instance)
    for cls, status, slug in STATUS_MAP:
        if isinstance(exc, cls):
            headers: dict[str, str] = {}
            ext: dict[str, Any] = {}
            if isinstance(exc, RateLimited):
                headers["Retry-After"] = str(max(1, int(exc.retry_after_s + 0.999)))
                ext["retry_after_s"] = round(exc.retry_after_s, 3)
            if isinstance(exc, AuthenticationError):
                headers["WWW-Authenticate"] = 'Bearer realm="orbitwatch"'
            if isinstance(exc, ValidationError):
                ext["errors"] = [exc.as_dict()]
                detail = str(exc)
            elif isinstance(exc, ConfigurationError):
                log.error("configuration error: %s", exc)
                detail = "the server is misconfigured"
            else:
                detail = str(exc)
            return problem(status, detail, type_=_TYPE_BASE + slug, instance=instance, headers=headers or None,
                           **ext)
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal error; the incident was logged", instance=instance)


# -- the compatible endpoints answer errors the way the services they imitate do ----------------------
SPACETRACK_PREFIXES = ("/ajaxauth/", "/basicspacedata/", "/expandedspacedata/")
CELESTRAK_PREFIXES = ("/NORAD/", "/pub/")
SPACETRACK_RATE_LIMIT_TEXT = ("You've violated your query rate limit. Please refer to our Acceptable Use "
                              "guidelines.")


def _compat(path: str, resp: ProblemResponse) -> Response:
    """Re-shape a problem for Space-Track / CelesTrak clients (they parse the services' own shapes)."""
    import json as _json

    body = _json.loads(resp.body)
    status, detail = body["status"], body.get("detail") or body["title"]
    headers = {k: v for k, v in resp.headers.items() if k.lower() in ("retry-after", "www-authenticate")}
    if path.startswith(SPACETRACK_PREFIXES):
        if status == 429:
            # Space-Track itself answers 500 with this text. The node answers 429 with Retry-After and the
            # same text: no request, generated or not, gets a 5xx from it; the `spacetrack` client keeps
            # under any sane limit by its own throttle (30 a minute), and a client that reads the text or
            # Retry-After still knows what happened.
            return PlainTextResponse(SPACETRACK_RATE_LIMIT_TEXT, status_code=429, headers=headers)
        if status == 401:
            detail = "You must be logged in to complete this action"
        return JSONResponse({"error": detail}, status_code=status, headers=headers)
    if status == 422:
        status, detail = 400, f"Invalid query: {detail}"
    return PlainTextResponse(detail + "\n", status_code=status, headers=headers)


def respond(request: Request, resp: ProblemResponse) -> Response:
    path = request.url.path
    if path.startswith(SPACETRACK_PREFIXES) or path.startswith(CELESTRAK_PREFIXES):
        return _compat(path, resp)
    return resp


def install(app: FastAPI) -> None:
    """Register the handlers (called once by the app factory)."""

    @app.exception_handler(OrbitwatchError)
    async def _orbitwatch(request: Request, exc: OrbitwatchError):
        return respond(request, problem_for(exc, request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ())]
            errors.append({"file": None, "line": None, "field": ".".join(loc[1:]) or ".".join(loc),
                           "reason": str(e.get("msg", "invalid"))})
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5]) or "invalid request"
        return respond(request, problem(422, detail, type_=_TYPE_BASE + "invalid-input",
                                        instance=request.url.path, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(
            exc.status_code).phrase else None
        return respond(request, problem(exc.status_code, detail, instance=request.url.path,
                                        headers=getattr(exc, "headers", None)))

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError):
        # The database refused a value taken from the request (a NUL character in text on PostgreSQL, a
        # number out of range): the request is at fault, not the server.
        log.info("database refused a request value on %s: %s", request.url.path, str(exc.orig)[:200])
        return respond(request, problem(422, "a value in the request cannot be stored or compared (e.g. a NUL "
                                             "character or a number out of range)",
                                        type_=_TYPE_BASE + "invalid-input", instance=request.url.path))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, problem(500, "internal error; the incident was logged",
                                        instance=request.url.path))


#: OpenAPI description of the problem responses, reused by every route.
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"description": HTTPStatus(s).phrase, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
            for s in statuses}
