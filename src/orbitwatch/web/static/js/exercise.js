// Exercise console: the player's feed (injects, alerts, messages, proposals delivered to its nation),
// its actions, the consensus board and the exercise clock; for the white cell (role exercise-control)
// every nation's state of play, the MSEL with "fire now", and the clock controls (start, pause, speed,
// step). Everything comes from /api/v1/exercises (and the white-cell board from /api/v1/web/exercises);
// every item shown registers its marking with the banner, which reads EXERCISE for exercise data.

import { get, post } from './api.js';
import { portion } from './markings.js';
import { clear, el, isoUtc, toUnix } from './util.js';

const ACTION_FIELDS = {
  acknowledge: [{ name: 'item', label: 'Alert or message', type: 'feed-item' }],
  release: [{ name: 'alert', label: 'Your alert', type: 'own-alert' }, { name: 'to', label: 'To (trigraphs, comma-separated, or all)', value: 'all' }],
  tasking: [{ name: 'object', label: 'Object (role or NORAD id)' }, { name: 'sensor', label: 'Sensor network (nation; default yours)' }],
  manoeuvre: [{ name: 'asset', label: 'Own asset (role or NORAD id)' }, { name: 'raise_km', label: 'Raise orbit by (km) — or give Δv below', type: 'number' },
    { name: 'dv_rtn_mps', label: 'Δv R, T, N (m/s)', placeholder: '0, 0.5, 0' }],
  notify: [{ name: 'to', label: 'To (trigraphs, all, or PUBLIC)', value: 'all' }, { name: 'about', label: 'About (role or NORAD id)' },
    { name: 'text', label: 'Text', type: 'textarea' }, { name: 'public', label: 'Public statement', type: 'checkbox' }],
  demarche: [{ name: 'to', label: 'To (actor code, e.g. CIS)' }, { name: 'about', label: 'About (role or NORAD id)' },
    { name: 'text', label: 'Text', type: 'textarea' }, { name: 'public', label: 'Public', type: 'checkbox' }],
  propose: [{ name: 'title', label: 'Title' }, { name: 'options', label: 'Options, one per line: id: text', type: 'textarea', value: 'attribute: Joint attribution statement\ndemarche: Coordinated démarche' },
    { name: 'rule', label: 'Consensus rule', type: 'select', options: ['silence', 'unanimity', 'majority'] }, { name: 'deadline', label: 'Deadline (e.g. 8h)', value: '8h' },
    { name: 'members', label: 'Members (trigraphs or all)', value: 'all' }],
  vote: [{ name: 'proposal', label: 'Proposal', type: 'proposal' }, { name: 'position', label: 'Position', type: 'select', options: ['concur', 'nonconcur', 'abstain'] },
    { name: 'option', label: 'Option id' }, { name: 'caveats', label: 'National caveats', type: 'textarea' }],
  break_silence: [{ name: 'proposal', label: 'Proposal', type: 'proposal' }, { name: 'reason', label: 'Reason', type: 'textarea' }],
  comment: [{ name: 'text', label: 'Text', type: 'textarea' }],
};

function nationsValue(v) {
  const s = String(v || '').trim();
  if (!s || s.toLowerCase() === 'all') return 'all';
  if (s.toUpperCase() === 'PUBLIC') return 'PUBLIC';
  return s.split(/[\s,]+/).filter(Boolean).map((x) => x.toUpperCase());
}

function objectRef(v) {
  const s = String(v || '').trim();
  return /^\d+$/.test(s) ? Number(s) : s;
}

export class ExerciseConsole {
  constructor(root, { app }) {
    this.root = root;
    this.app = app;
    this.eid = null;
    this.status = null;
    this.feed = [];
    this.proposals = [];
    this.actions = [];
    this.board = null;
    this.timer = null;
    this.user = app.config.user;
    this.white = (this.user.roles || []).includes('exercise-control');
    this.player = (this.user.roles || []).some((r) => r === 'operator' || r === 'exercise-control');
    this.built = false;
  }

  show() {
    this.app.banner.setView('exercise');
    if (!this.built) this._build();
    this.refreshList();
    this._startPolling();
  }

