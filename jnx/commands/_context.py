"""What commands share: the settings, and a database that is ready (or a message saying `jnx init`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from jnx.security.audit_anchor import AnchorLog

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
    """Append an action that is not a database change (a key, a published file) to the audit chain in
    a transaction of its own. Database changes use :func:`record_audit` inside their transaction."""
    import datetime as dt

    from jnx.security.audit_sql import SqlAuditStore
    from jnx.security.trace import traced

    SqlAuditStore(engine, anchors=anchor_log(load_settings())).append(
        actor=cli_actor(), action=action, subject=subject, details=traced(action, details or {}),
        at=dt.datetime.now(dt.UTC))


def anchor_log(settings: Settings) -> AnchorLog:
    """Where this home anchors the audit chain's head (``<home>/audit-anchors.jsonl`` and the log),
    signing each checkpoint with jnx's active signing key when the key passphrase is set."""
    import os

    from jnx.errors import JnxError
    from jnx.security.audit_anchor import ANCHOR_FILE, AnchorLog
    from jnx.security.keys import Suite
    from jnx.security.keystore import signing_key
    from jnx.security.operator import key_store

    signer = None
    passphrase = os.environ.get(settings.key_passphrase_env)
    if passphrase and (settings.home / "keys").exists():
        for suite in (Suite.JOSE, Suite.SM):
            try:
                signer = signing_key(key_store(settings.home, passphrase), suite)
                break
            except JnxError:
                continue
    return AnchorLog(settings.home / ANCHOR_FILE, signer)


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


def record_audit(session: Session, action: str, subject: str, details: Mapping[str, object] | None = None) -> None:
    """Append an audited action to the chain in ``session``'s transaction: the change and its entry
    commit together or not at all (see :func:`jnx.security.audit_sql.record_audit`)."""
    from jnx.security.audit_sql import record_audit as append
    from jnx.security.trace import traced

    append(session, action, subject, traced(action, dict(details or {})))


def audited_session(engine: Engine, settings: Settings | None = None) -> Session:
    """A session whose transactions write-lock at BEGIN on SQLite (they will append to the chain),
    acting as the user running the command; the chain's head is anchored after each commit."""
    from jnx.security.audit_anchor import anchor_session
    from jnx.security.audit_sql import ACTOR_KEY

    session = session_factory(engine, immediate=True)()
    session.info[ACTOR_KEY] = cli_actor()
    return anchor_session(session, lambda: anchor_log(settings or load_settings()))


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One session in one transaction: committed when the block ends, rolled back on error. Actions
    noted with :func:`record_audit` are appended to the audit chain in this same transaction."""
    with open_engine(settings) as engine, audited_session(engine, settings) as session, session.begin():
        yield session


def os_context(session: Session, settings: Settings) -> ServiceContext:
    """A service call of the command line: the OS user at the server, who may do everything (the
    operating system guards who can read the database and the key store)."""
    from jnx.services.context import Actor, ServiceContext

    return ServiceContext(session=session, settings=settings, actor=Actor.os_user(cli_actor()))
