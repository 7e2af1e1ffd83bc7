"""Breakups: bursts of new objects from one parent, the event time, the kind, a Gabbard diagram.

Detection (from a catalogue, optionally with element-set histories and SATCAT data):

* **Designator burst** - pieces of one launch (same international designator ``YYYY-NNN``) catalogued
  long after the launch (NORAD number more than ``late_gap`` above the launch's first piece) or first
  seen after ``since``; ``min_fragments`` or more make a fragmentation event. The parent is the
  launch's oldest piece still in the data that is not itself debris.
* **Orbit intersection** - objects with no designator link (analyst objects, unidentified pieces)
  whose position at the event epoch lies near the parent's are attached to the event.

Event time (in this order of preference):

1. **Minimum dispersion.** Fragments' earliest element sets are propagated back (SGP4) together with
   the parent's last pre-event set; the event is the time of smallest median fragment-parent distance
   (60 s grid, then 1 s). Works while fragments' first sets are within weeks of the event (Cosmos 1408:
   2021-11-15 02:45:32 UTC from sets of 14-15 days later vs ~02:47 reported).
2. **Parent conjunction.** When two parents show simultaneous orbit changes in their histories (the
   manoeuvre detector flags both), the closest approach of their last pre-event sets in that window
   (Cosmos 2251 / Iridium 33).
3. Otherwise no event time is claimed (``epoch`` null): catalogue snapshots years after an event
   cannot date it with SGP4 (drag and J2 decorrelate the fragments).

Kind, only as far as evidence allows: ``collision`` when a second catalogued parent changed orbit at
the same time and passed within ``collider_km``; ``ASAT-like`` when a suborbital cue (a launch
notice or a sensor track the catalogue does not hold - interceptors are suborbital) lies within two
hours of the event; ``explosion`` for rocket-body parents (propellant/pressurant explosions dominate
their breakups); ``unknown`` for a payload breakup without either (battery explosion and kinetic
intercept look alike in a catalogue). Fragment Δv (reported, not used to classify: the Δv spreads
of explosions, collisions and intercepts overlap in this data) is the minimum tangential Δv for the
change of semi-major axis from the parent's, ``n·|Δa|/2``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sgp4.api import SatrecArray

from orbitwatch.formats.records import ElementSet
from orbitwatch.threats.orbits import MU_KM3_S2, RE_KM, iso, satrec_of, sort_unique

_JD_UNIX0 = 2440587.5


@dataclass
class Breakup:
    """One fragmentation event. ``epoch_ts`` may be None when it cannot be estimated."""

    parent: int | None
    designator: str
    fragments: list[int]
    epoch_ts: float | None
    epoch_method: str
    kind: str
    dispersion_km: float | None = None
    collider: int | None = None
    collider_miss_km: float | None = None
    parent_name: str | None = None
    parent_type: str | None = None
    owner: str | None = None
    dv_median_mps: float | None = None
    dv_p90_mps: float | None = None
    gabbard_png: str | None = None
    evidence_epochs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)  # the launch's intact pieces (possible parents)

    def as_dict(self) -> dict:
        return {
            "parent": self.parent, "designator": self.designator,
            "epoch": None if self.epoch_ts is None else iso(self.epoch_ts), "epoch_method": self.epoch_method,
            "fragments": self.fragments, "fragment_count": len(self.fragments), "kind": self.kind,
            "dispersion_km": None if self.dispersion_km is None else round(self.dispersion_km, 2),
            "collider": self.collider,
            "collider_miss_km": None if self.collider_miss_km is None else round(self.collider_miss_km, 3),
            "parent_name": self.parent_name, "parent_type": self.parent_type, "owner": self.owner,
            "dv_median_mps": None if self.dv_median_mps is None else round(self.dv_median_mps, 1),
            "dv_p90_mps": None if self.dv_p90_mps is None else round(self.dv_p90_mps, 1),
            "gabbard_png": self.gabbard_png, "evidence_epochs": self.evidence_epochs, "notes": self.notes,
        }


def launch_of(object_id: str | None) -> str | None:
    """``1982-092A`` -> ``1982-092`` (None when not an international designator)."""
    if not object_id or len(object_id) < 8 or object_id[4] != "-":
        return None
    head = object_id[:8]
    return head if head[:4].isdigit() and head[5:8].isdigit() else None


def _is_debris(es: ElementSet, satcat: Mapping[int, Mapping] | None) -> bool:
    info = (satcat or {}).get(es.norad_id, {})
    otype = (info.get("object_type") or "").upper()
    if otype:
        return otype.startswith("DEB")
    name = (es.object_name or "").upper()
    return " DEB" in name or name.startswith("OBJECT ") or name.endswith(" DEB")


def _states(sats: SatrecArray, ts: np.ndarray):
    days = np.asarray(ts, dtype=float) / 86400.0
    jd = np.floor(days) + _JD_UNIX0
    err, r, v = sats.sgp4(jd, days - np.floor(days))
    r[err != 0] = np.nan
    v[err != 0] = np.nan
    return r, v


def min_dispersion_epoch(parent: ElementSet | None, fragments: Sequence[ElementSet], t_lo: float, t_hi: float,
                         *, coarse_s: float = 60.0, max_fragments: int = 200,
                         seed: int = 0) -> tuple[float, float] | None:
    """Time in ``[t_lo, t_hi]`` at which the fragments are closest together (unix s, median km).

    With a parent set, dispersion is the median fragment-parent distance; without, the median distance
    to the fragments' component-wise median position. A random subset of ``max_fragments`` is used for
    the coarse grid (fixed seed: reproducible), all fragments for the 1 s refinement.
    """
    if not fragments or t_hi <= t_lo:
        return None
    rng = np.random.default_rng(seed)
    pick = list(fragments)
    if len(pick) > max_fragments:
        pick = [pick[i] for i in sorted(rng.choice(len(pick), max_fragments, replace=False))]

    def disp(frs, ts):
        r, _ = _states(SatrecArray([satrec_of(f) for f in frs]), ts)
        if parent is not None:
            rp, _ = _states(SatrecArray([satrec_of(parent)]), ts)
            d = np.linalg.norm(r - rp, axis=2)
        else:
            c = np.nanmedian(r, axis=0)
            d = np.linalg.norm(r - c[None], axis=2)
        with np.errstate(all="ignore"):
            return np.nanmedian(d, axis=0)

    best_t, best_d = None, np.inf
    # chunk the coarse grid to bound memory (fragments x steps x 3 doubles)
    grid = np.arange(t_lo, t_hi, coarse_s)
    step = max(64, int(4e6 // max(len(pick), 1)))
    for c0 in range(0, grid.size, step):
        ts = grid[c0:c0 + step]
        d = disp(pick, ts)
        if np.isfinite(d).any():
            k = int(np.nanargmin(d))
            if d[k] < best_d:
                best_t, best_d = float(ts[k]), float(d[k])
    if best_t is None:
        return None
    fine = np.arange(best_t - 2 * coarse_s, best_t + 2 * coarse_s + 1, 1.0)
    d = disp(fragments, fine)
    k = int(np.nanargmin(d))
    return float(fine[k]), float(d[k])


def closest_approach(es1: ElementSet, es2: ElementSet, t_lo: float, t_hi: float, *,
                     coarse_s: float = 20.0) -> tuple[float, float]:
    """Time (unix s) and distance (km) of the closest approach of two element sets in a window."""
    sats = SatrecArray([satrec_of(es1), satrec_of(es2)])
    grid = np.arange(t_lo, t_hi + coarse_s, coarse_s)
    r, _ = _states(sats, grid)
    d = np.linalg.norm(r[0] - r[1], axis=1)
    k = int(np.nanargmin(d))
    fine = np.arange(grid[k] - coarse_s, grid[k] + coarse_s, 0.05)
    r, _ = _states(sats, fine)
    d = np.linalg.norm(r[0] - r[1], axis=1)
    k = int(np.nanargmin(d))
    return float(fine[k]), float(d[k])


def fragment_dv_mps(parent: ElementSet, fragments: Sequence[ElementSet]) -> np.ndarray:
    """Minimum tangential Δv (m/s) for each fragment's change of semi-major axis from the parent's."""
    a_p = parent.semi_major_axis_km
    n = math.sqrt(MU_KM3_S2 / a_p**3)
    da = np.array([f.semi_major_axis_km for f in fragments]) - a_p
    return n * np.abs(da) / 2.0 * 1000.0


def gabbard_diagram(path: str | Path, fragments: Sequence[ElementSet], *, parent: ElementSet | None = None,
                    title: str = "") -> str:
    """Gabbard diagram (apogee and perigee altitude vs period) as a PNG; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def apo_peri(es):
        a = es.semi_major_axis_km
        return a * (1 + es.eccentricity) - RE_KM, a * (1 - es.eccentricity) - RE_KM, 1440.0 / es.mean_motion

    pts = np.array([apo_peri(f) for f in fragments])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    ax.scatter(pts[:, 2], pts[:, 0], s=6, c="tab:red", label="apogee")
    ax.scatter(pts[:, 2], pts[:, 1], s=6, c="tab:blue", label="perigee")
    if parent is not None:
        ha, hp, per = apo_peri(parent)
        ax.scatter([per, per], [ha, hp], s=60, marker="*", c="k", label="parent")
    ax.set_xlabel("period (min)")
    ax.set_ylabel("altitude (km)")
    ax.set_title(title or "Gabbard diagram")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def detect_breakups(catalog: Sequence[ElementSet], *, histories: Mapping[int, Sequence[ElementSet]] | None = None,
                    satcat: Mapping[int, Mapping] | None = None, since_ts: float | None = None,
                    first_seen: Mapping[int, float] | None = None, min_fragments: int = 5, late_gap: int = 200,
                    search_days: float = 45.0, max_age_days: float = 21.0, collider_km: float = 10.0,
                    asat_dv_mps: float = 150.0, plot_dir: str | Path | None = None,
                    cues: Sequence[Mapping] | None = None) -> list[Breakup]:
    """Fragmentation events in a catalogue (one element set per object; extra sets in ``histories``).

    ``first_seen`` maps NORAD ids to the epoch they first appeared (from the store); with ``since_ts``,
    only pieces first seen after it count as new. ``cues`` are suborbital observations or launch notices
    (``{"time_ts": unix s, "target": NORAD or None, "label": text}``): one within two hours of an
    event without a collider makes it ASAT-like. See the module docstring for the method.
    """
    histories = histories or {}
    latest: dict[int, ElementSet] = {}
    for es in catalog:
        if es.norad_id not in latest or es.epoch_unix > latest[es.norad_id].epoch_unix:
            latest[es.norad_id] = es
    for nid, hist in histories.items():
        for es in hist:
            if nid not in latest or es.epoch_unix > latest[nid].epoch_unix:
                latest[nid] = es
    groups: dict[str, list[ElementSet]] = {}
    for es in latest.values():
        launch = launch_of(es.object_id or (satcat or {}).get(es.norad_id, {}).get("object_id"))
        if launch:
            groups.setdefault(launch, []).append(es)
    events: list[Breakup] = []
    for launch, members in sorted(groups.items()):
        members.sort(key=lambda e: e.norad_id)
        first_id = members[0].norad_id
        if first_seen is not None and since_ts is not None:
            new = [m for m in members if first_seen.get(m.norad_id, -math.inf) >= since_ts]
        else:
            new = [m for m in members if m.norad_id > first_id + late_gap]
        if len(new) < min_fragments:
            continue
        new_ids = {m.norad_id for m in new}
        parents = [m for m in members if m.norad_id not in new_ids and not _is_debris(m, satcat)]
        parent_latest = _closest_parent(parents, new)
        ev = _characterise(launch, parent_latest, new, histories, satcat, search_days=search_days,
                           max_age_days=max_age_days, asat_dv_mps=asat_dv_mps, plot_dir=plot_dir,
                           newly_seen=first_seen is not None and since_ts is not None, cues=cues)
        ev.candidates = [p.norad_id for p in parents]
        events.append(ev)
    _find_collisions(events, histories, latest, collider_km=collider_km)
    return events


