"""Alembic environment of jnx.

At run time :func:`jnx.store.db.upgrade` hands in an open connection through
``config.attributes["connection"]``. Developers may also run the ``alembic`` command from the repo
root (``alembic.ini``) with ``-x url=sqlite:///.jnx/jnx.db`` to autogenerate a new revision.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from jnx.store.db import create_engine_for
from jnx.store.models import Base, UTCDateTime

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write jnx's own column types as plain SQLAlchemy types, so revisions import nothing of jnx."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
        render_item=render_item,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///.jnx/jnx.db …")
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("jnx migrations run online only (they need a connection)")
run_migrations_online()
