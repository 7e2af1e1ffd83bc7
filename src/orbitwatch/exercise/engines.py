"""Every place the exercise calls another orbitwatch engine, in one module.

The exercise sits on the top analysis floor: it reads catalogues (``formats``, ``store``), screens
(``conjunctions``), detects (``threats``), simulates effects (``effects``) and measures services
(``resilience``). Those engines are written in parallel with this one, so each integration point
below tries the engine's documented function and otherwise uses a small built-in model that is
documented as such (``docs/exercise.md``, "Engines"). :func:`engine_report` says which is in use, and
the after-action report prints it, so no one mistakes a fallback for the real model.
"""

from __future__ import annotations

import gzip
import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.records import ElementSet, SatcatRecord

# ------------------------------------------------------------------------------------------------
# Catalogue files


def _text_of(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def read_catalog_file(path: str | Path) -> tuple[list[ElementSet], list[SatcatRecord], list[RecordError]]:
    """Element sets and SATCAT records of one file (TLE/3LE, OMM CSV/KVN/XML/JSON, SATCAT CSV; gzip or
    not), with per-record errors. Uses ``orbitwatch.formats.read_path`` when the project has it."""
    p = Path(path)
    if not p.exists():
        raise ValidationError(f"catalogue file {p} does not exist", file=str(p))
    formats = importlib.import_module("orbitwatch.formats")
    read_path = getattr(formats, "read_path", None)
    if read_path is not None:
        res = read_path(p)
        el = [r for r in res.records if isinstance(r, ElementSet)]
        sc = [r for r in res.records if isinstance(r, SatcatRecord)]
        return el, sc, list(res.errors)
    text = _text_of(p)
    head = text[:4096].upper()
    items: list = []
    if "NORAD_CAT_ID" in head.split("\n", 1)[0] or "OBJECTID" in head.split("\n", 1)[0].replace("_", ""):
        first = head.split("\n", 1)[0]
        if "MEAN_MOTION" in first:
            from orbitwatch.formats.omm import read_omm_csv

            items = list(read_omm_csv(text, file=str(p)))
        else:
            from orbitwatch.formats.satcat import read_satcat_csv

            items = list(read_satcat_csv(text, file=str(p)))
    else:
        try:
            from orbitwatch.formats.tle_fast import read_tle_fast

            el, errs = read_tle_fast(text, file=str(p))
            return el, [], errs
        except ImportError:  # pragma: no cover - tle_fast ships with the project
            from orbitwatch.formats.tle import read_tle

            items = list(read_tle(text.splitlines(), file=str(p)))
    el = [r for r in items if isinstance(r, ElementSet)]
    sc = [r for r in items if isinstance(r, SatcatRecord)]
    errs = [r for r in items if isinstance(r, RecordError)]
    return el, sc, errs


# ------------------------------------------------------------------------------------------------
# Which engine is used where


@dataclass
class EngineUse:
    name: str
    engine: str  # "orbitwatch.<module>.<function>" or "built-in <model>"
    note: str = ""


@dataclass
class EngineReport:
    uses: dict[str, EngineUse] = field(default_factory=dict)

    def record(self, name: str, engine: str, note: str = "") -> None:
        self.uses[name] = EngineUse(name, engine, note)

    def as_dict(self) -> dict:
        return {k: {"engine": u.engine, "note": u.note} for k, u in sorted(self.uses.items())}


ENGINES = EngineReport()


def _optional(module: str, attr: str):
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, attr, None)


def engine_report() -> dict:
    return ENGINES.as_dict()


# ------------------------------------------------------------------------------------------------
# Effects: breakup (orbitwatch.effects.breakup)


@dataclass
class Fragments:
    elsets: list[ElementSet]
    summary: dict


