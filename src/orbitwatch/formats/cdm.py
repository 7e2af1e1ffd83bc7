"""CCSDS Conjunction Data Message (CDM, CCSDS 508.0-B-1): read and write KVN and XML.

One canonical record, :class:`Cdm` — header, relative metadata/data, and two :class:`CdmObject`
sections (metadata, OD parameters, additional parameters, state vector, RTN covariance up to 9x9 with
the drag, SRP and thrust rows) — with readers :func:`parse_cdm_kvn`, :func:`parse_cdm_xml`,
:func:`read_cdm_path` and writers :func:`format_cdm_kvn`, :func:`format_cdm_xml`. Values are typed:
times are UTC ``datetime``, numbers ``float`` (counts ``int``), everything else ``str``; units are the
standard's (state vector km and km/s, covariance m², m²/s, m²/s², ...).

The reader is lenient where real messages are sloppy and strict where data would be lost:

* accepts ISO and day-of-year times (``2017-232T05:02:35.819``), ``COMMENT`` lines anywhere (a comment
  belongs to the section of the keyword that follows it), units in brackets (``715 [m]``), no space
  around ``=``, ``NaN`` values, and a unit that disagrees with the standard or an unknown keyword
  (both kept, and reported in :attr:`Cdm.warnings`);
* refuses (``ValidationError`` naming file, line and keyword) a number that is not a number, a
  keyword repeated in one section, object data before any ``OBJECT`` line, a third object, or a
  message without two objects.

:func:`check_cdm` lists what a message lacks against the standard's mandatory keywords and
enumerations; a written message parses back equal (``==``) to what was written.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import parse_epoch

__all__ = [
    "COVARIANCE_ROWS",
    "Cdm",
    "CdmObject",
    "cdm_from_conjunction",
    "check_cdm",
    "covariance_keyword",
    "format_cdm_kvn",
    "format_cdm_xml",
    "parse_cdm",
    "parse_cdm_kvn",
    "parse_cdm_xml",
    "read_cdm_path",
]

# --------------------------------------------------------------------------------- keyword catalogue
# (keyword, kind, unit, mandatory); kind in {"str", "float", "int", "time"}.

_HEADER = [
    ("CCSDS_CDM_VERS", "str", None, True),
    ("CREATION_DATE", "time", None, True),
    ("ORIGINATOR", "str", None, True),
    ("MESSAGE_FOR", "str", None, False),
    ("MESSAGE_ID", "str", None, True),
]
_RELATIVE = [
    ("TCA", "time", None, True),
    ("MISS_DISTANCE", "float", "m", True),
    ("RELATIVE_SPEED", "float", "m/s", False),
    ("RELATIVE_POSITION_R", "float", "m", False),
    ("RELATIVE_POSITION_T", "float", "m", False),
    ("RELATIVE_POSITION_N", "float", "m", False),
    ("RELATIVE_VELOCITY_R", "float", "m/s", False),
    ("RELATIVE_VELOCITY_T", "float", "m/s", False),
    ("RELATIVE_VELOCITY_N", "float", "m/s", False),
    ("START_SCREEN_PERIOD", "time", None, False),
    ("STOP_SCREEN_PERIOD", "time", None, False),
    ("SCREEN_VOLUME_FRAME", "str", None, False),
    ("SCREEN_VOLUME_SHAPE", "str", None, False),
    ("SCREEN_VOLUME_X", "float", "m", False),
    ("SCREEN_VOLUME_Y", "float", "m", False),
    ("SCREEN_VOLUME_Z", "float", "m", False),
    ("SCREEN_ENTRY_TIME", "time", None, False),
    ("SCREEN_EXIT_TIME", "time", None, False),
    ("COLLISION_PROBABILITY", "float", None, False),
    ("COLLISION_PROBABILITY_METHOD", "str", None, False),
]
_RELATIVE_STATE = {f"RELATIVE_{q}_{c}" for q in ("POSITION", "VELOCITY") for c in "RTN"}
_METADATA = [
    ("OBJECT", "str", None, True),
    ("OBJECT_DESIGNATOR", "str", None, True),
    ("CATALOG_NAME", "str", None, True),
    ("OBJECT_NAME", "str", None, True),
    ("INTERNATIONAL_DESIGNATOR", "str", None, True),
    ("OBJECT_TYPE", "str", None, False),
    ("OPERATOR_CONTACT_POSITION", "str", None, False),
    ("OPERATOR_ORGANIZATION", "str", None, False),
    ("OPERATOR_PHONE", "str", None, False),
    ("OPERATOR_EMAIL", "str", None, False),
    ("EPHEMERIS_NAME", "str", None, True),
    ("COVARIANCE_METHOD", "str", None, True),
    ("MANEUVERABLE", "str", None, True),
    ("ORBIT_CENTER", "str", None, False),
    ("REF_FRAME", "str", None, True),
    ("GRAVITY_MODEL", "str", None, False),
    ("ATMOSPHERIC_MODEL", "str", None, False),
    ("N_BODY_PERTURBATIONS", "str", None, False),
    ("SOLAR_RAD_PRESSURE", "str", None, False),
    ("EARTH_TIDES", "str", None, False),
    ("INTRACK_THRUST", "str", None, False),
]
_OD = [
    ("TIME_LASTOB_START", "time", None, False),
    ("TIME_LASTOB_END", "time", None, False),
    ("RECOMMENDED_OD_SPAN", "float", "d", False),
    ("ACTUAL_OD_SPAN", "float", "d", False),
    ("OBS_AVAILABLE", "int", None, False),
    ("OBS_USED", "int", None, False),
    ("TRACKS_AVAILABLE", "int", None, False),
    ("TRACKS_USED", "int", None, False),
    ("RESIDUALS_ACCEPTED", "float", "%", False),
    ("WEIGHTED_RMS", "float", None, False),
]
_ADDITIONAL = [
    ("AREA_PC", "float", "m**2", False),
    ("AREA_DRG", "float", "m**2", False),
    ("AREA_SRP", "float", "m**2", False),
    ("MASS", "float", "kg", False),
    ("CD_AREA_OVER_MASS", "float", "m**2/kg", False),
    ("CR_AREA_OVER_MASS", "float", "m**2/kg", False),
    ("THRUST_ACCELERATION", "float", "m/s**2", False),
    ("SEDR", "float", "W/kg", False),
]
_STATE = [(k, "float", "km", True) for k in ("X", "Y", "Z")] + \
         [(k, "float", "km/s", True) for k in ("X_DOT", "Y_DOT", "Z_DOT")]

#: Row/column labels of the CDM covariance, in order (RTN position, RTN velocity, drag, SRP, thrust).
COVARIANCE_ROWS = ("R", "T", "N", "RDOT", "TDOT", "NDOT", "DRG", "SRP", "THR")
# Unit "class" of each row: p position, v velocity, d drag/SRP coefficient (m²/kg), t thrust (m/s²).
_ROW_CLASS = ("p", "p", "p", "v", "v", "v", "d", "d", "t")
_CLASS_UNIT = {  # unit of the product of two classes
    ("p", "p"): "m**2", ("v", "p"): "m**2/s", ("v", "v"): "m**2/s**2",
    ("d", "p"): "m**3/kg", ("d", "v"): "m**3/(kg*s)", ("d", "d"): "m**4/kg**2",
    ("t", "p"): "m**2/s**2", ("t", "v"): "m**2/s**3", ("t", "d"): "m**3/(kg*s**2)", ("t", "t"): "m**2/s**4",
}


def covariance_keyword(i: int, j: int) -> str:
    """CDM keyword of covariance element (i, j), 0-based, e.g. (3, 0) → ``CRDOT_R`` (i >= j)."""
    if j > i:
        i, j = j, i
    return f"C{COVARIANCE_ROWS[i]}_{COVARIANCE_ROWS[j]}"


_COVARIANCE = [
    (covariance_keyword(i, j), "float", _CLASS_UNIT[(_ROW_CLASS[i], _ROW_CLASS[j])], i < 6)
    for i in range(9) for j in range(i + 1)
]
_COV_INDEX = {covariance_keyword(i, j): (i, j) for i in range(9) for j in range(i + 1)}

_SECTIONS: dict[str, list[tuple[str, str, str | None, bool]]] = {
    "header": _HEADER, "relative": _RELATIVE, "metadata": _METADATA, "od_parameters": _OD,
    "additional_parameters": _ADDITIONAL, "state_vector": _STATE, "covariance": _COVARIANCE,
}
_SPEC = {k: (sec, kind, unit, mand) for sec, rows in _SECTIONS.items() for k, kind, unit, mand in rows}
_OBJECT_SECTIONS = ("metadata", "od_parameters", "additional_parameters", "state_vector", "covariance")
_XML_OBJECT_TAG = {"od_parameters": "odParameters", "additional_parameters": "additionalParameters",
                   "state_vector": "stateVector", "covariance": "covarianceMatrix"}
_XML_TAG_OBJECT = {v: k for k, v in _XML_OBJECT_TAG.items()}

_ENUMS = {
    "OBJECT": {"OBJECT1", "OBJECT2"},
    "REF_FRAME": {"EME2000", "GCRF", "ITRF"},
    "COVARIANCE_METHOD": {"CALCULATED", "DEFAULT"},
    "MANEUVERABLE": {"YES", "NO", "N/A"},
    "OBJECT_TYPE": {"PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN", "OTHER"},
    "SCREEN_VOLUME_FRAME": {"RTN", "TVN"},
    "SCREEN_VOLUME_SHAPE": {"ELLIPSOID", "BOX"},
    "SOLAR_RAD_PRESSURE": {"YES", "NO"},
    "EARTH_TIDES": {"YES", "NO"},
    "INTRACK_THRUST": {"YES", "NO"},
}


# ----------------------------------------------------------------------------------------- records

@dataclass(eq=False)
class CdmObject:
    """One object's part of a CDM (``OBJECT1`` or ``OBJECT2``), values keyed by CDM keyword.

    ``state_vector`` in km and km/s in ``metadata["REF_FRAME"]``; ``covariance`` elements in the
    object's RTN frame (m², m²/s, ...). ``comments`` maps each section name to its COMMENT lines.
    """

    metadata: dict[str, Any] = field(default_factory=dict)
    od_parameters: dict[str, Any] = field(default_factory=dict)
    additional_parameters: dict[str, Any] = field(default_factory=dict)
    state_vector: dict[str, Any] = field(default_factory=dict)
    covariance: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in _OBJECT_SECTIONS})

    @property
    def label(self) -> str | None:
        return self.metadata.get("OBJECT")

    @property
    def designator(self) -> str | None:
        return self.metadata.get("OBJECT_DESIGNATOR")

    @property
    def name(self) -> str | None:
        return self.metadata.get("OBJECT_NAME")

    @property
    def ref_frame(self) -> str | None:
        return self.metadata.get("REF_FRAME")

    @property
    def position_km(self) -> np.ndarray:
        return np.array([float(self.state_vector[k]) for k in ("X", "Y", "Z")])

    @property
    def velocity_kms(self) -> np.ndarray:
        return np.array([float(self.state_vector[k]) for k in ("X_DOT", "Y_DOT", "Z_DOT")])

    def covariance_rtn(self) -> np.ndarray:
        """The symmetric RTN covariance: 6x6, or 7/8/9x9 when drag/SRP/thrust rows are present."""
        n = 6
        for size, row in ((7, "DRG"), (8, "SRP"), (9, "THR")):
            if any(k.startswith(f"C{row}_") for k in self.covariance):
                n = size
        c = np.zeros((n, n))
        for key, value in self.covariance.items():
            idx = _COV_INDEX.get(key)
            if idx is not None and idx[0] < n:
                c[idx] = c[idx[::-1]] = float(value)
        return c

    def set_covariance_rtn(self, cov: np.ndarray) -> None:
        """Store an n x n (n = 6..9) RTN covariance as CDM lower-triangle keywords."""
        cov = np.asarray(cov, dtype=float)
        n = cov.shape[0]
        if cov.shape != (n, n) or not 6 <= n <= 9:
            raise ValueError(f"covariance must be 6x6 to 9x9, got shape {cov.shape}")
        self.covariance = {covariance_keyword(i, j): float(cov[i, j]) for i in range(n) for j in range(i + 1)}


@dataclass(eq=False)
class Cdm:
    """A Conjunction Data Message. ``==`` compares content (NaN equals NaN), not warnings or source."""

    header: dict[str, Any] = field(default_factory=dict)
    relative: dict[str, Any] = field(default_factory=dict)
    object1: CdmObject = field(default_factory=CdmObject)
    object2: CdmObject = field(default_factory=CdmObject)
    comments: dict[str, list[str]] = field(default_factory=lambda: {"header": [], "relative": []})
    warnings: list[str] = field(default_factory=list)
    source: str | None = None

    @property
    def objects(self) -> tuple[CdmObject, CdmObject]:
        return self.object1, self.object2

    @property
    def message_id(self) -> str | None:
        return self.header.get("MESSAGE_ID")

    @property
    def tca(self) -> datetime | None:
        return self.relative.get("TCA")

    @property
    def miss_distance_m(self) -> float | None:
        return self.relative.get("MISS_DISTANCE")

    @property
    def relative_speed_ms(self) -> float | None:
        return self.relative.get("RELATIVE_SPEED")

    @property
    def collision_probability(self) -> float | None:
        return self.relative.get("COLLISION_PROBABILITY")

    @property
    def hbr_m(self) -> float | None:
        """Combined hard-body radius [m] from a ``COMMENT HBR = ...`` line (NASA CARA's convention), or None."""
        pools = (self.comments.get("header", []), self.comments.get("relative", []),
                 *(o.comments.get(s, []) for o in self.objects for s in _OBJECT_SECTIONS))
        for pool in pools:
            for text in pool:
                m = _HBR_COMMENT.match(text)
                if m:
                    return float(m.group(1))
        return None

    def to_dict(self) -> dict:
        """A canonical, JSON-friendly view (times ISO, NaN as "NaN"); equality is defined on it."""
        return {
            "header": _canon(self.header), "relative": _canon(self.relative),
            "comments": {k: list(v) for k, v in self.comments.items() if v},
            "objects": [{"sections": {s: _canon(getattr(o, s)) for s in _OBJECT_SECTIONS},
                         "comments": {k: list(v) for k, v in o.comments.items() if v}}
                        for o in self.objects],
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cdm):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable record


_HBR_COMMENT = re.compile(r"^\s*HBR\s*[=:]\s*([-+0-9.eE]+)", re.IGNORECASE)


def _canon(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _format_value(v) for k, v in d.items()}


# ------------------------------------------------------------------------------------------ values

def _parse_value(key: str, text: str, *, file: str | None, line: int | None) -> Any:
    spec = _SPEC.get(key)
    kind = spec[1] if spec else "str"
    text = text.strip()
    if kind == "str":
        return text
    if kind == "time":
        try:
            return parse_epoch(text)
        except ValueError:
            raise ValidationError(f"expected a UTC time like 2010-03-13T22:37:52.618 or 2017-232T05:02:35.819, "
                                  f"got {text!r}", file=file, line=line, field=key) from None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"expected a number, got {text!r}", file=file, line=line, field=key) from None
    if kind == "int" and math.isfinite(value) and value == int(value):
        return int(value)
    if kind == "int" and math.isfinite(value):
        raise ValidationError(f"expected an integer, got {text!r}", file=file, line=line, field=key)
    return value


