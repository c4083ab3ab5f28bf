"""What commands share: the settings, and a database that is ready (or a message saying `jnx init`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from jnx.errors import JnxError
from jnx.exchange.db import create_engine_for, require_current, session_factory
from jnx.settings import Settings


def load_settings() -> Settings:
    """The settings from the environment (``JNX_…``); read here, at the edge, and passed down."""
    return Settings()


class DatabaseNotReady(JnxError):
    exit_code = 3


@contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    """The engine of the configured database, at the schema this jnx needs."""
    engine = create_engine_for(settings.effective_database_url)
    try:
        try:
            require_current(engine)
        except JnxError as exc:
            raise DatabaseNotReady(str(exc), hint="run `jnx init` to create or upgrade the database") from exc
        yield engine
    finally:
        engine.dispose()


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One session in one transaction: committed when the block ends, rolled back on error."""
    with open_engine(settings) as engine:
        factory: sessionmaker[Session] = session_factory(engine)
        with factory.begin() as session:
            yield session
