"""Errors of the exchange's storage, beside the families of :mod:`jnx.errors`.

::

    StorageError (transient)          the database failed: retry later
     ├── DatabaseUnavailableError         cannot connect (PostgreSQL down, wrong host, bad folder)
     └── DatabaseLockedError              another writer holds the lock longer than busy_timeout
    PermanentError
     ├── ConstraintViolationError     a UNIQUE / FOREIGN KEY / NOT NULL rule refused the write
     ├── SchemaNotReadyError          tables missing or older than this jnx: run ``jnx init``
     └── LeaseLostError               a leased row was taken over by another worker

``StorageError`` is a ``TransientError`` in :mod:`jnx.errors`; a permanent storage failure cannot
be one of its subclasses without carrying both markers, so the permanent kinds subclass
``PermanentError`` directly. Messages never contain SQL parameters (they may hold personal data)
and never a password: URLs are masked with :func:`jnx.store.db.mask_url`.
"""

from __future__ import annotations

from jnx.errors import PermanentError, StorageError


class DatabaseUnavailableError(StorageError):
    """The database cannot be reached or opened."""


class DatabaseLockedError(StorageError):
    """The database stayed locked by another writer longer than the busy timeout."""


class ConstraintViolationError(PermanentError):
    """A database rule refused the write; ``constraint`` names it when the driver says which."""

    def __init__(self, message: str, *, constraint: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.constraint = constraint


class SchemaNotReadyError(PermanentError):
    """The database has no jnx tables yet, or an older revision of them."""

    exit_code = 3
    hint = "run `jnx init` to create or upgrade the database"


class LeaseLostError(PermanentError):
    """The leased row is no longer this worker's (its lease expired and another worker took it).

    The worker must stop working on it: whatever it would still write could double the work.
    """

    def __init__(self, message: str, *, table: str, row_id: int, owner: str) -> None:
        super().__init__(message, hint="the row was reclaimed after its lease expired; renew leases more often")
        self.table = table
        self.row_id = row_id
        self.owner = owner
