"""Benchmark of the Pc kernels on a synthetic whole-catalogue batch of conjunctions.

    python benchmarks/pc.py [--events 100000] [--seed 1] [--json]

Builds N random LEO-like conjunctions (miss 0–5 km, relative speed 0.05–15 km/s, default TLE
covariances of random age, HBR 2–25 m), then times, each over the whole batch:
Foster/CARA 2D Pc, Chan's series, Alfano max Pc (combined scaling), the warnings, and a
10,000-sample Monte Carlo on 20 events. Prints one JSON object with seconds per stage and events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from orbitwatch.conjunctions.covariance import default_covariance_batch, rtn_to_inertial
from orbitwatch.kernels.pc import (
    assess,
    pc_chan,
    pc_foster_2d,
    pc_max_alfano,
    pc_max_unknown_covariance,
    pc_monte_carlo,
    pc_warnings,
)


def synthetic_events(n: int, seed: int):
    """N random conjunctions at TCA in an inertial frame (m, m/s, 6x6 inertial covariances, HBR m)."""
    rng = np.random.default_rng(seed)
    mu = 3.986004418e14
    radius = 6378137.0 + rng.uniform(300e3, 1500e3, n)
    u = rng.normal(size=(n, 3))
    r1 = u / np.linalg.norm(u, axis=1)[:, None] * radius[:, None]
    w = rng.normal(size=(n, 3))
    w -= np.einsum("ij,ij->i", w, r1)[:, None] * r1 / radius[:, None] ** 2
    v1 = w / np.linalg.norm(w, axis=1)[:, None] * np.sqrt(mu / radius)[:, None]
    vrel = rng.uniform(50.0, 15000.0, n)
    d = rng.normal(size=(n, 3))
    d -= np.einsum("ij,ij->i", d, r1)[:, None] * r1 / radius[:, None] ** 2 * 0.9
    dv = d / np.linalg.norm(d, axis=1)[:, None] * vrel[:, None]
    v2 = v1 + dv
    m = rng.normal(size=(n, 3))
    m -= np.einsum("ij,ij->i", m, dv)[:, None] * dv / vrel[:, None] ** 2
    miss = rng.uniform(0.0, 5000.0, n)
    r2 = r1 + m / np.linalg.norm(m, axis=1)[:, None] * miss[:, None]
    types = rng.choice(np.array(["PAYLOAD", "DEBRIS", "ROCKET BODY", "UNKNOWN"], dtype=object), n)
    c1r, _ = default_covariance_batch(np.full(n, "LEO", dtype=object), np.full(n, "PAYLOAD", dtype=object),
                                      rng.uniform(0.0, 7.0, n))
    c2r, _ = default_covariance_batch(np.full(n, "LEO", dtype=object), types, rng.uniform(0.0, 7.0, n))
    c1 = rtn_to_inertial(c1r, r1, v1)
    c2 = rtn_to_inertial(c2r, r2, v2)
    hbr = rng.uniform(2.0, 25.0, n)
    return r1, v1, c1, r2, v2, c2, hbr


CPU: dict[str, float] = {}


def timed(fn, *args, **kw):
    """Wall seconds (returned) and process CPU seconds (recorded in CPU, less sensitive to other load)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    CPU[getattr(fn, "__name__", "?")] = round(time.process_time() - c0, 3)
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print JSON only (default prints JSON too)")
    a = ap.parse_args(argv)
    ev, t_gen = timed(synthetic_events, a.events, a.seed)
    n = a.events
    foster, t_foster = timed(pc_foster_2d, *ev)
    _, t_chan = timed(pc_chan, *ev)
    _, t_max = timed(pc_max_alfano, *ev)
    _, t_socrates = timed(pc_max_unknown_covariance, ev[0], ev[1], ev[3], ev[4], ev[6])
    _, t_warn = timed(pc_warnings, *ev)
    _, t_all = timed(assess, *ev)
    sub = tuple(x[:20] for x in ev)
    pc_monte_carlo(*(x[:1] for x in ev), 10, 7)  # warm-up: imports scipy.stats
    _, t_mc = timed(pc_monte_carlo, *sub, 10_000, 7)
    out = {
        "benchmark": "pc",
        "events": n,
        "seconds": {
            "generate_events": round(t_gen, 3),
            "pc_foster_2d": round(t_foster, 3),
            "pc_chan": round(t_chan, 3),
            "pc_max_alfano": round(t_max, 3),
            "pc_max_unknown_covariance": round(t_socrates, 3),
            "pc_warnings": round(t_warn, 3),
            "assess_all": round(t_all, 3),
            "pc_monte_carlo_20x10000": round(t_mc, 3),
        },
        "cpu_seconds": CPU,
        "events_per_second": {"pc_foster_2d": round(n / t_foster), "assess_all": round(n / t_all)},
        "pc_foster_2d_nonzero": int(np.count_nonzero(foster > 0)),
        "pc_foster_2d_max": float(np.nanmax(foster)),
        "pc_foster_2d_nan": int(np.count_nonzero(np.isnan(foster))),
        "host": {"python": platform.python_version(), "cpus": os.cpu_count(), "numpy": np.__version__},
        "note": "single process; timings on a shared 2-core machine are affected by other load",
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
