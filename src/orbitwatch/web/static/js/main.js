// Boot: who am I (or the login form), then the picture: the catalogue snapshot and CesiumJS load in
// parallel, the globe starts, filters/search/alerts/panel are wired. The exercise console loads on
// demand. Nothing is kept between users: logging out reloads the page.

import { ApiError, get, login, logout, positions, setUnauthenticatedHandler } from './api.js';
import { AlertList, alertObjects, alertRangeKm, alertTime } from './alerts.js';
import { Catalog, CATEGORY_COLOURS, CATEGORY_NAMES } from './catalog.js';
import { Globe } from './globe.js';
import { Banner, Scheme } from './markings.js';
import { ObjectPanel } from './panel.js';
import { $, $$, clear, debounce, el, isoUtc } from './util.js';

const CESIUM_BASE = '/static/vendor/cesium/';
window.CESIUM_BASE_URL = CESIUM_BASE;

const metrics = { start: 0, configMs: null, catalogMs: null, cesiumMs: null, firstPositionsMs: null, firstFrameMs: null, firstFramePoints: 0 };
const app = { metrics, state: 'booting', config: null, catalog: null, globe: null, alerts: null, panel: null, banner: null, errors: [] };
window.orbitwatch = app; // for people debugging in the console, and for the browser tests / benchmark

let cesiumPromise = null;
function loadCesium() {
  if (window.Cesium) return Promise.resolve(window.Cesium);
  if (!cesiumPromise) {
    cesiumPromise = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = CESIUM_BASE + 'Cesium.js';
      s.onload = () => { metrics.cesiumMs = performance.now(); resolve(window.Cesium); };
      s.onerror = () => reject(new Error('CesiumJS did not load: run scripts/setup-web.sh on the server'));
      document.head.append(s);
    });
  }
  return cesiumPromise;
}

function showView(name) {
  for (const v of ['login', 'picture', 'exercise']) $(`#${v}-view`).hidden = v !== name;
  for (const a of $$('#views a')) a.classList.toggle('active', a.dataset.view === name);
}

function toast(text, ms = 3000) {
  const t = el('div', { class: 'toast', role: 'status', text });
  document.body.append(t);
  setTimeout(() => t.remove(), ms);
}
app.toast = toast;

async function boot() {
  loadCesium().catch(() => {}); // start downloading at once; errors surface when the globe needs it
  setUnauthenticatedHandler(() => { if (app.state === 'running') window.location.reload(); });
  let config;
  try {
    config = await get('/api/v1/web/config');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { showLogin(); return; }
    showFatal(err);
    return;
  }
  metrics.configMs = performance.now();
  await start(config);
}

function showLogin() {
  app.state = 'login';
  showView('login');
  const form = $('#login-form');
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    $('#login-error').textContent = '';
    $('#login-submit').disabled = true;
    try {
      await login($('#login-user').value, $('#login-password').value);
      $('#login-password').value = '';
      const config = await get('/api/v1/web/config');
      await start(config);
    } catch (err) {
      $('#login-error').textContent = err.message || 'sign-in failed';
    } finally {
      $('#login-submit').disabled = false;
    }
  };
  $('#login-user').focus();
}

function showFatal(err) {
  app.state = 'error';
  app.errors.push(String(err && err.message));
  const s = $('#status');
  if (s) s.textContent = `error: ${err.message}`;
  document.title = 'orbitwatch — error';
}

async function start(config) {
  app.config = config;
  const scheme = new Scheme(config.levels, config.nations, config.tetragraphs);
  app.scheme = scheme;
  app.banner = new Banner([$('#banner-top'), $('#banner-bottom')], scheme, config.exercise_banner);
  const u = config.user;
  $('#whoami').textContent = `${u.username} · ${u.nation || u.organisation || ''} · ${u.clearance}`;
  $('#logout').hidden = false;
  $('#logout').onclick = async () => { await logout(); window.location.replace('/'); };
  $('#views').hidden = false;
  app.state = 'running';
  window.addEventListener('hashchange', route);
  route();
}

