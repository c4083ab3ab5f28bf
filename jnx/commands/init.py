"""Create or upgrade the jnx database (safe to run twice)."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Add this module's commands and groups to the root app."""
