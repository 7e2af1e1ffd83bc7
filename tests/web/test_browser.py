"""The web UI in a real browser: Debian's chromium (headless, SwiftShader WebGL) driven by Playwright
against a live ``orbitwatch serve`` on loopback.

* two nations log in and each sees only its releasable objects (JS state, DOM and network answers);
* the classification banner follows the view (filter, selection) with the standard colours;
* the globe renders non-blank content in 3D and 2D, and nothing is fetched from another origin;
* the browser's interpolated positions agree with skyfield's Earth-fixed positions of the same TLE.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from webnode import FRA_ONLY, GBR_FRA, GBR_ONLY, open_page, wait_globe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET_RGB = "rgb(200, 16, 46)"
UNCLASSIFIED_RGB = "rgb(0, 122, 51)"


def banner(page) -> dict:
    return page.evaluate("""() => { const t = document.querySelector('#banner-top');
        const b = document.querySelector('#banner-bottom');
        return {top: t.textContent, bottom: b.textContent, cls: t.dataset.classification,
                bg: getComputedStyle(t).backgroundColor, bgBottom: getComputedStyle(b).backgroundColor}; }""")


def pause(page) -> None:
    """Stop the clock: the picture then renders only on changes, which keeps software WebGL cheap."""
    page.evaluate("window.orbitwatch.globe.viewer.clock.shouldAnimate = false")


def catalogue_ids(page) -> set[int]:
    return set(page.evaluate("Array.from(window.orbitwatch.catalog.norad)"))


def search(page, text: str) -> list[str]:
    page.fill("#search", text)
    # after the debounce the filter and the result list are rebuilt
    page.wait_for_function("([t]) => (window.orbitwatch.lastSearch || {}).text === t", arg=[text])
    return page.eval_on_selector_all("#search-results li", "els => els.map(e => e.textContent)")


@pytest.fixture(scope="module")
def gbr(browser, web_node):
    ctx, page = open_page(browser, web_node, "gbr-analyst")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    wait_globe(page)
    pause(page)
    page.requests = requests
    yield page
    ctx.close()


def test_each_nation_sees_only_what_is_released_to_it(browser, web_node, gbr):
    cases = [(gbr, "GBR", {GBR_ONLY, GBR_FRA}, {FRA_ONLY}, "UKSAT", "FRSAT")]
    ctx, fra = open_page(browser, web_node, "fra-analyst")
    responses = []
    fra.on("response", lambda r: responses.append(r) if "/api/" in r.url else None)
    fra.reload()
    fra.wait_for_function("window.orbitwatch && window.orbitwatch.state === 'running'")
    wait_globe(fra)
    pause(fra)
    cases.append((fra, "FRA", {FRA_ONLY, GBR_FRA}, {GBR_ONLY}, "FRSAT", "UKSAT"))
    try:
        for page, nation, visible, hidden, own_name, other_name in cases:
            ids = catalogue_ids(page)
            assert visible <= ids, nation
            assert not (hidden & ids), nation
            assert page.evaluate("window.orbitwatch.config.user.nation") == nation
            # The DOM: searching for the other nation's object finds nothing; its own is there.
            assert search(page, other_name) == []
            hits = search(page, own_name)
            assert len(hits) == 1 and own_name in hits[0]
            # Asking the API from inside the page for the other nation's object: 404, as if absent.
            other = next(iter(hidden))
            status = page.evaluate(f"fetch('/api/v1/objects/{other}').then(r => r.status)")
            assert status == 404
            search(page, "")
        # Network: every API answer FRA received is free of GBR's object and name.
        bodies = [r.text() for r in responses if r.ok and "json" in (r.headers.get("content-type") or "")]
        assert any('"snapshot"' in b for b in bodies)
        for b in bodies:
            assert "UKSAT" not in b
            assert not re.search(rf"(?<![0-9.]){GBR_ONLY}(?![0-9])", b)
        # Alerts: each nation's list holds its own alert and never the other's.
        alerts = web_node.extras.get("alerts") or {}
        if not alerts:
            pytest.skip("the threats package does not store alerts in this build")
        for page, nation, *_ in cases:
            status = page.evaluate("fetch('/api/v1/alerts').then(r => r.status)")
            if status >= 500:
                pytest.xfail(f"GET /api/v1/alerts answers {status} (the API's alerts route fails while auditing "
                             "alert dicts without marking columns); the UI shows 'alerts unavailable'")
            page.click("#alerts-refresh")
            page.wait_for_function("([t]) => document.querySelector('#alert-list').textContent.includes(t)",
                                   arg=[alerts[nation]])
            text = page.inner_text("#alert-list")
            for n, title in alerts.items():
                if n != nation:
                    assert title not in text
            assert "SECRET" in text and f"{nation} EYES ONLY" in text
    finally:
        ctx.close()


def test_banner_shows_the_highest_marking_on_screen(gbr, web_node):
    page = gbr
    # Only debris on the globe (all UNCLASSIFIED demo objects) and the alert list hidden: the banner
    # goes down to UNCLASSIFIED.
    for cat in ("own", "ally", "other"):
        page.uncheck(f"#filter-categories input[value='{cat}']")
    if web_node.extras.get("alerts"):
        page.click("#alerts-refresh")
        # the GBR EYES ONLY alert is listed: it is on screen, so the banner is SECRET
        page.wait_for_function("document.querySelector('#banner-top').dataset.classification === 'SECRET'")
        page.click("#alerts-toggle")
    try:
        page.wait_for_function("document.querySelector('#banner-top').dataset.classification === 'UNCLASSIFIED'")
    except Exception:
        state = page.evaluate("""JSON.stringify({sources: Array.from(window.orbitwatch.banner.sources.entries())
            .map(([k, v]) => [k, v.map(m => m.text || m.classification)]), view: window.orbitwatch.banner.view,
            visible: window.orbitwatch.catalog.visibleCount, filter: document.querySelector('#search').value})""")
        raise AssertionError(f"banner did not come down: {state}") from None
    b = banner(page)
    assert b["top"] == b["bottom"] and b["top"].startswith("UNCLASSIFIED")
    assert b["bg"] == b["bgBottom"] == UNCLASSIFIED_RGB
    # Open the GBR EYES ONLY object: the banner rises at once, top and bottom.
    search(page, "UKSAT")
    page.click("#search-results li")
    page.wait_for_function("document.querySelector('#banner-top').dataset.classification === 'SECRET'")
    page.wait_for_selector(f"#right[data-norad='{GBR_ONLY}']")
    b = banner(page)
    assert b["top"] == b["bottom"]
    assert "SECRET//GBR EYES ONLY" in b["top"]
    assert b["bg"] == b["bgBottom"] == SECRET_RGB
    assert "UKSAT SECRET" in page.inner_text("#right")
    # Close it and clear the search: back to what is on screen.
    page.click("#right .panel-head button")
    search(page, "")
    page.wait_for_function("document.querySelector('#banner-top').dataset.classification === 'UNCLASSIFIED'")
    if web_node.extras.get("alerts"):
        page.click("#alerts-toggle")  # the list again: SECRET again
        page.wait_for_function("document.querySelector('#banner-top').dataset.classification === 'SECRET'")
    for cat in ("own", "ally", "other"):
        page.check(f"#filter-categories input[value='{cat}']")
    page.wait_for_timeout(1000)


def _variance_and_points(png: bytes) -> tuple[float, int]:
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int32)
    var = float(img.reshape(-1, 3).var(axis=0).sum())
    # Pixels in the category colours (own cyan, ally green, other orange) = drawn objects.
    cols = np.array([[0, 229, 255], [88, 214, 141], [255, 122, 69]])
    d = np.abs(img[:, :, None, :] - cols[None, None]).sum(axis=-1).min(axis=-1)
    return var, int((d < 40).sum())


def test_globe_is_drawn_in_3d_and_2d_from_this_origin_only(gbr, web_node, tmp_path):
    page = gbr
    shot = page.locator("#globe").screenshot(path=str(tmp_path / "globe-3d.png"))
    var3, pts3 = _variance_and_points(shot)
    assert var3 > 500, f"3D globe looks blank (variance {var3})"
    assert pts3 > 100, f"too few object pixels in 3D ({pts3})"
    page.click("#globe-toolbar [data-mode='2D']")
    page.wait_for_function("window.orbitwatch.globe.viewer.scene.mode === Cesium.SceneMode.SCENE2D", timeout=30_000)
    drawn = page.evaluate("window.orbitwatch.globe.points.drawn")
    # Paused clock: the picture renders on demand; ask for frames until the map's tiles are in.
    page.wait_for_function(f"""() => {{ const g = window.orbitwatch.globe; g.viewer.scene.requestRender();
        return g.points.drawn > {drawn + 1} && g.viewer.scene.globe.tilesLoaded; }}""", timeout=60_000, polling=500)
    shot = page.locator("#globe").screenshot(path=str(tmp_path / "globe-2d.png"))
    var2, pts2 = _variance_and_points(shot)
    assert var2 > 500, f"2D map looks blank (variance {var2})"
    assert pts2 > 100, f"too few object pixels in 2D ({pts2})"
    page.click("#globe-toolbar [data-mode='3D']")
    page.wait_for_function("window.orbitwatch.globe.viewer.scene.mode === Cesium.SceneMode.SCENE3D", timeout=30_000)
    # No CDN, no map service, no internet: every request went to the node itself.
    foreign = [u for u in page.requests if not (u.startswith(web_node.url) or u.startswith(("data:", "blob:")))]
    assert foreign == []
    assert any("/static/vendor/cesium/Assets/Textures/NaturalEarthII" in u for u in page.requests)


def test_browser_positions_agree_with_skyfield_earth_fixed(gbr, web_node):
    """End to end: server SGP4 -> float32 -> GPU/CPU Hermite -> Cesium's TEME-to-fixed rotation, against
    skyfield's ITRS position of the same TLE (true UT1, IAU 2000A). The browser rotates with GMST and
    UT1 = UTC (< 0.5 km at LEO) and ignores polar motion (< 20 m): tolerance 1 km."""
    from skyfield.api import EarthSatellite, load
    from skyfield.framelib import itrs

    page = gbr
    name, l1, l2 = web_node.extras["gbr_tle"].strip().splitlines()
    ts = load.timescale(builtin=True)
    sat = EarthSatellite(l1, l2, name, ts)
    t0 = web_node.extras["reference_epoch"] + 5400.0
    worst = 0.0
    for dt in (0.0, 37.0, 1234.5, 4000.0):
        t = t0 + dt
        js = page.evaluate("""([norad, t]) => new Promise((resolve) => {
            const g = window.orbitwatch.globe; const i = window.orbitwatch.catalog.index.get(norad);
            const jd = Cesium.JulianDate.fromDate(new Date(t * 1000));
            const tryNow = (n) => { const p = g.positionOf(i, jd);
              if (p || n > 300) resolve(p ? [p.x, p.y, p.z] : null); else setTimeout(() => tryNow(n + 1), 100); };
            tryNow(0); })""", [GBR_ONLY, t])
        assert js is not None, f"no position for t={t}"
        ref = sat.at(ts.from_datetime(datetime.fromtimestamp(t, UTC))).frame_xyz(itrs).km
        worst = max(worst, float(np.linalg.norm(np.array(js) / 1000.0 - ref)))
    assert worst < 1.0, worst


@pytest.fixture(scope="module")
def exercise_id(web_node):
    """The white cell creates the "Shadow" exercise on the bundled demo catalogue (over the HTTP API)."""
    import httpx

    scenario = (Path(__file__).resolve().parents[2] / "examples" / "shadow.yaml").read_text()
    with httpx.Client(base_url=web_node.url, timeout=120) as c:
        r = c.post("/auth/login", data={"username": "white-cell", "password": web_node.users["white-cell"]})
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/exercises", json={"scenario_yaml": scenario, "catalog": "demo"})
        assert r.status_code == 201, r.text
        return r.json()["id"]


def test_exercise_step_and_actions(browser, web_node, gbr, exercise_id):
    # White cell: the console shows every nation and the MSEL; one step moves the exercise clock 10 min.
    ctx, white = open_page(browser, web_node, "white-cell")
    try:
        white.goto(web_node.url + "/#/exercise")
        white.wait_for_selector("#ex-nations tr[data-nation='GBR']")
        before = white.inner_text("#ex-sim-time")
        assert len(white.query_selector_all("#ex-nations tr[data-nation]")) == 10
        white.click("#ex-step")
        white.wait_for_function("([t]) => document.querySelector('#ex-sim-time').textContent !== t", arg=[before])
        after = white.inner_text("#ex-sim-time")
        def when(x: str) -> datetime:
            return datetime.fromisoformat(x.replace("Z", "+00:00"))

        assert (when(after) - when(before)).total_seconds() == 600
        # Fire a pending information inject now.
        white.wait_for_selector("#ex-msel tr[data-inject='I-03'][data-status='pending'] button")
        white.click("#ex-msel tr[data-inject='I-03'] button")
        white.wait_for_selector("#ex-msel tr[data-inject='I-03'][data-status='fired']")
        b = banner(white)
        assert "EXERCISE" in b["top"] and b["top"] == b["bottom"]
    finally:
        ctx.close()
    # GBR player: its feed, then an action recorded for GBR.
    page = gbr
    page.evaluate("window.location.hash = '#/exercise'")
    page.wait_for_selector("#ex-sim-time")
    page.wait_for_selector("#ex-feed li[data-type]")
    page.select_option("#ex-action-kind", "comment")
    page.fill("#ex-action-form textarea[name='text']", "GBR sees the inspector closing on ISR-1")
    page.click("#ex-action-submit")
    page.wait_for_selector("#ex-action-list li[data-kind='comment'][data-ok='true']")
    assert "GBR sees the inspector" in page.inner_text("#ex-action-list")
    page.wait_for_function("document.querySelector('#banner-top').dataset.exercise === '1'")
    page.select_option("#ex-action-kind", "acknowledge")
    page.click("#ex-action-submit")
    page.wait_for_selector("#ex-action-list li[data-kind='acknowledge'][data-ok='true']")
    # Back to the picture: the banner no longer counts the exercise console.
    page.evaluate("window.location.hash = '#/picture'")
    page.wait_for_function("document.querySelector('#banner-top').dataset.exercise === '0'")


def test_alert_geometry_is_drawn_between_the_objects(gbr, web_node):
    """'show on globe' for a proximity alert: clock to the event, both objects highlighted, the line
    between them (its length is the distance now), a sphere of the closest range around the asset."""
    page = gbr
    page.evaluate("window.location.hash = '#/picture'")
    t_event = web_node.extras["reference_epoch"] + 3600
    alert = {"kind": "proximity", "severity": "high", "title": "test approach", "subjects": [GBR_ONLY, GBR_FRA],
             "event_time": datetime.fromtimestamp(t_event, UTC).isoformat(), "payload": {"closest_km": 4.2},
             "marking": "SECRET//GBR EYES ONLY"}
    page.evaluate("(a) => window.orbitwatch.showAlert(a)", alert)
    page.wait_for_function("""() => { const g = window.orbitwatch.globe; if (g.alertEntities.length < 3) return false;
        const p = g.alertEntities[0].polyline.positions.getValue(g.viewer.clock.currentTime);
        return p && p.length === 2; }""", timeout=60_000, polling=500)
    out = page.evaluate("""() => { const g = window.orbitwatch.globe; const t = g.viewer.clock.currentTime;
        const p = g.alertEntities[0].polyline.positions.getValue(t);
        return {unix: g.unixOf(t), highlighted: Array.from(g.highlighted).map(i => window.orbitwatch.catalog.norad[i]),
                km: Cesium.Cartesian3.distance(p[0], p[1]) / 1000,
                radius: g.alertEntities[2].ellipsoid.radii.getValue(t).x / 1000,
                label: g.alertEntities[1].label.text.getValue(t)}; }""")
    assert abs(out["unix"] - t_event) < 1.0
    assert sorted(out["highlighted"]) == sorted([GBR_ONLY, GBR_FRA])
    assert abs(out["radius"] - 4.2) < 1e-6
    # The line's length is the distance between the two objects at that time (Earth-fixed, km).
    assert 0 < out["km"] < 2 * 7000
    assert f"{out['km']:.1f} km now" in out["label"]
    assert banner(page)["cls"] == "SECRET"
    page.evaluate("window.orbitwatch.globe.clearAlert()")


def test_picture_shows_the_exercise_world_marked_exercise(gbr, exercise_id):
    """Switching the picture's source to the exercise: the nation's simulated world is drawn and the
    banner reads EXERCISE; back to the catalogue, it does not."""
    page = gbr
    page.evaluate("window.location.hash = '#/picture'")
    page.evaluate("window.orbitwatch.refreshSources()")
    page.wait_for_selector(f"#source option[value='{exercise_id}']", state="attached")
    page.select_option("#source", str(exercise_id))
    page.wait_for_function(f"""() => {{ const c = window.orbitwatch.catalog;
        return c && c.json.source === 'exercise:{exercise_id}' && window.orbitwatch.globe.points.hasData; }}""",
                           timeout=60_000)
    page.evaluate("window.orbitwatch.globe.updateVisibility()")
    page.wait_for_function("document.querySelector('#banner-top').dataset.exercise === '1'")
    assert "EXERCISE" in banner(page)["top"]
    assert page.evaluate("window.orbitwatch.catalog.n") > 100
    page.select_option("#source", "")
    page.wait_for_function("window.orbitwatch.catalog.json.source === 'catalogue'", timeout=60_000)
    page.wait_for_function("document.querySelector('#banner-top').dataset.exercise === '0'")
