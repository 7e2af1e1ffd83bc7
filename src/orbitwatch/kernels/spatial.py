"""Spatial search for close approaches: time-sampled grid hashing with provable padding.

The window is cut into sample intervals of ``h`` seconds centred on ``t_k``. At every ``t_k`` all
objects' positions and velocities come from the Hermite knots (:mod:`orbitwatch.kernels.interpolation`)
and are hashed into a uniform grid. A pair is *emitted* for interval ``k`` when

    min over |tau| <= h/2 of |dr + dv * tau|  <=  D + eps_i + eps_j + A/2 * (h/2)^2        (1)

with ``dr``, ``dv`` the interpolated relative position and velocity at ``t_k``, ``eps`` the per-object
interpolation error bounds and ``A`` a bound on the relative acceleration (twice surface gravity plus
margin). Why nothing is missed: if the true distance is ``<= D`` at some ``t_k + tau``, the interpolated
distance there is ``<= D + eps_i + eps_j``, and the interpolated relative motion departs from its
tangent line by at most ``A/2 tau^2``, so (1) holds. Every pair satisfying (1) has
``|dr| <= R = D + 2 eps_max + A/2 (h/2)^2 + V_max h/2`` (``V_max``: the largest relative speed at that
step), so the grid search only needs neighbours within ``R``: cells of size ``2R`` and, per object, the
2x2x2 block of cells on the side of its nearest cell faces.

Two implementations share this contract: a numba-compiled sweep (used when numba is installed; about
0.5 µs of CPU per object and step in the dense LEO population on the project machine) and a
numpy/scipy one (``cKDTree.query_pairs`` per step), which is the reference in the tests and the
fallback without numba. Objects faster than :data:`V_SPLIT` at a step search a 3x3x3 block of cells so
that the cells can be sized for everyone else.

Output per emitted (pair, step): ``i < j`` (indices), ``k``, the linearised minimum distance ``dmin``
(km), the time of that minimum relative to ``t_k`` (``tau``, s), the distance at ``t_k`` and the range
rate product ``g = dr . dv`` (km^2/s) used to find minima along slow encounters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Bound on the relative acceleration of two objects (km/s^2): 2 x (9.80e-3 surface gravity + J2 and
#: Hermite second-derivative margin).
REL_ACCEL_BOUND = 2.0 * 0.0115
#: Objects faster than this (km/s) at a sample search a wider block instead of widening every cell.
V_SPLIT = 8.0

try:  # numba is optional: the numpy path gives identical results, slower.
    import numba as _numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised where numba is absent
    _numba = None
    HAVE_NUMBA = False


@dataclass
class Emitted:
    """Candidate (pair, step) rows, see the module docstring."""

    i: np.ndarray
    j: np.ndarray
    k: np.ndarray
    dmin: np.ndarray
    tau: np.ndarray
    dist: np.ndarray
    g: np.ndarray

    @classmethod
    def empty(cls) -> Emitted:
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        return cls(zi, zi.copy(), zi.copy(), z, z.copy(), z.copy(), z.copy())

    def __len__(self) -> int:
        return len(self.i)

    @classmethod
    def concat(cls, parts: list[Emitted]) -> Emitted:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("i", "j", "k", "dmin", "tau", "dist", "g")))

    def sort(self) -> Emitted:
        order = np.lexsort((self.k, self.j, self.i))
        return Emitted(*(getattr(self, f)[order] for f in ("i", "j", "k", "dmin", "tau", "dist", "g")))


# --- interpolation at one instant (shared by both paths) -----------------------------------------

def interpolate_all(t: float, t0: float, step: np.ndarray, offset: np.ndarray, count: np.ndarray,
                    kr: np.ndarray, kv: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, velocities and a validity mask of every object at UTC second ``t`` (numpy)."""
    x = (t - t0) / step
    j = np.floor(x).astype(np.int64)
    ok = active & (j >= 0) & (j <= count - 1)
    j = np.clip(j, 0, count - 2)
    s = (x - j)[:, None]
    row = offset + j
    r0, v0, r1, v1 = kr[row], kv[row], kr[row + 1], kv[row + 1]
    h = step[:, None]
    s2, s3 = s * s, s * s * s
    pos = (2 * s3 - 3 * s2 + 1) * r0 + (s3 - 2 * s2 + s) * h * v0 + (-2 * s3 + 3 * s2) * r1 + (s3 - s2) * h * v1
    vel = ((6 * s2 - 6 * s) * (r0 - r1)) / h + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1
    ok &= np.isfinite(pos).all(axis=1) & np.isfinite(vel).all(axis=1)
    return pos, vel, ok


