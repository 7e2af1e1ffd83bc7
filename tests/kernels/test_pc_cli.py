"""``orbitwatch pc``: CDM files and JSON lines in, one JSON line per conjunction out."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from orbitwatch.cli import pc_cmds

CASE = "cdm-examples/nasa-cara/PcTestCaseCDMs/000025994_conj_000037558_20210324_151047_20210323_154356.cdm"
CASE_PC2D = 0.021173811560368256  # CARA_PcMethod_Test_Conjunctions.xlsx, column Pc2D


@pytest.fixture
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """test root"""

    pc_cmds.register(a)
    return a


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_cdm_files(app, shared_data):
    blue = shared_data / "cdm-examples/ccsds-ndm-blue-book/cdm_example_section4.xml"
    res = CliRunner().invoke(app, ["pc", "--cdm", str(shared_data / CASE), str(blue),
                                   "--monte-carlo", "20000", "--seed", "5"])
    assert res.exit_code == 1  # the Blue Book CDM has no HBR
    first, second = _lines(res.stdout)
    assert first["pc_foster_2d"] == pytest.approx(CASE_PC2D, rel=1e-6)
    assert first["hbr_m"] == 15.0 and first["message_id"].startswith("000025994_conj_000037558")
    assert first["pc_max"] >= first["pc_foster_2d"] and 0 < first["pc_chan"] < 1
    lo, hi = first["pc_monte_carlo_ci95"]
    assert lo <= first["pc_monte_carlo"] <= hi and first["pc_monte_carlo_n"] == 20000
    assert first["warnings"] == []
    assert second["source"].endswith("cdm_example_section4.xml")
    assert "no hard-body radius" in second["error"] and "--hbr" in second["error"]
    ok = CliRunner().invoke(app, ["pc", str(blue), "--hbr", "10"])
    assert ok.exit_code == 0 and _lines(ok.stdout)[0]["hbr_m"] == 10.0


def _conj(miss: float = 50.0) -> dict:
    cov = np.diag([100.0, 1e4, 100.0, 1e-2, 1e-2, 1e-2]).tolist()
    return {"r1": [7e6, 0, 0], "v1": [0, 7500, 0], "cov1": cov, "r2": [7e6 + miss, 0, 0], "v2": [0, 0, 7500],
            "cov2": cov, "hbr": 10}


def test_json_lines_with_errors(app):
    good = _conj()
    good["id"] = "ev-1"
    bad_shape = dict(_conj(), r1=[1, 2])
    lines = "\n".join([json.dumps(good), "not json", json.dumps(bad_shape), "",
                       json.dumps(dict(_conj(), hbr=-1)), json.dumps(_conj(miss=0.0))]) + "\n"
    res = CliRunner().invoke(app, ["pc"], input=lines)
    assert res.exit_code == 1
    out = _lines(res.stdout)
    assert len(out) == 5
    assert out[0]["id"] == "ev-1" and out[0]["line"] == 1 and out[0]["covariance"] == "given (inertial)"
    assert out[0]["pc_foster_2d"] > 0
    assert out[1] == {"line": 2, "error": "line 2: not valid JSON (Expecting value at column 1)"}
    assert out[2]["error"] == "line 3: 'r1' must have shape [3], got [2]"
    assert out[3]["line"] == 5 and "'hbr' must be >= 0" in out[3]["error"]
    assert out[4]["line"] == 6 and out[4]["pc_foster_2d"] > out[0]["pc_foster_2d"]


def test_json_lines_all_good_exit_zero_and_scaling_option(app):
    res = CliRunner().invoke(app, ["pc", "--max-scaling", "secondary"], input=json.dumps(_conj()) + "\n")
    assert res.exit_code == 0
    row = _lines(res.stdout)[0]
    assert row["pc_max_scaling"] == "secondary" and row["pc_max"] >= row["pc_foster_2d"]
    bad = CliRunner().invoke(app, ["pc", "--max-scaling", "sideways"], input="")
    assert bad.exit_code != 0
