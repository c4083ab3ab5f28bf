"""Errors of jnx: one root, two markers, a few families.

::

    JnxError
     ├── ConfigError            settings or a registration file is wrong      (permanent)
     ├── InputError             a file or payload given to jnx is unusable    (permanent)
     ├── CodeSetError           unknown code set, or none in force on a date  (permanent)
     ├── StandardError          the data standard or a record against it      (permanent)
     ├── MappingError           a mapping table cannot be loaded or applied   (permanent)
     ├── AdapterError           talking to a platform failed
     │    ├── TransportError        network, timeout, 5xx                      (transient)
     │    ├── AuthenticationError   credentials refused                        (permanent)
     │    └── PayloadError          the platform answered something unusable   (permanent)
     ├── StorageError           the database failed                           (transient)
     ├── SecurityError          keys, envelopes, audit chain                  (permanent)
     └── NotFoundError          a named thing does not exist                  (permanent)

``TransientError`` and ``PermanentError`` are marker classes: retries, runs and deliveries decide by
type (``isinstance(exc, TransientError)``), never by message text. Library exceptions (requests,
zeep, SQLAlchemy, cryptography) are translated at the edge with ``raise … from exc``.

Every error carries an ``exit_code`` used by the command line (documented in docs/cli.md) and a
``hint`` that says what to do next.
"""

from __future__ import annotations


class JnxError(Exception):
    """Root of every error jnx raises on purpose."""

    exit_code: int = 1
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class TransientError(JnxError):
    """Marker: trying again later may succeed (network, timeouts, 5xx, locked database)."""

    exit_code = 4


class PermanentError(JnxError):
    """Marker: trying again will fail the same way until someone changes something."""


class ConfigError(PermanentError):
    """Settings, a registration file or a command-line value is wrong."""

    exit_code = 3


class InputError(PermanentError):
    """A file or payload handed to jnx cannot be used (malformed, too large, wrong encoding, DTD)."""

    exit_code = 2


class NotFoundError(PermanentError):
    """A named thing (system, table version, key, disclosure…) does not exist."""

    exit_code = 3


class CodeSetError(PermanentError):
    """An unknown code set, or no version of it in force on the date asked for."""

    exit_code = 3


class StandardError(PermanentError):  # noqa: A001 - the data standard, not builtins.StandardError
    """The data standard's dictionary is inconsistent, or a record breaks it."""


class MappingError(PermanentError):
    """A mapping table cannot be loaded, compiled or applied."""

    exit_code = 3


class AdapterError(JnxError):
    """Talking to a platform failed."""


class TransportError(AdapterError, TransientError):
    """Network failure, timeout or a 5xx answer: worth retrying, possibly on another line."""

    exit_code = 4


class AuthenticationError(AdapterError, PermanentError):
    """The platform refused the credentials; retrying would only lock the account."""

    exit_code = 3


class PayloadError(AdapterError, PermanentError):
    """The platform answered with something jnx cannot use (malformed XML/JSON, truncated page)."""


class StorageError(TransientError):
    """The database failed or is locked."""


class SecurityError(PermanentError):
    """Keys, envelopes or the audit chain."""
