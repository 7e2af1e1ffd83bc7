"""CCSDS Orbit Mean-Elements Messages (OMM, 502.0-B-2 and B-3): KVN, XML (single OMM or NDM-combined),
and the JSON and CSV encodings CelesTrak and Space-Track serve. Read into :class:`ElementSet`, write back.

Reading
-------
Every reader yields one :class:`ElementSet` or one :class:`~orbitwatch.errors.RecordError` per message /
object / row, so a bad record never stops the rest. Errors name the file, the line (KVN and CSV: the line
in the file; XML: the line of the ``<omm>`` element; JSON: the line where the object starts), the OMM
keyword and what was expected. ``ElementSet.original`` holds the record's own text (the KVN message, the
``<omm>`` element, the JSON object, the CSV row).

What is checked: the keywords SGP4 needs are present (EPOCH, MEAN_MOTION, ECCENTRICITY, INCLINATION,
RA_OF_ASC_NODE, ARG_OF_PERICENTER, MEAN_ANOMALY, NORAD_CAT_ID), numbers are plain decimal numbers
(``1.5``, ``.5``, ``-4.1E-5``, ``+25544``, an optional ``[unit]`` in KVN), angles in range, the
metadata describe SGP4 mean elements (CENTER_NAME EARTH, REF_FRAME TEME, TIME_SYSTEM UTC,
MEAN_ELEMENT_THEORY SGP4 / SGP/SGP4 / TLE / SGP4-XP). Keywords orbitwatch does not keep (CREATION_DATE,
Space-Track's SEMIMAJOR_AXIS, PERIOD, APOAPSIS, PERIAPSIS, OBJECT_TYPE, RCS_SIZE, COUNTRY_CODE, LAUNCH_DATE,
DECAY_DATE, TLE_LINE0/1/2, USER_DEFINED_*, covariance, ...) are read and ignored.

OMM carries catalogue numbers of any size (> 339999 included); a message without NORAD_CAT_ID (optional in
B-3) is rejected unless the caller passes ``norad_ids`` (OBJECT_ID -> catalogue number), because
orbitwatch keys every object by its catalogue number.

``sgp4.omm`` (python-sgp4) was considered: its ``parse_csv`` is ``csv.DictReader`` and its ``parse_xml``
handles neither namespaces, the undeclared ``xsi:`` prefix of some real NDM files, KVN, JSON, line numbers
nor per-record errors, so this module does its own reading; the tests use ``sgp4.omm`` as an outside
reference for the values.

Writing
-------
:func:`format_omm_kvn`, :func:`format_omm_xml` (an NDM ``<ndm>`` holding one ``<omm>`` per element set),
:func:`format_omm_json` (CelesTrak-style list) and :func:`format_omm_csv` (CelesTrak column order). Numbers
are written with the shortest text that reads back to the same double, so every writer round-trips.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import ElementSet, format_epoch, parse_epoch

__all__ = [
    "CELESTRAK_COLUMNS",
    "elset_from_fields",
    "omm_fields",
    "read_omm_kvn",
    "read_omm_xml",
    "read_omm_json",
    "read_omm_csv",
    "format_omm_kvn",
    "format_omm_xml",
    "format_omm_json",
    "format_omm_csv",
]

#: CelesTrak's OMM CSV/JSON keys, in its order.
CELESTRAK_COLUMNS: tuple[str, ...] = (
    "OBJECT_NAME", "OBJECT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER", "MEAN_ANOMALY", "EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID",
    "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT",
)

_SGP4_THEORIES = {"SGP4", "SGP/SGP4", "SGP4/SDP4", "SDP4", "SGP", "TLE", "SGP4-XP"}
_OTHER_MESSAGES = {"OPM": "an orbit parameter (state vector) message", "OEM": "an ephemeris",
                   "OCM": "an orbit comprehensive message", "APM": "an attitude message",
                   "AEM": "an attitude ephemeris", "ACM": "an attitude message",
                   "TDM": "a tracking data message", "RDM": "a re-entry message",
                   "CDM": "a conjunction message"}
_REAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_EPOCH = re.compile(r"\d{4}-(?:\d{2}-\d{2}|\d{3})T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?")
_UNITS = re.compile(r"\s*\[[^\]]*\]$")
_KVN_LINE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(.*)$")


def other_message_reason(kind: str) -> str:
    """Why a CCSDS message of type ``kind`` (``OPM``, ``OEM``, ...) is not read as element sets."""
    what = _OTHER_MESSAGES.get(kind.upper(), "not an orbit mean-elements message")
    extra = "; read it with orbitwatch.formats.oem.read_oem" if kind.upper() == "OEM" else ""
    return (f"CCSDS {kind.upper()} is {what}, not an element-set format: orbitwatch reads element sets "
            f"from TLE/3LE and OMM{extra}")


# --------------------------------------------------------------------------------------------- values
def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _real(key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"{v!r} is not a number")
    if isinstance(v, str):
        s = v.strip()
        if not _REAL.fullmatch(s):
            raise ValueError(f"{s!r} is not a decimal number")
        x = float(s)
    else:
        x = float(v)
    if not math.isfinite(x):
        raise ValueError(f"{v!r} is not a finite number")
    return x


def _int(key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"{v!r} is not an integer")
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError(f"{v!r} is not an integer")
        return int(v)
    if isinstance(v, str):
        s = v.strip()
        if not _INT.fullmatch(s) or len(s) > 19:
            raise ValueError(f"{s!r} is not an integer")
        return int(s)
    return int(v)


def elset_from_fields(fields: Mapping[str, Any], *, file: str | None = None, line: int | None = None,
                      original: str | None = None, norad_ids: Mapping[str, int] | None = None
                      ) -> ElementSet:
    """Build an :class:`ElementSet` from OMM keywords (upper-case keys; values str, int, float or None).

    Raises :class:`ValidationError` naming the keyword and what was expected.
    """
    def bad(key: str, reason: str) -> ValidationError:
        return ValidationError(reason, file=file, line=line, field=key)

    def text(key: str) -> str | None:
        v = fields.get(key)
        if _missing(v):
            return None
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise bad(key, f"expected text, found {type(v).__name__}")
        return str(v).strip()

    def real(key: str, default: float | None = None) -> float:
        v = fields.get(key)
        if _missing(v):
            if default is None:
                raise bad(key, f"{key} is missing; SGP4 element sets need it")
            return default
        try:
            return _real(key, v)
        except ValueError as exc:
            raise bad(key, str(exc)) from None

    def integer(key: str) -> int | None:
        v = fields.get(key)
        if _missing(v):
            return None
        try:
            return _int(key, v)
        except ValueError as exc:
            raise bad(key, str(exc)) from None

    for key, expected in (("CENTER_NAME", "EARTH"), ("REF_FRAME", "TEME"), ("TIME_SYSTEM", "UTC")):
        got = text(key)
        if got is not None and got.upper() != expected:
            raise bad(key, f"{key} is {got!r}; SGP4 mean elements are {expected} (expected {expected})")
    theory = text("MEAN_ELEMENT_THEORY")
    if theory is not None and theory.upper() not in _SGP4_THEORIES:
        raise bad("MEAN_ELEMENT_THEORY", f"mean element theory {theory!r} is not SGP4; orbitwatch stores "
                  "SGP4 element sets only (SGP4, SGP/SGP4, SGP4-XP, TLE)")
    epoch_text = text("EPOCH")
    if epoch_text is None:
        raise bad("EPOCH", "EPOCH is missing; SGP4 element sets need it")
    if not _EPOCH.fullmatch(epoch_text):
        raise bad("EPOCH", f"epoch {epoch_text!r} is not ISO 8601 (YYYY-MM-DDThh:mm:ss[.d] or "
                  "YYYY-DDDThh:mm:ss[.d], UTC)")
    try:
        epoch = parse_epoch(epoch_text)
    except (ValueError, OverflowError) as exc:
        raise bad("EPOCH", f"epoch {epoch_text!r} is not a valid date/time: {exc}") from None
    n = real("MEAN_MOTION")
    ecc = real("ECCENTRICITY")
    inc = real("INCLINATION")
    raan = real("RA_OF_ASC_NODE")
    argp = real("ARG_OF_PERICENTER")
    ma = real("MEAN_ANOMALY")
    if not n > 0.0:
        raise bad("MEAN_MOTION", f"mean motion {n} rev/day must be positive")
    if not 0.0 <= ecc < 1.0:
        raise bad("ECCENTRICITY", f"eccentricity {ecc} is outside 0 <= e < 1")
    if not 0.0 <= inc <= 180.0:
        raise bad("INCLINATION", f"inclination {inc} is outside 0..180 degrees")
    for value, key in ((raan, "RA_OF_ASC_NODE"), (argp, "ARG_OF_PERICENTER"), (ma, "MEAN_ANOMALY")):
        if not 0.0 <= value <= 360.0:
            raise bad(key, f"{key} {value} is outside 0..360 degrees")
    object_id = text("OBJECT_ID")
    norad = integer("NORAD_CAT_ID")
    if norad is None:
        if norad_ids is not None and object_id is not None and object_id in norad_ids:
            norad = int(norad_ids[object_id])
        else:
            raise bad("NORAD_CAT_ID", "NORAD_CAT_ID is missing (optional in OMM 3.0, but orbitwatch keys "
                      "objects by catalogue number); add it or pass an OBJECT_ID -> number map")
    if not 0 <= norad < 1_000_000_000:
        raise bad("NORAD_CAT_ID", f"catalogue number {norad} is outside 0..999999999")
    cls = text("CLASSIFICATION_TYPE") or "U"
    if cls not in ("U", "C", "S"):
        raise bad("CLASSIFICATION_TYPE", f"classification {cls!r} is not U, C or S")
    eph = integer("EPHEMERIS_TYPE")
    if eph is None:
        eph = 4 if theory is not None and theory.upper() == "SGP4-XP" else 0
    if not 0 <= eph <= 9:
        raise bad("EPHEMERIS_TYPE", f"ephemeris type {eph} is outside 0..9")
    esn = integer("ELEMENT_SET_NO")
    rev = integer("REV_AT_EPOCH")
    for value, key in ((esn, "ELEMENT_SET_NO"), (rev, "REV_AT_EPOCH")):
        if value is not None and value < 0:
            raise bad(key, f"{key} {value} is negative")
    return ElementSet(
        norad_id=norad, epoch=epoch, mean_motion=n, eccentricity=ecc, inclination=inc, raan=raan,
        arg_perigee=argp, mean_anomaly=ma, bstar=real("BSTAR", 0.0),
        mean_motion_dot=real("MEAN_MOTION_DOT", 0.0), mean_motion_ddot=real("MEAN_MOTION_DDOT", 0.0),
        object_name=text("OBJECT_NAME"), object_id=object_id, classification_type=cls, ephemeris_type=eph,
        element_set_no=esn, rev_at_epoch=rev, source_format="omm", original=original, file=file,
        line=line)


def _record(fields: Mapping[str, Any], *, file: str | None, line: int | None, original: str | None,
            norad_ids: Mapping[str, int] | None, key_lines: Mapping[str, int] | None = None
            ) -> ElementSet | RecordError:
    """An element set, or the error; ``key_lines`` (keyword -> file line) makes errors point at the line of
    the offending keyword rather than the start of the message."""
    try:
        return elset_from_fields(fields, file=file, line=line, original=original, norad_ids=norad_ids)
    except ValidationError as exc:
        at = key_lines.get(exc.field, exc.line) if key_lines and exc.field else exc.line
        return RecordError(exc.file, at, exc.field, exc.reason)


# ------------------------------------------------------------------------------------------------ KVN
def read_omm_kvn(text: str, *, file: str | None = None, norad_ids: Mapping[str, int] | None = None
                 ) -> Iterator[ElementSet | RecordError]:
    """Read KVN text holding one or more OMMs (each starting ``CCSDS_OMM_VERS = ...``).

    Accepts the syntax variants of 502.0-B-3 section 7: blank lines, COMMENT lines, free whitespace and
    TABs around ``=``, ``[unit]`` after values, CR/LF or LF line ends, day-of-year epochs.
    """
    lines = text.split("\n")
    msg: dict[str, Any] = {}
    first = None  # index of the message's first line
    last = None
    where: dict[str, int] = {}
    problem: ValidationError | None = None
    skipping = False  # inside a non-OMM message of a mixed file

    def finish() -> ElementSet | RecordError | None:
        if first is None:
            return None
        original = "\n".join(ln.rstrip("\r") for ln in lines[first:last + 1])
        if problem is not None:
            return RecordError.from_exc(problem)
        if not any(k for k in msg if k != "CCSDS_OMM_VERS"):
            return RecordError(file, first + 1, None, "OMM message has no keywords")
        return _record(msg, file=file, line=first + 1, original=original, norad_ids=norad_ids,
                       key_lines={k: v + 1 for k, v in where.items()})

    for i, raw in enumerate(lines):
        s = raw.strip()
        if not s:
            continue
        m = _KVN_LINE.match(s)
        key = m.group(1).upper() if m else s.split()[0].upper()
        if key.startswith("CCSDS_") and key.endswith("_VERS"):
            if (rec := finish()) is not None:
                yield rec
            msg, where, problem, first, last = {}, {}, None, None, None
            kind = key[6:-5]
            if kind != "OMM":
                skipping = True
                yield RecordError(file, i + 1, key, other_message_reason(kind))
                continue
            skipping = False
        if skipping:
            continue
        if first is None:
            first = i
        last = i
        if problem is not None:
            continue
        if key == "COMMENT" and (len(s) == 7 or not s[7].isalnum() and s[7] != "_"):
            continue
        if m is None:
            if key in ("META_START", "META_STOP", "DATA_START", "DATA_STOP", "COVARIANCE_START",
                       "COVARIANCE_STOP", "USER_DEFINED_START", "USER_DEFINED_STOP"):
                continue
            problem = ValidationError(f"line is not 'KEYWORD = value': {s[:40]!r}", file=file, line=i + 1)
            continue
        value = m.group(2).strip()
        if (u := _UNITS.search(value)) and _REAL.fullmatch(value[:u.start()].strip()):
            value = value[:u.start()].strip()  # "16.05 [rev/day]": units only ever follow numbers
        if key in msg:
            problem = ValidationError(f"keyword {key} appears twice (lines {where[key] + 1} and {i + 1})",
                                      file=file, line=i + 1, field=key)
            continue
        if key == "CCSDS_OMM_VERS" and value.split(".")[0] not in ("1", "2", "3"):
            problem = ValidationError(f"CCSDS_OMM_VERS {value!r} is not a version this reader knows "
                                      "(1.0, 2.0, 3.0)", file=file, line=i + 1, field=key)
            continue
        msg[key] = value
        where[key] = i
    if not skipping and (rec := finish()) is not None:
        yield rec


# ------------------------------------------------------------------------------------------------ XML
class _Node:
    __slots__ = ("tag", "attrib", "text", "children", "line", "start", "end")

    def __init__(self, tag: str, attrib: dict[str, str], line: int, start: int):
        self.tag = tag
        self.attrib = attrib
        self.text: list[str] = []
        self.children: list[_Node] = []
        self.line = line
        self.start = start
        self.end = -1

    def value(self) -> str | None:
        s = "".join(self.text).strip()
        return s or None

    def find(self, tag: str) -> _Node | None:
        for c in self.children:
            if c.tag == tag:
                return c
        return None


def _local(name: str) -> str:
    """Tag or attribute name without its namespace prefix (``ndm:omm`` -> ``omm``)."""
    return name.rsplit(":", 1)[-1]


def parse_xml_tree(data: bytes, *, file: str | None = None) -> tuple[_Node | None, ValidationError | None]:
    """Parse XML into a small tree that knows line numbers and byte spans.

    Namespace prefixes are dropped rather than resolved, so documents that use a prefix without declaring
    it (``xsi:`` in real NDM files) still read. DTDs and entity declarations are refused (no entity
    expansion from untrusted files). On a syntax error the tree built so far is returned with the error.
    """
    parser = expat.ParserCreate()
    stack: list[_Node] = []
    root: list[_Node] = []
    local: dict[str, str] = {}  # tag -> tag without prefix (a few dozen distinct tags per file)

    def start(tag: str, attrs: dict[str, str]) -> None:
        name = local.get(tag)
        if name is None:
            name = local[tag] = _local(tag)
        node = _Node(name, {_local(k): v for k, v in attrs.items()} if attrs else {},
                     parser.CurrentLineNumber, parser.CurrentByteIndex)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(tag: str) -> None:
        node = stack.pop()
        close = data.find(b">", parser.CurrentByteIndex)
        node.end = close + 1 if close >= 0 else len(data)

    def chars(s: str) -> None:
        if stack and (s[0] not in " \t\r\n" or not s.isspace()):  # layout whitespace is not text
            stack[-1].text.append(s)

    def refuse(*_args: Any) -> None:
        raise ValidationError("XML with a DTD or entity declarations is not accepted", file=file,
                              line=parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        err = ValidationError(f"XML is not well-formed: {expat.errors.messages[exc.code]} "
                              f"(column {exc.offset + 1})", file=file, line=exc.lineno)
        return (root[0] if root else None), err
    except ValidationError as exc:
        return None, exc
    except RecursionError:
        return None, ValidationError("XML nesting is too deep", file=file)
    except LookupError as exc:  # an encoding in the XML declaration that Python does not know
        return None, ValidationError(f"XML declares an encoding Python cannot read ({exc}); use UTF-8",
                                     file=file, line=1)
    return (root[0] if root else None), None


def xml_message_kinds(root: _Node) -> list[str]:
    """The CCSDS message types in an XML document: ``["omm", "omm"]`` for an NDM of two OMMs."""
    if root.tag == "ndm":
        return [c.tag for c in root.children if c.tag != "COMMENT"]
    return [root.tag]


def _omm_fields(node: _Node) -> Iterator[tuple[dict[str, int], dict[str, Any]]]:
    version = node.attrib.get("version")
    body = node.find("body")
    segments = body.children if body is not None else []
    for seg in segments:
        if seg.tag != "segment":
            continue
        fields: dict[str, Any] = {}
        lines: dict[str, int] = {}
        if version is not None:
            fields["CCSDS_OMM_VERS"] = version
        meta = seg.find("metadata")
        data = seg.find("data")
        for block in ([meta] if meta is not None else []) + ([data] if data is not None else []):
            for child in block.children:
                if child.tag == "userDefinedParameters":
                    for u in child.children:
                        if u.tag == "USER_DEFINED" and "parameter" in u.attrib:
                            fields["USER_DEFINED_" + u.attrib["parameter"]] = u.value()
                elif child.children and child.tag in ("meanElements", "tleParameters", "spacecraftParameters",
                                                      "covarianceMatrix"):
                    for leaf in child.children:
                        if leaf.tag != "COMMENT":
                            fields[leaf.tag] = leaf.value()
                            lines[leaf.tag] = leaf.line
                elif child.tag != "COMMENT":
                    fields[child.tag] = child.value()
                    lines[child.tag] = child.line
        yield lines, fields


def read_omm_xml(data: bytes | str, *, file: str | None = None, norad_ids: Mapping[str, int] | None = None
                 ) -> Iterator[ElementSet | RecordError]:
    """Read an XML OMM (root ``<omm>``) or an NDM combined instantiation (root ``<ndm>`` holding OMMs),
    with or without namespaces. Other NDM messages inside an ``<ndm>`` are reported, not read."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root, err = parse_xml_tree(raw, file=file)
    if root is not None:
        messages = root.children if root.tag == "ndm" else [root]
        for node in messages:
            if node.tag == "COMMENT":
                continue
            if node.tag != "omm":
                yield RecordError(file, node.line, node.tag, other_message_reason(node.tag))
                continue
            if node.end < 0:  # cut short by the syntax error reported below
                continue
            original = raw[node.start:node.end].decode("utf-8", "replace")
            found = False
            for key_lines, fields in _omm_fields(node):
                found = True
                yield _record(fields, file=file, line=node.line, original=original, norad_ids=norad_ids,
                              key_lines=key_lines)
            if not found:
                yield RecordError(file, node.line, "segment", "<omm> element has no <body><segment>")
    if err is not None:
        yield RecordError.from_exc(err)


