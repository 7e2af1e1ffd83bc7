"""Markings: parsing, formatting, validation, the read rule and derived products."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orbitwatch.errors import MarkingError
from orbitwatch.markings import (
    ALL_NATIONS,
    NATIONS,
    TLP_LEVELS,
    Marking,
    can_read,
    combine,
    derive,
    sort_trigraphs,
)


def test_banner_is_written_usa_first_then_alphabetical():
    m = Marking.parse("UNCLASSIFIED//REL TO GBR, AUS, USA")
    assert str(m) == "UNCLASSIFIED//REL TO USA, AUS, GBR"
    assert sort_trigraphs(["NZL", "USA", "CAN"]) == ["USA", "CAN", "NZL"]


def test_strict_parse_rejects_misordered_list_and_says_the_right_order():
    with pytest.raises(MarkingError, match="USA, AUS, GBR"):
        Marking.parse("SECRET//REL TO GBR, AUS, USA", strict=True)


@pytest.mark.parametrize("text, reason", [
    ("SECRET//REL TO USA, XYZ", "unknown trigraph 'XYZ'"),
    ("TOPSECRET//REL TO USA", "unknown classification"),
    ("SECRET", "needs a releasability"),
    ("UNCLASSIFIED//REL TO USA, USA", "listed twice"),
    ("UNCLASSIFIED//TLP:ORANGE", "unknown TLP"),
    ("UNCLASSIFIED//BANANA", "unrecognised segment"),
    ("", "empty marking"),
])
def test_bad_markings_are_rejected_with_the_reason(text, reason):
    with pytest.raises(MarkingError, match=reason):
        Marking.parse(text)


def test_national_only_tetragraphs_modes_and_tlp():
    m = Marking.parse("SECRET//GBR EYES ONLY//EXERCISE")
    assert m.rel_to == {"GBR"} and m.national_only and m.data_mode == "EXERCISE"
    assert str(m) == "SECRET//GBR EYES ONLY//EXERCISE"
    assert Marking.parse("CONFIDENTIAL//REL TO FVEY").rel_to == {"AUS", "CAN", "GBR", "NZL", "USA"}
    assert Marking.parse("U//REL TO CSPO").rel_to == ALL_NATIONS
    assert Marking.parse("S//NOFORN").rel_to == {"USA"}
    t = Marking.parse("UNCLASSIFIED//TLP:AMBER+STRICT//ORG ACME")
    assert t.tlp == "AMBER+STRICT" and t.orgs == {"ACME"}


def test_originator_must_be_in_rel_to():
    with pytest.raises(MarkingError, match="does not include the originator FRA"):
        Marking.parse("SECRET//REL TO USA, GBR").check_originator("FRA")
    Marking.parse("SECRET//REL TO USA, FRA").check_originator("FRA")


def test_read_rule_needs_nation_and_clearance():
    m = Marking.parse("CONFIDENTIAL//REL TO USA, GBR")
    assert can_read(m, nation="GBR", clearance="SECRET")
    assert can_read(m, nation="GBR", clearance="CONFIDENTIAL")
    assert not can_read(m, nation="GBR", clearance="RESTRICTED")
    assert not can_read(m, nation="FRA", clearance="SECRET")


def test_partner_organisations_follow_tlp():
    green = Marking.parse("UNCLASSIFIED//TLP:GREEN")
    amber = Marking.parse("UNCLASSIFIED//TLP:AMBER//ORG ACME")
    untagged = Marking.parse("UNCLASSIFIED")
    secret_green = Marking.parse("SECRET//REL TO USA//TLP:GREEN")
    assert can_read(green, nation=None, organisation="ACME", clearance="UNCLASSIFIED")
    assert can_read(amber, nation=None, organisation="ACME", clearance="UNCLASSIFIED")
    assert not can_read(amber, nation=None, organisation="OTHER", clearance="UNCLASSIFIED")
    assert not can_read(untagged, nation=None, organisation="ACME", clearance="UNCLASSIFIED")
    assert not can_read(secret_green, nation=None, organisation="ACME", clearance="SECRET")


def test_derived_product_takes_highest_level_and_intersection_and_says_why():
    a = ("elset 25544", Marking.parse("UNCLASSIFIED//REL TO USA, AUS, GBR"))
    b = ("elset 48274", Marking.parse("SECRET//REL TO USA, GBR, JPN//EXERCISE"))
    d = derive([a, b])
    assert d.marking.classification == "SECRET"
    assert d.marking.rel_to == {"USA", "GBR"}
    assert d.marking.data_mode == "EXERCISE"
    text = " ".join(d.reasons)
    assert "elset 48274 is not releasable to AUS" in text
    assert "classification SECRET from elset 48274" in text


def test_products_of_disjoint_releases_are_refused():
    with pytest.raises(MarkingError, match="share no releasable nation"):
        combine([Marking.parse("S//GBR EYES ONLY"), Marking.parse("S//FRA EYES ONLY")])


markings = st.builds(
    Marking,
    classification=st.sampled_from(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]),
    rel_to=st.frozensets(st.sampled_from(NATIONS), min_size=1),
    data_mode=st.sampled_from(["REAL", "EXERCISE", "SIMULATED", "TEST"]),
    tlp=st.none() | st.sampled_from(TLP_LEVELS),
)


@given(markings)
def test_text_round_trip(m):
    assert Marking.parse(str(m)) == m


@given(st.lists(markings, min_size=1, max_size=4), st.sampled_from(NATIONS),
       st.sampled_from(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]))
def test_whoever_reads_a_derived_product_could_read_every_input(inputs, nation, clearance):
    try:
        derived = combine(inputs)
    except MarkingError:
        return
    if can_read(derived, nation=nation, clearance=clearance):
        assert all(can_read(m, nation=nation, clearance=clearance) for m in inputs)


org_markings = st.builds(
    Marking,
    classification=st.sampled_from(["UNCLASSIFIED", "UNCLASSIFIED", "RESTRICTED"]),
    rel_to=st.frozensets(st.sampled_from(NATIONS), min_size=1),
    tlp=st.none() | st.sampled_from(TLP_LEVELS),
    orgs=st.frozensets(st.sampled_from(["ACME", "ORBITCO", "SKYWATCH"]), max_size=2),
)


@given(st.lists(org_markings, min_size=1, max_size=4), st.sampled_from(["ACME", "ORBITCO", "SKYWATCH"]))
def test_an_organisation_reads_a_derived_product_exactly_when_it_reads_every_input(inputs, org):
    """Both ways: no leak through derivation, and no product withheld from an organisation that may read
    all of its inputs (TLP:RED naming ACME with TLP:GREEN is readable by ACME)."""
    try:
        derived = combine(inputs)
    except MarkingError:
        return
    reads_all = all(can_read(m, nation=None, clearance="UNCLASSIFIED", organisation=org) for m in inputs)
    assert can_read(derived, nation=None, clearance="UNCLASSIFIED", organisation=org) == reads_all


def test_red_for_one_organisation_with_green_stays_readable_by_it():
    red = Marking.parse("UNCLASSIFIED//TLP:RED//ORG ACME")
    green = Marking.parse("UNCLASSIFIED//TLP:GREEN")
    d = combine([red, green])
    assert d.tlp == "RED" and d.orgs == frozenset({"ACME"})
    assert can_read(d, nation=None, clearance="UNCLASSIFIED", organisation="ACME")
    assert not can_read(d, nation=None, clearance="UNCLASSIFIED", organisation="ORBITCO")


def test_short_banner_uses_tetragraphs_only_for_exact_groups():
    assert Marking.parse("UNCLASSIFIED").short() == "UNCLASSIFIED//REL TO CSPO"
    assert Marking.parse("S//REL TO AUS, CAN, GBR, NZL, USA").short() == "SECRET//REL TO FVEY"
    assert Marking.parse("S//REL TO USA, GBR").short() == "SECRET//REL TO USA, GBR"
