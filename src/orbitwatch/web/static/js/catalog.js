// The catalogue snapshot in the browser: column arrays exactly as /api/v1/web/catalog returned them for
// this user, plus per-object category (own / ally / other / debris), the current filter, and search.

export const CATEGORY = { OWN: 0, ALLY: 1, OTHER: 2, DEBRIS: 3 };
export const CATEGORY_NAMES = ['own', 'ally', 'other', 'debris'];
// Colours are chosen to stay apart for the common colour-vision deficiencies (blue/orange contrast).
export const CATEGORY_COLOURS = {
  own: [0, 229, 255],
  ally: [88, 214, 141],
  other: [255, 122, 69],
  debris: [150, 156, 166],
};
export const SELECTED_COLOUR = [255, 212, 0];

export class Catalog {
  constructor(json, me, scheme) {
    this.json = json;
    this.snapshot = json.snapshot;
    this.n = json.count;
    this.me = me; // {nation, ...}
    this.norad = Int32Array.from(json.norad);
    this.name = json.name.map((x) => x || '');
    this.upperName = this.name.map((x) => x.toUpperCase());
    this.objectId = json.object_id.map((x) => x || '');
    this.owner = json.owner.map((x) => x || '');
    this.ownerNation = json.owner_nation.map((x) => x || '');
    this.type = json.object_type.map((x) => x || 'UNKNOWN');
    this.regime = json.regime.map((x) => x || '');
    this.perigee = json.perigee_km;
    this.apogee = json.apogee_km;
    this.inclination = json.inclination;
    this.period = json.period_min;
    this.epoch = json.epoch_ts;
    this.markingIdx = Int32Array.from(json.marking);
    this.markings = json.markings.map((m) => ({ ...m, rel_to: m.rel_to.slice() }));
    this.index = new Map();
    for (let i = 0; i < this.n; i++) this.index.set(this.norad[i], i);
    const partners = new Set(scheme ? scheme.nations : []);
    this.category = new Uint8Array(this.n);
    this.asset = new Uint8Array(this.n);
    const mine = me && me.nation;
    for (let i = 0; i < this.n; i++) {
      const t = this.type[i];
      const on = this.ownerNation[i];
      let c;
      if (t === 'DEBRIS') c = CATEGORY.DEBRIS;
      else if (mine && on === mine) c = CATEGORY.OWN;
      else if (on && partners.has(on)) c = CATEGORY.ALLY;
      else c = CATEGORY.OTHER;
      this.category[i] = c;
      this.asset[i] = c === CATEGORY.OWN && t === 'PAYLOAD' ? 1 : 0;
    }
    this.visible = new Uint8Array(this.n).fill(1);
    this.visibleCount = this.n;
    this.filter = { text: '', categories: new Set(CATEGORY_NAMES), regimes: new Set(), types: new Set(), owner: '' };
  }

  /** Apply filters: text (name, NORAD id, COSPAR id), categories, regimes, object types, SATCAT owner. */
  applyFilter(f) {
    this.filter = { ...this.filter, ...f };
    const { text, categories, regimes, types, owner } = this.filter;
    const q = (text || '').trim().toUpperCase();
    const qNum = /^\d+$/.test(q) ? Number(q) : null;
    const cats = new Uint8Array(4);
    for (const c of categories) cats[CATEGORY_NAMES.indexOf(c)] = 1;
    const own = (owner || '').trim().toUpperCase();
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      let ok = cats[this.category[i]] === 1;
      if (ok && regimes.size) ok = regimes.has(this.regime[i]);
      if (ok && types.size) ok = types.has(this.type[i]);
      if (ok && own) ok = this.owner[i] === own || this.ownerNation[i] === own;
      if (ok && q) {
        ok = this.upperName[i].includes(q) || this.objectId[i].toUpperCase().startsWith(q)
          || (qNum !== null && String(this.norad[i]).startsWith(q));
      }
      this.visible[i] = ok ? 1 : 0;
      if (ok) count++;
    }
    this.visibleCount = count;
    return count;
  }

  /** Up to `limit` matches for the search box: exact NORAD id first, then name/COSPAR matches. */
  search(text, limit = 50) {
    const q = (text || '').trim().toUpperCase();
    if (!q) return [];
    const out = [];
    if (/^\d+$/.test(q) && this.index.has(Number(q))) out.push(this.index.get(Number(q)));
    for (let i = 0; i < this.n && out.length < limit; i++) {
      if (out[0] === i) continue;
      if (this.upperName[i].includes(q) || this.objectId[i].toUpperCase().startsWith(q)
        || String(this.norad[i]).startsWith(q)) out.push(i);
    }
    return out;
  }

  categoryName(i) { return CATEGORY_NAMES[this.category[i]]; }
  marking(i) { return this.markings[this.markingIdx[i]]; }

  /** Distinct owners (SATCAT codes) with counts, most frequent first. */
  owners() {
    const counts = new Map();
    for (let i = 0; i < this.n; i++) {
      const o = this.owner[i] || '?';
      counts.set(o, (counts.get(o) || 0) + 1);
    }
    return Array.from(counts.entries()).sort((a, b) => b[1] - a[1]);
  }

  counts() {
    const c = [0, 0, 0, 0];
    for (let i = 0; i < this.n; i++) if (this.visible[i]) c[this.category[i]]++;
    return { own: c[0], ally: c[1], other: c[2], debris: c[3] };
  }
}
