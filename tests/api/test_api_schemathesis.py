"""schemathesis against the live OpenAPI spec of a real uvicorn server on loopback: no 5xx for any
generated input, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from orbitwatch.api import create_app
from orbitwatch.api.testing import live_server, node_settings
from orbitwatch.markings import Marking
from orbitwatch.sharing import identity
from orbitwatch.sharing.testing import MarkedRecord, insert_records
from orbitwatch.store.engine import open_engine


def _database(kind: str, tmp_path_factory, request) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('st') / 'node.sqlite'}", lambda: None
    server = request.getfixturevalue("postgres_server_url")
    import psycopg

    schema = f"st_{uuid.uuid4().hex[:10]}"
    plain = server.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    sep = "&" if "?" in server else "?"
    return f"{server}{sep}options=-csearch_path%3D{schema}", drop


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_node(request, tmp_path_factory):
    url, drop = _database(request.param, tmp_path_factory, request)
    engine = open_engine(url)
    m = Marking.parse("SECRET//REL TO USA, GBR")
    insert_records(engine, [MarkedRecord(25544, m, m, "USA"), MarkedRecord(43013, Marking(), Marking(), "GBR")],
                   history=3)
    identity.create_user(engine, "admin", nation="USA", clearance="SECRET",
                         roles=("admin", "analyst", "operator", "exercise-control"), password="admin password")
    token, _ = identity.issue_token(engine, "admin")
    app = create_app(node_settings(public_access=False), engine)
    with live_server(app) as base:
        yield base, {"Authorization": f"Bearer {token}"}
    engine.dispose()
    drop()


OTHER_PACKAGES = r"^/api/v1/(exercises|web)(/|$)"  # routers owned by the exercise and web packages


def _schemathesis(base: str, headers: dict, tmp_path: Path, *filters: str, max_time: int = 40) -> None:
    """Run the schemathesis CLI (its pytest plugin does not support pytest 9 yet) against the server."""
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/openapi.json",
           "--checks", "not_a_server_error", "--max-examples", "3", "--phases", "coverage,fuzzing",
           "--workers", "1", "--no-shrink", "--generation-database", "none", "--request-timeout", "30",
           "--exclude-path-regex", r"^/api/v1/tokens/\{token_id\}$", "--no-color",
           "--max-time", str(max_time), "-H", f"Authorization: {headers['Authorization']}", *filters]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    tail = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, tail
    cases = [ln for ln in proc.stdout.splitlines() if "generated" in ln and "passed" in ln]
    assert cases and "failed" not in cases[-1], tail


@pytest.mark.slow
def test_no_server_errors(live_node, tmp_path):
    """The sharing API's own routes (catalogue, ingest, products, releases, auth, admin)."""
    base, headers = live_node
    _schemathesis(base, headers, tmp_path, "--exclude-path-regex", OTHER_PACKAGES)


@pytest.mark.slow
def test_no_server_errors_in_mounted_routers(live_node, tmp_path, request):
    """Routers other packages mount into the app (exercise, web UI): the same promise holds."""
    if "postgresql" in request.node.name:
        pytest.skip("covered on SQLite; the routers' SQL goes through the same store functions")
    base, headers = live_node
    _schemathesis(base, headers, tmp_path, "--include-path-regex", OTHER_PACKAGES, max_time=25)
