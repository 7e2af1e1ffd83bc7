"""The real ``spacetrack`` client (PyPI) against a live node: login, gp / gp_history / satcat with
predicates, JSON and line iteration - answers equal the node's own API for that nation, nothing leaks."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import spacetrack.operators as op
from spacetrack import AuthenticationError, SpaceTrackClient


def client(node, user: str, tmp_path, password: str | None = None) -> SpaceTrackClient:
    return SpaceTrackClient(user, password or node.tokens[user], base_url=node.base + "/",
                            cache_path=tmp_path / "st-cache")


def own_api_latest(node, user: str, **params) -> dict[int, str]:
    r = httpx.get(f"{node.base}/api/v1/elsets/latest", params={"limit": 100000, **params},
                  headers={"Authorization": f"Bearer {node.tokens[user]}"}, timeout=60)
    r.raise_for_status()
    return {it["norad_id"]: it["epoch"] for it in r.json()["items"]}


def test_gp_equals_own_api_and_leaks_nothing(interop_node, tmp_path):
    node = interop_node
    for user in ("analyst-gbr", "analyst-usa-c", "analyst-fra"):
        with client(node, user, tmp_path) as st:
            rows = st.gp(orderby="norad_cat_id", parse_types=True)
            got = {r["NORAD_CAT_ID"]: r["EPOCH"] for r in rows}
            expected = own_api_latest(node, user)
            assert set(got) == set(expected), user
            for norad, epoch in got.items():
                assert epoch.isoformat() == expected[norad][:26], norad
            nation, clearance = {"analyst-gbr": ("GBR", "SECRET"), "analyst-usa-c": ("USA", "CONFIDENTIAL"),
                                 "analyst-fra": ("FRA", "SECRET")}[user]
            from orbitwatch.markings import can_read

            assert all(can_read(node.marking_of[n], nation=nation, clearance=clearance) for n in got)
            assert [r["NORAD_CAT_ID"] for r in rows] == sorted(got)


def test_gp_predicates_and_line_iteration(interop_node, tmp_path):
    node = interop_node
    with client(node, "analyst-gbr", tmp_path) as st:
        ids = sorted(node.slices[0])[:5]
        rows = st.gp(norad_cat_id=ids, orderby="norad_cat_id desc")
        assert [int(r["NORAD_CAT_ID"]) for r in rows] == sorted(ids, reverse=True)
        assert set(rows[0]) >= {"TLE_LINE1", "TLE_LINE2", "MEAN_MOTION", "EPOCH", "OBJECT_NAME", "GP_ID"}
        lines = list(st.gp(iter_lines=True, norad_cat_id=ids, orderby="norad_cat_id", format="tle"))
        assert len(lines) == 2 * len(ids) and lines[0].startswith("1 ") and lines[1].startswith("2 ")
        assert [int(ln[2:7]) for ln in lines[0::2]] == ids
        three = st.gp(norad_cat_id=5, format="3le").splitlines()  # ingested as 3LE: the name line comes back
        assert three[0] == "0 VANGUARD 1" and three[1].startswith("1 00005U") and len(three) == 3
        fast = st.gp(mean_motion=op.greater_than(14.0), norad_cat_id=op.inclusive_range(1, 99999),
                     orderby="mean_motion desc", limit=3)
        assert len(fast) == 3 and all(float(r["MEAN_MOTION"]) > 14.0 for r in fast)
        assert [float(r["MEAN_MOTION"]) for r in fast] == sorted((float(r["MEAN_MOTION"]) for r in fast),
                                                                reverse=True)
        named = st.gp(object_name=op.like("vanguard"), predicates=["norad_cat_id", "object_name"])
        assert named and all("VANGUARD" in r["OBJECT_NAME"] and set(r) == {"NORAD_CAT_ID", "OBJECT_NAME"}
                             for r in named)
        assert st.gp(norad_cat_id=99999999) == []
        assert st.gp(norad_cat_id=99999999, format="tle", emptyresult="show") == "NO RESULTS RETURNED"
        meta = st.gp(norad_cat_id=ids, metadata="true", limit=2)
        assert meta["request_metadata"]["Total"] == len(ids) and len(meta["data"]) == 2


def test_gp_history_equals_own_history(interop_node, tmp_path):
    node = interop_node
    start, end = dt.datetime(2022, 1, 1), dt.datetime(2022, 3, 1)
    with client(node, "analyst-gbr", tmp_path) as st:
        rows = st.gp_history(norad_cat_id=25544, epoch=op.inclusive_range(start, end), orderby="epoch asc")
        r = httpx.get(f"{node.base}/api/v1/objects/25544/elsets",
                      params={"start": "2022-01-01T00:00:00", "end": "2022-03-01T00:00:00", "limit": 100000},
                      headers={"Authorization": f"Bearer {node.tokens['analyst-gbr']}"})
        own = [it["epoch"][:26] for it in r.json()["items"]]
        assert [row["EPOCH"] for row in rows] == own and len(own) > 50
        # The 3LE lines are the ingested ones, byte for byte.
        lines = list(st.gp_history(iter_lines=True, norad_cat_id=25544, epoch=op.inclusive_range(start, end),
                                   orderby="epoch asc", format="tle"))
        assert len(lines) == 2 * len(own)
    with client(node, "analyst-fra", tmp_path) as st:
        # The ISS history is releasable to USA and GBR: FRA sees none of it, only the public latest set.
        rows = st.gp_history(norad_cat_id=25544, epoch=op.inclusive_range(start, end))
        assert rows == []


def test_satcat_and_modeldef(interop_node, tmp_path):
    node = interop_node
    with client(node, "analyst-usa-c", tmp_path) as st:
        preds = {p.name for p in st.gp.get_predicates()}
        assert {"norad_cat_id", "epoch", "mean_motion", "tle_line1"} <= preds
        rows = st.satcat(norad_cat_id=sorted(node.slices[0])[:3], orderby="norad_cat_id")
        assert [int(r["NORAD_CAT_ID"]) for r in rows] == sorted(node.slices[0])[:3]
        assert set(rows[0]) >= {"INTLDES", "SATNAME", "COUNTRY", "LAUNCH_YEAR", "OBJECT_ID"}
        secret_usa = sorted(node.slices[2])[:3]
        assert st.satcat(norad_cat_id=secret_usa) == []  # CONFIDENTIAL user, SECRET records
        with pytest.raises(TypeError, match="unexpected argument"):
            st.gp(not_a_field=1)


def test_wrong_password_and_no_session(interop_node, tmp_path):
    node = interop_node
    with pytest.raises(AuthenticationError), client(node, "analyst-gbr", tmp_path, password="wrong") as st:
        st.gp(norad_cat_id=25544)
    r = httpx.get(f"{node.base}/basicspacedata/query/class/gp/NORAD_CAT_ID/25544")
    assert r.status_code == 401 and r.json() == {"error": "You must be logged in to complete this action"}
