"""Rendezvous and proximity operations (RPO) against protected assets.

Two questions are asked of every (asset, foreign object) pair:

1. **Does the object enter the asset's RTN volume?** An ellipsoid in the asset's radial / along-track /
   cross-track frame, semi-axes 10 x 50 x 10 km in LEO by default and 50 km radial x ±0.5° of longitude
   (368 km) along- and cross-track in GEO. :func:`find_approaches` is the one function that answers it:
   it uses the screening pipeline (``orbitwatch.conjunctions.screen``) when that is installed, and a
   self-contained SGP4 grid search with local refinement otherwise (correct, but meant for tens of
   assets, not the whole catalogue).
2. **Is the object behaving co-orbitally?** From both objects' element-set histories
   (:func:`co_orbital_analysis`): near-coplanar, similar semi-major axis, the closest approach per
   revolution decreasing over successive element sets, and the approacher's own manoeuvres (found by
   :mod:`orbitwatch.threats.manoeuvres`) reducing the range. That is the signature of a deliberate
   approach, as opposed to a fast crossing conjunction.

Events carry the state ``DETECTED`` (new pair), ``UPDATED`` (pair seen before and still active) or
``CLOSED`` (pair seen before, no longer inside the volume nor approaching).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sgp4.api import SatrecArray

from orbitwatch.formats.records import ElementSet, regime_of
from orbitwatch.threats.manoeuvres import Manoeuvre, detect_manoeuvres
from orbitwatch.threats.orbits import (
    GEO_RADIUS_KM,
    MU_KM3_S2,
    RE_KM,
    iso,
    plane_angle_rad,
    satrec_of,
    sort_unique,
    to_rtn,
)

_JD_UNIX0 = 2440587.5
STATES = ("DETECTED", "UPDATED", "CLOSED")


@dataclass(frozen=True)
class RtnVolume:
    """An ellipsoid of semi-axes (km) in the asset's RTN frame."""

    radial_km: float
    along_km: float
    cross_km: float

    @property
    def largest_km(self) -> float:
        return max(self.radial_km, self.along_km, self.cross_km)

    def metric(self, rtn: np.ndarray) -> np.ndarray:
        """(R/a)² + (T/b)² + (N/c)²: <= 1 inside. ``rtn`` (..., 3) km."""
        rtn = np.asarray(rtn, dtype=float)
        return ((rtn[..., 0] / self.radial_km) ** 2 + (rtn[..., 1] / self.along_km) ** 2
                + (rtn[..., 2] / self.cross_km) ** 2)


LEO_VOLUME = RtnVolume(10.0, 50.0, 10.0)
_GEO_HALF_SLOT_KM = GEO_RADIUS_KM * math.radians(0.5)
GEO_VOLUME = RtnVolume(50.0, _GEO_HALF_SLOT_KM, _GEO_HALF_SLOT_KM)


def default_volume(es: ElementSet) -> RtnVolume:
    """The default volume for an asset's regime (GEO slot box for GEO, LEO ellipsoid otherwise)."""
    return GEO_VOLUME if es.regime == "GEO" else LEO_VOLUME


@dataclass
class Approach:
    """One passage of ``object`` near ``asset``: time and geometry of the closest point.

    ``rtn_km`` is the object's position relative to the asset in the asset's RTN frame at ``tca_ts``;
    ``metric`` the volume metric there (<= 1 means inside); ``min_metric`` its minimum over the pass.
    """

    asset: int
    object: int
    tca_ts: float
    range_km: float
    rtn_km: tuple[float, float, float]
    relative_speed_kms: float
    min_metric: float

    @property
    def inside(self) -> bool:
        return self.min_metric <= 1.0


