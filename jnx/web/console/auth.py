"""The console's login, session and password forms over :class:`jnx.security.accounts.Accounts`.

The session cookie (``jnx_session``: HttpOnly, SameSite=Strict) holds the token; every POST form
carries the session's CSRF token in a hidden ``csrf_token`` field, checked before anything is done.
A session whose password must change may open only the password page (and log out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jnx.security import sessions
from jnx.security.account_errors import AccountError, SessionEnded
from jnx.security.accounts import Accounts, LoginResult
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Viewer
from jnx.settings import Settings
from jnx.store.db import session_factory

COOKIE = sessions.COOKIE_NAME


@dataclass(frozen=True)
class Visit:
    """A request's logged-in user: who, what they may do, the CSRF token, what they must do first."""

    viewer: Viewer
    session_id: str
    csrf: str
    must_change_password: bool
    must_enrol_totp: bool
    user: Any  # the ORM user, detached (display name, roles)


class Gate:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = session_factory(engine, immediate=True)  # these read then write: take SQLite's lock at BEGIN
        self.audit = SqlAuditStore(engine)

    def _accounts(self, session: Session, pending: list[tuple[str, str, str, dict[str, Any]]]) -> Accounts:
        return Accounts(session, self.settings.accounts, note=lambda actor, action, subject, details:
                        pending.append((actor, action, subject, details)))

    def _flush_audit(self, pending: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        for actor, action, subject, details in pending:
            self.audit.append(actor=actor, action=action, subject=subject, details={**details, "via": "console"},
                              at=dt.datetime.now(dt.UTC))

    def login(self, username: str, password: str, totp_code: str | None, address: str | None) -> LoginResult:
        """A login; the caller shows ``result.error`` (already committed: the failure counts)."""
        pending: list[tuple[str, str, str, dict[str, Any]]] = []
        with self.sessions.begin() as session:
            result = self._accounts(session, pending).login(username, password, totp_code=totp_code or None, address=address)
            if result.user is not None:
                session.expunge(result.user)
        self._flush_audit(pending)
        return result

    def visit(self, token: str | None) -> Visit | None:
        pending: list[tuple[str, str, str, dict[str, Any]]] = []
        try:
            with self.sessions.begin() as session:
                accounts = self._accounts(session, pending)
                row, user = accounts.resume(token)
                todo = accounts.pending(user)
                visit = Visit(viewer=viewer_of(user), session_id=row.id, csrf=row.csrf_token,
                              must_change_password=todo.password_change, must_enrol_totp=todo.totp_enrolment, user=user)
                session.expunge(user)
        except SessionEnded:
            visit = None
        self._flush_audit(pending)
        return visit

    def logout(self, token: str | None) -> None:
        pending: list[tuple[str, str, str, dict[str, Any]]] = []
        with self.sessions.begin() as session:
            self._accounts(session, pending).logout(token)
        self._flush_audit(pending)

    def change_password(self, visit: Visit, current: str | None, new: str) -> None:
        """Raises :class:`AccountError` (wrong current password, rules) with a message to show."""
        pending: list[tuple[str, str, str, dict[str, Any]]] = []
        try:
            with self.sessions.begin() as session:
                accounts = self._accounts(session, pending)
                user = accounts.get(visit.viewer.username)
                if current is not None and not accounts.hasher.verify(user.password_hash, current):
                    from jnx.security.account_errors import InvalidCredentials

                    raise InvalidCredentials("the current password is not right", hint="type your present password")
                accounts.change_password(user, new, session_id=visit.session_id)
        finally:
            self._flush_audit(pending)

    def begin_totp(self, visit: Visit) -> tuple[str, str]:
        """A new authenticator secret for the visitor (and its otpauth:// URI); in force once confirmed."""
        pending: list[tuple[str, str, str, dict[str, Any]]] = []
        with self.sessions.begin() as session:
            accounts = self._accounts(session, pending)
            enrolment = accounts.begin_totp(accounts.get(visit.viewer.username))
        self._flush_audit(pending)
        return enrolment.secret, enrolment.uri

    def confirm_totp(self, visit: Visit, code: str) -> list[str]:
        """The recovery codes once ``code`` matched; :class:`AccountError` when it did not."""
        pending: list[tuple[str, str, str, dict[str, Any]]] = []
        try:
            with self.sessions.begin() as session:
                accounts = self._accounts(session, pending)
                return accounts.confirm_totp(accounts.get(visit.viewer.username), code)
        finally:
            self._flush_audit(pending)


def viewer_of(user: Any) -> Viewer:
    return Viewer(username=user.username, roles=frozenset(str(r) for r in user.roles or []), department=user.department,
                  region=user.region, display_name=user.display_name or "")


__all__ = ["COOKIE", "AccountError", "Gate", "Visit", "viewer_of"]
