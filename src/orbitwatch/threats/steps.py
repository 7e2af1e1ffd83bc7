"""Level shifts ("steps") in an object's mean-element series, for manoeuvre detection.

A burn shows in an element-set history as a step in a mean element (semi-major axis, inclination, the
RAAN residual, the eccentricity vector) on top of a slowly varying trend (drag decay, luni-solar drift),
with per-set noise that is heavy-tailed (the odd bad set). The 18 SDS orbit determination does not show
a burn in one set: it absorbs it over 1-10 sets (the fit span still holds pre-burn tracking), so the
step is a ramp - instant for Sentinel-3, about six sets for Jason-1, over a week for Sentinel-6A.

The step at boundary ``j`` (between sets ``j-1`` and ``j``) at scale ``(w, g)`` is the mean of ``w``
sets starting ``g`` sets after the boundary minus the mean of the ``w`` sets before it, minus the local
trend over the time between the two means. ``w`` averages the per-set noise down by ~sqrt(w/2); the
guard ``g`` skips the ramp. Each scale's statistic is turned into a robust z-score against its own
rolling median and 1.4826·MAD over the object's history (the per-object, per-era noise model, which
also holds the trend's curvature), so scales and objects are comparable.

Steps are then found greedily ("explain away"): the largest z over all scales and boundaries is taken,
its onset and ramp located, the step subtracted from the series, and the statistics recomputed, until
nothing is above the threshold. Subtracting lets two burns a few sets apart (Sentinel-3A's -15/+30/-15
mm/s of 2021-11-30..12-07) both be found, and one burn's ramp is not reported twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Scale:
    """``w`` sets averaged on each side of the boundary; ``g`` sets skipped after it (absorption)."""

    w: int
    g: int


@dataclass(slots=True)
class Step:
    """One level shift. ``onset``: first set showing it; ``settled``: first set of the new level
    (``onset <= settled``); ``delta``: change per channel (series units, trend removed); ``score``: its
    robust z; ``sigma``: the statistic's robust scale per channel at the boundary."""

    onset: int
    settled: int
    boundary: int
    delta: np.ndarray
    score: float
    sigma: np.ndarray
    scale: Scale
    ramp_start: float = float("nan")  # fitted start of the absorption ramp (same time units as ``t``)
    ramp_end: float = float("nan")


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median (index window, ends reuse the nearest full window)."""
    n = x.size
    if n == 0:
        return x.copy()
    w = min(window, n)
    view = np.lib.stride_tricks.sliding_window_view(x, w)
    med = np.median(view, axis=1)
    return med[np.clip(np.arange(n) - w // 2, 0, view.shape[0] - 1)]


def rolling_location_scale(x: np.ndarray, window: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Centred rolling median and 1.4826·MAD (at least ``floor``) of ``x``, one numpy call each."""
    n = x.size
    if n == 0:
        return x.copy(), x.copy()
    w = min(window, n)
    view = np.lib.stride_tricks.sliding_window_view(x, w)
    med = np.median(view, axis=1)
    mad = np.median(np.abs(view - med[:, None]), axis=1) * 1.4826
    idx = np.clip(np.arange(n) - w // 2, 0, view.shape[0] - 1)
    return med[idx], np.maximum(mad[idx], floor)


def despike(y: np.ndarray, size: int = 5) -> np.ndarray:
    """Running median over ``size`` sets (odd). It removes one- and two-set outliers and keeps steps
    and monotone ramps exactly (they are roots of the median filter). The ends are mirrored, so an
    outlier in the newest set is removed too (a change seen in one set is not yet a step)."""
    n = y.size
    if size <= 1 or n < 3:
        return y.copy()
    h = min(size // 2, n - 1)
    pad = np.pad(y, h, mode="reflect")
    return np.median(np.lib.stride_tricks.sliding_window_view(pad, 2 * h + 1), axis=1)


def trend_path(t: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The trend's running integral (series units) - what a series following ``slope`` alone would do."""
    if t.size < 2:
        return np.zeros(t.size)
    mid = 0.5 * (slope[1:] + slope[:-1])
    return np.r_[0.0, np.cumsum(mid * np.diff(t))]


def despike_detrended(t: np.ndarray, y: np.ndarray, size: int, slope_window: int) -> np.ndarray:
    """:func:`despike` of ``y`` with its local trend taken out first and put back after. A burn on a
    decaying orbit is a corner (decline, then a jump up), which a running median clips - CryoSat-2's
    30 m steps on a 1.5 m/set decay came out 22 m and one set late; on the detrended series it is a
    plain step, which the median keeps."""
    if size <= 1 or y.size < 3:
        return y.copy()
    path = trend_path(t, local_slope(t, y, slope_window))
    return despike(y - path, size) + path


def local_slope(t: np.ndarray, y: np.ndarray, window: int, lag: int = 1) -> np.ndarray:
    """Robust local trend (units per second) at each set: rolling median of ``lag``-set slopes.

    Burns are a few percent of the slopes in a window, so the median is the drag decay (or drift)
    rate, not the burns'."""
    n = y.size
    if n < 2:
        return np.zeros(n)
    lag = max(1, min(lag, n - 1))
    s = (y[lag:] - y[:-lag]) / np.maximum(t[lag:] - t[:-lag], 1.0)
    s = np.r_[s, np.repeat(s[-1:], lag)]
    return rolling_median(s, window)


def _windows(n: int, scale: Scale):
    """Left/right window bounds and sizes of every boundary, truncated at the history's ends."""
    j = np.arange(n)
    l0 = np.maximum(0, j - scale.w)
    r0 = np.minimum(n, j + scale.g)
    r1 = np.minimum(n, j + scale.g + scale.w)
    return j, l0, r0, r1, j - l0, r1 - r0


def edge_factor(n: int, scale: Scale) -> np.ndarray:
    """How much noisier the statistic is where a window is cut short by the history's ends:
    sqrt((1/n_left + 1/n_right) / (2/w)) (1 in the middle of the history)."""
    _, _, _, _, nl, nr = _windows(n, scale)
    return np.sqrt((1.0 / np.maximum(nl, 1) + 1.0 / np.maximum(nr, 1)) / (2.0 / scale.w))


def step_stat(t: np.ndarray, y: np.ndarray, slope: np.ndarray, scale: Scale,
              valid: np.ndarray | None = None) -> np.ndarray:
    """Step at every boundary ``j`` (index 0 is 0): mean(y[j+g : j+g+w]) - mean(y[j-w : j]) minus the
    trend ``slope[j]`` times the time between the two means. Near the ends the windows are cut short;
    a boundary needs ``min(w, 2)`` sets on each side (a change seen in the newest set alone is not yet
    a step), else it is 0 and ``valid`` says so."""
    n = y.size
    cy = np.r_[0.0, np.cumsum(y)]
    ct = np.r_[0.0, np.cumsum(t - t[0])]
    j, l0, r0, r1, nl, nr = _windows(n, scale)
    need = min(scale.w, 2)
    ok = (nl >= need) & (nr >= need) & (j >= 1)
    nl1 = np.maximum(nl, 1)
    nr1 = np.maximum(nr, 1)
    dy = (cy[r1] - cy[r0]) / nr1 - (cy[j] - cy[l0]) / nl1
    dt = (ct[r1] - ct[r0]) / nr1 - (ct[j] - ct[l0]) / nl1
    d = np.where(ok, dy - slope * dt, 0.0)
    if valid is not None:
        valid[:] = ok
    return d


def find_steps(t: np.ndarray, series: np.ndarray, *, scales: Sequence[Scale], floors: Sequence[float],
               threshold: float, stat_window: int = 121, slope_window: int = 61, despike_size: int = 5,
               onset_fraction: float = 0.5, shadow: float = 0.15, passes: int = 2,
               locators: Sequence[Scale] = (), absorb_limit: float = 1.25,
               separate_k: float | None = None) -> list[Step]:
    """Greedy step finding in ``series`` (shape (n,) or (n, c): channels share steps, e.g. inclination
    and the RAAN residual). ``floors`` (one per channel) bound each statistic's robust scale from below
    (the element's field resolution: a noise-free history must not give infinite z-scores).

    A step is scored by its largest channel |z|. Its onset is the first set in the ramp that has
    reached ``onset_fraction`` of the step (projected on the step direction); sets in the ramp are
    moved onto the old level in proportion, later ones by the whole step. A candidate within a bigger
    accepted step's reach and smaller than ``shadow`` times it is the remainder of that step's
    subtraction (trend change across a large burn), not a burn: it is dropped.

    The noise model (each scale's rolling median and MAD) and the trend need burn-free data: an object
    that burns every two weeks (CryoSat-2) has a step inside most 18-set windows, which inflates the MAD
    and biases the trend. So each further pass (``passes``) takes its noise model and trend from the
    previous pass's residual (its steps subtracted) and starts again from the data. ``locators`` are narrow
    scales used only to date and size a step the ``scales`` found (see :func:`_greedy`), on objects
    whose first pass shows them taking burns in at once (:func:`absorbs_at_once`, ``absorb_limit``):
    on a slow absorber they would cut one ramp into several steps.

    ``separate_k``: a candidate that is an obvious jump (over ``separate_k`` robust sigmas of the
    detrended set-to-set differences, :func:`set_sigma`) and is separated from the bigger step by at
    least two sets at a flat level (:func:`flat_between`) is a burn of its own, however small beside the
    big one (Jason-2 2017-06-28: +111 m five sets before a -30 km lowering); ``None``: the shadow rule
    alone.
    """
    y = np.asarray(series, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    y = y.copy()
    n, c = y.shape
    if n < 3 or not scales:
        return []
    t = np.asarray(t, dtype=float)
    data = np.column_stack([despike_detrended(t, y[:, ch], despike_size, slope_window) for ch in range(c)])
    every = list(dict.fromkeys([*scales, *locators]))
    obvious = None if separate_k is None else separate_k * set_sigma(t, y, slope_window, floors)

    def run(base: np.ndarray, locs: list[Scale], known: list[Step],
            jumps: np.ndarray | None = None) -> tuple[list[Step], np.ndarray]:
        slope = np.column_stack([local_slope(t, base[:, ch], slope_window) for ch in range(c)])
        changes = np.zeros(n, dtype=bool) if jumps is None else jumps.copy()
        for k in known:
            changes[k.boundary:k.settled + 1] = True
        model = _noise_model(t, data, slope, every, floors, stat_window, changes)
        found, residual = _greedy(t, data.copy(), slope, model, list(scales), locs, threshold, onset_fraction,
                                  shadow, obvious)
        _date_ramps(t, data, residual, found, every, slope_window)
        return found, residual

    steps, quiet = run(data, [], [], _obvious_jumps(t, y, slope_window, floors))
    locs = list(locators) if locators and absorbs_at_once(t, steps, threshold, absorb_limit) else []
    for _ in range(passes - 1):  # each pass finds more steps, so the next noise model is cleaner
        steps, quiet = run(quiet, locs, steps)
    if passes < 2 and locs:
        steps, quiet = run(data, locs, [])
    steps.sort(key=lambda st: st.onset)
    return steps


def _date_ramps(t, data, residual, steps, scales, slope_window) -> None:
    """Fit each step's absorption ramp (:func:`_fit_ramp`) from the data between its neighbours only -
    a window reaching the next burn dated Sentinel-3A's 2021-11-30 burn three days early. Neighbours
    are steps at other boundaries: a remainder found at the same boundary would end the fit before the
    first set after the jump (Jason-2 2018-04-06 was dated five days early)."""
    n, c = data.shape
    slope = np.column_stack([local_slope(t, residual[:, ch], slope_window) for ch in range(c)])
    reach = Scale(max(sc.w for sc in scales), max(sc.g for sc in scales))
    steps.sort(key=lambda st: st.boundary)
    for stp in steps:
        lo = max((o.settled for o in steps if o.boundary < stp.boundary), default=0)
        hi = min((o.boundary for o in steps if o.boundary > stp.boundary), default=n)
        stp.ramp_start, stp.ramp_end = _fit_ramp(t, data, slope, stp.boundary, stp.scale, stp.delta, reach,
                                                 bounds=(lo, hi))


def _obvious_jumps(t: np.ndarray, data: np.ndarray, slope_window: int, floors: Sequence[float],
                   k: float = 8.0) -> np.ndarray:
    """Boundaries where the detrended series (not despiked: a running median leaves runs of equal
    values, whose zero differences would make every boundary a jump) moves by more than ``k`` robust
    sigmas of its set-to-set differences in any channel: known changes before the first search, so they stay
    out of the first noise model (a 12-set history with one 2 km burn has a third of its step
    statistics on the burn, which would otherwise be the 'noise')."""
    n, c = data.shape
    out = np.zeros(n, dtype=bool)
    if n < 3:
        return out
    for ch in range(c):
        u = data[:, ch] - trend_path(t, local_slope(t, data[:, ch], slope_window))
        dd = np.diff(u)
        sig = max(1.4826 * float(np.median(np.abs(dd - np.median(dd)))), floors[ch])
        out[1:] |= np.abs(dd) > k * sig
    return out


def set_sigma(t: np.ndarray, data: np.ndarray, slope_window: int, floors: Sequence[float]) -> np.ndarray:
    """Per channel: robust sigma (1.4826·MAD, at least the floor) of the detrended series' set-to-set
    differences - the scale of an 'obvious' jump."""
    out = np.zeros(data.shape[1])
    for ch in range(data.shape[1]):
        u = data[:, ch] - trend_path(t, local_slope(t, data[:, ch], slope_window))
        dd = np.diff(u)
        out[ch] = max(1.4826 * float(np.median(np.abs(dd - np.median(dd)))), floors[ch]) if dd.size else floors[ch]
    return out


def absorbs_at_once(t: np.ndarray, steps: Sequence[Step], threshold: float, limit: float = 1.25) -> bool:
    """Does this object's orbit determination take burns in at once? Judged from its own strong steps
    (z >= 3x the threshold, at least three): median fitted ramp at most ``limit`` element-set intervals.
    Sentinel-3A/B, CryoSat-2, SARAL and Jason-3 do (about one interval: a step between two sets fits any
    ramp up to one interval); Jason-1 (4), HY-2A (3) and Sentinel-6A (5) do not."""
    strong = [s for s in steps if s.score >= 3.0 * threshold and np.isfinite(s.ramp_start)]
    if len(strong) < 3 or t.size < 2:
        return False
    interval = float(np.median(np.diff(t)))
    return float(np.median([s.ramp_end - s.ramp_start for s in strong])) <= limit * interval


def remove_steps(series: np.ndarray, steps: Sequence[Step]) -> np.ndarray:
    """``series`` with the given steps taken out (ramp sets in linear proportion): the burn-free
    series the noise model of :func:`step_zscores` should come from."""
    y = np.array(series, dtype=float)
    y2 = y[:, None] if y.ndim == 1 else y
    for stp in steps:
        k0, k1 = stp.boundary, stp.settled
        for k in range(k0, k1):
            y2[k] -= stp.delta * (k - k0 + 1) / (k1 - k0 + 1)
        y2[k1:] -= stp.delta
    return y2[:, 0] if y.ndim == 1 else y2


def step_zscores(t: np.ndarray, series: np.ndarray, *, scales: Sequence[Scale], floors: Sequence[float],
                 quiet: np.ndarray | None = None, stat_window: int = 121, slope_window: int = 61,
                 despike_size: int = 5) -> np.ndarray:
    """Largest |z| over scales and channels at every boundary of ``series``, with the noise model and
    trend taken from ``quiet`` (the series with known steps removed; default: the series itself).
    A diagnostic: how visible a change at a given time is in the element sets, burn or not."""
    y = np.asarray(series, dtype=float)
    y = y[:, None] if y.ndim == 1 else y
    q = y if quiet is None else (np.asarray(quiet, dtype=float)[:, None] if np.ndim(quiet) == 1 else quiet)
    n, c = y.shape
    if n < 3:
        return np.zeros(n)
    data = np.column_stack([despike_detrended(t, y[:, ch], despike_size, slope_window) for ch in range(c)])
    qd = np.column_stack([despike_detrended(t, q[:, ch], despike_size, slope_window) for ch in range(c)])
    slope = np.column_stack([local_slope(t, qd[:, ch], slope_window) for ch in range(c)])
    model = _noise_model(t, qd, slope, scales, floors, stat_window)
    out = np.zeros(n)
    for s in scales:
        loc, sig, valid = model[s]
        d = np.column_stack([step_stat(t, data[:, ch], slope[:, ch], s) for ch in range(c)])
        z = (np.abs(d - loc) / sig).max(axis=1)
        out = np.maximum(out, np.where(valid, z, 0.0))
    return out


def _noise_model(t, r, slope, scales, floors, stat_window, changes=None):
    """Per scale: the statistic's rolling location and robust scale (n, c) - the scale widened where
    the windows are cut short by the ends - and where the statistic is defined. Boundaries whose
    windows hold a known change (``changes``: sets from a step's boundary to its settled set) are left
    out of the estimate, so an object that burns every two weeks gets the noise of its quiet sets."""
    n, c = r.shape
    cum = np.r_[0, np.cumsum(changes)] if changes is not None else None
    out = {}
    for s in scales:
        v = np.zeros(n, dtype=bool)
        d0 = np.column_stack([step_stat(t, r[:, ch], slope[:, ch], s, v) for ch in range(c)])
        f = edge_factor(n, s)
        use = v.copy()
        lo = np.zeros((n, c))
        sg = np.full((n, c), np.inf)
        if cum is not None:
            j = np.arange(n)
            lo_i = np.clip(j - s.w + 1, 0, n)
            hi_i = np.clip(j + s.g + s.w, 0, n)
            clean = (cum[hi_i] - cum[lo_i]) == 0
            if np.count_nonzero(use & clean) >= max(3, np.count_nonzero(use) // 4):
                use &= clean
            elif use.any():
                # too short a history for this scale to have quiet windows: no location (it would be
                # the burn), a scale about zero over the whole history
                for ch in range(c):
                    sg[v, ch] = max(1.4826 * float(np.median(np.abs(d0[v, ch] / f[v]))), floors[ch]) * f[v]
                out[s] = (lo, sg, v)
                continue
        if use.any():
            idx = np.nonzero(use)[0]
            for ch in range(c):
                lo_u, sg_u = rolling_location_scale(d0[use, ch] / f[use], stat_window, floors[ch])
                # carry the estimate to every defined boundary (nearest estimated one)
                near = idx[np.clip(np.searchsorted(idx, np.nonzero(v)[0]), 0, idx.size - 1)]
                pos = np.searchsorted(idx, near)
                lo[v, ch] = lo_u[pos] * f[v]
                sg[v, ch] = sg_u[pos] * f[v]
        out[s] = (lo, sg, v)
    return out


def _stats(t, r, slope, s: Scale, a: int, b: int) -> np.ndarray:
    """``step_stat`` for boundaries ``a .. b-1`` only (all channels), from the data they depend on."""
    n = r.shape[0]
    m = s.w + s.g + 1
    lo, hi = max(0, a - m), min(n, b + m)
    sub = np.column_stack([step_stat(t[lo:hi], r[lo:hi, ch], slope[lo:hi, ch], s) for ch in range(r.shape[1])])
    return sub[a - lo:b - lo]


def _greedy(t, r, slope, model, scales, locators, threshold, onset_fraction, shadow, obvious=None):
    """The explain-away loop on ``r`` (modified in place); returns the steps and the residual.

    The detection scales find the strongest step; it is then *located* with the narrowest scale
    (``locators`` first) that also shows it above the threshold within the detecting scale's reach, so
    a wide scale's averaging finds weak burns and a narrow one dates them and keeps close burns apart.
    After each subtraction only the boundaries whose windows touch the changed sets are recomputed
    (the rest of the series moved by a constant, which a difference of means does not see)."""
    n, c = r.shape
    blocked = np.zeros(n, dtype=bool)
    blocked[0] = True
    steps: list[Step] = []
    every = list(dict.fromkeys([*scales, *locators]))
    narrow_first = sorted(every, key=lambda sc: (sc.w + sc.g, sc.g))
    reach = Scale(max(sc.w for sc in every), max(sc.g for sc in every))
    stats: dict[Scale, np.ndarray] = {}
    zmax: dict[Scale, np.ndarray] = {}

    def rescore(s: Scale, a: int, b: int) -> None:
        loc, sig, valid = model[s]
        stats[s][a:b] = _stats(t, r, slope, s, a, b)
        z = (np.abs(stats[s][a:b] - loc[a:b]) / sig[a:b]).max(axis=1)
        z[blocked[a:b] | ~valid[a:b]] = 0.0
        zmax[s][a:b] = z

    for s in every:
        stats[s] = np.zeros((n, c))
        zmax[s] = np.zeros(n)
        rescore(s, 0, n)
    while len(steps) < n:
        best = (0.0, -1, None)
        for s in scales:
            j = int(np.argmax(zmax[s]))
            if zmax[s][j] > best[0]:
                best = (float(zmax[s][j]), j, s)
        score, j, s = best
        if s is None or score < threshold:
            break
        delta = stats[s][j] - model[s][0][j]
        for ls in narrow_first:
            if (ls.w + ls.g, ls.g) >= (s.w + s.g, s.g):
                break
            a, b = max(1, j - s.w), min(n, j + s.g + 1)
            k = a + int(np.argmax(zmax[ls][a:b]))
            d_k = stats[ls][k] - model[ls][0][k]
            if zmax[ls][k] >= threshold and float(np.dot(d_k, delta)) > 0.0:
                # the narrow scale dates and sizes it: the wide windows may hold another burn. A slow
                # ramp the narrow windows only partly see leaves a remainder, found as a second step a
                # few sets later (the detector groups them into one manoeuvre).
                j, s, delta = k, ls, d_k
                break
        sig = model[s][1]
        onset, settled, frac = _ramp(t, r, slope, j, s, delta, onset_fraction)
        # the remainder of a bigger neighbour's subtraction is not a burn
        shadowed = any(
            abs(j - st.boundary) <= st.scale.w + st.scale.g + s.w + s.g
            and np.linalg.norm(delta / st.sigma) < shadow * np.linalg.norm(st.delta / st.sigma)
            and not (obvious is not None and _apart(r, j, delta, st, obvious))
            for st in steps)
        if shadowed or blocked[max(onset, 1):settled + 1].all():
            blocked[j] = True
            for sc in every:
                zmax[sc][j] = 0.0
            continue
        # subtract: ramp sets in proportion, the new level in full
        for k, f in zip(range(j, settled), frac, strict=True):
            r[k] -= f * delta
        r[settled:] -= delta
        blocked[max(onset, 1):settled + 1] = True
        steps.append(Step(onset, settled, j, delta, score, sig[j].copy(), s))
        a = max(1, j - reach.w - reach.g - 1)
        b = min(n, settled + reach.w + reach.g + 2)
        for sc in every:
            rescore(sc, a, b)
    return steps, r


def flat_between(r: np.ndarray, lo: int, hi: int, size: float, flat: float = 0.25) -> bool:
    """Do the sets ``lo .. hi-1`` (at least two) hold one level, to within ``flat`` times ``size``? The
    intermediate level between two burns: a ramp being absorbed is still moving there."""
    mid = np.asarray(r[lo:hi], dtype=float)
    if mid.shape[0] < 2:
        return False
    mid = mid.reshape(mid.shape[0], -1)
    return float(np.linalg.norm(np.ptp(mid, axis=0))) <= flat * size


def _apart(r: np.ndarray, j: int, delta: np.ndarray, big: Step, obvious: np.ndarray) -> bool:
    """Is the step at boundary ``j`` a burn of its own next to the bigger step ``big``, not the remainder
    of its subtraction? Yes when it is an obvious jump (over ``obvious`` in a channel) and a flat stretch
    of at least two sets (:func:`flat_between`) separates it from ``big``'s ramp."""
    if not np.any(np.abs(delta) >= obvious):
        return False
    size = float(np.linalg.norm(delta))
    if j <= big.boundary - 2:
        return flat_between(r, j, big.boundary, size)
    if j >= big.settled + 2:
        return flat_between(r, big.settled, j, size)
    return False


def _ramp(t: np.ndarray, r: np.ndarray, slope: np.ndarray, j: int, s: Scale, delta: np.ndarray,
          onset_fraction: float) -> tuple[int, int, list[float]]:
    """Onset, first settled set and the fractions of the step reached by the ramp sets ``j .. settled-1``.

    The old level is the left window's mean carried along the trend; fractions are projections of each
    set's departure from it on the step direction. The onset is the first set of ``j .. j+g-1`` at or
    above ``onset_fraction``; fractions are clipped to [0, 1]."""
    n = r.shape[0]
    settled = min(j + s.g, n)
    lo = max(0, j - s.w)
    left_t = float(np.mean(t[lo:j]))
    left_y = r[lo:j].mean(axis=0)
    norm2 = float(np.dot(delta, delta))
    if norm2 <= 0.0 or settled <= j:
        return j, max(settled, j), []
    frac = []
    for k in range(j, settled):
        old = left_y + slope[j] * (t[k] - left_t)
        frac.append(float(np.clip(np.dot(r[k] - old, delta) / norm2, 0.0, 1.0)))
    onset = settled
    for k, f in zip(range(j, settled), frac, strict=True):
        if f >= onset_fraction:
            onset = k
            break
    return onset, settled, frac


def _fit_ramp(t: np.ndarray, r: np.ndarray, slope: np.ndarray, j: int, s: Scale,
              delta: np.ndarray, reach: Scale | None = None,
              bounds: tuple[int, int] | None = None) -> tuple[float, float]:
    """Start and end time of the absorption ramp.

    The sets around the step (the widest scale's windows, ``reach``), trend removed and projected on
    the step direction, are fitted by least squares with ``old + size·S(x)``, ``S`` the smoothstep
    ``3x² - 2x³``, ``x = clip((t - t_s) / (t_e - t_s), 0, 1)``; ``old`` and ``size`` are solved for each
    (t_s, t_e) on a grid. The orbit determination's fit span takes in post-burn tracking gradually and
    the training satellites' mean absorption profile has this S shape (Jason-1: 0.04, 0.19, 0.39, 0.62,
    0.80, 0.91 of the step in the sets 0.5 .. 5.5 intervals after the burn; a straight ramp would date
    burns ~0.7 interval late). An instant step leaves ``t_s`` anywhere between the last old and the
    first new set: the middle of the best range is taken. ``bounds`` (sets) narrow the window."""
    n = r.shape[0]
    big = reach or s
    lo = max(0, j - big.w)
    hi = min(n, j + big.g + big.w)
    if bounds is not None:
        lo = max(lo, min(bounds[0], j - 1))
        hi = min(hi, max(bounds[1], j + 1))
    norm = float(np.linalg.norm(delta))
    if norm <= 0.0 or j - lo < 1 or hi <= j:
        return float("nan"), float("nan")
    u = delta / norm
    tk = t[lo:hi]
    p = (r[lo:hi] - slope[j][None, :] * (tk - t[j])[:, None]) @ u
    step = float(np.median(np.diff(tk))) if tk.size > 1 else 1.0
    starts = np.arange(t[max(lo, j - 1 - big.g)], t[min(j + s.g, n - 1)] + 1e-9, step / 8.0)
    durs = step * np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0])
    durs = durs[durs <= max(big.g + 1, 1) * step]
    best = (np.inf, [])
    for d in durs:
        if d > 0:
            x = np.clip((tk[None, :] - starts[:, None]) / d, 0.0, 1.0)
            S = x * x * (3.0 - 2.0 * x)
        else:
            S = (tk[None, :] > starts[:, None]).astype(float)
        # least squares for old level and size, per start: p = a + b S
        m = tk.size
        sx, sxx = S.sum(axis=1), (S * S).sum(axis=1)
        sy, sxy = p.sum(), S @ p
        den = m * sxx - sx * sx
        ok = den > 1e-12
        b = np.where(ok, (m * sxy - sx * sy) / np.where(ok, den, 1.0), 0.0)
        a = (sy - b * sx) / m
        cost = ((p[None, :] - a[:, None] - b[:, None] * S) ** 2).sum(axis=1)
        cost = np.where(ok & (b > 0), cost, np.inf)  # the step in the direction found
        c = float(cost.min())
        if not np.isfinite(c):
            continue
        tol = 1e-9 * max(1.0, abs(c))
        if c < best[0] - tol:
            best = (c, [(float(starts[i]), float(d)) for i in np.nonzero(cost <= c + tol)[0]])
        elif abs(c - best[0]) <= tol:
            best[1].extend((float(starts[i]), float(d)) for i in np.nonzero(cost <= c + tol)[0])
    if not best[1]:
        return float("nan"), float("nan")
    cands = sorted(best[1])
    t_s, d = cands[len(cands) // 2]
    return t_s, t_s + d
