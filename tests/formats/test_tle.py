"""The strict TLE/3LE reader and writer (orbitwatch.formats.tle): columns, checksums, Alpha-5, epochs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fmt_helpers import ISS_LINES, ORBIT_FIELDS, orbit_tuple, read_text, with_checksum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.formats.tle import (
    alpha5_decode,
    alpha5_encode,
    checksum,
    format_tle,
    parse_tle,
    read_tle,
)


def patch(line: str, col: int, text: str) -> str:
    """Replace 1-based column(s) starting at ``col`` and fix the checksum."""
    body = line[:68]
    body = body[:col - 1] + text + body[col - 1 + len(text):]
    return with_checksum(body)


# ----------------------------------------------------------------------------------- good records
def test_iss_values_match_python_sgp4_parser(iss_lines):
    """python-sgp4's own TLE parser is the outside reference for units and fields."""
    from sgp4.api import Satrec

    l1, l2 = iss_lines
    es = parse_tle(l1, l2, "ISS (ZARYA)")
    sat = Satrec.twoline2rv(l1, l2)
    assert es.norad_id == sat.satnum == 25544
    assert es.inclination == 51.6416 and es.raan == 247.4627
    assert es.eccentricity == sat.ecco == 0.0006703
    assert es.arg_perigee == 130.536 and es.mean_anomaly == 325.0288
    assert es.mean_motion == 15.72125391
    assert es.bstar == sat.bstar == -1.1606e-05
    assert es.mean_motion_dot == -2.182e-05
    assert es.mean_motion_ddot == 0.0
    assert es.element_set_no == 292 and es.rev_at_epoch == 56353
    assert es.object_id == "1998-067A" and es.object_name == "ISS (ZARYA)"
    assert es.classification_type == "U" and es.ephemeris_type == 0
    # Epoch: 2008 day 264.51782528 = 2008-09-20 12:25:40.104192 (rounded to the microsecond).
    assert es.epoch == datetime(2008, 9, 20, 12, 25, 40, 104192, tzinfo=UTC)
    jd_ours = 2440587.5 + es.epoch_unix / 86400.0
    assert abs(jd_ours - (sat.jdsatepoch + sat.jdsatepochF)) * 86400.0 < 1e-6  # seconds
    assert es.original == f"0 ISS (ZARYA)\n{l1}\n{l2}"


def test_checksum_function(iss_lines):
    l1, l2 = iss_lines
    assert checksum(l1) == int(l1[68])
    assert checksum(l2) == int(l2[68])
    assert checksum("1 " + "-" * 66) == (1 + 66) % 10  # a minus counts one, the leading 1 one


# ------------------------------------------------------------------------------------------ errors
def expect_error(l1: str, l2: str, field: str, text: str, line: int | None = 10) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_tle(l1, l2, file="cat.tle", line=line)
    err = info.value
    assert err.field == field, str(err)
    assert text in err.reason, str(err)
    assert err.file == "cat.tle"
    return err


def test_checksum_errors_name_line_and_values(iss_lines):
    l1, l2 = iss_lines
    bad1 = l1[:68] + str((int(l1[68]) + 1) % 10)
    err = expect_error(bad1, l2, "checksum", f"line 1 checksum is {bad1[68]}, computed {l1[68]}")
    assert err.line == 10
    bad2 = l2[:68] + str((int(l2[68]) + 3) % 10)
    err = expect_error(l1, bad2, "checksum", f"line 2 checksum is {bad2[68]}, computed {l2[68]}")
    assert err.line == 11  # errors on line 2 name the file line of line 2
    assert str(err).startswith("cat.tle:11: field 'checksum': ")
    expect_error(l1[:68] + "X", l2, "checksum", "checksum column 69 is 'X', expected a digit")
    expect_error(l1[:68] + "²", l2, "checksum", "expected a digit")  # a Unicode digit is no digit


