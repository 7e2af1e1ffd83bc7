"""Stored conjunctions carry the derived marking of their inputs and read back filtered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from geometry import EPOCH, crossing_pair, elset
from sqlalchemy import literal

from orbitwatch.conjunctions.screen import screen
from orbitwatch.conjunctions.storage import event_from_row, get_event, load_events, load_runs, save_events
from orbitwatch.errors import MarkingError
from orbitwatch.markings import Marking, nation_bit
from orbitwatch.store.engine import open_engine


@pytest.fixture(scope="module")
def result():
    a, b = crossing_pair(3000.0)
    c, d = crossing_pair(1000.0, norads=(90011, 90012), dnode=90.0, i=70.0)
    return screen([a, b, c, d, elset(90099, n=1.0027, i=0.1)], start=EPOCH, days=0.2, threshold_km=10.0,
                  workers=1, with_pc=False)


def _reader(nation: str):
    bit = nation_bit(nation)
    return lambda t: t.c.rel_mask.op("&")(literal(bit)) != 0


def test_round_trip_with_derived_markings(db_url, result):
    engine = open_engine(db_url)
    marks = {90001: Marking.parse("UNCLASSIFIED//REL TO USA, AUS, GBR"),
             90002: Marking.parse("UNCLASSIFIED//REL TO USA, GBR, JPN"),
             90011: Marking.parse("SECRET//REL TO USA, FRA")}
    meta = {"window_start": result.start, "window_end": result.end, "threshold_km": 10.0, "objects": 5,
            "stage_seconds": result.stage_seconds, "flags": result.flags, "source": "test"}
    with engine.begin() as conn:
        run_id = save_events(conn, meta, result.events, marks)
    with engine.connect() as conn:
        rows = load_events(conn)
        assert len(rows) == len(result.events) > 4
        by_pair = {(r.norad1, r.norad2): r for r in rows}
        assert by_pair[(90001, 90002)].marking == "UNCLASSIFIED//REL TO USA, GBR"
        assert "not releasable to AUS" in by_pair[(90001, 90002)].marking_reasons
        assert by_pair[(90011, 90012)].marking == "SECRET//REL TO USA, FRA"
        # the reader filter applies inside the query
        gbr = load_events(conn, where=_reader("GBR"))
        assert {(r.norad1, r.norad2) for r in gbr} == {(90001, 90002)}
        fra = load_events(conn, where=_reader("FRA"))
        assert {(r.norad1, r.norad2) for r in fra} == {(90011, 90012)}
        assert load_events(conn, where=_reader("NZL")) == []
        # filters
        assert {r.norad2 for r in load_events(conn, norad=90011)} == {90012}
        later = load_events(conn, since=EPOCH + timedelta(seconds=2000))
        assert all(r.tca_ts >= EPOCH.timestamp() + 2000 for r in later) and later
        assert len(load_events(conn, limit=2)) == 2
        # and back to events
        ev = event_from_row(rows[0])
        orig = result.events[0]
        assert (ev.norad1, ev.norad2, ev.tca, round(ev.miss_km, 9)) == \
            (orig.norad1, orig.norad2, orig.tca, round(orig.miss_km, 9))
        assert get_event(conn, rows[0].id, where=_reader("NZL")) is None
        runs = load_runs(conn)
        assert runs[0].id == run_id and runs[0].events == len(rows)


def test_disjoint_releasability_is_refused(sqlite_url, result):
    engine = open_engine(sqlite_url)
    marks = {90001: Marking.parse("SECRET//GBR EYES ONLY"), 90002: Marking.parse("SECRET//FRA EYES ONLY")}
    with engine.begin() as conn, pytest.raises(MarkingError, match="90001/90002"):
        save_events(conn, {"window_start": datetime.now(UTC), "window_end": datetime.now(UTC)}, result.events,
                    marks)


def test_hard_body_radius_is_stored_and_read_back(db_url):
    """The combined HBR the Pc used survives the store: the API's CDM of a stored event states it."""
    a, b = crossing_pair(3000.0)
    res = screen([a, b], start=EPOCH, days=0.2, threshold_km=10.0, workers=1, hbr_m={90001: 3.0})
    assert res.events
    engine = open_engine(db_url)
    meta = {"window_start": res.start, "window_end": res.end, "threshold_km": 10.0, "source": "test"}
    with engine.begin() as conn:
        save_events(conn, meta, res.events, {})
    with engine.connect() as conn:
        rows = load_events(conn)
    # 3 m for 90001, half of CARA's 20 m default for the unknown 90002
    assert [r.hbr_m for r in rows] == [13.0] * len(res.events)
    assert event_from_row(rows[0]).hbr_m == 13.0
    engine.dispose()
