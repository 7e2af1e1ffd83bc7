"""CCSDS OMM: KVN, XML (single and NDM-combined, with and without namespaces), CelesTrak/Space-Track JSON
and CSV — reading real samples, checking values against python-sgp4, errors, writers and round trips."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest
from fmt_helpers import ISS_LINES, orbit_tuple, read_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orbitwatch.errors import RecordError, ValidationError
from orbitwatch.formats.omm import (
    CELESTRAK_COLUMNS,
    format_omm_csv,
    format_omm_json,
    format_omm_kvn,
    format_omm_xml,
    read_omm_csv,
    read_omm_json,
    read_omm_kvn,
    read_omm_xml,
)
from orbitwatch.formats.records import ElementSet
from orbitwatch.formats.tle import parse_tle

NDM = "ndm-examples/ccsds-ndm-3.1.1-testdata"
GPCONF = "ndm-examples/gpconf-0.7.0-omm-kvn-variants"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def split(items) -> tuple[list[ElementSet], list[RecordError]]:
    items = list(items)
    return ([i for i in items if isinstance(i, ElementSet)], [i for i in items if isinstance(i, RecordError)])


def read_any(path) -> tuple[list[ElementSet], list[RecordError]]:
    data = read_text(path)
    name = path.name
    if data.lstrip()[:1] == b"<":
        return split(read_omm_xml(data, file=name))
    if data.lstrip()[:1] in (b"[", b"{"):
        return split(read_omm_json(data.decode(), file=name))
    if b"CCSDS_OMM_VERS" in data[:200]:
        return split(read_omm_kvn(data.decode(), file=name))
    return split(read_omm_csv(data.decode(), file=name))


# ------------------------------------------------------------------------------------ real samples
def test_celestrak_kvn_values(shared_data):
    recs, errs = read_any(shared_data / NDM / "kvn/omm1_ct.kvn")
    assert errs == [] and len(recs) == 1
    es = recs[0]
    assert (es.norad_id, es.object_name, es.object_id) == (45018, "NUSAT-8 (MARIE)", "2020-003C")
    assert es.epoch == datetime(2020, 12, 29, 11, 59, 56, 951808, tzinfo=UTC)
    assert (es.mean_motion, es.eccentricity, es.inclination) == (15.27990594, 0.0013363, 97.297)
    assert (es.raan, es.arg_perigee, es.mean_anomaly) == (66.7438, 109.4976, 15.7307)
    assert (es.bstar, es.mean_motion_dot, es.mean_motion_ddot) == (8.3483e-05, 2.212e-05, 0.0)
    assert (es.ephemeris_type, es.classification_type, es.element_set_no, es.rev_at_epoch) == (0, "U", 999, 5332)
    assert es.source_format == "omm" and es.line == 1
    assert es.original.startswith("CCSDS_OMM_VERS = 2.0") and "MEAN_MOTION_DDOT = 0" in es.original


def test_same_record_in_every_encoding(shared_data):
    """The Space-Track message in KVN, XML and JSON, and CelesTrak's JSON of it, give one element set."""
    paths = [NDM + "/kvn/omm1_st.kvn", NDM + "/kvn/omm1_st.xml", NDM + "/json/omm1_st.xml",
             NDM + "/json/omm1_st.json", NDM + "/json/omm1_ct.json"]
    tuples = set()
    for rel in paths:
        recs, errs = read_any(shared_data / rel)
        assert errs == [] and len(recs) == 1, rel
        tuples.add(orbit_tuple(recs[0]))
    assert len(tuples) == 1
    # CelesTrak's KVN and XML of the other (earlier) message agree with each other too.
    a = read_any(shared_data / NDM / "kvn/omm1_ct.kvn")[0][0]
    b = read_any(shared_data / NDM / "kvn/omm1_ct.xml")[0][0]
    assert orbit_tuple(a) == orbit_tuple(b)


