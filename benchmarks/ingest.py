"""Ingest benchmark: the full real catalogue plus the SATCAT into SQLite and PostgreSQL.

    python benchmarks/ingest.py --json [--catalog FILE] [--satcat FILE] [--postgres URL | --no-postgres]

Prints one JSON object. ``end_to_end`` per database: the issue's figure, measured from outside - a new
``orbitwatch ingest CATALOG SATCAT --json`` process, timed from its start (interpreter, imports, schema)
until it reports both files committed (its JSON line) and until it exits (after the background WAL
checkpoint), on an empty store ("first") and again on the same store ("repeat": every element set a
duplicate, every SATCAT row already described), with the child's CPU seconds and peak RSS; element sets
per second there are the catalogue's 26,140 sets over the whole time, SATCAT included.
In-process (the package already imported): element sets per second of the catalogue file alone
(read + parse + validate + insert + commit),
with the seconds of each stage (read = file bytes to parsed columns, rows = row values and digests,
element_sets = their insert, objects = object descriptions, views = composed object rows and the batch
record, commit), the SATCAT rate, a second (duplicate) run, the whole-catalogue latest-element-set query
time (best of three after one warm-up), the time background WAL checkpoints took (SQLite), the element-set
ingest again into a second empty database of the same process ("warm": no first-use costs), peak RSS, and
the load average before and after. ``catalog_plus_satcat_per_second``: the catalogue's element sets over
the in-process time of both files.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DEFAULT_CATALOG = SHARED / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
DEFAULT_SATCAT = SHARED / "satcat" / "celestrak_satcat_processed_2025-03-06.csv.gz"
DEFAULT_PG = os.environ.get("ORBITWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _stages(report) -> dict:
    return {k: round(v, 3) for k, v in report.stages.items()}


def _cli_run(url: str, catalog: Path, satcat: Path) -> dict:
    """One ``orbitwatch ingest`` process: seconds to its report (both files committed) and to its exit."""
    exe = shutil.which("orbitwatch", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-c", "from orbitwatch.cli import main; main()"]
    cmd += ["ingest", str(catalog), str(satcat), "--source", "space-track", "--json", "--db", url]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the report line arrives as it is written
    with tempfile.TemporaryFile() as errfile:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile, env=env)
        line = child.stdout.readline()
        t_report = time.perf_counter() - t0
        rest = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        t_exit = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stdout.close()
        errfile.seek(0)
        err = errfile.read().decode(errors="replace")
    if child.returncode != 0 or not line:
        raise RuntimeError(f"orbitwatch ingest failed ({child.returncode}): {err[-2000:]} {rest[-500:]!r}")
    report = json.loads(line)
    return {"seconds_to_committed": round(t_report, 3), "seconds_to_exit": round(t_exit, 3),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "accepted": report["accepted"], "duplicates": report["duplicates"], "rejected": report["rejected"]}


def end_to_end(url: str, catalog: Path, satcat: Path, element_sets: int) -> dict:
    """The issue's figure: process start to committed store, catalogue and SATCAT, first and repeat."""
    out = {}
    for name in ("first", "repeat"):
        r = _cli_run(url, catalog, satcat)
        r["element_sets_per_second"] = round(element_sets / r["seconds_to_committed"])
        r["load_average"] = [round(x, 2) for x in os.getloadavg()]
        out[name] = r
    return out


