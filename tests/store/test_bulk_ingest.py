"""The bulk ingest paths store exactly what the record-by-record reading gives.

A TLE file given by path is read as column tables while it is written (``ingest_paths``); records
from any reader go through ``ingest_records``. Both must store the same rows with the same identity
(digest) and report the same counts and errors — on the real catalogues and on messy text (CRLF, bad
records, repeated and unsorted sets, spellings only the scalar reader takes), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import func, select, text

from orbitwatch.formats.records import regime_of
from orbitwatch.formats.tle import read_tle
from orbitwatch.markings import Marking
from orbitwatch.store import ingest_paths, ingest_records, open_engine
from orbitwatch.store.schema import element_sets, ingest_batches, space_objects

CAT_2023 = "catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz"
CAT_2022 = "catalog/spacetrack_full_catalog_3le_2022-07-14.txt.gz"
SKIP = {"id", "batch_id", "ingested_at"}


def _read(path):
    data = path.read_bytes()
    text_ = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")
    out = list(read_tle(text_.split("\n"), file=str(path)))
    return [r for r in out if hasattr(r, "norad_id")], [r for r in out if not hasattr(r, "norad_id")]


def _elset_rows(engine) -> list[tuple]:
    cols = [c for c in element_sets.columns if c.name not in SKIP]
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(*cols).order_by(element_sets.c.norad_id, element_sets.c.epoch_ts,
                                                                    element_sets.c.digest))]


def _object_rows(engine) -> list[tuple]:
    cols = [c for c in space_objects.columns if c.name not in ("row_id", "updated_at")]
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(*cols).order_by(space_objects.c.norad_id,
                                                                    space_objects.c.n_sources))]


def _second_db(db_url, tmp_path):
    """A second empty database of the same kind (PostgreSQL: another schema of the same server)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.sqlite'}", lambda: None
    import uuid

    import psycopg

    server = db_url.split("?")[0]
    plain = server.replace("postgresql+psycopg", "postgresql")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return f"{server}?options=-csearch_path%3D{schema}", drop


def test_file_path_and_records_store_the_same_rows(db_url, shared_data, tmp_path):
    path = shared_data / CAT_2023
    a = open_engine(db_url)
    url_b, drop_b = _second_db(db_url, tmp_path)
    b = open_engine(url_b)
    try:
        by_path = ingest_paths(a, [path], source="space-track", nation="USA", marking=Marking())
        recs, errs = _read(path)
        by_records = ingest_records(b, recs, errs, file=str(path), fmt="tle", source="space-track", nation="USA")
        assert (by_path.accepted, by_path.duplicates, by_path.rejected) == (26140, 0, 0)
        assert (by_records.accepted, by_records.duplicates, by_records.rejected) == (26140, 0, 0)
        assert _elset_rows(a) == _elset_rows(b)
        assert _object_rows(a) == _object_rows(b)
        # Identity across paths: the same file again by records is all duplicates.
        again = ingest_records(a, recs, file=str(path), source="space-track", nation="USA")
        assert (again.accepted, again.duplicates) == (0, 26140)
    finally:
        a.dispose()
        b.dispose()
        drop_b()


def test_digest_is_blake2b_of_the_elements_and_the_marking(db_url, shared_data):
    """The stored identity is the documented one (earlier versions stored its hex form)."""
    engine = open_engine(db_url)
    marking = Marking.parse("CONFIDENTIAL//REL TO USA, GBR")
    ingest_paths(engine, [shared_data / CAT_2023], source="s", nation="GBR", marking=marking)
    recs, _ = _read(shared_data / CAT_2023)
    expected = {}
    for es in recs[::997]:
        packed = struct.pack("<qd8d", es.norad_id, es.epoch_unix, es.mean_motion, es.eccentricity, es.inclination,
                             es.raan, es.arg_perigee, es.mean_anomaly, es.bstar, es.mean_motion_dot)
        expected[es.norad_id] = hashlib.blake2b(packed + str(marking).encode(), digest_size=16).digest()
    with engine.connect() as c:
        got = dict(c.execute(select(element_sets.c.norad_id, element_sets.c.digest)
                             .where(element_sets.c.norad_id.in_(list(expected)))).all())
    engine.dispose()
    assert {k: bytes(v) for k, v in got.items()} == expected


def _messy(shared_data) -> bytes:
    """Real records made awkward: CRLF, a bad checksum, a set repeated, objects out of order, leading-blank
    catalogue numbers, a trailing TAB (only the scalar reader takes that line), a broken pair, names with
    and without '0 '."""
    with gzip.open(shared_data / CAT_2023, "rt") as fh:
        lines = fh.read().replace("\r\n", "\n").split("\n")[:3 * 400]
    recs = [lines[i:i + 3] for i in range(0, len(lines) - 2, 3)]
    recs[5][1] = recs[5][1][:-1] + str((int(recs[5][1][-1]) + 1) % 10)  # checksum
    recs = recs[200:] + recs[:200]  # out of order
    recs.append(list(recs[10]))  # the same set twice in one file
    recs[20][0] = recs[20][0][2:]  # bare name
    recs.append(["0 BROKEN", recs[40][1]])  # line 1 without line 2
    k = next(i for i, r in enumerate(recs) if r[1][2:5] == "000" and i not in (5, 10, 20, 40))
    recs[k] = [recs[k][0], recs[k][1][:2] + "   " + recs[k][1][5:], recs[k][2][:2] + "   " + recs[k][2][5:]]
    recs[50][2] += "\t"  # a trailing TAB: legal, but only the scalar reader takes the line
    out = "\r\n".join(line for r in recs for line in r) + "\r\n"
    return out.encode()