def test_spacetrack_json_agrees_with_its_own_tle_lines(shared_data):
    """Space-Track gp JSON carries TLE_LINE1/2 of the same element set: an outside consistency check."""
    import json

    text = read_text(shared_data / NDM / "json/omm1_st.json").decode()
    obj = json.loads(text)[0]
    omm = split(read_omm_json(text))[0][0]
    tle = parse_tle(obj["TLE_LINE1"], obj["TLE_LINE2"], obj["TLE_LINE0"][2:])
    for f in ("norad_id", "epoch", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
              "mean_anomaly", "mean_motion_dot", "object_name", "object_id", "rev_at_epoch", "element_set_no"):
        assert getattr(omm, f) == getattr(tle, f), f
    assert math.isclose(omm.bstar, tle.bstar, rel_tol=1e-12)  # 0.000084553 vs 0.84553 * 1e-4


def test_ndm_combined_without_declared_namespace(shared_data):
    """omm_combined.xml uses the xsi: prefix without declaring it; real files do, so we read it."""
    recs, errs = read_any(shared_data / NDM / "xml/omm_combined.xml")
    assert errs == [] and len(recs) == 19
    assert recs[0].norad_id == 41558 and recs[0].object_name == "NUSAT-2 (BATATA)"
    assert recs[-1].norad_id == 46840
    assert any(r.bstar < 0 for r in recs)  # NUSAT-17: BSTAR -.13273E-3
    for r in recs:  # each record's original is its own <omm> element, readable alone
        assert r.original.startswith("<omm") and r.original.endswith("</omm>")
        again = split(read_omm_xml(r.original))[0]
        assert [orbit_tuple(x) for x in again] == [orbit_tuple(r)]
    assert len({r.line for r in recs}) == 19


def test_blue_book_omm_goes9(shared_data):
    recs, errs = read_any(shared_data / NDM / "xml/ndmxml-1.0-omm-2.0.xml")
    assert errs == [] and len(recs) == 1
    es = recs[0]
    assert es.norad_id == 23581 and es.object_name == "GOES-9"
    assert es.epoch == datetime(2007, 3, 5, 10, 34, 41, 426400, tzinfo=UTC)  # 2007-064T10:34:41.4264
    assert es.element_set_no == 925 and es.ephemeris_type == 0 and es.classification_type == "U"
    assert es.mean_motion_dot == -1.13e-06


def test_namespaced_xml():
    xml = """<?xml version="1.0"?>
<n:ndm xmlns:n="urn:ccsds:schema:ndmxml"><n:omm id="CCSDS_OMM_VERS" version="3.0"><n:header/>
<n:body><n:segment><n:metadata><n:OBJECT_NAME>X</n:OBJECT_NAME><n:OBJECT_ID>2020-001A</n:OBJECT_ID>
<n:CENTER_NAME>EARTH</n:CENTER_NAME><n:REF_FRAME>TEME</n:REF_FRAME><n:TIME_SYSTEM>UTC</n:TIME_SYSTEM>
<n:MEAN_ELEMENT_THEORY>SGP4</n:MEAN_ELEMENT_THEORY></n:metadata><n:data><n:meanElements>
<n:EPOCH>2020-01-01T00:00:00</n:EPOCH><n:MEAN_MOTION units="rev/day">15.5</n:MEAN_MOTION>
<n:ECCENTRICITY>0.001</n:ECCENTRICITY><n:INCLINATION>51.6</n:INCLINATION><n:RA_OF_ASC_NODE>10</n:RA_OF_ASC_NODE>
<n:ARG_OF_PERICENTER>20</n:ARG_OF_PERICENTER><n:MEAN_ANOMALY>30</n:MEAN_ANOMALY></n:meanElements>
<n:tleParameters><n:NORAD_CAT_ID>412345</n:NORAD_CAT_ID></n:tleParameters></n:data></n:segment></n:body>
</n:omm></n:ndm>"""
    recs, errs = split(read_omm_xml(xml))
    assert errs == [] and recs[0].norad_id == 412345 and recs[0].mean_motion == 15.5


