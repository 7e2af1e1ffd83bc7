"""The HTTP API (FastAPI): ``create_app(settings=None, engine=None)``."""

from __future__ import annotations


def create_app(settings=None, engine=None, **options):
    """Build the FastAPI app (see :func:`orbitwatch.api.app.create_app`)."""
    from orbitwatch.api.app import create_app as _create

    return _create(settings=settings, engine=engine, **options)


__all__ = ["create_app"]
