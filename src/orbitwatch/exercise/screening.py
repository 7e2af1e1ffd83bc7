"""Assets-versus-catalogue close-approach search used by the exercise's detectors.

The exercise screens a few hundred *assets* (primaries) against the whole catalogue, window by window
ahead of the clock, and re-screens only what changed; it never runs all-vs-all per step.

Method (no event is missed by construction):

1. Radial-band filter: a secondary can come within ``radius`` of a primary only if their
   perigee-apogee shells (padded by ``radius`` + 50 km for drag and J2 over a window) overlap.
2. SGP4 knots every ``knot_s`` (300 s), cubic Hermite interpolation between them (error bound from
   :mod:`orbitwatch.kernels.interpolation`: ~0.6 km for LEO at 300 s), samples every ``sample_s``.
3. At each sample a k-d tree of secondary positions is queried around each primary with the radius an
   object could cover in half a sample (relative speed ≤ 16 km/s) plus pads; each candidate pair's
   relative motion is then treated as linear over ±``sample_s``/2 (its closest point in that interval
   is exact for straight-line motion; the curvature of relative motion, bounded by the tidal term
   ``n² d h²/2``, and the interpolation bounds are added to the threshold).
4. Flagged samples are grouped per pair; each group's time of closest approach is refined on SGP4
   itself (bounded Brent search, 1 ms tolerance). Slow encounters (formation flying, an inspector
   station-keeping behind its target) give one encounter per window with its closest point, not one
   per revolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from sgp4.api import Satrec

from orbitwatch.exercise import astro
from orbitwatch.formats.records import ElementSet
from orbitwatch.kernels.interpolation import hermite, hermite_bound_km
from orbitwatch.kernels.propagation import jd_of, propagate

_VMAX_REL = 16.0  # km/s, above any relative speed of two Earth-orbiting objects below GEO
_TIDAL_N2 = astro.MU / 6500.0 ** 3  # upper bound of n² for any orbit above the atmosphere


@dataclass
class Encounter:
    """Closest approach of ``secondary`` to ``primary`` in one window (times UTC s, km, km/s)."""

    primary: int
    secondary: int
    tca: float
    miss_km: float
    rel_speed_kms: float
    rtn_km: tuple[float, float, float]  # secondary relative to primary, in the primary's RTN
    start: float
    end: float
    slow: bool

    def inside_rtn(self, axes: tuple[float, float, float]) -> bool:
        r, t, n = self.rtn_km
        return (r / axes[0]) ** 2 + (t / axes[1]) ** 2 + (n / axes[2]) ** 2 <= 1.0

    def as_dict(self) -> dict:
        return {"primary": self.primary, "secondary": self.secondary, "tca": self.tca,
                "miss_km": round(self.miss_km, 4), "rel_speed_kms": round(self.rel_speed_kms, 5),
                "rtn_km": [round(x, 4) for x in self.rtn_km], "start": self.start, "end": self.end,
                "slow": self.slow}


@dataclass
class Obj:
    """One object to screen: its SGP4 record, element set and Hermite error bound at ``knot_s`` (km)."""

    norad_id: int
    sat: Satrec
    elset: ElementSet
    bound_km: float = -1.0


def knot_bounds(elsets: Sequence[ElementSet], knot_s: float = 300.0) -> np.ndarray:
    """Hermite interpolation error bound (km) of each element set's trajectory at ``knot_s`` knots."""
    a = np.array([e.semi_major_axis_km for e in elsets])
    ecc = np.array([e.eccentricity for e in elsets])
    return np.minimum(hermite_bound_km(a, ecc, knot_s), 200.0)


def _bands(objs: Sequence[Obj]) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([o.elset.semi_major_axis_km for o in objs])
    e = np.array([o.elset.eccentricity for o in objs])
    return a * (1.0 - e), a * (1.0 + e)


