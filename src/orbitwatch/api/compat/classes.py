"""Space-Track request classes served by a node: fields, types (for ``modeldef``) and record builders.

Records are built from the node's rows *after* the caller's read filter was applied in SQL: an element
set's catalogue fields (OBJECT_TYPE, COUNTRY_CODE, ...) come from the object row only when the caller
may read that row too, otherwise they are empty.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from orbitwatch.api.compat.predicates import DATE, FLOAT, INT, STR

# name -> (kind, MySQL type as modeldef reports it, nullable)
Field = tuple[str, str, bool]

GP_FIELDS: dict[str, Field] = {
    "CCSDS_OMM_VERS": (STR, "varchar(3)", False), "COMMENT": (STR, "varchar(33)", False),
    "CREATION_DATE": (DATE, "datetime", True), "ORIGINATOR": (STR, "varchar(7)", False),
    "OBJECT_NAME": (STR, "varchar(25)", True), "OBJECT_ID": (STR, "varchar(12)", True),
    "CENTER_NAME": (STR, "varchar(5)", False), "REF_FRAME": (STR, "varchar(4)", False),
    "TIME_SYSTEM": (STR, "varchar(3)", False), "MEAN_ELEMENT_THEORY": (STR, "varchar(4)", False),
    "EPOCH": (DATE, "datetime(6)", True), "MEAN_MOTION": (FLOAT, "decimal(13,8)", True),
    "ECCENTRICITY": (FLOAT, "decimal(13,8)", True), "INCLINATION": (FLOAT, "decimal(7,4)", True),
    "RA_OF_ASC_NODE": (FLOAT, "decimal(7,4)", True), "ARG_OF_PERICENTER": (FLOAT, "decimal(7,4)", True),
    "MEAN_ANOMALY": (FLOAT, "decimal(7,4)", True), "EPHEMERIS_TYPE": (INT, "tinyint(4)", True),
    "CLASSIFICATION_TYPE": (STR, "char(1)", True), "NORAD_CAT_ID": (INT, "int(10) unsigned", False),
    "ELEMENT_SET_NO": (INT, "smallint(5) unsigned", True), "REV_AT_EPOCH": (INT, "mediumint(8) unsigned", True),
    "BSTAR": (FLOAT, "decimal(19,14)", True), "MEAN_MOTION_DOT": (FLOAT, "decimal(9,8)", True),
    "MEAN_MOTION_DDOT": (FLOAT, "decimal(22,13)", True), "SEMIMAJOR_AXIS": (FLOAT, "double(12,3)", True),
    "PERIOD": (FLOAT, "double(12,3)", True), "APOAPSIS": (FLOAT, "double(12,3)", True),
    "PERIAPSIS": (FLOAT, "double(12,3)", True), "OBJECT_TYPE": (STR, "varchar(12)", True),
    "RCS_SIZE": (STR, "char(6)", True), "COUNTRY_CODE": (STR, "char(6)", True),
    "LAUNCH_DATE": (DATE, "date", True), "SITE": (STR, "char(5)", True), "DECAY_DATE": (DATE, "date", True),
    "FILE": (INT, "bigint(20) unsigned", True), "GP_ID": (INT, "int(10) unsigned", False),
    "TLE_LINE0": (STR, "varchar(27)", True), "TLE_LINE1": (STR, "varchar(71)", True),
    "TLE_LINE2": (STR, "varchar(71)", True),
}

SATCAT_FIELDS: dict[str, Field] = {
    "INTLDES": (STR, "char(12)", False), "NORAD_CAT_ID": (INT, "int(10) unsigned", False),
    "OBJECT_TYPE": (STR, "varchar(12)", True), "SATNAME": (STR, "char(25)", False),
    "COUNTRY": (STR, "char(6)", False), "LAUNCH": (DATE, "date", True), "SITE": (STR, "char(5)", True),
    "DECAY": (DATE, "date", True), "PERIOD": (FLOAT, "decimal(12,2)", True),
    "INCLINATION": (FLOAT, "decimal(12,2)", True), "APOGEE": (FLOAT, "bigint(20)", True),
    "PERIGEE": (FLOAT, "bigint(20)", True), "COMMENT": (STR, "varchar(32)", True),
    "COMMENTCODE": (INT, "tinyint(3) unsigned", True), "RCSVALUE": (INT, "int(1)", False),
    "RCS_SIZE": (STR, "varchar(6)", True), "FILE": (INT, "smallint(5) unsigned", False),
    "LAUNCH_YEAR": (INT, "smallint(5) unsigned", False), "LAUNCH_NUM": (INT, "smallint(5) unsigned", False),
    "LAUNCH_PIECE": (STR, "varchar(3)", False), "CURRENT": (STR, "enum('Y','N')", False),
    "OBJECT_NAME": (STR, "char(25)", False), "OBJECT_ID": (STR, "char(12)", False),
    "OBJECT_NUMBER": (INT, "int(10) unsigned", True),
}

DECAY_FIELDS: dict[str, Field] = {
    "NORAD_CAT_ID": (INT, "int(10) unsigned", True), "OBJECT_NUMBER": (INT, "int(10) unsigned", True),
    "OBJECT_NAME": (STR, "char(25)", False), "INTLDES": (STR, "char(12)", False),
    "OBJECT_ID": (STR, "char(12)", False), "RCS": (INT, "bigint(20)", False),
    "RCS_SIZE": (STR, "varchar(6)", True), "COUNTRY": (STR, "char(6)", False),
    "MSG_EPOCH": (DATE, "datetime", True), "DECAY_EPOCH": (STR, "varchar(24)", True),
    "SOURCE": (STR, "varchar(9)", False), "MSG_TYPE": (STR, "varchar(10)", False),
    "PRECEDENCE": (INT, "bigint(20)", False),
}

CDM_PUBLIC_FIELDS: dict[str, Field] = {
    "CDM_ID": (INT, "int(10) unsigned", False), "CREATED": (DATE, "datetime(6)", True),
    "EMERGENCY_REPORTABLE": (STR, "char(1)", True), "TCA": (DATE, "datetime(6)", True),
    "MIN_RNG": (FLOAT, "double", True), "PC": (FLOAT, "double", True),
    "SAT_1_ID": (INT, "int(10) unsigned", True), "SAT_1_NAME": (STR, "varchar(25)", True),
    "SAT1_OBJECT_TYPE": (STR, "varchar(12)", True), "SAT1_RCS": (STR, "varchar(6)", True),
    "SAT_1_EXCL_VOL": (STR, "varchar(10)", True), "SAT_2_ID": (INT, "int(10) unsigned", True),
    "SAT_2_NAME": (STR, "varchar(25)", True), "SAT2_OBJECT_TYPE": (STR, "varchar(12)", True),
    "SAT2_RCS": (STR, "varchar(6)", True), "SAT_2_EXCL_VOL": (STR, "varchar(10)", True),
}

CLASSES: dict[str, dict[str, Field]] = {
    "gp": GP_FIELDS, "gp_history": GP_FIELDS, "satcat": SATCAT_FIELDS, "decay": DECAY_FIELDS,
    "cdm_public": CDM_PUBLIC_FIELDS,
}


def kinds(cls: str) -> dict[str, str]:
    return {k: v[0] for k, v in CLASSES[cls].items()}


def modeldef(controller: str, cls: str) -> dict[str, Any]:
    """The answer Space-Track gives at ``/<controller>/modeldef/class/<cls>`` (MySQL DESCRIBE rows)."""
    data = [{"Field": name, "Type": mysql, "Null": "YES" if nullable else "NO", "Key": "",
             "Default": None, "Extra": ""} for name, (_, mysql, nullable) in CLASSES[cls].items()]
    return {"controller": controller, "data": data}


# -- values as Space-Track writes them -----------------------------------------------------------------
_DECIMALS = {"MEAN_MOTION": 8, "ECCENTRICITY": 8, "INCLINATION": 4, "RA_OF_ASC_NODE": 4,
             "ARG_OF_PERICENTER": 4, "MEAN_ANOMALY": 4, "BSTAR": 14, "MEAN_MOTION_DOT": 8,
             "MEAN_MOTION_DDOT": 13, "SEMIMAJOR_AXIS": 3, "PERIOD": 3, "APOAPSIS": 3, "PERIAPSIS": 3,
             "INCLINATION_SATCAT": 2, "MIN_RNG": 0}


def text(name: str, v: Any) -> str | None:
    """A field value as Space-Track's JSON/CSV carry it: text, NULL as None."""
    if v is None or v == "":
        return None
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        d = _DECIMALS.get(name)
        return f"{v:.{d}f}" if d is not None else repr(v)
    return str(v)