def _closest_parent(parents: Sequence[ElementSet], fragments: Sequence[ElementSet]) -> ElementSet | None:
    """The launch piece whose orbit the fragments share: smallest median |Δa| plus inclination gap
    (a launch's rocket body in transfer orbit and its payload in GEO are both candidates)."""
    if not parents:
        return None
    a_f = np.array([f.semi_major_axis_km for f in fragments])
    i_f = np.array([f.inclination for f in fragments])

    def cost(p: ElementSet) -> float:
        # 1 degree of inclination counts like 100 km of semi-major axis (~1.7 vs ~50 m/s in LEO)
        return float(np.median(np.abs(a_f - p.semi_major_axis_km)) + 100.0 * np.median(np.abs(i_f - p.inclination)))

    # Catalogues name debris after its parent ("FENGYUN 1C DEB"): the strongest evidence when present.
    def named(p: ElementSet) -> int:
        stem = (p.object_name or "").upper().strip()
        return sum(1 for f in fragments if stem and (f.object_name or "").upper().startswith(stem + " DEB"))

    counts = {p.norad_id: named(p) for p in parents}
    if max(counts.values()) > 0:
        return max(parents, key=lambda p: counts[p.norad_id])
    costs = {p.norad_id: cost(p) for p in parents}
    best = min(costs.values())
    # Between similar orbits prefer a payload: rocket bodies ride along in almost the same orbit as
    # their payload (Fengyun 1C and its CZ-4B stage), and payload breakups are the ones that matter.
    payloads = [p for p in parents
                if "R/B" not in (p.object_name or "").upper() and costs[p.norad_id] <= 1.5 * best + 5]
    return min(payloads or parents, key=lambda p: costs[p.norad_id])