def sweep_numpy(t_samples: np.ndarray, h: float, t0: float, step: np.ndarray, offset: np.ndarray,
                count: np.ndarray, kr: np.ndarray, kv: np.ndarray, eps: np.ndarray, active: np.ndarray,
                is_primary: np.ndarray, primaries_only: bool, d0: float) -> Emitted:
    """Reference implementation of the sweep: scipy KD-tree per sample time."""
    from scipy.spatial import cKDTree

    accel_pad = 0.5 * REL_ACCEL_BOUND * (h / 2) ** 2
    out: list[Emitted] = []
    for k, t in enumerate(t_samples):
        pos, vel, ok = interpolate_all(float(t), t0, step, offset, count, kr, kv, active)
        idx = np.flatnonzero(ok)
        if len(idx) < 2:
            continue
        p, v = pos[idx], vel[idx]
        speed = np.sqrt((v * v).sum(axis=1)).max()
        radius = d0 + 2 * eps[idx].max() + accel_pad + 2 * speed * h / 2
        pairs = cKDTree(p).query_pairs(radius, output_type="ndarray")
        if not len(pairs):
            continue
        a, b = idx[pairs[:, 0]], idx[pairs[:, 1]]
        i, j = np.minimum(a, b), np.maximum(a, b)
        if primaries_only:
            keep = is_primary[i] | is_primary[j]
            i, j = i[keep], j[keep]
        dr = pos[j] - pos[i]
        dv = vel[j] - vel[i]
        vv = (dv * dv).sum(axis=1)
        g = (dr * dv).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where(vv > 0, -g / vv, 0.0)
        tau = np.clip(tau, -h / 2, h / 2)
        dmin = np.sqrt(((dr + dv * tau[:, None]) ** 2).sum(axis=1))
        lim = d0 + eps[i] + eps[j] + accel_pad
        m = dmin <= lim
        if m.any():
            out.append(Emitted(i[m].astype(np.int64), j[m].astype(np.int64), np.full(int(m.sum()), k, np.int64),
                               dmin[m], tau[m], np.sqrt((dr[m] ** 2).sum(axis=1)), g[m]))
    return Emitted.concat(out)


# --- numba sweep ---------------------------------------------------------------------------------

def _hash_py(cx, cy, cz, shift):  # pragma: no cover - compiled
    # Pack 21 bits per axis, then Fibonacci hashing: the top bits of key * 2^64/phi spread neighbouring
    # cells over the whole table (plain XOR of products clustered them; ~40 % collisions were seen).
    key = ((cx & 0x1FFFFF) << 42) | ((cy & 0x1FFFFF) << 21) | (cz & 0x1FFFFF)
    return (key * -7046029254386353131) >> shift & ((1 << (64 - shift)) - 1)


