"""Orbit arithmetic the exercise needs: SGP4 states, RTN frames, impulsive burns turned back into element
sets, and "approach object X to range R by time T" targeting.

Frames and units: TEME (the frame SGP4 works in), km, km/s, seconds; times are UTC seconds since 1970.
RTN is the radial / transverse (along-track) / normal frame of an object's osculating state.

Element sets from states. An impulsive burn changes the osculating state; the world needs a *mean*
element set that SGP4 turns back into that state. :func:`fit_elset` finds it by fixed-point iteration on
equinoctial elements (well defined for circular and equatorial orbits): start from the osculating
elements and correct by the difference between the target state's and SGP4's osculating elements until
the position error is below 1 m (typically 3-6 iterations: the mean-to-osculating map is the identity plus
J2 short-period terms of ~1e-3). The fitted set reproduces the state at its epoch; as with any TLE, its
prediction then follows SGP4 theory (J2, drag through the inherited B*), not a numerical integrator.

Targeting. :func:`solve_approach` finds the first burn by Newton shooting on SGP4 itself (3 unknowns,
a finite-difference Jacobian), starting from the Clohessy-Wiltshire solution for close, co-planar
geometry or from a two-body Lambert transfer otherwise; so the arrival error is that of SGP4 (metres),
not of the linearised model. ``arrive='stop'`` adds the second burn that leaves the chaser on the target's
orbit at the requested range behind it (a shadowing station).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from sgp4.api import Satrec

from orbitwatch.errors import PropagationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.kernels import propagation as _prop
from orbitwatch.kernels.propagation import error_message, jd_of

MU = 398600.8  # km^3/s^2, WGS-72 (SGP4's constant)
RE_KM = 6378.135
_TWO_PI = 2.0 * math.pi


#: sgp4init's satellite number must fit Alpha-5; larger catalogue numbers (OMM-only, the demo's 900000+)
#: are propagated under number 0 - the number plays no part in the theory.
_MAX_SATNUM = 339_999


def satrec_from_elements(norad_id: int, epoch: datetime, **elements: float) -> Satrec:
    return _prop.satrec_from_elements(norad_id if 0 < norad_id <= _MAX_SATNUM else 0, epoch, **elements)


def satrec_of(es: ElementSet) -> Satrec:
    """SGP4 record of an element set: its TLE lines when it has them, else its elements."""
    if es.norad_id <= _MAX_SATNUM:
        return _prop.satrec_of(es)
    return satrec_from_elements(es.norad_id, es.epoch, mean_motion=es.mean_motion,
                                eccentricity=es.eccentricity, inclination=es.inclination, raan=es.raan,
                                arg_perigee=es.arg_perigee, mean_anomaly=es.mean_anomaly, bstar=es.bstar,
                                mean_motion_dot=es.mean_motion_dot, mean_motion_ddot=es.mean_motion_ddot)


def dt_of(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def sgp4_state(sat: Satrec, ts: float) -> tuple[np.ndarray, np.ndarray]:
    """TEME position (km) and velocity (km/s) of one Satrec at UTC seconds ``ts``."""
    jd, fr = jd_of(dt_of(ts))
    e, r, v = sat.sgp4(jd, fr)
    if e != 0:
        raise PropagationError(f"SGP4 error {e}: {error_message(e)} (object {sat.satnum})")
    return np.array(r), np.array(v)


def state_of(es: ElementSet, ts: float) -> tuple[np.ndarray, np.ndarray]:
    return sgp4_state(satrec_of(es), ts)


def rtn_basis(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows: radial, transverse, normal unit vectors of the osculating state (TEME)."""
    rh = r / np.linalg.norm(r)
    h = np.cross(r, v)
    nh = h / np.linalg.norm(h)
    th = np.cross(nh, rh)
    return np.vstack([rh, th, nh])


