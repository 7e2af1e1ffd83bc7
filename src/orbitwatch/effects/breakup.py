"""NASA Standard Breakup Model (EVOLVE 4.0): fragment clouds from collisions, explosions and ASAT strikes.

References: N. L. Johnson, P. H. Krisko, J.-C. Liou, P. D. Anz-Meador, "NASA's new breakup model of
EVOLVE 4.0", Adv. Space Res. 28(9), 1377-1384 (2001); P. H. Krisko, "Proper implementation of the 1998
NASA breakup model", Orbital Debris Quarterly News 15(4) (2011).

What is modelled
- Number of fragments larger than a characteristic length Lc (m):
  collision ``N(>Lc) = 0.1 M^0.75 Lc^-1.71``; explosion ``N(>Lc) = 6 S Lc^-1.6``.
  ``M`` (kg) is target + projectile mass when the specific energy ``½ m_p v² / M_t`` is at least 40 J/g
  (catastrophic), else ``m_p · v²`` with v in km/s (non-catastrophic: only the cratered part breaks).
- Area-to-mass ratio ``χ = log10(A/m)``: the published bimodal normal distributions for spacecraft and
  rocket-body fragments above 11 cm, the single normal below 8 cm, and a log-linear bridge in between.
- Cross-section ``A = 0.540424 Lc²`` (Lc < 1.67 mm) else ``0.556945 Lc^2.0047077``; mass = A / (A/m).
- Δv: ``log10(Δv [m/s]) ~ N(μ, 0.4)`` with μ = 0.9χ + 2.9 (collision) or 0.2χ + 1.85 (explosion),
  isotropic directions, added to the parent's velocity at the breakup epoch.
- Mass budget: fragments are drawn from the smallest up; the biggest are dropped when the sum would
  exceed the mass that breaks up, and left-over mass becomes remnant pieces (the cratered parent for a
  non-catastrophic collision).

Element sets: each fragment's TEME state is fitted to SGP4 mean elements
(:func:`orbitwatch.effects.orbits.fit_mean_elements`, metres at epoch) and given
``B* = ρ0 · Cd · (A/m) / 2`` with ``ρ0 = 0.15696615 kg/m²/ER`` (SGP4's reference density times one
Earth radius, Hoots & Roehrich 1980) and ``Cd = 2.2``. Fragments get synthetic catalogue numbers from
:data:`SIMULATED_NORAD_BASE` (800 000 up: OMM-only, never a real object) and the data mode
``SIMULATED``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.markings import Marking

SIMULATED_NORAD_BASE = 800_000
RHO0_KG_M2_ER = 0.15696615  # SGP4 reference density x Earth radius, kg/m²/ER
CD_FRAGMENT = 2.2
CATASTROPHIC_J_PER_G = 40.0
KINDS = ("collision", "explosion", "asat")


# --- distributions ------------------------------------------------------------------------------

def _pw(x: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Piecewise linear: y0 below x0, y1 above x1, linear between (the SBM's parameter shapes)."""
    return np.where(x <= x0, y0, np.where(x >= x1, y1, y0 + (y1 - y0) * (x - x0) / (x1 - x0)))


def am_large(lc: np.ndarray, parent: str, rng: np.random.Generator) -> np.ndarray:
    """log10(A/m) for fragments larger than 11 cm (bimodal normal; Johnson et al. 2001 eqs. 6-7)."""
    lam = np.log10(lc)
    if parent == "rocket_body":
        alpha = _pw(lam, -1.4, 0.0, 1.0, 0.5)
        mu1 = _pw(lam, -0.5, 0.0, -0.45, -0.9)
        s1 = np.full_like(lam, 0.55)
        mu2 = np.full_like(lam, -0.9)
        s2 = _pw(lam, -1.0, 0.1, 0.28, 0.1)
    else:
        alpha = _pw(lam, -1.95, 0.55, 0.0, 1.0)
        mu1 = _pw(lam, -1.1, 0.0, -0.6, -0.95)
        s1 = _pw(lam, -1.3, -0.3, 0.1, 0.3)
        mu2 = _pw(lam, -0.7, -0.1, -1.2, -2.0)
        s2 = _pw(lam, -0.5, -0.3, 0.5, 0.3)
    first = rng.random(lam.shape) < alpha
    z = rng.standard_normal(lam.shape)
    return np.where(first, mu1 + s1 * z, mu2 + s2 * z)


