"""Space-Track-compatible endpoints, so partners' existing scripts and the ``spacetrack`` client work
against a node unchanged - with the node's releasability rules applied.

* ``POST /ajaxauth/login`` (form ``identity``, ``password``; a user's API token is accepted as the
  password) sets the ``chocolatechip`` session cookie; a failed login answers ``{"Login": "Failed"}``
  with status 200, as the service does. ``GET /ajaxauth/logout``.
* ``GET /basicspacedata/query/class/{gp,gp_history,satcat,decay,cdm_public}/<predicates>`` and
  ``/expandedspacedata/query/class/cdm_public/...``: the URL predicate language of
  :mod:`orbitwatch.api.compat.predicates`; field names and value formats as Space-Track returns them.
* ``GET /<controller>/modeldef/class/<class>``: the predicate list clients read.

Every query goes through the same dependency and read filter as the rest of the API: rows leave the
store already filtered, then the predicates, ordering and paging apply to what the caller may read.
Errors are shaped like the service's (``{"error": ...}``; rate limiting as the service's "violated your
query rate limit" text, with HTTP 429 and Retry-After where the service sends 500: the node never
answers 5xx to a client's input) - see ``api/problems.py``.
"""

from __future__ import annotations

import zlib
from collections import namedtuple
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import JSONResponse, Response

from orbitwatch.api.compat import classes as C
from orbitwatch.api.compat.predicates import Query, apply, parse_query
from orbitwatch.api.compat.render import render
from orbitwatch.api.deps import SPACETRACK_COOKIE, Conn, CurrentUser, NodeState, ReadFilter, State, audit_reads
from orbitwatch.api.routes.auth import login_session, set_session_cookie
from orbitwatch.errors import AuthenticationError, NotFound, ValidationError

router = APIRouter(tags=["space-track compatible"])

CONTROLLERS: dict[str, tuple[str, ...]] = {
    "basicspacedata": ("gp", "gp_history", "satcat", "decay", "cdm_public"),
    "expandedspacedata": ("cdm_public",),
}
#: The most rows one gp_history query may return (a bounded answer, like the service's).
MAX_HISTORY_ROWS = 500_000
PREFIXES = ("/ajaxauth/", "/basicspacedata/", "/expandedspacedata/")


@router.post("/ajaxauth/login", summary="Space-Track login (sets the chocolatechip cookie)")
def st_login(request: Request, state: State, identity: Annotated[str, Form(max_length=128)],
             password: Annotated[str, Form(max_length=256)]) -> Response:
    try:
        _, sid = login_session(request, state, identity, password)
    except AuthenticationError:
        return JSONResponse({"Login": "Failed"})
    resp = JSONResponse("")
    set_session_cookie(resp, state, sid, name=SPACETRACK_COOKIE)
    return resp


@router.get("/ajaxauth/logout", summary="Space-Track logout")
def st_logout(request: Request, state: State) -> Response:
    from orbitwatch.sharing.identity import end_session

    sid = request.cookies.get(SPACETRACK_COOKIE)
    if sid:
        end_session(state.engine, sid)
        state.forget("session", sid)
    resp = JSONResponse("Successfully logged out")
    resp.delete_cookie(SPACETRACK_COOKIE, path="/")
    return resp


def _check(controller: str, cls: str) -> None:
    if controller not in CONTROLLERS:
        raise NotFound(f"unknown controller {controller!r}")
    if cls not in CONTROLLERS[controller]:
        raise ValidationError(f"class {cls!r} is not served by {controller} on this node; classes: "
                              f"{', '.join(CONTROLLERS[controller])}", field="class")


Controller = Annotated[str, Path(pattern="^(basicspacedata|expandedspacedata)$")]
ClassName = Annotated[str, Path(max_length=32)]