# --------------------------------------------------------------------------------------------------
# Approaches inside the RTN volume
def find_approaches(assets: Sequence[ElementSet], others: Sequence[ElementSet], *, start_ts: float,
                    days: float, volume: Callable[[ElementSet], RtnVolume] = default_volume,
                    pair_ok: Callable[[int, int], bool] | None = None, use_screen: bool = True,
                    step_s: float | None = None, owners: Mapping[int, str] | None = None,
                    stage_seconds: dict[str, float] | None = None) -> list[Approach]:
    """Every passage of an object of ``others`` inside an asset's RTN volume in ``[start, start+days]``.

    ``pair_ok(asset_norad, object_norad)`` excludes pairs (same owner, the asset itself...); ``owners``
    (catalogue number -> owner) lets the screening engine skip same-owner pairs before it looks at them
    (a megaconstellation's own satellites, thousands of close pairs), which ``pair_ok`` alone cannot.
    Uses the screening pipeline when available and ``use_screen``; otherwise :func:`approaches_by_grid`.
    ``stage_seconds``: a dict that receives the screening stages' seconds, summed over the volumes.
    """
    if use_screen:
        try:
            from orbitwatch.conjunctions.screen import screen  # noqa: F401
        except ImportError:
            screen = None
        if screen is not None:
            return _approaches_by_screen(assets, others, start_ts=start_ts, days=days, volume=volume,
                                         pair_ok=pair_ok, owners=owners, stage_seconds=stage_seconds)
    return approaches_by_grid(assets, others, start_ts=start_ts, days=days, volume=volume, pair_ok=pair_ok,
                              step_s=step_s)


def _approaches_by_screen(assets, others, *, start_ts, days, volume, pair_ok, owners=None,
                          stage_seconds=None) -> list[Approach]:
    """Adapter to ``orbitwatch.conjunctions.screen.screen`` (primaries = the assets)."""
    from datetime import UTC, datetime

    from orbitwatch.conjunctions.screen import screen

    out: list[Approach] = []
    by_volume: dict[RtnVolume, list[ElementSet]] = {}
    for a in assets:
        by_volume.setdefault(volume(a), []).append(a)
    asset_ids = {a.norad_id for a in assets}
    other_ids = [es.norad_id for es in others]
    pool = list({es.norad_id: es for es in list(assets) + list(others)}.values())
    for vol, group in by_volume.items():
        result = screen(pool, start=datetime.fromtimestamp(start_ts, UTC), days=days,
                        threshold_km=vol.largest_km, primaries=[a.norad_id for a in group], secondaries=other_ids,
                        groups=owners,
                        volume="rtn-ellipsoid", rtn_km=(vol.radial_km, vol.along_km, vol.cross_km),
                        with_pc=False)
        if stage_seconds is not None:
            for key, val in result.stage_seconds.items():
                stage_seconds[key] = stage_seconds.get(key, 0.0) + val
        for c in result.events:
            a_id, o_id = (c.norad1, c.norad2) if c.norad1 in asset_ids else (c.norad2, c.norad1)
            if pair_ok is not None and not pair_ok(a_id, o_id):
                continue
            rtn = np.array([c.r_km, c.t_km, c.n_km], dtype=float)
            if c.norad1 != a_id:  # screen reports object 2 relative to object 1
                rtn = -rtn
            tca = c.tca_unix or c.tca.timestamp()
            # screen decided "inside" over the encounter (linear relative motion); the metric at TCA
            # is reported, capped at 1 so that the approach counts as inside here too
            out.append(Approach(a_id, o_id, float(tca), float(c.miss_km), tuple(map(float, rtn)),
                                float(c.relative_speed_kms), min(float(vol.metric(rtn)), 1.0)))
    return out


def _prefilter(assets, others, margin_km: float, pair_ok) -> list[np.ndarray]:
    """Candidate objects per asset: perigee/apogee shells overlap within ``margin_km``."""
    def shell(elsets):
        a = np.array([es.semi_major_axis_km for es in elsets])
        e = np.array([es.eccentricity for es in elsets])
        return a * (1 - e), a * (1 + e)

    qa, Qa = shell(assets)
    qo, Qo = shell(others)
    ids = np.array([es.norad_id for es in others])
    out = []
    for i, a in enumerate(assets):
        m = (qo <= Qa[i] + margin_km) & (qa[i] <= Qo + margin_km) & (ids != a.norad_id)
        idx = np.flatnonzero(m)
        if pair_ok is not None:
            idx = np.array([j for j in idx if pair_ok(a.norad_id, int(ids[j]))], dtype=int)
        out.append(idx)
    return out