def breakup_fragments(parent: ElementSet, *, mass_kg: float, object_type: str | None, kind: str,
                      impactor_mass_kg: float, impact_speed_kms: float, epoch_ts: float, seed: int,
                      min_size_m: float, max_fragments: int, norad_base: int) -> Fragments:
    """Fragments (SGP4 element sets at ``epoch_ts``) of a breakup by the NASA Standard Breakup Model of
    ``orbitwatch.effects.breakup``; at most ``max_fragments`` element sets (a random subset, reported)."""
    from datetime import UTC, datetime

    from orbitwatch.effects.breakup import simulate_breakup

    ENGINES.record("breakup", "orbitwatch.effects.breakup.simulate_breakup", "NASA SBM (EVOLVE 4.0)")
    cloud = simulate_breakup(parent, mass_kg=mass_kg, kind=kind, impactor_mass_kg=impactor_mass_kg,
                             impact_speed_kms=impact_speed_kms,
                             epoch=datetime.fromtimestamp(epoch_ts, UTC), rng=seed,
                             min_size_m=min_size_m, max_size_m=max(1.0, min_size_m * 2),
                             elset_min_size_m=min_size_m, object_type=object_type, norad_base=norad_base)
    els = list(cloud.elsets)
    summary = dict(cloud.summary())
    if len(els) > max_fragments:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(els), size=max_fragments, replace=False))
        els = [els[i] for i in keep]
        summary["element_sets_kept"] = max_fragments
        summary["note"] = f"{len(cloud.elsets)} fragment element sets; {max_fragments} kept (max_fragments)"
    # Renumber densely from norad_base so several breakups never collide.
    out = []
    for k, e in enumerate(els):
        out.append(replace(e, norad_id=norad_base + k))
    return Fragments(out, summary)


# ------------------------------------------------------------------------------------------------
# Effects: nuclear detonation (orbitwatch.effects.nuclear, else a documented order-of-magnitude model)

KT_J = 4.184e12
_DIPOLE_POLE = (80.7, -72.7)  # geomagnetic north pole (IGRF-13, 2020), degrees
_HARDNESS_KRAD = {"unhardened": 10.0, "hardened": 300.0}
#: Fallback only: belt dose rate at full exposure for a 1 Mt burst, krad(Si) per day behind typical
#: shielding, chosen so that a Starfish-like burst fails roughly a third of the exposed unhardened LEO
#: satellites within a few months (the 1962 record); the effects engine's model replaces it.
_BELT_KRAD_PER_DAY_PER_MT = 0.3


@dataclass
class NuclearResult:
    prompt: list[int]  # destroyed at detonation
    failures: dict[int, float]  # NORAD -> failure time (UTC s)
    l_shell: float
    summary: dict


def _gmst(ts: np.ndarray) -> np.ndarray:
    d = ts / 86400.0 + 2440587.5 - 2451545.0
    return np.radians((280.46061837 + 360.98564736629 * d) % 360.0)


