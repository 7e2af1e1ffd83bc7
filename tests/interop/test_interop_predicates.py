"""Space-Track's URL predicate language: parsing and evaluation (independent of any server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orbitwatch.api.compat.classes import kinds
from orbitwatch.api.compat.predicates import apply, parse_query
from orbitwatch.errors import ValidationError

NOW = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
GP = kinds("gp")
ROWS = [
    {"NORAD_CAT_ID": 25544, "OBJECT_NAME": "ISS (ZARYA)", "EPOCH": "2024-01-09T10:00:00.000000",
     "MEAN_MOTION": 15.5, "DECAY_DATE": None, "OBJECT_TYPE": "PAYLOAD"},
    {"NORAD_CAT_ID": 25545, "OBJECT_NAME": "ISS DEB", "EPOCH": "2023-12-01T00:00:00.000000",
     "MEAN_MOTION": 15.9, "DECAY_DATE": "2023-12-20", "OBJECT_TYPE": "DEBRIS"},
    {"NORAD_CAT_ID": 43013, "OBJECT_NAME": "NOAA 20", "EPOCH": "2024-01-10T01:00:00.000000",
     "MEAN_MOTION": 14.2, "DECAY_DATE": None, "OBJECT_TYPE": None},
]


def ids(path: str) -> list[int]:
    q = parse_query("gp", path, GP, now=NOW)
    return [r["NORAD_CAT_ID"] for r in apply(q, ROWS, GP)]


@pytest.mark.parametrize(("path", "expected"), [
    ("NORAD_CAT_ID/25544,43013", [25544, 43013]),
    ("NORAD_CAT_ID/25544--25545", [25544, 25545]),
    ("NORAD_CAT_ID/>25544", [25545, 43013]),
    ("NORAD_CAT_ID/<25545", [25544]),
    ("NORAD_CAT_ID/<>25545", [25544, 43013]),
    ("OBJECT_NAME/~~iss", [25544, 25545]),
    ("OBJECT_NAME/^NOAA", [43013]),
    ("DECAY_DATE/null-val", [25544, 43013]),
    ("DECAY_DATE/<>null-val", [25545]),
    ("EPOCH/>now-2", [25544, 43013]),
    ("EPOCH/now-2--now-1", [25544]),
    ("EPOCH/2024-01-09--2024-01-11", [25544, 43013]),
    ("EPOCH/>2024-01-09 12:00:00", [43013]),
    ("MEAN_MOTION/>15", [25544, 25545]),
    ("orderby/MEAN_MOTION desc", [25545, 25544, 43013]),
    ("orderby/OBJECT_TYPE asc", [43013, 25545, 25544]),  # NULL first ascending, as MySQL
    ("orderby/OBJECT_TYPE desc", [25544, 25545, 43013]),
    ("orderby/NORAD_CAT_ID desc/limit/2", [43013, 25545]),
    ("orderby/NORAD_CAT_ID/limit/1,1", [25545]),
    ("norad_cat_id/25544/format/tle/emptyresult/show", [25544]),  # field names are case-insensitive
])
def test_predicates(path, expected):
    assert ids(path) == expected


def test_keywords():
    q = parse_query("gp", "predicates/NORAD_CAT_ID,EPOCH/metadata/true/format/3le/emptyresult/show/favorites/x",
                    GP, now=NOW)
    assert q.columns == ["NORAD_CAT_ID", "EPOCH"] and q.metadata and q.format == "3le" and q.emptyresult_show


@pytest.mark.parametrize(("path", "message"), [
    ("FOO/1", "'FOO' is not a predicate of class gp"),
    ("NORAD_CAT_ID/abc", "NORAD_CAT_ID expects an integer"),
    ("EPOCH/>yesterday", "EPOCH expects a date"),
    ("orderby/NOPE", "cannot order by 'NOPE'"),
    ("orderby/EPOCH sideways", "expected 'FIELD asc' or 'FIELD desc'"),
    ("limit/ten", "expected limit/N"),
    ("format/pdf", "format 'pdf'"),
    ("NORAD_CAT_ID", "has no value"),
    ("predicates/NOPE", "unknown field(s) NOPE"),
])
def test_errors_name_the_problem(path, message):
    with pytest.raises(ValidationError) as err:
        parse_query("gp", path, GP, now=NOW)
    assert message in str(err.value)
