"""``orbitwatch exercise validate|run|status|step|report|act|clock`` - tabletop exercises from the command line.

``SCENARIO`` is a scenario file (``examples/shadow.yaml``) for ``validate`` and ``run``; for the other
commands it may also be an exercise id or name in the database (a file means "the newest exercise made
from it").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from orbitwatch.cli.common import DbOption, JsonOption, console, emit_json, err_console
from orbitwatch.errors import OrbitwatchError, ValidationError

exercise_app = typer.Typer(help="Tabletop exercises: scenarios, headless runs, after-action reports.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(exercise_app, name="exercise")


def _engine(db: str | None):
    from orbitwatch.settings import database_url
    from orbitwatch.store import open_engine

    return open_engine(database_url(db))


def _catalog(demo: bool, catalog: list[Path] | None, satcat: list[Path] | None, db_engine):
    from orbitwatch.exercise.catalog import demo_catalog, file_catalog, store_catalog

    if demo:
        return demo_catalog()
    if catalog:
        return file_catalog(catalog, satcat=satcat or [])
    return store_catalog(db_engine)


def _players(path: Path | None):
    if path is None:
        return None
    from orbitwatch.exercise.players import ScriptedPlayers, load_players

    return ScriptedPlayers(load_players(path))


def _exercise_id(db_engine, ref: str) -> int:
    from orbitwatch.exercise.engine import find_exercise

    p = Path(ref)
    if p.is_file():
        from orbitwatch.exercise.scenario import load_scenario

        ref = load_scenario(p).exercise.name
    return find_exercise(db_engine, ref)


def _print_errors(exc: ValidationError) -> None:
    errors = getattr(exc, "errors", None) or [exc]
    for e in errors:
        err_console.print(f"[red]{e}[/]", highlight=False)


def _summary(ex) -> dict:
    from orbitwatch.exercise.metrics import consensus_metrics, detection_metrics
    from orbitwatch.exercise.times import human_duration

    det = detection_metrics(ex)
    return {**ex.status_dict(),
            "time_to_detect": {d["inject"]: human_duration(d["time_to_detect_s"]) for d in det},
            "time_to_share": {d["inject"]: human_duration(d["time_to_share_s"]) for d in det},
            "consensus": [{"title": c["title"], "status": c["status"], "outcome": c["outcome"],
                           "after": human_duration(c["time_to_consensus_s"])} for c in consensus_metrics(ex)],
            "detector": ex.detector.stats(), "timings_s": {k: round(v, 2) for k, v in ex.timings.items()}}


def _show(summary: dict) -> None:
    console.print(f"[bold]{summary['name']}[/] (exercise {summary['id']}) {summary['status']} - "
                  f"sim time {summary['sim_time']} (T+{summary['elapsed_h']} h, ENDEX {summary['end']}) - "
                  f"banner {summary['marking']}", highlight=False)
    c = summary["counts"]
    console.print(f"  alerts {c['alerts']}, messages {c['messages']}, actions {c['actions']}, "
                  f"proposals {c['proposals']}, detections {c['detections']}, objects {c['objects']}")
    inj = summary["injects"]
    console.print("  injects: " + ", ".join(f"{k} {v}" for k, v in inj.items()), highlight=False)
    if "time_to_detect" in summary:
        console.print("  time to detect: " + ", ".join(f"{k} {v}" for k, v in summary["time_to_detect"].items()))
        console.print("  time to share:  " + ", ".join(f"{k} {v}" for k, v in summary["time_to_share"].items()))
        for cns in summary.get("consensus", []):
            console.print(f"  consensus: {cns['title']}: {cns['status']} {cns['outcome'] or ''} after {cns['after']}")


@exercise_app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    players: Annotated[Path | None, typer.Option(help="Scripted players file to check as well.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Check a scenario (and a players file): every problem with its line and field."""
    from orbitwatch.exercise.players import load_players
    from orbitwatch.exercise.scenario import load_scenario

    try:
        sc = load_scenario(scenario)
        if players is not None:
            load_players(players)
    except ValidationError as exc:
        errors = getattr(exc, "errors", None) or [exc]
        if json_out:
            emit_json({"ok": False, "errors": [e.as_dict() for e in errors]})
        else:
            _print_errors(exc)
        raise typer.Exit(1) from None
    info = {"ok": True, "name": sc.exercise.name, "participants": sc.nations, "objects": sorted(sc.objects),
            "injects": [i.id for i in sc.msel], "objectives": [o.id for o in sc.objectives],
            "red_cell": bool(sc.red_cell)}
    if json_out:
        emit_json(info)
    else:
        console.print(f"[green]OK[/] {scenario}: '{sc.exercise.name}', {len(sc.nations)} nations, "
                      f"{len(sc.msel)} injects, {len(sc.objectives)} objectives"
                      + (", red cell" if sc.red_cell else ""), highlight=False)


