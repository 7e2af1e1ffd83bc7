"""The API's prepared hot reads (``api/reads.py``) return exactly what the store's query functions return,
for random catalogues ingested by several nations under random markings (objects described under several
markings included), for every nation x clearance, organisations and the public.

The store functions are the reference: they state the semantics ("latest" after the filter, the
reader's view of an object); if the store changes them and the API's statements do not follow, this
fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from orbitwatch.api import reads
from orbitwatch.formats.records import ElementSet, SatcatRecord
from orbitwatch.sharing.authz import readable_by
from orbitwatch.sharing.principal import anonymous
from orbitwatch.sharing.testing import all_principals, clear_catalogue, marking_strategy
from orbitwatch.store import queries
from orbitwatch.store.engine import open_engine
from orbitwatch.store.ingest import ingest_records

NORADS = (5, 11, 25544, 40001, 43013)
NAMES = ("ISS (ZARYA)", "Starlink-1007", "STARLINK-2001", "cosmos 2251 deb", "VANGUARD 1", "Déb ß")
T0 = datetime(2023, 10, 9, 12, tzinfo=UTC)


@st.composite
def batches(draw):
    """A few ingest batches: each one nation, one marking, some objects' element sets (and sometimes
    their SATCAT descriptions), epochs that collide across batches on purpose (ties)."""
    out = []
    for _ in range(draw(st.integers(1, 5))):
        marking = draw(marking_strategy())
        nation = draw(st.sampled_from(sorted(marking.rel_to)))
        records: list = []
        for norad in draw(st.lists(st.sampled_from(NORADS), min_size=1, max_size=4, unique=True)):
            name = draw(st.sampled_from(NAMES))
            for day in draw(st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True)):
                mean_motion = draw(st.sampled_from([15.5, 2.0, 1.0027]))  # LEO, MEO, GEO
                anomaly = float(draw(st.integers(0, 359)))
                records.append(ElementSet(
                    norad_id=norad, epoch=T0 - timedelta(days=day), mean_motion=mean_motion, eccentricity=0.001,
                    inclination=51.6, raan=10.0, arg_perigee=20.0, mean_anomaly=anomaly, object_name=name,
                    object_id="1998-067A"))
            if draw(st.booleans()):
                records.append(SatcatRecord(
                    norad_id=norad, object_id="1998-067A", object_name=name,
                    object_type=draw(st.sampled_from(["PAYLOAD", "DEBRIS", "ROCKET BODY"])),
                    owner=draw(st.sampled_from(["US", "UK", "CIS"])), launch_date="1998-11-20"))
        out.append((nation, marking, records))
    return out


def _readers():
    return [p for p in all_principals() if not p.is_anonymous] + [anonymous()]


SEARCHES = [
    dict(),
    dict(name="starlink"),
    dict(name="DEB"),
    dict(name="ß"),
    dict(regime="LEO"),
    dict(regime="GEO"),
    dict(owner="us"),
    dict(object_type="PAYLOAD"),
    dict(norad_ids=(25544, 5, 999)),
]


def check_reader(engine, p) -> None:
    where = readable_by(p)
    raw = engine.raw_connection()
    try:
        with engine.connect() as conn:
            ids = [*NORADS, 77777]
            want = queries.latest_element_sets(conn, where=where, norad_ids=ids)
            got = reads.latest_of(raw, engine, where, ids)
            assert [tuple(r._mapping[c] for c in reads.ELSET_COLUMNS) for r in want] == \
                   [r[:len(reads.ELSET_COLUMNS)] for r in got], p
            cols = ("norad_id", "id", "epoch_ts", "original", "class_rank")
            want = queries.latest_element_sets(conn, where=where)
            assert [tuple(r._mapping[c] for c in cols) for r in want] == reads.latest_all(raw, engine, where, cols), p
            assert [tuple(r._mapping[c] for c in cols[1:]) for r in want] == \
                   reads.latest_all(raw, engine, where, cols[1:]), p
            for norad in NORADS[:3]:
                for start, end, limit in ((None, None, None), (T0.timestamp() - 86400 * 2.5, None, 2),
                                          (None, T0.timestamp() - 86400, None)):
                    want = queries.element_set_history(conn, norad, where=where, start=start, end=end, limit=limit)
                    got = reads.history_of(raw, engine, where, norad, cols, start=start, end=end, limit=limit)
                    assert [tuple(r._mapping[c] for c in cols) for r in want] == got, (p, norad, start, end)
            ocols = ("name", "object_type", "owner", "marking")
            want = queries.search_objects(conn, where=where)
            views = sorted(reads.object_views(raw, engine, where, ocols))
            assert [(r.norad_id, *(r._mapping[c] for c in ocols)) for r in want] == views, p
            assert sorted(reads.object_views(raw, engine, where, ocols, [5, 25544])) == [v for v in views
                                                                                       if v[0] in (5, 25544)]
            for search in SEARCHES:
                q = reads.ObjectQuery(**search)
                filters = {k: (list(v) if k == "norad_ids" else v) for k, v in search.items()}
                for sort, desc, limit, offset in (("norad_id", False, 100, 0), ("name", True, 2, 1)):
                    want = queries.search_objects(conn, where=where, sort=sort, descending=desc, limit=limit,
                                                  offset=offset, **filters)
                    got = reads.search_objects(raw, engine, where, q, sort=sort, descending=desc, limit=limit,
                                               offset=offset)
                    assert [tuple(r._mapping[c] for c in reads.OBJECT_COLUMNS) for r in want] == \
                           [r[:len(reads.OBJECT_COLUMNS)] for r in got], (p, search, sort, limit)
                assert reads.count_objects(raw, engine, where, q) == queries.count_objects(conn, where=where,
                                                                                           **filters), (p, search)
    finally:
        raw.close()


@pytest.mark.slow
def test_prepared_reads_equal_the_store(db_url):
    engine = open_engine(db_url)
    examples = 8 if db_url.startswith("sqlite") else 3

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              phases=[Phase.explicit, Phase.generate])
    @given(batches())
    def check(bs):
        clear_catalogue(engine)
        for nation, marking, records in bs:
            ingest_records(engine, records, source="test", nation=nation, marking=marking)
        for p in _readers():
            check_reader(engine, p)

    try:
        check()
    finally:
        engine.dispose()


def test_prepared_reads_one_object_under_two_markings(db_url):
    # A fixed, readable case of the property: one object described by USA (SECRET, USA+GBR) and by FRA
    # (UNCLASSIFIED, all partners) - each reader sees its own view, newest readable element set first.
    from orbitwatch.markings import Marking

    engine = open_engine(db_url)
    try:
        secret = Marking.parse("SECRET//REL TO USA, GBR")
        usa = [ElementSet(norad_id=25544, epoch=T0, mean_motion=15.5, eccentricity=0.001, inclination=51.6,
                          raan=1.0, arg_perigee=2.0, mean_anomaly=3.0, object_name="ISS (ZARYA)"),
               SatcatRecord(norad_id=25544, object_name="ISS (ZARYA)", object_type="PAYLOAD", owner="US")]
        fra = [ElementSet(norad_id=25544, epoch=T0 - timedelta(days=1), mean_motion=15.5, eccentricity=0.001,
                          inclination=51.6, raan=1.0, arg_perigee=2.0, mean_anomaly=4.0, object_name="ISS")]
        ingest_records(engine, usa, source="test", nation="USA", marking=secret)
        ingest_records(engine, fra, source="test", nation="FRA", marking=Marking())
        with engine.connect() as conn:  # the case this test is about: several rows, a composed view
            assert conn.exec_driver_sql("SELECT count(*), max(multi) FROM space_objects").one() == (3, 1)
        for p in _readers():
            if p.nation not in (None, "USA", "GBR", "FRA") or p.clearance == "RESTRICTED":
                continue
            check_reader(engine, p)
    finally:
        engine.dispose()
