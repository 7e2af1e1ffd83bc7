"""Two-body element conversions and the osculating-state -> SGP4 mean-element fit (vectorised).

Constants are WGS-72 (what SGP4 element sets are fitted with). Frames: TEME, km, km/s, degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

MU_WGS72 = 398600.8  # km³/s²
RE_WGS72 = 6378.135  # km
_JD_UNIX0 = 2440587.5
_JD_1949 = 2433281.5
_XPDOTP = 1440.0 / (2.0 * math.pi)


def rv_to_kepler(r: np.ndarray, v: np.ndarray, mu: float = MU_WGS72) -> dict[str, np.ndarray]:
    """Classical elements of states ``(N, 3)``: a (km), e, i, raan, argp, M (radians)."""
    r = np.atleast_2d(r)
    v = np.atleast_2d(v)
    rn = np.linalg.norm(r, axis=1)
    vn2 = np.einsum("ij,ij->i", v, v)
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=1)
    nvec = np.stack([-h[:, 1], h[:, 0], np.zeros(len(h))], axis=1)
    nn = np.linalg.norm(nvec, axis=1)
    evec = ((vn2 - mu / rn)[:, None] * r - np.einsum("ij,ij->i", r, v)[:, None] * v) / mu
    e = np.linalg.norm(evec, axis=1)
    energy = vn2 / 2.0 - mu / rn
    with np.errstate(divide="ignore", invalid="ignore"):
        a = -mu / (2.0 * energy)
        i = np.arccos(np.clip(h[:, 2] / hn, -1.0, 1.0))
        raan = np.where(nn > 1e-12, np.arctan2(nvec[:, 1], nvec[:, 0]), 0.0)
        # argument of perigee and true anomaly; equatorial/circular fall back to sensible zeros
        cos_w = np.einsum("ij,ij->i", nvec, evec) / (nn * e)
        argp = np.arccos(np.clip(cos_w, -1.0, 1.0))
        argp = np.where(evec[:, 2] < 0, 2 * np.pi - argp, argp)
        cos_nu = np.einsum("ij,ij->i", evec, r) / (e * rn)
        nu = np.arccos(np.clip(cos_nu, -1.0, 1.0))
        nu = np.where(np.einsum("ij,ij->i", r, v) < 0, 2 * np.pi - nu, nu)
    ecc_anom = 2.0 * np.arctan2(np.sqrt(np.clip(1 - e, 0, None)) * np.sin(nu / 2),
                                np.sqrt(1 + e) * np.cos(nu / 2))
    mean_anom = np.mod(ecc_anom - e * np.sin(ecc_anom), 2 * np.pi)
    return {"a": a, "e": e, "i": i, "raan": np.mod(raan, 2 * np.pi), "argp": np.mod(argp, 2 * np.pi),
            "M": mean_anom}


def _to_equinoctial(k: dict[str, np.ndarray]) -> np.ndarray:
    lp = k["raan"] + k["argp"]
    t = np.tan(k["i"] / 2.0)
    return np.stack([k["a"], k["e"] * np.sin(lp), k["e"] * np.cos(lp), t * np.sin(k["raan"]),
                     t * np.cos(k["raan"]), lp + k["M"]], axis=1)


def _from_equinoctial(q: np.ndarray) -> dict[str, np.ndarray]:
    a, h, kk, p, qq, lam = q.T
    e = np.hypot(h, kk)
    lp = np.arctan2(h, kk)
    raan = np.arctan2(p, qq)
    i = 2.0 * np.arctan(np.hypot(p, qq))
    return {"a": a, "e": e, "i": i, "raan": np.mod(raan, 2 * np.pi), "argp": np.mod(lp - raan, 2 * np.pi),
            "M": np.mod(lam - lp, 2 * np.pi)}


@dataclass
class MeanFit:
    """SGP4 mean elements fitted to osculating states. Angles in degrees, mean motion in rev/day."""

    ok: np.ndarray  # (N,) bool: fit converged and orbit is a valid, not-yet-decayed ellipse
    mean_motion: np.ndarray
    eccentricity: np.ndarray
    inclination: np.ndarray
    raan: np.ndarray
    arg_perigee: np.ndarray
    mean_anomaly: np.ndarray
    position_error_km: np.ndarray  # |r_sgp4(epoch) - r_target| after the fit


def _satrecs(q: np.ndarray, epoch_days: float, bstar: np.ndarray) -> tuple[list[Satrec], np.ndarray]:
    k = _from_equinoctial(q)
    n = np.sqrt(MU_WGS72 / np.abs(k["a"]) ** 3) * 60.0  # rad/min
    sats = []
    good = np.ones(len(q), bool)
    for j in range(len(q)):
        s = Satrec()
        e = float(k["e"][j])
        if not (0.0 <= e < 0.999) or not np.isfinite(n[j]) or k["a"][j] <= 0:
            good[j] = False
            e = 0.001
        s.sgp4init(WGS72, "i", 0, epoch_days, float(bstar[j]), 0.0, 0.0, e, float(k["argp"][j]),
                   float(k["i"][j]), float(k["M"][j]), float(n[j]) if good[j] else 0.06, float(k["raan"][j]))
        sats.append(s)
    return sats, good


def fit_mean_elements(r: np.ndarray, v: np.ndarray, epoch: datetime, bstar: np.ndarray, *,
                      iterations: int = 6) -> MeanFit:
    """SGP4 mean elements whose epoch state reproduces the TEME states ``r, v`` (fixed-point fit).

    Start from the osculating two-body elements; then repeat: initialise SGP4, evaluate at the epoch,
    and move the guess by (target - SGP4) in equinoctial elements (non-singular for near-circular
    and near-equatorial orbits). Converges to metres in a few steps for LEO-MEO; objects that SGP4
    rejects (perigee inside the Earth, e >= 1) come back with ``ok = False``.
    """
    n_obj = len(r)
    epoch_jd = _JD_UNIX0 + epoch.timestamp() / 86400.0
    epoch_days = epoch_jd - _JD_1949
    jd = np.array([math.floor(epoch_jd - 0.5) + 0.5])
    fr = np.array([epoch_jd - jd[0]])
    target = _to_equinoctial(rv_to_kepler(r, v))
    guess = target.copy()
    ok = np.isfinite(target).all(axis=1) & (target[:, 0] > 0) & (np.hypot(target[:, 1], target[:, 2]) < 1)
    rs = np.full((n_obj, 3), np.nan)
    for _ in range(iterations):
        sats, good = _satrecs(guess, epoch_days, bstar)
        err, rr, vv = SatrecArray(sats).sgp4(jd, fr)
        good &= err[:, 0] == 0
        rs = rr[:, 0, :]
        cur = _to_equinoctial(rv_to_kepler(rs, vv[:, 0, :]))
        delta = target - cur
        delta[:, 5] = (delta[:, 5] + np.pi) % (2 * np.pi) - np.pi
        good &= np.isfinite(delta).all(axis=1)
        guess = np.where(good[:, None], guess + delta, guess)
        ok &= good
    sats, good = _satrecs(guess, epoch_days, bstar)
    err, rr, _vv = SatrecArray(sats).sgp4(jd, fr)
    ok &= good & (err[:, 0] == 0)
    pos_err = np.linalg.norm(rr[:, 0, :] - r, axis=1)
    k = _from_equinoctial(guess)
    ok &= np.isfinite(pos_err) & (pos_err < 1.0)
    return MeanFit(ok=ok, mean_motion=np.sqrt(MU_WGS72 / np.abs(k["a"]) ** 3) * 86400.0 / (2 * np.pi),
                   eccentricity=k["e"], inclination=np.degrees(k["i"]), raan=np.degrees(k["raan"]),
                   arg_perigee=np.degrees(k["argp"]), mean_anomaly=np.degrees(k["M"]),
                   position_error_km=pos_err)


def apsides_km(mean_motion_rev_day: np.ndarray, eccentricity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Perigee and apogee altitude (km above the WGS-72 equatorial radius) from mean elements."""
    n = np.asarray(mean_motion_rev_day) * 2 * np.pi / 86400.0
    a = (MU_WGS72 / n ** 2) ** (1.0 / 3.0)
    e = np.asarray(eccentricity)
    return a * (1 - e) - RE_WGS72, a * (1 + e) - RE_WGS72
