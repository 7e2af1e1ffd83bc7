// The object panel: identity, current elements, the altitude/inclination history with the manoeuvres
// found in it, the object's conjunctions and alerts. Everything shown registers its marking with the
// banner (source 'panel'), so opening a more sensitive object raises the banner at once.

import { get } from './api.js';
import { portion } from './markings.js';
import { ageText, clear, el, fmt, isoUtc, svg, toUnix } from './util.js';

export class ObjectPanel {
  constructor(root, { banner, scheme, alerts, onAlert, onClose }) {
    this.root = root;
    this.banner = banner;
    this.scheme = scheme;
    this.alerts = alerts; // AlertList, for the object's alerts
    this.onAlert = onAlert || (() => {});
    this.onClose = onClose || (() => {});
    this.norad = null;
    this.markings = [];
    this.seq = 0;
    this.data = {};
  }

  _mark(text) {
    if (!text) return null;
    const p = portion(text, this.scheme);
    this.markings.push(p.marking);
    this.banner.set('panel', this.markings);
    return p.node;
  }

  close() {
    this.norad = null;
    this.markings = [];
    this.banner.clear('panel');
    clear(this.root);
    this.root.hidden = true;
  }

  async show(norad, catalogRow) {
    const seq = ++this.seq;
    this.norad = norad;
    this.markings = [];
    this.banner.set('panel', []);
    this.root.hidden = false;
    clear(this.root);
    const head = el('div', { class: 'panel-head' }, [
      el('h2', { text: catalogRow ? `${catalogRow.name || 'UNKNOWN'}` : `Object ${norad}` }),
      el('button', { class: 'icon', title: 'Close', 'aria-label': 'Close panel', onclick: () => { this.close(); this.onClose(); } }, '×'),
    ]);
    const body = el('div', { class: 'panel-body' });
    this.root.append(head, body);
    const sIdentity = el('section', { class: 'identity' }, el('p', { class: 'muted', text: 'loading…' }));
    const sElements = el('section', { class: 'elements' });
    const sHistory = el('section', { class: 'history' });
    const sConj = el('section', { class: 'conjunctions' });
    const sAlerts = el('section', { class: 'object-alerts' });
    body.append(sIdentity, sElements, sHistory, sConj, sAlerts);

    const [obj, latest, hist, conj] = await Promise.allSettled([
      get(`/api/v1/objects/${norad}`),
      get('/api/v1/elsets/latest', { norad_id: norad }),
      get(`/api/v1/web/objects/${norad}/history`),
      get('/api/v1/conjunctions', { norad_id: norad, limit: 50 }),
    ]);
    if (seq !== this.seq) return; // another object was opened meanwhile
    this.data = { obj, latest, hist, conj };
    this._identity(sIdentity, norad, obj);
    this._elements(sElements, latest);
    this._history(sHistory, hist);
    this._conjunctions(sConj, conj);
    this._alerts(sAlerts, norad);
    this.root.dataset.norad = String(norad);
  }

  _identity(sec, norad, res) {
    clear(sec);
    if (res.status !== 'fulfilled') {
      sec.append(el('p', { class: 'muted', text: `object record: ${res.reason.message}` }));
      return;
    }
    const o = res.value;
    const rows = [
      ['NORAD', o.norad_id], ['COSPAR', o.object_id], ['Type', o.object_type], ['Owner', [o.owner, o.owner_nation].filter(Boolean).join(' / ')],
      ['Regime', o.regime], ['Launch', o.launch_date], ['Decay', o.decay_date], ['RCS', o.rcs_size || (o.rcs_m2 ? `${fmt(o.rcs_m2, 2)} m²` : null)],
      ['Mass', o.mass_kg ? `${fmt(o.mass_kg, 0)} kg` : null], ['Source', o.source],
    ];
    sec.append(el('h3', {}, ['Object ', this._mark(o.marking)]), table(rows));
  }

