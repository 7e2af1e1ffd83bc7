"""Ground geometry shared by the service metrics: WGS-84 points, local up vectors, elevation, areas."""

from __future__ import annotations

import numpy as np

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
EARTH_MEAN_RADIUS_KM = 6371.0088


def geodetic_to_ecef(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_km: np.ndarray | float = 0.0
                     ) -> np.ndarray:
    """WGS-84 geodetic latitude/longitude (deg) and height (km) -> Earth-fixed xyz (km), shape (..., 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    h = np.asarray(alt_km, dtype=float)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    x = (n + h) * np.cos(lat) * np.cos(lon)
    y = (n + h) * np.cos(lat) * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * np.sin(lat)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def ecef_to_geodetic(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earth-fixed xyz (km) -> geodetic latitude, longitude (deg) and height (km) (Bowring, < 1 mm)."""
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    b = WGS84_A_KM * (1.0 - WGS84_F)
    ep2 = (WGS84_A_KM ** 2 - b ** 2) / b ** 2
    p = np.hypot(x, y)
    th = np.arctan2(z * WGS84_A_KM, p * b)
    lat = np.arctan2(z + ep2 * b * np.sin(th) ** 3, p - WGS84_E2 * WGS84_A_KM * np.cos(th) ** 3)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.where(np.abs(np.cos(lat)) > 1e-9, p / np.cos(lat) - n, np.abs(z) - b)
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), h


def up_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Unit ellipsoid normals (local 'up') at geodetic latitude/longitude, shape (..., 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def enu_basis(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """East, north, up unit vectors as rows: shape (..., 3, 3)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    lon = np.radians(np.asarray(lon_deg, dtype=float))
    east = np.stack([-np.sin(lon), np.cos(lon), np.zeros_like(lon)], axis=-1)
    north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], axis=-1)
    return np.stack([east, north, up_vectors(lat_deg, lon_deg)], axis=-2)


def elevation_deg(ground_ecef: np.ndarray, up: np.ndarray, sat_ecef: np.ndarray) -> np.ndarray:
    """Elevation (deg) of satellites ``(S, 3)`` seen from ground points ``(P, 3)``: shape (P, S)."""
    los = sat_ecef[None, :, :] - ground_ecef[:, None, :]
    rng = np.linalg.norm(los, axis=-1)
    s = np.einsum("psk,pk->ps", los, up) / rng
    return np.degrees(np.arcsin(np.clip(s, -1.0, 1.0)))


def cell_area_km2(lat_deg: np.ndarray, step_deg: float) -> np.ndarray:
    """Area of a lat/lon grid cell of ``step_deg`` centred at ``lat_deg`` on the mean sphere (km²)."""
    lat = np.radians(np.asarray(lat_deg, dtype=float))
    h = np.radians(step_deg) / 2.0
    band = np.sin(np.clip(lat + h, -np.pi / 2, np.pi / 2)) - np.sin(np.clip(lat - h, -np.pi / 2, np.pi / 2))
    return EARTH_MEAN_RADIUS_KM ** 2 * np.radians(step_deg) * band


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine distance on the mean sphere (km)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_MEAN_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