def _sweep_kernel(t_samples, h, t0, step, offset, count, kr, kv, eps, active, is_primary, primaries_only,
                  d0, accel_pad, out_i, out_j, out_k, out_f):  # pragma: no cover - compiled
    n = step.shape[0]
    # Current knot interval of every object as power-form cubic coefficients (one contiguous row per
    # object, refreshed only when the samples enter a new interval): the per-step pass then streams
    # through memory instead of gathering knots from all over the table.
    coef = np.empty((n, 12))
    seg = np.full(n, -2, dtype=np.int64)
    seg_ok = np.zeros(n, dtype=np.bool_)
    pos = np.empty((n, 3))
    vel = np.empty((n, 3))
    valid = np.zeros(n, dtype=np.bool_)
    cell = np.empty((n, 3), dtype=np.int64)
    # bucket-ordered copies, so that scanning a bucket reads contiguous memory
    sp = np.empty((n, 3))
    sv = np.empty((n, 3))
    sc = np.empty((n, 3), dtype=np.int64)
    sid = np.empty(n, dtype=np.int64)
    seps = np.empty(n)
    sprim = np.zeros(n, dtype=np.bool_)
    fast = np.zeros(n, dtype=np.bool_)
    sfast = np.zeros(n, dtype=np.bool_)
    m = 1
    bits = 0
    # A table no larger than the object count (int32): it stays in cache; a few more collisions cost
    # less than cache misses on a sparse table.
    while m < n:
        m *= 2
        bits += 1
    shift = 64 - bits
    bstart = np.zeros(m + 1, dtype=np.int32)
    bfill = np.zeros(m, dtype=np.int32)
    bkey = np.empty(n, dtype=np.int64)
    cap = out_i.shape[0]
    cnt = 0
    overflow = False
    half = 0.5 * h
    eps_max = 0.0
    for i in range(n):
        if active[i] and eps[i] > eps_max:
            eps_max = eps[i]
    for k in range(t_samples.shape[0]):
        t = t_samples[k]
        vmax2 = 0.0
        for i in range(n):
            valid[i] = False
            if not active[i]:
                continue
            hh = step[i]
            x = (t - t0) / hh
            jj = int(math.floor(x))
            if jj < 0 or jj > count[i] - 1:
                continue
            if jj > count[i] - 2:
                jj = count[i] - 2
            if jj != seg[i]:
                seg[i] = jj
                row = offset[i] + jj
                ok = True
                for c in range(3):
                    r0 = kr[row, c]
                    r1 = kr[row + 1, c]
                    w0 = kv[row, c] * hh
                    w1 = kv[row + 1, c] * hh
                    if not (math.isfinite(r0) and math.isfinite(r1) and math.isfinite(w0) and math.isfinite(w1)):
                        ok = False
                    coef[i, c] = r0
                    coef[i, 3 + c] = w0
                    coef[i, 6 + c] = -3.0 * r0 - 2.0 * w0 + 3.0 * r1 - w1
                    coef[i, 9 + c] = 2.0 * r0 + w0 - 2.0 * r1 + w1
                seg_ok[i] = ok
            if not seg_ok[i]:
                continue
            s = x - jj
            inv = 1.0 / hh
            vv = 0.0
            for c in range(3):
                c0 = coef[i, c]
                c1 = coef[i, 3 + c]
                c2 = coef[i, 6 + c]
                c3 = coef[i, 9 + c]
                pos[i, c] = c0 + s * (c1 + s * (c2 + s * c3))
                w = (c1 + s * (2.0 * c2 + 3.0 * s * c3)) * inv
                vel[i, c] = w
                vv += w * w
            valid[i] = True
            if vv > vmax2:
                vmax2 = vv
        # The few objects faster than V_SPLIT (eccentric orbits near perigee) would set the cell size
        # for everyone. Cells are sized for the others; fast objects search a 3x3x3 block instead,
        # which covers their larger radius as long as it is at most twice the slow one.
        vslow2 = 0.0
        nfast = 0
        for i in range(n):
            if valid[i]:
                w2 = vel[i, 0] * vel[i, 0] + vel[i, 1] * vel[i, 1] + vel[i, 2] * vel[i, 2]
                if w2 > V_SPLIT * V_SPLIT:
                    fast[i] = True
                    nfast += 1
                else:
                    fast[i] = False
                    if w2 > vslow2:
                        vslow2 = w2
        r_fast = d0 + 2 * eps_max + accel_pad + 2.0 * math.sqrt(vmax2) * half
        radius = d0 + 2 * eps_max + accel_pad + 2.0 * math.sqrt(vslow2) * half
        if nfast == 0 or r_fast > 2.0 * radius:
            radius = r_fast
            for i in range(n):
                fast[i] = False
        size = 2.0 * radius
        inv_size = 1.0 / size
        r2 = radius * radius
        rf2 = r_fast * r_fast
        # counting sort of objects into hash buckets of their cells
        for b in range(m):
            bfill[b] = 0
        for i in range(n):
            if not valid[i]:
                continue
            for c in range(3):
                cell[i, c] = int(math.floor(pos[i, c] * inv_size))
            key = _hash(cell[i, 0], cell[i, 1], cell[i, 2], shift)
            bkey[i] = key
            bfill[key] += 1
        acc = 0
        for b in range(m):
            bstart[b] = acc
            acc += bfill[b]
            bfill[b] = bstart[b]
        bstart[m] = acc
        for i in range(n):
            if valid[i]:
                q = bfill[bkey[i]]
                bfill[bkey[i]] += 1
                sid[q] = i
                seps[q] = eps[i]
                sprim[q] = is_primary[i]
                sfast[q] = fast[i]
                for c in range(3):
                    sp[q, c] = pos[i, c]
                    sv[q, c] = vel[i, c]
                    sc[q, c] = cell[i, c]
        # neighbour search: slow objects in the 2x2x2 block of cells nearest to them, fast ones in the
        # 3x3x3 block around their cell. A pair with a fast member is examined from the fast side only.
        for a in range(acc):
            i = sid[a]
            fa = sfast[a]
            if primaries_only and not sprim[a] and not fa:
                continue
            px = sp[a, 0]
            py = sp[a, 1]
            pz = sp[a, 2]
            if fa:
                lo_x, n_x, st_x = sc[a, 0] - 1, 3, 1
                lo_y, n_y, st_y = sc[a, 1] - 1, 3, 1
                lo_z, n_z, st_z = sc[a, 2] - 1, 3, 1
                lim2 = rf2
            else:
                lo_x, n_x = sc[a, 0], 2
                lo_y, n_y = sc[a, 1], 2
                lo_z, n_z = sc[a, 2], 2
                st_x = -1 if px * inv_size - sc[a, 0] < 0.5 else 1
                st_y = -1 if py * inv_size - sc[a, 1] < 0.5 else 1
                st_z = -1 if pz * inv_size - sc[a, 2] < 0.5 else 1
                lim2 = r2
            for da in range(n_x):
                cx = lo_x + da * st_x
                for db in range(n_y):
                    cy = lo_y + db * st_y
                    for dc in range(n_z):
                        cz = lo_z + dc * st_z
                        key = _hash(cx, cy, cz, shift)
                        for b in range(bstart[key], bstart[key + 1]):
                            j = sid[b]
                            if j == i:
                                continue
                            if fa:
                                if sfast[b] and j < i:
                                    continue
                                if primaries_only and not (sprim[a] or sprim[b]):
                                    continue
                            else:
                                if sfast[b]:
                                    continue
                                if primaries_only:
                                    if sprim[b] and j < i:
                                        continue
                                elif j < i:
                                    continue
                            if sc[b, 0] != cx or sc[b, 1] != cy or sc[b, 2] != cz:
                                continue
                            dx = sp[b, 0] - px
                            dy = sp[b, 1] - py
                            dz = sp[b, 2] - pz
                            d2 = dx * dx + dy * dy + dz * dz
                            if d2 > lim2:
                                continue
                            ux = sv[b, 0] - sv[a, 0]
                            uy = sv[b, 1] - sv[a, 1]
                            uz = sv[b, 2] - sv[a, 2]
                            uu = ux * ux + uy * uy + uz * uz
                            g = dx * ux + dy * uy + dz * uz
                            tau = -g / uu if uu > 0.0 else 0.0
                            if tau > half:
                                tau = half
                            elif tau < -half:
                                tau = -half
                            ex = dx + ux * tau
                            ey = dy + uy * tau
                            ez = dz + uz * tau
                            dmin = math.sqrt(ex * ex + ey * ey + ez * ez)
                            if dmin > d0 + seps[a] + seps[b] + accel_pad:
                                continue
                            if cnt >= cap:
                                overflow = True
                                continue
                            # rows are stored as (lower, higher); g and tau do not change sign
                            out_i[cnt] = i if i < j else j
                            out_j[cnt] = j if i < j else i
                            out_k[cnt] = k
                            out_f[cnt, 0] = dmin
                            out_f[cnt, 1] = tau
                            out_f[cnt, 2] = math.sqrt(d2)
                            out_f[cnt, 3] = g
                            cnt += 1
    return cnt, overflow


