"""``jnx standard …`` — The Jining data standard: export its schemas, validate records."""

from __future__ import annotations

import typer

app = typer.Typer(help="The Jining data standard: export its schemas, validate records.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="standard")
