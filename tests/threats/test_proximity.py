"""RPO: RTN-volume approaches (geometry checked against skyfield), co-orbital approach signatures,
event states, real co-located vehicles at the ISS, GEO longitudes and drift-and-stop."""

from __future__ import annotations

import gzip
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from orbitwatch.formats import read_path
from orbitwatch.formats.tle import read_tle
from orbitwatch.threats.geo import N_SYNC_REV_DAY, drift_and_stop, drift_rate_deg_day, longitudes, neighbourhood
from orbitwatch.threats.proximity import (
    LEO_VOLUME,
    approaches_by_grid,
    build_events,
    co_orbital_analysis,
    find_approaches,
    merge_states,
    protected_assets,
)

sys.path.insert(0, str(Path(__file__).parent))
from synth import at, clone, evolve  # noqa: E402


@pytest.fixture(scope="module")
def iss(shared_data):
    with gzip.open(shared_data / "history" / "25544.tle.gz", "rt") as fh:
        return [r for r in read_tle(fh) if not hasattr(r, "reason")][0]


def _skyfield_rtn(asset, obj, tca_ts):
    """Independent geometry: skyfield GCRS positions of both, RTN of the object in the asset's frame."""
    from skyfield.api import EarthSatellite, load

    from orbitwatch.threats.orbits import satrec_of

    ts = load.timescale(builtin=True)
    from datetime import UTC, datetime

    t = ts.from_datetime(datetime.fromtimestamp(tca_ts, UTC))
    a = EarthSatellite.from_satrec(satrec_of(asset), ts).at(t)
    o = EarthSatellite.from_satrec(satrec_of(obj), ts).at(t)
    ra, va, ro = a.position.km, a.velocity.km_per_s, o.position.km
    rh = ra / np.linalg.norm(ra)
    nh = np.cross(ra, va)
    nh /= np.linalg.norm(nh)
    th = np.cross(nh, rh)
    d = ro - ra
    return np.array([d @ rh, d @ th, d @ nh])


def test_grid_search_geometry_matches_skyfield(iss):
    # an object 0.15 deg ahead along track, plane tilted 0.005 deg: it stays inside the 10x50x10 km volume
    obj = clone(iss, 90001, mean_anomaly=(iss.mean_anomaly + 0.15) % 360, inclination=iss.inclination + 0.005)
    aps = approaches_by_grid([iss], [obj], start_ts=iss.epoch_unix, days=0.05)
    assert aps, "co-orbital neighbour not found"
    ap = aps[0]
    ref = _skyfield_rtn(iss, obj, ap.tca_ts)
    # same SGP4 states, different frame chain (TEME vs GCRS): RTN is frame-independent to << 1 m
    assert np.allclose(ap.rtn_km, ref, atol=1e-3), (ap.rtn_km, ref)
    assert ap.range_km == pytest.approx(float(np.linalg.norm(ref)), abs=1e-3)
    assert ap.inside and ap.relative_speed_kms < 0.05


def test_screen_and_grid_agree(iss):
    """The screening pipeline and the self-contained grid search find the same passage."""
    pytest.importorskip("orbitwatch.conjunctions.screen")
    obj = clone(iss, 90002, mean_anomaly=(iss.mean_anomaly + 0.2) % 360, inclination=iss.inclination + 0.02)
    grid = approaches_by_grid([iss], [obj], start_ts=iss.epoch_unix, days=0.1)
    scr = find_approaches([iss], [obj], start_ts=iss.epoch_unix, days=0.1, use_screen=True)
    assert grid and scr
    assert min(a.range_km for a in scr) == pytest.approx(min(a.range_km for a in grid), abs=0.2)


def test_fast_crossing_far_away_is_not_inside(iss):
    obj = clone(iss, 90003, raan=(iss.raan + 90.0) % 360)
    aps = approaches_by_grid([iss], [obj], start_ts=iss.epoch_unix, days=0.1)
    assert all(not a.inside for a in aps) or aps == []


