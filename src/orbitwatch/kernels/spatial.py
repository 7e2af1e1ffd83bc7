"""Spatial search for close approaches: time-sampled grid hashing with provable padding.

The window is cut into sample intervals of ``h`` seconds centred on ``t_k``. At every ``t_k`` all
objects' positions and velocities come from the Hermite knots (:mod:`orbitwatch.kernels.interpolation`)
and are hashed into a uniform grid. A pair is *emitted* for interval ``k`` when

    min over |tau| <= h/2 of |dr + dv * tau|  <=  D + eps_i + eps_j + A/2 * (h/2)^2        (1)

with ``dr``, ``dv`` the interpolated relative position and velocity at ``t_k``, ``eps`` the per-object
interpolation error bounds and ``A`` a bound on the relative acceleration of the two interpolants over
the interval, and

    |rho_i - rho_j| - |rho_i' - rho_j'| h/2  <=  D + eps_i + eps_j + (B_i + B_j)/2 * (h/2)^2           (2)

with ``rho = |p|`` the interpolated radius, ``rho'`` its rate and ``B`` a per-object bound on the
interpolant's ``|rho''|`` (:func:`orbitwatch.kernels.interpolation.radial_accel_bound`). Why nothing is
missed: if the true distance is ``<= D`` at some ``t_k + tau``, the interpolated distance there is
``<= D + eps_i + eps_j``, and the interpolated relative motion departs from its tangent line by at most
``A/2 tau^2``, so (1) holds; the radii differ by no more than the distance, and ``rho_i - rho_j`` departs
from its tangent line by at most ``(B_i + B_j)/2 tau^2``, so (2) holds.

``A`` is per pair when the caller gives per-object bounds ``c`` on how far an interpolant's acceleration
departs from point-mass gravity at its own position (Hermite acceleration error, SGP4's J2 and drag
terms, measured SDP4 jumps: :func:`orbitwatch.kernels.interpolation.lateral_accel_error`): the true
gravity of two points ``s`` apart differs by at most ``G s`` (``G = 2 mu / R_E^3`` bounds the gravity
gradient above the Earth's surface), so ``A = G s_max + c_i + c_j`` with ``s_max = |dr| + |dv| h/2 +
A0/2 (h/2)^2 + eps_i + eps_j`` (``A0`` = :data:`REL_ACCEL_BOUND`, twice surface gravity plus margin,
which is also the bound used without ``c``). Two objects hundreds of km apart accelerate relative to
each other by ~1e-3 km/s^2, not the 2.3e-2 of ``A0``: the pad of (1) drops from about 10 km to about
1 km at h = 60 s, and with it most of the candidates that refinement would throw away.

Every pair satisfying (1) has ``|dr| <= R = D + 2 eps_max + A/2 (h/2)^2 + V_max h/2`` (``V_max``: the
largest relative speed at that step), so the grid search only needs neighbours within ``R``: cells of
size ``2R`` and, per object, the 2x2x2 block of cells on the side of its nearest cell faces.

Condition (2) is what makes the search cheap: objects move fast (up to ~15 km/s relative) but their
radii change slowly (a near-circular orbit's by metres per second), so the search is over thin radial
shells. Objects are hashed by (radial bin, Cartesian cell); a pair meeting (2) has radii within
``D + w_i + w_j`` (``w = eps + |rho'| h/2 + B (h/2)^2/2``), so two "radially narrow" objects (``w`` below
the step's threshold) share a bin or sit in adjacent ones; the others search every bin they reach.

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
#: Bound on the gravity gradient above the Earth's surface (1/s^2): 2 mu / R_E^3, with 10 % margin.
GRAVITY_GRADIENT = 1.1 * 2.0 * 398600.8 / 6378.135 ** 3
#: Objects faster than this (km/s) at a sample search a wider block instead of widening every cell.
V_SPLIT = 8.0
#: Cells are sized for interpolation bounds up to this (km); objects with larger ones search like fast ones.
EPS_CELL_KM = 10.0
#: Added to a fast object's radial reach to make its all-vs-all priority exceed every slow object's.
FAST_PRIORITY = 1e12

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
        """Rows in order of (i, j, k)."""
        if not len(self.i):
            return self
        n = int(max(self.i.max(), self.j.max())) + 1
        kmax = int(self.k.max()) + 1
        if n * n * kmax < 2**62:
            # one int64 key: a single argsort instead of a three-key lexsort (3 M rows: ~3x faster)
            order = np.argsort((self.i * n + self.j) * kmax + self.k, kind="stable")
        else:  # pragma: no cover - beyond ~1.4 M objects at 10,000 samples
            order = np.lexsort((self.k, self.j, self.i))
        return self.take(order)

    def take(self, idx: np.ndarray) -> Emitted:
        """The rows ``idx`` (indices or a boolean mask)."""
        return Emitted(*(getattr(self, f)[idx] for f in ("i", "j", "k", "dmin", "tau", "dist", "g")))


# --- interpolation at one instant (shared by both paths) -----------------------------------------

def interpolate_all(t: float, t0: float | np.ndarray, step: np.ndarray, offset: np.ndarray, count: np.ndarray,
                    kr: np.ndarray, kv: np.ndarray, active: np.ndarray,
                    ka: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions, velocities and a validity mask of every object at UTC second ``t`` (numpy); ``t0``: the
    time of every object's first knot (one for all, or per object); ``ka``: knot accelerations (quintic
    Hermite; None: cubic)."""
    from orbitwatch.kernels.interpolation import hermite, quintic

    x = (t - t0) / step
    j = np.floor(x).astype(np.int64)
    ok = active & (j >= 0) & (j <= count - 1)
    j = np.clip(j, 0, count - 2)
    s = x - j
    row = offset + j
    if ka is None:
        pos, vel = hermite(kr[row], kv[row], kr[row + 1], kv[row + 1], step, s)
    else:
        pos, vel = quintic(kr[row], kv[row], ka[row], kr[row + 1], kv[row + 1], ka[row + 1], step, s)
    ok &= np.isfinite(pos).all(axis=1) & np.isfinite(vel).all(axis=1)
    return pos, vel, ok