def _jd(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    days = np.asarray(ts, dtype=float) / 86400.0
    whole = np.floor(days)
    return whole + _JD_UNIX0, days - whole


def _states(sats: SatrecArray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    jd, fr = _jd(ts)
    err, r, v = sats.sgp4(jd, fr)
    r[err != 0] = np.nan
    v[err != 0] = np.nan
    return r, v


def approaches_by_grid(assets: Sequence[ElementSet], others: Sequence[ElementSet], *, start_ts: float,
                       days: float, volume: Callable[[ElementSet], RtnVolume] = default_volume,
                       pair_ok: Callable[[int, int], bool] | None = None,
                       step_s: float | None = None) -> list[Approach]:
    """Grid search: SGP4 at ``step_s`` for each asset and its shell-overlapping candidates, then
    local refinement (1 s sampling) of every grid point that could hide a passage inside the volume.

    A grid point can hide a passage when the range is below the volume's largest semi-axis plus the
    distance the pair closes in half a step (relative speed x step / 2), so no passage is missed for
    straight-line relative motion over a step.
    """
    out: list[Approach] = []
    if not assets or not others:
        return out
    vols = [volume(a) for a in assets]
    cands = _prefilter(assets, others, max(v.largest_km for v in vols) + 20.0, pair_ok)
    other_sats = [satrec_of(es) for es in others]
    end_ts = start_ts + days * 86400.0
    for i, a in enumerate(assets):
        idx = cands[i]
        if idx.size == 0:
            continue
        vol = vols[i]
        h = step_s or (600.0 if a.regime == "GEO" else 30.0)
        asat = SatrecArray([satrec_of(a)])
        osats = SatrecArray([other_sats[j] for j in idx])
        # chunk the window so memory stays bounded (candidates x steps x 3 doubles)
        per_chunk = max(16, int(2e6 // max(idx.size, 1)))
        t_all = np.arange(start_ts, end_ts + h, h)
        for c0 in range(0, t_all.size, per_chunk):
            tt = t_all[c0:c0 + per_chunk + 1]
            ra, va = _states(asat, tt)
            ro, vo = _states(osats, tt)
            d = np.linalg.norm(ro - ra, axis=2)  # (k, m)
            dv = np.linalg.norm(vo - va, axis=2)
            reach = vol.largest_km + dv * h * 0.5
            hits = np.argwhere(np.nan_to_num(d, nan=np.inf) <= reach)
            if hits.size == 0:
                continue
            # one refinement per (candidate, contiguous run of grid points)
            for k in np.unique(hits[:, 0]):
                cols = np.sort(hits[hits[:, 0] == k, 1])
                runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
                for run in runs:
                    t0 = tt[max(run[0] - 1, 0)]
                    t1 = tt[min(run[-1] + 1, tt.size - 1)]
                    ap = _refine(asat, other_sats[idx[k]], a.norad_id, others[idx[k]].norad_id, t0, t1, vol)
                    if ap is not None and ap.inside and start_ts <= ap.tca_ts <= end_ts:
                        out.append(ap)
    out.sort(key=lambda x: (x.asset, x.object, x.tca_ts))
    return _dedupe(out)


def _refine(asat: SatrecArray, osat, asset: int, obj: int, t0: float, t1: float,
            vol: RtnVolume) -> Approach | None:
    tt = np.arange(t0, t1 + 1.0, 1.0)
    ra, va = _states(asat, tt)
    ro, vo = _states(SatrecArray([osat]), tt)
    ra, va, ro, vo = ra[0], va[0], ro[0], vo[0]
    good = np.isfinite(ra[:, 0]) & np.isfinite(ro[:, 0])
    if not good.any():
        return None
    rel = ro - ra
    rtn = to_rtn(rel, ra, va)
    metric = np.where(good, vol.metric(rtn), np.inf)
    rng = np.where(good, np.linalg.norm(rel, axis=1), np.inf)
    k = int(np.argmin(rng))
    return Approach(asset, obj, float(tt[k]), float(rng[k]), tuple(float(x) for x in rtn[k]),
                    float(np.linalg.norm(vo[k] - va[k])), float(metric.min()))


def _dedupe(aps: list[Approach]) -> list[Approach]:
    """Merge refinements of one passage (overlapping chunks give the same TCA twice)."""
    out: list[Approach] = []
    for ap in aps:
        if out and out[-1].asset == ap.asset and out[-1].object == ap.object and abs(out[-1].tca_ts - ap.tca_ts) < 60:
            if ap.range_km < out[-1].range_km:
                out[-1] = ap
            continue
        out.append(ap)
    return out


# --------------------------------------------------------------------------------------------------
# Co-orbital behaviour from histories
@dataclass
class CoOrbital:
    """Co-orbital relation of ``object`` to ``asset`` over their histories.

    ``ranges`` are (unix s, closest approach over the following revolution in km) at each element-set
    epoch of either object; ``trend_km_per_day`` the Theil-Sen slope of the last ``window`` ranges;
    ``decreasing_sets`` the longest run of successive decreases.
    """

    asset: int
    object: int
    plane_angle_deg: float
    delta_a_km: float
    ranges: list[tuple[float, float]]
    trend_km_per_day: float
    decreasing_sets: int
    approaching: bool
    sustained: bool
    delta_v_to_close_mps: float
    manoeuvres: list[Manoeuvre] = field(default_factory=list)
    reducing_manoeuvres: list[Manoeuvre] = field(default_factory=list)


def _latest_before(hist: Sequence[ElementSet], ts: np.ndarray) -> np.ndarray:
    t = np.array([es.epoch_unix for es in hist])
    return np.clip(np.searchsorted(t, ts, side="right") - 1, 0, len(hist) - 1)


def closest_over_revolution(es_a: ElementSet, es_b: ElementSet, t_ts: float, *, samples: int = 96,
                            span_s: float | None = None) -> float:
    """Closest distance (km) between the two objects over one revolution of ``es_a`` after ``t_ts``."""
    period = 86400.0 / es_a.mean_motion
    tt = t_ts + np.linspace(0.0, span_s or period, samples)
    r, _ = _states(SatrecArray([satrec_of(es_a), satrec_of(es_b)]), tt)
    d = np.linalg.norm(r[0] - r[1], axis=1)
    return float(np.nanmin(d)) if np.isfinite(d).any() else float("nan")


def delta_v_to_close(es_asset: ElementSet, es_obj: ElementSet, range_km: float, *,
                     time_s: float = 86400.0) -> float:
    """Rough Δv (m/s) for the object to reach the asset within ``time_s``.

    Sum of: matching the semi-major axis (``n |Δa| / 2``), matching the plane (``2 v sin(θ/2)``) and a
    two-burn phasing drift covering the along-track separation in ``time_s`` (``s / (1.5 t)``, from the
    CW drift rate ``1.5 n Δa``). An order-of-magnitude budget, not a trajectory design.
    """
    a = es_asset.semi_major_axis_km
    n = math.sqrt(MU_KM3_S2 / a**3)
    v = n * a
    da = es_obj.semi_major_axis_km - a
    theta = float(plane_angle_rad(math.radians(es_asset.inclination), math.radians(es_asset.raan),
                                  math.radians(es_obj.inclination), math.radians(es_obj.raan)))
    dv = n * abs(da) / 2.0 + 2.0 * v * math.sin(theta / 2.0) + abs(range_km) / (1.5 * time_s)
    return dv * 1000.0


def co_orbital_analysis(asset_hist: Sequence[ElementSet], obj_hist: Sequence[ElementSet], *,
                        since_ts: float | None = None, max_plane_deg: float | None = None,
                        max_delta_a_km: float | None = None, near_km: float | None = None,
                        window: int = 8, manoeuvres: Sequence[Manoeuvre] | None = None) -> CoOrbital | None:
    """Is ``obj`` co-orbital with ``asset`` and closing on it? None when the orbits are not similar.

    Defaults by the asset's regime: LEO plane angle <= 1°, |Δa| <= 25 km, "near" = 200 km; GEO plane
    angle <= 2°, |Δa| <= 100 km, near = 1,000 km (about ±1.4° of longitude). ``sustained`` means
    co-orbital and either the range decreased over at least 3 successive element sets or it stayed
    within ``near_km`` for at least 3 sets spanning a day or more. The approacher's manoeuvres are
    detected from its history (or passed in) and kept when they reduce the range.
    """
    a_hist = sort_unique(asset_hist)
    o_hist = sort_unique(obj_hist)
    if not a_hist or not o_hist:
        return None
    geo = a_hist[-1].regime == "GEO"
    max_plane_deg = max_plane_deg if max_plane_deg is not None else (2.0 if geo else 1.0)
    max_delta_a_km = max_delta_a_km if max_delta_a_km is not None else (100.0 if geo else 25.0)
    near_km = near_km if near_km is not None else (1000.0 if geo else 200.0)
    a_last, o_last = a_hist[-1], o_hist[-1]
    theta = math.degrees(float(plane_angle_rad(math.radians(a_last.inclination), math.radians(a_last.raan),
                                               math.radians(o_last.inclination), math.radians(o_last.raan))))
    da = o_last.semi_major_axis_km - a_last.semi_major_axis_km
    if theta > max_plane_deg or abs(da) > max_delta_a_km:
        return None
    t_obj = np.array([es.epoch_unix for es in o_hist])
    t_ast = np.array([es.epoch_unix for es in a_hist])
    ts = np.unique(np.concatenate([t_obj, t_ast]))
    lo = max(t_obj[0], t_ast[0]) if since_ts is None else max(since_ts, t_obj[0], t_ast[0])
    ts = ts[ts >= lo]
    if ts.size == 0:
        return None
    ia = _latest_before(a_hist, ts)
    io = _latest_before(o_hist, ts)
    ranges = [(float(t), closest_over_revolution(a_hist[i], o_hist[j], float(t)))
              for t, i, j in zip(ts, ia, io, strict=True)]
    r = np.array([x[1] for x in ranges])
    tt = np.array([x[0] for x in ranges])
    ok = np.isfinite(r)
    r, tt = r[ok], tt[ok]
    trend = 0.0
    dec = 0
    if r.size >= 3:
        from scipy.stats import theilslopes

        w = slice(max(0, r.size - window), r.size)
        trend = float(theilslopes(r[w], tt[w] / 86400.0)[0])
        # longest run of successive decreases (an approach that ends in a fly-by still counts)
        run = 0
        for k in range(1, r.size):
            run = run + 1 if r[k] < r[k - 1] else 0
            dec = max(dec, run)
    approaching = bool(r.size >= 3 and trend < 0 and r[-1] < r[max(0, r.size - window)])
    near = r <= near_km
    near_span = tt[near].max() - tt[near].min() if near.sum() >= 3 else 0.0
    sustained = bool(dec >= 3 or (near.sum() >= 3 and near_span >= 86400.0))
    mans = list(manoeuvres) if manoeuvres is not None else detect_manoeuvres(o_hist)
    mans = [m for m in mans if m.end_ts >= lo]
    reducing = [m for m in mans if _reduces_range(a_hist, o_hist, m)]
    dv_close = delta_v_to_close(a_last, o_last, float(r[-1]) if r.size else float("nan"))
    series = [(float(t), float(x)) for t, x in zip(tt, r, strict=True)]
    return CoOrbital(a_last.norad_id, o_last.norad_id, theta, da, series, trend, dec, bool(approaching),
                     sustained, dv_close, mans, reducing)


def co_orbital_candidates(asset: ElementSet, others: Sequence[ElementSet], *, max_plane_deg: float = 2.0,
                          max_delta_a_km: float = 100.0) -> list[ElementSet]:
    """Objects whose latest orbit is near-coplanar with and close in semi-major axis to the asset's
    (vectorised prefilter before :func:`co_orbital_analysis`)."""
    if not others:
        return []
    a = np.array([o.semi_major_axis_km for o in others])
    inc = np.radians([o.inclination for o in others])
    raan = np.radians([o.raan for o in others])
    theta = np.degrees(plane_angle_rad(math.radians(asset.inclination), math.radians(asset.raan), inc, raan))
    keep = (np.abs(a - asset.semi_major_axis_km) <= max_delta_a_km) & (theta <= max_plane_deg)
    return [others[k] for k in np.flatnonzero(keep) if others[k].norad_id != asset.norad_id]


def _reduces_range(a_hist, o_hist, m: Manoeuvre, horizon_s: float = 86400.0) -> bool:
    """Did manoeuvre ``m`` bring the object closer? Compare the mean distance to the asset over the next
    ``horizon_s`` predicted from the last pre-manoeuvre set with that from the first post set."""
    t_o = np.array([es.epoch_unix for es in o_hist])
    kb = int(np.searchsorted(t_o, m.start_ts, side="right") - 1)
    ka = int(np.searchsorted(t_o, m.end_ts, side="left"))
    if kb < 0 or ka >= len(o_hist):
        return False
    t_ref = o_hist[ka].epoch_unix
    asset = a_hist[int(_latest_before(a_hist, np.array([t_ref]))[0])]
    tt = t_ref + np.linspace(0.0, horizon_s, 97)
    r, _ = _states(SatrecArray([satrec_of(o_hist[kb]), satrec_of(o_hist[ka]), satrec_of(asset)]), tt)
    before = float(np.nanmean(np.linalg.norm(r[0] - r[2], axis=1)))
    after = float(np.nanmean(np.linalg.norm(r[1] - r[2], axis=1)))
    return bool(np.isfinite(before) and np.isfinite(after) and after < before)


# --------------------------------------------------------------------------------------------------
# Events
@dataclass
class ProximityEvent:
    """What ``orbitwatch detect proximity`` reports for one (asset, object) pair."""

    asset: int
    object: int
    state: str
    closest_km: float | None
    tca_ts: float | None
    rtn_km: tuple[float, float, float] | None
    relative_speed_kms: float | None
    sustained: bool
    inside_volume: bool
    approaches: int = 0
    co_orbital: CoOrbital | None = None
    delta_v_to_close_mps: float | None = None
    regime: str = "LEO"
    asset_owner: str | None = None
    object_owner: str | None = None
    evidence_epochs: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (self.asset, self.object)

    def as_dict(self) -> dict:
        co = self.co_orbital
        return {
            "asset": self.asset, "object": self.object, "state": self.state,
            "closest_km": None if self.closest_km is None else round(self.closest_km, 3),
            "tca": None if self.tca_ts is None else iso(self.tca_ts),
            "rtn_km": None if self.rtn_km is None else [round(x, 3) for x in self.rtn_km],
            "relative_speed_kms": None if self.relative_speed_kms is None else round(self.relative_speed_kms, 5),
            "sustained": self.sustained, "inside_volume": self.inside_volume, "approaches": self.approaches,
            "regime": self.regime, "asset_owner": self.asset_owner, "object_owner": self.object_owner,
            "delta_v_to_close_mps": None if self.delta_v_to_close_mps is None else round(self.delta_v_to_close_mps, 3),
            "co_orbital": None if co is None else {
                "plane_angle_deg": round(co.plane_angle_deg, 4), "delta_a_km": round(co.delta_a_km, 3),
                "trend_km_per_day": round(co.trend_km_per_day, 3), "decreasing_sets": co.decreasing_sets,
                "approaching": co.approaching, "last_range_km": round(co.ranges[-1][1], 3) if co.ranges else None,
            },
            "manoeuvres": [] if co is None else [m.as_dict() for m in co.reducing_manoeuvres],
            "evidence_epochs": self.evidence_epochs,
        }


def build_events(approaches: Iterable[Approach], co_orbitals: Iterable[CoOrbital], *,
                 regimes: Mapping[int, str] | None = None, owners: Mapping[int, str | None] | None = None,
                 elsets: Mapping[int, ElementSet] | None = None) -> list[ProximityEvent]:
    """One event per pair with an approach inside the volume or a sustained/approaching co-orbital
    relation (state DETECTED; :func:`merge_states` sets UPDATED/CLOSED against earlier events)."""
    regimes = regimes or {}
    owners = owners or {}
    by_pair: dict[tuple[int, int], list[Approach]] = {}
    for ap in approaches:
        by_pair.setdefault((ap.asset, ap.object), []).append(ap)
    cos = {(c.asset, c.object): c for c in co_orbitals if c.sustained or c.approaching}
    out = []
    for key in sorted(set(by_pair) | set(cos)):
        aps = by_pair.get(key, [])
        best = min(aps, key=lambda x: x.range_km) if aps else None
        co = cos.get(key)
        dv = co.delta_v_to_close_mps if co else None
        if dv is None and best is not None and elsets and key[0] in elsets and key[1] in elsets:
            dv = delta_v_to_close(elsets[key[0]], elsets[key[1]], best.range_km)
        closest = best.range_km if best else (co.ranges[-1][1] if co and co.ranges else None)
        tca = best.tca_ts if best else (co.ranges[-1][0] if co and co.ranges else None)
        ev = []
        if elsets:
            ev = [iso(elsets[k].epoch_unix) for k in key if k in elsets]
        out.append(ProximityEvent(
            asset=key[0], object=key[1], state="DETECTED", closest_km=closest, tca_ts=tca,
            rtn_km=best.rtn_km if best else None, relative_speed_kms=best.relative_speed_kms if best else None,
            sustained=bool(co.sustained) if co else False, inside_volume=bool(aps), approaches=len(aps),
            co_orbital=co, delta_v_to_close_mps=dv, regime=regimes.get(key[0], "LEO"),
            asset_owner=owners.get(key[0]), object_owner=owners.get(key[1]), evidence_epochs=ev))
    return out


def merge_states(current: Sequence[ProximityEvent], previous: Iterable[tuple[int, int]]) -> list[ProximityEvent]:
    """Set states against the pairs that had open events before: new -> DETECTED, again -> UPDATED,
    previously open but absent now -> a CLOSED event."""
    prev = set(previous)
    out = []
    seen = set()
    for ev in current:
        ev.state = "UPDATED" if ev.key in prev else "DETECTED"
        seen.add(ev.key)
        out.append(ev)
    for key in sorted(prev - seen):
        out.append(ProximityEvent(asset=key[0], object=key[1], state="CLOSED", closest_km=None, tca_ts=None,
                                  rtn_km=None, relative_speed_kms=None, sustained=False, inside_volume=False))
    return out


# --------------------------------------------------------------------------------------------------
# Protected assets
def protected_assets(objects: Iterable[Mapping], *, nations: Iterable[str] | None = None,
                     extra: Iterable[int] = ()) -> set[int]:
    """NORAD ids of payloads owned by the partner ``nations`` (trigraphs; default all ten), plus ``extra``.

    ``objects`` are SATCAT-like mappings with ``norad_id``, ``object_type`` and ``owner`` (SATCAT code)
    or ``owner_nation`` (trigraph).
    """
    from orbitwatch.formats.records import owner_trigraph
    from orbitwatch.markings import NATIONS

    wanted = {n.upper() for n in (nations or NATIONS)}
    out = set(int(x) for x in extra)
    for o in objects:
        tri = o.get("owner_nation") or owner_trigraph(o.get("owner"))
        if tri in wanted and (o.get("object_type") or "").upper().startswith("PAY"):
            out.add(int(o["norad_id"]))
    return out


def regime_of_elset(es: ElementSet) -> str:
    return regime_of(es.mean_motion, es.eccentricity)


def altitude_km(es: ElementSet) -> float:
    return es.semi_major_axis_km - RE_KM
