"""Hermite interpolation of SGP4 trajectories between knots, with an error bound.

Most objects get **quintic** knots: position, velocity and the two-body + J2 acceleration
(:func:`gravity_j2`) at each knot. SGP4's trajectories accelerate like that to ~1e-7 km/s^2 (median over
the 2023 catalogue), so the quintic's error is its remainder ``M6 h^6 / 46080`` plus ``h^2/32`` times the
acceleration departure, measured per object (:func:`accel_model_error`): 0.4 km at 960-s knots in LEO
against 2.7 km for cubic knots at 480 s, with 40 % fewer SGP4 calls (:func:`quintic_bound_km`). The
screener's search is padded by these bounds, so tighter ones mean thinner searches and fewer candidates.
Objects whose acceleration a one-orbit measurement cannot vouch for over a week - strong drag, eccentric
orbits, deep space (:func:`cubic_objects`) - keep **cubic** knots (NaN accelerations mark them), and
:func:`build_knots` checks knots against SGP4 inside their intervals in every time slice.

The cubic case:

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
deep-space object that may jump (:func:`sdp4_may_jump`: inclination below 0.25 rad at epoch) at each
interval's midpoint and adds three times the largest midpoint deviation to that object's bound (a jump
anywhere in an interval shows at the midpoint as at least about half its size). Deep-space objects well
above the switch (GTOs from Cape Canaveral or Baikonur, Molniya orbits: 1,899 of the 2023 catalogue's
4,115) are smooth: a week-long slice-by-slice check of all of them against SGP4 at random times found
errors of at most 0.52 of their bounds without those midpoints. Near-Earth SGP4 has no such switch and
keeps the analytic bound.

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


#: WGS-72 J2 (SGP4's constant): the knots' acceleration model is two-body plus J2.
J2_WGS72 = 0.001082616


def gravity_j2(r: np.ndarray) -> np.ndarray:
    """Two-body plus J2 acceleration (km/s^2) at TEME positions ``r`` (..., 3), WGS-72 constants.

    The acceleration the quintic knots carry. SGP4's trajectories accelerate like this to within
    ~1e-7 km/s^2 (median over the 2023 catalogue; the rest is drag, J3/J4 and the theory's own
    truncation), which :func:`accel_model_error` measures per object."""
    r = np.asarray(r, dtype=np.float64)
    rn2 = (r * r).sum(axis=-1, keepdims=True)
    rn = np.sqrt(rn2)
    z2 = r[..., 2:3] ** 2 / rn2
    k = 1.5 * J2_WGS72 * EARTH_RADIUS_KM ** 2 / rn2
    base = -MU_KM3_S2 / (rn2 * rn)
    out = np.empty_like(r)
    out[..., 0:2] = base * r[..., 0:2] * (1.0 + k * (1.0 - 5.0 * z2))
    out[..., 2:3] = base * r[..., 2:3] * (1.0 + k * (3.0 - 5.0 * z2))
    return out


def max_sixth_derivative(a_km: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Largest |x^(6)| (km/s^6) on a Keplerian ellipse of semi-major axis ``a_km`` and eccentricity ``e``.

    Two-body motion scales as ``|x^(6)| = (mu^3 / a^8) F(e, nu)``, so the maximum over the ellipse is
    ``mu^3 / a^8`` times a function of ``e`` alone, tabulated once (:func:`_by_eccentricity`).
    """
    return _by_eccentricity(_max_sixth_derivative_sampled, 3, 8, a_km, e)


def _max_fourth_tabulated(a_km: np.ndarray, e: np.ndarray) -> np.ndarray:
    """:func:`max_fourth_derivative` (it scales as ``mu^2 / a^5``) from a table in ``e``: a whole catalogue
    in milliseconds instead of a third of a second."""
    return _by_eccentricity(max_fourth_derivative, 2, 5, a_km, e)


_TABLES: dict = {}


