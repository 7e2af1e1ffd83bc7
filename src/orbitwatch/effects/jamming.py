"""GNSS jamming: jammer-to-signal ratio on a ground grid and the area where receivers are denied.

Link model (free space, line of sight):
- received jammer power ``J = EIRP - L_fs + G_rx,j`` with ``L_fs = 20·log10(4π d / λ)`` (d = slant range);
- GNSS signal at the receiver ``S`` = the specified minimum received power, by default GPS L1 C/A
  ``-158.5 dBW`` (IS-GPS-200, 0 dBi antenna), plus ``G_rx,s``;
- the jammer is heard only within the radio horizon over a smooth Earth with 4/3 effective radius,
  ``d_h = √(2 k R h_j) + √(2 k R h_r)`` (no diffraction beyond it; terrain is not modelled).

A receiver is *denied* where ``J/S >= tolerance``. Default tolerance 24 dB: a typical civil C/A-code
tracking threshold (Kaplan & Hegarty, "Understanding GPS/GNSS", ch. 6 gives ~24-40 dB for C/A code
depending on loop bandwidth); military P(Y)/M-code receivers with controlled-pattern antennas tolerate
far more (pass e.g. 60-80 dB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from orbitwatch.errors import ValidationError
from orbitwatch.resilience.geometry import (
    EARTH_MEAN_RADIUS_KM,
    cell_area_km2,
    geodetic_to_ecef,
    great_circle_km,
)

C_M_S = 299_792_458.0
GPS_L1_HZ = 1575.42e6
GPS_L1_CA_MIN_DBW = -158.5
DEFAULT_TOLERANCE_DB = 24.0
K_FACTOR = 4.0 / 3.0


def free_space_loss_db(range_km: np.ndarray | float, freq_hz: float) -> np.ndarray:
    """Free-space path loss ``20 log10(4π d / λ)`` in dB for a range in km."""
    lam = C_M_S / freq_hz
    return 20.0 * np.log10(4.0 * math.pi * np.asarray(range_km, dtype=float) * 1e3 / lam)


def radio_horizon_km(h_tx_m: float, h_rx_m: np.ndarray | float, k: float = K_FACTOR) -> np.ndarray:
    """Line-of-sight range over a smooth Earth of effective radius k·R (km), heights in metres."""
    re_m = k * EARTH_MEAN_RADIUS_KM * 1e3
    return (np.sqrt(2 * re_m * max(h_tx_m, 0.0)) + np.sqrt(2 * re_m * np.maximum(h_rx_m, 0.0))) / 1e3


def js_ratio_db(eirp_dbw: float, range_km: np.ndarray | float, *, freq_hz: float = GPS_L1_HZ,
                signal_dbw: float = GPS_L1_CA_MIN_DBW, rx_gain_jammer_dbi: float = 0.0,
                rx_gain_signal_dbi: float = 0.0) -> np.ndarray:
    """J/S (dB) at a receiver ``range_km`` from a jammer of ``eirp_dbw`` (free space)."""
    j = eirp_dbw - free_space_loss_db(range_km, freq_hz) + rx_gain_jammer_dbi
    return j - (signal_dbw + rx_gain_signal_dbi)


def denial_range_km(eirp_dbw: float, tolerance_db: float = DEFAULT_TOLERANCE_DB, *, freq_hz: float = GPS_L1_HZ,
                    signal_dbw: float = GPS_L1_CA_MIN_DBW) -> float:
    """Free-space range within which J/S >= tolerance (before the horizon cut)."""
    loss_max = eirp_dbw - signal_dbw - tolerance_db
    lam = C_M_S / freq_hz
    return 10.0 ** (loss_max / 20.0) * lam / (4.0 * math.pi) / 1e3


@dataclass
class JammingMap:
    """J/S on a lat/lon grid around one jammer. ``js_db`` is -inf beyond the radio horizon."""

    lat: np.ndarray  # (Ny,)
    lon: np.ndarray  # (Nx,)
    js_db: np.ndarray  # (Ny, Nx)
    denied: np.ndarray  # (Ny, Nx) bool
    jammer_lat: float
    jammer_lon: float
    jammer_alt_m: float
    eirp_dbw: float
    freq_hz: float
    tolerance_db: float
    receiver_alt_m: float
    horizon_km: float
    free_space_denial_km: float
    step_deg: float

    @property
    def denied_area_km2(self) -> float:
        area = cell_area_km2(self.lat, self.step_deg)[:, None]
        return float(np.sum(np.where(self.denied, np.broadcast_to(area, self.denied.shape), 0.0)))

    @property
    def max_denied_range_km(self) -> float:
        if not self.denied.any():
            return 0.0
        la, lo = np.meshgrid(self.lat, self.lon, indexing="ij")
        d = great_circle_km(self.jammer_lat, self.jammer_lon, la[self.denied], lo[self.denied])
        return float(d.max())

    def denied_at(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Whether receivers at these points are denied (nearest map cell; False outside the map)."""
        lat = np.asarray(lat, dtype=float)
        lon = (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0
        i = np.rint((lat - self.lat[0]) / self.step_deg).astype(int)
        dlon = (lon - self.lon[0] + 180.0) % 360.0 - 180.0
        j = np.rint(dlon / self.step_deg).astype(int)
        inside = (i >= 0) & (i < self.lat.size) & (j >= 0) & (j < self.lon.size)
        out = np.zeros(lat.shape, dtype=bool)
        out[inside] = self.denied[i[inside], j[inside]]
        return out

    def region_share_denied(self, grid) -> float:
        """Area share of a region grid (``resilience.regions.Grid``) where GNSS is denied."""
        return float(np.sum(grid.weights * self.denied_at(grid.lat, grid.lon)))

    def summary(self) -> dict:
        return {
            "jammer": {"lat": self.jammer_lat, "lon": self.jammer_lon, "alt_m": self.jammer_alt_m,
                       "eirp_dbw": self.eirp_dbw, "freq_mhz": self.freq_hz / 1e6},
            "tolerance_db": self.tolerance_db, "receiver_alt_m": self.receiver_alt_m,
            "radio_horizon_km": round(self.horizon_km, 1),
            "free_space_denial_km": round(self.free_space_denial_km, 1),
            "denied_radius_km": round(min(self.horizon_km, self.free_space_denial_km), 1),
            "max_denied_range_km": round(self.max_denied_range_km, 1),
            "denied_area_km2": round(self.denied_area_km2, 0),
            "grid": {"step_deg": self.step_deg, "cells": int(self.js_db.size)},
        }


def jamming_map(lat: float, lon: float, *, eirp_dbw: float, alt_m: float = 10.0, freq_hz: float = GPS_L1_HZ,
                tolerance_db: float = DEFAULT_TOLERANCE_DB, receiver_alt_m: float = 2.0,
                signal_dbw: float = GPS_L1_CA_MIN_DBW, rx_gain_jammer_dbi: float = 0.0,
                rx_gain_signal_dbi: float = 0.0, step_deg: float | None = None,
                extent_km: float | None = None) -> JammingMap:
    """J/S map around a ground (``alt_m`` small) or airborne jammer; receivers at ``receiver_alt_m``.

    The grid spans ``extent_km`` (default: 1.2 × the smaller of the radio horizon and the free-space
    denial range, at least 20 km) with ``step_deg`` cells (default: about 200 cells across).
    """
    if not -90 <= lat <= 90 or not -180 <= lon <= 360:
        raise ValidationError(f"jammer position ({lat}, {lon}) out of range", field="lat")
    if freq_hz <= 0:
        raise ValidationError(f"frequency must be > 0 Hz, got {freq_hz}", field="freq_hz")
    horizon = float(radio_horizon_km(alt_m, receiver_alt_m))
    fs = denial_range_km(eirp_dbw, tolerance_db, freq_hz=freq_hz,
                         signal_dbw=signal_dbw + rx_gain_signal_dbi - rx_gain_jammer_dbi)
    ext = extent_km if extent_km is not None else max(20.0, 1.2 * min(horizon, fs))
    dlat = math.degrees(ext / EARTH_MEAN_RADIUS_KM)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.05)
    step = step_deg if step_deg is not None else dlat / 100.0
    lats = np.arange(max(lat - dlat, -89.999), min(lat + dlat, 89.999) + step / 2, step)
    lons = np.arange(lon - dlon, lon + dlon + step / 2, step)
    la, lo = np.meshgrid(lats, lons, indexing="ij")
    j = geodetic_to_ecef(lat, lon, alt_m / 1e3)
    r = geodetic_to_ecef(la, lo, receiver_alt_m / 1e3)
    rng = np.linalg.norm(r - j, axis=-1)
    ground = great_circle_km(lat, lon, la, lo)
    js = js_ratio_db(eirp_dbw, np.maximum(rng, 1e-3), freq_hz=freq_hz, signal_dbw=signal_dbw,
                     rx_gain_jammer_dbi=rx_gain_jammer_dbi, rx_gain_signal_dbi=rx_gain_signal_dbi)
    js = np.where(ground <= horizon, js, -np.inf)
    lon_wrapped = (lons + 180.0) % 360.0 - 180.0
    return JammingMap(lats, lon_wrapped, js, js >= tolerance_db, lat, lon, alt_m, eirp_dbw, freq_hz,
                      tolerance_db, receiver_alt_m, horizon, fs, step)