function route() {
  const h = window.location.hash;
  if (h.startsWith('#/exercise')) { showView('exercise'); startExercise(); }
  else {
    if (app.exercise) app.exercise.hide();
    app.banner.setView('picture');
    showView('picture');
    if (pictureStarted) refreshSources();
    startPicture();
  }
}

// -- the picture ------------------------------------------------------------------------------------
let pictureStarted = false;
async function startPicture() {
  if (pictureStarted) return;
  pictureStarted = true;
  const cfg = app.config;
  const status = (t) => { $('#status').textContent = t; };
  status('loading catalogue…');
  const catalogP = get('/api/v1/web/catalog', sourceParams()).then((j) => { metrics.catalogMs = performance.now(); return j; });
  // The first knots at the catalogue's reference time, in parallel (the server builds the snapshot once).
  const firstKnots = positions('current', null, 60, 2).catch(() => null);
  let Cesium;
  try {
    Cesium = await loadCesium();
  } catch (err) { showFatal(err); return; }
  const alerts = new AlertList($('#alert-list'), { banner: app.banner, scheme: app.scheme, onShow: (a) => showAlert(a) });
  app.alerts = alerts;
  const globe = new Globe($('#globe'), {
    banner: app.banner, scheme: app.scheme, metrics,
    onSelect: (i) => selectObject(i),
    onStatus: (kind, err) => {
      if (kind === 'stale') reloadCatalog();
      else if (kind === 'error') { status(`positions: ${err.message}`); app.errors.push(String(err.message)); }
      else if (kind === 'loaded' && metrics.firstPositionsMs === null) metrics.firstPositionsMs = performance.now();
    },
  });
  app.globe = globe;
  globe.init();
  $('#lite').checked = globe.lite;
  $('#lite').onchange = () => globe.setLite($('#lite').checked);
  app.panel = new ObjectPanel($('#right'), {
    banner: app.banner, scheme: app.scheme, alerts,
    onAlert: (a) => showAlert(a), onClose: () => globe.select(-1),
  });
  let json;
  try {
    json = await catalogP;
  } catch (err) { showFatal(err); return; }
  installCatalog(json, { first: true });
  firstKnots.then((w) => { if (w && app.catalog === app.globe.catalog) app.globe.feeder.adopt(w); });
  wireToolbar();
  alerts.start(30000);
  $('#alerts-refresh').onclick = () => alerts.refresh();
  $('#alerts-toggle').onclick = () => {
    alerts.setCollapsed(!alerts.collapsed);
    $('#alerts-toggle').textContent = alerts.collapsed ? 'show' : 'hide';
    $('#alerts-toggle').setAttribute('aria-expanded', String(!alerts.collapsed));
  };
  setInterval(refreshCatalogIfChanged, 120000);
  setInterval(() => { if (app.source) refreshCatalogIfChanged(); }, 10000); // an exercise world moves on
  refreshSources();
  setInterval(refreshSources, 120000);
  $('#source').onchange = () => switchSource($('#source').value);
  $('#source').onfocus = () => refreshSources();
  setInterval(() => { if (!$('#picture-view').hidden && globe.unixNow) $('#utc').textContent = isoUtc(globe.unixNow) + ' UTC'; }, 500);
}

app.source = ''; // '' = the catalogue, else an exercise id
function sourceParams() { return app.source ? { exercise: app.source } : {}; }
function isCurrentSource(json) { return (json.source || 'catalogue') === (app.source ? `exercise:${app.source}` : 'catalogue'); }

async function refreshSources() {
  let list = [];
  try { list = (await get('/api/v1/exercises')).items || []; } catch (_) { return; }
  const sel = $('#source');
  const keep = app.source;
  clear(sel).append(el('option', { value: '', text: 'Catalogue' }));
  for (const x of list) sel.append(el('option', { value: String(x.id), text: `Exercise #${x.id} ${x.name}` }));
  sel.value = keep;
}

app.refreshSources = () => refreshSources();

async function switchSource(value) {
  app.source = value;
  $('#status').textContent = 'loading…';
  try {
    const json = await get('/api/v1/web/catalog', sourceParams());
    app.globe.select(-1);
    app.panel.close();
    installCatalog(json, { first: true, prime: true });
    toast(value ? `showing exercise #${value} as your nation holds it` : 'showing the catalogue');
  } catch (err) { toast(`error: ${err.message}`, 5000); }
}

