"""admit(): the cookie's session, CSRF on state-changing methods, a restricted session's only steps."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from jnx.security import totp
from jnx.security.account_errors import CsrfRejected, PasswordChangeRequired, SessionEnded, TotpEnrolmentRequired
from jnx.security.session_gate import admit, cleared_cookie, session_cookie
from jnx.security.sessions import token_hash
from tests.security.accounts_support import DEPT_A, GOOD_PASSWORD, Clock, Notes, fast_settings
from tests.security.test_accounts import World


@pytest.fixture
def world(migrated_engine: Engine) -> World:
    return World(migrated_engine, Clock(), Notes(), fast_settings())


def test_a_state_changing_call_needs_the_sessions_csrf_token(world: World) -> None:
    world.run(lambda a: a.add("root", "li.si", roles=["department-officer"], password=GOOD_PASSWORD, department=DEPT_A))
    world.run(lambda a: a.change_password(a.get("li.si"), "Another#2026"))
    token, csrf, _ = world.login("li.si", "Another#2026")
    assert world.run(lambda a: admit(a, token, method="GET", csrf_token=None).user.username) == "li.si"
    for wrong in (None, "", csrf[:-1] + "x"):
        with pytest.raises(CsrfRejected):
            world.run(lambda a, wrong=wrong: admit(a, token, method="POST", csrf_token=wrong))
    assert world.run(lambda a: admit(a, token, method="POST", csrf_token=csrf).user.username) == "li.si"
    with pytest.raises(SessionEnded):
        world.run(lambda a: admit(a, "forged", method="GET", csrf_token=None))


def test_a_session_with_a_password_due_may_only_change_it(world: World) -> None:
    world.run(lambda a: a.add("root", "li.si", roles=["department-officer"], password=GOOD_PASSWORD, department=DEPT_A))
    token, csrf, _ = world.login("li.si", GOOD_PASSWORD)
    with pytest.raises(PasswordChangeRequired):
        world.run(lambda a: admit(a, token, method="GET", csrf_token=None))
    admitted = world.run(lambda a: admit(a, token, method="POST", csrf_token=csrf, pending_step="password").pending)
    assert admitted.password_change
    world.run(lambda a: a.change_password(a.get("li.si"), "Another#2026", session_id=token_hash(token)))
    world.run(lambda a: admit(a, token, method="GET", csrf_token=None))  # the same session now works in full


def test_an_administrator_enrols_totp_before_anything_else(world: World) -> None:
    world.run(lambda a: a.add("root", "sa", roles=["system-admin"], password=GOOD_PASSWORD))
    world.run(lambda a: a.change_password(a.get("sa"), "Another#2026"))
    token, csrf, pending = world.login("sa", "Another#2026")
    assert pending.totp_enrolment
    with pytest.raises(TotpEnrolmentRequired):
        world.run(lambda a: admit(a, token, method="GET", csrf_token=None))
    secret = world.run(lambda a: admit(a, token, method="POST", csrf_token=csrf, pending_step="totp")
                       and a.begin_totp(a.get("sa"))).secret
    world.run(lambda a: a.confirm_totp(a.get("sa"), totp.code_at(secret, world.clock.now)))
    world.run(lambda a: admit(a, token, method="GET", csrf_token=None))


def test_the_cookie_is_httponly_strict_and_secure_behind_tls() -> None:
    cookie = session_cookie("t", secure=True, max_age_seconds=28800)
    assert cookie["httponly"] and cookie["samesite"] == "strict" and cookie["secure"] and cookie["path"] == "/"
    assert session_cookie("t", secure=False, max_age_seconds=1)["secure"] is False
    assert cleared_cookie(secure=True)["key"] == cookie["key"]