def _earliest(hist_or_es: Sequence[ElementSet] | ElementSet) -> ElementSet:
    if isinstance(hist_or_es, ElementSet):
        return hist_or_es
    return sort_unique(hist_or_es)[0]


def _matching_cue(cues, epoch, parent):
    if not cues or epoch is None:
        return None
    for c in cues:
        if abs(c["time_ts"] - epoch) <= cue_window_s and c.get("target") in (None, parent):
            return c
    return None


cue_window_s = 2 * 3600.0


def _characterise(launch, parent_latest, new, histories, satcat, *, search_days, max_age_days, asat_dv_mps,
                  plot_dir, newly_seen: bool = False, cues=None) -> Breakup:
    info = (satcat or {}).get(parent_latest.norad_id, {}) if parent_latest else {}
    frags = [_earliest(histories.get(f.norad_id, f)) for f in new]
    t_first = min(f.epoch_unix for f in frags)
    parent_pre = None
    notes = []
    if parent_latest is not None:
        hist = sort_unique(histories.get(parent_latest.norad_id, [parent_latest]))
        pre = [h for h in hist if h.epoch_unix < t_first]
        parent_pre = pre[-1] if pre else None
    epoch = disp = None
    method = "unknown"
    # Only fragments seen within max_age_days of the earliest one date the event: later first sets
    # have been shaped by drag for too long.
    young = [f for f in frags if f.epoch_unix - t_first <= max_age_days * 86400.0]
    # Dating needs a reason to think the event is recent: a parent set from before the fragments
    # within the search window, or fragments known to be newly catalogued (store first-seen times).
    recent = (parent_pre is not None and t_first - parent_pre.epoch_unix <= search_days * 86400.0) or newly_seen
    if len(young) >= 3 and recent:
        t_lo = parent_pre.epoch_unix if parent_pre is not None else t_first - search_days * 86400.0
        t_lo = max(t_lo, t_first - search_days * 86400.0)
        res = min_dispersion_epoch(parent_pre, young, t_lo, t_first)
        if res is not None:
            epoch, disp = res
            method = "min-dispersion"
            # A minimum as wide as the orbit is no minimum: the sets are too old to date the event.
            if disp > 2000.0:
                notes.append(f"minimum dispersion {disp:.0f} km is too large to date the event")
                epoch, method = None, "unknown"
    else:
        notes.append("no pre-event parent element set within the search window and no first-seen times: "
                     "the event is not dated")
    ref = parent_pre or parent_latest
    dv = fragment_dv_mps(ref, frags) if ref is not None else np.array([])
    dv_med = float(np.median(dv)) if dv.size else None
    dv_p90 = float(np.percentile(dv, 90)) if dv.size else None
    ptype = (info.get("object_type") or "").upper() or None
    if ptype is None and parent_latest is not None:
        name = (parent_latest.object_name or "").upper()
        ptype = "ROCKET BODY" if "R/B" in name else "PAYLOAD"
    # Without a collider (set later) or a suborbital cue the catalogue cannot tell a payload explosion
    # from a kinetic intercept; rocket-body breakups are overwhelmingly propellant/pressurant explosions.
    kind = "explosion" if ptype == "ROCKET BODY" else "unknown"
    cue = _matching_cue(cues, epoch, parent_latest.norad_id if parent_latest else None)
    if cue is not None:
        kind = "ASAT-like"
        notes.append(f"suborbital cue {cue.get('label', '')!s} at {iso(cue['time_ts'])} within "
                     f"{cue_window_s / 3600:.0f} h of the event, no catalogued collider")
    png = None
    if plot_dir is not None:
        png = gabbard_diagram(Path(plot_dir) / f"gabbard_{launch}.png", frags, parent=ref,
                              title=f"{launch} fragments ({len(frags)})")
    return Breakup(
        parent=parent_latest.norad_id if parent_latest else None, designator=launch,
        fragments=sorted(f.norad_id for f in frags), epoch_ts=epoch, epoch_method=method, kind=kind,
        dispersion_km=disp, parent_name=parent_latest.object_name if parent_latest else None, parent_type=ptype,
        owner=info.get("owner"), dv_median_mps=dv_med, dv_p90_mps=dv_p90, gabbard_png=png,
        evidence_epochs=[iso(x.epoch_unix) for x in ([parent_pre] if parent_pre else []) + frags[:3]],
        notes=notes)


