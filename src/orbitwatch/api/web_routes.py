"""Routes the web UI needs beyond the resource API: the whole catalogue for the globe, in two compact parts.

* ``GET /api/v1/web/catalog`` - a *snapshot*: every object the caller may read that has an element set
  the caller may read (its newest such set), as column arrays (NORAD id, name, owner, type, regime,
  marking index, ...), plus the distinct markings in it. The snapshot id is a digest of exactly what the
  caller was given, nothing else (it cannot tell a nation that other nations' data changed).
* ``GET /api/v1/web/positions`` - SGP4 states (TEME, km and km/s, float32) of the snapshot's objects at
  ``count`` knots ``start + k * step``, in the snapshot's order, as one binary array
  ``[count][n][6]`` (x, y, z, vx, vy, vz). The browser interpolates between knots with cubic Hermite
  polynomials on the GPU, so 26,000 objects animate without the browser running SGP4. Propagation
  uses the project's own batch kernel (:mod:`orbitwatch.kernels.propagation`, verified against
  Vallado's test vectors); objects SGP4 cannot propagate at a knot come back as zeros there.
* ``GET /api/v1/web/objects/{norad}/track`` - one orbit (TEME) and the ground track (WGS-84 geodetic).
* ``GET /api/v1/web/objects/{norad}/history`` - perigee/apogee/inclination over time with the
  manoeuvres :mod:`orbitwatch.threats.manoeuvres` finds in the *caller's readable* history.
* ``GET /api/v1/web/config`` - the caller, the classification scheme with its banner colours.

Authorisation: every route declares ``CurrentUser`` and ``ReadFilter`` (the one filter of
:mod:`orbitwatch.sharing.authz`), passes the filter into each query, and never filters by hand. A
snapshot is cached per *read-filter identity* (nation, clearance, organisation) and per catalogue
revision, so all analysts of one nation and clearance share one snapshot; a positions request
recomputes the caller's own snapshot id and is refused (409) when it differs from the one asked for.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection, and_, func, select

from orbitwatch.api.deps import Conn, CurrentUser, ReadFilter, State, audit_reads
from orbitwatch.api.problems import problem, problem_responses
from orbitwatch.errors import NotFound, OrbitwatchError, ValidationError
from orbitwatch.markings import (
    DATA_MODES,
    NATIONS,
    TETRAGRAPHS,
    ClassificationScheme,
    Marking,
    combine,
    sort_trigraphs,
)
from orbitwatch.sharing.principal import Principal
from orbitwatch.store.schema import element_sets, space_objects

router = APIRouter(prefix="/api/v1/web", tags=["web"], responses=problem_responses(401, 422, 429))

MU_KM3_S2 = 398600.4418  # WGS-84 / EGM-96 gravitational parameter
RE_KM = 6378.137  # WGS-84 equatorial radius
WGS84_F = 1.0 / 298.257223563

#: Banner colours (background, text). UNCLASSIFIED, CONFIDENTIAL, SECRET, TOP SECRET and TS//SCI are the
#: US CAPCO/DoD Manual 5200.01 banner colours. RESTRICTED has no US banner colour; it uses the purple
#: of the US CUI banner (#502b85), the US marking closest to a "protected, below CONFIDENTIAL" level,
#: so that it can never be confused with a colour of a higher level. Levels a coalition adds without
#: a colour here are drawn grey with their name.
BANNER_COLOURS: dict[str, tuple[str, str]] = {
    "UNCLASSIFIED": ("#007a33", "#ffffff"),
    "RESTRICTED": ("#502b85", "#ffffff"),
    "CONFIDENTIAL": ("#0033a0", "#ffffff"),
    "SECRET": ("#c8102e", "#ffffff"),
    "TOP SECRET": ("#ff8c00", "#000000"),
    "TOP SECRET//SCI": ("#fce83a", "#000000"),
}
EXERCISE_BANNER = ("EXERCISE", "#ffffff")

MAX_KNOTS = 64
MAX_STATES = 2_500_000  # objects x knots per positions request (60 MB of float32)


# -- snapshots -----------------------------------------------------------------------------------
@dataclass
class Snapshot:
    """What one read-filter identity sees of the catalogue at one revision."""

    id: str
    norad: np.ndarray  # (n,) int64, ascending
    sats: Any  # sgp4.api.SatrecArray, same order
    body: bytes  # the JSON answer of /catalog
    body_gz: bytes
    epoch_max: float | None
    reference_ts: float | None
    rows_for_audit: list
    built_at: float
    build_s: float


class SnapshotCache:
    """Snapshots by (read-filter identity, catalogue revision); least recently used go first."""

    def __init__(self, max_entries: int = 12, max_window_bytes: int = 96 * 2**20):
        self.max_entries = max_entries
        self.max_window_bytes = max_window_bytes
        self._items: OrderedDict[tuple, Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        # Sampled windows, shared by every analyst of one identity (same snapshot id): bounded in bytes.
        self._windows: OrderedDict[tuple, bytes] = OrderedDict()
        self._window_bytes = 0

    def window(self, key: tuple, compute) -> bytes:
        with self._lock:
            hit = self._windows.get(key)
            if hit is not None:
                self._windows.move_to_end(key)
                return hit
        data = compute()
        with self._lock:
            if key not in self._windows and len(data) <= self.max_window_bytes // 4:
                self._windows[key] = data
                self._window_bytes += len(data)
                while self._window_bytes > self.max_window_bytes:
                    _, old = self._windows.popitem(last=False)
                    self._window_bytes -= len(old)
        return data

    def get(self, key: tuple) -> Snapshot | None:
        with self._lock:
            snap = self._items.get(key)
            if snap is not None:
                self._items.move_to_end(key)
            return snap

    def get_or_build(self, key: tuple, build) -> Snapshot:
        snap = self.get(key)
        if snap is not None:
            return snap
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:  # one build per key at a time; the others wait for it
            snap = self.get(key)
            if snap is None:
                snap = build()
                with self._lock:
                    self._items[key] = snap
                    # Older revisions of the same identity are dead: drop them at once.
                    for k in [k for k in self._items if k[0] == key[0] and k != key]:
                        del self._items[k]
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
        with self._lock:
            self._building.pop(key, None)
        return snap


def _cache(request: Request) -> SnapshotCache:
    st = request.app.state
    cache = getattr(st, "web_snapshots", None)
    if cache is None:
        cache = SnapshotCache()
        st.web_snapshots = cache
    return cache


def _identity(p: Principal) -> tuple:
    """What the read filter depends on (see :func:`orbitwatch.sharing.authz.readable_by`)."""
    return (p.kind, p.nation, p.clearance, p.organisation)


def _revision(conn: Connection) -> tuple:
    """A cheap token that changes whenever the catalogue or any marking in it changes: new element sets
    (ids only grow), object updates, and releases (which rewrite markings in place). Internal only."""
    from orbitwatch.store.schema_sharing import releases

    e, so = element_sets, space_objects
    a = conn.execute(select(func.max(e.c.id))).scalar()
    b = conn.execute(select(func.max(so.c.updated_at), func.count()).select_from(so)).one()
    c = conn.execute(select(func.max(releases.c.id))).scalar()
    return (a, tuple(b), c)


_ELSET_COLS = ("id", "norad_id", "epoch_ts", "mean_motion", "eccentricity", "inclination", "raan",
               "arg_perigee", "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot",
               "object_name", "object_id", "perigee_km", "apogee_km", "regime", "marking", "class_rank",
               "rel_mask")
_OBJECT_COLS = ("name", "owner", "owner_nation", "object_type", "regime", "marking", "class_rank",
                "rel_mask")


def _snapshot_rows(conn: Connection, where) -> list:
    """The newest readable element set of every object, with the readable object row (if any).

    "Newest" is taken after the filter (as :func:`orbitwatch.store.queries.latest_element_sets` does),
    so a reader never learns that a newer, unreleased set exists. Only the columns the globe needs.
    """
    from orbitwatch.store.queries import readable_objects

    e, so = element_sets, space_objects
    newest = (select(e.c.norad_id, func.max(e.c.epoch_ts).label("m")).where(where(e))
              .group_by(e.c.norad_id).subquery())
    cols = [e.c[c] for c in _ELSET_COLS] + [so.c[c].label("o_" + c) for c in _OBJECT_COLS]
    q = (select(*cols)
         .select_from(e.join(newest, and_(e.c.norad_id == newest.c.norad_id, e.c.epoch_ts == newest.c.m))
                      .outerjoin(so, and_(so.c.norad_id == e.c.norad_id, readable_objects(where)(so))))
         .where(where(e))
         .order_by(e.c.norad_id, e.c.id.desc()))
    rows = conn.execute(q).all()
    out = []
    last = None
    for r in rows:  # ties (one epoch from two sources): the newest ingested row wins, as in the store
        if r.norad_id != last:
            out.append(r)
            last = r.norad_id
    return out


def satrec_from_columns(c) -> Any:
    """A Satrec from an element-set row's columns (sgp4init, WGS-72, as the TLE reader would build it).

    The catalogue number is not passed to SGP4: it only labels the record, and sgp4init refuses numbers
    above 339,999 (Alpha-5), which OMM-only objects have.
    """
    from orbitwatch.kernels.propagation import satrec_from_elements

    return satrec_from_elements(
        0, datetime.fromtimestamp(float(c["epoch_ts"]), UTC), mean_motion=float(c["mean_motion"]),
        eccentricity=float(c["eccentricity"]), inclination=float(c["inclination"]), raan=float(c["raan"]),
        arg_perigee=float(c["arg_perigee"]), mean_anomaly=float(c["mean_anomaly"]), bstar=float(c["bstar"]),
        mean_motion_dot=float(c["mean_motion_dot"]), mean_motion_ddot=float(c["mean_motion_ddot"]))


def satrecs_from_arrays(num: dict[str, np.ndarray], norad: np.ndarray) -> tuple[list, list[int]]:
    """Satrecs for whole columns of elements: the unit conversions done once on arrays (as
    :func:`orbitwatch.kernels.propagation.satrec_from_elements` does them per object), then one
    ``sgp4init`` per object. Objects sgp4init refuses get an empty Satrec (it propagates to an error
    code, i.e. zeros) and are listed."""
    from sgp4.api import WGS72, Satrec

    from orbitwatch.kernels.propagation import JD_1949

    two_pi, min_per_day = 2.0 * math.pi, 1440.0
    deg = math.pi / 180.0
    epoch_days = (num["epoch_ts"] / 86400.0 + 2440587.5 - JD_1949).tolist()
    bstar = num["bstar"].tolist()
    ndot = (num["mean_motion_dot"] * two_pi / min_per_day**2).tolist()
    nddot = (num["mean_motion_ddot"] * two_pi / min_per_day**3).tolist()
    ecc = num["eccentricity"].tolist()
    argp = (num["arg_perigee"] * deg).tolist()
    inc = (num["inclination"] * deg).tolist()
    ma = (num["mean_anomaly"] * deg).tolist()
    no = (num["mean_motion"] * two_pi / min_per_day).tolist()
    raan = (num["raan"] * deg).tolist()
    sats: list = []
    failed: list[int] = []
    for i in range(len(no)):  # one Satrec per object is what SGP4 needs; the propagation is batched
        sat = Satrec()
        try:
            # The catalogue number only labels the record (sgp4init refuses numbers above 339,999).
            sat.sgp4init(WGS72, "i", 0, epoch_days[i], bstar[i], ndot[i], nddot[i], ecc[i], argp[i], inc[i],
                         ma[i], no[i], raan[i])
        except Exception:  # noqa: BLE001 - one bad element set never stops the picture
            sat = Satrec()
            failed.append(int(norad[i]))
        sats.append(sat)
    return sats, failed


def _marking_info(m: Marking, scheme: ClassificationScheme) -> dict:
    return {"text": str(m), "classification": m.classification, "rank": scheme.rank(m.classification),
            "rel_to": sort_trigraphs(m.rel_to), "data_mode": m.data_mode, "tlp": m.tlp}


def _build_snapshot(conn: Connection, where, scheme: ClassificationScheme, *, rows: list | None = None,
                    reference_ts: float | None = None, source: str = "catalogue") -> Snapshot:
    from sgp4.api import SatrecArray

    t0 = time.perf_counter()
    if rows is None:
        rows = _snapshot_rows(conn, where)
    n = len(rows)
    # Point marking: the element set (position) combined with the object row (name, owner) shown with it.
    combos: dict[tuple[str, str | None], int] = {}
    markings: list[dict] = []
    mark_idx = np.zeros(n, dtype=np.int32)
    for i, r in enumerate(rows):
        key = (r.marking, r.o_marking)
        j = combos.get(key)
        if j is None:
            parts = [Marking.parse(r.marking, scheme=scheme)]
            if r.o_marking:
                parts.append(Marking.parse(r.o_marking, scheme=scheme))
            j = combos[key] = len(markings)
            markings.append(_marking_info(combine(parts, scheme=scheme) if len(parts) > 1 else parts[0], scheme))
        mark_idx[i] = j
    cols = list(zip(*rows, strict=True)) if rows else [()] * (len(_ELSET_COLS) + len(_OBJECT_COLS))
    col = dict(zip([*_ELSET_COLS, *("o_" + c for c in _OBJECT_COLS)], cols, strict=True))
    num = {k: np.asarray(col[k], dtype=np.float64) for k in
           ("epoch_ts", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee", "mean_anomaly",
            "bstar", "mean_motion_dot", "mean_motion_ddot")}
    norad = np.asarray(col["norad_id"], dtype=np.int64)
    sats, failed = satrecs_from_arrays(num, norad)
    mm = num["mean_motion"]
    with np.errstate(divide="ignore", invalid="ignore"):
        period_min = np.where(mm > 0, 1440.0 / mm, np.nan)
        a_km = np.cbrt(MU_KM3_S2 / (mm * 2.0 * np.pi / 86400.0) ** 2)
    ecc = num["eccentricity"]
    # Rows without stored perigee/apogee/regime (the exercise world): derived from the mean elements.
    for key, derived in (("perigee_km", a_km * (1.0 - ecc) - RE_KM), ("apogee_km", a_km * (1.0 + ecc) - RE_KM)):
        col[key] = [d if v is None else v for v, d in zip(col[key], derived.tolist(), strict=True)]
    if any(v is None for v in col["regime"]):
        from orbitwatch.formats.records import regime_of

        col["regime"] = [v if v is not None else (regime_of(float(m), float(e)) if m > 0 else None)
                         for v, m, e in zip(col["regime"], mm.tolist(), ecc.tolist(), strict=True)]
    if any(v is None and o for v, o in zip(col["o_owner_nation"], col["o_owner"], strict=True)):
        from orbitwatch.formats.records import owner_trigraph

        col["o_owner_nation"] = [v if v is not None else owner_trigraph(o)
                                 for v, o in zip(col["o_owner_nation"], col["o_owner"], strict=True)]

    def names(k_obj: str, k_el: str) -> list:
        return [a if a is not None else b for a, b in zip(col[k_obj], col[k_el], strict=True)]

    def rounded(a, nd: int) -> list:
        arr = np.asarray(a, dtype=np.float64)
        return [None if not math.isfinite(x) else x for x in np.round(arr, nd).tolist()]

    content = {
        "count": n,
        "norad": norad.tolist(),
        "elset_id": list(col["id"]),
        "name": names("o_name", "object_name"),
        "object_id": list(col["object_id"]),
        "owner": list(col["o_owner"]),
        "owner_nation": list(col["o_owner_nation"]),
        "object_type": list(col["o_object_type"]),
        "regime": names("o_regime", "regime"),
        "epoch_ts": rounded(num["epoch_ts"], 3),
        "perigee_km": rounded(np.asarray(col["perigee_km"], dtype=np.float64), 1),
        "apogee_km": rounded(np.asarray(col["apogee_km"], dtype=np.float64), 1),
        "inclination": rounded(num["inclination"], 3),
        "period_min": rounded(period_min, 2),
        "marking": mark_idx.tolist(),
        "markings": markings,
        "unpropagated": failed,
    }
    content_json = json.dumps(content, separators=(",", ":"))
    sid = hashlib.sha256(content_json.encode()).hexdigest()[:24]
    epochs = num["epoch_ts"]
    head = {
        "snapshot": sid,
        "generated_at": time.time(),
        "epoch": ({"min": float(epochs.min()), "max": float(epochs.max()), "median": float(np.median(epochs))}
                  if n else None),
        "frame": "TEME", "units": {"position": "km", "velocity": "km/s", "time": "unix seconds UTC"},
        "source": source, "reference_ts": reference_ts,
    }
    # {head..., content...} without dumping the big content twice
    raw = (json.dumps(head, separators=(",", ":"))[:-1] + "," + content_json[1:]).encode()
    return Snapshot(id=sid, norad=norad, sats=SatrecArray(sats), body=raw, body_gz=gzip.compress(raw, 5),
                    epoch_max=float(epochs.max()) if n else None, reference_ts=reference_ts,
                    rows_for_audit=rows, built_at=time.time(), build_s=time.perf_counter() - t0)


def snapshot_for(request: Request, conn: Connection, principal: Principal, where,
                 scheme: ClassificationScheme, exercise: int | None = None) -> Snapshot:
    """The caller's current snapshot (built on first use, then shared by its read-filter identity): of the
    catalogue, or of an exercise's simulated world as the caller's nation holds it."""
    if exercise is None:
        key = (_identity(principal), _revision(conn))
        return _cache(request).get_or_build(key, lambda: _build_snapshot(conn, where, scheme))
    ex, lk = _exercise_for(request.app.state.node, principal, where, exercise)
    with lk:
        sim_ts, rev = ex.sim_ts, ex.revision
    key = ((*_identity(principal), "exercise", exercise), (rev, sim_ts))
    return _cache(request).get_or_build(key, lambda: _build_snapshot(
        conn, where, scheme, rows=_exercise_rows(conn, where, exercise, sim_ts), reference_ts=sim_ts,
        source=f"exercise:{exercise}"))


def _exercise_for(state, principal: Principal, where, eid: int):
    """The live exercise if the caller takes part in it (or is its white cell), else 404."""
    try:
        from orbitwatch.api.exercise_routes import _live, _visible
    except ImportError:
        raise NotFound(f"exercise {eid} not found") from None
    ex, lk = _live(state, eid)
    _visible(ex, principal, where)
    return ex, lk


def _exercise_rows(conn: Connection, where, eid: int, sim_ts: float) -> list:
    """The newest version of each simulated object the caller's nation holds at ``sim_ts`` (the same
    selection as ``GET /api/v1/exercises/{eid}/elsets``), shaped like the catalogue rows."""
    from sqlalchemy import literal, null

    from orbitwatch.store.schema_exercise import exercise_elsets as t
    from orbitwatch.store.schema_exercise import exercise_objects as o

    base = [t.c.exercise_id == eid, t.c.scheduled.is_(False), t.c.valid_from <= sim_ts]
    newest = (select(t.c.norad_id, func.max(t.c.id).label("vid")).where(*base, where(t))
              .group_by(t.c.norad_id).subquery())
    none = null()
    cols = [t.c.id, t.c.norad_id, t.c.epoch_ts, t.c.mean_motion, t.c.eccentricity, t.c.inclination, t.c.raan,
            t.c.arg_perigee, t.c.mean_anomaly, t.c.bstar, t.c.mean_motion_dot, t.c.mean_motion_ddot,
            t.c.object_name, t.c.object_id, none.label("perigee_km"), none.label("apogee_km"),
            none.label("regime"), t.c.marking, t.c.class_rank, t.c.rel_mask,
            # the simulated world's object list carries catalogue facts (name, owner, type): shown only
            # for objects whose element set the nation holds
            o.c.name.label("o_name"), o.c.owner.label("o_owner"), none.label("o_owner_nation"),
            o.c.object_type.label("o_object_type"), none.label("o_regime"), literal(None).label("o_marking"),
            none.label("o_class_rank"), none.label("o_rel_mask")]
    q = (select(*cols)
         .select_from(t.join(newest, and_(t.c.id == newest.c.vid, t.c.exercise_id == eid))
                      .outerjoin(o, and_(o.c.exercise_id == eid, o.c.norad_id == t.c.norad_id)))
         .order_by(t.c.norad_id))
    return list(conn.execute(q))


def _gzip_ok(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


@router.get("/catalog", summary="Whole-catalogue snapshot for the globe (column arrays)")
def catalog(request: Request, state: State, user: CurrentUser, where: ReadFilter, conn: Conn,
            exercise: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="an exercise's simulated "
                                                  "world instead of the catalogue")] = None) -> Response:
    """Every object the caller may read with its newest readable element set: NORAD id, name, owner,
    type, regime, perigee/apogee (km), inclination (deg), period (min), epoch, and per object an index
    into ``markings`` (the element set's marking combined with the object record's). ``snapshot``
    names this exact content; pass it to ``/api/v1/web/positions``."""
    snap = snapshot_for(request, conn, user, where, state.scheme, exercise)
    audit_reads(state, user, "web/catalog" if exercise is None else f"web/exercises/{exercise}/catalog",
                snap.rows_for_audit, key="norad_id")
    headers = {"Cache-Control": "no-store", "X-Orbitwatch-Snapshot": snap.id, "Vary": "Accept-Encoding",
               "X-Orbitwatch-Reference": repr(reference_time(snap))}
    if _gzip_ok(request):
        headers["Content-Encoding"] = "gzip"
        return Response(snap.body_gz, media_type="application/json", headers=headers)
    return Response(snap.body, media_type="application/json", headers=headers)


def reference_time(snap: Snapshot, now: float | None = None) -> float:
    """Where the picture opens: now, unless the catalogue is more than 3 days from now (an archive, a
    demo), then its newest epoch (to the minute) - never a catalogue extrapolated by years."""
    if snap.reference_ts is not None:  # an exercise: its simulated time
        return snap.reference_ts
    now = time.time() if now is None else now
    if snap.epoch_max is None or abs(now - snap.epoch_max) <= 3 * 86400:
        return now
    return math.floor(snap.epoch_max / 60.0) * 60.0


def knot_times(start: float, step: float, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unix times of the knots and their split UTC Julian dates (whole, fraction) for SGP4."""
    t = start + step * np.arange(count, dtype=np.float64)
    days = np.floor(t / 86400.0)
    return t, days + 2440587.5, (t - days * 86400.0) / 86400.0


