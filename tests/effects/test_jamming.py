"""Jamming: free-space values computed by hand, horizon cut, denied area against the analytic disc."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orbitwatch.effects.jamming import (
    denial_range_km,
    free_space_loss_db,
    jamming_map,
    js_ratio_db,
    radio_horizon_km,
)


def test_free_space_values_by_hand():
    # 10 km at 1575.42 MHz: λ = 0.190294 m; 20·log10(4π·1e4/0.190294) = 116.40 dB
    lam = 299_792_458.0 / 1575.42e6
    assert free_space_loss_db(10.0, 1575.42e6) == pytest.approx(20 * math.log10(4 * math.pi * 1e4 / lam))
    assert free_space_loss_db(10.0, 1575.42e6) == pytest.approx(116.40, abs=0.01)
    # 10 W (10 dBW) at 10 km: J = -106.40 dBW; S = -158.5 dBW -> J/S = 52.10 dB
    assert js_ratio_db(10.0, 10.0) == pytest.approx(52.10, abs=0.01)
    # 1 W at 100 km: 20 dB more loss, 10 dB less power -> 22.10 dB
    assert js_ratio_db(0.0, 100.0) == pytest.approx(22.10, abs=0.01)
    # denial range where J/S = 24 dB for 10 dBW: loss 144.5 dB -> d = 10^(144.5/20)·λ/4π
    assert denial_range_km(10.0, 24.0) == pytest.approx(10 ** (144.5 / 20) * lam / (4 * math.pi) / 1e3, rel=1e-9)


def test_radio_horizon_by_hand():
    # 4/3 Earth: √(2·8494.7 km·0.01 km) + √(2·8494.7 km·0.002 km) = 13.03 + 5.83 km
    assert float(radio_horizon_km(10.0, 2.0)) == pytest.approx(
        math.sqrt(2 * 4 / 3 * 6371.0088 * 0.01) + math.sqrt(2 * 4 / 3 * 6371.0088 * 0.002), rel=1e-6)


def test_ground_jammer_is_horizon_limited():
    m = jamming_map(51.0, 0.0, eirp_dbw=10.0, alt_m=10.0, receiver_alt_m=2.0)
    s = m.summary()
    assert s["radio_horizon_km"] == pytest.approx(18.9, abs=0.1)
    assert m.max_denied_range_km <= s["radio_horizon_km"] + 0.5
    assert np.isneginf(m.js_db).any()  # beyond the horizon
    # area of the denied disc ≈ π·horizon²
    assert m.denied_area_km2 == pytest.approx(math.pi * s["radio_horizon_km"] ** 2, rel=0.1)


def test_airborne_jammer_is_power_limited():
    # 1 W at 10 km altitude: horizon ~ 418 km, free-space 24 dB range ~ 45 km
    m = jamming_map(35.0, 139.0, eirp_dbw=0.0, alt_m=10_000.0, receiver_alt_m=2.0)
    s = m.summary()
    assert s["free_space_denial_km"] < s["radio_horizon_km"]
    # slant range includes the 10 km height: the denied ground radius is √(d² - h²)
    ground_r = math.sqrt(s["free_space_denial_km"] ** 2 - 10.0 ** 2)
    assert m.max_denied_range_km == pytest.approx(ground_r, rel=0.03)
    assert m.denied_area_km2 == pytest.approx(math.pi * ground_r ** 2, rel=0.06)
    js_at_centre = m.js_db[np.unravel_index(np.argmax(m.js_db), m.js_db.shape)]
    assert js_at_centre == pytest.approx(js_ratio_db(0.0, 10.0), abs=0.5)


def test_region_share_denied():
    from orbitwatch.resilience.regions import bbox_region

    m = jamming_map(50.0, 10.0, eirp_dbw=10.0, alt_m=10.0)
    assert m.denied_at(np.array([50.0, 50.0]), np.array([10.0, 12.0])).tolist() == [True, False]
    # a 1x1 degree box around the jammer: the denied disc of radius ~18.9 km over the box's area
    box = bbox_region("9.5,49.5,10.5,50.5")
    grid = box.grid(0.01)
    share = m.region_share_denied(grid)
    assert share == pytest.approx(m.denied_area_km2 / grid.area_km2.sum(), rel=0.1)
