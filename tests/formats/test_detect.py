"""read_path / read_bytes: every sample file in the shared data is read or rejected for the right reason;
format detection from content; gzip; forced formats; nothing but ValidationError escapes."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orbitwatch.errors import ValidationError
from orbitwatch.formats import ReadResult, detect_format, read_bytes, read_path
from orbitwatch.formats.records import ElementSet, SatcatRecord

_NOT_ELSETS = "not an element-set format"
# relative path -> (format, records, errors) or the text the rejection must contain
EXPECTED: dict[str, tuple[str, int, int] | str] = {
    "catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz": ("tle", 26140, 0),
    "catalog/spacetrack_full_catalog_3le_2022-07-14.txt.gz": ("tle", 24132, 0),
    "catalog/spacetrack_leo_payloads_3le_2026-06-10.txt.gz": ("tle", 16032, 0),
    "catalog/alpha5-gpconf/alpha5-A-100000-saramago-first.tle": ("tle", 1, 0),
    "catalog/alpha5-gpconf/alpha5-A-last-30-days-snapshot.tle": ("tle", 256, 0),
    "catalog/alpha5-gpconf/alpha5-T-270449-analyst-first.tle": ("tle", 1, 0),
    "catalog/alpha5-gpconf/alpha5-T-analyst-27xxxx-snapshot.tle": ("tle", 346, 0),
    "catalog/alpha5-gpconf/LICENSE": "not a recognised format",
    "catalog/alpha5-gpconf/NOTICE": "not a recognised format",
    "catalog/celestrak_gp_omm_csv_2026-08-18/manifest.json": "neither OMM keys",
    "ndm-examples/ccsds-ndm-3.1.1-testdata/LICENSE-GPL-3.0": "not a recognised format",
    "ndm-examples/gpconf-0.7.0-omm-kvn-variants/LICENSE": "not a recognised format",
    "ndm-examples/gpconf-0.7.0-omm-kvn-variants/NOTICE": "not a recognised format",
    "ndm-examples/gpconf-0.7.0-omm-kvn-variants/v05-omm-3.0-header-optional-keywords-omitted.kvn":
        ("omm-kvn", 0, 1),
    "ndm-examples/ccsds-ndm-3.1.1-testdata/xml/omm_combined.xml": ("omm-xml", 19, 0),
    "ndm-examples/ccsds-ndm-3.1.1-testdata/xml/ndmxml-1.0-odm.xml": "CCSDS OEM is an ephemeris",
}
_GROUPS = {"starlink": 10926, "oneweb": 651, "geo": 568, "kuiper": 391, "qianfan": 238, "guowang": 191,
           "planet": 123, "iridium": 80, "spire": 73, "beidou": 53, "globalstar": 35, "gps": 32,
           "galileo": 32, "o3b": 30, "glonass": 28, "stations": 22, "active": 16344}
for _g, _n in _GROUPS.items():
    EXPECTED[f"catalog/celestrak_gp_omm_csv_2026-08-18/{_g}.csv.gz"] = ("omm-csv", _n, 0)
_KINDS = {"opm": "CCSDS OPM is an orbit parameter", "oem": "CCSDS OEM is an ephemeris",
          "apm": "CCSDS APM is an attitude message", "aem": "CCSDS AEM is an attitude ephemeris",
          "rdm": "CCSDS RDM is a re-entry message", "tdm": "CCSDS TDM is a tracking data message",
          "odmv2": "CCSDS OEM is an ephemeris", "adm-testcase": "CCSDS AEM is an attitude ephemeris",
          "figure-B-2": "CCSDS AEM", "figure-B-3": "CCSDS APM", "fig_E-21": "CCSDS TDM"}


def expectation(rel: str) -> tuple[str, int, int] | str:
    if rel in EXPECTED:
        return EXPECTED[rel]
    name = rel.rsplit("/", 1)[-1]
    if name.endswith(".provenance.json"):
        return "neither OMM keys"
    if "omm" in name or name.startswith("v0"):
        fmt = {"kvn": "omm-kvn", "xml": "omm-xml", "json": "omm-json"}[name.rsplit(".", 1)[-1]]
        return (fmt, 1, 0)
    for key, reason in _KINDS.items():
        if key in name:
            return reason
    raise AssertionError(f"no expectation for {rel}: add one")


def _files(root: Path) -> list[str]:
    out = []
    for folder in ("catalog", "ndm-examples"):
        out += [str(p.relative_to(root)) for p in sorted((root / folder).rglob("*")) if p.is_file()]
    return out


def test_every_sample_is_read_or_rejected_for_the_right_reason(shared_data):
    seen = 0
    for rel in _files(shared_data):
        exp = expectation(rel)
        path = shared_data / rel
        if isinstance(exp, str):
            with pytest.raises(ValidationError) as info:
                read_path(path)
            assert exp in str(info.value), (rel, str(info.value))
            assert info.value.file == str(path)
            if exp.startswith("CCSDS"):
                assert _NOT_ELSETS in str(info.value)
        else:
            res = read_path(path)
            assert (res.format, len(res.records), len(res.errors)) == exp, rel
            assert res.kind == "elsets" and res.file == str(path)
            assert all(isinstance(r, ElementSet) and r.file == str(path) for r in res.records)
        seen += 1
    assert seen >= 85  # 88 files today: a much smaller number means the folders were not found


@pytest.mark.parametrize(("rel", "fmt", "n"), [
    ("satcat/celestrak_satcat_processed_2025-03-06.csv.gz", "satcat-celestrak", 62652),
    ("satcat/spacetrack_satcat_current_leo_2025-03-15.csv.gz", "satcat-spacetrack", 24062),
    ("satcat/nasa_cara_hbr_mass_estimates_2026-06-01.csv.gz", "satcat-cara", 58609),
])
def test_satcat_files(shared_data, rel, fmt, n):
    res = read_path(shared_data / rel)
    assert (res.kind, res.format, len(res.records), res.errors) == ("satcat", fmt, n, [])
    assert isinstance(res.records[0], SatcatRecord)
    head = b"\n".join(gzip.decompress((shared_data / rel).read_bytes()).split(b"\n")[:200])
    assert read_bytes(head, rel, fmt="satcat").format == fmt
    assert len(read_bytes(head, rel, fmt=fmt).records) == 199


@pytest.mark.parametrize(("rel", "reason"), [
    ("satcat/celestrak_satcat_processed_2025-03-06.parquet", "Parquet files are not read"),
    ("satcat/gcat_psatcat_payloads_2025-04-07.tsv.gz", "GCAT"),
    ("sgp4-verification/tcppver.out", "not a recognised format"),
])
def test_unsupported_satcat_neighbours(shared_data, rel, reason):
    with pytest.raises(ValidationError, match=reason):
        read_path(shared_data / rel)


def test_sgp4_verification_file(shared_data):
    """30 good cases load; the three deliberately bad ones are rejected with the checksum message."""
    path = shared_data / "sgp4-verification/SGP4-VER.TLE"
    res = read_path(path)
    assert res.format == "tle" and len(res.records) == 30
    assert sorted(r.norad_id for r in res.records) == [  # 20413 appears twice in Vallado's set
        5, 4632, 6251, 8195, 9880, 9998, 11801, 14128, 16925, 20413, 20413, 21897, 22312, 22674, 23177, 23333,
        23599, 24208, 25954, 26900, 26975, 28057, 28129, 28350, 28623, 28626, 28872, 29141, 29238, 88888]
    assert [(e.line, e.field) for e in res.errors] == [(100, "checksum"), (103, "checksum"), (106, "checksum")]
    assert [e.reason for e in res.errors] == ["line 1 checksum is 4, computed 2",
                                              "line 1 checksum is 9, computed 6",
                                              "line 1 checksum is 0, computed 3"]
    text = path.read_text().splitlines()
    assert [text[e.line - 1][2:7] for e in res.errors] == ["33333", "33334", "33335"]
    assert str(res.errors[0]) == f"{path}:100: field 'checksum': line 1 checksum is 4, computed 2"


# ------------------------------------------------------------------------------------- detection
def test_detection_ignores_the_file_name(shared_data):
    data = (shared_data / "ndm-examples/ccsds-ndm-3.1.1-testdata/kvn/omm1_ct.kvn").read_bytes()
    assert read_bytes(data, "misleading.csv").format == "omm-kvn"
    assert read_bytes(gzip.compress(gzip.compress(data)), "x.bin").format == "omm-kvn"
    assert read_bytes(b"\xef\xbb\xbf" + data, "bom.kvn").format == "omm-kvn"
    assert read_bytes(data.decode().encode("utf-16"), "utf16.kvn").format == "omm-kvn"
    assert detect_format(data) == "omm-kvn"


def test_forced_formats(shared_data):
    kvn = (shared_data / "ndm-examples/ccsds-ndm-3.1.1-testdata/kvn/omm1_ct.kvn").read_bytes()
    tle = (shared_data / "sgp4-verification/SGP4-VER.TLE").read_bytes()
    assert read_bytes(kvn, "a", "omm").format == "omm-kvn"
    assert read_bytes(tle, "b", "tle").format == "tle"
    with pytest.raises(ValidationError, match="--format omm was given but the content is tle"):
        read_bytes(tle, "b", "omm")
    with pytest.raises(ValidationError, match="--format satcat was given but the content is omm-kvn"):
        read_bytes(kvn, "a", "satcat")
    headerless = b"\n".join(kvn.splitlines()[1:])
    with pytest.raises(ValidationError, match="without a CCSDS_OMM_VERS header"):
        read_bytes(headerless, "h")
    assert len(read_bytes(headerless, "h", "omm").records) == 1  # told it is OMM: read the KVN anyway
    with pytest.raises(ValidationError, match="format 'xls' is not one of"):
        read_bytes(kvn, "a", "xls")


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "file is empty"), (b"   \n\n", "file is empty"), (b"\x1f\x8b\x08garbage", "gzip data cannot be read"),
    (b"PK\x03\x04....", "zip archives"), (b"\x00\x01\x02\x03", "binary content"),
    (b"hello world\n", "not a recognised format"), (b"a,b,c\n1,2,3\n", "neither OMM"),
    (b"<html><body/></html>", "XML root <html>"), (b"[1, 2]", "not objects"),
])
def test_unreadable_content(data, reason):
    with pytest.raises(ValidationError) as info:
        read_bytes(data, "in.dat")
    assert reason in info.value.reason and info.value.file == "in.dat"
    assert "in.dat" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValidationError, match="cannot read file") as info:
        read_path(tmp_path / "nope.tle")
    assert info.value.file.endswith("nope.tle")


def test_result_shape(shared_data):
    res = read_path(shared_data / "catalog/alpha5-gpconf/alpha5-T-270449-analyst-first.tle")
    assert isinstance(res, ReadResult)
    assert res.records[0].norad_id == 270449 and res.records[0].source_format == "tle"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_arbitrary_bytes_only_validation_errors(data):
    try:
        res = read_bytes(data, "fuzz")
    except ValidationError:
        return
    assert res.kind in ("elsets", "satcat")


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([b"CCSDS_OMM_VERS = 2.0\n", b"<ndm><omm>", b"[{\"EPOCH\": ", b"1 25544U ",
                        b"OBJECT_NAME,EPOCH,MEAN_MOTION\n", b"NORAD_CAT_ID,OWNER\n", b"ObjectID,HBR\n"]),
       st.binary(max_size=200))
def test_plausible_heads_with_garbage_only_validation_errors(head, tail):
    with contextlib.suppress(ValidationError):
        read_bytes(head + tail, "fuzz")
