"""``orbitwatch simulate``: JSON contracts the exercise engineer and analysts rely on."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from orbitwatch.cli import app

runner = CliRunner()


def _catalog(tmp_path, shared_data):
    """Cosmos 1408 before the test plus a few allied payloads from the 2022 catalogue (3LE)."""
    with gzip.open(shared_data / "history" / "13552.tle.gz", "rt") as fh:
        lines = fh.read().splitlines()[:3]
    keep = {"0 ISS (ZARYA)", "0 LANDSAT 8", "0 STARLINK-1007"}
    with gzip.open(shared_data / "catalog" / "spacetrack_full_catalog_3le_2022-07-14.txt.gz", "rt") as fh:
        rows = fh.read().splitlines()
    for i, line in enumerate(rows):
        if line.strip() in keep:
            lines += rows[i:i + 3]
    path = tmp_path / "cat.tle"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_breakup_json_and_plots(tmp_path, shared_data):
    cat = _catalog(tmp_path, shared_data)
    r = runner.invoke(app, ["simulate", "breakup", "--norad", "13552", "--kind", "asat", "--mass-kg", "2200",
                            "--epoch", "2021-11-15T02:47:00", "--catalog", str(cat), "--days", "0.25",
                            "--plot-dir", str(tmp_path / "p"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["parent_mass_kg"] == 2200 and out["data_mode"] == "SIMULATED"
    assert 1200 < out["fragments_over_10cm"] < 2200
    assert out["fragments_over_1cm"] > 20 * out["fragments_over_10cm"]
    risk = out["risk"]
    assert risk["available"] and risk["assets_screened"] == 2
    assert risk["by_nation"]["USA"]["assets"] == 2  # Landsat 8, Starlink-1007 (the ISS is INT)
    for a in risk["assets"]:
        assert {"norad_id", "added_conjunctions", "summed_pc"} <= set(a)
    assert (tmp_path / "p" / "gabbard.png").stat().st_size > 10_000
    assert (tmp_path / "p" / "altitude_density.png").stat().st_size > 10_000


def test_breakup_writes_omm_that_reads_back(tmp_path, shared_data):
    from orbitwatch.resilience.catalog import load_elsets

    cat = _catalog(tmp_path, shared_data)
    r = runner.invoke(app, ["simulate", "breakup", "--norad", "13552", "--kind", "explosion", "--mass-kg", "2200",
                            "--catalog", str(cat), "--no-risk", "--out", str(tmp_path / "frags.csv"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    back, errors = load_elsets(tmp_path / "frags.csv")
    assert not errors and len(back) == out["element_sets"]
    assert min(e.norad_id for e in back) == 800_000


def test_breakup_unknown_object(tmp_path, shared_data):
    cat = _catalog(tmp_path, shared_data)
    r = runner.invoke(app, ["simulate", "breakup", "--norad", "1", "--catalog", str(cat), "--json"])
    assert r.exit_code != 0
    assert "object 1 is not in the catalogue" in str(r.exception)


def test_jamming_json(tmp_path):
    r = runner.invoke(app, ["simulate", "jamming", "--lat", "51", "--lon", "0", "--eirp-dbw", "10", "--json",
                            "--plot", str(tmp_path / "j.png")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["radio_horizon_km"] == 18.9 and out["denied_area_km2"] > 900
    assert (tmp_path / "j.png").exists()


def test_nuclear_json(tmp_path, shared_data):
    src = shared_data / "catalog" / "celestrak_gp_omm_csv_2026-08-18" / "oneweb.csv.gz"
    r = runner.invoke(app, ["simulate", "nuclear", "--lat", "16.7", "--lon", "-169.5", "--alt-km", "400",
                            "--yield-kt", "1400", "--catalog", str(src), "--json", "--plot", str(tmp_path / "a.png")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    att = out["attrition"]
    assert att["GBR"]["satellites"] == 651
    assert att["ALL"]["30"] <= att["ALL"]["90"] <= att["ALL"]["365"]
    assert out["lost_services_365"][0]["constellation"] == "ONEWEB"
    assert (tmp_path / "a.png").exists()
