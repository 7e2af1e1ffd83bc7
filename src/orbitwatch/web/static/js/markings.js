// Markings in the browser: parse the banner strings the API returns, combine them the way
// orbitwatch.markings.combine does (highest classification, intersection of releasability, least-real
// data mode), and keep the page's classification banner showing the HIGHEST marking on screen.
//
// Every part of the page that shows marked data registers what it shows under a source name
// (banner.set('globe', [...]), banner.set('panel', [...]), ...). The banner is the combination of all
// sources and is redrawn whenever one changes, so it follows the view.

const DATA_MODES = ['REAL', 'SIMULATED', 'TEST', 'EXERCISE'];
const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

export class Scheme {
  /** levels: [{name, rank, background, text}] lowest first (from /api/v1/web/config). */
  constructor(levels, nations, tetragraphs) {
    this.levels = levels;
    this.byName = new Map(levels.map((l) => [l.name, l]));
    this.nations = nations;
    this.tetragraphs = tetragraphs || {};
  }
  rank(name) { const l = this.byName.get(name); return l ? l.rank : this.levels.length; }
  level(rank) { return this.levels[Math.max(0, Math.min(rank, this.levels.length - 1))]; }
  get lowest() { return this.levels[0].name; }
}

export function sortTrigraphs(list) {
  return Array.from(new Set(list)).sort((a, b) => (a === 'USA' ? -1 : b === 'USA' ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** Parse 'SECRET//REL TO USA, GBR//EXERCISE' into {classification, rank, rel_to, data_mode, tlp, text}. */
export function parseMarking(text, scheme) {
  const parts = String(text || '').split('//').map((p) => p.trim()).filter(Boolean);
  let classification = (parts[0] || scheme.lowest).toUpperCase();
  if (!scheme.byName.has(classification)) {
    // Unknown level: treat it as above everything we know (fail safe: the banner goes up, not down).
    classification = classification || scheme.lowest;
  }
  let relTo = null;
  let dataMode = 'REAL';
  let tlp = null;
  for (const raw of parts.slice(1)) {
    const up = raw.toUpperCase();
    if (up.startsWith('REL TO')) {
      const out = new Set();
      for (const t of up.slice(6).split(/[\s,]+/).filter(Boolean)) {
        if (scheme.tetragraphs[t]) scheme.tetragraphs[t].forEach((n) => out.add(n));
        else out.add(t);
      }
      relTo = Array.from(out);
    } else {
      const m = /^([A-Z]{3}) (?:EYES )?ONLY$/.exec(up);
      if (m) relTo = [m[1]];
      else if (up === 'NOFORN') relTo = ['USA'];
      else if (DATA_MODES.includes(up)) dataMode = up;
      else if (up.startsWith('TLP:')) tlp = up.slice(4).trim();
    }
  }
  if (!relTo) relTo = scheme.nations.slice();
  return { text: String(text || ''), classification, rank: scheme.rank(classification), rel_to: sortTrigraphs(relTo),
    data_mode: dataMode, tlp };
}

/** The marking of everything in `list` shown together (same rule as orbitwatch.markings.combine). */
export function combineMarkings(list, scheme) {
  let rank = 0;
  let classification = scheme.lowest;
  let rel = new Set(scheme.nations);
  let mode = 'REAL';
  let tlp = null;
  let anyNoTlp = false;
  let n = 0;
  for (const m of list) {
    if (!m) continue;
    n += 1;
    if (m.rank > rank || (n === 1 && m.rank >= rank)) { rank = m.rank; classification = m.classification; }
    const r = new Set(m.rel_to);
    rel = new Set([...rel].filter((x) => r.has(x)));
    if (DATA_MODES.indexOf(m.data_mode) > DATA_MODES.indexOf(mode)) mode = m.data_mode;
    if (!m.tlp) anyNoTlp = true;
    else if (tlp === null || TLP_LEVELS.indexOf(m.tlp) > TLP_LEVELS.indexOf(tlp)) tlp = m.tlp;
  }
  if (n === 0) return { classification: scheme.lowest, rank: 0, rel_to: scheme.nations.slice(), data_mode: 'REAL', tlp: null, empty: true };
  return { classification, rank, rel_to: sortTrigraphs([...rel]), data_mode: mode, tlp: anyNoTlp ? null : tlp, empty: false };
}

/** Banner text of a marking: all ten partners read as REL TO CSPO; one nation as XXX EYES ONLY. */
export function formatMarking(m, scheme, { withMode = true } = {}) {
  const parts = [m.classification];
  const all = scheme.nations.length && m.rel_to.length === scheme.nations.length;
  if (m.rel_to.length === 1) parts.push(`${m.rel_to[0]} EYES ONLY`);
  else if (m.rel_to.length === 0) parts.push('NOT RELEASABLE');
  else if (all && scheme.tetragraphs.CSPO) parts.push('REL TO CSPO');
  else parts.push('REL TO ' + sortTrigraphs(m.rel_to).join(', '));
  if (withMode && m.data_mode !== 'REAL' && m.data_mode !== 'EXERCISE') parts.push(m.data_mode);
  if (m.tlp) parts.push(`TLP:${m.tlp}`);
  return parts.join('//');
}

export class Banner {
  constructor(elements, scheme, exerciseBanner) {
    this.elements = elements;
    this.scheme = scheme;
    this.exercise = exerciseBanner || { text: 'EXERCISE' };
    this.sources = new Map();
    this.current = null;
    this.view = 'picture';
    this.render();
  }

  /** Which page is on screen: 'picture' counts every source but the exercise console's ('ex:...'),
   * 'exercise' only those. Hidden pages are not on screen, so they do not raise the banner. */
  setView(view) { this.view = view; this.render(); }

  /** Replace what `source` shows: a list of parsed markings (or strings, parsed here). */
  set(source, markings) {
    const list = (markings || []).map((m) => (typeof m === 'string' ? parseMarking(m, this.scheme) : m)).filter(Boolean);
    this.sources.set(source, list);
    this.render();
  }

  clear(source) { this.sources.delete(source); this.render(); }

  render() {
    const all = [];
    for (const [name, list] of this.sources) {
      if (name.startsWith('ex:') !== (this.view === 'exercise')) continue;
      for (const m of list) all.push(m);
    }
    const m = combineMarkings(all, this.scheme);
    const level = this.scheme.byName.get(m.classification) || { background: '#5f6368', text: '#ffffff' };
    let text = all.length ? formatMarking(m, this.scheme) : m.classification;
    const exercise = m.data_mode === 'EXERCISE';
    if (exercise) text = `${this.exercise.text} — ${text} — ${this.exercise.text}`;
    this.current = { ...m, text, exercise, background: level.background, colour: level.text, items: all.length };
    for (const node of this.elements) {
      node.textContent = text;
      node.style.background = level.background;
      node.style.color = level.text;
      node.dataset.classification = m.classification;
      node.dataset.rank = String(m.rank);
      node.dataset.exercise = exercise ? '1' : '0';
      node.dataset.relTo = m.rel_to.join(',');
      node.classList.toggle('exercise', exercise);
    }
  }
}

/** A small portion-marking badge for one item, e.g. (S//REL TO USA, GBR). */
export function portion(markingText, scheme) {
  const m = parseMarking(markingText, scheme);
  const level = scheme.byName.get(m.classification) || { background: '#5f6368', text: '#fff' };
  const span = document.createElement('span');
  span.className = 'portion';
  span.textContent = formatMarking(m, scheme);
  span.title = markingText;
  span.style.background = level.background;
  span.style.color = level.text;
  return { node: span, marking: m };
}
