"""Probability of collision (Pc) for short encounters: Foster/CARA 2D, Chan, Alfano max-Pc, Monte Carlo.

Everything here is plain numpy/scipy, vectorised over a leading batch axis, and knows nothing of files,
databases or the web, so it can run on a dask worker.

Conventions (all functions)
---------------------------
* ``r1, v1, r2, v2``: positions [m] and velocities [m/s] of the primary and secondary at (or near) the
  time of closest approach (TCA), all in ONE inertial frame (EME2000/GCRF, or TEME: the 2D Pc is
  invariant under a common rotation). Shape ``(3,)`` for one conjunction or ``(N, 3)`` for N.
* ``cov1, cov2``: covariances in the same inertial frame, ``(3, 3)``, ``(6, 6)`` or larger (only the
  3x3 position block is used by the 2D methods; Monte Carlo also uses the velocity block of a 6x6),
  shape ``(..., k, k)`` with or without the batch axis. Units m², m²/s, m²/s².
* ``hbr``: combined hard-body radius [m] (scalar or ``(N,)``).
* Outputs have the batch shape: a 0-d array for one conjunction, ``(N,)`` for N.

The 2D (short-encounter) model
------------------------------
Relative motion is taken as rectilinear during the encounter and velocity uncertainty is ignored, so
the collision probability is the integral of the combined 2D Gaussian position density projected on the
encounter plane (normal to the relative velocity) over the hard-body circle (Foster & Estes 1992,
Chan 1997, Alfano 2005). :func:`pc_foster_2d` reproduces NASA CARA's ``PcCircle.m`` (the function behind
CARA's released "Pc2D" values) step by step:

1. optional linear TCA refinement (CARA ``FindNearbyCA.m``): a CDM's TCA is rounded to the millisecond,
   so both states are moved along their velocities to the time of minimum linear relative distance;
2. combined covariance ``A = C1 + C2`` projected on the encounter plane, axes ``x = v̂ × ĥ``-like as in
   CARA (``y`` along the relative velocity, ``z`` along ``r × v``);
3. eigen-decomposition of the 2x2 projected covariance; eigenvalues below ``(1e-4·HBR)²`` are clipped
   to that value ("eigenvalue clipping" remediation of non-positive-definite covariances, CARA
   ``PcCircle.m``), and a warning is raised;
4. the miss vector of length ``|r|`` expressed along the principal axes, both coordinates taken
   non-negative (the integral is symmetric);
5. one dimension integrated exactly with the error function, the other with 64-point
   Gauss–Chebyshev quadrature over the chord of the hard-body circle (Alfano 2005; CARA's default
   ``EstimationMode = 64``). Cases where that quadrature is not accurate (HBR large against the
   major-axis sigma, as CARA tests, or — our addition — minor-axis sigma below 5 % of the HBR) are
   integrated with a composite, geometrically graded Gauss–Legendre rule over the same ±5σ-clipped
   interval CARA's adaptive ``integral`` call uses (fixed order, vectorised).

Accuracy: against CARA's published Pc2D of 53 real CDMs the relative difference is below 1e-6 (see
``tests/kernels/test_pc_cara.py``), and CARA's own unit-test values (HBR from 1 cm to 30 km) are matched
to 1e-10.

Limits: the 2D model breaks down for slow encounters (GEO, formation flying, co-orbital debris) where
the encounter lasts a noticeable fraction of an orbit; :func:`pc_warnings` flags these with Coppola's
(2012) conjunction-duration bounds and CARA's 2D-Pc usage cut-offs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

__all__ = [
    "EncounterPlane",
    "MaxPcResult",
    "MonteCarloResult",
    "PcAssessment",
    "assess",
    "encounter_plane",
    "pc_chan",
    "pc_and_max",
    "pc_circle",
    "pc_foster_2d",
    "pc_max_alfano",
    "pc_max_unknown_covariance",
    "pc_monte_carlo",
    "pc_warnings",
]

#: Eigenvalue clipping factor of CARA ``PcCircle.m``: eigenvalues below (FCLIP·HBR)² are clipped.
FCLIP = 1e-4
#: Order of the Gauss–Chebyshev rule (CARA's default EstimationMode).
GC_ORDER = 64
#: Below this ratio of minor-axis sigma to HBR the Gauss–Chebyshev rule is not used (see pc_circle).
GC_MIN_SZ_OVER_HBR = 0.05
#: CARA 2D-Pc usage-violation cut-offs (``PcMultiStep.m`` defaults): conjunction duration as a fraction
#: of the shorter orbital period, and offset of the conjunction window from TCA as such a fraction.
EXTENDED_CUTOFF = 0.02
OFFSET_CUTOFF = 0.01
#: Probability mass left outside the conjunction time bounds (Coppola 2012b; CARA default).
COPPOLA_GAMMA = 1e-16
#: Below this relative speed [m/s] the straight-line encounter model is flagged whatever the geometry:
#: the encounter lasts long enough for the relative path to curve (see :func:`pc_warnings`).
SLOW_RELATIVE_SPEED = 100.0
#: Earth gravitational parameter [m³/s²] (EGM-96/WGS-84), used only for orbital periods in warnings.
MU_EARTH = 3.986004418e14

_SQRT2 = np.sqrt(2.0)
_SQRT8PI = np.sqrt(8.0 * np.pi)


def _gauss_chebyshev(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes x_k = cos(kπ/(n+1)), y_k = sqrt(1-x_k²) and weights c·y_k/sqrt(8π) (CARA ``GenGCQuad.m``).

    Chebyshev polynomials of the second kind: ∫₋₁¹ f(x) sqrt(1-x²) dx ≈ Σ c y_k² f(x_k), c = π/(n+1);
    the chord integral of the circle is written in that form.
    """
    c = np.pi / (n + 1)
    x = np.cos(c * np.arange(n, 0, -1))
    y = np.sqrt(1.0 - x * x)
    return x, y, c * y / _SQRT8PI


_GC_RULES = {GC_ORDER: _gauss_chebyshev(GC_ORDER), 16: _gauss_chebyshev(16)}
_GL12_X, _GL12_W = np.polynomial.legendre.leggauss(12)


# --------------------------------------------------------------------------------------------- inputs

def _batch(r1, v1, cov1, r2, v2, cov2, hbr):
    """Broadcast the inputs to ``(N, 3)``, ``(N, 3, 3)`` position covariances and ``(N,)`` HBR."""
    r1 = np.asarray(r1, dtype=float)
    scalar = r1.ndim == 1
    r1 = np.atleast_2d(r1)
    r2 = np.atleast_2d(np.asarray(r2, dtype=float))
    v1 = np.atleast_2d(np.asarray(v1, dtype=float))
    v2 = np.atleast_2d(np.asarray(v2, dtype=float))
    n = max(len(r1), len(r2))
    r1, r2, v1, v2 = (np.broadcast_to(a, (n, 3)) for a in (r1, r2, v1, v2))
    c1 = _cov_batch(cov1, n, "cov1")
    c2 = _cov_batch(cov2, n, "cov2")
    h = np.broadcast_to(np.asarray(hbr, dtype=float), (n,)).copy()
    if np.any(h < 0):
        raise ValueError("hbr: hard-body radius must be >= 0 m")
    return scalar, r1, v1, c1, r2, v2, c2, h


