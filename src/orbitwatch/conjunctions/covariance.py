"""Covariances for conjunction assessment: frame rotations, CDM inputs, and a default model for TLEs.

Frames
------
:func:`rtn_to_inertial` / :func:`inertial_to_rtn` rotate covariances between an object's RTN frame
(R̂ = r/|r|, N̂ = r×v/|r×v|, T̂ = N̂×R̂) and the inertial frame of its state. Position and velocity
blocks are rotated by the same matrix, as NASA CARA's ``RIC2ECI.m`` does (the velocity covariance is
read as the covariance of the inertial velocity expressed along R̂, T̂, N̂; no ω×r term); extra rows
(drag, SRP, thrust) pass through unchanged.

:func:`conjunction_from_cdm` turns a :class:`~orbitwatch.formats.cdm.Cdm` into the inputs of the Pc
kernels (metres, m/s, inertial 6x6 covariances, HBR). ITRF states are rotated to a quasi-inertial
true-of-date frame with IAU-1982 GMST (UT1 ≈ UTC, no polar motion: the frame is off by < 1 arcsec and
a common rotation of both objects does not change the Pc) and the Earth-rotation velocity ω×r added.

Default covariance for TLEs
---------------------------
Two-line element sets carry no covariance, so :func:`default_covariance` models one by orbital regime,
object type and element-set age (days from the TLE epoch to TCA). Each RTN position sigma grows as

    σ(age) = m_type · sqrt(σ0² + (g·age)² + (q·age²)²)        [m]

with the epoch error σ0, a linear growth g [m/day] and, for the along-track sigma, a quadratic growth
q [m/day²] (drag and mean-motion error make along-track errors grow with the square of time in LEO).

The numbers (table :data:`REGIME_MODELS`) were fitted by TLE differencing — propagating each element
set to the epoch of later sets of the same object with SGP4 and taking robust (1.4826·MAD) RTN sigmas
per age bin, the method of Osweiler (2006) and Geul, Mooij & Noomen (2017, "TLE uncertainty estimation
using robust weighted differencing", Adv. Space Res. 59(10)) — on real Space-Track histories of
Jan–May 2023 (project test data ``tle-history/jan-may-2023_15-objects``): LEO from HST and Iridium 71,
MEO from NAVSTAR 61, Galileo 20 and a GLONASS satellite, GEO from TDRS-3 and TDRS-5, HEO from Sirius 3;
manoeuvring objects (ISS, Starlink, station-kept GEO) were excluded. They are consistent with the
published picture of TLE accuracy: errors of order 0.1–1 km at epoch dominated by the along-track
direction and growing by roughly 1–3 km/day in LEO (Vallado & Cefola 2012, "Two-line element sets —
practice and use", IAC-12.C1.6.12; Flohrer, Krag & Klinkrad 2008, "Assessment and categorization of TLE
orbit errors for the US SSN catalogue", AMOS; Flohrer et al. 2009). Differencing also contains the
error of the newer set, so the model is mildly conservative.

Object type multiplies all sigmas (:data:`TYPE_FACTORS`): payloads 1, rocket bodies 1.5, debris and
unknown objects 2. Flohrer et al. (2008) found debris and rocket-body TLEs clearly less accurate than
payload TLEs (fewer tracks, higher and variable area-to-mass); the factors are this project's rounded
assumption, not a fitted result. Velocity sigmas follow from the position sigmas through near-circular
relative motion (Clohessy–Wiltshire): σ_vR = n σ_T/2, σ_vT = 2 n σ_R, σ_vN = n σ_N, with the regime's
typical mean motion n. Correlations are set to zero. Every output names the model version in
:data:`MODEL_SOURCE` so products can say which covariance was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.formats.cdm import Cdm

__all__ = [
    "MODEL_SOURCE",
    "REGIME_MODELS",
    "TYPE_FACTORS",
    "CdmConjunction",
    "RegimeModel",
    "conjunction_from_cdm",
    "default_covariance",
    "default_covariance_batch",
    "gmst_rad",
    "inertial_to_rtn",
    "itrf_to_inertial",
    "rtn_matrix",
    "rtn_to_inertial",
    "tle_differencing_sigmas",
]

MODEL_SOURCE = ("orbitwatch default TLE covariance v1 (RTN sigmas by regime/object type/age, fitted by TLE "
                "differencing; see orbitwatch.conjunctions.covariance)")

EARTH_ROTATION = 7.292115146706979e-5  # rad/s (IERS)


@dataclass(frozen=True)
class RegimeModel:
    """1-sigma RTN position error model of one regime for payload TLEs (metres, days)."""

    sigma0: tuple[float, float, float]  # R, T, N at epoch [m]
    growth: tuple[float, float, float]  # linear growth [m/day]
    growth_quadratic_t: float  # along-track quadratic growth [m/day²]
    mean_motion: float  # typical mean motion [rad/s] for the velocity sigmas


REGIME_MODELS: dict[str, RegimeModel] = {
    "LEO": RegimeModel((30.0, 150.0, 40.0), (30.0, 200.0, 60.0), 150.0, 2 * np.pi / 5700.0),
    "MEO": RegimeModel((30.0, 150.0, 20.0), (80.0, 180.0, 25.0), 0.0, 2 * np.pi / 43080.0),
    "GEO": RegimeModel((100.0, 300.0, 50.0), (300.0, 600.0, 80.0), 100.0, 2 * np.pi / 86164.0),
    "HEO": RegimeModel((100.0, 300.0, 50.0), (110.0, 300.0, 60.0), 20.0, 2 * np.pi / 43080.0),
}

TYPE_FACTORS: dict[str, float] = {"PAYLOAD": 1.0, "ROCKET BODY": 1.5, "DEBRIS": 2.0, "UNKNOWN": 2.0}


def _type_factor(object_type: str | None) -> float:
    if object_type is None:
        return TYPE_FACTORS["UNKNOWN"]
    key = object_type.strip().upper()
    key = {"R/B": "ROCKET BODY", "RB": "ROCKET BODY", "DEB": "DEBRIS", "PAY": "PAYLOAD", "TBA": "UNKNOWN",
           "OTHER": "UNKNOWN"}.get(key, key)
    if key not in TYPE_FACTORS:
        raise ValueError(f"object_type: expected one of {sorted(TYPE_FACTORS)} (or None), got {object_type!r}")
    return TYPE_FACTORS[key]


def _model(regime: str) -> RegimeModel:
    key = regime.strip().upper()
    if key not in REGIME_MODELS:
        raise ValueError(f"regime: expected one of {sorted(REGIME_MODELS)}, got {regime!r}")
    return REGIME_MODELS[key]


def default_covariance_batch(regimes, object_types, age_days) -> tuple[np.ndarray, str]:
    """Vectorised :func:`default_covariance`: arrays of N regimes, N object types (None allowed) and N
    ages [days] → ``(N, 6, 6)`` RTN covariances [m, m/s] and the model source string."""
    regimes = np.atleast_1d(np.asarray(regimes, dtype=object))
    types = np.atleast_1d(np.asarray(object_types, dtype=object))
    age = np.abs(np.atleast_1d(np.asarray(age_days, dtype=float)))
    n = max(len(regimes), len(types), len(age))
    regimes, types, age = (np.broadcast_to(a, (n,)) for a in (regimes, types, age))
    if not np.all(np.isfinite(age)):
        raise ValueError("age_days: element-set ages must be finite numbers of days")
    sig, vel = _default_sigmas(*_model_parameters(regimes, types), age)
    cov = np.zeros((n, 6, 6))
    idx = np.arange(3)
    cov[:, idx, idx] = sig**2
    cov[:, idx + 3, idx + 3] = vel**2
    return cov, MODEL_SOURCE


def _model_parameters(regimes, object_types) -> tuple[np.ndarray, ...]:
    """Per-element parameters of the default model for N regimes and N object types (None allowed):
    ``sigma0`` (N, 3), ``growth`` (N, 3), along-track quadratic growth (N,), mean motion (N,) and type
    factor (N,). Raises ValueError for an unknown regime or object type."""
    regimes = np.asarray(regimes, dtype=object).tolist()
    types = np.asarray(object_types, dtype=object).tolist()
    n = len(regimes)
    # The model's parameters once per distinct regime and object type, then spread by index: a Python
    # loop over N events cost ~4 us each (2.5 s for a week's 316k events, both objects).
    r_codes: dict[str, int] = {}
    ri = np.fromiter((r_codes.setdefault(str(r), len(r_codes)) for r in regimes), dtype=np.int64, count=n)
    t_codes: dict[object, int] = {}
    ti = np.fromiter((t_codes.setdefault(t, len(t_codes)) for t in types), dtype=np.int64, count=n)
    models = [_model(r) for r in r_codes]
    s0 = np.array([m.sigma0 for m in models], dtype=float).reshape(-1, 3)[ri]
    g = np.array([m.growth for m in models], dtype=float).reshape(-1, 3)[ri]
    q = np.array([m.growth_quadratic_t for m in models], dtype=float)[ri]
    nm = np.array([m.mean_motion for m in models], dtype=float)[ri]
    fac = np.array([_type_factor(t) for t in t_codes], dtype=float)[ti]
    return s0, g, q, nm, fac


def _default_sigmas(s0, g, q, nm, fac, age) -> tuple[np.ndarray, np.ndarray]:
    """RTN position sigmas [m] and velocity sigmas [m/s], (N, 3) each, from the parameters of
    :func:`_model_parameters` (indexable per element) and ages [days] (the model of the module docstring)."""
    age = np.abs(np.asarray(age, dtype=float))
    sig = np.sqrt(s0**2 + (g * age[:, None]) ** 2)
    sig[:, 1] = np.sqrt(sig[:, 1] ** 2 + (q * age**2) ** 2)
    sig *= fac[:, None]
    vel = np.stack([nm * sig[:, 1] / 2.0, 2.0 * nm * sig[:, 0], nm * sig[:, 2]], axis=1)
    return sig, vel


def default_covariance(regime: str, object_type: str | None, age_days: float) -> tuple[np.ndarray, str]:
    """Default 6x6 RTN covariance [m², m²/s, m²/s²] of a TLE-derived state (see the module docstring).

    ``regime``: LEO, MEO, GEO or HEO (``ElementSet.regime``); ``object_type``: PAYLOAD, ROCKET BODY,
    DEBRIS, UNKNOWN or None; ``age_days``: |TCA − TLE epoch| in days. Returns the covariance and a
    string naming the model, to be carried into outputs ("which covariance was used").
    """
    cov, src = default_covariance_batch([regime], [object_type], [age_days])
    return cov[0], src


# ------------------------------------------------------------------------------------------ frames

def rtn_matrix(r, v) -> np.ndarray:
    """Rotation matrices M (..., 3, 3) with columns R̂, T̂, N̂: x_inertial = M @ x_rtn."""
    r = np.asarray(r, dtype=float)
    v = np.asarray(v, dtype=float)
    rhat = r / np.linalg.norm(r, axis=-1, keepdims=True)
    h = np.cross(r, v)
    nhat = h / np.linalg.norm(h, axis=-1, keepdims=True)
    that = np.cross(nhat, rhat)
    return np.stack([rhat, that, nhat], axis=-1)


def _block_rotation(m3: np.ndarray, k: int) -> np.ndarray:
    rot = np.zeros((*m3.shape[:-2], k, k))
    eye = np.eye(k)
    rot[...] = eye
    rot[..., :3, :3] = m3
    if k >= 6:
        rot[..., 3:6, 3:6] = m3
    return rot


def rtn_to_inertial(cov_rtn, r, v) -> np.ndarray:
    """Rotate RTN covariance(s) ``(..., k, k)`` (k = 3, 6, ... 9) to the inertial frame of state(s)
    ``r, v`` (``(..., 3)``, any consistent units). Symmetrised like CARA's ``cov_make_symmetric``."""
    c = np.asarray(cov_rtn, dtype=float)
    m = _block_rotation(rtn_matrix(r, v), c.shape[-1])
    out = m @ c @ np.swapaxes(m, -1, -2)
    return 0.5 * (out + np.swapaxes(out, -1, -2))


