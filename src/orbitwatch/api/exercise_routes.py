"""Exercise routes: live multi-nation play over HTTP (``app.include_router(exercise_routes.router)``).

Every route is authenticated (``CurrentUser``). What a nation reads - its feed, alerts, messages,
proposals, actions and its view of the simulated catalogue - comes from the marked exercise tables
through the one read filter (``ReadFilter``), so each nation sees exactly what its sensors and the
releases of its partners gave it; an exercise the caller does not take part in answers 404. The white
cell (role ``exercise-control``) creates exercises, runs the clock, steps, and reads the truth and the
after-action report. Players (role ``operator``) act for their own nation only.

The engine keeps each exercise in memory per process and in the database; a request first reloads it
if another process moved it on (revision check), then lets a running clock catch up.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select

from orbitwatch.api.deps import Conn, CurrentUser, ReadFilter, State, require_role
from orbitwatch.api.problems import problem, problem_responses
from orbitwatch.errors import NotFound, PermissionDenied, ValidationError
from orbitwatch.sharing.principal import Principal

router = APIRouter(prefix="/api/v1/exercises", tags=["exercises"],
                   responses=problem_responses(401, 403, 404, 422, 429))

ExerciseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="exercise id")]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
WHITE_CELL = ("exercise-control",)
PLAYER_ROLES = ("operator", "exercise-control")

_lock = threading.Lock()
_cache: dict[tuple[int, int], tuple[Any, threading.RLock]] = {}


def _live(state, eid: int):
    """The exercise (cached per process, reloaded when another process has moved it on)."""
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.persist import current_revision

    key = (id(state.engine), eid)
    rev = current_revision(state.engine, eid)
    if rev is None:
        raise NotFound(f"exercise {eid} not found")
    with _lock:
        hit = _cache.get(key)
        if hit is None or hit[0].revision != rev:
            ex = Exercise.load(state.engine, eid)
            lk = hit[1] if hit else threading.RLock()
            _cache[key] = (ex, lk)
            hit = _cache[key]
    ex, lk = hit
    with lk:
        if ex.clock.running:
            ex.catch_up()
    return ex, lk


def _visible(ex, user: Principal, where) -> None:
    """404 unless the caller's nation plays in the exercise (or it is the white cell) and may read the
    exercise banner."""
    from orbitwatch.store.schema_exercise import exercises

    with ex.db.connect() as conn:
        ok = conn.execute(select(exercises.c.id).where(exercises.c.id == ex.eid, where(exercises))).first()
    white = user.has_role(*WHITE_CELL)
    if ok is None or not (white or (user.nation and user.nation in ex.participants)):
        raise NotFound(f"exercise {ex.eid} not found")


def _player(ex, user: Principal) -> str:
    if not user.nation:
        raise PermissionDenied("only national users play in an exercise")
    if user.nation not in ex.participants:
        raise NotFound(f"exercise {ex.eid} not found")
    return user.nation


# ---------------------------------------------------------------------------------------------------
# models

class CreateExercise(BaseModel):
    scenario_yaml: str = Field(min_length=10, max_length=2_000_000, description="the scenario file's text")
    catalog: Literal["demo", "store"] = Field("store", description="the bundled demo or this node's store")
    name: str | None = Field(None, max_length=200)
    overrides: dict[str, Any] | None = Field(None, description="fields of the scenario's 'exercise' section")
    players_yaml: str | None = Field(None, max_length=500_000,
                                     description="scripted responses for nations not played live")


class ClockBody(BaseModel):
    mode: Literal["paused", "realtime", "accelerated", "stepped"]
    rate: float | None = Field(None, gt=0, le=100_000)


class StepBody(BaseModel):
    steps: int = Field(1, ge=1, le=10_000)
    to: str | None = Field(None, max_length=40, description="advance to this time instead, e.g. T+12h")


class ActionBody(BaseModel):
    kind: Literal["acknowledge", "release", "tasking", "manoeuvre", "notify", "demarche", "propose", "vote",
                  "break_silence", "comment"]
    payload: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# white cell

@router.post("", status_code=201, summary="Create an exercise from a scenario",
             dependencies=[require_role(*WHITE_CELL)])
def create_exercise(body: CreateExercise, user: CurrentUser, state: State) -> JSONResponse:
    from orbitwatch.exercise.catalog import demo_catalog, store_catalog
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.players import ScriptedPlayers, load_players

    players = None
    try:
        if body.players_yaml:
            players = ScriptedPlayers(load_players("players.yaml", text=body.players_yaml))
        cat = demo_catalog() if body.catalog == "demo" else store_catalog(state.engine)
        ex = Exercise.create(state.engine, "scenario.yaml", cat, text=body.scenario_yaml, created_by=user.username,
                             players=players, overrides=body.overrides, name=body.name)
    except ValidationError as exc:
        errors = [e.as_dict() for e in (getattr(exc, "errors", None) or [exc])]
        return problem(422, str(exc), type_="urn:orbitwatch:problem:invalid-input", errors=errors)
    with _lock:
        _cache[(id(state.engine), ex.eid)] = (ex, threading.RLock())
    return JSONResponse(ex.status_dict(), status_code=201)


@router.post("/{eid}/clock", summary="Set the exercise clock", dependencies=[require_role(*WHITE_CELL)])
def set_clock(eid: ExerciseId, body: ClockBody, user: CurrentUser, state: State, where: ReadFilter) -> dict:
    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    with lk:
        ex.set_clock(body.mode, body.rate)
        return ex.status_dict()


@router.post("/{eid}/step", summary="Advance the exercise (white cell)", dependencies=[require_role(*WHITE_CELL)])
def step_exercise(eid: ExerciseId, body: StepBody, user: CurrentUser, state: State, where: ReadFilter) -> dict:
    from orbitwatch.exercise.times import parse_time

    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    with lk:
        n = ex.advance_to(parse_time(body.to, ex.start_ts)) if body.to else ex.step(body.steps)
        ex.flush()
        return {**ex.status_dict(), "steps": n}


@router.get("/{eid}/truth", summary="The white cell's picture", dependencies=[require_role(*WHITE_CELL)])
def truth(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter) -> JSONResponse:
    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    import json

    with lk:
        return JSONResponse(json.loads(json.dumps(ex.truth(), default=str)))


@router.get("/{eid}/report.html", summary="After-action report (HTML)", response_class=HTMLResponse,
            dependencies=[require_role(*WHITE_CELL)])
def report_html(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter) -> HTMLResponse:
    from orbitwatch.exercise.report import render_html

    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    with lk:
        return HTMLResponse(render_html(ex))


@router.get("/{eid}/report.pdf", summary="After-action report (PDF)", dependencies=[require_role(*WHITE_CELL)],
            response_class=Response)
def report_pdf(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter) -> Response:
    import tempfile
    from pathlib import Path as P

    from orbitwatch.exercise.report import render_pdf

    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    with lk, tempfile.TemporaryDirectory() as d:
        path = render_pdf(ex, P(d) / "aar.pdf")
        data = path.read_bytes()
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="exercise-{eid}-aar.pdf"'})


# ---------------------------------------------------------------------------------------------------
# everyone taking part

@router.get("", summary="Exercises you take part in")
def list_exercises(user: CurrentUser, state: State, where: ReadFilter) -> dict:
    import json

    from orbitwatch.store.schema_exercise import exercises

    q = select(exercises.c.id, exercises.c.name, exercises.c.status, exercises.c.start_ts, exercises.c.end_ts,
               exercises.c.sim_ts, exercises.c.clock_mode, exercises.c.marking, exercises.c.scenario_text,
               exercises.c.resolved).where(where(exercises)).order_by(exercises.c.id)
    from orbitwatch.exercise.times import iso

    out = []
    white = user.has_role(*WHITE_CELL)
    with state.engine.connect() as conn:
        for r in conn.execute(q):
            assets = json.loads(r.resolved or "{}").get("assets", {})
            if not white and (user.nation is None or user.nation not in assets):
                continue
            out.append({"id": r.id, "name": r.name, "status": r.status, "start": iso(r.start_ts),
                        "end": iso(r.end_ts), "sim_time": iso(r.sim_ts), "clock": r.clock_mode,
                        "marking": r.marking})
    return {"items": out}


@router.get("/{eid}", summary="Exercise status")
def get_exercise(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter) -> dict:
    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    with lk:
        s = ex.status_dict()
    if not user.has_role(*WHITE_CELL):
        s.pop("injects", None)  # the MSEL is the white cell's
        s["counts"] = {"objects": s["counts"]["objects"]}
    return s


def _item_rows(conn, table, eid: int, ids: list[int], where) -> dict[int, Any]:
    if not ids:
        return {}
    rows = conn.execute(select(table).where(table.c.exercise_id == eid, table.c.id.in_(ids), where(table)))
    return {r.id: r for r in rows}


def _alert_dict(r) -> dict:
    import json

    from orbitwatch.exercise.times import iso

    body = json.loads(r.detail or "{}")
    return {"id": r.id, "kind": r.kind, "severity": r.severity, "time": iso(r.sim_ts), "originator": r.nation,
            "title": r.title, "detail": body.get("detail", {}), "objects": body.get("objects", []),
            "marking": r.marking}


def _message_dict(r) -> dict:
    import json

    from orbitwatch.exercise.times import iso

    return {"id": r.id, "kind": r.kind, "time": iso(r.sim_ts), "from": r.sender,
            "to": json.loads(r.recipients or "[]"), "title": r.title, "body": r.body, "public": r.public,
            "marking": r.marking}


def _proposal_dict(r) -> dict:
    import json

    from orbitwatch.exercise.times import iso

    return {"id": r.id, "time": iso(r.sim_ts), "proposer": r.proposer, "title": r.title,
            "options": json.loads(r.options), "rule": r.rule, "deadline": iso(r.deadline_ts),
            "members": json.loads(r.members), "status": r.status, "outcome": r.outcome,
            "decided": iso(r.decided_ts) if r.decided_ts is not None else None,
            "votes": json.loads(r.votes or "{}"), "marking": r.marking}


@router.get("/{eid}/feed", summary="Your nation's feed: alerts, messages, proposals")
def feed(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter, conn: Conn,
         since: Annotated[float | None, Query(description="simulated UTC seconds; only newer items")] = None,
         limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict:
    from orbitwatch.exercise.times import iso
    from orbitwatch.store.schema_exercise import (
        exercise_alerts,
        exercise_deliveries,
        exercise_messages,
        exercise_proposals,
    )

    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    nation = _player(ex, user)
    d = exercise_deliveries
    q = select(d).where(d.c.exercise_id == eid, d.c.nation == nation, where(d))
    if since is not None:
        q = q.where(d.c.sim_ts > since)
    dels = list(conn.execute(q.order_by(d.c.sim_ts, d.c.id).limit(limit)))
    by_type: dict[str, list[int]] = {}
    for r in dels:
        by_type.setdefault(r.item_type, []).append(r.item_id)
    alerts = _item_rows(conn, exercise_alerts, eid, by_type.get("alert", []), where)
    msgs = _item_rows(conn, exercise_messages, eid, by_type.get("message", []), where)
    props = _item_rows(conn, exercise_proposals, eid, by_type.get("proposal", []), where)
    items = []
    for r in dels:
        src = {"alert": (alerts, _alert_dict), "message": (msgs, _message_dict),
               "proposal": (props, _proposal_dict)}[r.item_type]
        row = src[0].get(r.item_id)
        if row is None:
            continue  # not (or no longer) readable: never shown
        items.append({"type": r.item_type, "received": iso(r.sim_ts), "received_ts": r.sim_ts, "via": r.via,
                      "from": r.by_nation, "item": src[1](row)})
    return {"nation": nation, "sim_time": iso(ex.sim_ts), "items": items}


@router.get("/{eid}/alerts", summary="Alerts your nation holds")
def list_alerts(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter, conn: Conn,
                kind: Annotated[str | None, Query(max_length=20)] = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> dict:
    from orbitwatch.store.schema_exercise import exercise_alerts as t

    ex, _ = _live(state, eid)
    _visible(ex, user, where)
    _player(ex, user)
    q = select(t).where(t.c.exercise_id == eid, where(t))
    if kind:
        q = q.where(t.c.kind == kind)
    total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = conn.execute(q.order_by(t.c.sim_ts, t.c.id).limit(limit).offset(offset))
    return {"items": [_alert_dict(r) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{eid}/alerts/{aid}", summary="One alert")
def get_alert(eid: ExerciseId, aid: ItemId, user: CurrentUser, state: State, where: ReadFilter, conn: Conn) -> dict:
    from orbitwatch.store.schema_exercise import exercise_alerts as t

    ex, _ = _live(state, eid)
    _visible(ex, user, where)
    _player(ex, user)
    r = conn.execute(select(t).where(t.c.exercise_id == eid, t.c.id == aid, where(t))).first()
    if r is None:
        raise NotFound(f"alert {aid} not found")
    return _alert_dict(r)


@router.get("/{eid}/proposals", summary="Collective-response proposals you are party to")
def list_proposals(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter, conn: Conn) -> dict:
    from orbitwatch.store.schema_exercise import exercise_proposals as t

    ex, _ = _live(state, eid)
    _visible(ex, user, where)
    _player(ex, user)
    rows = conn.execute(select(t).where(t.c.exercise_id == eid, where(t)).order_by(t.c.id))
    return {"items": [_proposal_dict(r) for r in rows]}


@router.get("/{eid}/actions", summary="Your nation's actions (and public ones)")
def list_actions(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter, conn: Conn) -> dict:
    import json

    from orbitwatch.exercise.times import iso
    from orbitwatch.store.schema_exercise import exercise_actions as t

    ex, _ = _live(state, eid)
    _visible(ex, user, where)
    _player(ex, user)
    rows = conn.execute(select(t).where(t.c.exercise_id == eid, where(t)).order_by(t.c.id))
    return {"items": [{"id": r.id, "time": iso(r.sim_ts), "nation": r.nation, "user": r.username, "kind": r.kind,
                       "payload": json.loads(r.payload or "{}"), "result": json.loads(r.result or "{}"),
                       "ok": r.ok, "marking": r.marking} for r in rows]}


@router.get("/{eid}/elsets", summary="Your nation's view of the simulated catalogue")
def list_elsets(eid: ExerciseId, user: CurrentUser, state: State, where: ReadFilter, conn: Conn,
                norad_id: Annotated[list[Annotated[int, Query(ge=0, le=2**31 - 1)]] | None,
                                    Query(max_length=1000)] = None,
                limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
                offset: Annotated[int, Query(ge=0, le=10**7)] = 0) -> dict:
    """The newest element set of each object that your nation holds (observed by its sensors or released
    to it) at the current simulated time."""
    from orbitwatch.exercise.times import iso
    from orbitwatch.store.schema_exercise import exercise_elsets as t

    ex, _ = _live(state, eid)
    _visible(ex, user, where)
    _player(ex, user)
    base = [t.c.exercise_id == eid, t.c.scheduled.is_(False), t.c.valid_from <= ex.sim_ts]
    newest = select(t.c.norad_id, func.max(t.c.id).label("vid")).where(*base, where(t))
    if norad_id:
        newest = newest.where(t.c.norad_id.in_(norad_id))
    newest = newest.group_by(t.c.norad_id).subquery()
    q = select(t).join(newest, and_(t.c.id == newest.c.vid, t.c.exercise_id == eid)).order_by(t.c.norad_id)
    rows = conn.execute(q.limit(limit).offset(offset))
    items = [{"norad_id": r.norad_id, "object_name": r.object_name, "object_id": r.object_id,
              "epoch": iso(r.epoch_ts), "mean_motion": r.mean_motion, "eccentricity": r.eccentricity,
              "inclination": r.inclination, "raan": r.raan, "arg_perigee": r.arg_perigee,
              "mean_anomaly": r.mean_anomaly, "bstar": r.bstar, "valid_from": iso(r.valid_from),
              "marking": r.marking} for r in rows]
    return {"items": items, "limit": limit, "offset": offset, "sim_time": iso(ex.sim_ts)}


@router.post("/{eid}/actions", status_code=201, summary="Act for your nation",
             dependencies=[require_role(*PLAYER_ROLES)])
def post_action(eid: ExerciseId, body: ActionBody, user: CurrentUser, state: State, where: ReadFilter) -> dict:
    ex, lk = _live(state, eid)
    _visible(ex, user, where)
    nation = _player(ex, user)
    with lk:
        a = ex.act(nation, body.kind, body.payload, username=user.username)
        ex.flush()
        return a.as_dict()

