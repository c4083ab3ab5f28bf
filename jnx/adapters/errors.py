"""Errors of the adapters, each a child of a family in :mod:`jnx.errors`.

::

    AdapterError
     ├── TransportError                 (transient: counted against the line, retried on the next)
     │    ├── LineTimeoutError              connect or read timeout on one line
     │    ├── LineUnreachableError          connection refused / DNS: the line is down at once
     │    ├── ConnectionDroppedError        the line accepted, then reset or closed unanswered
     │    ├── ServerBusyError               5xx or 429 (``retry_after`` from ``Retry-After``)
     │    └── AllLinesDownError             every line is cooling down (``retry_after`` = next probe)
     ├── AuthenticationError            (permanent: 401/403, SOAP auth fault — never retried)
     ├── RequestRejectedError           (permanent: other 4xx, unknown operation — fix the config)
     └── PayloadError                   (permanent)
          ├── UnsafeXmlError                DTD, entity, external reference, oversized document
          ├── TruncatedPageError            a page shorter than the total promised
          └── FileEncodingError             a dropped file is not in its declared encoding

Every message names the line by :func:`jnx.adapters.lines.redact_url` (no user, password or query),
never a credential.
"""

from __future__ import annotations

from jnx.errors import (
    AdapterError,
    AuthenticationError,
    PayloadError,
    PermanentError,
    TransportError,
)

__all__ = [
    "AllLinesDownError",
    "AuthenticationError",
    "ConnectionDroppedError",
    "FileEncodingError",
    "LineTimeoutError",
    "LineUnreachableError",
    "PayloadError",
    "RequestRejectedError",
    "ServerBusyError",
    "TransportError",
    "TruncatedPageError",
    "UnsafeXmlError",
]


class LineTimeoutError(TransportError):
    """A connect or read timeout on one line."""


class LineUnreachableError(TransportError):
    """The line refused or dropped the connection: it is marked down at once."""


class ConnectionDroppedError(TransportError):
    """The line took the connection, then reset or closed it before answering (counted, not down at once)."""


class ServerBusyError(TransportError):
    """The platform answered 5xx or 429; ``retry_after`` (seconds) when it said how long to wait."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, hint="the platform is overloaded or failing; jnx retries with backoff")
        self.status = status
        self.retry_after = retry_after


class AllLinesDownError(TransportError):
    """Every line of the system failed recently and is cooling down."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(
            message,
            hint="check the lines with `jnx systems check ID`; they are probed again after the cool-down",
        )
        self.retry_after = retry_after


class RequestRejectedError(AdapterError, PermanentError):
    """The platform rejected the request itself (4xx other than 401/403/429, unknown operation)."""

    exit_code = 3

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint or "check the registration: path, operation and arguments")
        self.status = status


class UnsafeXmlError(PayloadError):
    """XML refused for safety: a DTD, an entity, an external reference or too many bytes."""

    def __init__(self, reason: str, *, source: str) -> None:
        super().__init__(f"unsafe XML from {source}: {reason}", hint="jnx never resolves entities or DTDs")
        self.reason = reason
        self.source = source


class TruncatedPageError(PayloadError):
    """A page ended before the records its total promised."""


class FileEncodingError(PayloadError):
    """A dropped file's bytes do not decode in the encoding declared for it."""

    def __init__(self, *, path: str, encoding: str, offset: int, reason: str) -> None:
        super().__init__(
            f"{path}: not valid {encoding} at byte offset {offset} ({reason})",
            hint="set `encoding` in the registration or ask the sender to re-export the file",
        )
        self.path = path
        self.encoding = encoding
        self.offset = offset
