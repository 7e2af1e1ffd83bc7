"""CCSDS OEM: the Blue Book and ODM test-case ephemerides in KVN and XML, covariance, writer round trip."""

from __future__ import annotations

import numpy as np
import pytest
from fmt_helpers import read_text

from orbitwatch.errors import ValidationError
from orbitwatch.formats.oem import format_oem_kvn, read_oem

NDM = "ndm-examples/ccsds-ndm-3.1.1-testdata"
OEM_FILES = ["kvn/502x0b2c1e2_fig5_1_oem.kvn", "kvn/502x0b2c1e2_fig5_1_oem.xml",
             "kvn/odmv2-testcase6_abbrev.kvn", "kvn/odmv2-testcase6_abbrev.xml",
             "kvn/odmv2-testcase7a_xxx.kvn", "kvn/odmv2-testcase7a_xxx.xml",
             "xml/ndmxml-1.0-oem-2.0-single.xml", "xml/ndmxml-1.0-odm.xml"]


def test_blue_book_figure_5_1(shared_data):
    oem = read_oem(read_text(shared_data / NDM / "kvn/502x0b2c1e2_fig5_1_oem.kvn"), file="fig5_1")
    assert oem.version == "2.0" and oem.originator == "NASA/JPL" and len(oem.segments) == 2
    s = oem.segments[0]
    assert (s.object_name, s.object_id, s.center_name, s.ref_frame, s.time_system) == (
        "MARS GLOBAL SURVEYOR", "1996-062A", "MARS BARYCENTER", "EME2000", "UTC")
    assert s.epochs[0] == np.datetime64("1996-12-18T12:00:00.331")
    assert s.start_time == np.datetime64("1996-12-18T12:00:00.331")
    assert s.stop_time == np.datetime64("1996-12-28T21:28:00.331")
    np.testing.assert_array_equal(s.positions_km[0], [2789.619, -280.045, -1746.755])
    np.testing.assert_array_equal(s.velocities_km_s[2], [5.63678, -2.33951, -1.94687])
    np.testing.assert_allclose(s.seconds_since(), [0.0, 60.0, 120.0])
    assert s.accelerations_km_s2 is None and len(s.covariances) == 0
    assert "to be used for DSN scheduling purposes only." in s.comments[1]
    assert oem.segments[1].metadata["USEABLE_START_TIME"] == "1996-12-28T22:08:02.5"


def test_accelerations_and_tdb(shared_data):
    oem = read_oem(read_text(shared_data / NDM / "kvn/odmv2-testcase7a_xxx.kvn"))
    assert [len(s.epochs) for s in oem.segments] == [11, 10, 12]
    s = oem.segments[0]
    assert s.time_system == "TDB"  # epochs are kept in the message's time system
    assert s.accelerations_km_s2.shape == (11, 3)
    np.testing.assert_array_equal(s.accelerations_km_s2[0], [-0.000366, 0.000340, 0.000021])
    assert s.epochs[0] == np.datetime64("2009-02-28T01:12:34.245999990")  # 8 fraction digits kept


def test_covariance(shared_data):
    kvn = read_oem(read_text(shared_data / NDM / "kvn/odmv2-testcase6_abbrev.kvn"))
    s = kvn.segments[0]
    assert s.covariances.shape == (2, 6, 6)
    assert s.covariances[0][0, 0] == 11 and s.covariances[0][5, 0] == 61 and s.covariances[0][0, 5] == 61
    c = s.covariances[1]
    np.testing.assert_array_equal(c, c.T)
    assert c[0, 0] == 6.023550580475148e-02 and c[5, 4] == -4.017580005088106e-08
    assert np.all(np.linalg.eigvalsh(c) > -1e-12 * np.abs(c).max())  # a real covariance: PSD
    xml = read_oem(read_text(shared_data / NDM / "kvn/odmv2-testcase6_abbrev.xml"))
    for a, b in zip(kvn.segments, xml.segments, strict=True):
        np.testing.assert_array_equal(a.covariances, b.covariances)
        np.testing.assert_array_equal(a.positions_km, b.positions_km)
        np.testing.assert_array_equal(a.covariance_epochs, b.covariance_epochs)


@pytest.mark.parametrize("rel", OEM_FILES)
def test_every_sample_round_trips_through_kvn(shared_data, rel):
    oem = read_oem(read_text(shared_data / NDM / rel), file=rel)
    again = read_oem(format_oem_kvn(oem))
    assert again.version == oem.version and again.header == oem.header
    for a, b in zip(oem.segments, again.segments, strict=True):
        assert a.metadata == b.metadata and a.comments == b.comments
        for attr in ("epochs", "positions_km", "velocities_km_s", "covariance_epochs", "covariances"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
        assert (a.accelerations_km_s2 is None) == (b.accelerations_km_s2 is None)


def test_kvn_and_xml_agree(shared_data):
    for stem in ("502x0b2c1e2_fig5_1_oem", "odmv2-testcase7a_xxx"):
        k = read_oem(read_text(shared_data / NDM / f"kvn/{stem}.kvn"))
        x = read_oem(read_text(shared_data / NDM / f"kvn/{stem}.xml"))
        for a, b in zip(k.segments, x.segments, strict=True):
            np.testing.assert_array_equal(a.epochs, b.epochs)
            np.testing.assert_array_equal(a.positions_km, b.positions_km)
            np.testing.assert_array_equal(a.velocities_km_s, b.velocities_km_s)


def _minimal(lines: list[str]) -> str:
    return "\n".join(["CCSDS_OEM_VERS = 2.0", "CREATION_DATE = 2020-001T00:00:00", "ORIGINATOR = T",
                      "META_START", "OBJECT_NAME = X", "OBJECT_ID = 2020-001A", "CENTER_NAME = EARTH",
                      "REF_FRAME = GCRF", "TIME_SYSTEM = UTC", "START_TIME = 2020-001T00:00:00",
                      "STOP_TIME = 2020-001T00:02:00", "META_STOP", *lines])


@pytest.mark.parametrize(("lines", "line", "text"), [
    (["2020-001T00:00:00 1 2 3 4 5"], 13, "expected 6"),
    (["2020-001T00:00:00 1 2 3 4 5 x"], 13, "'x' is not a number"),
    (["2020-001T00:01:00 1 2 3 4 5 6", "2020-001T00:00:00 1 2 3 4 5 6"], 14, "go backwards"),
    (["2020-001T00:03:00 1 2 3 4 5 6"], 13, "outside START_TIME..STOP_TIME"),
    (["2020-13-01T00:00:00 1 2 3 4 5 6"], 13, "not a valid date"),
    (["2020-001T00:00:00 1 2 3 4 5 6", "COVARIANCE_START", "EPOCH = 2020-001T00:00:00", "1", "2 3",
      "COVARIANCE_STOP"], 15, "covariance matrix has 3 numbers"),
])
def test_errors_name_the_line(lines, line, text):
    with pytest.raises(ValidationError) as info:
        read_oem(_minimal(lines), file="e.oem")
    assert info.value.line == line and text in info.value.reason and info.value.file == "e.oem"


def test_not_an_oem():
    with pytest.raises(ValidationError, match="this is a CCSDS OPM, not an OEM"):
        read_oem("CCSDS_OPM_VERS = 2.0\n")
    with pytest.raises(ValidationError, match="metadata keyword REF_FRAME is missing"):
        read_oem(_minimal(["2020-001T00:00:00 1 2 3 4 5 6"]).replace("REF_FRAME = GCRF", ""))
