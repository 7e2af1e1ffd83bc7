"""SATCAT readers (CelesTrak, Space-Track, NASA CARA) against the real files, normalisation, writer."""

from __future__ import annotations

import collections

import pytest
from fmt_helpers import read_text
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import SatcatRecord
from orbitwatch.formats.satcat import (
    CELESTRAK_SATCAT_COLUMNS,
    format_satcat_csv,
    normalise_object_type,
    read_satcat_csv,
    read_satcat_json,
    read_satcat_table,
    satcat_layout,
)


def split(items):
    items = list(items)
    return ([i for i in items if isinstance(i, SatcatRecord)], [i for i in items if isinstance(i, RecordError)])


@pytest.fixture(scope="module")
def celestrak(shared_data):
    return split(read_satcat_csv(read_text(shared_data / "satcat/celestrak_satcat_processed_2025-03-06.csv.gz")
                                 .decode(), file="celestrak.csv"))


def test_celestrak_processed_counts(celestrak):
    """README: 62 652 rows (NORAD 1 .. 63 155), 29 828 on orbit."""
    recs, errs = celestrak
    assert errs == [] and len(recs) == 62652
    assert min(r.norad_id for r in recs) == 1 and max(r.norad_id for r in recs) == 63155
    assert sum(r.period_min is not None for r in recs) == 29828
    assert sum(r.decay_date is None for r in recs) == 29828
    assert {r.object_type for r in recs} == {"PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN"}
    assert all(r.source_format == "satcat-celestrak" for r in recs)


def test_celestrak_owner_counts_for_partners(celestrak):
    """README owner table (CelesTrak SATCAT, all rows)."""
    owners = collections.Counter(r.owner for r in celestrak[0])
    assert (owners["US"], owners["UK"], owners["FR"], owners["GER"], owners["IT"]) == (23012, 751, 1451, 120, 89)
    assert (owners["JPN"], owners["CA"], owners["AUS"], owners["NZ"], owners["NOR"]) == (841, 104, 59, 24, 23)
    on_orbit_us = collections.Counter(r.object_type for r in celestrak[0] if r.owner == "US" and not r.decay_date)
    assert (on_orbit_us["PAYLOAD"], on_orbit_us["ROCKET BODY"], on_orbit_us["DEBRIS"]) == (8928, 679, 4045)


def test_decayed_zero_orbit_means_not_given(celestrak):
    sputnik = next(r for r in celestrak[0] if r.norad_id == 2)
    assert sputnik.decay_date == "1958-01-03" and sputnik.launch_date == "1957-10-04"
    assert (sputnik.period_min, sputnik.inclination, sputnik.apogee_km, sputnik.perigee_km) == (None,) * 4
    iss = next(r for r in celestrak[0] if r.norad_id == 25544)
    assert iss.object_type == "PAYLOAD" and iss.owner == "ISS" and iss.period_min > 90


def test_spacetrack_counts(shared_data):
    """README: 24 062 (11 695 payload, 10 810 debris, 976 R/B, 581 unknown); COUNTRY US 11 634."""
    recs, errs = split(read_satcat_csv(
        read_text(shared_data / "satcat/spacetrack_satcat_current_leo_2025-03-15.csv.gz").decode()))
    assert errs == [] and len(recs) == 24062
    types = collections.Counter(r.object_type for r in recs)
    assert types == {"PAYLOAD": 11695, "DEBRIS": 10810, "ROCKET BODY": 976, "UNKNOWN": 581}
    assert collections.Counter(r.owner for r in recs)["US"] == 11634
    assert all(r.period_min < 128 for r in recs)  # the class is "current LEO"
    assert {r.rcs_size for r in recs} <= {"SMALL", "MEDIUM", "LARGE", None}
    assert all(r.rcs_m2 is None for r in recs)  # RCSVALUE is 0: withheld, not zero
    first = recs[0]
    assert (first.norad_id, first.object_id, first.object_name, first.launch_site) == (
        42658, "1975-052MT", "DELTA 1 DEB", "AFWTR")


