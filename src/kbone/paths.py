"""Where kbone's shipped data and its working files live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def data_path(*parts: str) -> Path:
    """Path of a file shipped in ``kbone/data``."""
    return DATA_DIR.joinpath(*parts)


def state_dir() -> Path:
    """Directory for built artefacts (SQLite store, caches). ``KBONE_HOME`` overrides the default."""
    d = Path(os.environ.get("KBONE_HOME") or Path.home() / ".kbone")
    d.mkdir(parents=True, exist_ok=True)
    return d
