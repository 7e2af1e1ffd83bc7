"""The screening work units and where they run: this process, local processes, or a dask cluster.

Work is partitioned by **time slice**: every unit gets the whole catalogue as compact TLE text (a
few MB, sent once per worker) and one slice of the window, builds its own SGP4 knots for that slice,
sweeps it, and returns only the candidate rows it found. Refinement units get the candidate guesses
and return the refined states. Workers therefore exchange almost nothing: no trajectories cross the
network, only element sets in and candidates out.

The functions here are plain, picklable top-level functions so that
:class:`concurrent.futures.ProcessPoolExecutor` and ``dask.distributed`` can both run them.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec

from orbitwatch.kernels.interpolation import (
    VEL_OF_BOUND,
    KnotTable,
    build_knots,
    jd_split,
    lateral_accel_error,
    radial_accel_bound,
    radial_accel_with_jumps,
)
from orbitwatch.kernels.propagation import satrec_from_portable
from orbitwatch.kernels.spatial import REL_ACCEL_BOUND, Emitted, sweep

MU_KM3_S2 = 398600.8

# --- per-process catalogue cache -----------------------------------------------------------------

_CATALOGUES: dict[str, list[Satrec]] = {}
#: per catalogue, what build_knots keeps across the slices of a run (its ``cache``)
_KNOT_CACHES: dict[str, dict] = {}


def catalogue_token(portables: Sequence[tuple]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for p in portables:
        h.update(repr(p).encode())
    return h.hexdigest()


def install_catalogue(token: str, portables: Sequence[tuple]) -> None:
    """Build (once per process) the Satrec objects of a catalogue."""
    if token not in _CATALOGUES:
        if len(_CATALOGUES) > 4:  # a long-lived worker serving many runs: keep memory bounded
            _CATALOGUES.clear()
            _KNOT_CACHES.clear()
        _CATALOGUES[token] = [satrec_from_portable(p) for p in portables]


def satrecs(token: str, portables: Sequence[tuple] | None = None) -> list[Satrec]:
    if token not in _CATALOGUES:
        if portables is None:
            raise RuntimeError(f"catalogue {token} is not installed in this process")
        install_catalogue(token, portables)
    return _CATALOGUES[token]


# --- work units ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepParams:
    """What a slice needs besides the catalogue. Times are UTC seconds since 1970."""

    t_start: float  # window start; sample k is centred on t_start + (k + 0.5) * h
    h: float  # sample interval (s)
    d0: float  # screening distance (km)
    tolerance_km: float  # knot interpolation tolerance
    primaries_only: bool
    steps: np.ndarray  # per-object knot step (s), from plan_steps
    bounds: np.ndarray  # per-object analytic interpolation bound (km)
    d0_radial: float | None = None  # largest radius difference of an approach that matters (km)
    radial_accel: np.ndarray | None = None  # jump-free radial_accel_bound per object (km/s^2)


@dataclass(frozen=True)
class GroupParams:
    """What a slice needs to turn its own candidate rows into refined approaches (see
    :func:`sweep_slice`)."""

    n_samples: int  # samples in the whole window
    colocated_s: float  # a pair within stay_km for longer than this is one co-located stay
    prune_km: float  # refinement keeps approaches within this (km)
    stay_km: float = math.inf  # "within the screening distance" for stays (km)
    t_end: float = math.inf  # end of the window (UTC s): stays are refined within it


@dataclass
class Guesses:
    """First guesses of times of closest approach (:func:`first_guesses`): object indices, guess,
    search window, whether the guess stands for a co-located stay, and which stay (the time of its first
    sample, NaN for none: a stay gets several guesses and keeps the closest, :func:`closest_per_stay`)."""

    i: np.ndarray
    j: np.ndarray
    t: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    colocated: np.ndarray
    stay: np.ndarray

    _FIELDS = ("i", "j", "t", "lo", "hi", "colocated", "stay")

    def __len__(self) -> int:
        return len(self.i)

    def take(self, idx: np.ndarray) -> Guesses:
        return Guesses(*(getattr(self, f)[idx] for f in self._FIELDS))

    @classmethod
    def concat(cls, parts: Sequence[Guesses]) -> Guesses:
        if not parts:
            z = np.zeros(0)
            zi = np.zeros(0, dtype=np.int64)
            return cls(zi, zi.copy(), z, z.copy(), z.copy(), np.zeros(0, dtype=bool), z.copy())
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls._FIELDS))


@dataclass
class SliceResult:
    emitted: Emitted  # with GroupParams: only the rows of runs that may go on in a neighbouring slice
    first_failure: np.ndarray  # per object, UTC s of the first failed knot (+inf: none)
    first_code: np.ndarray  # SGP4 error code of that failure
    knots: int
    seconds: dict[str, float]
    rows: int = 0  # candidate rows found
    guesses: int = 0  # first guesses made in the slice
    refined: Refined | None = None  # approaches from the slice's own runs, within GroupParams.prune_km
    refined_guesses: Guesses | None = None  # the guess of each refined row


#: The sweep reads knots from a compact copy of at most this much of a slice at a time (s). It refreshes
#: each object's current knot interval from the table as the samples advance; over a long table every
#: object's rows lie on a different memory page, and those scattered reads (TLB and cache misses)
#: doubled the sweep's cost at 6 h (1.08 against 0.55 us per object and sample, full 2023 catalogue).
SUB_SLICE_S = 3600.0


def sweep_slice(token: str, portables: Sequence[tuple] | None, params: SweepParams, k_lo: int, k_hi: int,
                active: np.ndarray, is_primary: np.ndarray, use_numba: bool | None = None,
                is_secondary: np.ndarray | None = None, group: np.ndarray | None = None,
                grouping: GroupParams | None = None) -> SliceResult:
    """Knots for samples ``k_lo .. k_hi-1`` (laid once for the slice), then the grid sweep over them, one
    compact hour-long copy of the knot table at a time (:func:`~orbitwatch.kernels.spatial.window_of`).

    With ``grouping``, the slice also groups and refines its own candidate runs (:func:`first_guesses`,
    :func:`refine_guesses`): only the rows of runs that touch the slice's first or last sample, which may
    go on in the neighbouring slice, come back raw (in ``emitted``) for the caller to join across the
    boundary. A run wholly inside the slice gives the same guesses here as in the whole window, so the
    result is the same as grouping everything at the end; the work is done while other slices sweep,
    and only approaches travel back instead of every candidate row."""
    from orbitwatch.kernels.spatial import window_of

    t_a = time.perf_counter()
    c_a = time.process_time()
    sats = satrecs(token, portables)
    samples = params.t_start + (np.arange(k_lo, k_hi) + 0.5) * params.h
    # Knots are laid from the first sample; a sample exactly on the last knot is handled by clamping.
    cache = _KNOT_CACHES.setdefault(f"{token}/{hashlib.blake2b(active.tobytes(), digest_size=8).hexdigest()}", {})
    ks = build_knots(sats, float(samples[0]), float(samples[-1]), tolerance_km=params.tolerance_km,
                     plan=(params.steps, params.bounds), only=active, cache=cache)
    if params.radial_accel is not None:
        radial_accel = radial_accel_with_jumps(params.radial_accel, params.steps, params.bounds, ks.bound)
    else:
        radial_accel = radial_accel_bound(sats, ks.step, ks.bound)
    accel_error = lateral_accel_error(ks.step, params.bounds, ks.bound)
    t_b = time.perf_counter()
    c_b = time.process_time()
    per = max(1, int(SUB_SLICE_S // params.h))
    parts: list[Emitted] = []
    for s_lo in range(0, len(samples), per):
        sub = samples[s_lo:s_lo + per]
        t0s, offset, count, kr, kv, ka = window_of(ks.t0, ks.step, ks.offset, ks.count, ks.r, ks.v,
                                                   float(sub[0]), float(sub[-1]), ks.a)
        em = sweep(sub, params.h, t0s, ks.step, offset, count, kr, kv, ks.bound, active,
                   is_primary, params.primaries_only, params.d0, radial_accel=radial_accel,
                   is_secondary=is_secondary, group=group, d0_radial=params.d0_radial,
                   accel_error=accel_error, use_numba=use_numba, ka=ka)
        em.k += k_lo + s_lo
        parts.append(em)
    t_c = time.perf_counter()
    c_c = time.process_time()
    first = ks.first_failure()
    codes = np.zeros(len(sats), dtype=np.int64)
    for i in np.flatnonzero(np.isfinite(first)):
        seg = ks.err[ks.offset[i]:ks.offset[i] + ks.count[i]]
        codes[i] = int(seg[np.flatnonzero(seg)[0]])
    em = Emitted.concat(parts)
    seconds = {"knots": t_b - t_a, "sweep": t_c - t_b, "knots_cpu": c_b - c_a, "sweep_cpu": c_c - c_b}
    out = SliceResult(em, first, codes, int(ks.count.sum()), seconds, rows=len(em))
    if grouping is not None:
        em = em.sort()
        edge = edge_rows(em, k_lo, k_hi, grouping.n_samples)
        inner = em.take(~edge)
        out.emitted = em.take(edge)
        g = first_guesses(inner, params.t_start, params.h, grouping.colocated_s, grouping.stay_km, grouping.t_end)
        out.guesses = len(g)
        g = g.take(np.flatnonzero(worth_refining(ks, g, grouping.prune_km)))
        ref = refine_guesses(token, portables, g.i, g.j, g.t, g.lo, g.hi, grouping.prune_km)
        out.refined = ref
        out.refined_guesses = g.take(ref.index)
        seconds["group_refine"] = time.perf_counter() - t_c
        seconds["group_refine_cpu"] = time.process_time() - c_c
    return out


def _runs(em: Emitted) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive samples of one pair in rows sorted by (i, j, k): which rows start a run, and
    each run's first and last row."""
    n = len(em)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (em.i[1:] != em.i[:-1]) | (em.j[1:] != em.j[:-1]) | (em.k[1:] != em.k[:-1] + 1)
    run_start = np.flatnonzero(new_run)
    run_end = np.concatenate([run_start[1:], [n]]) - 1
    return new_run, run_start, run_end


