"""Both shipped scenarios, headless end to end on the bundled demo catalogue with scripted players,
down to the after-action report (HTML and PDF, the marking banner on every page)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orbitwatch.exercise.catalog import demo_catalog
from orbitwatch.exercise.engine import Exercise
from orbitwatch.exercise.players import ScriptedPlayers, load_players
from orbitwatch.exercise.report import write_report
from orbitwatch.store import open_engine

ROOT = Path(__file__).resolve().parents[2]
EX = ROOT / "examples"
BANNER = "UNCLASSIFIED//REL TO USA, AUS, CAN, DEU, FRA, GBR, ITA, JPN, NOR, NZL//EXERCISE"


@pytest.fixture(scope="module")
def demo():
    return demo_catalog()


def _run(tmp_path, cat, name: str, gnss: bool):
    db = open_engine(f"sqlite:///{tmp_path / 'ex.sqlite'}")
    players = ScriptedPlayers(load_players(EX / f"{name}_players.yaml"))
    # Coarse steps keep the run short; the detectors still see every event (their windows are exact).
    ex = Exercise.create(db, EX / f"{name}.yaml", cat, players=players, overrides={"step": "30m"})
    ex.run()
    paths = write_report(ex, tmp_path / "aar", gnss=gnss)
    return ex, paths


def _pdf_banner_on_every_page(ex, tmp_path, monkeypatch) -> None:
    from orbitwatch.exercise import report

    drawn = []
    real = report._banner
    monkeypatch.setattr(report, "_banner", lambda fig, banner: (drawn.append(banner), real(fig, banner)))
    path = report.render_pdf(ex, tmp_path / "again.pdf", report.context(ex, gnss=False))
    pages = len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))
    assert drawn == [BANNER] * pages


def _check_report(paths, name: str) -> dict:
    html = paths["html"].read_text()
    assert html.count(BANNER) >= 3  # top and bottom page furniture, and the closing line
    assert "data:image/png;base64," in html
    for section in ("Objectives and ratings", "Timeline", "Time to detect", "Decision latency",
                    "Time to consensus", "Service availability", "Strengths", "Areas for improvement",
                    "Improvement plan"):
        assert section in html
    pdf = paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 4
    return json.loads(paths["json"].read_text())


@pytest.mark.slow
def test_shadow_end_to_end(tmp_path, demo, monkeypatch):
    ex, paths = _run(tmp_path, demo, "shadow", gnss=True)
    _pdf_banner_on_every_page(ex, tmp_path, monkeypatch)
    assert ex.status == "ended"
    st = {k: v.status for k, v in ex.injects.items()}
    assert st["I-02"] == "fired" and st["I-06"] == "fired" and st["I-07"] == "fired"
    assert st["I-03"] == "cancelled"  # the USA notified in time: no press inject
    # Players discovered the approach from their own detections, not a scripted message.
    first = min((a for a in ex.alerts if "I-02" in a.causes), key=lambda a: a.sim_ts)
    assert first.nation == "USA" and first.kind in ("manoeuvre", "proximity")
    assert first.sim_ts - ex.injects["I-02"].fired_at == 20 * 60  # the US LEO sensor latency
    # NZL has no sensors: everything it knows about the inspector came from releases.
    nzl = [d for d in ex.deliveries if d.nation == "NZL" and d.item_type == "alert"
           and "I-02" in ex.alert_by_id[d.item_id].causes]
    assert nzl and min(d.sim_ts for d in nzl) >= first.sim_ts
    # The joint statement was adopted under the silence procedure; the red cell backed off.
    (p,) = ex.proposals.values()
    assert (p.status, p.outcome, p.rule) == ("adopted", "joint-statement", "silence")
    assert st["I-05"] == "fired" and st["I-04"] == "cancelled"
    # The USA's evasive manoeuvre made the red cell escalate to jamming.
    assert st["I-08"] == "fired" and any(a.kind == "jamming" for a in ex.alerts)
    # The ASAT test was detected as a breakup by everyone with LEO sensors.
    assert {a.nation for a in ex.alerts if a.kind == "breakup"} >= {"USA", "GBR", "FRA", "DEU"}
    m = _check_report(paths, "shadow")
    det = {d["inject"]: d for d in m["detection"]}
    assert det["I-02"]["time_to_detect_s"] == 1200 and det["I-02"]["never_informed"] == []
    assert {o["id"] for o in m["objectives"]} == {"OBJ-1", "OBJ-2", "OBJ-3", "OBJ-4"}
    assert all(o["rating"] in "PSMU" for o in m["objectives"])
    assert m["consensus"][0]["time_to_consensus_s"] == 8 * 3600
    assert m["service"]["gnss"]["DEU"]["worst"] < m["service"]["gnss"]["DEU"]["before"]


@pytest.mark.slow
def test_belt_end_to_end(tmp_path, demo):
    ex, paths = _run(tmp_path, demo, "belt", gnss=True)
    assert ex.status == "ended"
    st = {k: v.status for k, v in ex.injects.items()}
    assert st["I-04"] == "fired" and st["I-05"] == "fired"
    assert st["I-02"] == "cancelled"  # warned in time
    assert st["I-07"] == "pending" and ex.red_fired["escalate-unless-attributed"]["result"].startswith("stood")
    nudet = [a for a in ex.alerts if a.kind == "nudet"]
    assert [a.nation for a in nudet] == ["USA"]  # only the USA has NUDET sensors
    assert ex.world.status[ex.world.roles["device"]].state == "destroyed"
    m = _check_report(paths, "belt")
    det = {d["inject"]: d for d in m["detection"]}
    assert det["I-04"]["time_to_detect_s"] == 60
    assert det["I-04"]["time_to_share_s"] == 40 * 60  # the USA released its detection after 40 min
    assert det["I-05"]["never_informed"] == []
    cons = m["consensus"][0]
    assert cons["status"] == "adopted" and cons["outcome"] == "joint-attribution" and "NOR" in cons["caveats"]
    g = m["service"]["gnss"]
    assert g["DEU"]["jammed_share"] > 0.05 and g["DEU"]["worst"] < g["DEU"]["before"]
    assert g["USA"]["jammed_share"] == 0.0
    inj = next(i for i in m["injects"] if i["id"] == "I-04")
    assert inj["result"]["model"] in ("orbitwatch.effects.nuclear", "built-in")
