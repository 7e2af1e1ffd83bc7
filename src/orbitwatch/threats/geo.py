"""GEO neighbourhood watch: longitude slots, drift, and the drift-and-stop approach signature.

For near-geostationary objects the useful coordinates are the sub-satellite longitude (degrees East)
and its drift rate. Longitude comes from SGP4 (TEME) rotated to the Earth-fixed frame by Greenwich
mean sidereal time (``orbitwatch.kernels.frames.teme_to_itrf``); the mean drift rate from the mean
motion, ``dλ/dt = 360·(n - n_sync)`` deg/day with ``n`` in rev/day and
``n_sync = 1.00273790935`` rev/day (one sidereal day).

*Co-location*: a foreign object within ±``half_width_deg`` of an allied GEO asset's longitude and
within ``radial_km`` of its radius. *Drift-and-stop*: in the object's history, an earlier phase
drifting (|dλ/dt| above ``drift_deg_day``) with the longitude gap to the asset shrinking, and a
latest phase stopped (|dλ/dt| below ``stopped_deg_day``) within ``near_deg`` of the asset - what a
satellite moving in to inspect a neighbour looks like.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sgp4.api import SatrecArray

from orbitwatch.formats.records import ElementSet
from orbitwatch.threats.orbits import iso, satrec_of, sort_unique

N_SYNC_REV_DAY = 1.00273790935
_JD_UNIX0 = 2440587.5


def drift_rate_deg_day(mean_motion_rev_day: float | np.ndarray) -> float | np.ndarray:
    """Mean longitude drift (deg/day, positive eastward) from the mean motion (rev/day)."""
    # inertial rate 360·n minus the Earth's 360·n_sync: faster than synchronous drifts east
    return 360.0 * (np.asarray(mean_motion_rev_day, dtype=float) - N_SYNC_REV_DAY)


def longitudes(elsets: Sequence[ElementSet], t_ts: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-satellite longitude (deg East, -180..180) and geocentric radius (km) of each element set at
    ``t_ts`` (unix s, scalar or one time per set)."""
    from orbitwatch.kernels.frames import teme_to_itrf

    sats = SatrecArray([satrec_of(es) for es in elsets])
    ts = np.broadcast_to(np.asarray(t_ts, dtype=float), (len(elsets),))
    uniq = np.unique(ts)
    lon = np.full(len(elsets), np.nan)
    rad = np.full(len(elsets), np.nan)
    days = uniq / 86400.0
    jd = np.floor(days) + _JD_UNIX0
    fr = days - np.floor(days)
    err, r, v = sats.sgp4(jd, fr)
    for j, t in enumerate(uniq):
        sel = ts == t
        rr = r[sel, j]
        vv = v[sel, j]
        ok = err[sel, j] == 0
        x, _ = teme_to_itrf(rr, vv, t)
        lo = np.degrees(np.arctan2(x[:, 1], x[:, 0]))
        ra = np.linalg.norm(x, axis=1)
        lon[np.flatnonzero(sel)[ok]] = lo[ok]
        rad[np.flatnonzero(sel)[ok]] = ra[ok]
    return lon, rad


def wrap180(x: float | np.ndarray) -> float | np.ndarray:
    return (np.asarray(x) + 180.0) % 360.0 - 180.0


@dataclass
class GeoNeighbour:
    """A foreign object in an allied GEO asset's slot at ``t_ts``."""

    asset: int
    object: int
    t_ts: float
    asset_longitude_deg: float
    delta_longitude_deg: float
    delta_radius_km: float
    object_drift_deg_day: float
    range_km: float

    def as_dict(self) -> dict:
        return {"asset": self.asset, "object": self.object, "time": iso(self.t_ts),
                "asset_longitude_deg": round(self.asset_longitude_deg, 4),
                "delta_longitude_deg": round(self.delta_longitude_deg, 4),
                "delta_radius_km": round(self.delta_radius_km, 2),
                "object_drift_deg_day": round(self.object_drift_deg_day, 4), "range_km": round(self.range_km, 2)}


