"""PNG figures for the effects and resilience commands (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from orbitwatch.effects.breakup import BreakupCloud
    from orbitwatch.effects.jamming import JammingMap
    from orbitwatch.effects.nuclear import NuclearEffects

SIM_BANNER = "SIMULATED"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path, banner: str | None) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if banner:
        fig.text(0.5, 0.995, banner, ha="center", va="top", fontsize=9, color="darkred", weight="bold")
    fig.savefig(p, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return p


def gabbard(cloud: BreakupCloud, path: str | Path, *, min_size_m: float = 0.1,
            catalogued: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
            banner: str | None = SIM_BANNER) -> Path:
    """Gabbard diagram: apogee and perigee altitude against period for fragments >= ``min_size_m``.

    ``catalogued`` = (period_min, perigee_km, apogee_km) of a real cloud to overlay (grey)."""
    plt = _plt()
    sel = cloud.in_orbit & (cloud.lc_m >= min_size_m)
    fig, ax = plt.subplots(figsize=(7, 5))
    if catalogued is not None:
        per, pe, ap = catalogued
        ax.scatter(per, ap, s=3, c="0.6", label="catalogued apogee")
        ax.scatter(per, pe, s=3, c="0.8", label="catalogued perigee")
    ax.scatter(cloud.period_min[sel], cloud.apogee_km[sel], s=3, c="tab:red", label="apogee")
    ax.scatter(cloud.period_min[sel], cloud.perigee_km[sel], s=3, c="tab:blue", label="perigee")
    ax.set_xlabel("period (min)")
    ax.set_ylabel("altitude (km)")
    beyond = ""
    if sel.sum() > 20:  # keep the 'X' readable: a few escape-like fragments would squash it
        p_hi = float(np.percentile(cloud.period_min[sel], 98))
        a_hi = float(np.percentile(cloud.apogee_km[sel], 98))
        n_out = int(np.count_nonzero((cloud.period_min[sel] > p_hi) | (cloud.apogee_km[sel] > a_hi)))
        lo = float(np.min(cloud.period_min[sel]))
        ax.set_xlim(lo - 0.5, p_hi + 0.05 * (p_hi - lo) + 0.5)
        ax.set_ylim(min(0.0, float(np.min(cloud.perigee_km[sel]))), a_hi * 1.05)
        beyond = f" ({n_out} beyond the axes)" if n_out else ""
    ax.set_title(f"Gabbard diagram: {cloud.parent_name or cloud.parent_norad} {cloud.kind}, "
                 f"{int(sel.sum())} fragments >= {min_size_m * 100:g} cm{beyond}")
    ax.grid(alpha=0.3)
    ax.legend(markerscale=4, fontsize=8)
    return _save(fig, path, banner)


def orbit_altitude_samples(perigee_km: np.ndarray, apogee_km: np.ndarray, k: int = 64) -> np.ndarray:
    """Time-uniform altitude samples of each orbit (two-body, mean-anomaly grid), shape (N, k)."""
    re = 6378.135
    a = (perigee_km + apogee_km) / 2 + re
    e = (apogee_km - perigee_km) / (2 * a)
    m = 2 * np.pi * (np.arange(k) + 0.5) / k
    ea = m[None, :] + e[:, None] * np.sin(m[None, :])
    for _ in range(6):
        ea = ea - (ea - e[:, None] * np.sin(ea) - m) / (1 - e[:, None] * np.cos(ea))
    return a[:, None] * (1 - e[:, None] * np.cos(ea)) - re


def altitude_density(cloud: BreakupCloud, path: str | Path, *, min_size_m: float = 0.1, bin_km: float = 10.0,
                     background: tuple[np.ndarray, np.ndarray] | None = None,
                     banner: str | None = SIM_BANNER) -> Path:
    """Spatial density (objects/km³) against altitude, time-averaged over each orbit.

    ``background`` = (perigee_km, apogee_km) of the catalogue, drawn for comparison."""
    plt = _plt()
    sel = cloud.in_orbit & (cloud.lc_m >= min_size_m)
    edges = np.arange(100.0, 2000.0 + bin_km, bin_km)
    re = 6378.135
    shell = 4.0 / 3.0 * np.pi * ((re + edges[1:]) ** 3 - (re + edges[:-1]) ** 3)

    def dens(pe: np.ndarray, ap: np.ndarray) -> np.ndarray:
        h = orbit_altitude_samples(pe, ap)
        counts, _ = np.histogram(h.ravel(), bins=edges)
        return counts / h.shape[1] / shell

    fig, ax = plt.subplots(figsize=(7, 5))
    mid = (edges[1:] + edges[:-1]) / 2
    if background is not None:
        ax.semilogy(mid, dens(*background), c="0.5", label="catalogue")
    ax.semilogy(mid, dens(cloud.perigee_km[sel], cloud.apogee_km[sel]), c="tab:red",
                label=f"fragments >= {min_size_m * 100:g} cm")
    ax.set_xlabel("altitude (km)")
    ax.set_ylabel("spatial density (objects / km³)")
    ax.set_title(f"Altitude density after breakup of {cloud.parent_name or cloud.parent_norad}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path, banner)


def attrition(fx: NuclearEffects, path: str | Path, *, owners: list[str] | None = None,
              banner: str | None = SIM_BANNER) -> Path:
    """Share of satellites lost against days after the burst, whole catalogue and per owner."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 5))
    days, frac = fx.curve(None)
    ax.semilogx(np.maximum(days, 0.5), frac, c="k", lw=2, label=f"all ({fx.norad_ids.size})")
    present = sorted({o or "OTHER" for o in fx.owners})
    for o in owners or [p for p in present if p not in ("OTHER",)]:
        if o not in present:
            continue
        d, f = fx.curve(o)
        ax.semilogx(np.maximum(d, 0.5), f, lw=1, label=o)
    for m in (30, 90, 365):
        ax.axvline(m, c="0.7", ls=":")
    ax.set_xlabel("days after detonation")
    ax.set_ylabel("fraction of satellites lost")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{fx.yield_kt:g} kt at {fx.alt_km:g} km ({fx.lat:g}, {fx.lon:g}): attrition")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path, banner)


