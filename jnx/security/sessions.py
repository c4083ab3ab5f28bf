"""Console and API sessions: random tokens, their hashes, and when a session ends. Pure.

The cookie carries a 256-bit random token; the database keeps only its SHA-256, so a copy of the
database opens no session. A session ends after ``idle`` without use or ``absolute`` after login,
whichever comes first; logout, a disabled account and a password change end it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

COOKIE_NAME = "jnx_session"
CSRF_HEADER = "X-CSRF-Token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass(frozen=True)
class SessionTimes:
    idle: dt.timedelta
    absolute: dt.timedelta

    def expires_at(self, created_at: dt.datetime) -> dt.datetime:
        return created_at + self.absolute

    def end_reason(self, *, last_seen_at: dt.datetime, expires_at: dt.datetime, now: dt.datetime) -> str | None:
        """``expired`` or ``idle`` when the session is over at ``now``, else None."""
        if now >= expires_at:
            return "expired"
        if now - last_seen_at >= self.idle:
            return "idle"
        return None