def test_messy_file_same_counts_errors_and_rows_by_both_paths(db_url, shared_data, tmp_path):
    from orbitwatch.formats.tle_fast import TleReader

    data = _messy(shared_data)
    path = tmp_path / "messy.3le"
    path.write_bytes(data)
    reader = TleReader(data)
    assert sum(len(t) for t in reader.chunks()) == reader.records - 2  # bad checksum, TAB: scalar reader
    a = open_engine(db_url)
    url_b, drop_b = _second_db(db_url, tmp_path)
    b = open_engine(url_b)
    try:
        by_path = ingest_paths(a, [path], source="t")
        recs, errs = _read(path)
        by_records = ingest_records(b, recs, errs, file=str(path), fmt="tle", source="t")
        assert by_path.rejected == by_records.rejected == 2
        assert [e.as_dict() for e in by_path.errors] == [e.as_dict() for e in by_records.errors]
        assert (by_path.accepted, by_path.duplicates) == (by_records.accepted, by_records.duplicates)
        assert by_path.duplicates == 1 and by_path.accepted == len(recs) - 1
        assert _elset_rows(a) == _elset_rows(b)
        assert _object_rows(a) == _object_rows(b)
        strict = ingest_paths(a, [path], source="t", strict=True)
        assert strict.accepted == 0 and strict.rejected == 2
    finally:
        a.dispose()
        b.dispose()
        drop_b()


def test_object_rows_follow_the_newest_set_and_keep_first_names(db_url, shared_data):
    """Two catalogues under one marking: each object's regime is that of its newest set over both
    files; designator and name are filled once (the first file that gives them)."""
    engine = open_engine(db_url)
    ingest_paths(engine, [shared_data / CAT_2022], source="s")
    ingest_paths(engine, [shared_data / CAT_2023], source="s")
    newest, first = {}, {}
    for rel in (CAT_2022, CAT_2023):
        recs, _ = _read(shared_data / rel)
        for es in recs:
            if es.norad_id not in newest or es.epoch >= newest[es.norad_id].epoch:
                newest[es.norad_id] = es
            first.setdefault(es.norad_id, es)
    with engine.connect() as c:
        rows = {r.norad_id: r for r in c.execute(select(space_objects))}
        assert c.execute(select(func.count()).select_from(space_objects)
                         .where(space_objects.c.n_sources != 1)).scalar_one() == 0
    engine.dispose()
    assert set(rows) == set(newest)
    wrong = [k for k, es in newest.items() if rows[k].regime != regime_of(es.mean_motion, es.eccentricity)]
    assert wrong == []
    assert all(rows[k].name == first[k].object_name and rows[k].object_id == first[k].object_id for k in rows)


def test_postgresql_concurrent_duplicates_fall_back_to_on_conflict(db_url, shared_data, monkeypatch):
    """If another session stores some of the same sets between the check and the COPY, the COPY fails
    on the unique index and the batch is inserted with ON CONFLICT DO NOTHING instead."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL path")
    import orbitwatch.store.ingest as ing

    engine = open_engine(db_url)
    recs, _ = _read(shared_data / CAT_2023)
    ingest_records(engine, recs[:1000], source="s")
    monkeypatch.setattr(ing, "_pg_new_rows", lambda raw, cols, seen: None)  # "nothing stored yet"
    report = ingest_records(engine, recs[:3000], source="s")
    assert (report.accepted, report.duplicates) == (2000, 1000)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(element_sets)).scalar_one() == 3000
    engine.dispose()


CHILD = textwrap.dedent("""
    import pathlib, sys, time
    import orbitwatch.store.ingest as ing
    from orbitwatch.store import ingest_paths, open_engine
    url, src, flag = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    write = ing._write_elsets
    def slow(*args):
        n = write(*args)
        flag.write_text(str(n))  # a chunk is written, the transaction is open
        time.sleep(60)
        return n
    ing._write_elsets = slow
    ingest_paths(open_engine(url), [src], source="test")
""")


def test_kill_9_while_reading_and_writing_a_file_leaves_nothing(db_url, shared_data, tmp_path):
    src = shared_data / CAT_2023
    flag = tmp_path / "inside-transaction"
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(src), str(flag)])
    deadline = time.monotonic() + 120
    while not flag.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert flag.exists(), "child never reached the middle of its ingest"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert int(flag.read_text()) > 0
    engine = open_engine(db_url)
    with engine.connect() as c:
        for table in (element_sets, space_objects, ingest_batches):
            assert c.execute(select(func.count()).select_from(table)).scalar_one() == 0
        if engine.dialect.name == "sqlite":
            assert c.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert ingest_paths(engine, [src], source="test").accepted == 26140
    engine.dispose()


def test_progress_reports_while_streaming_and_stores_the_same_rows(db_url, shared_data, tmp_path):
    """A caller that wants progress (the CLI) still gets the streaming path: reports per chunk as the
    sets are written, the last one the whole file, and the same rows as without progress."""
    path = shared_data / CAT_2023
    a = open_engine(db_url)
    url_b, drop_b = _second_db(db_url, tmp_path)
    b = open_engine(url_b)
    calls = []
    try:
        with_progress = ingest_paths(a, [path], source="s", progress=lambda *c: calls.append(c))
        without = ingest_paths(b, [path], source="s")
        assert (with_progress.accepted, with_progress.duplicates) == (without.accepted, without.duplicates)
        assert _elset_rows(a) == _elset_rows(b)
        assert _object_rows(a) == _object_rows(b)
    finally:
        a.dispose()
        b.dispose()
        drop_b()
    assert {c[0] for c in calls} == {"insert"}
    done = [c[1] for c in calls]
    assert done == sorted(done) and done[-1] == calls[-1][2] == 26140
    assert len(done) >= 3 and done[0] < 8192  # the first chunk, before the rest of the file is read
