"""Accounts on SQLite and PostgreSQL: creating users, lockout, expiry, history, TOTP, sessions, rate limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jnx.security import totp
from jnx.security.account_errors import (
    AccountInputError,
    AccountLocked,
    InvalidCredentials,
    LoginRateLimited,
    PasswordRejected,
    SessionEnded,
    TotpRequired,
)
from jnx.security.accounts import Accounts, LoginResult
from jnx.settings import AccountSettings
from jnx.store.db import session_factory
from jnx.store.models import PasswordHistory, User, UserState
from tests.security.accounts_support import DEPT_A, GOOD_PASSWORD, T0, Clock, Notes, fast_settings


@dataclass
class World:
    engine: Engine
    clock: Clock
    notes: Notes
    settings: AccountSettings

    def run(self, work):  # type: ignore[no-untyped-def]
        """Run ``work(accounts)`` in one committed transaction; raise a login's error after the commit."""
        with session_factory(self.engine).begin() as session:
            result = work(Accounts(session, self.settings, note=self.notes, clock=self.clock))
            if isinstance(result, LoginResult) and result.error is None:
                result = (result.token, result.csrf_token, result.pending)
        if isinstance(result, LoginResult) and result.error is not None:
            raise result.error
        return result

    def login(self, username: str, password: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.run(lambda a: a.login(username, password, **kwargs))

    def user(self, username: str) -> User:
        with Session(self.engine, expire_on_commit=False) as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            session.expunge(user)
            return user


@pytest.fixture
def world(migrated_engine: Engine) -> Iterator[World]:
    yield World(migrated_engine, Clock(), Notes(), fast_settings())


def add_officer(world: World, name: str = "li.si", password: str = GOOD_PASSWORD) -> None:
    world.run(lambda a: a.add("root", name, roles=["department-officer"], password=password, department=DEPT_A,
                              region="370811"))


def test_a_new_user_must_change_the_password_set_for_them_and_then_may_not_reuse_it(world: World) -> None:
    add_officer(world)
    token, csrf, pending = world.login("li.si", GOOD_PASSWORD, address="127.0.0.1")
    assert token and csrf and pending.password_change and not pending.totp_enrolment
    with pytest.raises(PasswordRejected, match="last 5 passwords"):
        world.run(lambda a: a.change_password(a.get("li.si"), GOOD_PASSWORD))
    world.run(lambda a: a.change_password(a.get("li.si"), "Another#2026"))
    _, _, pending = world.login("li.si", "Another#2026")
    assert not pending.any


def test_the_last_five_passwords_are_refused_and_the_sixth_oldest_is_allowed_again(world: World) -> None:
    add_officer(world, password="Passw0rd#0")
    for n in range(1, 6):
        world.run(lambda a, n=n: a.change_password(a.get("li.si"), f"Passw0rd#{n}"))
    for n in range(2, 6):
        with pytest.raises(PasswordRejected):
            world.run(lambda a, n=n: a.change_password(a.get("li.si"), f"Passw0rd#{n}"))
    world.run(lambda a: a.change_password(a.get("li.si"), "Passw0rd#0"))  # six passwords ago
    with Session(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(PasswordHistory)) == 5


def test_a_password_expires_after_ninety_days(world: World) -> None:
    add_officer(world)
    world.run(lambda a: a.change_password(a.get("li.si"), "Another#2026"))
    world.clock.advance(days=89)
    assert not world.login("li.si", "Another#2026")[2].password_change
    world.clock.advance(days=1)
    assert world.login("li.si", "Another#2026")[2].password_change


def test_five_wrong_passwords_lock_for_fifteen_minutes_and_each_attempt_is_noted(world: World) -> None:
    add_officer(world)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            world.login("li.si", "Wrong#pass1", address="10.0.0.9")
    assert world.user("li.si").state is UserState.LOCKED
    with pytest.raises(AccountLocked) as locked:
        world.login("li.si", GOOD_PASSWORD, address="10.0.0.9")
    assert locked.value.http_status == 423
    actions = world.notes.actions()
    assert actions.count("login.failed") == 5 and actions.count("user.locked") == 1 and actions[-1] == "login.refused"
    assert all(entry[3].get("address") == "10.0.0.9" for entry in world.notes.entries if entry[1].startswith("login."))
    world.clock.advance(minutes=14, seconds=59)
    with pytest.raises(AccountLocked):
        world.login("li.si", GOOD_PASSWORD)
    world.clock.advance(seconds=1)
    assert world.login("li.si", GOOD_PASSWORD)[0]
    assert world.user("li.si").state is UserState.ACTIVE


def test_a_security_administrator_unlocks_before_the_lock_ends(world: World) -> None:
    add_officer(world)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            world.login("li.si", "Wrong#pass1")
    world.run(lambda a: a.unlock("sec", "li.si"))
    assert world.login("li.si", GOOD_PASSWORD)[0]
    assert ("sec", "user.unlocked") in [(e[0], e[1]) for e in world.notes.entries]


def test_an_unknown_user_and_a_wrong_password_give_the_same_answer(world: World) -> None:
    add_officer(world)
    with pytest.raises(InvalidCredentials) as unknown:
        world.login("nobody", GOOD_PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        world.login("li.si", "Wrong#pass1")
    assert str(unknown.value) == str(wrong.value)


def test_a_disabled_user_cannot_log_in_and_their_sessions_end(world: World) -> None:
    add_officer(world)
    token = world.login("li.si", GOOD_PASSWORD)[0]
    world.run(lambda a: a.disable("sec", "li.si"))
    with pytest.raises(SessionEnded):
        world.run(lambda a: a.resume(token))
    with pytest.raises(InvalidCredentials, match="disabled"):
        world.login("li.si", GOOD_PASSWORD)
    world.run(lambda a: a.enable("sec", "li.si"))
    assert world.login("li.si", GOOD_PASSWORD)[0]


def test_a_session_ends_after_thirty_idle_minutes(world: World) -> None:
    add_officer(world)
    token = world.login("li.si", GOOD_PASSWORD)[0]
    world.clock.advance(minutes=29)
    world.run(lambda a: a.resume(token))
    world.clock.advance(minutes=29)
    world.run(lambda a: a.resume(token))  # used 29 minutes ago: still open
    world.clock.advance(minutes=30)
    with pytest.raises(SessionEnded, match="idle"):
        world.run(lambda a: a.resume(token))
    with pytest.raises(SessionEnded):
        world.run(lambda a: a.resume(token))


def test_a_session_ends_eight_hours_after_login_however_busy(world: World) -> None:
    add_officer(world)
    token = world.login("li.si", GOOD_PASSWORD)[0]
    for _ in range(20):
        world.clock.advance(minutes=29, seconds=59)
        try:
            world.run(lambda a: a.resume(token))
        except SessionEnded as ended:
            assert ended.reason == "expired"
            break
    else:
        pytest.fail("the session outlived 8 hours")
    assert world.clock.now - T0 >= dt.timedelta(hours=8)


def test_logout_ends_the_session(world: World) -> None:
    add_officer(world)
    token = world.login("li.si", GOOD_PASSWORD)[0]
    assert world.run(lambda a: a.logout(token))
    with pytest.raises(SessionEnded, match="logout"):
        world.run(lambda a: a.resume(token))
    assert "logout" in world.notes.actions()


def test_an_administrator_enrols_totp_then_needs_a_fresh_code_or_a_recovery_code(world: World) -> None:
    world.run(lambda a: a.add("root", "sec", roles=["security-admin"], password=GOOD_PASSWORD))
    _, _, pending = world.login("sec", GOOD_PASSWORD)
    assert pending.totp_enrolment  # required for the three administrators
    enrolment = world.run(lambda a: a.begin_totp(a.get("sec")))
    assert enrolment.uri.startswith("otpauth://totp/")
    with pytest.raises(InvalidCredentials):
        world.run(lambda a: a.confirm_totp(a.get("sec"), "000000"))
    codes = world.run(lambda a: a.confirm_totp(a.get("sec"), totp.code_at(enrolment.secret, world.clock.now)))
    assert len(codes) == 10
    world.clock.advance(seconds=31)
    with pytest.raises(TotpRequired):
        world.login("sec", GOOD_PASSWORD)
    code = totp.code_at(enrolment.secret, world.clock.now)
    assert world.login("sec", GOOD_PASSWORD, totp_code=code)[0]
    with pytest.raises(InvalidCredentials):  # the same code twice: refused
        world.login("sec", GOOD_PASSWORD, totp_code=code)
    assert world.login("sec", GOOD_PASSWORD, totp_code=codes[0])[0]
    with pytest.raises(InvalidCredentials):  # a recovery code is good once
        world.login("sec", GOOD_PASSWORD, totp_code=codes[0])
    assert "user.recovery_code_used" in world.notes.actions()


def test_wrong_totp_codes_count_towards_the_lock(world: World) -> None:
    world.run(lambda a: a.add("root", "aud", roles=["audit-admin"], password=GOOD_PASSWORD))
    secret = world.run(lambda a: a.begin_totp(a.get("aud"))).secret
    world.run(lambda a: a.confirm_totp(a.get("aud"), totp.code_at(secret, world.clock.now)))
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            world.login("aud", GOOD_PASSWORD, totp_code="123456")
    with pytest.raises(AccountLocked):
        world.login("aud", GOOD_PASSWORD, totp_code=totp.code_at(secret, world.clock.now))


def test_login_attempts_are_limited_per_address_and_per_account(migrated_engine: Engine) -> None:
    world = World(migrated_engine, Clock(), Notes(), fast_settings(login_limit_per_address=3, login_limit_per_account=4))
    add_officer(world)
    add_officer(world, "wang.wu")
    for name in ("nobody", "nobody2", "nobody3"):
        with pytest.raises(InvalidCredentials):
            world.login(name, "x", address="10.1.1.1")
    with pytest.raises(LoginRateLimited) as limited:
        world.login("li.si", GOOD_PASSWORD, address="10.1.1.1")
    assert 0 < limited.value.retry_after <= 301
    assert world.login("li.si", GOOD_PASSWORD, address="10.1.1.2")[0]  # another address
    for n in range(4):
        world.login("wang.wu", GOOD_PASSWORD, address=f"10.2.0.{n}")
    with pytest.raises(LoginRateLimited):
        world.login("wang.wu", GOOD_PASSWORD, address="10.2.0.9")
    world.clock.advance(minutes=5, seconds=1)
    assert world.login("wang.wu", GOOD_PASSWORD, address="10.2.0.9")[0]
    assert "login.rate_limited" in world.notes.actions()


def test_roles_are_checked_and_the_three_administrators_stay_apart(world: World) -> None:
    with pytest.raises(AccountInputError, match="unknown role 'root'"):
        world.run(lambda a: a.add("root", "x1", roles=["root"], password=None))
    with pytest.raises(AccountInputError, match="三员分立"):
        world.run(lambda a: a.add("root", "x2", roles=["system-admin", "audit-admin"], password=None))
    with pytest.raises(AccountInputError, match="needs a department"):
        world.run(lambda a: a.add("root", "x3", roles=["department-officer"], password=None))
    with pytest.raises(AccountInputError, match="统一社会信用代码"):
        world.run(lambda a: a.add("root", "x4", roles=["department-officer"], password=None, department="123"))
    world.run(lambda a: a.add("root", "x5", roles=["operator"], password=None))
    world.run(lambda a: a.set_roles("sec", "x5", ["operator", "credit-operator"]))
    assert world.user("x5").roles == ["operator", "credit-operator"]
    changed = [e for e in world.notes.entries if e[1] == "user.roles_changed"]
    assert changed[0][3] == {"before": ["operator"], "after": ["operator", "credit-operator"]}


def test_a_reset_password_must_be_changed_and_ends_the_users_sessions(world: World) -> None:
    add_officer(world)
    world.run(lambda a: a.change_password(a.get("li.si"), "Another#2026"))
    token = world.login("li.si", "Another#2026")[0]
    world.run(lambda a: a.reset_password("sec", "li.si", "Temporary#99"))
    with pytest.raises(SessionEnded):
        world.run(lambda a: a.resume(token))
    assert world.login("li.si", "Temporary#99")[2].password_change