def _format_time(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    us = dt.microsecond
    frac = f"{us // 1000:03d}" if us % 1000 == 0 else f"{us:06d}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac


def _format_value(value: Any) -> str:
    if isinstance(value, datetime):
        return _format_time(value)
    if isinstance(value, bool):
        return "YES" if value else "NO"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "NaN"
        return repr(v).replace("e", "E")
    return str(value)


def _norm_unit(u: str) -> str:
    return u.replace(" ", "").lower()


def _check_unit(key: str, unit: str | None, warnings: list[str], where: str) -> None:
    if unit is None:
        return
    spec = _SPEC.get(key)
    expected = spec[2] if spec else None
    if expected is None or _norm_unit(unit) != _norm_unit(expected):
        warnings.append(f"{where}: {key} has unit [{unit}], the standard's is [{expected or 'none'}]; "
                        "value kept as given")


# ------------------------------------------------------------------------------------------ reading

class _Builder:
    """Assembles a Cdm from (section, keyword, value) events, enforcing section order and uniqueness."""

    def __init__(self, file: str | None):
        self.cdm = Cdm(source=file)
        self.file = file
        self.current: CdmObject | None = None
        self.pending: list[str] = []
        self.last_target: tuple[Any, str] = (self.cdm, "header")
        self.nobj = 0
        self.seen_relative = False

    def comment(self, text: str) -> None:
        self.pending.append(text)

    def _flush(self, owner: Any, section: str) -> None:
        if self.pending:
            owner.comments.setdefault(section, []).extend(self.pending)
            self.pending = []
        self.last_target = (owner, section)

    def start_object(self, value: str, line: int | None) -> None:
        self.nobj += 1
        if self.nobj > 2:
            raise ValidationError("a CDM has exactly two OBJECT sections; found a third",
                                  file=self.file, line=line, field="OBJECT")
        self.current = CdmObject()
        if self.nobj == 1:
            self.cdm.object1 = self.current
        else:
            self.cdm.object2 = self.current
        self._flush(self.current, "metadata")
        self.current.metadata["OBJECT"] = value

    def section_of(self, key: str) -> str | None:
        spec = _SPEC.get(key)
        return spec[0] if spec else None

    def add(self, key: str, raw: str, unit: str | None, line: int | None, *, section: str | None = None) -> None:
        sec = section or self.section_of(key)
        if key == "OBJECT":
            self.start_object(raw.strip(), line)
            return
        if sec is None:
            # Unknown keyword: keep it where it stands and say so (check_cdm reports it too).
            owner, sec = self.last_target
            self.cdm.warnings.append(f"{self.file or '<cdm>'}:{line}: unknown keyword {key} kept in section {sec}")
        elif sec in ("header", "relative"):
            owner = self.cdm
            if sec == "header" and (self.seen_relative or self.nobj):
                raise ValidationError("header keyword after the header", file=self.file, line=line, field=key)
            if sec == "relative":
                if self.nobj:
                    raise ValidationError("relative metadata/data keyword inside an object section",
                                          file=self.file, line=line, field=key)
                self.seen_relative = True
        else:
            if self.current is None:
                raise ValidationError("object data before any 'OBJECT = OBJECT1' line",
                                      file=self.file, line=line, field=key)
            owner = self.current
        target = owner.header if sec == "header" else owner.relative if sec == "relative" else getattr(owner, sec)
        if key in target:
            raise ValidationError(f"keyword repeated in section {sec}", file=self.file, line=line, field=key)
        target[key] = _parse_value(key, raw, file=self.file, line=line)
        _check_unit(key, unit, self.cdm.warnings, f"{self.file or '<cdm>'}:{line}")
        self._flush(owner, sec)

    def finish(self) -> Cdm:
        if self.pending:
            owner, sec = self.last_target
            owner.comments.setdefault(sec, []).extend(self.pending)
            self.pending = []
        if self.nobj != 2:
            raise ValidationError(f"a CDM needs two OBJECT sections, found {self.nobj}", file=self.file)
        return self.cdm


_KVN_LINE = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*$")


def parse_cdm_kvn(text: str, *, file: str | None = None) -> Cdm:
    """Parse a KVN CDM. Raises :class:`~orbitwatch.errors.ValidationError` with file, line and keyword."""
    b = _Builder(file)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("COMMENT"):
            b.comment(line[7:].strip())
            continue
        m = _KVN_LINE.match(line)
        if not m:
            raise ValidationError(f"expected 'KEYWORD = value [unit]' or 'COMMENT text', got {line[:60]!r}",
                                  file=file, line=lineno)
        key, rest = m.group(1), m.group(2)
        unit = None
        if "[" in rest:
            rest, _, u = rest.partition("[")
            unit = u.rstrip().rstrip("]").strip()
            rest = rest.strip()
        b.add(key, rest, unit, lineno)
    return b.finish()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_cdm_xml(text: str | bytes, *, file: str | None = None) -> Cdm:
    """Parse an XML CDM (CCSDS NDM/XML schema ``ndmxml-1.0-cdm``)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValidationError(f"not well-formed XML: {exc}", file=file, line=exc.position[0]) from None
    except LookupError as exc:  # an encoding in the XML declaration that Python does not know
        raise ValidationError(f"XML declares an encoding Python cannot read ({exc}); use UTF-8", file=file,
                              line=1) from None
    if _local(root.tag) != "cdm":
        raise ValidationError(f"root element is <{_local(root.tag)}>, expected <cdm>", file=file)
    b = _Builder(file)
    version = root.get("version")
    if version is not None:
        b.add("CCSDS_CDM_VERS", version, None, None)

    def leaf(el: ET.Element, section: str | None = None) -> None:
        tag = _local(el.tag)
        if tag == "COMMENT":
            b.comment((el.text or "").strip())
        else:
            b.add(tag, el.text or "", el.get("units"), None, section=section)

    for part in root:
        tag = _local(part.tag)
        if tag == "header":
            for el in part:
                leaf(el)
        elif tag == "body":
            for block in part:
                btag = _local(block.tag)
                if btag == "relativeMetadataData":
                    for el in block:
                        if _local(el.tag) == "relativeStateVector":
                            for sub in el:
                                leaf(sub)
                        else:
                            leaf(el)
                elif btag == "segment":
                    for seg in block:
                        stag = _local(seg.tag)
                        if stag == "metadata":
                            for el in seg:
                                leaf(el)
                        elif stag == "data":
                            for sub in seg:
                                if _local(sub.tag) == "COMMENT":
                                    leaf(sub)  # data-level comments join the first data subsection
                                else:
                                    for el in sub:
                                        leaf(el)
                else:
                    raise ValidationError(f"unexpected element <{btag}> in <body>", file=file)
        else:
            raise ValidationError(f"unexpected element <{tag}> in <cdm>", file=file)
    return b.finish()


def parse_cdm(text: str | bytes, *, file: str | None = None) -> Cdm:
    """Parse a CDM in either encoding (XML if it starts with ``<``)."""
    s = text.decode("utf-8-sig") if isinstance(text, bytes) else text.lstrip("\ufeff")
    return parse_cdm_xml(s.encode(), file=file) if s.lstrip().startswith("<") else parse_cdm_kvn(s, file=file)


def read_cdm_path(path: str | Path) -> Cdm:
    """Read a CDM file (KVN or XML, detected from its content)."""
    p = Path(path)
    return parse_cdm(p.read_bytes(), file=str(p))


# ------------------------------------------------------------------------------------------ writing

def _ordered(section: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
    order = [k for k, *_ in _SECTIONS[section]]
    known = [(k, values[k]) for k in order if k in values]
    extra = [(k, v) for k, v in values.items() if k not in order]
    return known + extra


def _unit_of(key: str) -> str | None:
    spec = _SPEC.get(key)
    return spec[2] if spec else None


def format_cdm_kvn(cdm: Cdm) -> str:
    """The CDM as KVN text (one ``KEYWORD = value [unit]`` per line, comments first in each section)."""
    width = 36
    out: list[str] = []

    def emit(section: str, values: dict[str, Any], comments: list[str]) -> None:
        out.extend(f"COMMENT {c}".rstrip() for c in comments)
        for key, value in _ordered(section, values):
            unit = _unit_of(key)
            text = f"{key:<{width}}= {_format_value(value)}"
            out.append(text + (f" [{unit}]" if unit else ""))

    header = dict(cdm.header)
    header.setdefault("CCSDS_CDM_VERS", "1.0")
    emit("header", header, cdm.comments.get("header", []))
    emit("relative", cdm.relative, cdm.comments.get("relative", []))
    for obj in cdm.objects:
        for sec in _OBJECT_SECTIONS:
            emit(sec, getattr(obj, sec), obj.comments.get(sec, []))
    return "\n".join(out) + "\n"


def format_cdm_xml(cdm: Cdm) -> str:
    """The CDM as CCSDS NDM/XML (``<cdm id="CCSDS_CDM_VERS" version="1.0">``)."""
    header = dict(cdm.header)
    version = str(header.pop("CCSDS_CDM_VERS", "1.0"))
    root = ET.Element("cdm", {
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "https://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd",
        "id": "CCSDS_CDM_VERS", "version": version})

    def fill(parent: ET.Element, section: str, values: dict[str, Any], comments: list[str],
             nested: tuple[str, set[str]] | None = None) -> None:
        for c in comments:
            ET.SubElement(parent, "COMMENT").text = c
        holder = None
        for key, value in _ordered(section, values):
            target = parent
            if nested and key in nested[1]:
                if holder is None:
                    holder = ET.SubElement(parent, nested[0])
                target = holder
            el = ET.SubElement(target, key)
            el.text = _format_value(value)
            unit = _unit_of(key)
            if unit:
                el.set("units", unit)

    fill(ET.SubElement(root, "header"), "header", header, cdm.comments.get("header", []))
    body = ET.SubElement(root, "body")
    fill(ET.SubElement(body, "relativeMetadataData"), "relative", cdm.relative,
         cdm.comments.get("relative", []), nested=("relativeStateVector", _RELATIVE_STATE))
    for obj in cdm.objects:
        seg = ET.SubElement(body, "segment")
        fill(ET.SubElement(seg, "metadata"), "metadata", obj.metadata, obj.comments.get("metadata", []))
        data = ET.SubElement(seg, "data")
        for sec in _OBJECT_SECTIONS[1:]:
            values, comments = getattr(obj, sec), obj.comments.get(sec, [])
            if values or comments or sec in ("state_vector", "covariance"):
                fill(ET.SubElement(data, _XML_OBJECT_TAG[sec]), sec, values, comments)
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------------------------------ checking

def check_cdm(cdm: Cdm) -> list[str]:
    """Problems of a CDM against CCSDS 508.0-B-1: missing mandatory keywords, values outside the
    standard's enumerations, unknown keywords, NaN or negative where a number is required. Empty
    list = conformant."""
    problems: list[str] = []

    def mandatory(where: str, section: str, values: dict[str, Any]) -> None:
        for key, kind, _unit, mand in _SECTIONS[section]:
            if mand and key not in values:
                problems.append(f"{where}: missing mandatory keyword {key}")
            elif mand and kind in ("float", "int") and isinstance(values.get(key), float) \
                    and math.isnan(values[key]):
                problems.append(f"{where}: mandatory keyword {key} is NaN")
        for key in values:
            if key not in _SPEC or _SPEC[key][0] != section:
                problems.append(f"{where}: keyword {key} does not belong to this section")
            elif key in _ENUMS and str(values[key]).upper() not in _ENUMS[key]:
                problems.append(f"{where}: {key} = {values[key]!r} is not one of {sorted(_ENUMS[key])}")

    mandatory("header", "header", cdm.header)
    if "CCSDS_CDM_VERS" in cdm.header and not re.fullmatch(r"\d+\.\d+", str(cdm.header["CCSDS_CDM_VERS"])):
        problems.append(f"header: CCSDS_CDM_VERS = {cdm.header['CCSDS_CDM_VERS']!r} is not a version like 1.0")
    mandatory("relative metadata/data", "relative", cdm.relative)
    md = cdm.relative.get("MISS_DISTANCE")
    if isinstance(md, float) and md < 0:
        problems.append("relative metadata/data: MISS_DISTANCE is negative")
    pc = cdm.relative.get("COLLISION_PROBABILITY")
    if isinstance(pc, float) and not (0.0 <= pc <= 1.0):
        problems.append(f"relative metadata/data: COLLISION_PROBABILITY = {pc} is not in [0, 1]")
    for n, obj in enumerate(cdm.objects, start=1):
        for sec in _OBJECT_SECTIONS:
            mandatory(f"OBJECT{n} {sec.replace('_', ' ')}", sec, getattr(obj, sec))
        if obj.label is not None and obj.label != f"OBJECT{n}":
            problems.append(f"OBJECT{n} metadata: OBJECT = {obj.label!r}, expected 'OBJECT{n}'")
        for i, row in enumerate(COVARIANCE_ROWS):
            v = obj.covariance.get(covariance_keyword(i, i))
            if isinstance(v, float) and v < 0:
                problems.append(f"OBJECT{n} covariance: variance C{row}_{row} = {v} is negative")
    return problems


# --------------------------------------------------------------------------------- from a screening

def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _rtn_axes(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    rhat = r / np.linalg.norm(r)
    nvec = np.cross(r, v)
    nhat = nvec / np.linalg.norm(nvec)
    return np.stack([rhat, np.cross(nhat, rhat), nhat])  # rows R̂, T̂, N̂


def cdm_from_conjunction(
    *,
    tca: datetime,
    r1_km, v1_kms, cov1_rtn,
    r2_km, v2_kms, cov2_rtn,
    object1_designator: str, object1_name: str,
    object2_designator: str, object2_name: str,
    object1_international_designator: str = "UNKNOWN",
    object2_international_designator: str = "UNKNOWN",
    object1_type: str | None = None, object2_type: str | None = None,
    ref_frame: str = "EME2000",
    collision_probability: float | None = None,
    collision_probability_method: str | None = None,
    hbr_m: float | None = None,
    covariance_method: str = "DEFAULT",
    maneuverable: str = "N/A",
    originator: str = "ORBITWATCH",
    message_for: str | None = None,
    message_id: str | None = None,
    creation_date: datetime | None = None,
    screen: dict[str, Any] | None = None,
    comments: list[str] | tuple[str, ...] = (),
    object1_comments: list[str] | tuple[str, ...] = (),
    object2_comments: list[str] | tuple[str, ...] = (),
) -> Cdm:
    """Build a CDM from a screening event.

    States ``r*_km`` [km], ``v*_kms`` [km/s] at TCA in ``ref_frame`` (CDM 1.0 allows EME2000, GCRF or
    ITRF — convert TEME states first); covariances 6x6 (up to 9x9) in each object's own RTN frame, m and
    m/s. MISS_DISTANCE, RELATIVE_SPEED and the relative position/velocity (object 2 minus object 1, in
    object 1's RTN frame, as the standard defines them) are computed from the states. ``hbr_m`` is
    recorded as a ``COMMENT HBR = ... [m]`` line (NASA CARA's convention, read back by
    :attr:`Cdm.hbr_m`); ``covariance_method`` is ``"DEFAULT"`` for a modelled covariance (TLEs) or
    ``"CALCULATED"``. ``screen`` may hold SCREEN_* and START/STOP_SCREEN_PERIOD keywords. The result
    passes :func:`check_cdm`.
    """
    r1 = np.asarray(r1_km, dtype=float)
    v1 = np.asarray(v1_kms, dtype=float)
    r2 = np.asarray(r2_km, dtype=float)
    v2 = np.asarray(v2_kms, dtype=float)
    axes = _rtn_axes(r1, v1)
    dr = (r2 - r1) * 1000.0
    dv = (v2 - v1) * 1000.0
    rel_r = axes @ dr
    rel_v = axes @ dv
    tca = _utc(tca)
    now = _utc(creation_date) if creation_date else datetime.now(UTC).replace(microsecond=0)
    if message_id is None:
        message_id = f"{object1_designator}_conj_{object2_designator}_{tca:%Y%m%d_%H%M%S}"
    header = {"CCSDS_CDM_VERS": "1.0", "CREATION_DATE": now, "ORIGINATOR": originator}
    if message_for:
        header["MESSAGE_FOR"] = message_for
    header["MESSAGE_ID"] = message_id
    rel: dict[str, Any] = {"TCA": tca, "MISS_DISTANCE": float(np.linalg.norm(dr)),
                           "RELATIVE_SPEED": float(np.linalg.norm(dv))}
    for c, val in zip("RTN", rel_r, strict=True):
        rel[f"RELATIVE_POSITION_{c}"] = float(val)
    for c, val in zip("RTN", rel_v, strict=True):
        rel[f"RELATIVE_VELOCITY_{c}"] = float(val)
    for key, val in (screen or {}).items():
        if _SPEC.get(key, ("",))[0] != "relative":
            raise ValueError(f"screen: {key} is not a relative metadata/data keyword")
        rel[key] = val
    if collision_probability is not None:
        rel["COLLISION_PROBABILITY"] = float(collision_probability)
        if collision_probability_method:
            rel["COLLISION_PROBABILITY_METHOD"] = collision_probability_method
    rel_comments = list(comments)
    if hbr_m is not None:
        rel_comments.append(f"HBR = {_format_value(float(hbr_m))} [m]")
    cdm = Cdm(header=header, relative=rel, comments={"header": [], "relative": rel_comments})
    specs = ((1, object1_designator, object1_name, object1_international_designator, object1_type,
              r1, v1, cov1_rtn, object1_comments),
             (2, object2_designator, object2_name, object2_international_designator, object2_type,
              r2, v2, cov2_rtn, object2_comments))
    for n, desig, name, intl, otype, r, v, cov, ocomments in specs:
        obj = CdmObject()
        md: dict[str, Any] = {"OBJECT": f"OBJECT{n}", "OBJECT_DESIGNATOR": str(desig), "CATALOG_NAME": "SATCAT",
                              "OBJECT_NAME": str(name), "INTERNATIONAL_DESIGNATOR": str(intl)}
        if otype:
            md["OBJECT_TYPE"] = otype
        md.update({"EPHEMERIS_NAME": "NONE", "COVARIANCE_METHOD": covariance_method,
                   "MANEUVERABLE": maneuverable, "REF_FRAME": ref_frame})
        obj.metadata = md
        obj.state_vector = {k: float(x) for k, x in zip(("X", "Y", "Z"), r, strict=True)}
        obj.state_vector.update({k: float(x) for k, x in zip(("X_DOT", "Y_DOT", "Z_DOT"), v, strict=True)})
        obj.set_covariance_rtn(np.asarray(cov, dtype=float))
        obj.comments["metadata"] = list(ocomments)
        if n == 1:
            cdm.object1 = obj
        else:
            cdm.object2 = obj
    return cdm

