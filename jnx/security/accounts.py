"""Accounts: users, passwords, lockout, TOTP, sessions — the rules of 等保2.0 level 3 over the database.

Every operation works in the caller's SQLAlchemy session (one transaction) and tells what it did
through ``note(actor, action, subject, details)``, which the caller turns into audit entries. A login
that fails still changes the database (the failure counter, the lock, the attempt), so
:meth:`Accounts.login` returns a :class:`LoginResult` whose ``error`` the caller raises *after* it
committed; everything else raises at once.

The pure parts live beside this module: :mod:`passwords` (rules, Argon2id), :mod:`totp`,
:mod:`sessions`, :mod:`roles`. This is the one module with the accounts' SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from jnx.codesets.validators import check_uscc
from jnx.errors import NotFoundError
from jnx.security import passwords, sessions, totp
from jnx.security.account_errors import (
    AccountError,
    AccountInputError,
    AccountLocked,
    InvalidCredentials,
    LoginRateLimited,
    PasswordRejected,
    SessionEnded,
    TotpRequired,
)
from jnx.security.roles import ADMIN_ROLES, Role, parse_roles, separation_problem
from jnx.settings import AccountSettings
from jnx.store.models import LoginAttempt, PasswordHistory, RecoveryCode, User, UserSession, UserState

Note = Callable[[str, str, str, dict[str, Any]], None]
"""``note(actor, action, subject, details)``: one audit entry to write."""

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
REGION = re.compile(r"^\d{6}(\d{3})?(\d{3})?$")


class UserNotFound(NotFoundError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user {username!r}", hint="list the users with: jnx users list")


@dataclass(frozen=True)
class Pending:
    """What a logged-in user must do before anything else (a restricted session)."""

    password_change: bool = False
    totp_enrolment: bool = False

    @property
    def any(self) -> bool:
        return self.password_change or self.totp_enrolment


@dataclass
class LoginResult:
    user: User | None = None
    token: str | None = None
    csrf_token: str | None = None
    session: UserSession | None = None
    pending: Pending = field(default_factory=Pending)
    error: AccountError | None = None


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str


def subject_of(username: str) -> str:
    return f"user:{username}"


class Accounts:
    """Account operations in one database session."""

    def __init__(
        self,
        session: Session,
        settings: AccountSettings,
        *,
        note: Note,
        hasher: passwords.Hasher | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.session = session
        self.settings = settings
        self.policy = passwords.PasswordPolicy.from_settings(settings)
        self.hasher = hasher or passwords.Hasher.from_settings(settings)
        self.note = note
        self.clock = clock
        self.times = sessions.SessionTimes(
            idle=dt.timedelta(minutes=settings.session_idle_minutes),
            absolute=dt.timedelta(hours=settings.session_absolute_hours),
        )

    # --- reading -------------------------------------------------------------------------------

    def find(self, username: str) -> User | None:
        return self.session.scalars(select(User).where(User.username == username.strip().lower())).first()

    def get(self, username: str) -> User:
        user = self.find(username)
        if user is None:
            raise UserNotFound(username)
        return user

    def all(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.username)).all()

    def effective_state(self, user: User, now: dt.datetime | None = None) -> UserState:
        """``locked`` only while the lock lasts; a lock that ended reads as ``active``."""
        now = now or self.clock()
        if user.state is UserState.LOCKED and user.locked_until is not None and user.locked_until <= now:
            return UserState.ACTIVE
        return user.state

    def needs_totp(self, user: User) -> bool:
        required = set(self.settings.totp_required_roles)
        return user.totp_confirmed_at is not None or any(role in required for role in user.roles)

    def pending(self, user: User, now: dt.datetime | None = None) -> Pending:
        now = now or self.clock()
        change = user.must_change_password or passwords.is_expired(user.password_changed_at, now, self.policy)
        enrol = self.needs_totp(user) and user.totp_confirmed_at is None
        return Pending(password_change=change, totp_enrolment=enrol)

    # --- managing users (security administrator; the CLI as the OS user) -----------------------

    def add(
        self,
        actor: str,
        username: str,
        *,
        roles: list[str],
        password: str | None,
        department: str | None = None,
        region: str | None = None,
        display_name: str = "",
        service: bool = False,
    ) -> User:
        name = username.strip().lower()
        if not USERNAME.match(name):
            raise AccountInputError(
                f"username {username!r} is not usable: 2-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
                hint="e.g. zhang.san",
            )
        if self.find(name) is not None:
            raise AccountInputError(f"user {name!r} already exists", hint=f"see it with: jnx users show {name}")
        parsed = self._roles(roles)
        department = self._department(department, parsed)
        region = self._region(region)
        now = self.clock()
        user = User(
            username=name, display_name=display_name, department=department, region=region,
            roles=[r.value for r in parsed], state=UserState.ACTIVE, service=service,
            must_change_password=self.settings.change_on_first_login and not service, failed_logins=0,
            created_at=now, updated_at=now,
        )
        self.session.add(user)
        self.session.flush()
        if password is not None:
            self._store_password(user, password, now=now)
            user.must_change_password = self.settings.change_on_first_login and not service
        self.note(actor, "user.created", subject_of(name), {
            "roles": user.roles, "department": department, "region": region, "service": service,
        })
        return user

    def set_roles(self, actor: str, username: str, roles: list[str]) -> User:
        user = self.get(username)
        parsed = self._roles(roles)
        self._department(user.department, parsed)
        before = list(user.roles)
        user.roles = [r.value for r in parsed]
        self.note(actor, "user.roles_changed", subject_of(user.username), {"before": before, "after": user.roles})
        return user

    def set_scope(self, actor: str, username: str, *, department: str | None, region: str | None) -> User:
        user = self.get(username)
        before = {"department": user.department, "region": user.region}
        user.department = self._department(department, parse_roles(user.roles))
        user.region = self._region(region)
        self.note(actor, "user.scope_changed", subject_of(user.username), {
            "before": before, "after": {"department": user.department, "region": user.region},
        })
        return user

    def disable(self, actor: str, username: str) -> User:
        user = self.get(username)
        user.state = UserState.DISABLED
        ended = self._end_sessions(user, "disabled")
        self.note(actor, "user.disabled", subject_of(user.username), {"sessions_ended": ended})
        return user

    def enable(self, actor: str, username: str) -> User:
        user = self.get(username)
        user.state, user.failed_logins, user.locked_until = UserState.ACTIVE, 0, None
        self.note(actor, "user.enabled", subject_of(user.username), {})
        return user

    def unlock(self, actor: str, username: str) -> User:
        user = self.get(username)
        was = self.effective_state(user)
        if user.state is UserState.LOCKED:
            user.state = UserState.ACTIVE
        user.failed_logins, user.locked_until = 0, None
        self.note(actor, "user.unlocked", subject_of(user.username), {"was": was.value})
        return user

    def reset_password(self, actor: str, username: str, password: str) -> User:
        """Set a password for someone else: it must be changed at their next login."""
        user = self.get(username)
        self._store_password(user, password, now=self.clock())
        user.must_change_password = self.settings.change_on_first_login
        user.failed_logins, user.locked_until = 0, None
        if user.state is UserState.LOCKED:
            user.state = UserState.ACTIVE
        ended = self._end_sessions(user, "password")
        self.note(actor, "user.password_reset", subject_of(user.username), {"sessions_ended": ended})
        return user

    def reset_totp(self, actor: str, username: str) -> User:
        """Forget a user's authenticator (lost phone): they enrol again at their next login."""
        user = self.get(username)
        user.totp_secret, user.totp_confirmed_at, user.totp_last_step = None, None, None
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        self.note(actor, "user.totp_reset", subject_of(user.username), {})
        return user

    # --- a user's own password and second factor -------------------------------------------------

    def change_password(self, user: User, new_password: str, *, session_id: str | None = None) -> None:
        """The user sets their own password: the rules and the history apply; other sessions end."""
        now = self.clock()
        self._store_password(user, new_password, now=now)
        user.must_change_password = False
        ended = self._end_sessions(user, "password", keep=session_id)
        self.note(user.username, "user.password_changed", subject_of(user.username), {"other_sessions_ended": ended})

    def begin_totp(self, user: User) -> TotpEnrolment:
        """A new secret for the user's authenticator; in force once :meth:`confirm_totp` saw a right code."""
        secret = totp.new_secret()
        user.totp_secret, user.totp_confirmed_at, user.totp_last_step = secret, None, None
        self.note(user.username, "user.totp_enrolment_started", subject_of(user.username), {})
        return TotpEnrolment(secret=secret, uri=totp.provisioning_uri(secret, user.username))

    def confirm_totp(self, user: User, code: str) -> list[str]:
        """Finish enrolment with a right code; answers the recovery codes (shown once, stored hashed)."""
        now = self.clock()
        step = totp.matching_step(user.totp_secret, code, now, last_step=None) if user.totp_secret else None
        if step is None:
            self.note(user.username, "user.totp_enrolment_failed", subject_of(user.username), {})
            raise InvalidCredentials("the TOTP code is not right", hint="type the code your authenticator shows now")
        user.totp_confirmed_at, user.totp_last_step = now, step
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        codes = totp.new_recovery_codes()
        self.session.add_all(RecoveryCode(user_id=user.id, code_hash=totp.recovery_code_hash(c), created_at=now) for c in codes)
        self.note(user.username, "user.totp_enrolled", subject_of(user.username), {"recovery_codes": len(codes)})
        return codes

    # --- login and sessions ----------------------------------------------------------------------

    def login(self, username: str, password: str, *, totp_code: str | None = None, address: str | None = None) -> LoginResult:
        """Check a login; on success open a session. Commit, then raise ``result.error`` if set."""
        now = self.clock()
        name = username.strip().lower()[:64]
        details: dict[str, Any] = {"address": address}
        limited = self._rate_limited(name, address, now)
        if limited is not None:
            self.note(name or "-", "login.rate_limited", subject_of(name), details)
            return LoginResult(error=LoginRateLimited(limited))
        attempt = LoginAttempt(username=name, address=address, succeeded=False, at=now)
        self.session.add(attempt)
        user = self.find(name)
        if user is None or user.service:
            self.hasher.burn(password)
            self.note(name or "-", "login.failed", subject_of(name), {**details, "reason": "unknown user"})
            return LoginResult(error=InvalidCredentials())
        if self.effective_state(user, now) is UserState.LOCKED:
            self.note(name, "login.refused", subject_of(name), {**details, "reason": "locked"})
            return LoginResult(error=AccountLocked(user.locked_until))
        if user.state is UserState.LOCKED:  # the lock ended
            user.state, user.failed_logins, user.locked_until = UserState.ACTIVE, 0, None
        if not self.hasher.verify(user.password_hash, password):
            return self._failed(user, details, now, "wrong password")
        if user.state is UserState.DISABLED:
            self.note(name, "login.refused", subject_of(name), {**details, "reason": "disabled"})
            return LoginResult(error=InvalidCredentials("the account is disabled", hint="ask a security administrator"))
        if user.totp_confirmed_at is not None:
            if not totp_code:
                self.note(name, "login.failed", subject_of(name), {**details, "reason": "no TOTP code"})
                return LoginResult(error=TotpRequired())
            if not self._second_factor(user, totp_code, now):
                return self._failed(user, details, now, "wrong TOTP code")
        user.failed_logins, user.last_login_at = 0, now
        if self.hasher.needs_rehash(user.password_hash or ""):
            user.password_hash = self.hasher.hash(password)
        attempt.succeeded = True
        token, row = self._open_session(user, address, now)
        pending = self.pending(user, now)
        self.note(name, "login.succeeded", subject_of(name), {
            **details, "password_change_required": pending.password_change, "totp_enrolment_required": pending.totp_enrolment,
        })
        self._prune_attempts(now)
        return LoginResult(user=user, token=token, csrf_token=row.csrf_token, session=row, pending=pending)

    def resume(self, token: str | None) -> tuple[UserSession, User]:
        """The open session of a cookie's token and its user, or :class:`SessionEnded`; marks it used."""
        if not token:
            raise SessionEnded("no session")
        now = self.clock()
        row = self.session.get(UserSession, sessions.token_hash(token))
        if row is None:
            raise SessionEnded("unknown")
        if row.ended_at is not None:
            raise SessionEnded(row.end_reason or "ended")
        reason = self.times.end_reason(last_seen_at=row.last_seen_at, expires_at=row.expires_at, now=now)
        user = self.session.get(User, row.user_id)
        if reason is None and (user is None or self.effective_state(user, now) is not UserState.ACTIVE):
            reason = "account not active"
        if reason is not None:
            row.ended_at, row.end_reason = now, reason
            if user is not None:
                self.note(user.username, "session.ended", subject_of(user.username), {"reason": reason})
            raise SessionEnded(reason)
        assert user is not None
        if now - row.last_seen_at >= dt.timedelta(seconds=15):
            row.last_seen_at = now
        return row, user

    def logout(self, token: str | None) -> bool:
        if not token:
            return False
        row = self.session.get(UserSession, sessions.token_hash(token))
        if row is None or row.ended_at is not None:
            return False
        row.ended_at, row.end_reason = self.clock(), "logout"
        user = self.session.get(User, row.user_id)
        if user is not None:
            self.note(user.username, "logout", subject_of(user.username), {"address": row.address})
        return True

    # --- inside ----------------------------------------------------------------------------------

    def _roles(self, names: list[str]) -> list[Role]:
        try:
            parsed = parse_roles(names)
        except ValueError as exc:
            raise AccountInputError(str(exc), hint="see the roles and their rights in docs/accounts.md") from None
        if not parsed:
            raise AccountInputError("a user needs at least one role", hint="--role ROLE (known: " + ", ".join(Role) + ")")
        problem = separation_problem(parsed)
        if problem:
            raise AccountInputError(problem, hint="give administrators separate accounts, one role each (docs/accounts.md)")
        return parsed

    def _department(self, department: str | None, roles: list[Role]) -> str | None:
        code = (department or "").strip().upper() or None
        if code is not None:
            verdict = check_uscc(code)
            if not verdict.ok:
                raise AccountInputError(f"department {code!r} is not a 统一社会信用代码: {verdict.reason}",
                                        hint="give the 执法主体's 18-character credit code")
        if Role.DEPARTMENT_OFFICER in roles and code is None:
            raise AccountInputError(
                "a department officer needs a department", hint="--department CODE (the 执法主体's 统一社会信用代码)"
            )
        return code

    def _region(self, region: str | None) -> str | None:
        code = (region or "").strip() or None
        if code is not None and not REGION.match(code):
            raise AccountInputError(
                f"region {code!r} is not a 行政区划代码: 6 digits (市/县), 9 or 12 digits (乡镇)",
                hint="e.g. --region 370811 for 任城区",
            )
        return code

    def _store_password(self, user: User, password: str, *, now: dt.datetime) -> None:
        problems = passwords.rule_problems(password, username=user.username, policy=self.policy)
        if self.policy.history > 0 and not problems:
            recent = self.session.scalars(
                select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
                .order_by(PasswordHistory.id.desc()).limit(self.policy.history)
            ).all()
            if self.hasher.matches_any(recent, password):
                problems.append(f"it may not be one of the last {self.policy.history} passwords")
        if problems:
            raise PasswordRejected(problems)
        digest = self.hasher.hash(password)
        user.password_hash, user.password_changed_at = digest, now
        self.session.add(PasswordHistory(user_id=user.id, password_hash=digest, created_at=now))
        self.session.flush()
        keep = self.session.scalars(
            select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.id.desc()).limit(max(self.policy.history, 1))
        ).all()
        self.session.execute(
            delete(PasswordHistory).where(PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(keep))
        )

    def _failed(self, user: User, details: dict[str, Any], now: dt.datetime, reason: str) -> LoginResult:
        user.failed_logins += 1
        self.note(user.username, "login.failed", subject_of(user.username), {
            **details, "reason": reason, "failures": user.failed_logins,
        })
        if user.failed_logins >= self.settings.lockout_threshold and user.state is not UserState.DISABLED:
            user.state = UserState.LOCKED
            user.locked_until = now + dt.timedelta(minutes=self.settings.lockout_minutes)
            self._end_sessions(user, "locked")
            self.note(user.username, "user.locked", subject_of(user.username), {
                "failures": user.failed_logins, "until": user.locked_until.isoformat(timespec="seconds"),
            })
        return LoginResult(error=InvalidCredentials())

    def _second_factor(self, user: User, code: str, now: dt.datetime) -> bool:
        assert user.totp_secret is not None
        step = totp.matching_step(user.totp_secret, code, now, last_step=user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return True
        if totp.looks_like_recovery_code(code):
            row = self.session.scalars(select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.code_hash == totp.recovery_code_hash(code),
                RecoveryCode.used_at.is_(None),
            )).first()
            if row is not None:
                row.used_at = now
                left = self.session.scalar(select(func.count()).select_from(RecoveryCode).where(
                    RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None), RecoveryCode.id != row.id))
                self.note(user.username, "user.recovery_code_used", subject_of(user.username), {"left": left})
                return True
        return False

    def _open_session(self, user: User, address: str | None, now: dt.datetime) -> tuple[str, UserSession]:
        token = sessions.new_token()
        row = UserSession(
            id=sessions.token_hash(token), user_id=user.id, csrf_token=sessions.new_token(), address=address,
            created_at=now, last_seen_at=now, expires_at=self.times.expires_at(now),
        )
        self.session.add(row)
        return token, row

    def _end_sessions(self, user: User, reason: str, *, keep: str | None = None) -> int:
        query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        if keep is not None:
            query = query.where(UserSession.id != keep)
        result = self.session.execute(query.values(ended_at=self.clock(), end_reason=reason))
        return int(getattr(result, "rowcount", 0) or 0)

    def _rate_limited(self, name: str, address: str | None, now: dt.datetime) -> int | None:
        """Seconds to wait when this account or address made too many attempts in the window, else None."""
        window = dt.timedelta(seconds=self.settings.login_limit_window_seconds)
        since = now - window
        checks = [(LoginAttempt.username == name, self.settings.login_limit_per_account)]
        if address:
            checks.append((LoginAttempt.address == address, self.settings.login_limit_per_address))
        for condition, limit in checks:
            times = self.session.scalars(
                select(LoginAttempt.at).where(condition, LoginAttempt.at > since)
                .order_by(LoginAttempt.at.desc()).limit(limit)
            ).all()
            if len(times) >= limit:
                return max(1, int((times[-1] + window - now).total_seconds()) + 1)
        return None

    def _prune_attempts(self, now: dt.datetime) -> None:
        horizon = now - max(dt.timedelta(days=1), dt.timedelta(seconds=2 * self.settings.login_limit_window_seconds))
        self.session.execute(delete(LoginAttempt).where(LoginAttempt.at < horizon))


def admin_role_of(user: User) -> Role | None:
    return next((Role(r) for r in user.roles if Role(r) in ADMIN_ROLES), None)


class UserView(BaseModel):
    """A user as the CLI, the API and the console show them: never a hash, a secret or a token."""

    username: str
    display_name: str
    department: str | None
    region: str | None
    roles: list[str]
    state: UserState
    service: bool
    totp_enrolled: bool
    password_change_required: bool
    password_changed_at: dt.datetime | None
    locked_until: dt.datetime | None
    last_login_at: dt.datetime | None
    created_at: dt.datetime


def view_of(accounts: Accounts, user: User) -> UserView:
    state = accounts.effective_state(user)
    return UserView(
        username=user.username, display_name=user.display_name, department=user.department, region=user.region,
        roles=list(user.roles), state=state, service=user.service, totp_enrolled=user.totp_confirmed_at is not None,
        password_change_required=(not user.service) and accounts.pending(user).password_change,
        password_changed_at=user.password_changed_at,
        locked_until=user.locked_until if state is UserState.LOCKED else None,
        last_login_at=user.last_login_at, created_at=user.created_at,
    )
