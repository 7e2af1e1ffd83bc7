"""Tables owned by one package (see docs/architecture.md); defined on the shared metadata."""

from __future__ import annotations

from orbitwatch.store.base import metadata  # noqa: F401
