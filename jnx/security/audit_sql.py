"""The audit chain on the ``audit_entries`` table (SQLite or PostgreSQL), through SQLAlchemy Core.

The table belongs to the jnx schema (``jnx/store/models.py``, created by Alembic); this module
names only its columns, so security does not import exchange. An audited change appends its entry in
its own transaction (:func:`record_audit` on its session, :func:`append_in` on its connection): the
change and its entry commit together or not at all. Appends never fork the chain: on
PostgreSQL a transaction-scoped advisory lock serializes writers; on SQLite the caller passes the
execution options that make the transaction ``BEGIN IMMEDIATE``; and everywhere ``seq`` is the primary
key, so a racing writer that slipped through fails its insert and retries on the new head.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    select,
    text,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from jnx.errors import JnxError, StorageError
from jnx.security.audit import AuditEntry, next_entry
from jnx.security.audit_anchor import AnchorLog
from jnx.security.errors import AuditBusyError, AuditWriteError
from jnx.store.db import SQLITE_BEGIN

_AUDIT_LOCK_KEY = 0x6A6E78A0D17  # pg_advisory_xact_lock key of the audit chain ("jnx audit")

audit_entries = Table(
    "audit_entries",
    MetaData(),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("details", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


def _row_to_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq, at=row.at, actor=row.actor, action=row.action, subject=row.subject,
        details=row.details or {}, prev_hash=row.prev_hash, hash=row.hash,
    )


def _is_seq_conflict(exc: sa_exc.IntegrityError) -> bool:
    """True when the insert lost the race for its ``seq`` (the primary key), not another rule."""
    text_ = str(exc.orig).lower()
    return ("audit_entries.seq" in text_) or ("duplicate key" in text_ and "audit_entries_pkey" in text_)


def _busy(exc: sa_exc.SQLAlchemyError) -> bool:
    text_ = str(getattr(exc, "orig", exc)).lower()
    return any(word in text_ for word in ("locked", "busy", "could not serialize", "deadlock"))


def _reason(exc: sa_exc.SQLAlchemyError) -> str:
    """The driver's first line, no SQL and no parameters (details may hold personal data)."""
    orig = getattr(exc, "orig", None)
    first = next((line.strip() for line in str(orig if orig is not None else type(exc).__name__).splitlines() if line.strip()), "")
    return f"{type(orig).__name__ if orig is not None else type(exc).__name__}: {first}"[:300]


def append_in(
    connection: Connection, *, actor: str, action: str, subject: str, details: Mapping[str, Any], at: dt.datetime
) -> AuditEntry:
    """Append one entry inside the caller's transaction: it commits with the change or not at all.

    On PostgreSQL a transaction-scoped advisory lock serializes the chain's writers until the
    caller commits; on SQLite the caller's transaction must write-lock at ``BEGIN IMMEDIATE``
    (:func:`jnx.store.db.session_factory` with ``immediate=True``) or it may fail as locked. Any
    failure is an :class:`AuditWriteError` (or :class:`AuditBusyError` when the chain stayed locked)
    naming the action, and the caller's transaction must be rolled back: nothing was changed.
    """
    try:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
        row = connection.execute(select(audit_entries).order_by(audit_entries.c.seq.desc()).limit(1)).first()
        entry = next_entry(
            _row_to_entry(row) if row is not None else None,
            at=at, actor=actor, action=action, subject=subject, details=details,
        )
        stored_at = entry.at.replace(tzinfo=None) if connection.dialect.name == "sqlite" else entry.at
        connection.execute(
            audit_entries.insert().values(
                seq=entry.seq, at=stored_at, actor=entry.actor, action=entry.action, subject=entry.subject,
                details=dict(entry.details), prev_hash=entry.prev_hash, hash=entry.hash,
            )
        )
    except sa_exc.IntegrityError as exc:
        if _is_seq_conflict(exc):
            raise AuditBusyError(action, subject, "another writer took the same place in the chain") from exc
        raise AuditWriteError(action, subject, _reason(exc)) from exc
    except sa_exc.SQLAlchemyError as exc:
        if _busy(exc):
            raise AuditBusyError(action, subject, _reason(exc)) from exc
        raise AuditWriteError(action, subject, _reason(exc)) from exc
    return entry