def test_iss_visiting_vehicles_are_co_located(shared_data):
    """Real case: vehicles docked at the ISS share its element sets (CelesTrak active, 2025-11-10)."""
    res = read_path(shared_data / "tle-history" / "celestrak_active_tle_snapshots_2025-11-10_to_2026-03-04"
                    / "active_2025-11-10.tle.gz")
    els = {r.norad_id: r for r in res.records if hasattr(r, "mean_motion")}
    docked = {49044, 63520, 64751, 65077, 65304, 65586, 65616, 66174}  # Nauka, Soyuz, Progress, Dragon, Cygnus, HTV-X
    others = [els[n] for n in docked] + [els[n] for n in (65729, 65942, 48274)]  # deployed cubesats, CSS
    aps = approaches_by_grid([els[25544]], others, start_ts=els[25544].epoch_unix, days=0.1)
    found = {a.object for a in aps if a.inside}
    assert docked <= found
    assert 48274 not in found  # the Chinese station is in another orbit
    events = build_events(aps, [])
    assert all(e.closest_km < 1e-3 for e in events if e.object in docked)


def test_co_orbital_approach_with_manoeuvres(iss):
    """A synthetic approacher: same plane, 3 km lower (drifting forward ~400 km/day), 1500 km behind,
    element sets every 6 h; at day 1.5 it lowers by another 2 km (closing faster). Truth is known."""
    t0 = iss.epoch_unix
    times = t0 + np.arange(0, 3.0, 0.25) * 86400.0
    asset_hist = evolve(iss, times)
    n_low = iss.mean_motion * (1 + 1.5 * 3.0 / iss.semi_major_axis_km)
    chaser0 = clone(iss, 90010, mean_anomaly=(iss.mean_anomaly - 12.0) % 360, mean_motion=n_low)
    pre = [t for t in times if t < t0 + 1.5 * 86400]
    post = [t for t in times if t >= t0 + 1.5 * 86400]
    burn = at(chaser0, t0 + 1.5 * 86400)
    burn.mean_motion *= 1 + 1.5 * 2.0 / iss.semi_major_axis_km
    chaser_hist = evolve(chaser0, pre) + evolve(burn, post)
    co = co_orbital_analysis(asset_hist, chaser_hist)
    assert co is not None
    assert co.plane_angle_deg < 0.05 and co.delta_a_km < -4.0  # lower orbit precesses a bit faster
    assert co.approaching and co.sustained and co.decreasing_sets >= 3
    assert co.trend_km_per_day < -300.0
    # the lowering burn is detected in the approacher's own history and reduced the range
    assert co.manoeuvres, "burn not detected"
    assert any(m.kind == "lowering" for m in co.reducing_manoeuvres)
    m = co.reducing_manoeuvres[0]
    assert m.start_ts <= t0 + 1.5 * 86400 <= m.end_ts + 6 * 3600
    assert co.delta_v_to_close_mps > 0


def test_receding_object_is_not_approaching(iss):
    t0 = iss.epoch_unix
    times = t0 + np.arange(0, 2.0, 0.25) * 86400.0
    asset_hist = evolve(iss, times)
    leaver = clone(iss, 90011, mean_anomaly=(iss.mean_anomaly + 1.0) % 360,
                   mean_motion=iss.mean_motion * (1 + 1.5 * 3.0 / iss.semi_major_axis_km))  # lower, ahead
    co = co_orbital_analysis(asset_hist, evolve(leaver, times))
    assert co is not None and not co.approaching and co.trend_km_per_day > 0


def test_other_plane_is_not_co_orbital(iss):
    other = clone(iss, 90012, raan=(iss.raan + 20.0) % 360)
    assert co_orbital_analysis([iss], [other]) is None


def test_event_states():
    from orbitwatch.threats.proximity import Approach

    ap = Approach(1, 2, 100.0, 3.0, (1.0, 2.0, 0.5), 0.01, 0.1)
    first = merge_states(build_events([ap], []), previous=set())
    assert [e.state for e in first] == ["DETECTED"]
    again = merge_states(build_events([ap], []), previous={(1, 2)})
    assert [e.state for e in again] == ["UPDATED"]
    gone = merge_states([], previous={(1, 2)})
    assert [(e.state, e.asset, e.object) for e in gone] == [("CLOSED", 1, 2)]
    d = again[0].as_dict()
    for key in ("asset", "object", "state", "closest_km", "tca", "relative_speed_kms", "sustained"):
        assert key in d


def test_protected_assets_from_satcat():
    objs = [{"norad_id": 1, "owner": "US", "object_type": "PAYLOAD"},
            {"norad_id": 2, "owner": "PRC", "object_type": "PAYLOAD"},
            {"norad_id": 3, "owner": "UK", "object_type": "DEBRIS"},
            {"norad_id": 4, "owner_nation": "NOR", "object_type": "PAYLOAD"}]
    assert protected_assets(objs) == {1, 4}
    assert protected_assets(objs, nations=["NOR"], extra=[2]) == {2, 4}


