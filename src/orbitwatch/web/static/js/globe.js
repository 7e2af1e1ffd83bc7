// The globe: Cesium viewer (3D / 2D / Columbus), the catalogue primitive fed from the server's sampled
// positions, selection (orbit + ground track), alert geometry, picking, and the globe's part of the
// classification banner (the markings of the objects actually in view).

import { get } from './api.js';
import { CATEGORY_COLOURS, CATEGORY_NAMES, SELECTED_COLOUR } from './catalog.js';
import { PositionFeeder, stepFor } from './feeder.js';
import { hermite, OrbitPoints } from './points.js';
import { throttle } from './util.js';

const SIZES = { own: 5, ally: 4, other: 4, debris: 2.5 };
const ASSET_SIZE = 7;
const HIGHLIGHT_SIZE = 9;

function isSoftwareRenderer(viewer) {
  try {
    const gl = viewer.scene.context._gl;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const name = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    return /swiftshader|llvmpipe|software/i.test(String(name));
  } catch (_) {
    return false;
  }
}

export class Globe {
  constructor(container, { banner, scheme, onSelect, onStatus, metrics }) {
    this.container = container;
    this.banner = banner;
    this.scheme = scheme;
    this.onSelect = onSelect || (() => {});
    this.onStatus = onStatus || (() => {});
    this.metrics = metrics;
    this.catalog = null;
    this.feeder = null;
    this.points = null;
    this.selected = -1;
    this.highlighted = new Set();
    this.knotId = null;
    this.knotRange = null;
    this.trackEntities = [];
    this.alertEntities = [];
    this.orbitPrimitive = null;
    this.trackInfo = null;
    this._tmp = [0, 0, 0];
    this._rot = new Cesium.Matrix3();
    this.unixNow = 0;
    this.frames = 0;
  }

  init({ lite = null } = {}) {
    const imagery = Cesium.ImageryLayer.fromProviderAsync(
      Cesium.TileMapServiceImageryProvider.fromUrl(Cesium.buildModuleUrl('Assets/Textures/NaturalEarthII')));
    const viewer = new Cesium.Viewer(this.container, {
      baseLayer: imagery,
      baseLayerPicker: false,
      geocoder: false,
      homeButton: true,
      sceneModePicker: true,
      navigationHelpButton: false,
      fullscreenButton: false,
      infoBox: false,
      selectionIndicator: false,
      animation: true,
      timeline: true,
      shouldAnimate: true,
      msaaSamples: 1,
    });
    this.viewer = viewer;
    const scene = viewer.scene;
    scene.globe.enableLighting = false;
    // Render on demand: every frame while the clock runs (time changes), only on changes when paused,
    // so a paused picture costs no CPU/GPU (software-rendered clients and laptops on battery).
    scene.requestRenderMode = true;
    scene.maximumRenderTimeChange = 0.0;
    this.software = isSoftwareRenderer(viewer);
    this.setLite(lite === null ? this.software : lite);
    // The default double-click zooms onto an entity; we handle clicks ourselves.
    viewer.screenSpaceEventHandler.removeInputAction(Cesium.ScreenSpaceEventType.LEFT_DOUBLE_CLICK);
    this.handler = new Cesium.ScreenSpaceEventHandler(scene.canvas);
    this.handler.setInputAction((e) => this._click(e.position), Cesium.ScreenSpaceEventType.LEFT_CLICK);
    scene.preUpdate.addEventListener((_, time) => this._tick(time));
    scene.postRender.addEventListener(() => this._postRender());
    this._visibility = throttle(() => this.updateVisibility(), 700);
    scene.camera.percentageChanged = 0.05;
    scene.camera.changed.addEventListener(() => this._visibility());
    scene.morphComplete.addEventListener(() => { this._visibility(); this._refreshSelectionGeometry(); });
    setInterval(() => { if (viewer.clock.shouldAnimate) this._visibility(); }, 2000);
    return viewer;
  }

