"""``jnx init`` — create or upgrade the jnx database (safe to run twice)."""

from __future__ import annotations

from typing import Annotated

import typer

from jnx.commands._context import load_settings
from jnx.commands._output import JsonOption, emit
from jnx.publicity.policy import install_default
from jnx.store.db import UpgradeResult, upgrade

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (e.g. postgresql+psycopg://jnx@db/jnx). Default: JNX_DATABASE_URL, else SQLite under JNX_HOME (./.jnx).",
        show_default=False,
    ),
]


def _render(result: UpgradeResult, policy: str | None) -> None:
    if policy is not None:
        typer.echo(f"installed the default 双公示 publication policy at {policy} (docs/disclosures.md)")
    if result.action == "created":
        typer.echo(f"created {result.database} at revision {result.revision}")
    elif result.action == "upgraded":
        typer.echo(f"upgraded {result.database} from {result.from_revision} to {result.revision}")
    else:
        typer.echo(f"{result.database} is already current (revision {result.revision})")


def init(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Create the database, or upgrade it to this jnx's schema; does nothing if already current. Installs the
    documented default 双公示 publication policy (JNX_HOME/policy/publicity.yaml) when there is none."""
    settings = load_settings()
    url = database_url or settings.effective_database_url
    if database_url is None and settings.database_url is None:
        settings.ensure_home()
    result = upgrade(url)
    path, written = install_default(settings.home)
    data = {"database": result.database, "revision": result.revision, "action": result.action,
            "from_revision": result.from_revision, "policy": str(path)}
    emit(data, as_json, lambda _: _render(result, str(path) if written else None))


def register(root: typer.Typer) -> None:
    """Add ``jnx init`` to the root app."""
    root.command("init")(init)
