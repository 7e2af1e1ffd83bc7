"""Scenario files: the shipped examples validate; every kind of mistake is reported with its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from orbitwatch.errors import ValidationError
from orbitwatch.exercise.players import load_players
from orbitwatch.exercise.scenario import ScenarioError, load_scenario
from orbitwatch.exercise.times import human_duration, offset_label, parse_duration, parse_time

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

MINIMAL = """\
exercise:
  name: Mini
  duration: 6h
participants:
  - nation: USA
msel:
  - id: I-1
    at: T+1h
    kind: news
    title: hello
"""


@pytest.mark.parametrize("name", ["shadow", "belt"])
def test_examples_validate(name):
    sc = load_scenario(EXAMPLES / f"{name}.yaml")
    assert len(sc.nations) == 10
    assert sc.red_cell is not None
    pf = load_players(EXAMPLES / f"{name}_players.yaml")
    assert pf.players


def test_minimal_scenario_defaults():
    sc = load_scenario("mini.yaml", text=MINIMAL)
    assert sc.exercise.step == "10m"
    assert str(sc.marking) == "UNCLASSIFIED//REL TO USA, AUS, CAN, DEU, FRA, GBR, ITA, JPN, NOR, NZL//EXERCISE"
    assert sc.blue_nations == ["USA"]


def _errors(text: str) -> list[ValidationError]:
    with pytest.raises(ScenarioError) as ei:
        load_scenario("bad.yaml", text=text)
    return ei.value.errors


def _one(text: str) -> ValidationError:
    errs = _errors(text)
    assert len(errs) >= 1
    return errs[0]


def test_bad_duration_names_line_and_field():
    e = _one(MINIMAL.replace("duration: 6h", "duration: 6 hours"))
    assert (e.file, e.line, e.field) == ("bad.yaml", 3, "exercise.duration")
    assert "expected a duration like" in e.reason
    assert str(e).startswith("bad.yaml:3: field 'exercise.duration'")


def test_unknown_field_is_refused_with_its_line():
    e = _one(MINIMAL.replace("    title: hello", "    title: hello\n    colour: red"))
    assert e.line == 11 and e.field == "msel[0].colour"
    assert "unknown field" in e.reason


def test_unknown_nation():
    e = _one(MINIMAL.replace("nation: USA", "nation: USB"))
    assert e.line == 5 and e.field == "participants[0].nation" and "unknown nation 'USB'" in e.reason


def test_unknown_inject_kind_points_at_kind():
    e = _one(MINIMAL.replace("kind: news", "kind: newz"))
    assert e.field == "msel[0].kind" and e.line == 9 and "unknown inject kind 'newz'" in e.reason


def test_marking_must_be_exercise():
    e = _one(MINIMAL.replace("  duration: 6h", "  duration: 6h\n  marking: SECRET//REL TO USA"))
    assert e.field == "exercise.marking" and "EXERCISE" in e.reason


def test_reference_errors_are_all_reported():
    text = MINIMAL + """\
  - id: I-2
    after: [I-9]
    kind: manoeuvre
    object: ghost
    dv_rtn_mps: [0, 1, 0]
  - id: I-1
    at: T+2h
    kind: news
"""
    errs = _errors(text)
    reasons = {(e.field, e.line): e.reason for e in errs}
    assert any("unknown inject 'I-9'" in r for r in reasons.values())
    assert any("unknown object 'ghost'" in r for r in reasons.values())
    dup = [e for e in errs if "used twice" in e.reason]
    assert dup and dup[0].line == 16 and dup[0].field == "msel[2].id"


def test_dependency_cycle():
    text = MINIMAL + """\
  - id: A
    after: [B]
    kind: news
  - id: B
    after: [A]
    kind: news
"""
    assert any("dependency cycle" in e.reason for e in _errors(text))


def test_manoeuvre_needs_exactly_one_plan():
    text = MINIMAL.replace("objects: {}", "") + """\
  - id: M
    at: T+1h
    kind: manoeuvre
    object: "900001"
"""
    e = [x for x in _errors(text) if x.field and x.field.startswith("msel[1]")][0]
    assert "exactly one of 'dv_rtn_mps'" in e.reason and e.line == 11 and e.field == "msel[1]"


def test_red_cell_inject_needs_a_rule():
    text = MINIMAL + """\
  - id: R
    kind: news
    red_cell: true
"""
    assert any("no 'red_cell' section" in e.reason for e in _errors(text))


def test_yaml_syntax_error_has_a_line():
    with pytest.raises(ValidationError) as ei:
        load_scenario("bad.yaml", text="exercise:\n  name: [unclosed\n")
    assert ei.value.line is not None and "YAML syntax" in ei.value.reason


def test_duplicate_key_is_refused():
    with pytest.raises(ValidationError) as ei:
        load_scenario("bad.yaml", text=MINIMAL.replace("  name: Mini", "  name: Mini\n  name: Other"))
    assert ei.value.line == 3 and "appears twice" in ei.value.reason


def test_players_file_errors_name_the_line():
    with pytest.raises(ValidationError) as ei:
        load_players("p.yaml", text="players:\n  - nations: all\n    when: {alert: proximity}\n    after: 5x\n"
                                    "    do: {action: acknowledge}\n")
    assert ei.value.line == 2 and "duration" in ei.value.reason


def test_times():
    start = 1_800_000_000.0
    assert parse_duration("2h30m") == 9000.0
    assert parse_duration("PT1H15M") == 4500.0
    assert parse_duration("1d") == 86400.0
    assert parse_time("T+90m", start) == start + 5400.0
    assert parse_time("T-1h", start) == start - 3600.0
    assert parse_time("2027-01-15T12:00:00Z", start) == 1_800_014_400.0
    assert offset_label(start + 93_600 + 300, start) == "T+1d02h05m"
    assert human_duration(5400) == "1h30m"
    with pytest.raises(ValidationError):
        parse_duration("-5m")
    with pytest.raises(ValidationError):
        parse_time("tomorrow", start)