  /** Lite globe for software rendering: no atmosphere, fog, sky box, sun/moon or anti-aliasing. */
  setLite(on) {
    const s = this.viewer.scene;
    this.lite = !!on;
    s.skyAtmosphere.show = !on;
    s.fog.enabled = !on;
    s.globe.showGroundAtmosphere = !on;
    s.skyBox.show = !on;
    if (s.sun) s.sun.show = !on;
    if (s.moon) s.moon.show = !on;
    s.postProcessStages.fxaa.enabled = !on;
    s.globe.maximumScreenSpaceError = on ? 4 : 2;
    s.requestRender();
  }

  setCatalog(catalog, { startUnix, prime = true, params = {} }) {
    if (this.points) { this.viewer.scene.primitives.remove(this.points); this.points = null; }
    if (this.feeder) this.feeder.stop();
    this.catalog = catalog;
    this.selected = -1;
    this.highlighted.clear();
    this.knotId = null;
    this.knotRange = null;
    this.points = this.viewer.scene.primitives.add(new OrbitPoints(catalog.n));
    this.feeder = new PositionFeeder(catalog.snapshot, catalog.n, {
      onStale: () => this.onStatus('stale'),
      onError: (e) => this.onStatus('error', e),
      onLoad: () => { this.viewer.scene.requestRender(); this.onStatus('loaded'); },
      params,
    });
    if (startUnix !== undefined) {
      const clock = this.viewer.clock;
      const start = Cesium.JulianDate.fromDate(new Date(startUnix * 1000));
      clock.startTime = Cesium.JulianDate.addDays(start, -1, new Cesium.JulianDate());
      clock.stopTime = Cesium.JulianDate.addDays(start, 2, new Cesium.JulianDate());
      clock.currentTime = start.clone();
      clock.clockRange = Cesium.ClockRange.UNBOUNDED;
      this.viewer.timeline.zoomTo(Cesium.JulianDate.addHours(start, -6, new Cesium.JulianDate()),
        Cesium.JulianDate.addHours(start, 18, new Cesium.JulianDate()));
      if (prime) this.feeder.prime(startUnix, clock.multiplier);
    }
    this.restyle();
  }

  /** Colours and sizes from category, filter, own assets, selection and alert highlights. */
  restyle() {
    const c = this.catalog;
    if (!c || !this.points) return;
    const colours = new Uint8Array(c.n * 4);
    const styles = new Float32Array(c.n * 2);
    const palette = CATEGORY_NAMES.map((k) => CATEGORY_COLOURS[k]);
    for (let i = 0; i < c.n; i++) {
      const cat = c.category[i];
      const rgb = palette[cat];
      colours[i * 4] = rgb[0];
      colours[i * 4 + 1] = rgb[1];
      colours[i * 4 + 2] = rgb[2];
      colours[i * 4 + 3] = 255;
      let size = 0;
      if (c.visible[i]) {
        size = c.asset[i] ? ASSET_SIZE : SIZES[CATEGORY_NAMES[cat]];
        if (c.type[i] === 'ROCKET BODY') size = Math.min(size, 3);
      }
      styles[i * 2] = size;
      styles[i * 2 + 1] = c.asset[i] ? 1 : 0;
    }
    for (const i of [...this.highlighted, this.selected]) {
      if (i < 0 || i >= c.n) continue;
      colours.set([...SELECTED_COLOUR, 255], i * 4);
      styles[i * 2] = HIGHLIGHT_SIZE;
    }
    this.points.setStyle(colours, styles);
    this.viewer.scene.requestRender();
    this._visibility && this._visibility();
  }

  unixOf(julian) { return Cesium.JulianDate.toDate(julian).getTime() / 1000; }

