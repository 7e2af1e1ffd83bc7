"""High-altitude nuclear detonation: prompt X-ray kill band and the persistent artificial radiation belt.

Public, order-of-magnitude physics only, calibrated once against the Starfish Prime record. Every
constant below is a documented assumption (see docs/effects.md for the derivations and residuals).

Prompt effects
  X-ray fluence ``F = f_x · Y / (4π R²)`` (f_x = 0.7 of the yield for a burst in near-vacuum) at each
  satellite in line of sight at detonation (the ray must clear 100 km altitude). Hardened satellites are
  killed above 1 cal/cm² (which reproduces the public ~80 km kill radius for ~1 Mt), unhardened ones
  damaged above 0.01 cal/cm² (a hundred times softer).

Persistent effects
  - Field: eccentric (offset) dipole from the IGRF degree-2 coefficients (Fraser-Smith 1987); the
    offset (~450 km in 1965, ~590 km in 2020 toward the western Pacific) is what makes the South
    Atlantic Anomaly, where the belt reaches down to low altitude.
  - Injection: ``N = ε · f_fission · Y · 1.45e23 fissions/kt · 4 β/fission`` electrons, with the trapping
    efficiency ε set so that Starfish gives the peak omnidirectional flux Injun I measured 10 h after the
    burst, ~1e9 e/cm²/s (Dyal 2006). The trapped fraction falls off for bursts below 400 km.
  - Spread in L: a Gaussian (σ_L = 0.25) centred 0.1 above the burst's L shell, cut at the lowest shell
    whose drift path clears the atmosphere everywhere (L_min = (Re + offset + 100 km)/Re).
  - Density on a shell is uniform along the field line where it clears the atmosphere; shell volume
    ``2π Re³ L² ∫cos⁷λ dλ`` per unit L.
  - Decay: e-folding lifetime τ(L) log-interpolated from years below L≈1.7 to days above L≈3
    (Hess 1964: below L = 1.7 the Starfish electrons lived long, above it their lifetime shortened
    abruptly).
  - Dose: orbit-averaged flux (precession-averaged samples of each orbit) × ``K = 5e-9 rad(Si)`` per
    e/cm² (fission-β spectrum behind ~2-3 mm Al) integrated over time; a satellite fails when the added
    dose passes its hardness class threshold. The unhardened threshold is the one free parameter fitted
    to Starfish (about a third of the satellites then operating failed within ~7 months).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet

RE_KM = 6371.2  # IGRF reference radius
C_CM_S = 2.998e10
BETA_1MEV = 0.94  # speed of a ~1 MeV electron / c
CAL_CM2_J_M2 = 4.184e4
KT_J = 4.184e12

#: IGRF-13 degree-2 Gauss coefficients (nT): g10, g11, h11, g20, g21, h21, g22, h22.
IGRF_DEG2 = {
    1965: (-30334.0, -2119.0, 5776.0, -1662.0, 2997.0, -2016.0, 1594.0, 114.0),
    2020: (-29404.8, -1450.9, 4652.5, -2499.6, 2982.0, -2991.6, 1677.0, -734.6),
}


@dataclass(frozen=True)
class NuclearAssumptions:
    """Every tunable number of the model, with its documented default."""

    xray_fraction: float = 0.7
    kill_fluence_hardened_cal_cm2: float = 1.0
    damage_fluence_unhardened_cal_cm2: float = 0.01
    fission_fraction: float = 0.5
    fissions_per_kt: float = 1.45e23
    betas_per_fission: float = 4.0
    trapping_efficiency: float = 0.0091  # calibrated: Starfish peak flux ~1e9 e/cm²/s (Injun I, H+10 h)
    sigma_l: float = 0.25
    pitch_index: float = 2.0  # flux ∝ (B_eq/B)^p along a line: a sin^(2p) equatorial pitch-angle law
    l_shift: float = 0.1
    atmosphere_km: float = 100.0
    dose_rad_per_e_cm2: float = 1e-9
    fail_dose_unhardened_rad: float = 6.3e5  # calibrated on Starfish (see docs/effects.md)
    fail_dose_hardened_rad: float = 6.3e6  # 10x: radiation-hardened parts and shielding
    # τ(L) nodes: (L, log10 days)
    lifetime_nodes: tuple[tuple[float, float], ...] = (
        (1.10, 1.5), (1.15, 2.5), (1.2, 3.2), (1.4, 3.0), (1.7, 2.5), (2.0, 1.8), (2.5, 1.3),
        (3.0, 1.0), (4.0, 0.85), (8.0, 0.7))


DEFAULT = NuclearAssumptions()


# --- field geometry -----------------------------------------------------------------------------

@dataclass(frozen=True)
class EccentricDipole:
    offset_km: np.ndarray  # (3,) ECEF position of the dipole centre
    axis: np.ndarray  # (3,) unit vector toward the northern geomagnetic pole

    @classmethod
    def for_year(cls, year: float) -> EccentricDipole:
        g10, g11, h11, g20, g21, h21, g22, h22 = IGRF_DEG2[min(IGRF_DEG2, key=lambda y: abs(y - year))]
        b02 = g10 ** 2 + g11 ** 2 + h11 ** 2
        s3 = math.sqrt(3.0)
        l0 = 2 * g10 * g20 + s3 * (g11 * g21 + h11 * h21)
        l1 = -g11 * g20 + s3 * (g10 * g21 + g11 * g22 + h11 * h22)
        l2 = -h11 * g20 + s3 * (g10 * h21 - h11 * g22 + g11 * h22)
        e = (l0 * g10 + l1 * g11 + l2 * h11) / (4 * b02)
        off = RE_KM * np.array([(l1 - g11 * e), (l2 - h11 * e), (l0 - g10 * e)]) / (3 * b02)
        axis = -np.array([g11, h11, g10]) / math.sqrt(b02)
        return cls(off, axis)

    @property
    def offset_norm_km(self) -> float:
        return float(np.linalg.norm(self.offset_km))

    def l_shell(self, ecef_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """McIlwain L (dipole) and distance from the dipole centre (km) of Earth-fixed points."""
        lval, r, _ = self.coords(ecef_km)
        return lval, r

    def coords(self, ecef_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """L, distance from the dipole centre (km) and sine of the magnetic latitude."""
        rp = ecef_km - self.offset_km
        r = np.linalg.norm(rp, axis=-1)
        sin_lat = np.einsum("...k,k->...", rp, self.axis) / r
        cos2 = np.clip(1.0 - sin_lat ** 2, 1e-12, None)
        return r / (RE_KM * cos2), r, sin_lat


def b_ratio(sin_lat: np.ndarray) -> np.ndarray:
    """B / B_equator along a dipole field line at magnetic latitude λ: √(1 + 3 sin²λ) / cos⁶λ."""
    s2 = np.asarray(sin_lat) ** 2
    return np.sqrt(1.0 + 3.0 * s2) / np.clip(1.0 - s2, 1e-12, None) ** 3


def _geodetic_ecef(lat: float, lon: float, alt_km: float) -> np.ndarray:
    from orbitwatch.resilience.geometry import geodetic_to_ecef

    return geodetic_to_ecef(lat, lon, alt_km)


# --- the belt -----------------------------------------------------------------------------------

L_GRID = np.round(np.arange(1.0, 8.0, 0.01), 4)


def lifetime_days(lval: np.ndarray, a: NuclearAssumptions = DEFAULT) -> np.ndarray:
    xs = np.array([n[0] for n in a.lifetime_nodes])
    ys = np.array([n[1] for n in a.lifetime_nodes])
    return 10.0 ** np.interp(lval, xs, ys)


def _line_integral(lam_c: np.ndarray, p: float) -> np.ndarray:
    """∫_{-λc}^{λc} cos⁷λ · (B_eq/B)^p dλ (shell volume per unit L, weighted by the density law)."""
    x = np.linspace(0.0, 1.0, 257)
    lam = np.asarray(lam_c)[..., None] * x
    f = np.cos(lam) ** 7 * b_ratio(np.sin(lam)) ** (-p)
    return 2.0 * np.trapezoid(f, lam, axis=-1)


@dataclass
class Belt:
    """Artificial belt: electron density at each shell's magnetic equator (1/cm³) on ``L_GRID``; along
    a field line the density falls as (B_eq/B)^p down to the atmospheric cut ``r_cut_km``."""

    l_burst: float
    l_min: float
    r_cut_km: float
    electrons: float
    density0_cm3: np.ndarray
    tau_days: np.ndarray
    pitch_index: float = 2.0

    def flux(self, t_days: float) -> np.ndarray:
        """Equatorial omnidirectional flux (e/cm²/s) on each grid shell ``t_days`` after the burst."""
        return self.density0_cm3 * np.exp(-t_days / self.tau_days) * BETA_1MEV * C_CM_S

    @property
    def peak_flux(self) -> float:
        return float(self.flux(0.0).max())


def make_belt(lat: float, lon: float, alt_km: float, yield_kt: float, year: float,
              a: NuclearAssumptions = DEFAULT) -> Belt:
    dip = EccentricDipole.for_year(year)
    lb, _ = dip.l_shell(_geodetic_ecef(lat, lon, alt_km))
    r_cut = RE_KM + dip.offset_norm_km + a.atmosphere_km
    l_min = r_cut / RE_KM
    trap = a.trapping_efficiency * float(np.clip((alt_km - 100.0) / 300.0, 0.0, 1.0))
    n_e = trap * a.fission_fraction * yield_kt * a.fissions_per_kt * a.betas_per_fission
    centre = max(float(lb), l_min + 0.02) + a.l_shift
    w = np.exp(-0.5 * ((L_GRID - centre) / a.sigma_l) ** 2) * (l_min < L_GRID)
    dl = L_GRID[1] - L_GRID[0]
    per_l = n_e * w / max(w.sum() * dl, 1e-300)  # electrons per unit L
    with np.errstate(invalid="ignore", divide="ignore"):
        cos2c = np.clip(r_cut / (RE_KM * L_GRID), 0, 1)
        lam_c = np.arccos(np.sqrt(cos2c))
        vol = 2 * np.pi * (RE_KM * 1e5) ** 3 * L_GRID ** 2 * _line_integral(lam_c, a.pitch_index)
        dens = np.where(vol > 0, per_l / vol, 0.0)  # equatorial density, cm^-3
    return Belt(float(lb), l_min, r_cut, n_e, dens, lifetime_days(L_GRID, a), a.pitch_index)


# --- exposure -----------------------------------------------------------------------------------

def _orbit_samples(a_km: np.ndarray, ecc: np.ndarray, inc_deg: np.ndarray, k: int = 360) -> np.ndarray:
    """Precession-averaged positions (S, k, 3) Earth-fixed: uniform mean anomaly, argument of perigee
    and longitude (Weyl sequences, deterministic) - the average exposure over weeks of precession."""
    j = np.arange(k)
    m = 2 * np.pi * (j + 0.5) / k
    argp = 2 * np.pi * np.mod(j * 0.6180339887, 1.0)
    lon = 2 * np.pi * np.mod(j * 0.4142135624, 1.0)
    e = np.asarray(ecc)[:, None]
    ea = m[None, :] + e * np.sin(m[None, :])
    for _ in range(6):  # Kepler's equation by Newton (e < 0.9: converged to 1e-12)
        ea = ea - (ea - e * np.sin(ea) - m) / (1 - e * np.cos(ea))
    nu = 2 * np.arctan2(np.sqrt(1 + e) * np.sin(ea / 2), np.sqrt(1 - e) * np.cos(ea / 2))
    r = np.asarray(a_km)[:, None] * (1 - e * np.cos(ea))
    u = argp[None, :] + nu
    sin_lat = np.sin(np.radians(inc_deg))[:, None] * np.sin(u)
    cos_lat = np.sqrt(1 - sin_lat ** 2)
    return np.stack([r * cos_lat * np.cos(lon), r * cos_lat * np.sin(lon), r * sin_lat], axis=-1)


def exposure_histograms(a_km: np.ndarray, ecc: np.ndarray, inc_deg: np.ndarray, belt: Belt, year: float,
                        samples: int = 360) -> np.ndarray:
    """Time share each orbit spends on each shell of ``L_GRID`` inside the trapping region, weighted by
    (B_eq/B)^p so that ``hist @ equatorial_flux`` is the orbit-averaged flux."""
    dip = EccentricDipole.for_year(year)
    out = np.zeros((len(a_km), L_GRID.size))
    for s0 in range(0, len(a_km), 2000):
        pos = _orbit_samples(a_km[s0:s0 + 2000], ecc[s0:s0 + 2000], inc_deg[s0:s0 + 2000], samples)
        lval, r, sin_lat = dip.coords(pos)
        idx = np.clip(np.rint((lval - L_GRID[0]) / 0.01).astype(int), 0, L_GRID.size - 1)
        ok = (r >= belt.r_cut_km) & (lval < L_GRID[-1])
        wgt = b_ratio(sin_lat) ** (-belt.pitch_index) / samples
        rows = np.broadcast_to(np.arange(pos.shape[0])[:, None], idx.shape)
        flat = rows[ok] * L_GRID.size + idx[ok]
        out[s0:s0 + 2000] = np.bincount(flat, weights=wgt[ok], minlength=pos.shape[0] * L_GRID.size).reshape(
            pos.shape[0], L_GRID.size)
    return out


def cumulative_dose_rad(hist: np.ndarray, belt: Belt, days: np.ndarray, a: NuclearAssumptions = DEFAULT,
                        start_day: np.ndarray | None = None) -> np.ndarray:
    """Added dose (rad(Si)) of each orbit accumulated from ``start_day`` (default 0) to each of ``days``."""
    rate0 = belt.density0_cm3 * BETA_1MEV * C_CM_S * a.dose_rad_per_e_cm2 * 86400.0  # rad/day per unit share
    tau = belt.tau_days
    days = np.asarray(days, dtype=float)
    if start_day is None:  # one (T, L) kernel for every orbit: a matrix product, no (S, T, L) array
        integ = tau * (1.0 - np.exp(-days[:, None] / tau))  # ∫_0^t exp(-t'/τ) dt'
        return hist @ (rate0[None, :] * integ).T
    t0 = np.asarray(start_day, float)[:, None, None]
    t1 = np.maximum(days[None, :, None], t0)
    integ = tau * (np.exp(-t0 / tau) - np.exp(-t1 / tau))  # from each orbit's own start
    return np.einsum("sl,l,stl->st", hist, rate0, integ)


def failure_day(dose: np.ndarray, days: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """First day each orbit's cumulative dose reaches its threshold (inf when it never does)."""
    hit = dose >= np.asarray(threshold)[:, None]
    first = np.argmax(hit, axis=1)
    return np.where(hit.any(axis=1), np.asarray(days)[first], np.inf)


