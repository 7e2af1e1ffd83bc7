"""``orbitwatch exercise validate|run|status|step|report|act|clock`` on a small catalogue file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from exercise_fixtures import SCENARIO  # the shared mini scenario of this directory
from typer.testing import CliRunner

from orbitwatch.cli import app
from orbitwatch.demo.generate import generate_demo_catalog, omm_csv, satcat_csv

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    els, sc = generate_demo_catalog()
    keep = [e for e in els if (e.object_name or "").startswith(("SIM EO", "SIM ALLIED", "SIM INSPECTOR"))]
    ids = {e.norad_id for e in keep}
    (tmp_path / "cat.csv").write_text(omm_csv(keep))
    (tmp_path / "satcat.csv").write_text(satcat_csv([s for s in sc if s.norad_id in ids]))
    (tmp_path / "mini.yaml").write_text(SCENARIO)
    return tmp_path


def test_validate_ok_and_errors(tmp_path):
    r = runner.invoke(app, ["exercise", "validate", str(ROOT / "examples" / "shadow.yaml"), "--players",
                            str(ROOT / "examples" / "shadow_players.yaml")])
    assert r.exit_code == 0 and "OK" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.replace("kind: intel_report", "kind: intel").replace("nation: NZL", "nation: NZ"))
    r = runner.invoke(app, ["exercise", "validate", str(bad), "--json"])
    assert r.exit_code == 1
    errs = json.loads(r.stdout)["errors"]
    assert {(e["line"], e["field"]) for e in errs} >= {(16, "participants[2].nation"), (27, "msel[0].kind")}


@pytest.mark.slow
def test_run_status_step_report_act(files):
    db = f"sqlite:///{files / 'ex.sqlite'}"
    common = ["--db", db]
    r = runner.invoke(app, ["exercise", "run", str(files / "mini.yaml"), "--catalog", str(files / "cat.csv"),
                            "--satcat", str(files / "satcat.csv"), "--until", "T+2h", "--json", *common])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert s["elapsed_h"] == 2.0 and s["status"] == "running" and s["injects"]["I-2"] == "fired"
    eid = str(s["id"])
    r = runner.invoke(app, ["exercise", "act", str(files / "mini.yaml"), "--nation", "USA", "--kind", "notify",
                            "--payload", '{"to": "PUBLIC", "about": "inspector", "public": true}', "--json", *common])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["exercise", "step", eid, "-n", "1", "--json", *common])
    assert r.exit_code == 0
    s = json.loads(r.stdout)
    assert s["steps"] == 1 and s["injects"]["I-4"] == "fired"  # the red cell backed off after the call-out
    r = runner.invoke(app, ["exercise", "clock", "Mini-Shadow", "--mode", "accelerated", "--rate", "600", *common])
    assert r.exit_code == 0 and "accelerated" in r.output
    r = runner.invoke(app, ["exercise", "status", str(files / "mini.yaml"), "--json", *common])
    assert json.loads(r.stdout)["clock"] == {"mode": "accelerated", "rate": 600.0}
    r = runner.invoke(app, ["exercise", "report", eid, "--out", str(files / "aar"), "--no-gnss", *common])
    assert r.exit_code == 0, r.output
    assert (files / "aar" / "mini-shadow-aar.pdf").read_bytes().startswith(b"%PDF")
    r = runner.invoke(app, ["exercise", "status", "no-such-exercise", *common])
    assert r.exit_code == 2 and "no exercise" in r.output
