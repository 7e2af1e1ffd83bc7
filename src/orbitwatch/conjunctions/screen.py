"""Conjunction screening of a catalogue: all-vs-all or one-vs-all, sphere or RTN volumes.

Pipeline (each stage timed in :attr:`ScreeningResult.stage_seconds`):

1. **prepare** – one element set per object (the newest when several are given), Satrec objects.
2. **coarse** – perigee/apogee shells: an object takes part only if its radial shell (padded by
   100 km for SGP4 short-period terms and decay) overlaps another participant's (one-vs-all: a
   primary's).
3. **sweep** – the window is cut into time slices run in parallel (processes, or dask workers). Each
   slice lays SGP4 knots per object (steps chosen so the cubic Hermite error bound stays below
   ``tolerance_km``, :mod:`orbitwatch.kernels.interpolation`) and sweeps ``h``-second samples with
   a spatial hash whose padding covers the relative speed, relative acceleration and interpolation
   bounds, so that **no pair that comes within the screening distance is dropped**
   (:mod:`orbitwatch.kernels.spatial` states the inequality).
4. **group** – candidate (pair, sample) rows are grouped into contiguous runs per pair; each sign
   change of the range rate inside a run, and each run edge where the pair approaches or recedes,
   gives one first guess of a time of closest approach (so one pair can have several approaches).
   A pair that stays within the screening distance for more than :data:`COLOCATED_S` (docked,
   co-located, formation flying) is reported once per stay, at its closest point, flagged
   ``co-located``.
5. **refine** – Newton iteration on ``dr . dv = 0`` with SGP4 itself until the step is below 10 µs
   (TCA to well below 1 ms, miss distance to well below 1 m against SGP4).
   Stages 4 and 5 run inside each slice's work unit for the runs wholly inside the slice, while other
   slices still sweep; the stage timings ``group`` and ``refine`` are then only the runs that cross a
   slice boundary (``sweep.group_refine`` is the slices' share).
6. **assemble** and **pc** – the approaches kept (volume, de-duplication) as arrays, their probability of
   collision with the default TLE covariance model computed from those arrays (see :func:`_pc_columns`),
   then the :class:`Conjunction` objects, each made once with all its fields.

Volumes: ``sphere`` keeps approaches with miss distance ``<= threshold_km``. ``rtn-ellipsoid`` and
``rtn-box`` (semi-axes ``rtn_km`` in the primary's radial/transverse/normal axes) search with the
circumscribing sphere and keep an approach when the secondary's relative track, taken as straight
during the encounter, enters the volume (the minimum of the ellipsoidal metric along the track, or for
the box its value at that time and at TCA, is ``<= 1``).
"""

from __future__ import annotations

import itertools
import math
import operator
import time
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta

import numpy as np

from orbitwatch._gc import gc_paused
from orbitwatch.conjunctions import engine
from orbitwatch.errors import ValidationError
from orbitwatch.kernels.frames import to_rtn
from orbitwatch.kernels.interpolation import plan_steps, radial_accel_bound
from orbitwatch.kernels.propagation import default_workers, error_message, portable, satrec_of
from orbitwatch.kernels.spatial import HAVE_NUMBA

EARTH_RADIUS_KM = 6378.135
#: A pair within the screening distance for longer than this is one "co-located" event per stay.
COLOCATED_S = 3 * 3600.0
#: Below this relative speed at TCA the approach is flagged slow (the 2D Pc model is then doubtful).
SLOW_RELATIVE_SPEED_KMS = 0.1
#: Radial padding of the perigee/apogee shells (km).
SHELL_PAD_KM = 100.0
#: Default sample interval of the sweep (s) and knot tolerance (km); tuned on the 2023 catalogue (a 2-hour
#: slice of the full catalogue, best of 3-4 runs, CPU-s of the sweep: 90 s 1.35, 105 s 1.17, 120 s 1.17,
#: 150 s 1.46, with quintic knots at 1 km; candidate rows grow with the interval: 15k, 19k, 24k, 42k).
DEFAULT_SAMPLE_S = 120.0
DEFAULT_TOLERANCE_KM = 1.0
#: Knot tolerance of the objects whose knots stay cubic (kernels.interpolation.cubic_objects), km. Their
#: bounds widen only their own searches; 10 km against 5 km: a 2-hour slice of the 2023 catalogue spends
#: 0.31 instead of 0.36 CPU-s in knots and the same in the sweep (25.8k against 25.4k candidate rows).
CUBIC_TOLERANCE_KM = 10.0
VOLUMES = ("sphere", "rtn-ellipsoid", "rtn-box")
#: Below this many object-samples a run stays in the calling process unless ``workers`` is given.
SMALL_JOB = 3_000_000


