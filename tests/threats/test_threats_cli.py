"""The threat commands end to end: database mode (ingest, detect, alerts, STIX) and file mode."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from orbitwatch.cli import app
from orbitwatch.formats.tle import read_tle

runner = CliRunner()


def _lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.startswith("{")]


def test_manoeuvres_alerts_and_stix_from_database(db_url, shared_data, tmp_path):
    tle = shared_data / "manoeuvre-labels" / "dpshorten-tle-benchmark" / "tle" / "Sentinel-3B.tle.gz"
    r = runner.invoke(app, ["ingest", str(tle), "--db", db_url, "--json",
                            "--marking", "UNCLASSIFIED//REL TO USA, GBR, NOR"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["detect", "manoeuvres", "--norad", "43437", "--since", "2022-06-01", "--json",
                            "--db", db_url])
    assert r.exit_code == 0, r.output
    mans = _lines(r.stdout)
    assert len(mans) >= 3
    for m in mans:
        assert {"norad", "epoch", "start", "end", "kind", "delta_v_mps", "confidence"} <= set(m)
        assert m["start"] <= m["epoch"] <= m["end"] and m["end"] >= "2022-06-01"
    r = runner.invoke(app, ["alerts", "list", "--json", "--db", db_url, "--kind", "manoeuvre"])
    alerts = _lines(r.stdout)
    assert len(alerts) == len(mans)
    assert all(a["releasable_to"] == ["USA", "GBR", "NOR"] for a in alerts)  # derived from the elsets
    out = tmp_path / "bundle.json"
    r = runner.invoke(app, ["alerts", "export-stix", "--db", db_url, "--out", str(out)])
    assert r.exit_code == 0, r.output
    bundle = json.loads(out.read_text())
    assert bundle["type"] == "bundle"
    assert sum(o["type"] == "x-orbitwatch-space-event" for o in bundle["objects"]) == len(alerts)
    # running again updates the same alerts instead of duplicating them
    runner.invoke(app, ["detect", "manoeuvres", "--norad", "43437", "--since", "2022-06-01", "--db", db_url])
    r = runner.invoke(app, ["alerts", "list", "--json", "--db", db_url])
    assert len(_lines(r.stdout)) == len(alerts)


def _write_3le(path, elsets):
    with open(path, "w") as fh:
        for es in elsets:
            fh.write(f"0 {es.object_name or es.norad_id}\n{es.original.strip()}\n")


def test_proximity_from_files(shared_data, tmp_path):
    from orbitwatch.formats import read_path

    snap = (shared_data / "tle-history" / "celestrak_active_tle_snapshots_2025-11-10_to_2026-03-04"
            / "active_2025-11-10.tle.gz")
    keep = {25544, 49044, 63520, 65077, 48274}
    els = [r for r in read_path(snap).records if getattr(r, "norad_id", None) in keep]
    cat = tmp_path / "iss.tle"
    _write_3le(cat, els)
    start = min(e.epoch for e in els).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = runner.invoke(app, ["detect", "proximity", "--catalog", str(cat), "--asset", "25544", "--start", start,
                            "--days", "0.05", "--json"])
    assert r.exit_code == 0, r.output
    evs = _lines(r.stdout)
    assert {e["object"] for e in evs} == {49044, 63520, 65077}
    for e in evs:
        assert {"asset", "object", "state", "closest_km", "tca", "relative_speed_kms", "sustained"} <= set(e)
        assert e["state"] == "DETECTED" and e["closest_km"] < 0.01


def test_proximity_start_default_warns_on_old_data(shared_data, tmp_path):
    with gzip.open(shared_data / "history" / "25544.tle.gz", "rt") as fh:
        sets = [x for x in read_tle(fh) if not hasattr(x, "reason")][-2:]
    cat = tmp_path / "iss.tle"
    _write_3le(cat, sets)
    r = runner.invoke(app, ["detect", "proximity", "--catalog", str(cat), "--asset", "25544", "--days", "0.01",
                            "--json"])
    assert r.exit_code == 0, r.output
    assert "more than 3 days from now" in r.stderr


@pytest.mark.slow
def test_breakups_and_norms_report_from_files(shared_data, tmp_path):
    hist = shared_data / "history"
    sets = []
    for p in [hist / "13552.tle.gz"] + sorted(hist.glob("49[56]*.tle.gz")):
        with gzip.open(p, "rt") as fh:
            sets += [x for x in read_tle(fh) if not hasattr(x, "reason")]
    cat = tmp_path / "c1408.tle"
    _write_3le(cat, sets)
    # the real SATCAT rows of this launch only (header + 1982-092 pieces), to keep the test quick
    with gzip.open(shared_data / "satcat" / "celestrak_satcat_processed_2025-03-06.csv.gz", "rt") as fh:
        rows = fh.read().splitlines()
    satcat = tmp_path / "satcat.csv"
    satcat.write_text("\n".join([rows[0]] + [x for x in rows[1:] if "1982-092" in x]) + "\n")
    r = runner.invoke(app, ["detect", "breakups", "--catalog", str(cat), "--satcat", str(satcat), "--json",
                            "--min-fragments", "10", "--plots", str(tmp_path)])
    assert r.exit_code == 0, r.output
    ev = next(e for e in _lines(r.stdout) if e["designator"] == "1982-092")
    assert {"parent", "designator", "epoch", "fragments", "kind"} <= set(ev)
    assert ev["parent"] == 13552 and ev["epoch"].startswith("2021-11-15T02:")
    assert ev["gabbard_png"]
    r = runner.invoke(app, ["norms", "report", "--catalog", str(cat), "--satcat", str(satcat), "--format", "json",
                            "--actor", "CIS"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)
    rules = {k for a in rep["actors"] for k in a["by_rule"]}
    assert "debris-generating-event" in rules


def test_errors_are_clear(tmp_path):
    r = runner.invoke(app, ["detect", "manoeuvres", "--catalog", str(tmp_path / "none.tle")])
    assert r.exit_code == 2 and "--norad" in r.output
    r = runner.invoke(app, ["detect", "manoeuvres", "--all", "--since", "yesterday", "--catalog",
                            str(tmp_path / "none.tle")])
    assert r.exit_code == 2 and "--since" in r.output
    r = runner.invoke(app, ["detect", "proximity", "--owner", "XYZ", "--catalog", str(tmp_path / "none.tle")])
    assert r.exit_code == 2 and "partner trigraphs" in r.output
