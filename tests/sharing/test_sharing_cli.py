"""The command line: users, tokens, releases and audit verification (exit status and located messages)."""

from __future__ import annotations

import json

from sqlalchemy import update
from typer.testing import CliRunner

from orbitwatch.cli import app
from orbitwatch.markings import Marking
from orbitwatch.sharing.testing import MarkedRecord, insert_records
from orbitwatch.store.engine import open_engine
from orbitwatch.store.schema_sharing import audit_log

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_users_tokens_release_and_audit(sqlite_url):
    db = ["--db", sqlite_url]
    r = run("users", "add", "alice", "--nation", "GBR", "--clearance", "SECRET", "--role", "analyst", "--json", *db)
    assert r.exit_code == 0, r.output
    added = json.loads(r.output)
    assert added["nation"] == "GBR" and added["token"].startswith("ow_")
    r = run("users", "token", "alice", "--days", "7", "--json", *db)
    assert json.loads(r.output)["token"].startswith("ow_")
    r = run("users", "list", "--json", *db)
    listed = json.loads(r.output)
    assert [u["username"] for u in listed["users"]] == ["alice"] and len(listed["tokens"]) == 2
    assert all("token" not in t for t in listed["tokens"])

    engine = open_engine(sqlite_url)
    gbr_only = Marking.parse("SECRET//GBR EYES ONLY")
    insert_records(engine, [MarkedRecord(40001, gbr_only, gbr_only, "GBR")])
    r = run("release", "add", "object", "40001", "--to", "AUS", "--as", "alice", "--json", *db)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["nations_added"] == ["AUS"]

    r = run("audit", "verify", "--json", *db)
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(resource="user/mallory"))
    r = run("audit", "verify", *db)
    assert r.exit_code == 1
    assert "entry 2" in r.output and "modified" in r.output
    r = run("audit", "list", "--json", *db)
    actions = [json.loads(line)["action"] for line in r.output.splitlines()]
    assert actions == ["release", "token_issue", "token_issue", "user_add"]
    engine.dispose()


def test_revoked_user_and_bad_input(sqlite_url):
    db = ["--db", sqlite_url]
    run("users", "add", "bob", "--nation", "USA", *db)
    assert run("users", "revoke", "bob", *db).exit_code == 0
    r = runner.invoke(app, ["users", "token", "bob", *db])
    assert r.exit_code != 0 and "revoked" in str(r.exception)
    r = runner.invoke(app, ["users", "add", "carol", "--nation", "XYZ", *db])
    assert r.exit_code != 0 and "unknown nation" in str(r.exception)