def test_column_errors(iss_lines):
    l1, l2 = iss_lines
    expect_error(patch(l1, 9, "X"), l2, "columns", "line 1 column 9 must be blank")
    expect_error(l1, patch(l2, 17, "7"), "columns", "line 2 column 17 must be blank")
    expect_error(patch(l1, 1, "3"), l2, "line_number", "line 1 must start with '1 '")
    expect_error(l1, patch(l2, 1, "1"), "line_number", "line 2 must start with '2 '")
    expect_error(patch(l1, 8, "X"), l2, "classification", "expected U, C or S")
    expect_error(l1, patch(l2, 3, "25545"), "norad_id", "catalogue numbers differ")
    expect_error(patch(l1, 3, "2554a"), patch(l2, 3, "2554a"), "norad_id", "is not a number")
    expect_error(l1, patch(l2, 27, "0.06703"), "eccentricity", "7 digits with an implied leading decimal")
    expect_error(l1, patch(l2, 9, "181.0000"), "inclination", "outside 0..180")
    expect_error(l1, patch(l2, 18, "360.5000"), "raan", "outside 0..360")
    expect_error(l1, patch(l2, 53, " 0.00000000"), "mean_motion", "must be positive")
    expect_error(l1, patch(l2, 53, "        nan"), "mean_motion", "not a finite number")
    expect_error(patch(l1, 21, "400.00000000"), l2, "epoch", "outside 1..366")
    expect_error(patch(l1, 19, "0x"), l2, "epoch", "is not two digits")
    expect_error(patch(l1, 54, " 1160a-4"), l2, "bstar", "not in TLE exponent notation")
    expect_error(patch(l1, 34, " .0000abc "), l2, "mean_motion_dot", "is not a number")
    expect_error(patch(l1, 10, "9806 A  "), l2, "object_id", "must start with YYNNN")


def test_line_length_rules(iss_lines):
    l1, l2 = iss_lines
    # Text after column 69 is ignored when a blank separates it (SGP4-VER.TLE carries start/stop there).
    es = parse_tle(l1 + "   0.0  1440.0  360.0", l2)
    assert es.original.splitlines()[0] == l1
    expect_error(l1 + "X", l2, "length", "70 columns long; a TLE line has 69")
    expect_error(l1[:60], l2, "length", "60 columns long")


def test_unicode_digits_never_crash(iss_lines):
    """str.isdigit() accepts '²' and Arabic-Indic digits that int()/float() refuse or misread."""
    l1, l2 = iss_lines
    es = parse_tle(patch(l1, 65, "²²²²"), l2)  # element set number: not digits -> not given
    assert es.element_set_no is None
    expect_error(l1, patch(l2, 27, "٠٠٠٦٧٠٣"), "eccentricity", "7 digits")
    expect_error(patch(l1, 19, "٠٨"), l2, "epoch", "two digits")


# ---------------------------------------------------------------------------------------- Alpha-5
@pytest.mark.parametrize(("field", "number"), [
    ("00005", 5), ("25544", 25544), ("99999", 99999), ("A0000", 100000), ("A0001", 100001),
    ("H9999", 179999), ("J0000", 180000), ("N9999", 229999), ("P0000", 230000), ("T0449", 270449),
    ("Z9999", 339999), ("   29", 29),
])
def test_alpha5_decode(field, number):
    assert alpha5_decode(field) == number
    if field.strip() == field:
        assert alpha5_encode(number) == field


@pytest.mark.parametrize("field", ["I0000", "O1234", "AA000", "A000", "a0000", "A00X0", "", "12 34"])
def test_alpha5_decode_rejects(field):
    with pytest.raises(ValueError):
        alpha5_decode(field)


def test_alpha5_bounds_on_writing(iss_lines):
    assert alpha5_encode(100000) == "A0000"
    assert alpha5_encode(339999) == "Z9999"
    with pytest.raises(ValidationError, match="catalogue number 340000 cannot be written in a TLE"):
        alpha5_encode(340000)
    with pytest.raises(ValidationError, match="write OMM instead"):
        alpha5_encode(-1)
    es = parse_tle(*iss_lines)
    es.norad_id = 340000
    with pytest.raises(ValidationError) as info:
        format_tle(es)
    assert info.value.field == "norad_id"
    es.norad_id = 339999
    l1, l2 = format_tle(es).splitlines()
    assert l1[2:7] == l2[2:7] == "Z9999"
    assert parse_tle(l1, l2).norad_id == 339999


def test_alpha5_record_parses(iss_lines):
    l1, l2 = iss_lines
    es = parse_tle(patch(l1, 3, "A0000"), patch(l2, 3, "A0000"))
    assert es.norad_id == 100000


# ------------------------------------------------------------------------------------- epoch pivot
@pytest.mark.parametrize(("yy", "year"), [("57", 1957), ("99", 1999), ("00", 2000), ("56", 2056),
                                          ("23", 2023)])
def test_epoch_year_pivot_57(iss_lines, yy, year):
    l1, l2 = iss_lines
    es = parse_tle(patch(l1, 19, yy + "001.50000000"), l2)
    assert es.epoch == datetime(year, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("des", "object_id"), [("57001A  ", "1957-001A"), ("56001B  ", "2056-001B"),
                                                ("98067UR ", "1998-067UR"), ("        ", None)])