_INTLDES = re.compile(r"^(\d{4})-(\d{3})([A-Z]{1,3})$")


def _iso(ts: float | None, micro: bool = True) -> str | None:
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S")


def tle_lines(row: Any, name: str | None = None) -> tuple[str, str, str] | None:
    """``0 NAME`` and the two TLE lines of an element-set row: the ingested text when it was a TLE,
    else written by the strict TLE writer (None when a TLE cannot carry the object)."""
    name = "0 " + (row.object_name or name or "UNKNOWN")
    orig = row.original
    if orig and row.source_format == "tle":
        lines = orig.rstrip().split("\n")
        if len(lines) >= 2:
            l1, l2 = lines[-2].rstrip(), lines[-1].rstrip()
            if l1.startswith("1 ") and l2.startswith("2 "):
                return name, l1, l2
    from orbitwatch.errors import ValidationError
    from orbitwatch.formats.tle import format_tle
    from orbitwatch.store.queries import element_set_from_row

    try:
        l1, l2 = format_tle(element_set_from_row(row)).splitlines()[:2]
    except ValidationError:
        return None
    return name, l1, l2


class GpRecord:
    """One ``gp``/``gp_history`` record: an element-set row, the object row the caller may read (or None)
    and the query time. Field values are computed on demand (filters touch few fields; pages are
    small; whole-catalogue JSON goes through :func:`gp_json`, one format operation per record)."""

    __slots__ = ("_lines", "created", "obj", "row")

    def __init__(self, row: Any, obj: Any, created: str):
        self.row, self.obj, self.created = row, obj, created
        self._lines: tuple[str, str, str] | None | bool = False

    @property
    def name(self) -> str | None:
        return self.row.object_name or (self.obj.name if self.obj is not None else None)

    @property
    def lines(self) -> tuple[str, str, str] | None:
        if self._lines is False:
            self._lines = tle_lines(self.row, self.name)
        return self._lines  # type: ignore[return-value]

    def get(self, field: str, default: Any = None) -> Any:
        if field == "_row":
            return self.row
        fn = _GP_GET.get(field)
        return default if fn is None else fn(self)

    def __getitem__(self, field: str) -> Any:
        return self.get(field)


