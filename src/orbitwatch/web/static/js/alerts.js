// The alert list: what /api/v1/alerts returns for this user, newest first, with severity, evidence and
// each alert's portion marking. Clicking an alert draws its geometry on the globe.

import { get } from './api.js';
import { portion } from './markings.js';
import { clear, el, fmt, isoUtc, toUnix } from './util.js';

const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

/** NORAD ids an alert is about, whatever the producing detector called them. */
export function alertObjects(a) {
  const out = [];
  const add = (v) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) { v.forEach(add); return; }
    if (typeof v === 'object') { add(v.norad_id ?? v.norad ?? v.id); return; }
    const n = Number(v);
    if (Number.isInteger(n) && n > 0 && !out.includes(n)) out.push(n);
  };
  for (const k of ['subjects', 'asset', 'primary', 'primary_norad', 'norad', 'norad_id', 'object', 'secondary',
    'secondary_norad', 'objects', 'norad_ids', 'parent']) {
    if (k in a) add(a[k]);
  }
  for (const src of [a.payload, evidenceOf(a)]) {
    if (out.length === 0 && src && typeof src === 'object') for (const k of ['asset', 'object', 'primary', 'secondary', 'objects']) if (k in src) add(src[k]);
  }
  return out;
}

export function alertTime(a) {
  for (const k of ['event_time', 'tca_ts', 'tca', 'event_ts', 'epoch_ts', 'epoch', 'sim_ts', 'time', 'updated', 'created']) {
    const t = toUnix(a[k]);
    if (t !== null) return t;
  }
  for (const src of [a.payload, evidenceOf(a)]) {
    if (src && typeof src === 'object') for (const k of ['tca', 'epoch']) { const t = toUnix(src[k]); if (t !== null) return t; }
  }
  return null;
}

export function alertRangeKm(a) {
  const ev = evidenceOf(a) || {};
  for (const src of [a, a.payload || {}, ev, ev.detail || {}]) for (const k of ['closest_km', 'miss_km', 'miss_distance_km', 'range_km']) {
    if (src && src[k] !== undefined && src[k] !== null && Number.isFinite(Number(src[k]))) return Number(src[k]);
  }
  return null;
}

function evidenceOf(a) {
  let ev = a.evidence ?? a.detail ?? null;
  if (typeof ev === 'string') { try { ev = JSON.parse(ev); } catch (_) { /* plain text evidence */ } }
  return ev;
}

export class AlertList {
  constructor(root, { banner, scheme, onShow, source = 'alerts', fetcher }) {
    this.root = root;
    this.banner = banner;
    this.scheme = scheme;
    this.onShow = onShow || (() => {});
    this.source = source;
    this.fetcher = fetcher || (() => get('/api/v1/alerts', { limit: 200 }));
    this.items = [];
    this.timer = null;
    this.error = null;
    this.collapsed = false;
  }

  /** A collapsed list is not on screen: its markings leave the banner. */
  setCollapsed(on) {
    this.collapsed = !!on;
    this.root.hidden = this.collapsed;
    this.render();
  }

  async refresh() {
    try {
      const resp = await this.fetcher();
      this.items = (resp.items || []).slice().sort((x, y) => (alertTime(y) || 0) - (alertTime(x) || 0));
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.render();
    return this.items;
  }

  start(intervalMs = 30000) {
    this.refresh();
    this.stop();
    this.timer = setInterval(() => this.refresh(), intervalMs);
  }

  stop() { if (this.timer) clearInterval(this.timer); this.timer = null; }

  involving(norad) { return this.items.filter((a) => alertObjects(a).includes(Number(norad))); }

  render() {
    clear(this.root);
    const markings = [];
    if (this.error) this.root.append(el('p', { class: 'muted', text: `alerts unavailable: ${this.error.message}` }));
    if (!this.items.length && !this.error) this.root.append(el('p', { class: 'muted', text: 'no alerts released to you' }));
    const counts = {};
    for (const a of this.items) counts[(a.severity || 'INFO').toUpperCase()] = (counts[(a.severity || 'INFO').toUpperCase()] || 0) + 1;
    if (this.items.length) {
      this.root.append(el('div', { class: 'sev-summary' }, SEVERITY_ORDER.filter((s) => counts[s]).map((s) =>
        el('span', { class: `chip sev-${s.toLowerCase()}`, text: `${counts[s]} ${s}` }))));
    }
    const ul = el('ul', { class: 'alert-list' });
    for (const a of this.items) {
      const sev = (a.severity || 'INFO').toUpperCase();
      const p = a.marking ? portion(a.marking, this.scheme) : null;
      if (p) markings.push(p.marking);
      const objs = alertObjects(a);
      const t = alertTime(a);
      const evidence = el('div', { class: 'evidence', hidden: true }, [
        renderEvidence(a.payload && typeof a.payload === 'object' ? a.payload : evidenceOf(a)),
        a.evidence && a.evidence.element_sets && a.evidence.element_sets.length
          ? el('div', { class: 'small muted', text: `element sets: ${a.evidence.element_sets.map((e) => `${e.norad} @ ${e.epoch}`).join('; ')}` }) : null,
        a.marking_reasons && a.marking_reasons.length
          ? el('div', { class: 'small muted', text: `marking: ${a.marking_reasons.join('; ')}` }) : null,
        a.releasable_to ? el('div', { class: 'small muted', text: `releasable to ${a.releasable_to.join(', ')}` }) : null,
      ]);
      const item = el('li', { class: `alert sev-${sev.toLowerCase()}`, dataset: { id: String(a.id ?? ''), objects: objs.join(',') } }, [
        el('div', { class: 'alert-head' }, [
          el('span', { class: `chip sev-${sev.toLowerCase()}`, text: sev }),
          el('span', { class: 'alert-title', text: a.title || a.kind || 'alert' }),
        ]),
        el('div', { class: 'alert-meta' }, [p && p.node, ` ${isoUtc(t)}`, objs.length ? ` · ${objs.join(', ')}` : '',
          a.kind ? ` · ${a.kind}` : '', a.state ? ` · ${a.state}` : '']),
        a.summary ? el('div', { class: 'alert-summary', text: a.summary }) : null,
        el('div', { class: 'alert-actions' }, [
          el('button', { class: 'link', text: 'evidence', onclick: (ev) => { ev.stopPropagation(); evidence.hidden = !evidence.hidden; } }),
          objs.length ? el('button', { class: 'link', text: 'show on globe', onclick: (ev) => { ev.stopPropagation(); this.onShow(a); } }) : null,
        ]),
        evidence,
      ]);
      ul.append(item);
    }
    this.root.append(ul);
    this.banner.set(this.source, this.collapsed ? [] : markings);
  }
}

function renderEvidence(ev) {
  if (ev === null || ev === undefined) return el('p', { class: 'muted', text: 'no evidence attached' });
  if (typeof ev !== 'object') return el('pre', { text: String(ev) });
  const t = el('table', { class: 'kv' });
  for (const [k, v] of Object.entries(ev)) {
    let text;
    if (v === null || v === undefined) text = '–';
    else if (typeof v === 'number') text = Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(3) : fmt(v, Number.isInteger(v) ? 0 : 4);
    else if (typeof v === 'object') text = JSON.stringify(v).slice(0, 400);
    else text = String(v);
    t.append(el('tr', {}, [el('th', { text: k }), el('td', { text })]));
  }
  return t;
}

export { alertTime as timeOfAlert, SEVERITY_ORDER };
