// Keeps sampled positions around the simulation clock: windows of knots fetched from
// /api/v1/web/positions ahead of the clock in the direction it runs, dropped when far behind.
//
// Knot spacing follows the playback speed so a window lasts a few seconds of wall time at any speed
// and the Hermite interpolation stays accurate enough for the speed (60 s up to 10x: < 2 m in LEO;
// 600 s to 3000x: < 5 km; 1200 s beyond, where a LEO object crosses the screen in a second). Windows are
// aligned on a global grid (start = multiple of (count-1)*step) and share their boundary knot, so
// consecutive windows join without a seam.

import { positions as fetchPositions, ApiError } from './api.js';

const COUNT = 16;

export function stepFor(multiplier) {
  const m = Math.abs(multiplier || 1);
  if (m <= 10) return 60;
  if (m <= 100) return 120;
  if (m <= 1000) return 300;
  if (m < 3000) return 600;
  return 1200;
}

export class PositionFeeder {
  constructor(snapshot, n, { onStale, onError, onLoad, params = {} } = {}) {
    this.snapshot = snapshot;
    this.params = params; // e.g. {exercise: 3}: which world the snapshot is of
    this.n = n;
    this.windows = new Map(); // key -> {start, step, count, data}
    this.inflight = new Map(); // key -> Promise
    this.onStale = onStale || (() => {});
    this.onError = onError || (() => {});
    this.onLoad = onLoad || (() => {});
    this.requests = 0;
    this.bytes = 0;
    this.lastError = null;
    this.stopped = false;
  }

  stop() { this.stopped = true; this.windows.clear(); }

  _key(step, start, count) { return `${step}:${start}:${count}`; }

  _span(step) { return step * (COUNT - 1); }

  _load(step, start, count) {
    const key = this._key(step, start, count);
    if (this.windows.has(key) || this.inflight.has(key) || this.stopped) return;
    const p = fetchPositions(this.snapshot, start, step, count, undefined, this.params)
      .then((w) => {
        if (this.stopped) return;
        if (w.n !== this.n || w.data.length !== count * this.n * 6) throw new Error('positions do not match the catalogue');
        this.requests += 1;
        this.bytes += w.data.byteLength;
        w.loadedAt = performance.now();
        this.windows.set(key, w);
        this.onLoad(w);
      })
      .catch((err) => {
        this.lastError = err;
        if (err instanceof ApiError && err.status === 409) this.onStale(err);
        else this.onError(err);
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
  }

  /** Adopt a window fetched before this feeder existed (the first knots, loaded with the catalogue). */
  adopt(w) {
    if (!w || w.snapshot !== this.snapshot || w.n !== this.n || w.data.length !== w.count * this.n * 6) return false;
    w.loadedAt = performance.now();
    this.windows.set(this._key(w.step, w.start, w.count), w);
    this.requests += 1;
    this.bytes += w.data.byteLength;
    this.onLoad(w);
    return true;
  }

  /** Ask for a small window around t at once (first frame), the full one after it. */
  prime(t, multiplier) {
    const step = stepFor(multiplier);
    const start = Math.floor(t / step) * step;
    this._load(step, start, 2);
  }

  /**
   * The knots bracketing unix time t: {a, b, s, h} (Float32Array views and fraction), or null while
   * they are loading. Requests what is missing and prefetches the next window in the clock's direction.
   */
  locate(t, multiplier, { evict = true } = {}) {
    const step = stepFor(multiplier);
    const span = this._span(step);
    const start = Math.floor(t / span) * span;
    this._load(step, start, COUNT);
    const frac = (t - start) / span;
    const dir = (multiplier || 1) >= 0 ? 1 : -1;
    if ((dir > 0 && frac > 0.4) || (dir < 0 && frac < 0.6)) this._load(step, start + dir * span, COUNT);
    // Prefer a window at the wanted step, else any window that covers t (e.g. the priming one).
    let best = null;
    for (const w of this.windows.values()) {
      const end = w.start + (w.count - 1) * w.step;
      if (t < w.start || t > end) continue;
      if (!best || (w.step === step && best.step !== step) || (w.step === best.step && w.count > best.count)) best = w;
    }
    if (evict) this._evict(t, span, best && best.step === step ? step : null);
    if (!best) return null;
    let k = Math.floor((t - best.start) / best.step);
    k = Math.max(0, Math.min(k, best.count - 2));
    const s = (t - (best.start + k * best.step)) / best.step;
    const size = this.n * 6;
    return {
      window: best, k, s, h: best.step,
      a: best.data.subarray(k * size, (k + 1) * size),
      b: best.data.subarray((k + 1) * size, (k + 2) * size),
      id: `${this._key(best.step, best.start, best.count)}#${k}`,
    };
  }

  _evict(t, span, currentStep) {
    if (this.windows.size <= 6) return;
    const now = performance.now();
    for (const [key, w] of this.windows) {
      if (now - (w.loadedAt || 0) < 30000) continue; // just fetched (e.g. for an alert's time): keep a while
      const end = w.start + (w.count - 1) * w.step;
      const far = end < t - 2 * span || w.start > t + 2 * span;
      const otherStep = currentStep !== null && w.step !== currentStep;
      if (far || otherStep) this.windows.delete(key);
    }
  }
}
