"""Small SGP4 batch helper for the effects and resilience packages.

The screening engineer's ``orbitwatch.kernels.propagation`` is the project's SGP4 kernel; this module
uses it when it is importable and otherwise falls back to :class:`sgp4.api.SatrecArray` directly, so
effects/resilience work on their own. Everything here is plain numpy: element sets in, arrays out.

Frames: SGP4 output is TEME (km, km/s). :func:`teme_to_ecef` rotates by GMST (IAU-82, UT1 taken as
UTC, polar motion ignored: < 20 m on the ground, far below what coverage/DOP/dose work needs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from orbitwatch.formats.records import ElementSet

_JD_UNIX0 = 2440587.5
_SGP4_EPOCH0_JD = 2433281.5  # sgp4init counts epoch days from 1949-12-31 00:00 UT
_XPDOTP = 1440.0 / (2.0 * math.pi)  # rev/day -> rad/min
_DEG = math.pi / 180.0


def satrec_from_elset(e: ElementSet) -> Satrec:
    """An initialised WGS-72 ``Satrec`` from a canonical element set (any catalogue number)."""
    s = Satrec()
    satnum = e.norad_id if 0 <= e.norad_id <= 339_999 else 0  # sgp4 cannot carry bigger numbers
    epoch_jd = _JD_UNIX0 + e.epoch_unix / 86400.0
    s.sgp4init(WGS72, "i", satnum, epoch_jd - _SGP4_EPOCH0_JD, e.bstar,
               e.mean_motion_dot / (_XPDOTP * 1440.0), e.mean_motion_ddot / (_XPDOTP * 1440.0 * 1440.0),
               e.eccentricity, e.arg_perigee * _DEG, e.inclination * _DEG, e.mean_anomaly * _DEG,
               e.mean_motion / _XPDOTP, e.raan * _DEG)
    return s


def unix_to_jd(t_unix: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Two-part Julian date (whole day .5, fraction) for precision, as the sgp4 array API wants."""
    t = np.asarray(t_unix, dtype=float)
    days = t / 86400.0
    whole = np.floor(days)
    return whole + _JD_UNIX0, days - whole


def to_unix(dt: datetime) -> float:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def propagate_teme(elsets: Sequence[ElementSet] | Sequence[Satrec], times_unix: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TEME position (km) and velocity (km/s) of every object at every time.

    Returns ``r (S, T, 3)``, ``v (S, T, 3)`` and the SGP4 error code ``err (S, T)`` (0 = fine; 1, 6 =
    decayed / out of range, ...). Failed points are NaN, never an exception: a decayed object must not
    abort a catalogue run.
    """
    times_unix = np.atleast_1d(np.asarray(times_unix, dtype=float))
    if len(elsets) == 0:
        z = np.zeros((0, times_unix.size, 3))
        return z, z.copy(), np.zeros((0, times_unix.size), dtype=np.uint8)
    try:  # the project's SGP4 kernel (builds from the TLE text when there is one)
        from orbitwatch.kernels.propagation import satrec_of
    except ImportError:  # pragma: no cover - only before the kernel existed
        satrec_of = satrec_from_elset
    # sgp4 refuses satellite numbers above 339999 (Alpha-5 Z9999): OMM-only and simulated objects
    # are initialised here with number 0 (the number plays no part in the propagation).
    sats = [x if isinstance(x, Satrec) else (satrec_of(x) if x.norad_id <= 339_999 else satrec_from_elset(x))
            for x in elsets]
    jd, fr = unix_to_jd(times_unix)
    err, r, v = SatrecArray(sats).sgp4(jd, fr)
    bad = err != 0
    if bad.any():
        r[bad] = np.nan
        v[bad] = np.nan
    return r, v, err


def gmst_rad(t_unix: np.ndarray | float) -> np.ndarray:
    """Greenwich mean sidereal time (IAU-82 series, as SGP4's TEME frame is defined), radians."""
    jd, fr = unix_to_jd(t_unix)
    tut1 = ((jd - 2451545.0) + fr) / 36525.0
    g = (-6.2e-6 * tut1 ** 3 + 0.093104 * tut1 ** 2
         + (876600.0 * 3600.0 + 8640184.812866) * tut1 + 67310.54841)  # seconds
    return np.mod(g * (2.0 * math.pi / 86400.0), 2.0 * math.pi)


def teme_to_ecef(r_teme: np.ndarray, times_unix: np.ndarray) -> np.ndarray:
    """Rotate TEME positions ``(..., T, 3)`` into the Earth-fixed frame at each of the T times."""
    th = gmst_rad(np.atleast_1d(times_unix))
    c, s = np.cos(th), np.sin(th)
    x, y, z = r_teme[..., 0], r_teme[..., 1], r_teme[..., 2]
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=-1)


def ecef_positions(elsets: Sequence[ElementSet], times_unix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earth-fixed positions ``(S, T, 3)`` km (NaN where SGP4 failed) and the error codes ``(S, T)``."""
    r, _v, err = propagate_teme(elsets, times_unix)
    return teme_to_ecef(r, np.atleast_1d(times_unix)), err