  _elements(sec, res) {
    clear(sec);
    if (res.status !== 'fulfilled' || !res.value.items || !res.value.items.length) {
      sec.append(el('h3', { text: 'Elements' }), el('p', { class: 'muted', text: 'no element set released to you' }));
      return;
    }
    const e = res.value.items[0];
    const epoch = toUnix(e.epoch_ts ?? e.epoch);
    const periodMin = e.mean_motion ? 1440 / e.mean_motion : null;
    const rows = [
      ['Epoch', `${isoUtc(epoch)} (${ageText(Date.now() / 1000 - epoch)} ago)`],
      ['Mean motion', `${fmt(e.mean_motion, 8)} rev/d`], ['Period', `${fmt(periodMin, 2)} min`],
      ['Inclination', `${fmt(e.inclination, 4)}°`], ['Eccentricity', fmt(e.eccentricity, 7)],
      ['RAAN', `${fmt(e.raan, 4)}°`], ['Arg. perigee', `${fmt(e.arg_perigee, 4)}°`], ['Mean anomaly', `${fmt(e.mean_anomaly, 4)}°`],
      ['B*', fmt(e.bstar, 6)], ['Perigee / apogee', `${fmt(e.perigee_km, 1)} / ${fmt(e.apogee_km, 1)} km`],
      ['Element set', `#${e.element_set_no ?? '–'} · ${e.source}`],
    ];
    sec.append(el('h3', {}, ['Elements ', this._mark(e.marking)]), table(rows));
  }

  _history(sec, res) {
    clear(sec);
    sec.append(el('h3', { text: 'History' }));
    if (res.status !== 'fulfilled') { sec.append(el('p', { class: 'muted', text: res.reason.message })); return; }
    const h = res.value;
    if (h.marking) sec.firstChild.append(' ', this._mark(h.marking));
    if (h.count < 2) { sec.append(el('p', { class: 'muted', text: `${h.count} element set(s): not enough for a history` })); return; }
    const markers = (h.manoeuvres || []).map((m) => ({
      x: m.epoch_ts ?? toUnix(m.epoch),
      label: `${m.kind} ${fmt(m.delta_v_mps, 2)} m/s (confidence ${fmt(m.confidence, 2)}) ${m.epoch}`,
    }));
    sec.append(plot({
      x: h.epoch_ts, markers, yLabel: 'altitude km', height: 130,
      series: [
        { y: h.apogee_km, colour: '#7fd4ff', label: 'apogee' },
        { y: h.mean_altitude_km, colour: '#c7c7c7', label: 'mean' },
        { y: h.perigee_km, colour: '#58d68d', label: 'perigee' },
      ],
    }));
    sec.append(plot({ x: h.epoch_ts, markers, yLabel: 'inclination °', height: 90, series: [{ y: h.inclination, colour: '#ffb86b', label: 'inclination' }] }));
    const list = el('ul', { class: 'manoeuvres' });
    for (const m of (h.manoeuvres || []).slice(-12).reverse()) {
      list.append(el('li', {}, [el('span', { class: 'mk', text: '▲' }), ` ${m.epoch} · ${m.kind} · Δv ${fmt(m.delta_v_mps, 2)} m/s · conf. ${fmt(m.confidence, 2)}`]));
    }
    sec.append(el('p', { class: 'muted small', text: `${h.count} element sets · ${(h.manoeuvres || []).length} manoeuvre(s) detected (${h.detector})` }));
    if (list.childElementCount) sec.append(list);
  }

  _conjunctions(sec, res) {
    clear(sec);
    sec.append(el('h3', { text: 'Conjunctions' }));
    const items = res.status === 'fulfilled' ? (res.value.items || []) : [];
    if (!items.length) { sec.append(el('p', { class: 'muted', text: 'none released to you' })); return; }
    const ul = el('ul', { class: 'conj-list' });
    for (const c of items.slice(0, 20)) {
      const pair = [c.norad1 ?? c.primary ?? c.primary_norad, c.norad2 ?? c.secondary ?? c.secondary_norad].map(Number);
      const other = pair.find((x) => x && x !== Number(this.norad));
      const miss = c.miss_km ?? c.miss_distance_km;
      const asAlert = { kind: 'conjunction', title: `conjunction ${pair.join(' / ')}`, subjects: pair, tca_ts: c.tca_ts,
        tca: c.tca, miss_km: miss, marking: c.marking, severity: 'info' };
      ul.append(el('li', { class: 'conj', dataset: { id: String(c.id ?? '') }, title: 'show the geometry at TCA', onclick: () => this.onAlert(asAlert) }, [
        this._mark(c.marking),
        ` TCA ${c.tca || isoUtc(c.tca_ts)} · miss ${fmt(miss, 3)} km`,
        c.relative_speed_kms !== undefined && c.relative_speed_kms !== null ? ` · ${fmt(c.relative_speed_kms, 2)} km/s` : '',
        c.pc !== undefined && c.pc !== null ? ` · Pc ${Number(c.pc).toExponential(2)}` : '',
        other ? ` · with ${other}` : '',
      ]));
    }
    sec.append(ul);
  }

