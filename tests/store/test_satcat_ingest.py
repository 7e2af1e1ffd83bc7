"""A SATCAT file describes objects exactly as its records say, whichever path reads and writes it.

The bulk path reads a SATCAT CSV as columns and merges it into the store by SQL. The reference here is
the rule written out plainly over the row-by-row readers' records: per object the file's last record;
each field a record gives replaces the stored one, a field it leaves empty keeps the stored one; the
regime is that of the record's period, apogee and perigee (none without a period); element sets fill
a designator and name only where none is stored, and give the regime of their newest set.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from orbitwatch.formats.records import OWNER_CODE_TO_TRIGRAPH, SatcatRecord, regime_of
from orbitwatch.formats.satcat import read_satcat_csv
from orbitwatch.formats.tle import read_tle
from orbitwatch.markings import Marking
from orbitwatch.store import ingest_paths, open_engine
from orbitwatch.store.ingest import SATCAT_FIELDS
from orbitwatch.store.schema import space_objects

CAT = "catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz"
SATCAT = "satcat/celestrak_satcat_processed_2025-03-06.csv.gz"
R_EARTH = 6378.135


def _text(path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")


def _satcat_records(path) -> list[SatcatRecord]:
    return [r for r in read_satcat_csv(_text(path), file=str(path)) if isinstance(r, SatcatRecord)]


def _elsets(path):
    return [r for r in read_tle(_text(path).split("\n")) if hasattr(r, "norad_id")]


def _satcat_regime(r: SatcatRecord) -> str | None:
    if not (r.period_min and r.period_min > 0):
        return None
    ecc = 0.0
    if r.apogee_km and r.perigee_km and r.apogee_km > 0:
        ra, rp = r.apogee_km + R_EARTH, r.perigee_km + R_EARTH
        ecc = (ra - rp) / (ra + rp)
    return regime_of(1440.0 / r.period_min, ecc)


def _describe(rows: dict, records: list[SatcatRecord]) -> None:
    last = {r.norad_id: r for r in records}
    for k, r in last.items():
        new = {"object_id": r.object_id, "name": r.object_name, "object_type": r.object_type, "owner": r.owner,
               "owner_nation": OWNER_CODE_TO_TRIGRAPH.get(r.owner) if r.owner else None,
               "launch_date": r.launch_date, "launch_site": r.launch_site, "decay_date": r.decay_date,
               "period_min": r.period_min, "inclination": r.inclination, "apogee_km": r.apogee_km,
               "perigee_km": r.perigee_km, "regime": _satcat_regime(r), "rcs_m2": r.rcs_m2,
               "rcs_size": r.rcs_size, "mass_kg": r.mass_kg, "hbr_m": r.hbr_m, "ops_status": r.ops_status}
        old = rows.get(k, dict.fromkeys(SATCAT_FIELDS))
        rows[k] = {f: new[f] if new[f] is not None else old[f] for f in SATCAT_FIELDS}


def _from_elsets(rows: dict, elsets) -> None:
    newest = {}
    for es in elsets:
        if es.norad_id not in newest or es.epoch >= newest[es.norad_id].epoch:
            newest[es.norad_id] = es
    for k, es in newest.items():
        row = rows.get(k, dict.fromkeys(SATCAT_FIELDS))
        row["object_id"] = row["object_id"] if row["object_id"] is not None else es.object_id
        row["name"] = row["name"] if row["name"] is not None else es.object_name
        row["regime"] = regime_of(es.mean_motion, es.eccentricity)
        rows[k] = row


def _stored(engine) -> dict:
    so = space_objects
    with engine.connect() as c:
        got = c.execute(select(so.c.norad_id, *(so.c[f] for f in SATCAT_FIELDS)).where(so.c.n_sources == 1)
                        .order_by(so.c.norad_id)).all()
    assert len({r[0] for r in got}) == len(got), "one base row per object and group"
    return {r[0]: dict(zip(SATCAT_FIELDS, r[1:], strict=True)) for r in got}


def _updated_at(engine) -> dict:
    with engine.connect() as c:
        return dict(c.execute(select(space_objects.c.norad_id, space_objects.c.updated_at)).all())


@pytest.fixture
def engine(db_url):
    e = open_engine(db_url)
    yield e
    e.dispose()


def test_catalogue_then_satcat(engine, shared_data):
    cat, sat = shared_data / CAT, shared_data / SATCAT
    ingest_paths(engine, [cat], source="space-track")
    report = ingest_paths(engine, [sat], source="celestrak")
    expected: dict = {}
    _from_elsets(expected, _elsets(cat))
    records = _satcat_records(sat)
    _describe(expected, records)
    assert (report.accepted, report.rejected) == (62652, 0)
    # Every object of the file is new or gains fields; the catalogue's analyst objects are in no SATCAT.
    assert report.objects_updated == len({r.norad_id for r in records}) == 62652
    assert len(expected) > 62652
    assert _stored(engine) == expected
    # The same file again changes nothing, and says so.
    before = _updated_at(engine)
    again = ingest_paths(engine, [sat], source="celestrak")
    assert again.objects_updated == 0
    assert _updated_at(engine) == before
    assert _stored(engine) == expected


def test_satcat_then_catalogue(engine, shared_data):
    cat, sat = shared_data / CAT, shared_data / SATCAT
    ingest_paths(engine, [sat], source="celestrak")
    ingest_paths(engine, [cat], source="space-track")
    expected: dict = {}
    _describe(expected, _satcat_records(sat))
    _from_elsets(expected, _elsets(cat))
    assert _stored(engine) == expected


MESSY = ("OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OWNER,LAUNCH_DATE,DECAY_DATE,PERIOD,INCLINATION,"
         "APOGEE,PERIGEE\r\n"
         "ISS (ZARYA),1998-067A,25544,PAY,ISS,1998-11-20,,92.9,51.6,420,415\r\n"
         "B,2000-001B, 5 ,R/B, fr ,2000-01-01T12:00:00,,  96.5 ,1e1,+500,-1.5\r\n"
         "C,2000-001C,x,PAY,US,2000-01-01,,95.1,51.6,420,410\r\n"
         "D,2000-001D,4,SPACESHIP,US,2000-01-01,,95.1,51.6,420,410\r\n"
         "GEO,2000-001E,28884,PAY,uk,2005-11-09,,1436.1,0.05,35790,35780\r\n"
         "MOLNIYA,2000-001F,7,PAY,CIS,2000-01-01,,717.8,62.8,39700,600\r\n"
         "DECAYED,2000-001G,2,DEB,US,2000-01-01,2001-01-01,0.0,0.0,0.0,0.0\r\n"
         ",,25544,,,,,,,,\r\n"  # the ISS again, later in the file: the last record of an object is its description
         "H,2000-001H,8,DEB,US\r\n")


def test_messy_satcat_partial_batch_and_strict(engine, tmp_path, shared_data):
    path = tmp_path / "messy.csv"
    path.write_bytes(MESSY.encode())
    strict = ingest_paths(engine, [path], source="s", strict=True)
    assert (strict.accepted, strict.rejected) == (0, 3)
    assert _stored(engine) == {}
    report = ingest_paths(engine, [path], source="s")
    items = list(read_satcat_csv(MESSY, file=str(path)))
    records = [r for r in items if isinstance(r, SatcatRecord)]
    ref_errors = [r.as_dict() for r in items if not isinstance(r, SatcatRecord)]
    assert [e.as_dict() for e in report.errors] == ref_errors
    assert [(e["line"], e["field"]) for e in ref_errors] == [(4, "NORAD_CAT_ID"), (5, "OBJECT_TYPE"), (10, None)]
    assert (report.accepted, report.rejected) == (len(records), 3) == (6, 3)
    expected: dict = {}
    _describe(expected, records)
    assert expected[25544] == dict.fromkeys(SATCAT_FIELDS) | {"object_type": "UNKNOWN"}
    got = _stored(engine)
    assert got == expected
    assert got[5]["owner"] == "FR" and got[5]["regime"] == "LEO" and got[5]["period_min"] == 96.5
    assert got[28884]["regime"] == "GEO" and got[28884]["owner_nation"] == "GBR"
    assert got[7]["regime"] == "HEO" and got[2]["regime"] is None and got[2]["period_min"] is None


# ------------------------------------------------------------------ read in another process, merged here
# The command line reads SATCAT files in a forked process while it writes the files before them; on
# SQLite that process also stages the object rows in a scratch SQLite file which the ingest attaches and
# merges by SQL. The records, errors and stored rows must be those of the plain path.

def _staged_reader(tmp_path, *, stage: str):
    """``ingest_paths(prefetched=...)`` as the command line's child process would answer, in process:
    object rows staged in a SQLite file ("file"), as PostgreSQL COPY text ("copy"), or the table as read.
    (Staged for the other kind of store, the ingest reads the file itself.)"""
    from orbitwatch.formats.detect import read_path
    from orbitwatch.formats.satcat import SatcatTable, StagedObjects, copy_object_rows, stage_object_rows

    answered: list = []

    def prefetched(path):
        got = read_path(path, satcat_table=True, tle_table=True)
        if not isinstance(got.table, SatcatTable):
            answered.append(None)
            return None
        if stage == "file":
            got.table = stage_object_rows(got.table, str(tmp_path / f"staged-{uuid.uuid4().hex}.sqlite"))
            assert isinstance(got.table, StagedObjects)
        elif stage == "copy":
            got.table = copy_object_rows(got.table)
        answered.append(got)
        return got

    return prefetched, answered


@pytest.mark.parametrize("stage", ["file", "copy", "table"])
def test_satcat_read_elsewhere_is_stored_as_read_here(engine, shared_data, tmp_path, stage):
    cat, sat = shared_data / CAT, shared_data / SATCAT
    prefetched, answered = _staged_reader(tmp_path, stage=stage)
    first = ingest_paths(engine, [cat, sat], source="space-track", prefetched=prefetched)
    assert answered[0] is None and answered[1] is not None  # the TLE file was read by the ingest
    expected: dict = {}
    _from_elsets(expected, _elsets(cat))
    records = _satcat_records(sat)
    _describe(expected, records)
    assert (first.accepted, first.rejected) == (26140 + 62652, 0)
    assert _stored(engine) == expected
    before = _updated_at(engine)
    again = ingest_paths(engine, [sat], source="space-track", prefetched=_staged_reader(tmp_path, stage=stage)[0])
    assert (again.accepted, again.objects_updated) == (62652, 0)
    assert _updated_at(engine) == before
    # Into an empty group (first descriptions: plain inserts) and then a catalogue over it.
    other = ingest_paths(engine, [sat, cat], source="celestrak", nation="USA",
                         marking=Marking.parse("UNCLASSIFIED//REL TO USA, GBR"),
                         prefetched=_staged_reader(tmp_path, stage=stage)[0])
    assert other.rejected == 0
    mine: dict = {}
    _describe(mine, records)
    _from_elsets(mine, _elsets(cat))
    with engine.connect() as c:
        so = space_objects
        got = c.execute(select(so.c.norad_id, *(so.c[f] for f in SATCAT_FIELDS))
                        .where(so.c.n_sources == 1, so.c.nation == "USA")).all()
    assert {r[0]: dict(zip(SATCAT_FIELDS, r[1:], strict=True)) for r in got} == mine


@pytest.mark.parametrize("stage", ["file", "copy", "table"])
def test_messy_satcat_read_elsewhere(engine, tmp_path, stage):
    path = tmp_path / "messy.csv"
    path.write_bytes(MESSY.encode())
    strict = ingest_paths(engine, [path], source="s", strict=True, prefetched=_staged_reader(tmp_path, stage=stage)[0])
    assert (strict.accepted, strict.rejected) == (0, 3)
    assert _stored(engine) == {}
    report = ingest_paths(engine, [path], source="s", prefetched=_staged_reader(tmp_path, stage=stage)[0])
    items = list(read_satcat_csv(MESSY, file=str(path)))
    records = [r for r in items if isinstance(r, SatcatRecord)]
    assert [e.as_dict() for e in report.errors] == [r.as_dict() for r in items if not isinstance(r, SatcatRecord)]
    assert (report.accepted, report.rejected) == (6, 3)
    expected: dict = {}
    _describe(expected, records)
    assert _stored(engine) == expected


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from orbitwatch.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_command_line_reads_satcat_in_a_second_process(db_url, shared_data, tmp_path):
    """``orbitwatch ingest CATALOG SATCAT``: the SATCAT is read by a forked process (and staged, on SQLite);
    the store ends as the plain path leaves it, and the scratch files are gone."""
    cat, sat = shared_data / CAT, shared_data / SATCAT
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    run = _cli("ingest", str(cat), str(sat), "--source", "space-track", "--json", "--db", db_url, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"accepted": 26140 + 62652, "duplicates": 0, "rejected": 0, "errors": []}
    assert list(scratch.iterdir()) == []
    expected: dict = {}
    _from_elsets(expected, _elsets(cat))
    _describe(expected, _satcat_records(sat))
    engine = open_engine(db_url)
    try:
        assert _stored(engine) == expected
    finally:
        engine.dispose()


def test_command_line_located_errors_with_a_second_process(sqlite_url, tmp_path):
    path = tmp_path / "messy.csv"
    path.write_bytes(MESSY.encode())
    run = _cli("ingest", str(path), "--source", "s", "--json", "--db", sqlite_url)
    assert run.returncode == 1
    items = list(read_satcat_csv(MESSY, file=str(path)))
    assert json.loads(run.stdout)["errors"] == [r.as_dict() for r in items if not isinstance(r, SatcatRecord)]
    assert json.loads(run.stdout)["accepted"] == 6


def test_prefetch_that_dies_leaves_the_files_to_the_ingest(tmp_path):
    """A child that sends nothing (it crashed): every file is read by the ingest itself."""
    from orbitwatch.cli.catalog_cmds import _Prefetch

    rfd, wfd = os.pipe()
    os.close(wfd)
    pid = os.posix_spawn("/bin/true", ["true"], os.environ)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pre = _Prefetch(pid, rfd, str(scratch))
    assert pre.get(tmp_path / "a.csv") is None and pre.get(tmp_path / "b.csv") is None
    pre.close()
    assert not scratch.exists()


def test_prefetch_child_reads_and_stages(shared_data, tmp_path, monkeypatch):
    """The forked reader itself: a TLE file is left to the ingest, a SATCAT file comes back staged (SQLite)
    or as its table (PostgreSQL), with the records and errors of a read here."""
    import threading

    from orbitwatch.cli.catalog_cmds import _Prefetch
    from orbitwatch.formats.satcat import SatcatTable, StagedObjects, read_satcat_table
    from orbitwatch.store.engine import wait_for_checkpoints

    wait_for_checkpoints()  # no other thread in this process when it forks
    if threading.active_count() > 1:
        # Earlier tests of a whole-suite run leave threads behind (thread pools, servers), and the reader
        # rightly refuses to fork beside them: run this test alone in a fresh interpreter instead.
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              f"{__file__}::test_prefetch_child_reads_and_stages"],
                             capture_output=True, text=True, timeout=600, env={**os.environ})
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        assert "1 passed" in run.stdout
        return
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    cat, sat = shared_data / CAT, shared_data / SATCAT
    messy = tmp_path / "messy.csv"
    messy.write_bytes(MESSY.encode())
    ref, ref_errors = read_satcat_table(MESSY, file=str(messy))
    for stage in ("sqlite", "postgresql", None):
        pre = _Prefetch.start([cat, sat, messy], "auto", stage=stage)
        assert pre is not None
        try:
            assert pre.get(cat) is None
            got = pre.get(sat)
            assert got.format == "satcat-celestrak" and got.errors == [] and len(got.table) == 62652
            odd = pre.get(messy)
            assert [e.as_dict() for e in odd.errors] == [e.as_dict() for e in ref_errors]
            if stage == "sqlite":
                assert isinstance(got.table, StagedObjects) and len(set(got.table.norad_ids)) == 62652
                assert odd.table.rows() == [(n, *r) for n, *r in _rows_of(ref, odd.table.fields)]
            elif stage == "postgresql":
                assert got.table.fits("postgresql") and not got.table.fits("sqlite")
                assert got.table.copy_text.count(b"\n") == len(got.table.norad_ids) == 62652
            else:
                assert isinstance(got.table, SatcatTable) and got.table.columns == read_satcat_table(
                    _text(sat), file=str(sat))[0].columns
        finally:
            pre.close()
        assert list(tmp_path.iterdir()) == [messy]


def _rows_of(t, fields):
    from orbitwatch.formats.satcat import satcat_object_rows

    got_fields, rows = satcat_object_rows(t)
    assert got_fields == fields
    return rows


ODD_TEXT = ('OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OWNER,LAUNCH_DATE,LAUNCH_SITE,PERIOD\n'
            '"BACK\\SLASH \\N",2000-001A,11,PAY,US,2000-01-01,"TAB\tSITE",95.5\n'
            '"LINE\nBREAK",2000-001B,12,DEB,US,2000-01-01,\\N,1e2\n'
            '"CR\rRETURN \u00e9\u6f22",2000-001C,13,R/B,US,2000-01-01,,0.1\n'
            '\\.,2000-001D,14,PAY,US,,,\n')


@pytest.mark.parametrize("stage", ["file", "copy", "table"])
def test_odd_text_read_elsewhere(engine, tmp_path, stage):
    """Text the staging formats give a meaning (backslashes, tabs, line ends, a literal \\N or \\.) is
    stored as read."""
    path = tmp_path / "odd.csv"
    path.write_bytes(ODD_TEXT.encode())
    report = ingest_paths(engine, [path], source="s", prefetched=_staged_reader(tmp_path, stage=stage)[0])
    records = _satcat_records(path)
    assert [r.object_name for r in records] == ["BACK\\SLASH \\N", "LINE\nBREAK", "CR\rRETURN \u00e9\u6f22", "\\."]
    assert (report.accepted, report.rejected) == (4, 0)
    expected: dict = {}
    _describe(expected, records)
    assert _stored(engine) == expected
    assert expected[11]["launch_site"] == "TAB\tSITE" and expected[12]["launch_site"] == "\\N"