def sample_states(sats, start: float, step: float, count: int) -> np.ndarray:
    """``[count][n][6]`` float32 TEME states (km, km/s); zeros where SGP4 failed."""
    from orbitwatch.kernels.propagation import propagate

    _, jd, fr = knot_times(start, step, count)
    p = propagate(sats, jd, fr)  # r, v: (n, count, 3), NaN where SGP4 reported an error
    out = np.empty((count, p.r.shape[0], 6), dtype=np.float32)
    out[:, :, :3] = p.r.transpose(1, 0, 2)
    out[:, :, 3:] = p.v.transpose(1, 0, 2)
    return np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


@router.get("/positions", summary="Sampled TEME states of a snapshot's objects (binary float32)",
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "float32 little-endian [count][n][6]: x, y, z (km), "
                                            "vx, vy, vz (km/s), TEME"},
                       **problem_responses(409)})
def positions(request: Request, state: State, user: CurrentUser, where: ReadFilter, conn: Conn,
              snapshot: Annotated[str, Query(min_length=7, max_length=64, pattern="^([0-9a-f]+|current)$",
                                             description="the id from /catalog, or 'current' (see X-Orbitwatch-"
                                                         "Snapshot in the answer)")],
              start: Annotated[float | None, Query(ge=-2.2e9, le=7.2e9,
                                                   description="first knot, unix s UTC (default: the "
                                                               "catalogue's reference time)")] = None,
              step: Annotated[float, Query(ge=1.0, le=86400.0, description="seconds between knots")] = 60.0,
              count: Annotated[int, Query(ge=1, le=MAX_KNOTS)] = 8,
              exercise: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    snap = snapshot_for(request, conn, user, where, state.scheme, exercise)
    if snapshot != "current" and snap.id != snapshot:
        # The catalogue or a marking changed since the browser loaded it: it must reload, not mix.
        return problem(409, f"snapshot {snapshot} is not current; reload /api/v1/web/catalog",
                       type_="urn:orbitwatch:problem:stale-snapshot", instance=request.url.path)
    if len(snap.norad) * count > MAX_STATES:
        raise ValidationError(f"{len(snap.norad)} objects x {count} knots is over the limit of {MAX_STATES} "
                              "states per request; ask for fewer knots", field="count")
    if start is None:
        start = math.floor(reference_time(snap) / step) * step

    def compute() -> bytes:
        if not len(snap.norad):
            return b""
        return sample_states(snap.sats, start, step, count).astype("<f4", copy=False).tobytes()

    data = _cache(request).window((snap.id, float(start), float(step), count), compute)
    headers = {"Cache-Control": "no-store", "X-Orbitwatch-Snapshot": snap.id, "X-Count": str(len(snap.norad)),
               "X-Knots": str(count), "X-Start": repr(float(start)), "X-Step": repr(float(step))}
    return Response(data, media_type="application/octet-stream", headers=headers)


# -- one object ----------------------------------------------------------------------------------
NoradId = Annotated[int, Path(ge=0, le=2_147_483_647, description="NORAD catalogue number")]


def _latest_row(conn: Connection, where, norad_id: int):
    from orbitwatch.store.queries import latest_element_sets

    rows = latest_element_sets(conn, where=where, norad_ids=[norad_id])
    if not rows:
        raise NotFound(f"object {norad_id} not found")
    return rows[0]


def teme_to_earth_fixed(r_km: np.ndarray, t_unix: np.ndarray) -> np.ndarray:
    """TEME positions (n, 3) at UTC unix times (n,) to Earth-fixed (pseudo-fixed: GMST-82 rotation with
    UT1 = UTC, no polar motion), as SGP4's TEME is defined. The project's frames kernel when present."""
    try:
        from orbitwatch.kernels.frames import teme_to_itrf
    except ImportError:
        pass
    else:
        return teme_to_itrf(r_km, np.zeros_like(r_km), t_unix)[0]
    days = np.floor(t_unix / 86400.0)
    t = ((days + 2440587.5 - 2451545.0) + (t_unix - days * 86400.0) / 86400.0) / 36525.0
    g = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t + 0.093104 * t * t - 6.2e-6 * t**3
    theta = np.mod(np.radians(g / 240.0), 2.0 * np.pi)
    c, s = np.cos(theta), np.sin(theta)
    x, y = r_km[:, 0], r_km[:, 1]
    return np.stack([c * x + s * y, -s * x + c * y, r_km[:, 2]], axis=-1)


def ecef_to_geodetic(r_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS-84 geodetic latitude, longitude (deg) and height (km) of Earth-fixed positions (km).

    Bowring's method with two iterations: below 1 mm in height and 1e-9 deg for LEO to GEO altitudes."""
    x, y, z = r_km[..., 0], r_km[..., 1], r_km[..., 2]
    a = RE_KM
    e2 = WGS84_F * (2.0 - WGS84_F)
    b = a * (1.0 - WGS84_F)
    ep2 = e2 / (1.0 - e2)
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - e2))
    for _ in range(2):
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(lat), np.cos(lat))
        lat = np.arctan2(z + ep2 * b * np.sin(beta) ** 3, p - e2 * a * np.cos(beta) ** 3)
    n = a / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    coslat = np.cos(lat)
    h = np.where(np.abs(coslat) > 1e-9, p / np.where(coslat == 0, 1, coslat) - n, np.abs(z) - b)
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), h


