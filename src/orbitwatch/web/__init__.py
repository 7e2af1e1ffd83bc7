"""The web UI: a CesiumJS common operating picture and the exercise console, served by the API app.

``mount_web(app)`` adds to a FastAPI app:

* ``/`` - the single page (login, picture, exercise console), with a Content-Security-Policy that lets
  the page load and connect to this origin only: no CDN, no map service, nothing from the internet;
* ``/static/...`` - the page's own JS/CSS and the CesiumJS build that ``scripts/setup-web.sh`` copies
  from the npm registry into ``static/vendor/`` (including Cesium's bundled Natural Earth II imagery);
* the web routes of :mod:`orbitwatch.api.web_routes` (catalogue snapshot, sampled positions, tracks,
  histories) when the app does not include them already.

The page only ever shows what the API returns for the logged-in user: it holds no data of its own.
Importing this module is cheap (FastAPI is imported inside :func:`mount_web`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

#: Only this origin: the globe's imagery, Cesium's workers and every API call come from the node itself.
#: 'unsafe-eval' is needed by the Knockout bindings inside Cesium's widgets (timeline, mode picker).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def vendor_ready() -> bool:
    """True when ``scripts/setup-web.sh`` has installed CesiumJS into the static folder."""
    return (VENDOR_DIR / "cesium" / "Cesium.js").is_file()


_MISSING_VENDOR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>orbitwatch - web UI not installed</title></head><body style="font-family:sans-serif;margin:3em">
<h1>orbitwatch</h1><p>The web UI's front-end library (CesiumJS) is not installed on this node.</p>
<p>Run <code>bash scripts/setup-web.sh</code> (or <code>make run</code>) from the orbitwatch checkout,
then reload this page. The HTTP API is available at <a href="/docs">/docs</a>.</p></body></html>"""


def mount_web(app: FastAPI) -> None:
    """Serve the web UI from ``app`` (idempotent: a second call does nothing)."""
    from fastapi.responses import FileResponse, HTMLResponse, Response

    if getattr(app.state, "web_mounted", False):
        return
    app.state.web_mounted = True

    from orbitwatch.api.web_routes import router

    if not _has_router(app, router):
        app.include_router(router)

    app.mount("/static", _static_class()(directory=STATIC_DIR, check_dir=True), name="web-static")
    page_headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        if not vendor_ready():
            return HTMLResponse(_MISSING_VENDOR_PAGE, status_code=503, headers=page_headers)
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=page_headers)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(STATIC_DIR / "img" / "icon.svg", media_type="image/svg+xml")


def _has_router(app: FastAPI, router) -> bool:
    """Whether ``router`` is already included (FastAPI >= 0.16x keeps included routers as objects)."""
    for r in app.routes:
        if getattr(r, "original_router", None) is router:
            return True
        if getattr(r, "path", "").startswith(router.prefix + "/"):
            return True
    return False


def _static_class():
    from fastapi.staticfiles import StaticFiles

    class Static(StaticFiles):
        """Static files with cache headers: the vendored library is immutable per install, the app's
        own files are revalidated on every load (ETag), so an upgrade is picked up at once."""

        def file_response(self, full_path, stat_result, scope, status_code=200):
            resp = super().file_response(full_path, stat_result, scope, status_code)
            path = scope.get("path", "")
            if "/vendor/" in path:
                resp.headers["Cache-Control"] = "public, max-age=86400"
            else:
                resp.headers["Cache-Control"] = "no-cache"
            resp.headers["X-Content-Type-Options"] = "nosniff"
            return resp

    return Static


#: The name the API app factory looks for.
mount = mount_web

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIR", "mount", "mount_web", "vendor_ready"]