def _by_eccentricity(sampled, mu_power: int, a_power: int, a_km: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``sampled(a, e)``, a maximum over the ellipse that scales as ``mu^mu_power / a^a_power``, from a
    table in ``e`` built once on a grid dense towards ``e = 1``. Each object takes the larger of the two
    grid values around its eccentricity (the maximum grows with it, checked when the table is built), so
    the lookup is never below the sampled value."""
    if sampled not in _TABLES:
        grid = np.unique(np.concatenate([np.linspace(0.0, 0.9, 901), 1.0 - np.geomspace(0.1, 0.001, 600)]))
        table = sampled(np.ones_like(grid), grid) / MU_KM3_S2 ** mu_power
        if not (np.diff(table) >= 0).all():  # pragma: no cover - a property of two-body motion
            raise AssertionError("the tabulated maximum must grow with eccentricity")
        _TABLES[sampled] = grid, table
    grid, table = _TABLES[sampled]
    ecc = np.clip(np.asarray(e, dtype=np.float64), 0.0, 0.999)
    k = np.clip(np.searchsorted(grid, ecc), 1, len(grid) - 1)
    return MU_KM3_S2 ** mu_power / np.asarray(a_km, dtype=np.float64) ** a_power * np.maximum(table[k - 1], table[k])


def _max_sixth_derivative_sampled(a_km: np.ndarray, e: np.ndarray, *, samples: int = 97) -> np.ndarray:
    """Largest |x^(6)| on the ellipse, sampled in true anomaly, from the Taylor series of two-body motion.

    At each sampled true anomaly the series coefficients of ``x'' = -mu x / |x|^3`` are generated by
    the usual recurrences (``s = x.x``, ``w = s^(-3/2)`` by the power rule for series); ``x^(6) = 720
    x_6``. Circular orbits give ``n^6 a`` (tested); 2 % is added for the sampling, as for the fourth.
    """
    a = np.asarray(a_km, dtype=np.float64)[..., None]
    ecc = np.clip(np.asarray(e, dtype=np.float64), 0.0, 0.999)[..., None]
    nu = np.linspace(0.0, np.pi, samples)
    semi_latus = a * (1.0 - ecc ** 2)
    r = semi_latus / (1.0 + ecc * np.cos(nu))
    k = np.sqrt(MU_KM3_S2 / semi_latus)
    shape = np.broadcast_shapes(r.shape, nu.shape)
    # perifocal-free frame: radial unit (1, 0), transverse (0, 1)
    x = [np.stack([np.broadcast_to(r, shape), np.zeros(shape)], axis=-1),
         np.stack([np.broadcast_to(k * ecc * np.sin(nu), shape), np.broadcast_to(k * (1.0 + ecc * np.cos(nu)), shape)],
                  axis=-1)]
    ss: list[np.ndarray] = []
    ww: list[np.ndarray] = []
    alpha = -1.5
    for n in range(5):
        ss.append(sum((x[j] * x[n - j]).sum(axis=-1) for j in range(n + 1)))
        if n == 0:
            ww.append(ss[0] ** alpha)
        else:
            ww.append(sum(((alpha + 1.0) * j - n) * ss[j] * ww[n - j] for j in range(1, n + 1)) / (n * ss[0]))
        acc = -MU_KM3_S2 * sum(x[j] * ww[n - j][..., None] for j in range(n + 1))
        x.append(acc / ((n + 1) * (n + 2)))
    return 1.02 * 720.0 * np.sqrt((x[6] ** 2).sum(axis=-1)).max(axis=-1)


def quintic(r0: np.ndarray, v0: np.ndarray, a0: np.ndarray, r1: np.ndarray, v1: np.ndarray, a1: np.ndarray,
            h: np.ndarray | float, s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Quintic Hermite: position and velocity at fraction ``s`` of an interval of ``h`` seconds whose ends
    carry positions, velocities and accelerations (broadcasting as :func:`hermite`). Where an end's
    acceleration is not finite (objects the knots leave cubic, see :func:`build_knots`), the cubic
    Hermite polynomial of the positions and velocities."""
    c0, c1, c2, c3, c4, c5 = quintic_coefficients(r0, v0, a0, r1, v1, a1, np.asarray(h)[..., None])
    s = np.asarray(s)[..., None]
    pos = c0 + s * (c1 + s * (c2 + s * (c3 + s * (c4 + s * c5))))
    vel = (c1 + s * (2.0 * c2 + s * (3.0 * c3 + s * (4.0 * c4 + s * 5.0 * c5)))) / np.asarray(h)[..., None]
    cubic = ~(np.isfinite(a0).all(axis=-1) & np.isfinite(a1).all(axis=-1))
    if cubic.any():
        cp, cv = hermite(r0, v0, r1, v1, h, s[..., 0])
        pos = np.where(cubic[..., None], cp, pos)
        vel = np.where(cubic[..., None], cv, vel)
    return pos, vel


def quintic_coefficients(r0, v0, a0, r1, v1, a1, h):
    """Power-form coefficients in ``s = (t - t0)/h`` of the quintic Hermite polynomial."""
    d0 = v0 * h
    d1 = v1 * h
    e0 = a0 * (h * h)
    e1 = a1 * (h * h)
    dr = r1 - r0
    c3 = 10.0 * dr - 6.0 * d0 - 4.0 * d1 - 1.5 * e0 + 0.5 * e1
    c4 = -15.0 * dr + 8.0 * d0 + 7.0 * d1 + 1.5 * e0 - e1
    c5 = 6.0 * dr - 3.0 * d0 - 3.0 * d1 - 0.5 * e0 + 0.5 * e1
    return r0, d0, 0.5 * e0, c3, c4, c5


def quintic_bound_km(a_km: np.ndarray, e: np.ndarray, step_s: np.ndarray | float,
                     accel_error: np.ndarray | float) -> np.ndarray:
    """Upper bound (km) of the quintic Hermite error for knots ``step_s`` apart whose accelerations are
    within ``accel_error`` (km/s^2) of the trajectory's.

    Two parts: the remainder of exact quintic Hermite interpolation, ``max|x^(6)|/6! (t-t0)^3 (t-t1)^3
    <= M6 h^6 / 46080`` per component (times sqrt(3) and :data:`SAFETY`, as for the cubic), and the
    error of the knot accelerations, which enters through the acceleration basis functions
    ``s^2 (1-s)^3 / 2`` and ``s^3 (1-s)^2 / 2`` (sum at most 1/32): ``h^2 / 32`` times it.
    """
    return _quintic_bound(_SQRT3 * SAFETY * max_sixth_derivative(a_km, e), step_s, accel_error)


def _quintic_bound(m6, step_s, accel_error):
    h = np.asarray(step_s, dtype=np.float64)
    return m6 * h ** 6 / 46080.0 + h * h / 32.0 * np.asarray(accel_error, dtype=np.float64)


#: Safety factor on the measured departure of SGP4's acceleration from two-body + J2, and its floor
#: (km/s^2): sampled over one orbit, it must hold for a week (drag grows as a low orbit decays).
ACCEL_ERROR_SAFETY = 4.0
ACCEL_ERROR_FLOOR = 2e-7
#: Used for objects whose sampling failed everywhere or gave no finite value: short knots.
ACCEL_ERROR_UNKNOWN = 1e-3


def accel_model_error(sats: Sequence[Satrec], t_unix: float | None = None, *, samples: int = 12) -> np.ndarray:
    """Per-object bound (km/s^2) on |x''(t) - gravity_j2(x(t))| for SGP4 trajectories ``x``: the largest
    departure at ``samples`` times spread over one orbit from ``t_unix`` (default: each epoch), by a
    central difference of SGP4 velocities 1 s apart, times :data:`ACCEL_ERROR_SAFETY`, at least
    :data:`ACCEL_ERROR_FLOOR`. Drag and the theory's J2 short-period terms, the main departures, vary
    smoothly around the orbit; the tests check the knot bounds that use this against SGP4 over a week.
    """
    n = len(sats)
    if not n:
        return np.zeros(0)
    period = 2.0 * np.pi * 60.0 / np.maximum(np.array([s.no_kozai for s in sats], dtype=np.float64), 1e-12)
    if t_unix is None:
        t_ref = np.array([(s.jdsatepoch - _JD_UNIX0) * 86400.0 + s.jdsatepochF * 86400.0 for s in sats])
    else:
        t_ref = np.full(n, float(t_unix))
    out = np.full(n, ACCEL_ERROR_UNKNOWN)
    phase = (np.arange(samples) + 0.5) / samples
    # Objects in groups of one start time and periods within 10 %: each group is evaluated at once
    # (SatrecArray) over the longest period in it, so every member is sampled over one to 1.1 orbits.
    pbin = np.floor(np.log(np.maximum(period, 1.0)) / np.log(1.1)).astype(np.int64)
    keys = np.stack([pbin, np.round(t_ref).astype(np.int64)], axis=1)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    for g in range(int(group.max()) + 1):
        idx = np.flatnonzero(group == g)
        t = t_ref[idx[0]] + period[idx].max() * phase
        jd = np.floor(t / 86400.0) + _JD_UNIX0
        fr = (t - (jd - _JD_UNIX0) * 86400.0) / 86400.0
        arr = SatrecArray([sats[i] for i in idx])
        e_m, r_m, v_m = arr.sgp4(jd, fr - 0.5 / 86400.0)
        e_p, r_p, v_p = arr.sgp4(jd, fr + 0.5 / 86400.0)
        bad = (e_m != 0) | (e_p != 0)
        with np.errstate(invalid="ignore", over="ignore"):
            dev = np.sqrt(((v_p - v_m - gravity_j2(0.5 * (r_m + r_p))) ** 2).sum(axis=-1))
        dev[bad] = 0.0  # failed samples: an object SGP4 gives up on (decay) is not interpolated from there on
        dev[~np.isfinite(dev)] = np.inf
        worst = dev.max(axis=1)
        ok = ~bad.all(axis=1) & np.isfinite(worst)
        out[idx[ok]] = np.maximum(ACCEL_ERROR_SAFETY * worst[ok], ACCEL_ERROR_FLOOR)
    return out


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
    #: accelerations at the knots (km/s^2, :func:`gravity_j2`): quintic interpolation; None: cubic
    a: np.ndarray | None = None

    def states(self, idx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated states of objects ``idx`` at UTC seconds ``t`` (paired element-wise)."""
        idx = np.asarray(idx)
        x = (np.asarray(t, dtype=np.float64) - self.t0) / self.step[idx]
        j = np.clip(np.floor(x).astype(np.int64), 0, self.count[idx] - 2)
        s = x - j
        row = self.offset[idx] + j
        if self.a is not None:
            return quintic(self.r[row], self.v[row], self.a[row], self.r[row + 1], self.v[row + 1], self.a[row + 1],
                           self.step[idx], s)
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
            by_row = np.argsort(self.offset, kind="stable")  # objects' rows need not follow their order
            obj = by_row[np.searchsorted(self.offset[by_row], bad, side="right") - 1]
            t = self.t0 + (bad - self.offset[obj]) * self.step[obj]
            np.minimum.at(out, obj, t)
        return out


#: Knot step (s) of objects a run only watches for SGP4 failures (``build_knots(only=...)``).
COARSE_S = 3600.0

#: Error code given to states SGP4 returned without complaint but which cannot be an orbit: below the
#: Earth's surface, beyond 500,000 km, or faster than 12 km/s (e.g. a long-decayed object's old TLE).
IMPLAUSIBLE = 7


def plan_steps(sats: Sequence[Satrec], *, tolerance_km: float = 5.0, base_s: float = 1920.0,
               min_s: float = 7.5, t_unix: float | None = None, accel_error: np.ndarray | None = None,
               cubic_tolerance_km: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-object knot step (s) and analytic Hermite bound (km) for a catalogue: the largest
    ``base_s / 2**k`` whose bound is within ``tolerance_km`` (at least ``min_s``) - :func:`quintic_bound_km`,
    or :func:`hermite_bound_km` for :func:`cubic_objects`. ``accel_error``: per-object
    :func:`accel_model_error` (measured from ``t_unix`` when not given); ``cubic_tolerance_km``: a separate
    tolerance for the cubic objects (default ``tolerance_km``), whose bounds fall only as h^4 and whose
    knots are all checked against SGP4 (:func:`build_knots`), so that tight ones cost four times over."""
    a = np.array([s.a for s in sats], dtype=np.float64) * EARTH_RADIUS_KM
    e = np.array([s.ecco for s in sats], dtype=np.float64)
    if not len(a):
        return np.zeros(0), np.zeros(0)
    cubic = cubic_objects(sats)
    if accel_error is None:
        accel_error = np.zeros(len(a))
        quint = np.flatnonzero(~cubic)
        accel_error[quint] = accel_model_error([sats[i] for i in quint], t_unix)
    m6 = _SQRT3 * SAFETY * max_sixth_derivative(a, e)
    m4 = _SQRT3 * SAFETY * _max_fourth_tabulated(a, e)
    tol_cubic = tolerance_km if cubic_tolerance_km is None else cubic_tolerance_km
    steps = np.full(len(a), base_s)
    while True:
        bound = np.where(cubic, m4 * steps ** 4 / 384.0, _quintic_bound(m6, steps, accel_error))
        shrink = (bound > np.where(cubic, tol_cubic, tolerance_km)) & (steps / 2.0 >= min_s)
        if not shrink.any():
            return steps, bound
        steps = np.where(shrink, steps / 2.0, steps)


#: An interpolant's acceleration and velocity errors in terms of its position bound ``B`` and knot step
#: ``h``: ``|p'' - x''| <= ACC_OF_BOUND B / h^2`` and ``|p' - x'| <= VEL_OF_BOUND B / h``. For the quintic
#: remainder ``C (s (1-s))^3``, the first and second derivatives peak at 3.1 and 24 times its peak, and the
#: acceleration-basis part at 16 and 32 times; the constants double the larger (the tests check both
#: against SGP4).
ACC_OF_BOUND = 64.0
VEL_OF_BOUND = 8.0


def radial_accel_bound(sats: Sequence[Satrec], steps: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per-object bound (km/s^2) on |d^2 rho/dt^2|, rho = |p(t)|, for the Hermite interpolant p of SGP4.

    Kepler motion gives rho'' = (mu/rho^2) e cos(nu), largest at perigee: mu e / (a (1-e))^2. The
    interpolant departs from it by its acceleration error (``ACC_OF_BOUND B / h^2`` for a position bound
    ``B``, which includes any measured SDP4 jump), its velocity error (``VEL_OF_BOUND B / h``, entering
    as 2 v dv / rho <= 2 (11 km/s / R_E) dv) and SGP4's J2 and drag terms (< 5e-5 km/s^2 above 100 km).
    The sum is doubled: the screener only needs a bound, and a loose one costs almost nothing because
    it enters as B (h/2)^2 / 2 with sample intervals h of tens of seconds.
    """
    if not len(sats):
        return np.zeros(0)
    a = np.array([s.a for s in sats], dtype=np.float64) * EARTH_RADIUS_KM
    e = np.clip(np.array([s.ecco for s in sats], dtype=np.float64), 0.0, 0.999)
    rp = np.maximum(a * (1.0 - e), EARTH_RADIUS_KM)
    kepler = MU_KM3_S2 * e / rp ** 2
    return 2.0 * (kepler + 5e-5) + _interpolation_radial_accel(steps, bounds)


def _interpolation_radial_accel(steps: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    h = np.asarray(steps, dtype=np.float64)
    b = np.asarray(bounds, dtype=np.float64)
    return 2.0 * (ACC_OF_BOUND * b / h ** 2 + 2.0 * 11.0 / EARTH_RADIUS_KM * VEL_OF_BOUND * b / h)


def radial_accel_with_jumps(analytic: np.ndarray, steps: np.ndarray, analytic_bounds: np.ndarray,
                            bounds: np.ndarray) -> np.ndarray:
    """:func:`radial_accel_bound` for ``bounds`` from the one for ``analytic_bounds`` (the costly part: a run
    computes it once and adds each time slice's measured SDP4 jumps)."""
    jump = np.maximum(np.asarray(bounds, dtype=np.float64) - np.asarray(analytic_bounds, dtype=np.float64), 0.0)
    return np.asarray(analytic, dtype=np.float64) + _interpolation_radial_accel(steps, jump)


def lateral_accel_error(steps: np.ndarray, analytic_bounds: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per-object bound (km/s^2) on |p''(t) - g(p(t))|: how far the Hermite interpolant ``p`` of SGP4
    accelerates unlike point-mass gravity ``g`` at its own position.

    The sum of: the interpolant's acceleration error ``ACC_OF_BOUND B / h^2``, with ``B`` the object's
    whole interpolation bound for its knot step ``h`` (``bounds``: the analytic bound raised by what
    :func:`build_knots` measured); SGP4's own departures from point-mass gravity (J2 up to 5e-5 km/s^2
    above the surface; up to 9e-5 was seen at a 183 km perigee with drag: 2.5e-4 is allowed); gravity's
    change over the interpolation error, ``G B``; and, for an SDP4 jump ``J`` (``bounds`` above
    ``analytic_bounds``), the 6 J / h^2 a polynomial needs to absorb it. Doubled, as
    :func:`radial_accel_bound` is: the sweep's pad grows only as this times (h/2)^2 / 2.
    Checked against SGP4 for LEO, eccentric, GEO and low-perigee objects in the tests.
    """
    steps = np.asarray(steps, dtype=np.float64)
    bounds = np.asarray(bounds, dtype=np.float64)
    jump = np.maximum(bounds - np.asarray(analytic_bounds, dtype=np.float64), 0.0)
    gradient = 1.1 * 2.0 * MU_KM3_S2 / EARTH_RADIUS_KM ** 3
    return 2.0 * (ACC_OF_BOUND * bounds / steps ** 2 + 2.5e-4 + gradient * bounds) + 12.0 * jump / steps ** 2


def build_knots(sats: Sequence[Satrec], t0: float, t1: float, *, tolerance_km: float = 5.0,
                base_s: float = 1920.0, min_s: float = 7.5,
                plan: tuple[np.ndarray, np.ndarray] | None = None, only: np.ndarray | None = None,
                cache: dict | None = None) -> KnotSet:
    """SGP4 knots of every object over ``[t0, t1]`` (UTC seconds since 1970) with per-object steps.

    Each object's step is the largest ``base_s / 2**k`` whose error bound is within ``tolerance_km``;
    objects are propagated in groups of equal step with ``SatrecArray``. The returned bound (km) is
    the analytic Hermite bound, plus the measured midpoint allowance for deep-space objects.
    ``only`` (boolean mask): objects outside it get hourly knots only, enough to see when SGP4 fails
    for them (decay) but not to interpolate (a screening run whose roles leave most of the catalogue
    out). ``cache``: a dict the caller keeps for one catalogue across calls (per-object constants and the
    ``SatrecArray`` of each group; a week's screening makes 84 calls).
    """
    n = len(sats)
    cache = {} if cache is None else cache
    if "hard" not in cache:
        cache["hard"] = cubic_objects(sats)
        cache["jumps"] = sdp4_may_jump(sats)

    def array_of(idx: np.ndarray) -> SatrecArray:
        key = ("array", idx.tobytes())
        if key not in cache:
            cache[key] = SatrecArray([sats[i] for i in idx])
        return cache[key]

    steps, bound = plan if plan is not None else plan_steps(sats, tolerance_km=tolerance_km, base_s=base_s,
                                                            min_s=min_s, t_unix=t0)
    bound = np.array(bound, dtype=np.float64, copy=True)
    span = max(t1 - t0, 0.0)
    if only is not None:
        steps = np.where(np.asarray(only, dtype=bool), steps, np.maximum(steps, COARSE_S))
    count = (np.ceil(span / steps).astype(np.int64) + 1).clip(min=2)
    # Rows laid out group by group (objects of equal step together), so that each group's SGP4 output is
    # one contiguous copy into the table.
    order = np.argsort(steps, kind="stable")
    offset = np.zeros(n, dtype=np.int64)
    if n:
        offset[order] = np.concatenate([[0], np.cumsum(count[order])[:-1]])
    total = int(count.sum()) if n else 0
    r = np.empty((total, 3))
    v = np.empty((total, 3))
    acc = np.empty((total, 3))
    err = np.zeros(total, dtype=np.uint8)
    jd0 = np.floor(t0 / 86400.0) + _JD_UNIX0
    fr0 = (t0 - (jd0 - _JD_UNIX0) * 86400.0) / 86400.0
    watched_only = np.zeros(n, dtype=bool) if only is None else ~np.asarray(only, dtype=bool)
    hard = cache["hard"]
    for step in np.unique(steps):
        members = order[steps[order] == step]
        m = int(count[members[0]])
        g0 = int(offset[members[0]])
        g1 = g0 + m * len(members)
        # Objects only watched for SGP4 failures: hourly knots are never interpolated, so neither the
        # interpolant test below (an hour-long Hermite interval of a LEO orbit is meaningless and would
        # mark every such object implausible) nor the SDP4 jump measurement applies to them.
        coarse = bool(watched_only[members].all())
        fr = fr0 + np.arange(m) * step / 86400.0
        ee, rr, vv = array_of(members).sgp4(np.full(m, jd0), fr)
        with np.errstate(invalid="ignore"):
            rn = np.sqrt((rr * rr).sum(axis=-1))
            vn = np.sqrt((vv * vv).sum(axis=-1))
            silly = (ee == 0) & ((rn < EARTH_RADIUS_KM) | (rn > 5e5) | (vn > 12.0) | ~np.isfinite(rn))
        ee[silly] = IMPLAUSIBLE
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            aa = gravity_j2(rr)
        aa[hard[members]] = np.nan  # cubic knots (cubic_objects)
        if m > 1 and not coarse:
            # SGP4 can return orbit-like but mutually inconsistent states for objects whose drag terms
            # have run away (a decayed object's month-old TLE): the interpolant between them then
            # moves at tens of km/s. Such intervals are refused at both ends.
            mp, mv = hermite(rr[:, :-1], vv[:, :-1], rr[:, 1:], vv[:, 1:], step, 0.5)  # cubic is enough to see it
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
        aa[bad] = np.nan
        r[g0:g1] = rr.reshape(-1, 3)
        v[g0:g1] = vv.reshape(-1, 3)
        acc[g0:g1] = aa.reshape(-1, 3)
        err[g0:g1] = ee.ravel()
        deep = cache["jumps"][members]
        if coarse or m < 2:
            continue
        # Measured checks: SGP4 against the interpolant inside intervals, the bound raised to three times
        # what is seen. Deep-space objects that may jump (sdp4_may_jump): every interval's midpoint, added
        # to the bound (SDP4 jumps, module docstring), and s = 3/4 as below. Others at s = 3/4 of the
        # interval, not the midpoint: SGP4's velocities are not quite the derivative of its positions
        # where drag is strong (the terms in (t - epoch)^2 and up), and equal velocity errors at both
        # ends give an interpolation error
        # s (1-s) (1-2s), nil at the midpoint and largest near 0.21 and 0.79 (seen: 0.76 km there with
        # 0.2 km at the midpoint, B* 0.018, a week after epoch); at 3/4 it shows at 97 % of its peak, and
        # a smooth error (s (1-s))^2 or ^3 at 56 % or 42 % of its. Objects that keep cubic knots (strong
        # drag, eccentric) are checked at every interval, the others at their slice's middle interval
        # (the bound they were planned with rests on an acceleration departure measured at the window's
        # start; drag grows from there).
        q = (m - 1) // 2
        checks = ((members[deep], np.arange(m - 1), 0.5),
                  (members[hard[members]], np.arange(m - 1), 0.75),
                  (members[~deep & ~hard[members]], np.array([q]), 0.75))
        for sel, intervals, frac in checks:
            if not len(sel):
                continue
            em, rm, _ = array_of(sel).sgp4(np.full(len(intervals), jd0), fr[intervals] + frac * step / 86400.0)
            k = offset[sel][:, None] + intervals[None, :]
            mid, _ = quintic(r[k], v[k], acc[k], r[k + 1], v[k + 1], acc[k + 1], step, frac)
            dev = np.linalg.norm(mid - rm, axis=2)
            dev[(em != 0) | ~np.isfinite(dev)] = 0.0
            worst = 3.0 * dev.max(axis=1)
            bound[sel] = bound[sel] + worst if frac == 0.5 else np.maximum(bound[sel], worst)
        # An object SGP4 moves so unsmoothly that no knot table follows it within MAX_BOUND_KM (a decayed
        # object's drag terms running away: 148,000 km was seen) is no orbit in this slice: refused as
        # IMPLAUSIBLE (flagged, never interpolated), rather than given a bound that would widen the search
        # of everyone it could meet.
        wild_obj = members[bound[members] > MAX_BOUND_KM]
        if len(wild_obj):
            rows_w = np.concatenate([np.arange(offset[i], offset[i] + count[i]) for i in wild_obj])
            err[rows_w] = np.where(err[rows_w] == 0, IMPLAUSIBLE, err[rows_w])
            r[rows_w] = np.nan
            v[rows_w] = np.nan
            acc[rows_w] = np.nan
            bound[wild_obj] = 0.0  # never interpolated: no pad for anyone
    return KnotSet(float(t0), steps, offset, count, r, v, bound, a=acc, err=err)


#: SDP4 objects whose inclination at epoch is at least this (rad) stay on the direct side of the Lyddane
#: switch at 0.2 rad: their lunar-solar periodic terms move the inclination by well under the 2.9 degree
#: margin in a week, so they have no jumps to measure.
LYDDANE_CLEAR_RAD = 0.25


def sdp4_may_jump(sats: Sequence[Satrec]) -> np.ndarray:
    """Which objects SDP4 may move discontinuously (module docstring): deep space (period >= 225 min)
    with an inclination near or below the Lyddane switch at 0.2 rad. :func:`build_knots` measures their
    jumps at every interval's midpoint; the other deep-space objects are smooth and keep the checks of
    cubic objects only (a GTO from Cape Canaveral or Baikonur, a Molniya orbit: a third of the SGP4 calls
    of a full-catalogue week's knots: 35k of 470k SGP4 calls per 2-hour slice went into midpoints that
    could show no jump)."""
    if not len(sats):
        return np.zeros(0, dtype=bool)
    period = 2.0 * np.pi / np.maximum(np.array([s.no_kozai for s in sats], dtype=np.float64), 1e-12)
    incl = np.array([s.inclo for s in sats], dtype=np.float64)
    return (period >= DEEP_SPACE_PERIOD_MIN) & (incl < LYDDANE_CLEAR_RAD)


#: The largest interpolation bound an object may have (km); beyond it its knots are refused as IMPLAUSIBLE.
MAX_BOUND_KM = 50.0
#: Objects whose knots stay cubic and are checked at every interval (:func:`build_knots`): perigee below
#: this (km altitude), |B*| above this (1/earth radii), eccentricity above this, or deep space.
HARD_PERIGEE_KM = 450.0
HARD_BSTAR = 0.01
HARD_ECCENTRICITY = 0.03


def cubic_objects(sats: Sequence[Satrec]) -> np.ndarray:
    """Which objects keep cubic knots: those whose acceleration departs from two-body + J2 by more than a
    measurement over one orbit can promise for a week - strong drag (it grows as the orbit decays and
    peaks in a short perigee pass), eccentric orbits, and deep space (lunar-solar terms, SDP4 jumps).
    With quintic knots the 2023 catalogue's 7-day bound check (``benchmarks``-style, 5,193 objects) saw
    117 such objects over their bound; cubic, they are where they were before quintic knots."""
    if not len(sats):
        return np.zeros(0, dtype=bool)
    a = np.array([s.a for s in sats], dtype=np.float64) * EARTH_RADIUS_KM
    e = np.array([s.ecco for s in sats], dtype=np.float64)
    b = np.abs(np.array([s.bstar for s in sats], dtype=np.float64))
    period = 2.0 * np.pi / np.maximum(np.array([s.no_kozai for s in sats], dtype=np.float64), 1e-12)
    return ((a * (1.0 - e) - EARTH_RADIUS_KM < HARD_PERIGEE_KM) | (b > HARD_BSTAR) | (e > HARD_ECCENTRICITY)
            | (period >= DEEP_SPACE_PERIOD_MIN))


def jd_split(t_unix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds since 1970 to python-sgp4's (whole Julian date, fraction) pair."""
    t = np.asarray(t_unix, dtype=np.float64)
    days = np.floor(t / 86400.0)
    return days + _JD_UNIX0, (t - days * 86400.0) / 86400.0


__all__ = [
    "IMPLAUSIBLE",
    "J2_WGS72",
    "KnotSet",
    "KnotTable",
    "accel_model_error",
    "build_knots",
    "cubic_objects",
    "gravity_j2",
    "hermite",
    "hermite_bound_km",
    "jd_split",
    "knot_steps",
    "lateral_accel_error",
    "max_fourth_derivative",
    "max_sixth_derivative",
    "plan_steps",
    "quintic",
    "quintic_bound_km",
    "radial_accel_bound",
    "radial_accel_with_jumps",
    "sdp4_may_jump",
    "unix_of_jd",
]