class SqlAuditStore:
    """The audit chain in the jnx database."""

    def __init__(self, engine: Engine, *, writer_options: Mapping[str, Any] | None = None, attempts: int = 5,
                 anchors: AnchorLog | None = None) -> None:
        self.engine = engine
        self._writer_options = dict(writer_options or {})
        self._attempts = attempts
        self.anchors = anchors

    def committed(self, entry: AuditEntry) -> None:
        """Told that ``entry``'s transaction (the caller's, see ``connection=``) committed: anchor it."""
        if self.anchors is not None:
            self.anchors.write(entry)

    def append(
        self, *, actor: str, action: str, subject: str, details: Mapping[str, Any], at: dt.datetime,
        connection: Connection | None = None,
    ) -> AuditEntry:
        """Append one entry: inside ``connection``'s transaction when given (see :func:`append_in`),
        else in a transaction of its own, tried again while other writers race for the same ``seq``."""
        if connection is not None:
            return append_in(connection, actor=actor, action=action, subject=subject, details=details, at=at)
        last_error: JnxError | None = None
        options = {SQLITE_BEGIN: "IMMEDIATE", **self._writer_options}
        for _ in range(self._attempts):
            try:
                with self.engine.connect().execution_options(**options) as own, own.begin():
                    entry = append_in(own, actor=actor, action=action, subject=subject, details=details, at=at)
                self.committed(entry)
                return entry
            except AuditBusyError as exc:  # another writer took this seq or held the lock: retry on the new head
                last_error = exc
            except sa_exc.SQLAlchemyError as exc:  # the commit itself failed
                if not _busy(exc):
                    raise AuditWriteError(action, subject, _reason(exc)) from exc
                last_error = AuditBusyError(action, subject, _reason(exc))
        assert last_error is not None
        raise last_error

    def entries(self, batch: int = 2000) -> Iterator[AuditEntry]:
        """All entries by seq, read in batches so no connection stays open between them."""
        after: int | None = None
        while True:
            query = select(audit_entries).order_by(audit_entries.c.seq).limit(batch)
            if after is not None:
                query = query.where(audit_entries.c.seq > after)
            try:
                with self.engine.connect() as connection:
                    rows = [_row_to_entry(row) for row in connection.execute(query)]
            except sa_exc.SQLAlchemyError as exc:
                raise StorageError(
                    f"cannot read the audit chain: {type(exc).__name__}", hint="create or upgrade the database: jnx init"
                ) from exc
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].seq


ACTOR_KEY = "jnx.actor"  # session.info[ACTOR_KEY]: who acts in this session (e.g. "cli:alice", "api:bob")
ENTRIES_KEY = "jnx.audit.entries"  # session.info[ENTRIES_KEY]: the entries appended in this session


def record_audit(
    session: Session, action: str, subject: str, details: Mapping[str, Any] | None = None, *,
    actor: str | None = None, at: dt.datetime | None = None,
) -> AuditEntry:
    """Append an audited action to the chain inside ``session``'s transaction, so the entry and the
    change it records commit together or not at all. ``actor`` defaults to ``session.info[ACTOR_KEY]``.

    A failure raises :class:`AuditWriteError` / :class:`AuditBusyError` (the caller's transaction must
    roll back). The entries appended are kept in ``session.info[ENTRIES_KEY]`` for anchoring after commit.
    """
    who = actor or str(session.info.get(ACTOR_KEY) or "jnx")
    when = at or dt.datetime.now(dt.UTC)
    try:
        connection = session.connection()
    except sa_exc.SQLAlchemyError as exc:
        raise AuditWriteError(action, subject, _reason(exc)) from exc
    entry = append_in(connection, actor=who, action=action, subject=subject, details=dict(details or {}), at=when)
    session.info.setdefault(ENTRIES_KEY, []).append(entry)
    return entry