@router.get("/objects/{norad_id}/track", summary="One orbit (TEME) and the ground track (geodetic)",
            responses=problem_responses(404))
def track(norad_id: NoradId, state: State, user: CurrentUser, where: ReadFilter, conn: Conn,
          t: Annotated[float, Query(ge=-2.2e9, le=7.2e9, description="centre time, unix s UTC")],
          revs: Annotated[float, Query(gt=0, le=10, description="ground track span each side, revolutions")]
          = 1.0,
          points: Annotated[int, Query(ge=16, le=2000, description="points per revolution")] = 180) -> dict:
    """The orbit over one revolution centred on ``t`` (TEME km: draw it in an inertial frame) and the
    ground track over ``revs`` revolutions either side (WGS-84 latitude/longitude in degrees, height
    km; Earth-fixed by GMST-82 rotation, UT1 = UTC and no polar motion: < 0.5 km at LEO)."""
    from orbitwatch.kernels.propagation import propagate

    row = _latest_row(conn, where, norad_id)
    sat = satrec_from_columns(row._mapping)
    period_s = 86400.0 / row.mean_motion if row.mean_motion > 0 else 86400.0
    t_orbit = t - period_s / 2 + period_s * np.linspace(0.0, 1.0, points + 1)
    n_ground = int(min(2000, max(32, round(2 * revs * points))))
    t_ground = t + revs * period_s * np.linspace(-1.0, 1.0, n_ground)
    tt = np.concatenate([t_orbit, t_ground])
    days = np.floor(tt / 86400.0)
    p = propagate([sat], days + 2440587.5, (tt - days * 86400.0) / 86400.0)
    r = p.r[0]
    ro = r[: len(t_orbit)]
    rg = r[len(t_orbit):]
    ok_g = np.isfinite(rg).all(axis=1)
    r_itrf = teme_to_earth_fixed(rg[ok_g], t_ground[ok_g])
    lat, lon, h = ecef_to_geodetic(r_itrf)
    ok_o = np.isfinite(ro).all(axis=1)
    audit_reads(state, user, f"web/objects/{norad_id}/track", [row])
    return {
        "norad_id": norad_id, "elset_id": row.id, "epoch": row.epoch, "marking": row.marking,
        "period_min": period_s / 60.0, "t": t,
        "orbit": {"frame": "TEME", "times": t_orbit[ok_o].round(3).tolist(), "km": ro[ok_o].round(3).tolist()},
        "ground": {"frame": "WGS84", "times": t_ground[ok_g].round(3).tolist(),
                   "lat": lat.round(5).tolist(), "lon": lon.round(5).tolist(), "height_km": h.round(3).tolist()},
    }


