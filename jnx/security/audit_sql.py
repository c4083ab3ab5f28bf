"""The audit chain on the ``audit_entries`` table (SQLite or PostgreSQL), through SQLAlchemy Core.

The table belongs to the jnx schema (``jnx/store/models.py``, created by Alembic); this module
names only its columns, so security does not import exchange. Appends never fork the chain: on
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
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    select,
    text,
)
from sqlalchemy import exc as sa_exc

from jnx.errors import StorageError
from jnx.security.audit import AuditEntry, next_entry

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


class SqlAuditStore:
    """The audit chain in the jnx database."""

    def __init__(self, engine: Engine, *, writer_options: Mapping[str, Any] | None = None, attempts: int = 5) -> None:
        self.engine = engine
        self._writer_options = dict(writer_options or {})
        self._attempts = attempts

    def append(self, *, actor: str, action: str, subject: str, details: Mapping[str, Any], at: dt.datetime) -> AuditEntry:
        last_error: sa_exc.SQLAlchemyError | None = None
        for _ in range(self._attempts):
            try:
                with self.engine.connect().execution_options(**self._writer_options) as connection, connection.begin():
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
                return entry
            except sa_exc.IntegrityError as exc:  # another writer took this seq: retry on the new head
                last_error = exc
            except sa_exc.OperationalError as exc:
                if "locked" not in str(exc.orig).lower() and "busy" not in str(exc.orig).lower():
                    raise StorageError(f"audit append failed: {type(exc.orig).__name__}") from exc
                last_error = exc
            except sa_exc.SQLAlchemyError as exc:
                raise StorageError(f"audit append failed: {type(exc).__name__}") from exc
        raise StorageError(f"audit append kept racing other writers ({self._attempts} attempts)") from last_error

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
