"""GNSS service over a region: satellites in view, PDOP/HDOP over time, availability; alone vs pooled.

Model: every satellite of the chosen systems above the elevation mask contributes one pseudorange;
the geometry matrix has rows ``[-u_x, -u_y, -u_z, 1]`` (u = unit line of sight, Earth-fixed) with **one
receiver clock** for all systems: this assumes inter-system time offsets are known (GPS-Galileo GGTO is
broadcast; QZSS keeps GPS time), the usual convention for "ideal" multi-GNSS DOP. PDOP is the root of
the trace of the position block of ``(GᵀG)⁻¹``; HDOP uses its east/north part. A point/time is
*available* when at least ``min_sats`` satellites are in view and PDOP <= ``pdop_max``.

Vectorisation: ``GᵀG = Σ_s w_s e_s e_sᵀ`` with ``e_s = [(g - s)/ρ, 1]``; expanding ``(s - g)(s - g)ᵀ/ρ²``
turns the sums over satellites into a handful of matrix products ``(P, S) @ (S, k)`` per time chunk,
so the only (points × satellites) element-wise work is the range, the elevation test and the weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.formats.records import ElementSet
from orbitwatch.resilience._sgp4 import ecef_positions, to_unix
from orbitwatch.resilience.geometry import enu_basis, geodetic_to_ecef
from orbitwatch.resilience.regions import Grid, Region
from orbitwatch.resilience.services import ALLIED_GNSS, GNSS_PROVIDER, GNSS_SYSTEMS, gnss_system


@dataclass
class GnssResult:
    """DOP and availability of one set of systems over a grid and a time span.

    ``pdop``/``hdop`` are ``(P, T)`` float32, NaN where fewer than 4 satellites are in view; ``nsat``
    is ``(P, T)``; ``availability`` is the area-weighted share of (place, time) that is available.
    """

    label: str
    systems: tuple[str, ...]
    norad_ids: tuple[int, ...]
    times_unix: np.ndarray
    grid: Grid
    pdop: np.ndarray
    hdop: np.ndarray
    nsat: np.ndarray
    available: np.ndarray  # (P, T) bool
    mask_deg: float
    pdop_max: float
    min_sats: int

    @property
    def availability(self) -> float:
        return float(np.sum(self.grid.weights * self.available.mean(axis=1)))

    @property
    def availability_per_point(self) -> np.ndarray:
        return self.available.mean(axis=1)

    @property
    def worst_point_availability(self) -> float:
        return float(self.availability_per_point.min())

    def timeseries(self) -> dict:
        """Per time step over the region: available area share, area-median and worst PDOP/HDOP."""
        w = self.grid.weights
        with np.errstate(all="ignore"):
            pd = np.where(np.isfinite(self.pdop), self.pdop, np.inf)
            hd = np.where(np.isfinite(self.hdop), self.hdop, np.inf)
            med_p = np.nanmedian(np.where(np.isfinite(pd), pd, np.nan), axis=0)
            med_h = np.nanmedian(np.where(np.isfinite(hd), hd, np.nan), axis=0)
        return {"t_unix": self.times_unix.tolist(),
                "available_share": np.round(w @ self.available, 5).tolist(),
                "pdop_median": np.round(med_p, 3).tolist(), "pdop_worst": np.round(pd.max(axis=0), 3).tolist(),
                "hdop_median": np.round(med_h, 3).tolist(), "hdop_worst": np.round(hd.max(axis=0), 3).tolist(),
                "min_satellites": self.nsat.min(axis=0).tolist()}

    def summary(self) -> dict:
        """JSON-ready headline numbers (PDOP/HDOP percentiles over all available place-times)."""
        ok = self.available
        pd = self.pdop[ok]
        hd = self.hdop[ok]

        def pct(a: np.ndarray, q: float) -> float | None:
            return round(float(np.percentile(a, q)), 3) if a.size else None

        return {
            "label": self.label, "systems": list(self.systems), "satellites": len(self.norad_ids),
            "availability": round(self.availability, 5),
            "worst_point_availability": round(self.worst_point_availability, 5),
            "pdop_median": pct(pd, 50), "pdop_p95": pct(pd, 95),
            "hdop_median": pct(hd, 50), "hdop_p95": pct(hd, 95),
            "mean_satellites_in_view": round(float(np.sum(self.grid.weights * self.nsat.mean(axis=1))), 2),
            "mask_deg": self.mask_deg, "pdop_max": self.pdop_max, "min_sats": self.min_sats,
            "grid_points": self.grid.size, "steps": int(self.times_unix.size),
        }


def time_grid(start: datetime | float, hours: float, step_s: float) -> np.ndarray:
    """Unix seconds from ``start`` over ``hours`` every ``step_s`` (end excluded)."""
    if not hours > 0 or not step_s > 0:
        raise ValidationError(f"need hours > 0 and step > 0 s, got hours={hours}, step={step_s}",
                              field="hours")
    t0 = start if isinstance(start, int | float) else to_unix(start)
    return t0 + np.arange(0.0, hours * 3600.0, step_s)


def _as_grid(where: Region | Grid, step_deg: float) -> Grid:
    return where if isinstance(where, Grid) else where.grid(step_deg)


def _inv3_sym(a00, a01, a02, a11, a12, a22):
    """Closed-form inverse of symmetric 3x3 matrices given by their 6 unique entries (vectorised)."""
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    c11 = a00 * a22 - a02 * a02
    c12 = a01 * a02 - a00 * a12
    c22 = a00 * a11 - a01 * a01
    det = a00 * c00 + a01 * c01 + a02 * c02
    with np.errstate(all="ignore"):  # singular where < 4 satellites: those cells are masked later
        inv = 1.0 / det
        return c00 * inv, c01 * inv, c02 * inv, c11 * inv, c12 * inv, c22 * inv


def dop_for_sets(sat_ecef: np.ndarray, grid: Grid, set_masks: Sequence[np.ndarray], *,
                 mask_deg: float = 10.0, chunk: int = 30, system_index: np.ndarray | None = None
                 ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Core kernel: PDOP, HDOP, satellites-in-view for several satellite subsets sharing the geometry.

    ``sat_ecef`` is ``(S, T, 3)`` km Earth-fixed (NaN = no position); ``set_masks`` are boolean ``(S,)``.
    Returns per set ``(pdop, hdop, nsat)`` each ``(P, T)``.

    Lines of sight and the sums over satellites run on (time, point, satellite) arrays in float32
    (direction error ~1e-7, summed in float64). With one clock
    the normal matrix is ``[[Σuuᵀ, -Σu], [-Σuᵀ, n]]``; its position block inverse is the inverse of the
    Schur complement ``Σuuᵀ - (Σu)(Σu)ᵀ/n``, done in closed form.

    ``system_index`` ``(S,)`` (integers) gives each satellite's system when every system has its own
    receiver-clock unknown: the clock block is then diagonal, the complement becomes
    ``Σuuᵀ - Σ_k (Σ_k u)(Σ_k u)ᵀ/n_k`` over the systems in view, and a solution needs
    ``3 + (systems in view)`` satellites (returned ``nsat`` is then the satellites in view minus the
    extra clocks, so that ``nsat >= 4`` still means "solvable").
    """
    s_all = np.ascontiguousarray(np.transpose(sat_ecef, (1, 0, 2)))  # (T, S, 3)
    t_count, s_count = s_all.shape[0], s_all.shape[1]
    g = geodetic_to_ecef(grid.lat, grid.lon, 0.0)  # (P, 3)
    enu = enu_basis(grid.lat, grid.lon)  # (P, 3, 3)
    east, north, up = enu[:, 0, :], enu[:, 1, :], enu[:, 2, :]
    g32, up32 = g.astype(np.float32), up.astype(np.float32)
    sin_mask = np.float32(np.sin(np.radians(mask_deg)))
    masks = np.array([np.asarray(m, dtype=bool) for m in set_masks]).reshape(len(set_masks), s_count)
    p_count = g.shape[0]
    out = [(np.full((p_count, t_count), np.nan, np.float32), np.full((p_count, t_count), np.nan, np.float32),
            np.zeros((p_count, t_count), np.int16)) for _ in range(len(masks))]
    gx, gy, gz = (g32[None, :, None, i] for i in range(3))
    for t0 in range(0, t_count, chunk):
        s = s_all[t0:t0 + chunk]  # (C, S, 3)
        c_count = s.shape[0]
        valid = np.isfinite(s).all(axis=-1)
        s32 = np.where(valid[..., None], s, 0.0).astype(np.float32)
        # line of sight components (C, P, S), float32, built by broadcasting (k=3 products are
        # faster this way than through BLAS)
        dx = s32[:, None, :, 0] - gx
        dy = s32[:, None, :, 1] - gy
        dz = s32[:, None, :, 2] - gz
        inv_rho = 1.0 / np.sqrt(dx * dx + dy * dy + dz * dz)
        dx *= inv_rho
        dy *= inv_rho
        dz *= inv_rho  # now unit vectors
        sin_el = dx * up32[None, :, None, 0] + dy * up32[None, :, None, 1] + dz * up32[None, :, None, 2]
        vis = (sin_el >= sin_mask) & valid[:, None, :]
        sl = slice(t0, t0 + c_count)
        for k in range(len(masks)):
            if masks[k].all():
                w, ux, uy, uz = vis.astype(np.float32), dx, dy, dz
            else:  # work on this set's columns only
                cols = np.flatnonzero(masks[k])
                w = vis[..., cols].astype(np.float32)
                ux, uy, uz = dx[..., cols], dy[..., cols], dz[..., cols]
            wx, wy, wz = w * ux, w * uy, w * uz
            n = w.sum(-1, dtype=np.float64)
            sums = [np.sum(a, axis=-1, dtype=np.float64) for a in
                    (wx * ux, wx * uy, wx * uz, wy * uy, wy * uz, wz * uz)]
            # clock terms: one clock for the set, or one per system (block-diagonal clock part)
            if system_index is None:
                groups = [None]
            else:
                sid = system_index if masks[k].all() else system_index[np.flatnonzero(masks[k])]
                groups = [sid == v for v in np.unique(sid)]
            corr = [np.zeros_like(n) for _ in range(6)]
            used = np.zeros_like(n)
            for gmask in groups:
                if gmask is None:
                    nk, b0, b1, b2 = n, wx.sum(-1, dtype=np.float64), wy.sum(-1, dtype=np.float64), \
                        wz.sum(-1, dtype=np.float64)
                else:
                    nk = w[..., gmask].sum(-1, dtype=np.float64)
                    b0 = wx[..., gmask].sum(-1, dtype=np.float64)
                    b1 = wy[..., gmask].sum(-1, dtype=np.float64)
                    b2 = wz[..., gmask].sum(-1, dtype=np.float64)
                with np.errstate(all="ignore"):
                    inv_n = np.where(nk > 0, 1.0 / nk, 0.0)
                used += nk > 0
                for c, v in zip(corr, (b0 * b0, b0 * b1, b0 * b2, b1 * b1, b1 * b2, b2 * b2), strict=True):
                    c += v * inv_n
            q00, q01, q02, q11, q12, q22 = _inv3_sym(*(sm - c for sm, c in zip(sums, corr, strict=True)))
            with np.errstate(all="ignore"):
                pdop = np.sqrt(np.maximum(q00 + q11 + q22, 0.0))

            def quad(v: np.ndarray, q00=q00, q01=q01, q02=q02, q11=q11, q12=q12, q22=q22) -> np.ndarray:
                x, y, z = v[:, 0], v[:, 1], v[:, 2]
                return (q00 * x * x + q11 * y * y + q22 * z * z
                        + 2.0 * (q01 * x * y + q02 * x * z + q12 * y * z))

            with np.errstate(all="ignore"):
                hdop = np.sqrt(np.maximum(quad(east) + quad(north), 0.0))
            solvable = n - np.maximum(used - 1, 0)  # each extra clock costs one satellite
            few = solvable < 4
            pdop[few] = np.nan
            hdop[few] = np.nan
            out[k][0][:, sl] = pdop.T
            out[k][1][:, sl] = hdop.T
            out[k][2][:, sl] = solvable.T
    return out


