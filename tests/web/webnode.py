"""Helpers for the web UI tests and benchmark: nation-marked data, a LIVE ``orbitwatch serve``, Chromium.

The browser tests drive Debian's chromium (``/usr/bin/chromium``, headless, SwiftShader WebGL) through
Playwright against a real uvicorn process on a free loopback port. Without chromium (or without the
CesiumJS files ``scripts/setup-web.sh`` installs) they skip with the reason, unless
``ORBITWATCH_REQUIRE_BROWSER=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
REQUIRE_BROWSER = os.environ.get("ORBITWATCH_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync"]
PASSWORD = "correct-horse-battery-staple"

# Objects only one nation may see (NORAD numbers far above the demo catalogue's).
GBR_ONLY = 90001
FRA_ONLY = 90002
GBR_FRA = 90003


def browser_unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (run scripts/install-browser.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed in the venv"
    from orbitwatch.web import vendor_ready

    if not vendor_ready():
        return "CesiumJS is not installed in src/orbitwatch/web/static/vendor (run scripts/setup-web.sh)"
    return None


def require_browser() -> None:
    reason = browser_unavailable()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(reason + " (ORBITWATCH_REQUIRE_BROWSER=1: CI must run the browser tests)")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def marked_elset(norad: int, name: str, *, inc: float, raan: float, mm: float = 15.2, epoch: datetime):
    from orbitwatch.formats.records import ElementSet

    return ElementSet(norad_id=norad, epoch=epoch, mean_motion=mm, eccentricity=0.0012, inclination=inc,
                      raan=raan, arg_perigee=90.0, mean_anomaly=10.0, bstar=1.0e-4, object_name=name,
                      object_id=f"2023-{norad % 1000:03d}A", element_set_no=999)


def add_marked_object(engine, es, marking: str, nation: str, *, owner: str, owner_nation: str) -> None:
    """Ingest one 3LE with a national marking, then give its object record an owner (as a SATCAT would)."""
    from sqlalchemy import update

    from orbitwatch.formats.tle import format_tle
    from orbitwatch.markings import Marking
    from orbitwatch.store import ingest_bytes
    from orbitwatch.store.schema import space_objects

    text = format_tle(es, name_line=True)
    report = ingest_bytes(engine, text.encode(), f"{es.norad_id}.3le", fmt="tle", source="national-sensor",
                          nation=nation, marking=Marking.parse(marking), user="test")
    assert report.accepted == 1, report.as_dict()
    with engine.begin() as conn:
        conn.execute(update(space_objects).where(space_objects.c.norad_id == es.norad_id)
                     .values(owner=owner, owner_nation=owner_nation, object_type="PAYLOAD", regime="LEO"))


def demo_reference_epoch(engine) -> datetime:
    from sqlalchemy import func, select

    from orbitwatch.store.schema import element_sets

    with engine.connect() as conn:
        ts = conn.execute(select(func.max(element_sets.c.epoch_ts))).scalar()
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class WebNode:
    url: str
    db_url: str
    users: dict[str, str]  # username -> password
    process: subprocess.Popen
    log: Path
    extras: dict = field(default_factory=dict)


def build_web_db(path: Path) -> tuple[str, dict[str, str], dict]:
    """The bundled demo catalogue, three nation-marked objects and one user per nation + exercise control."""
    from orbitwatch.demo.load import load_bundled
    from orbitwatch.sharing import identity
    from orbitwatch.store.engine import open_engine

    url = f"sqlite:///{path}"
    engine = open_engine(url)
    load_bundled(engine)
    epoch = demo_reference_epoch(engine) - timedelta(hours=1)
    gbr_es = marked_elset(GBR_ONLY, "UKSAT SECRET", inc=97.5, raan=40.0, epoch=epoch)
    add_marked_object(engine, gbr_es, "SECRET//GBR EYES ONLY", "GBR", owner="UK", owner_nation="GBR")
    add_marked_object(engine, marked_elset(FRA_ONLY, "FRSAT SECRET", inc=98.2, raan=120.0, epoch=epoch),
                      "SECRET//FRA EYES ONLY", "FRA", owner="FR", owner_nation="FRA")
    add_marked_object(engine, marked_elset(GBR_FRA, "JOINT CONFIDENTIAL", inc=53.0, raan=200.0, epoch=epoch),
                      "CONFIDENTIAL//REL TO FRA, GBR", "GBR", owner="UK", owner_nation="GBR")
    users = {}
    for nation in ("GBR", "FRA", "USA"):
        name = f"{nation.lower()}-analyst"
        identity.create_user(engine, name, nation=nation, clearance="SECRET", roles=("analyst", "operator"),
                             password=PASSWORD)
        users[name] = PASSWORD
    identity.create_user(engine, "white-cell", nation="USA", clearance="SECRET",
                         roles=("exercise-control", "analyst"), password=PASSWORD)
    users["white-cell"] = PASSWORD
    from orbitwatch.formats.tle import format_tle

    extras = {"alerts": seed_alerts(engine, epoch), "gbr_tle": format_tle(gbr_es, name_line=True),
              "reference_epoch": epoch.timestamp()}
    engine.dispose()
    return url, users, extras


def seed_alerts(engine, epoch: datetime) -> dict:
    """Two proximity alerts, one marked GBR EYES ONLY and one FRA EYES ONLY (empty when the threats
    package does not store alerts in this build)."""
    try:
        from orbitwatch.threats.alerts import Alert, save_alerts
    except ImportError:
        return {}
    from orbitwatch.markings import Marking

    ts = epoch.timestamp() + 3600
    made = []
    for nation, own, sev in (("GBR", GBR_ONLY, "high"), ("FRA", FRA_ONLY, "medium")):
        title = f"{nation}-only approach to {own}"
        made.append(Alert("proximity", sev, title, f"proximity:{own}:{GBR_FRA}", [own, GBR_FRA],
                          Marking.parse(f"SECRET//{nation} EYES ONLY"),
                          {"asset": own, "object": GBR_FRA, "closest_km": 4.2, "tca": epoch.isoformat(),
                           "state": "DETECTED", "sustained": True}, event_ts=ts, state="DETECTED"))
    with engine.begin() as conn:
        save_alerts(conn, made)
    return {"GBR": made[0].title, "FRA": made[1].title}


def _serve_command(db_url: str, port: int) -> list[str]:
    exe = Path(sys.executable).with_name("orbitwatch")
    return [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db_url]


def _fallback_command(db_url: str, port: int) -> list[str]:
    # Until the app factory mounts the web UI itself: the same app plus orbitwatch.web.mount_web.
    code = ("import uvicorn\n"
            "from orbitwatch.api import create_app\n"
            "from orbitwatch.web import mount_web\n"
            "app = create_app()\nmount_web(app)\n"
            f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')\n")
    return [sys.executable, "-c", code]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {timeout} s")


def start_server(db_url: str, log: Path, env_extra: dict | None = None) -> tuple[str, subprocess.Popen]:
    env = dict(os.environ, ORBITWATCH_ENVIRONMENT="test", ORBITWATCH_DATABASE_URL=db_url,
               ORBITWATCH_SECRET_KEY="web-test-secret", ORBITWATCH_RATE_LIMIT_PER_MINUTE="100000",
               ORBITWATCH_OFFLINE="1", **(env_extra or {}))
    for make in (_serve_command, _fallback_command):
        port = free_port()
        fh = open(log, "ab")  # noqa: SIM115 - lives as long as the server
        proc = subprocess.Popen(make(db_url, port), env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_http(url + "/health", proc)
            if _wait_http(url + "/", proc) == 200:
                return url, proc
        except RuntimeError:
            pass
        proc.terminate()
        proc.wait(10)
    raise RuntimeError(f"could not start a server serving the web UI; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def open_page(browser, web_node: WebNode, username: str | None, *, viewport=(1100, 700)):
    """A fresh browser context (own cookies), logged in as ``username`` through the login form."""
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.console_messages = []
    page.on("console", lambda m: page.console_messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: page.console_messages.append(f"pageerror: {e}"))
    page.goto(web_node.url + "/")
    if username is not None:
        page.wait_for_selector("#login-form", state="visible")
        page.fill("#login-user", username)
        page.fill("#login-password", web_node.users[username])
        page.click("#login-submit")
        page.wait_for_function("window.orbitwatch && window.orbitwatch.state === 'running'")
    return ctx, page


def wait_globe(page, timeout_ms: int = 90_000) -> None:
    """Until the catalogue is drawn (the first frame with positions)."""
    page.wait_for_function("window.orbitwatch.metrics.firstFrameMs !== null", timeout=timeout_ms)