@router.get("/{controller}/modeldef/class/{cls}", summary="Space-Track class definition (predicates)")
def st_modeldef(controller: Controller, cls: ClassName, user: CurrentUser) -> dict:
    _check(controller, cls)
    return C.modeldef(controller, cls)


@router.get("/{controller}/query/class/{cls}", summary="Space-Track query (no predicates)")
def st_query_bare(request: Request, controller: Controller, cls: ClassName, state: State, user: CurrentUser,
                  where: ReadFilter, conn: Conn) -> Response:
    return _query(controller, cls, "", state, user, where, conn, _gzip_ok(request))


@router.get("/{controller}/query/class/{cls}/{predicates:path}", summary="Space-Track query")
def st_query(request: Request, controller: Controller, cls: ClassName,
             predicates: Annotated[str, Path(max_length=4000)], state: State, user: CurrentUser,
             where: ReadFilter, conn: Conn) -> Response:
    return _query(controller, cls, predicates, state, user, where, conn, _gzip_ok(request))


def _gzip_ok(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


#: Answers at least this large are gzipped for clients that accept it (level 1: a whole-catalogue gp
#: answer, 29 MB, becomes 5 MB in about 0.2 s - cheap next to sending 29 MB over anything but loopback).
GZIP_MIN_BYTES = 1 << 20


def _query(controller: str, cls: str, predicates: str, state: NodeState, user, where, conn,
           gzip_ok: bool = False) -> Response:
    _check(controller, cls)
    kinds = C.kinds(cls)
    q = parse_query(cls, predicates, kinds)
    resource = f"{controller}/{cls}"
    cache = state.compat_cache
    key = (user.nation, user.clearance, user.organisation, user.is_anonymous, cls,
           predicates) if cls in ("gp", "satcat") and not _relative(q) else None
    revision = _revision(conn) if key is not None else None
    hit = cache.get(key) if key is not None else None
    if hit is not None and hit[0] == revision:
        cache.move_to_end(key)
        entry = hit[1]
    else:
        entry = _plain_gp(cls, q, conn, where, gzip_ok)
        if entry is None:
            records = fetch(cls, q, conn, where)
            page = apply(_unsorted(cls, q), records, kinds)
            text, media = render(q, page, list(C.CLASSES[cls]), total=len(records))
            entry = _Answer(text.encode(), None, media, [_audit_row(r.get("_row")) for r in page])
        if key is not None and len(entry.body) >= CACHE_MIN_BYTES:
            cache[key] = (revision, entry)
            while len(cache) > CACHE_ENTRIES:
                cache.popitem(last=False)
    audit_reads(state, user, resource, entry.audit_rows, key="key")
    if len(entry.body) < GZIP_MIN_BYTES:
        return Response(entry.body, media_type=entry.media)
    if gzip_ok:
        return Response(entry.gzipped(), media_type=entry.media,
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(entry.body, media_type=entry.media, headers={"Vary": "Accept-Encoding"})


class _Answer:
    """One computed answer: its bytes, its gzip (made when first asked for), media type, rows to audit."""

    __slots__ = ("_gz", "audit_rows", "body", "media")

    def __init__(self, body: bytes, gz: bytes | None, media: str, audit_rows: list[dict[str, Any]]):
        self.body, self._gz, self.media, self.audit_rows = body, gz, media, audit_rows

    def gzipped(self) -> bytes:
        if self._gz is None:
            z = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip member
            self._gz = z.compress(self.body) + z.flush()
        return self._gz


#: Below this many records a gp answer is written in one go (a second thread would cost more than it hides).
PIPELINE_MIN_RECORDS = 1000


def _plain_gp(cls: str, q: Query, conn, where, gzip_ok: bool) -> _Answer | None:
    """A gp/gp_history JSON answer with every default field, whose only predicates the fetch applies
    exactly (NORAD_CAT_ID lists) and whose order is the fetch's - the whole-catalogue pull and one
    object's history - written straight from the row tuples: no record objects, no filtering or sorting
    pass. None for any other query (the general path answers it)."""
    if (cls not in ("gp", "gp_history") or q.format != "json" or q.columns is not None or q.metadata
            or q.distinct or q.limit is not None or q.offset or _unsorted(cls, q).orderby
            or any(c.field != "NORAD_CAT_ID" or c.op != "in" for c in q.conditions)):
        return None
    ids = _ids(q)
    if ids is not None and not ids:
        return None
    if cls == "gp_history" and ids is None:
        return None  # by EPOCH range: the general path (its bounds are re-checked there)
    rows = _gp_rows(cls, q, conn, where, named=False)
    if not rows:
        return None  # emptyresult/show and [] are the renderer's business
    norad = GP_ELSET_COLUMNS.index("norad_id")
    ids = sorted({t[norad] for t in rows})
    objects = _gp_objects(conn, where, rows, ids if len(ids) < 5000 else None)
    get = objects.get
    pairs = ((t, get(t[norad])) for t in rows)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    chunks = C.gp_rows_json_chunks(GP_ELSET_COLUMNS, pairs, created)
    if len(rows) >= PIPELINE_MIN_RECORDS:
        body, gz = _encode(chunks, gzip_ok)  # compress each piece in a second thread while the next is written
    else:
        body, gz = "".join(chunks).encode(), None
    i, r, m = (GP_ELSET_COLUMNS.index(c) for c in ("id", "class_rank", "rel_mask"))
    audit_rows = [{"key": t[i], "class_rank": t[r], "rel_mask": t[m]} for t in rows]
    return _Answer(body, gz, "application/json", audit_rows)


def _encode(chunks: Iterator[str], gzip_ok: bool) -> tuple[bytes, bytes | None]:
    """The bytes of ``chunks`` and, if the client takes gzip, their gzip - compressed piece by piece in a
    worker thread while the next piece is written (zlib lets go of the GIL), so that on two cores the
    compression costs hardly any time on top of writing the JSON."""
    if not gzip_ok:
        return "".join(chunks).encode(), None
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts: list[bytes] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gzip") as pool:
        pending = []
        for text in chunks:
            b = text.encode()
            parts.append(b)
            pending.append(pool.submit(z.compress, b))  # one worker: pieces are compressed in order
        gz = [f.result() for f in pending]
    gz.append(z.flush())
    return b"".join(parts), b"".join(gz)


# Whole-catalogue pulls are what partner scripts do every few minutes: keep the last few answers per
# worker (``NodeState.compat_cache``), keyed by who may read what and by the query, valid while the
# catalogue's revision is unchanged (new element sets, releases and object updates all move it).
CACHE_ENTRIES = 4
CACHE_MIN_BYTES = 1 << 20


def _relative(q: Query) -> bool:
    """Predicates relative to the request time (``now-30``) make an answer that ages by itself."""
    return any("now" in str(v).lower() for c in q.conditions for v in c.values) or any(
        c.field in ("EPOCH", "CREATION_DATE", "DECAY_DATE", "LAUNCH_DATE") for c in q.conditions)


def _revision(conn) -> tuple:
    from sqlalchemy import func, select

    from orbitwatch.store.schema import element_sets, space_objects
    from orbitwatch.store.schema_sharing import releases

    return tuple(conn.execute(select(
        select(func.max(element_sets.c.id)).scalar_subquery(),
        select(func.count()).select_from(element_sets).scalar_subquery(),
        select(func.max(releases.c.id)).scalar_subquery(),
        select(func.max(space_objects.c.updated_at)).scalar_subquery(),
        select(func.count()).select_from(space_objects).scalar_subquery(),
    )).one())


def _audit_row(row) -> dict[str, Any]:
    # Attribute access: rows are SQLAlchemy Rows or the named tuples of the gp fetch.
    key = getattr(row, "id", None)
    return {"key": key if key is not None else row.norad_id, "class_rank": row.class_rank, "rel_mask": row.rel_mask}


def _unsorted(cls: str, q: Query) -> Query:
    """``q`` without the ordering the fetch already gave its rows (gp: by NORAD_CAT_ID; gp_history: by
    NORAD_CAT_ID then EPOCH), so that a whole-catalogue pull in catalogue order is not sorted twice."""
    if not q.orderby:
        return q
    given = [("NORAD_CAT_ID", False)] if cls == "gp" else [("NORAD_CAT_ID", False), ("EPOCH", False)]
    single = cls == "gp_history" and len(_ids(q) or ()) == 1
    if q.orderby == given[:len(q.orderby)] or (single and q.orderby == [("EPOCH", False)]):
        from dataclasses import replace

        return replace(q, orderby=[])
    return q


# -- fetching: the store's functions with the caller's filter, predicates pushed down where cheap -------
def _ids(q: Query, name: str = "NORAD_CAT_ID") -> list[int] | None:
    """NORAD ids an ``in`` predicate restricts the query to (None: no such restriction)."""
    ids: set[int] | None = None
    for c in q.conditions_on(name):
        if c.op == "in":
            vals = {int(v) for v in c.values}
            ids = vals if ids is None else ids & vals
    return None if ids is None else sorted(ids)


def _epoch_bounds(q: Query) -> tuple[float | None, float | None]:
    lo = hi = None

    def ts(iso: str) -> float:
        return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()

    for c in q.conditions_on("EPOCH"):
        if c.op in ("gt",):
            lo = max(lo or -1e18, ts(c.values[0]))
        elif c.op == "lt":
            hi = min(hi or 1e18, ts(c.values[0]))
        elif c.op == "range":
            lo, hi = max(lo or -1e18, ts(c.values[0])), min(hi or 1e18, ts(c.values[1]))
        elif c.op == "in":
            vals = [ts(v) for v in c.values]
            lo, hi = max(lo or -1e18, min(vals)), min(hi or 1e18, max(vals))
    return lo, hi


def _objects(conn, where, ids: list[int] | None) -> dict[int, Any]:
    """Object rows the caller may read (all, or these NORAD ids), for satcat, decay and cdm_public."""
    from orbitwatch.store.queries import search_objects

    if ids is None:
        return {o.norad_id: o for o in search_objects(conn, where=where)}
    out = {}
    for i in range(0, len(ids), 900):
        out.update({o.norad_id: o for o in search_objects(conn, where=where, norad_ids=ids[i:i + 900])})
    return out


#: Element-set columns a gp record reads (its fields, the TLE lines, the OMM writers, the audit entry).
GP_ELSET_COLUMNS = ("id", "norad_id", "epoch_ts", "epoch", "mean_motion", "eccentricity", "inclination", "raan",
                    "arg_perigee", "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot",
                    "classification_type", "ephemeris_type", "element_set_no", "rev_at_epoch", "object_name",
                    "object_id", "semi_major_axis_km", "perigee_km", "apogee_km", "regime", "source_format",
                    "batch_id", "file_line", "original", "class_rank", "rel_mask")
GP_OBJECT_COLUMNS = ("name", "object_id", "object_type", "rcs_size", "owner", "launch_date", "launch_site",
                     "decay_date")
GpRow = namedtuple("GpRow", GP_ELSET_COLUMNS)  # type: ignore[misc]  (attribute and index access, cheap)
GpObject = namedtuple("GpObject", ("norad_id", *GP_OBJECT_COLUMNS))  # type: ignore[misc]


def _gp_rows(cls: str, q: Query, conn, where, *, named: bool = True) -> list:
    """Element sets of a gp/gp_history query as named tuples (plain tuples of :data:`GP_ELSET_COLUMNS`
    with ``named=False``), by prepared statements (``api/reads.py``): the whole catalogue is 26,000
    rows, where SQLAlchemy's Row machinery alone costs most of a second."""
    from orbitwatch.api import reads

    make = GpRow._make if named else tuple

    raw, engine = conn.connection.driver_connection, conn.engine
    ids = _ids(q)
    if cls == "gp":
        if ids is None:
            tuples = reads.latest_all(raw, engine, where, GP_ELSET_COLUMNS)
        else:
            tuples = []
            for i in range(0, len(ids), 900):
                tuples += reads.latest_of(raw, engine, where, ids[i:i + 900], GP_ELSET_COLUMNS)
        return [make(t) for t in tuples] if named else tuples
    start, end = _epoch_bounds(q)
    if ids is None:
        return _history(conn, where, start, end)
    rows: list = []
    for norad in ids:
        rows += [make(t) for t in reads.history_of(raw, engine, where, norad, GP_ELSET_COLUMNS, start=start,
                                                    end=end, limit=MAX_HISTORY_ROWS - len(rows))]
        if len(rows) >= MAX_HISTORY_ROWS:
            break
    return rows


def _gp_objects(conn, where, rows, norads: list[int] | None | bool = False) -> dict[int, Any]:
    """The reader's view of the objects of ``rows`` (all readable objects when there are many; the
    caller may pass the NORAD ids, or None for all)."""
    from orbitwatch.api import reads

    raw, engine = conn.connection.driver_connection, conn.engine
    if norads is False:
        norads = _norads(rows)
    if norads is None:
        views = reads.object_views(raw, engine, where, GP_OBJECT_COLUMNS)
    else:
        views = []
        for i in range(0, len(norads), 900):
            views += reads.object_views(raw, engine, where, GP_OBJECT_COLUMNS, norads[i:i + 900])
    return {v[0]: GpObject._make(v) for v in views}


def fetch(cls: str, q: Query, conn, where) -> list[Any]:
    """Every record of ``cls`` the caller may read that the pushed-down predicates allow."""
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    ids = _ids(q)
    if ids is not None and not ids:
        return []
    if cls in ("gp", "gp_history"):
        rows = _gp_rows(cls, q, conn, where)
        return C.gp_records(rows, _gp_objects(conn, where, rows), created)
    if cls in ("satcat", "decay"):
        objs = list(_objects(conn, where, ids).values())
        objs.sort(key=lambda o: o.norad_id)
        return C.satcat_records(objs) if cls == "satcat" else C.decay_records(objs)
    if cls == "cdm_public":
        try:
            from orbitwatch.conjunctions.storage import load_events
        except ImportError:  # pragma: no cover - screening not installed
            return []
        events = load_events(conn, where=where, norad=_ids(q, "SAT_1_ID"), limit=None)
        norads = sorted({e.norad1 for e in events} | {e.norad2 for e in events})
        return C.cdm_public_records(events, _objects(conn, where, norads))
    raise ValidationError(f"unknown class {cls!r}", field="class")  # pragma: no cover


def _norads(rows) -> list[int] | None:
    ids = sorted({r.norad_id for r in rows})
    return ids if len(ids) < 5000 else None  # many objects: one pass over the readable catalogue


def _history(conn, where, start, end) -> list:
    """gp_history by EPOCH range over all objects (no NORAD_CAT_ID given)."""
    from sqlalchemy import select

    from orbitwatch.store.schema import element_sets as e

    if start is None and end is None:
        raise ValidationError("gp_history needs NORAD_CAT_ID or an EPOCH predicate (e.g. EPOCH/>now-1)",
                              field="NORAD_CAT_ID")
    stmt = select(e).where(where(e))
    if start is not None:
        stmt = stmt.where(e.c.epoch_ts >= start)
    if end is not None:
        stmt = stmt.where(e.c.epoch_ts <= end)
    return list(conn.execute(stmt.order_by(e.c.norad_id, e.c.epoch_ts).limit(MAX_HISTORY_ROWS)))