def _cov_batch(cov, n: int, name: str) -> np.ndarray:
    c = np.asarray(cov, dtype=float)
    if c.ndim < 2 or c.shape[-1] != c.shape[-2] or c.shape[-1] < 3:
        raise ValueError(f"{name}: expected a (k, k) or (N, k, k) covariance with k >= 3, got shape {c.shape}")
    return np.broadcast_to(c, (n, *c.shape[-2:]))


def _shape_out(scalar: bool, a: np.ndarray) -> np.ndarray:
    return a[0] if scalar else a


def _refine_tca(r1, v1, r2, v2):
    """Linear-motion time offset to closest approach and the moved positions (CARA ``FindNearbyCA``)."""
    dv = v2 - v1
    vv = np.einsum("ij,ij->i", dv, dv)
    with np.errstate(invalid="ignore", divide="ignore"):
        dt = -np.einsum("ij,ij->i", r2 - r1, dv) / vv
    dt_use = np.where(vv > 0, dt, 0.0)
    return np.where(vv > 0, dt, np.nan), r1 + dt_use[:, None] * v1, r2 + dt_use[:, None] * v2


def _eig2x2(a: np.ndarray, b: np.ndarray, d: np.ndarray):
    """Eigen-decomposition of symmetric [[a, b], [b, d]]: largest L1, smallest L2, unit eigenvector of L1.

    The half-angle form is used instead of the characteristic polynomial: it stays accurate when
    b → 0 or a ≈ d (CARA ``eig2x2.m`` falls back to ``eig`` in those cases for the same reason).
    """
    half_diff = 0.5 * (a - d)
    rad = np.hypot(half_diff, b)
    mean = 0.5 * (a + d)
    l1 = mean + rad
    l2 = mean - rad
    theta = 0.5 * np.arctan2(b, half_diff)
    return l1, l2, np.cos(theta), np.sin(theta)


@dataclass(frozen=True)
class EncounterPlane:
    """The conjunction projected on the encounter plane, in the principal axes of the 2D covariance.

    ``xm, zm`` [m] miss coordinates along the major/minor axes (non-negative), ``sx >= sz`` [m] the
    sigmas after remediation, ``miss`` [m] |r1 - r2| used, ``speed`` [m/s] relative speed, ``dtca`` [s]
    the linear TCA offset applied (NaN if none), ``l1, l2`` the raw eigenvalues [m²] before clipping,
    ``remediated`` whether clipping changed them, ``valid`` whether a Pc can be computed.
    """

    xm: np.ndarray
    zm: np.ndarray
    sx: np.ndarray
    sz: np.ndarray
    hbr: np.ndarray
    miss: np.ndarray
    speed: np.ndarray
    dtca: np.ndarray
    l1: np.ndarray
    l2: np.ndarray
    remediated: np.ndarray
    valid: np.ndarray
    r_rel: np.ndarray = field(repr=False)
    v_rel: np.ndarray = field(repr=False)
    axes: np.ndarray = field(repr=False)  # (N, 3, 3) rows x̂, ŷ, ẑ of the encounter frame
    plane_cov1: np.ndarray = field(repr=False)  # (N, 3): (xx, xz, zz) of the primary's projection [m²]
    plane_cov2: np.ndarray = field(repr=False)  # (N, 3): same for the secondary


def encounter_plane(r1, v1, cov1, r2, v2, cov2, hbr, *, adjust_tca: bool = True) -> EncounterPlane:
    """Project a batch of conjunctions on their encounter planes (steps 1–4 of :func:`pc_foster_2d`)."""
    _, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    return _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)


