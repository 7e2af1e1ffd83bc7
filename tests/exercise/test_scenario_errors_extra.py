"""Characters YAML refuses are a located validation error, not a crash (found by schemathesis)."""

import pytest

from orbitwatch.errors import ValidationError
from orbitwatch.exercise.yamlloc import load_located


def test_control_character_names_its_line():
    with pytest.raises(ValidationError, match=r"s\.yaml:2: YAML cannot contain character #x0001"):
        load_located("a: 1\nb: \x01x\n", file="s.yaml")