  hide() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  _build() {
    this.built = true;
    clear(this.root);
    this.left = el('section', { class: 'ex-left' });
    this.center = el('section', { class: 'center' });
    this.right = el('section', { class: 'ex-right' });
    this.root.append(this.left, this.center, this.right);
    this.selectBox = el('select', { id: 'ex-select', 'aria-label': 'Exercise', onchange: () => this.select(Number(this.selectBox.value)) });
    this.clockBox = el('div', { id: 'ex-clock' });
    this.feedBox = el('ul', { id: 'ex-feed', class: 'feed' });
    this.left.append(el('h3', { text: 'Exercise' }), this.selectBox, this.clockBox, el('h3', { text: 'Feed' }), this.feedBox);
    this.whiteBox = el('div', { id: 'ex-white', hidden: !this.white });
    this.boardBox = el('div', { id: 'ex-board' });
    this.actionsBox = el('div', { id: 'ex-actions' });
    this.center.append(this.whiteBox, el('h3', { text: 'Consensus board' }), this.boardBox, el('h3', { text: 'Actions' }), this.actionsBox);
    this._buildActionForm();
  }

  async refreshList() {
    let list;
    try { list = (await get('/api/v1/exercises')).items || []; } catch (err) { this._error(err); return; }
    clear(this.selectBox);
    if (!list.length) {
      this.selectBox.append(el('option', { value: '', text: 'no exercise you take part in' }));
      this.clockBox.textContent = '';
      return;
    }
    for (const x of list) this.selectBox.append(el('option', { value: String(x.id), text: `#${x.id} ${x.name} (${x.status})`, selected: x.id === this.eid }));
    if (this.eid === null || !list.some((x) => x.id === this.eid)) this.select(list[list.length - 1].id);
    else this.selectBox.value = String(this.eid);
  }

  async select(eid) {
    if (!eid) return;
    this.eid = eid;
    this.feed = [];
    this.lastFeedTs = null;
    clear(this.feedBox);
    await this.refresh();
  }

