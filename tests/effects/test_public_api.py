"""The effects and resilience packages expose a small, importable public API."""

from __future__ import annotations

import pytest

import orbitwatch.effects as effects
import orbitwatch.resilience as resilience


@pytest.mark.parametrize("pkg", [effects, resilience])
def test_every_exported_name_resolves(pkg):
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None
    with pytest.raises(AttributeError):
        pkg.no_such_thing  # noqa: B018
