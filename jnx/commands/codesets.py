"""``jnx codesets …`` — Code sets (代码集) and identifier validators."""

from __future__ import annotations

import typer

app = typer.Typer(help="Code sets (代码集) and identifier validators.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="codesets")
