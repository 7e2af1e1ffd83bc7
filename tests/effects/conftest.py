"""Fixtures for the effects tests: the Cosmos 1408 parent and its catalogued debris."""

from __future__ import annotations

import gzip

import pytest

from orbitwatch.errors import RecordError
from orbitwatch.formats.tle import read_tle


def _tle(path):
    with gzip.open(path, "rt") as fh:
        return [e for e in read_tle(fh, file=str(path)) if not isinstance(e, RecordError)]


@pytest.fixture(scope="session")
def cosmos1408(shared_data):
    """The last Cosmos 1408 element set before the ASAT test (epoch 2021-11-13)."""
    return _tle(shared_data / "history" / "13552.tle.gz")[0]


@pytest.fixture(scope="session")
def cosmos1408_debris_2022(shared_data):
    """The 1982-092 pieces still catalogued on 2022-07-14 (Space-Track full catalogue)."""
    path = shared_data / "catalog" / "spacetrack_full_catalog_3le_2022-07-14.txt.gz"
    return [e for e in _tle(path) if (e.object_id or "").startswith("1982-092") and e.norad_id >= 49000]


@pytest.fixture(scope="session")
def cosmos1408_pieces_ever(shared_data):
    """Number of 1982-092 pieces catalogued after the test (CelesTrak SATCAT, March 2025)."""
    path = shared_data / "satcat" / "celestrak_satcat_processed_2025-03-06.csv.gz"
    n = 0
    with gzip.open(path, "rt") as fh:
        for line in fh:
            f = line.split(",")
            if len(f) > 2 and f[1].startswith("1982-092") and f[2].isdigit() and int(f[2]) >= 49000:
                n += 1
    return n
