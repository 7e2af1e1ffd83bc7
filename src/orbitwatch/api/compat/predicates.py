"""Space-Track's URL predicate language, parsed and evaluated.

A query path is ``/<controller>/query/class/<class>/<FIELD>/<value>/.../<keyword>/<value>``. Values:

* ``25544,25545`` - any of these; ``1--10`` - inclusive range (also ``now-7--now``);
* ``<x``, ``>x`` - strictly less/greater; ``<>x`` - not equal; ``~~x`` - contains (case-insensitive);
  ``^x`` - starts with; ``null-val`` / ``<>null-val`` - is / is not empty;
* dates may be ``now``, ``now-30``, ``now+1.5`` (days from the request time), ``2023-10-09`` or
  ``2023-10-09 12:00:00``.

Keywords: ``orderby/EPOCH desc,NORAD_CAT_ID``, ``limit/N`` or ``limit/N,offset``, ``format/json|xml|
html|csv|tle|3le|kvn``, ``emptyresult/show``, ``predicates/F1,F2`` (columns to return), ``metadata/
true``, ``distinct/true``, ``favorites/...`` (accepted, ignored).

Parsing is strict: an unknown field or keyword is a :class:`~orbitwatch.errors.ValidationError` naming
it and listing what the class accepts, like the real service's error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from orbitwatch.errors import ValidationError

KEYWORDS = ("orderby", "limit", "format", "emptyresult", "predicates", "metadata", "distinct", "favorites")
FORMATS = ("json", "xml", "html", "csv", "tle", "3le", "kvn", "stream")

# Field kinds decide how values compare.
INT, FLOAT, DATE, STR = "int", "float", "date", "str"

_NOW = re.compile(r"^now(?:([+-])(\d+(?:\.\d*)?))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # in | range | lt | gt | ne | like | starts | null | notnull
    values: tuple[Any, ...] = ()

    def test(self, v: Any) -> bool:
        if self.op == "null":
            return v is None or v == ""
        if self.op == "notnull":
            return not (v is None or v == "")
        if v is None or v == "":
            return False
        if self.op == "in":
            return v in self.values
        if self.op == "range":
            return self.values[0] <= v <= self.values[1]
        if self.op == "lt":
            return v < self.values[0]
        if self.op == "gt":
            return v > self.values[0]
        if self.op == "ne":
            return v != self.values[0]
        text = str(v).upper()
        if self.op == "like":
            return self.values[0] in text
        if self.op == "starts":
            return text.startswith(self.values[0])
        raise AssertionError(self.op)  # pragma: no cover - ops are closed


@dataclass
class Query:
    request_class: str
    conditions: list[Condition] = field(default_factory=list)
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None
    offset: int = 0
    format: str = "json"
    emptyresult_show: bool = False
    columns: list[str] | None = None
    metadata: bool = False
    distinct: bool = False

    def conditions_on(self, name: str) -> list[Condition]:
        return [c for c in self.conditions if c.field == name]


def _bad(reason: str, fieldname: str | None = None) -> ValidationError:
    return ValidationError(reason, field=fieldname)


def coerce(kind: str, text: str, now: datetime, fieldname: str) -> Any:
    """A predicate value typed like the field (dates become naive-UTC ISO strings for comparison)."""
    text = text.strip()
    if kind == INT:
        try:
            return int(text)
        except ValueError:
            raise _bad(f"{fieldname} expects an integer, got {text!r}", fieldname) from None
    if kind == FLOAT:
        try:
            return float(text)
        except ValueError:
            raise _bad(f"{fieldname} expects a number, got {text!r}", fieldname) from None
    if kind == DATE:
        return date_value(text, now, fieldname)
    return text.upper()


def date_value(text: str, now: datetime, fieldname: str) -> str:
    """ISO text (``YYYY-MM-DDTHH:MM:SS.ffffff``) of a date predicate, ``now`` arithmetic in days."""
    if m := _NOW.match(text):
        dt = now
        if m.group(1):
            delta = timedelta(days=float(m.group(2)))
            dt = now + delta if m.group(1) == "+" else now - delta
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    s = text.replace(" ", "T")
    try:
        dt = datetime.fromisoformat(s.rstrip("Zz"))
    except ValueError:
        raise _bad(f"{fieldname} expects a date like 2023-10-09, '2023-10-09 12:00:00' or now-30, "
                   f"got {text!r}", fieldname) from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_condition(name: str, kind: str, raw: str, now: datetime) -> Condition:
    v = raw.strip()
    low = v.lower()
    if low == "null-val":
        return Condition(name, "null")
    if low == "<>null-val":
        return Condition(name, "notnull")
    if v.startswith("<>"):
        return Condition(name, "ne", (coerce(kind, v[2:], now, name),))
    if v.startswith("~~"):
        return Condition(name, "like", (v[2:].upper(),))
    if v.startswith("^"):
        return Condition(name, "starts", (v[1:].upper(),))
    if v.startswith("<"):
        return Condition(name, "lt", (coerce(kind, v[1:], now, name),))
    if v.startswith(">"):
        return Condition(name, "gt", (coerce(kind, v[1:], now, name),))
    if "--" in v:
        lo, hi = v.split("--", 1)
        return Condition(name, "range", (coerce(kind, lo, now, name), coerce(kind, hi, now, name)))
    return Condition(name, "in", tuple(coerce(kind, p, now, name) for p in v.split(",") if p.strip()))


def parse_query(request_class: str, path: str, fields: Mapping[str, str], *,
                now: datetime | None = None, max_limit: int = 1_000_000) -> Query:
    """Parse the part of a query URL after ``class/<class>/`` against a class's ``fields`` (name -> kind)."""
    now = now or datetime.now(UTC)
    parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
    if len(parts) % 2:
        raise _bad(f"predicate {parts[-1]!r} has no value: the query path alternates FIELD/value")
    q = Query(request_class)
    for name, value in zip(parts[0::2], parts[1::2], strict=True):
        key = name.lower()
        if key in KEYWORDS:
            _keyword(q, key, value, fields, max_limit)
            continue
        up = name.upper()
        if up not in fields:
            raise _bad(f"{name!r} is not a predicate of class {request_class}; predicates are "
                       f"{', '.join(fields)} and {', '.join(KEYWORDS)}", name)
        q.conditions.append(parse_condition(up, fields[up], value, now))
    return q


