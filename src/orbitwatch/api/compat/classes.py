"""Space-Track request classes served by a node: fields, types (for ``modeldef``) and record builders.

Records are built from the node's rows *after* the caller's read filter was applied in SQL: an element
set's catalogue fields (OBJECT_TYPE, COUNTRY_CODE, ...) come from the object row only when the caller
may read that row too, otherwise they are empty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
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


def _object_fields(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    return {"OBJECT_TYPE": obj.object_type, "RCS_SIZE": obj.rcs_size, "COUNTRY_CODE": obj.owner,
            "LAUNCH_DATE": obj.launch_date, "SITE": obj.launch_site, "DECAY_DATE": obj.decay_date}


def _iso(ts: float | None, micro: bool = True) -> str | None:
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S")


def tle_lines(row: Any, name: str | None = None) -> tuple[str, str, str] | None:
    """``0 NAME`` and the two TLE lines of an element-set row: the ingested text when it was a TLE,
    else written by the strict TLE writer (None when a TLE cannot carry the object)."""
    name = "0 " + (row.object_name or name or "UNKNOWN")
    if row.source_format == "tle" and row.original:
        lines = [ln.rstrip() for ln in row.original.splitlines()]
        l1 = next((ln for ln in lines if ln.startswith("1 ")), None)
        l2 = next((ln for ln in lines if ln.startswith("2 ")), None)
        if l1 and l2:
            return name, l1, l2
    from orbitwatch.errors import ValidationError
    from orbitwatch.formats.tle import format_tle
    from orbitwatch.store.queries import element_set_from_row

    try:
        l1, l2 = format_tle(element_set_from_row(row)).splitlines()[:2]
    except ValidationError:
        return None
    return name, l1, l2


def gp_records(rows: Iterable[Any], objects: dict[int, Any], created: str) -> list[dict[str, Any]]:
    """Space-Track ``gp``/``gp_history`` records (typed values) from element-set rows."""
    out = []
    for r in rows:
        n = r.mean_motion
        period = 1440.0 / n if n else None
        obj = objects.get(r.norad_id)
        name = r.object_name or (obj.name if obj is not None else None)
        lines = tle_lines(r, name)
        rec = {
            "CCSDS_OMM_VERS": "3.0", "COMMENT": "GENERATED VIA ORBITWATCH API", "CREATION_DATE": created,
            "ORIGINATOR": "ORBITWATCH", "OBJECT_NAME": name,
            "OBJECT_ID": r.object_id or (obj.object_id if obj is not None else None),
            "CENTER_NAME": "EARTH", "REF_FRAME": "TEME", "TIME_SYSTEM": "UTC", "MEAN_ELEMENT_THEORY": "SGP4",
            "EPOCH": r.epoch[:26], "MEAN_MOTION": n, "ECCENTRICITY": r.eccentricity,
            "INCLINATION": r.inclination, "RA_OF_ASC_NODE": r.raan, "ARG_OF_PERICENTER": r.arg_perigee,
            "MEAN_ANOMALY": r.mean_anomaly, "EPHEMERIS_TYPE": r.ephemeris_type or 0,
            "CLASSIFICATION_TYPE": r.classification_type or "U", "NORAD_CAT_ID": r.norad_id,
            "ELEMENT_SET_NO": r.element_set_no, "REV_AT_EPOCH": r.rev_at_epoch, "BSTAR": r.bstar,
            "MEAN_MOTION_DOT": r.mean_motion_dot, "MEAN_MOTION_DDOT": r.mean_motion_ddot,
            "SEMIMAJOR_AXIS": r.semi_major_axis_km, "PERIOD": period, "APOAPSIS": r.apogee_km,
            "PERIAPSIS": r.perigee_km, "OBJECT_TYPE": None, "RCS_SIZE": None, "COUNTRY_CODE": None,
            "LAUNCH_DATE": None, "SITE": None, "DECAY_DATE": None, "FILE": r.batch_id, "GP_ID": r.id,
            "TLE_LINE0": lines[0] if lines else None, "TLE_LINE1": lines[1] if lines else None,
            "TLE_LINE2": lines[2] if lines else None,
        }
        rec.update(_object_fields(obj))
        rec["_row"] = r
        out.append(rec)
    return out


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