# ---------------------------------------------------------------------------------- gpconf variants
GP_VARIANTS = ["v01-baseline-reserialised.kvn", "v02-day-of-year-epoch-Z.kvn",
               "v03-units-brackets-leading-zeros.kvn", "v04-comments-blank-lines-whitespace-LF.kvn",
               "v06-signed-integers-lowercase-exponent.kvn", "v07-xml-ndm-reserialised.xml"]


def test_gpconf_variants_give_one_element_set(shared_data):
    results = {}
    for name in GP_VARIANTS:
        recs, errs = read_any(shared_data / GPCONF / name)
        assert errs == [] and len(recs) == 1, name
        results[name] = orbit_tuple(recs[0])
    assert len(set(results.values())) == 1
    es = read_any(shared_data / GPCONF / GP_VARIANTS[0])[0][0]
    assert es.norad_id == 25544 and es.object_id == "1998-067A"
    assert es.epoch == datetime(1998, 11, 20, 6, 49, 59, 999808, tzinfo=UTC)
    assert (es.mean_motion, es.eccentricity, es.mean_motion_dot, es.mean_motion_ddot) == (
        16.05064833, 0.0125362, -3.657e-05, 1.1563e-05)
    assert (es.element_set_no, es.rev_at_epoch, es.bstar) == (1, 0, 0.0)


def test_gpconf_v05_without_catalogue_number(shared_data):
    """OMM 3.0 makes NORAD_CAT_ID optional; orbitwatch needs it, or an OBJECT_ID -> number map."""
    path = shared_data / GPCONF / "v05-omm-3.0-header-optional-keywords-omitted.kvn"
    recs, errs = read_any(path)
    assert recs == [] and len(errs) == 1
    assert errs[0].field == "NORAD_CAT_ID" and "NORAD_CAT_ID is missing" in errs[0].reason
    recs, errs = split(read_omm_kvn(read_text(path).decode(), norad_ids={"1998-067A": 25544}))
    base = read_any(shared_data / GPCONF / GP_VARIANTS[0])[0][0]
    same = ("norad_id", "epoch", "mean_motion", "eccentricity", "inclination", "raan", "arg_perigee",
            "mean_anomaly", "bstar", "mean_motion_dot", "mean_motion_ddot", "object_name", "object_id",
            "classification_type", "ephemeris_type")
    assert orbit_tuple(recs[0], same) == orbit_tuple(base, same)
    assert recs[0].element_set_no is None and recs[0].rev_at_epoch is None  # omitted in v05


# --------------------------------------------------------------------------- CSV vs python-sgp4
def _satrec_from(es: ElementSet):
    from sgp4.api import WGS72, Satrec

    sat = Satrec()
    epoch_days = (es.epoch - datetime(1949, 12, 31, tzinfo=UTC)).total_seconds() / 86400.0
    sat.sgp4init(WGS72, "i", es.norad_id, epoch_days, es.bstar, es.mean_motion_dot / (1036800.0 / math.pi),
                 es.mean_motion_ddot / (2985984000.0 / 2.0 / math.pi), es.eccentricity,
                 math.radians(es.arg_perigee), math.radians(es.inclination), math.radians(es.mean_anomaly),
                 es.mean_motion / 720.0 * math.pi, math.radians(es.raan))
    return sat


