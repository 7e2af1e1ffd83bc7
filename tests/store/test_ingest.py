"""Ingest: idempotence, partial batches, strict mode, crash safety, markings and the catalogue queries.

Every test runs on SQLite and on a real PostgreSQL server (the ``db_url`` fixture).
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import func, select, text

from orbitwatch.formats.tle import read_tle
from orbitwatch.markings import Marking, nation_bit
from orbitwatch.store import (
    element_set_history,
    get_object,
    ingest_records,
    latest_element_sets,
    open_engine,
    search_objects,
)
from orbitwatch.store.schema import element_sets, ingest_batches, space_objects

ISS_1 = ("1 25544U 98067A   23282.51041667  .00016717  00000-0  30306-3 0  9994",
         "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.49815350420051")
ISS_2 = ("1 25544U 98067A   23283.51041667  .00016717  00000-0  30306-3 0  9995",
         "2 25544  51.6416 242.4627 0006703 130.5360 325.0288 15.49815350420067")


def _records(text_block: str, name="t.tle"):
    recs, errs = [], []
    for r in read_tle(text_block.splitlines(), file=name):
        (recs if hasattr(r, "norad_id") else errs).append(r)
    return recs, errs


def _count(engine, table=element_sets):
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def _elsets_filter(nation: str, clearance_rank: int):
    bit = nation_bit(nation)
    return lambda t: (t.c.rel_mask.op("&")(bit) != 0) & (t.c.class_rank <= clearance_rank)


@pytest.fixture
def full_catalogue(shared_data):
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    with gzip.open(path, "rt") as fh:
        return _records(fh.read(), name=path.name)


def test_full_catalogue_ingests_once_and_only_once(db_url, full_catalogue):
    recs, errs = full_catalogue
    assert len(recs) == 26140 and not errs
    engine = open_engine(db_url)
    first = ingest_records(engine, recs, errs, file="full.tle", source="space-track")
    assert (first.accepted, first.duplicates, first.rejected) == (26140, 0, 0)
    again = ingest_records(engine, recs, errs, file="full.tle", source="space-track")
    assert (again.accepted, again.duplicates) == (0, 26140)
    assert _count(engine) == 26140
    assert _count(engine, space_objects) == 26140
    with engine.connect() as c:
        latest = latest_element_sets(c)
        assert len(latest) == 26140
        iss = get_object(c, 25544)
        assert iss.name == "ISS (ZARYA)" and iss.object_id == "1998-067A" and iss.regime == "LEO"
        assert len(search_objects(c, name="zarya")) == 1
        # Cosmos 1408 debris as catalogued in October 2023 (107 pieces, README of the data set).
        pieces = c.execute(select(func.count()).select_from(space_objects)
                           .where(space_objects.c.object_id.like("1982-092%"))).scalar_one()
        assert pieces == 107
    engine.dispose()


def test_bad_records_are_reported_and_good_ones_kept(db_url):
    bad_checksum = ISS_2[0][:-1] + "0"
    block = "\n".join(["0 ISS (ZARYA)", *ISS_1, "0 ISS (ZARYA)", bad_checksum, ISS_2[1],
                       "0 BROKEN", "1 99999U short line"])
    recs, errs = _records(block, name="mixed.tle")
    engine = open_engine(db_url)
    report = ingest_records(engine, recs, errs, file="mixed.tle", source="test")
    assert report.accepted == 1
    assert report.rejected == 2
    by_line = {e.line: e for e in report.errors}
    assert by_line[5].field == "checksum" and by_line[5].file == "mixed.tle"
    assert "checksum is 0, computed 5" in by_line[5].reason
    assert _count(engine) == 1
    engine.dispose()


def test_strict_mode_writes_nothing_when_any_record_is_bad(db_url):
    block = "\n".join([*ISS_1, ISS_2[0][:-1] + "0", ISS_2[1]])
    recs, errs = _records(block)
    engine = open_engine(db_url)
    report = ingest_records(engine, recs, errs, file="x.tle", source="test", strict=True)
    assert report.rejected == 1 and report.accepted == 0
    assert _count(engine) == 0 and _count(engine, ingest_batches) == 0
    engine.dispose()


def test_originator_must_be_able_to_read_its_own_marking(db_url):
    recs, _ = _records("\n".join(ISS_1))
    engine = open_engine(db_url)
    with pytest.raises(Exception, match="does not include the originator FRA"):
        ingest_records(engine, recs, file="x", source="fra-sensors", nation="FRA",
                       marking=Marking.parse("SECRET//REL TO USA, GBR"))
    assert _count(engine) == 0
    engine.dispose()


def test_latest_is_computed_after_the_releasability_filter(db_url):
    """A nation that may not see the newest set gets its newest releasable one, never a hint of more."""
    old, _ = _records("\n".join(ISS_1))
    new, _ = _records("\n".join(ISS_2))
    engine = open_engine(db_url)
    ingest_records(engine, old, file="a", source="celestrak", marking=Marking.parse("UNCLASSIFIED"))
    ingest_records(engine, new, file="b", source="gbr-sensors", nation="GBR",
                   marking=Marking.parse("SECRET//GBR EYES ONLY"))
    with engine.connect() as c:
        fra = latest_element_sets(c, where=_elsets_filter("FRA", 3))
        gbr = latest_element_sets(c, where=_elsets_filter("GBR", 3))
        gbr_uncleared = latest_element_sets(c, where=_elsets_filter("GBR", 0))
        assert [r.epoch[:10] for r in fra] == ["2023-10-09"]
        assert [r.epoch[:10] for r in gbr] == ["2023-10-10"]
        assert [r.epoch[:10] for r in gbr_uncleared] == ["2023-10-09"]
        hist = element_set_history(c, 25544, where=_elsets_filter("FRA", 3))
        assert len(hist) == 1
        assert len(element_set_history(c, 25544)) == 2
        window = element_set_history(c, 25544, start=1696896000.0)  # 2023-10-10T00:00Z
        assert [r.epoch[:10] for r in window] == ["2023-10-10"]
    engine.dispose()


def test_object_rows_are_kept_per_marking_and_originating_nation(db_url):
    """Two nations describing one object under different markings get a row each; neither row is widened
    (a reader of one must not read the other's fields) and no reader may read both, so nothing is composed."""
    recs, _ = _records("\n".join(ISS_1))
    later, _ = _records("\n".join(ISS_2))
    engine = open_engine(db_url)
    ingest_records(engine, recs, file="a", source="gbr", nation="GBR", marking=Marking.parse("SECRET//GBR EYES ONLY"))
    with engine.connect() as c:
        assert c.execute(select(space_objects.c.marking)).scalar_one() == "SECRET//GBR EYES ONLY"
    ingest_records(engine, later, file="b", source="usa", nation="USA",
                   marking=Marking.parse("CONFIDENTIAL//REL TO USA, AUS"))
    with engine.connect() as c:
        rows = c.execute(select(space_objects.c.marking, space_objects.c.nation, space_objects.c.n_sources)
                         .order_by(space_objects.c.row_id)).all()
        assert [tuple(r) for r in rows] == [("SECRET//GBR EYES ONLY", "GBR", 1),
                                            ("CONFIDENTIAL//REL TO USA, AUS", "USA", 1)]
        assert get_object(c, 25544, where=_elsets_filter("GBR", 3)).marking == "SECRET//GBR EYES ONLY"
        assert get_object(c, 25544, where=_elsets_filter("AUS", 2)).marking == "CONFIDENTIAL//REL TO USA, AUS"
        assert get_object(c, 25544, where=_elsets_filter("FRA", 3)) is None
    engine.dispose()


CHILD = textwrap.dedent("""
    import gzip, pathlib, sys, time
    from orbitwatch.formats.tle import read_tle
    from orbitwatch.store import ingest_records, open_engine
    url, src, flag = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    recs = [r for r in read_tle(gzip.open(src, "rt").read().splitlines()) if hasattr(r, "norad_id")]
    def progress(stage, done, total):
        flag.write_text(f"{done}/{total}")   # the first chunk is written, the transaction is open
        time.sleep(60)
    ingest_records(open_engine(url), recs, file=src, source="test", progress=progress)
""")


def test_kill_9_mid_ingest_leaves_no_half_batch(db_url, shared_data, tmp_path):
    src = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    flag = tmp_path / "inside-transaction"
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(src), str(flag)])
    deadline = time.monotonic() + 120
    while not flag.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert flag.exists(), "child never reached the middle of its ingest"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert flag.read_text().startswith("20000/")  # 20,000 rows had been inserted when it died
    engine = open_engine(db_url)
    assert _count(engine) == 0
    assert _count(engine, space_objects) == 0
    assert _count(engine, ingest_batches) == 0
    if engine.dialect.name == "sqlite":
        with engine.connect() as c:
            assert c.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    # The store is usable and the re-run completes the job.
    with gzip.open(src, "rt") as fh:
        recs, _ = _records(fh.read())
    assert ingest_records(engine, recs, file=str(src), source="test").accepted == 26140
    engine.dispose()
