"""Small orbital helpers shared by the threat detectors: SGP4 records, mean elements, RTN frames, Δv.

Everything here works in the TEME frame SGP4 produces, kilometres and seconds, and the WGS-72
constants TLEs are fitted with. These are deliberately plain functions over numpy arrays so the
detectors stay testable without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sgp4.api import WGS72, Satrec

from orbitwatch.errors import PropagationError
from orbitwatch.formats.records import ElementSet

MU_KM3_S2 = 398600.8  # WGS-72, the constant SGP4 element sets are fitted with
RE_KM = 6378.135  # WGS-72 equatorial radius
J2 = 0.001082616
GEO_RADIUS_KM = 42164.17
SIDEREAL_DAY_S = 86164.0905
EARTH_ROT_DEG_PER_DAY = 360.98564736629
_UNIX0 = datetime(1970, 1, 1, tzinfo=UTC)
_JD_UNIX0 = 2440587.5
_DEG = math.pi / 180.0
_SGP4_EPOCH0_JD = 2433281.5  # 1949-12-31 00:00 UTC, the origin of sgp4init's epoch argument


def satrec_of(es: ElementSet) -> Satrec:
    """An initialised SGP4 record for one element set.

    Uses the original TLE lines when the set carries them (bit-exact with every other SGP4 user),
    otherwise initialises from the mean elements (OMM path).
    """
    if es.original:
        lines = [ln for ln in es.original.splitlines() if ln[:2] in ("1 ", "2 ")]
        if len(lines) == 2:
            return Satrec.twoline2rv(lines[0], lines[1], WGS72)
    sat = Satrec()
    jd = es.epoch_unix / 86400.0 + _JD_UNIX0
    sat.sgp4init(
        WGS72, "i", es.norad_id if es.norad_id < 340000 else 0, jd - _SGP4_EPOCH0_JD, es.bstar,
        es.mean_motion_dot * 2.0 * math.pi / 1440.0**2, es.mean_motion_ddot * 2.0 * math.pi / 1440.0**3,
        es.eccentricity, es.arg_perigee * _DEG, es.inclination * _DEG, es.mean_anomaly * _DEG,
        es.mean_motion * 2.0 * math.pi / 1440.0, es.raan * _DEG)
    return sat


@dataclass(frozen=True, slots=True)
class MeanState:
    """SGP4 mean elements (after secular drag/J2 updates) and the osculating state at one time.

    ``a_km`` semi-major axis, angles in radians, ``r``/``v`` TEME km and km/s.
    """

    a_km: float
    e: float
    i: float
    raan: float
    argp: float
    mean_anomaly: float
    r: np.ndarray
    v: np.ndarray


def mean_state(sat: Satrec, tsince_min: float) -> MeanState:
    """Propagate ``sat`` by ``tsince_min`` minutes from its epoch and read SGP4's mean elements.

    sgp4 updates ``am, em, im, Om, om, mm`` on every call: they are the *mean* elements SGP4
    carries to that time (J2 secular rates, drag decay from B*), which is exactly what a later
    element set of the same object should agree with when nothing manoeuvred.
    """
    err, r, v = sat.sgp4_tsince(tsince_min)
    if err:
        raise PropagationError(f"SGP4 error {err} for object {sat.satnum} at {tsince_min:.1f} min "
                               "from epoch (decayed or eccentricity out of range)")
    return MeanState(sat.am * RE_KM, sat.em, sat.im, sat.Om, sat.om, sat.mm, np.asarray(r), np.asarray(v))


def rtn_basis(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows R (radial), T (along-track, completes the triad), N (orbit normal) for states ``r, v``.

    Works on one state (shape (3,)) or many (shape (..., 3)); returns (..., 3, 3).
    """
    r = np.asarray(r, dtype=float)
    v = np.asarray(v, dtype=float)
    rhat = r / np.linalg.norm(r, axis=-1, keepdims=True)
    h = np.cross(r, v)
    nhat = h / np.linalg.norm(h, axis=-1, keepdims=True)
    that = np.cross(nhat, rhat)
    return np.stack([rhat, that, nhat], axis=-2)


def to_rtn(dr: np.ndarray, r_ref: np.ndarray, v_ref: np.ndarray) -> np.ndarray:
    """Express vector(s) ``dr`` in the RTN frame of the reference state(s)."""
    basis = rtn_basis(r_ref, v_ref)
    return np.einsum("...ij,...j->...i", basis, dr)


def mean_motion_rad_s(a_km: float | np.ndarray) -> float | np.ndarray:
    return np.sqrt(MU_KM3_S2 / np.asarray(a_km, dtype=float) ** 3)


def plane_angle_rad(i1: float | np.ndarray, raan1: float | np.ndarray, i2: float | np.ndarray,
                    raan2: float | np.ndarray) -> float | np.ndarray:
    """Angle between two orbit planes (radians) from inclinations and RAANs (radians)."""
    c = (np.cos(i1) * np.cos(i2) + np.sin(i1) * np.sin(i2) * np.cos(np.asarray(raan2) - raan1))
    return np.arccos(np.clip(c, -1.0, 1.0))


def wrap_pi(x: float | np.ndarray) -> float | np.ndarray:
    """Angle difference wrapped to [-pi, pi)."""
    return (np.asarray(x) + np.pi) % (2.0 * np.pi) - np.pi


def datetime_of(ts: float) -> datetime:
    """UTC datetime of unix seconds."""
    return datetime.fromtimestamp(float(ts), UTC)


def unix_of(dt: datetime) -> float:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _UNIX0).total_seconds()


def iso(ts: float | datetime) -> str:
    """ISO 8601 UTC with a ``Z`` (seconds resolution), the form every detector prints."""
    dt = ts if isinstance(ts, datetime) else datetime_of(ts)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sort_unique(elsets: Sequence[ElementSet]) -> list[ElementSet]:
    """Element sets of one object sorted by epoch, later duplicates of one epoch dropped."""
    out: list[ElementSet] = []
    last = None
    for es in sorted(elsets, key=lambda e: e.epoch_unix):
        t = es.epoch_unix
        if last is not None and abs(t - last) < 1e-3:
            continue
        out.append(es)
        last = t
    return out