# --- hardness -----------------------------------------------------------------------------------

_HARDENED = ("USA ", "NROL", "GPS", "NAVSTAR", "GLONASS", "COSMOS", "GALILEO", "GSAT0", "BEIDOU", "WGS",
             "AEHF", "MILSTAR", "MUOS", "SBIRS", "DSP", "SKYNET", "SYRACUSE", "SICRAL", "COMSATBW",
             "SAR-LUPE", "SARAH", "CSO-", "HELIOS", "IGS ", "QZS", "YAOGAN", "TDRS")


def hardness_class(e: ElementSet) -> str:
    """``hardened`` for military and navigation satellites (by name), else ``unhardened``."""
    name = (e.object_name or "").upper()
    return "hardened" if name.startswith(_HARDENED) or " (GLONASS" in name else "unhardened"


# --- the scenario -------------------------------------------------------------------------------

DAYS = np.unique(np.concatenate([np.arange(0, 31, 1.0), np.arange(32, 366, 2.0), np.arange(370, 3651, 10.0)]))
MILESTONES = (30, 90, 365)


@dataclass
class NuclearEffects:
    """Outcome of one detonation against a catalogue. Days are after the burst; inf = survives."""

    lat: float
    lon: float
    alt_km: float
    yield_kt: float
    epoch: datetime
    belt: Belt
    norad_ids: np.ndarray
    prompt_fluence_cal_cm2: np.ndarray  # 0 where not in line of sight
    prompt_killed: np.ndarray  # bool
    failure_day: np.ndarray  # (S,) float
    dose_365_rad: np.ndarray
    hardness: list[str]
    owners: list[str | None]
    services: list[str]
    constellations: list[str]
    assumptions: NuclearAssumptions = field(default_factory=NuclearAssumptions)

    def lost_by(self, day: float) -> set[int]:
        return {int(i) for i, d in zip(self.norad_ids, self.failure_day, strict=True) if d <= day}

    def attrition(self, days: Sequence[float] = MILESTONES) -> dict:
        """Fraction lost by each day, for the whole catalogue and per owner (partners and others)."""
        out = {"ALL": {str(d): round(float(np.mean(self.failure_day <= d)), 5) for d in days}}
        own = np.array([o or "OTHER" for o in self.owners])
        for o in sorted(set(own)):
            sel = own == o
            out[o] = {str(d): round(float(np.mean(self.failure_day[sel] <= d)), 5) for d in days}
            out[o]["satellites"] = int(sel.sum())
        out["ALL"]["satellites"] = int(self.norad_ids.size)
        return out

    def lost_services(self, day: float = 365) -> list[dict]:
        """Constellations/services that lose satellites by ``day``: counts and share lost."""
        rows: dict[tuple[str, str], list[int]] = {}
        for c, s, fd in zip(self.constellations, self.services, self.failure_day, strict=True):
            k = (s, c)
            rows.setdefault(k, [0, 0])
            rows[k][0] += 1
            rows[k][1] += int(fd <= day)
        out = [{"service": s, "constellation": c, "satellites": n, "lost": lost, "share_lost": round(lost / n, 4)}
               for (s, c), (n, lost) in rows.items() if lost > 0]
        return sorted(out, key=lambda r: (-r["lost"], r["constellation"]))

    def curve(self, owner: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        sel = np.ones(self.norad_ids.size, bool) if owner is None else np.array(
            [(o or "OTHER") == owner for o in self.owners])
        fd = self.failure_day[sel]
        return DAYS, np.array([np.mean(fd <= d) if fd.size else 0.0 for d in DAYS])

    def summary(self) -> dict:
        return {
            "burst": {"lat": self.lat, "lon": self.lon, "alt_km": self.alt_km, "yield_kt": self.yield_kt,
                      "epoch": self.epoch.isoformat()},
            "belt": {"l_burst": round(self.belt.l_burst, 3), "l_min_trapped": round(self.belt.l_min, 3),
                     "electrons_trapped": float(f"{self.belt.electrons:.3g}"),
                     "peak_flux_e_cm2_s": float(f"{self.belt.peak_flux:.3g}")},
            "prompt_band_km": prompt_radii_km(self.yield_kt, self.assumptions),
            "satellites": int(self.norad_ids.size),
            "prompt_in_line_of_sight": int(np.count_nonzero(self.prompt_fluence_cal_cm2 > 0)),
            "prompt_killed": int(np.count_nonzero(self.prompt_killed)),
            "attrition": self.attrition(),
            "lost_services_365": self.lost_services(365),
            "data_mode": "SIMULATED",
        }


def prompt_radii_km(yield_kt: float, a: NuclearAssumptions = DEFAULT) -> dict[str, float]:
    """Line-of-sight ranges within which the prompt X-ray fluence kills hardened / damages unhardened."""
    e = a.xray_fraction * yield_kt * KT_J

    def r(cal: float) -> float:
        return round(math.sqrt(e / (4 * math.pi * cal * CAL_CM2_J_M2)) / 1e3, 1)

    return {"hardened_kill": r(a.kill_fluence_hardened_cal_cm2),
            "unhardened_damage": r(a.damage_fluence_unhardened_cal_cm2)}


def prompt_fluence(sat_ecef: np.ndarray, burst_ecef: np.ndarray, yield_kt: float,
                   a: NuclearAssumptions = DEFAULT, earth_km: float = 6378.137) -> np.ndarray:
    """X-ray fluence (cal/cm²) at satellites in line of sight of the burst; 0 behind the Earth."""
    d = sat_ecef - burst_ecef
    rng = np.linalg.norm(d, axis=-1)
    # closest approach of the burst->satellite segment to the Earth's centre
    with np.errstate(invalid="ignore", divide="ignore"):
        tt = np.clip(-np.einsum("sk,k->s", d, burst_ecef) / (rng ** 2), 0.0, 1.0)
    closest = np.linalg.norm(burst_ecef[None, :] + tt[:, None] * d, axis=-1)
    los = closest >= earth_km + a.atmosphere_km
    fl = a.xray_fraction * yield_kt * KT_J / (4 * np.pi * (rng * 1e3) ** 2) / CAL_CM2_J_M2
    return np.where(los & np.isfinite(rng), fl, 0.0)


def simulate_detonation(elsets: Sequence[ElementSet], *, lat: float, lon: float, alt_km: float, yield_kt: float,
                        epoch: datetime | None = None, owners: Mapping[int, str] | None = None,
                        hardness: Mapping[int, str] | None = None,
                        assumptions: NuclearAssumptions = DEFAULT) -> NuclearEffects:
    """Prompt and belt effects of a burst on every satellite of ``elsets``.

    ``owners`` (norad -> provider) overrides the name table; ``hardness`` (norad -> 'hardened' /
    'unhardened') overrides :func:`hardness_class`.
    """
    from orbitwatch.resilience._sgp4 import ecef_positions
    from orbitwatch.resilience.services import classify, provider_of

    if not yield_kt > 0:
        raise ValidationError(f"yield must be > 0 kt, got {yield_kt}", field="yield_kt")
    if not -90 <= lat <= 90:
        raise ValidationError(f"latitude {lat} out of range", field="lat")
    if not 0 < alt_km < 100_000:
        raise ValidationError(f"burst altitude {alt_km} km out of range (0, 100000)", field="alt_km")
    when = (epoch or datetime.now(UTC)).astimezone(UTC)
    year = when.year + when.timetuple().tm_yday / 365.25
    belt = make_belt(lat, lon, alt_km, yield_kt, year, assumptions)
    ids = np.array([e.norad_id for e in elsets], dtype=np.int64)
    n = np.array([e.mean_motion for e in elsets]) * 2 * np.pi / 86400.0
    a_km = (398600.8 / n ** 2) ** (1 / 3)
    ecc = np.array([e.eccentricity for e in elsets])
    inc = np.array([e.inclination for e in elsets])
    hist = exposure_histograms(a_km, ecc, inc, belt, year)
    dose = cumulative_dose_rad(hist, belt, DAYS, assumptions)
    hard = [(hardness or {}).get(e.norad_id) or hardness_class(e) for e in elsets]
    thr = np.array([assumptions.fail_dose_hardened_rad if h == "hardened" else assumptions.fail_dose_unhardened_rad
                    for h in hard])
    fday = failure_day(dose, DAYS, thr)
    ecef, err = ecef_positions(list(elsets), np.array([when.timestamp()]))
    burst = _geodetic_ecef(lat, lon, alt_km)
    flu = prompt_fluence(ecef[:, 0, :], burst, yield_kt, assumptions)
    killed = np.where(np.array([h == "hardened" for h in hard]),
                      flu >= assumptions.kill_fluence_hardened_cal_cm2,
                      flu >= assumptions.damage_fluence_unhardened_cal_cm2)
    fday = np.where(killed, 0.0, fday)
    infos = [classify(e) for e in elsets]
    i365 = int(np.searchsorted(DAYS, 365))
    return NuclearEffects(lat, lon, alt_km, yield_kt, when, belt, ids, flu, killed, fday, dose[:, i365], hard,
                          [provider_of(e, owners) for e in elsets], [i.service for i in infos],
                          [i.constellation for i in infos], assumptions)


# --- Starfish Prime calibration ------------------------------------------------------------------

STARFISH = {"lat": 16.7, "lon": -169.5, "alt_km": 400.0, "yield_kt": 1400.0,
            "epoch": datetime(1962, 7, 9, 9, 0, 9, tzinfo=UTC)}

#: Satellites operating on 9 July 1962 (Telstar 1 launched the next day), approximate orbits
#: (perigee km, apogee km, inclination deg) from the NSSDCA Master Catalog, and whether public
#: histories (Hess 1964; Gombosi et al. 2017; NSSDCA) record them as failed/damaged by the Starfish belt.
STARFISH_1962_POPULATION: tuple[tuple[str, float, float, float, bool], ...] = (
    ("VANGUARD 1", 654, 3969, 34.2, False),
    ("TRANSIT 2A", 628, 1079, 66.7, False),
    ("TRANSIT 4A", 881, 998, 66.8, False),
    ("INJUN 1", 881, 998, 66.8, True),
    ("SOLRAD 3", 881, 998, 66.8, False),
    ("TRAAC", 950, 1110, 32.4, True),
    ("TRANSIT 4B", 950, 1110, 32.4, True),
    ("TIROS 4", 710, 840, 48.3, False),
    ("OSO 1", 553, 595, 32.8, False),
    ("ARIEL 1", 389, 1214, 53.8, True),
    ("TIROS 5", 590, 972, 58.1, False),
    ("COSMOS 2", 212, 1546, 49.0, False),
    ("COSMOS 3", 229, 720, 49.0, False),
    ("COSMOS 5", 203, 1600, 49.1, True),
    ("COSMOS 6", 274, 363, 49.0, False),
    ("TELSTAR 1", 952, 5632, 44.8, True),
)


def starfish_calibration(assumptions: NuclearAssumptions = DEFAULT, within_days: float = 225.0) -> dict:
    """Run Starfish on the 1962 population: predicted failures within ``within_days`` vs the record."""
    names = [p[0] for p in STARFISH_1962_POPULATION]
    pe = np.array([p[1] for p in STARFISH_1962_POPULATION], float)
    ap = np.array([p[2] for p in STARFISH_1962_POPULATION], float)
    inc = np.array([p[3] for p in STARFISH_1962_POPULATION], float)
    known = np.array([p[4] for p in STARFISH_1962_POPULATION])
    a_km = (pe + ap) / 2 + 6378.137
    ecc = (ap - pe) / (ap + pe + 2 * 6378.137)
    year = 1962.52
    belt = make_belt(STARFISH["lat"], STARFISH["lon"], STARFISH["alt_km"], STARFISH["yield_kt"], year, assumptions)
    hist = exposure_histograms(a_km, ecc, inc, belt, year)
    start = np.array([1.0 if n == "TELSTAR 1" else 0.0 for n in names])
    dose = cumulative_dose_rad(hist, belt, DAYS, assumptions, start_day=start)
    fday = failure_day(dose, DAYS, np.full(len(names), assumptions.fail_dose_unhardened_rad))
    failed = fday <= within_days
    return {
        "peak_flux_e_cm2_s": belt.peak_flux, "l_burst": belt.l_burst, "electrons_trapped": belt.electrons,
        "predicted_fraction_failed": float(failed.mean()), "observed_fraction_failed": float(known.mean()),
        "predicted_failed": [n for n, f in zip(names, failed, strict=True) if f],
        "observed_failed": [n for n, k in zip(names, known, strict=True) if k],
        "hits": int(np.count_nonzero(failed & known)), "false_alarms": int(np.count_nonzero(failed & ~known)),
        "failure_day": {n: (None if not np.isfinite(d) else float(d)) for n, d in zip(names, fday, strict=True)},
        "dose_rad_day_120": {n: float(f"{d:.3g}") for n, d in zip(
            names, cumulative_dose_rad(hist, belt, np.array([121.0]), assumptions, np.full(len(names), 120.0))[:, 0],
            strict=True)},
    }
