"""CCSDS CDM (508.0-B-1) reading, writing and checking, on the real CDMs of ``shared/data``."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from orbitwatch.errors import ValidationError
from orbitwatch.formats.cdm import (
    Cdm,
    cdm_from_conjunction,
    check_cdm,
    covariance_keyword,
    format_cdm_kvn,
    format_cdm_xml,
    parse_cdm,
    parse_cdm_kvn,
    parse_cdm_xml,
    read_cdm_path,
)

BLUE = "cdm-examples/ccsds-ndm-blue-book"


def _all_cdm_files(shared):
    files = sorted((shared / "cdm-examples").rglob("*.cdm")) + sorted((shared / BLUE).glob("cdm_example*"))
    assert len(files) == 89  # 53 PcTestCaseCDMs + 34 SampleCDMs + the Blue Book KVN and XML
    return files


def test_every_example_parses_checks_and_round_trips(shared_data):
    for path in _all_cdm_files(shared_data):
        cdm = read_cdm_path(path)
        assert check_cdm(cdm) == [], path.name
        for obj in cdm.objects:
            assert obj.position_km.shape == (3,) and obj.covariance_rtn().shape[0] in (6, 7, 8, 9)
        assert parse_cdm_kvn(format_cdm_kvn(cdm)) == cdm, path.name
        assert parse_cdm_xml(format_cdm_xml(cdm)) == cdm, path.name


def test_blue_book_kvn_and_xml_carry_the_same_data(shared_data):
    kvn = read_cdm_path(shared_data / BLUE / "cdm_example_section4.kvn")
    xml = read_cdm_path(shared_data / BLUE / "cdm_example_section4.xml")
    assert kvn.header == xml.header and kvn.relative == xml.relative
    for a, b in zip(kvn.objects, xml.objects, strict=True):
        for sec in ("metadata", "od_parameters", "additional_parameters", "state_vector", "covariance"):
            assert getattr(a, sec) == getattr(b, sec)
    assert kvn.tca == datetime(2010, 3, 13, 22, 37, 52, 618000, tzinfo=UTC)
    assert kvn.miss_distance_m == 715.0 and kvn.collision_probability == 4.835e-05
    assert kvn.object2.name == "FENGYUN 1C DEB"
    assert kvn.object1.metadata["OPERATOR_EMAIL"] == "JOHN.DOE@SOMEWHERE>NET"
    c = kvn.object2.covariance_rtn()
    assert c[1, 0] == c[0, 1] == -4.806e4 and c[5, 5] == 5.178e-05
    assert xml.comments["header"] == ["Sample CDM - XML version"]


def test_relative_rtn_convention_matches_cara_cdms(shared_data):
    """cdm_from_conjunction computes RELATIVE_POSITION/VELOCITY as object 2 − object 1 in object 1's
    RTN frame; on all 53 operational CARA CDMs this reproduces the message's own values to their
    printed 0.1 m / 0.1 m/s (miss distance and speed to their printed 1 m, 1 m/s). (The Blue Book
    example's relative T/N values are illustrative and do not follow from its states.)"""
    for path in sorted((shared_data / "cdm-examples/nasa-cara/PcTestCaseCDMs").glob("*.cdm")):
        ref = read_cdm_path(path)
        o1, o2 = ref.objects
        built = cdm_from_conjunction(
            tca=ref.tca, r1_km=o1.position_km, v1_kms=o1.velocity_kms, cov1_rtn=o1.covariance_rtn()[:6, :6],
            r2_km=o2.position_km, v2_kms=o2.velocity_kms, cov2_rtn=o2.covariance_rtn()[:6, :6],
            object1_designator=o1.designator, object1_name=o1.name, object2_designator=o2.designator,
            object2_name=o2.name, creation_date=ref.header["CREATION_DATE"])
        for key in ("RELATIVE_POSITION_R", "RELATIVE_POSITION_T", "RELATIVE_POSITION_N",
                    "RELATIVE_VELOCITY_R", "RELATIVE_VELOCITY_T", "RELATIVE_VELOCITY_N"):
            assert built.relative[key] == pytest.approx(ref.relative[key], abs=0.051), (path.name, key)
        assert built.miss_distance_m == pytest.approx(ref.miss_distance_m, abs=0.51)
        assert built.relative_speed_ms == pytest.approx(ref.relative_speed_ms, abs=0.51)


def test_day_of_year_tca_units_and_sloppy_lines(shared_data):
    cdm = read_cdm_path(shared_data / "cdm-examples/nasa-cara/SampleCDMs/OmitronTestCase_Test08_3DNc.cdm")
    assert cdm.tca.year == 2017 and cdm.tca.timetuple().tm_yday == 232
    assert cdm.tca.hour == 5 and cdm.tca.minute == 2 and cdm.tca.microsecond == 819000
    alfano = read_cdm_path(shared_data / "cdm-examples/nasa-cara/SampleCDMs/AlfanoTestCase01.cdm")
    # the file gives RELATIVE_VELOCITY_R in [m]: kept, and reported
    assert any("RELATIVE_VELOCITY_R has unit [m]" in w for w in alfano.warnings)
    assert math.isnan(alfano.object1.od_parameters["OBS_USED"])  # "NaN" in the file
    assert alfano.hbr_m == 15.0
    single = read_cdm_path(shared_data / "cdm-examples/nasa-cara/SampleCDMs/SingleCovTestCase1-1.cdm")
    assert single.object1.od_parameters["RESIDUALS_ACCEPTED"] == 85.4  # "=85.4   [" (broken bracket)
    assert single.comments["header"] == ["This file created for validation purposes by CARA"]


def test_cara_hbr_comment_and_comment_placement(shared_data):
    cdm = read_cdm_path(shared_data / "cdm-examples/nasa-cara/PcTestCaseCDMs/"
                            "000020580_conj_000002017_20230613_001923_20230608_063715.cdm")
    assert cdm.hbr_m == 10.0
    assert cdm.comments["relative"] == ["SCREENING_OPTION = Covariance"]
    assert "COVARIANCE_SCALE_FACTOR = 1.000" in cdm.object1.comments["od_parameters"]


def test_nine_by_nine_covariance(shared_data):
    cdm = read_cdm_path(shared_data / "cdm-examples/nasa-cara/SampleCDMs/AlfanoTestCase01.cdm")
    c = cdm.object1.covariance_rtn()
    assert c.shape == (8, 8)  # drag and SRP rows, no thrust row
    assert c[6, 6] == 1e-12 and c[7, 7] == 1e-12
    assert covariance_keyword(8, 6) == "CTHR_DRG" and covariance_keyword(3, 0) == "CRDOT_R"


KVN_MIN = """CCSDS_CDM_VERS = 1.0
CREATION_DATE = 2024-001T00:00:00
ORIGINATOR = TEST
MESSAGE_ID = M1
TCA = 2024-01-02T03:04:05.678
MISS_DISTANCE = 100 [m]
OBJECT = OBJECT1
OBJECT_DESIGNATOR = 1
CATALOG_NAME = SATCAT
OBJECT_NAME = A
INTERNATIONAL_DESIGNATOR = 2000-001A
EPHEMERIS_NAME = NONE
COVARIANCE_METHOD = CALCULATED
MANEUVERABLE = YES
REF_FRAME = EME2000
X = 7000 [km]
Y = 0 [km]
Z = 0 [km]
X_DOT = 0 [km/s]
Y_DOT = 7.5 [km/s]
Z_DOT = 0 [km/s]
""" + "".join(f"{covariance_keyword(i, j)} = {1.0 if i == j else 0.0}\n" for i in range(6) for j in range(i + 1))


def _two_objects(text: str) -> str:
    return text + text[text.index("OBJECT = OBJECT1"):].replace("OBJECT1", "OBJECT2")


def test_check_cdm_reports_missing_mandatory_keywords():
    cdm = parse_cdm_kvn(_two_objects(KVN_MIN))
    assert check_cdm(cdm) == []
    del cdm.header["ORIGINATOR"]
    del cdm.object2.metadata["REF_FRAME"]
    del cdm.object1.covariance["CT_T"]
    cdm.object1.metadata["MANEUVERABLE"] = "MAYBE"
    problems = check_cdm(cdm)
    assert "header: missing mandatory keyword ORIGINATOR" in problems
    assert "OBJECT2 metadata: missing mandatory keyword REF_FRAME" in problems
    assert "OBJECT1 covariance: missing mandatory keyword CT_T" in problems
    assert any("MANEUVERABLE = 'MAYBE'" in p for p in problems)


def test_errors_name_file_line_and_keyword():
    with pytest.raises(ValidationError) as exc:
        parse_cdm_kvn(_two_objects(KVN_MIN).replace("MISS_DISTANCE = 100 [m]", "MISS_DISTANCE = far [m]"),
                      file="x.cdm")
    assert str(exc.value) == "x.cdm:6: field 'MISS_DISTANCE': expected a number, got 'far'"
    with pytest.raises(ValidationError, match="needs two OBJECT sections, found 1"):
        parse_cdm_kvn(KVN_MIN, file="x.cdm")
    with pytest.raises(ValidationError, match=r"x.cdm:4: field 'ORIGINATOR': keyword repeated"):
        parse_cdm_kvn(KVN_MIN.replace("ORIGINATOR = TEST", "ORIGINATOR = TEST\nORIGINATOR = B"), file="x.cdm")
    with pytest.raises(ValidationError, match=r"x.cdm:1: expected 'KEYWORD = value"):
        parse_cdm_kvn("this is not a CDM\n", file="x.cdm")
    with pytest.raises(ValidationError, match="not well-formed XML"):
        parse_cdm_xml("<cdm><header>", file="x.xml")
    with pytest.raises(ValidationError, match="object data before any 'OBJECT"):
        parse_cdm_kvn("X = 1 [km]\n")


def test_unknown_keyword_is_kept_and_reported():
    cdm = parse_cdm_kvn(_two_objects(KVN_MIN).replace("MESSAGE_ID = M1", "MESSAGE_ID = M1\nSHOE_SIZE = 44"))
    assert cdm.header["SHOE_SIZE"] == "44"
    assert any("unknown keyword SHOE_SIZE" in w for w in cdm.warnings)
    assert any("SHOE_SIZE does not belong" in p for p in check_cdm(cdm))
    assert parse_cdm_kvn(format_cdm_kvn(cdm)) == cdm


def test_cdm_from_conjunction_round_trips_and_is_conformant():
    r1 = np.array([7000.0, 10.0, -3.0])
    v1 = np.array([0.1, 7.5, 1.0])
    r2 = r1 + np.array([0.2, -0.1, 0.05])
    v2 = np.array([-0.2, 1.0, 7.4])
    cov = np.diag([100.0, 2500.0, 400.0, 1e-4, 4e-4, 1e-4])
    cdm = cdm_from_conjunction(
        tca=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), r1_km=r1, v1_kms=v1, cov1_rtn=cov,
        r2_km=r2, v2_kms=v2, cov2_rtn=cov * 4, object1_designator="25544", object1_name="ISS (ZARYA)",
        object2_designator="40000", object2_name="DEB", object2_type="DEBRIS", collision_probability=1.2e-5,
        collision_probability_method="FOSTER-1992", hbr_m=12.5,
        screen={"SCREEN_VOLUME_FRAME": "RTN", "SCREEN_VOLUME_SHAPE": "ELLIPSOID", "SCREEN_VOLUME_X": 5000.0,
                "SCREEN_VOLUME_Y": 5000.0, "SCREEN_VOLUME_Z": 5000.0},
        object2_comments=["covariance: orbitwatch default TLE covariance v1"])
    assert check_cdm(cdm) == []
    assert cdm.hbr_m == 12.5
    assert cdm.miss_distance_m == pytest.approx(np.linalg.norm(r2 - r1) * 1000)
    for text, parser in ((format_cdm_kvn(cdm), parse_cdm_kvn), (format_cdm_xml(cdm), parse_cdm_xml)):
        back = parser(text)
        assert back == cdm
        assert back.tca == cdm.tca  # microseconds survive
        np.testing.assert_array_equal(back.object2.covariance_rtn(), cov * 4)
    assert parse_cdm(format_cdm_xml(cdm)) == cdm
    with pytest.raises(ValueError, match="not a relative"):
        cdm_from_conjunction(tca=datetime(2024, 1, 1, tzinfo=UTC), r1_km=r1, v1_kms=v1, cov1_rtn=cov, r2_km=r2,
                             v2_kms=v2, cov2_rtn=cov, object1_designator="1", object1_name="A",
                             object2_designator="2", object2_name="B", screen={"X": 1.0})


def test_equality_is_by_content():
    a = parse_cdm_kvn(_two_objects(KVN_MIN))
    b = parse_cdm_kvn(_two_objects(KVN_MIN))
    assert a == b and isinstance(a, Cdm)
    b.relative["MISS_DISTANCE"] = 101.0
    assert a != b


def test_unknown_xml_encoding_is_a_located_validation_error():
    """expat raises LookupError for an encoding it cannot look up (the OMM fuzzer found it)."""
    with pytest.raises(ValidationError, match="encoding") as err:
        parse_cdm_xml(b'<?xml version="1.0" encoding="TF-8"?><cdm/>', file="bad.xml")
    assert err.value.file == "bad.xml"
