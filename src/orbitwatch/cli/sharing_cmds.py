"""``orbitwatch users|audit|release|serve``: identities, the audit chain, releases and the API server."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from orbitwatch.cli.common import DbOption, JsonOption, console, emit_json, err_console

users_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
release_app = typer.Typer(help="Widen the releasability of your nation's records.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(release_app, name="release")
    app.command("serve")(serve)


def _engine(db: str | None):
    from orbitwatch.settings import database_url
    from orbitwatch.store import open_engine

    return open_engine(database_url(db))


def _audit():
    from orbitwatch.settings import get_settings
    from orbitwatch.sharing.audit import AuditLog

    return AuditLog.from_secret(get_settings().secret_key)


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


# -- users -------------------------------------------------------------------------------------------
@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    nation: Annotated[str | None, typer.Option(help="Partner nation (trigraph), for national users.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Partner organisation (TLP data only).")] = None,
    clearance: Annotated[str, typer.Option(help="Highest classification the user may read.")] = "UNCLASSIFIED",
    role: Annotated[list[str] | None, typer.Option("--role", help="analyst, operator, exercise-control, "
                                                                  "admin (repeatable).")] = None,
    password: Annotated[bool, typer.Option("--password/--no-password",
                                           help="Prompt for a password (browser login).")] = False,
    token: Annotated[bool, typer.Option("--token/--no-token", help="Also issue an API token.")] = True,
    days: Annotated[float, typer.Option(help="Token lifetime in days.")] = 90.0,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a user (and print a first API token, shown once)."""
    from orbitwatch.settings import get_settings
    from orbitwatch.sharing import identity

    pw = typer.prompt("password", hide_input=True, confirmation_prompt=True) if password else None
    engine = _engine(db)
    orgs = tuple(getattr(get_settings(), "partner_organisations", ()) or ()) or None
    info = identity.create_user(engine, username, nation=nation, organisation=organisation,
                                clearance=clearance, roles=tuple(role or ["analyst"]), password=pw,
                                organisations=orgs, audit=_audit(), actor="cli")
    secret = None
    if token:
        secret, _ = identity.issue_token(engine, username, days=days, name="first", audit=_audit())
    if json_out:
        emit_json({**info.as_dict(), "token": secret})
        return
    who = info.nation or f"ORG {info.organisation}"
    console.print(f"added [bold]{info.username}[/] ({who}, {info.clearance}, {', '.join(info.roles)})")
    if secret:
        console.print(f"token (shown once): [bold]{secret}[/]")


@users_app.command("list")
def users_list(json_out: JsonOption = False, db: DbOption = None) -> None:
    """List users and their tokens (never the secrets)."""
    from orbitwatch.sharing import identity

    engine = _engine(db)
    with engine.connect() as conn:
        users = identity.list_users(conn)
        tokens = identity.list_tokens(conn)
    if json_out:
        emit_json({"users": [u.as_dict() for u in users], "tokens": [t.as_dict() for t in tokens]})
        return
    table = Table("user", "nation/org", "clearance", "roles", "created", "revoked", "live tokens")
    import time

    now = time.time()
    for u in users:
        live = sum(1 for t in tokens if t.username == u.username and t.revoked_at is None
                   and (t.expires_at is None or t.expires_at > now))
        table.add_row(u.username, u.nation or f"ORG {u.organisation}", u.clearance, ",".join(u.roles),
                      _when(u.created_at), _when(u.revoked_at), str(live))
    console.print(table)