def test_celestrak_csv_matches_sgp4_omm(shared_data):
    """python-sgp4's sgp4.omm reads the same CSV rows: its satellites and ours propagate identically."""
    import csv
    import io

    from sgp4 import omm as sgp4_omm
    from sgp4.api import Satrec

    text = read_text(shared_data / "catalog/celestrak_gp_omm_csv_2026-08-18/active.csv.gz").decode()
    recs, errs = split(read_omm_csv(text, file="active.csv"))
    assert errs == [] and len(recs) == 16344
    assert max(r.norad_id for r in recs) > 99999  # six-digit catalogue numbers, carried by OMM
    rows = list(csv.DictReader(io.StringIO(text)))
    rng = random.Random(7)
    for k in rng.sample(range(len(rows)), 400):
        ref = Satrec()
        sgp4_omm.initialize(ref, rows[k])
        ours = _satrec_from(recs[k])
        assert ours.satnum == ref.satnum
        for attr in ("ecco", "inclo", "nodeo", "argpo", "mo", "no_kozai", "bstar"):
            assert getattr(ours, attr) == pytest.approx(getattr(ref, attr), rel=1e-14, abs=1e-15), attr
        jd, fr = ref.jdsatepoch + 1.0, ref.jdsatepochF
        e1, r1, v1 = ref.sgp4(jd, fr)
        e2, r2, v2 = ours.sgp4(jd, fr)
        assert e1 == e2
        if e1 == 0:  # one day after epoch; identical elements -> identical state (0.1 mm allowed)
            assert math.dist(r1, r2) < 1e-7


def test_csv_row_original_and_lines():
    es = split(read_omm_kvn(format_omm_kvn(_sample(), creation_date=T0)))[0]
    text = format_omm_csv(es)
    recs, errs = split(read_omm_csv(text, file="x.csv"))
    assert errs == []
    assert [r.line for r in recs] == list(range(2, 2 + len(es)))
    assert recs[0].original == text.split("\r\n")[1]


# ------------------------------------------------------------------------------------------ errors
def test_kvn_bad_message_does_not_stop_the_rest():
    messages = [format_omm_kvn(es, creation_date=T0) for es in _sample()[:3]]
    messages[1] = messages[1].replace("ECCENTRICITY        = ", "ECCENTRICITY        = abc")
    text = "\n".join(messages)
    recs, errs = split(read_omm_kvn(text, file="m.kvn"))
    assert [r.norad_id for r in recs] == [_sample()[0].norad_id, _sample()[2].norad_id]
    assert len(errs) == 1
    err = errs[0]
    assert err.field == "ECCENTRICITY" and "'abc0.0' is not a decimal number" in err.reason
    assert text.splitlines()[err.line - 1].startswith("ECCENTRICITY")


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("CENTER_NAME", "MARS", "SGP4 mean elements are EARTH"),
    ("REF_FRAME", "GCRF", "expected TEME"),
    ("TIME_SYSTEM", "TAI", "expected UTC"),
    ("MEAN_ELEMENT_THEORY", "DSST", "is not SGP4"),
    ("EPOCH", "2020-13-01T00:00:00", "not a valid date/time"),
    ("EPOCH", "yesterday", "is not ISO 8601"),
    ("ECCENTRICITY", "1.2", "outside 0 <= e < 1"),
    ("INCLINATION", "-1", "outside 0..180"),
    ("MEAN_ANOMALY", "400", "outside 0..360"),
    ("MEAN_MOTION", "nan", "not a decimal number"),
    ("MEAN_MOTION", "1_5.0", "not a decimal number"),
    ("NORAD_CAT_ID", "25544.5", "is not an integer"),
    ("CLASSIFICATION_TYPE", "X", "is not U, C or S"),
])
def test_kvn_field_errors(key, value, reason):
    text = format_omm_kvn(_sample()[0], creation_date=T0)
    lines = text.splitlines()
    idx = next(i for i, ln in enumerate(lines) if ln.startswith(key + " "))
    lines[idx] = f"{key} = {value}"
    recs, errs = split(read_omm_kvn("\n".join(lines), file="f.kvn"))
    assert recs == [] and len(errs) == 1
    assert errs[0].field == key and reason in errs[0].reason, errs[0]
    assert errs[0].line == idx + 1 and errs[0].file == "f.kvn"


