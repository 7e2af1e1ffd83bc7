"""Whole-catalogue SGP4/SDP4 with the ``sgp4`` package (Vallado's C++), per-object errors, two cores.

Frames and units: positions in km and velocities in km/s in TEME (the frame SGP4 works in), as the
``sgp4`` package returns them. Times are UTC Julian dates split into a whole part and a fraction
(``jd``, ``fr``), as python-sgp4 takes them, so that millisecond steps keep full precision.

Errors never stop a catalogue run: SGP4's per-element error codes (1 = mean eccentricity out of
range, 2 = mean motion < 0, 3 = perturbed eccentricity out of range, 4 = semi-latus rectum < 0,
6 = decayed) come back as arrays; :func:`error_flags` turns them into one message per object with
SGP4's own wording (``sgp4.api.SGP4_ERRORS``) and the first time it happened.

``SatrecArray.sgp4`` holds the GIL and runs on one core, so :func:`propagate_elsets` splits the
catalogue into chunks and runs them in worker processes (each rebuilds its Satrec objects from the
TLE text, which is smaller to ship than the objects themselves).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sgp4.api import SGP4_ERRORS, WGS72, Satrec, SatrecArray

#: Julian date of 1949-12-31 00:00 UTC: SGP4's epoch origin (``sgp4init`` takes days since then).
JD_1949 = 2433281.5
_JD_UNIX0 = 2440587.5
_TWO_PI = 2.0 * math.pi
_MIN_PER_DAY = 1440.0


def jd_of(dt: datetime) -> tuple[float, float]:
    """Split UTC Julian date (whole, fraction) of an aware or naive-UTC datetime, microsecond exact."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    days = (dt - datetime(1970, 1, 1)).days
    frac = (dt.hour * 3600 + dt.minute * 60 + dt.second + dt.microsecond * 1e-6) / 86400.0
    return days + _JD_UNIX0, frac


def unix_of_jd(jd: np.ndarray | float, fr: np.ndarray | float) -> np.ndarray | float:
    """UTC seconds since 1970 from a split Julian date."""
    return (np.asarray(jd) - _JD_UNIX0) * 86400.0 + np.asarray(fr) * 86400.0


def tle_lines(original: str | None) -> tuple[str, str] | None:
    """The two TLE lines in an element set's ``original`` text, or None when it is not a TLE."""
    if not original:
        return None
    l1 = l2 = None
    for line in original.splitlines():
        if line.startswith("1 ") and l1 is None:
            l1 = line
        elif line.startswith("2 ") and l2 is None:
            l2 = line
    return (l1, l2) if l1 and l2 else None


def satrec_from_elements(norad_id: int, epoch: datetime, *, mean_motion: float, eccentricity: float,
                         inclination: float, raan: float, arg_perigee: float, mean_anomaly: float,
                         bstar: float = 0.0, mean_motion_dot: float = 0.0,
                         mean_motion_ddot: float = 0.0) -> Satrec:
    """A Satrec initialised with ``sgp4init`` (WGS-72, improved mode) from mean elements.

    Units as TLE/OMM carry them: degrees, revolutions per day, ``mean_motion_dot`` = ndot/2 in
    rev/day², ``mean_motion_ddot`` = nddot/6 in rev/day³, ``bstar`` in 1/earth radii. Converted here to
    what ``sgp4init`` takes (radians, rad/min, rad/min², rad/min³ — the same scaling twoline2rv uses).
    """
    jd, fr = jd_of(epoch)
    sat = Satrec()
    deg = math.pi / 180.0
    # sgp4 (2.27) refuses satnum above 339999 (Alpha-5 'Z9999'). The number only labels the Satrec;
    # OMM-only and simulated objects (>= 340000) get 0 and callers keep the NORAD id alongside.
    sat.sgp4init(WGS72, "i", int(norad_id) if 0 <= norad_id <= 339_999 else 0, (jd - JD_1949) + fr, bstar,
                 mean_motion_dot * _TWO_PI / _MIN_PER_DAY ** 2,
                 mean_motion_ddot * _TWO_PI / _MIN_PER_DAY ** 3,
                 eccentricity, arg_perigee * deg, inclination * deg, mean_anomaly * deg,
                 mean_motion * _TWO_PI / _MIN_PER_DAY, raan * deg)
    return sat


def satrec_of(es) -> Satrec:
    """Satrec for one :class:`~orbitwatch.formats.records.ElementSet`.

    From the original TLE lines when the element set came from a TLE (bit-identical to what every
    other SGP4 user gets from the same lines), else from its elements with ``sgp4init``.
    """
    lines = tle_lines(es.original) if es.source_format in ("tle", "3le") else None
    if lines is not None:
        try:
            return Satrec.twoline2rv(lines[0], lines[1], WGS72)
        except Exception:  # noqa: BLE001 - sgp4 raises ValueError on odd spellings; elements still work
            pass
    return satrec_from_elements(es.norad_id, es.epoch, mean_motion=es.mean_motion,
                                eccentricity=es.eccentricity, inclination=es.inclination, raan=es.raan,
                                arg_perigee=es.arg_perigee, mean_anomaly=es.mean_anomaly, bstar=es.bstar,
                                mean_motion_dot=es.mean_motion_dot, mean_motion_ddot=es.mean_motion_ddot)