# ----------------------------------------------------------------------------------------------- JSON
def iter_json_objects(text: str, *, file: str | None = None
                      ) -> Iterator[tuple[Any, int, str] | RecordError]:
    """Yield ``(object, line, text)`` for each item of a top-level JSON array, a single object, or a
    sequence of objects (JSON Lines). A syntax error yields one RecordError and ends the file."""
    dec = json.JSONDecoder()
    n = len(text)
    i = 0
    line = 1
    counted = 0

    def skip(i: int) -> int:
        while i < n and text[i] in " \t\r\n":
            i += 1
        return i

    def line_at(i: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, i)
        counted = i
        return line

    def decode(i: int) -> tuple[Any, int]:
        try:
            return dec.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"JSON syntax error: {exc.msg}", file=file, line=exc.lineno) from None
        except (ValueError, RecursionError) as exc:
            raise ValidationError(f"JSON value cannot be read: {exc}", file=file, line=line_at(i)) from None

    try:
        i = skip(0)
        if i < n and text[i] == "[":
            i = skip(i + 1)
            if i < n and text[i] == "]":
                return
            while True:
                obj, j = decode(i)
                yield obj, line_at(i), text[i:j]
                i = skip(j)
                if i < n and text[i] == ",":
                    i = skip(i + 1)
                    continue
                if i < n and text[i] == "]":
                    i = skip(i + 1)
                    break
                raise ValidationError("JSON syntax error: expected ',' or ']' after an array item",
                                      file=file, line=line_at(min(i, n)))
            if i < n:
                raise ValidationError("JSON syntax error: text after the closing ']'", file=file,
                                      line=line_at(i))
        else:
            while i < n:
                obj, j = decode(i)
                yield obj, line_at(i), text[i:j]
                i = skip(j)
    except ValidationError as exc:
        yield RecordError.from_exc(exc)