function referenceTime(json) {
  if (json.reference_ts) return json.reference_ts; // an exercise: its simulated time
  const now = Date.now() / 1000;
  if (!json.epoch) return now;
  // A catalogue far from today (archived data, a demo) is shown at its own epoch, not extrapolated.
  return now - json.epoch.max > 3 * 86400 || json.epoch.max - now > 3 * 86400 ? Math.floor(json.epoch.max / 60) * 60 : now;
}

function installCatalog(json, { first = false, prime = false } = {}) {
  const cat = new Catalog(json, app.config.user, app.scheme);
  const prev = app.catalog;
  app.catalog = cat;
  app.referenceUnix = referenceTime(json);
  const keepSelection = prev && app.globe.selected >= 0 ? prev.norad[app.globe.selected] : null;
  if (prev) cat.applyFilter(prev.filter);
  app.globe.setCatalog(cat, first ? { startUnix: app.referenceUnix, prime, params: sourceParams() }
    : { startUnix: undefined, params: sourceParams() });
  if (!first) app.globe.feeder.locate(app.globe.unixNow, app.globe.viewer.clock.multiplier);
  buildFilters(cat);
  updateCounts();
  if (keepSelection !== null && cat.index.has(keepSelection)) selectObject(cat.index.get(keepSelection));
  $('#status').textContent = `${cat.n.toLocaleString()} objects`;
}

async function reloadCatalog() {
  try {
    const json = await get('/api/v1/web/catalog', sourceParams());
    if (!isCurrentSource(json)) return;
    installCatalog(json);
    toast('catalogue updated');
  } catch (err) { app.errors.push(String(err.message)); }
}

async function refreshCatalogIfChanged() {
  try {
    const json = await get('/api/v1/web/catalog', sourceParams());
    if (!isCurrentSource(json)) return;
    if (json.snapshot !== app.catalog.snapshot) { installCatalog(json); toast('catalogue updated'); }
    app.referenceUnix = referenceTime(json);
  } catch (_) { /* next time */ }
}

function buildFilters(cat) {
  const counts = { own: 0, ally: 0, other: 0, debris: 0 };
  for (let i = 0; i < cat.n; i++) counts[CATEGORY_NAMES[cat.category[i]]]++;
  const labels = { own: `own (${app.config.user.nation || '—'})`, ally: 'allies', other: 'others', debris: 'debris' };
  const boxCat = clear($('#filter-categories'));
  for (const k of CATEGORY_NAMES) {
    const [r, g, b] = CATEGORY_COLOURS[k];
    const input = el('input', { type: 'checkbox', value: k, checked: cat.filter.categories.has(k), dataset: { category: k } });
    boxCat.append(el('label', {}, [input, el('span', { class: 'dot', style: { background: `rgb(${r},${g},${b})` } }), `${labels[k]} ${counts[k].toLocaleString()}`]));
  }
  const mk = (id, values, set) => {
    const box = clear($(id));
    for (const v of values) {
      box.append(el('label', {}, [el('input', { type: 'checkbox', value: v, checked: set.has(v) }), v]));
    }
  };
  mk('#filter-regimes', ['LEO', 'MEO', 'GEO', 'HEO'], cat.filter.regimes);
  mk('#filter-types', ['PAYLOAD', 'ROCKET BODY', 'DEBRIS', 'UNKNOWN'], cat.filter.types);
  const sel = $('#filter-owner');
  const current = cat.filter.owner;
  clear(sel).append(el('option', { value: '', text: 'all owners' }));
  for (const [o, n] of cat.owners()) sel.append(el('option', { value: o, text: `${o} (${n})`, selected: o === current }));
  const legend = clear($('#legend'));
  for (const k of CATEGORY_NAMES) {
    const [r, g, b] = CATEGORY_COLOURS[k];
    legend.append(el('div', { class: 'row' }, [el('span', { class: 'dot', style: { background: `rgb(${r},${g},${b})` } }), labels[k]]));
  }
  legend.append(el('div', { class: 'row' }, [el('span', { class: 'dot ring', style: { background: 'rgb(0,229,255)' } }), 'own asset']));
}