def _find_collisions(events: list[Breakup], histories, latest, *, collider_km: float) -> None:
    """Pair events whose possible parents changed orbit at the same time (collision), and date them by
    the closest approach of those parents' last pre-event sets."""
    from orbitwatch.threats.manoeuvres import detect_manoeuvres

    anomalies: dict[int, list] = {}
    for ev in events:
        for nid in {ev.parent, *ev.candidates} - {None}:
            if nid in histories and len(histories[nid]) >= 8 and nid not in anomalies:
                anomalies[nid] = [m for m in detect_manoeuvres(histories[nid]) if m.delta_v_mps > 0.5]
    for i, a in enumerate(events):
        for b in events[i + 1:]:
            hit = _collision_between(a, b, anomalies, histories, collider_km)
            if hit is None:
                continue
            pa, pb, tca, miss = hit
            for ev, me, other in ((a, pa, pb), (b, pb, pa)):
                ev.kind = "collision"
                if ev.parent != me and me in latest:
                    ev.parent_name = latest[me].object_name
                ev.parent = me
                ev.collider = other
                ev.collider_miss_km = miss
                if ev.epoch_ts is None or ev.epoch_method != "min-dispersion":
                    ev.epoch_ts = tca
                    ev.epoch_method = "parent-conjunction"
                ev.notes.append(f"{me} and {other} both changed orbit at {iso(tca)}; predicted miss "
                                f"{miss:.3f} km between their last pre-event element sets")


def _collision_between(a: Breakup, b: Breakup, anomalies, histories, collider_km):
    for na in {a.parent, *a.candidates} & set(anomalies):
        for nb in {b.parent, *b.candidates} & set(anomalies):
            for ma in anomalies[na]:
                for mb in anomalies[nb]:
                    if min(ma.end_ts, mb.end_ts) <= max(ma.start_ts, mb.start_ts):
                        continue  # not simultaneous
                    lo, hi = min(ma.start_ts, mb.start_ts), max(ma.end_ts, mb.end_ts)
                    pa = _last_before(histories[na], lo)
                    pb = _last_before(histories[nb], lo)
                    if pa is None or pb is None:
                        continue
                    tca, miss = closest_approach(pa, pb, lo, hi)
                    if miss <= collider_km:
                        return na, nb, tca, miss
    return None


def _last_before(hist: Sequence[ElementSet], ts: float) -> ElementSet | None:
    pre = [h for h in sort_unique(hist) if h.epoch_unix <= ts]
    return pre[-1] if pre else None