def _upper_keys(obj: dict) -> dict[str, Any]:
    return {str(k).strip().upper(): v for k, v in obj.items()}


def read_omm_json(text: str, *, file: str | None = None, norad_ids: Mapping[str, int] | None = None
                  ) -> Iterator[ElementSet | RecordError]:
    """Read CelesTrak / Space-Track OMM JSON (a list of objects; values may be numbers or strings)."""
    for item in iter_json_objects(text, file=file):
        if isinstance(item, RecordError):
            yield item
            continue
        obj, line, original = item
        if not isinstance(obj, dict):
            yield RecordError(file, line, None, f"expected a JSON object per element set, found "
                              f"{type(obj).__name__}")
            continue
        yield _record(_upper_keys(obj), file=file, line=line, original=original, norad_ids=norad_ids)


# ------------------------------------------------------------------------------------------------ CSV
def iter_csv_rows(text: str, *, file: str | None = None, with_text: bool = True
                  ) -> Iterator[tuple[list[str], int, str | None] | RecordError]:
    """Yield ``(cells, line, row_text)`` for every row of CSV text, the header included (quoted cells may
    span lines; ``line`` is the row's first line). Blank lines are skipped. A csv-module error yields a
    RecordError and reading goes on with the next line."""
    lines = text.split("\n")
    last = len(lines) - 1
    it = iter([ln + "\n" for ln in lines[:-1]] + ([lines[-1]] if lines[-1] else []))
    reader = csv.reader(it)
    base = 0  # lines consumed by earlier readers (a new reader restarts line_num after an error)
    prev = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RecordError(file, base + prev + 1, None, f"CSV row cannot be read: {exc}")
            base += reader.line_num
            prev = 0
            reader = csv.reader(it)
            continue
        cur = reader.line_num
        start = base + prev
        prev = cur
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        row_text = None
        if with_text:
            end = min(base + cur, last + 1)
            row_text = (lines[start].rstrip("\r") if end - start == 1
                        else "\n".join(ln.rstrip("\r") for ln in lines[start:end]))
        yield cells, start + 1, row_text


