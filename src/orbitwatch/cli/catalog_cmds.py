"""``orbitwatch ingest`` and ``orbitwatch catalog list|show|history|export``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from orbitwatch.cli.common import DbOption, JsonOption, console, emit_json, err_console
from orbitwatch.errors import MarkingError, ValidationError

catalog_app = typer.Typer(help="Browse and export the catalogue.", no_args_is_help=True)


class InputFormat(StrEnum):
    auto = "auto"
    tle = "tle"
    omm = "omm"
    satcat = "satcat"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    tle = "tle"
    omm = "omm"


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.add_typer(catalog_app, name="catalog")


def _url(db: str | None) -> str:
    if db:  # what database_url() returns for it; orbitwatch.settings imports pydantic-settings (~0.07 s)
        return db
    from orbitwatch.settings import database_url

    return database_url(db)


def _engine(db: str | None):
    from orbitwatch.store import open_engine

    return open_engine(_url(db))


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files: TLE/3LE, OMM (KVN/XML/JSON/CSV), SATCAT CSV; "
                                                     "gzip is read directly.")],
    format: Annotated[InputFormat, typer.Option("--format", help="Force a format (default: detect).")]
    = InputFormat.auto,
    source: Annotated[str, typer.Option(help="Provenance: celestrak, space-track, or a sensor network.")]
    = "unknown",
    nation: Annotated[str | None, typer.Option(help="Contributing nation (ISO trigraph).")] = None,
    marking: Annotated[str, typer.Option(help="Marking for every record, e.g. "
                                              "'UNCLASSIFIED//REL TO USA, GBR'.")] = "UNCLASSIFIED",
    strict: Annotated[bool, typer.Option(help="All-or-nothing per file: any bad record rejects the file.")]
    = False,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Ingest element sets and catalogue records (transactional, idempotent, per-record errors)."""
    from orbitwatch.markings import Marking

    try:
        mark = Marking.parse(marking)
        if nation:
            mark.check_originator(nation.upper())
    except MarkingError as exc:
        err_console.print(f"[bold red]error:[/] --marking: {exc}")
        raise typer.Exit(2) from None
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err_console.print(f"[bold red]error:[/] no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    url = _url(db)
    # Before the store is imported: the child reads while this process imports and writes.
    prefetch = _Prefetch.start(paths, format.value, stage=url.split(":", 1)[0].split("+", 1)[0])
    try:
        from orbitwatch.store import ingest_paths, open_engine

        engine = open_engine(url)
        with _progress(enabled=not json_out and err_console.is_terminal) as on_progress:
            report = ingest_paths(engine, paths, fmt=format.value, source=source,
                                  nation=nation.upper() if nation else None, marking=mark, strict=strict,
                                  user="cli", progress=on_progress,
                                  prefetched=prefetch.get if prefetch is not None else None)
    finally:
        if prefetch is not None:
            prefetch.close()
    if json_out:
        emit_json({"accepted": report.accepted, "duplicates": report.duplicates,
                   "rejected": report.rejected, "errors": [e.as_dict() for e in report.errors]})
    else:
        note = " (strict: files with errors were not written)" if strict and report.rejected else ""
        console.print(f"accepted [bold]{report.accepted}[/], duplicates {report.duplicates}, "
                      f"rejected [bold]{report.rejected}[/] in {report.seconds:.2f} s{note}")
        for e in report.errors[:200]:
            err_console.print(f"  [red]✗[/] {e}")
        if len(report.errors) > 200:
            err_console.print(f"  … and {len(report.errors) - 200} more (use --json for all)")
    if report.rejected:
        raise typer.Exit(1)


class _Prefetch:
    """The command's SATCAT files read in a second process (forked before this one imports the store)
    while this one imports the store, creates the schema and writes the files before them: the machine
    has two cores, and a SATCAT file is a third of a catalogue-plus-SATCAT ingest's work.

    The child also prepares the file's object rows for the store: for SQLite a scratch SQLite file
    (:func:`~orbitwatch.formats.satcat.stage_object_rows`) that the ingest attaches and merges by SQL,
    for PostgreSQL the body of a text ``COPY`` (:func:`~orbitwatch.formats.satcat.copy_object_rows`) into
    the merge's staging table; for another store it sends the table as read. Either way the ingest
    itself - one transaction per file, in order, with the same records and located errors - is
    unchanged: the child only reads, and anything it cannot do (another format, an unreadable file, a
    failure, a crash) leaves that file and the ones after it to be read here as without it.
    """

    def __init__(self, pid: int, rfd: int, scratch: str) -> None:
        import pickle

        self.pid = pid
        self.scratch = scratch
        self._pipe = os.fdopen(rfd, "rb")
        self._load = pickle.load
        self._live = True

    @classmethod
    def start(cls, paths: Sequence[Path], fmt: str, *, stage: str | None) -> _Prefetch | None:
        """Fork the reader; ``stage``: the store's SQL dialect (``sqlite``, ``postgresql``), or None."""
        import tempfile
        import threading

        # fork() copies only the calling thread: with others running (none in the command line at this
        # point) the child could inherit a lock held for ever. Linux only: macOS system libraries (numpy's
        # Accelerate among them) are not fork-safe, which is why Python spawns there.
        if (not sys.platform.startswith("linux") or threading.active_count() > 1
                or fmt not in ("auto", "satcat")):
            return None
        # What both processes need (the readers, numpy) imported once, before the fork; the store's
        # own imports (SQLAlchemy) are the parent's to do while the child reads.
        import orbitwatch.formats.detect
        import orbitwatch.formats.satcat
        import orbitwatch.formats.tle_fast  # noqa: F401

        scratch = tempfile.mkdtemp(prefix="orbitwatch-ingest-")
        rfd, wfd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(rfd)
            _prefetch_child(list(paths), fmt, scratch, stage, wfd)
        os.close(wfd)
        return cls(pid, rfd, scratch)

    def get(self, path: str | Path):
        """The next path's read result from the child, or None (read it here)."""
        if not self._live:
            return None
        try:
            name, result = self._load(self._pipe)
        except Exception:  # noqa: BLE001 - the child died or the stream is bad: read the rest here
            self._live = False
            return None
        if name != str(path):  # out of step (cannot happen while paths come in order): read the rest here
            self._live = False
            return None
        return result

    def close(self) -> None:
        import shutil
        import signal

        self._pipe.close()
        done, _ = os.waitpid(self.pid, os.WNOHANG)
        if done == 0:  # still reading something the ingest no longer needs (it stopped early)
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _prefetch_child(paths: list[Path], fmt: str, scratch: str, stage: str | None, wfd: int) -> NoReturn:
    """Body of the prefetch process: one ``(path, result or None)`` message per path, in order."""
    import signal

    status = 0
    try:
        import pickle

        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once, whatever it is doing
        # It writes only to its pipe: whoever reads the command's output must not wait for it as well.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        from orbitwatch.formats.detect import read_path
        from orbitwatch.formats.satcat import SatcatTable, copy_object_rows, stage_object_rows

        with os.fdopen(wfd, "wb") as out:
            for i, path in enumerate(paths):
                result = None
                try:
                    # (a TLE file: the ingest streams it itself)
                    got = None if fmt == "auto" and _sniff(path) == "tle" else read_path(
                        path, fmt, tle_table=True, satcat_table=True)
                    if got is not None and isinstance(got.table, SatcatTable) and not got.records:
                        if stage == "sqlite":
                            got.table = stage_object_rows(got.table, os.path.join(scratch, f"{i}.sqlite"))
                        elif stage == "postgresql":
                            got.table = copy_object_rows(got.table)
                        result = got
                except Exception:  # noqa: BLE001 - the ingest reads this file itself and reports what is wrong
                    result = None
                pickle.dump((str(path), result), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
    except BaseException:  # noqa: BLE001 - the parent reads whatever is left itself
        status = 1
    finally:
        os._exit(status)  # no atexit handlers, no flushing of the parent's buffers


def _sniff(path: Path) -> str | None:
    """The format of a file's first 64 KiB (decompressed): a TLE file, which the ingest reads as it
    writes, is then not read here for nothing. A guess only: a file it misjudges is read by the ingest."""
    import zlib

    from orbitwatch.formats.detect import detect_format

    try:
        with open(path, "rb") as f:
            head = f.read(65536)
        if head[:2] == b"\x1f\x8b":
            head = zlib.decompressobj(wbits=31).decompress(head, 65536)
        return detect_format(head)
    except Exception:  # noqa: BLE001 - no guess
        return None


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on the terminal, or none (``--json``, output not a terminal): then rich.progress is
    not even imported (a twentieth of a second of a scripted ingest's start-up)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as progress:
        task = progress.add_task("ingest", total=None)

        def on_progress(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        yield on_progress


def _filters(owner, object_type, regime, name):
    out = {}
    if owner:
        # A partner trigraph (GBR) or a SATCAT owner code (UK, PRC, CIS ...).
        key = "owner_nation" if len(owner) == 3 and owner.upper() in _trigraphs() else "owner"
        out[key] = owner.upper()
    if object_type:
        out["object_type"] = object_type.upper()
    if regime:
        out["regime"] = regime.upper()
    if name:
        out["name"] = name
    return out


def _trigraphs():
    from orbitwatch.markings import ALL_NATIONS

    return ALL_NATIONS


OwnerOpt = Annotated[str | None, typer.Option(help="Owner: partner trigraph (GBR) or SATCAT code (PRC).")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="PAYLOAD, ROCKET BODY, DEBRIS or UNKNOWN.")]
RegimeOpt = Annotated[str | None, typer.Option(help="LEO, MEO, GEO or HEO.")]
NameOpt = Annotated[str | None, typer.Option(help="Name contains (case-insensitive).")]


@catalog_app.command("list")
def catalog_list(owner: OwnerOpt = None, object_type: TypeOpt = None, regime: RegimeOpt = None,
                 name: NameOpt = None, limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
                 output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
                 json_out: JsonOption = False, db: DbOption = None) -> None:
    """List objects (with their latest element set for TLE/OMM output)."""
    from orbitwatch.store import latest_element_sets, search_objects

    engine = _engine(db)
    filters = _filters(owner, object_type, regime, name)
    if json_out:
        output = OutputFormat.json
    with engine.connect() as conn:
        if output in (OutputFormat.tle, OutputFormat.omm):
            rows = latest_element_sets(conn, limit=limit, **filters)
            _write_elsets(rows, output)
            return
        objects = search_objects(conn, limit=limit, **filters)
    if output == OutputFormat.json:
        for r in objects:
            emit_json(dict(r._mapping))
        return
    from rich.table import Table

    table = Table("NORAD", "COSPAR", "name", "type", "owner", "regime", "perigee km", "apogee km", "marking")
    for r in objects:
        table.add_row(str(r.norad_id), r.object_id or "", r.name or "", r.object_type or "", r.owner or "",
                      r.regime or "", _km(r.perigee_km), _km(r.apogee_km), _short(r))
    console.print(table)


def _short(row) -> str:
    from orbitwatch.store.base import marking_from_row

    return marking_from_row(row).short()


def _km(v) -> str:
    return "" if v is None else f"{v:,.0f}"


@catalog_app.command("show")
def catalog_show(norad: int, json_out: JsonOption = False, db: DbOption = None) -> None:
    """One object: catalogue data and its latest element set."""
    from orbitwatch.store import get_object, latest_element_sets

    engine = _engine(db)
    with engine.connect() as conn:
        obj = get_object(conn, norad)
        latest = latest_element_sets(conn, norad_ids=[norad])
    if obj is None:
        err_console.print(f"[bold red]error:[/] object {norad} not found")
        raise typer.Exit(1)
    data = dict(obj._mapping)
    data["latest_element_set"] = dict(latest[0]._mapping) if latest else None
    if json_out:
        emit_json(data)
        return
    for k, v in data.items():
        if k != "latest_element_set" and v is not None:
            console.print(f"[bold]{k}[/]: {v}")
    if latest:
        console.print("[bold]latest element set[/]:")
        console.print(latest[0].original or "")


@catalog_app.command("history")
def catalog_history(norad: int,
                    since: Annotated[str | None, typer.Option(help="ISO start epoch.")] = None,
                    until: Annotated[str | None, typer.Option(help="ISO end epoch.")] = None,
                    output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.table,
                    json_out: JsonOption = False, db: DbOption = None) -> None:
    """Every element set of one object over an epoch range."""
    from orbitwatch.store import element_set_history

    start = _ts(since, "--since")
    end = _ts(until, "--until")
    engine = _engine(db)
    with engine.connect() as conn:
        rows = element_set_history(conn, norad, start=start, end=end)
    if json_out:
        output = OutputFormat.json
    if output != OutputFormat.table:
        _write_elsets(rows, output)
        return
    from rich.table import Table

    table = Table("epoch (UTC)", "SMA km", "ecc", "inc", "RAAN", "source", "marking")
    for r in rows:
        table.add_row(r.epoch, f"{r.semi_major_axis_km:.3f}", f"{r.eccentricity:.7f}", f"{r.inclination:.4f}",
                      f"{r.raan:.4f}", r.source, _short(r))
    console.print(table)


@catalog_app.command("export")
def catalog_export(owner: OwnerOpt = None, object_type: TypeOpt = None, regime: RegimeOpt = None,
                   name: NameOpt = None,
                   output: Annotated[OutputFormat, typer.Option("--output", "-o")] = OutputFormat.tle,
                   db: DbOption = None) -> None:
    """Export the latest element set of every matching object (TLE, OMM or JSON) to stdout."""
    from orbitwatch.store import latest_element_sets

    engine = _engine(db)
    with engine.connect() as conn:
        rows = latest_element_sets(conn, **_filters(owner, object_type, regime, name))
    _write_elsets(rows, output)


def _ts(text: str | None, option: str) -> float | None:
    if text is None:
        return None
    from orbitwatch.formats.records import parse_epoch

    try:
        return parse_epoch(text).timestamp()
    except ValueError:
        err_console.print(f"[bold red]error:[/] {option}: {text!r} is not an ISO 8601 time")
        raise typer.Exit(2) from None


def _write_elsets(rows, output: OutputFormat) -> None:
    out = sys.stdout
    if output == OutputFormat.json or output == OutputFormat.table:
        for r in rows:
            emit_json(dict(r._mapping))
        return
    from orbitwatch.store import element_set_from_row

    elsets = [element_set_from_row(r) for r in rows]
    if output == OutputFormat.tle:
        from orbitwatch.formats.tle import format_tle

        for es in elsets:
            try:
                out.write(format_tle(es, name_line=True) + "\n")
            except ValidationError as exc:
                err_console.print(f"[yellow]skipped[/] {es.norad_id}: {exc}")
        return
    from orbitwatch.formats import omm

    out.write(omm.format_omm_kvn(elsets) if hasattr(omm, "format_omm_kvn") else "")
