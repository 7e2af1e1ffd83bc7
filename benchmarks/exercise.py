"""Benchmark: a 72-hour exercise on the full real catalogue, stepped every 10 simulated minutes with the
detectors on, headless (scripted players), to the after-action report. Prints one JSON document.

    python benchmarks/exercise.py [--catalog FILE] [--satcat FILE] [--scenario examples/shadow.yaml]
                                  [--players examples/shadow_players.yaml] [--step 10m] [--db URL]
                                  [--no-report]

Defaults: the 2023-10-09 Space-Track full catalogue (26,140 objects) and the processed CelesTrak SATCAT
from ../shared/data (owners, object types), SQLite in a temporary directory. Target: < 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=str(DATA / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"))
    ap.add_argument("--satcat", default=str(DATA / "satcat" / "celestrak_satcat_processed_2025-03-06.csv.gz"))
    ap.add_argument("--scenario", default=str(ROOT / "examples" / "shadow.yaml"))
    ap.add_argument("--players", default=str(ROOT / "examples" / "shadow_players.yaml"))
    ap.add_argument("--step", default="10m")
    ap.add_argument("--db", default=None)
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args(argv)

    from orbitwatch.exercise.catalog import file_catalog
    from orbitwatch.exercise.engine import Exercise
    from orbitwatch.exercise.metrics import compute
    from orbitwatch.exercise.players import ScriptedPlayers, load_players
    from orbitwatch.store import open_engine

    t_all = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="ow-bench-ex-")
    db = open_engine(args.db or f"sqlite:///{tmp}/exercise.sqlite")
    t0 = time.perf_counter()
    cat = file_catalog([args.catalog], satcat=[args.satcat] if args.satcat and os.path.exists(args.satcat) else [])
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = Exercise.create(db, args.scenario, cat, players=ScriptedPlayers(load_players(args.players)),
                         overrides={"step": args.step}, created_by="benchmark")
    t_create = time.perf_counter() - t0
    step_times: list[float] = []
    t0 = time.perf_counter()
    while ex.status != "ended":
        s0 = time.perf_counter()
        ex.step()
        step_times.append(time.perf_counter() - s0)
    t_run = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = None
    if not args.no_report:
        from orbitwatch.exercise.report import write_report

        report = {k: str(v) for k, v in write_report(ex, Path(tmp) / "aar").items()}
    t_report = time.perf_counter() - t0
    m = compute(ex, gnss=False)
    total = time.perf_counter() - t_all
    step_times.sort()
    out = {
        "benchmark": "exercise",
        "scenario": ex.name,
        "catalog": cat.as_dict(),
        "objects_in_world": len(ex.world.current),
        "assets": sum(len(v) for v in ex.world.assets.values()),
        "roles": ex.world.roles,
        "simulated_hours": round((ex.end_ts - ex.start_ts) / 3600.0, 2),
        "step_s": ex.step_s,
        "steps": len(step_times),
        "seconds": {"load_catalog": round(t_load, 2), "create": round(t_create, 2), "run": round(t_run, 2),
                    "report": round(t_report, 2), "total": round(total, 2),
                    "step_mean": round(sum(step_times) / max(1, len(step_times)), 3),
                    "step_p50": round(step_times[len(step_times) // 2], 3) if step_times else None,
                    "step_max": round(step_times[-1], 3) if step_times else None,
                    "by_stage": {k: round(v, 2) for k, v in ex.timings.items()}},
        "detector": ex.detector.stats(),
        "alerts": m["alerts_by_kind"],
        "injects": {k: v.status for k, v in ex.injects.items()},
        "time_to_detect_s": {d["inject"]: d["time_to_detect_s"] for d in m["detection"]},
        "time_to_share_s": {d["inject"]: d["time_to_share_s"] for d in m["detection"]},
        "consensus": [(c["status"], c["outcome"], c["time_to_consensus_s"]) for c in m["consensus"]],
        "objectives": {o["id"]: o["rating"] for o in m["objectives"]},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "target_total_s": 600,
        "ok": total < 600,
        "report": report,
        "load_average": os.getloadavg(),
    }
    json.dump(out, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
