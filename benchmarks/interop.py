"""Benchmark: Space-Track-compatible queries end to end against a real server on loopback.

Issue 9 targets: ``class/gp`` for the whole catalogue (26,140 objects, JSON) < 2 s end to end;
``class/gp_history`` for one object over 5 years (ISS, 9,571 element sets, JSON) < 1 s.

Loads the 2023-10-09 Space-Track catalogue (split among five nations under different markings) and the
ISS 2020-2024 history from the shared data folder, starts ``orbitwatch serve`` in a subprocess, logs in
like the ``spacetrack`` client (``/ajaxauth/login``, cookie) and times each query (the first, "cold",
answer is computed; the median of the ``--repeat`` - 1 others may come from the answer cache), with the
server's CPU seconds beside the wall time (the machine is shared). The very first whole-catalogue answer
after the server started (the database's pages not yet in memory either) is reported on its own; the
targets are judged on the cold answer of a server in service. The client accepts gzip as httpx does;
the same query without gzip is reported too.

Run: ``.venv/bin/python benchmarks/interop.py [--json] [--db sqlite|postgresql] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import CATALOG, database, group_cpu_seconds, server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ISS = ROOT.parent / "shared" / "data" / "tle-history" / "iss_25544_spacetrack_2020-01-01_2024-12-31.tle.gz"
MARKINGS = [("USA", "UNCLASSIFIED"), ("GBR", "SECRET//REL TO USA, GBR"), ("AUS", "SECRET//REL TO AUS, GBR"),
            ("NZL", "UNCLASSIFIED//REL TO GBR, NZL"), ("FRA", "CONFIDENTIAL//REL TO FRA, GBR")]


def load(url: str) -> dict:
    from orbitwatch.markings import Marking
    from orbitwatch.sharing import identity
    from orbitwatch.store.engine import open_engine
    from orbitwatch.store.ingest import ingest_bytes

    engine = open_engine(url)
    lines = gzip.decompress(CATALOG.read_bytes()).decode().splitlines()
    triples = [lines[i:i + 3] for i in range(0, len(lines) - 2, 3)]
    chunks: list[list[str]] = [[] for _ in MARKINGS]
    for k, t in enumerate(triples):
        chunks[k % len(MARKINGS)] += t
    accepted = 0
    for (nation, marking), body in zip(MARKINGS, chunks, strict=True):
        accepted += ingest_bytes(engine, ("\n".join(body) + "\n").encode(), "catalog.3le", source="space-track",
                                 nation=nation, marking=Marking.parse(marking)).accepted
    hist = ingest_bytes(engine, gzip.decompress(ISS.read_bytes()), "iss.tle", source="space-track", nation="USA",
                        marking=Marking.parse("UNCLASSIFIED//REL TO USA, GBR")).accepted
    identity.create_user(engine, "analyst-gbr", nation="GBR", clearance="SECRET", password="benchmark password")
    engine.dispose()
    return {"catalogue": accepted, "iss_history": hist}


def timed(client, url: str, repeat: int, headers: dict | None = None) -> dict:
    times, size, wire, rows, encoding = [], 0, 0, 0, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(url, headers=headers)
        r.raise_for_status()
        data = r.json()
        times.append(time.perf_counter() - t0)
        size, wire, rows = len(r.content), r.num_bytes_downloaded, len(data)
        encoding = r.headers.get("content-encoding", "identity")
    # The first answer is computed; repeats may come from the worker's answer cache (same reader, same
    # catalogue revision), so both are reported and the target is judged on the cold one.
    return {"rows": rows, "bytes": size, "bytes_on_the_wire": wire, "content_encoding": encoding,
            "cold_s": round(times[0], 3),
            "warm_median_s": round(statistics.median(times[1:]), 3) if len(times) > 1 else None}


def main() -> None:
    import httpx

    from orbitwatch.api.testing import free_port

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="(always JSON)")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not CATALOG.is_file() or not ISS.is_file():
        print(json.dumps({"benchmark": "interop", "error": "shared data folder not found"}))
        return
    load_before = round(os.getloadavg()[0], 2)
    with database(args.db) as url:
        loaded = load(url)
        port = free_port()
        with server(url, port, 1) as proc:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as c:
                r = c.post("/ajaxauth/login", data={"identity": "analyst-gbr", "password": "benchmark password"})
                r.raise_for_status()
                c.get("/basicspacedata/query/class/gp/NORAD_CAT_ID/25544")  # warm the worker
                # The very first whole-catalogue answer after the server started: the database's pages
                # are not in memory yet either. (Its own query text: the answer cache stays cold below.)
                first = timed(c, "/basicspacedata/query/class/gp/orderby/NORAD_CAT_ID/format/json", 1)
                s0 = group_cpu_seconds(proc.pid)
                # As the spacetrack client asks (httpx sends Accept-Encoding: gzip): the node gzips.
                gp = timed(c, "/basicspacedata/query/class/gp/orderby/NORAD_CAT_ID", args.repeat)
                s1 = group_cpu_seconds(proc.pid)
                # A client that does not accept gzip (another query text, so a cold answer cache too).
                gp_plain = timed(c, "/basicspacedata/query/class/gp/orderby/NORAD_CAT_ID asc", args.repeat,
                                 headers={"Accept-Encoding": "identity"})
                s1b = group_cpu_seconds(proc.pid)
                hist = timed(c, "/basicspacedata/query/class/gp_history/NORAD_CAT_ID/25544/orderby/EPOCH asc",
                             args.repeat)
                s2 = group_cpu_seconds(proc.pid)
                ct = timed(c, "/NORAD/elements/gp.php?GROUP=active&FORMAT=JSON", args.repeat)
    gp["server_cpu_s_all_repeats"] = round(s1 - s0, 3)
    gp_plain["server_cpu_s_all_repeats"] = round(s1b - s1, 3)
    hist["server_cpu_s_all_repeats"] = round(s2 - s1b, 3)
    print(json.dumps({
        "benchmark": "interop", "database": args.db, "loaded": loaded, "cpus": os.cpu_count(),
        "load_average_1m_before": load_before, "load_average_1m": round(os.getloadavg()[0], 2),
        "gp_whole_catalogue_json_first_after_start": first,
        "gp_whole_catalogue_json": {**gp, "target_s": 2.0, "meets_target": gp["cold_s"] < 2.0},
        "gp_whole_catalogue_json_no_gzip": {**gp_plain, "target_s": 2.0, "meets_target": gp_plain["cold_s"] < 2.0},
        "gp_history_iss_5_years_json": {**hist, "target_s": 1.0, "meets_target": hist["cold_s"] < 1.0},
        "celestrak_group_active_json": ct,
    }, indent=2))


if __name__ == "__main__":
    main()