@users_app.command("revoke")
def users_revoke(username: Annotated[str, typer.Argument()], db: DbOption = None) -> None:
    """Disable a user: its tokens and sessions stop working."""
    from orbitwatch.sharing import identity

    info = identity.revoke_user(_engine(db), username, audit=_audit())
    console.print(f"revoked {info.username} at {_when(info.revoked_at)}")


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str | None, typer.Option(help="A label for the token.")] = None,
    days: Annotated[float, typer.Option(help="Lifetime in days.")] = 90.0,
    revoke: Annotated[int | None, typer.Option(help="Revoke this token id instead of issuing one.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Issue a new API token for a user (printed once), or revoke one with --revoke ID."""
    from orbitwatch.sharing import identity

    engine = _engine(db)
    if revoke is not None:
        info = identity.revoke_token(engine, revoke, audit=_audit())
        if info.username != username:
            err_console.print(f"[yellow]note:[/] token {revoke} belonged to {info.username}")
        console.print(f"revoked token {info.id} ({info.prefix}...) of {info.username}")
        return
    secret, info = identity.issue_token(engine, username, name=name, days=days, audit=_audit())
    if json_out:
        emit_json({**info.as_dict(), "token": secret})
    else:
        console.print(secret, soft_wrap=True, highlight=False)


# -- audit -------------------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Check the whole chain; exit 1 and say where if any entry was modified, removed or reordered."""
    engine = _engine(db)
    with engine.connect() as conn:
        report = _audit().verify(conn)
    if json_out:
        emit_json(report.as_dict())
    elif report.ok:
        console.print(f"[green]audit chain intact[/]: {report.checked} entries, head {report.head_hash[:16]}...")
    else:
        err_console.print(f"[bold red]audit chain BROKEN[/]: {len(report.problems)} problem(s) in "
                          f"{report.checked} entries")
        for p in report.problems:
            err_console.print(f"  {p.kind:<9} {p.message}", markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    action: Annotated[str | None, typer.Option(help="Only this action (read, ingest, release, login...).")]
    = None,
    actor: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    limit: Annotated[int, typer.Option(help="How many entries (newest first).")] = 50,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The newest audit entries."""
    from orbitwatch.sharing.audit import AuditLog

    engine = _engine(db)
    with engine.connect() as conn:
        entries = AuditLog.entries(conn, action=action, actor=actor, limit=limit)
    if json_out:
        for e in entries:
            emit_json(e.as_dict())
        return
    table = Table("seq", "time (UTC)", "actor", "nation", "action", "resource", "detail")
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items())
        table.add_row(str(e.seq), _when(e.ts), e.actor, e.nation or "", e.action, e.resource or "",
                      detail[:80])
    console.print(table)


# -- releases ----------------------------------------------------------------------------------------
@release_app.command("add")
def release_add(
    target: Annotated[str, typer.Argument(help="element_set, object or batch")],
    key: Annotated[int, typer.Argument(help="Element set id, NORAD id or ingest batch id.")],
    to: Annotated[list[str], typer.Option("--to", help="Nation to release to (repeatable).")],
    as_user: Annotated[str, typer.Option("--as", help="The releasing user (of the originating nation).")],
    reason: Annotated[str | None, typer.Option(help="Why (kept with the release).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Release records your nation originated to more nations (recorded; visible at once)."""
    from orbitwatch.sharing import identity, releases

    engine = _engine(db)
    with engine.connect() as conn:
        principal = identity.get_user(conn, as_user).principal("cli")
    result = releases.release(engine, principal, target, key, to, reason=reason, audit=_audit())
    if json_out:
        emit_json(result.as_dict())
        return
    console.print(f"released {target} {key} to {', '.join(result.nations_added) or '(nobody new)'}: "
                  f"{result.records_widened} record(s)")
    for old, new in result.markings.items():
        console.print(f"  {old}  ->  {new}")


@release_app.command("list")
def release_list(as_user: Annotated[str, typer.Option("--as", help="Whose nation's releases.")],
                 limit: int = 50, json_out: JsonOption = False, db: DbOption = None) -> None:
    """Releases made by the user's nation."""
    from orbitwatch.sharing import identity, releases

    engine = _engine(db)
    with engine.connect() as conn:
        principal = identity.get_user(conn, as_user).principal("cli")
        rows = releases.list_releases(conn, principal, limit=limit)
    if json_out:
        for r in rows:
            emit_json(r)
        return
    table = Table("id", "when", "by", "table", "record", "added", "new marking")
    for r in rows:
        table.add_row(str(r["id"]), _when(r["created_at"]), r["released_by"], r["table_name"], r["record_key"],
                      r["added_nations"], r["new_marking"])
    console.print(table)


# -- serve -------------------------------------------------------------------------------------------
def run_server(url: str | None, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
               log_level: str = "info", access_log: bool = False) -> None:
    """Run the API under uvicorn (the factory is re-imported by each worker process)."""
    import uvicorn

    if url:
        os.environ["ORBITWATCH_DATABASE_URL"] = url
    from orbitwatch.settings import get_settings

    get_settings()  # refuse default secrets outside development before binding the port
    uvicorn.run("orbitwatch.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=access_log, proxy_headers=False)


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    from orbitwatch.settings import database_url

    url = database_url(db)
    _engine(url).dispose()  # create the schema once, before workers race to
    console.print(f"orbitwatch API on http://{host}:{port}/  (OpenAPI: /openapi.json, docs: /docs)")
    sys.stdout.flush()
    run_server(url, host=host, port=port, workers=workers, access_log=access_log)