def test_cara_counts_and_values(shared_data):
    """README: 58 609 objects (max id 270 449); HBR given for 23 583."""
    recs, errs = split(read_satcat_csv(
        read_text(shared_data / "satcat/nasa_cara_hbr_mass_estimates_2026-06-01.csv.gz").decode()))
    assert errs == [] and len(recs) == 58609
    assert max(r.norad_id for r in recs) == 270449
    assert sum(r.hbr_m is not None for r in recs) == 23583
    r51 = next(r for r in recs if r.norad_id == 51)
    assert r51.hbr_m == pytest.approx(0.964231173853356) and r51.mass_kg == pytest.approx(68.5679843290701)
    assert r51.object_name is None and r51.object_type is None  # CARA rows only size objects


@pytest.mark.parametrize(("given", "expected"), [
    ("PAY", "PAYLOAD"), ("payload", "PAYLOAD"), ("R/B", "ROCKET BODY"), ("ROCKET  BODY", "ROCKET BODY"),
    ("DEB", "DEBRIS"), ("Debris", "DEBRIS"), ("UNK", "UNKNOWN"), ("TBA", "UNKNOWN"), ("", "UNKNOWN"),
    (None, None),
])
def test_object_type_normalisation(given, expected):
    assert normalise_object_type(given) == expected


def test_bad_rows_are_reported_and_skipped():
    text = ("OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OWNER,LAUNCH_DATE,PERIOD\n"
            "A,2000-001A,1,PAY,US,2000-01-01,95.1\n"
            "B,2000-001B,x,PAY,US,2000-01-01,95.1\n"
            "C,2000-001C,3,SPACESHIP,US,2000-01-01,95.1\n"
            "D,2000-001D,4,DEB,US,2000-02-30,95.1\n"
            "E,2000-001E,5,DEB,US,2000-01-01,nan\n"
            "F,2000-001F,6,R/B,US\n"
            "G,2000-001G,7,R/B,fr,2000-01-01,\n")
    recs, errs = split(read_satcat_csv(text, file="s.csv"))
    assert [r.norad_id for r in recs] == [1, 7]
    assert recs[1].owner == "FR" and recs[1].period_min is None
    assert [(e.line, e.field) for e in errs] == [(3, "NORAD_CAT_ID"), (4, "OBJECT_TYPE"), (5, "LAUNCH_DATE"),
                                                 (6, "PERIOD"), (7, None)]
    assert "not YYYY-MM-DD" in errs[2].reason and "row has 5 cells" in errs[4].reason


def test_unknown_header_is_refused():
    with pytest.raises(ValidationError, match="not a SATCAT layout"):
        list(read_satcat_csv("A,B,C\n1,2,3\n", file="x.csv"))
    assert satcat_layout(["OBJECT_NAME", "EPOCH", "MEAN_MOTION", "NORAD_CAT_ID"]) is None  # that is OMM


def test_json_satcat():
    text = ('[{"OBJECT_NAME": "ISS (ZARYA)", "OBJECT_ID": "1998-067A", "NORAD_CAT_ID": 25544, '
            '"OBJECT_TYPE": "PAY", "OWNER": "ISS", "LAUNCH_DATE": "1998-11-20", "PERIOD": 92.9, '
            '"INCLINATION": 51.6, "APOGEE": 420, "PERIGEE": 415, "RCS": 399.0},\n 7]')
    recs, errs = split(read_satcat_json(text))
    assert recs[0].apogee_km == 420.0 and recs[0].rcs_m2 == 399.0 and recs[0].object_type == "PAYLOAD"
    assert errs[0].line == 2


def test_writer_round_trip(celestrak):
    sample = celestrak[0][::97]
    text = format_satcat_csv(sample)
    assert text.split("\r\n")[0] == ",".join(CELESTRAK_SATCAT_COLUMNS)
    back, errs = split(read_satcat_csv(text))
    assert errs == []
    strip = lambda r: (r.norad_id, r.object_id, r.object_name, r.object_type, r.owner, r.launch_date,  # noqa: E731
                       r.launch_site, r.decay_date, r.period_min, r.inclination, r.apogee_km, r.perigee_km,
                       r.rcs_m2, r.ops_status)
    assert [strip(b) for b in back] == [strip(s) for s in sample]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(st.sampled_from(list("0123456789.,-\"\n\r TBAPYDEU/é\x00")), max_size=40), max_size=5))
