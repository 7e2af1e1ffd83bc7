"""Transactional, idempotent ingest of element sets and catalogue (SATCAT) records.

* One database transaction per input file: a crash (even ``kill -9``) leaves either the whole file or
  none of it; SQLite's WAL and PostgreSQL's MVCC make the commit atomic.
* Idempotent: an element set is identified by its object, epoch, a digest of its elements and its
  marking, so ingesting the same file twice adds nothing the second time.
* Partial batches: good records load, each bad one is reported with file, line, field and reason.
  ``strict=True`` makes a file all-or-nothing.
* Object rows are kept per (marking, originating nation): a source's SATCAT fields are readable exactly
  by whoever may read that source's records, never by the union of everyone who described the object.
  Readers who may read several descriptions of an object get one composed row (see
  :func:`refresh_object_views`).

Bulk paths, column-wise from :class:`~orbitwatch.formats.tle_fast.ElsetTable` (numpy for the arithmetic,
no Python object per record beyond the values a row holds); a TLE file is read chunk by chunk on a worker
thread while the previous chunk is written. SQLite: ``executemany`` of positional tuples with the batch's
constants written into the statement. PostgreSQL: binary ``COPY`` straight into the table after dropping
the sets it already holds (a concurrent duplicate falls back to ``INSERT ... ON CONFLICT DO NOTHING``).
The ORM is not used here: it costs more per row than parsing. docs/architecture.md ("The store in
detail") gives the reasons and the figures.
"""

from __future__ import annotations

import hashlib
import queue
import struct
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice, repeat
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from orbitwatch._gc import gc_paused
from orbitwatch.errors import MarkingError, RecordError, ValidationError
from orbitwatch.formats.detect import ReadResult, read_bytes, read_path
from orbitwatch.formats.omm import csv_header  # noqa: F401 - detection needs it: imported once, not per file
from orbitwatch.formats.records import ElementSet, SatcatRecord
from orbitwatch.formats.satcat import (
    OBJECT_FIELDS,
    SatcatTable,
    StagedObjects,
    satcat_layout,  # noqa: F401 - (idem)
    satcat_object_rows,
)
from orbitwatch.formats.tle_fast import ElsetTable, TleReader
from orbitwatch.formats.tle_fast import regimes as _regimes
from orbitwatch.markings import DEFAULT_SCHEME, NATIONS, Marking, combine, nation_bit, nations_from_mask
from orbitwatch.store.base import marking_values
from orbitwatch.store.engine import deferred_checkpoint
from orbitwatch.store.schema import (
    FIELD_TIME_COLUMNS,
    element_sets,
    ingest_batches,
    space_object_times,
    space_objects,
)

_WGS72_MU = 398600.8
_EARTH_RADIUS_KM = 6378.135

ELSET_COLUMNS = (
    "norad_id", "epoch_ts", "epoch", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
    "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot", "classification_type",
    "ephemeris_type", "element_set_no", "rev_at_epoch", "object_name", "object_id", "semi_major_axis_km",
    "perigee_km", "apogee_km", "regime", "source", "nation", "source_format", "batch_id", "ingested_at",
    "file_line", "original", "digest", "marking", "class_rank", "rel_mask", "data_mode", "tlp", "orgs",
)

#: The descriptive fields of an object row (what SATCAT files carry; element sets give the first two and
#: ``regime``).
SATCAT_FIELDS = OBJECT_FIELDS
_MARKING_KEYS = ("marking", "class_rank", "rel_mask", "data_mode", "tlp", "orgs")
_CHUNK = 20_000  # rows per executemany call / progress report


