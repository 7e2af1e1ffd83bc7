"""The column table the store ingests TLE files from is the strict reader's element sets, field for field,
however the reading is cut into chunks."""

from __future__ import annotations

import gzip
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orbitwatch.errors import RecordError
from orbitwatch.formats.tle import read_tle
from orbitwatch.formats.tle_fast import ElsetTable, TleReader, read_tle_table

ISS = ("1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
       "2 25544  51.6416 247.4220 0006703 130.5360 325.0288 15.72125391563537")


def _scalar(text: str):
    out = list(read_tle(text.split("\n"), file="f"))
    return [o for o in out if not isinstance(o, RecordError)], [o for o in out if isinstance(o, RecordError)]


def _chunked(text: str, size: int, first: int | None):
    reader = TleReader(text, file="f")
    parts = list(reader.chunks(size, first=first))
    assert all(0 < len(p) <= max(size, first or 0) for p in parts)
    rest, order = reader.rest()
    table = ElsetTable.concat([*parts, rest]) if len(rest) else ElsetTable.concat(parts)
    return (table.take(order) if len(rest) else table), reader.errors


@pytest.mark.parametrize("rel", ["catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz",
                                 "sgp4-verification/SGP4-VER.TLE"])
def test_table_equals_the_strict_readers_element_sets(shared_data, rel):
    data = (shared_data / rel).read_bytes()
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")
    recs, errs = _scalar(text)
    table, table_errs = read_tle_table(text, file="f")
    assert table.to_elsets() == recs and table_errs == errs
    again = ElsetTable.from_elsets(recs)
    for name in ElsetTable.ARRAYS:
        assert np.array_equal(getattr(again, name), getattr(table, name)), name
    for name in ElsetTable.LISTS:
        assert getattr(again, name) == getattr(table, name), name
    chunked, chunk_errs = _chunked(text, 5000, 700)
    assert chunked.to_elsets() == recs and chunk_errs == errs


_CHARS = list("0123456789 .-+AUCSZ\tz#é") + ["\r"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.sampled_from([None, 1, 2]))
def test_any_chunking_of_mutated_text_gives_the_strict_result(seed, size, first):
    rng = random.Random(seed)
    lines: list[str] = []
    for k in range(rng.randint(1, 7)):
        lines += [f"0 SAT {k}", *ISS] if rng.random() < 0.7 else list(ISS)
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(lines))
        s = lines[i]
        p = rng.randrange(len(s) + 1)
        lines[i] = s[:p] + rng.choice(_CHARS) + s[p + 1:]
    sep = rng.choice(["\n", "\r\n"])
    text = sep.join(lines) + rng.choice(["", sep])
    recs, errs = _scalar(text)
    table, table_errs = _chunked(text, size, first)
    assert table.to_elsets() == recs
    assert table_errs == errs
