"""Element sets, owners and masses read from the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from orbitwatch.cli import app
from orbitwatch.formats.records import SatcatRecord
from orbitwatch.resilience.catalog import elsets_from_store, load_elsets
from orbitwatch.store.engine import open_engine
from orbitwatch.store.ingest import ingest_records

GROUPS = "catalog/celestrak_gp_omm_csv_2026-08-18"


def test_store_gives_elsets_owners_and_mass(db_url, shared_data):
    gps, _ = load_elsets(shared_data / GROUPS / "gps.csv.gz")
    engine = open_engine(db_url)
    sat = [SatcatRecord(norad_id=e.norad_id, object_name=e.object_name, object_type="PAYLOAD", owner="US",
                        mass_kg=2030.0) for e in gps]
    ingest_records(engine, [*gps, *sat], source="test")
    engine.dispose()
    elsets, owners, facts = elsets_from_store(db_url)
    assert {e.norad_id for e in elsets} == {e.norad_id for e in gps}
    assert set(owners.values()) == {"USA"}
    assert facts[gps[0].norad_id]["mass_kg"] == 2030.0
    runner = CliRunner()
    r = runner.invoke(app, ["simulate", "breakup", "--norad", str(gps[0].norad_id), "--kind", "explosion",
                            "--no-risk", "--json", "--db", db_url])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["parent_mass_kg"] == 2030.0 and out["mass_source"] == "store"
    # explosion: N(>10 cm) = 6·10^1.6 ≈ 239 (Poisson)
    assert 180 < out["fragments_over_10cm"] < 300
    # --store: the fragments join the catalogue as SIMULATED debris with mass and hard-body radius
    r = runner.invoke(app, ["simulate", "breakup", "--norad", str(gps[0].norad_id), "--kind", "explosion",
                            "--no-risk", "--store", "--json", "--db", db_url])
    assert r.exit_code == 0, r.output
    stored = json.loads(r.stdout)["stored"]
    assert stored["accepted"] > 0 and "SIMULATED" in stored["marking"]
    elsets, owners, facts = elsets_from_store(db_url)
    frags = [e for e in elsets if e.norad_id >= 800_000]
    assert len(frags) == json.loads(r.stdout)["element_sets"]
    assert all(facts[e.norad_id]["object_type"] == "DEBRIS" and facts[e.norad_id]["hbr_m"] > 0 for e in frags)
    # a second breakup numbers its fragments after the first one's
    r2 = runner.invoke(app, ["simulate", "breakup", "--norad", str(gps[1].norad_id), "--kind", "explosion",
                             "--no-risk", "--json", "--db", db_url])
    assert json.loads(r2.stdout)["norad_range"][0] == max(e.norad_id for e in frags) + 1


def test_empty_store_says_what_to_do(sqlite_url):
    r = CliRunner().invoke(app, ["simulate", "nuclear", "--lat", "0", "--lon", "0", "--alt-km", "400",
                                 "--yield-kt", "10", "--db", sqlite_url])
    assert r.exit_code != 0
    assert "ingest a catalogue first" in str(r.exception)