def _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca: bool) -> EncounterPlane:
    if adjust_tca:
        dtca, r1, r2 = _refine_tca(r1, v1, r2, v2)
    else:
        dtca = np.full(len(r1), np.nan)
    r = r1 - r2
    v = v1 - v2
    rmag = np.linalg.norm(r, axis=1)
    # CARA perturbs an exactly-zero miss (Alfano 2009 test cases) by a tiny amount normal to the motion,
    # so that the encounter frame is defined; the Pc is unaffected at the 1e-6·HBR level.
    reps = np.maximum(10.0 * np.spacing(rmag), 1e-6 * np.where(np.isfinite(h), h, 0.0))
    small = rmag < reps
    vmag = np.linalg.norm(v, axis=1)
    if np.any(small):
        rsum = r1[small] + r2[small]
        rdel = np.cross(rsum, v[small])
        with np.errstate(invalid="ignore", divide="ignore"):
            rdel = reps[small, None] * rdel / (np.linalg.norm(rsum, axis=1) * vmag[small])[:, None]
        r = r.copy()
        r[small] = r[small] + np.nan_to_num(rdel)
        rmag = np.linalg.norm(r, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = v / vmag[:, None]
        hvec = np.cross(r, v)
        z = hvec / np.linalg.norm(hvec, axis=1)[:, None]
    x = np.cross(y, z)
    p1 = _project(c1, x, z)
    p2 = _project(c2, x, z)
    xm, zm, sx, sz, l1, l2, remediated, ok = _principal(rmag, p1 + p2, h)
    return EncounterPlane(
        xm=xm, zm=zm, sx=sx, sz=sz, hbr=h, miss=rmag, speed=vmag, dtca=dtca, l1=l1, l2=l2,
        remediated=remediated, valid=ok & (vmag > 0), r_rel=r, v_rel=v, axes=np.stack([x, y, z], axis=1),
        plane_cov1=p1, plane_cov2=p2,
    )


def _project(c: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(xx, xz, zz) elements of the 3x3 position block of c projected on the (x̂, ẑ) plane."""
    c3 = c[:, :3, :3]
    return np.stack([np.einsum("ni,nij,nj->n", x, c3, x), np.einsum("ni,nij,nj->n", x, c3, z),
                     np.einsum("ni,nij,nj->n", z, c3, z)], axis=1)


def _principal(rm: np.ndarray, p: np.ndarray, h: np.ndarray):
    """Principal-axis miss coordinates and clipped sigmas of a 2x2 plane covariance p = (xx, xz, zz)
    with the miss (rm, 0) along x̂ (CARA ``PcCircle.m`` steps 3–4)."""
    l1, l2, e1x, e1z = _eig2x2(p[:, 0], p[:, 1], p[:, 2])
    finite_h = np.isfinite(h)
    lclip = (FCLIP * np.where(finite_h, h, 0.0)) ** 2
    rem1 = (l1 < lclip) & finite_h
    rem2 = (l2 < lclip) & finite_h
    l1c = np.where(rem1, lclip, l1)
    l2c = np.where(rem2, lclip, l2)
    ok = (l1 > 0) & (l2c > 0) & np.isfinite(l1) & np.isfinite(l2)
    with np.errstate(invalid="ignore"):
        sx = np.sqrt(l1c)
        sz = np.sqrt(l2c)
    return rm * np.abs(e1x), rm * np.abs(e1z), sx, sz, l1, l2, rem1 | rem2, ok


# ------------------------------------------------------------------------------------- Foster / CARA

def _erf_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """erf(a) - erf(b) without cancellation in the tails (CARA ``erf_vec_dif.m``): where both
    arguments exceed +3 (or are below -3) the difference is taken of erfc values instead."""
    out = special.erf(a)
    out -= special.erf(b)
    pos = np.flatnonzero((a > 3.0) & (b > 3.0))
    if pos.size:
        fa, fb = a.ravel()[pos], b.ravel()[pos]
        out.ravel()[pos] = special.erfc(fb) - special.erfc(fa)
    neg = np.flatnonzero((a < -3.0) & (b < -3.0))
    if neg.size:
        fa, fb = a.ravel()[neg], b.ravel()[neg]
        out.ravel()[neg] = special.erfc(-fa) - special.erfc(-fb)
    return out


def pc_circle(xm, zm, sx, sz, hbr, *, order: int = GC_ORDER) -> np.ndarray:
    """Pc of a circle of radius ``hbr`` centred at ``(xm, zm)`` under N(0, diag(sx², sz²)) — vectorised.

    The 2D kernel behind :func:`pc_foster_2d` for callers that already have encounter-plane
    quantities (all in metres, ``sx >= sz > 0``). Infinite HBR gives 1, zero HBR gives 0. ``order``
    is the Gauss–Chebyshev order (64 as CARA; 16 is used inside the max-Pc search).
    """
    xm, zm, sx, sz, hbr = np.broadcast_arrays(*(np.atleast_1d(np.asarray(q, dtype=float))
                                                for q in (np.abs(xm), np.abs(zm), sx, sz, hbr)))
    pc = np.full(xm.shape, np.nan)
    finite = np.isfinite(hbr) & (hbr > 0) & np.isfinite(xm) & np.isfinite(zm) & (sx > 0) & (sz > 0)
    xlo = xm - hbr
    xhi = xm + hbr
    nsx = 4.0 * sx
    # CARA's test for when 64-point Gauss–Chebyshev is accurate: the chord [xlo, xhi] spans less than
    # ~4 sigma of the major axis. We add one: the minor-axis sigma must not be small against the HBR
    # (sz >= 0.05 R), else the erf factor is a near-step along the chord that 64 nodes cannot resolve
    # (errors up to tens of per cent, found against brute-force integration); those cases go to the
    # graded rule. CARA's released values use Gauss–Chebyshev there; none of its 53 test CDMs is affected.
    gc = finite & (xlo > -nsx) & (xhi < np.maximum(xlo, 0.0) + nsx) & (sz >= GC_MIN_SZ_OVER_HBR * hbr)
    dx = _SQRT2 * sx
    dz = _SQRT2 * sz
    if np.any(gc):
        i = np.flatnonzero(gc)
        pc[i] = hbr[i] / sx[i] * _gc_sum(xm[i], zm[i], dx[i], dz[i], hbr[i], order)
    rest = finite & ~gc
    if np.any(rest):
        i = np.flatnonzero(rest)
        pc[i] = _pc_circle_graded(xm[i], zm[i], sx[i], sz[i], hbr[i])
    pc[np.isinf(hbr) & (sx > 0)] = 1.0
    pc[hbr == 0] = 0.0
    return np.clip(pc, 0.0, 1.0)


#: Events per block of :func:`_gc_sum`: its (block, order/2) temporaries stay in the core's cache (1 MB
#: each at order 64), and the closing matrix-vector product stays below OpenBLAS's threading size (which
#: would make its last bits depend on the thread split). 2048: 0.83 s for a week's 316k events on two
#: threads, 4096: 0.81 s, 8192: 0.78 s (at OpenBLAS's threading size), 16384: 1.1 s.
GC_BLOCK = 4096


def _gc_sum(xm, zm, dx, dz, hbr, order: int) -> np.ndarray:
    """Σ_k w_k·[erf factor]·[Gauss factors] of the Gauss–Chebyshev chord rule (``pc_circle`` without the
    leading ``hbr/sx``), for ``xm, zm >= 0``, ``dx = √2·sx``, ``dz = √2·sz``, finite positive ``hbr``.

    The nodes are symmetric (x_k = -x_{n+1-k}, same y_k and weight) and the erf factor depends on y_k
    only: it is evaluated on half the nodes and the two Gaussian factors are paired. The erf factor is
    erf(a) - erf(b), a = (zm + R y_k)/dz, b = (zm - R y_k)/dz, or erfc(b) - erfc(a) where both arguments
    exceed 3 (:func:`_erf_diff`; with ``zm, R >= 0``, a >= b and a >= 0, so that is where b > 3). b is
    smallest at the largest y_k and largest at the smallest, computed there with the same operations as
    at the nodes, so the events whose nodes are all in that tail, or none, are known beforehand and get
    only the function pair they use (a fifth of a week's events are all tail). Blocks of
    :data:`GC_BLOCK` events with preallocated temporaries, in the given order; the arithmetic is,
    operation by operation, that of the whole-array form (same values to the bit, and the same row
    positions in the closing matrix-vector product, whose last bits BLAS may make depend on them).
    """
    gx, gy, gw = _GC_RULES.get(order) or _GC_RULES.setdefault(order, _gauss_chebyshev(order))
    h2 = order // 2
    px, py, w = gx[h2:], gy[h2:], gw[h2:]
    n = len(xm)
    out = np.empty(n)
    all_tail = (zm - hbr * py.max()) / dz > 3.0  # the smallest lower argument of each event
    some_tail = (zm - hbr * py.min()) / dz > 3.0  # the largest
    buf = np.empty((4, min(n, GC_BLOCK), len(px)))
    for s in range(0, n, GC_BLOCK):
        e_ = min(n, s + GC_BLOCK)
        t1, t2, t3, t4 = buf[:, :e_ - s]
        hb = hbr[s:e_, None]
        zi = zm[s:e_, None]
        dzi = dz[s:e_, None]
        hx = np.multiply(hb, py, out=t1)
        a = np.add(zi, hx, out=t2)
        a /= dzi
        b = np.subtract(zi, hx, out=t3)
        b /= dzi
        tail_rows = all_tail[s:e_]
        n_tail = np.count_nonzero(tail_rows)
        e = t4
        if n_tail == 0:
            special.erf(a, out=e)
            e -= special.erf(b, out=t1)
        elif n_tail == len(tail_rows):
            special.erfc(b, out=e)
            e -= special.erfc(a, out=t1)
        else:  # (scipy's special functions must not be given ``where=``: wrong values, heap corruption)
            rows = np.flatnonzero(~tail_rows)
            e[rows] = special.erf(a[rows]) - special.erf(b[rows])
            rows = np.flatnonzero(tail_rows)
            e[rows] = special.erfc(b[rows]) - special.erfc(a[rows])
        mixed = np.flatnonzero(some_tail[s:e_] & ~tail_rows)
        if mixed.size:  # events with nodes on both sides of the switch: node by node
            am, bm = a[mixed], b[mixed]
            tail = bm > 3.0
            r, c = np.nonzero(tail)
            e[mixed[r], c] = special.erfc(bm[tail]) - special.erfc(am[tail])
        rx = np.multiply(hb, px, out=t1)
        xi = xm[s:e_, None]
        dxi = dx[s:e_, None]
        g = np.add(xi, rx, out=t2)
        g /= dxi
        np.square(g, out=g)
        np.negative(g, out=g)
        np.exp(g, out=g)
        g2 = np.subtract(xi, rx, out=t3)
        g2 /= dxi
        np.square(g2, out=g2)
        np.negative(g2, out=g2)
        np.exp(g2, out=g2)
        g += g2
        e *= g
        out[s:e_] = e @ w
    return out


def _pc_circle_graded(xm, zm, sx, sz, hbr) -> np.ndarray:
    """Chord integral for large-HBR cases with a fixed-order graded composite Gauss–Legendre rule.

    Same integral and same ±5σ clipping of the x-range as CARA's adaptive branch, written in the
    angle θ of x = xm + R cos θ (removes the square-root end behaviour of the chord) and split at the
    features of the integrand — the Gaussian peak x = 0 and the points where the chord half-length
    equals zm (where the erf factor switches on) — with panels graded geometrically towards each
    feature on top of 16 uniform panels, so that steep, narrow structure is integrated to ~1e-10
    relative with 12 nodes per panel.
    """
    n = len(xm)
    xlo = xm - hbr
    xhi = xm + hbr
    neg = xlo < 0
    nsx = 5.0 * sx
    xlo = np.where(neg & (xlo < -nsx), -nsx, xlo)
    xhi = np.where(neg & (xhi > nsx), nsx, xhi)
    with np.errstate(invalid="ignore"):
        th_a = np.arccos(np.clip((xhi - xm) / hbr, -1.0, 1.0))  # small θ ↔ large x
        th_b = np.arccos(np.clip((xlo - xm) / hbr, -1.0, 1.0))
        beta = np.arcsin(np.clip(zm / hbr, 0.0, 1.0))
        gamma = np.arccos(np.clip(-xm / hbr, -1.0, 1.0))
    feats = np.stack([th_a, th_b, beta, np.pi - beta, gamma], axis=1)
    width = th_b - th_a
    grades = np.array([1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7])
    uniform = th_a[:, None] + width[:, None] * np.linspace(0.0, 1.0, 17)[None, 1:-1]
    pts = [feats, uniform]
    for s in (-1.0, 1.0):
        pts.append(feats[:, :, None] + s * width[:, None, None] * grades[None, None, :])
    edges = np.concatenate([p.reshape(n, -1) for p in pts], axis=1)
    edges = np.clip(edges, th_a[:, None], th_b[:, None])
    edges.sort(axis=1)
    lo = edges[:, :-1]
    hi = edges[:, 1:]
    half = 0.5 * (hi - lo)
    mid = 0.5 * (hi + lo)
    th = mid[:, :, None] + half[:, :, None] * _GL12_X[None, None, :]
    st = np.sin(th)
    xs = xm[:, None, None] + hbr[:, None, None] * np.cos(th)
    rx = hbr[:, None, None] * st
    dx = (_SQRT2 * sx)[:, None, None]
    dz = (_SQRT2 * sz)[:, None, None]
    zz = zm[:, None, None]
    f = np.exp(-(xs / dx) ** 2) * _erf_diff((zz + rx) / dz, (zz - rx) / dz) * rx
    integral = np.einsum("npk,k,np->n", f, _GL12_W, half)
    return integral / sx / _SQRT8PI


def pc_foster_2d(r1, v1, cov1, r2, v2, cov2, hbr, *, adjust_tca: bool = True) -> np.ndarray:
    """2D Pc (Foster & Estes 1992, as implemented by NASA CARA ``PcCircle.m``) — vectorised.

    Inputs in metres and m/s in one inertial frame; covariances 3x3 or 6x6 (position block used),
    ``hbr`` the combined hard-body radius [m]. ``adjust_tca`` moves both states linearly to the exact
    closest approach first (CARA's recommended "Pc2D"; ``False`` gives CARA's "Pc2D_NoAdj").
    Returns NaN where no Pc can be computed (zero relative velocity, two non-positive eigenvalues);
    :func:`pc_warnings` says why.
    """
    scalar, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    ep = _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)
    return _shape_out(scalar, _pc_from_plane(ep))


def _pc_from_plane(ep: EncounterPlane) -> np.ndarray:
    pc = np.full(ep.xm.shape, np.nan)
    ok = ep.valid | (np.isinf(ep.hbr) & (ep.speed > 0))
    if np.any(ok):
        pc[ok] = pc_circle(ep.xm[ok], ep.zm[ok], ep.sx[ok], ep.sz[ok], ep.hbr[ok])
    pc[(ep.hbr == 0) & (ep.speed > 0)] = 0.0
    return pc


# ------------------------------------------------------------------------------------------------ Chan

def pc_chan(r1, v1, cov1, r2, v2, cov2, hbr, *, adjust_tca: bool = True) -> np.ndarray:
    """Chan's (1997, 2008) analytical series for the 2D Pc — vectorised.

    The ellipse is replaced by a circle of equal area (u = R²/(σx σz), v = xm²/σx² + zm²/σz²) and

        Pc = Σ_{m≥0} e^{-v/2} (v/2)^m / m! · [1 - e^{-u/2} Σ_{k≤m} (u/2)^k / k!],

    i.e. a Poisson(v/2)-weighted sum of regularized incomplete gamma functions P(m+1, u/2) (the CDF of
    a non-central χ² with 2 degrees of freedom). It is exact for a circular 2D covariance and within a
    few per cent of :func:`pc_foster_2d` for aspect ratios up to ~10 when HBR is small against the
    sigmas. The series is summed in log space over the window m ∈ v/2 ± (12·sqrt(v/2) + 30) that holds
    all non-negligible terms, so it neither under- nor overflows.
    """
    scalar, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    ep = _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)
    out = np.full(ep.xm.shape, np.nan)
    ok = ep.valid
    if np.any(ok):
        u = ep.hbr[ok] ** 2 / (ep.sx[ok] * ep.sz[ok])
        v = (ep.xm[ok] / ep.sx[ok]) ** 2 + (ep.zm[ok] / ep.sz[ok]) ** 2
        out[ok] = chan_series(u, v)
    out[np.isinf(ep.hbr) & (ep.speed > 0)] = 1.0
    out[(ep.hbr == 0) & (ep.speed > 0)] = 0.0
    return _shape_out(scalar, out)


def chan_series(u, v, *, max_cells: int = 2_000_000) -> np.ndarray:
    """Chan's series Σ_m Poisson(m; v/2)·P(m+1, u/2) for arrays ``u, v`` (see :func:`pc_chan`).

    Only the terms that matter are summed: with λ = v/2 and x = u/2 the summand peaks near
    m* = λ (x ≥ λ) or m* ≈ sqrt(λx) (x < λ) with a width of order sqrt(m*), so the window
    max(0, m* − W) … m* + W, W = 10·sqrt(m*+1) + 20, holds it to double precision (checked against
    direct high-precision summation in the tests). P(m+1, x) is built by the stable downward recursion
    P(m+1, x) = P(m+2, x) + e^{-x} x^{m+1}/(m+1)! from one incomplete-gamma value at the top of the
    window, and log-factorials come from a table, so each term costs two exponentials.
    """
    u = np.atleast_1d(np.asarray(u, dtype=float))
    v = np.atleast_1d(np.asarray(v, dtype=float))
    u, v = (np.ascontiguousarray(a, dtype=float) for a in np.broadcast_arrays(u, v))
    lam = 0.5 * v
    x = 0.5 * u
    with np.errstate(invalid="ignore"):
        mstar = np.nan_to_num(np.where(x >= lam, lam, np.sqrt(lam * x)))
    half = np.ceil(10.0 * np.sqrt(mstar + 1.0) + 20.0)
    m_lo = np.maximum(0.0, np.floor(mstar - half)).astype(np.int64)
    count = (np.floor(mstar + half).astype(np.int64) - m_lo + 1)
    out = np.zeros(u.shape)
    # Process in buckets of similar window length so that no chunk pads short windows to long ones.
    bucket = np.ceil(np.log2(np.maximum(count, 1))).astype(int)
    for b in np.unique(bucket):
        sel = np.flatnonzero(bucket == b)
        k = int(count[sel].max())
        size = max(1, max_cells // k)
        for s0 in range(0, len(sel), size):
            idx = sel[s0:s0 + size]
            out[idx] = _chan_window(lam[idx], x[idx], m_lo[idx], k)
    return np.clip(out, 0.0, 1.0)


def _chan_window(lam, x, m_lo, k: int) -> np.ndarray:
    m = m_lo[:, None] + np.arange(k)[None, :]  # (B, K) integer term indices
    logfact = special.gammaln(np.arange(int(m.max()) + 3, dtype=float) + 1.0)  # log j!, j = 0 .. m_max+2
    mf = m.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        loglam = np.log(lam)
        logx = np.log(x)
        log_pois = -lam[:, None] + np.where(m > 0, mf * loglam[:, None], 0.0) - logfact[m]
        # q_j = e^{-x} x^j / j! for j = m + 1
        log_q = -x[:, None] + (mf + 1.0) * logx[:, None] - logfact[m + 1]
    q = np.exp(log_q)
    top = special.gammainc((m_lo + k + 1).astype(float), x)  # P(m_hi + 2, x)
    tail = np.cumsum(q[:, ::-1], axis=1)[:, ::-1]
    return np.einsum("bk,bk->b", np.exp(log_pois), top[:, None] + tail)


# ------------------------------------------------------------------------------------------ max Pc

@dataclass(frozen=True)
class MaxPcResult:
    """Maximum Pc over covariance scaling (Alfano 2005) for a batch of conjunctions.

    ``pc_max`` the maximum over the scale factor, ``scale_max`` the sigma scale factor Sf at which it
    occurs (covariance multiplied by Sf²; 0 when the miss is inside the hard body), ``pc_nominal`` the
    Pc for Sf = 1, ``diluted`` True where Sf_max < 1 (shrinking the covariance would *raise* the Pc: the
    "dilution region" where a low Pc does not mean low risk), ``sigma_dilution`` [m] the major-axis
    sigma at the maximum (the SOCRATES "dilution threshold").
    """

    pc_max: np.ndarray
    scale_max: np.ndarray
    pc_nominal: np.ndarray
    diluted: np.ndarray
    sigma_dilution: np.ndarray


_SCALINGS = {"both": (True, True), "primary": (True, False), "secondary": (False, True)}


def _max_over_scale(rm, p1, p2, hbr, scaling: str) -> tuple[np.ndarray, np.ndarray]:
    """Maximise the 2D Pc over a sigma scale factor k applied to one or both plane covariances.

    A(k) = f1·P1 + f2·P2 with f = k² for the scaled covariance(s) and 1 otherwise; the miss (rm, 0) is
    fixed. Vectorised Newton iteration on ln Pc in u = ln k² with central differences (h = 0.02),
    steps capped at ±1, u kept in [-40, 40]; ln Pc(u) is concave about its single maximum, so this
    converges in a few steps (at most 40 are taken). The search uses 16-point Gauss–Chebyshev, the
    final value 64-point. Events with R < 0.05·σz at the small-HBR optimum keep that optimum. Either
    way the maximum is found to better than 1e-6 relative (checked against full iteration). The start
    is the small-HBR optimum k² = m²/2 for combined scaling (m = Mahalanobis miss; Alfriend et al.
    1999) and k = 1 otherwise. For combined
    scaling with the miss inside the hard body, the maximum is the limit k → 0: Pc = 1 (0.5 on its
    surface).
    """
    s1, s2 = _SCALINGS[scaling]
    n = len(rm)
    pcmax = np.zeros(n)
    kmax = np.full(n, np.nan)
    todo_mask = np.ones(n, bool)
    if s1 and s2:
        inside = rm < hbr
        pcmax[inside] = 1.0
        kmax[inside] = 0.0
        on = rm == hbr
        pcmax[on] = 0.5
        kmax[on] = 0.0
        todo_mask &= ~inside & ~on
    todo = np.flatnonzero(todo_mask)
    if todo.size == 0:
        return pcmax, kmax

    def pc_at(idx, uu, order=16):
        f = np.exp(uu)[:, None]
        a = (f * p1[idx] if s1 else p1[idx]) + (f * p2[idx] if s2 else p2[idx])
        xm, zm, sx, sz, _, _, _, ok = _principal(rm[idx], a, hbr[idx])
        out = np.zeros(len(idx))
        if np.any(ok):
            out[ok] = pc_circle(xm[ok], zm[ok], sx[ok], sz[ok], hbr[idx][ok], order=order)
        return out

    if s1 and s2:
        xm, zm, sx, sz, *_ = _principal(rm[todo], p1[todo] + p2[todo], hbr[todo])
        with np.errstate(divide="ignore", invalid="ignore"):
            m2 = (xm / sx) ** 2 + (zm / sz) ** 2
        u = np.log(np.clip(np.nan_to_num(m2 / 2.0, nan=1.0), 1e-12, 1e12))
        # Where the HBR is tiny against the minor-axis sigma at that optimum (R < 0.05 k·σz) the
        # small-HBR optimum is exact to O((R/σ)²) in u, i.e. the Pc to < 1e-6: no iteration needed.
        exact_enough = hbr[todo] < 0.05 * sz * np.exp(0.5 * u)
        active = np.flatnonzero(~exact_enough)
    else:
        u = np.zeros(todo.size)
        active = np.arange(todo.size)
    h = 0.02
    for _ in range(40):
        idx = todo[active]
        ua = u[active]
        with np.errstate(divide="ignore"):
            g0 = np.log(pc_at(idx, ua))
            gp = np.log(pc_at(idx, ua + h))
            gm = np.log(pc_at(idx, ua - h))
        with np.errstate(invalid="ignore"):
            d1 = (gp - gm) / (2 * h)
            d2 = (gp - 2 * g0 + gm) / (h * h)
            step = np.where(d2 < 0, -d1 / np.where(d2 < 0, d2, -1.0), np.sign(d1))
        # ln Pc = -inf everywhere around (underflow): the optimum is at smaller sigmas
        step = np.clip(np.nan_to_num(step, nan=-1.0), -1.0, 1.0)
        unew = np.clip(ua + step, -40.0, 40.0)
        moved = np.abs(unew - ua)
        u[active] = unew
        active = active[moved > 1e-3]  # |Δu| < 1e-3: Pc within ~5e-7 of its maximum
        if active.size == 0:
            break
    pcmax[todo] = pc_at(todo, u, order=GC_ORDER)
    kmax[todo] = np.exp(0.5 * u)
    return pcmax, kmax


def pc_max_alfano(r1, v1, cov1, r2, v2, cov2, hbr, *, scaling: str = "both",
                  adjust_tca: bool = True) -> MaxPcResult:
    """Maximum 2D Pc over covariance scaling (Alfano 2005; NASA CARA ``DilutionMaxPc``/``PcDilution``).

    ``scaling="both"`` (default, Alfano 2005) multiplies the combined covariance by Sf², keeping its
    shape and orientation; ``"primary"`` / ``"secondary"`` scale only one object's covariance (the
    other is trusted); ``"separate"`` takes the larger of those two (CARA's former default). The Pc as a
    function of Sf rises to a single maximum and falls. If the nominal covariance (Sf = 1) lies beyond
    the maximum (Sf_max < 1) the event is in the dilution region: a low Pc there does not mean low risk,
    and ``pc_max`` is the figure to act on.
    """
    if scaling not in (*_SCALINGS, "separate"):
        raise ValueError(f"scaling: expected both, primary, secondary or separate, got {scaling!r}")
    scalar, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    ep = _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)
    res = _max_from_plane(ep, _pc_from_plane(ep), scaling)
    if scalar:
        return MaxPcResult(*(getattr(res, f)[0] for f in MaxPcResult.__dataclass_fields__))
    return res


def pc_and_max(r1, v1, cov1, r2, v2, cov2, hbr, *, scaling: str = "both",
               adjust_tca: bool = True) -> tuple[np.ndarray, MaxPcResult]:
    """:func:`pc_foster_2d` and :func:`pc_max_alfano` of the same batch in one call: the encounter
    plane and the nominal Pc are computed once instead of twice (same values as the two calls)."""
    if scaling not in (*_SCALINGS, "separate"):
        raise ValueError(f"scaling: expected both, primary, secondary or separate, got {scaling!r}")
    scalar, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    ep = _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)
    nominal = _pc_from_plane(ep)
    res = _max_from_plane(ep, nominal, scaling)
    if scalar:
        return nominal[0], MaxPcResult(*(getattr(res, f)[0] for f in MaxPcResult.__dataclass_fields__))
    return nominal, res


def _max_from_plane(ep: EncounterPlane, nominal: np.ndarray, scaling: str) -> MaxPcResult:
    n = len(ep.miss)
    modes = ("primary", "secondary") if scaling == "separate" else (scaling,)
    best_pc = np.full(n, -1.0)
    best_k = np.full(n, np.nan)
    for mode in modes:
        pcm, km = _max_over_scale(ep.miss, ep.plane_cov1, ep.plane_cov2, ep.hbr, mode)
        better = pcm > best_pc
        best_pc = np.where(better, pcm, best_pc)
        best_k = np.where(better, km, best_k)
    bad = ~ep.valid
    nom = np.nan_to_num(nominal)
    pcmax = np.where(bad, np.nan, np.maximum(best_pc, nom))
    kmax = np.where(bad, np.nan, np.where(best_pc >= nom, best_k, 1.0))
    return MaxPcResult(pc_max=pcmax, scale_max=kmax, pc_nominal=nominal, diluted=kmax < 1.0,
                       sigma_dilution=kmax * ep.sx)


def pc_max_unknown_covariance(r1, v1, r2, v2, hbr, *, sigma_rtn=(100.0, 300.0, 100.0),
                              adjust_tca: bool = True) -> MaxPcResult:
    """SOCRATES-style maximum Pc when no covariance is known (Alfano 2005, as CelesTrak SOCRATES uses it).

    The *shape* of the projected covariance ellipse comes from assumed radial/in-track/cross-track
    sigmas (SOCRATES: 100 m, 300 m, 100 m for each object, in its own RTN frame); the ellipse is then
    oriented with its major axis along the miss vector (the worst case) and sized to give the maximum
    Pc. ``sigma_dilution`` is the major-axis sigma [m] at the maximum — the "dilution threshold": with a
    real covariance smaller than this, a low Pc does mean low risk; larger, the Pc is diluted. For
    HBR ≪ miss this tends to Pc_max = R²·(σmaj/σmin)/(e·d²) and σ_dilution = d/√2.
    """
    r1a = np.asarray(r1, dtype=float)
    scalar = r1a.ndim == 1
    cov_rtn = np.diag(np.asarray(sigma_rtn, dtype=float) ** 2)
    n = max(len(np.atleast_2d(r1a)), len(np.atleast_2d(np.asarray(r2, dtype=float))))
    r1b, v1b, r2b, v2b = (np.broadcast_to(np.atleast_2d(np.asarray(a, dtype=float)), (n, 3))
                          for a in (r1, v1, r2, v2))
    c1 = _rtn_to_inertial_3(cov_rtn, r1b, v1b)
    c2 = _rtn_to_inertial_3(cov_rtn, r2b, v2b)
    h = np.broadcast_to(np.asarray(hbr, dtype=float), (n,)).copy()
    ep = _encounter(r1b, v1b, c1, r2b, v2b, c2, h, adjust_tca)
    # Worst orientation: the major axis along the miss vector.
    shape = np.stack([ep.l1, np.zeros(n), ep.l2], axis=1)
    pcmax, kmax = _max_over_scale(ep.miss, shape, np.zeros((n, 3)), ep.hbr, "both")
    bad = ~ep.valid
    res = MaxPcResult(pc_max=np.where(bad, np.nan, pcmax), scale_max=kmax, pc_nominal=np.full(n, np.nan),
                      diluted=np.ones(n, bool), sigma_dilution=np.where(bad, np.nan, kmax * np.sqrt(ep.l1)))
    if scalar:
        return MaxPcResult(*(getattr(res, f)[0] for f in MaxPcResult.__dataclass_fields__))
    return res


def _rtn_to_inertial_3(cov_rtn: np.ndarray, r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """3x3 RTN position covariance → inertial, for (N, 3) states (rows of the rotation: R̂, T̂, N̂)."""
    rhat = r / np.linalg.norm(r, axis=1)[:, None]
    hvec = np.cross(r, v)
    nhat = hvec / np.linalg.norm(hvec, axis=1)[:, None]
    that = np.cross(nhat, rhat)
    m = np.stack([rhat, that, nhat], axis=2)  # columns R̂ T̂ N̂: x_inertial = m @ x_rtn
    return np.einsum("nij,jk,nlk->nil", m, cov_rtn, m)


# ---------------------------------------------------------------------------------------- Monte Carlo

@dataclass(frozen=True)
class MonteCarloResult:
    """Monte Carlo Pc: ``pc = hits/n`` and its 95 % Clopper–Pearson interval ``[lo, hi]``."""

    pc: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    hits: np.ndarray
    n: int


def clopper_pearson(hits, n: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (conservative) binomial confidence interval for ``hits`` successes in ``n`` trials."""
    from scipy.stats import beta

    k = np.asarray(hits, dtype=float)
    a = 1.0 - level
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, beta.ppf(a / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, beta.ppf(1 - a / 2, k + 1, n - k), 1.0)
    return lo, hi


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    """A matrix square root L (C ≈ L Lᵀ) that tolerates non-positive-definite input by clipping
    negative eigenvalues to zero (the sampled distribution is then the nearest PSD one)."""
    w, q = np.linalg.eigh(0.5 * (c + np.swapaxes(c, -1, -2)))
    return q * np.sqrt(np.clip(w, 0.0, None))[..., None, :]


def pc_monte_carlo(r1, v1, cov1, r2, v2, cov2, hbr, n: int, rng: np.random.Generator | int | None = None,
                   *, chunk: int = 1_000_000) -> MonteCarloResult:
    """Monte Carlo Pc with straight-line relative motion near TCA — vectorised over samples.

    For each trial both objects' states are drawn from N(state, cov) — position and velocity when the
    covariance is 6x6 (or larger: the 6x6 block), position only when 3x3 — and the trial is a hit when
    the closest approach of the *straight-line* relative motion, |r - (r·v̂)v̂|, is below the HBR. This
    is the same short-encounter physics as the 2D methods (no orbital curvature; for slow or long
    encounters use a propagating Monte Carlo), but without the projection approximations, so it is an
    independent check of them. Returns the hit fraction and a 95 % Clopper–Pearson interval.
    """
    scalar, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    if n <= 0:
        raise ValueError("n: number of Monte Carlo trials must be positive")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    nb = len(r1)
    hits = np.zeros(nb, dtype=np.int64)
    use_vel = c1.shape[-1] >= 6 and c2.shape[-1] >= 6
    k = 6 if use_vel else 3
    for i in range(nb):
        l1 = _sqrt_psd(c1[i, :k, :k])
        l2 = _sqrt_psd(c2[i, :k, :k])
        x1 = np.concatenate([r1[i], v1[i]])[:k]
        x2 = np.concatenate([r2[i], v2[i]])[:k]
        done = 0
        while done < n:
            m = min(chunk, n - done)
            s1 = x1 + gen.standard_normal((m, k)) @ l1.T
            s2 = x2 + gen.standard_normal((m, k)) @ l2.T
            dr = s1[:, :3] - s2[:, :3]
            dv = (s1[:, 3:6] - s2[:, 3:6]) if use_vel else np.broadcast_to(v1[i] - v2[i], (m, 3))
            vv = np.einsum("ij,ij->i", dv, dv)
            t = np.einsum("ij,ij->i", dr, dv) / vv
            perp = dr - t[:, None] * dv
            d2 = np.einsum("ij,ij->i", perp, perp)
            hits[i] += int(np.count_nonzero(d2 < h[i] ** 2))
            done += m
    lo, hi = clopper_pearson(hits, n)
    res = MonteCarloResult(pc=hits / n, lo=lo, hi=hi, hits=hits, n=n)
    if scalar:
        return MonteCarloResult(pc=res.pc[0], lo=res.lo[0], hi=res.hi[0], hits=res.hits[0], n=n)
    return res


# ------------------------------------------------------------------------------------------- warnings

def _period(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Two-body orbital period [s] from an inertial state (inf for unbound states)."""
    rn = np.linalg.norm(r, axis=1)
    energy = 0.5 * np.einsum("ij,ij->i", v, v) - MU_EARTH / rn
    with np.errstate(invalid="ignore", divide="ignore"):
        a = -MU_EARTH / (2.0 * energy)
        return np.where(energy < 0, 2.0 * np.pi * np.sqrt(np.abs(a) ** 3 / MU_EARTH), np.inf)


def _rectilinear_bounds(r_rel, v_rel, comb, hbr, gamma: float = COPPOLA_GAMMA):
    """Conjunction time bounds (ta, tb) [s] about TCA for rectilinear relative motion (CARA
    ``UsageViolationPc2D.m``, rectilinear indicators; after Coppola 2012b), vectorised.

    With A the combined 3x3 position covariance (eigenvalues clipped to (1e-4·HBR)²), the Mahalanobis
    distance along r + v t is minimal at T = -rᵀA⁻¹v / vᵀA⁻¹v with a time-sigma σ_T = (vᵀA⁻¹v)^-1/2;
    the bounds are T ∓ sqrt(2)·erfcinv(γ)·σ_T.
    """
    w, q = np.linalg.eigh(0.5 * (comb + np.swapaxes(comb, 1, 2)))
    lclip = (FCLIP * np.where(np.isfinite(hbr), hbr, 0.0)) ** 2
    w = np.maximum(w, lclip[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        ainv = np.einsum("nij,nj,nkj->nik", q, 1.0 / w, q)
        rav = np.einsum("ni,nij,nj->n", r_rel, ainv, v_rel)
        vav = np.einsum("ni,nij,nj->n", v_rel, ainv, v_rel)
        t = np.where(rav == 0, 0.0, -rav / vav)
        dtau = np.sqrt(2.0) * special.erfcinv(gamma) / np.sqrt(vav)
    return t - dtau, t + dtau


def pc_warnings(r1, v1, cov1, r2, v2, cov2, hbr, *, adjust_tca: bool = True) -> list[list[str]]:
    """Warnings (as data) per conjunction about the validity of the 2D Pc.

    * non-positive-definite covariances — each object's position covariance (negative eigenvalue) and
      the combined encounter-plane covariance (an eigenvalue below (1e-4·HBR)², clipped to it: CARA's
      remediation);
    * zero relative velocity (no 2D Pc), and relative speed below 100 m/s: the straight-line,
      short-encounter model then becomes doubtful (close formations, co-orbital objects, GEO) because
      the encounter lasts long enough for the relative path to curve — in CARA's 53-CDM test set all
      four events slower than 100 m/s (0.3, 9.0, 10.7 and 53.6 m/s) carry CARA 2D-Pc usage
      violations, while our rectilinear duration test alone flags only the slowest;
    * encounters too long or too offset for the straight-line 2D model: the rectilinear conjunction
      time bounds of CARA's ``UsageViolationPc2D.m`` (Coppola 2012b, γ = 1e-16) give a duration; CARA
      flags the 2D Pc when it exceeds 2 % of the shorter orbital period ("extended") or when a bound
      lies more than 1 % of the period from TCA ("offset") — orbital curvature then matters (use Monte
      Carlo with propagation or a 3D Nc method). CARA's curvilinear "inaccurate" indicator is not
      computed here.
    """
    _, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    ep = _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)
    return _warnings(ep, r1, v1, c1, r2, v2, c2, h)


def _warnings(ep: EncounterPlane, r1, v1, c1, r2, v2, c2, h) -> list[list[str]]:
    n = len(r1)
    out: list[list[str]] = [[] for _ in range(n)]
    for label, c in (("primary", c1), ("secondary", c2)):
        w = np.linalg.eigvalsh(0.5 * (c[:, :3, :3] + np.swapaxes(c[:, :3, :3], 1, 2)))
        wmin, wmax = w[:, 0], w[:, -1]
        for i in np.flatnonzero(wmin < -1e-12 * np.maximum(wmax, 1e-300)):
            out[i].append(f"non-positive-definite {label} position covariance (smallest eigenvalue "
                          f"{wmin[i]:.3g} m²); the 2D Pc only uses its projection, which is remediated")
    for i in np.flatnonzero(ep.remediated):
        out[i].append(
            "non-positive-definite or near-singular combined covariance on the encounter plane: "
            f"eigenvalues ({ep.l1[i]:.3g}, {ep.l2[i]:.3g}) m² clipped to at least (1e-4·HBR)² = "
            f"{(FCLIP * ep.hbr[i]) ** 2:.3g} m² (CARA eigenvalue clipping)")
    for i in np.flatnonzero(np.isfinite(ep.l1) & (ep.l1 <= 0)):
        out[i].append("combined encounter-plane covariance has two non-positive eigenvalues: no Pc")
    for i in np.flatnonzero(ep.speed == 0):
        out[i].append("zero relative velocity: the encounter-plane (2D) Pc is undefined")
    slow = (ep.speed > 0) & (ep.speed < SLOW_RELATIVE_SPEED)
    for i in np.flatnonzero(slow):
        out[i].append(f"small relative velocity {ep.speed[i]:.3g} m/s (< {SLOW_RELATIVE_SPEED:g} m/s): "
                      "the straight-line short-encounter assumption of the 2D Pc is doubtful")
    comb = c1[:, :3, :3] + c2[:, :3, :3]
    tau0, tau1 = _rectilinear_bounds(-ep.r_rel, -ep.v_rel, comb, h)
    dtca = np.nan_to_num(ep.dtca)
    r1a = r1 + dtca[:, None] * v1
    r2a = r2 + dtca[:, None] * v2
    period = np.minimum(_period(r1a, v1), _period(r2a, v2))
    with np.errstate(invalid="ignore", divide="ignore"):
        extended = np.minimum(1.0, (tau1 - tau0) / period)
        offset = np.minimum(1.0, np.maximum(np.abs(tau0), np.abs(tau1)) / period)
    for i in np.flatnonzero(extended > EXTENDED_CUTOFF):
        out[i].append(f"extended encounter: conjunction duration {tau1[i] - tau0[i]:.4g} s is "
                      f"{100 * extended[i]:.3g} % of the orbital period (> {100 * EXTENDED_CUTOFF:g} %, "
                      "CARA/Coppola bounds): the 2D straight-line Pc may be inaccurate")
    for i in np.flatnonzero((offset > OFFSET_CUTOFF) & ~(extended > EXTENDED_CUTOFF)):
        out[i].append(f"offset encounter: the conjunction window reaches {100 * offset[i]:.3g} % of the "
                      f"orbital period from TCA (> {100 * OFFSET_CUTOFF:g} %): the 2D Pc may be inaccurate")
    return out


# ---------------------------------------------------------------------------------------- everything

@dataclass(frozen=True)
class PcAssessment:
    """All Pc figures for a batch (arrays of shape (N,)) and the warnings per conjunction."""

    pc_foster_2d: np.ndarray
    pc_chan: np.ndarray
    pc_max: np.ndarray
    pc_max_scale: np.ndarray
    diluted: np.ndarray
    miss_m: np.ndarray
    relative_speed_ms: np.ndarray
    warnings: list[list[str]]


def assess(r1, v1, cov1, r2, v2, cov2, hbr, *, adjust_tca: bool = True) -> PcAssessment:
    """Foster 2D, Chan and Alfano max Pc plus warnings for a batch, projecting each conjunction once."""
    _, r1, v1, c1, r2, v2, c2, h = _batch(r1, v1, cov1, r2, v2, cov2, hbr)
    ep = _encounter(r1, v1, c1, r2, v2, c2, h, adjust_tca)
    foster = _pc_from_plane(ep)
    chan = np.full(len(r1), np.nan)
    ok = ep.valid
    if np.any(ok):
        chan[ok] = chan_series(ep.hbr[ok] ** 2 / (ep.sx[ok] * ep.sz[ok]),
                               (ep.xm[ok] / ep.sx[ok]) ** 2 + (ep.zm[ok] / ep.sz[ok]) ** 2)
    chan[(ep.hbr == 0) & (ep.speed > 0)] = 0.0
    pcmax, kmax = _max_over_scale(ep.miss, ep.plane_cov1, ep.plane_cov2, ep.hbr, "both")
    nom = np.nan_to_num(foster)
    kmax = np.where(ok, np.where(pcmax >= nom, kmax, 1.0), np.nan)
    pcmax = np.where(ok, np.maximum(pcmax, nom), np.nan)
    warn = _warnings(ep, r1, v1, c1, r2, v2, c2, h)
    return PcAssessment(pc_foster_2d=foster, pc_chan=chan, pc_max=pcmax, pc_max_scale=kmax,
                        diluted=kmax < 1.0, miss_m=ep.miss, relative_speed_ms=ep.speed, warnings=warn)
