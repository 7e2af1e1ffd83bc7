"""Benchmark: 50 concurrent clients, each a different nation/clearance, against a real uvicorn server.

Issue 4 target: >= 1,000 requests/s and p99 < 100 ms with SQLite, 0 errors, 0 leaks (every item of
every response is checked against the caller's releasability); the same is reported for PostgreSQL.

The catalogue is the full Space-Track 3LE catalogue of 2023-10-09 (26,140 objects) from the shared data
folder when present (else a synthetic one of the same size), split in ten chunks, each ingested by a
different nation with a different marking. The server is ``orbitwatch serve --workers N`` in a
subprocess; the load generator is a minimal keep-alive HTTP/1.1 client on asyncio (uvloop when installed,
one connection per client, orjson to parse) so that it costs little CPU next to the server on the same
machine; its own CPU time is reported.

Run: ``.venv/bin/python benchmarks/api_load.py [--json] [--db sqlite|postgresql|both] [--clients 50]
[--duration 15] [--workers 2]``. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT.parent / "shared" / "data" / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
PG_SERVER = os.environ.get("ORBITWATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

#: Who ingests which slice of the catalogue, with which marking.
CHUNK_MARKINGS = {
    "USA": "UNCLASSIFIED",
    "GBR": "SECRET//REL TO USA, AUS, CAN, GBR, NZL",
    "FRA": "CONFIDENTIAL//REL TO USA, DEU, FRA",
    "DEU": "RESTRICTED//REL TO DEU, FRA, ITA",
    "ITA": "UNCLASSIFIED//REL TO USA, DEU, FRA, ITA",
    "JPN": "SECRET//JPN EYES ONLY",
    "CAN": "UNCLASSIFIED",
    "AUS": "SECRET//REL TO USA, AUS",
    "NOR": "CONFIDENTIAL//REL TO USA, GBR, NOR",
    "NZL": "UNCLASSIFIED//REL TO AUS, NZL",
}


# -- data ---------------------------------------------------------------------------------------------
def _catalogue_lines() -> list[tuple[str, str, str]]:
    if CATALOG.is_file():
        lines = gzip.decompress(CATALOG.read_bytes()).decode().splitlines()
        return [(lines[i], lines[i + 1], lines[i + 2]) for i in range(0, len(lines) - 2, 3)
                if lines[i + 1].startswith("1 ") and lines[i + 2].startswith("2 ")]
    from orbitwatch.formats.records import ElementSet
    from orbitwatch.formats.tle import format_tle

    out = []
    rng = random.Random(1)
    from datetime import UTC, datetime

    for k in range(26_140):
        es = ElementSet(norad_id=k + 1, epoch=datetime(2023, 10, 9, tzinfo=UTC), mean_motion=rng.uniform(1, 16),
                        eccentricity=rng.uniform(0, 0.1), inclination=rng.uniform(0, 120),
                        raan=rng.uniform(0, 360), arg_perigee=rng.uniform(0, 360), mean_anomaly=rng.uniform(0, 360),
                        object_name=f"OBJECT {k + 1}", object_id="2000-001A")
        name, l1, l2 = format_tle(es, name_line=True).splitlines()
        out.append((name, l1, l2))
    return out


def load(url: str) -> dict:
    from orbitwatch.markings import NATIONS, Marking
    from orbitwatch.sharing import identity
    from orbitwatch.store.engine import open_engine
    from orbitwatch.store.ingest import ingest_bytes

    engine = open_engine(url)
    triples = _catalogue_lines()
    nations = list(CHUNK_MARKINGS)
    chunks: dict[str, list[str]] = {n: [] for n in nations}
    for i, t in enumerate(triples):
        chunks[nations[i % len(nations)]].append("\n".join(t))
    t0 = time.perf_counter()
    accepted = 0
    for n, body in chunks.items():
        rep = ingest_bytes(engine, ("\n".join(body) + "\n").encode(), f"chunk-{n}.3le", source="benchmark",
                           nation=n, marking=Marking.parse(CHUNK_MARKINGS[n]))
        accepted += rep.accepted
    ingest_s = time.perf_counter() - t0
    levels = ("UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET")
    clients = []
    for i in range(50):
        nation, clearance = NATIONS[i % 10], levels[(i // 10) % 4]
        name = f"load-{i:02d}-{nation.lower()}"
        identity.create_user(engine, name, nation=nation, clearance=clearance, roles=("analyst",))
        token, _ = identity.issue_token(engine, name)
        clients.append({"nation": nation, "clearance": clearance, "token": token})
    engine.dispose()
    norads = [int(t[1][2:7]) if t[1][2:7].strip().isdigit() else None for t in triples]
    return {"objects": accepted, "ingest_s": round(ingest_s, 2), "clients": clients,
            "norad_ids": [n for n in norads if n]}


# -- server -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def server(url: str, port: int, workers: int):
    env = dict(os.environ, ORBITWATCH_DATABASE_URL=url, ORBITWATCH_RATE_LIMIT_PER_MINUTE="1000000",
               ORBITWATCH_ENVIRONMENT="development", PYTHONUNBUFFERED="1")
    exe = Path(sys.executable).parent / "orbitwatch"
    # The server's log goes to a file: an undrained pipe would stall the server once it filled up.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below, after the server stops
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers",
                             str(workers), "--db", url], env=env, stdout=subprocess.DEVNULL,
                            stderr=log, start_new_session=True)

    def tail() -> str:
        log.seek(0)
        return log.read().decode("utf-8", "replace")[-2000:]

    proc.log_tail = tail  # type: ignore[attr-defined]
    try:
        deadline = time.time() + 90
        import httpx

        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise RuntimeError("server exited: " + tail())
        else:
            raise RuntimeError("server did not start")
        time.sleep(1.0 * workers)  # let every worker finish importing
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every process in a process group (the server and its workers), from /proc."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 of stat: pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def pg_backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds (user + system) of each PostgreSQL backend serving the benchmark's database (marked by
    its ``application_name``), from /proc: the database server's share of each request. Empty when the
    server is not on this machine."""
    import psycopg
    from sqlalchemy.engine import make_url

    app = make_url(url).query.get("application_name")
    if not app:
        return {}
    plain = PG_SERVER.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app,))]
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


