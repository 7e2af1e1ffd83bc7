"""Coverage and revisit of a region by a set of satellites (communications or ISR).

A ground point is *covered* at a time step when at least one satellite of the set sees it:
- ``min_elevation_deg``: the satellite is at least that high above the point's horizon (user terminal
  view, communications), or
- ``half_angle_deg``: the point lies inside a nadir-pointing sensor cone of that half-angle (and above
  the horizon) - imaging/ISR.

Metrics over a time window sampled every ``step_s``:
- ``percent_coverage``: area-weighted mean share of time covered (%);
- ``max_gap_s``: the longest uncovered interval at any point (gaps touching the window edges are
  truncated by the window, so the window must be long compared with the revisit);
- ``mean_gap_s``: area-weighted mean of each point's mean gap duration;
- ``mean_revisit_s``: area-weighted mean of window / number of accesses (time between pass starts;
  0 for a point that is never uncovered; points never covered are left out and counted apart).

Work is restricted to the satellites that can see the region at each step (a spherical-cap test on
each satellite's footprint), so mega-constellations over one nation stay cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience._sgp4 import ecef_positions
from orbitwatch.resilience.geometry import EARTH_MEAN_RADIUS_KM, geodetic_to_ecef, up_vectors
from orbitwatch.resilience.gnss import time_grid
from orbitwatch.resilience.regions import Grid, Region


@dataclass
class CoverageResult:
    """Coverage of one satellite set: ``covered`` and ``nview`` are ``(P, T)``."""

    label: str
    norad_ids: tuple[int, ...]
    serving_ids: tuple[int, ...]  # satellites that covered some point at some step
    times_unix: np.ndarray
    grid: Grid
    covered: np.ndarray
    nview: np.ndarray
    criterion: str
    criterion_deg: float

    @property
    def step_s(self) -> float:
        return float(self.times_unix[1] - self.times_unix[0]) if self.times_unix.size > 1 else 0.0

    @property
    def window_s(self) -> float:
        return self.step_s * self.times_unix.size

    def gap_stats(self) -> dict[str, np.ndarray]:
        """Per point: longest gap, mean gap and number of accesses (runs of covered steps)."""
        return _runs(self.covered, self.step_s)

    def summary(self) -> dict:
        st = self.gap_stats()
        w = self.grid.weights
        frac = self.covered.mean(axis=1)
        acc = st["accesses"]
        # time between the starts of successive accesses; 0 where the point is never uncovered
        revisit = np.where(st["gaps"] == 0, 0.0, np.where(acc > 0, self.window_s / np.maximum(acc, 1), np.inf))
        finite = np.isfinite(revisit)
        return {
            "label": self.label, "satellites": len(self.norad_ids), "serving": len(self.serving_ids),
            "criterion": self.criterion, "criterion_deg": self.criterion_deg,
            "percent_coverage": round(100.0 * float(np.sum(w * frac)), 3),
            "worst_point_percent": round(100.0 * float(frac.min()), 3) if frac.size else None,
            "max_gap_s": float(st["max_gap"].max()) if frac.size else None,
            "mean_gap_s": round(float(np.sum(w * st["mean_gap"])), 1),
            "mean_revisit_s": (round(float(np.sum(w[finite] * revisit[finite]) / w[finite].sum()), 1)
                               if finite.any() else None),
            "points_never_covered": int(np.count_nonzero(acc == 0)),
            "mean_in_view": round(float(np.sum(w * self.nview.mean(axis=1))), 3),
            "window_s": self.window_s, "step_s": self.step_s, "grid_points": self.grid.size,
        }


def _runs(covered: np.ndarray, step_s: float) -> dict[str, np.ndarray]:
    """Gap (False-run) and access (True-run) statistics per row of a (P, T) boolean array."""
    p_count, _ = covered.shape

    def run_lengths(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        padded = np.zeros((p_count, mask.shape[1] + 2), np.int8)
        padded[:, 1:-1] = mask
        d = np.diff(padded, axis=1)
        sr, sc = np.nonzero(d == 1)
        _er, ec = np.nonzero(d == -1)  # same row-major order as the starts
        return sr, ec - sc

    grow, glen = run_lengths(~covered)
    arow, _ = run_lengths(covered)
    max_gap = np.zeros(p_count)
    np.maximum.at(max_gap, grow, glen * step_s)
    n_gaps = np.bincount(grow, minlength=p_count)
    sum_gaps = np.bincount(grow, weights=glen * step_s, minlength=p_count)
    mean_gap = np.where(n_gaps > 0, sum_gaps / np.maximum(n_gaps, 1), 0.0)
    return {"max_gap": max_gap, "mean_gap": mean_gap, "gaps": n_gaps,
            "accesses": np.bincount(arow, minlength=p_count)}


def _footprint_rad(r_km: np.ndarray, criterion: str, deg: float) -> np.ndarray:
    """Earth-central half-angle of each satellite's footprint (spherical Earth, used to prune)."""
    re = EARTH_MEAN_RADIUS_KM
    ratio = np.clip(re / r_km, -1, 1)
    horizon = np.arccos(ratio)
    if criterion == "min_elevation":
        eps = np.radians(deg)
        return np.clip(np.arccos(np.clip(ratio * np.cos(eps), -1, 1)) - eps, 0, None)
    eta = np.radians(deg)
    s = r_km * np.sin(eta) / re
    lam = np.where(s < 1, np.arcsin(np.clip(s, -1, 1)) - eta, horizon)
    return np.minimum(lam, horizon)