@dataclass
class IngestReport:
    """What an ingest did. ``ok`` is False when anything was rejected. ``stages`` holds seconds per step
    (read, rows, element_sets, objects, views, commit) for benchmarks; it is not part of :meth:`as_dict`."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    objects_updated: int = 0
    errors: list[RecordError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def add(self, other: IngestReport) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.objects_updated += other.objects_updated
        self.errors.extend(other.errors)
        self.files.extend(other.files)
        self.seconds += other.seconds
        for k, v in other.stages.items():
            self.stages[k] = self.stages.get(k, 0.0) + v

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected,
                "objects_updated": self.objects_updated,
                "errors": [e.as_dict() for e in self.errors]}


BatchHook = Callable[[Connection, dict], None]


def ingest_paths(engine: Engine, paths: Iterable[str | Path], *, fmt: str = "auto", source: str = "unknown",
                 nation: str | None = None, marking: Marking | None = None, strict: bool = False,
                 user: str | None = None, on_batch: BatchHook | None = None,
                 progress: Callable[[str, int, int], None] | None = None,
                 prefetched: Callable[[str | Path], ReadResult | None] | None = None) -> IngestReport:
    """Ingest files (any format :func:`orbitwatch.formats.read_path` reads), one transaction each.

    ``on_batch(conn, batch)`` runs inside each file's transaction (the audit log uses it so that the
    record of an ingest commits or rolls back with the ingest itself). ``prefetched(path)``, called once
    per path in order, may return the file already read elsewhere (the command line reads SATCAT files
    in a second process): what :func:`read_path` would return, or, for a SATCAT file, a result whose
    ``table`` is a :class:`~orbitwatch.formats.satcat.StagedObjects` staged for this kind of store; None to
    read it here.
    """
    report = IngestReport()
    for path in paths:
        t0 = time.perf_counter()
        try:
            result = prefetched(path) if prefetched is not None else None
            if result is not None and isinstance(result.table, StagedObjects) and not result.table.fits(
                    engine.dialect.name):
                result = None  # staged for another kind of store
            if result is None:
                result = read_path(path, fmt=fmt, tle_table=True, satcat_table=True)
        except ValidationError as exc:
            err = RecordError(exc.file or str(path), exc.line, exc.field, exc.reason)
            report.add(IngestReport(rejected=1, errors=[err], files=[str(path)]))
            continue
        read_s = time.perf_counter() - t0  # a TLE file: lines found and paired (its records read while writing)
        one = _ingest(engine, result.table, result.records, result.errors, file=str(path), fmt=result.format,
                      source=source, nation=nation, marking=marking, strict=strict, user=user,
                      on_batch=on_batch, progress=progress)
        one.stages = {**one.stages, "read": read_s + one.stages.get("read", 0.0)}
        one.seconds += read_s
        report.add(one)
    return report


def ingest_bytes(engine: Engine, data: bytes, name: str, *, fmt: str = "auto", source: str = "upload",
                 nation: str | None = None, marking: Marking | None = None, strict: bool = False,
                 user: str | None = None, on_batch: BatchHook | None = None) -> IngestReport:
    """Ingest an uploaded document (the API's path); same rules as :func:`ingest_paths`."""
    try:
        result = read_bytes(data, name, fmt=fmt, tle_table=True, satcat_table=True)
    except ValidationError as exc:
        return IngestReport(rejected=1, errors=[RecordError(exc.file or name, exc.line, exc.field,
                                                            exc.reason)], files=[name])
    return _ingest(engine, result.table, result.records, result.errors, file=name, fmt=result.format,
                   source=source, nation=nation, marking=marking, strict=strict, user=user, on_batch=on_batch)


def ingest_records(engine: Engine, records: Sequence[ElementSet | SatcatRecord] | ElsetTable,
                   errors: Sequence[RecordError] = (), *, file: str | None = None, fmt: str | None = None,
                   source: str = "unknown", nation: str | None = None, marking: Marking | None = None,
                   strict: bool = False, user: str | None = None, on_batch: BatchHook | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    """Store parsed records (element sets, SATCAT records, or an :class:`ElsetTable`) in one transaction."""
    if isinstance(records, ElsetTable):
        return _ingest(engine, records, [], errors, file=file, fmt=fmt, source=source, nation=nation,
                       marking=marking, strict=strict, user=user, on_batch=on_batch, progress=progress)
    return _ingest(engine, None, records, errors, file=file, fmt=fmt, source=source, nation=nation,
                   marking=marking, strict=strict, user=user, on_batch=on_batch, progress=progress)


def _read_all(reader: TleReader) -> ElsetTable:
    table = ElsetTable.concat(list(reader.chunks()))
    rest, order = reader.rest()
    return ElsetTable.concat([table, rest]).take(order) if len(rest) else table


def _ingest(engine: Engine, table: ElsetTable | TleReader | SatcatTable | StagedObjects | None,
            records: Sequence[ElementSet | SatcatRecord],
            errors: Sequence[RecordError], *, file: str | None, fmt: str | None, source: str,
            nation: str | None, marking: Marking | None, strict: bool, user: str | None,
            on_batch: BatchHook | None, progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    t0 = time.perf_counter()
    marking = marking or Marking()
    if nation is not None:
        marking.check_originator(nation)
    stages: dict[str, float] = {}
    satcat: SatcatTable | None = None
    staged: StagedObjects | None = None
    if isinstance(table, SatcatTable):
        satcat, table = table, None
    elif isinstance(table, StagedObjects):
        staged, table = table, None
    reader = table if isinstance(table, TleReader) else None
    if reader is not None and (strict or records):
        # Whole file first: strict mode must see every error before writing anything.
        t = time.perf_counter()
        table, reader = _read_all(reader), None
        stages["read"] = time.perf_counter() - t
    report = IngestReport(rejected=len(errors), errors=list(errors), files=[file] if file else [], stages=stages)
    if strict and errors:
        report.seconds = time.perf_counter() - t0
        return report  # all-or-nothing: nothing written
    with gc_paused():
        if records:
            elsets = [r for r in records if isinstance(r, ElementSet)]
            described = [r for r in records if isinstance(r, SatcatRecord)]
            if described:
                parts = satcat.to_records() if satcat is not None else []
                satcat = SatcatTable.from_records([*parts, *described], described[0].source_format, file)
            if elsets:
                parts = [table] if isinstance(table, ElsetTable) and len(table) else []
                table = ElsetTable.concat([*parts, ElsetTable.from_elsets(elsets)])
        if isinstance(table, ElsetTable) and not len(table):
            table = None
        now = time.time()
        mv = marking_values(marking)
        t = time.perf_counter()
        cols = _elset_columns(table, mv["marking"]) if isinstance(table, ElsetTable) else None
        stages["rows"] = time.perf_counter() - t
        with engine.connect() as conn, _attached(conn, staged), deferred_checkpoint(engine, conn), conn.begin():
            t = time.perf_counter()
            batch_id = conn.execute(insert(ingest_batches).values(
                file=file, format=fmt, source=source, nation=nation, user=user, started_at=now,
                **mv)).inserted_primary_key[0]
            touched: set[int] = set()
            consts = {"source": source, "nation": nation, "batch_id": batch_id, "ingested_at": now, **mv}
            lo = conn.execute(select(func.coalesce(func.max(element_sets.c.id), 0))).scalar_one()
            total = inserted = 0
            in_order = True
            if reader is not None:
                # Read and write at once: the next chunk is parsed while this one is inserted.
                table, total, inserted, in_order = _stream_elsets(conn, reader, mv["marking"], consts, progress)
                report.rejected += len(reader.errors)
                report.errors.extend(reader.errors)
            elif cols is not None:
                total = len(cols["norad_id"])
                inserted = _insert_elsets(conn, cols, consts, progress, set())
            report.accepted += inserted
            report.duplicates += total - inserted
            stages["element_sets"] = time.perf_counter() - t
            t = time.perf_counter()
            if table is not None and len(table):
                all_new = (lo, batch_id) if inserted == total and in_order else None
                report.objects_updated += _objects_from_elsets(conn, table, marking, source, nation, now, touched,
                                                               all_new)
            if satcat is not None and len(satcat):
                report.accepted += len(satcat)
                report.objects_updated += _objects_from_satcat(conn, satcat, marking, source, nation, now,
                                                               touched)
            if staged is not None and len(staged):
                report.accepted += len(staged)
                report.objects_updated += _objects_from_staged(conn, staged, marking, source, nation, now, touched)
            stages["objects"] = time.perf_counter() - t
            t = time.perf_counter()
            _refresh_views_after_write(conn, touched, marking, nation)
            conn.execute(update(ingest_batches).where(ingest_batches.c.id == batch_id).values(
                finished_at=time.time(), accepted=report.accepted, duplicates=report.duplicates,
                rejected=report.rejected))
            if on_batch is not None:
                on_batch(conn, {"batch_id": batch_id, "file": file, "format": fmt, "source": source,
                                "nation": nation, "user": user, "marking": str(marking),
                                **report.as_dict()})
            stages["views"] = time.perf_counter() - t
            t = time.perf_counter()
        stages["commit"] = time.perf_counter() - t
    report.seconds = time.perf_counter() - t0
    return report


@contextmanager
def _attached(conn: Connection, staged: StagedObjects | None):
    """A staged SATCAT file attached (read-only use) to a SQLite connection as ``ow_staged`` around the
    transaction: SQLite attaches and detaches only outside one."""
    if staged is None or staged.path is None or conn.dialect.name != "sqlite" or not staged.norad_ids:
        yield
        return
    raw = conn.connection.driver_connection
    raw.execute("ATTACH DATABASE ? AS ow_staged", (staged.path,))
    try:
        yield
    finally:
        raw.execute("DETACH DATABASE ow_staged")


_STOP = object()


def _stream_elsets(conn: Connection, reader: TleReader, marking_text: str, consts: dict[str, Any],
                   progress: Callable[[str, int, int], None] | None = None) -> tuple[ElsetTable, int, int, bool]:
    """Insert a file's element sets chunk by chunk while a worker thread reads the next chunk (numpy
    and the database both release the GIL for much of their work, and the machine has two cores).

    Returns the whole table (for the object rows), how many sets there were, how many were new, and
    whether they were inserted in (object, epoch) order.
    """
    chunks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    plan = _elset_plan(conn, consts, "tle")  # every record of a TLE file is source_format "tle"

    def prepare(part: ElsetTable) -> tuple[ElsetTable, dict[str, list], Iterable[tuple]]:
        cols = _elset_columns(part, marking_text, sort=False)
        return part, cols, _elset_tuples(cols, plan, consts)

    def put(item: Any) -> bool:
        while not stop.is_set():  # the writer may have failed and stopped reading
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for part in reader.chunks(first=2048):  # a small first chunk: the writer starts sooner
                if not put(prepare(part)):
                    return
            rest, _ = reader.rest()  # records only the scalar reader took: they come last, out of order
            if put(prepare(rest) if len(rest) else None):
                put(_STOP)
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, which re-raises it
            put(exc)

    worker = threading.Thread(target=produce, name="orbitwatch-ingest-reader", daemon=True)
    worker.start()
    parts: list[ElsetTable] = []
    seen: set = set()
    total = inserted = 0
    in_order = True
    last_key: tuple[int, int] | None = None
    try:
        while True:
            item = chunks.get()
            if item is _STOP:
                break
            if isinstance(item, BaseException):
                raise item
            if item is None:
                continue
            part, cols, rows = item
            parts.append(part)
            norad, eus = part.norad_id, part.epoch_us
            in_order = in_order and _is_sorted(norad, eus) and (
                last_key is None or (int(norad[0]), int(eus[0])) >= last_key)
            last_key = (int(norad[-1]), int(eus[-1]))
            total += len(part)
            inserted += _write_elsets(conn, plan, cols, rows, None, seen)
            if progress:
                progress("insert", total, max(total, reader.records))
    finally:
        stop.set()
        worker.join()
    return ElsetTable.concat(parts), total, inserted, in_order


def _is_sorted(norad: np.ndarray, eus: np.ndarray) -> bool:
    return len(norad) < 2 or bool(np.all(norad[1:] >= norad[:-1])
                                  and np.all((norad[1:] > norad[:-1]) | (eus[1:] >= eus[:-1])))


# ------------------------------------------------------------------------------------------ element sets
_DIGEST_LAYOUT = struct.Struct("<qd8d")
_DIGEST_FIELDS = ("mean_motion", "eccentricity", "inclination", "raan", "arg_perigee", "mean_anomaly", "bstar",
                  "mean_motion_dot")


def elset_digest(es: ElementSet, marking_text: str = "") -> bytes:
    """Identity of an element set: object, epoch, the mean elements (bit-exact) *and its marking*.

    The marking is part of the identity so that a nation uploading a set another nation holds under a
    narrower marking gets its own copy, and is never told "duplicate" about a record it may not read.
    BLAKE2b-128 of the packed values and the marking text (16 bytes; the hex form is what earlier
    versions stored).
    """
    packed = _DIGEST_LAYOUT.pack(es.norad_id, es.epoch_unix, *(getattr(es, f) for f in _DIGEST_FIELDS))
    return hashlib.blake2b(packed + marking_text.encode(), digest_size=16).digest()


def _digests(t: ElsetTable, epoch_ts: np.ndarray, marking_text: str) -> list[bytes]:
    """:func:`elset_digest` of every row: the records packed side by side by numpy, one hash call each."""
    mark = marking_text.encode()
    layout = np.dtype([("n", "<i8"), ("t", "<f8"), ("e", "<f8", (8,)), ("m", f"S{max(len(mark), 1)}")])
    packed = np.empty(len(t), dtype=layout)
    packed["n"] = t.norad_id
    packed["t"] = epoch_ts
    packed["e"] = np.column_stack([getattr(t, f) for f in _DIGEST_FIELDS])
    packed["m"] = mark
    size = _DIGEST_LAYOUT.size + len(mark)  # an empty marking text would leave one pad byte out
    data = packed.tobytes()  # slices of bytes hash twice as fast as memoryview slices
    step = layout.itemsize
    b2 = hashlib.blake2b
    return [b2(data[i:i + size], digest_size=16).digest() for i in range(0, len(data), step)]


def _elset_columns(t: ElsetTable, marking_text: str, *, sort: bool = True) -> dict[str, list]:
    """The per-row values of ``element_sets`` (everything but the batch's constants), as lists, in the
    index's order (object, epoch) unless ``sort`` is False: the B-tree then appends instead of
    inserting at random."""
    if sort and not _is_sorted(t.norad_id, t.epoch_us):
        t = t.take(np.lexsort((t.epoch_us, t.norad_id)))
    ts = t.epoch_unix
    n = t.mean_motion * (2.0 * np.pi / 86400.0)
    sma = np.cbrt(_WGS72_MU / (n * n))
    ecc = t.eccentricity
    fmt = t.source_format
    out: dict[str, list] = {
        "norad_id": t.norad_id.tolist(), "epoch_ts": ts.tolist(),
        "epoch": np.datetime_as_string(t.epoch_us.astype("datetime64[us]"), unit="us").tolist(),
        "mean_motion": t.mean_motion.tolist(), "eccentricity": ecc.tolist(), "inclination": t.inclination.tolist(),
        "raan": t.raan.tolist(), "arg_perigee": t.arg_perigee.tolist(), "mean_anomaly": t.mean_anomaly.tolist(),
        "bstar": t.bstar.tolist(), "mean_motion_dot": t.mean_motion_dot.tolist(),
        "mean_motion_ddot": t.mean_motion_ddot.tolist(), "classification_type": t.classification_type,
        "ephemeris_type": t.ephemeris_type.tolist(), "element_set_no": t.element_set_no,
        "rev_at_epoch": t.rev_at_epoch, "object_name": t.object_name, "object_id": t.object_id,
        "semi_major_axis_km": sma.tolist(), "perigee_km": (sma * (1.0 - ecc) - _EARTH_RADIUS_KM).tolist(),
        "apogee_km": (sma * (1.0 + ecc) - _EARTH_RADIUS_KM).tolist(),
        "regime": _regimes(t.mean_motion, ecc).tolist(),
        "source_format": fmt,
        "file_line": t.line, "original": t.original, "digest": _digests(t, ts, marking_text),
    }
    return out


@dataclass(frozen=True)
class _ElsetPlan:
    """How one batch's element sets are written, fixed before any row is built (so that a worker thread
    can build rows while the writer writes): the statement and which columns each row tuple carries."""

    sql: str
    columns: tuple[str, ...]  # the values of each row tuple, in order
    pg: bool
    types: tuple[str, ...] = ()  # PostgreSQL binary COPY types of ``columns``


def _elset_plan(conn: Connection, consts: dict[str, Any], source_format: str | None = None) -> _ElsetPlan:
    names = ", ".join(f'"{c}"' for c in ELSET_COLUMNS)
    if conn.dialect.name == "postgresql":
        return _ElsetPlan(f"COPY element_sets ({names}) FROM STDIN (FORMAT BINARY)", ELSET_COLUMNS, True,
                          tuple(_pg_types(element_sets, ELSET_COLUMNS, conn.dialect)))
    # SQLite: ``INSERT OR IGNORE`` (the unique index makes re-ingest a no-op) with the batch's constants
    # written into the statement: binding the same ten values 26,000 times is a tenth of the insert.
    if source_format is not None:
        consts = {**consts, "source_format": source_format}
    literal = {k: lit for k, v in consts.items() if (lit := _sql_literal(v)) is not None}
    values = [literal.get(c, "?") for c in ELSET_COLUMNS]
    return _ElsetPlan(f"INSERT OR IGNORE INTO element_sets ({names}) VALUES ({', '.join(values)})",
                      tuple(c for c in ELSET_COLUMNS if c not in literal), False)


def _elset_tuples(cols: dict[str, list], plan: _ElsetPlan, consts: dict[str, Any]) -> Iterable[tuple]:
    """The rows, in ``plan.columns`` order: a list for PostgreSQL (filtered, then copied), a lazy ``zip``
    for SQLite (each tuple made as it is bound and freed at once: less memory, faster)."""
    n = len(cols["norad_id"])
    rows = zip(*[cols[c] if c in cols else repeat(consts[c], n) for c in plan.columns], strict=True)
    return list(rows) if plan.pg else rows


def _insert_elsets(conn: Connection, cols: dict[str, list], consts: dict[str, Any],
                   progress: Callable[[str, int, int], None] | None, seen: set) -> int:
    """Insert the sets not stored yet; ``seen`` collects the keys of this batch across calls (PostgreSQL)."""
    fmt = cols["source_format"]
    plan = _elset_plan(conn, consts, fmt[0] if fmt and fmt.count(fmt[0]) == len(fmt) else None)
    return _write_elsets(conn, plan, cols, _elset_tuples(cols, plan, consts), progress, seen)


def _write_elsets(conn: Connection, plan: _ElsetPlan, cols: dict[str, list], rows: Iterable[tuple],
                  progress: Callable[[str, int, int], None] | None, seen: set) -> int:
    if plan.pg:
        return _pg_write_elsets(conn, plan, cols, list(rows), progress, seen)
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    before = raw.total_changes
    n = len(cols["norad_id"])
    rows = iter(rows)
    for i in range(0, n, _CHUNK):
        cur.executemany(plan.sql, islice(rows, _CHUNK))
        if progress:
            progress("insert", min(i + _CHUNK, n), n)
    cur.close()
    return raw.total_changes - before


def _sql_literal(value: Any) -> str | None:
    """``value`` as an SQLite literal, or None when it is better bound (text with NUL, odd floats)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if np.isfinite(value) else None
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


_PG_TYPES = {"INTEGER": "int4", "BIGINT": "int8", "FLOAT": "float8", "DOUBLE PRECISION": "float8", "TEXT": "text",
             "VARCHAR": "text", "BYTEA": "bytea"}


def _pg_types(table, columns: Sequence[str], dialect) -> list[str]:
    out = []
    for c in columns:
        ddl = table.c[c].type.compile(dialect=dialect).split("(")[0].upper()
        out.append(_PG_TYPES[ddl])
    return out


def _pg_write_elsets(conn: Connection, plan: _ElsetPlan, cols: dict[str, list], rows: list[tuple],
                     progress: Callable[[str, int, int], None] | None, seen: set) -> int:
    """Binary COPY straight into ``element_sets`` of the sets it does not hold yet.

    Sets already stored are found first (one index probe per set); a concurrent ingest of the same sets
    between that check and the COPY makes the COPY fail on the unique index, and the batch then takes the
    slow path (COPY into a temporary table, ``INSERT ... ON CONFLICT DO NOTHING``) from a savepoint.
    """
    import psycopg

    raw = conn.connection.driver_connection
    keep = _pg_new_rows(raw, cols, seen)
    if keep is not None:
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
    n_new = len(rows)
    names = ", ".join(f'"{c}"' for c in ELSET_COLUMNS)
    types = list(plan.types)
    with raw.cursor() as cur:
        cur.execute("SAVEPOINT ow_copy")
        try:
            _pg_copy(cur, plan.sql, types, rows, progress)
        except psycopg.errors.UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT ow_copy")
            cur.execute("CREATE TEMPORARY TABLE _ow_load (LIKE element_sets INCLUDING DEFAULTS) ON COMMIT DROP")
            _pg_copy(cur, f"COPY _ow_load ({names}) FROM STDIN (FORMAT BINARY)", types, rows, progress)
            cur.execute(f"INSERT INTO element_sets ({names}) SELECT {names} FROM _ow_load "
                        "ON CONFLICT (norad_id, epoch_ts, digest) DO NOTHING")
            n_new = cur.rowcount
            cur.execute("DROP TABLE _ow_load")
        else:
            cur.execute("RELEASE SAVEPOINT ow_copy")
    return n_new


def _pg_copy(cur, sql: str, types: list[str], rows: list[tuple],
             progress: Callable[[str, int, int], None] | None) -> None:
    with cur.copy(sql) as copy:
        copy.set_types(types)
        write = copy.write_row
        for i, row in enumerate(rows, start=1):
            write(row)
            if progress and i % _CHUNK == 0:
                progress("copy", i, len(rows))


def _pg_new_rows(raw, cols: dict[str, list], seen: set) -> list[bool] | None:
    """Which rows are new (not stored, not earlier in the batch: ``seen``); None when all are."""
    norad, ts, dig = cols["norad_id"], cols["epoch_ts"], cols["digest"]
    keys = list(zip(norad, ts, dig, strict=True))
    with raw.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM element_sets)")
        if cur.fetchone()[0]:
            # LATERAL: one probe of the unique index per set, whatever the planner thinks of the array.
            cur.execute("SELECT u.n, u.t, x.digest FROM unnest(%s::int4[], %s::float8[]) AS u(n, t) "
                        "CROSS JOIN LATERAL (SELECT e.digest FROM element_sets e "
                        "WHERE e.norad_id = u.n AND e.epoch_ts = u.t) AS x", (norad, ts))
            seen.update((a, b, bytes(c)) for a, b, c in cur.fetchall())
    if seen.isdisjoint(keys) and len(set(keys)) == len(keys):
        seen.update(keys)
        return None
    keep = []
    for k in keys:
        keep.append(k not in seen)
        seen.add(k)
    return keep


# ----------------------------------------------------------------------------------------------- objects
def _objects_from_elsets(conn: Connection, t: ElsetTable, marking: Marking, source: str, nation: str | None,
                         now: float, touched: set[int], batch: tuple[int, int] | None) -> int:
    """Describe the batch's objects under its marking: designator and name (where the description has
    none yet) and the regime of the newest set of each object in the batch (of sets with the same
    epoch, the last in the file).

    ``batch`` = (highest element-set id before this batch, batch id) when every set of the batch was
    new: a first description of these objects is then copied by the database from the rows it has just
    stored, with no value passing through Python again.
    """
    norad, eus = t.norad_id, t.epoch_us
    objects = set(norad.tolist())  # (np.unique would import numpy.ma on first use: 10 ms of a first ingest)
    touched.update(objects)
    mv = marking_values(marking)
    so = space_objects
    if batch is not None and conn.execute(select(so.c.row_id).where(_same_group(so, mv["marking"], nation))
                                          .limit(1)).first() is None:
        return _objects_from_new_rows(conn, batch, marking, source, nation, now, one_each=len(objects) == len(norad))
    order = np.lexsort((np.arange(len(norad)), eus, norad))  # newest epoch last; of equal ones, the last
    ns = norad[order]
    last = order[np.r_[ns[1:] != ns[:-1], True]]
    regimes = _regimes(t.mean_motion[last], t.eccentricity[last]).tolist()
    ids = norad[last].tolist()
    rows = list(zip(ids, [t.object_id[i] for i in last.tolist()], [t.object_name[i] for i in last.tolist()],
                    regimes, strict=True))
    return _write_descriptions(conn, ("object_id", "name", "regime"), rows, marking, source, nation, now,
                               fill_only=("object_id", "name"))


def _objects_from_new_rows(conn: Connection, batch: tuple[int, int], marking: Marking, source: str,
                           nation: str | None, now: float, *, one_each: bool = False) -> int:
    """First descriptions of the batch's objects, by ``INSERT ... SELECT`` from its element-set rows
    (``one_each``: every object has one set in the batch, the usual catalogue file)."""
    lo, batch_id = batch
    mv = marking_values(marking)
    cols = ("norad_id", "object_id", "name", "regime", "source", "nation", "updated_at", *_MARKING_KEYS,
            "n_sources", "multi")
    consts = (source, nation, now, *(mv[k] for k in _MARKING_KEYS), 1, 0)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur:
            cur.execute(f"INSERT INTO space_objects ({_names(cols)}) SELECT norad_id, object_id, object_name, regime, "
                        f"{', '.join(['%s'] * len(consts))} FROM (SELECT DISTINCT ON (norad_id) norad_id, "
                        "object_id, object_name, regime FROM element_sets WHERE id > %s AND batch_id = %s "
                        "ORDER BY norad_id, epoch_ts DESC, id DESC) AS newest", (*consts, lo, batch_id))
            return cur.rowcount
    # SQLite: the batch's rows have the ids after ``lo``, in (object, epoch) order, so the newest set of
    # an object is the row whose next id belongs to another object (every row, when each object has one).
    newest = "" if one_each else (" AND NOT EXISTS (SELECT 1 FROM element_sets f WHERE f.id = e.id + 1 "
                                  "AND f.norad_id = e.norad_id)")
    cur = raw.cursor()
    cur.execute(f"INSERT INTO space_objects ({_names(cols)}) SELECT e.norad_id, e.object_id, e.object_name, "
                f"e.regime, {', '.join('?' * len(consts))} FROM element_sets e WHERE e.id > ?{newest}",
                (*consts, lo))
    n = cur.rowcount
    cur.close()
    return n


def _objects_from_satcat(conn: Connection, t: SatcatTable, marking: Marking, source: str, nation: str | None,
                         now: float, touched: set[int]) -> int:
    """Describe the objects of a SATCAT table under the batch's marking, column by column."""
    fields, rows = satcat_object_rows(t)
    touched.update(r[0] for r in rows)
    return _write_descriptions(conn, fields, rows, marking, source, nation, now, fill_only=())


def _objects_from_staged(conn: Connection, staged: StagedObjects, marking: Marking, source: str,
                         nation: str | None, now: float, touched: set[int]) -> int:
    """Describe the objects a SATCAT file staged elsewhere (:class:`StagedObjects`): in a scratch SQLite
    file, which a SQLite store has attached as ``ow_staged``, or as ``COPY`` text for PostgreSQL; the
    same statements as rows staged by this process."""
    touched.update(staged.norad_ids)
    if not staged.norad_ids:
        return 0
    if conn.dialect.name == "postgresql" and staged.copy_text is not None:
        return _write_descriptions(conn, staged.fields, [], marking, source, nation, now, fill_only=(),
                                   staged_copy=staged.copy_text)
    if conn.dialect.name == "sqlite" and staged.path is not None:
        return _write_descriptions(conn, staged.fields, [], marking, source, nation, now, fill_only=(),
                                   staged_table="ow_staged.objects")
    return _write_descriptions(conn, staged.fields, staged.rows(), marking, source, nation, now, fill_only=())


def _same_group(so, marking_text: str, nation: str | None):
    """Base rows of one (marking, originating nation) group: the rows an ingest under them may write."""
    return (so.c.n_sources == 1) & (so.c.marking == marking_text) & so.c.nation.is_not_distinct_from(nation)


def _write_descriptions(conn: Connection, fields: Sequence[str], rows: list[tuple], marking: Marking,
                        source: str, nation: str | None, now: float, *, fill_only: Sequence[str],
                        staged_table: str | None = None, staged_copy: bytes | None = None) -> int:
    """Insert or update the batch's object descriptions (rows ``(norad_id, *fields)``, one per object) in
    the base rows of its (marking, nation) group. Fields in ``fill_only`` only fill gaps; the others take
    the new value when it is not null. Returns how many rows were written.

    ``staged_table`` (SQLite): the rows are already in that table (``norad_id`` its integer primary key,
    then ``fields``); ``staged_copy`` (PostgreSQL): the rows as the body of a text ``COPY``; either way
    ``rows`` is not used."""
    if not rows and staged_table is None and staged_copy is None:
        return 0
    mv = marking_values(marking)
    so = space_objects
    pg = conn.dialect.name == "postgresql"
    group_exists = conn.execute(select(so.c.row_id).where(_same_group(so, mv["marking"], nation)).limit(1)).first()
    insert_cols = ("norad_id", *fields, "source", "nation", "updated_at", *_MARKING_KEYS, "n_sources", "multi")
    tail = (source, nation, now, *(mv[k] for k in _MARKING_KEYS), 1, 0)
    if group_exists is None and not (pg and staged_copy is not None):  # first descriptions: plain inserts
        if pg:
            full = [(*r, *tail) for r in rows]
            with conn.connection.driver_connection.cursor() as cur:
                _pg_copy(cur, f"COPY space_objects ({_names(insert_cols)}) FROM STDIN (FORMAT BINARY)",
                         _pg_types(so, insert_cols, conn.dialect), full, None)
            return len(rows)
        return _sqlite_insert_objects(conn, insert_cols, rows, tail, staged_table)
    if not pg:
        return _sqlite_merge_descriptions(conn, fields, rows, mv["marking"], nation, now, fill_only, insert_cols,
                                          tail, staged_table)
    # PostgreSQL: stage the batch (COPY), match it to existing rows, update what changed, insert the rest.
    stage_cols = ("norad_id", *fields)
    col_types = {c: so.c[c].type.compile(dialect=conn.dialect) for c in fields}
    ddl = ", ".join(f'"{c}" {col_types[c]}' for c in fields)
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.execute(f"CREATE TEMPORARY TABLE _ow_objects (norad_id int4 PRIMARY KEY, {ddl}) ON COMMIT DROP")
        if staged_copy is not None:
            with cur.copy(f"COPY _ow_objects ({_names(stage_cols)}) FROM STDIN") as copy:
                copy.write(staged_copy)
        else:
            _pg_copy(cur, f"COPY _ow_objects ({_names(stage_cols)}) FROM STDIN (FORMAT BINARY)",
                     _pg_types(so, stage_cols, conn.dialect), rows, None)
        distinct, ph = "IS DISTINCT FROM", "%s"
        if group_exists is None:  # (staged COPY text) first descriptions under this marking
            cur.execute(f"INSERT INTO space_objects ({_names(insert_cols)}) SELECT {_names(stage_cols)}, "
                        f"{', '.join([ph] * len(tail))} FROM _ow_objects ORDER BY norad_id", tail)
            written = cur.rowcount
            cur.execute("DROP TABLE _ow_objects")
            return written
        # The group's rows, matched in the statements themselves (updating the staged rows with the ids
        # they match would write every one of them again); of two alike, the newest.
        group = ("SELECT norad_id, max(row_id) AS row_id FROM space_objects WHERE n_sources = 1 AND marking = %s "
                 "AND nation IS NOT DISTINCT FROM %s GROUP BY norad_id")
        sets, changed = _merge_terms(fields, fill_only, distinct)
        _record_field_times(cur, fields, fill_only, changed, f"FROM _ow_objects t JOIN ({group}) g ON "
                            "g.norad_id = t.norad_id JOIN space_objects ON space_objects.row_id = g.row_id",
                            (mv["marking"], nation), now, pg=True)
        cur.execute(f"UPDATE space_objects SET {', '.join(sets)}, updated_at = {ph} FROM _ow_objects t "
                    f"JOIN ({group}) g ON g.norad_id = t.norad_id "
                    f"WHERE space_objects.row_id = g.row_id AND ({' OR '.join(changed)})",
                    (now, mv["marking"], nation))
        written = cur.rowcount
        cur.execute(f"INSERT INTO space_objects ({_names(insert_cols)}) SELECT {_names(stage_cols)}, "
                    f"{', '.join([ph] * len(tail))} FROM _ow_objects t WHERE NOT EXISTS (SELECT 1 FROM "
                    "space_objects so WHERE so.norad_id = t.norad_id AND so.n_sources = 1 AND so.marking = %s "
                    "AND so.nation IS NOT DISTINCT FROM %s) ORDER BY norad_id", (*tail, mv["marking"], nation))
        written += cur.rowcount
        cur.execute("DROP TABLE _ow_objects")
    finally:
        cur.close()
    return written


def _sqlite_insert_objects(conn: Connection, insert_cols: Sequence[str], rows: list[tuple], tail: tuple,
                           staged_table: str | None = None) -> int:
    cur = conn.connection.driver_connection.cursor()
    try:
        if staged_table is not None:
            tail_sql, params = _tail_sql(tail)
            cur.execute(f"INSERT INTO space_objects ({_names(insert_cols)}) SELECT "
                        f"{_names(insert_cols[:len(insert_cols) - len(tail)])}, {tail_sql} FROM {staged_table} "
                        "ORDER BY norad_id", params)
            return cur.rowcount
        # The group's constants written into the statement (see _sqlite_insert_elsets).
        consts = [_sql_literal(v) for v in tail]
        if all(c is not None for c in consts):
            values = ["?"] * (len(insert_cols) - len(tail)) + consts
            full = rows
        else:
            values = ["?"] * len(insert_cols)
            full = [(*r, *tail) for r in rows]
        cur.executemany(f"INSERT INTO space_objects ({_names(insert_cols)}) VALUES ({', '.join(values)})", full)
        return len(rows)
    finally:
        cur.close()


def _tail_sql(tail: tuple) -> tuple[str, tuple]:
    """The group's constants as SQL literals when they all have one, else as parameters."""
    consts = [_sql_literal(v) for v in tail]
    if all(c is not None for c in consts):
        return ", ".join(consts), ()
    return ", ".join("?" * len(tail)), tail


def _sqlite_merge_descriptions(conn: Connection, fields: Sequence[str], rows: list[tuple], marking_text: str,
                               nation: str | None, now: float, fill_only: Sequence[str],
                               insert_cols: Sequence[str], tail: tuple, staged_table: str | None = None) -> int:
    """SQLite: the batch staged in a table (a temporary one here, or ``staged_table``), matched to the
    group's rows and merged by SQL (as on PostgreSQL): only changed rows are written, and no stored value
    passes through Python. The writer holds the database lock, so nothing changes between the match and
    the write. The staged table is only read: an attached scratch file is never part of the transaction."""
    raw = conn.connection.driver_connection
    so = space_objects
    cur = raw.cursor()
    try:
        src = staged_table
        if src is None:
            ddl = ", ".join(f"{_q(f)} {so.c[f].type.compile(dialect=conn.dialect)}" for f in fields)
            cur.execute(f"CREATE TEMPORARY TABLE _ow_objects (norad_id INTEGER PRIMARY KEY, {ddl})")
            cur.executemany(f"INSERT INTO _ow_objects (norad_id, {_names(fields)}) VALUES "
                            f"({', '.join('?' * (len(fields) + 1))})", rows)
            src = "temp._ow_objects"
        # The group's newest row of each object (the newest wins if a release made two alike).
        cur.execute("CREATE TEMPORARY TABLE _ow_match (norad_id INTEGER PRIMARY KEY, row_id INTEGER)")
        cur.execute("INSERT INTO _ow_match SELECT norad_id, max(row_id) FROM space_objects WHERE n_sources = 1 "
                    "AND marking = ? AND nation IS ? GROUP BY norad_id", (marking_text, nation))
        sets, changed = _merge_terms(fields, fill_only, "IS NOT")
        _record_field_times(cur, fields, fill_only, changed, f"FROM {src} AS t JOIN _ow_match AS m ON "
                            "m.norad_id = t.norad_id JOIN space_objects ON space_objects.row_id = m.row_id", (),
                            now, pg=False)
        cur.execute(f"UPDATE space_objects SET {', '.join(sets)}, updated_at = ? FROM {src} AS t "
                    "JOIN _ow_match AS m ON m.norad_id = t.norad_id "
                    f"WHERE space_objects.row_id = m.row_id AND ({' OR '.join(changed)})", (now,))
        written = cur.rowcount
        tail_sql, params = _tail_sql(tail)
        cur.execute(f"INSERT INTO space_objects ({_names(insert_cols)}) SELECT norad_id, {_names(fields)}, "
                    f"{tail_sql} FROM {src} AS t WHERE NOT EXISTS (SELECT 1 FROM _ow_match AS m "
                    "WHERE m.norad_id = t.norad_id) ORDER BY norad_id", params)
        written += cur.rowcount
        cur.execute("DROP TABLE _ow_match")
        if staged_table is None:
            cur.execute("DROP TABLE _ow_objects")
    finally:
        cur.close()
    return written


def _q(name: str) -> str:
    return f'"{name}"'


def _merge_terms(fields: Sequence[str], fill_only: Collection[str], distinct: str) -> tuple[list[str], list[str]]:
    """SET terms and "row changed" tests of the staged-object merge (``t`` = the staged row): fill-only
    fields never overwrite a value, the others take the staged value when it has one; ``distinct`` is
    the dialect's null-safe inequality (``IS DISTINCT FROM`` on PostgreSQL, ``IS NOT`` on SQLite).

    On objects described under several markings (``multi``) a value given again unchanged counts too:
    it makes the row's description of that field the newest again (:func:`_record_field_times`)."""
    sets, changed, regiven = [], [], []
    for f in fields:
        q = _q(f)
        if f in fill_only:
            sets.append(f"{q} = COALESCE(space_objects.{q}, t.{q})")
            changed.append(f"(space_objects.{q} IS NULL AND t.{q} IS NOT NULL)")
        else:
            sets.append(f"{q} = COALESCE(t.{q}, space_objects.{q})")
            changed.append(f"(t.{q} IS NOT NULL AND t.{q} {distinct} space_objects.{q})")
            regiven.append(f"t.{q} IS NOT NULL")
    if regiven:
        changed.append(f"(space_objects.multi = 1 AND ({' OR '.join(regiven)}))")
    return sets, changed


def _record_field_times(cur: Any, fields: Sequence[str], fill_only: Collection[str], changed: Sequence[str],
                        matched: str, params: tuple, now: float, pg: bool) -> None:
    """Before the merge's UPDATE (it needs the rows as they were): the time of each field of the rows it
    will write, in ``space_object_times``: the batch's for the fields it gives, the field's own (or the
    row's ``updated_at`` so far) for the others. ``matched``: FROM and JOIN clauses giving ``t`` (the
    staged row) joined to ``space_objects`` (its row), with ``params``.

    Only rows of objects described under several markings (``multi``) are recorded, and nothing is read
    when the store has none: a single-row object's fields are all older than any description that later
    arrives under another marking, so its ``updated_at`` orders them as well as their own times would.
    """
    cur.execute("SELECT 1 FROM space_objects WHERE multi = 1 LIMIT 1")
    if cur.fetchone() is None:
        return
    now_sql = f"CAST({float(now)!r} AS double precision)" if pg else repr(float(now))
    cols, values = [], []
    for f in SATCAT_FIELDS:
        at = _q(FIELD_TIME_COLUMNS[f])
        kept = f"COALESCE(x.{at}, space_objects.updated_at)"
        cols.append(at)
        if f not in fields:
            values.append(kept)
            continue
        q = _q(f)
        given = f"space_objects.{q} IS NULL AND t.{q} IS NOT NULL" if f in fill_only else f"t.{q} IS NOT NULL"
        values.append(f"CASE WHEN {given} THEN {now_sql} ELSE {kept} END")
    cur.execute(f"INSERT INTO space_object_times (row_id, {', '.join(cols)}) SELECT space_objects.row_id, "
                f"{', '.join(values)} {matched} LEFT JOIN space_object_times AS x ON x.row_id = space_objects.row_id "
                f"WHERE space_objects.multi = 1 AND ({' OR '.join(changed)}) ON CONFLICT (row_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in cols), params)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


# ----------------------------------------------------------------------------------- composed object rows
def _refresh_views_after_write(conn: Connection, touched: set[int], marking: Marking, nation: str | None) -> None:
    """Recompute the composed rows of the objects this batch described that have descriptions under
    other markings (or from other nations). Nothing to do, and one cheap query to know it, when every
    description in the store is in the batch's group (the usual single-source catalogue)."""
    if not touched:
        return
    so = space_objects
    other = conn.execute(select(so.c.row_id).where(so.c.n_sources == 1,
                                                   ~_same_group(so, str(marking), nation)).limit(1)).first()
    if other is None:
        return
    multi = conn.execute(select(so.c.norad_id).where(so.c.n_sources == 1).group_by(so.c.norad_id)
                         .having(func.count() > 1)).scalars().all()
    refresh_object_views(conn, sorted(touched.intersection(multi)))


def refresh_object_views(conn: Connection, norad_ids: Sequence[int]) -> int:
    """Rebuild the composed rows of these objects from their base rows (one per marking and nation).

    Call after anything that changes base rows other than ingest (a release widening a marking). Returns
    the number of composed rows written.
    """
    so, ft = space_objects, space_object_times
    ids = sorted(set(norad_ids))
    written = 0
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        times = [ft.c[c] for c in FIELD_TIME_COLUMNS.values()]
        base = conn.execute(select(so, *times).select_from(so.outerjoin(ft, ft.c.row_id == so.c.row_id))
                            .where(so.c.norad_id.in_(chunk), so.c.n_sources == 1)
                            .order_by(so.c.norad_id, so.c.row_id)).mappings().all()
        conn.execute(delete(so).where(so.c.norad_id.in_(chunk), so.c.n_sources > 1))
        by_object: dict[int, list] = {}
        for r in base:
            by_object.setdefault(r["norad_id"], []).append(r)
        views = [v for rows in by_object.values() if len(rows) > 1 for v in compose_views(rows)]
        if views:
            conn.execute(insert(so), views)
            written += len(views)
        multi_ids = [k for k, rows in by_object.items() if len(rows) > 1]
        if multi_ids:
            conn.execute(update(so).where(so.c.norad_id.in_(multi_ids), so.c.multi == 0).values(multi=1))
    return written


_PARTNER_TLPS = ("AMBER", "AMBER+STRICT", "RED")


def _reader_sets(rows: Sequence[Any]) -> set[frozenset[int]]:
    """The distinct sets of descriptions (indices into ``rows``) that one kind of reader may read together:
    every partner nation at every clearance that makes a difference, every partner organisation named
    in a marking and one that is not, anonymous readers, and the node's own unrestricted callers.

    These mirror :func:`orbitwatch.sharing.authz.readable_by` (and :func:`orbitwatch.markings.can_read`).
    If that rule changed without this, readers would see a less complete view, never more than they may.
    """
    sets: set[frozenset[int]] = {frozenset(range(len(rows)))}
    ranks = sorted({r["class_rank"] for r in rows})
    for n in NATIONS:
        bit = nation_bit(n)
        for rank in ranks:
            sets.add(frozenset(i for i, r in enumerate(rows) if r["rel_mask"] & bit and r["class_rank"] <= rank))
    orgs = {o for r in rows for o in (r["orgs"] or "").split(",") if o}
    for org in [*sorted(orgs), None]:
        sets.add(frozenset(i for i, r in enumerate(rows) if r["class_rank"] == 0 and (
            r["tlp"] in ("CLEAR", "GREEN")
            or (r["tlp"] in _PARTNER_TLPS and org is not None and org in (r["orgs"] or "").split(",")))))
    sets.add(frozenset(i for i, r in enumerate(rows) if r["class_rank"] == 0 and r["tlp"] == "CLEAR"))
    return {s for s in sets if len(s) > 1}


def _marking_key(row: Any) -> tuple:
    """The marking columns of a row, as a hashable key (a store holds few distinct markings)."""
    return row["class_rank"], row["rel_mask"], row["data_mode"], row["tlp"], row["orgs"] or ""


@lru_cache(maxsize=4096)
def _derived_marking(keys: frozenset[tuple]) -> dict | None:
    """Marking values of a row composed from rows with these markings (:func:`_marking_key`): their
    derived marking (``markings.combine``: readable only by whoever may read every one of them). None
    when no partner nation is common to all. Callers copy the values, never change them."""
    markings = [Marking(DEFAULT_SCHEME.levels[rank], nations_from_mask(mask), mode, tlp,
                        frozenset(o for o in orgs.split(",") if o)) for rank, mask, mode, tlp, orgs in keys]
    try:
        return marking_values(combine(markings))
    except MarkingError:
        return None


def _field_time(row: Any, f: str) -> float:
    """When ``row`` (a base row with its ``space_object_times``) was last given field ``f``."""
    at = row[FIELD_TIME_COLUMNS[f]]
    return at if at is not None else (row["updated_at"] or 0.0)


def compose_views(rows: Sequence[Any]) -> list[dict]:
    """Composed rows of one object from its base rows (mappings: every column and the field times of
    ``space_object_times``), one per distinct composition that a set of two or more descriptions some
    reader may read together gets.

    Each field takes the value of the newest description in the set that gives it (field times, not the
    rows' last update: one row holds every description of its marking). The row is marked, sourced and
    dated by the descriptions it actually uses, so that it shows nothing of the others.

    ``n_sources`` (2 + the sum over fields of how recent the chosen description is, ranked among all
    the object's field values) makes a reader's own composition its best readable row: any other row it
    may read takes each field from descriptions the reader may read too, so from one no newer than the
    reader's own choice, and differs from it in at least one field (a strictly lower rank) or not at all.
    """
    # (time given, row id) of each row's value of each field; None where the row has no value.
    keys = [[(_field_time(r, f), r["row_id"]) if r[f] is not None else None for f in SATCAT_FIELDS] for r in rows]
    rank = {k: i for i, k in enumerate(sorted({k for ks in keys for k in ks if k is not None}), start=1)}
    marks = [_marking_key(r) for r in rows]
    out = []
    seen: set[tuple] = set()
    for s in sorted(_reader_sets(rows), key=lambda x: (len(x), sorted(x))):
        if _derived_marking(frozenset(marks[i] for i in s)) is None:
            continue  # no principal may read them all (the node's own callers read every row anyway)
        givers = []
        for j in range(len(SATCAT_FIELDS)):
            best = newest = None
            for i in s:
                k = keys[i][j]
                if k is not None and (newest is None or k > newest):
                    best, newest = i, k
            givers.append(best)
        key = tuple(givers)
        if key in seen:  # the same composition as a set already done: the same row
            continue
        seen.add(key)
        # A set none of which gives a field still tells that its descriptions exist: marked by all of them.
        used = sorted({g for g in givers if g is not None} or s)
        mv = _derived_marking(frozenset(marks[i] for i in used))
        if mv is None:
            continue
        score = sum(rank[keys[g][j]] for j, g in enumerate(givers) if g is not None)
        view = {"norad_id": rows[used[0]]["norad_id"], "n_sources": 2 + score, "multi": 1, "nation": None,
                "source": ",".join(sorted({rows[i]["source"] for i in used if rows[i]["source"]})) or None,
                "updated_at": max((rows[i]["updated_at"] or 0.0) for i in used), **mv}
        for f, g in zip(SATCAT_FIELDS, givers, strict=True):
            view[f] = rows[g][f] if g is not None else None
        out.append(view)
    return out


__all__ = ["ELSET_COLUMNS", "SATCAT_FIELDS", "IngestReport", "compose_views", "elset_digest", "ingest_bytes",
           "ingest_paths", "ingest_records", "refresh_object_views"]
