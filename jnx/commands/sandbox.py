"""``jnx sandbox …`` — Simulators of the four platforms on loopback, for demo and tests."""

from __future__ import annotations

import typer

app = typer.Typer(help="Simulators of the four platforms on loopback, for demo and tests.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sandbox")