# --- portable element records: what crosses process and network boundaries ----------------------
# A tuple of plain values rebuilds the same Satrec anywhere: (norad, tle1, tle2) or the elements.

def portable(es) -> tuple:
    """A picklable, compact description of an element set that rebuilds the identical Satrec."""
    lines = tle_lines(es.original) if es.source_format in ("tle", "3le") else None
    if lines is not None:
        return ("tle", es.norad_id, lines[0], lines[1])
    return ("el", es.norad_id, es.epoch.timestamp(), es.mean_motion, es.eccentricity, es.inclination,
            es.raan, es.arg_perigee, es.mean_anomaly, es.bstar, es.mean_motion_dot, es.mean_motion_ddot)


def satrec_from_portable(p: tuple) -> Satrec:
    if p[0] == "tle":
        try:
            return Satrec.twoline2rv(p[2], p[3], WGS72)
        except Exception:  # noqa: BLE001 - fall through is impossible here: the lines came from a Satrec
            raise
    _, norad, ts, n, e, i, raan, argp, ma, bstar, ndot, nddot = p
    return satrec_from_elements(norad, datetime.fromtimestamp(ts, UTC), mean_motion=n, eccentricity=e,
                                inclination=i, raan=raan, arg_perigee=argp, mean_anomaly=ma, bstar=bstar,
                                mean_motion_dot=ndot, mean_motion_ddot=nddot)


@dataclass
class Propagation:
    """States of ``n`` objects at ``m`` times: ``r``, ``v`` (n, m, 3) TEME km, km/s; ``err`` (n, m) codes."""

    r: np.ndarray
    v: np.ndarray
    err: np.ndarray


def propagate(sats: Sequence[Satrec] | SatrecArray, jd: np.ndarray, fr: np.ndarray) -> Propagation:
    """SGP4 for every object at every time, one core. Failed evaluations are NaN with their code."""
    arr = sats if isinstance(sats, SatrecArray) else SatrecArray(list(sats))
    e, r, v = arr.sgp4(np.ascontiguousarray(jd, dtype=np.float64), np.ascontiguousarray(fr, dtype=np.float64))
    bad = e != 0
    if bad.any():
        r[bad] = np.nan
        v[bad] = np.nan
    return Propagation(r, v, e)


def _propagate_chunk(args: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    portables, jd, fr = args
    p = propagate([satrec_from_portable(x) for x in portables], jd, fr)
    return p.r, p.v, p.err


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def propagate_elsets(elsets: Sequence, jd: np.ndarray, fr: np.ndarray, *,
                     workers: int | None = None) -> Propagation:
    """SGP4 for a whole catalogue on ``workers`` processes (default: every core).

    Small jobs (fewer than ~200k evaluations) run in this process: starting workers costs more.
    """
    jd = np.atleast_1d(np.asarray(jd, dtype=np.float64))
    fr = np.atleast_1d(np.asarray(fr, dtype=np.float64))
    n, m = len(elsets), len(jd)
    workers = default_workers() if workers is None else max(1, workers)
    if workers == 1 or n * m < 200_000:
        return propagate([satrec_of(es) for es in elsets], jd, fr)
    ports = [portable(es) for es in elsets]
    bounds = np.linspace(0, n, workers + 1).astype(int)
    jobs = [(ports[a:b], jd, fr) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        parts = list(ex.map(_propagate_chunk, jobs))
    return Propagation(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                       np.concatenate([p[2] for p in parts]))


def error_message(code: int) -> str:
    """SGP4's own text for an error code (7: orbitwatch's implausible-state check)."""
    if int(code) == 7:
        return "state below the Earth's surface or unbound (decayed object or element set far too old)"
    return SGP4_ERRORS.get(int(code), f"SGP4 error code {int(code)}")


def error_flags(norads: Sequence[int], err: np.ndarray, times_unix: np.ndarray | None = None) -> dict[int, str]:
    """One message per object whose propagation failed at any time: SGP4's text, the code, and when.

    ``err`` is (n, m); ``times_unix`` (m,) UTC seconds, used to say when the failure began.
    """
    out: dict[int, str] = {}
    rows = np.flatnonzero((err != 0).any(axis=1))
    for i in rows:
        j = int(np.argmax(err[i] != 0))
        code = int(err[i, j])
        when = ""
        if times_unix is not None:
            when = " from " + datetime.fromtimestamp(float(times_unix[j]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out[int(norads[i])] = f"SGP4 error {code}: {error_message(code)}{when}"
    return out
