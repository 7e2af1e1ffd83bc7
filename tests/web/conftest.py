"""Fixtures for the web UI tests: a live ``orbitwatch serve`` with nation-marked data, and Chromium.

Helpers live in ``webnode.py`` (shared with ``benchmarks/web_render.py``).
"""

from __future__ import annotations

import pytest
from webnode import CHROMIUM, CHROMIUM_ARGS, WebNode, build_web_db, require_browser, start_server, stop_server


@pytest.fixture(scope="session")
def web_node(tmp_path_factory) -> WebNode:
    """A live ``orbitwatch serve`` on a temp SQLite DB (demo catalogue + nation-marked objects)."""
    require_browser()
    tmp = tmp_path_factory.mktemp("web")
    db_url, users, extras = build_web_db(tmp / "web.sqlite")
    log = tmp / "server.log"
    url, proc = start_server(db_url, log)
    node = WebNode(url, db_url, users, proc, log, extras)
    yield node
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