  _tick(time) {
    if (!this.points || !this.feeder) return;
    const t = this.unixOf(time);
    this.unixNow = t;
    Cesium.Transforms.computeTemeToPseudoFixedMatrix(time, this.points.rot);
    const loc = this.feeder.locate(t, this.viewer.clock.multiplier);
    if (loc) {
      if (loc.id !== this.knotId) {
        this.points.setKnots(loc.a, loc.b, loc.h);
        this.viewer.scene.requestRender();
        this.knotId = loc.id;
        this.knotRange = [loc.window.start + loc.k * loc.h, loc.window.start + (loc.k + 1) * loc.h];
      }
      this.points.s = loc.s;
      this.points.show = true;
    } else if (this.knotRange) {
      // Positions for this time are still loading: never show points at a wrong time.
      const [a, b] = this.knotRange;
      const h = b - a;
      this.points.s = Math.max(0, Math.min(1, (t - a) / h));
      this.points.show = t >= a - h && t <= b + h;
    }
    if (this.trackInfo && Math.abs(t - this.trackInfo.t) > this.trackInfo.period_s * 0.5) this._refreshTrack();
  }

  _postRender() {
    this.frames += 1;
    if (this.metrics && this.points && this.points.drawn > 0 && this.metrics.firstFrameMs === null) {
      this.metrics.firstFrameMs = performance.now();
      this.metrics.firstFramePoints = this.catalog ? this.catalog.visibleCount : 0;
      this.updateVisibility();
    }
  }

