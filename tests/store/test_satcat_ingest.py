"""A SATCAT file describes objects exactly as its records say, whichever path reads and writes it.

The bulk path reads a SATCAT CSV as columns and merges it into the store by SQL. The reference here is
the rule written out plainly over the row-by-row readers' records: per object the file's last record;
each field a record gives replaces the stored one, a field it leaves empty keeps the stored one; the
regime is that of the record's period, apogee and perigee (none without a period); element sets fill
a designator and name only where none is stored, and give the regime of their newest set.
"""

from __future__ import annotations

import gzip

import pytest
from sqlalchemy import select

from orbitwatch.formats.records import OWNER_CODE_TO_TRIGRAPH, SatcatRecord, regime_of
from orbitwatch.formats.satcat import read_satcat_csv
from orbitwatch.formats.tle import read_tle
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