def csv_header(text: str, *, file: str | None = None) -> list[str]:
    """The first row of CSV text, cells stripped and upper-cased (a UTF-8 BOM dropped)."""
    for item in iter_csv_rows(text[:65536], file=file):
        if isinstance(item, RecordError):
            raise ValidationError(item.reason, file=file, line=item.line)
        return [c.strip().lstrip("\ufeff").upper() for c in item[0]]
    raise ValidationError("CSV text has no header row", file=file, line=1)


def read_csv_records(text: str, make: Callable[[dict[str, str], int, str | None], Any], *,
                     file: str | None = None, required: Iterable[str] = (), with_text: bool = True
                     ) -> Iterator[Any]:
    """Shared CSV loop: header -> dict per row -> ``make(fields, line, row_text)``; rows whose length
    differs from the header's yield a RecordError. Raises ValidationError if required columns lack."""
    header: list[str] | None = None
    for item in iter_csv_rows(text, file=file, with_text=with_text):
        if isinstance(item, RecordError):
            yield item
            continue
        cells, line, original = item
        if header is None:
            header = [c.strip().lstrip("\ufeff").upper() for c in cells]
            lacking = [k for k in required if k not in header]
            if lacking:
                raise ValidationError(f"CSV header lacks column(s) {', '.join(lacking)}", file=file, line=line)
            continue
        if len(cells) != len(header):
            yield RecordError(file, line, None, f"row has {len(cells)} cells, the header has {len(header)}")
            continue
        yield make(dict(zip(header, cells, strict=True)), line, original)


