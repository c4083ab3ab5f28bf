"""``jnx systems …`` — Source systems registered by departments."""

from __future__ import annotations

import typer

app = typer.Typer(help="Source systems registered by departments.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="systems")