def test_designator_pivot(iss_lines, des, object_id):
    l1, l2 = iss_lines
    assert parse_tle(patch(l1, 10, des), l2).object_id == object_id


def test_leap_day_and_day_366(iss_lines):
    l1, l2 = iss_lines
    assert parse_tle(patch(l1, 19, "24060.00000000"), l2).epoch == datetime(2024, 2, 29, tzinfo=UTC)
    assert parse_tle(patch(l1, 19, "24366.75000000"), l2).epoch == datetime(2024, 12, 31, 18, tzinfo=UTC)


# ------------------------------------------------------------------------------------ read_tle
def test_read_tle_names_comments_and_errors(iss_lines):
    l1, l2 = iss_lines
    bad = l1[:68] + str((int(l1[68]) + 1) % 10)
    lines = ["# a comment", "0 ISS (ZARYA)", l1, l2, "", "BARE NAME", l1, l2, bad, l2, l1,
             "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667", l2, "   "]
    out = list(read_tle(lines, file="f.tle"))
    kinds = [type(o).__name__ for o in out]
    assert kinds == ["ElementSet", "ElementSet", "RecordError", "RecordError", "RecordError"]
    assert out[0].object_name == "ISS (ZARYA)" and out[0].line == 3
    assert out[1].object_name == "BARE NAME" and out[1].line == 7
    assert out[2] == RecordError("f.tle", 9, "checksum", f"line 1 checksum is {bad[68]}, computed {l1[68]}")
    assert out[3].field == "norad_id" and out[3].line == 12  # 25544 vs 00005
    assert out[4] == RecordError("f.tle", 13, "line_number", "line 2 without a preceding line 1")


def test_read_tle_orphan_line1(iss_lines):
    l1, l2 = iss_lines
    out = list(read_tle([l1, "NAME", l1, l2, l1], file="x"))
    assert out[0] == RecordError("x", 1, "line_number", "line 1 is not followed by a line 2")
    assert isinstance(out[1], ElementSet) and out[1].object_name == "NAME"
    assert out[2] == RecordError("x", 5, "line_number", "line 1 is not followed by a line 2")


# ------------------------------------------------------------------------------------ round trips
def test_format_tle_round_trips_real_alpha5_records(shared_data):
    """gpconf rendered these from CelesTrak OMM and validated its renderer against CelesTrak's TLEs."""
    folder = shared_data / "catalog" / "alpha5-gpconf"
    n = 0
    for path in sorted(folder.glob("*.tle")):
        lines = read_text(path).decode().splitlines()
        for rec in read_tle(lines, file=str(path)):
            assert isinstance(rec, ElementSet), str(rec)
            assert rec.norad_id >= 100000
            out1, out2 = format_tle(rec).splitlines()
            orig = rec.original.splitlines()
            assert (out1, out2) == (orig[1], orig[2])
            again = parse_tle(out1, out2, rec.object_name)
            assert orbit_tuple(again) == orbit_tuple(rec)
            n += 1
    assert n == 1 + 256 + 1 + 346


def test_format_tle_name_line(iss_lines):
    es = parse_tle(*iss_lines, name="ISS (ZARYA)")
    text = format_tle(es, name_line=True)
    out = list(read_tle(text.splitlines()))
    assert len(out) == 1 and orbit_tuple(out[0]) == orbit_tuple(es)


# ------------------------------------------------------------------------------------------ fuzzing
_TLE_ALPHABET = st.sampled_from(list("0123456789 .-+ABCUXZ\t²٣é#\r") + ["\n", "\x00", "\x0c"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_lines_only_raise_validation_errors(data):
    l1, l2 = ISS_LINES
    which = data.draw(st.integers(0, 1))
    base = [l1, l2][which]
    pos = data.draw(st.integers(0, 69))
    text = data.draw(st.text(_TLE_ALPHABET, min_size=0, max_size=6))
    mutated = base[:pos] + text + base[pos + data.draw(st.integers(0, 3)):]
    if data.draw(st.booleans()):
        mutated = with_checksum((mutated + " " * 68)[:68]) if len(mutated) >= 60 else mutated
    pair = (mutated, l2) if which == 0 else (l1, mutated)
    try:
        es = parse_tle(*pair)
    except ValidationError:
        return
    assert set(ORBIT_FIELDS) <= set(ElementSet.__slots__)
    assert 0.0 <= es.eccentricity < 1.0 and es.mean_motion > 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(_TLE_ALPHABET, max_size=80), max_size=8))
def test_fuzzed_text_never_raises(lines):
    for rec in read_tle(lines, file="fuzz"):
        assert isinstance(rec, ElementSet | RecordError)