  _startPolling() {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => { if (!this.root.hidden) this.refresh(); }, 4000);
  }

  async refresh() {
    if (!this.eid) return;
    const eid = this.eid;
    const calls = [get(`/api/v1/exercises/${eid}`)];
    if (this.player || this.user.nation) {
      calls.push(get(`/api/v1/exercises/${eid}/feed`, this.lastFeedTs !== null ? { since: this.lastFeedTs } : {}).catch((e) => ({ error: e })));
      calls.push(get(`/api/v1/exercises/${eid}/proposals`).catch((e) => ({ error: e })));
      calls.push(get(`/api/v1/exercises/${eid}/actions`).catch((e) => ({ error: e })));
    }
    if (this.white) calls.push(get(`/api/v1/web/exercises/${eid}/nations`).catch((e) => ({ error: e })));
    let res;
    try { res = await Promise.all(calls); } catch (err) { this._error(err); return; }
    if (eid !== this.eid) return;
    const [status, feed, proposals, actions, board] = res;
    this.status = status;
    if (feed && !feed.error) {
      for (const it of feed.items || []) this.feed.push(it);
      if (feed.items && feed.items.length) this.lastFeedTs = Math.max(...feed.items.map((x) => x.received_ts ?? toUnix(x.received) ?? 0));
    }
    if (proposals && !proposals.error) this.proposals = proposals.items || [];
    if (actions && !actions.error) this.actions = actions.items || [];
    if (this.white) this.board = board && !board.error ? board : null;
    this.render();
  }

  render() {
    const s = this.status;
    const markings = [];
    const mark = (text) => { if (!text) return null; const p = portion(text, this.app.scheme); markings.push(p.marking); return p.node; };
    // clock
    clear(this.clockBox);
    if (s) {
      document.getElementById('utc').textContent = `${isoUtc(toUnix(s.sim_time))} UTC (exercise)`;
      this.clockBox.append(
        el('div', { class: 'ex-clock', id: 'ex-sim-time', text: isoUtc(toUnix(s.sim_time)) }),
        el('div', { class: 'muted small', text: `T+${(s.elapsed_h ?? 0).toFixed(2)} h · ${s.status} · clock ${s.clock.mode}${s.clock.mode === 'accelerated' ? ` ×${s.clock.rate}` : ''} · step ${(s.step_s / 60).toFixed(0)} min` }),
        el('div', {}, mark(s.marking)),
      );
    }
    // feed, newest first
    clear(this.feedBox);
    for (const it of this.feed.slice().reverse()) {
      const item = it.item || {};
      const li = el('li', { class: `feed-${it.type}`, dataset: { type: it.type, id: String(item.id) } }, [
        el('div', { class: 'kind', text: `${it.type} · ${it.via}${it.from ? ` from ${it.from}` : ''} · ${it.received}` }),
        el('div', {}, [mark(item.marking), ' ', el('strong', { text: item.title || item.kind || '' })]),
        item.severity ? el('div', { class: 'small muted', text: `severity ${item.severity}${item.objects ? ` · objects ${item.objects.join(', ')}` : ''}` }) : null,
        item.body ? el('div', { class: 'small', text: item.body }) : null,
        it.type === 'alert' || it.type === 'message'
          ? el('button', { class: 'link', text: 'acknowledge', onclick: () => this.act('acknowledge', { [it.type]: item.id }) }) : null,
      ]);
      this.feedBox.append(li);
    }
    if (!this.feed.length) this.feedBox.append(el('li', { class: 'muted', text: 'nothing delivered to your nation yet' }));
    // consensus board
    clear(this.boardBox);
    if (!this.proposals.length) this.boardBox.append(el('p', { class: 'muted', text: 'no proposals' }));
    for (const p of this.proposals) {
      const members = p.members || [];
      const table = el('table', { class: 'board' }, [
        el('tr', {}, [el('th', { text: 'Nation' }), el('th', { text: 'Position' }), el('th', { text: 'Option' }), el('th', { text: 'Caveats' })]),
        ...members.map((n) => {
          const v = (p.votes || {})[n] || {};
          return el('tr', {}, [el('td', { text: n }), el('td', { class: `vote-${v.position || 'none'}`, text: v.position || '—' }),
            el('td', { text: v.option || '' }), el('td', { text: v.caveats || '' })]);
        }),
      ]);
      this.boardBox.append(el('div', { class: 'proposal', dataset: { id: String(p.id) } }, [
        el('div', {}, [mark(p.marking), ' ', el('strong', { text: `#${p.id} ${p.title}` })]),
        el('div', { class: 'small muted', text: `by ${p.proposer} · ${p.rule} · deadline ${p.deadline} · ${p.status}${p.outcome ? ` → ${p.outcome}` : ''}` }),
        el('div', { class: 'small', text: (p.options || []).map((o) => `${o.id}: ${o.text}`).join(' | ') }),
        table,
      ]));
    }
    // actions
    clear(this.actionsBox);
    const ul = el('ul', { class: 'feed', id: 'ex-action-list' });
    for (const a of this.actions.slice().reverse()) {
      ul.append(el('li', { dataset: { kind: a.kind, ok: String(a.ok) } }, [
        el('div', { class: 'kind', text: `${a.time} · ${a.nation} · ${a.user || ''}` }),
        el('div', {}, [mark(a.marking), ' ', el('strong', { text: a.kind }), a.ok ? '' : ' (refused)']),
        el('div', { class: 'small muted', text: JSON.stringify(a.ok ? a.payload : a.result).slice(0, 300) }),
      ]));
    }
    if (!this.actions.length) ul.append(el('li', { class: 'muted', text: 'no actions yet' }));
    this.actionsBox.append(ul);
    // white cell
    if (this.white) this._renderWhite(mark);
    this._refreshChoices();
    this.app.banner.set('ex:console', markings);
  }

  _renderWhite(mark) {
    const box = clear(this.whiteBox);
    box.append(el('h3', { text: 'White cell' }));
    const controls = el('div', { class: 'controls' }, [
      el('button', { id: 'ex-start', text: 'Start (real time)', onclick: () => this.clock('realtime') }),
      el('button', { id: 'ex-pause', text: 'Pause', onclick: () => this.clock('paused') }),
      el('label', { class: 'small' }, ['×', el('input', { id: 'ex-rate', type: 'number', value: '60', min: '1', max: '100000', style: { width: '70px' } })]),
      el('button', { id: 'ex-speed', text: 'Accelerate', onclick: () => this.clock('accelerated', Number(document.getElementById('ex-rate').value)) }),
      el('button', { id: 'ex-step', text: 'Step', onclick: () => this.step(1) }),
      el('button', { id: 'ex-step6', text: 'Step ×6', onclick: () => this.step(6) }),
    ]);
    box.append(controls);
    const b = this.board;
    if (!b) { box.append(el('p', { class: 'muted', text: 'board unavailable' })); return; }
    box.append(el('div', {}, mark(b.marking)));
    const t = el('table', { class: 'board', id: 'ex-nations' }, [el('tr', {}, ['Nation', 'Alerts', 'Msgs', 'Ack', 'Actions', 'Votes', 'Last action', 'Assets lost'].map((h) => el('th', { text: h })))]);
    for (const n of b.nations) {
      t.append(el('tr', { dataset: { nation: n.nation } }, [n.nation, n.alerts, n.messages, n.acknowledged, `${n.actions}${n.failed_actions ? ` (${n.failed_actions} refused)` : ''}`,
        n.votes, n.last_action ? `${n.last_action_kind} ${n.last_action}` : '—', `${n.assets_lost}/${n.assets}`].map((v) => el('td', { text: String(v) }))));
    }
    box.append(t);
    const m = el('table', { class: 'board', id: 'ex-msel' }, [el('tr', {}, ['Inject', 'Kind', 'Title', 'At', 'Status', ''].map((h) => el('th', { text: h })))]);
    for (const inj of b.msel) {
      m.append(el('tr', { dataset: { inject: inj.id, status: inj.status } }, [
        el('td', { text: inj.id }), el('td', { text: inj.kind || '' }), el('td', { text: inj.title || '' }),
        el('td', { text: inj.fired_at || inj.at || (inj.after && inj.after.length ? `after ${inj.after.join(', ')}` : '') }),
        el('td', { text: inj.status + (inj.error ? ` (${inj.error})` : '') }),
        el('td', {}, inj.status === 'pending' ? el('button', { class: 'link', text: 'fire now', onclick: () => this.fire(inj.id) }) : null),
      ]));
    }
    box.append(el('h3', { text: 'MSEL' }), m);
  }

  _buildActionForm() {
    const kinds = Object.keys(ACTION_FIELDS);
    this.kindSelect = el('select', { id: 'ex-action-kind', onchange: () => this._fields() }, kinds.map((k) => el('option', { value: k, text: k.replace('_', ' ') })));
    this.fieldsBox = el('div', { class: 'fields' });
    this.resultBox = el('p', { id: 'ex-action-result', class: 'small', role: 'status' });
    this.form = el('form', { class: 'action', id: 'ex-action-form', onsubmit: (ev) => { ev.preventDefault(); this._submit(); } }, [
      el('label', {}, ['Action', this.kindSelect]), this.fieldsBox, el('button', { type: 'submit', id: 'ex-action-submit', text: 'Act for my nation' }), this.resultBox,
    ]);
    this.right.append(el('h3', { text: `Act for ${this.user.nation || '—'}` }), this.form);
    if (!this.player) this.right.append(el('p', { class: 'muted small', text: 'Your role does not allow acting (operator needed).' }));
    this._fields();
  }

  _fields() {
    const kind = this.kindSelect.value;
    clear(this.fieldsBox);
    for (const f of ACTION_FIELDS[kind]) {
      let input;
      if (f.type === 'textarea') input = el('textarea', { name: f.name, rows: 3 }, f.value || '');
      else if (f.type === 'checkbox') input = el('input', { name: f.name, type: 'checkbox' });
      else if (f.type === 'select') input = el('select', { name: f.name }, f.options.map((o) => el('option', { value: o, text: o })));
      else if (['feed-item', 'own-alert', 'proposal'].includes(f.type)) input = el('select', { name: f.name, dataset: { choices: f.type } });
      else input = el('input', { name: f.name, type: f.type === 'number' ? 'number' : 'text', value: f.value || '', placeholder: f.placeholder || '', step: 'any' });
      this.fieldsBox.append(el('label', {}, [f.label, input]));
    }
    this._refreshChoices();
  }

  _refreshChoices() {
    if (!this.fieldsBox) return;
    for (const sel of this.fieldsBox.querySelectorAll('select[data-choices]')) {
      const keep = sel.value;
      clear(sel);
      let opts = [];
      if (sel.dataset.choices === 'feed-item') {
        opts = this.feed.filter((x) => x.type === 'alert' || x.type === 'message').map((x) => [`${x.type}:${x.item.id}`, `${x.type} #${x.item.id} ${x.item.title || ''}`]);
      } else if (sel.dataset.choices === 'own-alert') {
        opts = this.feed.filter((x) => x.type === 'alert' && x.item.originator === this.user.nation).map((x) => [String(x.item.id), `#${x.item.id} ${x.item.title || ''}`]);
      } else {
        opts = this.proposals.map((p) => [String(p.id), `#${p.id} ${p.title} (${p.status})`]);
      }
      for (const [v, t] of opts.reverse()) sel.append(el('option', { value: v, text: t.slice(0, 90) }));
      if (keep) sel.value = keep;
    }
  }

  _payload(kind) {
    const data = {};
    for (const f of ACTION_FIELDS[kind]) {
      const input = this.fieldsBox.querySelector(`[name="${f.name}"]`);
      if (!input) continue;
      const v = f.type === 'checkbox' ? input.checked : input.value;
      if (v === '' || v === null || v === undefined) continue;
      data[f.name] = v;
    }
    const p = {};
    switch (kind) {
      case 'acknowledge': { const [t, id] = String(data.item || '').split(':'); if (t) p[t] = Number(id); break; }
      case 'release': p.alert = Number(data.alert); p.to = nationsValue(data.to); break;
      case 'tasking': p.object = objectRef(data.object); if (data.sensor) p.sensor = data.sensor.toUpperCase(); break;
      case 'manoeuvre':
        p.asset = objectRef(data.asset);
        if (data.dv_rtn_mps) p.dv_rtn_mps = data.dv_rtn_mps.split(/[\s,]+/).filter(Boolean).map(Number);
        else if (data.raise_km) p.raise_km = Number(data.raise_km);
        break;
      case 'notify': case 'demarche':
        p.to = kind === 'demarche' ? String(data.to || '').toUpperCase() : nationsValue(data.to);
        if (data.about) p.about = objectRef(data.about);
        p.text = data.text || ''; p.public = !!data.public; break;
      case 'propose':
        p.title = data.title || '';
        p.options = String(data.options || '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
          const i = l.indexOf(':'); return i > 0 ? { id: l.slice(0, i).trim(), text: l.slice(i + 1).trim() } : { id: l, text: l };
        });
        p.rule = data.rule; p.deadline = data.deadline; p.members = nationsValue(data.members); break;
      case 'vote': p.proposal = Number(data.proposal); p.position = data.position; if (data.option) p.option = data.option; if (data.caveats) p.caveats = data.caveats; break;
      case 'break_silence': p.proposal = Number(data.proposal); p.reason = data.reason || ''; break;
      default: p.text = data.text || '';
    }
    return p;
  }

  async _submit() {
    const kind = this.kindSelect.value;
    await this.act(kind, this._payload(kind));
  }

  async act(kind, payload) {
    if (!this.eid) return;
    this.resultBox.textContent = '…';
    try {
      const a = await post(`/api/v1/exercises/${this.eid}/actions`, { kind, payload });
      this.resultBox.textContent = `${a.kind} recorded at ${a.time}`;
      this.resultBox.className = 'small';
      this.app.toast(`${kind}: done`);
    } catch (err) {
      this.resultBox.textContent = `refused: ${err.message}`;
      this.resultBox.className = 'small error';
    }
    await this.refresh();
  }

  async clock(mode, rate) {
    try { await post(`/api/v1/exercises/${this.eid}/clock`, rate ? { mode, rate } : { mode }); } catch (err) { this._error(err); }
    await this.refresh();
  }

  async step(n) {
    try { await post(`/api/v1/exercises/${this.eid}/step`, { steps: n }); } catch (err) { this._error(err); }
    await this.refresh();
  }

  async fire(injectId) {
    try { await post(`/api/v1/web/exercises/${this.eid}/injects/${encodeURIComponent(injectId)}/fire`, {}); this.app.toast(`inject ${injectId} fired`); } catch (err) { this._error(err); }
    await this.refresh();
  }

  _error(err) {
    this.app.errors.push(String(err.message));
    this.app.toast(`error: ${err.message}`, 5000);
  }
}
