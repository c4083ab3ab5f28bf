"""What every audit entry of an action carries besides who and what: its **outcome** (succeeded,
failed, denied) and a **correlation id** shared with the log lines of the same request or command.

The correlation id lives in a context variable: the web layer sets it per request (from a sane
``X-Request-ID`` header, else a new one) and answers it in ``X-Request-ID``; the command line sets
one per command. :class:`CorrelationFilter` puts it on every log record as ``correlation_id``, so
``%(correlation_id)s`` in a log format ties log lines to audit entries.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("jnx_correlation_id", default=None)
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # tried and did not work (a wrong password, a rule broken, an error)
    DENIED = "denied"  # not allowed to try (no right, locked, rate-limited)


#: Actions noted by the accounts whose outcome is not "succeeded".
_OUTCOME_OF: dict[str, Outcome] = {
    "login.failed": Outcome.FAILED,
    "login.refused": Outcome.DENIED,
    "login.rate_limited": Outcome.DENIED,
    "user.totp_enrolment_failed": Outcome.FAILED,
    "access.denied": Outcome.DENIED,
}


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str:
    """The correlation id in force, made on first use when nobody set one."""
    value = _current.get()
    if value is None:
        value = new_correlation_id()
        _current.set(value)
    return value


@contextmanager
def correlation(given: str | None = None) -> Iterator[str]:
    """Run a block under a correlation id: ``given`` when it looks sane (8-64 of ``A-Za-z0-9._:-``), else a new one."""
    value = given if given and _SANE.match(given) else new_correlation_id()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


def traced(action: str, details: Mapping[str, Any], outcome: Outcome | None = None) -> dict[str, Any]:
    """``details`` with the outcome and the correlation id added (an outcome already there is kept)."""
    body = dict(details)
    body.setdefault("outcome", (outcome or _OUTCOME_OF.get(action, Outcome.SUCCEEDED)).value)
    body.setdefault("correlation_id", current_correlation_id())
    return body


class CorrelationFilter(logging.Filter):
    """Adds ``correlation_id`` to every record (``-`` outside any request or command)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get() or "-"
        return True