def am_small(lc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """log10(A/m) for fragments smaller than 8 cm (single normal; both parent types)."""
    lam = np.log10(lc)
    mu = _pw(lam, -1.75, -1.25, -0.3, -1.0)
    sigma = np.where(lam <= -3.5, 0.2, 0.2 + 0.1333 * (lam + 3.5))
    return mu + sigma * rng.standard_normal(lam.shape)


def area_to_mass_log10(lc: np.ndarray, parent: str, rng: np.random.Generator) -> np.ndarray:
    """χ = log10(A/m [m²/kg]) for characteristic lengths ``lc`` (m), with the 8-11 cm bridge."""
    lc = np.asarray(lc, dtype=float)
    small = am_small(lc, rng)
    large = am_large(lc, parent, rng)
    # bridge: the chance of the large-object law rises log-linearly from 0 at 8 cm to 1 at 11 cm
    p_large = np.clip((np.log10(lc) - math.log10(0.08)) / (math.log10(0.11) - math.log10(0.08)), 0, 1)
    return np.where(rng.random(lc.shape) < p_large, large, small)


def area_m2(lc: np.ndarray) -> np.ndarray:
    """Average cross-sectional area (m²) of fragments of characteristic length ``lc`` (m)."""
    lc = np.asarray(lc, dtype=float)
    return np.where(lc < 0.00167, 0.540424 * lc ** 2, 0.556945 * lc ** 2.0047077)


def delta_v_ms(chi: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Ejection speed (m/s) from log10(A/m): log-normal, σ = 0.4 decades."""
    mu = 0.2 * chi + 1.85 if kind == "explosion" else 0.9 * chi + 2.9
    return 10.0 ** (mu + 0.4 * rng.standard_normal(np.shape(chi)))


def isotropic(n: int, rng: np.random.Generator) -> np.ndarray:
    z = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    s = np.sqrt(1 - z * z)
    return np.stack([s * np.cos(phi), s * np.sin(phi), z], axis=1)


@dataclass(frozen=True)
class BreakupEnergy:
    """How a collision is classed and the mass M that enters the fragment-count law."""

    kind: str
    catastrophic: bool
    specific_energy_j_per_g: float | None
    m_eff_kg: float  # M of the power law (collisions) or 0 for explosions
    breakup_mass_kg: float  # mass that turns into fragments (budget)


def classify_event(kind: str, mass_kg: float, impactor_mass_kg: float | None,
                   impact_speed_kms: float | None) -> BreakupEnergy:
    """Catastrophic or not (40 J/g rule) and the mass M of the SBM collision law."""
    if kind not in KINDS:
        raise ValidationError(f"unknown breakup kind {kind!r}; expected one of {', '.join(KINDS)}", field="kind")
    if not mass_kg > 0:
        raise ValidationError(f"parent mass must be > 0 kg, got {mass_kg}", field="mass_kg")
    if kind == "explosion":
        return BreakupEnergy(kind, True, None, 0.0, mass_kg)
    mp = impactor_mass_kg if impactor_mass_kg is not None else (20.0 if kind == "asat" else 10.0)
    v = impact_speed_kms if impact_speed_kms is not None else (8.0 if kind == "asat" else 10.0)
    if not mp > 0 or not v > 0:
        raise ValidationError(f"impactor mass and speed must be > 0, got {mp} kg, {v} km/s", field="impactor")
    # the smaller body is the projectile
    m_small, m_big = min(mp, mass_kg), max(mp, mass_kg)
    emr = 0.5 * m_small * (v * 1e3) ** 2 / (m_big * 1e3)  # J/g
    if emr >= CATASTROPHIC_J_PER_G:
        return BreakupEnergy(kind, True, emr, m_small + m_big, m_small + m_big)
    m_eff = m_small * v ** 2
    return BreakupEnergy(kind, False, emr, m_eff, min(m_eff, m_small + m_big))


def fragment_count(lc: float, energy: BreakupEnergy, *, explosion_scale: float = 1.0) -> float:
    """Expected number of fragments larger than ``lc`` metres."""
    if energy.kind == "explosion":
        return 6.0 * explosion_scale * lc ** -1.6
    return 0.1 * energy.m_eff_kg ** 0.75 * lc ** -1.71


# --- the cloud ----------------------------------------------------------------------------------

@dataclass
class BreakupCloud:
    """A simulated fragment cloud. Arrays are per fragment; ``elsets`` are the fragments that got SGP4
    mean elements (size >= ``elset_min_size_m``, still in orbit), numbered from ``norad_base``."""

    parent_norad: int
    parent_name: str | None
    epoch: datetime
    kind: str
    parent_mass_kg: float
    energy: BreakupEnergy
    lc_m: np.ndarray
    area_to_mass: np.ndarray  # m²/kg
    mass_kg: np.ndarray
    area_m2: np.ndarray
    delta_v_ms: np.ndarray
    r_teme_km: np.ndarray  # (3,) parent position at breakup
    v_teme_kms: np.ndarray  # (N, 3) fragment velocities
    perigee_km: np.ndarray  # osculating, NaN for hyperbolic
    apogee_km: np.ndarray
    period_min: np.ndarray
    in_orbit: np.ndarray  # bool: elliptic with perigee above 100 km
    elsets: list[ElementSet] = field(default_factory=list)
    elset_index: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # fragment index per elset
    fit_error_km: np.ndarray = field(default_factory=lambda: np.zeros(0))
    marking: Marking = field(default_factory=lambda: Marking(data_mode="SIMULATED"))
    seed: int | None = None

    def count_over(self, lc_m: float, *, in_orbit_only: bool = False) -> int:
        sel = self.lc_m >= lc_m
        if in_orbit_only:
            sel &= self.in_orbit
        return int(np.count_nonzero(sel))

    @property
    def fragment_norads(self) -> list[int]:
        return [e.norad_id for e in self.elsets]

    def satcat_records(self) -> list:
        """One SATCAT record per element set: DEBRIS, the fragment's mass and a hard-body radius of
        half its characteristic length (what the store keeps for Pc)."""
        from orbitwatch.formats.records import SatcatRecord

        return [SatcatRecord(norad_id=e.norad_id, object_name=e.object_name, object_type="DEBRIS",
                             mass_kg=round(float(self.mass_kg[i]), 6), hbr_m=round(float(self.lc_m[i]) / 2, 4),
                             source_format="simulated")
                for e, i in zip(self.elsets, self.elset_index, strict=True)]

    def summary(self) -> dict:
        big = self.lc_m >= 0.1
        sel = big & self.in_orbit
        return {
            "parent_norad": self.parent_norad, "parent_name": self.parent_name, "kind": self.kind,
            "epoch": self.epoch.isoformat(), "parent_mass_kg": self.parent_mass_kg,
            "catastrophic": self.energy.catastrophic,
            "specific_energy_j_per_g": (None if self.energy.specific_energy_j_per_g is None
                                        else round(self.energy.specific_energy_j_per_g, 2)),
            "m_eff_kg": round(self.energy.m_eff_kg, 3),
            "fragments_over_1cm": self.count_over(0.01), "fragments_over_10cm": self.count_over(0.1),
            "fragments_over_1m": self.count_over(1.0),
            "fragments_over_10cm_in_orbit": int(np.count_nonzero(sel)),
            "fragment_mass_kg": round(float(self.mass_kg.sum()), 1),
            "element_sets": len(self.elsets),
            "perigee_km_range_10cm": _rng(self.perigee_km[sel]), "apogee_km_range_10cm": _rng(self.apogee_km[sel]),
            "period_min_range_10cm": _rng(self.period_min[sel]),
            "max_fit_error_km": round(float(self.fit_error_km.max()), 4) if self.fit_error_km.size else None,
            "norad_range": ([self.elsets[0].norad_id, self.elsets[-1].norad_id] if self.elsets else None),
            "data_mode": self.marking.data_mode, "seed": self.seed,
        }


def _rng(a: np.ndarray) -> list[float] | None:
    return [round(float(np.min(a)), 1), round(float(np.max(a)), 1)] if a.size else None


def _sample_lc(n: int, lmin: float, lmax: float, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Characteristic lengths with N(>L) ∝ L^-beta between lmin and lmax (inverse CDF)."""
    u = rng.random(n)
    return lmin * (1.0 - u * (1.0 - (lmin / lmax) ** beta)) ** (-1.0 / beta)


def _parent_type(parent: ElementSet, object_type: str | None) -> str:
    t = (object_type or "").upper()
    name = (parent.object_name or "").upper()
    return "rocket_body" if ("ROCKET" in t or "R/B" in name) else "spacecraft"


def _state_at(parent: ElementSet, when: datetime) -> tuple[np.ndarray, np.ndarray]:
    from orbitwatch.resilience._sgp4 import propagate_teme

    r, v, err = propagate_teme([parent], np.array([when.timestamp()]))
    if err[0, 0] != 0:
        raise ValidationError(f"parent {parent.norad_id} cannot be propagated to {when.isoformat()} "
                              f"(SGP4 error {int(err[0, 0])}: decayed or invalid)", field="epoch")
    return r[0, 0], v[0, 0]


def simulate_breakup(parent: ElementSet, *, mass_kg: float, kind: str = "collision",
                     impactor_mass_kg: float | None = None, impact_speed_kms: float | None = None,
                     epoch: datetime | None = None, rng: np.random.Generator | int | None = None,
                     min_size_m: float = 0.01, max_size_m: float = 1.0, elset_min_size_m: float = 0.1,
                     explosion_scale: float = 1.0, object_type: str | None = None,
                     norad_base: int = SIMULATED_NORAD_BASE, marking: Marking | None = None,
                     max_fragments: int = 500_000) -> BreakupCloud:
    """Break ``parent`` up with the NASA SBM and turn the fragments into SGP4 element sets.

    ``mass_kg`` is the parent's mass; ``kind`` collision / explosion / asat (an ASAT strike is a
    collision with a kill vehicle: default 20 kg at 8 km/s; a collision defaults to 10 kg at 10 km/s).
    ``epoch`` defaults to the parent's element-set epoch. ``rng`` is a numpy Generator or a seed: the
    same seed gives the same cloud. Fragments from ``min_size_m`` to ``max_size_m`` are drawn (plus
    remnants of the unbroken mass); element sets are made for those of at least ``elset_min_size_m``.
    """
    seed = rng if isinstance(rng, int) else None
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if not 0 < min_size_m < max_size_m:
        raise ValidationError(f"need 0 < min_size_m < max_size_m, got {min_size_m}, {max_size_m}",
                              field="min_size_m")
    when = (epoch or parent.epoch).astimezone(UTC)
    energy = classify_event(kind, mass_kg, impactor_mass_kg, impact_speed_kms)
    beta = 1.6 if kind == "explosion" else 1.71
    n_mean = (fragment_count(min_size_m, energy, explosion_scale=explosion_scale)
              - fragment_count(max_size_m, energy, explosion_scale=explosion_scale))
    n = int(gen.poisson(n_mean)) if n_mean < 1e6 else int(round(n_mean))
    if n > max_fragments:
        raise ValidationError(f"{n} fragments above {min_size_m} m exceed max_fragments={max_fragments}; "
                              "raise min_size_m", field="min_size_m")
    ptype = _parent_type(parent, object_type)
    lc = np.sort(_sample_lc(n, min_size_m, max_size_m, beta, gen))
    chi = area_to_mass_log10(lc, ptype, gen)
    am = 10.0 ** chi
    area = area_m2(lc)
    mass = area / am
    # mass budget: keep fragments from the smallest up while they fit; remnants take what is left
    budget = energy.breakup_mass_kg
    keep = np.cumsum(mass) <= budget
    lc, chi, am, area, mass = lc[keep], chi[keep], am[keep], area[keep], mass[keep]
    left = budget - float(mass.sum())
    if kind == "collision" and not energy.catastrophic:
        left += max(mass_kg + (impactor_mass_kg or 0.0) - budget, 0.0)
    if left > 1.0:
        # one remnant for a cratered parent; a few large pieces for a catastrophic breakup
        k = 1 if (kind == "collision" and not energy.catastrophic) else max(1, min(8, int(left // 100) + 1))
        rm = np.full(k, left / k)
        rchi = am_large(np.full(k, max_size_m), ptype, gen)
        rchi = np.clip(rchi, -2.5, -0.5)
        ram = 10.0 ** rchi
        rarea = rm * ram
        rlc = np.maximum((rarea / 0.556945) ** (1 / 2.0047077), max_size_m)
        lc, chi, am = np.concatenate([lc, rlc]), np.concatenate([chi, rchi]), np.concatenate([am, ram])
        area, mass = np.concatenate([area, rarea]), np.concatenate([mass, rm])
    dv = delta_v_ms(chi, "explosion" if kind == "explosion" else "collision", gen)
    if kind == "collision" and not energy.catastrophic and left > 1.0:
        dv[-1] = 0.0  # the cratered parent keeps its orbit
    r0, v0 = _state_at(parent, when)
    vel = v0[None, :] + isotropic(len(lc), gen) * (dv[:, None] / 1000.0)
    from orbitwatch.effects.orbits import MU_WGS72, RE_WGS72, rv_to_kepler

    kep = rv_to_kepler(np.broadcast_to(r0, vel.shape), vel)
    a, e = kep["a"], kep["e"]
    elliptic = (a > 0) & (e < 1)
    with np.errstate(invalid="ignore"):
        perigee = np.where(elliptic, a * (1 - e) - RE_WGS72, np.nan)
        apogee = np.where(elliptic, a * (1 + e) - RE_WGS72, np.nan)
        period = np.where(elliptic, 2 * np.pi * np.sqrt(np.abs(a) ** 3 / MU_WGS72) / 60.0, np.nan)
    in_orbit = elliptic & (np.nan_to_num(perigee, nan=-1.0) > 100.0)
    cloud = BreakupCloud(
        parent_norad=parent.norad_id, parent_name=parent.object_name, epoch=when, kind=kind,
        parent_mass_kg=mass_kg, energy=energy, lc_m=lc, area_to_mass=am, mass_kg=mass, area_m2=area,
        delta_v_ms=dv, r_teme_km=r0, v_teme_kms=vel, perigee_km=perigee, apogee_km=apogee,
        period_min=period, in_orbit=in_orbit,
        marking=_simulated(marking), seed=seed)
    _make_elsets(cloud, elset_min_size_m, norad_base)
    return cloud


def next_simulated_base(existing_ids: Iterable[int]) -> int:
    """First free synthetic catalogue number above every simulated object already in a world, so that
    successive breakups in one exercise never reuse numbers."""
    top = max((i for i in existing_ids if i >= SIMULATED_NORAD_BASE), default=SIMULATED_NORAD_BASE - 1)
    return top + 1


def _simulated(marking: Marking | None) -> Marking:
    m = marking or Marking()
    return Marking(m.classification, m.rel_to, "SIMULATED", m.tlp, m.orgs)


def bstar_from_area_to_mass(am_m2_kg: np.ndarray, cd: float = CD_FRAGMENT) -> np.ndarray:
    """SGP4 B* (1/ER) = ρ0 · Cd · (A/m) / 2 with ρ0 = 0.15696615 kg/m²/ER."""
    return RHO0_KG_M2_ER * cd * np.asarray(am_m2_kg) / 2.0


def _make_elsets(cloud: BreakupCloud, min_size: float, norad_base: int) -> None:
    from orbitwatch.effects.orbits import fit_mean_elements

    idx = np.flatnonzero((cloud.lc_m >= min_size) & cloud.in_orbit)
    if idx.size == 0:
        return
    bstar = bstar_from_area_to_mass(cloud.area_to_mass[idx])
    r = np.broadcast_to(cloud.r_teme_km, (idx.size, 3)).copy()
    fit = fit_mean_elements(r, cloud.v_teme_kms[idx], cloud.epoch, bstar)
    good = fit.ok
    name = f"{cloud.parent_name or cloud.parent_norad} DEB (SIM)"
    out: list[ElementSet] = []
    for j in np.flatnonzero(good):
        out.append(ElementSet(
            norad_id=norad_base + len(out), epoch=cloud.epoch, mean_motion=float(fit.mean_motion[j]),
            eccentricity=float(fit.eccentricity[j]), inclination=float(fit.inclination[j]),
            raan=float(fit.raan[j]), arg_perigee=float(fit.arg_perigee[j]),
            mean_anomaly=float(fit.mean_anomaly[j]), bstar=float(bstar[j]), object_name=name,
            object_id=None, classification_type="U", source_format="simulated"))
    cloud.elsets = out
    cloud.elset_index = idx[good]
    cloud.fit_error_km = fit.position_error_km[good]