def _overlapping(sec_lo: np.ndarray, sec_hi: np.ndarray, prim_lo: np.ndarray, prim_hi: np.ndarray,
                 margin: float) -> np.ndarray:
    """Mask of secondaries whose [lo, hi] overlaps the union of primaries' padded bands."""
    order = np.argsort(prim_lo)
    lo, hi = prim_lo[order] - margin, prim_hi[order] + margin
    merged_lo, merged_hi = [lo[0]], [hi[0]]
    for a, b in zip(lo[1:], hi[1:], strict=True):
        if a <= merged_hi[-1]:
            merged_hi[-1] = max(merged_hi[-1], b)
        else:
            merged_lo.append(a)
            merged_hi.append(b)
    mlo, mhi = np.array(merged_lo), np.array(merged_hi)
    # The last merged band starting at or below each secondary's top must end at or above its bottom.
    k = np.searchsorted(mlo, sec_hi, side="right") - 1
    ok = k >= 0
    out = np.zeros(sec_lo.size, dtype=bool)
    out[ok] = mhi[k[ok]] >= sec_lo[ok]
    return out


_JD_UNIX0 = 2440587.5


def _rel(sa: Satrec, sb: Satrec, t: float) -> tuple[float, float]:
    """(distance km, range rate km/s) of b relative to a at UTC seconds ``t`` (inf, 0 if SGP4 fails)."""
    days = t / 86400.0
    jd = math.floor(days) + _JD_UNIX0
    fr = days - math.floor(days)
    ea, ra, va = sa.sgp4(jd, fr)
    eb, rb, vb = sb.sgp4(jd, fr)
    if ea or eb:
        return math.inf, 0.0
    dx, dy, dz = rb[0] - ra[0], rb[1] - ra[1], rb[2] - ra[2]
    d = math.sqrt(dx * dx + dy * dy + dz * dz)
    rr = (dx * (vb[0] - va[0]) + dy * (vb[1] - va[1]) + dz * (vb[2] - va[2])) / max(d, 1e-9)
    return d, rr


def _dist(sa: Satrec, sb: Satrec, t: float) -> float:
    return _rel(sa, sb, t)[0]


def _refine(pa: Obj, pb: Obj, lo: float, hi: float) -> tuple[float, float]:
    """(tca, miss) of the closest approach in [lo, hi] on SGP4 itself: the zero of the range rate,
    bracketed and found by the Illinois (regula falsi) method to 1 ms; an edge when the range is
    monotonic over the interval."""
    dlo, flo = _rel(pa.sat, pb.sat, lo)
    dhi, fhi = _rel(pa.sat, pb.sat, hi)
    if not (flo < 0.0 < fhi):
        # No inner minimum bracketed: split once (a slow pass may turn twice in the interval).
        mid = 0.5 * (lo + hi)
        dm, fm = _rel(pa.sat, pb.sat, mid)
        if flo < 0.0 < fm:
            hi, dhi, fhi = mid, dm, fm
        elif fm < 0.0 < fhi:
            lo, dlo, flo = mid, dm, fm
        else:
            best = min(((dlo, lo), (dm, mid), (dhi, hi)))
            return best[1], best[0]
    a, b, fa, fb = lo, hi, flo, fhi
    side = 0
    t = a
    for _ in range(100):
        t = (a * fb - b * fa) / (fb - fa)
        _, ft = _rel(pa.sat, pb.sat, t)
        if ft > 0.0:
            b, fb = t, ft
            if side == -1:
                fa *= 0.5
            side = -1
        else:
            a, fa = t, ft
            if side == 1:
                fb *= 0.5
            side = 1
        if b - a < 1e-3:
            break
    t = 0.5 * (a + b)
    return t, _dist(pa.sat, pb.sat, t)