_NUM_CHARS = "0123456789.+-eE"
_EPOCH26 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}")
_CSV_REALS = ("MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER",
              "MEAN_ANOMALY", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
_CSV_META = ("CENTER_NAME", "REF_FRAME", "TIME_SYSTEM", "MEAN_ELEMENT_THEORY")


class _FastRow:
    """CelesTrak-shaped CSV rows straight to element sets, column positions looked up once.

    Only the common spelling is handled here (ISO epochs with 6 fraction digits, plain decimal numbers,
    unsigned integers, all keywords present); any other row is handed to :func:`elset_from_fields`, so
    results and error messages are exactly the general reader's.
    """

    def __init__(self, header: list[str]):
        self.ok = all(k in header for k in (*_CSV_REALS, "EPOCH", "NORAD_CAT_ID")) and not any(
            k in header for k in _CSV_META)
        pos = {k: i for i, k in enumerate(header)}
        self.reals = [pos.get(k, -1) for k in _CSV_REALS]
        self.epoch = pos.get("EPOCH", -1)
        self.norad = pos.get("NORAD_CAT_ID", -1)
        self.ints = [pos.get(k, -1) for k in ("EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH")]
        self.texts = [pos.get(k, -1) for k in ("OBJECT_NAME", "OBJECT_ID", "CLASSIFICATION_TYPE")]

    def __call__(self, cells: list[str], line: int, original: str | None, file: str | None
                 ) -> ElementSet | None:
        """The element set, or None when the row needs the general reader."""
        vals = []
        for i in self.reals:
            v = cells[i]
            if not v or v.strip(_NUM_CHARS):
                return None
            try:
                vals.append(float(v))
            except ValueError:
                return None
        n, ecc, inc, raan, argp, ma, bstar, ndot, nddot = vals
        if not (n > 0.0 and 0.0 <= ecc < 1.0 and 0.0 <= inc <= 180.0 and 0.0 <= raan <= 360.0
                and 0.0 <= argp <= 360.0 and 0.0 <= ma <= 360.0) or not all(map(math.isfinite, vals)):
            return None
        ep = cells[self.epoch]
        if not _EPOCH26.fullmatch(ep):
            return None
        try:
            epoch = datetime.fromisoformat(ep).replace(tzinfo=UTC)  # == parse_epoch for this shape
        except ValueError:
            return None
        nd = cells[self.norad]
        if not (nd.isascii() and nd.isdigit() and len(nd) <= 9):
            return None
        ints: list[int | None] = []
        for i in self.ints:
            v = cells[i] if i >= 0 else ""
            if not v:
                ints.append(None)
            elif v.isascii() and v.isdigit() and len(v) <= 18:
                ints.append(int(v))
            else:
                return None
        eph, esn, rev = ints
        if eph is not None and eph > 9:
            return None
        name, oid, cls = ((cells[i].strip() or None) if i >= 0 else None for i in self.texts)
        if cls is not None and cls not in ("U", "C", "S"):
            return None
        return ElementSet(int(nd), epoch, n, ecc, inc, raan, argp, ma, bstar, ndot, nddot, name, oid,
                          cls or "U", eph or 0, esn, rev, "omm", original, file, line)


def read_omm_csv(text: str, *, file: str | None = None, norad_ids: Mapping[str, int] | None = None
                 ) -> Iterator[ElementSet | RecordError]:
    """Read OMM CSV as CelesTrak serves it (header row of OMM keywords, one element set per row; columns
    in any order, extra columns ignored)."""
    header: list[str] | None = None
    fast: _FastRow | None = None
    for item in iter_csv_rows(text, file=file):
        if isinstance(item, RecordError):
            yield item
            continue
        cells, line, original = item
        if header is None:
            header = [c.strip().lstrip("\ufeff").upper() for c in cells]
            lacking = [k for k in ("EPOCH", "MEAN_MOTION") if k not in header]
            if lacking:
                raise ValidationError(f"CSV header lacks column(s) {', '.join(lacking)}", file=file, line=line)
            fast = _FastRow(header)
            continue
        if len(cells) != len(header):
            yield RecordError(file, line, None, f"row has {len(cells)} cells, the header has {len(header)}")
            continue
        es = fast(cells, line, original, file) if fast.ok else None
        if es is None:
            es = _record(dict(zip(header, cells, strict=True)), file=file, line=line, original=original,
                         norad_ids=norad_ids)
        yield es


# -------------------------------------------------------------------------------------------- writing
def _num(x: float) -> str:
    """Shortest text that reads back to the same double (``repr``), exponent in upper case."""
    return repr(float(x)).upper()


def omm_fields(es: ElementSet) -> dict[str, Any]:
    """CelesTrak-ordered OMM keywords of an element set (numbers as Python numbers, absent as None)."""
    return {
        "OBJECT_NAME": es.object_name, "OBJECT_ID": es.object_id, "EPOCH": format_epoch(es.epoch),
        "MEAN_MOTION": float(es.mean_motion), "ECCENTRICITY": float(es.eccentricity),
        "INCLINATION": float(es.inclination), "RA_OF_ASC_NODE": float(es.raan),
        "ARG_OF_PERICENTER": float(es.arg_perigee), "MEAN_ANOMALY": float(es.mean_anomaly),
        "EPHEMERIS_TYPE": int(es.ephemeris_type or 0), "CLASSIFICATION_TYPE": es.classification_type or "U",
        "NORAD_CAT_ID": int(es.norad_id), "ELEMENT_SET_NO": es.element_set_no,
        "REV_AT_EPOCH": es.rev_at_epoch, "BSTAR": float(es.bstar),
        "MEAN_MOTION_DOT": float(es.mean_motion_dot), "MEAN_MOTION_DDOT": float(es.mean_motion_ddot),
    }


def _text_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return _num(v)
    return str(v)


def _check_line_safe(value: str | None, key: str) -> None:
    if value is not None and ("\n" in value or "\r" in value):
        raise ValidationError(f"{key} {value!r} holds a line break; OMM values are one line", field=key)


def _header_values(creation_date: datetime | None, originator: str) -> tuple[str, str]:
    when = (creation_date or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return when, originator


def format_omm_kvn(elsets: ElementSet | Iterable[ElementSet], *, originator: str = "ORBITWATCH",
                   creation_date: datetime | None = None, version: str = "3.0") -> str:
    """KVN text: one OMM per element set (502.0-B-3 layout), separated by a blank line."""
    items = [elsets] if isinstance(elsets, ElementSet) else list(elsets)
    when, orig = _header_values(creation_date, originator)
    out: list[str] = []
    for es in items:
        f = omm_fields(es)
        for key in ("OBJECT_NAME", "OBJECT_ID"):
            _check_line_safe(f[key], key)
        block = [("CCSDS_OMM_VERS", version), ("CREATION_DATE", when), ("ORIGINATOR", orig), None,
                 ("OBJECT_NAME", f["OBJECT_NAME"]), ("OBJECT_ID", f["OBJECT_ID"]), ("CENTER_NAME", "EARTH"),
                 ("REF_FRAME", "TEME"), ("TIME_SYSTEM", "UTC"), ("MEAN_ELEMENT_THEORY", "SGP4"), None]
        block += [(k, f[k]) for k in ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION",
                                      "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY")]
        block.append(None)
        block += [(k, f[k]) for k in ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID",
                                      "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT",
                                      "MEAN_MOTION_DDOT") if f[k] is not None]
        out.append("\n".join("" if kv is None else f"{kv[0]:<19} = {_text_value(kv[1])}".rstrip()
                             for kv in block))
    return "\n\n".join(out) + ("\n" if out else "")


