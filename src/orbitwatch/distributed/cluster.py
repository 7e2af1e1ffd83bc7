"""Screening on a dask distributed cluster.

The work units are those of :mod:`orbitwatch.conjunctions.engine` (time slices, then refinement
chunks). The catalogue travels once: its compact TLE text (``portable`` tuples, ~150 bytes per object)
is scattered to every worker with ``broadcast=True``; each worker process builds its SGP4 objects
once per catalogue (cached by a content hash) and keeps them for the refinement units. Units return
only candidate rows and refined states, so a 26,000-object week moves a few MB over the network.

Results are identical to the local run: the same units run with the same inputs, and their outputs are
gathered in submission order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from orbitwatch.errors import ConfigurationError


def _probe(address: str) -> None:
    """Fail at once, with a clear message, when nothing listens at a tcp:// address (dask's own client
    would retry until its timeout)."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(address if "://" in address else f"tcp://{address}")
    if u.scheme not in ("tcp", "tls") or not u.hostname or not u.port:
        return
    try:
        socket.create_connection((u.hostname, u.port), timeout=5.0).close()
    except OSError as exc:
        raise ConfigurationError(f"cannot reach the dask scheduler at {address}: {exc}") from None


class DaskExecutor:
    """Runs screening work units on the dask scheduler at ``address`` (``tcp://host:8786``)."""

    def __init__(self, address: str, token: str, portables: Sequence[tuple], *, timeout: float = 30.0):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise ConfigurationError("dask.distributed is not installed: pip install 'dask[distributed]'") from exc
        self.token = token
        _probe(address)
        try:
            self.client = Client(address, timeout=timeout)
        except OSError as exc:
            raise ConfigurationError(f"cannot reach the dask scheduler at {address}: {exc}") from None
        info = self.client.scheduler_info()
        self.nworkers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self._catalogue = self.client.scatter(list(portables), broadcast=True, hash=False)

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def warm(self) -> None:
        """Nothing to do: a cluster's workers are started by whoever runs the cluster."""

    def map(self, fn: Callable, arglists: list[tuple], on_done: Callable[[int], None] | None = None) -> list:
        from distributed import as_completed

        futures = [self.client.submit(fn, self.token, self._catalogue, *args, pure=False) for args in arglists]
        for done, _ in enumerate(as_completed(futures), start=1):
            if on_done:
                on_done(done)
        return self.client.gather(futures)
