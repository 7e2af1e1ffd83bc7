"""Manoeuvre detection from an object's element-set history.

Method (details, accuracy and limits in docs/threats.md):

1. **Predict and compare.** Each element set is predicted from its predecessor with SGP4 to the
   successor's epoch; the prediction's *mean* elements (semi-major axis, eccentricity vector,
   inclination, RAAN - SGP4 carries J2 secular rates and B* drag decay) are differenced against the
   successor's own mean elements, and the position difference is expressed in the predecessor's RTN
   frame. Without a manoeuvre these residuals are element-set noise.
2. **Per-object robust noise.** TLE noise is heavy-tailed and differs by object, regime and solar
   activity, so each residual is scaled by a rolling median/MAD of the same object's residuals
   (a centred window of ``window`` pairs) with a physical floor per regime.
3. **Confirm.** A candidate must persist: the set after the candidate, predicted from the set before
   it (skipping the candidate), must also disagree - a single bad element set fails this test.
4. **Group.** Consecutive flagged pairs (the orbit determination takes one or two sets to absorb a
   burn) become one manoeuvre whose window spans them.
5. **Classify and size.** In-plane when the semi-major-axis/eccentricity change is significant,
   out-of-plane when the plane change is; Δv by the Gauss variational equations for near-circular
   orbits, impulsive and minimum-energy (a lower bound): tangential ``Δv_T = n·|Δa|/2`` (and
   ``v·|Δe|/2`` for an eccentricity-vector change, whichever is larger), normal ``Δv_N = 2·v·sin(θ/2)``
   for a plane change ``θ``; total = root-sum-square.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from orbitwatch.errors import PropagationError
from orbitwatch.formats.records import ElementSet, regime_of
from orbitwatch.threats.orbits import (
    RE_KM,
    iso,
    mean_motion_rad_s,
    mean_state,
    plane_angle_rad,
    satrec_of,
    sort_unique,
    to_rtn,
    wrap_pi,
)


@dataclass
class Residuals:
    """Predict-and-compare residuals of one object's history; pair ``k`` joins set ``k`` and ``k+1``.

    Units: km, radians, seconds. ``rtn`` is the successor's position minus the predecessor's
    prediction at the successor's epoch, in the prediction's RTN frame (km).
    """

    norad_id: int
    t: np.ndarray  # (n,) epochs of the sets, unix s
    a_km: np.ndarray  # (n,) mean semi-major axis of each set at its epoch
    e: np.ndarray
    i: np.ndarray
    raan: np.ndarray
    argp: np.ndarray
    da: np.ndarray  # (n-1,) successor minus prediction
    dex: np.ndarray  # eccentricity-vector components (e cos w, e sin w)
    dey: np.ndarray
    di: np.ndarray
    draan: np.ndarray
    dplane: np.ndarray  # plane angle between predicted and observed orbit (rad)
    rtn: np.ndarray  # (n-1, 3)
    ok: np.ndarray  # (n-1,) bool, False where SGP4 failed
    elsets: list[ElementSet] = field(default_factory=list, repr=False)

    @property
    def dt(self) -> np.ndarray:
        return np.diff(self.t)


def compute_residuals(elsets: Sequence[ElementSet]) -> Residuals:
    """Residuals of one object's history (sets are sorted; same-epoch duplicates dropped)."""
    sets = sort_unique(elsets)
    n = len(sets)
    if n == 0:
        raise ValueError("no element sets")
    norad = sets[0].norad_id
    sats = [satrec_of(es) for es in sets]
    t = np.array([es.epoch_unix for es in sets])
    # own mean elements and state at epoch; then each predecessor propagated to its successor's epoch
    own = np.zeros((n, 5))
    own_r = np.zeros((n, 3))
    own_ok = np.ones(n, dtype=bool)
    for k, sat in enumerate(sats):
        err, r, _ = sat.sgp4_tsince(0.0)
        if err:
            own_ok[k] = False
            own[k] = (sat.a * RE_KM, sat.ecco, sat.inclo, sat.nodeo, sat.argpo)
            continue
        own[k] = (sat.am * RE_KM, sat.em, sat.im, sat.Om, sat.om)
        own_r[k] = r
    m = max(n - 1, 0)
    pred = np.zeros((m, 5))
    pr = np.zeros((m, 3))
    pv = np.zeros((m, 3))
    ok = own_ok[1:].copy() if n > 1 else np.zeros(0, dtype=bool)
    for k in range(m):
        sat = sats[k]
        err, r, v = sat.sgp4_tsince((t[k + 1] - t[k]) / 60.0)
        if err:
            ok[k] = False
            continue
        pred[k] = (sat.am * RE_KM, sat.em, sat.im, sat.Om, sat.om)
        pr[k] = r
        pv[k] = v
    obs = own[1:]
    ex_p, ey_p = pred[:, 1] * np.cos(pred[:, 4]), pred[:, 1] * np.sin(pred[:, 4])
    ex_o, ey_o = obs[:, 1] * np.cos(obs[:, 4]), obs[:, 1] * np.sin(obs[:, 4])
    rtn = np.zeros((m, 3))
    if m:
        good = ok & (np.linalg.norm(pr, axis=1) > 0)
        rtn[good] = to_rtn(own_r[1:][good] - pr[good], pr[good], pv[good])
    z = np.where(ok, 1.0, 0.0)
    return Residuals(
        norad, t, own[:, 0], own[:, 1], own[:, 2], own[:, 3], own[:, 4],
        (obs[:, 0] - pred[:, 0]) * z, (ex_o - ex_p) * z, (ey_o - ey_p) * z, (obs[:, 2] - pred[:, 2]) * z,
        wrap_pi(obs[:, 3] - pred[:, 3]) * z,
        plane_angle_rad(pred[:, 2], pred[:, 3], obs[:, 2], obs[:, 3]) * z, rtn, ok, elsets=sets)


