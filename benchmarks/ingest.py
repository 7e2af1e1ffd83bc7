"""Ingest benchmark: the full real catalogue plus the SATCAT into SQLite and PostgreSQL.

    python benchmarks/ingest.py --json [--catalog FILE] [--satcat FILE] [--postgres URL | --no-postgres]
                                [--runs N] [--bytecode-cache]

Prints one JSON object. ``end_to_end`` per database: the issue's figure, measured from outside - a new
``orbitwatch ingest CATALOG SATCAT --json`` process, timed from its start (interpreter, imports, schema)
until it reports both files committed (its JSON line) and until it exits (after the background WAL
checkpoint), on an empty store ("first": the best of ``--runs`` runs, each on a new store, all of them
listed) and again on the same store ("repeat": every element set a duplicate, every SATCAT row already
described), with the CPU seconds and peak RSS of the command and of the process it forks to read the
SATCAT (both counted: CPU summed, RSS the larger); element sets per second there are the catalogue's
26,140 sets over the whole time, SATCAT included. ``stages``: one more first run with each stage of the
process timed from inside (wall and CPU seconds since the previous mark: interpreter, imports, command
line parsing, the fork, the store's imports, schema, each file, report, exit). The command runs in this
environment as it is: where ``PYTHONDONTWRITEBYTECODE`` is set (this sandbox) the package's modules are
compiled on every start; ``--bytecode-cache`` repeats the end-to-end runs with a bytecode cache (as an
installed package has), reported as ``end_to_end_bytecode_cache``.
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
from collections.abc import Callable
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


def _cli_run(url: str, catalog: Path, satcat: Path, env: dict | None = None, wrapper: str | None = None) -> dict:
    """One ``orbitwatch ingest`` process: seconds to its report (both files committed) and to its exit."""
    exe = shutil.which("orbitwatch", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe and wrapper is None else [sys.executable, "-c", wrapper or
                                                  "from orbitwatch.cli import main; main()"]
    cmd += ["ingest", str(catalog), str(satcat), "--source", "space-track", "--json", "--db", url]
    env = {**(env or os.environ), "PYTHONUNBUFFERED": "1"}  # the report line arrives as it is written
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


def end_to_end(url: str | Callable[[], str], catalog: Path, satcat: Path, element_sets: int, runs: int = 1,
               env: dict | None = None) -> dict:
    """The issue's figure: process start to committed store, catalogue and SATCAT, first (best of ``runs``,
    each on a new store from ``url()``) and repeat (on the last one)."""
    new_url = url if callable(url) else (lambda: url)
    firsts = []
    for _ in range(runs):
        target = new_url()
        r = _cli_run(target, catalog, satcat, env)
        r["element_sets_per_second"] = round(element_sets / r["seconds_to_committed"])
        r["load_average"] = [round(x, 2) for x in os.getloadavg()]
        firsts.append(r)
    best = min(firsts, key=lambda r: r["seconds_to_committed"])
    out = {"first": best}
    if runs > 1:
        out["first_runs"] = [{k: r[k] for k in ("seconds_to_committed", "seconds_to_exit", "cpu_seconds",
                                                 "peak_rss_mib", "load_average")} for r in firsts]
    r = _cli_run(target, catalog, satcat, env)
    r["element_sets_per_second"] = round(element_sets / r["seconds_to_committed"])
    r["load_average"] = [round(x, 2) for x in os.getloadavg()]
    out["repeat"] = r
    return out


# Runs the command with each stage marked (wall and CPU seconds), the marks written as JSON to the file
# named by ORBITWATCH_BENCH_STAGES when the process exits. Patches only timing hooks around the real code.
_STAGES_WRAPPER = r"""
import atexit, builtins, json, os, sys, time
t0, c0 = time.perf_counter(), time.process_time()
with open('/proc/self/stat') as f:
    start = int(f.read().rsplit(')', 1)[1].split()[19]) / os.sysconf('SC_CLK_TCK')
with open('/proc/uptime') as f:
    age = float(f.read().split()[0]) - start  # seconds since this process started (10 ms resolution)
marks = [('interpreter start', age, 0.0)]
def mark(name):
    marks.append((name, age + time.perf_counter() - t0, time.process_time() - c0))
sys.argv = ['orbitwatch', *sys.argv[1:]]
import orbitwatch.cli as cli
mark('import orbitwatch.cli')
import orbitwatch.cli.catalog_cmds as cc
mark('import the ingest command (orbitwatch.cli.catalog_cmds)')
import orbitwatch.markings as markings
parse = markings.Marking.parse
def parse_marked(*a, **k):
    mark('typer: command line parsed (builds pydantic adapters), ingest() entered')
    return parse(*a, **k)