def gnss_compare(elsets: Sequence[ElementSet], where: Region | Grid, sets: Mapping[str, Sequence[str]], *,
                 start: datetime | float, hours: float = 24.0, step_s: float = 60.0, step_deg: float = 1.0,
                 mask_deg: float = 10.0, pdop_max: float = 6.0, min_sats: int = 4,
                 exclude: set[int] | frozenset[int] = frozenset(),
                 clock_per_system: bool = False) -> dict[str, GnssResult]:
    """GNSS service for several sets of systems at once (e.g. GPS alone, allied pooled), one geometry.

    ``clock_per_system``: solve one receiver clock per system (inter-system time offsets unknown)
    instead of the default single clock (offsets known, e.g. broadcast GGTO).

    ``sets`` maps a label to system names (``GPS``, ``GALILEO``, ``QZSS``, ``GLONASS``, ``BEIDOU``,
    ``NAVIC``). Satellites whose NORAD id is in ``exclude`` (lost in a scenario) are left out.
    """
    grid = _as_grid(where, step_deg)
    times = time_grid(start, hours, step_s)
    nav = [(e, gnss_system(e)) for e in elsets if e.norad_id not in exclude]
    nav = [(e, sysname) for e, sysname in nav if sysname is not None]
    for label, systems in sets.items():
        unknown = [x for x in systems if x.upper() not in GNSS_SYSTEMS]
        if unknown:
            raise ValidationError(f"set {label!r}: unknown GNSS system(s) {unknown}; known: "
                                  f"{', '.join(GNSS_SYSTEMS)}", field="systems")
    sats = [e for e, _ in nav]
    sysnames = np.array([sn for _, sn in nav], dtype=object)
    if sats:
        ecef, _err = ecef_positions(sats, times)
    else:
        ecef = np.zeros((0, times.size, 3))
    masks = [np.isin(sysnames, [x.upper() for x in systems]) if sats else np.zeros(0, bool)
             for systems in sets.values()]
    sys_idx = None
    if clock_per_system and sats:
        names = sorted(set(sysnames))
        sys_idx = np.array([names.index(x) for x in sysnames])
    results = dop_for_sets(ecef, grid, masks, mask_deg=mask_deg, system_index=sys_idx)
    out: dict[str, GnssResult] = {}
    for (label, systems), m, (pdop, hdop, nsat) in zip(sets.items(), masks, results, strict=True):
        available = (nsat >= min_sats) & (np.nan_to_num(pdop, nan=np.inf) <= pdop_max)
        ids = tuple(int(e.norad_id) for e, keep in zip(sats, m, strict=True) if keep)
        out[label] = GnssResult(label, tuple(x.upper() for x in systems), ids, times, grid, pdop, hdop, nsat,
                                available, mask_deg, pdop_max, min_sats)
    return out