def _obj(attr: str):
    return lambda g: getattr(g.obj, attr) if g.obj is not None else None


def _line(i: int):
    return lambda g: g.lines[i] if g.lines else None


_GP_GET: dict[str, Any] = {
    "CCSDS_OMM_VERS": lambda g: "3.0", "COMMENT": lambda g: "GENERATED VIA ORBITWATCH API",
    "CREATION_DATE": lambda g: g.created, "ORIGINATOR": lambda g: "ORBITWATCH", "OBJECT_NAME": lambda g: g.name,
    "OBJECT_ID": lambda g: g.row.object_id or (g.obj.object_id if g.obj is not None else None),
    "CENTER_NAME": lambda g: "EARTH", "REF_FRAME": lambda g: "TEME", "TIME_SYSTEM": lambda g: "UTC",
    "MEAN_ELEMENT_THEORY": lambda g: "SGP4", "EPOCH": lambda g: g.row.epoch[:26],
    "MEAN_MOTION": lambda g: g.row.mean_motion, "ECCENTRICITY": lambda g: g.row.eccentricity,
    "INCLINATION": lambda g: g.row.inclination, "RA_OF_ASC_NODE": lambda g: g.row.raan,
    "ARG_OF_PERICENTER": lambda g: g.row.arg_perigee, "MEAN_ANOMALY": lambda g: g.row.mean_anomaly,
    "EPHEMERIS_TYPE": lambda g: g.row.ephemeris_type or 0,
    "CLASSIFICATION_TYPE": lambda g: g.row.classification_type or "U", "NORAD_CAT_ID": lambda g: g.row.norad_id,
    "ELEMENT_SET_NO": lambda g: g.row.element_set_no, "REV_AT_EPOCH": lambda g: g.row.rev_at_epoch,
    "BSTAR": lambda g: g.row.bstar, "MEAN_MOTION_DOT": lambda g: g.row.mean_motion_dot,
    "MEAN_MOTION_DDOT": lambda g: g.row.mean_motion_ddot, "SEMIMAJOR_AXIS": lambda g: g.row.semi_major_axis_km,
    "PERIOD": lambda g: 1440.0 / g.row.mean_motion if g.row.mean_motion else None,
    "APOAPSIS": lambda g: g.row.apogee_km, "PERIAPSIS": lambda g: g.row.perigee_km,
    "OBJECT_TYPE": _obj("object_type"), "RCS_SIZE": _obj("rcs_size"), "COUNTRY_CODE": _obj("owner"),
    "LAUNCH_DATE": _obj("launch_date"), "SITE": _obj("launch_site"), "DECAY_DATE": _obj("decay_date"),
    "FILE": lambda g: g.row.batch_id, "GP_ID": lambda g: g.row.id,
    "TLE_LINE0": _line(0), "TLE_LINE1": _line(1), "TLE_LINE2": _line(2),
}