def rotate(vec: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues rotation of ``vec`` about unit ``axis`` by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    return vec * c + np.cross(axis, vec) * s + axis * np.dot(axis, vec) * (1.0 - c)


# --- elements ------------------------------------------------------------------------------------

def equinoctial(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Osculating equinoctial elements (a km, h, k, p, q, mean longitude rad) of a TEME state."""
    rn = np.linalg.norm(r)
    v2 = float(np.dot(v, v))
    a = 1.0 / (2.0 / rn - v2 / MU)
    hvec = np.cross(r, v)
    hn = np.linalg.norm(hvec)
    w = hvec / hn
    p = w[0] / (1.0 + w[2])
    q = -w[1] / (1.0 + w[2])
    # Equinoctial frame f, g.
    den = 1.0 + p * p + q * q
    f = np.array([1.0 - p * p + q * q, 2.0 * p * q, -2.0 * p]) / den
    g = np.array([2.0 * p * q, 1.0 + p * p - q * q, 2.0 * q]) / den
    evec = np.cross(v, hvec) / MU - r / rn
    k = float(np.dot(evec, f))
    h = float(np.dot(evec, g))
    X, Y = float(np.dot(r, f)), float(np.dot(r, g))
    # Eccentric longitude F from X, Y (Broucke & Cefola 1972).
    e2 = h * h + k * k
    beta = 1.0 / (1.0 + math.sqrt(max(1.0 - e2, 1e-16)))
    b = a * math.sqrt(max(1.0 - e2, 1e-16))
    cosF = k + ((1.0 - k * k * beta) * X - h * k * beta * Y) / b
    sinF = h + ((1.0 - h * h * beta) * Y - h * k * beta * X) / b
    F = math.atan2(sinF, cosF)
    lam = F + h * math.cos(F) - k * math.sin(F)
    return np.array([a, h, k, p, q, lam % _TWO_PI])


def classical_from_equinoctial(eq: np.ndarray) -> dict[str, float]:
    """Mean-element fields of an ElementSet (degrees, rev/day) from (a, h, k, p, q, lambda)."""
    a, h, k, p, q, lam = (float(x) for x in eq)
    e = math.hypot(h, k)
    inc = 2.0 * math.atan(math.hypot(p, q))
    raan = math.atan2(p, q) % _TWO_PI if (p or q) else 0.0
    varpi = math.atan2(h, k) if e > 0 else raan
    argp = (varpi - raan) % _TWO_PI
    ma = (lam - varpi) % _TWO_PI
    n_rev_day = math.sqrt(MU / a ** 3) * 86400.0 / _TWO_PI
    return {"mean_motion": n_rev_day, "eccentricity": e, "inclination": math.degrees(inc),
            "raan": math.degrees(raan), "arg_perigee": math.degrees(argp), "mean_anomaly": math.degrees(ma)}


def _wrap(x: float) -> float:
    return (x + math.pi) % _TWO_PI - math.pi


def fit_elset(r: np.ndarray, v: np.ndarray, ts: float, *, template: ElementSet, norad_id: int | None = None,
              object_name: str | None = None, object_id: str | None = None, tol_km: float = 1e-3,
              max_iter: int = 40) -> ElementSet:
    """A mean element set at epoch ``ts`` that SGP4 turns into the TEME state ``r``, ``v``.

    ``template`` gives B*, the drag terms and the identity (unless overridden). Raises
    :class:`~orbitwatch.errors.PropagationError` if the state is not a bound orbit or does not converge.
    """
    r = np.asarray(r, dtype=float)
    v = np.asarray(v, dtype=float)
    if 2.0 / np.linalg.norm(r) - np.dot(v, v) / MU <= 0:
        raise PropagationError("the state is not a bound orbit (escape velocity or more)")
    target = equinoctial(r, v)
    mean = target.copy()
    epoch = dt_of(ts)
    norad = template.norad_id if norad_id is None else norad_id
    err = float("inf")
    for _ in range(max_iter):
        fields = classical_from_equinoctial(mean)
        if not (0.0 <= fields["eccentricity"] < 0.95) or mean[0] < RE_KM:
            raise PropagationError("the burn leaves no SGP4-representable orbit (perigee below the surface "
                                   "or eccentricity >= 0.95)")
        sat = satrec_from_elements(norad, epoch, bstar=template.bstar, mean_motion_dot=0.0,
                                   mean_motion_ddot=0.0, **fields)
        try:
            rm, vm = sgp4_state(sat, ts)
        except PropagationError:
            raise PropagationError("SGP4 refuses the fitted orbit (decays at once)") from None
        err = float(np.linalg.norm(rm - r))
        if err < tol_km and float(np.linalg.norm(vm - v)) < tol_km * 1e-3:
            break
        model = equinoctial(rm, vm)
        d = target - model
        d[5] = _wrap(d[5])
        mean = mean + d
        mean[5] %= _TWO_PI
    else:
        if err > 0.1:
            raise PropagationError(f"element fit did not converge (position error {err:.3f} km)")
    return replace(template, norad_id=norad, epoch=epoch, **fields, mean_motion_dot=0.0, mean_motion_ddot=0.0,
                   object_name=template.object_name if object_name is None else object_name,
                   object_id=template.object_id if object_id is None else object_id,
                   source_format="omm", original=None, file=None, line=None, element_set_no=None,
                   rev_at_epoch=None, classification_type="U")


def apply_impulse(es: ElementSet, ts: float, dv_rtn_kms: np.ndarray | tuple[float, float, float]
                  ) -> ElementSet:
    """The element set after an impulsive burn ``dv_rtn_kms`` (km/s in the object's RTN) at ``ts``."""
    r, v = state_of(es, ts)
    basis = rtn_basis(r, v)
    dv = np.asarray(dv_rtn_kms, dtype=float) @ basis
    return fit_elset(r, v + dv, ts, template=es)


def offset_state(r: np.ndarray, v: np.ndarray, rtn_km: tuple[float, float, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A state displaced from (r, v) by an RTN offset, curvilinear along track: an along-track offset
    is the same orbit shifted in phase (so a trailing object stays trailing), radial and normal
    offsets are added straight."""
    dr, dt, dn = (float(x) for x in rtn_km)
    basis = rtn_basis(r, v)
    ang = dt / float(np.linalg.norm(r))
    r2 = rotate(r, basis[2], ang)
    v2 = rotate(v, basis[2], ang)
    b2 = rtn_basis(r2, v2)
    r2 = r2 + dr * b2[0] + dn * b2[2]
    return r2, v2


def phased(es: ElementSet, along_km: float, *, norad_id: int | None = None, object_name: str | None = None,
           object_id: str | None = None, bstar: float | None = None) -> ElementSet:
    """The same mean orbit ``along_km`` ahead (+) or behind (-) in phase: identical under SGP4 apart from
    the phase, so a trailing object stays trailing (B* of the original unless given)."""
    a = es.semi_major_axis_km
    dm = math.degrees(along_km / a)
    return replace(es, norad_id=es.norad_id if norad_id is None else norad_id,
                   mean_anomaly=(es.mean_anomaly + dm) % 360.0,
                   object_name=es.object_name if object_name is None else object_name,
                   object_id=es.object_id if object_id is None else object_id,
                   bstar=es.bstar if bstar is None else bstar, source_format="omm", original=None,
                   element_set_no=None, rev_at_epoch=None, file=None, line=None)


def relative_rtn(r_obj: np.ndarray, r_ref: np.ndarray, v_ref: np.ndarray) -> np.ndarray:
    """Position of an object in the RTN frame of a reference state (km)."""
    return rtn_basis(r_ref, v_ref) @ (np.asarray(r_obj) - np.asarray(r_ref))


# --- Lambert (universal variables, single revolution) -----------------------------------------------

def _stumpff(z: float) -> tuple[float, float]:
    if z > 1e-6:
        s = math.sqrt(z)
        return (1.0 - math.cos(s)) / z, (s - math.sin(s)) / (s ** 3)
    if z < -1e-6:
        s = math.sqrt(-z)
        return (math.cosh(s) - 1.0) / (-z), (math.sinh(s) - s) / (s ** 3)
    return 0.5 - z / 24.0, 1.0 / 6.0 - z / 120.0


def lambert(r1: np.ndarray, r2: np.ndarray, tof: float, *, prograde: bool = True
            ) -> tuple[np.ndarray, np.ndarray]:
    """Two-body velocities (km/s) at ``r1`` and ``r2`` for a transfer of ``tof`` seconds (< 1 rev).

    Universal-variable formulation (Bate, Mueller & White §5.3; Vallado Algorithm 58) solved by
    bisection on z, which cannot diverge. Raises ValueError for a degenerate (180°) geometry.
    """
    r1 = np.asarray(r1, float)
    r2 = np.asarray(r2, float)
    n1, n2 = np.linalg.norm(r1), np.linalg.norm(r2)
    cos_dnu = float(np.clip(np.dot(r1, r2) / (n1 * n2), -1.0, 1.0))
    cz = np.cross(r1, r2)[2]
    dnu = math.acos(cos_dnu)
    if (prograde and cz < 0) or (not prograde and cz >= 0):
        dnu = _TWO_PI - dnu
    A = math.sin(dnu) * math.sqrt(n1 * n2 / (1.0 - cos_dnu))
    if abs(A) < 1e-9:
        raise ValueError("Lambert geometry is degenerate (transfer angle 0 or 180 degrees)")

    def y_of(z: float) -> float:
        C, S = _stumpff(z)
        return n1 + n2 + A * (z * S - 1.0) / math.sqrt(C)

    def t_of(z: float) -> float:
        C, S = _stumpff(z)
        y = y_of(z)
        if y < 0:
            return -1.0
        x = math.sqrt(y / C)
        return (x ** 3 * S + A * math.sqrt(y)) / math.sqrt(MU)

    lo, hi = -4.0 * math.pi ** 2, 4.0 * math.pi ** 2 - 1e-6
    # Raise lo until y(lo) > 0 (A > 0 makes small z invalid).
    while y_of(lo) < 0:
        lo += 0.1
        if lo >= hi:
            raise ValueError("no Lambert solution for this geometry")
    z = 0.0
    for _ in range(200):
        z = 0.5 * (lo + hi)
        t = t_of(z)
        if t < 0 or t < tof:
            lo = z
        else:
            hi = z
        if hi - lo < 1e-12:
            break
    y = y_of(z)
    f = 1.0 - y / n1
    g = A * math.sqrt(y / MU)
    gdot = 1.0 - y / n2
    v1 = (r2 - f * r1) / g
    v2 = (gdot * r2 - r1) / g
    return v1, v2


# --- approach targeting -----------------------------------------------------------------------------

@dataclass
class ApproachSolution:
    """Burns that bring a chaser to ``range_km`` behind a target at ``arrival_ts``."""

    burn1_ts: float
    dv1_rtn_mps: np.ndarray
    elset_after_burn1: ElementSet
    arrival_ts: float
    arrival_range_km: float
    aim_error_km: float
    dv2_rtn_mps: np.ndarray | None
    elset_after_burn2: ElementSet | None
    method: str

    @property
    def total_dv_mps(self) -> float:
        tot = float(np.linalg.norm(self.dv1_rtn_mps))
        if self.dv2_rtn_mps is not None:
            tot += float(np.linalg.norm(self.dv2_rtn_mps))
        return tot

    def as_dict(self) -> dict:
        def vec(x: np.ndarray | None) -> list[float] | None:
            return None if x is None else [round(float(c), 4) for c in x]

        return {"burn1": dt_of(self.burn1_ts).isoformat(), "dv1_rtn_mps": vec(self.dv1_rtn_mps),
                "arrival": dt_of(self.arrival_ts).isoformat(), "arrival_range_km": round(self.arrival_range_km, 4),
                "aim_error_km": round(self.aim_error_km, 5), "dv2_rtn_mps": vec(self.dv2_rtn_mps),
                "total_dv_mps": round(self.total_dv_mps, 4), "method": self.method}


def _cw_first_burn(rho0: np.ndarray, drho0: np.ndarray, rhof: np.ndarray, n: float, t: float) -> np.ndarray:
    """Clohessy-Wiltshire: relative velocity needed at t=0 (RTN: x radial, y along, z normal) to reach
    ``rhof`` after ``t`` seconds from ``rho0``; returns the change from ``drho0`` (km/s)."""
    nt = n * t
    s, c = math.sin(nt), math.cos(nt)
    phi_rr = np.array([[4 - 3 * c, 0, 0], [6 * (s - nt), 1, 0], [0, 0, c]])
    phi_rv = np.array([[s / n, 2 * (1 - c) / n, 0], [2 * (c - 1) / n, (4 * s - 3 * nt) / n, 0], [0, 0, s / n]])
    need = np.linalg.solve(phi_rv, rhof - phi_rr @ rho0)
    return need - drho0


def solve_approach(chaser: ElementSet, target: ElementSet, t0: float, tf: float, range_km: float, *,
                   arrive: str = "stop", tol_km: float = 0.01, max_iter: int = 12) -> ApproachSolution:
    """Burn(s) taking ``chaser`` to ``range_km`` behind ``target`` (along its orbit) at ``tf``.

    The first burn is at ``t0`` when the objects are close (< 500 km) and co-planar (< 1°); otherwise the
    chaser coasts and burns for a Lambert transfer of at most 0.45 of its period ending at ``tf``.
    """
    if tf <= t0 + 60.0:
        raise ValueError("the approach must end at least a minute after it starts")
    tsat = satrec_of(target)
    csat = satrec_of(chaser)
    rT, vT = sgp4_state(tsat, tf)
    hT = np.cross(rT, vT)
    hT /= np.linalg.norm(hT)
    aim = rotate(rT, hT, -range_km / float(np.linalg.norm(rT)))
    r0, v0 = sgp4_state(csat, t0)
    rt0, vt0 = sgp4_state(tsat, t0)
    sep = float(np.linalg.norm(r0 - rt0))
    plane = math.degrees(math.acos(float(np.clip(np.dot(np.cross(r0, v0) / np.linalg.norm(np.cross(r0, v0)),
                                                      np.cross(rt0, vt0) / np.linalg.norm(np.cross(rt0, vt0))),
                                              -1, 1))))
    period = _TWO_PI * math.sqrt((float(np.linalg.norm(r0))) ** 3 / MU)
    burn_ts = t0
    method = "cw+sgp4-shooting"
    if sep < 500.0 and plane < 1.0:
        basis = rtn_basis(rt0, vt0)
        n = math.sqrt(MU / float(np.linalg.norm(rt0)) ** 3)
        rho0 = basis @ (r0 - rt0)
        omega = np.array([0.0, 0.0, n])
        drho0 = basis @ (v0 - vt0) - np.cross(omega, rho0)
        basis_f = rtn_basis(rT, vT)
        rhof = basis_f @ (aim - rT)
        tt = tf - t0
        # CW is singular at whole revolutions: there any guess will do for the shooting.
        singular = abs(math.sin(n * tt / 2.0)) < 0.05
        guess_rel = np.zeros(3) if singular else _cw_first_burn(rho0, drho0, rhof, n, tt)
        dv_inertial = guess_rel @ basis
    else:
        method = "lambert+sgp4-shooting"
        tof = min(tf - t0, 0.45 * period)
        burn_ts = tf - tof
        r0, v0 = sgp4_state(csat, burn_ts)
        try:
            v1, _ = lambert(r0, aim, tof)
        except ValueError:
            v1, _ = lambert(r0, aim, tof * 0.9)
        dv_inertial = v1 - v0
    basis0 = rtn_basis(r0, v0)
    x = basis0 @ dv_inertial  # unknowns: Δv in the chaser's RTN (km/s)

    def arrival(dv_rtn: np.ndarray) -> tuple[np.ndarray, ElementSet]:
        es = fit_elset(r0, v0 + dv_rtn @ basis0, burn_ts, template=chaser)
        rf, _ = state_of(es, tf)
        return rf - aim, es

    res, es1 = arrival(x)
    for _ in range(max_iter):
        if np.linalg.norm(res) < tol_km:
            break
        J = np.zeros((3, 3))
        h = max(1e-6, 1e-3 * float(np.linalg.norm(x)))
        for j in range(3):
            dx = np.zeros(3)
            dx[j] = h
            rj, _ = arrival(x + dx)
            J[:, j] = (rj - res) / h
        step = np.linalg.lstsq(J, -res, rcond=None)[0]
        # Damp huge steps (far from the solution the map is strongly nonlinear).
        lim = max(0.05, float(np.linalg.norm(x)))
        if np.linalg.norm(step) > lim:
            step *= lim / np.linalg.norm(step)
        x = x + step
        res, es1 = arrival(x)
    aim_err = float(np.linalg.norm(res))
    rf, vf = state_of(es1, tf)
    arr_range = float(np.linalg.norm(rf - rT))
    dv2 = None
    es2 = None
    if arrive == "stop":
        # Station-keep behind the target: the target's own mean elements shifted in phase, so that SGP4
        # carries both identically (a state-based fit would drift by the J2 short-period mismatch).
        es2 = phased(target, -range_km, norad_id=chaser.norad_id, object_name=chaser.object_name,
                     object_id=chaser.object_id, bstar=chaser.bstar)
        r2, v2 = state_of(es2, tf)
        if float(np.linalg.norm(r2 - rf)) > 0.5:
            ang = -range_km / float(np.linalg.norm(rT))
            v2 = rotate(vT, hT, ang)
            es2 = fit_elset(rf, v2, tf, template=es1)
        dv2 = rtn_basis(rf, vf) @ (v2 - vf) * 1000.0
    return ApproachSolution(burn_ts, x * 1000.0, es1, tf, arr_range, aim_err, dv2, es2, method)
