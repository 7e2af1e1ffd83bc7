"""The vectorised TLE reader must give exactly what the strict scalar reader gives: same element sets
(every field, bit for bit), same errors, same order — on every real file and on generated text."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fmt_helpers import ISS_LINES, read_text, with_checksum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orbitwatch.errors import RecordError
from orbitwatch.formats.records import epoch_from_year_day
from orbitwatch.formats.tle import read_tle
from orbitwatch.formats.tle_fast import read_tle_fast


def scalar(data: bytes | str, file: str | None = None) -> tuple[list, list]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    out = list(read_tle(text.split("\n"), file=file))
    return ([o for o in out if not isinstance(o, RecordError)], [o for o in out if isinstance(o, RecordError)])


REAL_FILES = [
    "catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz",
    "catalog/spacetrack_full_catalog_3le_2022-07-14.txt.gz",
    "catalog/spacetrack_leo_payloads_3le_2026-06-10.txt.gz",
    "catalog/alpha5-gpconf/alpha5-A-last-30-days-snapshot.tle",
    "catalog/alpha5-gpconf/alpha5-T-analyst-27xxxx-snapshot.tle",
    "sgp4-verification/SGP4-VER.TLE",
    "tle-history/iss_25544_spacetrack_2020-01-01_2024-12-31.tle.gz",
    "tle-history/jan-may-2023_15-objects/GALAXY_18.tle",
]


@pytest.mark.parametrize("rel", REAL_FILES)
def test_same_as_scalar_reader_on_real_files(shared_data, rel):
    path = shared_data / rel
    data = read_text(path)
    fast = read_tle_fast(data, file=str(path))
    ref = scalar(data, file=str(path))
    assert len(fast[0]) == len(ref[0])
    assert fast[0] == ref[0]  # dataclass equality: every field, floats bit for bit
    assert fast[1] == ref[1]


def test_full_catalogue_counts(shared_data):
    recs, errs = read_tle_fast(read_text(shared_data / "catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz"))
    assert len(recs) == 26140 and errs == []
    assert len({r.norad_id for r in recs}) == 26140
    assert sum(r.mean_motion > 11.25 for r in recs) == 21698  # README: 21 698 LEO
    assert sum(0.9 <= r.mean_motion <= 1.1 for r in recs) == 1673  # README: 1 673 near-GEO


def test_galaxy18_truncated_record_is_reported(shared_data):
    path = shared_data / "tle-history/jan-may-2023_15-objects/GALAXY_18.tle"
    recs, errs = read_tle_fast(read_text(path), file="GALAXY_18.tle")
    # The file's last line was cut after column 68: the checksum digit is missing.
    assert len(recs) == 248 and len(errs) == 1
    assert errs[0] == RecordError("GALAXY_18.tle", 498, "checksum",
                                  "line 2 checksum column 69 is ' ', expected a digit")


def test_crlf_str_input_and_no_trailing_newline():
    l1, l2 = ISS_LINES
    text = f"0 ISS\r\n{l1}\r\n{l2}"
    assert read_tle_fast(text) == scalar(text)
    assert read_tle_fast(text.encode())[0][0].object_name == "ISS"


def test_irregular_structure_same_as_scalar():
    l1, l2 = ISS_LINES
    text = "\n".join(["NAME A", l1, "NAME B", l1, l2, l2, "", "# c", "0 NAME C", "0 NAME D", l1, l2, l1])
    fast = read_tle_fast(text, file="irr")
    assert fast == scalar(text, file="irr")
    assert [e.reason for e in fast[1]] == ["line 1 is not followed by a line 2",
                                           "line 2 without a preceding line 1",
                                           "line 1 is not followed by a line 2"]
    assert [r.object_name for r in fast[0]] == ["NAME B", "NAME D"]


@settings(max_examples=400, deadline=None)
@given(st.integers(1957, 2056), st.floats(1.0, 366.99999999, allow_nan=False))
def test_epoch_rounding_matches_cpython_timedelta(year, day):
    """The vectorised epoch arithmetic reproduces datetime + timedelta(days=day - 1.0) exactly."""
    day = round(day, 8)
    l1 = with_checksum(f"1 25544U 98067A   {year % 100:02d}{day:012.8f} -.00002182  00000-0 -11606-4 0  292")
    if not 1.0 <= float(l1[20:32]) < 367.0:
        return
    fast, _ = read_tle_fast(f"{l1}\n{ISS_LINES[1]}")
    ref = epoch_from_year_day(year, float(l1[20:32]))
    assert fast and fast[0].epoch == ref
    assert abs(fast[0].epoch - ref) < timedelta(microseconds=1)


# Mutations that real files contain (leading-blank catalogue numbers, odd spacing, tabs, CR, non-ASCII
# names) and that they should not (wrong checksums, letters in numbers, lines cut or joined).
_CHARS = list("0123456789 .-+AUCSZ\tz#é²") + ["\r"]


def _mutate(rng: random.Random, lines: list[str]) -> list[str]:
    out = list(lines)
    for _ in range(rng.randint(0, 4)):
        if not out:
            break
        i = rng.randrange(len(out))
        s = out[i]
        op = rng.randrange(7)
        if op == 0 and s:
            p = rng.randrange(len(s))
            out[i] = s[:p] + rng.choice(_CHARS) + s[p + 1:]
        elif op == 1 and len(s) >= 68:  # change a character but keep the checksum valid
            p = rng.randrange(2, 68)
            body = s[:p] + rng.choice("0123456789 .-+") + s[p + 1:68]
            out[i] = with_checksum(body) + s[69:]
        elif op == 2:
            del out[i]
        elif op == 3:
            out.insert(i, rng.choice(["", "# note", "0 EXTRA NAME", s]))
        elif op == 4:
            out[i] = s + rng.choice(["", " ", "   0.0 1440.0", "X", "\t"])
        elif op == 5 and len(s) > 5:
            out[i] = s[: rng.randrange(len(s))]
        elif op == 6 and len(s) >= 7 and s[:1] in "12":
            out[i] = s[:2] + rng.choice(["    5", "A0001", "Z9999", "I0000", " 1234"]) + s[7:]
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_same_as_scalar_reader_on_mutated_text(seed):
    rng = random.Random(seed)
    l1, l2 = ISS_LINES
    base = []
    for k in range(rng.randint(1, 5)):
        base += [f"0 SAT {k}", l1, l2] if rng.random() < 0.7 else [l1, l2]
    lines = _mutate(rng, base)
    sep = rng.choice(["\n", "\r\n"])
    text = sep.join(lines) + rng.choice(["", sep])
    data = text.encode("utf-8")
    assert read_tle_fast(data, file="m") == scalar(data, file="m")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_CHARS + ["1 ", "2 ", "1 25544U ", "\n", "\x00", "\x0b"]),
                         max_size=40).map("".join), max_size=6))
def test_arbitrary_text_never_raises_and_matches(lines):
    text = "\n".join(lines)
    assert read_tle_fast(text, file="f") == scalar(text, file="f")


def _check_columns(elsets, columns) -> None:
    import numpy as np

    from orbitwatch.formats.tle_fast import COLUMNS

    assert set(columns) == set(COLUMNS)
    for name in COLUMNS:
        col = columns[name]
        assert len(col) == len(elsets)
        expected = np.array([getattr(e, name) for e in elsets], dtype=col.dtype)
        assert np.array_equal(col, expected), name
        if col.dtype.kind == "f":  # bit for bit, signed zeros included
            assert np.array_equal(col.view(np.int64), expected.view(np.int64)), name


@pytest.mark.parametrize("rel", ["catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz",
                                 "sgp4-verification/SGP4-VER.TLE"])
def test_columns_equal_the_objects(shared_data, rel):
    from orbitwatch.formats.tle_fast import read_tle_columns

    elsets, errors, columns = read_tle_columns(read_text(shared_data / rel))
    _check_columns(elsets, columns)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_columns_with_scalar_fallbacks(seed):
    from orbitwatch.formats.tle_fast import read_tle_columns

    rng = random.Random(seed)
    lines = _mutate(rng, ["0 A", *ISS_LINES, "    ", *ISS_LINES, "0 C", *ISS_LINES])
    elsets, _, columns = read_tle_columns("\n".join(lines))
    _check_columns(elsets, columns)
