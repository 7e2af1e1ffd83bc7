"""Web UI render benchmark: the full public catalogue (26,000+ objects) in headless Chromium.

Ingests ``../shared/data/catalog/spacetrack_full_catalog_3le_2023-10-09.txt.gz`` (and the SATCAT, for
owners) into a temporary SQLite database, starts a live ``orbitwatch serve`` on loopback, logs in
through the page, then measures in Debian's chromium (headless, SwiftShader software WebGL):

* ``first_frame_s`` - navigation start to the first frame with every object drawn (target < 5 s), cold
  (server snapshot not yet built) and warm (a second page load);
* ``fps_*`` - frames per second while the clock animates at 60x and 3600x, and while paused (render on
  demand: ~0 frames is expected);
* the server side: snapshot build, positions request time and size.

Run: ``.venv/bin/python benchmarks/web_render.py --json`` (prints one JSON object). Software rendering on
a shared 2-core machine is slow and noisy: the numbers say more about the CPU than about the UI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))
CATALOG = ROOT.parent / "shared" / "data" / "catalog" / "spacetrack_full_catalog_3le_2023-10-09.txt.gz"
SATCAT = ROOT.parent / "shared" / "data" / "satcat" / "celestrak_satcat_processed_2025-03-06.csv.gz"


def build_db(path: Path) -> tuple[str, dict]:
    from orbitwatch.markings import Marking
    from orbitwatch.sharing import identity
    from orbitwatch.store import ingest_paths
    from orbitwatch.store.engine import open_engine

    url = f"sqlite:///{path}"
    engine = open_engine(url)
    t0 = time.perf_counter()
    paths = [CATALOG] + ([SATCAT] if SATCAT.exists() else [])
    report = ingest_paths(engine, paths, source="benchmark", marking=Marking.parse("UNCLASSIFIED"), user="bench")
    ingest_s = time.perf_counter() - t0
    identity.create_user(engine, "bench-gbr", nation="GBR", clearance="SECRET", roles=("analyst",),
                         password="benchmark-password-123")
    engine.dispose()
    return url, {"ingest_s": round(ingest_s, 2), "accepted": report.accepted, "rejected": report.rejected}


def measure(url: str, *, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright
    from webnode import CHROMIUM, CHROMIUM_ARGS

    out: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        page.set_default_timeout(180_000)
        sizes: dict[str, int] = {}

        def on_response(r):
            if "/api/v1/web/" in r.url:
                with contextlib.suppress(Exception):  # body unavailable (redirect, aborted)
                    sizes[r.url.split("?")[0].rsplit("/", 1)[-1]] = len(r.body())

        page.on("response", on_response)
        # A session cookie from POST /auth/login, so the first page load is also the server's first
        # catalogue request (cold snapshot); the reload measures the warm path.
        ctx.add_cookies([{"name": "ow_session", "value": login_cookie(url), "url": url}])
        for label in ("cold", "warm"):
            if label == "warm":
                page.reload()
            else:
                page.goto(url + "/")
            page.wait_for_function("window.orbitwatch && window.orbitwatch.metrics.firstFrameMs !== null",
                                   timeout=180_000)
            m = page.evaluate("window.orbitwatch.metrics")
            out[f"first_frame_s_{label}"] = round(m["firstFrameMs"] / 1000, 3)
            out[f"catalog_s_{label}"] = round(m["catalogMs"] / 1000, 3) if m["catalogMs"] else None
            out[f"cesium_loaded_s_{label}"] = round(m["cesiumMs"] / 1000, 3) if m["cesiumMs"] else None
            fp = m["firstPositionsMs"]
            out[f"first_positions_s_{label}"] = round(fp / 1000, 3) if fp else None
            out["objects_drawn"] = m["firstFramePoints"]
        t0 = time.perf_counter()
        page.wait_for_function("window.orbitwatch.globe.viewer.scene.globe.tilesLoaded", timeout=180_000)
        out["globe_tiles_after_first_frame_s"] = round(time.perf_counter() - t0, 3)
        out["renderer_software"] = page.evaluate("window.orbitwatch.globe.software")
        out["lite_globe"] = page.evaluate("window.orbitwatch.globe.lite")
        for speed in (60, 3600):
            page.evaluate(f"window.orbitwatch.globe.setSpeed({speed})")
            page.wait_for_timeout(2000)  # the knot spacing follows the speed: let the first window load
            f0 = page.evaluate("window.orbitwatch.globe.frames")
            t0 = time.perf_counter()
            page.wait_for_timeout(int(seconds * 1000))
            f1 = page.evaluate("window.orbitwatch.globe.frames")
            out[f"fps_{speed}x"] = round((f1 - f0) / (time.perf_counter() - t0), 2)
        page.evaluate("window.orbitwatch.globe.setSpeed(1); window.orbitwatch.globe.viewer.clock.shouldAnimate = false")
        page.wait_for_timeout(4000)  # windows still loading for the last speed trigger renders: let them land
        f0 = page.evaluate("window.orbitwatch.globe.frames")
        page.wait_for_timeout(3000)
        out["fps_paused"] = round((page.evaluate("window.orbitwatch.globe.frames") - f0) / 3.0, 2)
        feeder = page.evaluate("(f => ({r: f.requests, b: f.bytes}))(window.orbitwatch.globe.feeder)")
        out["positions_requests"] = feeder["r"]
        out["positions_mb"] = round(feeder["b"] / 1e6, 1)
        out["response_bytes"] = sizes
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : null")
        out["js_heap_mb"] = round(heap / 1e6, 1) if heap else None
        errors = page.evaluate("window.orbitwatch.errors")
        out["page_errors"] = errors[:5]
        browser.close()
    return out


def login_cookie(url: str) -> str:
    import httpx

    with httpx.Client(base_url=url, timeout=60) as c:
        r = c.post("/auth/login", data={"username": "bench-gbr", "password": "benchmark-password-123"})
        r.raise_for_status()
        return r.cookies["ow_session"]


def server_timings(url: str) -> dict:
    """The catalogue (snapshot already built by the browser's visit) and positions windows, timed from a
    plain HTTP client."""
    import httpx

    out = {}
    with httpx.Client(base_url=url, timeout=300) as c:
        c.post("/auth/login", data={"username": "bench-gbr", "password": "benchmark-password-123"})
        t0 = time.perf_counter()
        cat = c.get("/api/v1/web/catalog").json()
        out["catalog_request_s"] = round(time.perf_counter() - t0, 3)
        out["objects"] = cat["count"]
        start = cat["epoch"]["max"]
        for count in (2, 16):
            t0 = time.perf_counter()
            r = c.get("/api/v1/web/positions", params={"snapshot": cat["snapshot"], "start": start, "step": 60,
                                                       "count": count})
            out[f"positions_{count}_knots_s"] = round(time.perf_counter() - t0, 3)
            out[f"positions_{count}_knots_mb"] = round(len(r.content) / 1e6, 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--seconds", type=float, default=8.0, help="animation time measured per speed")
    args = ap.parse_args()
    from webnode import browser_unavailable, start_server, stop_server

    reason = browser_unavailable()
    if reason or not CATALOG.exists():
        result = {"skipped": reason or f"{CATALOG} not present"}
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        db_url, ingest = build_db(tmp / "bench.sqlite")
        url, proc = start_server(db_url, tmp / "server.log")
        try:
            result = {"catalogue": CATALOG.name, **ingest}
            result.update(measure(url, seconds=args.seconds))
            result.update(server_timings(url))
            result["target_first_frame_s"] = 5.0
            result["note"] = ("headless chromium with SwiftShader (software WebGL) on a shared 2-core machine; "
                              "timings taken under contention")
        finally:
            stop_server(proc)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
