"""Regions of interest as lat/lon polygons, and the ground grids the service metrics are computed on.

The ten partner nations ship as package data (``regions/<ISO3>.json``: Natural Earth 1:110m outlines,
public domain, see each file's ``source``). Any other area is a bounding box ``W,S,E,N`` in degrees
(GeoJSON bbox order), e.g. ``--region 5,45,15,55``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

from orbitwatch.errors import NotFound, ValidationError
from orbitwatch.resilience.geometry import cell_area_km2

PARTNER_REGIONS = ("AUS", "CAN", "FRA", "DEU", "ITA", "JPN", "NZL", "NOR", "GBR", "USA")
_ALIASES = {
    "AUSTRALIA": "AUS", "CANADA": "CAN", "FRANCE": "FRA", "GERMANY": "DEU", "ITALY": "ITA",
    "JAPAN": "JPN", "NEW ZEALAND": "NZL", "NEWZEALAND": "NZL", "NORWAY": "NOR", "UK": "GBR",
    "UNITED KINGDOM": "GBR", "GREAT BRITAIN": "GBR", "US": "USA", "UNITED STATES": "USA",
}


@dataclass(frozen=True)
class Grid:
    """Ground points of a region: cell-centre latitude/longitude (deg) and cell area (km²)."""

    lat: np.ndarray
    lon: np.ndarray
    area_km2: np.ndarray
    step_deg: float

    @property
    def size(self) -> int:
        return int(self.lat.size)

    @property
    def weights(self) -> np.ndarray:
        """Area weights summing to 1 (so a mean over the grid is an area mean)."""
        return self.area_km2 / self.area_km2.sum()


@dataclass(frozen=True)
class Region:
    """A named area: one or more closed rings of (lon, lat) degrees."""

    name: str
    polygons: tuple[np.ndarray, ...]
    source: str = ""
    iso3: str | None = None
    bbox: tuple[float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0))

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Even-odd point-in-polygon over all rings (vectorised over points)."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        inside = np.zeros(lat.shape, dtype=bool)
        for ring in self.polygons:
            x0, y0 = ring[:, 0], ring[:, 1]
            x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
            px, py = lon[..., None], lat[..., None]
            crosses = (y0 > py) != (y1 > py)
            with np.errstate(divide="ignore", invalid="ignore"):
                xint = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
            inside ^= (np.count_nonzero(crosses & (px < xint), axis=-1) % 2).astype(bool)
        return inside

    def grid(self, step_deg: float = 1.0) -> Grid:
        """Cell centres at ``step_deg`` inside the region; a ring too small to hold a centre adds its mean."""
        if not step_deg > 0:
            raise ValidationError(f"grid step must be > 0 degrees, got {step_deg}", field="step_deg")
        w, s, e, n = self.bbox
        lats = np.arange(np.floor(s / step_deg) * step_deg + step_deg / 2, n, step_deg)
        lons = np.arange(np.floor(w / step_deg) * step_deg + step_deg / 2, e, step_deg)
        glat, glon = np.meshgrid(lats, lons, indexing="ij")
        keep = self.contains(glat.ravel(), glon.ravel())
        lat, lon = glat.ravel()[keep], glon.ravel()[keep]
        extra = []
        for ring in self.polygons:
            if not Region("r", (ring,), bbox=_ring_bbox(ring)).contains(lat, lon).any():
                extra.append((ring[:, 1].mean(), ring[:, 0].mean()))
        if extra:
            lat = np.concatenate([lat, [p[0] for p in extra]])
            lon = np.concatenate([lon, [p[1] for p in extra]])
        if lat.size == 0:
            raise ValidationError(f"region {self.name!r} holds no grid point at {step_deg} deg",
                                  field="region")
        return Grid(lat, lon, cell_area_km2(lat, step_deg), step_deg)


def _ring_bbox(ring: np.ndarray) -> tuple[float, float, float, float]:
    return (float(ring[:, 0].min()), float(ring[:, 1].min()), float(ring[:, 0].max()), float(ring[:, 1].max()))


def _from_rings(name: str, rings: list[np.ndarray], *, source: str = "", iso3: str | None = None) -> Region:
    allpts = np.concatenate(rings)
    bbox = (float(allpts[:, 0].min()), float(allpts[:, 1].min()),
            float(allpts[:, 0].max()), float(allpts[:, 1].max()))
    return Region(name, tuple(rings), source=source, iso3=iso3, bbox=bbox)


@cache
def partner_region(iso3: str) -> Region:
    """One of the ten shipped partner regions by trigraph."""
    path = resources.files("orbitwatch.resilience") / "regions" / f"{iso3}.json"
    doc = json.loads(path.read_text())
    rings = [np.asarray(r, dtype=float) for r in doc["polygons"]]
    return _from_rings(doc["name"], rings, source=doc["source"], iso3=doc["iso3"])


def bbox_region(text: str) -> Region:
    """``W,S,E,N`` degrees (GeoJSON bbox order) -> a rectangular region."""
    try:
        w, s, e, n = (float(x) for x in text.split(","))
    except ValueError:
        raise ValidationError(f"bounding box {text!r} must be four numbers W,S,E,N in degrees "
                              "(e.g. 5,45,15,55)", field="region") from None
    if not (-90 <= s < n <= 90 and -180 <= w < e <= 360):
        raise ValidationError(f"bounding box {text!r} is empty or out of range: need -90<=S<N<=90 "
                              "and -180<=W<E<=360", field="region")
    ring = np.array([[w, s], [e, s], [e, n], [w, n]], dtype=float)
    return _from_rings(f"bbox {text}", [ring], source="user bounding box")


def get_region(name_or_bbox: str) -> Region:
    """A partner region by trigraph or English name (case-insensitive), or a ``W,S,E,N`` box."""
    key = name_or_bbox.strip()
    if "," in key:
        return bbox_region(key)
    up = key.upper()
    up = _ALIASES.get(up, up)
    if up in PARTNER_REGIONS:
        return partner_region(up)
    raise NotFound(f"unknown region {name_or_bbox!r}: use one of {', '.join(PARTNER_REGIONS)} "
                   "or a bounding box W,S,E,N in degrees")