def _keyword(q: Query, key: str, value: str, fields: Mapping[str, str], max_limit: int) -> None:
    if key == "orderby":
        for part in value.split(","):
            bits = part.strip().split()
            if not bits:
                continue
            name = bits[0].upper()
            if name not in fields:
                raise _bad(f"cannot order by {bits[0]!r}: not a field of {q.request_class}", "orderby")
            direction = bits[1].lower() if len(bits) > 1 else "asc"
            if direction not in ("asc", "desc") or len(bits) > 2:
                raise _bad(f"orderby {part.strip()!r}: expected 'FIELD asc' or 'FIELD desc'", "orderby")
            q.orderby.append((name, direction == "desc"))
    elif key == "limit":
        m = re.fullmatch(r"\s*(\d+)\s*(?:,\s*(\d+)\s*)?", value)
        if not m:
            raise _bad(f"limit {value!r}: expected limit/N or limit/N,offset", "limit")
        q.limit = min(int(m.group(1)), max_limit)
        q.offset = int(m.group(2) or 0)
    elif key == "format":
        fmt = value.strip().lower()
        if fmt not in FORMATS:
            raise _bad(f"format {value!r}: expected one of {', '.join(FORMATS)}", "format")
        q.format = "json" if fmt == "stream" else fmt
    elif key == "emptyresult":
        q.emptyresult_show = value.strip().lower() == "show"
    elif key == "predicates":
        cols = [c.strip().upper() for c in value.split(",") if c.strip()]
        unknown = [c for c in cols if c not in fields]
        if unknown:
            raise _bad(f"unknown field(s) {', '.join(unknown)} in predicates/ for {q.request_class}",
                       "predicates")
        q.columns = cols or None
    elif key == "metadata":
        q.metadata = value.strip().lower() == "true"
    elif key == "distinct":
        q.distinct = value.strip().lower() == "true"
    # favorites: accepted and ignored (a node has no Space-Track favourites lists)


def normalise(kind: str, v: Any) -> Any:
    """A row value in the form predicates compare against (upper-case text, full ISO dates)."""
    if v is None or v == "":
        return None
    if kind == STR:
        return str(v).upper()
    if kind == DATE:
        t = str(v).replace(" ", "T")
        if len(t) == 10:
            return t + "T00:00:00.000000"
        if len(t) == 19:
            return t + ".000000"
        return t[:26]
    return v


def apply(q: Query, rows: Sequence[dict[str, Any]], kinds: Mapping[str, str]) -> list[dict[str, Any]]:
    """Filter, order (NULLs first ascending, last descending, as MySQL does), de-duplicate and page rows
    (dicts keyed by Space-Track field name)."""

    def get(r: dict[str, Any], f: str) -> Any:
        return normalise(kinds[f], r.get(f))

    out = [r for r in rows if all(c.test(get(r, c.field)) for c in q.conditions)] if q.conditions else list(rows)
    for name, desc in reversed(q.orderby):  # stable sorts, last key first
        keyed = [(get(r, name), r) for r in out]
        present = [kr for kr in keyed if kr[0] is not None]
        missing = [kr[1] for kr in keyed if kr[0] is None]
        present.sort(key=lambda kr: kr[0], reverse=desc)  # keys computed once; timsort is O(n) on sorted input
        ordered = [kr[1] for kr in present]
        out = ordered + missing if desc else missing + ordered
    if q.distinct and q.columns:
        seen, unique = set(), []
        for r in out:
            k = tuple(get(r, c) for c in q.columns)
            if k not in seen:
                seen.add(k)
                unique.append(r)
        out = unique
    end = None if q.limit is None else q.offset + q.limit
    return out[q.offset:end]