def test_kvn_syntax_errors():
    recs, errs = split(read_omm_kvn("CCSDS_OMM_VERS = 2.0\nOBJECT_NAME X\nEPOCH = 2020-01-01T00:00:00\n"))
    assert "is not 'KEYWORD = value'" in errs[0].reason and errs[0].line == 2
    recs, errs = split(read_omm_kvn("CCSDS_OMM_VERS = 2.0\nEPOCH = 1\nEPOCH = 2\n"))
    assert "appears twice (lines 2 and 3)" in errs[0].reason
    recs, errs = split(read_omm_kvn("CCSDS_OMM_VERS = 9.0\n"))
    assert errs[0].field == "CCSDS_OMM_VERS"


def test_kvn_names_keep_brackets_units_are_dropped():
    text = format_omm_kvn(_sample()[0], creation_date=T0).replace("OBJECT_NAME         = ",
                                                                   "OBJECT_NAME = SAT [TEST] ")
    text = text.replace("INCLINATION         = 51.6416", "INCLINATION = 51.6416 [deg]")
    es = split(read_omm_kvn(text))[0][0]
    assert es.object_name.startswith("SAT [TEST]") and es.inclination == 51.6416


def test_json_errors_and_partial_reading():
    objs = format_omm_json(_sample()[:2]).strip()
    text = objs[:-1].rstrip() + ",\n 42,\n {\"EPOCH\": \"2020-01-01T00:00:00\"},\n {\"broken\": \n]"
    recs, errs = split(read_omm_json(text, file="j.json"))
    assert len(recs) == 2
    assert errs[0].line == 4 and "expected a JSON object" in errs[0].reason
    assert errs[1].line == 5 and errs[1].field == "MEAN_MOTION"
    assert "JSON syntax error" in errs[2].reason
    # JSON Lines, values as strings, lower-case keys
    jl = '{"norad_cat_id": "5", "epoch": "2000-06-27T18:50:19.733568", "mean_motion": "10.82419157",' \
         ' "eccentricity": "0.1859667", "inclination": "34.2682", "ra_of_asc_node": "348.7242",' \
         ' "arg_of_pericenter": "331.7664", "mean_anomaly": "19.3264"}\n' * 2
    recs, errs = split(read_omm_json(jl))
    assert len(recs) == 2 and errs == [] and recs[1].line == 2


def test_csv_errors():
    text = format_omm_csv(_sample()[:2])
    rows = text.split("\r\n")
    rows.insert(2, "A,B")
    recs, errs = split(read_omm_csv("\r\n".join(rows), file="c.csv"))
    assert len(recs) == 2 and errs == [RecordError("c.csv", 3, None, "row has 2 cells, the header has 17")]
    with pytest.raises(ValidationError, match="lacks column"):
        list(read_omm_csv("OBJECT_NAME,NORAD_CAT_ID\nX,5\n"))


def test_xml_errors():
    xml = format_omm_xml(_sample()[:2], creation_date=T0)
    cut = xml[: xml.rindex("<omm")] + "<omm><body><"
    recs, errs = split(read_omm_xml(cut, file="x.xml"))
    assert len(recs) == 1 and "XML is not well-formed" in errs[-1].reason and errs[-1].line > 10
    evil = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><omm>&b;</omm>'
    recs, errs = split(read_omm_xml(evil))
    assert recs == [] and "DTD" in errs[0].reason
    mixed = xml.replace("</ndm>", '<opm id="CCSDS_OPM_VERS" version="2.0"/></ndm>')
    recs, errs = split(read_omm_xml(mixed))
    assert len(recs) == 2 and "CCSDS OPM is an orbit parameter" in errs[0].reason