def screen(primaries: Sequence[Obj], secondaries: Sequence[Obj], t_a: float, t_b: float, radius_km: float, *,
           sample_s: float = 120.0, knot_s: float = 300.0, slow_radius_km: float | None = None,
           slow_speed_kms: float = 1.0, method: str = "auto") -> list[Encounter]:
    """Every approach closer than ``radius_km`` between a primary and a secondary in [t_a, t_b], and
    every *slow* one (relative speed below ``slow_speed_kms``: co-orbital, proximity operations) closer
    than ``slow_radius_km``. ``method``: ``brute`` (distances from each primary to every secondary at
    every sample: best for a few dozen primaries), ``kdtree`` (a k-d tree per sample: best for many),
    or ``auto``."""
    if not primaries or not secondaries or t_b <= t_a:
        return []
    slow_r = max(radius_km, slow_radius_km or radius_km)
    outer = slow_r
    prim_ids = {p.norad_id for p in primaries}
    plo, phi = _bands(primaries)
    secs = list(secondaries)
    slo, shi = _bands(secs)
    keep = _overlapping(slo, shi, plo, phi, radius_km + 50.0)
    # Secondaries that are also primaries are kept (asset-asset approaches); each pair is reported once.
    secs = [s for s, k in zip(secs, keep, strict=True) if k]
    objs: list[Obj] = list(primaries) + [s for s in secs if s.norad_id not in prim_ids]
    n_p = len(primaries)
    index = {o.norad_id: i for i, o in enumerate(objs)}
    sec_idx = np.array([index[s.norad_id] for s in secs], dtype=np.int64)
    if sec_idx.size == 0:
        return []
    nk = int(math.ceil((t_b - t_a) / knot_s)) + 1
    tk = t_a + knot_s * np.arange(nk)
    jd0, fr0 = jd_of(astro.dt_of(t_a))
    fr = fr0 + (tk - t_a) / 86400.0
    prop = propagate([o.sat for o in objs], np.full(nk, jd0), fr)
    r, v = prop.r, prop.v  # (N, K, 3)
    bound = np.array([o.bound_km for o in objs])
    if (bound < 0).any():
        bound = knot_bounds([o.elset for o in objs], knot_s)
    h = sample_s / 2.0
    ns = int(math.floor((t_b - t_a) / sample_s)) + 1
    ts_all = t_a + sample_s * np.arange(ns)
    flagged: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    query_r = outer + 2.0 * float(bound.max()) + _VMAX_REL * h + 1.0
    brute = n_p <= 64 if method == "auto" else method == "brute"
    block = 64
    for b0 in range(0, ns, block):
        tb = ts_all[b0:b0 + block]
        x = (tb - t_a) / knot_s
        k = np.minimum(x.astype(np.int64), nk - 2)
        frac = x - k
        # Positions and velocities of every object at every sample of the block: (N, s, 3).
        pos, vel = hermite(r[:, k], v[:, k], r[:, k + 1], v[:, k + 1], knot_s, frac[None, :])
        cand_i: list[np.ndarray] = []
        cand_j: list[np.ndarray] = []
        cand_l: list[np.ndarray] = []
        if brute:
            # Few primaries: distances to every secondary at every sample, one primary at a time.
            sp = pos[sec_idx].astype(np.float32)
            comp = [np.ascontiguousarray(sp[:, :, c]) for c in range(3)]
            q2 = np.float32(query_r * query_r)
            for p in range(n_p):
                pp = pos[p].astype(np.float32)  # (s, 3)
                d2 = (comp[0] - pp[None, :, 0]) ** 2
                d2 += (comp[1] - pp[None, :, 1]) ** 2
                d2 += (comp[2] - pp[None, :, 2]) ** 2
                si, sl = np.nonzero(d2 < q2)  # NaN positions compare False
                if si.size:
                    cand_i.append(np.full(si.size, p))
                    cand_j.append(sec_idx[si])
                    cand_l.append(sl)
        else:
            for jl in range(tb.size):
                spos = pos[sec_idx, jl]
                good = np.isfinite(spos[:, 0])
                if not good.any():
                    continue
                tree = cKDTree(spos[good])
                gidx = sec_idx[good]
                pp = pos[:n_p, jl]
                pgood = np.flatnonzero(np.isfinite(pp[:, 0]))
                hits = tree.query_ball_point(pp[pgood], query_r)
                counts = [len(hh) for hh in hits]
                if not sum(counts):
                    continue
                cand_i.append(np.repeat(pgood, counts))
                cand_j.append(gidx[np.concatenate([np.asarray(hh, dtype=np.int64) for hh in hits])])
                cand_l.append(np.full(sum(counts), jl))
        if not cand_i:
            continue
        ii = np.concatenate(cand_i)
        jj = np.concatenate(cand_j)
        ll = np.concatenate(cand_l)
        sel = ii != jj
        # Each unordered asset-asset pair once.
        sel &= ~((jj < n_p) & (jj < ii))
        ii, jj, ll = ii[sel], jj[sel], ll[sel]
        dr = pos[jj, ll] - pos[ii, ll]
        dv = vel[jj, ll] - vel[ii, ll]
        dv2 = np.einsum("ij,ij->i", dv, dv)
        tstar = np.clip(-np.einsum("ij,ij->i", dr, dv) / np.maximum(dv2, 1e-12), -h, h)
        d = np.linalg.norm(dr + dv * tstar[:, None], axis=1)
        dist = np.linalg.norm(dr, axis=1)
        pad = bound[ii] + bound[jj] + 0.5 * _TIDAL_N2 * dist * h * h + 2.0 * (bound[ii] + bound[jj]) / knot_s * h
        # Fast pairs need the conjunction radius; slow (co-orbital) pairs the proximity radius.
        ok = (d < radius_km + pad) | ((d < slow_r + pad) & (dv2 < (slow_speed_kms * 1.5) ** 2))
        if ok.any():
            flagged.append((ii[ok], jj[ok], ll[ok] + b0))
    if not flagged:
        return []
    pi_all = np.concatenate([f[0] for f in flagged])
    sj_all = np.concatenate([f[1] for f in flagged])
    sk_all = np.concatenate([f[2] for f in flagged])
    order = np.lexsort((sk_all, sj_all, pi_all))
    pi_all, sj_all, sk_all = pi_all[order], sj_all[order], sk_all[order]
    brk = np.flatnonzero((np.diff(pi_all) != 0) | (np.diff(sj_all) != 0) | (np.diff(sk_all) > 1)) + 1
    starts = np.concatenate([[0], brk])
    ends = np.concatenate([brk, [pi_all.size]])
    out: list[Encounter] = []
    for a0, b0 in zip(starts, ends, strict=True):
        pi, si = int(pi_all[a0]), int(sj_all[a0])
        j0, j1 = int(sk_all[a0]), int(sk_all[b0 - 1])
        pa, pb = objs[pi], objs[si]
        lo = max(t_a, ts_all[j0] - h)
        hi = min(t_b, ts_all[j1] + h)
        slow = (j1 - j0) >= 3
        if slow:
            # Closest sample, then refine around it.
            tt = ts_all[j0:j1 + 1]
            dd = [_dist(pa.sat, pb.sat, float(t)) for t in tt]
            m = int(np.argmin(dd))
            tca, miss = _refine(pa, pb, max(lo, float(tt[m]) - sample_s), min(hi, float(tt[m]) + sample_s))
        else:
            tca, miss = _refine(pa, pb, lo, hi)
        if not math.isfinite(miss) or miss > slow_r:
            continue
        ra, va = astro.sgp4_state(pa.sat, tca)
        rb, vb = astro.sgp4_state(pb.sat, tca)
        rtn = astro.relative_rtn(rb, ra, va)
        rel = float(np.linalg.norm(vb - va))
        if miss > radius_km and rel >= slow_speed_kms:
            continue
        out.append(Encounter(pa.norad_id, pb.norad_id, tca, miss, rel, (float(rtn[0]), float(rtn[1]), float(rtn[2])),
                             float(lo), float(hi), slow or rel < 0.5))
    return out
