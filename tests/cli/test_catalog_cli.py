"""The ``ingest`` and ``catalog`` commands as a user or a script sees them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from orbitwatch.cli import app

runner = CliRunner()

GOOD = ("0 ISS (ZARYA)\n"
        "1 25544U 98067A   23282.51041667  .00016717  00000-0  30306-3 0  9994\n"
        "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.49815350420051\n")
BAD = ("0 BROKEN\n"
       "1 25545U 98067A   23282.51041667  .00016717  00000-0  30306-3 0  9990\n"
       "2 25545  51.6416 247.4627 0006703 130.5360 325.0288 15.49815350420051\n")


def test_ingest_json_reports_counts_and_each_error_and_fails_when_anything_was_rejected(tmp_path, sqlite_url):
    f = tmp_path / "mixed.tle"
    f.write_text(GOOD + BAD)
    result = runner.invoke(app, ["ingest", str(f), "--json", "--db", sqlite_url, "--source", "test"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (1, 0, 1)
    err = out["errors"][0]
    assert err["file"] == str(f) and err["line"] == 5 and err["field"] == "checksum"
    again = runner.invoke(app, ["ingest", str(f), "--json", "--db", sqlite_url])
    assert json.loads(again.stdout)["duplicates"] == 1


def test_ingest_refuses_a_marking_that_excludes_the_contributing_nation(tmp_path, sqlite_url):
    f = tmp_path / "good.tle"
    f.write_text(GOOD)
    result = runner.invoke(app, ["ingest", str(f), "--nation", "FRA", "--marking", "SECRET//REL TO USA, GBR",
                                 "--db", sqlite_url])
    assert result.exit_code == 2
    assert "does not include the originator FRA" in result.output


def test_catalog_show_history_and_export_round_trip(tmp_path, sqlite_url):
    f = tmp_path / "good.tle"
    f.write_text(GOOD)
    assert runner.invoke(app, ["ingest", str(f), "--db", sqlite_url]).exit_code == 0
    shown = json.loads(runner.invoke(app, ["catalog", "show", "25544", "--json", "--db", sqlite_url]).stdout)
    assert shown["name"] == "ISS (ZARYA)" and shown["latest_element_set"]["inclination"] == 51.6416
    exported = runner.invoke(app, ["catalog", "export", "-o", "tle", "--db", sqlite_url]).stdout
    lines = exported.strip().splitlines()
    assert lines[0] == "0 ISS (ZARYA)"
    assert lines[2] == GOOD.splitlines()[2]
    hist = runner.invoke(app, ["catalog", "history", "25544", "--json", "--db", sqlite_url]).stdout
    assert [json.loads(x)["epoch"][:19] for x in hist.strip().splitlines()] == ["2023-10-09T12:15:00"]
    missing = runner.invoke(app, ["catalog", "show", "99999", "--db", sqlite_url])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_catalog_list_filters_by_partner_owner(tmp_path, sqlite_url):
    sat = tmp_path / "satcat.csv"
    sat.write_text("OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE,OPS_STATUS_CODE,OWNER,LAUNCH_DATE,LAUNCH_SITE,"
                   "DECAY_DATE,PERIOD,INCLINATION,APOGEE,PERIGEE,RCS,DATA_STATUS_CODE,ORBIT_CENTER,ORBIT_TYPE\n"
                   "ISS (ZARYA),1998-067A,25544,PAY,+,ISS,1998-11-20,TYMSC,,92.9,51.64,420,415,399.05,,EA,ORB\n"
                   "SKYNET 5A,2007-007B,30794,PAY,+,UK,2007-03-11,FRGUI,,1436.1,4.5,35800,35770,,,EA,ORB\n")
    result = runner.invoke(app, ["ingest", str(sat), "--json", "--db", sqlite_url])
    assert json.loads(result.stdout)["accepted"] == 2, result.output
    rows = [json.loads(x) for x in runner.invoke(app, ["catalog", "list", "--owner", "GBR", "--json",
                                                        "--db", sqlite_url]).stdout.splitlines()]
    assert [r["norad_id"] for r in rows] == [30794]
    assert rows[0]["regime"] == "GEO" and rows[0]["owner_nation"] == "GBR"
