"""The SQL read filter agrees with the releasability rule ``can_read`` for random markings, on SQLite
and PostgreSQL, for every nation at every clearance, partner organisations and the public."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from orbitwatch.markings import Marking
from orbitwatch.sharing import Principal, readable_by
from orbitwatch.sharing.principal import anonymous, is_public
from orbitwatch.sharing.testing import all_principals, clear_catalogue, marking_strategy, object_row
from orbitwatch.store.engine import open_engine
from orbitwatch.store.schema import space_objects

PRINCIPALS = all_principals()


def _visible(conn, principal: Principal) -> set[int]:
    where = readable_by(principal)
    return set(conn.execute(select(space_objects.c.norad_id).where(where(space_objects))).scalars())


def test_filter_agrees_with_can_read(db_url):
    engine = open_engine(db_url)
    examples = 40 if db_url.startswith("sqlite") else 15

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(marking_strategy(), min_size=1, max_size=25))
    def check(markings: list[Marking]) -> None:
        clear_catalogue(engine)
        with engine.begin() as conn:
            conn.execute(space_objects.insert(), [object_row(i + 1, m, None) for i, m in enumerate(markings)])
        with engine.connect() as conn:
            for p in PRINCIPALS:
                expected = {i + 1 for i, m in enumerate(markings) if p.can_read(m)}
                assert _visible(conn, p) == expected, (p, [str(m) for m in markings])

    try:
        check()
    finally:
        engine.dispose()


def test_principal_rule_matches_markings_module():
    # The Python twin must be the module's rule for national and organisation users.
    from orbitwatch.markings import can_read

    m = Marking.parse("CONFIDENTIAL//REL TO USA, GBR")
    gbr_c = Principal("g", "GBR", "CONFIDENTIAL")
    gbr_r = Principal("g", "GBR", "RESTRICTED")
    fra_s = Principal("f", "FRA", "SECRET")
    assert gbr_c.can_read(m) and can_read(m, nation="GBR", clearance="CONFIDENTIAL")
    assert not gbr_r.can_read(m)
    assert not fra_s.can_read(m)


def test_public_reads_only_tlp_clear_lowest(sqlite_url):
    engine = open_engine(sqlite_url)
    markings = [Marking.parse("UNCLASSIFIED//TLP:CLEAR"), Marking.parse("UNCLASSIFIED"),
                Marking.parse("UNCLASSIFIED//TLP:GREEN"),
                Marking("RESTRICTED", frozenset({"USA"}), tlp="CLEAR")]
    with engine.begin() as conn:
        conn.execute(space_objects.insert(), [object_row(i + 1, m, None) for i, m in enumerate(markings)])
    with engine.connect() as conn:
        assert _visible(conn, anonymous()) == {1}
    assert [is_public(m) for m in markings] == [True, False, False, False]


def test_organisation_match_is_exact_and_case_sensitive(sqlite_url):
    # LIKE would match 'acme' to 'ACME' on SQLite and '%' wildcards in names; the filter must not.
    engine = open_engine(sqlite_url)
    markings = [Marking.parse("UNCLASSIFIED//TLP:AMBER//ORG ACME"),
                Marking.parse("UNCLASSIFIED//TLP:AMBER//ORG acme"),
                Marking.parse("UNCLASSIFIED//TLP:RED//ORG ACME2"),
                Marking.parse("UNCLASSIFIED//TLP:GREEN"),
                Marking.parse("UNCLASSIFIED//REL TO USA, GBR")]
    with engine.begin() as conn:
        conn.execute(space_objects.insert(), [object_row(i + 1, m, None) for i, m in enumerate(markings)])
    with engine.connect() as conn:
        acme = Principal("o", None, "UNCLASSIFIED", organisation="ACME")
        assert _visible(conn, acme) == {1, 4}
        wild = Principal("o", None, "UNCLASSIFIED", organisation="AC%")
        assert _visible(conn, wild) == {4}


def test_unknown_nation_fails_closed():
    from orbitwatch.errors import MarkingError

    with pytest.raises(MarkingError, match="unknown nation"):
        readable_by(Principal("x", "RUS", "SECRET"))
    nobody = Principal("x", None, "UNCLASSIFIED")  # neither nation nor organisation
    engine = open_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(space_objects.insert(), [object_row(1, Marking(), None)])
    with engine.connect() as conn:
        assert _visible(conn, nobody) == set()
