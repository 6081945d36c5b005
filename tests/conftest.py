"""Shared test fixtures.

System-dependent tests (R metafor, Chromium, PostgreSQL) skip with a visible reason on a developer
machine that lacks the package, but fail in CI (``CI=true``), where ``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a system dependency is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


def have_metafor() -> bool:
    if not shutil.which("Rscript"):
        return False
    r = subprocess.run(["Rscript", "-e", "suppressMessages(library(metafor))"], capture_output=True)
    return r.returncode == 0


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Tests use a private KBONE_HOME (one per test worker), never the user's ~/.kbone."""
    home = tmp_path_factory.getbasetemp() / "kbone_home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("KBONE_HOME", str(home))
    monkeypatch.delenv("KBONE_DATABASE_URL", raising=False)
    monkeypatch.setenv("KBONE_LANG", "en")


@pytest.fixture
def cli(capsys):
    """Run ``kbone`` in-process: ``code, out, err = cli('evidence', 'list', '--json')``."""
    from kbone.cli import run

    def _run(*args: str):
        code = run([str(a) for a in args])
        cap = capsys.readouterr()
        return code, cap.out, cap.err

    return _run