def test_leo_volume_metric():
    assert LEO_VOLUME.metric(np.array([10.0, 0, 0])) == pytest.approx(1.0)
    assert LEO_VOLUME.metric(np.array([0, 49.0, 0])) < 1.0
    assert LEO_VOLUME.metric(np.array([0, 0, 11.0])) > 1.0


# -------------------------------------------------------------------------------------------- GEO
@pytest.fixture(scope="module")
def geo_catalog(shared_data):
    res = read_path(shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz")
    return [r for r in res.records if hasattr(r, "mean_motion") and r.regime == "GEO"]


def test_geo_longitude_matches_skyfield(geo_catalog):
    from datetime import UTC, datetime

    from skyfield.api import EarthSatellite, load, wgs84

    from orbitwatch.threats.orbits import satrec_of

    ts = load.timescale(builtin=True)
    sample = [e for e in geo_catalog if e.object_name in ("ASTRA 1KR", "GALAXY 16", "INTELSAT 901")]
    assert len(sample) == 3
    t_ts = max(e.epoch_unix for e in sample)
    lon, _ = longitudes(sample, t_ts)
    t = ts.from_datetime(datetime.fromtimestamp(t_ts, UTC))
    for es, mine in zip(sample, lon, strict=True):
        ref = wgs84.latlon_of(EarthSatellite.from_satrec(satrec_of(es), ts).at(t))[1].degrees
        assert abs(((mine - ref + 180) % 360) - 180) < 0.01  # UT1-UTC and polar motion ignored: < 0.01 deg
    assert lon[[e.object_name for e in sample].index("ASTRA 1KR")] == pytest.approx(19.2, abs=0.15)


def test_geo_neighbourhood_finds_co_located_fleet(geo_catalog):
    """Real co-location: SES's Astra fleet shares the 19.2°E slot."""
    astra = next(e for e in geo_catalog if e.object_name == "ASTRA 1KR")
    t_ts = astra.epoch_unix
    nb = neighbourhood([astra], geo_catalog, t_ts, half_width_deg=0.2)
    names = {e.norad_id: e.object_name for e in geo_catalog}
    found = {names[n.object] for n in nb}
    assert any(n.startswith("ASTRA 1") for n in found), found
    assert all(abs(n.delta_longitude_deg) <= 0.2 and abs(n.delta_radius_km) <= 50 for n in nb)


def test_drift_rate_sign():
    assert drift_rate_deg_day(N_SYNC_REV_DAY) == pytest.approx(0.0)
    assert drift_rate_deg_day(N_SYNC_REV_DAY + 1 / 360) == pytest.approx(1.0)  # faster -> drifts east


def test_drift_and_stop_signature(geo_catalog):
    """Synthetic: an object 3° west of an allied GEO satellite drifts east at 0.3°/day for 8 days,
    then stops (synchronous mean motion) about 0.6° from it."""
    asset = next(e for e in geo_catalog if e.object_name == "GALAXY 16")
    t0 = asset.epoch_unix
    ahead = math.radians(-3.0)
    obj = clone(asset, 90020, mean_anomaly=(asset.mean_anomaly + math.degrees(ahead)) % 360,
                mean_motion=asset.mean_motion + 0.3 / 360.0)
    drift_times = t0 + np.arange(0, 8.0, 1.0) * 86400.0
    hist = evolve(obj, drift_times)
    stop = at(obj, t0 + 8 * 86400.0)
    stop.mean_motion = asset.mean_motion
    hist += evolve(stop, t0 + np.arange(8.0, 12.0, 1.0) * 86400.0)
    asset_hist = evolve(asset, t0 + np.arange(0, 12.0, 1.0) * 86400.0)
    ds = drift_and_stop(asset_hist, hist)
    assert ds is not None
    assert abs(ds.final_gap_deg) < 1.0 and abs(ds.initial_gap_deg) > 2.5
    assert ds.max_drift_deg_day == pytest.approx(0.3, abs=0.05)
    # a satellite that stays put in its own slot is not flagged
    assert drift_and_stop(asset_hist, evolve(clone(asset, 90021, mean_anomaly=(asset.mean_anomaly + 0.5) % 360),
                                             t0 + np.arange(0, 12.0, 1.0) * 86400.0)) is None