# -- load generator -----------------------------------------------------------------------------------
class Checker:
    """Leak check: every returned item's marking must be readable by the client (cached per string)."""

    def __init__(self):
        from orbitwatch.markings import Marking, can_read
        from orbitwatch.sharing.authz import is_restricted

        self._parse, self._can, self._restricted = Marking.parse, can_read, is_restricted
        self._cache: dict[tuple[str, str, str], bool] = {}
        self._audited: dict[str, bool] = {}

    def ok(self, marking: str, nation: str, clearance: str) -> bool:
        key = (marking, nation, clearance)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._can(self._parse(marking), nation=nation, clearance=clearance)
        return hit

    def restricted(self, marking: str) -> bool:
        """Whether a record with this marking makes its answer wait for an audit entry."""
        hit = self._audited.get(marking)
        if hit is None:
            hit = self._audited[marking] = self._restricted(self._parse(marking))
        return hit


try:  # the generator shares the two cores with the server: parse with the fastest parser at hand
    from orjson import loads
except ImportError:  # pragma: no cover
    loads = json.loads


def make_paths(norads: list[int], rng: random.Random):
    names = ["STARLINK", "COSMOS", "IRIDIUM", "FENGYUN", "ONEWEB", "GPS", "DEB", "R/B"]

    def nxt() -> tuple[str, str, list[int] | None]:
        r = rng.random()
        if r < 0.5:
            ids = rng.sample(norads, 5)
            q = "&".join(f"norad_id={i}" for i in ids)
            return "latest", f"/api/v1/elsets/latest?{q}", ids
        if r < 0.7:
            i = rng.choice(norads)
            return "search_id", f"/api/v1/objects?norad_id={i}", [i]
        if r < 0.9:
            regime = rng.choice(["LEO", "MEO", "GEO", "HEO"])
            return ("search_regime", f"/api/v1/objects?regime={regime}&limit=20&offset={rng.randrange(0, 200)}",
                    None)
        return "search_name", f"/api/v1/objects?name={rng.choice(names)}&limit=20", None

    return nxt


async def one_client(port: int, client: dict, nxt, stop_at: float, warm_until: float, out: dict,
                     checker: Checker) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {client['token']}\r\n".encode()
    nation, clearance = client["nation"], client["clearance"]
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            kind, path, ids = nxt()
            t0 = time.perf_counter()
            writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: bench\r\n" + auth + b"\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = None
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length or 0)
            dt = time.perf_counter() - t0
            if t0 < warm_until:
                continue
            out["latency"].append(dt)
            out["kinds"].setdefault(kind, []).append(dt)
            if status != 200:
                out["errors"] += 1
                out.setdefault("error_samples", []).append((status, body[:200].decode("utf-8", "replace")))
                continue
            doc = loads(body)
            restricted = False
            for it in doc["items"]:
                out["items"] += 1
                marking = it["marking"]
                if not checker.ok(marking, nation, clearance) or (ids is not None and it["norad_id"] not in ids):
                    out["leaks"] += 1
                restricted = restricted or checker.restricted(marking)
            # Answers with restricted records wait for their audit entry's commit: shown apart.
            out["audited" if restricted else "unaudited"].append(dt)
    finally:
        writer.close()