def coverage_groups(sat_ecef: np.ndarray, grid: Grid, groups: Mapping[str, np.ndarray], *,
                    min_elevation_deg: float | None = None, half_angle_deg: float | None = None
                    ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Kernel: for each named satellite subset (boolean ``(S,)`` masks) -> ``(covered, nview, served)``.

    ``covered``/``nview`` are ``(P, T)``; ``served`` is ``(S,)`` bool (satellite covered something).
    The visibility of every (point, satellite) pair is computed once per step and shared by all groups.
    """
    criterion, deg = _criterion(min_elevation_deg, half_angle_deg)
    s_count, t_count = sat_ecef.shape[0], sat_ecef.shape[1]
    g = geodetic_to_ecef(grid.lat, grid.lon, 0.0)
    up = up_vectors(grid.lat, grid.lon)
    gu = g / np.linalg.norm(g, axis=1)[:, None]
    centre = gu.mean(axis=0)
    centre /= np.linalg.norm(centre)
    region_radius = float(np.max(np.arccos(np.clip(gu @ centre, -1, 1))))
    sin_e = np.sin(np.radians(deg)) if criterion == "min_elevation" else 0.0
    cos_eta = np.cos(np.radians(deg)) if criterion == "half_angle" else 0.0
    masks = {k: np.asarray(m, dtype=bool) for k, m in groups.items()}
    p_count = g.shape[0]
    out = {k: (np.zeros((p_count, t_count), bool), np.zeros((p_count, t_count), np.int16),
               np.zeros(s_count, bool)) for k in masks}
    rn = np.linalg.norm(sat_ecef, axis=-1)  # (S, T)
    with np.errstate(invalid="ignore"):
        ang = np.arccos(np.clip(np.einsum("stk,k->st", sat_ecef, centre) / rn, -1, 1))
        near = (ang <= region_radius + _footprint_rad(rn, criterion, deg) + 0.01) & np.isfinite(rn)
    any_mask = np.zeros(s_count, bool)
    for m in masks.values():
        any_mask |= m
    near &= any_mask[:, None]
    for t in range(t_count):
        idx = np.flatnonzero(near[:, t])
        if idx.size == 0:
            continue
        s = sat_ecef[idx, t, :]  # (k, 3)
        los = s[None, :, :] - g[:, None, :]  # (P, k, 3)
        rng = np.linalg.norm(los, axis=-1)
        up_comp = np.einsum("pkj,pj->pk", los, up)
        if criterion == "min_elevation":
            vis = up_comp >= sin_e * rng
        else:
            nadir = -s / np.linalg.norm(s, axis=1)[:, None]
            off = np.einsum("pkj,kj->pk", -los, nadir)  # (g - s) . nadir
            vis = (up_comp >= 0) & (off >= cos_eta * rng)
        for k, m in masks.items():
            sel = m[idx]
            if not sel.any():
                continue
            v = vis[:, sel]
            cnt = v.sum(axis=1)
            cov, nv, served = out[k]
            cov[:, t] = cnt > 0
            nv[:, t] = cnt
            served[idx[sel]] |= v.any(axis=0)
    return out


def _criterion(min_elevation_deg: float | None, half_angle_deg: float | None) -> tuple[str, float]:
    if (min_elevation_deg is None) == (half_angle_deg is None):
        raise ValidationError("give exactly one of min_elevation_deg (comms) or half_angle_deg (sensor)",
                              field="criterion")
    if min_elevation_deg is not None:
        if not -5 <= min_elevation_deg < 90:
            raise ValidationError(f"minimum elevation must be in [-5, 90) deg, got {min_elevation_deg}",
                                  field="min_elevation_deg")
        return "min_elevation", float(min_elevation_deg)
    if not 0 < half_angle_deg < 90:  # type: ignore[operator]
        raise ValidationError(f"sensor half-angle must be in (0, 90) deg, got {half_angle_deg}",
                              field="half_angle_deg")
    return "half_angle", float(half_angle_deg)  # type: ignore[arg-type]


def coverage_compare(elsets: Sequence[ElementSet], where: Region | Grid, groups: Mapping[str, Sequence[int]], *,
                     start: datetime | float, hours: float = 24.0, step_s: float = 60.0, step_deg: float = 1.0,
                     min_elevation_deg: float | None = None, half_angle_deg: float | None = None,
                     ) -> dict[str, CoverageResult]:
    """Coverage of several satellite groups (label -> NORAD ids) over one region, sharing geometry."""
    _criterion(min_elevation_deg, half_angle_deg)
    grid = where if isinstance(where, Grid) else where.grid(step_deg)
    times = time_grid(start, hours, step_s)
    wanted = set().union(*[set(v) for v in groups.values()]) if groups else set()
    sats = [e for e in elsets if e.norad_id in wanted]
    ids = np.array([e.norad_id for e in sats], dtype=np.int64)
    ecef = ecef_positions(sats, times)[0] if sats else np.zeros((0, times.size, 3))
    masks = {k: np.isin(ids, np.fromiter(v, dtype=np.int64)) for k, v in groups.items()}
    raw = coverage_groups(ecef, grid, masks, min_elevation_deg=min_elevation_deg, half_angle_deg=half_angle_deg)
    criterion, deg = _criterion(min_elevation_deg, half_angle_deg)
    out = {}
    for k, (cov, nv, served) in raw.items():
        out[k] = CoverageResult(k, tuple(int(x) for x in ids[masks[k]]), tuple(int(x) for x in ids[served]),
                                times, grid, cov, nv, criterion, deg)
    return out


def coverage(elsets: Sequence[ElementSet], where: Region | Grid, *, start: datetime | float, hours: float = 24.0,
             step_s: float = 60.0, step_deg: float = 1.0, min_elevation_deg: float | None = None,
             half_angle_deg: float | None = None, label: str = "set",
             exclude: set[int] | frozenset[int] = frozenset()) -> CoverageResult:
    """Coverage, maximum gap and mean revisit of ``elsets`` (minus ``exclude``) over a region."""
    ids = [e.norad_id for e in elsets if e.norad_id not in exclude]
    return coverage_compare(elsets, where, {label: ids}, start=start, hours=hours, step_s=step_s,
                            step_deg=step_deg, min_elevation_deg=min_elevation_deg,
                            half_angle_deg=half_angle_deg)[label]
