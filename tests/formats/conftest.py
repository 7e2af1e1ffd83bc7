"""Fixtures for the formats tests (helpers live in fmt_helpers.py)."""

from __future__ import annotations

import pytest
from fmt_helpers import ISS_LINES


@pytest.fixture
def iss_lines() -> tuple[str, str]:
    """ISS element set from the python-sgp4 documentation (a well-known, valid pair)."""
    return ISS_LINES
