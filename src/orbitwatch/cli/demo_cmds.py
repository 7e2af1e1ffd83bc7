"""``orbitwatch demo``: the main job of ``make run`` on the embedded default database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from orbitwatch.cli.common import DbOption, console, err_console


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    db: DbOption = None,
    offline: Annotated[bool, typer.Option(help="Skip the live CelesTrak download; use the bundled demo.")]
    = False,
    serve: Annotated[bool, typer.Option(help="Start the web UI and API after loading.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Set up the database, load demo data if it is empty, print a summary, then serve."""
    from orbitwatch.demo.load import load_demo_data
    from orbitwatch.settings import database_url
    from orbitwatch.store import catalog_summary, count_objects, open_engine

    url = database_url(db)
    engine = open_engine(url)
    with engine.connect() as conn:
        empty = count_objects(conn) == 0
    if empty:
        with console.status("loading demo data (live CelesTrak if online, else the bundled demo)…"):
            loaded = load_demo_data(engine, offline=True if offline else None)
        console.print(f"loaded {loaded.note}: {loaded.report.accepted} records, "
                      f"{loaded.report.rejected} rejected")
        for e in loaded.report.errors[:10]:
            err_console.print(f"  [yellow]![/] {e}")
    with engine.connect() as conn:
        summary = catalog_summary(conn)
    _print_summary(url, summary)
    if not serve:
        return
    try:
        from orbitwatch.cli.sharing_cmds import run_server
        from orbitwatch.sharing.demo import seed_demo_users
    except ImportError:
        console.print("[dim]the API is not part of this build yet; nothing to serve[/]")
        return
    from orbitwatch.sharing.demo import demo_username

    tokens = seed_demo_users(engine)
    console.print(f"\n[bold]orbitwatch[/] serving on [link]http://{host}:{port}/[/] (API docs at /docs)")
    console.print("demo users: log in to the web UI with the user name and the token as password, or send "
                  "'Authorization: Bearer <token>' to the API")
    names = {"admin": "admin", "exercise-control": "excon"}
    for who, token in tokens.items():
        console.print(f"  {who:<17} {names.get(who) or demo_username(who):<14} {token}")
    run_server(url, host=host, port=port)


def _print_summary(url: str, s: dict) -> None:
    def when(ts):
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"

    console.print(f"[bold]catalogue[/] {url}")
    console.print(f"  objects {s['objects']:,}   element sets {s['element_sets']:,}   "
                  f"epochs {when(s['first_epoch_ts'])} … {when(s['last_epoch_ts'])}")
    for title, key in (("by type", "by_type"), ("by regime", "by_regime"), ("partner-owned", "by_partner_owner")):
        parts = ", ".join(f"{'non-partner' if k == 'UNKNOWN' and key == 'by_partner_owner' else k} {v:,}"
                          for k, v in sorted(s[key].items(), key=lambda kv: -kv[1]))
        console.print(f"  {title}: {parts}")
