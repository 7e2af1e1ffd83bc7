"""Shared fixtures: the real-data folder, and a fresh database on SQLite and on real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_URL = os.environ.get("ORBITWATCH_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ORBITWATCH_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real public orbital data (present in CI; optional on a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data folder {SHARED_DATA} not present (it sits beside the checkout in CI)")
    return SHARED_DATA


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable at {PG_URL}: {exc}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    reason = _pg_available()
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason + " (ORBITWATCH_REQUIRE_POSTGRES=1: CI must run these tests)")
        pytest.skip(reason)
    return PG_URL


def _pg_schema_url(server_url: str):
    """A private schema per test, so tests (and parallel runs) never see each other's rows."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in server_url else "?"
    url = f"{server_url}{sep}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return url, drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A URL to an empty database: every store test runs on SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orbitwatch.sqlite'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url, drop = _pg_schema_url(server)
    yield url
    from sqlalchemy import create_engine  # noqa: F401  (engines are disposed by the tests)

    drop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'orbitwatch.sqlite'}"
