"""What commands share: the settings, and a database that is ready (or a message saying `jnx init`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from jnx.settings import Settings

if TYPE_CHECKING:
    from jnx.services.context import ServiceContext
from jnx.store.db import create_engine_for, require_current, session_factory


def load_settings() -> Settings:
    """The settings from the environment (``JNX_…``); read here, at the edge, and passed down."""
    return Settings()


def cli_actor() -> str:
    """Who the command line acts as: the OS user (``cli:NAME``), whose access to the database and keys the OS guards."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def audit(engine: Engine, action: str, subject: str, details: dict[str, object] | None = None) -> None:
    """Append an admin action to the audit chain (after its own transaction committed)."""
    import datetime as dt

    from jnx.security.audit_sql import SqlAuditStore

    actor = cli_actor()
    from jnx.security.trace import traced

    SqlAuditStore(engine).append(actor=actor, action=action, subject=subject, details=traced(action, details or {}),
                                 at=dt.datetime.now(dt.UTC))


@contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    """The engine of the configured database, at the schema this jnx needs.

    A database that is not initialised or is older than this jnx raises ``SchemaNotReadyError``
    (hint: run ``jnx init``); one that cannot be reached raises a transient ``StorageError``.
    """
    engine = create_engine_for(settings.effective_database_url)
    try:
        require_current(engine)
        yield engine
    finally:
        engine.dispose()


AUDIT_KEY = "jnx.audit"


def record_audit(session: Session, action: str, subject: str, details: dict[str, object] | None = None) -> None:
    """Note an admin action; :func:`transaction` appends it to the audit chain once the session committed."""
    session.info.setdefault(AUDIT_KEY, []).append((action, subject, details or {}))


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One session in one transaction: committed when the block ends, rolled back on error; the admin
    actions noted with :func:`record_audit` go to the audit chain after the commit."""
    with open_engine(settings) as engine:
        factory: sessionmaker[Session] = session_factory(engine)
        with factory.begin() as session:
            yield session
            pending = list(session.info.get(AUDIT_KEY, []))
        for action, subject, details in pending:
            audit(engine, action, subject, details)


def os_context(session: Session, settings: Settings) -> ServiceContext:
    """A service call of the command line: the OS user at the server, who may do everything (the
    operating system guards who can read the database and the key store)."""
    from jnx.services.context import Actor, ServiceContext

    return ServiceContext(session=session, settings=settings, actor=Actor.os_user(cli_actor()))