def gnss_availability(elsets: Sequence[ElementSet], where: Region | Grid, *, start: datetime | float,
                      systems: Sequence[str] = ALLIED_GNSS, hours: float = 24.0, step_s: float = 60.0,
                      step_deg: float = 1.0, mask_deg: float = 10.0, pdop_max: float = 6.0,
                      min_sats: int = 4, exclude: set[int] | frozenset[int] = frozenset(),
                      clock_per_system: bool = False) -> GnssResult:
    """GNSS availability of one set of systems over a region (see :func:`gnss_compare`)."""
    label = "+".join(s.upper() for s in systems)
    return gnss_compare(elsets, where, {label: systems}, start=start, hours=hours, step_s=step_s,
                        step_deg=step_deg, mask_deg=mask_deg, pdop_max=pdop_max, min_sats=min_sats,
                        exclude=exclude, clock_per_system=clock_per_system)[label]


def standard_sets(present: Sequence[str]) -> dict[str, list[str]]:
    """Each system alone, the allied systems pooled, and everything present pooled."""
    present = [s for s in GNSS_SYSTEMS if s in present]
    sets: dict[str, list[str]] = {s: [s] for s in present}
    allied = [s for s in ALLIED_GNSS if s in present]
    if len(allied) > 1:
        sets["ALLIED"] = allied
    if len(present) > len(allied) and present:
        sets["ALL"] = list(present)
    return sets


def systems_of_provider(provider: str) -> list[str]:
    return [s for s, p in GNSS_PROVIDER.items() if p == provider]