@router.get("/objects/{norad_id}/history", summary="Orbit history with detected manoeuvres",
            responses=problem_responses(404))
def history(norad_id: NoradId, state: State, user: CurrentUser, where: ReadFilter, conn: Conn,
            limit: Annotated[int, Query(ge=2, le=20_000, description="newest element sets to use")] = 3000
            ) -> dict:
    """Per readable element set: epoch, perigee/apogee and mean altitude (km, above the WGS-84 equatorial
    radius), inclination (deg), eccentricity; and the manoeuvres found in this same readable history
    (so a nation never sees a manoeuvre inferred from element sets it may not read). ``marking`` is the
    combination of every element set used (highest classification, common releasability)."""
    from orbitwatch.store.queries import element_set_history, element_sets_from_rows, get_object

    rows = element_set_history(conn, norad_id, where=where, limit=limit, descending=True)[::-1]
    if not rows and get_object(conn, norad_id, where=where) is None:
        raise NotFound(f"object {norad_id} not found")
    n_rev = np.array([r.mean_motion for r in rows], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a_km = np.cbrt(MU_KM3_S2 / (n_rev * 2.0 * np.pi / 86400.0) ** 2)
    distinct = sorted({r.marking for r in rows})
    marking = str(combine([Marking.parse(m, scheme=state.scheme) for m in distinct], scheme=state.scheme)) \
        if distinct else None
    manoeuvres: list[dict] = []
    detector = "unavailable"
    if len(rows) >= 4:
        try:
            from orbitwatch.threats.manoeuvres import detect_manoeuvres
        except ImportError:
            detector = "unavailable"
        else:
            detector = "orbitwatch.threats.manoeuvres"
            try:
                manoeuvres = [m.as_dict() | {"epoch_ts": m.epoch_ts, "start_ts": m.start_ts, "end_ts": m.end_ts}
                              for m in detect_manoeuvres(element_sets_from_rows(rows))]
            except (OrbitwatchError, ValueError, FloatingPointError) as exc:
                detector = f"failed: {exc}"

    def fl(vals) -> list:
        return [None if v is None or not math.isfinite(v) else round(float(v), 4) for v in vals]

    audit_reads(state, user, f"web/objects/{norad_id}/history", rows)
    return {
        "norad_id": norad_id, "count": len(rows), "marking": marking, "markings": distinct,
        "epoch_ts": [r.epoch_ts for r in rows],
        "perigee_km": fl(r.perigee_km for r in rows), "apogee_km": fl(r.apogee_km for r in rows),
        "mean_altitude_km": fl(a_km - RE_KM), "inclination": fl(r.inclination for r in rows),
        "eccentricity": fl(r.eccentricity for r in rows), "source": [r.source for r in rows],
        "manoeuvres": manoeuvres, "detector": detector,
    }


# -- configuration -----------------------------------------------------------------------------------
def banner_levels(scheme: ClassificationScheme) -> list[dict]:
    out = []
    for i, level in enumerate(scheme.levels):
        bg, fg = BANNER_COLOURS.get(level, ("#5f6368", "#ffffff"))
        out.append({"name": level, "rank": i, "background": bg, "text": fg})
    return out


@router.get("/config", summary="The caller, the classification scheme and the banner colours")
def config(user: CurrentUser, state: State) -> JSONResponse:
    from orbitwatch.api.routes.auth import principal_dict

    return JSONResponse({
        "user": principal_dict(user),
        "levels": banner_levels(state.scheme),
        "exercise_banner": {"text": EXERCISE_BANNER[0], "colour": EXERCISE_BANNER[1]},
        "nations": list(NATIONS),
        "tetragraphs": {k: sort_trigraphs(v) for k, v in TETRAGRAPHS.items()},
        "data_modes": list(DATA_MODES),
        "server_time": time.time(),
        "exercise_api": _exercise_api_available(),
        "limits": {"max_knots": MAX_KNOTS, "max_states": MAX_STATES},
    }, headers={"Cache-Control": "no-store"})


def _exercise_api_available() -> bool:
    try:
        from orbitwatch.api import exercise_routes  # noqa: F401
    except ImportError:
        return False
    return True


# -- exercise console: the white cell's board ------------------------------------------------------
# The exercise routes (orbitwatch.api.exercise_routes) serve players and the clock; the console also
# needs the white cell's view of every nation and a "fire this inject now" control. Both read the live
# exercise the same way those routes do (and are white-cell only: they show what every nation holds).
ExerciseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="exercise id")]
InjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


