"""Shared assessments of the example profiles (computed once per test worker)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "profiles"


@cache
def assessed(name: str, model: bool = False):
    """The assessment of an example profile (``model=True`` also runs the PK/PD and bone models: slower)."""
    from kbone.assess.assessment import assess
    from kbone.assess.profile import load_profile

    path = EXAMPLES / name
    return assess(load_profile(path), base_dir=path.parent, model=model)


@pytest.fixture
def example_path():
    return lambda name: EXAMPLES / name
