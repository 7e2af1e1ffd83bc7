"""Benchmark: GNSS availability for one nation at a 1-degree grid, 60 s steps, 24 h, ~100 satellites.

Target (issue 6): < 30 s on the project machine. ``cpu_seconds`` (process CPU time) is printed beside
the wall time because the shared development machine is often oversubscribed.
Run: ``.venv/bin/python benchmarks/gnss.py [ISO3]``.
Needs the shared data folder beside the checkout (CelesTrak active OMM, 2026-08-18). Prints one JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from orbitwatch.resilience.catalog import load_elsets
from orbitwatch.resilience.gnss import gnss_availability
from orbitwatch.resilience.regions import get_region
from orbitwatch.resilience.services import gnss_system

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalog" / "celestrak_gp_omm_csv_2026-08-18"


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]  # run_all.py passes --json
    region = args[0] if args else "USA"
    elsets, _ = load_elsets(DATA / "active.csv.gz")
    systems = ["GPS", "GALILEO", "GLONASS", "QZSS"]
    nav = [e for e in elsets if gnss_system(e) in systems]
    t0, c0 = time.perf_counter(), time.process_time()
    reg = get_region(region)
    res = gnss_availability(nav, reg, start=datetime(2026, 8, 18, tzinfo=UTC), systems=systems, hours=24,
                            step_s=60, step_deg=1.0)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = res.summary()
    print(json.dumps({"benchmark": "gnss_availability", "region": region, "satellites": len(nav),
                      "grid_points": s["grid_points"], "steps": s["steps"],
                      "point_steps_x_satellites": s["grid_points"] * s["steps"] * len(nav),
                      "seconds": round(dt, 2), "cpu_seconds": round(cpu, 2), "target_seconds": 30,
                      "availability": s["availability"],
                      "pdop_median": s["pdop_median"]}))


if __name__ == "__main__":
    main()
