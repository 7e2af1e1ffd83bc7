"""Reference frames: TEME (SGP4's output) to ITRF and GCRS, and the RTN frame of a primary.

Accuracy (stated as the size of the error in position, for a LEO object at 7,000 km):

* :func:`teme_to_itrf` rotates by Greenwich mean sidereal time (IAU-1982, as SGP4's own TEME is
  defined; Vallado et al. 2006, AIAA 2006-6753, §"TEME"), with UT1 - UTC = ``dut1`` (default 0) and
  polar motion ``xp, yp`` (default 0). With the defaults the error is the Earth's rotation over
  |UT1 - UTC| (< 0.9 s, i.e. < 0.46 km at 7,000 km) plus polar motion (< ~20 m). With true UT1-UTC
  and pole coordinates it reproduces skyfield's TEME_to_ITRF to below 1 mm (tested).
* :func:`teme_to_gcrs` uses skyfield's IAU-2000A precession-nutation for the rotation between the
  true equator/equinox of date and GCRS, and the IAU-1982 GMST / equation of the equinoxes relation
  that defines TEME. It agrees with skyfield's ``EarthSatellite.at(t)`` to below 1 mm (tested); the
  intrinsic ambiguity of TEME itself is at the metre level.
* RTN functions are exact rotations (no approximation beyond floating point).

All functions broadcast over leading axes; positions in km, velocities in km/s.
"""

from __future__ import annotations

import numpy as np

from orbitwatch.kernels.propagation import unix_of_jd  # noqa: F401  (re-exported for convenience)

OMEGA_EARTH = 7.292115146706979e-5  # rad/s, as Vallado's teme2ecef uses
_JD_UNIX0 = 2440587.5


def gmst82(jd_ut1: np.ndarray, fraction: np.ndarray | float = 0.0) -> np.ndarray:
    """Greenwich mean sidereal angle (rad), IAU-1982 (Vallado's ``gstime``), from a split UT1 Julian date."""
    jd_ut1 = np.asarray(jd_ut1, dtype=np.float64)
    fraction = np.asarray(fraction, dtype=np.float64)
    t = ((jd_ut1 - 2451545.0) + fraction) / 36525.0
    g = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t + 0.093104 * t * t - 6.2e-6 * t * t * t
    # The big linear term in seconds of time is split so the fraction keeps its precision.
    return np.mod(np.radians(g / 240.0), 2.0 * np.pi)


def _rot_z(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    z, o = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, o], -1)], -2)


def teme_to_itrf(r: np.ndarray, v: np.ndarray, t_unix: np.ndarray | float, *, dut1: float = 0.0,
                 xp: float = 0.0, yp: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """TEME position/velocity at UTC ``t_unix`` (seconds since 1970) to ITRF (Earth-fixed).

    ``dut1`` is UT1 - UTC in seconds; ``xp``, ``yp`` are the pole coordinates in radians.
    """
    t_ut1 = np.asarray(t_unix, dtype=np.float64) + dut1
    days = np.floor(t_ut1 / 86400.0)
    theta = gmst82(days + _JD_UNIX0, (t_ut1 - days * 86400.0) / 86400.0)
    rz = _rot_z(theta)
    r_pef = np.einsum("...ij,...j->...i", rz, r)
    v_pef = np.einsum("...ij,...j->...i", rz, v) - np.cross([0.0, 0.0, OMEGA_EARTH], r_pef)
    if xp or yp:
        cx, sx, cy, sy = np.cos(xp), np.sin(xp), np.cos(yp), np.sin(yp)
        w = np.array([[cx, 0.0, -sx], [sx * sy, cy, cx * sy], [sx * cy, -sy, cx * cy]])
        r_pef = r_pef @ w
        v_pef = v_pef @ w
    return r_pef, v_pef


def teme_to_gcrs(r: np.ndarray, v: np.ndarray, t_unix: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """TEME to GCRS (inertial, ICRS-aligned) with skyfield's precession-nutation; see module accuracy."""
    from skyfield.api import load
    from skyfield.sgp4lib import TEME

    ts = load.timescale(builtin=True)
    t_unix = np.asarray(t_unix, dtype=np.float64)
    days = np.floor(t_unix / 86400.0)
    # Calendar date first: skyfield's utc() counts leap seconds inside an overflowing seconds field.
    d = days.astype("int64").astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year = month_start.astype("datetime64[Y]").astype(int) + 1970
    month = month_start.astype(int) % 12 + 1
    day = (d - month_start).astype(int) + 1
    t = ts.utc(year, month, day, 0, 0, t_unix - days * 86400.0)
    m = TEME.rotation_at(t)  # GCRS -> TEME, shape (3, 3[, n])
    mt = np.moveaxis(m, (0, 1), (-1, -2)) if m.ndim == 3 else m.T  # TEME -> GCRS, (n, 3, 3) or (3, 3)
    return np.einsum("...ij,...j->...i", mt, r), np.einsum("...ij,...j->...i", mt, v)


# --- RTN ---------------------------------------------------------------------------------------

def rtn_basis(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows R (radial), T (transverse, in-plane, along velocity side), N (orbit normal) of a primary.

    Shape (..., 3, 3); ``basis @ x`` expresses an inertial vector ``x`` in RTN.
    """
    r = np.asarray(r, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    rh = r / np.linalg.norm(r, axis=-1, keepdims=True)
    h = np.cross(r, v)
    nh = h / np.linalg.norm(h, axis=-1, keepdims=True)
    th = np.cross(nh, rh)
    return np.stack([rh, th, nh], axis=-2)


def to_rtn(x: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inertial vector(s) ``x`` (e.g. secondary minus primary position) in the primary's RTN axes."""
    return np.einsum("...ij,...j->...i", rtn_basis(r, v), x)


def from_rtn(x_rtn: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """RTN components back to the inertial frame of ``r``, ``v``."""
    return np.einsum("...ji,...j->...i", rtn_basis(r, v), x_rtn)


def _block(basis: np.ndarray, size: int) -> np.ndarray:
    if size == 3:
        return basis
    out = np.zeros(basis.shape[:-2] + (6, 6))
    out[..., :3, :3] = basis
    out[..., 3:, 3:] = basis
    return out


def cov_to_rtn(cov: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inertial 3x3 or 6x6 covariance to RTN (velocity block rotated alike; frame rotation rate ignored,
    as CDMs do)."""
    b = _block(rtn_basis(r, v), cov.shape[-1])
    return b @ cov @ np.swapaxes(b, -1, -2)


def cov_from_rtn(cov_rtn: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """RTN 3x3 or 6x6 covariance to the inertial frame of ``r``, ``v``."""
    b = _block(rtn_basis(r, v), cov_rtn.shape[-1])
    return np.swapaxes(b, -1, -2) @ cov_rtn @ b