def gp_records(rows: Iterable[Any], objects: dict[int, Any], created: str) -> list[GpRecord]:
    """Space-Track ``gp``/``gp_history`` records from element-set rows (and readable object rows)."""
    get = objects.get
    return [GpRecord(r, get(r.norad_id), created) for r in rows]


_PLAIN = re.compile(r'^[ -!#-\[\]-~]*$')  # printable ASCII without quote or backslash: no escaping needed


def _js(v: Any) -> str:
    """A JSON string or null (names and designators may hold any character)."""
    if v is None or v == "":
        return "null"
    s = str(v)
    return f'"{s}"' if _PLAIN.match(s) else json.dumps(s)


def _num(v: Any, spec: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "null"
    return f'"{v:{spec}}"'


def _int(v: Any) -> str:
    return "null" if v is None else f'"{int(v)}"'


def gp_json_object(g: GpRecord) -> str:
    """One gp record as Space-Track's JSON object text (all values as strings).

    One f-string per record, with helpers only for the columns that may be NULL: this is what makes the
    whole catalogue (26,000 records) fast enough to serve in one answer.
    """
    r, o = g.row, g.obj
    lines = g.lines
    n = r.mean_motion
    period = f'"{1440.0 / n:.3f}"' if n else "null"
    if o is not None:
        obj = (f'"OBJECT_TYPE":{_js(o.object_type)},"RCS_SIZE":{_js(o.rcs_size)},"COUNTRY_CODE":{_js(o.owner)},'
               f'"LAUNCH_DATE":{_js(o.launch_date)},"SITE":{_js(o.launch_site)},"DECAY_DATE":{_js(o.decay_date)}')
        oid = r.object_id or o.object_id
    else:
        obj = ('"OBJECT_TYPE":null,"RCS_SIZE":null,"COUNTRY_CODE":null,"LAUNCH_DATE":null,"SITE":null,'
               '"DECAY_DATE":null')
        oid = r.object_id
    tle = (f'"TLE_LINE0":{_js(lines[0])},"TLE_LINE1":"{lines[1]}","TLE_LINE2":"{lines[2]}"' if lines
           else '"TLE_LINE0":null,"TLE_LINE1":null,"TLE_LINE2":null')
    return (
        f'{{"CCSDS_OMM_VERS":"3.0","COMMENT":"GENERATED VIA ORBITWATCH API","CREATION_DATE":"{g.created}",'
        f'"ORIGINATOR":"ORBITWATCH","OBJECT_NAME":{_js(g.name)},"OBJECT_ID":{_js(oid)},"CENTER_NAME":"EARTH",'
        f'"REF_FRAME":"TEME","TIME_SYSTEM":"UTC","MEAN_ELEMENT_THEORY":"SGP4","EPOCH":"{r.epoch[:26]}",'
        f'"MEAN_MOTION":"{n:.8f}","ECCENTRICITY":"{r.eccentricity:.8f}","INCLINATION":"{r.inclination:.4f}",'
        f'"RA_OF_ASC_NODE":"{r.raan:.4f}","ARG_OF_PERICENTER":"{r.arg_perigee:.4f}",'
        f'"MEAN_ANOMALY":"{r.mean_anomaly:.4f}","EPHEMERIS_TYPE":"{r.ephemeris_type or 0}",'
        f'"CLASSIFICATION_TYPE":"{r.classification_type or "U"}","NORAD_CAT_ID":"{r.norad_id}",'
        f'"ELEMENT_SET_NO":{_int(r.element_set_no)},"REV_AT_EPOCH":{_int(r.rev_at_epoch)},'
        f'"BSTAR":"{r.bstar:.14f}","MEAN_MOTION_DOT":"{r.mean_motion_dot:.8f}",'
        f'"MEAN_MOTION_DDOT":"{r.mean_motion_ddot:.13f}","SEMIMAJOR_AXIS":{_num(r.semi_major_axis_km, ".3f")},'
        f'"PERIOD":{period},"APOAPSIS":{_num(r.apogee_km, ".3f")},"PERIAPSIS":{_num(r.perigee_km, ".3f")},'
        f'{obj},"FILE":{_int(r.batch_id)},"GP_ID":"{r.id}",{tle}}}'
    )


_NO_OBJECT = ('"OBJECT_TYPE":null,"RCS_SIZE":null,"COUNTRY_CODE":null,"LAUNCH_DATE":null,"SITE":null,'
              '"DECAY_DATE":null')
_NO_TLE = '"TLE_LINE0":null,"TLE_LINE1":null,"TLE_LINE2":null'


def _object_part(o: Any) -> str:
    return (f'"OBJECT_TYPE":{_js(o.object_type)},"RCS_SIZE":{_js(o.rcs_size)},"COUNTRY_CODE":{_js(o.owner)},'
            f'"LAUNCH_DATE":{_js(o.launch_date)},"SITE":{_js(o.launch_site)},"DECAY_DATE":{_js(o.decay_date)}')


def gp_json(records: list[GpRecord]) -> str:
    """:func:`gp_json_object` for many records at once (see :func:`gp_json_chunks`)."""
    return "".join(gp_json_chunks(records))


def gp_json_chunks(records: list[GpRecord], size: int = 2000) -> Iterator[str]:
    """The JSON array of ``records`` in pieces (see :func:`gp_rows_json_chunks`)."""
    if not records:
        return iter(["[]"])
    row0 = records[0].row
    fields = tuple(row0._fields)
    plain = isinstance(row0, tuple)  # named tuples index directly; SQLAlchemy rows are copied once
    pairs = ((g.row if plain else tuple(g.row), g.obj) for g in records)
    return gp_rows_json_chunks(fields, pairs, records[0].created, size)


class _RowView:
    """Attribute access to a plain row tuple (for the rare rows whose TLE lines must be written)."""

    __slots__ = ("_ix", "_t")

    def __init__(self, ix: dict[str, int], t: tuple):
        self._ix, self._t = ix, t

    def __getattr__(self, name: str) -> Any:
        return self._t[self._ix[name]]


def gp_rows_json_chunks(fields: tuple[str, ...], pairs: Iterable[tuple[tuple, Any]], created: str,
                        size: int = 2000) -> Iterator[str]:
    """Space-Track gp JSON for (element-set row tuple, reader's object row or None) pairs, in pieces of
    ``size`` records (so that a caller can compress one piece while the next is written).

    The whole catalogue is 26,000 records and a million values, so: values read by position, the text
    that is the same in every record written once, each object's catalogue part written once however
    many of its element sets follow (a 5-year history is 10,000 sets of one object), the TLE lines cut
    from the ingested text in place, and no helper call for values that cannot be NULL. Same text as
    the record-by-record :func:`gp_json_object` (compared in ``tests/interop``).
    """
    ix = {name: i for i, name in enumerate(fields)}
    (OID, NAME, EPOCH, MM, ECC, INC, RAAN, AOP, MA, ET, CT, NORAD, ESN, REV, BSTAR, MMD, MMDD, SMA, APO, PER,
     BATCH, ID, ORIG, SF) = (ix[k] for k in (
        "object_id", "object_name", "epoch", "mean_motion", "eccentricity", "inclination", "raan",
        "arg_perigee", "mean_anomaly", "ephemeris_type", "classification_type", "norad_id", "element_set_no",
        "rev_at_epoch", "bstar", "mean_motion_dot", "mean_motion_ddot", "semi_major_axis_km", "apogee_km",
        "perigee_km", "batch_id", "id", "original", "source_format"))
    head = ('{"CCSDS_OMM_VERS":"3.0","COMMENT":"GENERATED VIA ORBITWATCH API","CREATION_DATE":"'
            + created + '","ORIGINATOR":"ORBITWATCH","OBJECT_NAME":')
    parts: dict[int, str] = {}  # id(object row) -> its catalogue part
    js, num = _js, _num
    out: list[str] = []
    first = True
    for t, o in pairs:
        if o is None:
            obj, name, oid = _NO_OBJECT, t[NAME], t[OID]
        else:
            obj = parts.get(id(o))
            if obj is None:
                obj = parts[id(o)] = _object_part(o)
            name, oid = t[NAME] or o.name, t[OID] or o.object_id
        lines = None
        orig = t[ORIG]
        if orig and t[SF] == "tle":  # as tle_lines(): the ingested lines when they are a TLE's
            ls = orig.rstrip().split("\n")
            if len(ls) >= 2:
                l1, l2 = ls[-2].rstrip(), ls[-1].rstrip()
                if l1.startswith("1 ") and l2.startswith("2 "):
                    lines = ("0 " + (t[NAME] or name or "UNKNOWN"), l1, l2)
        if lines is None:
            lines = tle_lines(_RowView(ix, t), name)
        tle = (f'"TLE_LINE0":{js(lines[0])},"TLE_LINE1":"{lines[1]}","TLE_LINE2":"{lines[2]}"' if lines
               else _NO_TLE)
        n, esn, rev, batch = t[MM], t[ESN], t[REV], t[BATCH]
        esn = "null" if esn is None else f'"{int(esn)}"'
        rev = "null" if rev is None else f'"{int(rev)}"'
        batch = "null" if batch is None else f'"{int(batch)}"'
        out.append(
            f'{head}{js(name)},"OBJECT_ID":{js(oid)},"CENTER_NAME":"EARTH","REF_FRAME":"TEME","TIME_SYSTEM":"UTC",'
            f'"MEAN_ELEMENT_THEORY":"SGP4","EPOCH":"{t[EPOCH][:26]}","MEAN_MOTION":"{n:.8f}",'
            f'"ECCENTRICITY":"{t[ECC]:.8f}","INCLINATION":"{t[INC]:.4f}","RA_OF_ASC_NODE":"{t[RAAN]:.4f}",'
            f'"ARG_OF_PERICENTER":"{t[AOP]:.4f}","MEAN_ANOMALY":"{t[MA]:.4f}","EPHEMERIS_TYPE":"{t[ET] or 0}",'
            f'"CLASSIFICATION_TYPE":"{t[CT] or "U"}","NORAD_CAT_ID":"{t[NORAD]}",'
            f'"ELEMENT_SET_NO":{esn},"REV_AT_EPOCH":{rev},'
            f'"BSTAR":"{t[BSTAR]:.14f}","MEAN_MOTION_DOT":"{t[MMD]:.8f}","MEAN_MOTION_DDOT":"{t[MMDD]:.13f}",'
            f'"SEMIMAJOR_AXIS":{num(t[SMA], ".3f")},"PERIOD":{num(1440.0 / n if n else None, ".3f")},'
            f'"APOAPSIS":{num(t[APO], ".3f")},"PERIAPSIS":{num(t[PER], ".3f")},{obj},'
            f'"FILE":{batch},"GP_ID":"{t[ID]}",{tle}}}')
        if len(out) == size:
            yield ("[" if first else ",") + ",".join(out)
            out, first = [], False
    if out:
        yield ("[" if first else ",") + ",".join(out)
        yield "]"
    elif first:
        yield "[]"
    else:
        yield "]"


def _launch_parts(intldes: str | None) -> tuple[int | None, int | None, str | None]:
    m = _INTLDES.match(intldes or "")
    if not m:
        return None, None, None
    return int(m.group(1)), int(m.group(2)), m.group(3)


def satcat_records(objects: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for o in objects:
        year, num, piece = _launch_parts(o.object_id)
        out.append({
            "INTLDES": o.object_id, "NORAD_CAT_ID": o.norad_id, "OBJECT_TYPE": o.object_type,
            "SATNAME": o.name, "COUNTRY": o.owner, "LAUNCH": o.launch_date, "SITE": o.launch_site,
            "DECAY": o.decay_date, "PERIOD": o.period_min, "INCLINATION": o.inclination,
            "APOGEE": None if o.apogee_km is None else round(o.apogee_km),
            "PERIGEE": None if o.perigee_km is None else round(o.perigee_km), "COMMENT": None,
            "COMMENTCODE": None, "RCSVALUE": 0, "RCS_SIZE": o.rcs_size, "FILE": None, "LAUNCH_YEAR": year,
            "LAUNCH_NUM": num, "LAUNCH_PIECE": piece, "CURRENT": "Y", "OBJECT_NAME": o.name,
            "OBJECT_ID": o.object_id, "OBJECT_NUMBER": o.norad_id, "_row": o,
        })
    return out


def decay_records(objects: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for o in objects:
        if not o.decay_date:
            continue
        out.append({
            "NORAD_CAT_ID": o.norad_id, "OBJECT_NUMBER": o.norad_id, "OBJECT_NAME": o.name,
            "INTLDES": o.object_id, "OBJECT_ID": o.object_id, "RCS": 0, "RCS_SIZE": o.rcs_size,
            "COUNTRY": o.owner, "MSG_EPOCH": None, "DECAY_EPOCH": o.decay_date, "SOURCE": o.source,
            "MSG_TYPE": "Historical", "PRECEDENCE": 1, "_row": o,
        })
    return out


def cdm_public_records(events: Iterable[Any], objects: dict[int, Any]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        a, b = objects.get(e.norad1), objects.get(e.norad2)
        pc = e.pc
        out.append({
            "CDM_ID": e.id, "CREATED": _iso(getattr(e, "created_ts", None)) or _iso(e.tca_ts),
            "EMERGENCY_REPORTABLE": "Y" if (pc is not None and pc >= 1e-4) else "N",
            "TCA": _iso(e.tca_ts), "MIN_RNG": e.miss_km * 1000.0, "PC": pc,
            "SAT_1_ID": e.norad1, "SAT_1_NAME": a.name if a else None,
            "SAT1_OBJECT_TYPE": a.object_type if a else None, "SAT1_RCS": a.rcs_size if a else None,
            "SAT_1_EXCL_VOL": "5.00", "SAT_2_ID": e.norad2, "SAT_2_NAME": b.name if b else None,
            "SAT2_OBJECT_TYPE": b.object_type if b else None, "SAT2_RCS": b.rcs_size if b else None,
            "SAT_2_EXCL_VOL": "5.00", "_row": e,
        })
    return out
