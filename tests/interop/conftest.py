"""A live node on loopback with real public data under different markings, for the interop tests."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

import pytest

from orbitwatch.api import create_app
from orbitwatch.api.testing import live_server, node_settings
from orbitwatch.markings import Marking
from orbitwatch.sharing import identity
from orbitwatch.store.engine import open_engine
from orbitwatch.store.ingest import ingest_bytes

#: (nation ingesting, marking) per slice of the catalogue; slice 0 is public (TLP:CLEAR).
SLICES = [
    ("USA", "UNCLASSIFIED//TLP:CLEAR"),
    ("GBR", "SECRET//REL TO USA, GBR"),
    ("USA", "SECRET//USA EYES ONLY"),
    ("FRA", "CONFIDENTIAL//REL TO FRA, GBR"),
]


@dataclass
class InteropNode:
    base: str
    engine: object
    tokens: dict[str, str]  # username -> token
    slices: list[set[int]]  # NORAD ids per slice
    marking_of: dict[int, Marking]


def _triples(path, limit: int):
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    out = []
    for i in range(0, len(lines) - 2, 3):
        if lines[i + 1].startswith("1 ") and lines[i + 2].startswith("2 "):
            out.append(lines[i:i + 3])
        if len(out) >= limit:
            break
    return out


@pytest.fixture
def interop_node(db_url, shared_data):
    engine = open_engine(db_url)
    triples = _triples(shared_data / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz", 800)
    slices: list[set[int]] = [set() for _ in SLICES]
    marking_of: dict[int, Marking] = {}
    chunks: list[list[str]] = [[] for _ in SLICES]
    for k, t in enumerate(triples):
        norad = int(t[1][2:7])
        s = 0 if norad == 25544 else 1 + k % (len(SLICES) - 1) if k % 2 else 0
        chunks[s] += t
        slices[s].add(norad)
        marking_of[norad] = Marking.parse(SLICES[s][1])
    for (nation, marking), lines in zip(SLICES, chunks, strict=True):
        ingest_bytes(engine, ("\n".join(lines) + "\n").encode(), "catalog.3le", source="space-track",
                     nation=nation, marking=Marking.parse(marking))
    # Two years of ISS element sets, releasable to USA and GBR only.
    iss = gzip.decompress((shared_data / "tle-history" / "iss_25544_spacetrack_2020-01-01_2024-12-31.tle.gz")
                          .read_bytes())
    iss_marking = Marking.parse("UNCLASSIFIED//REL TO USA, GBR")
    ingest_bytes(engine, iss, "iss.tle", source="space-track", nation="USA", marking=iss_marking)
    marking_of.setdefault(25544, iss_marking)
    tokens = {}
    for name, nation, clearance in (("analyst-gbr", "GBR", "SECRET"), ("analyst-usa-c", "USA", "CONFIDENTIAL"),
                                    ("analyst-fra", "FRA", "SECRET")):
        identity.create_user(engine, name, nation=nation, clearance=clearance, roles=("analyst",))
        tokens[name], _ = identity.issue_token(engine, name)
    app = create_app(node_settings(public_access=True, rate_limit_per_minute=100_000), engine)
    with live_server(app) as base:
        yield InteropNode(base, engine, tokens, slices, marking_of)
    engine.dispose()