@dataclass
class Conjunction:
    """One close approach. Positions/velocities TEME km and km/s at TCA; RTN of the secondary relative
    to the primary (``norad1``) in the primary's radial/transverse/normal axes."""

    norad1: int
    norad2: int
    tca: datetime
    miss_km: float
    relative_speed_kms: float
    r_km: float
    t_km: float
    n_km: float
    pc: float | None = None
    pc_max: float | None = None
    dilution_sigma_km: float | None = None
    covariance_source: str | None = None
    hbr_m: float | None = None  # combined hard-body radius the Pc used (m)
    flags: tuple[str, ...] = ()
    r1: tuple[float, float, float] = (0.0, 0.0, 0.0)
    v1: tuple[float, float, float] = (0.0, 0.0, 0.0)
    r2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    v2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    tca_unix: float = 0.0  # unrounded TCA, UTC seconds since 1970

    def as_dict(self) -> dict:
        """JSON-ready mapping (TCA as ISO 8601 UTC with milliseconds and ``Z``)."""
        return {
            "norad1": self.norad1, "norad2": self.norad2,
            "tca": self.tca.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.tca.microsecond // 1000:03d}Z",
            "miss_km": round(self.miss_km, 6), "relative_speed_kms": round(self.relative_speed_kms, 6),
            "r_km": round(self.r_km, 6), "t_km": round(self.t_km, 6), "n_km": round(self.n_km, 6),
            "pc": self.pc, "pc_max": self.pc_max, "dilution_sigma_km": self.dilution_sigma_km,
            "covariance_source": self.covariance_source, "hbr_m": self.hbr_m, "flags": list(self.flags),
            "r1": list(self.r1), "v1": list(self.v1), "r2": list(self.r2), "v2": list(self.v2),
        }