markings.Marking.parse = parse_marked
start_prefetch = cc._Prefetch.start.__func__
def start_marked(cls, *a, **k):
    mark('before the fork (URL, marking, paths checked)')
    r = start_prefetch(cls, *a, **k)
    mark('imports shared with the SATCAT reader (numpy, formats) and the fork')
    return r
cc._Prefetch.start = classmethod(start_marked)
real_import = builtins.__import__
def import_marked(name, *a, **k):
    m = real_import(name, *a, **k)
    if name == 'orbitwatch.store' and not getattr(import_marked, 'done', False):
        import_marked.done = True
        mark('import orbitwatch.store (SQLAlchemy, the store)')
        import orbitwatch.store.ingest as ing
        store = sys.modules['orbitwatch.store']
        open_engine = store.open_engine
        def open_marked(url):
            e = open_engine(url)
            mark('open_engine: engine and schema')
            return e
        store.open_engine = open_marked
        one = ing._ingest
        def ingest_marked(*a, **k):
            mark('  %s: read (TLE: lines found; SATCAT: the reader process awaited)' % k.get('fmt'))
            r = one(*a, **k)
            for s, v in r.stages.items():
                marks.append(('    stage %s (wall)' % s, v, None))
            mark('  %s: written and committed' % k.get('fmt'))
            return r
        ing._ingest = ingest_marked
    return m
builtins.__import__ = import_marked
emit = cc.emit_json
def emit_marked(obj):
    emit(obj)
    sys.stdout.flush()
    mark('report written')
cc.emit_json = emit_marked
def done():
    mark('exit (background checkpoint joined)')
    with open(os.environ['ORBITWATCH_BENCH_STAGES'], 'w') as f:
        json.dump(marks, f)
atexit.register(done)
cli.main()
"""


def stages(url: str, catalog: Path, satcat: Path, env: dict | None = None) -> dict:
    """One first run with its stages timed from inside the process (see ``_STAGES_WRAPPER``)."""
    with tempfile.TemporaryDirectory() as tmp:
        marks_file = Path(tmp) / "marks.json"
        run = _cli_run(url, catalog, satcat, {**(env or os.environ), "ORBITWATCH_BENCH_STAGES": str(marks_file)},
                       wrapper=_STAGES_WRAPPER)
        marks = json.loads(marks_file.read_text())
    table, prev_t, prev_c = [], 0.0, 0.0
    for name, t, c in marks:
        if c is None:
            table.append({"stage": name, "seconds": round(t, 3)})
            continue
        table.append({"stage": name, "at": round(t, 3), "seconds": round(t - prev_t, 3),
                      "cpu_seconds": round(c - prev_c, 3)})
        prev_t, prev_c = t, c
    return {"seconds_to_committed": run["seconds_to_committed"], "cpu_seconds": run["cpu_seconds"],
            "load_average": [round(x, 2) for x in os.getloadavg()], "stages": table}


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
    ap.add_argument("--runs", type=int, default=3, help="first end-to-end runs, each on a new store (best kept)")
    ap.add_argument("--bytecode-cache", action="store_true",
                    help="also run the end-to-end runs with a bytecode cache (PYTHONDONTWRITEBYTECODE unset)")
    args = ap.parse_args()
    if not args.catalog.exists():
        sys.exit(f"catalogue {args.catalog} not found (it lives in ../shared/data)")
    out: dict = {"catalog": args.catalog.name, "satcat": args.satcat.name, "cpus": os.cpu_count(),
                 "load_average_before": [round(x, 2) for x in os.getloadavg()],
                 "bytecode_written": not os.environ.get("PYTHONDONTWRITEBYTECODE")}
    n_sets = 26140 if args.catalog == DEFAULT_CATALOG else None
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_end_to_end:
            n = n_sets or _count_sets(args.catalog)
            fresh = iter(range(1_000_000))
            out["sqlite_end_to_end"] = end_to_end(lambda: f"sqlite:///{tmp}/cli{next(fresh)}.sqlite", args.catalog,
                                                  args.satcat, n, args.runs)
            out["sqlite_end_to_end"]["stages"] = stages(f"sqlite:///{tmp}/stages.sqlite", args.catalog, args.satcat)
            if args.bytecode_cache:
                env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
                env["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
                _cli_run(f"sqlite:///{tmp}/warmup.sqlite", args.catalog, args.satcat, env)  # writes the cache
                out["end_to_end_bytecode_cache"] = end_to_end(
                    lambda: f"sqlite:///{tmp}/cli{next(fresh)}.sqlite", args.catalog, args.satcat, n, args.runs, env)
                out["end_to_end_bytecode_cache"]["stages"] = stages(f"sqlite:///{tmp}/stages_pyc.sqlite",
                                                                    args.catalog, args.satcat, env)
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
