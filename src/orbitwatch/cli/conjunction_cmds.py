"""``orbitwatch screen`` and ``orbitwatch conjunctions list|show``."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from orbitwatch.cli.common import DbOption, JsonOption, console, emit_json, err_console
from orbitwatch.cli.common import default_start as common_default_start
from orbitwatch.errors import OrbitwatchError, ValidationError

conj_app = typer.Typer(help="Re-read stored conjunctions.", no_args_is_help=True)

#: Data is "current" when its newest epoch is this close to now: the window then starts now.
CSV_FIELDS = ("norad1", "norad2", "tca", "miss_km", "relative_speed_kms", "r_km", "t_km", "n_km", "pc",
              "pc_max", "dilution_sigma_km", "flags", "covariance_source")


class Volume(StrEnum):
    sphere = "sphere"
    rtn_ellipsoid = "rtn-ellipsoid"
    rtn_box = "rtn-box"


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_cmd)
    app.add_typer(conj_app, name="conjunctions")


def _engine(db: str | None):
    from orbitwatch.settings import database_url
    from orbitwatch.store import open_engine

    return open_engine(database_url(db))


def elsets_from_rows(rows) -> tuple[list, dict]:
    """Element sets and their markings (per catalogue number) from ``element_sets`` rows."""
    from orbitwatch.store.base import marking_from_row
    from orbitwatch.store.queries import element_set_from_row

    elsets, markings = [], {}
    for row in rows:
        elsets.append(element_set_from_row(row))
        markings[int(row.norad_id)] = marking_from_row(row)
    return elsets, markings


def default_start(elsets, now: datetime | None = None) -> tuple[datetime, str | None]:
    """Now when the newest epoch is within :data:`CURRENT_DAYS` of now, else that epoch (with a warning)."""
    return common_default_start(max(e.epoch for e in elsets), now)


def _parse_rtn(text: str | None) -> tuple[float, float, float] | None:
    if text is None:
        return None
    try:
        parts = tuple(float(x) for x in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or not all(p > 0 for p in parts):
        raise ValidationError(f"--rtn {text!r}: expected three positive km values R,T,N such as 10,50,10",
                              field="rtn")
    return parts  # type: ignore[return-value]


def _parse_start(text: str) -> datetime:
    from orbitwatch.formats.records import parse_epoch

    try:
        return parse_epoch(text)
    except ValueError:
        raise ValidationError(f"--start {text!r}: expected ISO 8601 UTC such as 2023-10-09T00:00:00Z",
                              field="start") from None


def _read_catalogs(paths: list[Path]) -> list:
    from orbitwatch.formats import ElementSet, read_path

    elsets = []
    for p in paths:
        if not p.exists():
            raise ValidationError(f"no such file: {p}", file=str(p))
        res = read_path(p)
        for err in res.errors[:5]:
            err_console.print(f"[yellow]warning:[/] {err}")
        if len(res.errors) > 5:
            err_console.print(f"[yellow]warning:[/] {p}: {len(res.errors) - 5} more bad records skipped")
        recs = [r for r in res.records if isinstance(r, ElementSet)]
        if not recs:
            raise ValidationError("holds no element sets (TLE/3LE/OMM expected)", file=str(p))
        elsets.extend(recs)
    return elsets


def screen_cmd(
    catalog: Annotated[list[Path] | None, typer.Option("--catalog", help="Element-set files (TLE/3LE/OMM, gzip "
                                                       "ok) screened directly, without the store.")] = None,
    primary: Annotated[list[int] | None, typer.Option("--primary", help="Catalogue number screened against "
                                                      "all others (repeatable).")] = None,
    owner: Annotated[list[str] | None, typer.Option("--owner", help="Screen the objects of these partner "
                                                    "nations (trigraph, repeatable) against all others.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="All-vs-all (the default).")] = False,
    days: Annotated[float, typer.Option(help="Window length in days.")] = 7.0,
    threshold_km: Annotated[float, typer.Option("--threshold-km", help="Miss-distance threshold (sphere).")]
    = 5.0,
    volume: Annotated[Volume, typer.Option(help="Screening volume.")] = Volume.sphere,
    rtn: Annotated[str | None, typer.Option("--rtn", help="RTN semi-axes R,T,N in km for rtn volumes.")] = None,
    start: Annotated[str | None, typer.Option(help="Window start, ISO 8601 UTC (default: now for current "
                                                   "data, else the newest epoch).")] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: every core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="dask scheduler address, e.g. tcp://10.0.0.5:8786.")]
    = None,
    json_out: JsonOption = False,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    cdm_dir: Annotated[Path | None, typer.Option("--cdm-dir", help="Write one CCSDS CDM (KVN) per event.")]
    = None,
    no_pc: Annotated[bool, typer.Option("--no-pc", help="Skip Pc (faster).")] = False,
    db: DbOption = None,
) -> None:
    """Screen for close approaches: all-vs-all or one-vs-all, 7 days, 5 km by default."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from orbitwatch.conjunctions.screen import screen

    if sum(bool(x) for x in (primary, owner, all_)) > 1:
        err_console.print("[bold red]error:[/] give at most one of --primary, --owner and --all")
        raise typer.Exit(2)
    if sum(bool(x) for x in (json_out, csv_out, cdm_dir)) > 1:
        err_console.print("[bold red]error:[/] give at most one of --json, --csv and --cdm-dir")
        raise typer.Exit(2)
    try:
        rtn_km = _parse_rtn(rtn)
        if volume is not Volume.sphere and rtn_km is None:
            raise ValidationError(f"--volume {volume.value} needs --rtn R,T,N (km)", field="rtn")
        markings: dict = {}
        engine = None
        primaries: set[int] | None = set(primary) if primary else None
        hbr_m: dict[int, float] = {}
        if catalog:
            elsets = _read_catalogs(catalog)
            if owner:
                raise ValidationError("--owner needs the store (owner nations come from the SATCAT): drop "
                                      "--catalog, or name objects with --primary", field="owner")
        else:
            from orbitwatch.store.queries import latest_element_sets, search_objects

            engine = _engine(db)
            with engine.connect() as conn:
                elsets, markings = elsets_from_rows(latest_element_sets(conn))
                # hard-body radii (e.g. NASA CARA's estimates ingested with the SATCAT) for Pc
                hbr_m = {r.norad_id: r.hbr_m for r in search_objects(conn, limit=None)
                         if getattr(r, "hbr_m", None)}
                if owner:
                    primaries = set()
                    for nation in owner:
                        primaries |= {r.norad_id for r in search_objects(conn, owner_nation=nation.upper())}
                    if not primaries:
                        raise ValidationError(f"no objects owned by {', '.join(o.upper() for o in owner)} in "
                                              "the store", field="owner")
        if not elsets:
            raise ValidationError("no element sets to screen (ingest some, or give --catalog)")
        if start:
            t0 = _parse_start(start)
        else:
            t0, warning = default_start(elsets)
            if warning:
                err_console.print(f"[yellow]warning:[/] {warning}")
    except OrbitwatchError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err_console, transient=True,
                  disable=not err_console.is_terminal) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=1.0)
            progress.update(tasks[stage], completed=fraction)

        try:
            result = screen(elsets, start=t0, days=days, threshold_km=threshold_km, primaries=primaries,
                            volume=volume.value, rtn_km=rtn_km, workers=workers, scheduler=scheduler,
                            progress=on_progress, with_pc=not no_pc, hbr_m=hbr_m)
        except OrbitwatchError as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None

    for norad, msg in sorted(result.flags.items())[:10]:
        err_console.print(f"[yellow]flag:[/] {norad}: {msg}")
    if len(result.flags) > 10:
        err_console.print(f"[yellow]flag:[/] ... {len(result.flags) - 10} more objects flagged")
    if engine is not None:
        from orbitwatch.conjunctions.storage import save_events

        with engine.begin() as conn:
            run_id = save_events(conn, {
                "window_start": result.start, "window_end": result.end,
                "threshold_km": threshold_km if volume is Volume.sphere else None, "volume": volume.value,
                "rtn_km": rtn_km, "primaries": primaries, "objects": result.objects,
                "stage_seconds": result.stage_seconds, "flags": result.flags, "source": "store"},
                result.events, markings, epochs={e.norad_id: e.epoch.timestamp() for e in elsets})
        err_console.print(f"stored as screening run {run_id}")

    if json_out:
        for ev in result.events:
            emit_json(ev.as_dict())
    elif csv_out:
        w = csv.DictWriter(sys.stdout, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for ev in result.events:
            d = ev.as_dict()
            d["flags"] = ";".join(d["flags"])
            w.writerow(d)
    elif cdm_dir:
        n = write_cdms(result.events, elsets, cdm_dir, result)
        err_console.print(f"wrote {n} CDMs to {cdm_dir}")
    else:
        _table(result)


def write_cdms(events, elsets, folder: Path, result) -> int:
    """One CCSDS CDM (KVN) per event, states in GCRF and default-model RTN covariances."""
    import numpy as np

    from orbitwatch.conjunctions.screen import DEFAULT_HBR_M, event_covariances
    from orbitwatch.formats.cdm import cdm_from_conjunction, format_cdm_kvn
    from orbitwatch.kernels.frames import teme_to_gcrs

    folder.mkdir(parents=True, exist_ok=True)
    if not events:
        return 0
    cat = {e.norad_id: e for e in elsets}
    cov1, cov2, source = event_covariances(events, list(cat.values()))
    t = np.array([ev.tca_unix for ev in events])
    r1, v1 = teme_to_gcrs(np.array([ev.r1 for ev in events]), np.array([ev.v1 for ev in events]), t)
    r2, v2 = teme_to_gcrs(np.array([ev.r2 for ev in events]), np.array([ev.v2 for ev in events]), t)
    for k, ev in enumerate(events):
        a, b = cat[ev.norad1], cat[ev.norad2]
        cdm = cdm_from_conjunction(
            tca=ev.tca, r1_km=r1[k], v1_kms=v1[k], cov1_rtn=cov1[k], r2_km=r2[k], v2_kms=v2[k], cov2_rtn=cov2[k],
            object1_designator=str(ev.norad1), object1_name=a.object_name or "UNKNOWN",
            object2_designator=str(ev.norad2), object2_name=b.object_name or "UNKNOWN",
            object1_international_designator=a.object_id or "UNKNOWN",
            object2_international_designator=b.object_id or "UNKNOWN",
            ref_frame="GCRF", collision_probability=ev.pc,
            collision_probability_method="FOSTER-1992" if ev.pc is not None else None,
            hbr_m=ev.hbr_m or DEFAULT_HBR_M, covariance_method="DEFAULT",
            comments=[f"orbitwatch screening; covariance: {ev.covariance_source or source}",
                      *(f"flag: {f}" for f in ev.flags)],
            screen={"START_SCREEN_PERIOD": result.start, "STOP_SCREEN_PERIOD": result.end})
        (folder / f"{ev.norad1}_{ev.norad2}_{ev.tca:%Y%m%dT%H%M%S}{ev.tca.microsecond // 1000:03d}.cdm") \
            .write_text(format_cdm_kvn(cdm))
    return len(events)


def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _table(result) -> None:
    from rich.table import Table

    t = Table(title=f"{len(result.events)} conjunctions {result.start:%Y-%m-%d %H:%M} - "
                    f"{result.end:%Y-%m-%d %H:%M} UTC ({result.objects} objects)")
    for col in ("NORAD 1", "NORAD 2", "TCA (UTC)", "miss km", "v rel km/s", "R km", "T km", "N km", "Pc",
                "max Pc", "flags"):
        t.add_column(col)
    for ev in result.events[:200]:
        d = ev.as_dict()
        t.add_row(str(ev.norad1), str(ev.norad2), d["tca"], f"{ev.miss_km:.3f}", f"{ev.relative_speed_kms:.3f}",
                  f"{ev.r_km:.3f}", f"{ev.t_km:.3f}", f"{ev.n_km:.3f}", _fmt(ev.pc, ".2e"), _fmt(ev.pc_max, ".2e"),
                  ",".join(ev.flags))
    console.print(t)
    if len(result.events) > 200:
        console.print(f"... {len(result.events) - 200} more (use --json or --csv for all)")
    console.print("stage seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in result.stage_seconds.items()
                                                if "." not in k))