@dataclass
class ScreeningResult:
    events: list[Conjunction]
    flags: dict[int, str]
    stage_seconds: dict[str, float]
    start: datetime
    end: datetime
    objects: int = 0
    candidates: int = 0
    stats: dict[str, float] = field(default_factory=dict)


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _ms(t_unix: float) -> datetime:
    ms = round(t_unix * 1000.0)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _ms_many(t_unix: np.ndarray) -> list[datetime]:
    """:func:`_ms` of every element of a finite array (the same datetimes), built from calendar fields
    computed in numpy: one C-level constructor call per element instead of datetime arithmetic."""
    ms = np.rint(np.asarray(t_unix, dtype=np.float64) * 1000.0).astype(np.int64)  # round-half-even, as round()
    t = ms.astype("datetime64[ms]")
    day = t.astype("datetime64[D]")
    month = t.astype("datetime64[M]")
    year = t.astype("datetime64[Y]")
    msod = (t - day).astype(np.int64)  # milliseconds of the day
    cols = ((year.astype(np.int64) + 1970).tolist(), ((month - year).astype(np.int64) + 1).tolist(),
            ((day - month).astype(np.int64) + 1).tolist(), (msod // 3_600_000).tolist(),
            (msod // 60_000 % 60).tolist(), (msod // 1000 % 60).tolist(), (msod % 1000 * 1000).tolist())
    return list(map(datetime, *cols, itertools.repeat(UTC)))


def newest(elsets: Sequence) -> list:
    """One element set per catalogue number: the one with the latest epoch (then the last given)."""
    best: dict[int, object] = {}
    for es in elsets:
        cur = best.get(es.norad_id)
        if cur is None or es.epoch >= cur.epoch:
            best[es.norad_id] = es
    return list(best.values())


def screen(elsets: Sequence, *, start: datetime, days: float = 7.0, threshold_km: float = 5.0,
           primaries: Collection[int] | None = None, secondaries: Collection[int] | None = None,
           groups: Mapping[int, Hashable] | None = None, volume: str = "sphere",
           rtn_km: tuple[float, float, float] | None = None, workers: int | None = None,
           scheduler: str | None = None, progress: Callable[[str, float], None] | None = None,
           with_pc: bool = True, hbr_m: Mapping[int, float] | None = None, sample_s: float = DEFAULT_SAMPLE_S,
           tolerance_km: float = DEFAULT_TOLERANCE_KM, use_numba: bool | None = None) -> ScreeningResult:
    """Find every close approach among ``elsets`` in ``[start, start + days]``.

    ``primaries``: catalogue numbers screened against everything (one-vs-all); None = all-vs-all.
    ``secondaries``: with ``primaries``, screen primaries only against these (a fragment cloud against
    allied assets, assets against foreign objects); two primaries are then paired only if one of them
    is also a secondary. Objects that are neither are not propagated at all.
    ``groups``: catalogue number -> group (e.g. owner); two objects of the same group are never paired.
    ``volume``: ``sphere`` (radius ``threshold_km``), ``rtn-ellipsoid`` or ``rtn-box`` (semi-axes
    ``rtn_km`` = (R, T, N) km in the primary's RTN frame; ``threshold_km`` is then ignored).
    ``workers``: local processes (default: every core); ``scheduler``: a dask scheduler address
    (``tcp://host:8786``) to run on a cluster instead. ``progress(stage, fraction)`` is called as
    work completes. ``with_pc``: attach Pc / max-Pc with the default covariance model; ``hbr_m``: hard-body
    radius per catalogue number (m, e.g. NASA CARA's estimates from the SATCAT); the combined radius of a
    pair is the sum, with half of :data:`DEFAULT_HBR_M` for an object without one.

    Per-object propagation problems (decay, SGP4 errors) are reported in ``flags`` and never stop
    the run. Raises :class:`~orbitwatch.errors.ValidationError` for bad arguments.
    """
    timings: dict[str, float] = {}
    t_mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t_mark
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - t_mark
        t_mark = now

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, min(max(fraction, 0.0), 1.0))

    if secondaries is not None and primaries is None:
        raise ValidationError("secondaries need primaries: give the objects to screen against them",
                              field="secondaries")
    if days <= 0 or not math.isfinite(days):
        raise ValidationError(f"days must be a positive number, got {days!r}", field="days")
    if volume not in VOLUMES:
        raise ValidationError(f"volume {volume!r}: expected one of {', '.join(VOLUMES)}", field="volume")
    if volume == "sphere":
        if not threshold_km > 0:
            raise ValidationError(f"threshold_km must be positive, got {threshold_km!r}", field="threshold_km")
        reach = float(threshold_km)
        axes = None
    else:
        if rtn_km is None or len(rtn_km) != 3 or not all(x > 0 for x in rtn_km):
            raise ValidationError(f"volume {volume} needs rtn_km = (R, T, N), three positive km values; "
                                  f"got {rtn_km!r}", field="rtn_km")
        axes = np.asarray(rtn_km, dtype=np.float64)
        reach = float(axes.max() if volume == "rtn-ellipsoid" else np.linalg.norm(axes))
    # A point of the volume at RTN offset (r, t, n) from a primary at radius rho has radius within
    # |r| + (t^2 + n^2) / (2 (rho - |r|)) of the primary's (rho > 6,000 km): the sweep's radial test
    # may use that instead of the full reach (10 km instead of 50 km for the LEO RPO ellipsoid).
    radial_reach = reach if axes is None else min(reach, float(axes[0] + (axes[1] ** 2 + axes[2] ** 2) / 12_000.0))
    start = _aware(start)
    end = start + timedelta(days=days)
    t_start = start.timestamp()
    t_end = end.timestamp()

    # 1. prepare ---------------------------------------------------------------------------------
    cat = sorted(newest(elsets), key=lambda e: e.norad_id)
    norads = np.array([e.norad_id for e in cat], dtype=np.int64)
    flags: dict[int, str] = {}
    sats, ports, keep = [], [], []
    for n, es in enumerate(cat):
        try:
            sat = satrec_of(es)
        except Exception as exc:  # noqa: BLE001 - any init failure is a per-object flag
            flags[es.norad_id] = f"SGP4 initialisation failed: {exc}"
            continue
        if sat.error:
            flags[es.norad_id] = f"SGP4 error {sat.error}: {error_message(sat.error)} at epoch"
            continue
        if getattr(es, "ephemeris_type", 0) == 4:
            # SGP4-XP mean elements are not SGP4's: the public sgp4 library has no XP theory, so the object
            # is screened with SGP4 and said to be, rather than dropped (a dropped object hides its events).
            flags[es.norad_id] = ("SGP4-XP element set (ephemeris type 4) propagated with plain SGP4: "
                                  "positions may be off by kilometres; screen an SGP4 set of this object")
        sats.append(sat)
        ports.append(portable(es))
        keep.append(n)
    cat = [cat[n] for n in keep]
    norads = norads[keep]
    prim_set = set(int(p) for p in primaries) if primaries is not None else None
    if prim_set is not None:
        missing = prim_set - set(norads.tolist())
        for p in sorted(missing):
            flags.setdefault(p, "primary not in the screened element sets")
    is_primary = np.array([int(x) in prim_set for x in norads], dtype=bool) if prim_set is not None \
        else np.zeros(len(norads), dtype=bool)
    if secondaries is not None:
        sec_set = {int(x) for x in secondaries}
        is_secondary = np.array([int(x) in sec_set for x in norads], dtype=bool)
    else:
        is_secondary = None
    group = None
    if groups:
        codes: dict = {}
        group = np.array([codes.setdefault(groups[int(x)], len(codes)) if groups.get(int(x)) is not None else -1
                          for x in norads], dtype=np.int64)
    lap("prepare")

    # 2. coarse: perigee/apogee shells -------------------------------------------------------------
    a = np.array([s.a for s in sats], dtype=np.float64) * EARTH_RADIUS_KM
    e = np.array([s.ecco for s in sats], dtype=np.float64)
    lo_r = a * (1 - e) - SHELL_PAD_KM - reach
    hi_r = a * (1 + e) + SHELL_PAD_KM + reach
    active = _shell_overlap(lo_r, hi_r, is_primary if prim_set is not None else None, is_secondary)
    lap("coarse")
    result = ScreeningResult([], flags, timings, start, end, objects=len(sats))
    if active.sum() < 2 or (prim_set is not None and not (active & is_primary).any()):
        result.stats["active"] = int(active.sum())
        return result

    # 3. sweep ------------------------------------------------------------------------------------
    h = float(sample_s)
    n_samples = max(1, math.ceil((t_end - t_start) / h))
    nworkers = default_workers() if workers is None else max(1, int(workers))
    if workers is None and int(active.sum()) * n_samples < SMALL_JOB:
        nworkers = 1  # starting worker processes would cost more than the job
    token = engine.catalogue_token(ports)
    if scheduler:
        from orbitwatch.distributed.cluster import DaskExecutor

        executor = DaskExecutor(scheduler, token, ports)
        nworkers = executor.nworkers
    else:
        executor = engine.LocalExecutor(token, ports, nworkers)
    plan = engine.slice_plan(n_samples, nworkers, h)
    # Slices group and refine their own runs (engine.sweep_slice); runs that cross a slice boundary come
    # back as rows and are joined here.
    grouping = engine.GroupParams(n_samples, COLOCATED_S, reach + 0.05, stay_km=reach, t_end=t_end)
    with executor:
        executor.warm()  # workers start while the knot steps are planned here
        steps, bounds = plan_steps(sats, tolerance_km=tolerance_km, t_unix=t_start,
                                   cubic_tolerance_km=CUBIC_TOLERANCE_KM)
        radial_accel = radial_accel_bound(sats, steps, bounds)
        params = engine.SweepParams(t_start, h, reach, tolerance_km, prim_set is not None, steps, bounds,
                                    radial_reach, radial_accel)
        lap("prepare")
        report("sweep", 0.0)
        slices = executor.map(engine.sweep_slice,
                              [(params, k0, k1, active, is_primary, use_numba, is_secondary, group, grouping)
                               for k0, k1 in plan],
                              on_done=lambda n: report("sweep", n / len(plan)))
        lap("sweep")
        for s in slices:
            for key, val in s.seconds.items():
                timings[f"sweep.{key}"] = timings.get(f"sweep.{key}", 0.0) + val
        em = engine.Emitted.concat([s.emitted for s in slices]).sort()
        first_fail = np.min(np.stack([s.first_failure for s in slices]), axis=0)
        codes = np.zeros(len(sats), dtype=np.int64)
        for s in reversed(slices):
            hit = np.isfinite(s.first_failure) & (s.first_failure <= first_fail)
            codes[hit] = s.first_code[hit]
        result.candidates = sum(s.rows for s in slices)
        result.stats["knots"] = sum(s.knots for s in slices)
        result.stats["active"] = int(active.sum())
        result.stats["samples"] = n_samples

        # 4. group the runs that cross slice boundaries into first guesses ------------------------
        edge = engine.first_guesses(em, t_start, h, COLOCATED_S, reach, t_end)
        lap("group")
        result.stats["guesses"] = sum(s.guesses for s in slices) + len(edge)

        # 5. refine them against SGP4 ---------------------------------------------------------------
        chunks = engine.split_evenly(len(edge), 2 * nworkers if len(edge) > 2000 else 1)
        report("refine", 0.0)
        parts = executor.map(engine.refine_guesses,
                             [(edge.i[x:y], edge.j[x:y], edge.t[x:y], edge.lo[x:y], edge.hi[x:y], grouping.prune_km)
                              for x, y in chunks],
                             on_done=lambda n: report("refine", n / max(len(chunks), 1)))
    lap("refine")
    refined = [s.refined for s in slices] + parts
    guesses = [s.refined_guesses for s in slices] + [edge.take(p.index + x)
                                                     for p, (x, _) in zip(parts, chunks, strict=True)]
    total = sum(len(r.t) for r in refined)
    ref = engine.Refined(*(np.concatenate([getattr(r, f) for r in refined]) for f in ("t", "r1", "v1", "r2", "v2")),
                         np.arange(total)) if total else None
    g_all = engine.Guesses.concat(guesses)
    if ref is not None:  # one event per co-located stay: its closest refined point
        keep = engine.closest_per_stay(ref, g_all)
        ref = engine.Refined(*(getattr(ref, f)[keep] for f in ("t", "r1", "v1", "r2", "v2")), np.arange(len(keep)))
        g_all = g_all.take(keep)

    # flags for objects that failed in the window
    for n in np.flatnonzero(np.isfinite(first_fail)):
        code = int(codes[n])
        when = datetime.fromtimestamp(float(first_fail[n]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        flags[int(norads[n])] = f"SGP4 error {code}: {error_message(code)} from {when}"

    # 6. assemble events -----------------------------------------------------------------------------
    # (arrays first; the Pc from them; then the objects, Pc included: "assemble" is both array parts)
    rows = None
    if ref is not None:
        rows = _event_rows(ref, g_all.i, g_all.j, g_all.colocated, g_all.lo, g_all.hi, norads, is_primary,
                           prim_set is not None, t_start, t_end, volume, reach, axes, first_fail, codes)
    lap("assemble")
    pc_columns = None
    if with_pc and rows is not None and len(rows.t):
        report("pc", 0.0)
        pc_columns = _pc_columns(rows, cat, hbr_m)
        report("pc", 1.0)
    lap("pc")
    events = _build_events(rows, pc_columns) if rows is not None else []
    lap("assemble")
    events.sort(key=lambda c: (c.tca_unix, c.norad1, c.norad2))
    result.events = events
    return result


def _shell_overlap(lo: np.ndarray, hi: np.ndarray, primary: np.ndarray | None,
                   secondary: np.ndarray | None = None) -> np.ndarray:
    """Objects whose radial shell overlaps another's (or, with primaries, a primary's; with secondaries
    too, primaries and the secondaries whose shell overlaps a primary's)."""
    n = len(lo)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if primary is not None:
        # sorted interval stabbing: an object overlaps some primary's shell iff a primary starts below
        # its top and the highest-reaching such primary ends above its bottom (primaries can be many)
        pidx = np.flatnonzero(primary)
        order = np.argsort(lo[pidx])
        p_lo = lo[pidx][order]
        p_hi_run = np.maximum.accumulate(hi[pidx][order])
        upto = np.searchsorted(p_lo, hi, side="right")
        hit = np.zeros(n, dtype=bool)
        has = upto > 0
        hit[has] = p_hi_run[upto[has] - 1] >= lo[has]
        if secondary is not None:
            hit &= secondary
        return primary | hit
    order = np.argsort(lo)
    slo, shi = lo[order], hi[order]
    # overlaps a predecessor: running max of hi before it >= its lo; a successor: next lo <= its hi
    prev_max = np.maximum.accumulate(np.concatenate([[-np.inf], shi[:-1]]))
    ov = prev_max >= slo
    ov[:-1] |= slo[1:] <= shi[:-1]
    out = np.zeros(n, dtype=bool)
    out[order] = ov
    return out


@dataclass
class _EventRows:
    """A screening's events as arrays, one row per event, in the order their Pc is computed (by pair;
    ``result`` gives the rows in the result's order: TCA, norad1, norad2)."""

    norad1: np.ndarray
    norad2: np.ndarray
    t: np.ndarray
    miss: np.ndarray
    speed: np.ndarray
    rtn: np.ndarray  # (N, 3)
    r1: np.ndarray  # (N, 3) primary (norad1) and secondary states, km and km/s
    v1: np.ndarray
    r2: np.ndarray
    v2: np.ndarray
    flag_code: np.ndarray  # see _flag_tuple
    result: np.ndarray


def _assemble(ref, gi, gj, gcol, glo, ghi, norads, is_primary, one_vs_all: bool, t_start: float, t_end: float,
              volume: str, reach: float, axes, first_fail, codes) -> list[Conjunction]:
    """The events of the refined guesses (without Pc), in the result's order (TCA, norad1, norad2)."""
    return _build_events(_event_rows(ref, gi, gj, gcol, glo, ghi, norads, is_primary, one_vs_all, t_start, t_end,
                                     volume, reach, axes, first_fail, codes))


def _event_rows(ref, gi, gj, gcol, glo, ghi, norads, is_primary, one_vs_all: bool, t_start: float, t_end: float,
                volume: str, reach: float, axes, first_fail, codes) -> _EventRows:
    """Selection, orientation, volume test and de-duplication of the refined guesses, as arrays."""
    ok = (ref.t >= t_start) & (ref.t <= t_end)
    # A guess that ends on a bound of its search window (not the screening window's) is no closest
    # approach: the range still falls beyond it, and the minimum there, if it matters, has its own
    # candidate rows and guess. Kept, such points are harmless for a sphere (the range at the bound
    # exceeds the distance) but not for a flat RTN volume, whose straight-track test then extrapolates
    # a slow pair through the volume from a point that is no encounter at all.
    stuck = (((ref.t - glo) < 1e-3) & (glo > t_start + 1e-3)) | (((ghi - ref.t) < 1e-3) & (ghi < t_end - 1e-3))
    ok &= ~(stuck & ~gcol)
    with np.errstate(invalid="ignore"):
        miss_all = np.linalg.norm(ref.r2 - ref.r1, axis=1)
    # Every volume lies inside the sphere of radius ``reach``, and a straight track that enters it comes
    # within ``reach``: rows beyond it (most refined guesses) are dropped before the frame work.
    rows = np.flatnonzero(ok & (miss_all <= reach))
    ref = type(ref)(*(getattr(ref, f)[rows] for f in ("t", "r1", "v1", "r2", "v2", "index")))
    gi, gj, gcol = gi[rows], gj[rows], gcol[rows]
    miss = miss_all[rows]
    dv = ref.v2 - ref.v1
    speed = np.linalg.norm(dv, axis=1)
    # orientation: norad1 = the primary (one-vs-all) or the smaller catalogue number
    swap = norads[gi] > norads[gj]
    if one_vs_all:
        swap = np.where(is_primary[gi] & is_primary[gj], swap, ~is_primary[gi])
    p_r = np.where(swap[:, None], ref.r2, ref.r1)
    p_v = np.where(swap[:, None], ref.v2, ref.v1)
    s_r = np.where(swap[:, None], ref.r1, ref.r2)
    s_v = np.where(swap[:, None], ref.v1, ref.v2)
    n1 = np.where(swap, norads[gj], norads[gi])
    n2 = np.where(swap, norads[gi], norads[gj])
    with np.errstate(invalid="ignore"):
        rtn = to_rtn(s_r - p_r, p_r, p_v)
    if volume == "sphere":
        inside = np.ones(len(rows), dtype=bool)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            u = to_rtn(s_v - p_v, p_r, p_v)
            x0 = rtn / axes
            w = u / axes
            ww = (w * w).sum(axis=1)
            tau = np.where(ww > 0, -(x0 * w).sum(axis=1) / ww, 0.0)
            xm = x0 + w * tau[:, None]
        if volume == "rtn-ellipsoid":
            inside = (xm * xm).sum(axis=1) <= 1.0
        else:
            inside = (np.abs(xm).max(axis=1) <= 1.0) | (np.abs(x0).max(axis=1) <= 1.0)
    ok = inside & np.isfinite(miss)
    idx = np.flatnonzero(ok)
    # dedupe: several guesses of one pair converging on the same minimum (within 1 s of each other):
    # keep the smallest miss of each such cluster
    pair = _pair_key(n1, n2)  # one sort key for (norad1, norad2) where it fits: a lexsort key less
    order = idx[np.lexsort((ref.t[idx], pair[idx]) if pair is not None else (ref.t[idx], n2[idx], n1[idx]))]
    if len(order):
        same = np.zeros(len(order), dtype=bool)
        same[1:] = ((n1[order[1:]] == n1[order[:-1]]) & (n2[order[1:]] == n2[order[:-1]])
                    & (ref.t[order[1:]] - ref.t[order[:-1]] < 1.0))
        # the first smallest miss of each cluster (clusters are runs of ``order``)
        cluster = np.cumsum(~same) - 1
        m = miss[order]
        at_min = np.flatnonzero(m == np.minimum.reduceat(m, np.flatnonzero(~same))[cluster])
        first = np.ones(len(at_min), dtype=bool)
        first[1:] = cluster[at_min[1:]] != cluster[at_min[:-1]]
        keep = order[at_min[first]]
    else:
        keep = order
    # Rows stay in the order above, by pair: the Pc stage computes in it, so that the last bits of its
    # sums are those of earlier versions (BLAS rounds a matrix-vector product's last bit by row position,
    # and the max-Pc search's Newton steps amplify that to ~1e-10 in the dilution sigma). The events are
    # made in the result's order (TCA, norad1, norad2): the final sort finds it done.
    # Flags from codes: bit 0 co-located, bit 1 slow, then each object's failure in the window (0 none,
    # 1 decayed, 2 another propagation error) in base 3.
    fail_code = np.where(np.isfinite(first_fail), np.where(codes == 6, 1, 2), 0)
    slow = speed[keep] < SLOW_RELATIVE_SPEED_KMS
    flag_code = gcol[keep].astype(np.int64) + 2 * slow + 4 * fail_code[gi[keep]] + 12 * fail_code[gj[keep]]
    return _EventRows(n1[keep], n2[keep], ref.t[keep], miss[keep], speed[keep], rtn[keep], p_r[keep], p_v[keep],
                      s_r[keep], s_v[keep], flag_code,
                      np.lexsort((pair[keep], ref.t[keep]) if pair is not None else (n2[keep], n1[keep], ref.t[keep])))


def _pair_key(n1: np.ndarray, n2: np.ndarray) -> np.ndarray | None:
    """n1·2^31 + n2, ordered as (n1, n2), when both are in [0, 2^31); else None."""
    if len(n1) == 0 or min(n1.min(), n2.min()) < 0 or max(n1.max(), n2.max()) >= 2**31:
        return None
    return (n1.astype(np.int64) << 31) | n2.astype(np.int64)


def _build_events(rows: _EventRows, pc: Mapping[str, np.ndarray | list] | None = None) -> list[Conjunction]:
    """The :class:`Conjunction` objects of ``rows`` in the result's order, with the Pc columns of
    :func:`_pc_columns` (in the rows' order) if given."""
    at = rows.result
    flag_sets = np.empty(36, dtype=object)
    flag_sets[:] = [_flag_tuple(c) for c in range(36)]
    tca = rows.t[at]
    rtn = rows.rtn[at].T.tolist()
    # plain Python values from whole columns (the state tuples are built here, with the collector on: its
    # young-generation passes untrack tuples of floats as they come, cheaply)
    columns = {
        "norad1": rows.norad1[at].tolist(), "norad2": rows.norad2[at].tolist(), "tca": _ms_many(tca),
        "miss_km": rows.miss[at].tolist(), "relative_speed_kms": rows.speed[at].tolist(), "r_km": rtn[0],
        "t_km": rtn[1], "n_km": rtn[2], "flags": flag_sets[rows.flag_code[at]].tolist(), "tca_unix": tca.tolist(),
        **{name: list(zip(*getattr(rows, name)[at].T.tolist(), strict=True)) for name in ("r1", "v1", "r2", "v2")},
    }
    if pc is not None:
        for name in ("pc", "pc_max", "dilution_sigma_km"):
            x = pc[name][at]
            obj = x.astype(object)
            obj[~np.isfinite(x)] = None  # NaN -> None
            columns[name] = obj.tolist()
        columns["hbr_m"] = pc["hbr_m"][at].tolist()
        columns["covariance_source"] = pc["labels"][pc["label"][at]].tolist()
    # one positional constructor call per event, by field order (a reordered dataclass still gets each
    # column in its field)
    args = [columns[f.name] if f.name in columns else itertools.repeat(f.default) for f in fields(Conjunction)]
    with gc_paused():
        return list(map(Conjunction, *args))


def _flag_tuple(code: int) -> tuple[str, ...]:
    """The flags of an event from its code in :func:`_assemble` (order: co-located, slow, the objects')."""
    fl = []
    if code & 1:
        fl.append("co-located")
    if code & 2:
        fl.append("slow-relative-motion")
    for o in (code // 4 % 3, code // 12):
        if o:
            fl.append("decayed-in-window" if o == 1 else "propagation-error-in-window")
    return tuple(dict.fromkeys(fl))


def _attach_pc(events: list[Conjunction], cat: Sequence, norads: np.ndarray,
               hbr_m: Mapping[int, float] | None = None) -> None:
    """Set the Pc fields of ``events`` (see :func:`_pc_columns`; :func:`screen` computes them from its
    arrays before it makes the events)."""
    k1, k2, tca, r1, v1, r2, v2 = _event_columns(events)
    cols = _pc_columns(_StateRows(k1, k2, tca, r1, v1, r2, v2), cat, hbr_m)
    if cols is None:
        return
    values = []
    for name in ("pc", "pc_max", "dilution_sigma_km"):
        x = cols[name]
        obj = x.astype(object)
        obj[~np.isfinite(x)] = None
        values.append(obj.tolist())
    labels = cols["labels"][cols["label"]].tolist()
    for ev, p, x, d, h, lab in zip(events, *values, cols["hbr_m"].tolist(), labels, strict=True):
        ev.pc, ev.pc_max, ev.dilution_sigma_km, ev.hbr_m, ev.covariance_source = p, x, d, h, lab


@dataclass
class _StateRows:
    norad1: np.ndarray
    norad2: np.ndarray
    t: np.ndarray
    r1: np.ndarray
    v1: np.ndarray
    r2: np.ndarray
    v2: np.ndarray


def _pc_columns(rows: _EventRows | _StateRows, cat: Sequence,
                hbr_m: Mapping[int, float] | None = None) -> dict[str, np.ndarray] | None:
    """Pc (Foster 2D) and Alfano max-Pc of every row, with the default TLE covariance model: arrays
    ``pc``, ``pc_max``, ``dilution_sigma_km`` (NaN where none), ``hbr_m``, and ``label`` indexing the
    ``labels`` (object array) of the ``covariance_source`` field.

    Covariances come from :func:`orbitwatch.conjunctions.covariance.default_covariance_batch` (regime,
    object type guessed from the name: ``DEB``, ``R/B``; age = |TCA - epoch|), rotated from each
    object's RTN frame to TEME. The combined hard-body radius is the sum of both objects' radii from
    ``hbr_m`` (half of :data:`DEFAULT_HBR_M` for an object without one): two unknown sizes give CARA's
    conservative 20 m default.
    None when the Pc kernels are not available.
    """
    try:
        from orbitwatch.conjunctions.covariance import _default_sigmas, rtn_matrix
        from orbitwatch.kernels.pc import pc_and_max
    except ImportError:
        return None
    k1, k2, tca = rows.norad1, rows.norad2, rows.t
    n = len(tca)
    sides, source = _event_models(k1, k2, tca, cat)
    sizes = {int(k): float(v) for k, v in (hbr_m or {}).items() if v is not None and math.isfinite(v) and v > 0}
    half = DEFAULT_HBR_M / 2.0
    if sizes:
        ids = np.fromiter(sizes, dtype=np.int64, count=len(sizes))
        vals = np.fromiter(sizes.values(), dtype=np.float64, count=len(sizes))
        order = np.argsort(ids)
        ids, vals = ids[order], vals[order]

        def size_of(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            at = np.minimum(np.searchsorted(ids, k), len(ids) - 1)
            hit = ids[at] == k
            return np.where(hit, vals[at], half), hit

        (h1, kn1), (h2, kn2) = size_of(k1), size_of(k2)
        known = kn1.astype(np.int64) + kn2
    else:
        h1 = h2 = np.full(n, half)
        known = np.zeros(n, dtype=np.int64)
    hbr = h1 + h2
    # one label per distinct (combined radius, how many sizes known)
    hows = ("default", "one object's size known", "both sizes known")
    if sizes:
        radii, radius_of = np.unique(hbr, return_inverse=True)
        keys, key_of = np.unique(radius_of.reshape(-1) * 3 + known, return_inverse=True)
    else:
        radii, keys, key_of = np.array([2 * half]), np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    labels = np.empty(len(keys), dtype=object)
    labels[:] = [f"{source}; HBR {radii[k // 3]:.3g} m combined ({hows[k % 3]})" for k in keys.tolist()]

    def inertial(side: tuple, sl: slice, r: np.ndarray, v: np.ndarray) -> np.ndarray:
        """3x3 inertial position covariances: M diag(var) M^T (M's columns R, T, N), symmetrised; the
        values of ``rtn_to_inertial`` on the 6x6 RTN covariance, whose position block this is."""
        params, age = side
        sig, _ = _default_sigmas(*(p[sl] for p in params), age[sl])
        m = rtn_matrix(r, v)
        out = (m * (sig**2)[:, None, :]) @ np.swapaxes(m, -1, -2)
        return 0.5 * (out + np.swapaxes(out, -1, -2))

    pc, pc_max, sigma = np.empty(n), np.empty(n), np.empty(n)

    def chunk(sl: slice) -> None:
        with np.errstate(all="ignore"):
            a1, b1, a2, b2 = (x[sl] * 1e3 for x in (rows.r1, rows.v1, rows.r2, rows.v2))  # km -> m
            p, mx = pc_and_max(a1, b1, inertial(sides[0], sl, a1, b1), a2, b2, inertial(sides[1], sl, a2, b2),
                               hbr[sl])
        pc[sl] = p
        pc_max[sl] = mx.pc_max
        sigma[sl] = mx.sigma_dilution / 1e3

    # The kernels are numpy and scipy ufuncs, which release the GIL: chunks of 20,000 events on one thread
    # per core (nothing else runs meanwhile: a Python loop beside them would hold the GIL for its switch
    # interval at each of their thousands of calls).
    slices = [slice(a, min(n, a + 20_000)) for a in range(0, n, 20_000)]
    if len(slices) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(default_workers(), len(slices)))) as pool:
            list(pool.map(chunk, slices))
    else:
        for sl in slices:
            chunk(sl)
    return {"pc": pc, "pc_max": pc_max, "dilution_sigma_km": sigma, "hbr_m": hbr, "label": key_of.reshape(-1),
            "labels": labels}


def _event_columns(events: Sequence[Conjunction]) -> tuple[np.ndarray, ...]:
    """norad1, norad2 (int64), tca_unix and r1, v1, r2, v2 ((N, 3) km, km/s) of the events as arrays."""
    n = len(events)
    k1 = np.fromiter((ev.norad1 for ev in events), dtype=np.int64, count=n)
    k2 = np.fromiter((ev.norad2 for ev in events), dtype=np.int64, count=n)
    t = np.fromiter((ev.tca_unix for ev in events), dtype=np.float64, count=n)
    states = np.array(list(map(operator.attrgetter("r1", "v1", "r2", "v2"), events)), dtype=np.float64)
    states = states.reshape(n, 4, 3)
    return k1, k2, t, states[:, 0], states[:, 1], states[:, 2], states[:, 3]


def _event_models(k1: np.ndarray, k2: np.ndarray, tca: np.ndarray, cat: Sequence) -> tuple[tuple, str]:
    """Default-model parameters and element-set ages [days] of both objects of every event:
    ``((params1, age1), (params2, age2)), source``. Per-object work (regime, type from the name, epoch)
    once per object involved, then spread to the events by index."""
    from orbitwatch.conjunctions.covariance import MODEL_SOURCE, _model_parameters

    by_norad = {int(es.norad_id): es for es in cat}
    objs = np.unique(np.concatenate([k1, k2]))
    elsets = [by_norad[int(k)] for k in objs.tolist()]
    params = _model_parameters([es.regime for es in elsets], [_object_type(es.object_name) for es in elsets])
    epochs = np.array([es.epoch.timestamp() for es in elsets], dtype=np.float64)
    sides = []
    for k in (k1, k2):
        at = np.searchsorted(objs, k)
        sides.append((tuple(p[at] for p in params), np.abs(tca - epochs[at]) / 86400.0))
    return tuple(sides), MODEL_SOURCE


def event_covariances(events: Sequence[Conjunction], cat: Sequence) -> tuple[np.ndarray, np.ndarray, str]:
    """Default-model 6x6 RTN covariances (m, m/s) of both objects of every event, and the model name."""
    from orbitwatch.conjunctions.covariance import _default_sigmas

    n = len(events)
    k1 = np.fromiter((ev.norad1 for ev in events), dtype=np.int64, count=n)
    k2 = np.fromiter((ev.norad2 for ev in events), dtype=np.int64, count=n)
    tca = np.fromiter((ev.tca_unix for ev in events), dtype=np.float64, count=n)
    sides, source = _event_models(k1, k2, tca, cat)
    out = []
    idx = np.arange(3)
    for params, age in sides:
        sig, vel = _default_sigmas(*params, age)
        cov = np.zeros((n, 6, 6))
        cov[:, idx, idx] = sig**2
        cov[:, idx + 3, idx + 3] = vel**2
        out.append(cov)
    return out[0], out[1], source


#: Combined hard-body radius used when sizes are unknown (m): CARA's conservative 20 m default.
DEFAULT_HBR_M = 20.0


def _object_type(name: str | None) -> str | None:
    if not name:
        return None
    up = name.upper()
    if " DEB" in up or up.startswith("DEB"):
        return "DEBRIS"
    if "R/B" in up:
        return "ROCKET BODY"
    return "PAYLOAD"


__all__ = ["COLOCATED_S", "DEFAULT_HBR_M", "Conjunction", "HAVE_NUMBA", "ScreeningResult", "event_covariances",
           "newest", "screen"]
