"""Helpers for the formats tests: comparing element sets, building valid TLE lines, reading gz files.

(A uniquely named module rather than conftest.py: test directories have no __init__.py, and several
conftest modules of the same name would shadow each other when imported by name.)
"""

from __future__ import annotations

import gzip
from pathlib import Path

from orbitwatch.formats.records import ElementSet

# The fields that describe the object and its orbit (not where the record came from).
ORBIT_FIELDS = ("norad_id", "epoch", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
                "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot", "object_name", "object_id",
                "classification_type", "ephemeris_type", "element_set_no", "rev_at_epoch")


def orbit_tuple(es: ElementSet, fields: tuple[str, ...] = ORBIT_FIELDS) -> tuple:
    return tuple(getattr(es, f) for f in fields)


def tle_checksum(line: str) -> int:
    return sum(int(c) if c in "0123456789" else (1 if c == "-" else 0) for c in line[:68]) % 10


def with_checksum(line68: str) -> str:
    """A 68-column TLE line plus its correct checksum digit."""
    assert len(line68) == 68, len(line68)
    return line68 + str(tle_checksum(line68))


def read_text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


#: ISS element set from the python-sgp4 documentation (a well-known, valid pair).
ISS_LINES = ("1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
             "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537")

