"""Satellite catalogue (SATCAT) files: CelesTrak, Space-Track and NASA CARA size/mass estimates.

Three layouts, told apart by their header row (:func:`satcat_layout`):

``satcat-celestrak``
    CelesTrak ``satcat.csv`` columns: OBJECT_NAME, OBJECT_ID, NORAD_CAT_ID, OBJECT_TYPE, OPS_STATUS_CODE,
    OWNER, LAUNCH_DATE, LAUNCH_SITE, DECAY_DATE, PERIOD [min], INCLINATION [deg], APOGEE [km], PERIGEE
    [km], RCS [m²], DATA_STATUS_CODE, ORBIT_CENTER, ORBIT_TYPE (any subset, any order). Also the processed
    variant (HAS_DECAYED column) in which decayed objects carry 0.0 for all four orbit fields: a row whose
    PERIOD, INCLINATION, APOGEE and PERIGEE are all zero has "no orbit given" (None), since no real orbit
    has a zero period.
``satcat-spacetrack``
    Space-Track ``satcat`` class: INTLDES, NORAD_CAT_ID, OBJECT_TYPE, SATNAME, COUNTRY, LAUNCH, SITE, DECAY,
    PERIOD, INCLINATION, APOGEE, PERIGEE, RCSVALUE, RCS_SIZE, ... (extra columns such as CURRENT, FILE,
    LAUNCH_YEAR and a leading unnamed index column are ignored). RCSVALUE 0 means "not published"
    (Space-Track has withheld RCS values since 2017), read as None.
``satcat-cara``
    NASA CARA hard-body-radius and mass estimates (ObjectID, HBR [m], HBRSigma, HBRSource, Mass [kg],
    MassSigma, MassSource). Only ``norad_id``, ``hbr_m`` and ``mass_kg`` are filled: merge these records
    into existing objects, do not let them overwrite names or types with None. An empty HBR/Mass (rows
    whose source is DISCOS, which CARA may not redistribute) reads as None.

Object types are normalised to PAYLOAD / ROCKET BODY / DEBRIS / UNKNOWN (from PAY, R/B, DEB, UNK, TBA or
the full words). Dates are ISO ``YYYY-MM-DD``. JSON lists with the same keys (CelesTrak and Space-Track
also serve SATCAT as JSON) are read by :func:`read_satcat_json`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from typing import Any

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.omm import iter_csv_rows, iter_json_objects
from orbitwatch.formats.records import SatcatRecord, owner_trigraph

__all__ = ["CELESTRAK_SATCAT_COLUMNS", "OBJECT_FIELDS", "SATCAT_ATTRS", "SatcatTable", "StagedObjects", "satcat_layout",
           "satcat_from_fields", "read_satcat_csv", "read_satcat_table", "read_satcat_json", "normalise_object_type",
           "format_satcat_csv", "satcat_object_rows", "stage_object_rows", "copy_object_rows"]

#: CelesTrak SATCAT CSV columns, in CelesTrak's order.
CELESTRAK_SATCAT_COLUMNS: tuple[str, ...] = (
    "OBJECT_NAME", "OBJECT_ID", "NORAD_CAT_ID", "OBJECT_TYPE", "OPS_STATUS_CODE", "OWNER", "LAUNCH_DATE",
    "LAUNCH_SITE", "DECAY_DATE", "PERIOD", "INCLINATION", "APOGEE", "PERIGEE", "RCS", "DATA_STATUS_CODE",
    "ORBIT_CENTER", "ORBIT_TYPE",
)

_TYPES = {
    "PAY": "PAYLOAD", "PAYLOAD": "PAYLOAD",
    "R/B": "ROCKET BODY", "RB": "ROCKET BODY", "ROCKET BODY": "ROCKET BODY", "ROCKET_BODY": "ROCKET BODY",
    "DEB": "DEBRIS", "DEBRIS": "DEBRIS",
    "UNK": "UNKNOWN", "UNKNOWN": "UNKNOWN", "TBA": "UNKNOWN", "OTHER": "UNKNOWN",
}
_TYPE_CODE = {"PAYLOAD": "PAY", "ROCKET BODY": "R/B", "DEBRIS": "DEB", "UNKNOWN": "UNK"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d{1,12}")

# Column -> record attribute, per layout. The first column present wins (Space-Track names first).
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "satcat-celestrak": {
        "norad_id": ("NORAD_CAT_ID",), "object_id": ("OBJECT_ID",), "object_name": ("OBJECT_NAME",),
        "object_type": ("OBJECT_TYPE",), "owner": ("OWNER",), "launch_date": ("LAUNCH_DATE",),
        "launch_site": ("LAUNCH_SITE",), "decay_date": ("DECAY_DATE",), "period_min": ("PERIOD",),
        "inclination": ("INCLINATION",), "apogee_km": ("APOGEE",), "perigee_km": ("PERIGEE",),
        "rcs_m2": ("RCS",), "ops_status": ("OPS_STATUS_CODE",),
    },
    "satcat-spacetrack": {
        "norad_id": ("NORAD_CAT_ID",), "object_id": ("INTLDES", "OBJECT_ID"),
        "object_name": ("SATNAME", "OBJECT_NAME"), "object_type": ("OBJECT_TYPE",), "owner": ("COUNTRY",),
        "launch_date": ("LAUNCH",), "launch_site": ("SITE",), "decay_date": ("DECAY",),
        "period_min": ("PERIOD",), "inclination": ("INCLINATION",), "apogee_km": ("APOGEE",),
        "perigee_km": ("PERIGEE",), "rcs_m2": ("RCSVALUE",), "rcs_size": ("RCS_SIZE",),
    },
    "satcat-cara": {"norad_id": ("OBJECTID",), "hbr_m": ("HBR",), "mass_kg": ("MASS",)},
}
_SCALARS = (str, int, float)
_FLOATS = ("period_min", "inclination", "apogee_km", "perigee_km", "rcs_m2", "hbr_m", "mass_kg")
_DATES = ("launch_date", "decay_date")


def satcat_layout(header: Iterable[str]) -> str | None:
    """Which SATCAT layout a header row is (upper-cased names), or None if it is none of them."""
    h = {c.strip().upper() for c in header}
    if "OBJECTID" in h and ("HBR" in h or "MASS" in h):
        return "satcat-cara"
    if "NORAD_CAT_ID" not in h or "EPOCH" in h or "MEAN_MOTION" in h:
        return None
    if h & {"SATNAME", "INTLDES", "COUNTRY", "RCSVALUE"}:
        return "satcat-spacetrack"
    if h & {"OWNER", "LAUNCH_DATE", "OBJECT_TYPE", "OPS_STATUS_CODE", "DECAY_DATE"}:
        return "satcat-celestrak"
    return None


def normalise_object_type(value: str | None) -> str | None:
    """PAYLOAD / ROCKET BODY / DEBRIS / UNKNOWN from any of the codes or words catalogues use.

    None stays None; an empty string is UNKNOWN; anything unrecognised raises ValueError.
    """
    if value is None:
        return None
    v = " ".join(value.strip().upper().split())
    if not v:
        return "UNKNOWN"
    if v not in _TYPES:
        raise ValueError(f"object type {value!r} is not one of PAYLOAD, ROCKET BODY, DEBRIS, UNKNOWN "
                         "(or PAY, R/B, DEB, UNK, TBA)")
    return _TYPES[v]


class _RowConverter:
    """Turns rows of one header into records: column positions are looked up once, not per row."""

    def __init__(self, layout: str, header: list[str], file: str | None):
        cols = _COLUMNS[layout]
        pos: dict[str, tuple[int, str]] = {}
        for attr, names in cols.items():
            for name in names:
                if name in header:
                    pos[attr] = (header.index(name), name)
                    break
        if "norad_id" not in pos:
            raise ValidationError(f"catalogue number column {cols['norad_id'][0]} is missing", file=file,
                                  line=1)
        self.layout = layout
        self.file = file
        self.norad = pos["norad_id"]
        self.floats = [(a, *pos[a]) for a in _FLOATS if a in pos]
        self.dates = [(a, *pos[a]) for a in _DATES if a in pos]
        self.texts = [(a, *pos[a]) for a in ("object_id", "object_name", "owner", "launch_site",
                                             "ops_status", "rcs_size") if a in pos]
        self.type = pos.get("object_type")

    def __call__(self, cells: list[Any], line: int | None) -> SatcatRecord:
        file = self.file

        def bad(name: str, reason: str) -> ValidationError:
            return ValidationError(reason, file=file, line=line, field=name)

        i, name = self.norad
        raw = cells[i]
        if isinstance(raw, int) and not isinstance(raw, bool):
            norad = raw
        else:
            s = raw.strip() if isinstance(raw, str) else raw
            if not isinstance(s, str) or not _INT.fullmatch(s):
                raise bad(name, f"catalogue number {s!r} is not an integer")
            norad = int(s)
        if not 0 <= norad < 1_000_000_000:
            raise bad(name, f"catalogue number {norad} is outside 0..999999999")
        rec = SatcatRecord(norad_id=norad, source_format=self.layout, file=file, line=line)
        isfinite = math.isfinite
        for attr, i, name in self.floats:
            v = cells[i]
            if type(v) is str:
                v = v.strip()
                if not v:
                    continue
                try:
                    x = float(v)
                except ValueError:
                    raise bad(name, f"{v!r} is not a number") from None
                if not isfinite(x) or "_" in v or not v.isascii():
                    raise bad(name, f"{v!r} is not a finite decimal number")
            elif v is None:
                continue
            elif isinstance(v, int | float) and not isinstance(v, bool):
                x = float(v)
                if not isfinite(x):
                    raise bad(name, f"{v!r} is not a finite number")
            else:
                raise bad(name, f"{v!r} is not a number")
            setattr(rec, attr, x)
        for attr, i, name in self.dates:
            v = cells[i]
            if v is None:
                continue
            if not isinstance(v, str):
                raise bad(name, f"date {v!r} is not YYYY-MM-DD")
            v = v.strip()
            if not v:
                continue
            if len(v) > 10 and v[10] in "T ":
                v = v[:10]  # a date-time: keep the date
            try:
                if not _DATE.fullmatch(v):
                    raise ValueError(v)
                date.fromisoformat(v)
            except ValueError:
                raise bad(name, f"date {v!r} is not YYYY-MM-DD") from None
            setattr(rec, attr, v)
        for attr, i, name in self.texts:
            v = cells[i]
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, _SCALARS):
                raise bad(name, f"expected text, found {type(v).__name__}")
            v = str(v).strip()
            if v:
                setattr(rec, attr, v.upper() if attr in ("owner", "rcs_size") else v)
        if self.type is not None:
            i, name = self.type
            v = cells[i]
            if v is not None and not isinstance(v, str):
                raise bad(name, f"expected text, found {type(v).__name__}")
            try:
                rec.object_type = normalise_object_type(v or "")
            except ValueError as exc:
                raise bad(name, str(exc)) from None
        if not (rec.period_min or rec.inclination or rec.apogee_km or rec.perigee_km):
            # The processed CelesTrak file writes 0.0 for "not given"; a real orbit never has period 0.
            rec.period_min = rec.inclination = rec.apogee_km = rec.perigee_km = None
        if self.layout == "satcat-spacetrack" and rec.rcs_m2 == 0.0:
            rec.rcs_m2 = None  # Space-Track publishes 0 for every object since it withheld RCS values
        return rec


def satcat_from_fields(fields: Mapping[str, Any], layout: str, *, file: str | None = None,
                       line: int | None = None) -> SatcatRecord:
    """One :class:`SatcatRecord` from a row (upper-case column names). Raises :class:`ValidationError`."""
    header = list(fields)
    return _RowConverter(layout, header, file)(list(fields.values()), line)


def read_satcat_csv(text: str, *, file: str | None = None, layout: str = "auto"
                    ) -> Iterator[SatcatRecord | RecordError]:
    """Read SATCAT CSV (layout from the header unless given). Yields a record or a RecordError per row.

    Raises :class:`ValidationError` when the header is none of the known layouts.
    """
    convert: _RowConverter | None = None
    width = 0
    for item in iter_csv_rows(text, file=file, with_text=False):
        if isinstance(item, RecordError):
            yield item
            continue
        cells, line, _ = item
        if convert is None:
            header = [c.strip().lstrip("\ufeff").upper() for c in cells]
            lay = satcat_layout(header) if layout == "auto" else layout
            if lay is None:
                raise ValidationError("CSV header is not a SATCAT layout (CelesTrak: NORAD_CAT_ID, "
                                      "OBJECT_TYPE, OWNER, ...; Space-Track: NORAD_CAT_ID, SATNAME, COUNTRY, "
                                      "...; NASA CARA: ObjectID, HBR, Mass)", file=file, line=line)
            if lay not in _COLUMNS:
                raise ValidationError(f"unknown SATCAT layout {lay!r}; expected one of "
                                      f"{', '.join(_COLUMNS)}", file=file)
            convert = _RowConverter(lay, header, file)
            width = len(header)
            continue
        if len(cells) != width:
            yield RecordError(file, line, None, f"row has {len(cells)} cells, the header has {width}")
            continue
        try:
            yield convert(cells, line)
        except ValidationError as exc:
            yield RecordError.from_exc(exc)


#: The descriptive attributes of a :class:`SatcatRecord` (``norad_id`` aside), in record order.
SATCAT_ATTRS = ("object_id", "object_name", "object_type", "owner", "launch_date", "launch_site", "decay_date",
                "period_min", "inclination", "apogee_km", "perigee_km", "rcs_m2", "rcs_size", "mass_kg", "hbr_m",
                "ops_status")


@dataclass(eq=False)
class SatcatTable:
    """SATCAT records as columns, for bulk loaders: no Python object per record.

    ``columns[attr][k]`` is ``getattr(records[k], attr)`` for every attribute in :data:`SATCAT_ATTRS`; an
    attribute the file's layout does not carry is absent from ``columns`` (every value None). Rows are in
    file order.
    """

    source_format: str
    file: str | None
    norad_id: list[int]
    line: list[int]
    columns: dict[str, list] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.norad_id)

    def column(self, attr: str) -> list:
        """The values of ``attr`` (None throughout when the layout does not carry it)."""
        got = self.columns.get(attr)
        return got if got is not None else [None] * len(self.norad_id)

    def to_records(self) -> list[SatcatRecord]:
        cols = [(a, self.columns[a]) for a in SATCAT_ATTRS if a in self.columns]
        out = []
        for k, (norad, line) in enumerate(zip(self.norad_id, self.line, strict=True)):
            rec = SatcatRecord(norad_id=norad, source_format=self.source_format, file=self.file, line=line)
            for a, values in cols:
                setattr(rec, a, values[k])
            out.append(rec)
        return out

    @classmethod
    def from_records(cls, records: list[SatcatRecord], source_format: str, file: str | None) -> SatcatTable:
        cols = {a: [getattr(r, a) for r in records] for a in SATCAT_ATTRS}
        return cls(source_format, file, [r.norad_id for r in records], [r.line for r in records],
                   {a: v for a, v in cols.items() if any(x is not None for x in v)})


# The fast path's column checks: a column whose cells hold only these characters (and, for numbers and
# catalogue numbers, no empty or over-long cell) converts exactly as the row converter would convert it.
_DATES_ASCII = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:\n|$))*")
_INF = math.inf


def _digits_only(s: str) -> bool:
    return s.isascii() and s.isdigit()


def _odd_number_text(s: str) -> bool:
    """Text float() may read differently from the row converter (which refuses it)."""
    return not s.isascii() or "_" in s or "n" in s or "N" in s  # nan, inf, infinity


def _iso_dates(values: Iterable[str]) -> bool:
    try:
        for d in values:
            date.fromisoformat(d)
    except ValueError:
        return False
    return True
_DATE_ASCII = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_ok(d: str) -> bool:
    if not d:
        return True
    if not _DATE_ASCII.fullmatch(d):
        return False
    try:
        date.fromisoformat(d)
    except ValueError:
        return False
    return True


def read_satcat_table(text: str, *, file: str | None = None, layout: str = "auto"
                      ) -> tuple[SatcatTable, list[RecordError]]:
    """:func:`read_satcat_csv` as columns: the same records (:meth:`SatcatTable.to_records`) and errors.

    CSV without quotes, CRs (other than CRLF line ends) or NULs - what CelesTrak, Space-Track and CARA
    serve - is split once and converted column by column. A column is first checked as a whole (the
    characters its cells hold); a row with any cell spelled otherwise than the plain form (blanks around
    a number, an exponent, a date-time, an unknown object type, a bad value ...) goes to the row converter
    of :func:`read_satcat_csv`, whose record or error is then the row's. Any other text is read by
    :func:`read_satcat_csv`. Raises :class:`ValidationError` as it does.
    """
    if "\r" in text and text.count("\r") == text.count("\r\n"):
        text = text.replace("\r\n", "\n")
    if '"' in text or "\r" in text or "\x00" in text:
        return _table_by_rows(text, file, layout)
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    h = 0
    while h < len(lines) and not lines[h].strip():
        h += 1
    if h == len(lines):
        return SatcatTable(layout if layout != "auto" else "satcat-celestrak", file, [], []), []
    header = [c.strip().lstrip("\ufeff").upper() for c in lines[h].split(",")]
    lay = satcat_layout(header) if layout == "auto" else layout
    if lay is None:
        raise ValidationError("CSV header is not a SATCAT layout (CelesTrak: NORAD_CAT_ID, "
                              "OBJECT_TYPE, OWNER, ...; Space-Track: NORAD_CAT_ID, SATNAME, COUNTRY, "
                              "...; NASA CARA: ObjectID, HBR, Mass)", file=file, line=h + 1)
    if lay not in _COLUMNS:
        raise ValidationError(f"unknown SATCAT layout {lay!r}; expected one of {', '.join(_COLUMNS)}", file=file)
    convert = _RowConverter(lay, header, file)
    width = len(header)
    errors: list[tuple[int, RecordError]] = []
    body = lines[h + 1:]
    commas = list(map(str.count, body, repeat(",", len(body))))
    row_line = range(h + 2, h + 2 + len(body))
    if commas.count(width - 1) != len(body):  # blank lines or rows of another width
        good = []
        for j, (ln, c) in enumerate(zip(body, commas, strict=True), start=h + 2):
            if c == width - 1:
                good.append(j)
            elif c or ln.strip():  # a blank line is no row
                errors.append((j, RecordError(file, j, None, f"row has {c + 1} cells, the header has {width}")))
        body = [lines[j - 1] for j in good]
        row_line = good
    del lines
    norad: list[int] = []
    out: dict[str, list] = {}
    row_lines: list[int] = []
    # Blocks of rows: the cells of one block at a time (a third of the memory of the whole file's cells).
    for a in range(0, len(body), _BLOCK):
        b_norad, b_out, b_lines = _convert_block(convert, lay, width, body[a:a + _BLOCK], row_line[a:a + _BLOCK],
                                                 errors)
        norad.extend(b_norad)
        row_lines.extend(b_lines)
        for attr, values in b_out.items():
            out.setdefault(attr, []).extend(values)
    errors.sort(key=lambda e: e[0])
    return SatcatTable(lay, file, norad, row_lines, out), [e for _, e in errors]


_BLOCK = 16384


def _convert_block(convert: _RowConverter, lay: str, width: int, body: list[str], row_line: Sequence[int],
                   errors: list[tuple[int, RecordError]]) -> tuple[list[int], dict[str, list], list[int]]:
    """The rows of ``body`` (each with ``width`` cells), converted column by column (see
    :func:`read_satcat_table`); errors of the rows the row converter refuses are appended to ``errors``."""
    n = len(body)
    flat = ",".join(body).split(",") if n else []
    used = {convert.norad[0], *(i for _, i, _ in (*convert.floats, *convert.dates, *convert.texts))}
    if convert.type is not None:
        used.add(convert.type[0])
    cols: list = [flat[i::width] if i in used else None for i in range(width)]
    del flat  # (cells of columns no field reads are freed with it)
    slow: set[int] = set()  # rows the column checks did not take

    def check(col: list[str], ok) -> None:
        slow.update(k for k, c in enumerate(col) if not ok(c))

    i_norad = convert.norad[0]
    col = cols[i_norad]
    if not _digits_only("".join(col)) or "" in col or max(map(len, col), default=0) > 9:
        check(col, lambda c: c.isascii() and c.isdigit() and 0 < len(c) <= 9)
    for _, i, _ in convert.floats:
        # float() takes what the row converter takes (it strips blanks too), and more: the row converter
        # refuses underscores, non-ASCII digits, inf and nan (and overflows: see _float_column).
        col = cols[i]
        if _odd_number_text("".join(col)):
            check(col, lambda c: not _odd_number_text(c))
    for _, i, _ in convert.dates:
        col = cols[i]
        uniq = set(col)
        uniq.discard("")
        if not (_DATES_ASCII.fullmatch("\n".join(uniq)) and _iso_dates(uniq)):
            ok = {u: _date_ok(u) for u in uniq} | {"": True}
            check(col, ok.__getitem__)
    types: dict[str, str | None] = {}
    if convert.type is not None:
        for u in set(cols[convert.type[0]]):
            try:
                types[u] = normalise_object_type(u)
            except ValueError:
                types[u] = None
        if None in types.values():
            check(cols[convert.type[0]], lambda c: types[c] is not None)
    # Every row's values, converted as the row converter converts them (slow rows: placeholders first).
    norad = _convert_column(int, cols[i_norad], slow, 0)
    out: dict[str, list] = {}
    for attr, i, _ in convert.floats:
        out[attr] = _float_column(cols[i], slow)
    for attr, i, _ in convert.dates:
        out[attr] = [c or None for c in cols[i]]
    for attr, i, _ in convert.texts:
        col = cols[i]
        if attr in ("owner", "rcs_size"):
            upper = {u: u.strip().upper() or None for u in set(col)}
            out[attr] = list(map(upper.__getitem__, col))
        else:
            out[attr] = [c.strip() or None for c in col]
    if convert.type is not None:
        out["object_type"] = list(map(types.__getitem__, cols[convert.type[0]]))
    if slow:  # the row converter's record or error for each of them, in its place
        row_line = list(row_line)
        dropped = set()
        for k in sorted(slow):
            try:
                rec = convert([c[k] if c is not None else "" for c in cols], row_line[k])
            except ValidationError as exc:
                errors.append((row_line[k], RecordError.from_exc(exc)))
                dropped.add(k)
                continue
            norad[k] = rec.norad_id
            for attr, values in out.items():
                values[k] = getattr(rec, attr)
        if dropped:
            keep = [k for k in range(n) if k not in dropped]
            norad = [norad[k] for k in keep]
            row_line = [row_line[k] for k in keep]
            out = {attr: [v[k] for k in keep] for attr, v in out.items()}
    orbit = [out[a] for a in ("period_min", "inclination", "apogee_km", "perigee_km") if a in out]
    if orbit:
        # The processed CelesTrak file writes 0.0 for "not given"; a real orbit never has period 0.
        for k in [k for k, v in enumerate(zip(*orbit, strict=True)) if not any(v)]:
            for c in orbit:
                c[k] = None
    if lay == "satcat-spacetrack" and "rcs_m2" in out:
        # Space-Track publishes 0 for every object since it withheld RCS values.
        out["rcs_m2"] = [None if v == 0.0 else v for v in out["rcs_m2"]]
    return norad, out, list(row_line)


_NO_VALUE = object()


def _float_column(col: list[str], slow: set[int]) -> list:
    """The numbers of a column (None for empty cells, placeholders in slow rows); a cell float() refuses
    or that overflows to infinity (the row converter refuses it) makes its row slow."""
    vals = None
    if not slow:
        try:
            vals = list(map(float, col)) if "" not in col else [float(c) if c else None for c in col]
        except ValueError:
            vals = None
    if vals is None:
        vals = _convert_column(float, col, slow, None, empty=None)
    if _INF in vals or -_INF in vals:
        for k, v in enumerate(vals):
            if v == _INF or v == -_INF:
                slow.add(k)
                vals[k] = None
    return vals


def _convert_column(conv, col: list[str], slow: set[int], placeholder: Any, empty: Any = _NO_VALUE) -> list:
    """``conv`` of every cell (``empty`` for an empty cell when given); ``placeholder`` in slow rows. A
    cell ``conv`` refuses makes its row slow."""
    if empty is _NO_VALUE:
        if not slow:
            try:
                return list(map(conv, col))
            except ValueError:
                pass
    elif not slow:
        try:
            return [conv(c) if c else empty for c in col]
        except ValueError:
            pass
    out = []
    for k, c in enumerate(col):
        if k in slow:
            out.append(placeholder)
        elif not c and empty is not _NO_VALUE:
            out.append(empty)
        else:
            try:
                out.append(conv(c))
            except ValueError:
                slow.add(k)
                out.append(placeholder)
    return out


def _table_by_rows(text: str, file: str | None, layout: str) -> tuple[SatcatTable, list[RecordError]]:
    records: list[SatcatRecord] = []
    errors: list[RecordError] = []
    for item in read_satcat_csv(text, file=file, layout=layout):
        (errors if isinstance(item, RecordError) else records).append(item)
    fmt = records[0].source_format if records else (layout if layout != "auto" else "satcat-celestrak")
    return SatcatTable.from_records(records, fmt, file), errors


def read_satcat_json(text: str, *, file: str | None = None, layout: str = "auto"
                     ) -> Iterator[SatcatRecord | RecordError]:
    """Read a JSON list of SATCAT objects (CelesTrak or Space-Track keys)."""
    for item in iter_json_objects(text, file=file):
        if isinstance(item, RecordError):
            yield item
            continue
        obj, line, _ = item
        if not isinstance(obj, dict):
            yield RecordError(file, line, None, f"expected a JSON object per catalogue entry, found "
                              f"{type(obj).__name__}")
            continue
        fields = {str(k).strip().upper(): v for k, v in obj.items()}
        lay = satcat_layout(fields) if layout == "auto" else layout
        if lay is None:
            yield RecordError(file, line, None, "object has no SATCAT keys (NORAD_CAT_ID with OBJECT_TYPE, "
                              "OWNER, ... or SATNAME, COUNTRY, ...)")
            continue
        try:
            yield satcat_from_fields(fields, lay, file=file, line=line)
        except ValidationError as exc:
            yield RecordError.from_exc(exc)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def format_satcat_csv(records: SatcatRecord | Iterable[SatcatRecord]) -> str:
    """CelesTrak SATCAT CSV (CelesTrak's columns and object-type codes PAY, R/B, DEB, UNK).

    mass_kg, hbr_m and rcs_size have no CelesTrak column and are not written.
    """
    items = [records] if isinstance(records, SatcatRecord) else list(records)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CELESTRAK_SATCAT_COLUMNS)
    for r in items:
        row = {
            "OBJECT_NAME": r.object_name, "OBJECT_ID": r.object_id, "NORAD_CAT_ID": r.norad_id,
            "OBJECT_TYPE": _TYPE_CODE.get(r.object_type or "", r.object_type),
            "OPS_STATUS_CODE": r.ops_status, "OWNER": r.owner, "LAUNCH_DATE": r.launch_date,
            "LAUNCH_SITE": r.launch_site, "DECAY_DATE": r.decay_date, "PERIOD": r.period_min,
            "INCLINATION": r.inclination, "APOGEE": r.apogee_km, "PERIGEE": r.perigee_km, "RCS": r.rcs_m2,
        }
        w.writerow([_cell(row.get(c)) for c in CELESTRAK_SATCAT_COLUMNS])
    return buf.getvalue()


# ------------------------------------------------------------------------- object descriptions (bulk)
#: The descriptive fields of a stored object row (``store.schema.space_objects``): what SATCAT files
#: carry; element sets give the first two and ``regime``.
OBJECT_FIELDS = (
    "object_id", "name", "object_type", "owner", "owner_nation", "launch_date", "launch_site",
    "decay_date", "period_min", "inclination", "apogee_km", "perigee_km", "regime", "rcs_m2", "rcs_size",
    "mass_kg", "hbr_m", "ops_status",
)
_OBJECT_REALS = frozenset(("period_min", "inclination", "apogee_km", "perigee_km", "rcs_m2", "mass_kg", "hbr_m"))
_EARTH_RADIUS_KM = 6378.135


def satcat_object_rows(t: SatcatTable) -> tuple[list[str], list[tuple]]:
    """The object descriptions a SATCAT table gives: the fields (of :data:`OBJECT_FIELDS`) its layout
    carries - a field it lacks changes nothing (a new row has it NULL, a merge keeps the stored value),
    so it is left out - and one row ``(norad_id, *fields)`` per object, in catalogue-number order; of
    an object described twice in the file, the last description. Column by column: no per-row objects.
    """
    fields, norad, cols = _object_columns(t)
    return fields, list(zip(norad, *cols, strict=True))


def _object_columns(t: SatcatTable) -> tuple[list[str], list[int], list[list]]:
    """:func:`satcat_object_rows` as columns: fields, catalogue numbers, one list per field."""
    import numpy as np

    norad = t.norad_id
    n = len(norad)
    ids = np.asarray(norad, dtype=np.int64)
    order = None
    if n > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        last = dict(zip(norad, range(n), strict=True))  # the last description of an object in a file wins
        order = [last[k] for k in sorted(last)]
    owners = t.column("owner")
    trigraphs = {o: owner_trigraph(o) for o in set(owners)}
    values = {f: t.columns.get(f) for f in OBJECT_FIELDS}
    values.update(name=t.columns.get("object_name"), owner_nation=[trigraphs[o] for o in owners],
                  regime=_satcat_regimes(t))
    fields = [f for f in OBJECT_FIELDS if values[f] is not None] or ["object_id"]
    cols = [values[f] if values[f] is not None else [None] * n for f in fields]
    if order is not None:
        norad = [norad[k] for k in order]
        cols = [[c[k] for k in order] for c in cols]
    return fields, norad, cols


def _satcat_regimes(t: SatcatTable) -> list | None:
    """:func:`~orbitwatch.formats.records.regime_of` of the orbit a SATCAT row gives (period, apogee and
    perigee): None without a positive period; eccentricity 0 unless apogee (positive) and perigee
    (non-zero) are both given."""
    import numpy as np

    from orbitwatch.formats.tle_fast import regimes

    period = t.columns.get("period_min")
    if period is None:
        return None
    p = np.array(period, dtype=np.float64)  # None -> NaN
    has = p > 0.0
    if not has.any():
        return None
    apo, peri = t.columns.get("apogee_km"), t.columns.get("perigee_km")
    ecc = np.zeros(len(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        if apo is not None and peri is not None:
            a = np.array(apo, dtype=np.float64)
            q = np.array(peri, dtype=np.float64)
            use = has & (a > 0.0) & (q != 0.0) & ~np.isnan(q)
            ra, rp = a[use] + _EARTH_RADIUS_KM, q[use] + _EARTH_RADIUS_KM
            ecc[use] = (ra - rp) / (ra + rp)
        names = regimes(1440.0 / p, ecc)
    names[~has] = None
    return names.tolist()


@dataclass
class StagedObjects:
    """A SATCAT file's object descriptions (:func:`satcat_object_rows`) written to a scratch SQLite file
    by :func:`stage_object_rows` - in another process, while the store is busy with earlier work - for a
    SQLite store to merge by SQL (``ATTACH``) without the rows passing through Python again.

    ``records``: how many records the file had (objects described twice count twice, as when read).
    ``path`` and its table ``objects`` are the loader's to delete once merged. For PostgreSQL the rows
    come instead as ``copy_text``, the body of a text-format ``COPY`` of ``(norad_id, *fields)``
    (:func:`copy_object_rows`), and ``path`` is None.
    """

    path: str | None
    fields: list[str]
    norad_ids: list[int]
    records: int
    source_format: str
    file: str | None = None
    copy_text: bytes | None = None

    def __len__(self) -> int:
        return self.records

    def fits(self, dialect: str) -> bool:
        """Whether a store of this SQL dialect can take the staged rows as they are."""
        return (self.path is not None and dialect == "sqlite") or (
            self.copy_text is not None and dialect == "postgresql")

    def rows(self) -> list[tuple]:
        """The rows ``(norad_id, *fields)`` staged in the scratch file."""
        import sqlite3

        if self.path is None:
            raise ValueError("these object rows were staged as COPY text, not in a file")

        con = sqlite3.connect(self.path)
        try:
            names = ", ".join(f'"{f}"' for f in ("norad_id", *self.fields))
            return con.execute(f"SELECT {names} FROM objects ORDER BY norad_id").fetchall()
        finally:
            con.close()


def _null(_value: None) -> None:
    return None


def stage_object_rows(t: SatcatTable, path: str) -> StagedObjects:
    """Write the object rows of ``t`` to a new SQLite file at ``path`` (table ``objects``, catalogue
    number as key). Scratch data: no journal, no syncs - a crash loses only the scratch file, never
    the store, which reads it inside its own transaction."""
    import sqlite3

    fields, rows = satcat_object_rows(t)
    # Binding None otherwise costs the sqlite3 module two exceptions per NULL (see store.engine).
    sqlite3.register_adapter(type(None), _null)
    ddl = ", ".join(f'"{f}" {"REAL" if f in _OBJECT_REALS else "TEXT"}' for f in fields)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("BEGIN")
        con.execute(f"CREATE TABLE objects (norad_id INTEGER PRIMARY KEY, {ddl})")
        con.executemany(f"INSERT INTO objects VALUES ({', '.join('?' * (len(fields) + 1))})", rows)
        con.execute("COMMIT")
    finally:
        con.close()
    return StagedObjects(path, fields, [r[0] for r in rows], len(t), t.source_format, t.file)


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")


def _copy_cells(col: list, real: bool) -> list[str]:
    """One column as cells of PostgreSQL's text ``COPY`` format: ``\\N`` for NULL, ``repr`` for numbers
    (the shortest text that reads back as the same double), text with backslash, tab, newline and
    carriage return escaped (the only characters the format gives a meaning)."""
    if real:
        return [r"\N" if v is None else repr(float(v)) for v in col]
    for v in col:
        if v is not None and not isinstance(v, str):
            raise TypeError(f"text column holds {type(v).__name__}")
    joined = "".join(v for v in col if v is not None)
    if not any(c in joined for c in _COPY_SPECIAL):
        return [r"\N" if v is None else v for v in col]
    return [r"\N" if v is None else v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r") for v in col]


def copy_object_rows(t: SatcatTable) -> StagedObjects:
    """The object rows of ``t`` (:func:`satcat_object_rows`) as the body of a PostgreSQL text ``COPY`` of
    ``(norad_id, *fields)``: built column by column, so that the store's process only hands it on."""
    fields, norad, cols = _object_columns(t)
    cells = [list(map(str, norad)), *(_copy_cells(c, f in _OBJECT_REALS) for f, c in zip(fields, cols, strict=True))]
    body = "".join(line + "\n" for line in map("\t".join, zip(*cells, strict=True)))
    return StagedObjects(None, fields, norad, len(t), t.source_format, t.file, copy_text=body.encode())