def radial_terms(pos: np.ndarray, vel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Radius ``rho`` (km) and radial rate ``rho'`` (km/s) of states (n, 3)."""
    rho = np.sqrt((pos * pos).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        rdot = np.where(rho > 0, (pos * vel).sum(axis=1) / rho, 0.0)
    return rho, rdot


def pair_allowed(i: np.ndarray, j: np.ndarray, is_primary: np.ndarray, is_secondary: np.ndarray | None,
                 primaries_only: bool, group: np.ndarray | None = None) -> np.ndarray:
    """Which pairs the roles admit: all (all-vs-all), those with a primary, or primary-secondary ones;
    never two objects of the same non-negative ``group``."""
    if not primaries_only:
        ok = np.ones(len(i), dtype=bool)
    elif is_secondary is None:
        ok = is_primary[i] | is_primary[j]
    else:
        ok = (is_primary[i] & is_secondary[j]) | (is_primary[j] & is_secondary[i])
    if group is not None:
        ok &= (group[i] < 0) | (group[i] != group[j])
    return ok


def sweep_numpy(t_samples: np.ndarray, h: float, t0: float | np.ndarray, step: np.ndarray, offset: np.ndarray,
                count: np.ndarray, kr: np.ndarray, kv: np.ndarray, eps: np.ndarray, active: np.ndarray,
                is_primary: np.ndarray, primaries_only: bool, d0: float, radial_accel: np.ndarray,
                is_secondary: np.ndarray | None = None, group: np.ndarray | None = None,
                d0_radial: float | None = None, accel_error: np.ndarray | None = None,
                ka: np.ndarray | None = None) -> Emitted:
    """Reference implementation of the sweep: scipy KD-tree per sample time, then conditions (1) and (2)."""
    from scipy.spatial import cKDTree

    accel_pad = 0.5 * REL_ACCEL_BOUND * (h / 2) ** 2
    quad = 0.5 * (h / 2) ** 2
    out: list[Emitted] = []
    for k, t in enumerate(t_samples):
        pos, vel, ok = interpolate_all(float(t), t0, step, offset, count, kr, kv, active, ka)
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
        keep = pair_allowed(i, j, is_primary, is_secondary, primaries_only, group)
        i, j = i[keep], j[keep]
        rho, rdot = radial_terms(pos, vel)
        radial = (np.abs(rho[i] - rho[j]) - np.abs(rdot[i] - rdot[j]) * (h / 2)
                  <= (d0 if d0_radial is None else d0_radial) + eps[i] + eps[j]
                  + quad * (radial_accel[i] + radial_accel[j]))
        i, j = i[radial], j[radial]
        dr = pos[j] - pos[i]
        dv = vel[j] - vel[i]
        vv = (dv * dv).sum(axis=1)
        g = (dr * dv).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = np.where(vv > 0, -g / vv, 0.0)
        tau = np.clip(tau, -h / 2, h / 2)
        dmin = np.sqrt(((dr + dv * tau[:, None]) ** 2).sum(axis=1))
        lim = d0 + eps[i] + eps[j] + pair_accel_pad(np.sqrt((dr * dr).sum(axis=1)), np.sqrt(vv), eps[i], eps[j],
                                                    None if accel_error is None else accel_error[i],
                                                    None if accel_error is None else accel_error[j], h)
        m = dmin <= lim
        if m.any():
            out.append(Emitted(i[m].astype(np.int64), j[m].astype(np.int64), np.full(int(m.sum()), k, np.int64),
                               dmin[m], tau[m], np.sqrt((dr[m] ** 2).sum(axis=1)), g[m]))
    return Emitted.concat(out)


def pair_accel_pad(dist, speed, eps_i, eps_j, c_i, c_j, h: float):
    """The ``A/2 (h/2)^2`` pad of condition (1) for pairs ``dist`` km apart closing at ``speed`` km/s at the
    sample (see the module docstring); the crude :data:`REL_ACCEL_BOUND` pad without per-object ``c``."""
    half = h / 2
    crude = 0.5 * REL_ACCEL_BOUND * half * half
    if c_i is None or c_j is None:
        return np.full(np.shape(dist), crude)
    s_max = dist + speed * half + crude + eps_i + eps_j
    return np.minimum(0.5 * (GRAVITY_GRADIENT * s_max + c_i + c_j) * half * half, crude)


# --- numba sweep ---------------------------------------------------------------------------------

def _hash_py(cx, cy, cz, shift):  # pragma: no cover - compiled
    # Pack 21 bits per axis, then Fibonacci hashing: the top bits of key * 2^64/phi spread neighbouring
    # cells over the whole table (plain XOR of products clustered them; ~40 % collisions were seen).
    key = ((cx & 0x1FFFFF) << 42) | ((cy & 0x1FFFFF) << 21) | (cz & 0x1FFFFF)
    return (key * -7046029254386353131) >> shift & ((1 << (64 - shift)) - 1)


def _sweep_kernel(t_samples, h, t0, step, offset, count, kr, kv, ka, quintic, eps, radial_accel, accel_error, active,
                  is_primary, is_secondary, group, restrict, d0, d0r, accel_pad, out_i, out_j, out_k,
                  out_f):  # pragma: no cover
    n = step.shape[0]
    # Current knot interval of every object as power-form cubic coefficients (one contiguous row per
    # object, refreshed only when the samples enter a new interval): the per-step pass then streams
    # through memory instead of gathering knots from all over the table.
    coef = np.empty((n, 18))
    seg = np.full(n, -2, dtype=np.int64)
    seg_ok = np.zeros(n, dtype=np.bool_)
    pos = np.empty((n, 3))
    vel = np.empty((n, 3))
    rho = np.full(n, np.inf)
    rdot = np.empty(n)
    wrad = np.empty(n)
    valid = np.zeros(n, dtype=np.bool_)
    cell = np.empty((n, 3), dtype=np.int64)
    # Objects in order of radius at every sample (radix sort below): filling buckets in this order leaves
    # every bucket sorted by radius, and condition (2) becomes a binary search plus a short scan.
    rorder = np.arange(n)
    rord2 = np.empty(n, dtype=np.int64)
    rbits = rho.view(np.uint64)
    ukey = np.empty(n, dtype=np.uint64)
    ukey2 = np.empty(n, dtype=np.uint64)
    hist = np.empty(2048, dtype=np.int64)
    # Bucket-ordered copies, one 128-byte row per object (position, velocity, rho', radial pad, eps,
    # cell, index, role bits): placing an object and reading a neighbour each touch two cache lines
    # instead of one line in each of a dozen arrays. Radii stay in their own array for the searches.
    srow = np.empty((n, 16))
    srho = np.empty(n)
    srad = np.empty((n, 3))  # rho', radial pad and priority of the bucket-ordered objects, beside srho
    spos = np.empty((n, 3))  # and their positions
    svel = np.empty((n, 3))  # velocities and interpolation bounds, for the linear-motion prefilter
    seps = np.empty(n)
    fast = np.zeros(n, dtype=np.bool_)
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
    nb_lo = np.empty(27, dtype=np.int64)
    nb_end = np.empty(27, dtype=np.int64)
    nb_ptr = np.empty(27, dtype=np.int64)
    sbuf = np.empty(n + 1, dtype=np.int64)
    cap = out_i.shape[0]
    cnt = 0
    overflow = False
    half = 0.5 * h
    quad = 0.5 * half * half
    # Cells are sized for interpolation bounds up to EPS_CELL_KM; the few objects above it (decaying,
    # SDP4 jumps) search the wider block of the fast ones instead of widening every cell.
    eps_max = 0.0
    eps_cell = 0.0
    for i in range(n):
        if active[i]:
            if eps[i] > eps_max:
                eps_max = eps[i]
            if eps[i] <= EPS_CELL_KM and eps[i] > eps_cell:
                eps_cell = eps[i]
    for k in range(t_samples.shape[0]):
        t = t_samples[k]
        vmax2 = 0.0
        for i in range(n):
            valid[i] = False
            rho[i] = np.inf
            if not active[i]:
                continue
            hh = step[i]
            x = (t - t0[i]) / hh
            jj = int(math.floor(x))
            if jj < 0 or jj > count[i] - 1:
                continue
            if jj > count[i] - 2:
                jj = count[i] - 2
            if jj != seg[i]:
                seg[i] = jj
                row = offset[i] + jj
                ok = True
                # NaN knot accelerations mark objects whose knots stay cubic (interpolation.cubic_objects)
                quint = quintic and math.isfinite(ka[row, 0]) and math.isfinite(ka[row + 1, 0])
                for c in range(3):
                    r0 = kr[row, c]
                    r1 = kr[row + 1, c]
                    w0 = kv[row, c] * hh
                    w1 = kv[row + 1, c] * hh
                    if not (math.isfinite(r0) and math.isfinite(r1) and math.isfinite(w0) and math.isfinite(w1)):
                        ok = False
                    coef[i, c] = r0
                    coef[i, 3 + c] = w0
                    if quint:  # interpolation.quintic_coefficients, inlined for numba (tests compare the two)
                        e0 = ka[row, c] * hh * hh
                        e1 = ka[row + 1, c] * hh * hh
                        dr = r1 - r0
                        coef[i, 6 + c] = 0.5 * e0
                        coef[i, 9 + c] = 10.0 * dr - 6.0 * w0 - 4.0 * w1 - 1.5 * e0 + 0.5 * e1
                        coef[i, 12 + c] = -15.0 * dr + 8.0 * w0 + 7.0 * w1 + 1.5 * e0 - e1
                        coef[i, 15 + c] = 6.0 * dr - 3.0 * w0 - 3.0 * w1 - 0.5 * e0 + 0.5 * e1
                    else:
                        coef[i, 6 + c] = -3.0 * r0 - 2.0 * w0 + 3.0 * r1 - w1
                        coef[i, 9 + c] = 2.0 * r0 + w0 - 2.0 * r1 + w1
                        coef[i, 12 + c] = 0.0
                        coef[i, 15 + c] = 0.0
                seg_ok[i] = ok
            if not seg_ok[i]:
                continue
            s = x - jj
            inv = 1.0 / hh
            vv = 0.0
            rr = 0.0
            rv = 0.0
            for c in range(3):
                c0 = coef[i, c]
                c1 = coef[i, 3 + c]
                c2 = coef[i, 6 + c]
                c3 = coef[i, 9 + c]
                c4 = coef[i, 12 + c]
                c5 = coef[i, 15 + c]
                p = c0 + s * (c1 + s * (c2 + s * (c3 + s * (c4 + s * c5))))
                w = (c1 + s * (2.0 * c2 + s * (3.0 * c3 + s * (4.0 * c4 + 5.0 * s * c5)))) * inv
                pos[i, c] = p
                vel[i, c] = w
                vv += w * w
                rr += p * p
                rv += p * w
            valid[i] = True
            r_ = math.sqrt(rr)
            rho[i] = r_
            rdot[i] = rv / r_ if r_ > 0.0 else 0.0
            if vv > vmax2:
                vmax2 = vv
        # Objects in order of radius by an LSD radix sort on 11-bit digits of the radii's IEEE bit patterns
        # (which order non-negative doubles as their values; invalid objects have rho = inf and sink to
        # the end), skipping passes whose digit all objects share. An insertion sort from the previous
        # sample's order was linear in its moves, and dense shells make many: the radii of a shell's
        # thousands of objects pass each other as their orbits' small eccentricities swing them (1.4 M
        # moves a sample for the 2023 catalogue; the radix sort is ~7 % of the sweep faster).
        ka_ = ukey
        kb_ = ukey2
        oa_ = rorder
        ob_ = rord2
        for q in range(n):
            ka_[q] = rbits[q]
            oa_[q] = q
        for sh in range(0, 64, 11):
            ush = np.uint64(sh)
            for d in range(2048):
                hist[d] = 0
            for q in range(n):
                hist[(ka_[q] >> ush) & np.uint64(2047)] += 1
            if hist[(ka_[0] >> ush) & np.uint64(2047)] == n:
                continue
            acc_h = 0
            for d in range(2048):
                c_h = hist[d]
                hist[d] = acc_h
                acc_h += c_h
            for q in range(n):
                kq_ = ka_[q]
                d = (kq_ >> ush) & np.uint64(2047)
                dst = hist[d]
                hist[d] = dst + 1
                kb_[dst] = kq_
                ob_[dst] = oa_[q]
            ka_, kb_ = kb_, ka_
            oa_, ob_ = ob_, oa_
        rsorted = oa_
        # Lateral: the few objects faster than V_SPLIT (eccentric orbits near perigee) would set the cell
        # size for everyone. Cells are sized for the others; fast objects search a 3x3x3 block instead,
        # which covers their larger radius as long as it is at most twice the slow one.
        vslow2 = 0.0
        nfast = 0
        wsum = 0.0
        nvalid = 0
        wmax = 0.0
        for i in range(n):
            if valid[i]:
                w2 = vel[i, 0] * vel[i, 0] + vel[i, 1] * vel[i, 1] + vel[i, 2] * vel[i, 2]
                if w2 > V_SPLIT * V_SPLIT or eps[i] > EPS_CELL_KM:
                    fast[i] = True
                    nfast += 1
                else:
                    fast[i] = False
                    if w2 > vslow2:
                        vslow2 = w2
                # radial reach: a pair meeting (2) has |rho_i - rho_j| <= d0r + w_i + w_j
                wr = eps[i] + abs(rdot[i]) * half + quad * radial_accel[i]
                wrad[i] = wr
                wsum += wr
                nvalid += 1
                if wr > wmax:
                    wmax = wr
        r_fast = d0 + 2 * eps_max + accel_pad + 2.0 * math.sqrt(vmax2) * half
        radius = d0 + 2 * eps_cell + accel_pad + 2.0 * math.sqrt(vslow2) * half
        if nfast == 0 or r_fast > 2.0 * radius:
            radius = r_fast
            for i in range(n):
                fast[i] = False
        # "Narrow" objects (w <= w_s, not fast) search radii within d0r + w + w_s and only for narrow
        # partners; "wide" ones (eccentric orbits away from the apsides, large bounds, fast) search
        # within d0r + w + w_max for everyone.
        if restrict:
            w_s = 3.0 * wsum / nvalid if nvalid else 0.0
        else:
            # All-vs-all: twice the median reach, set at the first sample of the call (reaches change
            # slowly). The mean is pulled up by eccentric orbits (3x mean was 36 km against a median of
            # 4 km), and every narrow object's upward scan pays for w_s; wide ones scan by priority.
            if k == 0:
                wv = np.empty(nvalid)
                q_ = 0
                for i in range(n):
                    if valid[i]:
                        wv[q_] = wrad[i]
                        q_ += 1
                w_med = 2.0 * np.median(wv) if nvalid else 0.0
            w_s = w_med
        if w_s > wmax:
            w_s = wmax
        size = 2.0 * radius
        inv_size = 1.0 / size
        r2 = radius * radius
        rf2 = r_fast * r_fast
        # counting sort of objects into hash buckets of their cells, in order of radius
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
        for q in range(n):
            i = rsorted[q]
            if not valid[i]:
                break
            kq = bfill[bkey[i]]
            bfill[bkey[i]] += 1
            srho[kq] = rho[i]
            srad[kq, 0] = rdot[i]
            srad[kq, 1] = eps[i] + quad * radial_accel[i]
            # all-vs-all priority: a pair is examined by the object of higher priority (module docstring)
            srad[kq, 2] = wrad[i] + FAST_PRIORITY if fast[i] else wrad[i]
            for c in range(3):
                spos[kq, c] = pos[i, c]
                svel[kq, c] = vel[i, c]
            seps[kq] = eps[i]
            row = srow[kq]
            for c in range(3):
                row[c] = pos[i, c]
                row[3 + c] = vel[i, c]
                row[10 + c] = cell[i, c]
            row[6] = rdot[i]
            row[7] = eps[i] + quad * radial_accel[i]
            row[8] = eps[i]
            row[9] = i
            row[14] = group[i]
            row[15] = accel_error[i]
            # role bits: 1 primary, 2 secondary, 4 fast, 8 wide
            bitsv = 0
            if is_primary[i]:
                bitsv += 1
            if is_secondary[i]:
                bitsv += 2
            if fast[i]:
                bitsv += 4
            if fast[i] or wrad[i] > w_s:
                bitsv += 8
            row[13] = bitsv
        # Neighbour search. Who examines a pair (exactly once):
        #   all-vs-all: two narrow objects (reach w <= w_s, not fast): the one of lower radius, ties the
        #               lower index, scanning upward within d0r + w + w_s; otherwise the one of higher
        #               priority - fast before slow, then the larger w, ties the higher index - scanning
        #               radii within d0r + 2 w of its own (a fast one: d0r + w + w_max). Wide objects then
        #               pay for their own reach, and narrow ones for w_s, not for the widest.
        #   with roles: narrow-narrow: the primary (both primaries: the lower index); wide-narrow: the
        #               wide one; wide-wide: the laterally fast one if only one is, else the lower index.
        pcx = pcy = pcz = -(1 << 62)
        for a in range(acc):
            ra_row = srow[a]
            i = int(ra_row[9])
            fl_a = int(ra_row[13])
            pa = (fl_a & 1) != 0
            sa = (fl_a & 2) != 0
            fa = (fl_a & 4) != 0
            wa = (fl_a & 8) != 0
            if restrict and not pa and not wa:
                continue
            px = ra_row[0]
            py = ra_row[1]
            pz = ra_row[2]
            vx = ra_row[3]
            vy = ra_row[4]
            vz = ra_row[5]
            rdot_a = ra_row[6]
            pad_a = ra_row[7]
            eps_a = ra_row[8]
            grp_a = ra_row[14]
            acc_a = ra_row[15]
            ra = srho[a]
            cxa = int(ra_row[10])
            cya = int(ra_row[11])
            cza = int(ra_row[12])
            if fa:
                lo_x, n_x, st_x = cxa - 1, 3, 1
                lo_y, n_y, st_y = cya - 1, 3, 1
                lo_z, n_z, st_z = cza - 1, 3, 1
            else:
                lo_x, n_x = cxa, 2
                lo_y, n_y = cya, 2
                lo_z, n_z = cza, 2
                st_x = -1 if px * inv_size - cxa < 0.5 else 1
                st_y = -1 if py * inv_size - cya < 0.5 else 1
                st_z = -1 if pz * inv_size - cza < 0.5 else 1
            prio_a = wrad[i] + FAST_PRIORITY if fa else wrad[i]
            upward = False
            if restrict:
                reach = d0r + wrad[i] + (wmax if wa else w_s)
            elif fa:
                reach = d0r + wrad[i] + wmax
            elif wa:  # partners of lower priority have w <= w_a
                reach = d0r + 2.0 * wrad[i]
            else:  # narrow: narrow partners of higher radius
                reach = d0r + wrad[i] + w_s
                upward = True
            r_lo = ra if upward else ra - reach
            r_hi = ra + reach
            if restrict:
                prio_lim = np.inf
            elif upward:
                prio_lim = w_s  # a wide partner examines the pair
            else:
                prio_lim = prio_a
            rad_lim = d0r + pad_a
            # The 27 cells around this one, looked up once per run of objects sharing a cell (objects are
            # visited in bucket order, so a cell's objects come together, in order of radius). Each cell's
            # scan then starts from a pointer kept from the previous object of the run and moved to the
            # first radius >= r_lo (a few steps: radii and reaches change little along the run).
            # With roles only the primaries scan, too few per cell for the 27 lookups to pay.
            if not restrict and (cxa != pcx or cya != pcy or cza != pcz):
                pcx = cxa
                pcy = cya
                pcz = cza
                for q in range(27):
                    key = _hash(cxa + q // 9 - 1, cya + (q // 3) % 3 - 1, cza + q % 3 - 1, shift)
                    nb_lo[q] = bstart[key]
                    nb_end[q] = bstart[key + 1]
                    nb_ptr[q] = nb_lo[q]
            for da in range(n_x):
                cx = lo_x + da * st_x
                for db in range(n_y):
                    cy = lo_y + db * st_y
                    for dc in range(n_z):
                        cz = lo_z + dc * st_z
                        if restrict:
                            key = _hash(cx, cy, cz, shift)
                            q = -1
                            lo = bstart[key]
                            end = bstart[key + 1]
                        else:
                            q = (cx - cxa + 1) * 9 + (cy - cya + 1) * 3 + (cz - cza + 1)
                            lo = nb_lo[q]
                            end = nb_end[q]
                        if not restrict:
                            lo = nb_ptr[q]
                            start_q = nb_lo[q]
                            while lo > start_q and srho[lo - 1] >= r_lo:
                                lo -= 1
                            while lo < end and srho[lo] < r_lo:
                                lo += 1
                            if upward:  # later objects of the run start at least here
                                nb_ptr[q] = lo
                        else:
                            hi = end
                            while lo < hi:  # first entry with radius >= r_lo
                                mid = (lo + hi) >> 1
                                if srho[mid] < r_lo:
                                    lo = mid + 1
                                else:
                                    hi = mid
                        # First pass, without branches but the loop's own: the priority rule, condition
                        # (2) and the search radius from the compact columns, the survivors' positions
                        # written to a buffer (one in five survives; a branch per test was mispredicted
                        # about as often as not). The second pass reads only their full rows.
                        # Unsigned indices: numba then drops the negative-index wrap-around it adds to every
                        # array access with a signed one (-5 % of the sweep).
                        nbuf = 0
                        ua = np.uint64(a)
                        for bi in range(lo, end):
                            b = np.uint64(bi)
                            rb = srho[b]
                            if rb > r_hi:
                                break
                            dx = spos[b, 0] - px
                            dy = spos[b, 1] - py
                            dz = spos[b, 2] - pz
                            keep = ((srad[b, 2] <= prio_lim) & (b != ua)
                                    & (abs(rb - ra) - abs(srad[b, 0] - rdot_a) * half <= rad_lim + srad[b, 1])
                                    & (dx * dx + dy * dy + dz * dz <= rf2))
                            sbuf[nbuf] = bi
                            nbuf += keep
                        # Second pass, also without branches: condition (1) with the crude acceleration pad
                        # from the compact columns (about 2 % of the first pass's survivors meet it). The
                        # comparison of squares is widened by 1e-9 so that it can only keep more than the
                        # exact test of the last pass.
                        nkeep = 0
                        for tb in range(nbuf):
                            b = sbuf[tb]
                            dx = spos[b, 0] - px
                            dy = spos[b, 1] - py
                            dz = spos[b, 2] - pz
                            ux = svel[b, 0] - vx
                            uy = svel[b, 1] - vy
                            uz = svel[b, 2] - vz
                            uu = ux * ux + uy * uy + uz * uz
                            g = dx * ux + dy * uy + dz * uz
                            tau = -g / uu if uu > 0.0 else 0.0
                            tau = min(max(tau, -half), half)
                            ex = dx + ux * tau
                            ey = dy + uy * tau
                            ez = dz + uz * tau
                            lim1 = (d0 + eps_a + seps[b] + accel_pad) * (1.0 + 1e-9)
                            sbuf[nkeep] = b
                            nkeep += ex * ex + ey * ey + ez * ez <= lim1 * lim1
                        for tb in range(nkeep):
                            b = sbuf[tb]
                            rb = srho[b]
                            prio_b = srad[b, 2]
                            dx = spos[b, 0] - px
                            dy = spos[b, 1] - py
                            dz = spos[b, 2] - pz
                            d2 = dx * dx + dy * dy + dz * dz
                            rbw = srow[b]
                            if rbw[10] != cx or rbw[11] != cy or rbw[12] != cz:
                                continue
                            j = int(rbw[9])
                            if j == i:
                                continue
                            fl_b = int(rbw[13])
                            fb = (fl_b & 4) != 0
                            if not restrict:
                                if upward:
                                    if rb == ra and j < i:
                                        continue
                                elif prio_b == prio_a and j > i:
                                    continue
                            elif wa:
                                if (fl_b & 8) != 0:
                                    if fa != fb:
                                        if not fa:
                                            continue
                                    elif j < i:
                                        continue
                            elif (fl_b & 8) != 0:
                                continue
                            elif restrict:
                                if j < i and (fl_b & 1) != 0:
                                    continue
                            elif rb == ra and j < i:
                                continue
                            if restrict and not ((pa and (fl_b & 2) != 0) or ((fl_b & 1) != 0 and sa)):
                                continue
                            if grp_a >= 0.0 and rbw[14] == grp_a:
                                continue
                            if d2 > (rf2 if fa or fb else r2):
                                continue
                            ux = rbw[3] - vx
                            uy = rbw[4] - vy
                            uz = rbw[5] - vz
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
                            lim = d0 + eps_a + rbw[8]
                            if dmin > lim + accel_pad:
                                continue
                            # the pad for this pair's separation (module docstring); +inf c: crude pad
                            s_max = math.sqrt(d2) + math.sqrt(uu) * half + accel_pad + eps_a + rbw[8]
                            pad = 0.5 * (GRAVITY_GRADIENT * s_max + acc_a + rbw[15]) * half * half
                            if pad < accel_pad and dmin > lim + pad:
                                continue
                            if cnt >= cap:
                                overflow = True
                                continue
                            # rows are stored as (lower, higher); g and tau do not change sign
                            if i < j:
                                out_i[cnt] = i
                                out_j[cnt] = j
                            else:
                                out_i[cnt] = j
                                out_j[cnt] = i
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


def window_of(t0: float, step: np.ndarray, offset: np.ndarray, count: np.ndarray, kr: np.ndarray, kv: np.ndarray,
              t_a: float, t_b: float, ka: np.ndarray | None = None) -> tuple:
    """The part of a knot table that covers ``[t_a, t_b]``, copied into a compact table of its own:
    per-object first-knot times, offsets, counts, positions, velocities and (with ``ka``) accelerations
    (for :func:`sweep`).

    Why: the sweep refreshes each object's current interval from the table as samples advance, and in a
    table hours long every object's rows sit on a different memory page; an hour's compact copy keeps
    those reads within a few thousand pages (the TLB), and costs a gather, not SGP4 knots again."""
    j0 = np.clip(np.floor((t_a - t0) / step).astype(np.int64), 0, np.maximum(count - 2, 0))
    j1 = np.clip(np.ceil((t_b - t0) / step).astype(np.int64), j0 + 1, np.maximum(count - 1, 1))
    sub_count = j1 - j0 + 1
    sub_offset = np.zeros(len(step), dtype=np.int64)
    sub_offset[1:] = np.cumsum(sub_count)[:-1]
    total = int(sub_count.sum())
    rows = np.repeat(offset + j0 - sub_offset, sub_count) + np.arange(total, dtype=np.int64)
    return t0 + j0 * step, sub_offset, sub_count, kr[rows], kv[rows], (None if ka is None else ka[rows])


def universal_radial_accel(count: int) -> np.ndarray:
    """A bound on |rho''| that holds for any orbit above the Earth (km/s^2), for callers without elements.

    rho'' = (|v|^2 - rho'^2)/rho + (r/rho).a <= v^2/rho + mu/rho^2 <= 0.033 km/s^2 for |v| <= 12 km/s (faster
    knots are refused as implausible) and rho above the Earth's radius; 0.05 leaves room for the
    interpolant's own acceleration error.
    """
    return np.full(count, 0.05)


def sweep(t_samples: np.ndarray, h: float, t0: float | np.ndarray, step: np.ndarray, offset: np.ndarray,
          count: np.ndarray, kr: np.ndarray, kv: np.ndarray, eps: np.ndarray, active: np.ndarray,
          is_primary: np.ndarray, primaries_only: bool, d0: float, *, radial_accel: np.ndarray | None = None,
          is_secondary: np.ndarray | None = None, group: np.ndarray | None = None,
          d0_radial: float | None = None, accel_error: np.ndarray | None = None,
          use_numba: bool | None = None, ka: np.ndarray | None = None) -> Emitted:
    """Every (pair, step) satisfying conditions (1) and (2) of the module docstring.

    ``t_samples``: centres of the sample intervals (UTC s); ``h``: their length (s); ``t0``, ``step``,
    ``offset``, ``count``, ``kr``, ``kv``: a :class:`~orbitwatch.kernels.interpolation.KnotTable` (``t0``
    may also be per object: a table cut out of a longer one, see :func:`window_of`);
    ``eps``: per-object bound (km); ``radial_accel``: per-object bound on the interpolant's |rho''|
    (km/s^2, :func:`~orbitwatch.kernels.interpolation.radial_accel_bound`; default: a bound valid for
    any orbit); ``active``: objects to consider; with ``primaries_only``, only pairs with at least one
    ``is_primary`` object, or, when ``is_secondary`` is given, only pairs of a primary and a secondary
    (two primaries are paired only if one of them is also a secondary); ``group``: per-object integer,
    two objects of the same non-negative group are never paired (e.g. one owner's satellites when
    looking for foreign approaches); ``d0``: screening distance (km); ``d0_radial``: the largest radius
    difference an approach that matters can have (default ``d0``; smaller for a flat RTN volume, whose
    radial semi-axis is much less than its reach); ``accel_error``: per-object bound (km/s^2) on how far
    the interpolant's acceleration departs from point-mass gravity
    (:func:`~orbitwatch.kernels.interpolation.lateral_accel_error`), which lets condition (1) use each
    pair's own relative-acceleration pad (default: the crude bound for everyone); ``ka``: knot
    accelerations of a quintic table (None: cubic Hermite).
    """
    if use_numba is None:
        use_numba = HAVE_NUMBA
    n = len(step)
    if radial_accel is None:
        radial_accel = universal_radial_accel(n)
    if not use_numba:
        return sweep_numpy(t_samples, h, t0, step, offset, count, kr, kv, eps, active, is_primary,
                           primaries_only, d0, radial_accel, is_secondary, group, d0_radial, accel_error, ka)
    fn = _kernel()
    accel_pad = 0.5 * REL_ACCEL_BOUND * (h / 2) ** 2
    cap = max(1024, 4 * n)
    secondary = np.ones(n, dtype=np.bool_) if is_secondary is None else is_secondary
    primary = is_primary if primaries_only else np.ones(n, dtype=np.bool_)
    groups = np.full(n, -1, dtype=np.int64) if group is None else group
    t0s = np.full(n, float(t0)) if np.ndim(t0) == 0 else np.ascontiguousarray(t0, dtype=np.float64)
    args = (np.ascontiguousarray(t_samples, dtype=np.float64), float(h), t0s,
            np.ascontiguousarray(step, dtype=np.float64), np.ascontiguousarray(offset, dtype=np.int64),
            np.ascontiguousarray(count, dtype=np.int64), np.ascontiguousarray(kr, dtype=np.float64),
            np.ascontiguousarray(kv, dtype=np.float64),
            np.zeros((1, 3)) if ka is None else np.ascontiguousarray(ka, dtype=np.float64), ka is not None,
            np.ascontiguousarray(eps, dtype=np.float64),
            np.ascontiguousarray(radial_accel, dtype=np.float64),
            np.full(n, np.inf) if accel_error is None else np.ascontiguousarray(accel_error, dtype=np.float64),
            np.ascontiguousarray(active, dtype=np.bool_), np.ascontiguousarray(primary, dtype=np.bool_),
            np.ascontiguousarray(secondary, dtype=np.bool_), np.ascontiguousarray(groups, dtype=np.int64),
            bool(primaries_only), float(d0), float(d0 if d0_radial is None else min(d0_radial, d0)), accel_pad)
    while True:
        oi = np.empty(cap, dtype=np.int64)
        oj = np.empty(cap, dtype=np.int64)
        ok = np.empty(cap, dtype=np.int64)
        of = np.empty((cap, 4), dtype=np.float64)
        n_out, overflow = fn(*args, oi, oj, ok, of)
        if not overflow:
            return Emitted(oi[:n_out], oj[:n_out], ok[:n_out], of[:n_out, 0], of[:n_out, 1], of[:n_out, 2],
                           of[:n_out, 3])
        cap *= 4
