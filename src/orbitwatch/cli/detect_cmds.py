"""``orbitwatch detect manoeuvres|proximity|breakups`` and ``orbitwatch alerts list|export-stix``.

Inputs come from ``--catalog FILE...`` (TLE/3LE/OMM, gzip ok; ``--satcat FILE...`` adds owners and
object types) or from the database (``--db``, default the configured one). With the database, every
detection is also stored as an alert (and, where a norms rule applies, a ledger entry); ``--no-store``
turns that off.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from orbitwatch.cli.common import DbOption, JsonOption, console, default_start, emit_json, err_console

detect_app = typer.Typer(help="Detect manoeuvres, proximity operations and breakups.", no_args_is_help=True)
alerts_app = typer.Typer(help="List and export alerts.", no_args_is_help=True)

CatalogOption = Annotated[list[Path] | None, typer.Option(
    "--catalog", help="Element-set files instead of the database (repeatable; several sets of one object "
                      "form its history).")]
SatcatOption = Annotated[list[Path] | None, typer.Option(
    "--satcat", help="SATCAT files giving owners and object types (with --catalog).")]
MarkingOption = Annotated[str, typer.Option(
    "--marking", help="Marking of the --catalog files' element sets (alerts derive theirs from it).")]
StoreOption = Annotated[bool, typer.Option("--store/--no-store", help="Store alerts and ledger entries "
                                                                       "(database mode only).")]


def register(app: typer.Typer) -> None:
    app.add_typer(detect_app, name="detect")
    app.add_typer(alerts_app, name="alerts")


def _parse_time(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    from orbitwatch.formats.records import parse_epoch

    try:
        return parse_epoch(text).timestamp()
    except ValueError:
        err_console.print(f"[bold red]error:[/] {option}: {text!r} is not an ISO 8601 time "
                          "(e.g. 2023-10-09 or 2023-10-09T12:00:00Z)")
        raise typer.Exit(2) from None


def _engine(db: str | None):
    from orbitwatch.settings import database_url
    from orbitwatch.store import open_engine

    return open_engine(database_url(db))


def _load(catalog, satcat, marking, db, **store_kw):
    """(Catalog, engine or None)."""
    from orbitwatch.errors import MarkingError
    from orbitwatch.markings import Marking
    from orbitwatch.threats.sources import catalog_from_files, catalog_from_store

    if catalog:
        missing = [str(p) for p in list(catalog) + list(satcat or []) if not p.exists()]
        if missing:
            err_console.print(f"[bold red]error:[/] no such file: {', '.join(missing)}")
            raise typer.Exit(2)
        try:
            mk = Marking.parse(marking)
        except MarkingError as exc:
            err_console.print(f"[bold red]error:[/] --marking: {exc}")
            raise typer.Exit(2) from None
        cat = catalog_from_files(catalog, marking=mk, satcat_paths=satcat or [])
        for e in cat.errors[:5]:
            err_console.print(f"[yellow]skipped:[/] {e}")
        if len(cat.errors) > 5:
            err_console.print(f"[yellow]skipped {len(cat.errors) - 5} more bad records[/]")
        return cat, None
    engine = _engine(db)
    return catalog_from_store(engine, **store_kw), engine


def _store(engine, alerts=(), entries=(), manoeuvres=(), prox=None) -> None:
    from orbitwatch.threats.alerts import save_alerts
    from orbitwatch.threats.norms import save_entries

    with engine.begin() as conn:
        if alerts:
            save_alerts(conn, alerts)
        if entries:
            save_entries(conn, entries)
        if manoeuvres:
            _save_manoeuvres(conn, manoeuvres)
        if prox is not None:
            _save_proximity(conn, *prox)


def _save_manoeuvres(conn, items) -> None:
    from orbitwatch.store.base import marking_values
    from orbitwatch.store.schema_threats import manoeuvres as t

    for m, mk in items:
        conn.execute(t.delete().where((t.c.norad_id == m.norad_id) & (t.c.start_ts == m.start_ts)))
        conn.execute(t.insert().values(norad_id=m.norad_id, start_ts=m.start_ts, end_ts=m.end_ts,
                                       epoch_ts=m.epoch_ts, kind=m.kind, delta_v_mps=m.delta_v_mps,
                                       confidence=m.confidence, payload=json.dumps(m.as_dict()),
                                       **marking_values(mk)))


def _save_proximity(conn, events, markings) -> None:
    from sqlalchemy import select

    from orbitwatch.store.base import marking_values
    from orbitwatch.store.schema_threats import proximity_events as t

    now = time.time()
    for ev in events:
        key = (t.c.asset == ev.asset) & (t.c.object == ev.object)
        old = conn.execute(select(t.c.first_seen_ts).where(key)).first()
        values = {"state": ev.state, "open": ev.state != "CLOSED", "last_seen_ts": now,
                  "closest_km": ev.closest_km, "tca_ts": ev.tca_ts, "sustained": ev.sustained,
                  "payload": json.dumps(ev.as_dict(), default=str), **marking_values(markings[ev.key])}
        if old is None:
            conn.execute(t.insert().values(asset=ev.asset, object=ev.object, first_seen_ts=now, **values))
        else:
            conn.execute(t.update().where(key).values(**values))


def _open_pairs(engine) -> set[tuple[int, int]]:
    from sqlalchemy import select

    from orbitwatch.store.schema_threats import proximity_events as t

    with engine.connect() as conn:
        return {(r.asset, r.object) for r in conn.execute(select(t.c.asset, t.c.object).where(t.c.open.is_(True)))}


# --------------------------------------------------------------------------------------------------
@detect_app.command("manoeuvres")
def manoeuvres_cmd(
    norad: Annotated[list[int] | None, typer.Option("--norad", help="Objects to analyse (repeatable).")] = None,
    all_objects: Annotated[bool, typer.Option("--all", help="Every object with an element-set history.")] = False,
    since: Annotated[str | None, typer.Option(help="Report manoeuvres ending after this time (ISO 8601); the "
                                                   "whole history still sets the noise statistics.")] = None,
    catalog: CatalogOption = None,
    satcat: SatcatOption = None,
    marking: MarkingOption = "UNCLASSIFIED",
    store: StoreOption = True,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Manoeuvres from element-set histories (SGP4 predict-and-compare, robust per-object noise)."""
    from orbitwatch.errors import PropagationError
    from orbitwatch.threats.alerts import from_manoeuvre
    from orbitwatch.threats.manoeuvres import detect_manoeuvres

    if not norad and not all_objects:
        err_console.print("[bold red]error:[/] say which objects: --norad N (repeatable) or --all")
        raise typer.Exit(2)
    since_ts = _parse_time(since, "--since")
    cat, engine = _load(catalog, satcat, marking, db, norad_ids=norad or None, with_history=True)
    ids = sorted(set(norad) if norad else set(cat.histories))
    found, alerts, stored = [], [], []
    for nid in ids:
        hist = cat.histories.get(nid)
        if not hist:
            err_console.print(f"[yellow]{nid}: fewer than two element sets, nothing to compare[/]")
            continue
        try:
            mans = detect_manoeuvres(hist, since=since_ts)
        except (PropagationError, ValueError) as exc:  # one bad history never stops a catalogue run
            err_console.print(f"[yellow]{nid}: {exc}[/]")
            continue
        for m in mans:
            found.append(m)
            a = from_manoeuvre(m, owner=cat.owner(nid), marking_of=cat.marking_of)
            alerts.append(a)
            stored.append((m, a.marking))
    if engine is not None and store:
        _store(engine, alerts=alerts, manoeuvres=stored)
    if json_out:
        for m in found:
            emit_json(m.as_dict())
        return
    _table("Manoeuvres", ["norad", "epoch", "window", "kind", "Δv m/s", "conf"],
           [[m.norad_id, m.epoch, f"{m.as_dict()['start']} .. {m.as_dict()['end']}", m.kind,
             f"{m.delta_v_mps:.3f}", f"{m.confidence:.2f}"] for m in found])