function readFilters() {
  const checked = (id) => new Set($$(`${id} input:checked`).map((x) => x.value));
  return {
    categories: checked('#filter-categories'), regimes: checked('#filter-regimes'), types: checked('#filter-types'),
    owner: $('#filter-owner').value, text: $('#search').value,
  };
}

function applyFilters() {
  app.catalog.applyFilter(readFilters());
  app.globe.restyle();
  updateCounts();
}

function updateCounts() {
  const c = app.catalog;
  const k = c.counts();
  $('#counts').textContent = `showing ${c.visibleCount.toLocaleString()} of ${c.n.toLocaleString()} objects · own ${k.own} · allies ${k.ally} · others ${k.other} · debris ${k.debris}`;
}

function wireToolbar() {
  const globe = app.globe;
  for (const box of ['#filter-categories', '#filter-regimes', '#filter-types']) $(box).onchange = applyFilters;
  $('#filter-owner').onchange = applyFilters;
  const search = $('#search');
  const results = $('#search-results');
  const runSearch = debounce(() => {
    applyFilters();
    const hits = app.catalog.search(search.value, 30);
    app.lastSearch = { text: search.value, hits: hits.length };
    clear(results);
    results.hidden = hits.length === 0;
    for (const i of hits) {
      const c = app.catalog;
      results.append(el('li', { dataset: { index: String(i), norad: String(c.norad[i]) }, onclick: () => { results.hidden = true; selectObject(i, { fly: true }); } }, [
        el('span', { class: 'dot', style: { background: `rgb(${CATEGORY_COLOURS[c.categoryName(i)].join(',')})` } }),
        `${c.name[i] || 'UNKNOWN'} · ${c.norad[i]} · ${c.owner[i] || '?'}`,
      ]));
    }
  }, 200);
  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { const first = results.querySelector('li'); if (first) first.click(); }
    if (ev.key === 'Escape') { results.hidden = true; }
  });
  for (const b of $$('#globe-toolbar [data-mode]')) {
    b.onclick = () => { globe.setMode(b.dataset.mode); $$('#globe-toolbar [data-mode]').forEach((x) => x.classList.toggle('active', x === b)); };
  }
  for (const b of $$('#speeds button')) {
    b.onclick = () => { globe.setSpeed(Number(b.dataset.speed)); $$('#speeds button').forEach((x) => x.classList.toggle('active', x === b)); $('#pause').textContent = '❚❚'; };
  }
  $('#pause').onclick = () => {
    const clock = globe.viewer.clock;
    clock.shouldAnimate = !clock.shouldAnimate;
    $('#pause').textContent = clock.shouldAnimate ? '❚❚' : '▶';
  };
  $('#now').onclick = () => {
    globe.viewer.clock.currentTime = Cesium.JulianDate.fromDate(new Date(app.referenceUnix * 1000));
  };
}

function selectObject(i, { fly = false } = {}) {
  const c = app.catalog;
  app.globe.select(i);
  if (i < 0) { app.panel.close(); return; }
  app.panel.show(c.norad[i], { name: c.name[i] });
  if (fly) setTimeout(() => app.globe.flyTo(i), 50);
}

function showAlert(a) {
  const objects = alertObjects(a);
  const time = alertTime(a);
  const range = alertRangeKm(a);
  const label = [a.title || a.kind, range !== null ? `${range.toFixed(2)} km` : null].filter(Boolean).join(' · ');
  app.globe.showAlert(a, { objects, time, rangeKm: range, label, kind: a.kind || a.title || '' });
  const first = objects.map((n) => app.catalog.index.get(n)).find((i) => i !== undefined);
  if (first !== undefined) { app.panel.show(app.catalog.norad[first], { name: app.catalog.name[first] }); app.globe.flyTo(first); }
}
app.showAlert = showAlert;
app.selectObject = selectObject;

// -- exercise console (loaded on demand) --------------------------------------------------------------
let exerciseModule = null;
async function startExercise() {
  if (!exerciseModule) {
    exerciseModule = await import('./exercise.js');
    app.exercise = new exerciseModule.ExerciseConsole($('#exercise-view'), { app, loadCesium });
  }
  app.exercise.show();
}

boot();