def _crossing(g0: np.ndarray, g1: np.ndarray) -> np.ndarray:
    """Where between two samples (fraction 0..1) the range rate, ``g0 <= 0`` then ``g1 > 0``, crosses zero."""
    return np.clip(-g0 / np.where(g1 - g0 > 0, g1 - g0, 1.0), 0.0, 1.0)


def _linear_reach(dr: np.ndarray, dv: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Refinement's first test on relative states ``dr``, ``dv``: the linearised miss less the curvature
    allowance over the time to it (at most ``width``), and that time."""
    g = (dr * dv).sum(axis=1)
    uu = (dv * dv).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(uu > 0, -g / uu, 0.0)
        lin = np.sqrt(np.maximum((dr * dr).sum(axis=1) - np.where(uu > 0, g * g / uu, 0.0), 0.0))
    return lin - 0.5 * REL_ACCEL_BOUND * np.minimum(np.abs(tau), width) ** 2, tau


def edge_rows(em: Emitted, k_lo: int, k_hi: int, n_samples: int) -> np.ndarray:
    """Rows (of ``em``, sorted by pair and sample) of the runs that contain the slice's first sample
    ``k_lo`` (unless it starts the window) or its last ``k_hi - 1`` (unless it ends the window): runs that
    may continue in the neighbouring slice."""
    if len(em) == 0:
        return np.zeros(0, dtype=bool)
    new_run, run_start, run_end = _runs(em)
    run_id = np.cumsum(new_run) - 1
    touches = np.zeros(len(run_start), dtype=bool)
    if k_lo > 0:
        touches |= em.k[run_start] == k_lo
    if k_hi < n_samples:
        touches |= em.k[run_end] == k_hi - 1
    return touches[run_id]


def worth_refining(ks: KnotTable, g: Guesses, prune_km: float) -> np.ndarray:
    """Which guesses refinement could keep, judged from the slice's knots instead of SGP4: the test
    :func:`refine_guesses` makes after its first evaluation (linearised miss less the curvature allowance
    over the time to it), on interpolated states, with a margin of twice what interpolation can change in
    it (position bounds, and velocity bounds over the time to the linearised minimum). Most guesses fail it, and
    interpolation costs a tenth of SGP4 with its per-object calls; the guesses kept are refined with SGP4
    from the start, as before. Guesses outside the knots' span, or on refused knots, are kept."""
    n = len(g)
    if n == 0:
        return np.zeros(0, dtype=bool)
    span_end = ks.t0 + (ks.count - 1) * ks.step
    inside = (g.t >= ks.t0) & (g.t <= span_end[g.i]) & (g.t <= span_end[g.j])
    keep = np.ones(n, dtype=bool)
    idx = np.flatnonzero(inside)
    if not len(idx):
        return keep
    ra, va = ks.states(g.i[idx], g.t[idx])
    rb, vb = ks.states(g.j[idx], g.t[idx])
    width = g.hi[idx] - g.lo[idx]
    reach, tau = _linear_reach(rb - ra, vb - va, width)
    bi, bj = ks.bound[g.i[idx]], ks.bound[g.j[idx]]
    e_v = VEL_OF_BOUND * (bi / ks.step[g.i[idx]] + bj / ks.step[g.j[idx]])
    margin = 2.0 * (bi + bj + e_v * np.minimum(np.abs(tau), width))
    drop = (reach - margin > prune_km) & np.isfinite(reach) & np.isfinite(margin)
    keep[idx[drop]] = False
    return keep


def first_guesses(em: Emitted, t_start: float, h: float, colocated_s: float, stay_km: float = math.inf,
                  t_end: float = math.inf) -> Guesses:
    """First guesses of TCA from candidate rows sorted by (i, j, k).

    A **stay** is a stretch of consecutive samples of one pair, all within ``stay_km`` (the screening
    distance, by the interpolated distance at each sample), longer than ``colocated_s``: docked vehicles,
    co-located GEO satellites, formations. It is reported once: its guesses (the closest sample, every
    sign change of the range rate inside it, and its edges) are refined within the window
    ``[t_start, t_end]`` and only the closest result is kept (:func:`closest_per_stay`). Candidate runs are
    padded (rows up to the search reach apart), so a long run is a stay only where the pair really stays
    within the distance: elsewhere in it, as in every shorter run, each sign change of the range rate
    (approach then recession) is one guess, and so is each run edge where the pair still approaches (last
    sample) or already recedes (first sample)."""
    n = len(em)
    if n == 0:
        return Guesses.concat([])
    tk = t_start + (em.k + 0.5) * h
    new_run, _, run_end = _runs(em)
    within = em.dist <= stay_km
    new_seg = new_run.copy()
    new_seg[1:] |= within[1:] != within[:-1]
    seg_id = np.cumsum(new_seg) - 1
    seg_start = np.flatnonzero(new_seg)
    seg_end = np.concatenate([seg_start[1:], [n]]) - 1
    stay_seg = within[seg_start] & ((seg_end - seg_start + 1) * h > colocated_s)
    in_stay = stay_seg[seg_id]
    same_run_next = np.zeros(n, dtype=bool)
    same_run_next[:-1] = ~new_run[1:]
    # sign changes of g between consecutive samples of a run (approach then recession)
    sc = same_run_next & (em.g <= 0)
    sc[:-1] &= em.g[1:] > 0
    sc[-1] = False
    first = new_run & (em.g > 0)  # run edges: receding at the first sample, or approaching at the last
    last_mask = np.zeros(n, dtype=bool)
    last_mask[run_end] = True
    last = last_mask & (em.g <= 0)
    parts: list[Guesses] = []
    free = ~in_stay
    idx = np.flatnonzero(sc & free & np.concatenate([free[1:], [False]]))
    if len(idx):
        parts.append(Guesses(em.i[idx], em.j[idx], tk[idx] + _crossing(em.g[idx], em.g[idx + 1]) * h,
                             tk[idx] - h / 2, tk[idx + 1] + h / 2, np.zeros(len(idx), dtype=bool),
                             np.full(len(idx), np.nan)))
    for mask in (first, last):
        idx = np.flatnonzero(mask & free)
        if len(idx):
            parts.append(Guesses(em.i[idx], em.j[idx], tk[idx] + em.tau[idx], tk[idx] - h, tk[idx] + h,
                                 np.zeros(len(idx), dtype=bool), np.full(len(idx), np.nan)))
    if stay_seg.any():
        # a stay's guesses: its closest sample, its sign changes, and its first and last samples (where
        # the closest point may be the window's edge); searched within the window, not beyond it
        ss, se = seg_start[stay_seg], seg_end[stay_seg]
        closest = np.array([a + int(np.argmin(em.dist[a:b + 1])) for a, b in zip(ss.tolist(), se.tolist(),
                                                                                   strict=True)], dtype=np.int64)
        inner_sc = np.flatnonzero(sc & in_stay & np.concatenate([in_stay[1:], [False]]))
        rows = np.unique(np.concatenate([closest, inner_sc, ss, se]))
        t = tk[rows] + np.clip(em.tau[rows], -h / 2, h / 2)
        lo = np.maximum(tk[rows] - h, t_start)
        hi = np.minimum(tk[rows] + h, t_end)
        sc_rows = sc[rows] & in_stay[np.minimum(rows + 1, n - 1)]
        if sc_rows.any():  # at a sign change, between the two samples
            r = rows[sc_rows]
            t[sc_rows] = tk[r] + _crossing(em.g[r], em.g[r + 1]) * h
            hi[sc_rows] = np.minimum(tk[r + 1] + h / 2, t_end)
            lo[sc_rows] = np.maximum(tk[r] - h / 2, t_start)
        parts.append(Guesses(em.i[rows], em.j[rows], np.clip(t, lo, hi), lo, hi, np.ones(len(rows), dtype=bool),
                             tk[seg_start[seg_id[rows]]]))
    out = Guesses.concat(parts)
    out.i = out.i.astype(np.int64)
    out.j = out.j.astype(np.int64)
    out.colocated = out.colocated.astype(bool)
    return out


def closest_per_stay(ref: Refined, g: Guesses) -> np.ndarray:
    """Indices of the refined rows to keep: every row that is no stay's, and for each stay (pair and
    first sample) the row of smallest miss distance."""
    miss = np.linalg.norm(ref.r2 - ref.r1, axis=1)
    stay = np.isfinite(g.stay)
    keep = np.flatnonzero(~stay)
    idx = np.flatnonzero(stay)
    if len(idx):
        order = idx[np.lexsort((miss[idx], g.stay[idx], g.j[idx], g.i[idx]))]
        firsts = np.ones(len(order), dtype=bool)
        firsts[1:] = ((g.i[order[1:]] != g.i[order[:-1]]) | (g.j[order[1:]] != g.j[order[:-1]])
                      | (g.stay[order[1:]] != g.stay[order[:-1]]))
        keep = np.sort(np.concatenate([keep, order[firsts]]))
    return keep


def warm_up(token: str, portables: Sequence[tuple] | None) -> None:
    """Make a worker ready before its first slice: the catalogue's Satrec objects and the compiled sweep
    (numba loads it from its cache on the first call, a few tenths of a second), by one sweep of two
    still objects over one sample."""
    satrecs(token, portables)
    z = np.zeros((4, 3))
    z[:, 0] = 7000.0
    sweep(np.array([0.5]), 1.0, 0.0, np.ones(2), np.array([0, 2]), np.array([2, 2]), z, np.zeros((4, 3)),
          np.zeros(2), np.ones(2, dtype=bool), np.zeros(2, dtype=bool), False, 1.0,
          radial_accel=np.zeros(2), accel_error=np.zeros(2), ka=np.zeros((4, 3)))


def eval_states(sats: Sequence[Satrec], idx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SGP4 states of objects ``idx`` at UTC seconds ``t`` (element-wise), grouped per object."""
    n = len(idx)
    r = np.full((n, 3), np.nan)
    v = np.full((n, 3), np.nan)
    e = np.zeros(n, dtype=np.int64)
    if n == 0:
        return r, v, e
    order = np.argsort(idx, kind="stable")
    si = idx[order]
    jd, fr = jd_split(t[order])
    cuts = np.flatnonzero(np.diff(si)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [n]])
    rr = np.empty((n, 3))
    vv = np.empty((n, 3))
    ee = np.empty(n, dtype=np.uint8)
    jd = np.ascontiguousarray(jd, dtype=np.float64)
    fr = np.ascontiguousarray(fr, dtype=np.float64)
    # Satrec._sgp4 (what sgp4_array wraps) writes into contiguous views of the output: one call per
    # object without the wrapper's three allocations (a slice refines tens of thousands of objects).
    for a, b, o in zip(starts.tolist(), ends.tolist(), si[starts].tolist(), strict=True):
        sats[o]._sgp4(jd[a:b], fr[a:b], ee[a:b], rr[a:b], vv[a:b])
    r[order] = rr
    v[order] = vv
    e[order] = ee
    return r, v, e


@dataclass
class Refined:
    """The guesses that ended within ``prune_km`` with SGP4 states at their TCA; ``index``: each row's
    guess in the call."""

    t: np.ndarray
    r1: np.ndarray
    v1: np.ndarray
    r2: np.ndarray
    v2: np.ndarray
    index: np.ndarray


def refine_guesses(token: str, portables: Sequence[tuple] | None, i: np.ndarray, j: np.ndarray,
                   t_guess: np.ndarray, lo: np.ndarray, hi: np.ndarray, prune_km: float,
                   max_iter: int = 12, tol_s: float = 1e-5) -> Refined:
    """Newton iteration on g(t) = dr . dv = 0 with SGP4 itself, per guess, within ``[lo, hi]``.

    g'(t) = |dv|^2 + dr . da with two-body accelerations (exact enough for quadratic convergence).
    After the first evaluation, guesses whose linearised miss, less the curvature allowance over the
    remaining time offset, exceeds ``prune_km`` are dropped: they cannot reach the threshold. Only the
    guesses that end within ``prune_km`` are returned (most do not: shipping every guess's states back
    from a worker cost more than refining them), with their positions in the call (``index``).
    """
    sats = satrecs(token, portables)
    n = len(i)
    t = t_guess.astype(np.float64).copy()
    ok = np.ones(n, dtype=bool)
    live = np.arange(n)
    for it in range(max_iter):
        if not len(live):
            break
        tl = t[live]
        ra, va, ea = eval_states(sats, i[live], tl)
        rb, vb, eb = eval_states(sats, j[live], tl)
        ok[live[(ea != 0) | (eb != 0)]] = False  # a propagation failure ends the guess (flags come from the sweep)
        dr = rb - ra
        dv = vb - va
        g = (dr * dv).sum(axis=1)
        uu = (dv * dv).sum(axis=1)
        na = np.linalg.norm(ra, axis=1)
        nb = np.linalg.norm(rb, axis=1)
        da = -MU_KM3_S2 * (rb / nb[:, None] ** 3 - ra / na[:, None] ** 3)
        gp = uu + (dr * da).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(gp > 0, -g / gp, np.where(uu > 0, -g / uu, 0.0))
        step = np.nan_to_num(step)
        if it == 0:
            reach, _ = _linear_reach(dr, dv, hi[live] - lo[live])
            ok[live[reach > prune_km]] = False
        new_t = np.clip(tl + step, lo[live], hi[live])
        conv = np.abs(new_t - tl) < tol_s
        t[live] = new_t
        live = live[~conv & ok[live]]
    # Final states at the converged times.
    idx = np.flatnonzero(ok)
    r1 = np.full((n, 3), np.nan)
    v1 = np.full((n, 3), np.nan)
    r2 = np.full((n, 3), np.nan)
    v2 = np.full((n, 3), np.nan)
    if len(idx):
        a, av, ae = eval_states(sats, i[idx], t[idx])
        b, bv, be = eval_states(sats, j[idx], t[idx])
        r1[idx], v1[idx], r2[idx], v2[idx] = a, av, b, bv
        bad = (ae != 0) | (be != 0)
        ok[idx[bad]] = False
    with np.errstate(invalid="ignore"):
        near = ok & (np.linalg.norm(r2 - r1, axis=1) <= prune_km)
        slow = near & (np.linalg.norm(v2 - v1, axis=1) < SLOW_POLISH_KMS)
    if slow.any():
        _polish_slow(sats, i, j, t, lo, hi, np.flatnonzero(slow), tol_s)
        idx = np.flatnonzero(slow)
        a, av, ae = eval_states(sats, i[idx], t[idx])
        b, bv, be = eval_states(sats, j[idx], t[idx])
        r1[idx], v1[idx], r2[idx], v2[idx] = a, av, b, bv
        with np.errstate(invalid="ignore"):
            near[idx] = (ae == 0) & (be == 0) & (np.linalg.norm(b - a, axis=1) <= prune_km)
    keep = np.flatnonzero(near)
    return Refined(t[keep], r1[keep], v1[keep], r2[keep], v2[keep], keep)


#: Below this relative speed (km/s) the TCA is polished with velocities differenced from SGP4's positions.
SLOW_POLISH_KMS = 1.0
#: Half-step of those differences (s).
POLISH_STEP_S = 1.0


def _polish_slow(sats: Sequence[Satrec], i: np.ndarray, j: np.ndarray, t: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray, rows: np.ndarray, tol_s: float, max_iter: int = 8) -> None:
    """Newton on ``dr . dr' = 0`` with ``dr'`` differenced from SGP4's positions, in place on ``t[rows]``.

    Why: SGP4's velocities are not exactly the derivative of its positions (by ~3.5 mm/s in LEO and
    ~70 mm/s for SDP4 in GEO). For fast encounters that moves the root of ``dr . dv`` by microseconds, but
    at a few m/s of relative speed by seconds to tens of seconds (24 s for two co-orbiting GEO
    satellites at 3.8 m/s) from the minimum of the distance, which is what TCA means."""
    e = POLISH_STEP_S
    live = rows
    for _ in range(max_iter):
        if not len(live):
            return
        tl = t[live]
        stack = np.concatenate([tl - e, tl, tl + e])
        ra, _, ea = eval_states(sats, np.tile(i[live], 3), stack)
        rb, _, eb = eval_states(sats, np.tile(j[live], 3), stack)
        m = len(live)
        dr = (rb - ra).reshape(3, m, 3)
        bad = ((ea != 0) | (eb != 0)).reshape(3, m).any(axis=0)
        dv = (dr[2] - dr[0]) / (2.0 * e)
        acc = (dr[2] - 2.0 * dr[1] + dr[0]) / (e * e)
        g = (dr[1] * dv).sum(axis=1)
        uu = (dv * dv).sum(axis=1)
        gp = uu + (dr[1] * acc).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(gp > 0, -g / gp, np.where(uu > 0, -g / uu, 0.0))
        step = np.where(bad | ~np.isfinite(step), 0.0, step)
        new_t = np.clip(tl + step, lo[live], hi[live])
        t[live] = new_t
        live = live[np.abs(new_t - tl) >= tol_s]


# --- executors -----------------------------------------------------------------------------------

class LocalExecutor:
    """Runs work units in this process (``workers=1``) or in a pool of local processes."""

    def __init__(self, token: str, portables: Sequence[tuple], workers: int):
        self.token = token
        self.portables = portables
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        install_catalogue(token, portables)

    def __enter__(self) -> LocalExecutor:
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=install_catalogue,
                                             initargs=(self.token, list(self.portables)))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def warm(self) -> None:
        """Start the workers and :func:`warm_up` them while the caller goes on (with its own preparation)."""
        if self._pool is not None:
            for _ in range(self.workers):
                self._pool.submit(warm_up, self.token, None)

    def map(self, fn: Callable, arglists: list[tuple], on_done: Callable[[int], None] | None = None) -> list:
        if self._pool is None:
            out = []
            for n, args in enumerate(arglists):
                out.append(fn(self.token, None, *args))
                if on_done:
                    on_done(n + 1)
            return out
        futures = [self._pool.submit(fn, self.token, None, *args) for args in arglists]
        results = []
        for n, f in enumerate(futures):
            results.append(f.result())
            if on_done:
                on_done(n + 1)
        return results


def split_evenly(n: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, n)) if n else 1
    b = np.linspace(0, n, parts + 1).astype(int)
    return [(int(x), int(y)) for x, y in zip(b[:-1], b[1:], strict=True) if y > x]


def slice_plan(n_samples: int, workers: int, h: float, max_slice_s: float = 2 * 3600.0) -> list[tuple[int, int]]:
    """Sample ranges per slice: at least two per worker for balance, at most ``max_slice_s`` long.

    Two hours: short slices keep the last worker's tail short (a week is 84 slices; with six-hour slices
    the two workers of the project machine finished up to 3.6 s apart), and the sweep reads its knots an
    hour at a time (:data:`SUB_SLICE_S`) whatever the slice's length."""
    per = max(1, int(max_slice_s // h))
    parts = max(2 * workers, math.ceil(n_samples / per))
    return split_evenly(n_samples, parts)
