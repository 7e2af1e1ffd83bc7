"""Read any supported element-set or SATCAT file: format detection from content, gzip, one result type.

:func:`read_path` / :func:`read_bytes` return a :class:`ReadResult` whose ``records`` are
:class:`~orbitwatch.formats.records.ElementSet` (``kind == "elsets"``) or
:class:`~orbitwatch.formats.records.SatcatRecord` (``kind == "satcat"``) and whose ``errors`` are the
per-record :class:`~orbitwatch.errors.RecordError` s. A file that is not one of the formats (or is a CCSDS
message of another kind: OPM, OEM, APM, AEM, TDM, RDM, CDM) raises :class:`ValidationError` naming the
file and what was expected.

Detection looks at the content, not the name: the gzip magic bytes, then the first characters (``<``
XML, ``[``/``{`` JSON), the first keyword (``CCSDS_OMM_VERS`` KVN), TLE line shapes, or a CSV header
(OMM keywords; CelesTrak / Space-Track SATCAT columns; NASA CARA's ObjectID/HBR/Mass).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import ElementSet, SatcatRecord

__all__ = ["ReadResult", "FORMATS", "read_path", "read_bytes", "detect_format"]

#: Format names a :class:`ReadResult` can carry.
FORMATS = ("tle", "omm-kvn", "omm-xml", "omm-json", "omm-csv", "satcat-celestrak", "satcat-spacetrack",
           "satcat-cara")
_FORCED = ("auto", "tle", "omm", "satcat", *FORMATS)
_EXPECTED = ("expected TLE/3LE, CCSDS OMM (KVN, XML, JSON or CSV), or a SATCAT CSV (CelesTrak, "
             "Space-Track, NASA CARA HBR/mass)")
_MAX_UNZIPPED = 2 << 30  # 2 GiB: more than any catalogue, less than a decompression bomb
_TLE1 = re.compile(r"^1 [ 0-9A-Z]{5}[ A-Z] ")
_TLE2 = re.compile(r"^2 [ 0-9A-Z]{5} ")
_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)[\s/>]")
_XML_MESSAGES = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(omm|opm|oem|ocm|apm|aem|acm|tdm|rdm|cdm)[\s/>]")
_KVN_VERS = re.compile(r"^\s*CCSDS_([A-Za-z]+)_VERS\s*=")


@dataclass
class ReadResult:
    """What one file held: its records (element sets or SATCAT entries) and per-record errors."""

    kind: str  # "elsets" | "satcat"
    format: str  # one of FORMATS
    records: list[ElementSet] | list[SatcatRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    file: str | None = None
    #: TLE only: numeric fields as numpy arrays aligned with ``records`` (see
    #: :func:`orbitwatch.formats.tle_fast.read_tle_columns`); None for other formats.
    columns: dict | None = None
    #: TLE read with ``tle_table=True``: a :class:`~orbitwatch.formats.tle_fast.TleReader` that yields the
    #: element sets as column tables (``records`` is then empty, and ``errors`` is complete once the
    #: reader's ``rest()`` has run); bulk loaders use it. A SATCAT CSV read with ``satcat_table=True``: a
    #: :class:`~orbitwatch.formats.satcat.SatcatTable` (``records`` empty, ``errors`` complete).
    table: Any = None


def _fail(reason: str, name: str | None) -> ValidationError:
    return ValidationError(reason, file=name)


def _gunzip(data: bytes, name: str | None) -> bytes:
    """All gzip members of ``data``, decompressed (zlib directly: faster than GzipFile), with a cap."""
    parts: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(wbits=31)
            chunk = d.decompress(rest, _MAX_UNZIPPED + 1 - size)
            size += len(chunk)
            if size > _MAX_UNZIPPED or d.unconsumed_tail:
                raise _fail(f"gzip content is larger than {_MAX_UNZIPPED >> 30} GiB", name)
            if not d.eof:
                raise _fail("gzip data cannot be read: compressed file ended before the end-of-stream "
                            "marker was reached", name)
            parts.append(chunk)
            rest = d.unused_data.lstrip(b"\x00")  # members may be padded with zeros
    except zlib.error as exc:
        raise _fail(f"gzip data cannot be read: {exc}", name) from None
    return b"".join(parts)


def _prepare(data: bytes, name: str | None) -> bytes:
    """Decompress, drop byte-order marks, refuse binary containers."""
    if not isinstance(data, bytes):
        data = bytes(data)
    for _ in range(3):  # .gz of a .gz happens
        if data[:2] != b"\x1f\x8b":
            break
        data = _gunzip(data, name)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise _fail("UTF-16 text cannot be decoded", name) from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data or data.isspace():
        raise _fail(f"file is empty; {_EXPECTED}", name)
    if data[:4] == b"PAR1":
        raise _fail("Parquet files are not read; use the CSV form of the catalogue", name)
    if data[:4] == b"PK\x03\x04":
        raise _fail("zip archives are not read; unzip first (gzip is read directly)", name)
    if b"\x00" in data[:8192]:
        raise _fail(f"binary content (NUL bytes); {_EXPECTED}", name)
    return data


def _xml_format(data: bytes, name: str | None) -> str:
    from orbitwatch.formats.omm import other_message_reason

    head = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", data[:65536], flags=re.S)
    m = _XML_ROOT.search(head)
    root = m.group(2).decode("ascii", "replace").lower() if m else ""
    if root == "omm":
        return "omm-xml"
    if root == "ndm":
        kinds = {k.decode().lower() for k in _XML_MESSAGES.findall(data)}
        if "omm" in kinds:
            return "omm-xml"
        if kinds:
            raise _fail(other_message_reason(sorted(kinds)[0]) + " (NDM holds no <omm>)", name)
        raise _fail("NDM/XML holds no <omm> message", name)
    if root in ("opm", "oem", "ocm", "apm", "aem", "acm", "tdm", "rdm", "cdm"):
        raise _fail(other_message_reason(root), name)
    raise _fail(f"XML root <{root or '?'}> is not an OMM or NDM; {_EXPECTED}", name)


def _json_format(text: str, name: str | None) -> str:
    from orbitwatch.formats.omm import iter_json_objects
    from orbitwatch.formats.satcat import satcat_layout

    for item in iter_json_objects(text, file=name):
        if isinstance(item, RecordError):
            raise _fail(f"JSON cannot be read: {item.reason} (line {item.line})", name)
        obj = item[0]
        if not isinstance(obj, dict):
            raise _fail(f"JSON holds {type(obj).__name__}s, not objects; {_EXPECTED}", name)
        keys = {str(k).strip().upper() for k in obj}
        if "EPOCH" in keys or "MEAN_MOTION" in keys:
            return "omm-json"
        layout = satcat_layout(keys)
        if layout is not None:
            return layout
        raise _fail(f"JSON objects have neither OMM keys (EPOCH, MEAN_MOTION, ...) nor SATCAT keys; "
                    f"{_EXPECTED}", name)
    return "omm-json"  # an empty list: nothing to read, nothing wrong


def _looks_like_tle(lines: list[str]) -> bool:
    seen1 = False
    for ln in lines:
        s = ln.rstrip()
        if len(s) >= 68 and _TLE1.match(s):
            seen1 = True
        elif seen1 and len(s) >= 68 and _TLE2.match(s):
            return True
    return False


def detect_format(data: bytes, name: str | None = None) -> str:
    """The format of (already decompressed) file content, one of :data:`FORMATS`.

    Raises :class:`ValidationError` for anything else, with the reason (e.g. "CCSDS OPM is an orbit
    parameter (state vector) message, not an element-set format").
    """
    from orbitwatch.formats.omm import csv_header, other_message_reason
    from orbitwatch.formats.satcat import satcat_layout

    stripped = data.lstrip()
    first = stripped[:1]
    if first == b"<":
        return _xml_format(data, name)
    text_head = data[:262144].decode("utf-8", "replace")
    if first in (b"[", b"{"):
        return _json_format(data.decode("utf-8", "replace"), name)
    lines = text_head.split("\n")
    meaningful = [ln for ln in lines[:200] if ln.strip() and not ln.lstrip().startswith(("#", "COMMENT"))]
    if meaningful and (m := _KVN_VERS.match(meaningful[0])):
        kind = m.group(1).upper()
        if kind == "OMM":
            return "omm-kvn"
        raise _fail(other_message_reason(kind), name)
    if _looks_like_tle(meaningful[:120]):
        return "tle"
    if lines[0].startswith("#JCAT\t"):
        raise _fail("GCAT (J. McDowell) TSV catalogues are not a supported SATCAT layout; use CelesTrak or "
                    "Space-Track SATCAT CSV", name)
    if meaningful and "," in meaningful[0]:
        try:
            header = csv_header(text_head, file=name)
        except ValidationError:
            header = []
        hs = set(header)
        if "EPOCH" in hs and "MEAN_MOTION" in hs:
            return "omm-csv"
        layout = satcat_layout(header)
        if layout is not None:
            return layout
        shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
        raise _fail(f"CSV header ({shown}) is neither OMM (EPOCH, MEAN_MOTION, NORAD_CAT_ID, ...) nor a "
                    f"SATCAT layout; {_EXPECTED}", name)
    if meaningful and "=" in meaningful[0] and re.match(r"\s*[A-Z_]+\s*=", meaningful[0]):
        raise _fail("KVN text without a CCSDS_OMM_VERS header; an OMM in KVN starts with "
                    "'CCSDS_OMM_VERS = 2.0' (or 3.0)", name)
    raise _fail(f"content is not a recognised format; {_EXPECTED}", name)


def _collect(items, kind: str, fmt: str, name: str | None) -> ReadResult:
    records: list = []
    errors: list[RecordError] = []
    for it in items:
        (errors if isinstance(it, RecordError) else records).append(it)
    return ReadResult(kind=kind, format=fmt, records=records, errors=errors, file=name)


def _read_as(data: bytes, fmt: str, name: str | None, norad_ids: Mapping[str, int] | None,
             tle_table: bool = False, satcat_table: bool = False) -> ReadResult:
    if fmt == "tle" and tle_table:
        from orbitwatch.formats.tle_fast import TleReader

        reader = TleReader(data, file=name)
        return ReadResult(kind="elsets", format="tle", records=[], errors=reader.errors, file=name, table=reader)
    if fmt == "tle":
        from orbitwatch.formats.tle_fast import read_tle_columns

        recs, errs, cols = read_tle_columns(data, file=name)
        return ReadResult(kind="elsets", format="tle", records=recs, errors=errs, file=name, columns=cols)
    if fmt == "omm-xml":
        from orbitwatch.formats.omm import read_omm_xml

        return _collect(read_omm_xml(data, file=name, norad_ids=norad_ids), "elsets", fmt, name)
    text = data.decode("utf-8", "replace")
    if fmt == "omm-kvn":
        from orbitwatch.formats.omm import read_omm_kvn

        return _collect(read_omm_kvn(text, file=name, norad_ids=norad_ids), "elsets", fmt, name)
    if fmt == "omm-json":
        from orbitwatch.formats.omm import read_omm_json

        return _collect(read_omm_json(text, file=name, norad_ids=norad_ids), "elsets", fmt, name)
    if fmt == "omm-csv":
        from orbitwatch.formats.omm import read_omm_csv

        return _collect(read_omm_csv(text, file=name, norad_ids=norad_ids), "elsets", fmt, name)
    from orbitwatch.formats.satcat import read_satcat_csv, read_satcat_json, read_satcat_table

    if data.lstrip()[:1] in (b"[", b"{"):
        return _collect(read_satcat_json(text, file=name, layout=fmt), "satcat", fmt, name)
    if satcat_table:
        table, errors = read_satcat_table(text, file=name, layout=fmt)
        return ReadResult(kind="satcat", format=fmt, records=[], errors=errors, file=name, table=table)
    return _collect(read_satcat_csv(text, file=name, layout=fmt), "satcat", fmt, name)


def read_bytes(data: bytes, name: str | None = None, fmt: str = "auto", *,
               norad_ids: Mapping[str, int] | None = None, tle_table: bool = False,
               satcat_table: bool = False) -> ReadResult:
    """Read one file's bytes (gzip-compressed or not).

    ``fmt``: ``"auto"`` (detect from content), ``"tle"``, ``"omm"`` (any OMM encoding, detected),
    ``"satcat"`` (any SATCAT layout, detected), or one of :data:`FORMATS` to skip detection.
    ``norad_ids`` maps OBJECT_ID to catalogue number for OMMs that omit NORAD_CAT_ID. ``tle_table``: a
    TLE file comes back as a reader of column tables in ``ReadResult.table`` (the bulk ingest path);
    ``satcat_table``: a SATCAT CSV comes back as a column table there (idem).
    Raises :class:`ValidationError` for unreadable or unsupported content; per-record problems are in
    ``ReadResult.errors``.
    """
    if fmt not in _FORCED:
        raise ValidationError(f"format {fmt!r} is not one of {', '.join(_FORCED)}", file=name, field="format")
    data = _prepare(data, name)
    if fmt in FORMATS:
        return _read_as(data, fmt, name, norad_ids, tle_table, satcat_table)
    if fmt == "tle":
        return _read_as(data, "tle", name, norad_ids, tle_table, satcat_table)
    try:
        detected = detect_format(data, name)
    except ValidationError:
        if fmt == "omm" and b"=" in data[:4096] and data.lstrip()[:1] not in (b"<", b"[", b"{"):
            detected = "omm-kvn"  # headerless KVN when the caller says it is OMM
        else:
            raise
    if fmt == "omm" and not detected.startswith("omm"):
        raise _fail(f"--format omm was given but the content is {detected}", name)
    if fmt == "satcat" and not detected.startswith("satcat"):
        raise _fail(f"--format satcat was given but the content is {detected}", name)
    return _read_as(data, detected, name, norad_ids, tle_table, satcat_table)


def read_path(path: str | Path, fmt: str = "auto", *, norad_ids: Mapping[str, int] | None = None,
              tle_table: bool = False, satcat_table: bool = False) -> ReadResult:
    """Read a file from disk (see :func:`read_bytes`); errors name ``str(path)``."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    return read_bytes(data, name, fmt, norad_ids=norad_ids, tle_table=tle_table, satcat_table=satcat_table)
