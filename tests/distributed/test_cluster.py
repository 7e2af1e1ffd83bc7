"""A real dask LocalCluster (2 worker processes) gives exactly the single-process result."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from orbitwatch.conjunctions.screen import screen
from orbitwatch.errors import ConfigurationError
from orbitwatch.formats.tle_fast import read_tle_fast


def _key(res):
    return [(e.norad1, e.norad2, e.tca_unix, e.miss_km, e.r1, e.v1, e.r2, e.v2, e.flags) for e in res.events]


@pytest.mark.slow
def test_local_cluster_equals_single_process(shared_data):
    from distributed import LocalCluster

    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
    elsets = read_tle_fast(gzip.decompress(path.read_bytes()))[0]
    sel = [e for e in elsets if 700 < e.semi_major_axis_km * (1 - e.eccentricity) - 6378 < 900][:400]
    start = datetime(2023, 10, 9, tzinfo=UTC)
    kw = dict(start=start, days=0.5, threshold_km=10.0, with_pc=False)
    single = screen(sel, workers=1, **kw)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        multi = screen(sel, scheduler=cluster.scheduler_address, **kw)
    assert len(single.events) > 5
    assert _key(multi) == _key(single)
    assert multi.flags == single.flags


def test_unreachable_scheduler_is_a_clear_error():
    from geometry_stub import pair

    with pytest.raises(ConfigurationError, match="dask scheduler"):
        screen(pair(), start=datetime(2024, 3, 1, tzinfo=UTC), days=0.1, scheduler="tcp://127.0.0.1:1")