def test_fuzzed_rows_only_validation_errors(rows):
    text = ",".join(CELESTRAK_SATCAT_COLUMNS) + "\n" + "\n".join(rows)
    try:
        for item in read_satcat_csv(text):
            assert isinstance(item, SatcatRecord | RecordError)
    except ValidationError:
        pass


# ----------------------------------------------------------------------------- column reader (bulk path)
def _by_rows(text, **kw):
    """The row-by-row reader's records and errors: the reference the column reader must equal."""
    return split(read_satcat_csv(text, **kw))


@pytest.mark.parametrize("name", ["celestrak_satcat_processed_2025-03-06.csv.gz",
                                  "spacetrack_satcat_current_leo_2025-03-15.csv.gz",
                                  "nasa_cara_hbr_mass_estimates_2026-06-01.csv.gz"])
def test_table_reader_equals_row_reader_on_real_files(shared_data, name):
    text = read_text(shared_data / "satcat" / name).decode()
    table, errs = read_satcat_table(text, file=name)
    recs, ref_errs = _by_rows(text, file=name)
    assert len(table) == len(recs) > 20000
    assert table.to_records() == recs
    assert errs == ref_errs == []


MESSY = ("OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OWNER,LAUNCH_DATE,DECAY_DATE,PERIOD,INCLINATION,"
         "APOGEE,PERIGEE,RCS\r\n"
         "A,2000-001A,1,PAY,US,2000-01-01,,95.1,51.6,420,410,0.5\r\n"
         "\r\n"
         " B ,2000-001B, 2 ,R/B, fr ,2000-01-01T12:00:00,,  96.5 ,1e1,+500,-1.5,\r\n"  # spellings only rows take
         "C,2000-001C,x,PAY,US,2000-01-01,,95.1,51.6,420,410,\r\n"  # bad number
         "D,2000-001D,4,SPACESHIP,US,2000-01-01,,95.1,51.6,420,410,\r\n"  # bad type
         "E,2000-001E,5,DEB,US,2000-02-30,,95.1,51.6,420,410,\r\n"  # bad date
         "F,2000-001F,6,DEB,US,2000-01-01,,nan,51.6,420,410,\r\n"  # not finite
         "G,2000-001G,7,DEB,US\r\n"  # short row
         "H,2000-001H,8,deb,UK,2000-01-01,2001-01-01,0.0,0.0,0.0,0.0,\r\n"  # zero orbit: not given
         "I,2000-001I,9,UNK,US,2000-01-01,,1.2.3,51.6,420,410,\r\n"  # characters of a number, not a number
         "J,,10,,,,,,,,,\r\n"  # empty cells
         "K,2000-001K,3,TBA,nor,1999-12-31,,1436.1,0.05,35790,35780,12.25\r\n"  # lower-case owner
         "L,2000-001L,1,PAY,US,2000-01-01,,95.2,51.6,420,410,0.5\r\n"  # object 1 again, unsorted
         "M,2000-001M,٣,PAY,US,2000-01-01,,95.1,51.6,420,410,\r\n"  # a non-ASCII digit the row reader takes
         "N,2000-001N,11,PAY,US,2000-01-01,,95.1,51.6,420,410,1_0\r\n"  # underscore: refused
         "O,2000-001O,12345678901,PAY,US,2000-01-01,,95.1,51.6,420,410,\r\n")  # out of range


def test_table_reader_equals_row_reader_on_messy_text():
    table, errs = read_satcat_table(MESSY, file="m.csv")
    recs, ref_errs = _by_rows(MESSY, file="m.csv")
    assert table.to_records() == recs
    assert [e.as_dict() for e in errs] == [e.as_dict() for e in ref_errs]
    # The reference itself, so the comparison cannot pass on two equal mistakes.
    assert [r.norad_id for r in recs] == [1, 2, 8, 10, 3, 1, 3]
    assert [(e.line, e.field) for e in ref_errs] == [(5, "NORAD_CAT_ID"), (6, "OBJECT_TYPE"), (7, "LAUNCH_DATE"),
                                                     (8, "PERIOD"), (9, None), (11, "PERIOD"), (16, "RCS"),
                                                     (17, "NORAD_CAT_ID")]
    b = recs[1]
    assert (b.object_name, b.owner, b.launch_date, b.period_min, b.inclination, b.apogee_km, b.perigee_km) == (
        "B", "FR", "2000-01-01", 96.5, 10.0, 500.0, -1.5)
    assert recs[2].period_min is None and recs[2].object_type == "DEBRIS"


