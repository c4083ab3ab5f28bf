"""双公示 disclosures and reconciliation with the credit platform."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Add this module's commands and groups to the root app."""