async def run_load(port: int, clients: list[dict], norads: list[int], duration: float, warmup: float,
                   nclients: int) -> dict:
    out = {"latency": [], "errors": 0, "leaks": 0, "items": 0, "kinds": {}, "audited": [], "unaudited": []}
    checker = Checker()
    start = time.perf_counter()
    warm_until, stop_at = start + warmup, start + warmup + duration
    tasks = [one_client(port, clients[i % len(clients)], make_paths(norads, random.Random(i)), stop_at,
                        warm_until, out, checker) for i in range(nclients)]
    await asyncio.gather(*tasks)
    lat = sorted(out["latency"])
    n = len(lat)

    def pct(values: list[float], p: float) -> float:
        return round(1000 * values[min(len(values) - 1, int(p * len(values)))], 1) if values else float("nan")

    def summary(values: list[float]) -> dict:
        values = sorted(values)
        return {"n": len(values), "p50_ms": pct(values, 0.5), "p99_ms": pct(values, 0.99)}

    return {"requests": n, "requests_per_s": round(n / duration, 1), "p50_ms": pct(lat, 0.50),
            "p90_ms": pct(lat, 0.90), "p99_ms": pct(lat, 0.99), "max_ms": round(1000 * lat[-1], 1) if n else None,
            "errors": out["errors"], "leaks": out["leaks"], "items_checked": out["items"],
            "by_kind": {k: summary(v) for k, v in sorted(out["kinds"].items())},
            "audited": summary(out["audited"]), "unaudited": summary(out["unaudited"]),
            "error_samples": out.get("error_samples", [])[:3]}


# -- databases ----------------------------------------------------------------------------------------
@contextlib.contextmanager
def database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            yield f"sqlite:///{d}/bench.sqlite"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = PG_SERVER.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_SERVER else "?"
    try:
        # application_name marks the benchmark's backends, whose CPU is measured (pg_backend_cpu).
        yield f"{PG_SERVER}{sep}options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _run(coro):
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


def bench_one(kind: str, args) -> dict:
    from orbitwatch.api.testing import free_port

    with database(kind) as url:
        data = load(url)
        if kind == "postgresql" and args.analyze:
            from sqlalchemy import text

            from orbitwatch.store.engine import make_engine

            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            engine.dispose()
        port = free_port()
        with server(url, port, args.workers) as proc:
            c0 = os.times()
            s0 = group_cpu_seconds(proc.pid)
            pg0 = pg_backend_cpu(url) if kind == "postgresql" else {}
            res = _run(run_load(port, data["clients"], data["norad_ids"], args.duration, args.warmup,
                                args.clients))
            if res["errors"]:
                res["server_log_tail"] = proc.log_tail()
            s1 = group_cpu_seconds(proc.pid)
            c1 = os.times()
            pg1 = pg_backend_cpu(url) if kind == "postgresql" else {}
        res.update({"database": kind, "objects": data["objects"], "ingest_s": data["ingest_s"],
                    "analyzed": bool(kind == "postgresql" and args.analyze),
                    "workers": args.workers, "clients": args.clients, "duration_s": args.duration,
                    "load_generator_cpu_s": round((c1.user - c0.user) + (c1.system - c0.system), 2)})
        # The machine is shared: CPU per request says what the server costs whatever the contention.
        server_cpu = s1 - s0
        res["server_cpu_s"] = round(server_cpu, 2)
        res["server_cpu_ms_per_request"] = round(1000 * server_cpu / max(1, res["requests"] * (
            (args.duration + args.warmup) / args.duration)), 3)
        res["capacity_rps_if_2_idle_cores"] = round(2000 / max(1e-9, res["server_cpu_ms_per_request"]), 0)
        per_request = 1000 / max(1, res["requests"] * (args.duration + args.warmup) / args.duration)
        total = server_cpu + (c1.user - c0.user) + (c1.system - c0.system)
        if kind == "postgresql" and pg1:
            # Backends opened during the run count from zero (their start-up is part of the load).
            pg_cpu = sum(v - pg0.get(pid, 0.0) for pid, v in pg1.items())
            res["postgres_cpu_s"] = round(pg_cpu, 2)
            res["postgres_cpu_ms_per_request"] = round(pg_cpu * per_request, 3)
            total += pg_cpu
        # Everything this benchmark runs on the two cores (server, database server, load generator).
        res["all_cpu_ms_per_request"] = round(total * per_request, 3)
        res["capacity_rps_if_2_idle_cores_all_included"] = round(2000 / max(1e-9, res["all_cpu_ms_per_request"]), 0)
        res["meets_target"] = (res["requests_per_s"] >= 1000 and res["p99_ms"] < 100 and res["errors"] == 0
                               and res["leaks"] == 0)
        return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="(always JSON; accepted for run_all.py)")
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--analyze", action="store_true",
                    help="PostgreSQL: ANALYZE after loading (the ingest does not; autovacuum may be off)")
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    for kind in kinds:
        try:
            results.append(bench_one(kind, args))
        except Exception as exc:  # noqa: BLE001 - report, do not hide, a database that is not there
            results.append({"database": kind, "error": f"{type(exc).__name__}: {exc}"})
    load_avg = os.getloadavg()
    print(json.dumps({"benchmark": "api_load", "target": {"requests_per_s": 1000, "p99_ms": 100, "errors": 0,
                                                          "leaks": 0, "database": "sqlite"},
                      "cpus": os.cpu_count(), "load_average_1m": round(load_avg[0], 2),
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
