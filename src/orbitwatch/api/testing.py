"""Helpers to drive the API from tests and benchmarks: an in-process client and a live loopback server.

* :class:`AsgiClient` - synchronous calls into the ASGI app on a private event loop (no sockets).
* :func:`live_server` - a real uvicorn server on 127.0.0.1 in a background thread, for clients that
  need a URL (schemathesis, the ``spacetrack`` package, skyfield's loader).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx

from orbitwatch.markings import DEFAULT_SCHEME
from orbitwatch.settings import Settings


class AsgiClient:
    """A synchronous face over ``httpx.AsyncClient(ASGITransport)`` on one private event loop.

    Cheaper per request than Starlette's TestClient (no portal-thread hop per call), which matters for
    the thousands of requests of the authorisation matrix.
    """

    def __init__(self, app):
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node")

    def request(self, method: str, url: str, **kw) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kw))

    def get(self, url: str, **kw) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    @property
    def cookies(self):
        return self._client.cookies

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        node = getattr(self.app.state, "node", None)
        if node is not None:
            node.audit_buffer.close()
            if node.loop_conns is not None:
                node.loop_conns.close()
            if node.loop_audit is not None:
                node.loop_audit.close()
        self._loop.close()


def node_settings(**overrides) -> Settings:
    """Settings for a test node: test environment, a fixed secret, generous rate limit, public reads."""
    base = dict(environment="test", rate_limit_per_minute=10_000_000, public_access=True,
                secret_key="test-secret-key-for-the-audit-chain",
                classification_levels=DEFAULT_SCHEME.levels)
    base.update(overrides)
    return Settings(**base)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(app, *, port: int | None = None, timeout: float = 30.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on loopback in a thread; yields the base URL (no trailing slash)."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