  _alerts(sec, norad) {
    clear(sec);
    sec.append(el('h3', { text: 'Alerts' }));
    const mine = this.alerts ? this.alerts.involving(norad) : [];
    if (!mine.length) { sec.append(el('p', { class: 'muted', text: 'none' })); return; }
    const ul = el('ul', { class: 'alert-mini' });
    for (const a of mine) {
      ul.append(el('li', { class: `sev-${(a.severity || '').toLowerCase()}`, onclick: () => this.onAlert(a) }, [
        this._mark(a.marking), ` ${a.severity || ''} · ${a.title || a.kind || 'alert'}`,
      ]));
    }
    sec.append(ul);
  }
}

function table(rows) {
  const t = el('table', { class: 'kv' });
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === '') continue;
    t.append(el('tr', {}, [el('th', { text: k }), el('td', { text: v })]));
  }
  return t;
}

/** A small time-series plot (SVG): lines per series, vertical markers (manoeuvres) with tooltips. */
export function plot({ x, series, markers = [], yLabel = '', width = 330, height = 120 }) {
  const pad = { l: 46, r: 8, t: 8, b: 18 };
  const xs = x.filter((v) => Number.isFinite(v));
  const ys = [];
  for (const s of series) for (const v of s.y) if (v !== null && Number.isFinite(v)) ys.push(v);
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'plot', role: 'img', 'aria-label': yLabel });
  if (!xs.length || !ys.length) return root;
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-6) { y0 -= 1; y1 += 1; }
  const m = (y1 - y0) * 0.08; y0 -= m; y1 += m;
  const X = (v) => pad.l + ((v - x0) / Math.max(x1 - x0, 1)) * (width - pad.l - pad.r);
  const Y = (v) => height - pad.b - ((v - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  root.append(svg('rect', { x: pad.l, y: pad.t, width: width - pad.l - pad.r, height: height - pad.t - pad.b, class: 'plot-bg' }));
  for (const v of [y0 + m, (y0 + y1) / 2, y1 - m]) {
    root.append(svg('text', { x: pad.l - 4, y: Y(v) + 3, 'text-anchor': 'end', class: 'plot-tick', text: v.toFixed(Math.abs(y1 - y0) < 5 ? 2 : 0) }));
  }
  root.append(svg('text', { x: pad.l, y: height - 4, class: 'plot-tick', text: new Date(x0 * 1000).toISOString().slice(0, 10) }));
  root.append(svg('text', { x: width - pad.r, y: height - 4, 'text-anchor': 'end', class: 'plot-tick', text: new Date(x1 * 1000).toISOString().slice(0, 10) }));
  root.append(svg('text', { x: pad.l + 4, y: pad.t + 10, class: 'plot-label', text: yLabel }));
  for (const mk of markers) {
    if (!Number.isFinite(mk.x) || mk.x < x0 || mk.x > x1) continue;
    const g = svg('g', { class: 'marker' }, [
      svg('line', { x1: X(mk.x), x2: X(mk.x), y1: pad.t, y2: height - pad.b }),
      svg('path', { d: `M${X(mk.x) - 4},${pad.t} l4,7 l4,-7 z` }),
      svg('title', { text: mk.label }),
    ]);
    root.append(g);
  }
  for (const s of series) {
    let d = '';
    let pen = false;
    for (let k = 0; k < x.length; k++) {
      const v = s.y[k];
      if (v === null || !Number.isFinite(v) || !Number.isFinite(x[k])) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${X(x[k]).toFixed(1)},${Y(v).toFixed(1)}`;
      pen = true;
    }
    root.append(svg('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 1.3 }, [svg('title', { text: s.label })]));
  }
  return root;
}
