"""Transactional, idempotent ingest of element sets and catalogue (SATCAT) records.

* One database transaction per input file: a crash (even ``kill -9``) leaves either the whole file or
  none of it; SQLite's WAL and PostgreSQL's MVCC make the commit atomic.
* Idempotent: an element set is identified by its object and a digest of its epoch and elements, so
  ingesting the same file twice (or the same set from two sources) adds nothing the second time.
* Partial batches: good records load, each bad one is reported with file, line, field and reason.
  ``strict=True`` makes a file all-or-nothing.
* Bulk paths: SQLite ``executemany`` of positional tuples, PostgreSQL ``COPY`` into a temporary table;
  the ORM is not used here because it costs more per row than parsing does.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import (
    ElementSet,
    SatcatRecord,
    owner_trigraph,
    regime_of,
)
from orbitwatch.markings import Marking
from orbitwatch.store.base import marking_from_row, marking_values
from orbitwatch.store.schema import ingest_batches, space_objects

_WGS72_MU = 398600.8
_EARTH_RADIUS_KM = 6378.135

ELSET_COLUMNS = (
    "norad_id", "epoch_ts", "epoch", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
    "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot", "classification_type",
    "ephemeris_type", "element_set_no", "rev_at_epoch", "object_name", "object_id", "semi_major_axis_km",
    "perigee_km", "apogee_km", "regime", "source", "nation", "source_format", "batch_id", "ingested_at",
    "file_line", "original", "digest", "marking", "class_rank", "rel_mask", "data_mode", "tlp", "orgs",
)

SATCAT_FIELDS = (
    "object_id", "name", "object_type", "owner", "owner_nation", "launch_date", "launch_site",
    "decay_date", "period_min", "inclination", "apogee_km", "perigee_km", "regime", "rcs_m2", "rcs_size",
    "mass_kg", "hbr_m", "ops_status",
)


@dataclass
class IngestReport:
    """What an ingest did. ``ok`` is False when anything was rejected."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    objects_updated: int = 0
    errors: list[RecordError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

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

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected,
                "objects_updated": self.objects_updated,
                "errors": [e.as_dict() for e in self.errors]}


BatchHook = Callable[[Connection, dict], None]