def rolling_robust(x: np.ndarray, window: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Centred rolling median and robust sigma (1.4826·MAD, at least ``floor``) of ``x``.

    Uses a strided view so the whole history is one numpy call; edges reuse the nearest full window.
    """
    n = x.size
    if n == 0:
        return x.copy(), x.copy()
    w = min(window, n)
    view = np.lib.stride_tricks.sliding_window_view(x, w)
    med_v = np.median(view, axis=1)
    mad_v = np.median(np.abs(view - med_v[:, None]), axis=1) * 1.4826
    # index the window centred on each sample, clamped at the ends
    idx = np.clip(np.arange(n) - w // 2, 0, view.shape[0] - 1)
    return med_v[idx], np.maximum(mad_v[idx], floor)


# --------------------------------------------------------------------------------------------------
# Detection
@dataclass(frozen=True)
class DetectorConfig:
    """Tunable parameters of the detector (defaults per regime in :data:`DEFAULT_CONFIGS`).

    ``threshold`` is the robust z-score (residual minus rolling median, over 1.4826·MAD) that raises a
    detection; a run of boundaries with z above ``threshold * onset_fraction`` containing one above
    ``threshold`` is one candidate and its first boundary is the onset. ``sums`` are the numbers of
    consecutive pair residuals summed (a burn absorbed by the orbit determination over several
    element sets shows in the sums, not in any single pair). Floors stop quantised or very quiet
    histories from producing infinite z-scores: they are roughly the TLE field resolution.
    """

    window: int = 61
    sums: tuple[int, ...] = (1, 2, 3)
    threshold: float = 10.0
    onset_fraction: float = 0.5
    merge_gap: int = 2
    floor_a_km: float = 5e-5
    floor_along_km: float = 5e-3
    floor_ecc: float = 1e-6
    floor_plane_rad: float = 3e-6
    # Eccentricity and plane residuals are heavier-tailed than SMA ones: they must clear a higher bar.
    ecc_factor: float = 2.0
    plane_factor: float = 1.5
    min_plane_deg: float = 0.002  # smallest plane change reported as out-of-plane (~0.25 m/s in LEO)
    min_delta_v_mps: float = 0.0  # estimated Δv below this is noise for the regime (GEO TLE jumps)
    use_along: bool = True
    lookback: int = 3  # sets before the onset the burn epoch may be placed in (TLE absorption lag)


# Tuned by ``benchmarks/manoeuvres.py --tune LEO|GEO`` (coordinate search, event F1, training split
# only: TOPEX, Jason-1, Jason-2, HY-2A for LEO; Fengyun-2D/2E for GEO). The tuning switched the
# eccentricity and plane features off for LEO (TLE inclination/RAAN steps of ~0.005 deg without any
# manoeuvre outnumber real plane changes there); plane changes are kept, as a threat detector must
# report them, but only above a physical floor of 0.015 deg (~1.9 m/s in LEO), set by hand, not tuned.
_LEO = DetectorConfig(threshold=6.0, onset_fraction=0.3, merge_gap=1, ecc_factor=1e9, plane_factor=3.0,
                      min_plane_deg=0.015, min_delta_v_mps=0.001, use_along=False)
_GEO = DetectorConfig(threshold=30.0, onset_fraction=0.6, merge_gap=1, floor_a_km=5e-3, floor_along_km=0.05,
                      ecc_factor=2.0, plane_factor=3.0, min_plane_deg=0.02, min_delta_v_mps=0.05)
DEFAULT_CONFIGS: dict[str, DetectorConfig] = {
    "LEO": _LEO,
    "MEO": _LEO,
    "GEO": _GEO,
    "HEO": dataclasses.replace(_GEO, threshold=40.0),
}


@dataclass
class Manoeuvre:
    """One detected manoeuvre.

    Times are UTC unix seconds (``epoch_ts`` best estimate, ``[start_ts, end_ts]`` the window it lies
    in: from the last element set consistent with the old orbit to the first set that shows the new
    one). Changes are new minus old mean elements; Δv in m/s (impulsive, minimum-energy estimate).
    ``confidence`` is in [0, 1]; ``score`` the largest robust z-score of the evidence.
    """

    norad_id: int
    epoch_ts: float
    start_ts: float
    end_ts: float
    kind: str
    plane: str
    delta_v_mps: float
    dv_in_plane_mps: float
    dv_out_of_plane_mps: float
    delta_a_km: float
    delta_e: float
    delta_i_deg: float
    delta_raan_deg: float
    plane_change_deg: float
    confidence: float
    score: float
    regime: str
    evidence_epochs: list[str] = field(default_factory=list)
    evidence_element_set_nos: list[int | None] = field(default_factory=list)

    @property
    def epoch(self) -> str:
        return iso(self.epoch_ts)

    def as_dict(self) -> dict:
        d = asdict(self)
        out = {"norad": self.norad_id, "epoch": iso(self.epoch_ts), "start": iso(self.start_ts),
               "end": iso(self.end_ts)}
        for k in ("kind", "plane", "regime"):
            out[k] = d[k]
        for k in ("delta_v_mps", "dv_in_plane_mps", "dv_out_of_plane_mps", "confidence", "score"):
            out[k] = round(float(d[k]), 4)
        out["delta_a_km"] = round(self.delta_a_km, 5)
        out["delta_e"] = round(self.delta_e, 7)
        out["delta_i_deg"] = round(self.delta_i_deg, 5)
        out["delta_raan_deg"] = round(self.delta_raan_deg, 5)
        out["plane_change_deg"] = round(self.plane_change_deg, 5)
        out["evidence_epochs"] = self.evidence_epochs
        out["evidence_element_set_nos"] = self.evidence_element_set_nos
        return out


def _trailing_sum(x: np.ndarray, m: int) -> np.ndarray:
    """Sum of the ``m`` values ending at each index (fewer at the start)."""
    c = np.cumsum(x)
    s = c.copy()
    if m < x.size:
        s[m:] = c[m:] - c[:-m]
    return s


def _z(x: np.ndarray, window: int, floor: float) -> np.ndarray:
    med, sig = rolling_robust(x, window, floor)
    return (x - med) / sig


def boundary_scores(res: Residuals, cfg: DetectorConfig) -> dict[str, np.ndarray]:
    """Robust z-scores per boundary (index ``j`` = change between set ``j-1`` and set ``j``).

    Returns ``{"a": signed z of Δa, "along": |z| of the along-track residual, "ecc": z of the
    eccentricity-vector change, "plane": z of the plane change, "score": the combined score}``, each the
    largest over the trailing sums in ``cfg.sums``. Index 0 (no predecessor) is 0.
    """
    n = res.t.size
    ok = np.r_[False, res.ok]
    base = {
        "a": np.r_[0.0, res.da], "along": np.r_[0.0, res.rtn[:, 1]],
        "ex": np.r_[0.0, res.dex], "ey": np.r_[0.0, res.dey],
        "pi": np.r_[0.0, res.di], "po": np.r_[0.0, res.draan * np.sin(res.i[:-1])] if n > 1 else np.zeros(1),
    }
    for k in base:
        base[k] = np.where(ok, base[k], 0.0)
    za = np.zeros(n)
    zt = np.zeros(n)
    ze = np.zeros(n)
    zp = np.zeros(n)
    for m in cfg.sums:
        a = _z(_trailing_sum(base["a"], m), cfg.window, cfg.floor_a_km)
        za = np.where(np.abs(a) > np.abs(za), a, za)
        if cfg.use_along:
            zt = np.maximum(zt, np.abs(_z(_trailing_sum(base["along"], m), cfg.window, cfg.floor_along_km)))
        e = np.hypot(_z(_trailing_sum(base["ex"], m), cfg.window, cfg.floor_ecc),
                     _z(_trailing_sum(base["ey"], m), cfg.window, cfg.floor_ecc)) / math.sqrt(2.0)
        ze = np.maximum(ze, e)
        p = np.hypot(_z(_trailing_sum(base["pi"], m), cfg.window, cfg.floor_plane_rad),
                     _z(_trailing_sum(base["po"], m), cfg.window, cfg.floor_plane_rad)) / math.sqrt(2.0)
        zp = np.maximum(zp, p)
    # the plane residual must also be physically meaningful, not just unusual for a very quiet object
    plane_sum = np.hypot(_trailing_sum(base["pi"], 1), _trailing_sum(base["po"], 1))
    zp = np.where(np.degrees(plane_sum) >= cfg.min_plane_deg * 0.5, zp, np.minimum(zp, cfg.threshold * 0.49))
    score = np.maximum.reduce([np.abs(za), zt, ze / cfg.ecc_factor, zp / cfg.plane_factor])
    score[~ok] = 0.0
    score[0] = 0.0
    return {"a": za, "along": zt, "ecc": ze, "plane": zp, "score": score}


def detect_manoeuvres(elsets: Sequence[ElementSet], *, config: DetectorConfig | None = None,
                      since: float | None = None, residuals: Residuals | None = None) -> list[Manoeuvre]:
    """Manoeuvres in one object's element-set history (any order; duplicates of an epoch ignored).

    ``config`` defaults to the regime's entry of :data:`DEFAULT_CONFIGS`; ``since`` (unix s) keeps
    only manoeuvres whose window ends after it (the whole history still sets the noise statistics).
    """
    res = residuals if residuals is not None else compute_residuals(elsets)
    n = res.t.size
    if n < 4:
        return []
    sets = res.elsets
    regime = regime_of(float(np.median([es.mean_motion for es in sets])),
                       float(np.median([es.eccentricity for es in sets])))
    cfg = config or DEFAULT_CONFIGS.get(regime, DEFAULT_CONFIGS["LEO"])
    z = boundary_scores(res, cfg)
    score = z["score"]
    lo = cfg.threshold * cfg.onset_fraction
    above = score >= lo
    runs: list[tuple[int, int]] = []
    j = 1
    while j < n:
        if not above[j]:
            j += 1
            continue
        k = j
        while k + 1 < n and above[k + 1]:
            k += 1
        if score[j:k + 1].max() >= cfg.threshold:
            runs.append((j, k))
        j = k + 1
    # runs separated by fewer than merge_gap quiet sets are one manoeuvre being absorbed
    merged: list[list[int]] = []
    for j0, j1 in runs:
        if merged and j0 - merged[-1][1] <= cfg.merge_gap:
            merged[-1][1] = j1
        else:
            merged.append([j0, j1])
    out: list[Manoeuvre] = []
    sats = [satrec_of(es) for es in sets]
    for j0, j1 in merged:
        m = _describe(res, sets, sats, z, j0, j1, cfg, regime)
        if m is None or m.delta_v_mps < cfg.min_delta_v_mps:
            continue
        if since is None or m.end_ts >= since:
            out.append(m)
    return out


def _median_state(sats, t: np.ndarray, idx: Iterable[int], t_ref: float) -> np.ndarray | None:
    """Median (a, ex, ey, i, raan) of the given sets propagated to ``t_ref`` (None if all fail)."""
    rows = []
    for k in idx:
        try:
            ms = mean_state(sats[k], (t_ref - t[k]) / 60.0)
        except PropagationError:
            continue
        rows.append((ms.a_km, ms.e * math.cos(ms.argp), ms.e * math.sin(ms.argp), ms.i, ms.raan))
    if not rows:
        return None
    arr = np.array(rows)
    ref = arr[0, 4]
    arr[:, 4] = ref + wrap_pi(arr[:, 4] - ref)
    return np.median(arr, axis=0)


def _describe(res: Residuals, sets, sats, z: dict[str, np.ndarray], j0: int, j1: int,
              cfg: DetectorConfig, regime: str) -> Manoeuvre | None:
    t = res.t
    n = t.size
    score = z["score"]
    alarm = j0 + int(np.argmax(score[j0:j1 + 1] >= cfg.threshold))
    peak = j0 + int(np.argmax(score[j0:j1 + 1]))
    # old orbit: up to 3 sets before the onset; new orbit: up to 3 sets after the run
    before = range(max(0, j0 - 3), j0)
    after = range(j1, min(n, j1 + 3))
    t_ref = t[alarm]
    old = _median_state(sats, t, before, t_ref)
    new = _median_state(sats, t, after, t_ref)
    if old is None or new is None:
        return None
    da = float(new[0] - old[0])
    de_vec = float(np.hypot(new[1] - old[1], new[2] - old[2]))
    e_old = float(np.hypot(old[1], old[2]))
    e_new = float(np.hypot(new[1], new[2]))
    di = float(new[3] - old[3])
    draan = float(wrap_pi(new[4] - old[4]))
    theta = float(plane_angle_rad(old[3], old[4], new[3], new[4]))
    a = float(old[0])
    n_rad = float(mean_motion_rad_s(a))
    v_kms = n_rad * a
    seg = slice(j0, j1 + 1)
    sig_a = np.abs(z["a"][seg]).max() >= cfg.threshold * cfg.onset_fraction
    sig_along = z["along"][seg].max() >= cfg.threshold * cfg.onset_fraction
    sig_e = z["ecc"][seg].max() >= cfg.threshold * cfg.onset_fraction * cfg.ecc_factor
    sig_p = (z["plane"][seg].max() >= cfg.threshold * cfg.onset_fraction * cfg.plane_factor
             and math.degrees(theta) >= cfg.min_plane_deg)
    in_plane = sig_a or sig_along or sig_e
    # Gauss variational equations, near-circular, impulsive, minimum-energy (tangential) burns:
    # da = 2 a^2 v dv_T / mu = 2 dv_T / n  ->  dv_T = n |da| / 2 ; |de| = 2 dv_T / v ; plane: 2 v sin(theta/2)
    dv_a = n_rad * abs(da) / 2.0 * 1000.0
    dv_e = v_kms * de_vec / 2.0 * 1000.0 if sig_e else 0.0
    dv_in = max(dv_a, dv_e) if in_plane else 0.0
    dv_out = 2.0 * v_kms * math.sin(theta / 2.0) * 1000.0 if sig_p else 0.0
    if not in_plane and not sig_p:
        in_plane = True
        dv_in = max(dv_a, dv_e)
    plane = "both" if in_plane and sig_p else ("out-of-plane" if sig_p else "in-plane")
    kind = _classify(regime, plane, da, a, e_new, sig_p, di)
    # best estimate of the burn epoch: the along-track divergence from the old orbit, back-extrapolated
    earliest = max(j0 - cfg.lookback, 1)
    epoch = _burn_epoch(sats, t, earliest, j1, da, n_rad) if in_plane else 0.5 * (t[j0 - 1] + t[j0])
    end = t[alarm]
    epoch = min(max(epoch, t[earliest - 1]), end)
    # the window starts at the last set before the best estimate (never later than the onset's)
    k = int(np.searchsorted(t, epoch, side="left"))
    start = t[min(max(k - 1, earliest - 1), j0 - 1)]
    smax = float(score[seg].max())
    # Logistic in log-score, 0.5 at the detection threshold; calibrated against the training split
    # (see docs/threats.md: about 0.6 of threshold-level detections and >0.95 above 3x were true).
    conf = float(1.0 / (1.0 + (cfg.threshold / max(smax, 1e-9)) ** 2.5))
    ev = sorted({max(j0 - 1, 0), j0, alarm, peak})
    return Manoeuvre(
        norad_id=res.norad_id, epoch_ts=float(epoch), start_ts=float(start), end_ts=float(end), kind=kind,
        plane=plane, delta_v_mps=float(math.hypot(dv_in, dv_out)), dv_in_plane_mps=float(dv_in),
        dv_out_of_plane_mps=float(dv_out), delta_a_km=da, delta_e=e_new - e_old,
        delta_i_deg=math.degrees(di), delta_raan_deg=math.degrees(draan), plane_change_deg=math.degrees(theta),
        confidence=conf, score=smax, regime=regime,
        evidence_epochs=[iso(t[k]) for k in ev],
        evidence_element_set_nos=[sets[k].element_set_no for k in ev])


def _classify(regime: str, plane: str, da: float, a: float, e_new: float, sig_p: bool, di: float) -> str:
    perigee_alt = a * (1.0 - e_new) - RE_KM
    if plane == "out-of-plane":
        return "station-keeping-ns" if regime == "GEO" else "plane-change"
    if regime == "GEO" and abs(da) < 10.0:
        base = "station-keeping-ew"
    elif da < 0 and perigee_alt + da < 200.0:
        base = "deorbit"
    else:
        base = "raising" if da > 0 else "lowering"
    if plane == "both":
        return base + "+" + ("station-keeping-ns" if regime == "GEO" else "plane-change")
    return base


def _burn_epoch(sats, t: np.ndarray, j0: int, j1: int, da: float, n_rad: float) -> float:
    """Burn time from the along-track divergence of later sets from the last pre-burn set.

    After a tangential burn the along-track offset from the old orbit grows as
    ``-1.5 n Δa (t - t_b)`` (Hill/CW secular drift). Sets ``j0 .. j1+2`` are compared with set ``j0-1``
    propagated to their epochs, and ``t_b`` is the hinge time minimising the absolute misfit of
    ``T(t) = -1.5 n Δa max(0, t - t_b)`` (robust to the odd bad set). Without a usable Δa the onset
    interval's midpoint is returned.
    """
    mid = 0.5 * (t[j0 - 1] + t[j0])
    if abs(da) < 1e-6 or j0 < 1:
        return mid
    ref = sats[j0 - 1]
    rate = -1.5 * n_rad * da  # km/s of along-track drift after the burn
    tk = []
    along = []
    for k in range(j0, min(j1 + 3, t.size)):
        try:
            p = mean_state(ref, (t[k] - t[j0 - 1]) / 60.0)
            o = mean_state(sats[k], 0.0)
        except PropagationError:
            continue
        tk.append(t[k])
        along.append(float(to_rtn(o.r - p.r, p.r, p.v)[1]))
    if len(tk) < 2:
        return mid
    tk_a = np.asarray(tk)
    al = np.asarray(along)
    cand = np.linspace(t[j0 - 1], tk_a[-1], 241)
    model = rate * np.maximum(0.0, tk_a[None, :] - cand[:, None])
    cost = np.abs(al[None, :] - model).sum(axis=1)
    return float(cand[int(np.argmin(cost))])