def _table(title, cols, rows) -> None:
    from rich.table import Table

    t = Table(title=title)
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[str(x) for x in r])
    console.print(t)


# --------------------------------------------------------------------------------------------------
@detect_app.command("proximity")
def proximity_cmd(
    asset: Annotated[list[int] | None, typer.Option("--asset", help="Protected assets (NORAD, repeatable).")] = None,
    owner: Annotated[list[str] | None, typer.Option("--owner", help="Protect every payload of these partner "
                                                                    "nations (trigraph, repeatable; default all ten).")]
    = None,
    start: Annotated[str | None, typer.Option(help="Window start (ISO 8601). Default: now if the newest element "
                                                   "set is at most 3 days old, else the newest epoch.")] = None,
    days: Annotated[float, typer.Option(help="Window length in days.")] = 7.0,
    history_from: Annotated[str | None, typer.Option("--history-from", help="Use element-set histories from this "
                                                                              "time for co-orbital analysis.")] = None,
    catalog: CatalogOption = None,
    satcat: SatcatOption = None,
    marking: MarkingOption = "UNCLASSIFIED",
    store: StoreOption = True,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Foreign objects inside protected assets' RTN volumes, sustained co-orbital approaches, GEO slots."""
    from orbitwatch.formats.records import TRIGRAPH_TO_OWNER_CODE
    from orbitwatch.threats import alerts as A
    from orbitwatch.threats.geo import drift_and_stop, neighbourhood
    from orbitwatch.threats.norms import load_rules, score_proximity
    from orbitwatch.threats.proximity import (
        build_events,
        co_orbital_analysis,
        find_approaches,
        merge_states,
        protected_assets,
    )

    hist_ts = _parse_time(history_from, "--history-from")
    if owner:
        bad = [o for o in owner if o.upper() not in TRIGRAPH_TO_OWNER_CODE]
        if bad:
            err_console.print(f"[bold red]error:[/] --owner {', '.join(bad)}: expected partner trigraphs "
                              f"{', '.join(sorted(TRIGRAPH_TO_OWNER_CODE))}")
            raise typer.Exit(2)
    cat, engine = _load(catalog, satcat, marking, db, history_from=hist_ts, with_history=hist_ts is not None)
    if not cat.latest:
        err_console.print("[bold red]error:[/] no element sets (ingest some, or give --catalog)")
        raise typer.Exit(2)
    ids = protected_assets(cat.satcat.values(), nations=owner, extra=asset or []) if (owner or not asset) \
        else set(asset)
    ids = {i for i in ids if i in cat.latest}
    if not ids:
        err_console.print("[bold red]error:[/] no protected asset with element sets: give --asset, or owners "
                          "via the database / --satcat")
        raise typer.Exit(2)
    start_ts = _parse_time(start, "--start")
    if start_ts is None:
        start_dt, warning = default_start(datetime.fromtimestamp(cat.newest_epoch, UTC))
        start_ts = start_dt.timestamp()
        if warning:
            err_console.print(f"[yellow]warning:[/] {warning}")
    assets = [cat.latest[i] for i in sorted(ids)]
    others = list(cat.latest.values())

    def pair_ok(a: int, o: int) -> bool:
        if a == o:
            return False
        oa, oo = cat.owner(a), cat.owner(o)
        return oa is None or oo is None or oa != oo

    owners = {n: o for n in cat.latest if (o := cat.owner(n)) is not None}
    approaches = find_approaches(assets, others, start_ts=start_ts, days=days, pair_ok=pair_ok, owners=owners)
    cos = []
    if cat.histories:
        from orbitwatch.threats.proximity import co_orbital_candidates

        with_hist = [cat.latest[n] for n in cat.histories if n in cat.latest]
        for a in assets:
            a_hist = cat.histories.get(a.norad_id, [a])
            for o in co_orbital_candidates(a, with_hist):
                if not pair_ok(a.norad_id, o.norad_id):
                    continue
                co = co_orbital_analysis(a_hist, cat.histories[o.norad_id], since_ts=hist_ts)
                if co is not None:
                    cos.append(co)
    regimes = {a.norad_id: a.regime for a in assets}
    owners = {n: cat.owner(n) for n in cat.latest}
    events = build_events(approaches, cos, regimes=regimes, owners=owners, elsets=cat.latest)
    # GEO slot neighbours that are not already events become events too (inside the slot box)
    have = {e.key for e in events}
    geo_nb = neighbourhood(assets, others, start_ts, pair_ok=pair_ok)
    from orbitwatch.threats.proximity import ProximityEvent

    for nb in geo_nb:
        if (nb.asset, nb.object) in have:
            continue
        speed = abs(nb.object_drift_deg_day) * 3.14159265 / 180.0 * 42164.0 / 86400.0
        events.append(ProximityEvent(nb.asset, nb.object, "DETECTED", nb.range_km, nb.t_ts, None, speed,
                                     False, True, 1, None, None, "GEO", owners.get(nb.asset), owners.get(nb.object)))
    ds_list = []
    if cat.histories:
        from orbitwatch.threats.geo import stopped_near

        geo_hist = [cat.latest[n] for n in cat.histories if n in cat.latest and cat.latest[n].regime == "GEO"]
        for a in (x for x in assets if x.regime == "GEO"):
            for o in stopped_near(a, geo_hist, start_ts):
                if pair_ok(a.norad_id, o.norad_id):
                    ds = drift_and_stop(cat.histories.get(a.norad_id, [a]), cat.histories[o.norad_id])
                    if ds is not None:
                        ds_list.append(ds)
    previous = _open_pairs(engine) if engine is not None else set()
    events = merge_states(events, previous)
    alerts = [A.from_proximity(ev, marking_of=cat.marking_of, elsets=cat.latest) for ev in events]
    alerts += [A.from_drift_and_stop(ds, owner=cat.owner(ds.object), marking_of=cat.marking_of, elsets=cat.latest)
               for ds in ds_list]
    entries = score_proximity(events, load_rules(), owners=owners,
                              markings={n: cat.object_marking(n) for n in cat.latest if cat.object_marking(n)})
    if engine is not None and store:
        marks = {ev.key: next(a.marking for a in alerts if a.dedupe_key == f"proximity:{ev.asset}:{ev.object}")
                 for ev in events}
        _store(engine, alerts=alerts, entries=entries, prox=(events, marks))
    if json_out:
        for ev in events:
            emit_json(ev.as_dict())
        for ds in ds_list:
            emit_json({"kind": "geo-drift-and-stop", **ds.as_dict()})
        return
    _table("Proximity", ["asset", "object", "state", "closest km", "TCA", "rel km/s", "sustained"],
           [[e.asset, e.object, e.state, "" if e.closest_km is None else f"{e.closest_km:.2f}",
             e.as_dict()["tca"] or "", "" if e.relative_speed_kms is None else f"{e.relative_speed_kms:.4f}",
             e.sustained] for e in events])
    for ds in ds_list:
        console.print(f"[bold]drift-and-stop[/] {ds.object} -> asset {ds.asset}: {ds.as_dict()}")


# --------------------------------------------------------------------------------------------------
@detect_app.command("breakups")
def breakups_cmd(
    since: Annotated[str | None, typer.Option(help="Only fragments first seen (database) or launched/catalogued "
                                                   "(files) after this time.")] = None,
    min_fragments: Annotated[int, typer.Option(help="Fragments needed to call a breakup.")] = 5,
    plots: Annotated[Path | None, typer.Option(help="Folder for Gabbard diagrams (PNG).")] = None,
    catalog: CatalogOption = None,
    satcat: SatcatOption = None,
    marking: MarkingOption = "UNCLASSIFIED",
    store: StoreOption = True,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Fragmentation events: designator bursts, event time by back-propagation, kind, Gabbard diagram."""
    from orbitwatch.threats.alerts import from_breakup
    from orbitwatch.threats.breakups import detect_breakups
    from orbitwatch.threats.norms import load_rules, score_breakups

    since_ts = _parse_time(since, "--since")
    cat, engine = _load(catalog, satcat, marking, db, first_seen=True)
    first_seen = cat.first_seen
    histories = dict(cat.histories)
    if engine is not None:
        # histories of possible parents: objects that are not debris, with sets from 60 days before since
        from orbitwatch.threats.sources import histories_from_store

        parents = [n for n, es in cat.latest.items() if "DEB" not in (es.object_name or "").upper()
                   and (cat.satcat.get(n) or {}).get("object_type", "PAYLOAD") != "DEBRIS"]
        if since_ts is not None:
            histories.update(histories_from_store(engine, parents, start=since_ts - 60 * 86400.0))
    if first_seen is None and since_ts is not None:
        first_seen = _first_seen_from_numbers(cat, since_ts)
    out = detect_breakups(list(cat.latest.values()), histories=histories, satcat=cat.satcat, since_ts=since_ts,
                          first_seen=first_seen if since_ts is not None else None, min_fragments=min_fragments,
                          plot_dir=plots)
    for b in out:
        if b.parent is not None:
            b.owner = b.owner or cat.owner(b.parent)
    alerts = [from_breakup(b, marking_of=cat.marking_of, elsets=cat.latest) for b in out]
    owners = {n: cat.owner(n) for n in cat.latest}
    entries = score_breakups(out, load_rules(), owners=owners, elsets=cat.latest,
                             markings={n: cat.object_marking(n) for n in cat.latest if cat.object_marking(n)})
    if engine is not None and store:
        _store(engine, alerts=alerts, entries=entries)
    if json_out:
        for b in out:
            emit_json(b.as_dict())
        return
    _table("Breakups", ["parent", "designator", "epoch", "fragments", "kind"],
           [[b.parent, b.designator, b.as_dict()["epoch"] or "undated", len(b.fragments), b.kind] for b in out])


def _first_seen_from_numbers(cat, since_ts: float) -> dict[int, float]:
    """Files carry no cataloguing date; NORAD numbers are issued in order, so every object numbered at or
    above the lowest number of an object launched after ``since`` was catalogued after it (launch
    dates from SATCAT, else the designator year)."""
    from orbitwatch.formats.records import parse_epoch

    floor = None
    year = datetime.fromtimestamp(since_ts, UTC).year
    for nid, info in cat.satcat.items():
        ld = info.get("launch_date")
        if ld:
            try:
                later = parse_epoch(ld).timestamp() >= since_ts
            except ValueError:
                later = False
        else:
            oid = info.get("object_id") or ""
            later = oid[:4].isdigit() and int(oid[:4]) >= year + 1
        if later and (floor is None or nid < floor):
            floor = nid
    if floor is None:
        return {}
    return {nid: (since_ts if nid >= floor else 0.0) for nid in cat.latest}


# --------------------------------------------------------------------------------------------------
@alerts_app.command("list")
def alerts_list(
    since: Annotated[str | None, typer.Option(help="Alerts updated at or after this time (ISO 8601).")] = None,
    kind: Annotated[str | None, typer.Option(help="manoeuvre, proximity, geo-neighbour, geo-drift-and-stop, "
                                                  "breakup or norms.")] = None,
    severity: Annotated[str | None, typer.Option(help="Minimum severity: info, low, medium, high, critical.")]
    = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Stored alerts, newest first."""
    from orbitwatch.threats.alerts import load_alerts

    engine = _engine(db)
    with engine.connect() as conn:
        try:
            rows = load_alerts(conn, since=_parse_time(since, "--since"), limit=limit, kind=kind, min_severity=severity)
        except ValueError as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None
    if json_out:
        for a in rows:
            emit_json(a.as_dict())
        return
    _table("Alerts", ["updated", "severity", "kind", "title", "marking"],
           [[a.as_dict()["updated"], a.severity, a.kind, a.title, str(a.marking)] for a in rows])


@alerts_app.command("export-stix")
def alerts_export_stix(
    since: Annotated[str | None, typer.Option(help="Alerts updated at or after this time (ISO 8601).")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind of alert.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the bundle here (default: stdout).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many alerts.")] = None,
    db: DbOption = None,
) -> None:
    """Alerts as a STIX 2.1 bundle (custom x-orbitwatch-space-event objects, TLP 2.0 and releasability markings)."""
    from orbitwatch.threats.alerts import load_alerts
    from orbitwatch.threats.stix import export_bundle

    engine = _engine(db)
    with engine.connect() as conn:
        rows = load_alerts(conn, since=_parse_time(since, "--since"), limit=limit, kind=kind)
    bundle = json.dumps(export_bundle(rows), indent=2)
    if out is None:
        sys.stdout.write(bundle + "\n")
    else:
        out.write_text(bundle + "\n")
        err_console.print(f"wrote {len(rows)} alerts to {out}")
