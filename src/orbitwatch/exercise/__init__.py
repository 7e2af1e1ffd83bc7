"""Tabletop exercises: scenarios on any catalogue, per-nation play, collective decisions, after-action reports.

Public face (imported lazily so ``orbitwatch --help`` stays fast)::

    from orbitwatch.exercise import load_scenario, Exercise, demo_catalog, file_catalog, store_catalog
    from orbitwatch.exercise import load_players, ScriptedPlayers, write_report

See ``docs/exercise.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_scenario": "orbitwatch.exercise.scenario", "Scenario": "orbitwatch.exercise.scenario",
    "ScenarioError": "orbitwatch.exercise.scenario",
    "Exercise": "orbitwatch.exercise.engine", "find_exercise": "orbitwatch.exercise.engine",
    "demo_catalog": "orbitwatch.exercise.catalog", "file_catalog": "orbitwatch.exercise.catalog",
    "store_catalog": "orbitwatch.exercise.catalog", "records_catalog": "orbitwatch.exercise.catalog",
    "load_players": "orbitwatch.exercise.players", "ScriptedPlayers": "orbitwatch.exercise.players",
    "write_report": "orbitwatch.exercise.report", "compute_metrics": "orbitwatch.exercise.metrics",
    "ExerciseClock": "orbitwatch.exercise.clock",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'orbitwatch.exercise' has no attribute {name!r}")
    attr = "compute" if name == "compute_metrics" else name
    return getattr(importlib.import_module(_EXPORTS[name]), attr)