def ingest_paths(engine: Engine, paths: Iterable[str | Path], *, fmt: str = "auto", source: str = "unknown",
                 nation: str | None = None, marking: Marking | None = None, strict: bool = False,
                 user: str | None = None, on_batch: BatchHook | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    """Ingest files (any format :func:`orbitwatch.formats.read_path` reads), one transaction each.

    ``on_batch(conn, batch)`` runs inside each file's transaction (the audit log uses it so that the
    record of an ingest commits or rolls back with the ingest itself).
    """
    from orbitwatch.formats import read_path

    report = IngestReport()
    for path in paths:
        try:
            result = read_path(path, fmt=fmt)
        except ValidationError as exc:
            err = RecordError(exc.file or str(path), exc.line, exc.field, exc.reason)
            report.add(IngestReport(rejected=1, errors=[err], files=[str(path)]))
            continue
        report.add(ingest_records(engine, result.records, result.errors, file=str(path),
                                  fmt=result.format, source=source, nation=nation, marking=marking,
                                  strict=strict, user=user, on_batch=on_batch, progress=progress))
    return report


def ingest_bytes(engine: Engine, data: bytes, name: str, *, fmt: str = "auto", source: str = "upload",
                 nation: str | None = None, marking: Marking | None = None, strict: bool = False,
                 user: str | None = None, on_batch: BatchHook | None = None) -> IngestReport:
    """Ingest an uploaded document (the API's path); same rules as :func:`ingest_paths`."""
    from orbitwatch.formats import read_bytes

    try:
        result = read_bytes(data, name, fmt=fmt)
    except ValidationError as exc:
        return IngestReport(rejected=1, errors=[RecordError(exc.file or name, exc.line, exc.field,
                                                            exc.reason)], files=[name])
    return ingest_records(engine, result.records, result.errors, file=name, fmt=result.format,
                          source=source, nation=nation, marking=marking, strict=strict, user=user,
                          on_batch=on_batch)


def ingest_records(engine: Engine, records: Sequence[ElementSet | SatcatRecord],
                   errors: Sequence[RecordError] = (), *, file: str | None = None, fmt: str | None = None,
                   source: str = "unknown", nation: str | None = None, marking: Marking | None = None,
                   strict: bool = False, user: str | None = None, on_batch: BatchHook | None = None,
                   progress: Callable[[str, int, int], None] | None = None) -> IngestReport:
    """Store parsed records in one transaction and report what happened."""
    t0 = time.perf_counter()
    marking = marking or Marking()
    if nation is not None:
        marking.check_originator(nation)
    report = IngestReport(rejected=len(errors), errors=list(errors), files=[file] if file else [])
    if strict and errors:
        report.seconds = time.perf_counter() - t0
        return report  # all-or-nothing: nothing written
    elsets = [r for r in records if isinstance(r, ElementSet)]
    satcat = [r for r in records if isinstance(r, SatcatRecord)]
    now = time.time()
    mvals = marking_values(marking)
    with engine.begin() as conn:
        batch_id = conn.execute(insert(ingest_batches).values(
            file=file, format=fmt, source=source, nation=nation, user=user, started_at=now,
            **mvals)).inserted_primary_key[0]
        if elsets:
            inserted = _insert_elsets(conn, elsets, batch_id=batch_id, source=source, nation=nation,
                                      marking=marking, now=now, progress=progress)
            report.accepted += inserted
            report.duplicates += len(elsets) - inserted
            report.objects_updated += _touch_objects_from_elsets(conn, elsets, marking, source, nation, now)
        if satcat:
            report.accepted += len(satcat)
            report.objects_updated += _upsert_satcat(conn, satcat, marking, source, nation, now)
        conn.execute(update(ingest_batches).where(ingest_batches.c.id == batch_id).values(
            finished_at=time.time(), accepted=report.accepted, duplicates=report.duplicates,
            rejected=report.rejected))
        if on_batch is not None:
            on_batch(conn, {"batch_id": batch_id, "file": file, "format": fmt, "source": source,
                            "nation": nation, "user": user, "marking": str(marking),
                            **report.as_dict()})
    report.seconds = time.perf_counter() - t0
    return report


_DIGEST_LAYOUT = struct.Struct("<qd8d")


def elset_digest(es: ElementSet, marking_text: str = "") -> str:
    """Identity of an element set: object, epoch, the mean elements (bit-exact) *and its marking*.

    The marking is part of the identity so that a nation uploading a set another nation holds under a
    narrower marking gets its own copy, and is never told "duplicate" about a record it may not read.
    """
    packed = _DIGEST_LAYOUT.pack(es.norad_id, es.epoch_unix, es.mean_motion, es.eccentricity,
                                 es.inclination, es.raan, es.arg_perigee, es.mean_anomaly, es.bstar,
                                 es.mean_motion_dot)
    return hashlib.blake2b(packed + marking_text.encode(), digest_size=16).hexdigest()


def _elset_rows(elsets: Sequence[ElementSet], *, batch_id: int, source: str, nation: str | None,
                marking: Marking, now: float) -> list[tuple]:
    """Positional rows in ELSET_COLUMNS order, built column-wise (numpy where it pays)."""
    import numpy as np

    mv = marking_values(marking)
    count = len(elsets)
    ts = np.fromiter((e.epoch_unix for e in elsets), float, count)
    iso = np.datetime_as_string(np.round(ts * 1e6).astype("datetime64[us]"), unit="us")
    n_rev = np.fromiter((e.mean_motion for e in elsets), float, count)
    ecc = np.fromiter((e.eccentricity for e in elsets), float, count)
    n = n_rev * (2.0 * np.pi / 86400.0)
    sma = np.cbrt(_WGS72_MU / (n * n))
    perigee = sma * (1.0 - ecc) - _EARTH_RADIUS_KM
    apogee = sma * (1.0 + ecc) - _EARTH_RADIUS_KM
    regimes = [regime_of(a, b) for a, b in zip(n_rev.tolist(), ecc.tolist(), strict=True)]
    digests = [elset_digest(e, mv["marking"]) for e in elsets]
    const = (source, nation)
    tail = (mv["marking"], mv["class_rank"], mv["rel_mask"], mv["data_mode"], mv["tlp"], mv["orgs"])
    return [
        (e.norad_id, t, i, e.mean_motion, e.eccentricity, e.inclination, e.raan, e.arg_perigee,
         e.mean_anomaly, e.bstar, e.mean_motion_dot, e.mean_motion_ddot, e.classification_type,
         e.ephemeris_type, e.element_set_no, e.rev_at_epoch, e.object_name, e.object_id, a, p, q, rg,
         *const, e.source_format, batch_id, now, e.line, e.original, d, *tail)
        for e, t, i, a, p, q, rg, d in zip(elsets, ts.tolist(), iso.tolist(), sma.tolist(), perigee.tolist(),
                                            apogee.tolist(), regimes, digests, strict=True)
    ]


def _insert_elsets(conn: Connection, elsets: Sequence[ElementSet], *, batch_id: int, source: str,
                   nation: str | None, marking: Marking, now: float,
                   progress: Callable[[str, int, int], None] | None) -> int:
    rows = _elset_rows(elsets, batch_id=batch_id, source=source, nation=nation, marking=marking, now=now)
    rows.sort(key=lambda r: (r[0], r[1]))  # index order: B-tree appends instead of random inserts
    cols = ", ".join(f'"{c}"' for c in ELSET_COLUMNS)
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return _copy_insert(conn, "element_sets", rows, ELSET_COLUMNS,
                            conflict="ON CONFLICT (norad_id, epoch_ts, digest) DO NOTHING", progress=progress)
    marks = ", ".join("?" for _ in ELSET_COLUMNS)
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    before = raw.total_changes
    chunk = 20000
    for i in range(0, len(rows), chunk):
        cur.executemany(f"INSERT OR IGNORE INTO element_sets ({cols}) VALUES ({marks})", rows[i:i + chunk])
        if progress:
            progress("insert", min(i + chunk, len(rows)), len(rows))
    return raw.total_changes - before


def _copy_insert(conn: Connection, table: str, rows: list[tuple], columns: Sequence[str],
                 conflict: str, progress: Callable[[str, int, int], None] | None = None) -> int:
    """PostgreSQL bulk path: COPY into a temporary table, then one INSERT ... SELECT."""
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE _ow_load (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
        with cur.copy(f"COPY _ow_load ({cols}) FROM STDIN") as copy:
            for i, row in enumerate(rows, start=1):
                copy.write_row(row)
                if progress and i % 20000 == 0:
                    progress("copy", i, len(rows))
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _ow_load {conflict}")
        inserted = cur.rowcount
        cur.execute("DROP TABLE _ow_load")
    return inserted


_MARKING_KEYS = ("marking", "class_rank", "rel_mask", "data_mode", "tlp", "orgs")


def _touch_objects_from_elsets(conn: Connection, elsets: Sequence[ElementSet], marking: Marking,
                               source: str, nation: str | None, now: float) -> int:
    """Create object rows for objects first seen in element sets; widen their marking if needed."""
    latest: dict[int, ElementSet] = {}
    for e in elsets:
        cur = latest.get(e.norad_id)
        if cur is None or e.epoch > cur.epoch:
            latest[e.norad_id] = e
    # Only objects that are new, whose regime changed, or whose marking must widen need a write: a
    # re-ingest of a known catalogue (the daily case) then touches no object row at all.
    mv = marking_values(marking)
    known = _known_objects(conn, sorted(latest))
    pending = []
    for k in sorted(latest):
        e = latest[k]
        regime = regime_of(e.mean_motion, e.eccentricity)
        old = known.get(k)
        if old is not None and old[0] == regime and (old[1] | mv["rel_mask"]) == old[1] \
                and min(old[2], mv["class_rank"]) == old[2]:
            continue
        pending.append((k, e, regime))
    tail = tuple(mv[k] for k in _MARKING_KEYS)
    columns = ("norad_id", "object_id", "name", "regime", "source", "nation", "updated_at", *_MARKING_KEYS)
    rows = [(k, e.object_id, e.object_name, regime, source, nation, now, *tail) for k, e, regime in pending]
    return _upsert_objects(conn, columns, rows, marking, only_missing_fields=("object_id", "name"),
                           always=("regime",))


def _known_objects(conn: Connection, norad_ids: list[int]) -> dict[int, tuple[str | None, int, int]]:
    """regime, rel_mask and class_rank of the objects that already exist, in one pass over the table."""
    if not norad_ids:
        return {}
    so = space_objects
    q = select(so.c.norad_id, so.c.regime, so.c.rel_mask, so.c.class_rank)
    lo, hi = norad_ids[0], norad_ids[-1]
    wanted = set(norad_ids)
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(q.where(so.c.norad_id.between(lo, hi)))
            if r[0] in wanted}


def _upsert_satcat(conn: Connection, records: Sequence[SatcatRecord], marking: Marking, source: str,
                   nation: str | None, now: float) -> int:
    mv = marking_values(marking)
    tail = tuple(mv[k] for k in _MARKING_KEYS)
    by_id: dict[int, tuple] = {}
    for r in records:
        regime = None
        if r.period_min and r.period_min > 0:
            mean_motion = 1440.0 / r.period_min
            ecc = 0.0
            if r.apogee_km and r.perigee_km and r.apogee_km > 0:
                ra, rp = r.apogee_km + _EARTH_RADIUS_KM, r.perigee_km + _EARTH_RADIUS_KM
                ecc = (ra - rp) / (ra + rp)
            regime = regime_of(mean_motion, ecc)
        # The last description of an object in a file wins (PostgreSQL refuses two updates of a row).
        by_id[r.norad_id] = (r.norad_id, r.object_id, r.object_name, r.object_type, r.owner,
                             owner_trigraph(r.owner), r.launch_date, r.launch_site, r.decay_date,
                             r.period_min, r.inclination, r.apogee_km, r.perigee_km, regime, r.rcs_m2,
                             r.rcs_size, r.mass_kg, r.hbr_m, r.ops_status, source, nation, now, *tail)
    columns = ("norad_id", *SATCAT_FIELDS, "source", "nation", "updated_at", *_MARKING_KEYS)
    return _upsert_objects(conn, columns, [by_id[k] for k in sorted(by_id)], marking,
                           only_missing_fields=(), always=SATCAT_FIELDS)


def _upsert_objects(conn: Connection, columns: Sequence[str], rows: list[tuple], marking: Marking, *,
                    only_missing_fields: Sequence[str], always: Sequence[str]) -> int:
    """Insert or update object rows in bulk (rows sorted by NORAD id, one per object).

    ``always`` fields take the new value when it is not null; ``only_missing_fields`` fill gaps only.
    An object's marking is widened to the union of releasabilities (and the lowest classification) of
    the sources that described it: whoever may read any of its records already knows it exists.
    """
    if not rows:
        return 0
    pg = conn.dialect.name == "postgresql"
    least = "LEAST" if pg else "MIN"
    sets = [f'"{f}" = COALESCE(excluded."{f}", space_objects."{f}")' for f in always]
    sets += [f'"{f}" = COALESCE(space_objects."{f}", excluded."{f}")' for f in only_missing_fields]
    widened = (f"(space_objects.rel_mask | excluded.rel_mask) <> space_objects.rel_mask OR "
               f"{least}(space_objects.class_rank, excluded.class_rank) <> space_objects.class_rank")
    sets += ["rel_mask = space_objects.rel_mask | excluded.rel_mask",
             f"class_rank = {least}(space_objects.class_rank, excluded.class_rank)",
             # SET expressions see the old row: blank the banner text where the marking widened, and
             # rewrite just those rows afterwards (the text needs Python's marking formatter).
             f"marking = CASE WHEN {widened} THEN '' ELSE space_objects.marking END",
             "updated_at = excluded.updated_at"]
    conflict = f"ON CONFLICT (norad_id) DO UPDATE SET {', '.join(sets)}"
    if pg:
        _copy_insert(conn, "space_objects", rows, columns, conflict=conflict)
    else:
        cols = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        cur = conn.connection.driver_connection.cursor()
        cur.executemany(f"INSERT INTO space_objects ({cols}) VALUES ({marks}) {conflict}", rows)
    _refresh_object_marking_text(conn)
    return len(rows)


def _refresh_object_marking_text(conn: Connection) -> None:
    """Rewrite the banner text of objects whose marking the upsert widened (blanked by the upsert)."""
    so = space_objects
    changed = [{"k": row.norad_id, "m": str(marking_from_row(row))}
               for row in conn.execute(select(so.c.norad_id, so.c.class_rank, so.c.rel_mask, so.c.data_mode,
                                              so.c.tlp, so.c.orgs).where(so.c.marking == ""))]
    if changed:
        from sqlalchemy import bindparam

        conn.execute(update(so).where(so.c.norad_id == bindparam("k")).values(marking=bindparam("m")),
                     changed)
