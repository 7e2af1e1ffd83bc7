"""Health and a map of the API."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Liveness (no authentication)")
def health() -> dict:
    return {"status": "ok"}


@router.get("/api/v1", summary="Entry points of the API")
def index() -> dict:
    return {
        "objects": "/api/v1/objects", "latest_element_sets": "/api/v1/elsets/latest",
        "ingest": "/api/v1/ingest", "conjunctions": "/api/v1/conjunctions", "alerts": "/api/v1/alerts",
        "releases": "/api/v1/releases", "audit": "/api/v1/audit", "whoami": "/api/v1/whoami",
        "login": "/auth/login", "openapi": "/openapi.json",
    }