def format_omm_xml(elsets: ElementSet | Iterable[ElementSet], *, originator: str = "ORBITWATCH",
                   creation_date: datetime | None = None, version: str = "3.0") -> str:
    """An NDM/XML combined instantiation: ``<ndm>`` holding one ``<omm>`` per element set."""
    items = [elsets] if isinstance(elsets, ElementSet) else list(elsets)
    when, orig = _header_values(creation_date, originator)

    def el(indent: int, key: str, value: Any) -> str:
        pad = " " * indent
        v = _text_value(value)
        return f"{pad}<{key}>{escape(v)}</{key}>" if v else f"{pad}<{key}/>"

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation='
           '"https://sanaregistry.org/r/ndmxml_unqualified/ndmxml-3.0.0-master-3.0.xsd">']
    for es in items:
        f = omm_fields(es)
        out.append(f'  <omm id="CCSDS_OMM_VERS" version={quoteattr(version)}>')
        out += ["    <header>", el(6, "CREATION_DATE", when), el(6, "ORIGINATOR", orig), "    </header>",
                "    <body>", "      <segment>", "        <metadata>"]
        out += [el(10, "OBJECT_NAME", f["OBJECT_NAME"]), el(10, "OBJECT_ID", f["OBJECT_ID"]),
                el(10, "CENTER_NAME", "EARTH"), el(10, "REF_FRAME", "TEME"), el(10, "TIME_SYSTEM", "UTC"),
                el(10, "MEAN_ELEMENT_THEORY", "SGP4"), "        </metadata>", "        <data>",
                "          <meanElements>"]
        out += [el(12, k, f[k]) for k in ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION",
                                          "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY")]
        out += ["          </meanElements>", "          <tleParameters>"]
        out += [el(12, k, f[k]) for k in ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID",
                                          "ELEMENT_SET_NO", "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT",
                                          "MEAN_MOTION_DDOT") if f[k] is not None]
        out += ["          </tleParameters>", "        </data>", "      </segment>", "    </body>",
                "  </omm>"]
    out.append("</ndm>")
    return "\n".join(out) + "\n"


def format_omm_json(elsets: ElementSet | Iterable[ElementSet]) -> str:
    """CelesTrak-style OMM JSON: a list of objects with CelesTrak's keys, one object per line."""
    items = [elsets] if isinstance(elsets, ElementSet) else list(elsets)
    if not items:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(omm_fields(es), ensure_ascii=False) for es in items) + "\n]\n"


def format_omm_csv(elsets: ElementSet | Iterable[ElementSet]) -> str:
    """CelesTrak-style OMM CSV: header row of OMM keywords in CelesTrak's order, CRLF line ends."""
    import io

    items = [elsets] if isinstance(elsets, ElementSet) else list(elsets)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CELESTRAK_COLUMNS)
    for es in items:
        f = omm_fields(es)
        w.writerow([_text_value(f[k]) for k in CELESTRAK_COLUMNS])
    return buf.getvalue()
