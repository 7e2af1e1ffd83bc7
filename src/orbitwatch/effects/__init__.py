"""Effects of hostile acts: debris clouds (NASA breakup model), nuclear bursts, GNSS jamming.

The public functions are re-exported lazily so that ``import orbitwatch.effects`` stays cheap::

    from orbitwatch.effects import simulate_breakup, simulate_detonation, jamming_map, added_collision_risk
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "simulate_breakup": "breakup", "BreakupCloud": "breakup", "SIMULATED_NORAD_BASE": "breakup",
    "added_collision_risk": "risk", "allied_assets": "risk", "AddedRisk": "risk", "AssetRisk": "risk",
    "simulate_detonation": "nuclear", "NuclearEffects": "nuclear", "NuclearAssumptions": "nuclear",
    "starfish_calibration": "nuclear",
    "jamming_map": "jamming", "JammingMap": "jamming", "js_ratio_db": "jamming",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"orbitwatch.effects.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'orbitwatch.effects' has no attribute {name!r}")
