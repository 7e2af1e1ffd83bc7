"""Releases: only the originator widens; the act is recorded; the widened record is visible at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from orbitwatch.errors import NotFound, PermissionDenied, ValidationError
from orbitwatch.markings import Marking
from orbitwatch.sharing import Principal, readable_by
from orbitwatch.sharing.audit import AuditLog
from orbitwatch.sharing.releases import list_releases, release
from orbitwatch.sharing.testing import MarkedRecord, insert_records
from orbitwatch.store import queries
from orbitwatch.store.engine import open_engine
from orbitwatch.store.schema import element_sets

GBR = Principal("gbr", "GBR", "SECRET", roles=frozenset({"analyst"}))
AUS = Principal("aus", "AUS", "SECRET", roles=frozenset({"analyst"}))
USA = Principal("usa", "USA", "SECRET", roles=frozenset({"analyst"}))


@pytest.fixture
def engine(db_url):
    e = open_engine(db_url)
    gbr_only = Marking.parse("SECRET//GBR EYES ONLY")
    insert_records(e, [MarkedRecord(40001, gbr_only, gbr_only, "GBR"),
                       MarkedRecord(40002, Marking.parse("SECRET//REL TO USA, GBR"),
                                    Marking.parse("SECRET//REL TO USA, GBR"), "USA")], history=3)
    yield e
    e.dispose()


def _latest(engine, p):
    with engine.connect() as conn:
        return {r.norad_id: r for r in queries.latest_element_sets(conn, where=readable_by(p))}


def test_release_object_widens_at_once_and_is_recorded(engine):
    log = AuditLog(b"k")
    assert 40001 not in _latest(engine, AUS)
    result = release(engine, GBR, "object", 40001, ["AUS"], reason="share detection", audit=log)
    assert result.nations_added == ["AUS"]
    assert result.records_widened == 4  # the object row and its three element sets
    assert result.markings == {"SECRET//GBR EYES ONLY": "SECRET//REL TO AUS, GBR"}
    seen = _latest(engine, AUS)
    assert 40001 in seen and seen[40001].marking == "SECRET//REL TO AUS, GBR"
    with engine.connect() as conn:
        assert queries.get_object(conn, 40001, where=readable_by(AUS)) is not None
        hist = queries.element_set_history(conn, 40001, where=readable_by(AUS))
        assert len(hist) == 3
        assert 40001 not in {r.norad_id for r in queries.latest_element_sets(conn, where=readable_by(USA))}
        rel = list_releases(conn, GBR)
        assert {r["table_name"] for r in rel} == {"space_objects", "element_sets"}
        assert all(r["added_nations"] == "AUS" and r["released_by"] == "gbr" for r in rel)
        assert list_releases(conn, AUS) == []  # others' acts are not listed
        entries = AuditLog.entries(conn, action="release")
        assert entries[0].resource == "object/40001" and entries[0].detail["added"] == ["AUS"]
        assert log.verify(conn).ok


def test_only_the_originator_may_release(engine):
    with pytest.raises(PermissionDenied, match="only the originating nation \\(USA\\)"):
        release(engine, GBR, "object", 40002, ["AUS"])


def test_unreadable_record_is_not_found_not_forbidden(engine):
    # USA may not read 40001 at all: it must not learn the record exists.
    with pytest.raises(NotFound, match="object 40001 not found"):
        release(engine, USA, "object", 40001, ["AUS"])
    with pytest.raises(NotFound, match="object 49999 not found"):
        release(engine, USA, "object", 49999, ["AUS"])


def test_release_never_narrows_and_is_idempotent(engine):
    release(engine, GBR, "object", 40001, ["AUS"])
    again = release(engine, GBR, "object", 40001, ["AUS", "GBR"])
    assert again.records_widened == 0 and again.nations_added == []


def test_single_element_set_release(engine):
    with engine.connect() as conn:
        ids = conn.execute(select(element_sets.c.id).where(element_sets.c.norad_id == 40001)
                           .order_by(element_sets.c.epoch_ts)).scalars().all()
    release(engine, GBR, "element_set", ids[0], ["NZL"])
    nzl = Principal("nzl", "NZL", "SECRET", roles=frozenset({"analyst"}))
    with engine.connect() as conn:
        hist = queries.element_set_history(conn, 40001, where=readable_by(nzl))
    assert [r.id for r in hist] == [ids[0]]
    # The newest set NZL may read is the old one: "latest" is computed after the filter.
    assert _latest(engine, nzl)[40001].id == ids[0]


@pytest.mark.parametrize(("who", "args", "exc", "match"), [
    (GBR, ("object", 40001, ["RUS"]), ValidationError, "unknown nation"),
    (GBR, ("object", 40001, []), ValidationError, "at least one nation"),
    (GBR, ("conjunction", 1, ["AUS"]), ValidationError, "cannot release"),
    (Principal("g", "GBR", "SECRET", roles=frozenset({"exercise-control"})), ("object", 40001, ["AUS"]),
     PermissionDenied, "roles"),
    (Principal("o", None, "UNCLASSIFIED", organisation="ACME", roles=frozenset({"analyst"})),
     ("object", 40001, ["AUS"]), PermissionDenied, "national user"),
])
def test_release_refusals(engine, who, args, exc, match):
    with pytest.raises(exc, match=match):
        release(engine, who, *args)
