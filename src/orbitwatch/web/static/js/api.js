// The one way the page talks to orbitwatch: same-origin fetches carrying the HttpOnly session cookie.
// Errors come back as RFC 9457 problem documents; they become ApiError with the server's detail.

export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || null;
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

async function check(resp) {
  if (resp.ok) return resp;
  let problem = null;
  try { problem = await resp.json(); } catch (_) { /* not JSON */ }
  const err = new ApiError(resp.status, problem && (problem.detail || problem.title), problem);
  if (resp.status === 401) onUnauthenticated(err);
  throw err;
}

export async function request(path, { method = 'GET', params, json, form, signal, raw = false } = {}) {
  let url = path;
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      for (const x of [].concat(v)) q.append(k, String(x));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const init = { method, credentials: 'same-origin', signal, headers: { Accept: 'application/json' } };
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers['Content-Type'] = 'application/json'; }
  if (form !== undefined) { init.body = new URLSearchParams(form); }
  const resp = await check(await fetch(url, init));
  if (raw) return resp;
  if (resp.status === 204) return null;
  const type = resp.headers.get('content-type') || '';
  return type.includes('json') ? resp.json() : resp.text();
}

export const get = (path, params, opts = {}) => request(path, { ...opts, params });
export const post = (path, json, opts = {}) => request(path, { ...opts, method: 'POST', json });

export async function login(username, password) {
  return request('/auth/login', { method: 'POST', form: { username, password } });
}

export async function logout() {
  try { await request('/auth/logout', { method: 'POST' }); } catch (_) { /* already gone */ }
}

/** Binary float32 positions of a snapshot: {start, step, count, n, snapshot, data: Float32Array}.
 * snapshot 'current' and start null ask for the caller's current snapshot at its reference time (used to
 * load the first knots in parallel with the catalogue). */
export async function positions(snapshot, start, step, count, signal, extra = {}) {
  const resp = await request('/api/v1/web/positions', { params: { snapshot, start, step, count, ...extra }, signal, raw: true });
  const buf = await resp.arrayBuffer();
  return {
    start: Number(resp.headers.get('X-Start') ?? start), step, count,
    n: Number(resp.headers.get('X-Count')),
    snapshot: resp.headers.get('X-Orbitwatch-Snapshot'),
    data: new Float32Array(buf),
  };
}