@conj_app.command("list")
def list_cmd(
    norad: Annotated[list[int] | None, typer.Option("--norad", help="Only events of these objects.")] = None,
    since: Annotated[str | None, typer.Option(help="TCA at or after (ISO 8601 UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="TCA at or before (ISO 8601 UTC).")] = None,
    run: Annotated[int | None, typer.Option("--run", help="Only this screening run.")] = None,
    max_miss_km: Annotated[float | None, typer.Option("--max-miss-km")] = None,
    min_pc: Annotated[float | None, typer.Option("--min-pc")] = None,
    limit: Annotated[int, typer.Option()] = 100,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Stored conjunctions, soonest TCA first."""
    from rich.table import Table

    from orbitwatch.conjunctions.storage import load_events

    try:
        s = _parse_start(since) if since else None
        u = _parse_start(until) if until else None
    except OrbitwatchError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    with _engine(db).connect() as conn:
        rows = load_events(conn, norad=norad or None, since=s, until=u, run_id=run, max_miss_km=max_miss_km,
                           min_pc=min_pc, limit=limit)
    if json_out:
        for r in rows:
            emit_json(_row_dict(r))
        return
    t = Table(title=f"{len(rows)} stored conjunctions")
    for col in ("id", "run", "NORAD 1", "NORAD 2", "TCA (UTC)", "miss km", "v rel km/s", "Pc", "flags", "marking"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r.id), str(r.run_id), str(r.norad1), str(r.norad2), r.tca, f"{r.miss_km:.3f}",
                  f"{r.relative_speed_kms:.3f}", _fmt(r.pc, ".2e"), r.flags or "", r.marking)
    console.print(t)


@conj_app.command("show")
def show_cmd(event_id: Annotated[int, typer.Argument(help="Stored conjunction id.")], json_out: JsonOption = False,
             db: DbOption = None) -> None:
    """One stored conjunction in full."""
    from orbitwatch.conjunctions.storage import get_event

    with _engine(db).connect() as conn:
        row = get_event(conn, event_id)
    if row is None:
        err_console.print(f"[bold red]error:[/] no stored conjunction {event_id}")
        raise typer.Exit(1)
    d = _row_dict(row)
    if json_out:
        emit_json(d)
        return
    for k, v in d.items():
        console.print(f"[bold]{k}[/]: {v}")


def _row_dict(r) -> dict:
    import json

    return {"id": r.id, "run_id": r.run_id, "norad1": r.norad1, "norad2": r.norad2, "tca": r.tca,
            "miss_km": r.miss_km, "relative_speed_kms": r.relative_speed_kms, "r_km": r.r_km, "t_km": r.t_km,
            "n_km": r.n_km, "pc": r.pc, "pc_max": r.pc_max, "dilution_sigma_km": r.dilution_sigma_km,
            "covariance_source": r.covariance_source, "flags": [f for f in (r.flags or "").split(",") if f],
            "state1": json.loads(r.state1) if r.state1 else None,
            "state2": json.loads(r.state2) if r.state2 else None,
            "marking": r.marking, "marking_reasons": r.marking_reasons}


__all__ = ["default_start", "elsets_from_rows", "register", "write_cdms"]
