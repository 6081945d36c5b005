"""Fixtures for kbone.diet tests: write small diaries, build in-memory diaries."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture
def write_diary(tmp_path):
    """Write ``text`` to a diary file and return its path: write_diary('date,meal,…', 'd.csv')."""

    def _write(text: str, name: str = "diary.csv") -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return _write