def _white_cell_exercise(state, user: Principal, where, eid: int):
    from orbitwatch.api.exercise_routes import WHITE_CELL, _live, _visible
    from orbitwatch.errors import PermissionDenied

    if not user.has_role(*WHITE_CELL):
        raise PermissionDenied("this needs the exercise-control role")
    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    return ex, lk


@router.get("/exercises/{eid}/nations", summary="White cell: every nation's state of play",
            responses=problem_responses(403, 404))
def exercise_nations(eid: ExerciseId, state: State, user: CurrentUser, where: ReadFilter) -> dict:
    """Per participating nation: alerts and messages received, how many it acknowledged, its actions
    (count, last, failures), its votes, and its lost assets; plus the MSEL with each inject's status."""
    from orbitwatch.exercise.times import iso

    ex, lk = _white_cell_exercise(state, user, where, eid)
    with lk:
        nations = {n: {"nation": n, "alerts": 0, "messages": 0, "proposals": 0, "acknowledged": 0, "actions": 0,
                       "failed_actions": 0, "last_action": None, "last_action_kind": None, "votes": 0,
                       "assets": len(ex.world.assets.get(n, [])), "assets_lost": 0}
                   for n in ex.participants}
        for d in ex.deliveries:
            row = nations.get(d.nation)
            if row is not None and d.item_type in ("alert", "message", "proposal"):
                row[d.item_type + "s"] += 1
        for a in ex.actions:
            row = nations.get(a.nation)
            if row is None:
                continue
            row["actions"] += 1
            row["failed_actions"] += 0 if a.ok else 1
            row["last_action"], row["last_action_kind"] = iso(a.sim_ts), a.kind
            if a.kind == "acknowledge" and a.ok:
                row["acknowledged"] += 1
            if a.kind == "vote" and a.ok:
                row["votes"] += 1
        for n, lost in ex.world.lost_assets().items():
            if n in nations:
                nations[n]["assets_lost"] = len(lost)
        msel = []
        for inj in ex.scenario.msel:
            st = ex.injects[inj.id]
            msel.append({"id": inj.id, "kind": getattr(inj, "kind", None), "title": inj.title, "at": inj.at,
                         "after": inj.after, "red_cell": inj.red_cell, "to": inj.to, **st.as_dict()})
        return {"id": ex.eid, "sim_time": iso(ex.sim_ts), "status": ex.status, "marking": str(ex.banner),
                "nations": list(nations.values()), "msel": msel}


@router.post("/exercises/{eid}/injects/{inject_id}/fire", summary="White cell: fire a pending inject now",
             responses=problem_responses(403, 404, 409))
def fire_inject(eid: ExerciseId, inject_id: InjectId, state: State, user: CurrentUser, where: ReadFilter
                ) -> JSONResponse:
    """Fire a pending inject at the current simulated time (as a red-cell rule would), recorded as
    forced. Already fired or cancelled injects answer 409."""
    ex, lk = _white_cell_exercise(state, user, where, eid)
    with lk:
        inj = ex.scenario.inject(inject_id)
        if inj is None:
            raise NotFound(f"inject {inject_id} not found")
        st = ex.injects[inject_id]
        if st.status != "pending":
            return problem(409, f"inject {inject_id} is {st.status}, not pending",
                           type_="urn:orbitwatch:problem:inject-not-pending")
        fire = getattr(ex, "fire_inject", None)
        if callable(fire):
            fire(inject_id)
        else:  # the engine's own path for red-cell (forced) injects
            ex._fire(inj, ex.sim_ts, forced=True)
            ex._update_holders(ex.sim_ts)
        ex.flush()
        return JSONResponse(ex.injects[inject_id].as_dict())
