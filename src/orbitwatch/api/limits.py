"""Limits that keep one caller from starving the others: body size and per-token request rate.

* :class:`BodySizeLimit` (pure ASGI middleware) answers 413 before reading a body whose declared
  ``Content-Length`` is over the limit, and stops a chunked upload as soon as it passes the limit.
* :class:`RateLimiter` is a token bucket per key (the API token's digest, the session, or the client
  address for anonymous calls): ``rate_per_minute`` sustained, bursts of ``burst``. Over the limit the
  API answers 429 with ``Retry-After``. Buckets live in the worker process: with N uvicorn workers a
  client may reach N x the rate (documented in docs/api.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from orbitwatch.api.problems import PayloadTooLarge, problem_for
from orbitwatch.errors import RateLimited


class BodySizeLimit:
    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    resp = problem_for(PayloadTooLarge(self.max_bytes), scope.get("path"))
                    return await resp(scope, receive, send)
                break
        seen = 0
        limit = self.max_bytes

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(limit)
            return message

        return await self.app(scope, counted, send)


class RateLimiter:
    """Token buckets keyed by caller. ``clock`` is injectable for tests."""

    def __init__(self, rate_per_minute: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self.rate = rate_per_minute / 60.0  # tokens per second
        self.burst = float(burst if burst is not None else max(1.0, rate_per_minute / 6.0))
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens from ``key``'s bucket or raise :class:`RateLimited`."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < cost:
                self._buckets[key] = (tokens, now)
                raise RateLimited((cost - tokens) / self.rate)
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                # Forget idle buckets (full ones carry no state worth keeping).
                cutoff = now - self.burst / self.rate
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > cutoff}
            self._buckets[key] = (tokens - cost, now)
