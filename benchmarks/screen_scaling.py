"""How screening time grows with catalogue size and window length. One command, JSON lines out.

    python benchmarks/screen_scaling.py --catalog FILE [--sizes 5000,10000,26140,100000]
        [--size-days 0.25] [--windows 0.125,0.25,0.5,1] [--workers N]

Sizes beyond the real catalogue are reached with synthetic megaconstellation shells (Walker-delta
patterns at the altitudes and inclinations of filed systems: Starlink-, Kuiper-, OneWeb-, Guowang-like),
built as mean elements (SIMULATED data, never real objects). Each line reports wall seconds, stage
seconds and events; the last line extrapolates to 7 days from the per-day slope.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime

import numpy as np

#: (altitude km, inclination deg, planes, per plane) - shells of filed megaconstellations (approximate).
SHELLS = [
    (550, 53.0, 72, 22), (540, 53.2, 72, 22), (570, 70.0, 36, 20), (560, 97.6, 6, 58),
    (630, 51.9, 34, 34), (610, 42.0, 36, 36), (590, 33.0, 28, 28), (1200, 87.9, 18, 36),
    (1145, 30.0, 48, 36), (1100, 85.0, 60, 60), (1015, 40.0, 48, 48), (1030, 60.0, 64, 64),
    (1160, 55.0, 60, 60), (335, 42.0, 72, 72), (345, 48.0, 72, 72), (360, 53.0, 72, 72),
]


def synthetic(count: int, epoch: datetime, first_norad: int = 400000) -> list:
    from orbitwatch.formats.records import ElementSet

    out = []
    mu, re = 398600.8, 6378.135
    n = first_norad
    cycle = 0
    while True:  # more shells than filed: the same patterns again, 17 km higher and rotated, per cycle
        for alt, inc, planes, per in SHELLS:
            a = re + alt + 17.0 * cycle
            mm = np.sqrt(mu / a ** 3) * 86400 / (2 * np.pi)
            for p in range(planes):
                for s in range(per):
                    if len(out) >= count:
                        return out
                    out.append(ElementSet(norad_id=n, epoch=epoch, mean_motion=float(mm), eccentricity=0.0002,
                                          inclination=inc, raan=(360.0 * p / planes + 7.0 * cycle) % 360.0,
                                          arg_perigee=0.0,
                                          mean_anomaly=(360.0 * s / per + 360.0 * p / (planes * per)) % 360.0,
                                          bstar=1e-5, source_format="omm", object_name=f"SYNTH {n}"))
                    n += 1
        cycle += 1


def run(elsets, start, days, workers) -> dict:
    from orbitwatch.conjunctions.screen import screen

    t = time.perf_counter()
    res = screen(elsets, start=start, days=days, threshold_km=5.0, workers=workers)
    return {"objects": len(elsets), "days": days, "wall_s": round(time.perf_counter() - t, 2),
            "events": len(res.events), "stage_seconds": {k: round(v, 2) for k, v in res.stage_seconds.items()},
            "loadavg": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--sizes", default="5000,10000,26140,100000")
    ap.add_argument("--size-days", type=float, default=0.25)
    ap.add_argument("--windows", default="0.125,0.25,0.5,1")
    ap.add_argument("--workers", type=int)
    args = ap.parse_args(argv)
    from orbitwatch.formats.detect import read_path

    real = read_path(args.catalog).records
    start = datetime(2023, 10, 9, tzinfo=UTC)
    rng = np.random.default_rng(1)
    for size in (int(x) for x in args.sizes.split(",") if x):
        if size <= len(real):
            cat = [real[i] for i in sorted(rng.choice(len(real), size, replace=False))]
        else:
            cat = list(real) + synthetic(size - len(real), start)
        print(json.dumps({"series": "size", **run(cat, start, args.size_days, args.workers)}), flush=True)
    rows = []
    for days in (float(x) for x in args.windows.split(",") if x):
        r = run(real, start, days, args.workers)
        rows.append(r)
        print(json.dumps({"series": "window", **r}), flush=True)
    if len(rows) >= 2:
        d = np.array([r["days"] for r in rows])
        w = np.array([r["wall_s"] for r in rows])
        slope, icpt = np.polyfit(d, w, 1)
        print(json.dumps({"series": "extrapolation", "objects": len(real), "per_day_s": round(slope, 2),
                          "fixed_s": round(icpt, 2), "seven_days_s": round(icpt + 7 * slope, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