# ------------------------------------------------------------------------------------ round trips
def _sample() -> list[ElementSet]:
    """Element sets with the awkward cases: Alpha-5 range, > 339999, no name/designator, negative drag."""
    base = parse_tle(*ISS_LINES, name="ISS (ZARYA)")
    out = [base]
    for k, (norad, name, oid) in enumerate([(100000, "SARAMAGO", "2026-067CY"), (339999, None, None),
                                            (412345, "BIG, NUMBER", "2030-001A"), (5, "VANGUARD 1", "1958-002B")]):
        es = parse_tle(*ISS_LINES)
        es.norad_id, es.object_name, es.object_id = norad, name, oid
        es.bstar = -1.23456e-4 * (k + 1)
        es.mean_motion_ddot = 1.2345e-13 * k
        es.eccentricity = [0.0, 0.0125362, 0.7318036, 1e-7][k]
        es.element_set_no = None if k == 1 else 999
        es.rev_at_epoch = None if k == 2 else 12345
        out.append(es)
    return out


WRITERS = {
    "kvn": (lambda es: format_omm_kvn(es, creation_date=T0), lambda t: read_omm_kvn(t)),
    "xml": (lambda es: format_omm_xml(es, creation_date=T0), lambda t: read_omm_xml(t)),
    "json": (format_omm_json, read_omm_json),
    "csv": (format_omm_csv, read_omm_csv),
}


@pytest.mark.parametrize("enc", sorted(WRITERS))
def test_writers_round_trip(enc):
    write, read = WRITERS[enc]
    sample = _sample()
    recs, errs = split(read(write(sample)))
    assert errs == []
    assert [orbit_tuple(r) for r in recs] == [orbit_tuple(s) for s in sample]
    assert all(r.source_format == "omm" for r in recs)


@pytest.mark.parametrize("enc", sorted(WRITERS))
def test_alpha5_records_round_trip_through_omm(shared_data, enc):
    """TLE (Alpha-5) -> ElementSet -> OMM -> ElementSet keeps every orbital and identity field."""
    from orbitwatch.formats.tle_fast import read_tle_fast

    write, read = WRITERS[enc]
    total = 0
    for path in sorted((shared_data / "catalog/alpha5-gpconf").glob("*.tle")):
        recs, errs = read_tle_fast(read_text(path))
        assert errs == [] and all(r.norad_id >= 100000 for r in recs)
        back, errs = split(read(write(recs)))
        assert errs == []
        assert [orbit_tuple(b) for b in back] == [orbit_tuple(r) for r in recs]
        total += len(back)
    assert total == 1 + 256 + 1 + 346


def test_celestrak_csv_round_trip_is_textual(shared_data):
    """Reading CelesTrak's CSV and writing it back gives the same numbers (our text may be shorter:
    '.39713338E-3' becomes '0.00039713338')."""
    text = read_text(shared_data / "catalog/celestrak_gp_omm_csv_2026-08-18/gps.csv.gz").decode()
    recs, _ = split(read_omm_csv(text))
    out = format_omm_csv(recs)
    assert out.split("\r\n")[0] == ",".join(CELESTRAK_COLUMNS)
    again, _ = split(read_omm_csv(out))
    assert [orbit_tuple(a) for a in again] == [orbit_tuple(r) for r in recs]


def test_kvn_writer_layout():
    text = format_omm_kvn(_sample()[0], creation_date=T0)
    assert text.startswith("CCSDS_OMM_VERS      = 3.0\nCREATION_DATE       = 2026-01-01T00:00:00\n")
    assert "MEAN_ELEMENT_THEORY = SGP4" in text and "REF_FRAME           = TEME" in text
    assert "NORAD_CAT_ID        = 25544" in text


def test_line_breaks_in_names_are_refused():
    es = _sample()[0]
    es.object_name = "A\nCCSDS_OMM_VERS = 2.0"
    with pytest.raises(ValidationError, match="line break"):
        format_omm_kvn(es)


# ------------------------------------------------------------------------------------------ fuzzing
_SEED_TEXT = {}