@exercise_app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    demo: Annotated[bool, typer.Option("--demo", help="Play on the bundled demo catalogue.")] = False,
    catalog: Annotated[list[Path] | None, typer.Option("--catalog", help="Catalogue file(s) (TLE/3LE/OMM; "
                                                                         "gzip ok). Default: the store.")] = None,
    satcat: Annotated[list[Path] | None, typer.Option("--satcat", help="SATCAT file(s) for owners/types.")]
    = None,
    players: Annotated[Path | None, typer.Option(help="Scripted player responses (headless play).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop at this time (e.g. T+24h); default ENDEX.")] = None,
    step: Annotated[str | None, typer.Option(help="Override the scenario's step (e.g. 30m).")] = None,
    lookahead: Annotated[str | None, typer.Option(help="Override the detection look-ahead.")] = None,
    name: Annotated[str | None, typer.Option(help="Exercise name (default: the scenario's).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the after-action report (HTML, PDF, JSON) here.")]
    = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Create an exercise from SCENARIO and play it headless to ENDEX (or --until)."""
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.times import parse_time

    try:
        engine = _engine(db)
        cat = _catalog(demo, catalog, satcat, engine)
        overrides = {k: v for k, v in (("step", step), ("lookahead", lookahead)) if v}
        ex = Exercise.create(engine, scenario, cat, players=_players(players), overrides=overrides, name=name,
                             created_by="cli")
        target = parse_time(until, ex.start_ts) if until else None
        if not json_out:
            err_console.print(f"exercise {ex.eid} created on {cat.description}; playing "
                              f"{ex.scenario.exercise.duration} in {ex.step_s / 60:.0f}-minute steps ...")
        ex.run(until=target)
        summary = _summary(ex)
        if report is not None:
            from orbitwatch.exercise.report import write_report

            summary["report"] = {k: str(v) for k, v in write_report(ex, report).items()}
    except ValidationError as exc:
        _print_errors(exc)
        raise typer.Exit(1) from None
    except OrbitwatchError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if json_out:
        emit_json(summary)
    else:
        _show(summary)
        if "report" in summary:
            console.print(f"  report: {summary['report']['html']}, {summary['report']['pdf']}", highlight=False)


@exercise_app.command()
def status(
    scenario: Annotated[str, typer.Argument(help="Scenario file, exercise id or exercise name.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Where an exercise stands: clock, injects, counts, headline metrics."""
    from orbitwatch.exercise.engine import Exercise

    engine = _engine(db)
    try:
        ex = Exercise.load(engine, _exercise_id(engine, scenario))
    except OrbitwatchError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    summary = _summary(ex)
    if json_out:
        emit_json(summary)
    else:
        _show(summary)


@exercise_app.command()
def step(
    scenario: Annotated[str, typer.Argument(help="Scenario file, exercise id or exercise name.")],
    n: Annotated[int, typer.Option("-n", "--steps", min=1, help="Number of steps.")] = 1,
    to: Annotated[str | None, typer.Option(help="Advance to this time instead (e.g. T+12h).")] = None,
    players: Annotated[Path | None, typer.Option(help="Scripted player responses.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """White cell: advance an exercise by N steps (or to a time)."""
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.times import parse_time

    engine = _engine(db)
    try:
        ex = Exercise.load(engine, _exercise_id(engine, scenario), players=_players(players))
        done = ex.advance_to(parse_time(to, ex.start_ts)) if to else ex.step(n)
        ex.flush()
    except OrbitwatchError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    summary = {**_summary(ex), "steps": done}
    if json_out:
        emit_json(summary)
    else:
        console.print(f"advanced {done} step(s)")
        _show(summary)


@exercise_app.command()
def report(
    scenario: Annotated[str, typer.Argument(help="Scenario file, exercise id or exercise name.")],
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("aar"),
    gnss: Annotated[bool, typer.Option(help="Compute GNSS availability (a few seconds).")] = True,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Write the after-action report / improvement plan (HTML, PDF, metrics JSON)."""
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.report import write_report

    engine = _engine(db)
    try:
        ex = Exercise.load(engine, _exercise_id(engine, scenario))
        paths = write_report(ex, out, gnss=gnss)
    except OrbitwatchError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if json_out:
        emit_json({k: str(v) for k, v in paths.items()})
    else:
        console.print(f"wrote {paths['html']}, {paths['pdf']}, {paths['json']}", highlight=False)


@exercise_app.command()
def act(
    scenario: Annotated[str, typer.Argument(help="Scenario file, exercise id or exercise name.")],
    nation: Annotated[str, typer.Option(help="Acting nation (trigraph).")],
    kind: Annotated[str, typer.Option(help="acknowledge, release, tasking, manoeuvre, notify, demarche, "
                                           "propose, vote, break_silence, comment")],
    payload: Annotated[str, typer.Option(help="Action fields as JSON, e.g. '{\"alert\": 3, \"to\": \"all\"}'.")]
    = "{}",
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """A player action from the command line (the API is the usual way)."""
    from orbitwatch.exercise.engine import Exercise

    engine = _engine(db)
    try:
        body = json.loads(payload)
    except json.JSONDecodeError as exc:
        err_console.print(f"[red]error:[/] --payload is not JSON: {exc}")
        raise typer.Exit(1) from None
    try:
        ex = Exercise.load(engine, _exercise_id(engine, scenario))
        a = ex.act(nation.upper(), kind, body, username="cli")
        ex.flush()
    except OrbitwatchError as exc:
        err_console.print(f"[red]refused:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if json_out:
        emit_json(a.as_dict())
    else:
        console.print_json(json.dumps(a.as_dict(), default=str))


@exercise_app.command()
def clock(
    scenario: Annotated[str, typer.Argument(help="Scenario file, exercise id or exercise name.")],
    mode: Annotated[str, typer.Option(help="paused | realtime | accelerated | stepped")],
    rate: Annotated[float | None, typer.Option(help="Speed-up for accelerated mode (e.g. 60).")] = None,
    db: DbOption = None,
) -> None:
    """White cell: set the exercise clock (kept in the database)."""
    from orbitwatch.exercise.engine import Exercise

    engine = _engine(db)
    try:
        ex = Exercise.load(engine, _exercise_id(engine, scenario))
        ex.set_clock(mode, rate)
    except OrbitwatchError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"clock: {ex.clock.mode} ×{ex.clock.rate}")