def jamming(m: JammingMap, path: str | Path, *, banner: str | None = SIM_BANNER) -> Path:
    """J/S map with the denied region outlined."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 6))
    js = np.where(np.isfinite(m.js_db), m.js_db, np.nan)
    im = ax.pcolormesh(m.lon, m.lat, js, shading="auto", cmap="magma")
    fig.colorbar(im, ax=ax, label="J/S (dB)")
    if m.denied.any() and not m.denied.all():
        ax.contour(m.lon, m.lat, m.denied.astype(float), levels=[0.5], colors="cyan")
    ax.plot([m.jammer_lon], [m.jammer_lat], "c^", ms=9)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(f"GNSS jamming {m.eirp_dbw:g} dBW EIRP, tolerance {m.tolerance_db:g} dB: "
                 f"{m.denied_area_km2:,.0f} km² denied")
    return _save(fig, path, banner)


def service_map(lat: np.ndarray, lon: np.ndarray, value: np.ndarray, path: str | Path, *, title: str,
                label: str, vmin: float | None = None, vmax: float | None = None,
                banner: str | None = None) -> Path:
    """Scatter map of a per-grid-point value (availability, coverage %, ...)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5))
    sc = ax.scatter(lon, lat, c=value, s=14, marker="s", cmap="viridis", vmin=vmin, vmax=vmax)
    fig.colorbar(sc, ax=ax, label=label)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    return _save(fig, path, banner)


def before_after_bars(labels: list[str], before: list[float], after: list[float], path: str | Path, *,
                      title: str, ylabel: str, banner: str | None = None) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(labels)), 4.5))
    x = np.arange(len(labels))
    ax.bar(x - 0.2, before, 0.4, label="before")
    ax.bar(x + 0.2, after, 0.4, label="after loss")
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path, banner)


def gnss_timeseries(results: dict, path: str | Path, *, title: str, banner: str | None = None) -> Path:
    """Area-median and worst PDOP, and the available area share, over time for each set of systems."""
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for label, res in results.items():
        ts = res.timeseries()
        hours = (np.asarray(ts["t_unix"]) - ts["t_unix"][0]) / 3600.0
        worst = np.asarray(ts["pdop_worst"], dtype=float)
        line = ax1.plot(hours, ts["pdop_median"], lw=1.5, label=f"{label} median")[0]
        ax1.plot(hours, np.where(np.isfinite(worst), worst, np.nan), lw=0.8, ls="--", c=line.get_color())
        ax2.plot(hours, ts["available_share"], lw=1.5, c=line.get_color(), label=label)
    ax1.axhline(6.0, c="r", lw=0.8, ls=":")
    ax1.set_ylabel("PDOP (median, - - worst)")
    ax1.set_ylim(0, 8)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=7, ncol=3)
    ax2.set_ylabel("available share of area")
    ax2.set_xlabel("hours from start")
    ax2.set_ylim(-0.02, 1.02)
    ax2.grid(alpha=0.3)
    ax1.set_title(title)
    return _save(fig, path, banner)
