"""Which service a satellite gives and who provides it, from its catalogue name (and orbit, for GLONASS).

Element-set files carry no owner, so when no SATCAT/store owner is known orbitwatch falls back on a
documented table of name patterns for the well-known constellations and national programmes. The table
is a heuristic: it recognises the large systems (every GNSS, the big comms constellations, the partner
nations' military and EO programmes); anything unmatched is ``service='OTHER'``, ``provider=None``.

``provider`` is a partner trigraph (USA, GBR, ...), ``EU`` for the European Union's systems (Galileo,
Copernicus: pooled by FRA, DEU, ITA), or a non-partner code (RUS, CHN, IND, INT for inter-governmental
organisations, COM for non-partner commercial operators).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from orbitwatch.formats.records import ElementSet

GNSS_SYSTEMS = ("GPS", "GALILEO", "QZSS", "GLONASS", "BEIDOU", "NAVIC")
#: Provider of each navigation system (EU = the European Union, pooled by its member partners).
GNSS_PROVIDER = {"GPS": "USA", "GALILEO": "EU", "QZSS": "JPN", "GLONASS": "RUS", "BEIDOU": "CHN",
                 "NAVIC": "IND"}
#: The systems the coalition may count on (allied providers).
ALLIED_GNSS = ("GPS", "GALILEO", "QZSS")
PARTNERS = ("AUS", "CAN", "FRA", "DEU", "ITA", "JPN", "NZL", "NOR", "GBR", "USA")
#: Which providers a partner can call its own: EU systems count for the EU's members among partners.
OWN_PROVIDERS = {p: (p, "EU") if p in ("FRA", "DEU", "ITA") else (p,) for p in PARTNERS}


@dataclass(frozen=True)
class ServiceInfo:
    constellation: str  # e.g. GPS, STARLINK, SKYNET; "OTHER" when unknown
    service: str  # GNSS, SATCOM, EO/ISR, WEATHER, CREWED, SCIENCE, OTHER
    provider: str | None  # partner trigraph, EU, RUS, CHN, IND, INT, COM, or None


# (pattern on the upper-case name, constellation, service, provider). Order matters: first match wins.
_PATTERNS: tuple[tuple[str, str, str, str], ...] = (
    (r"^(GPS |NAVSTAR)", "GPS", "GNSS", "USA"),
    (r"(^GSAT0|GALILEO)", "GALILEO", "GNSS", "EU"),
    (r"(^QZS|MICHIBIKI)", "QZSS", "GNSS", "JPN"),
    (r"GLONASS", "GLONASS", "GNSS", "RUS"),
    (r"BEIDOU", "BEIDOU", "GNSS", "CHN"),
    (r"(^IRNSS|^NVS-)", "NAVIC", "GNSS", "IND"),
    (r"^STARLINK", "STARLINK", "SATCOM", "USA"),
    (r"^ONEWEB", "ONEWEB", "SATCOM", "GBR"),
    (r"^KUIPER", "KUIPER", "SATCOM", "USA"),
    (r"^IRIDIUM", "IRIDIUM", "SATCOM", "USA"),
    (r"^GLOBALSTAR", "GLOBALSTAR", "SATCOM", "USA"),
    (r"^ORBCOMM", "ORBCOMM", "SATCOM", "USA"),
    (r"^O3B", "O3B", "SATCOM", "COM"),
    (r"^(WGS|AEHF|MUOS|MILSTAR|TDRS|UFO|DSCS)", "US-MILSATCOM", "SATCOM", "USA"),
    (r"^(VIASAT|ECHOSTAR|DIRECTV|SIRIUS|XM-|GALAXY|AMC-|SPACEWAY|JUPITER)", "US-COMSAT", "SATCOM", "USA"),
    (r"^SKYNET", "SKYNET", "SATCOM", "GBR"),
    (r"^INMARSAT", "INMARSAT", "SATCOM", "GBR"),
    (r"^SYRACUSE", "SYRACUSE", "SATCOM", "FRA"),
    (r"^ATHENA-FIDUS", "ATHENA-FIDUS", "SATCOM", "FRA"),
    (r"^SICRAL", "SICRAL", "SATCOM", "ITA"),
    (r"^(COMSATBW|HEINRICH HERTZ)", "COMSATBW", "SATCOM", "DEU"),
    (r"^(ANIK|NIMIQ|TELSTAR 1[0-9])", "TELESAT", "SATCOM", "CAN"),
    (r"^(JCSAT|SUPERBIRD|KIRAMEKI|DSN-)", "JP-COMSAT", "SATCOM", "JPN"),
    (r"^(THOR |ASBM)", "NO-COMSAT", "SATCOM", "NOR"),
    (r"^(OPTUS|NBN|SKY MUSTER)", "AU-COMSAT", "SATCOM", "AUS"),
    (r"^EUTELSAT", "EUTELSAT", "SATCOM", "COM"),
    (r"^(INTELSAT|IS-)", "INTELSAT", "SATCOM", "COM"),
    (r"^SES", "SES", "SATCOM", "COM"),
    (r"^(QIANFAN|GUOWANG|CHINASAT|ZHONGXING|TIANTONG)", "CN-SATCOM", "SATCOM", "CHN"),
    (r"^(FLOCK|DOVE|SKYSAT|PELICAN)", "PLANET", "EO/ISR", "USA"),
    (r"^(WORLDVIEW|GEOEYE|LEGION|LANDSAT|CAPELLA|BLACKSKY|UMBRA|HAWKEYE|USA )", "US-EO/ISR", "EO/ISR", "USA"),
    (r"^(LEMUR|SPIRE)", "SPIRE", "WEATHER", "USA"),
    (r"^SENTINEL", "COPERNICUS", "EO/ISR", "EU"),
    (r"^(PLEIADES|CSO-|HELIOS|SPOT |CERES)", "FR-EO/ISR", "EO/ISR", "FRA"),
    (r"^(SAR-LUPE|SARAH|TERRASAR|TANDEM-X|ENMAP)", "DE-EO/ISR", "EO/ISR", "DEU"),
    (r"^(COSMO-SKYMED|CSG-|PRISMA|OPTSAT)", "IT-EO/ISR", "EO/ISR", "ITA"),
    (r"^(RADARSAT|RCM-|SAPPHIRE|NEOSSAT)", "CA-EO/ISR", "EO/ISR", "CAN"),
    (r"^(ALOS|IGS |QPS-SAR|ASNARO|GOSAT)", "JP-EO/ISR", "EO/ISR", "JPN"),
    (r"^(NORSAT|AISSAT)", "NO-EO/ISR", "EO/ISR", "NOR"),
    (r"^(CARBONITE|NOVASAR|TECHDEMOSAT)", "GB-EO/ISR", "EO/ISR", "GBR"),
    (r"^(NOAA|GOES|DMSP|JPSS|SUOMI)", "US-WEATHER", "WEATHER", "USA"),
    (r"^(METOP|METEOSAT|MTG-)", "EUMETSAT", "WEATHER", "INT"),
    (r"^HIMAWARI", "HIMAWARI", "WEATHER", "JPN"),
    (r"^(ISS |ISS\(|ZARYA)", "ISS", "CREWED", "INT"),
    (r"^(CSS|TIANHE|WENTIAN|MENGTIAN)", "CSS", "CREWED", "CHN"),
)
_COMPILED = tuple((re.compile(p), c, s, o) for p, c, s, o in _PATTERNS)


def classify(e: ElementSet) -> ServiceInfo:
    """The service and provider of one element set, from its name (and orbit for GLONASS)."""
    name = (e.object_name or "").upper().strip()
    for rx, const, service, owner in _COMPILED:
        if rx.search(name):
            return ServiceInfo(const, service, owner)
    # CelesTrak names GLONASS satellites 'COSMOS 2433 (720)': recognise them by their orbit
    # (8 orbits in 17 sidereal days = 2.13 rev/day at 64.8 deg).
    if name.startswith(("COSMOS", "KOSMOS")) and 2.05 < e.mean_motion < 2.2 and 60 < e.inclination < 70:
        return ServiceInfo("GLONASS", "GNSS", "RUS")
    return ServiceInfo("OTHER", "OTHER", None)


_NON_PAYLOAD = re.compile(r"(\bDEB\b|\bDEBRIS\b|R/B|\bAKM\b|\bPKM\b|PLATFORM|\bCOOLANT\b)")


def is_payload(e: ElementSet, object_types: Mapping[int, str | None] | None = None) -> bool:
    """A payload (satellite) rather than debris or a rocket body: the store's object type when known,
    else the catalogue name (``DEB``, ``R/B``, ``AKM`` ... mark non-payloads)."""
    if object_types and object_types.get(e.norad_id):
        return str(object_types[e.norad_id]).upper() == "PAYLOAD"
    return not _NON_PAYLOAD.search((e.object_name or "").upper())


def gnss_system(e: ElementSet) -> str | None:
    """GPS / GALILEO / QZSS / GLONASS / BEIDOU / NAVIC, or None for anything else."""
    info = classify(e)
    return info.constellation if info.service == "GNSS" else None


def provider_of(e: ElementSet, owners: Mapping[int, str] | None = None) -> str | None:
    """The provider of one satellite: an explicit owner map (store/SATCAT) first, then the name table."""
    if owners and e.norad_id in owners and owners[e.norad_id]:
        return owners[e.norad_id]
    return classify(e).provider


def select(elsets: Iterable[ElementSet], *, owners: Mapping[int, str] | None = None,
           providers: Iterable[str] | None = None, constellations: Iterable[str] | None = None,
           services: Iterable[str] | None = None, norad_ids: Iterable[int] | None = None) -> list[ElementSet]:
    """Element sets matching every filter given (providers, constellations, services, explicit ids)."""
    prov = {p.upper() for p in providers} if providers else None
    cons = {c.upper() for c in constellations} if constellations else None
    serv = {s.upper() for s in services} if services else None
    ids = set(norad_ids) if norad_ids is not None else None
    out = []
    for e in elsets:
        if ids is not None and e.norad_id not in ids:
            continue
        info = classify(e)
        if prov is not None and (provider_of(e, owners) or "") not in prov:
            continue
        if cons is not None and info.constellation not in cons:
            continue
        if serv is not None and info.service not in serv:
            continue
        out.append(e)
    return out