def inertial_to_rtn(cov, r, v) -> np.ndarray:
    """Inverse of :func:`rtn_to_inertial`."""
    c = np.asarray(cov, dtype=float)
    m = _block_rotation(rtn_matrix(r, v), c.shape[-1])
    out = np.swapaxes(m, -1, -2) @ c @ m
    return 0.5 * (out + np.swapaxes(out, -1, -2))


def gmst_rad(t: datetime) -> float:
    """Greenwich mean sidereal time (IAU 1982, UT1 taken as UTC: < 1 s of time error) [rad]."""
    t = t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    jd = (t - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400.0
    tu = jd / 36525.0
    sec = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * tu + 0.093104 * tu**2 - 6.2e-6 * tu**3
    return (sec % 86400.0) / 86400.0 * 2.0 * np.pi


def itrf_to_inertial(r, v, t: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Earth-fixed position/velocity → quasi-inertial true-of-date (GMST rotation + ω×r); any length unit."""
    th = gmst_rad(t)
    c, s = np.cos(th), np.sin(th)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    r = np.asarray(r, dtype=float)
    v = np.asarray(v, dtype=float)
    w = np.array([0.0, 0.0, EARTH_ROTATION])
    return rot @ r, rot @ (v + np.cross(w, r))


# --------------------------------------------------------------------------------------- from a CDM

@dataclass(frozen=True)
class CdmConjunction:
    """Pc-kernel inputs from a CDM: metres, m/s, 6x6 inertial covariances, combined HBR [m] or None."""

    r1: np.ndarray
    v1: np.ndarray
    cov1: np.ndarray
    r2: np.ndarray
    v2: np.ndarray
    cov2: np.ndarray
    hbr: float | None
    frame: str
    warnings: list[str]


_INERTIAL = {"EME2000", "GCRF", "ICRF", "TEME", "J2000"}


def conjunction_from_cdm(cdm: Cdm, hbr: float | None = None) -> CdmConjunction:
    """States and covariances of both objects in one inertial frame, ready for the Pc kernels.

    REF_FRAME EME2000/GCRF/ICRF/TEME are used as given (inertial); ITRF is rotated with
    :func:`itrf_to_inertial` at the TCA. Each object's RTN covariance (6x6 block) is rotated with its
    own inertial state (CARA convention). ``hbr`` overrides the CDM's ``COMMENT HBR`` value.
    """
    from orbitwatch.errors import ValidationError

    warns: list[str] = []
    states = []
    frames = set()
    for n, obj in enumerate(cdm.objects, start=1):
        frame = (obj.ref_frame or "").upper()
        try:
            r = obj.position_km * 1000.0
            v = obj.velocity_kms * 1000.0
        except KeyError as exc:
            raise ValidationError("state vector incomplete", file=cdm.source, field=str(exc.args[0])) from None
        if frame == "ITRF":
            if cdm.tca is None:
                raise ValidationError("ITRF state needs the TCA to rotate to inertial", file=cdm.source,
                                      field="TCA")
            r, v = itrf_to_inertial(r, v, cdm.tca)
            frames.add("TOD")
            warns.append(f"OBJECT{n} state in ITRF rotated to a quasi-inertial frame with GMST (no polar motion)")
        elif frame in _INERTIAL:
            frames.add(frame)
        else:
            raise ValidationError(f"REF_FRAME {obj.ref_frame!r} not supported (EME2000, GCRF, ICRF, TEME, ITRF)",
                                  file=cdm.source, field="REF_FRAME")
        cov_rtn = obj.covariance_rtn()[:6, :6]
        if not np.all(np.isfinite(cov_rtn)):
            raise ValidationError(f"OBJECT{n} covariance has non-finite elements", file=cdm.source,
                                  field="covariance")
        states.append((r, v, rtn_to_inertial(cov_rtn, r, v)))
    if len(frames) > 1:
        warns.append(f"objects given in different frames {sorted(frames)}; used as one inertial frame")
    (r1, v1, c1), (r2, v2, c2) = states
    return CdmConjunction(r1=r1, v1=v1, cov1=c1, r2=r2, v2=v2, cov2=c2,
                          hbr=hbr if hbr is not None else cdm.hbr_m, frame="/".join(sorted(frames)),
                          warnings=warns)


# ------------------------------------------------------------------------------- model calibration

def tle_differencing_sigmas(line_pairs, bins_days=(0.0, 0.5, 1.5, 3.0, 5.0, 8.0),
                            max_followers: int = 40) -> dict[tuple[float, float], tuple[int, np.ndarray]]:
    """Robust RTN position-difference sigmas [m] between TLE predictions and later TLEs, per age bin.

    ``line_pairs``: TLE (line1, line2) pairs of ONE object in epoch order. Each set is propagated with
    SGP4 to the epochs of its next ``max_followers`` sets; the difference to the later set (in the later
    set's RTN frame) is binned by age, and each bin's sigma is 1.4826 × median absolute deviation.
    Returns {(lo, hi): (count, sigma_rtn)}. This is how :data:`REGIME_MODELS` was fitted; use it to
    re-fit the model on a nation's own catalogue history.
    """
    from sgp4.api import Satrec

    sats = [Satrec.twoline2rv(a, b) for a, b in line_pairs]
    ep = np.array([s.jdsatepoch + s.jdsatepochF for s in sats])
    edges = np.asarray(bins_days, dtype=float)
    acc: dict[int, list[np.ndarray]] = {b: [] for b in range(len(edges) - 1)}
    for i in range(len(sats)):
        for j in range(i + 1, min(i + 1 + max_followers, len(sats))):
            age = ep[j] - ep[i]
            if age <= max(edges[0], 0.0) or age > edges[-1]:
                continue
            e1, r1, _ = sats[i].sgp4(sats[j].jdsatepoch, sats[j].jdsatepochF)
            e2, r2, v2 = sats[j].sgp4(sats[j].jdsatepoch, sats[j].jdsatepochF)
            if e1 or e2:
                continue
            m = rtn_matrix(np.array(r2), np.array(v2))
            b = int(np.searchsorted(edges, age) - 1)
            acc[b].append(m.T @ ((np.array(r1) - np.array(r2)) * 1000.0))
    out = {}
    for b, rows in acc.items():
        if rows:
            a = np.array(rows)
            out[(float(edges[b]), float(edges[b + 1]))] = (
                len(a), 1.4826 * np.median(np.abs(a - np.median(a, axis=0)), axis=0))
    return out
