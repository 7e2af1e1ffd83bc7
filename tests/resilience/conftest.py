"""Fixtures for the resilience tests: real GNSS constellations from the shared CelesTrak snapshot."""

from __future__ import annotations

import pytest

from orbitwatch.resilience.catalog import load_elsets

GROUPS = "catalog/celestrak_gp_omm_csv_2026-08-18"


@pytest.fixture(scope="session")
def gnss_groups(shared_data):
    """{group: [ElementSet]} for the CelesTrak gps, galileo, glonass and beidou group files."""
    out = {}
    for g in ("gps", "galileo", "glonass", "beidou"):
        elsets, errors = load_elsets(shared_data / GROUPS / f"{g}.csv.gz")
        assert not errors
        out[g] = elsets
    return out


@pytest.fixture(scope="session")
def active_elsets(shared_data):
    elsets, _ = load_elsets(shared_data / GROUPS / "active.csv.gz")
    return elsets