_compiled = None


def _kernel():
    global _compiled, _hash
    if _compiled is None:
        _hash = _numba.njit(inline="always")(_hash_py)
        _sweep_kernel.__globals__["_hash"] = _hash
        _compiled = _numba.njit(cache=True, nogil=True)(_sweep_kernel)
    return _compiled


_hash = _hash_py


def sweep(t_samples: np.ndarray, h: float, t0: float, step: np.ndarray, offset: np.ndarray, count: np.ndarray,
          kr: np.ndarray, kv: np.ndarray, eps: np.ndarray, active: np.ndarray, is_primary: np.ndarray,
          primaries_only: bool, d0: float, *, use_numba: bool | None = None) -> Emitted:
    """Every (pair, step) satisfying condition (1) of the module docstring.

    ``t_samples``: centres of the sample intervals (UTC s); ``h``: their length (s); ``t0``, ``step``,
    ``offset``, ``count``, ``kr``, ``kv``: a :class:`~orbitwatch.kernels.interpolation.KnotTable`;
    ``eps``: per-object bound (km); ``active``: objects to consider; ``is_primary`` with
    ``primaries_only``: only pairs with at least one primary; ``d0``: screening distance (km).
    """
    if use_numba is None:
        use_numba = HAVE_NUMBA
    if not use_numba:
        return sweep_numpy(t_samples, h, t0, step, offset, count, kr, kv, eps, active, is_primary,
                           primaries_only, d0)
    fn = _kernel()
    accel_pad = 0.5 * REL_ACCEL_BOUND * (h / 2) ** 2
    cap = max(1024, 4 * len(step))
    args = (np.ascontiguousarray(t_samples, dtype=np.float64), float(h), float(t0),
            np.ascontiguousarray(step, dtype=np.float64), np.ascontiguousarray(offset, dtype=np.int64),
            np.ascontiguousarray(count, dtype=np.int64), np.ascontiguousarray(kr, dtype=np.float64),
            np.ascontiguousarray(kv, dtype=np.float64), np.ascontiguousarray(eps, dtype=np.float64),
            np.ascontiguousarray(active, dtype=np.bool_), np.ascontiguousarray(is_primary, dtype=np.bool_),
            bool(primaries_only), float(d0), accel_pad)
    while True:
        oi = np.empty(cap, dtype=np.int64)
        oj = np.empty(cap, dtype=np.int64)
        ok = np.empty(cap, dtype=np.int64)
        of = np.empty((cap, 4), dtype=np.float64)
        n, overflow = fn(*args, oi, oj, ok, of)
        if not overflow:
            return Emitted(oi[:n], oj[:n], ok[:n], of[:n, 0], of[:n, 1], of[:n, 2], of[:n, 3])
        cap *= 4
