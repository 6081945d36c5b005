"""Fixtures for the claims tests: the two seed documents (copies of shared/seeds kept in tests/claims/seeds)."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent / "seeds"


def _seed(prefix: str) -> str:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not files:
        pytest.skip(f"seed {prefix} not found in {SEEDS}")
    return files[0].read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed000() -> str:
    return _seed("000")


@pytest.fixture(scope="session")
def seed004() -> str:
    return _seed("004")


@pytest.fixture(scope="session")
def seed000_path() -> Path:
    files = sorted(SEEDS.glob("000_*.txt"))
    if not files:
        pytest.skip("seed 000 not found")
    return files[0]


@pytest.fixture(scope="session")
def seed004_path() -> Path:
    files = sorted(SEEDS.glob("004_*.txt"))
    if not files:
        pytest.skip("seed 004 not found")
    return files[0]


@pytest.fixture(scope="session")
def report000(seed000):
    from kbone.claims.check import check_text

    return check_text(seed000, lang="en", source="000")


@pytest.fixture(scope="session")
def report004(seed004):
    from kbone.claims.check import check_text

    return check_text(seed004, lang="en", source="004")
