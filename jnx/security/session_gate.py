"""The session cookie and what a request carrying it may do — one function for the API and the
server-rendered console alike (no web framework here).

* :func:`session_cookie` / :func:`cleared_cookie`: the cookie's attributes (``HttpOnly``,
  ``SameSite=Strict``, ``Secure`` behind TLS, ``Path=/``), for any framework's ``set_cookie``;
* :func:`admit`: the open session of a request's cookie, its user and what they must do first;
  refuses a state-changing method without the session's CSRF token (header ``X-CSRF-Token`` or a
  form field ``csrf_token``), and a session with a pending password change or TOTP enrolment for
  anything but those steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jnx.security.account_errors import CsrfRejected, PasswordChangeRequired, TotpEnrolmentRequired
from jnx.security.accounts import Accounts, Pending
from jnx.security.sessions import COOKIE_NAME, same_token
from jnx.store.models import User, UserSession

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Admitted:
    session: UserSession
    user: User
    pending: Pending


def session_cookie(token: str, *, secure: bool, max_age_seconds: int) -> dict[str, Any]:
    """Keyword arguments of a ``set_cookie`` call (Starlette's signature) for a new session."""
    return {"key": COOKIE_NAME, "value": token, "max_age": max_age_seconds, "path": "/", "httponly": True,
            "samesite": "strict", "secure": secure}


def cleared_cookie(*, secure: bool) -> dict[str, Any]:
    """Keyword arguments of a ``delete_cookie`` call that removes the session cookie."""
    return {"key": COOKIE_NAME, "path": "/", "httponly": True, "samesite": "strict", "secure": secure}


def admit(
    accounts: Accounts,
    token: str | None,
    *,
    method: str,
    csrf_token: str | None,
    pending_step: str | None = None,
) -> Admitted:
    """The request's session, or an :class:`~jnx.security.account_errors.AccountError` to answer with.

    ``pending_step`` names what the request does when it is one of a restricted session's steps
    (``"password"``, ``"totp"``, ``"logout"``, ``"whoami"``); any other request of a session with
    something pending is refused with :class:`PasswordChangeRequired`.
    """
    session, user = accounts.resume(token)
    if method.upper() not in SAFE_METHODS and not same_token(csrf_token, session.csrf_token):
        raise CsrfRejected()
    pending = accounts.pending(user)
    if pending.any and pending_step not in _allowed_steps(pending):
        raise PasswordChangeRequired() if pending.password_change else TotpEnrolmentRequired()
    return Admitted(session=session, user=user, pending=pending)


def _allowed_steps(pending: Pending) -> set[str]:
    steps = {"logout", "whoami"}
    if pending.password_change:
        steps.add("password")
    elif pending.totp_enrolment:  # the password first, then the second factor
        steps.add("totp")
    return steps

