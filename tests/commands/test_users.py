"""``jnx users …`` as a shell runs it: adding, listing, locking out and unlocking, roles, audited as the OS user."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import create_engine, select

from jnx.store.models import AuditEntry
from tests.commands.conftest import Jnx, assert_error
from tests.security.accounts_support import DEPT_A, GOOD_PASSWORD


@pytest.fixture(autouse=True)
def cheap_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_ACCOUNTS__ARGON2_TIME_COST", "1")
    monkeypatch.setenv("JNX_ACCOUNTS__ARGON2_MEMORY_KIB", "8")


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_a_department_officer_is_added_with_a_password_from_stdin_and_shown(
    jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, GOOD_PASSWORD + "\n")
    added = jnx("users", "add", "li.si", "--role", "department-officer", "--department", DEPT_A, "--region", "370811",
                "--password-stdin", "--json")
    assert added.code == 0, added.err
    user = added.json()
    assert user["username"] == "li.si" and user["roles"] == ["department-officer"] and user["department"] == DEPT_A
    assert user["state"] == "active" and user["password_change_required"] is True
    assert GOOD_PASSWORD not in added.out and "argon2" not in added.out
    listed = jnx("users", "list", "--json").json()["users"]
    assert [u["username"] for u in listed] == ["li.si"]
    shown = jnx("users", "show", "li.si")
    assert shown.code == 0 and "department-officer" in shown.out
    engine = create_engine(db)
    with engine.connect() as connection:
        entry = connection.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject)).one()
    engine.dispose()
    assert entry.actor.startswith("cli") and entry.action == "user.created" and entry.subject == "user:li.si"


def test_bad_input_is_one_error_with_a_hint(jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin(monkeypatch, GOOD_PASSWORD + "\n")
    assert_error(jnx("users", "add", "li.si", "--role", "department-officer", "--password-stdin"), 2,
                 says="needs a department", hint="--department CODE")
    stdin(monkeypatch, "short\n")
    assert_error(jnx("users", "add", "wang", "--role", "operator", "--password-stdin"), 3,
                 says="at least 8 characters", hint="another password")
    assert_error(jnx("users", "add", "wang", "--role", "operator"), 2, says="needs a password", hint="--password-stdin")
    assert_error(jnx("users", "show", "nobody"), 3, says="no user 'nobody'", hint="jnx users list")
    stdin(monkeypatch, GOOD_PASSWORD + "\n")
    assert_error(jnx("users", "add", "xx", "--role", "root", "--password-stdin"), 2, says="unknown role 'root'")


def test_disable_enable_unlock_reset_password_and_set_roles(jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin(monkeypatch, GOOD_PASSWORD + "\n")
    assert jnx("users", "add", "zhao", "--role", "operator", "--password-stdin").code == 0
    assert jnx("users", "disable", "zhao", "--json").json()["state"] == "disabled"
    assert jnx("users", "enable", "zhao", "--json").json()["state"] == "active"
    assert jnx("users", "unlock", "zhao", "--json").json()["state"] == "active"
    stdin(monkeypatch, "Temporary#99\n")
    assert jnx("users", "reset-password", "zhao", "--password-stdin", "--json").json()["password_change_required"]
    roles = jnx("users", "set-roles", "zhao", "--role", "operator", "--role", "supervisor", "--json").json()["roles"]
    assert roles == ["operator", "supervisor"]
    assert_error(jnx("users", "set-roles", "zhao", "--role", "security-admin", "--role", "operator"), 2, says="三员分立")
    engine = create_engine(db)
    with engine.connect() as connection:
        actions = list(connection.execute(select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())
    engine.dispose()
    assert actions == ["user.created", "user.disabled", "user.enabled", "user.unlocked", "user.password_reset",
                       "user.roles_changed", "users.update"]  # the last: the refused set-roles, failed


def test_jnx_tokens_create_prints_the_token_once_and_list_and_revoke_follow(
    jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert jnx("users", "add", "bot", "--role", "operator", "--service").code == 0
    created = jnx("tokens", "create", "--user", "bot", "--name", "scheduler", "--json")
    assert created.code == 0, created.err
    token = created.json()["token"]
    assert token.startswith("jnx_") and created.json()["scopes"] == ["*"]
    listed = jnx("tokens", "list", "--json").json()["tokens"]
    assert [t["name"] for t in listed] == ["scheduler"] and token not in jnx("tokens", "list").out
    assert jnx("tokens", "revoke", str(listed[0]["id"]), "--json").json()["active"] is False
    assert_error(jnx("tokens", "create", "--user", "bot", "--name", "x", "--scope", "users.*"), 2,
                 says="never holds more than its owner", hint="scopes are")
    assert_error(jnx("tokens", "create", "--user", "nobody", "--name", "x"), 3, says="no user 'nobody'")


def test_each_entry_has_its_outcome_and_the_commands_correlation_id_and_a_failed_change_leaves_a_trace(
    jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, GOOD_PASSWORD + "\n")
    assert jnx("users", "add", "zhao", "--role", "operator", "--password-stdin").code == 0
    assert jnx("users", "set-roles", "zhao", "--role", "system-admin", "--role", "audit-admin").code == 2
    engine = create_engine(db)
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.details)
                                  .order_by(AuditEntry.seq)).all()
    engine.dispose()
    assert [(r.action, r.subject, r.details["outcome"]) for r in rows] == [
        ("user.created", "user:zhao", "succeeded"), ("users.update", "user:zhao", "failed")]
    assert "三员分立" in rows[1].details["error"]
    assert len(rows[0].details["correlation_id"]) == 32 and rows[0].details["correlation_id"] != rows[1].details["correlation_id"]