def neighbourhood(assets: Sequence[ElementSet], others: Sequence[ElementSet], t_ts: float, *,
                  half_width_deg: float = 0.5, radial_km: float = 50.0,
                  pair_ok=None) -> list[GeoNeighbour]:
    """Foreign objects inside each GEO asset's slot (±``half_width_deg``, ±``radial_km``) at ``t_ts``.

    Vectorised over the whole GEO belt: one SGP4 call for all objects, then a sort by longitude.
    """
    geo_assets = [a for a in assets if a.regime == "GEO"]
    geo_others = [o for o in others if o.regime == "GEO"]
    if not geo_assets or not geo_others:
        return []
    la, ra = longitudes(geo_assets, t_ts)
    lo, ro = longitudes(geo_others, t_ts)
    drift = np.array([drift_rate_deg_day(o.mean_motion) for o in geo_others])
    out = []
    order = np.argsort(lo)
    lo_s = lo[order]
    for i, a in enumerate(geo_assets):
        if not np.isfinite(la[i]):
            continue
        # candidates by longitude window (handles the ±180 seam by checking both shifted copies)
        idx = []
        for shift in (-360.0, 0.0, 360.0):
            lo_b = np.searchsorted(lo_s, la[i] - half_width_deg + shift)
            hi_b = np.searchsorted(lo_s, la[i] + half_width_deg + shift, side="right")
            idx.extend(order[lo_b:hi_b])
        for j in idx:
            o = geo_others[j]
            if o.norad_id == a.norad_id or (pair_ok is not None and not pair_ok(a.norad_id, o.norad_id)):
                continue
            dr = float(ro[j] - ra[i])
            if abs(dr) > radial_km:
                continue
            dl = float(wrap180(lo[j] - la[i]))
            rng = math.hypot(dr, math.radians(dl) * ra[i])
            out.append(GeoNeighbour(a.norad_id, o.norad_id, float(t_ts), float(la[i]), dl, dr, float(drift[j]),
                                    rng))
    return out


def stopped_near(asset: ElementSet, others: Sequence[ElementSet], t_ts: float, *, near_deg: float = 1.0,
                 stopped_deg_day: float = 0.02) -> list[ElementSet]:
    """GEO objects now within ``near_deg`` of the asset and (nearly) not drifting: the only ones a
    drift-and-stop can end in (vectorised prefilter before :func:`drift_and_stop`)."""
    cands = [o for o in others
             if o.norad_id != asset.norad_id and abs(drift_rate_deg_day(o.mean_motion)) <= stopped_deg_day]
    if not cands:
        return []
    lon_a, _ = longitudes([asset], t_ts)
    lon, _ = longitudes(cands, t_ts)
    gap = np.abs(wrap180(lon - lon_a[0]))
    return [cands[k] for k in np.flatnonzero(gap <= near_deg)]


@dataclass
class DriftAndStop:
    """An object that drifted toward an allied GEO asset and stopped near it."""

    asset: int
    object: int
    drift_start_ts: float
    stop_ts: float
    initial_gap_deg: float
    final_gap_deg: float
    max_drift_deg_day: float
    final_drift_deg_day: float
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (t, gap deg, drift deg/day)

    def as_dict(self) -> dict:
        return {"asset": self.asset, "object": self.object, "drift_start": iso(self.drift_start_ts),
                "stop": iso(self.stop_ts), "initial_gap_deg": round(self.initial_gap_deg, 3),
                "final_gap_deg": round(self.final_gap_deg, 3),
                "max_drift_deg_day": round(self.max_drift_deg_day, 4),
                "final_drift_deg_day": round(self.final_drift_deg_day, 4)}


def drift_and_stop(asset_hist: Sequence[ElementSet], obj_hist: Sequence[ElementSet], *,
                   drift_deg_day: float = 0.05, stopped_deg_day: float = 0.02, near_deg: float = 1.0,
                   min_closing_deg: float = 1.0) -> DriftAndStop | None:
    """The drift-and-stop signature of ``obj`` relative to ``asset`` in their histories, or None.

    Evaluated at each element-set epoch of the object (the asset's latest set before it): gap =
    object longitude minus asset longitude, drift from the object's mean motion. Requires an earlier
    drifting phase that closed the gap by at least ``min_closing_deg`` and a final stopped phase within
    ``near_deg``.
    """
    a_hist = sort_unique(asset_hist)
    o_hist = sort_unique(obj_hist)
    if len(o_hist) < 3 or not a_hist:
        return None
    t = np.array([es.epoch_unix for es in o_hist])
    t_a = np.array([es.epoch_unix for es in a_hist])
    ia = np.clip(np.searchsorted(t_a, t, side="right") - 1, 0, len(a_hist) - 1)
    lon_o, _ = longitudes(o_hist, t)
    lon_a, _ = longitudes([a_hist[k] for k in ia], t)
    gap = np.asarray(wrap180(lon_o - lon_a))
    drift = np.array([drift_rate_deg_day(es.mean_motion) for es in o_hist])
    if not (abs(gap[-1]) <= near_deg and abs(drift[-1]) <= stopped_deg_day):
        return None
    drifting = np.abs(drift) >= drift_deg_day
    if not drifting.any():
        return None
    last_drift = int(np.flatnonzero(drifting)[-1])
    first = int(np.flatnonzero(drifting)[0])
    # the drift must have been toward the asset: the gap shrank over the drifting phase
    closing = abs(gap[first]) - abs(gap[min(last_drift + 1, len(gap) - 1)])
    if closing < min_closing_deg:
        return None
    stop = min(last_drift + 1, len(t) - 1)
    return DriftAndStop(a_hist[-1].norad_id, o_hist[-1].norad_id, float(t[first]), float(t[stop]),
                        float(gap[first]), float(gap[-1]), float(np.abs(drift[first:stop + 1]).max()),
                        float(drift[-1]),
                        [(float(a), float(b), float(c)) for a, b, c in zip(t, gap, drift, strict=True)])
