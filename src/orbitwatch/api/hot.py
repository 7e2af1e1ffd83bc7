"""The two hot reads served without FastAPI's routing and dependency layers.

Object search (``GET /api/v1/objects``) and the latest element sets of given objects as JSON
(``GET /api/v1/elsets/latest?norad_id=...``) are most of what clients ask. Through FastAPI each pays
for its middleware stack, route matching and dependency resolution - about as much CPU as its prepared
SQL. :class:`HotReads` (ASGI middleware, inside ``AuditGate``) answers them directly, doing exactly
what the routes do with the same functions:

* the caller: the same ``Authorization: Bearer`` parsing as ``deps.resolve_caller``, the principal from
  the same per-worker token cache (``NodeState.peek_digest``), the same rate-limit bucket;
* the parameters: the routes' own pydantic models through the same parser (``params.query_parser``);
* the answer: the routes' own bodies (``routes.catalog.search_answer`` / ``latest_answer``) with the
  caller's ``readable_by`` filter, audit entries queued the same way (``AuditGate`` still holds the
  response until they are committed);
* errors after the request was taken (rate limit, database): the app's own exception handlers, so the
  problem documents are the same.

Anything else is handed to the app untouched *before* any side effect: other paths and methods, no or
malformed credentials, session cookies, a token not in the cache (the app resolves it in a thread and
caches it), invalid parameters (the app answers 422), latest-element-set queries that are not the hot
shape. The same requests thus get the same answers either way; ``tests/api/test_api_hot.py`` compares
the two paths, and the leak matrix (``test_api_matrix.py``) runs through this one.
"""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams
from starlette.requests import Request

from orbitwatch.api.deps import NodeState, ReadContext
from orbitwatch.api.params import query_parser
from orbitwatch.api.routes import catalog
from orbitwatch.sharing.authz import readable_by
from orbitwatch.sharing.identity import secret_digest

SEARCH, LATEST = "/api/v1/objects", "/api/v1/elsets/latest"
_JSON = b"application/json"


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The bearer token as ``deps._credentials`` reads it (first ``authorization`` header), or None when
    that function would not return a token (no header, another scheme, an empty token)."""
    for name, value in headers:
        if name == b"authorization":
            auth = value.decode("latin-1")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            return token.strip()
    return None


class HotReads:
    def __init__(self, app, node: NodeState, exception_handlers: dict[Any, Any]):
        self.app = app
        self.node = node
        self.handlers = exception_handlers
        self.parse_search = query_parser(catalog.ObjectSearch)
        self.parse_latest = query_parser(catalog.LatestQuery)
        self.served = 0  # answers sent from here (tests check that this path is the one taken)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path != SEARCH and path != LATEST:
            return await self.app(scope, receive, send)
        token = _bearer(scope["headers"])
        if token is None:
            return await self.app(scope, receive, send)
        state = self.node
        digest = secret_digest(token)
        principal = state.peek_digest("token", digest)
        if principal is None:
            return await self.app(scope, receive, send)
        try:
            if path == SEARCH:
                q = self.parse_search(QueryParams(scope["query_string"]))
            else:
                q = self.parse_latest(QueryParams(scope["query_string"]))
        except RequestValidationError:
            return await self.app(scope, receive, send)
        if path == LATEST and not catalog.latest_is_hot(q):
            return await self.app(scope, receive, send)
        # Ours from here: what deps.resolve_caller, deps.reader and the route do, in that order.
        try:
            state.limiter.check("token:" + digest[:32])
            ctx = ReadContext(state, principal, readable_by(principal, state.scheme))
            if path == SEARCH:
                body = await catalog.search_answer(ctx, q)
            else:
                body = await catalog.latest_answer(ctx, q)
        except Exception as exc:  # noqa: BLE001 - answered by the app's own handler, as the route's would be
            return await self._error(scope, receive, send, exc)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", _JSON)]})
        await send({"type": "http.response.body", "body": body})
        self.served += 1

    async def _error(self, scope, receive, send, exc: Exception) -> None:
        handler = None
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                break
        if handler is None:  # pragma: no cover - problems.install registers a handler for Exception
            raise exc
        response = await handler(Request(scope, receive), exc)
        await response(scope, receive, send)
