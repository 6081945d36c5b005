"""Command-line face of kbone.model (filled in by the issue that builds this part)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this part's commands to the root kbone app."""
