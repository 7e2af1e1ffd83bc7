"""Screening benchmark: one command, JSON out.

    python benchmarks/screen.py --catalog FILE --days D --threshold-km 5 --json
        [--workers N] [--count N] [--no-pc] [--recall-count 2000 --recall-days 1]

Prints per-stage seconds, events, candidates, peak RSS (this process and its workers), the load
average before and after (the machine may be shared: say so with the figures), and, with
``--recall-count``, the recall/accuracy of the screener against the dense brute-force reference of
``tools/brute_force_screen.py`` on the first N objects.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


def _cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rss_gib() -> dict:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return {"peak_rss_gib_main": round(me, 3), "peak_rss_gib_largest_worker": round(kids, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--threshold-km", type=float, default=5.0)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--count", type=int, help="screen only the first N objects")
    ap.add_argument("--start", help="ISO start (default: the newest epoch in the file)")
    ap.add_argument("--no-pc", action="store_true")
    ap.add_argument("--sample-s", type=float)
    ap.add_argument("--recall-count", type=int, default=0)
    ap.add_argument("--recall-days", type=float, default=1.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from orbitwatch.conjunctions.screen import DEFAULT_SAMPLE_S, HAVE_NUMBA, screen
    from orbitwatch.formats.detect import read_path

    load0 = os.getloadavg()
    t0 = time.perf_counter()
    res = read_path(args.catalog)
    elsets = res.records[: args.count] if args.count else res.records
    t_parse = time.perf_counter() - t0
    start = datetime.fromisoformat(args.start) if args.start else max(e.epoch for e in elsets)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    t1 = time.perf_counter()
    cpu1 = _cpu_s()
    out = screen(elsets, start=start, days=args.days, threshold_km=args.threshold_km, workers=args.workers,
                 with_pc=not args.no_pc, sample_s=args.sample_s or DEFAULT_SAMPLE_S)
    wall = time.perf_counter() - t1
    cpu = _cpu_s() - cpu1
    report = {
        "catalog": Path(args.catalog).name, "objects": len(elsets), "days": args.days,
        "threshold_km": args.threshold_km, "start": start.isoformat(), "workers": args.workers or os.cpu_count(),
        "numba": HAVE_NUMBA, "sample_s": args.sample_s or DEFAULT_SAMPLE_S,
        "parse_s": round(t_parse, 3), "screen_wall_s": round(wall, 3), "total_wall_s": round(t_parse + wall, 3),
        "screen_cpu_s": round(cpu, 2),  # all processes: less sensitive to other users of the machine
        "stage_seconds": {k: round(v, 3) for k, v in out.stage_seconds.items()},
        "events": len(out.events), "candidate_rows": out.candidates, "flagged_objects": len(out.flags),
        "colocated_events": sum("co-located" in e.flags for e in out.events),
        "events_with_pc": sum(e.pc is not None for e in out.events),
        "stats": out.stats, **_rss_gib(), "loadavg_before": load0, "loadavg_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
    }
    if args.recall_count:
        from brute_force_screen import brute_force

        sub = elsets[: args.recall_count]
        t2 = time.perf_counter()
        mine = screen(sub, start=start, days=args.recall_days, threshold_km=args.threshold_km,
                      workers=args.workers, with_pc=False)
        t3 = time.perf_counter()
        ref = brute_force(sub, start.timestamp(), args.recall_days * 86400.0, args.threshold_km)
        t4 = time.perf_counter()
        found = {}
        for e in mine.events:
            found.setdefault((e.norad1, e.norad2), []).append(e)
        hit, dt, dm = 0, [], []
        missed = []
        for r in ref:
            c = [e for e in found.get((r["norad1"], r["norad2"]), []) if abs(e.tca_unix - r["tca_unix"]) < 5]
            if not c:
                missed.append(r)
                continue
            hit += 1
            dt.append(abs(c[0].tca_unix - r["tca_unix"]))
            dm.append(abs(c[0].miss_km - r["miss_km"]))
        report["recall"] = {
            "objects": len(sub), "days": args.recall_days, "reference_events": len(ref),
            "screened_events": len(mine.events), "matched": hit, "recall": hit / len(ref) if ref else 1.0,
            "max_tca_error_ms": round(max(dt, default=0.0) * 1e3, 6),
            "max_miss_error_m": round(max(dm, default=0.0) * 1e3, 6), "missed": missed[:10],
            "screen_s": round(t3 - t2, 2), "brute_force_s": round(t4 - t3, 2),
        }
    print(json.dumps(report, indent=None if args.json else 2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