def _seed(enc: str) -> str:
    if enc not in _SEED_TEXT:
        _SEED_TEXT[enc] = WRITERS[enc][0](_sample()[:2])
    return _SEED_TEXT[enc]


def _fuzz(enc: str, text: str) -> None:
    from orbitwatch.formats.detect import read_bytes

    try:
        res = read_bytes(text.encode("utf-8", "surrogatepass"), "fuzz", f"omm-{enc}")
    except ValidationError:
        return
    for r in res.records:
        assert isinstance(r, ElementSet) and 0.0 <= r.eccentricity < 1.0 and r.mean_motion > 0
    for e in res.errors:
        assert isinstance(e, RecordError) and e.reason


_NOISE = st.text(st.sampled_from(list("0123456789.-+eE =<>/\"',[]{}:\n\r\t#xZ²é") + ["\x00", "\ud800"]),
                 max_size=8)


@pytest.mark.parametrize("enc", sorted(WRITERS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_omm_only_validation_errors(enc, data):
    text = _seed(enc)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 12))
        text = text[:pos] + data.draw(_NOISE) + text[pos + cut:]
    _fuzz(enc, text)


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
                        st.sampled_from(["EPOCH", "MEAN_MOTION", "NORAD_CAT_ID", "ECCENTRICITY", "X"]), kids,
                        max_size=4), max_leaves=12))
def test_fuzzed_json_values(value):
    import json

    base = json.loads(_seed("json"))
    if isinstance(value, dict):
        base[0].update(value)
    else:
        base.append(value)
    _fuzz("json", json.dumps(base))


def _general_csv(text: str, file: str | None = None) -> list:
    """The reference: every row through elset_from_fields (what the fast CSV path must equal)."""
    from orbitwatch.formats.omm import _record, iter_csv_rows

    rows = list(iter_csv_rows(text, file=file))
    header = [c.strip().upper() for c in rows[0][0]]
    out = []
    for item in rows[1:]:
        if isinstance(item, RecordError):
            out.append(item)
            continue
        cells, line, original = item
        if len(cells) != len(header):
            out.append(RecordError(file, line, None, f"row has {len(cells)} cells, the header has {len(header)}"))
            continue
        out.append(_record(dict(zip(header, cells, strict=True)), file=file, line=line, original=original,
                           norad_ids=None))
    return out


@pytest.mark.parametrize("group", ["active", "geo", "stations"])
def test_fast_csv_rows_equal_the_general_reader(shared_data, group):
    text = read_text(shared_data / f"catalog/celestrak_gp_omm_csv_2026-08-18/{group}.csv.gz").decode()
    assert list(read_omm_csv(text, file="g")) == _general_csv(text, file="g")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fast_csv_rows_equal_the_general_reader_on_mutations(data):
    text = _seed("csv")
    lines = text.split("\r\n")
    for _ in range(data.draw(st.integers(1, 3))):
        k = data.draw(st.integers(1, len(lines) - 2))
        cells = lines[k].split(",")
        c = data.draw(st.integers(0, len(cells) - 1))
        cells[c] = data.draw(st.sampled_from(["", " 1.5", "nan", "1e999", "+5", "-0.0", "1_0", "2020-001T00:00:00",
                                              "2020-01-01T00:00:00.5", "X", "10", "0925", "١", "1.5E-3",
                                              "360.0", "180.0001", "-1"]))
        lines[k] = ",".join(cells)
    mutated = "\r\n".join(lines)
    assert list(read_omm_csv(mutated, file="m")) == _general_csv(mutated, file="m")


def test_unknown_xml_encoding_is_a_located_validation_error():
    """Found by the fuzzer: expat raises LookupError for an encoding it cannot look up."""
    data = b'<?xml version="1.0" encoding="TF-8"?><ndm><omm/></ndm>'
    out = list(read_omm_xml(data, file="bad.xml"))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert out[0].file == "bad.xml" and "encoding" in out[0].reason