def _mag_l(r_teme: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Dipole L-shell of TEME positions (n, m, 3) at times (m,)."""
    g = _gmst(ts)
    c, s = np.cos(g), np.sin(g)
    x = c * r_teme[..., 0] + s * r_teme[..., 1]
    y = -s * r_teme[..., 0] + c * r_teme[..., 1]
    z = r_teme[..., 2]
    lat0, lon0 = np.radians(_DIPOLE_POLE[0]), np.radians(_DIPOLE_POLE[1])
    axis = np.array([np.cos(lat0) * np.cos(lon0), np.cos(lat0) * np.sin(lon0), np.sin(lat0)])
    rn = np.sqrt(x * x + y * y + z * z)
    sin_lm = (x * axis[0] + y * axis[1] + z * axis[2]) / rn
    cos2 = np.maximum(1.0 - sin_lm ** 2, 1e-9)
    return rn / 6371.2 / cos2


def nuclear_effects(elsets: Sequence[ElementSet], *, lat: float, lon: float, alt_km: float, yield_kt: float,
                    ts: float, horizon_days: float = 365.0, owners: dict[int, str] | None = None) -> NuclearResult:
    """Satellites lost to a high-altitude burst at ``ts``: prompt X-ray damage in line of sight, and
    failures over time from the artificial belt's dose. Uses
    ``orbitwatch.effects.nuclear.simulate_detonation`` (eccentric-dipole belt calibrated on Starfish
    Prime); a built-in order-of-magnitude model only when that engine is absent."""
    fn = _optional("orbitwatch.effects.nuclear", "simulate_detonation")
    if fn is not None:
        from datetime import UTC, datetime

        ENGINES.record("nuclear", "orbitwatch.effects.nuclear.simulate_detonation",
                       "eccentric-dipole artificial belt, Starfish-calibrated")
        eff = fn(list(elsets), lat=lat, lon=lon, alt_km=alt_km, yield_kt=yield_kt,
                 epoch=datetime.fromtimestamp(ts, UTC), owners=owners)
        prompt = [int(k) for k, killed in zip(eff.norad_ids, eff.prompt_killed, strict=True) if killed]
        failures = {int(k): ts + float(d) * 86400.0 for k, d, killed in
                    zip(eff.norad_ids, eff.failure_day, eff.prompt_killed, strict=True)
                    if not killed and math.isfinite(d) and d <= horizon_days}
        summ = eff.summary()
        summary = {"l_shell": summ["belt"]["l_burst"], "prompt": len(prompt),
                   "failures_within_horizon": len(failures), "horizon_days": round(horizon_days, 1),
                   "model": "orbitwatch.effects.nuclear", "attrition_all": summ["attrition"].get("ALL"),
                   "peak_flux_e_cm2_s": summ["belt"]["peak_flux_e_cm2_s"]}
        return NuclearResult(prompt, failures, float(summ["belt"]["l_burst"]), summary)
    ENGINES.record("nuclear", "built-in order-of-magnitude model", "orbitwatch.effects.nuclear not available")
    return _nuclear_builtin(elsets, lat=lat, lon=lon, alt_km=alt_km, yield_kt=yield_kt, ts=ts,
                            horizon_days=horizon_days)


def _nuclear_builtin(elsets: Sequence[ElementSet], *, lat: float, lon: float, alt_km: float, yield_kt: float,
                     ts: float, horizon_days: float) -> NuclearResult:
    """Fallback: prompt kill above 0.1 J/cm² of X-rays in line of sight; belt dose ∝ yield × the time
    share an orbit spends on the burst's dipole shell (centred-dipole L), unhardened failure at 10 krad."""
    from orbitwatch.exercise.astro import dt_of, satrec_of
    from orbitwatch.kernels.propagation import jd_of, propagate

    burst_lat, burst_lon = math.radians(lat), math.radians(lon)
    rb = (6378.137 + alt_km)
    g0 = float(_gmst(np.array([ts]))[0])
    xb = np.array([rb * math.cos(burst_lat) * math.cos(burst_lon + g0),
                   rb * math.cos(burst_lat) * math.sin(burst_lon + g0), rb * math.sin(burst_lat)])
    l0 = float(_mag_l(xb[None, None, :], np.array([ts]))[0, 0])
    ids = [e.norad_id for e in elsets]
    sats = [satrec_of(e) for e in elsets]
    if not sats:
        return NuclearResult([], {}, l0, {"l_shell": round(l0, 3), "prompt": 0, "failures_within_horizon": 0})
    jd, fr = jd_of(dt_of(ts))
    r0 = propagate(sats, np.array([jd]), np.array([fr])).r[:, 0, :]
    d = np.linalg.norm(r0 - xb, axis=1)
    fluence = 0.7 * yield_kt * KT_J / (4 * math.pi * (d * 1e5) ** 2)
    seg = r0 - xb
    tmin = np.clip(-(seg @ xb) / np.maximum(np.einsum("ij,ij->i", seg, seg), 1e-9), 0.0, 1.0)
    los = np.linalg.norm(xb + seg * tmin[:, None], axis=1) > 6478.0
    prompt_mask = np.isfinite(d) & los & (fluence > 0.1)
    prompt = [ids[i] for i in np.flatnonzero(prompt_mask)]
    m = 96
    tt = ts + np.arange(m) * 900.0
    pr = propagate(sats, np.full(m, jd), fr + (tt - ts) / 86400.0)
    lval = _mag_l(pr.r, tt)
    alt = np.linalg.norm(pr.r, axis=2) - 6378.137
    frac = np.nanmean((lval >= l0 - 0.1) & (lval <= l0 + 0.4) & (alt > 150.0), axis=1)
    tau_days = 365.0 * 3.0 if l0 < 1.7 else 60.0
    rate0 = _BELT_KRAD_PER_DAY_PER_MT * (yield_kt / 1000.0)
    failures: dict[int, float] = {}
    for i, k in enumerate(ids):
        cap = rate0 * frac[i] * tau_days
        need = _HARDNESS_KRAD["unhardened"]
        if prompt_mask[i] or cap <= need:
            continue
        t_days = -tau_days * math.log(1.0 - need / cap)
        if t_days <= horizon_days:
            failures[k] = ts + t_days * 86400.0
    return NuclearResult(prompt, failures, l0, {"l_shell": round(l0, 3), "prompt": len(prompt),
                                                "failures_within_horizon": len(failures), "model": "built-in",
                                                "horizon_days": horizon_days})


# ------------------------------------------------------------------------------------------------
# Effects: GNSS jamming (orbitwatch.effects.jamming, else free-space J/S)

GPS_L1_MHZ = 1575.42
GPS_MIN_SIGNAL_DBW = -158.5


@dataclass
class JammingResult:
    radius_km: float
    denied: dict[str, float]  # nation -> share of its territory denied (0..1)
    summary: dict


def jamming_effect(*, lat: float, lon: float, alt_km: float, eirp_dbw: float, tolerance_db: float,
                   nations: Sequence[str]) -> JammingResult:
    """Area where a GNSS jammer denies L1 C/A reception, and each nation's share of territory in it.

    The denial radius comes from ``orbitwatch.effects.jamming.jamming_map`` (free-space J/S against the
    GPS minimum signal, cut by the radio horizon of the jammer to a receiver at 2 m) or, without it, the
    same free-space model built in. Each nation's share is measured on a 0.5° grid of its territory
    (regions shipped with ``orbitwatch.resilience``)."""
    fn = _optional("orbitwatch.effects.jamming", "jamming_map")
    summary: dict
    if fn is not None:
        ENGINES.record("jamming", "orbitwatch.effects.jamming.jamming_map", "free-space J/S, radio horizon")
        jm = fn(lat, lon, eirp_dbw=eirp_dbw, alt_m=alt_km * 1000.0, tolerance_db=tolerance_db)
        summary = dict(jm.summary())
        radius = float(jm.max_denied_range_km)
        d_js, d_h = summary["free_space_denial_km"], summary["radio_horizon_km"]
    else:
        ENGINES.record("jamming", "built-in free-space J/S", "orbitwatch.effects.jamming not available")
        j_max = GPS_MIN_SIGNAL_DBW + tolerance_db  # received jamming power that denies (dBW)
        d_js = 10 ** ((eirp_dbw - j_max - 32.44 - 20 * math.log10(GPS_L1_MHZ)) / 20.0)  # km
        d_h = 4.12 * (math.sqrt(max(alt_km, 0.0) * 1000.0 + 10.0) + math.sqrt(2.0))
        radius = min(d_js, d_h)
        summary = {}
    denied: dict[str, float] = {}
    from orbitwatch.resilience.geometry import great_circle_km
    from orbitwatch.resilience.regions import partner_region

    for n in nations:
        try:
            g = partner_region(n).grid(0.5)
        except Exception:  # noqa: BLE001 - a nation without a shipped region
            continue
        dist = great_circle_km(g.lat, g.lon, np.full(g.size, lat), np.full(g.size, lon))
        denied[n] = float((g.weights * (dist <= radius)).sum())
    summary.update({"radius_km": round(radius, 1), "js_limited_km": round(float(d_js), 1),
                    "horizon_km": round(float(d_h), 1), "eirp_dbw": eirp_dbw, "tolerance_db": tolerance_db,
                    "denied_share": {k: round(v, 4) for k, v in denied.items() if v > 0}})
    return JammingResult(radius, denied, summary)


# ------------------------------------------------------------------------------------------------
# Service availability (orbitwatch.resilience.gnss)


def gnss_service(elsets: Sequence[ElementSet], nations: Sequence[str], *, start_ts: float,
                 exclude: set[int], hours: float = 6.0, step_s: float = 600.0, step_deg: float = 3.0,
                 jammed: dict[str, float] | None = None) -> dict[str, dict]:
    """Pooled allied GNSS availability over each nation's territory (PDOP ≤ 6, ≥ 4 satellites above
    10°) from ``orbitwatch.resilience.gnss``; satellites in ``exclude`` are lost. ``jammed`` removes the
    denied share of territory. Names of the bundled demo's satellites (``SIM NAVSTAR-1``) are read
    without their ``SIM`` prefix so the resilience name table recognises them."""
    try:
        from orbitwatch.resilience.gnss import gnss_compare
        from orbitwatch.resilience.regions import partner_region
        from orbitwatch.resilience.services import gnss_system
    except ImportError:
        ENGINES.record("gnss", "unavailable", "orbitwatch.resilience.gnss not available")
        return {}
    ENGINES.record("gnss", "orbitwatch.resilience.gnss.gnss_compare", "pooled GPS+Galileo+QZSS")
    renamed = []
    for e in elsets:
        name = e.object_name or ""
        if name.upper().startswith("SIM "):
            name = name[4:]
            e = replace(e, object_name=name)
        if gnss_system(e) is not None:
            renamed.append(e)
    out: dict[str, dict] = {}
    for n in nations:
        try:
            region = partner_region(n)
        except Exception:  # noqa: BLE001 - no shipped outline
            continue
        res = gnss_compare(renamed, region, {"ALLIED": ["GPS", "GALILEO", "QZSS"]}, start=start_ts, hours=hours,
                           step_s=step_s, step_deg=step_deg, exclude=set(exclude))["ALLIED"]
        avail = float(res.availability)
        if jammed and jammed.get(n):
            avail *= 1.0 - jammed[n]
        out[n] = {"availability": round(avail, 4), "satellites": len(res.norad_ids) if hasattr(res, "norad_ids")
                  else None}
    return out