def test_table_reader_equals_row_reader_across_blocks(shared_data):
    """The column reader works in blocks of rows: odd and bad rows on both sides of block edges, in a
    real file, keep their lines, errors and order."""
    text = read_text(shared_data / "satcat/celestrak_satcat_processed_2025-03-06.csv.gz").decode()
    lines = text.split("\n")
    for j, (col, value) in {
        2: (2, " 7 "), 16384: (2, "x"), 16385: (8, "1e2"), 16386: (8, "inf"), 16387: (3, "SPACESHIP"),
        32770: (5, "1999-02-29"), 40000: (4, " uk "), 50001: (7, "2001-01-01T00:00:00"),
    }.items():
        cells = lines[j].split(",")
        cells[col] = value
        lines[j] = ",".join(cells)
    lines.insert(30000, "")  # a blank line
    lines.insert(45000, "A,B,C")  # a short row
    text = "\n".join(lines)
    table, errs = read_satcat_table(text, file="big.csv")
    recs, ref_errs = _by_rows(text, file="big.csv")
    assert table.to_records() == recs
    assert [e.as_dict() for e in errs] == [e.as_dict() for e in ref_errs]
    assert len(ref_errs) == 5 and len(recs) == 62652 - 4


def test_table_reader_on_quoted_csv_and_layouts():
    """Quoted cells (the column path does not split them) and an explicit layout: the row reader's result."""
    text = ('OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OWNER\n"DEB, A",2000-001A,1,DEB,US\n'
            '"X\nY",2000-001B,2,PAY,US\n')
    table, errs = read_satcat_table(text)
    assert table.to_records() == _by_rows(text)[0] and errs == []
    assert table.to_records()[0].object_name == "DEB, A"
    plain = "NORAD_CAT_ID,SATNAME,COUNTRY,RCSVALUE,RCS_SIZE\n5,VANGUARD 1,us,0,small\n"
    table, errs = read_satcat_table(plain, layout="satcat-spacetrack")
    assert table.to_records() == _by_rows(plain, layout="satcat-spacetrack")[0]
    assert (table.to_records()[0].rcs_m2, table.to_records()[0].rcs_size) == (None, "SMALL")
    with pytest.raises(ValidationError, match="not a SATCAT layout"):
        read_satcat_table("A,B,C\n1,2,3\n", file="x.csv")


_NOISE = st.text(st.sampled_from(list("0123456789.-+eE _ TBAPYDEUfnaé٣")), max_size=12)
_COLUMN_CELLS = (  # per column: plain values (the column path) or noise (mostly the row path)
    st.one_of(st.integers(0, 10**10).map(str), _NOISE),
    st.one_of(st.sampled_from(["PAY", "payload", "R/B", "DEB", "", " UNK", "TBA", "ROCKET  BODY"]), _NOISE),
    st.one_of(st.sampled_from(["US", "uk", " FR", "", "PRC", "ger"]), _NOISE),
    st.one_of(st.dates().map(str), st.sampled_from(["", "2001-02-29", "2000-13-01", "2000-01-01T00:00"]), _NOISE),
    *[st.one_of(st.floats(-1e4, 1e4, allow_nan=False).map(lambda x: f"{x:.3f}"),
                st.sampled_from(["", "0.0", "0", "-0.0", "1e309", "9" * 320, "5.", ".5", "-"]), _NOISE)] * 3,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*_COLUMN_CELLS), max_size=8))
def test_fuzzed_cells_table_reader_equals_row_reader(rows):
    header = "NORAD_CAT_ID,OBJECT_TYPE,OWNER,LAUNCH_DATE,PERIOD,APOGEE,PERIGEE"
    text = header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    table, errs = read_satcat_table(text)
    recs, ref_errs = _by_rows(text)
    assert table.to_records() == recs
    assert [e.as_dict() for e in errs] == [e.as_dict() for e in ref_errs]
