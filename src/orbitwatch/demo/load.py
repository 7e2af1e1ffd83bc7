"""Fill an empty store for ``make run``: live CelesTrak data when online, else the bundled demo."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from orbitwatch.markings import Marking
from orbitwatch.store import IngestReport, ingest_bytes, ingest_paths

CELESTRAK_GP = "https://celestrak.org/NORAD/elements/gp.php?GROUP={group}&FORMAT=csv"
CELESTRAK_SATCAT = "https://celestrak.org/pub/satcat.csv"
# The active payloads plus the big debris clouds that matter for conjunction and ASAT analysis.
LIVE_GROUPS = ("active", "cosmos-1408-debris", "fengyun-1c-debris", "iridium-33-debris",
               "cosmos-2251-debris")


@dataclass
class DemoLoad:
    source: str  # "celestrak" or "bundled-demo"
    report: IngestReport
    note: str


def _download(url: str, timeout: float) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "orbitwatch (demo loader)"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - fixed https URLs
        return resp.read()


def load_live(engine: Engine, *, timeout: float = 15.0) -> DemoLoad:
    """Download the current CelesTrak GP catalogue (OMM CSV) and SATCAT; raises OSError offline."""
    report = IngestReport()
    marking = Marking.parse("UNCLASSIFIED")
    for group in LIVE_GROUPS:
        data = _download(CELESTRAK_GP.format(group=group), timeout)
        report.add(ingest_bytes(engine, data, f"celestrak-{group}.csv", source="celestrak",
                                marking=marking, user="make-run"))
    data = _download(CELESTRAK_SATCAT, timeout)
    report.add(ingest_bytes(engine, data, "celestrak-satcat.csv", source="celestrak", marking=marking,
                            user="make-run"))
    return DemoLoad("celestrak", report, "current CelesTrak GP catalogue and SATCAT (REAL)")


def load_bundled(engine: Engine) -> DemoLoad:
    """The project's own SIMULATED demo catalogue shipped in the package."""
    from orbitwatch.demo.generate import OMM_FILE, SATCAT_FILE, SIZES_FILE

    marking = Marking.parse("UNCLASSIFIED//SIMULATED")
    paths: list[Path] = [OMM_FILE, SATCAT_FILE, SIZES_FILE]
    report = ingest_paths(engine, paths, source="orbitwatch-demo", marking=marking, user="make-run")
    return DemoLoad("bundled-demo", report, "bundled demo catalogue (SIMULATED, no network)")


def load_demo_data(engine: Engine, *, offline: bool | None = None) -> DemoLoad:
    """Live data when the network answers, the bundled demo otherwise (``ORBITWATCH_OFFLINE=1`` forces it)."""
    if offline is None:
        offline = os.environ.get("ORBITWATCH_OFFLINE") == "1"
    if not offline:
        try:
            return load_live(engine)
        except OSError:
            pass
    return load_bundled(engine)
