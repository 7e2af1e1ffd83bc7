"""Orbital lifetime from perigee, apogee and B*: a simple, documented drag model.

Model (accuracy: a factor of about 2-3 either way, dominated by solar activity, which it ignores):

* Density: the exponential atmosphere of Vallado, *Fundamentals of Astrodynamics and Applications*
  (4th ed., Table 8-4, from CIRA-72): piecewise ``rho0 exp(-(h - h0)/H)`` between tabulated altitudes.
* Ballistic coefficient from the TLE: SGP4's ``B* = B rho0 / 2`` with ``rho0 = 0.15696615 kg/m²/ER``
  (2.461e-8 kg/m³ at the 120 km reference times one Earth radius), so ``B = C_D A/m = 2 B*/rho0`` m²/kg.
  A missing or non-positive B* takes ``default_b`` (0.02 m²/kg, a typical fragment).
* Decay: ``da/dt = -B rho(h_eff) sqrt(mu a)`` integrated in steps of at most 1 km of semi-major axis
  until the perigee reaches ``reentry_km`` (120 km). While the orbit is eccentric the perigee is held
  and the apogee falls (drag acts near perigee); ``h_eff = perigee + 0.25 (apogee - perigee)``, a
  crude orbit average that is exact for circular orbits.

Check (tests): for B = 0.01-0.02 m²/kg the altitude whose lifetime is 25 years lies between 550 and
700 km, consistent with the usual "about 600 km" guidance for the IADC 25-year rule.
"""

from __future__ import annotations

import math

import numpy as np

from orbitwatch.formats.records import ElementSet
from orbitwatch.threats.orbits import MU_KM3_S2, RE_KM

BSTAR_RHO0 = 0.15696615  # kg/m^2/ER
YEAR_S = 365.25 * 86400.0

# h0 (km), rho0 (kg/m^3), H (km) - Vallado Table 8-4
_TABLE = np.array([
    (0, 1.225, 7.249), (25, 3.899e-2, 6.349), (30, 1.774e-2, 6.682), (40, 3.972e-3, 7.554),
    (50, 1.057e-3, 8.382), (60, 3.206e-4, 7.714), (70, 8.770e-5, 6.549), (80, 1.905e-5, 5.799),
    (90, 3.396e-6, 5.382), (100, 5.297e-7, 5.877), (110, 9.661e-8, 7.263), (120, 2.438e-8, 9.473),
    (130, 8.484e-9, 12.636), (140, 3.845e-9, 16.149), (150, 2.070e-9, 22.523), (180, 5.464e-10, 29.740),
    (200, 2.789e-10, 37.105), (250, 7.248e-11, 45.546), (300, 2.418e-11, 53.628), (350, 9.518e-12, 53.298),
    (400, 3.725e-12, 58.515), (450, 1.585e-12, 60.828), (500, 6.967e-13, 63.822), (600, 1.454e-13, 71.835),
    (700, 3.614e-14, 88.667), (800, 1.170e-14, 124.64), (900, 5.245e-15, 181.05), (1000, 3.019e-15, 268.00),
])


def density(h_km: float) -> float:
    """Atmospheric density (kg/m³) at altitude ``h_km`` (exponential model, Vallado Table 8-4)."""
    if h_km < 0:
        h_km = 0.0
    k = int(np.searchsorted(_TABLE[:, 0], h_km, side="right") - 1)
    h0, rho0, scale = _TABLE[k]
    return float(rho0 * math.exp(-(h_km - h0) / scale))


def ballistic_coefficient(bstar: float, *, default_b: float = 0.02) -> float:
    """``C_D A / m`` (m²/kg) from B* (1/ER); ``default_b`` when B* is not usable."""
    if not bstar or bstar <= 0 or not math.isfinite(bstar):
        return default_b
    return float(min(max(2.0 * bstar / BSTAR_RHO0, 1e-5), 1.0))


def lifetime_years(perigee_km: float, apogee_km: float, b_m2_kg: float, *, reentry_km: float = 120.0,
                   max_years: float = 10000.0) -> float:
    """Years until the perigee falls to ``reentry_km`` (``max_years`` when longer)."""
    if perigee_km <= reentry_km:
        return 0.0
    rp = RE_KM + perigee_km
    ra = RE_KM + max(apogee_km, perigee_km)
    t = 0.0
    mu = MU_KM3_S2 * 1e9  # m^3/s^2
    while True:
        a = 0.5 * (rp + ra)
        h_eff = (rp - RE_KM) + 0.25 * (ra - rp)
        rho = density(h_eff)
        dadt = b_m2_kg * rho * math.sqrt(mu * a * 1000.0)  # m/s (a in m)
        step_km = min(1.0, max(0.01, 0.02 * (a - RE_KM - reentry_km)))
        dt = step_km * 1000.0 / dadt
        t += dt
        if t / YEAR_S > max_years:
            return max_years
        if ra - rp > 2.0 * step_km:
            ra -= 2.0 * step_km  # Δa = step: the apogee alone comes down
        else:
            rp -= step_km
            ra = rp
        if rp - RE_KM <= reentry_km:
            return t / YEAR_S


def elset_lifetime_years(es: ElementSet, *, default_b: float = 0.02) -> float:
    """Lifetime of the object described by one element set (see the module docstring)."""
    a = es.semi_major_axis_km
    return lifetime_years(a * (1 - es.eccentricity) - RE_KM, a * (1 + es.eccentricity) - RE_KM,
                          ballistic_coefficient(es.bstar, default_b=default_b))
