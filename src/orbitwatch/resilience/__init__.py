"""Service resilience: GNSS DOP/availability, coverage and revisit, each nation alone vs pooled, under loss.

Public functions (re-exported lazily)::

    from orbitwatch.resilience import get_region, gnss_availability, coverage, gnss_under_loss
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "get_region": "regions", "Region": "regions", "Grid": "regions", "PARTNER_REGIONS": "regions",
    "gnss_availability": "gnss", "gnss_compare": "gnss", "GnssResult": "gnss", "standard_sets": "gnss",
    "coverage": "coverage", "coverage_compare": "coverage", "CoverageResult": "coverage",
    "gnss_under_loss": "loss", "coverage_under_loss": "loss", "taxonomy": "loss", "Taxonomy": "loss",
    "classify": "services", "select": "services", "gnss_system": "services",
    "load_elsets": "catalog",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"orbitwatch.resilience.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'orbitwatch.resilience' has no attribute {name!r}")
