"""``orbitwatch resilience``: JSON shape and scenario handling on real constellations."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from orbitwatch.cli import app

runner = CliRunner()
GROUPS = "catalog/celestrak_gp_omm_csv_2026-08-18"


def test_gnss_sets(shared_data):
    cat = shared_data / GROUPS / "gps.csv.gz"
    r = runner.invoke(app, ["resilience", "gnss", "--region", "DEU", "--catalog", str(cat), "--hours", "2",
                            "--step-s", "600", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["systems_present"] == ["GPS"]
    gps = out["sets"]["GPS"]
    assert gps["availability"] > 0.99 and 1.2 < gps["pdop_median"] < 2.6


def test_gnss_without_list(shared_data, tmp_path):
    cat = shared_data / GROUPS / "gps.csv.gz"
    lost = "26407,27663,28474,28874,29486,29601,32260,32384,32711,35752,36585,37753,38833,39166,39533,39741"
    (tmp_path / "ids.txt").write_text(lost.replace(",", "\n"))
    r = runner.invoke(app, ["resilience", "gnss", "--region", "GBR", "--catalog", str(cat), "--hours", "2",
                            "--step-s", "600", "--without", f"@{tmp_path / 'ids.txt'}", "--json",
                            "--plot", str(tmp_path / "g.png")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["scenario"] == {"kind": "list", "file": str(tmp_path / "ids.txt"), "count": 16}
    usa = out["nations"]["USA"]
    assert usa["taxonomy_after"]["proliferation_serving"] < usa["taxonomy_before"]["proliferation_serving"]
    assert usa["after"]["availability"] <= usa["before"]["availability"]
    assert out["nations"]["NZL"]["systems"] == []
    assert (tmp_path / "g.png").exists()


def test_coverage_oneweb_alone_vs_pooled(shared_data, tmp_path):
    cat = shared_data / GROUPS / "oneweb.csv.gz"
    r = runner.invoke(app, ["resilience", "coverage", "--region", "GBR", "--catalog", str(cat), "--hours", "2",
                            "--step-s", "300", "--min-elevation", "25", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    gbr = out["nations"]["GBR"]
    assert gbr["satellites"] == 651 and out["coalition"]["satellites"] == 651
    assert gbr["before"]["percent_coverage"] > 90
    assert gbr["taxonomy_before"]["diversification_providers"] == 1
    assert out["nations"]["USA"]["satellites"] == 0


def test_bad_without_is_a_clear_error(shared_data):
    cat = shared_data / GROUPS / "gps.csv.gz"
    r = runner.invoke(app, ["resilience", "gnss", "--region", "DEU", "--catalog", str(cat), "--without",
                            "nuclear:1,2", "--json"])
    assert r.exit_code != 0
    assert "--without 'nuclear:1,2'" in str(r.exception)
