"""``orbitwatch norms report``: a per-actor behaviour report from the norms ledger.

From the database: the ledger entries stored by ``detect proximity`` and ``detect breakups``, plus the
catalogue disposal rules evaluated now (``--refresh``, stored). From ``--catalog`` files: breakups and
the disposal rules evaluated on the files alone.
"""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from orbitwatch.cli.common import DbOption, err_console

norms_app = typer.Typer(help="The norms-of-behaviour ledger.", no_args_is_help=True)


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(norms_app, name="norms")


@norms_app.command("report")
def report(
    format: Annotated[ReportFormat, typer.Option("--format", help="md, html or json.")] = ReportFormat.md,
    actor: Annotated[str | None, typer.Option(help="Only this actor (SATCAT owner code, e.g. CIS, PRC, US).")]
    = None,
    catalog: Annotated[list[Path] | None, typer.Option("--catalog", help="Element-set files instead of the "
                                                                          "database.")] = None,
    satcat: Annotated[list[Path] | None, typer.Option("--satcat", help="SATCAT files (owners, object types, "
                                                                       "launch dates).")] = None,
    rules: Annotated[Path | None, typer.Option(help="Rules YAML (default: the shipped norms_rules.yaml).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh/--no-refresh", help="Database: evaluate the catalogue "
                                                                         "disposal rules now and store them.")]
    = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: stdout).")] = None,
    db: DbOption = None,
) -> None:
    """Per-actor report of observed events against norms of responsible behaviour, with cited sources."""
    from orbitwatch.errors import ValidationError
    from orbitwatch.threats.norms import load_entries, load_rules, render_report, save_entries

    try:
        rs = load_rules(rules)
    except ValidationError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if catalog:
        entries = _from_files(catalog, satcat or [], rs)
    else:
        from orbitwatch.settings import database_url
        from orbitwatch.store import open_engine

        engine = open_engine(database_url(db))
        if refresh:
            fresh = _catalogue_rules_from_store(engine, rs)
            with engine.begin() as conn:
                save_entries(conn, fresh)
        with engine.connect() as conn:
            entries = load_entries(conn, actor=actor)
    text = render_report(entries, rs, fmt=format.value, actor=actor)
    if out is None:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    else:
        out.write_text(text)
        err_console.print(f"wrote {out}")


def _from_files(catalog, satcat, rs):
    from orbitwatch.threats.breakups import detect_breakups
    from orbitwatch.threats.norms import score_breakups, score_catalogue
    from orbitwatch.threats.sources import catalog_from_files

    missing = [str(p) for p in list(catalog) + list(satcat) if not p.exists()]
    if missing:
        err_console.print(f"[bold red]error:[/] no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    cat = catalog_from_files(catalog, satcat_paths=satcat)
    owners = {n: cat.owner(n) for n in cat.latest}
    breakups = detect_breakups(list(cat.latest.values()), histories=cat.histories, satcat=cat.satcat,
                               min_fragments=10)
    entries = score_breakups(breakups, rs, owners=owners, elsets=cat.latest)
    mans = _manoeuvre_epochs(cat.histories)
    entries += score_catalogue(_candidates(cat), rs, satcat=cat.satcat, manoeuvre_epochs=mans or None,
                               now_ts=cat.newest_epoch or time.time())
    return entries


def _candidates(cat):
    return [es for n, es in cat.latest.items()
            if (cat.satcat.get(n) or {}).get("object_type", "").upper() in ("PAYLOAD", "ROCKET BODY")]


def _manoeuvre_epochs(histories) -> dict[int, list[float]]:
    from orbitwatch.threats.manoeuvres import detect_manoeuvres

    out = {}
    for nid, hist in histories.items():
        if len(hist) >= 8:
            try:
                out[nid] = [m.epoch_ts for m in detect_manoeuvres(hist)]
            except Exception:  # noqa: BLE001 - one bad history must not stop the report
                continue
    return out


def _catalogue_rules_from_store(engine, rs):
    from orbitwatch.threats.norms import score_catalogue
    from orbitwatch.threats.sources import catalog_from_store

    cat = catalog_from_store(engine)
    return score_catalogue(_candidates(cat), rs, satcat=cat.satcat, now_ts=cat.newest_epoch or time.time(),
                           markings={n: cat.object_marking(n) for n in cat.latest if cat.object_marking(n)})
