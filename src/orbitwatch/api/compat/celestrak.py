"""CelesTrak-compatible endpoints: ``/NORAD/elements/gp.php`` and ``/pub/satcat.csv``.

``gp.php`` takes exactly one selector - ``CATNR`` (catalogue numbers, comma-separated), ``INTDES``
(international designator or launch, ``1998-067`` / ``1998-067A``), ``GROUP`` (a group the node
defines, see :data:`GROUPS`), ``NAME`` (case-insensitive substring) or ``SPECIAL`` (``gpz``,
``gpz-plus``, ``decaying``) - and ``FORMAT`` = ``TLE`` (name line + 2 lines, the default), ``3LE``,
``2LE``, ``XML``, ``KVN``, ``JSON``, ``JSON-PRETTY`` or ``CSV``, written by the same OMM/TLE writers as
the rest of orbitwatch. An empty answer is the text ``No GP data found``, as CelesTrak's.

Anonymous callers are served only when the node enables public access, and then only records marked
for the public (lowest level and ``TLP:CLEAR``); otherwise the caller authenticates as anywhere in the
API (bearer token or session cookie) and reads what is released to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from orbitwatch.api.deps import Caller, Conn, ReadFilter, State, audit_reads
from orbitwatch.errors import ValidationError

router = APIRouter(tags=["celestrak compatible"])

NO_DATA = "No GP data found"
FORMATS = ("TLE", "3LE", "2LE", "XML", "KVN", "JSON", "JSON-PRETTY", "CSV")
_MEDIA = {"XML": "application/xml", "JSON": "application/json", "JSON-PRETTY": "application/json",
          "CSV": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Group:
    """A named selection of the catalogue, evaluated on an element-set row and its object row (or None)."""

    description: str
    test: Callable[[Any, Any], bool]


def _name_has(*words: str) -> Callable[[Any, Any], bool]:
    up = tuple(w.upper() for w in words)
    return lambda e, o: any(w in (e.object_name or "").upper() for w in up)


def _intdes(prefix: str) -> Callable[[Any, Any], bool]:
    return lambda e, o: (e.object_id or "").startswith(prefix)


def _owner(trigraph: str) -> Callable[[Any, Any], bool]:
    return lambda e, o: o is not None and o.owner_nation == trigraph


def _active(e, o) -> bool:
    if o is not None and o.decay_date:
        return False
    if o is not None and o.object_type:
        return o.object_type == "PAYLOAD"
    # No SATCAT for this object: judge by the name, as catalogues name debris and rocket bodies.
    name = (e.object_name or "").upper()
    return not any(w in name for w in (" DEB", "R/B", "DEB)", "OBJECT "))


#: Groups a node serves (names as CelesTrak spells them, plus one per partner nation's assets).
GROUPS: dict[str, Group] = {
    "active": Group("payloads not known to have decayed", _active),
    "stations": Group("crewed stations", _name_has("ISS (", "CSS (", "TIANHE", "WENTIAN", "MENGTIAN")),
    "starlink": Group("SpaceX Starlink", _name_has("STARLINK")),
    "oneweb": Group("OneWeb", _name_has("ONEWEB")),
    "kuiper": Group("Amazon Kuiper", _name_has("KUIPER")),
    "iridium-NEXT": Group("Iridium", _name_has("IRIDIUM")),
    "gps-ops": Group("GPS", _name_has("NAVSTAR", "GPS ")),
    "galileo": Group("Galileo", _name_has("GALILEO", "GSAT0")),
    "glo-ops": Group("GLONASS", _name_has("COSMOS 2", "GLONASS")),
    "geo": Group("geostationary regime", lambda e, o: e.regime == "GEO"),
    "cosmos-1408-debris": Group("Cosmos 1408 ASAT debris (1982-092)", _intdes("1982-092")),
    "fengyun-1c-debris": Group("Fengyun 1C ASAT debris (1999-025)", _intdes("1999-025")),
    "iridium-33-debris": Group("Iridium 33 collision debris (1997-051)", _intdes("1997-051")),
    "cosmos-2251-debris": Group("Cosmos 2251 collision debris (1993-036)", _intdes("1993-036")),
}
for _n in ("USA", "AUS", "CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "NOR", "NZL"):
    GROUPS[_n.lower()] = Group(f"objects owned by {_n}", _owner(_n))

SPECIALS: dict[str, Callable[[Any, Any], bool]] = {
    "gpz": lambda e, o: e.regime == "GEO",
    "gpz-plus": lambda e, o: 0.9 <= e.mean_motion <= 1.1,
    "decaying": lambda e, o: e.perigee_km is not None and e.perigee_km < 250.0,
}


def _one(values: dict[str, str | None]) -> tuple[str, str]:
    given = [(k, v) for k, v in values.items() if v not in (None, "")]
    if len(given) != 1:
        raise ValidationError("give exactly one of CATNR, INTDES, GROUP, NAME or SPECIAL", field="query")
    return given[0]  # type: ignore[return-value]


def _catnrs(text: str) -> list[int]:
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValidationError(f"CATNR must be catalogue numbers, got {text!r}", field="CATNR") from None
    if not ids or any(i < 0 or i > 2_147_483_647 for i in ids):
        raise ValidationError(f"CATNR out of range: {text!r}", field="CATNR")
    return ids


Param = Annotated[str | None, Query(max_length=2000)]


@router.get("/NORAD/elements/gp.php", summary="CelesTrak-compatible GP data")
def gp_php(state: State, user: Caller, where: ReadFilter, conn: Conn, CATNR: Param = None,
           INTDES: Param = None, GROUP: Param = None, NAME: Param = None, SPECIAL: Param = None,
           FORMAT: Annotated[str, Query(max_length=16)] = "TLE") -> Response:
    from orbitwatch.store import queries

    fmt = FORMAT.upper()
    if fmt not in FORMATS:
        raise ValidationError(f"FORMAT {FORMAT!r}: expected one of {', '.join(FORMATS)}", field="FORMAT")
    key, value = _one({"CATNR": CATNR, "INTDES": INTDES, "GROUP": GROUP, "NAME": NAME, "SPECIAL": SPECIAL})
    test: Callable[[Any, Any], bool] | None = None
    ids = None
    name = None
    if key == "CATNR":
        ids = _catnrs(value)
    elif key == "INTDES":
        test = _intdes(value.strip().upper())
    elif key == "NAME":
        name = value.strip()
    elif key == "GROUP":
        group = GROUPS.get(value.strip()) or GROUPS.get(value.strip().lower())
        if group is None:
            raise ValidationError(f"unknown GROUP {value!r}; this node serves {', '.join(GROUPS)}", field="GROUP")
        test = group.test
    else:
        special = SPECIALS.get(value.strip().lower())
        if special is None:
            raise ValidationError(f"unknown SPECIAL {value!r}; expected {', '.join(SPECIALS)}", field="SPECIAL")
        test = special
    rows = queries.latest_element_sets(conn, where=where, norad_ids=ids)
    if name:
        up = name.upper()
        rows = [r for r in rows if up in (r.object_name or "").upper()]
    if test is not None:
        objects = {}
        if key == "GROUP":
            objects = {o.norad_id: o for o in queries.search_objects(conn, where=where)}
        rows = [r for r in rows if test(r, objects.get(r.norad_id))]
    audit_reads(state, user, f"celestrak/gp/{key}", rows)
    if not rows:
        return Response(NO_DATA, media_type="text/plain; charset=utf-8")
    return Response(gp_text(rows, fmt), media_type=_MEDIA.get(fmt, "text/plain; charset=utf-8"))


def gp_text(rows: list, fmt: str) -> str:
    from orbitwatch.api.compat.classes import tle_lines
    from orbitwatch.formats import omm
    from orbitwatch.store.queries import element_set_from_row

    if fmt in ("TLE", "3LE", "2LE"):
        out = []
        for r in rows:
            lines = tle_lines(r)
            if lines is None:
                continue
            name, l1, l2 = lines
            if fmt == "TLE":
                out.append(name[2:].ljust(24))
            elif fmt == "3LE":
                out.append(name)
            out += [l1, l2]
        return "".join(ln + "\r\n" for ln in out)
    elsets = [element_set_from_row(r) for r in rows]
    if fmt == "XML":
        return omm.format_omm_xml(elsets, originator="ORBITWATCH")
    if fmt == "KVN":
        return omm.format_omm_kvn(elsets, originator="ORBITWATCH")
    if fmt == "CSV":
        return omm.format_omm_csv(elsets)
    if fmt == "JSON-PRETTY":
        return json.dumps([omm.omm_fields(es) for es in elsets], indent=4) + "\n"
    return omm.format_omm_json(elsets)


@router.get("/pub/satcat.csv", summary="CelesTrak-compatible SATCAT (CSV)")
def satcat_csv(state: State, user: Caller, where: ReadFilter, conn: Conn) -> Response:
    from orbitwatch.formats.records import SatcatRecord
    from orbitwatch.formats.satcat import format_satcat_csv
    from orbitwatch.store.queries import search_objects

    objs = search_objects(conn, where=where)
    audit_reads(state, user, "celestrak/satcat", objs, key="norad_id")
    records = [SatcatRecord(norad_id=o.norad_id, object_id=o.object_id, object_name=o.name,
                            object_type=o.object_type, owner=o.owner, launch_date=o.launch_date,
                            launch_site=o.launch_site, decay_date=o.decay_date, period_min=o.period_min,
                            inclination=o.inclination, apogee_km=o.apogee_km, perigee_km=o.perigee_km,
                            rcs_m2=o.rcs_m2, rcs_size=o.rcs_size, ops_status=o.ops_status) for o in objs]
    return Response(format_satcat_csv(records), media_type="text/csv; charset=utf-8")