def run(url: str, catalog: Path, satcat: Path, second_url: str | None = None) -> dict:
    from orbitwatch.store import ingest_paths, latest_element_sets, open_engine
    from orbitwatch.store.engine import CHECKPOINT_STATS, wait_for_checkpoints

    engine = open_engine(url)
    ckpt0 = CHECKPOINT_STATS["seconds"]
    t0, c0 = time.perf_counter(), time.process_time()
    first = ingest_paths(engine, [catalog], source="space-track")
    t_elsets, c_elsets = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    sat = ingest_paths(engine, [satcat], source="celestrak")
    t_satcat = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = ingest_paths(engine, [catalog], source="space-track")
    t_again = time.perf_counter() - t0
    with engine.connect() as conn:
        latest_element_sets(conn)  # warm the page cache as a server would be
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            n_latest = len(latest_element_sets(conn))
            times.append(time.perf_counter() - t0)
    engine.dispose()
    wait_for_checkpoints()
    warm: dict = {}
    if second_url is not None:
        # The same file into a second, empty database of the same process: no first-use costs (imports,
        # the process's first ~100 MB of memory), what a server or a batch of files sees.
        engine = open_engine(second_url)
        t0 = time.perf_counter()
        w = ingest_paths(engine, [catalog], source="space-track")
        t_warm = time.perf_counter() - t0
        engine.dispose()
        wait_for_checkpoints()
        warm = {"element_sets_warm_seconds": round(t_warm, 3),
                "element_sets_warm_per_second": round(w.accepted / t_warm), "element_sets_warm_stages": _stages(w)}
    return {
        "element_sets": first.accepted, "rejected": first.rejected,
        "element_sets_seconds": round(t_elsets, 3), "element_sets_cpu_seconds": round(c_elsets, 3),
        "element_sets_per_second": round(first.accepted / t_elsets), "element_sets_stages": _stages(first),
        "satcat_records": sat.accepted, "satcat_seconds": round(t_satcat, 3),
        "satcat_records_per_second": round(sat.accepted / t_satcat), "satcat_stages": _stages(sat),
        "combined_records_per_second": round((first.accepted + sat.accepted) / (t_elsets + t_satcat)),
        "catalog_plus_satcat_per_second": round(first.accepted / (t_elsets + t_satcat)),
        "duplicate_run_seconds": round(t_again, 3), "duplicate_run_duplicates": again.duplicates,
        "latest_query_objects": n_latest, "latest_query_seconds": round(min(times), 3),
        "latest_query_seconds_all": [round(t, 3) for t in times],
        # SQLite: WAL checkpoints run on a background thread after each commit (docs/architecture.md).
        "background_checkpoint_seconds": round(CHECKPOINT_STATS["seconds"] - ckpt0, 3),
        **warm,
    }


def _count_sets(path: Path) -> int:
    from orbitwatch.formats.detect import read_path

    return read_path(path).records.__len__()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    ap.add_argument("--satcat", type=Path, default=DEFAULT_SATCAT)
    ap.add_argument("--postgres", default=DEFAULT_PG)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--no-end-to-end", action="store_true", help="skip the command-line process runs")
    args = ap.parse_args()
    if not args.catalog.exists():
        sys.exit(f"catalogue {args.catalog} not found (it lives in ../shared/data)")
    out: dict = {"catalog": args.catalog.name, "satcat": args.satcat.name, "cpus": os.cpu_count(),
                 "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    n_sets = 26140 if args.catalog == DEFAULT_CATALOG else None
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_end_to_end:
            out["sqlite_end_to_end"] = end_to_end(f"sqlite:///{tmp}/cli.sqlite", args.catalog, args.satcat,
                                                  n_sets or _count_sets(args.catalog))
        out["sqlite"] = run(f"sqlite:///{tmp}/bench.sqlite", args.catalog, args.satcat, f"sqlite:///{tmp}/warm.sqlite")
    if not args.no_postgres:
        import psycopg

        schemas = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(3)]
        plain = args.postgres.replace("postgresql+psycopg", "postgresql")
        try:
            with psycopg.connect(plain, autocommit=True) as c:
                for schema in schemas:
                    c.execute(f'CREATE SCHEMA "{schema}"')
            url, warm_url, cli_url = (f"{args.postgres}?options=-csearch_path%3D{schema}" for schema in schemas)
            if not args.no_end_to_end:
                out["postgresql_end_to_end"] = end_to_end(cli_url, args.catalog, args.satcat,
                                                          n_sets or _count_sets(args.catalog))
            out["postgresql"] = run(url, args.catalog, args.satcat, warm_url)
        except psycopg.OperationalError as exc:
            out["postgresql"] = {"skipped": str(exc)}
        finally:
            try:
                with psycopg.connect(plain, autocommit=True) as c:
                    for schema in schemas:
                        c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            except psycopg.OperationalError:
                pass
    out["peak_rss_mib"] = round(_peak_rss_mib(), 1)  # this process (the in-process runs)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=None))


if __name__ == "__main__":
    main()
