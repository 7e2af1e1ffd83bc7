"""Canonical records every input format ends in: one element set, one catalogue (SATCAT) entry.

Formats are constructors of these records (parse) and views of them (write); nothing else in
orbitwatch looks at TLE columns or OMM keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Largest catalogue number a TLE can carry (Alpha-5 ``Z9999``); OMM carries any number.
TLE_MAX_NORAD = 339_999

_UNIX0 = datetime(1970, 1, 1, tzinfo=UTC)
_DOY_EPOCH = re.compile(r"^(\d{4})-(\d{3})(?:T(.+))?$")


@dataclass(slots=True)
class ElementSet:
    """A mean-element set (SGP4 theory) for one object at one epoch.

    Angles in degrees, mean motion in revolutions per day; ``mean_motion_dot`` is the TLE's first
    derivative of mean motion divided by two (rev/day²) and ``mean_motion_ddot`` the second divided by
    six (rev/day³), as TLE and OMM both carry them.
    """

    norad_id: int
    epoch: datetime
    mean_motion: float
    eccentricity: float
    inclination: float
    raan: float
    arg_perigee: float
    mean_anomaly: float
    bstar: float = 0.0
    mean_motion_dot: float = 0.0
    mean_motion_ddot: float = 0.0
    object_name: str | None = None
    object_id: str | None = None
    classification_type: str = "U"
    ephemeris_type: int = 0
    element_set_no: int | None = None
    rev_at_epoch: int | None = None
    source_format: str = "tle"
    original: str | None = None
    file: str | None = None
    line: int | None = None

    @property
    def epoch_unix(self) -> float:
        return (self.epoch - _UNIX0).total_seconds()

    @property
    def semi_major_axis_km(self) -> float:
        """From mean motion with WGS-72 mu (the constant SGP4 element sets are fitted with)."""
        mu = 398600.8
        n = self.mean_motion * 2.0 * 3.141592653589793 / 86400.0
        return (mu / (n * n)) ** (1.0 / 3.0)

    @property
    def regime(self) -> str:
        return regime_of(self.mean_motion, self.eccentricity)


@dataclass(slots=True)
class SatcatRecord:
    """One object of a satellite catalogue (CelesTrak SATCAT, Space-Track satcat, CARA sizes)."""

    norad_id: int
    object_id: str | None = None
    object_name: str | None = None
    object_type: str | None = None  # PAYLOAD, ROCKET BODY, DEBRIS, UNKNOWN
    owner: str | None = None  # the source's owner code (US, UK, PRC, CIS, ESA ...)
    launch_date: str | None = None  # ISO date
    launch_site: str | None = None
    decay_date: str | None = None
    period_min: float | None = None
    inclination: float | None = None
    apogee_km: float | None = None
    perigee_km: float | None = None
    rcs_m2: float | None = None
    rcs_size: str | None = None  # SMALL / MEDIUM / LARGE
    mass_kg: float | None = None
    hbr_m: float | None = None
    ops_status: str | None = None
    source_format: str = "satcat"
    file: str | None = None
    line: int | None = None


#: SATCAT owner codes of the ten partners (CelesTrak and Space-Track use the same codes).
OWNER_CODE_TO_TRIGRAPH: dict[str, str] = {
    "US": "USA", "UK": "GBR", "FR": "FRA", "GER": "DEU", "IT": "ITA", "JPN": "JPN",
    "CA": "CAN", "AUS": "AUS", "NZ": "NZL", "NOR": "NOR",
}
TRIGRAPH_TO_OWNER_CODE: dict[str, str] = {v: k for k, v in OWNER_CODE_TO_TRIGRAPH.items()}


def owner_trigraph(owner_code: str | None) -> str | None:
    """The partner trigraph for a SATCAT owner code, or None for non-partners."""
    if owner_code is None:
        return None
    return OWNER_CODE_TO_TRIGRAPH.get(owner_code.strip().upper())


def regime_of(mean_motion: float, eccentricity: float) -> str:
    """LEO / MEO / GEO / HEO from mean motion (rev/day) and eccentricity, as catalogues group them."""
    if eccentricity >= 0.25:
        return "HEO"
    if mean_motion >= 11.25:
        return "LEO"
    if 0.9 <= mean_motion <= 1.1 and eccentricity < 0.01:
        return "GEO"
    if mean_motion > 1.1:
        return "MEO"
    return "HEO" if eccentricity >= 0.01 else "GEO"


def epoch_from_year_day(year: int, day_of_year: float) -> datetime:
    """UTC datetime from a year and a fractional day of year (1.0 = 1 January 00:00)."""
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=day_of_year - 1.0)


def parse_epoch(text: str) -> datetime:
    """ISO 8601 (``2023-10-09T12:00:00.123456``, optional ``Z``) or day-of-year (``2023-282T12:00:00``)."""
    s = text.strip().rstrip("Zz")
    if len(s) == 26 and s[19] == "." and s[10] == "T" and s[4] == "-" and s.isascii() and s[20:].isdigit():
        # The CelesTrak/Space-Track shape (6 fraction digits): same value as the general path, 5x faster.
        return datetime.fromisoformat(s).replace(tzinfo=UTC)
    if m := _DOY_EPOCH.match(s):
        base = datetime(int(m.group(1)), 1, 1, tzinfo=UTC) + timedelta(days=int(m.group(2)) - 1)
        return base + (parse_epoch("2000-01-01T" + m.group(3)) - datetime(2000, 1, 1, tzinfo=UTC)
                       if m.group(3) else timedelta(0))
    if "." in s:
        head, frac = s.split(".", 1)
        # Python accepts at most 6 fraction digits; round the rest rather than refuse it.
        micro = round(float("0." + frac) * 1e6)
        dt = datetime.fromisoformat(head)
        dt = dt + timedelta(microseconds=micro)
    else:
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def format_epoch(dt: datetime) -> str:
    """ISO 8601 UTC with microseconds, as OMM and CelesTrak write it (no zone suffix)."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="microseconds")[:26]
