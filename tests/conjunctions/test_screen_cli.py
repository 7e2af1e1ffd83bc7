"""``orbitwatch screen`` and ``orbitwatch conjunctions`` end to end (typer runner)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from geometry import EPOCH, crossing_pair, elset
from typer.testing import CliRunner

from orbitwatch.cli import app
from orbitwatch.cli.conjunction_cmds import default_start
from orbitwatch.formats.cdm import check_cdm, parse_cdm
from orbitwatch.formats.tle import format_tle, parse_tle
from orbitwatch.markings import Marking
from orbitwatch.store.engine import open_engine
from orbitwatch.store.ingest import ingest_records

runner = CliRunner()
START = "2024-03-01T00:00:00Z"


def _tle_file(tmp_path, elsets):
    path = tmp_path / "cat.tle"
    path.write_text("\n".join(format_tle(e, name_line=True) for e in elsets) + "\n")
    return path


def _pair():
    # through TLE text (as a user's file would be), so the TLE path of the screener is used
    a, b = crossing_pair(3000.0)
    return [parse_tle(*format_tle(e).splitlines(), name=e.object_name) for e in (a, b)]


def test_json_lines(tmp_path):
    path = _tle_file(tmp_path, _pair())
    res = runner.invoke(app, ["screen", "--catalog", str(path), "--days", "0.2", "--threshold-km", "10",
                              "--start", START, "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.strip()]
    assert len(lines) == 7
    for d in lines:
        assert {"norad1", "norad2", "tca", "miss_km", "relative_speed_kms", "r_km", "t_km", "n_km", "pc",
                "pc_max"} <= set(d)
        assert (d["norad1"], d["norad2"]) == (90001, 90002)
        assert d["tca"].endswith("Z") and len(d["tca"]) == len("2024-03-01T00:49:58.138Z")
        assert d["pc"] is not None and d["pc_max"] is not None and d["pc"] <= d["pc_max"]


def test_csv_and_rtn_volume(tmp_path):
    path = _tle_file(tmp_path, _pair())
    res = runner.invoke(app, ["screen", "--catalog", str(path), "--days", "0.2", "--volume", "rtn-ellipsoid",
                              "--rtn", "10,50,10", "--start", START, "--workers", "1", "--csv", "--no-pc"])
    assert res.exit_code == 0, res.output
    rows = res.stdout.strip().splitlines()
    assert rows[0].startswith("norad1,norad2,tca,miss_km")
    assert len(rows) >= 2
    bad = runner.invoke(app, ["screen", "--catalog", str(path), "--volume", "rtn-box", "--start", START])
    assert bad.exit_code == 2 and "--rtn" in bad.output


def test_cdm_dir_writes_valid_cdms(tmp_path):
    path = _tle_file(tmp_path, _pair())
    out = tmp_path / "cdms"
    res = runner.invoke(app, ["screen", "--catalog", str(path), "--days", "0.1", "--threshold-km", "10",
                              "--start", START, "--workers", "1", "--cdm-dir", str(out)])
    assert res.exit_code == 0, res.output
    files = sorted(out.glob("*.cdm"))
    assert len(files) == 3
    cdm = parse_cdm(files[0].read_text())
    assert check_cdm(cdm) == []
    assert abs(cdm.relative["MISS_DISTANCE"] - 9518.05) < 50.0


def test_start_defaults_to_newest_epoch_for_archived_data():
    es = [elset(1, epoch=datetime(2023, 10, 9, 12, tzinfo=UTC))]
    start, warning = default_start(es, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert start == datetime(2023, 10, 9, 12, tzinfo=UTC) and "more than 3 days" in warning
    now = datetime(2023, 10, 10, 6, tzinfo=UTC)
    assert default_start(es, now=now) == (now, None)


def test_store_screen_and_reread(sqlite_url, tmp_path):
    engine = open_engine(sqlite_url)
    pair = _pair()
    ingest_records(engine, pair[:1], marking=Marking.parse("UNCLASSIFIED//REL TO USA, GBR"), source="test")
    ingest_records(engine, pair[1:], marking=Marking.parse("UNCLASSIFIED//REL TO USA, JPN"), source="test")
    res = runner.invoke(app, ["screen", "--db", sqlite_url, "--primary", "90002", "--days", "0.1",
                              "--threshold-km", "10", "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    assert "warning" in res.stderr and "newest element set epoch" in res.stderr
    assert len([x for x in res.stdout.splitlines() if x.strip()]) == 3
    listed = runner.invoke(app, ["conjunctions", "list", "--db", sqlite_url, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(x) for x in listed.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["norad1"] == 90002  # the primary comes first
    assert rows[0]["marking"] == "UNCLASSIFIED//USA EYES ONLY"  # REL TO USA,GBR and USA,JPN intersect
    shown = runner.invoke(app, ["conjunctions", "show", str(rows[0]["id"]), "--db", sqlite_url, "--json"])
    assert json.loads(shown.stdout)["tca"] == rows[0]["tca"]
    assert EPOCH.isoformat()[:10] in rows[0]["tca"]
