"""skyfield and python-sgp4 read the CelesTrak-compatible endpoint (TLE, XML, CSV, JSON) from a live node
and propagate what they read; anonymous callers get only public records."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
from sgp4 import omm
from sgp4.api import Satrec
from skyfield.api import EarthSatellite, Loader, load


def _get(node, path: str, user: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {node.tokens[user]}"} if user else {}
    return httpx.get(node.base + path, headers=headers, timeout=60)


def test_skyfield_tle_file_anonymous_reads_only_public(interop_node, tmp_path):
    node = interop_node
    loader = Loader(str(tmp_path))
    sats = loader.tle_file(f"{node.base}/NORAD/elements/gp.php?GROUP=active&FORMAT=TLE", filename="active.tle")
    public = node.slices[0]
    assert sats and {s.model.satnum for s in sats} <= public
    body = _get(node, "/NORAD/elements/gp.php?GROUP=active&FORMAT=TLE", "analyst-gbr").text
    assert len(body.splitlines()) >= 3 * len(sats)  # GBR reads more than the public
    ts = load.timescale()
    t = ts.utc(2023, 10, 10)
    for s in sats[:20]:
        assert np.all(np.isfinite(s.at(t).position.km))


def test_skyfield_reads_a_restricted_download(interop_node, tmp_path):
    # skyfield's downloader cannot send a token (urlopen with its own TLS context), so restricted data is
    # fetched with the token and the file handed to skyfield - which must parse it as CelesTrak's.
    node = interop_node
    path = tmp_path / "iss.tle"
    path.write_bytes(_get(node, "/NORAD/elements/gp.php?CATNR=25544&FORMAT=3LE", "analyst-gbr").content)
    sats = load.tle_file(str(path))
    assert [s.model.satnum for s in sats] == [25544]
    assert sats[0].epoch.utc_datetime().year == 2024  # the newest set GBR may read: end of the 5-year history


def _tle_satrecs(text: str) -> dict[int, Satrec]:
    lines = text.splitlines()
    out = {}
    for i in range(0, len(lines) - 2, 3):
        s = Satrec.twoline2rv(lines[i + 1], lines[i + 2])
        out[s.satnum] = s
    return out


def test_sgp4_omm_parsers_read_csv_and_xml_and_agree_with_tle(interop_node):
    node = interop_node
    ids = ",".join(str(i) for i in sorted(node.slices[1])[:25])
    tle = _tle_satrecs(_get(node, f"/NORAD/elements/gp.php?CATNR={ids}&FORMAT=TLE", "analyst-gbr").text)
    assert len(tle) == 25
    csv_text = _get(node, f"/NORAD/elements/gp.php?CATNR={ids}&FORMAT=CSV", "analyst-gbr").text
    xml_text = _get(node, f"/NORAD/elements/gp.php?CATNR={ids}&FORMAT=XML", "analyst-gbr").text
    for fields in [*omm.parse_csv(io.StringIO(csv_text)), *omm.parse_xml(io.BytesIO(xml_text.encode()))]:
        sat = Satrec()
        omm.initialize(sat, fields)
        ref = tle[sat.satnum]
        for minutes in (0.0, 720.0, 1440.0):
            jd, fr = ref.jdsatepoch, ref.jdsatepochF + minutes / 1440.0
            e1, r1, _ = sat.sgp4(jd, fr)
            e2, r2, _ = ref.sgp4(jd, fr)
            assert e1 == e2 == 0
            # OMM carries the elements at full precision, the TLE rounded to its columns: metres apart.
            assert np.linalg.norm(np.subtract(r1, r2)) < 0.05, sat.satnum


def test_skyfield_from_omm_json(interop_node):
    node = interop_node
    ts = load.timescale()
    rows = json.loads(_get(node, "/NORAD/elements/gp.php?CATNR=5&FORMAT=JSON", "analyst-gbr").text)
    sat = EarthSatellite.from_omm(ts, rows[0])
    assert sat.model.satnum == 5 and sat.name == "VANGUARD 1"
    assert np.all(np.isfinite(sat.at(ts.utc(2023, 10, 9)).position.km))
    pretty = json.loads(_get(node, "/NORAD/elements/gp.php?CATNR=5&FORMAT=JSON-PRETTY", "analyst-gbr").text)
    assert pretty == rows


def test_celestrak_shapes(interop_node):
    node = interop_node
    assert _get(node, "/NORAD/elements/gp.php?CATNR=99999999").text == "No GP data found"
    secret = sorted(node.slices[2])[0]
    assert _get(node, f"/NORAD/elements/gp.php?CATNR={secret}").text == "No GP data found"  # not public
    r = _get(node, "/NORAD/elements/gp.php?GROUP=nonsense", "analyst-gbr")
    assert r.status_code == 400 and r.text.startswith("Invalid query: ") and "unknown GROUP" in r.text
    r = _get(node, "/NORAD/elements/gp.php?CATNR=5&NAME=X", "analyst-gbr")
    assert r.status_code == 400 and "exactly one of" in r.text
    two = _get(node, "/NORAD/elements/gp.php?CATNR=5&FORMAT=2LE", "analyst-gbr").text.split("\r\n")
    assert two[0].startswith("1 00005") and two[1].startswith("2 00005")
    satcat = _get(node, "/pub/satcat.csv", "analyst-usa-c").text.splitlines()
    assert satcat[0].startswith("OBJECT_NAME,OBJECT_ID,NORAD_CAT_ID,OBJECT_TYPE")
    listed = {int(line.split(",")[2]) for line in satcat[1:]}
    assert listed and not listed & node.slices[2]  # CONFIDENTIAL user: no SECRET objects
