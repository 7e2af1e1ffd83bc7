"""Cubic Hermite interpolation of SGP4 trajectories between knots, with an error bound.

Between two knots ``t0`` and ``t1 = t0 + h`` holding SGP4 positions and velocities, the cubic Hermite
polynomial ``p`` matches position and velocity at both ends. The classical remainder theorem for
Hermite interpolation gives, for every ``t`` in the interval,

    |x_k(t) - p_k(t)| <= max|x_k''''| / 4! * (t - t0)^2 (t - t1)^2 <= max|x_k''''| * h^4 / 384

for each Cartesian component ``k`` (the remainder's intermediate point differs per component), so for
the position vector ``|x - p| <= sqrt(3) * max|x''''| * h^4 / 384``.

For Keplerian motion the fourth derivative follows from the f-and-g series (Danby, *Fundamentals
of Celestial Mechanics*, §6.9): with ``u = mu/r^3``, ``p = r.v/r^2`` and ``q = v.v/r^2 - u``,

    x'''' = u (u - 15 p^2 + 3 q) r + 6 u p v.

:func:`max_fourth_derivative` maximises its magnitude over the whole ellipse (perigee dominates);
SGP4 adds J2 and drag to Kepler motion, which change ``x''''`` by ~0.2 % in LEO, so the bound carries a
safety factor of 1.25 (the tests check bound vs SGP4 at random times in LEO, MEO, GEO and HEO).

SGP4 is not smooth everywhere. SDP4 (periods >= 225 min) switches its lunar-solar periodic terms to
the Lyddane form when the perturbed inclination drops below 0.2 rad: near 11.46 degrees, and for
near-equatorial GEO objects, the trajectory jumps by metres to kilometres (6.6 km seen in the 2023
catalogue). No polynomial bound can cover a jump, so :func:`build_knots` also evaluates every
deep-space object at each interval's midpoint and adds three times the largest midpoint deviation
to that object's bound (a jump anywhere in an interval shows at the midpoint as at least about half
its size). Near-Earth SGP4 has no such switch and keeps the analytic bound.

Knot steps are chosen per object from the bound: a circular LEO orbit at 7,000 km is bounded by
~0.6 km at 300 s and ~9 km at 600 s; GEO by ~1 m at 1,200 s; HEO needs short steps near perigee, so the
whole orbit gets them (uniform steps keep the evaluation a single array operation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec, SatrecArray

from orbitwatch.kernels.propagation import unix_of_jd

MU_KM3_S2 = 398600.8  # WGS-72, the constant SGP4 uses
EARTH_RADIUS_KM = 6378.135  # WGS-72
_JD_UNIX0 = 2440587.5
#: SGP4 switches to deep-space (SDP4) theory at periods of 225 minutes and above.
DEEP_SPACE_PERIOD_MIN = 225.0
#: Factor on the Keplerian bound covering J2/drag departures of SGP4 from two-body motion.
SAFETY = 1.25
_SQRT3 = 3.0 ** 0.5


def max_fourth_derivative(a_km: np.ndarray, e: np.ndarray, *, samples: int = 97) -> np.ndarray:
    """Largest |x''''| (km/s^4) on a Keplerian ellipse of semi-major axis ``a_km`` and eccentricity ``e``.

    Sampled in true anomaly (the function is smooth in it); 2 % is added for the sampling.
    """
    a = np.asarray(a_km, dtype=np.float64)[..., None]
    ecc = np.clip(np.asarray(e, dtype=np.float64), 0.0, 0.999)[..., None]
    nu = np.linspace(0.0, np.pi, samples)  # symmetric about the apsides
    semi_latus = a * (1.0 - ecc ** 2)
    r = semi_latus / (1.0 + ecc * np.cos(nu))
    k = np.sqrt(MU_KM3_S2 / semi_latus)
    vr = k * ecc * np.sin(nu)
    vt = k * (1.0 + ecc * np.cos(nu))
    u = MU_KM3_S2 / r ** 3
    p = vr / r
    q = (vr ** 2 + vt ** 2) / r ** 2 - u
    f4 = u * (u - 15.0 * p ** 2 + 3.0 * q)
    radial = f4 * r + 6.0 * u * p * vr
    along = 6.0 * u * p * vt
    return 1.02 * np.sqrt(radial ** 2 + along ** 2).max(axis=-1)


def hermite_bound_km(a_km: np.ndarray, e: np.ndarray, step_s: np.ndarray | float) -> np.ndarray:
    """Upper bound (km) of the cubic Hermite interpolation error for knots ``step_s`` apart."""
    return _SQRT3 * SAFETY * max_fourth_derivative(a_km, e) * np.asarray(step_s, dtype=np.float64) ** 4 / 384.0


def knot_steps(a_km: np.ndarray, e: np.ndarray, *, tolerance_km: float, base_s: float,
               min_s: float = 7.5) -> np.ndarray:
    """Per-object knot step: ``base_s / 2**k``, the largest whose error bound is within ``tolerance_km``.

    Objects that would need less than ``min_s`` get ``min_s`` (their bound is then larger than the
    tolerance; callers read it from :func:`hermite_bound_km` and pad by it).
    """
    m4 = _SQRT3 * SAFETY * max_fourth_derivative(a_km, e)
    wanted = (tolerance_km * 384.0 / np.maximum(m4, 1e-300)) ** 0.25
    k = np.ceil(np.log2(np.maximum(base_s / wanted, 1.0)))
    return np.maximum(base_s / 2.0 ** k, min_s)


def hermite(r0: np.ndarray, v0: np.ndarray, r1: np.ndarray, v1: np.ndarray, h: np.ndarray | float,
            s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity at fraction ``s`` in [0, 1] of an interval of ``h`` seconds (broadcasting)."""
    s = np.asarray(s)[..., None]
    h = np.asarray(h)[..., None]
    s2, s3 = s * s, s * s * s
    h00 = 2 * s3 - 3 * s2 + 1
    h10 = s3 - 2 * s2 + s
    h01 = -2 * s3 + 3 * s2
    h11 = s3 - s2
    pos = h00 * r0 + h10 * h * v0 + h01 * r1 + h11 * h * v1
    d00 = 6 * s2 - 6 * s
    d10 = 3 * s2 - 4 * s + 1
    d01 = -d00
    d11 = 3 * s2 - 2 * s
    vel = (d00 * r0 + d01 * r1) / h + d10 * v0 + d11 * v1
    return pos, vel


@dataclass
class KnotTable:
    """SGP4 knots of many objects, each on its own uniform grid, in one flat array.

    Object ``i`` has knots at ``t0 + j * step[i]`` for ``j = 0 .. count[i]-1`` stored at rows
    ``offset[i] + j`` of ``r``/``v`` (TEME km, km/s; NaN where SGP4 failed). ``t0`` is UTC seconds
    since 1970; ``bound`` is each object's interpolation error bound in km.
    """

    t0: float
    step: np.ndarray
    offset: np.ndarray
    count: np.ndarray
    r: np.ndarray
    v: np.ndarray
    bound: np.ndarray

    def states(self, idx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated states of objects ``idx`` at UTC seconds ``t`` (paired element-wise)."""
        idx = np.asarray(idx)
        x = (np.asarray(t, dtype=np.float64) - self.t0) / self.step[idx]
        j = np.clip(np.floor(x).astype(np.int64), 0, self.count[idx] - 2)
        s = x - j
        row = self.offset[idx] + j
        return hermite(self.r[row], self.v[row], self.r[row + 1], self.v[row + 1], self.step[idx], s)


@dataclass
class KnotSet(KnotTable):
    """A :class:`KnotTable` plus SGP4's error code at every knot (0 = fine)."""

    err: np.ndarray = None  # type: ignore[assignment]

    def first_failure(self) -> np.ndarray:
        """UTC seconds of each object's first failed knot, +inf where none failed."""
        out = np.full(len(self.step), np.inf)
        bad = np.flatnonzero(self.err != 0)
        if len(bad):
            obj = np.searchsorted(self.offset, bad, side="right") - 1
            t = self.t0 + (bad - self.offset[obj]) * self.step[obj]
            np.minimum.at(out, obj, t)
        return out


#: Knot step (s) of objects a run only watches for SGP4 failures (``build_knots(only=...)``).
COARSE_S = 3600.0

#: Error code given to states SGP4 returned without complaint but which cannot be an orbit: below the
#: Earth's surface, beyond 500,000 km, or faster than 12 km/s (e.g. a long-decayed object's old TLE).
IMPLAUSIBLE = 7


def plan_steps(sats: Sequence[Satrec], *, tolerance_km: float = 5.0, base_s: float = 1920.0,
               min_s: float = 7.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-object knot step (s) and analytic Hermite bound (km) for a catalogue (see :func:`knot_steps`)."""
    a = np.array([s.a for s in sats], dtype=np.float64) * EARTH_RADIUS_KM
    e = np.array([s.ecco for s in sats], dtype=np.float64)
    if not len(a):
        return np.zeros(0), np.zeros(0)
    m4 = _SQRT3 * SAFETY * max_fourth_derivative(a, e)
    wanted = (tolerance_km * 384.0 / np.maximum(m4, 1e-300)) ** 0.25
    k = np.ceil(np.log2(np.maximum(base_s / wanted, 1.0)))
    steps = np.maximum(base_s / 2.0 ** k, min_s)
    return steps, m4 * steps ** 4 / 384.0


def radial_accel_bound(sats: Sequence[Satrec], steps: np.ndarray, bounds: np.ndarray,
                       analytic: np.ndarray | None = None) -> np.ndarray:
    """Per-object bound (km/s^2) on |d^2 rho/dt^2|, rho = |p(t)|, for the Hermite interpolant p of SGP4.

    Kepler motion gives rho'' = (mu/rho^2) e cos(nu), largest at perigee: mu e / (a (1-e))^2. The
    interpolant departs from it by its acceleration error (cubic Hermite: |p'' - x''| <= M4 h^2 / 12),
    its velocity error (M4 h^3 sqrt(3) / 216, entering as 2 v dv / rho) and SGP4's J2 and drag terms
    (< 5e-5 km/s^2 above 100 km). A deep-space object whose bound carries a measured SDP4 jump ``J``
    (``bounds`` above the analytic value) gets 6 J / h^2, the curvature a cubic needs to absorb it.
    The sum is doubled: the screener only needs a bound, and a loose one costs almost nothing because
    it enters as B (h/2)^2 / 2 with sample intervals h of tens of seconds.

    ``analytic``: the jump-free part from an earlier call with the same ``steps`` (it is the costly part:
    a run computes it once and adds each time slice's measured jumps).
    """
    if not len(sats):
        return np.zeros(0)
    a = np.array([s.a for s in sats], dtype=np.float64) * EARTH_RADIUS_KM
    e = np.clip(np.array([s.ecco for s in sats], dtype=np.float64), 0.0, 0.999)
    steps = np.asarray(steps, dtype=np.float64)
    m4 = _SQRT3 * SAFETY * max_fourth_derivative(a, e)
    jump = np.maximum(np.asarray(bounds, dtype=np.float64) - m4 * steps ** 4 / 384.0, 0.0)
    if analytic is None:
        rp = np.maximum(a * (1.0 - e), EARTH_RADIUS_KM)
        vp = np.sqrt(MU_KM3_S2 * (1.0 + e) / rp)
        kepler = MU_KM3_S2 * e / rp ** 2
        acc_err = m4 * steps ** 2 / 12.0
        vel_err = m4 * steps ** 3 * _SQRT3 / 216.0
        analytic = 2.0 * (kepler + acc_err + 2.0 * vp * vel_err / rp + 5e-5)
    return analytic + 2.0 * 6.0 * jump / steps ** 2


def radial_accel_with_jumps(analytic: np.ndarray, steps: np.ndarray, analytic_bounds: np.ndarray,
                            bounds: np.ndarray) -> np.ndarray:
    """:func:`radial_accel_bound` from its jump-free part: adds ``6 J / h^2`` (doubled) for the SDP4 jumps
    ``J = bounds - analytic_bounds`` that :func:`build_knots` measured in one time slice."""
    jump = np.maximum(np.asarray(bounds, dtype=np.float64) - np.asarray(analytic_bounds, dtype=np.float64), 0.0)
    return np.asarray(analytic, dtype=np.float64) + 12.0 * jump / np.asarray(steps, dtype=np.float64) ** 2


def lateral_accel_error(steps: np.ndarray, analytic_bounds: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per-object bound (km/s^2) on |p''(t) - g(p(t))|: how far the Hermite interpolant ``p`` of SGP4
    accelerates unlike point-mass gravity ``g`` at its own position.

    The sum of: the interpolant's acceleration error |p'' - x''| <= M4 h^2 / 12 = 32 B / h^2, with ``B``
    the object's whole interpolation bound for its knot step ``h`` (``bounds``: the Hermite bound
    M4 h^4 / 384 raised by what :func:`build_knots` measured, because the Keplerian M4 underestimates
    some orbits - a Molniya with a 183 km perigee was seen at three times it); SGP4's own departures from
    point-mass gravity (J2 up to 5e-5 km/s^2 above the surface; up to 9e-5 was seen at a 183 km perigee
    with drag: 2.5e-4 is allowed); gravity's change over the interpolation error, ``G B``; and, for an
    SDP4 jump ``J`` (``bounds`` above ``analytic_bounds``), the 6 J / h^2 a cubic needs to absorb it.
    Doubled, as :func:`radial_accel_bound` is: the sweep's pad grows only as this times (h/2)^2 / 2.
    Checked against SGP4 for LEO, eccentric, GEO and low-perigee objects in the tests.
    """
    steps = np.asarray(steps, dtype=np.float64)
    bounds = np.asarray(bounds, dtype=np.float64)
    jump = np.maximum(bounds - np.asarray(analytic_bounds, dtype=np.float64), 0.0)
    gradient = 1.1 * 2.0 * MU_KM3_S2 / EARTH_RADIUS_KM ** 3
    return 2.0 * (32.0 * bounds / steps ** 2 + 2.5e-4 + gradient * bounds) + 12.0 * jump / steps ** 2


def build_knots(sats: Sequence[Satrec], t0: float, t1: float, *, tolerance_km: float = 5.0,
                base_s: float = 1920.0, min_s: float = 7.5,
                plan: tuple[np.ndarray, np.ndarray] | None = None, only: np.ndarray | None = None) -> KnotSet:
    """SGP4 knots of every object over ``[t0, t1]`` (UTC seconds since 1970) with per-object steps.

    Each object's step is the largest ``base_s / 2**k`` whose error bound is within ``tolerance_km``;
    objects are propagated in groups of equal step with ``SatrecArray``. The returned bound (km) is
    the analytic Hermite bound, plus the measured midpoint allowance for deep-space objects.
    ``only`` (boolean mask): objects outside it get hourly knots only, enough to see when SGP4 fails
    for them (decay) but not to interpolate (a screening run whose roles leave most of the catalogue
    out).
    """
    n = len(sats)
    period_min = 2.0 * np.pi / np.maximum(np.array([s.no_kozai for s in sats], dtype=np.float64), 1e-12)
    steps, bound = plan if plan is not None else plan_steps(sats, tolerance_km=tolerance_km, base_s=base_s,
                                                            min_s=min_s)
    bound = np.array(bound, dtype=np.float64, copy=True)
    span = max(t1 - t0, 0.0)
    if only is not None:
        steps = np.where(np.asarray(only, dtype=bool), steps, np.maximum(steps, COARSE_S))
    count = (np.ceil(span / steps).astype(np.int64) + 1).clip(min=2)
    offset = np.zeros(n, dtype=np.int64)
    offset[1:] = np.cumsum(count)[:-1]
    total = int(count.sum()) if n else 0
    r = np.empty((total, 3))
    v = np.empty((total, 3))
    err = np.zeros(total, dtype=np.uint8)
    jd0 = np.floor(t0 / 86400.0) + _JD_UNIX0
    fr0 = (t0 - (jd0 - _JD_UNIX0) * 86400.0) / 86400.0
    watched_only = np.zeros(n, dtype=bool) if only is None else ~np.asarray(only, dtype=bool)
    for step in np.unique(steps):
        members = np.flatnonzero(steps == step)
        m = int(count[members[0]])
        # Objects only watched for SGP4 failures: hourly knots are never interpolated, so neither the
        # interpolant test below (an hour-long Hermite interval of a LEO orbit is meaningless and would
        # mark every such object implausible) nor the SDP4 jump measurement applies to them.
        coarse = bool(watched_only[members].all())
        fr = fr0 + np.arange(m) * step / 86400.0
        arr = SatrecArray([sats[i] for i in members])
        ee, rr, vv = arr.sgp4(np.full(m, jd0), fr)
        rows = (offset[members][:, None] + np.arange(m)[None, :]).ravel()
        with np.errstate(invalid="ignore"):
            rn = np.sqrt((rr * rr).sum(axis=-1))
            vn = np.sqrt((vv * vv).sum(axis=-1))
            silly = (ee == 0) & ((rn < EARTH_RADIUS_KM) | (rn > 5e5) | (vn > 12.0) | ~np.isfinite(rn))
        ee[silly] = IMPLAUSIBLE
        if m > 1 and not coarse:
            # SGP4 can return orbit-like but mutually inconsistent states for objects whose drag terms
            # have run away (a decayed object's month-old TLE): the interpolant between them then
            # moves at tens of km/s. Such intervals are refused at both ends.
            mp, mv = hermite(rr[:, :-1], vv[:, :-1], rr[:, 1:], vv[:, 1:], step, 0.5)
            with np.errstate(invalid="ignore"):
                mr = np.sqrt((mp * mp).sum(axis=-1))
                ms = np.sqrt((mv * mv).sum(axis=-1))
                wild = (mr < EARTH_RADIUS_KM) | (ms > 12.0)
            wild &= (ee[:, :-1] == 0) & (ee[:, 1:] == 0)
            ee[:, :-1][wild] = IMPLAUSIBLE
            ee[:, 1:][wild] = IMPLAUSIBLE
        bad = ee != 0
        rr[bad] = np.nan
        vv[bad] = np.nan
        r[rows] = rr.reshape(-1, 3)
        v[rows] = vv.reshape(-1, 3)
        err[rows] = ee.ravel()
        deep = period_min[members] >= DEEP_SPACE_PERIOD_MIN
        if deep.any() and not coarse:
            # Jumps of SDP4 (see the module docstring): measure them at every interval's midpoint.
            dm = members[deep]
            em, rm, _ = SatrecArray([sats[i] for i in dm]).sgp4(np.full(m - 1, jd0), fr[:-1] + step / 172800.0)
            k = offset[dm][:, None] + np.arange(m - 1)[None, :]
            mid, _ = hermite(r[k], v[k], r[k + 1], v[k + 1], step, 0.5)
            dev = np.linalg.norm(mid - rm, axis=2)
            dev[(em != 0) | ~np.isfinite(dev)] = 0.0
            bound[dm] += 3.0 * dev.max(axis=1)
    return KnotSet(float(t0), steps, offset, count, r, v, bound, err)


def jd_split(t_unix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds since 1970 to python-sgp4's (whole Julian date, fraction) pair."""
    t = np.asarray(t_unix, dtype=np.float64)
    days = np.floor(t / 86400.0)
    return days + _JD_UNIX0, (t - days * 86400.0) / 86400.0


__all__ = [
    "IMPLAUSIBLE",
    "KnotSet",
    "KnotTable",
    "build_knots",
    "hermite",
    "hermite_bound_km",
    "jd_split",
    "knot_steps",
    "lateral_accel_error",
    "max_fourth_derivative",
    "plan_steps",
    "radial_accel_bound",
    "radial_accel_with_jumps",
    "unix_of_jd",
]
