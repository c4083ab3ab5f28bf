"""Errors of accounts, logins and sessions, each with the HTTP status the API answers with.

::

    SecurityError (jnx.errors)
     └── AccountError                       http
          ├── InvalidCredentials            401  wrong username, password or TOTP code (never says which)
          │    └── TotpRequired             401  the account needs a TOTP code and none was given
          ├── AccountLocked                 423  too many wrong passwords; ``until`` says when it opens
          ├── LoginRateLimited              429  too many attempts for this account or address
          ├── SessionEnded                  401  the session is unknown, logged out, idle or past its end
          ├── PasswordChangeRequired        403  this session may only change the password
          ├── TotpEnrolmentRequired         403  this session may only enrol a TOTP authenticator
          ├── AccessDenied                  403  the roles (or the token's scopes) do not give the action
          ├── CsrfRejected                  403  a state-changing call with the cookie lacks the right X-CSRF-Token
          └── PasswordRejected              422  a new password breaks the rules; ``problems`` lists each
    InputError (jnx.errors)
     └── AccountInputError                  400  a username, role, region or department code is unusable

Messages never hold a password, a hash, a TOTP secret or a session token.
"""

from __future__ import annotations

import datetime as dt

from jnx.errors import InputError, SecurityError


class AccountError(SecurityError):
    """A login, session or password operation was refused."""

    http_status: int = 400
    code: str = "JNX-ACCOUNT"
    exit_code = 3


class InvalidCredentials(AccountError):
    http_status = 401
    code = "JNX-LOGIN-FAILED"

    def __init__(self, message: str = "wrong username or password", *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint or "check the username and password; 5 wrong passwords lock the account")


class TotpRequired(InvalidCredentials):
    code = "JNX-TOTP-REQUIRED"

    def __init__(self) -> None:
        super().__init__(
            "this account logs in with a TOTP code", hint="give the 6-digit code of your authenticator app (or a recovery code)"
        )


class AccountLocked(AccountError):
    http_status = 423
    code = "JNX-ACCOUNT-LOCKED"

    def __init__(self, until: dt.datetime | None) -> None:
        when = until.astimezone(dt.UTC).isoformat(timespec="seconds") if until else "a security administrator unlocks it"
        super().__init__(
            f"the account is locked until {when}",
            hint="wait for the lock to end, or ask a security administrator: jnx users unlock USERNAME",
        )
        self.until = until


class LoginRateLimited(AccountError):
    http_status = 429
    code = "JNX-LOGIN-RATE"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after} s", hint="wait, then try again")
        self.retry_after = retry_after


class SessionEnded(AccountError):
    http_status = 401
    code = "JNX-SESSION-ENDED"

    def __init__(self, reason: str = "unknown") -> None:
        super().__init__(f"the session has ended ({reason})", hint="log in again: POST /api/v1/session")
        self.reason = reason


class PasswordChangeRequired(AccountError):
    http_status = 403
    code = "JNX-PASSWORD-CHANGE-REQUIRED"

    def __init__(self) -> None:
        super().__init__(
            "the password must be changed before anything else",
            hint='POST /api/v1/session/password with {"password": NEW}',
        )


class CsrfRejected(AccountError):
    http_status = 403
    code = "JNX-CSRF"

    def __init__(self) -> None:
        super().__init__(
            "a state-changing call made with the session cookie needs the session's X-CSRF-Token header",
            hint="send the csrf_token the login answered with in the X-CSRF-Token header",
        )


class PasswordRejected(AccountError):
    http_status = 422
    code = "JNX-PASSWORD-RULES"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the password is not accepted: " + "; ".join(problems), hint="choose another password")
        self.problems = problems


class AccountInputError(InputError):
    http_status: int = 400
    code: str = "JNX-ACCOUNT-INPUT"


class AccessDenied(AccountError):
    """The actor's roles (or the token's scopes) do not give this action: 403, whatever the row."""

    http_status = 403
    code = "JNX-ACCESS-DENIED"

    def __init__(self, action: str, *, who: str) -> None:
        super().__init__(
            f"{who} may not {action}",
            hint="ask a security administrator for a role that gives it (docs/accounts.md lists the rights)",
        )
        self.action = action


class TotpEnrolmentRequired(AccountError):
    """An administrator's session may only enrol a TOTP authenticator until it has one."""

    http_status = 403
    code = "JNX-TOTP-ENROLMENT-REQUIRED"

    def __init__(self) -> None:
        super().__init__(
            "a TOTP authenticator must be enrolled before anything else",
            hint="POST /api/v1/session/totp, then POST /api/v1/session/totp/confirm with the code it shows",
        )