  /** Earth-fixed position (Cartesian3, metres) of catalogue object i at a Cesium time, or undefined. */
  positionOf(i, time, result) {
    if (!this.feeder || i < 0) return undefined;
    const t = this.unixOf(time);
    // Any time (an alert's, a test's): never evicts the windows the clock is using.
    const loc = this.feeder.locate(t, this.viewer.clock.multiplier, { evict: false });
    if (!loc) return undefined;
    const p = hermite(loc.a, loc.b, i, loc.s, loc.h, this._tmp);
    if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] < 1) return undefined;
    Cesium.Transforms.computeTemeToPseudoFixedMatrix(time, this._rot);
    const r = this._rot;
    const out = result || new Cesium.Cartesian3();
    // Matrix3 is column-major: element (row, col) at col*3 + row.
    out.x = (r[0] * p[0] + r[3] * p[1] + r[6] * p[2]) * 1000;
    out.y = (r[1] * p[0] + r[4] * p[1] + r[7] * p[2]) * 1000;
    out.z = (r[2] * p[0] + r[5] * p[1] + r[8] * p[2]) * 1000;
    return out;
  }

  /** Window positions of all shown objects now: calls fn(i, x, y) for those in view and not hidden. */
  _forEachOnScreen(fn) {
    const c = this.catalog;
    const scene = this.viewer.scene;
    if (!c || !this.points || !this.points.hasData) return;
    const loc = this.feeder.locate(this.unixNow, this.viewer.clock.multiplier, { evict: false });
    if (!loc) return;
    const time = this.viewer.clock.currentTime;
    Cesium.Transforms.computeTemeToPseudoFixedMatrix(time, this._rot);
    const r = this._rot;
    const canvas = scene.canvas;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const p = this._tmp;
    const mode = scene.mode;
    if (mode === Cesium.SceneMode.SCENE3D) {
      const cam = scene.camera;
      const vp = Cesium.Matrix4.multiply(cam.frustum.projectionMatrix, cam.viewMatrix, new Cesium.Matrix4());
      const e = cam.positionWC;
      const R = 6356752.0; // occlusion by a sphere of the polar radius: conservative (never hides a visible point)
      const e2 = e.x * e.x + e.y * e.y + e.z * e.z;
      for (let i = 0; i < c.n; i++) {
        if (!c.visible[i]) continue;
        hermite(loc.a, loc.b, i, loc.s, loc.h, p);
        if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] < 1) continue;
        const x = (r[0] * p[0] + r[3] * p[1] + r[6] * p[2]) * 1000;
        const y = (r[1] * p[0] + r[4] * p[1] + r[7] * p[2]) * 1000;
        const z = (r[2] * p[0] + r[5] * p[1] + r[8] * p[2]) * 1000;
        const cw = vp[3] * x + vp[7] * y + vp[11] * z + vp[15];
        if (cw <= 0) continue;
        const nx = (vp[0] * x + vp[4] * y + vp[8] * z + vp[12]) / cw;
        const ny = (vp[1] * x + vp[5] * y + vp[9] * z + vp[13]) / cw;
        if (nx < -1 || nx > 1 || ny < -1 || ny > 1) continue;
        // Is the Earth between the eye and the point? (segment-sphere intersection)
        const dx = x - e.x, dy = y - e.y, dz = z - e.z;
        const dd = dx * dx + dy * dy + dz * dz;
        const tc = -(e.x * dx + e.y * dy + e.z * dz) / dd;
        if (tc > 0 && tc < 1) {
          const cx = e.x + tc * dx, cy = e.y + tc * dy, cz = e.z + tc * dz;
          if (cx * cx + cy * cy + cz * cz < R * R && e2 > R * R) continue;
        }
        fn(i, (nx + 1) * 0.5 * w, (1 - ny) * 0.5 * h);
      }
      return;
    }
    // 2D / Columbus view: the map's view rectangle, then Cesium's own projection to window pixels.
    const rect = scene.camera.computeViewRectangle(scene.globe.ellipsoid);
    const toWindow = Cesium.SceneTransforms.worldToWindowCoordinates || Cesium.SceneTransforms.wgs84ToWindowCoordinates;
    const cart = new Cesium.Cartesian3();
    for (let i = 0; i < c.n; i++) {
      if (!c.visible[i]) continue;
      hermite(loc.a, loc.b, i, loc.s, loc.h, p);
      if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] < 1) continue;
      cart.x = (r[0] * p[0] + r[3] * p[1] + r[6] * p[2]) * 1000;
      cart.y = (r[1] * p[0] + r[4] * p[1] + r[7] * p[2]) * 1000;
      cart.z = (r[2] * p[0] + r[5] * p[1] + r[8] * p[2]) * 1000;
      if (rect) {
        const lon = Math.atan2(cart.y, cart.x);
        const lat = Math.atan2(cart.z, Math.hypot(cart.x, cart.y));
        const inLon = rect.west <= rect.east ? lon >= rect.west && lon <= rect.east : lon >= rect.west || lon <= rect.east;
        if (!inLon || lat < rect.south || lat > rect.north) continue;
      }
      const win = toWindow(scene, cart);
      if (!win) continue;
      fn(i, win.x, win.y);
    }
  }

  /** The globe's banner source: the markings of the objects in view (not hidden, not behind Earth). */
  updateVisibility() {
    const c = this.catalog;
    if (!c) { this.banner.set('globe', []); return; }
    const seen = new Set();
    let count = 0;
    this._forEachOnScreen((i) => { seen.add(c.markingIdx[i]); count += 1; });
    if (this.selected >= 0) seen.add(c.markingIdx[this.selected]);
    for (const i of this.highlighted) seen.add(c.markingIdx[i]);
    this.onScreenCount = count;
    this.onScreenMarkings = Array.from(seen).map((k) => c.markings[k].text);
    this.banner.set('globe', Array.from(seen).map((k) => c.markings[k]));
  }

  _click(position) {
    let best = -1;
    let bestD = 8 * 8;
    this._forEachOnScreen((i, x, y) => {
      const d = (x - position.x) ** 2 + (y - position.y) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    });
    if (best >= 0) this.onSelect(best);
  }

  // -- selection ----------------------------------------------------------------------------------
  select(i) {
    this.selected = i;
    this._clearTrack();
    this.restyle();
    if (i < 0) return;
    const c = this.catalog;
    const self = this;
    const position = new Cesium.CallbackProperty((time, result) => self.positionOf(i, time, result), false);
    this.trackEntities.push(this.viewer.entities.add({
      position,
      point: { pixelSize: 12, color: Cesium.Color.fromBytes(...SELECTED_COLOUR, 255), outlineColor: Cesium.Color.BLACK,
        outlineWidth: 2, disableDepthTestDistance: Number.POSITIVE_INFINITY },
      label: { text: `${c.name[i] || 'UNKNOWN'} (${c.norad[i]})`, font: '13px sans-serif', pixelOffset: new Cesium.Cartesian2(12, -12),
        fillColor: Cesium.Color.WHITE, showBackground: true, backgroundColor: Cesium.Color.fromAlpha(Cesium.Color.BLACK, 0.6),
        horizontalOrigin: Cesium.HorizontalOrigin.LEFT, disableDepthTestDistance: Number.POSITIVE_INFINITY },
    }));
    this._refreshTrack();
  }

  _clearTrack() {
    for (const e of this.trackEntities) this.viewer.entities.remove(e);
    this.trackEntities = [];
    this._clearOrbitGeometry();
    this.trackInfo = null;
    this.banner.clear('track');
  }

  _clearOrbitGeometry() {
    if (this.orbitPrimitive) { this.viewer.scene.primitives.remove(this.orbitPrimitive); this.orbitPrimitive = null; }
    if (this.groundEntity) { this.viewer.entities.remove(this.groundEntity); this.groundEntity = null; }
  }

  async _refreshTrack() {
    const i = this.selected;
    if (i < 0 || !this.catalog) return;
    const norad = this.catalog.norad[i];
    const t = this.unixNow || this.unixOf(this.viewer.clock.currentTime);
    const period = (this.catalog.period[i] || 90) * 60;
    this.trackInfo = { t, period_s: period, norad };
    let track;
    try {
      track = await get(`/api/v1/web/objects/${norad}/track`, { t: t.toFixed(3), revs: period > 40000 ? 0.5 : 1 });
    } catch (err) {
      this.onStatus('error', err);
      return;
    }
    if (this.selected !== i) return;
    this.trackInfo = { t, period_s: track.period_min * 60, norad, marking: track.marking };
    this.selectionMarkings = [track.marking];
    this._clearOrbitGeometry();
    this._drawOrbit(track);
    this._drawGround(track);
    this.banner.set('track', [track.marking]);
  }

  _refreshSelectionGeometry() { if (this.selected >= 0) this._refreshTrack(); }

  _drawOrbit(track) {
    // Inertial orbit: TEME points, rotated to Earth-fixed every frame through the model matrix.
    if (this.viewer.scene.mode !== Cesium.SceneMode.SCENE3D || track.orbit.km.length < 2) return;
    const positions = track.orbit.km.map((p) => new Cesium.Cartesian3(p[0] * 1000, p[1] * 1000, p[2] * 1000));
    const coll = new Cesium.PolylineCollection();
    coll.add({ positions, width: 1.5, material: Cesium.Material.fromType('Color', { color: Cesium.Color.fromBytes(255, 212, 0, 170) }) });
    const rot = new Cesium.Matrix3();
    const self = this;
    coll.update = ((orig) => function (frameState) {
      Cesium.Transforms.computeTemeToPseudoFixedMatrix(self.viewer.clock.currentTime, rot);
      this.modelMatrix = Cesium.Matrix4.fromRotationTranslation(rot, Cesium.Cartesian3.ZERO, this.modelMatrix);
      return orig.call(this, frameState);
    })(coll.update);
    this.orbitPrimitive = this.viewer.scene.primitives.add(coll);
  }

  _drawGround(track) {
    const g = track.ground;
    if (!g.lat.length) return;
    const deg = [];
    for (let k = 0; k < g.lat.length; k++) deg.push(g.lon[k], g.lat[k]);
    this.groundEntity = this.viewer.entities.add({
      polyline: { positions: Cesium.Cartesian3.fromDegreesArray(deg), width: 1.5, arcType: Cesium.ArcType.GEODESIC,
        material: Cesium.Color.fromBytes(255, 212, 0, 140) },
    });
  }

  // -- alerts -------------------------------------------------------------------------------------
  /** Draw an alert's geometry: the objects involved highlighted, the line between them (miss/closest
   * distance), an ellipsoid around the protected asset for proximity alerts; clock moved to the event. */
  showAlert(alert, { objects, time, rangeKm, label, kind }) {
    this.clearAlert();
    const c = this.catalog;
    const idx = objects.map((n) => c.index.get(Number(n))).filter((i) => i !== undefined);
    for (const i of idx) this.highlighted.add(i);
    this.restyle();
    if (time) {
      this.viewer.clock.currentTime = Cesium.JulianDate.fromDate(new Date(time * 1000));
      this.viewer.clock.shouldAnimate = false;
    }
    const self = this;
    if (idx.length >= 2) {
      const [a, b] = idx;
      const pa = new Cesium.Cartesian3();
      const pb = new Cesium.Cartesian3();
      const line = new Cesium.CallbackProperty((t) => {
        const x = self.positionOf(a, t, pa);
        const y = self.positionOf(b, t, pb);
        return x && y ? [x.clone(), y.clone()] : [];
      }, false);
      const mid = new Cesium.CallbackProperty((t, result) => {
        const x = self.positionOf(a, t, pa);
        const y = self.positionOf(b, t, pb);
        return x && y ? Cesium.Cartesian3.midpoint(x, y, result || new Cesium.Cartesian3()) : undefined;
      }, false);
      const dist = new Cesium.CallbackProperty((t) => {
        const x = self.positionOf(a, t, pa);
        const y = self.positionOf(b, t, pb);
        const now = x && y ? `${(Cesium.Cartesian3.distance(x, y) / 1000).toFixed(1)} km now` : '';
        return [label, now].filter(Boolean).join('\n');
      }, false);
      this.alertEntities.push(this.viewer.entities.add({
        polyline: { positions: line, width: 2, arcType: Cesium.ArcType.NONE, material: Cesium.Color.fromBytes(255, 60, 60, 255) },
      }));
      this.alertEntities.push(this.viewer.entities.add({
        position: mid,
        label: { text: dist, font: '12px sans-serif', fillColor: Cesium.Color.WHITE, showBackground: true,
          backgroundColor: Cesium.Color.fromBytes(120, 0, 0, 200), pixelOffset: new Cesium.Cartesian2(0, -18),
          disableDepthTestDistance: Number.POSITIVE_INFINITY },
      }));
    }
    if (idx.length >= 1 && rangeKm && /prox|rpo|approach|shadow/i.test(kind || '')) {
      const a = idx[0];
      const r = rangeKm * 1000;
      this.alertEntities.push(this.viewer.entities.add({
        position: new Cesium.CallbackProperty((t, result) => self.positionOf(a, t, result), false),
        ellipsoid: { radii: new Cesium.Cartesian3(r, r, r), material: Cesium.Color.fromBytes(255, 60, 60, 50),
          outline: true, outlineColor: Cesium.Color.fromBytes(255, 60, 60, 160) },
      }));
    }
    this.updateVisibility();
  }

  clearAlert() {
    for (const e of this.alertEntities) this.viewer.entities.remove(e);
    this.alertEntities = [];
    if (this.highlighted.size) { this.highlighted.clear(); this.restyle(); }
  }

  flyTo(i) {
    const time = this.viewer.clock.currentTime;
    const p = this.positionOf(i, time);
    if (!p) return;
    const carto = Cesium.Cartographic.fromCartesian(p);
    const height = Math.max(carto.height * 2.5 + 2.0e6, 4.0e6);
    this.viewer.camera.flyTo({ destination: Cesium.Cartesian3.fromRadians(carto.longitude, carto.latitude, height), duration: 1.2 });
  }

  setMode(mode) {
    const scene = this.viewer.scene;
    if (mode === '2D') scene.morphTo2D(0.8);
    else if (mode === 'CV') scene.morphToColumbusView(0.8);
    else scene.morphTo3D(0.8);
  }

  setSpeed(multiplier) {
    const clock = this.viewer.clock;
    clock.multiplier = multiplier;
    clock.shouldAnimate = true;
    if (this.feeder) this.feeder.locate(this.unixNow, multiplier); // start loading at the new knot spacing
  }

  stepSeconds() { return stepFor(this.viewer.clock.multiplier); }
}
