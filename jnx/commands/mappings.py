"""``jnx mappings …`` — Versioned mapping tables: validate, list, show, diff, test, publish."""

from __future__ import annotations

import typer

app = typer.Typer(help="Versioned mapping tables: validate, list, show, diff, test, publish.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mappings")
