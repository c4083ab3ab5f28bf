"""/api/v1/session and /api/v1/users over HTTP (FastAPI's in-process client), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from jnx.security import totp
from jnx.security.accounts import Accounts
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.store.models import AuditEntry
from jnx.web.accounts_api import AccountsGateway, accounts_router
from tests.security.accounts_support import DEPT_A, GOOD_PASSWORD, Clock, fast_settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gateway(migrated_engine: Engine, clock: Clock) -> AccountsGateway:
    return AccountsGateway(migrated_engine, Settings(accounts=fast_settings()), clock=clock)


@pytest.fixture
def client(gateway: AccountsGateway) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(accounts_router(gateway))
    with TestClient(app) as test_client:
        yield test_client


def add(gateway: AccountsGateway, username: str, role: str, password: str = GOOD_PASSWORD, **kwargs: str) -> None:
    with session_factory(gateway.engine).begin() as session:
        Accounts(session, gateway.settings.accounts, note=lambda *_: None, clock=gateway.clock).add(
            "cli:test", username, roles=[role], password=password, **kwargs)


def login(client: TestClient, username: str, password: str = GOOD_PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/session", json={"username": username, "password": password, **extra})


def ready(client: TestClient, gateway: AccountsGateway, username: str, role: str, **kwargs: str) -> dict[str, str]:
    """A user logged in with the password changed; answers the headers of a state-changing call."""
    add(gateway, username, role, **kwargs)
    answer = login(client, username).json()
    csrf = {"X-CSRF-Token": answer["csrf_token"]}
    assert client.post("/api/v1/session/password", json={"password": "Changed#2026"}, headers=csrf).status_code == 200
    return csrf


def test_login_sets_an_httponly_strict_cookie_and_answers_a_csrf_token(client: TestClient, gateway: AccountsGateway) -> None:
    add(gateway, "li.si", "department-officer", department=DEPT_A)
    answer = login(client, "li.si")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["password_change_required"] is True and body["csrf_token"] and body["username"] == "li.si"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("jnx_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http here; Secure behind TLS (next test)
    assert GOOD_PASSWORD not in answer.text


def test_the_cookie_is_secure_over_https(gateway: AccountsGateway) -> None:
    add(gateway, "li.si", "department-officer", department=DEPT_A)
    app = FastAPI()
    app.include_router(accounts_router(gateway))
    with TestClient(app, base_url="https://testserver") as secure_client:
        assert "Secure" in login(secure_client, "li.si").headers["set-cookie"]


def test_wrong_credentials_are_401_and_a_locked_account_423_until_unlocked(
    client: TestClient, gateway: AccountsGateway
) -> None:
    sec = ready(client, gateway, "sec", "security-admin")  # the admin's session may only enrol TOTP now
    add(gateway, "li.si", "department-officer", department=DEPT_A)
    other = TestClient(client.app)
    for _ in range(5):
        assert login(other, "li.si", "Wrong#pass1").status_code == 401
    locked = login(other, "li.si")
    assert locked.status_code == 423 and "locked until" in locked.json()["detail"] and locked.json()["hint"]
    assert client.post("/api/v1/users/li.si/unlock", headers=sec).status_code == 403  # TOTP enrolment first
    secret = client.post("/api/v1/session/totp", headers=sec).json()["secret"]
    codes = client.post("/api/v1/session/totp/confirm", json={"code": totp.code_at(secret, gateway.clock())}, headers=sec)
    assert codes.status_code == 200 and len(codes.json()["recovery_codes"]) == 10
    assert client.post("/api/v1/users/li.si/unlock", headers=sec).json()["state"] == "active"
    assert login(other, "li.si").status_code == 200
    with gateway.engine.connect() as connection:
        entries = connection.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.details)
                                     .where(AuditEntry.subject == "user:li.si").order_by(AuditEntry.seq)).all()
    actions = [e.action for e in entries]
    assert actions == ["login.failed"] * 5 + ["user.locked", "login.refused", "user.unlocked", "login.succeeded"]
    assert entries[0].details["address"] == "testclient" and entries[7].actor == "api:sec"


def test_a_session_with_a_password_due_may_only_change_it_then_works_in_full(
    client: TestClient, gateway: AccountsGateway
) -> None:
    add(gateway, "sec", "security-admin")
    add(gateway, "li.si", "department-officer", department=DEPT_A)
    gateway.settings.accounts.totp_required_roles = []
    csrf = {"X-CSRF-Token": login(client, "sec").json()["csrf_token"]}
    refused = client.get("/api/v1/users")
    assert refused.status_code == 403 and "password must be changed" in refused.json()["detail"]
    assert client.post("/api/v1/session/password", json={"password": GOOD_PASSWORD}, headers=csrf).status_code == 422
    changed = client.post("/api/v1/session/password", json={"password": "Changed#2026"}, headers=csrf)
    assert changed.status_code == 200 and changed.json()["password_change_required"] is False
    listed = client.get("/api/v1/users")
    assert listed.status_code == 200 and [u["username"] for u in listed.json()["users"]] == ["li.si", "sec"]


def test_state_changing_calls_with_the_cookie_need_the_csrf_header(client: TestClient, gateway: AccountsGateway) -> None:
    add(gateway, "li.si", "department-officer", department=DEPT_A)
    csrf = login(client, "li.si").json()["csrf_token"]
    assert client.post("/api/v1/session/password", json={"password": "Changed#2026"}).status_code == 403
    wrong = client.post("/api/v1/session/password", json={"password": "Changed#2026"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "JNX-CSRF"
    assert client.delete("/api/v1/session").status_code == 403
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get("/api/v1/session").status_code == 401


def test_users_are_listed_for_the_security_administrator_only(client: TestClient, gateway: AccountsGateway) -> None:
    gateway.settings.accounts.totp_required_roles = []
    for name, role in [("aud", "audit-admin"), ("sa", "system-admin"), ("op", "operator"), ("sup", "supervisor")]:
        ready(client, gateway, name, role)
        assert client.get("/api/v1/users").status_code == 403, role
        assert client.post("/api/v1/users", json={"username": "new", "roles": ["operator"], "password": "Created#2026"},
                           headers={"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"]}
                           ).status_code == 403, role
    sec = ready(client, gateway, "sec", "security-admin")
    created = client.post("/api/v1/users", json={"username": "new", "roles": ["operator"], "password": "Created#2026"},
                          headers=sec)
    assert created.status_code == 201 and created.json()["password_change_required"] is True
    assert "new" in [u["username"] for u in client.get("/api/v1/users").json()["users"]]


def test_a_session_ends_after_thirty_idle_minutes(client: TestClient, gateway: AccountsGateway, clock: Clock) -> None:
    ready(client, gateway, "li.si", "department-officer", department=DEPT_A)
    clock.advance(minutes=29)
    assert client.get("/api/v1/session").status_code == 200
    clock.advance(minutes=30)
    ended = client.get("/api/v1/session")
    assert ended.status_code == 401 and "idle" in ended.json()["detail"]


def test_login_attempts_past_the_rate_limit_are_429_with_retry_after(gateway: AccountsGateway) -> None:
    gateway.settings.accounts.login_limit_per_address = 2
    app = FastAPI()
    app.include_router(accounts_router(gateway))
    with TestClient(app) as test_client:
        for name in ("a1", "a2"):
            assert login(test_client, name, "x").status_code == 401
        limited = login(test_client, "a3", "x")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


def test_bearer_tokens_work_for_machines_without_cookie_or_csrf(client: TestClient, gateway: AccountsGateway) -> None:
    from jnx.security.tokens import Tokens

    add(gateway, "sec", "security-admin")
    add(gateway, "op", "operator")
    with session_factory(gateway.engine).begin() as session:
        tokens = Tokens(session, gateway.settings.accounts, note=lambda *_: None, clock=gateway.clock)
        admin_token = tokens.create("cli:test", "sec", "provisioning").token
        op_token = tokens.create("cli:test", "op", "monitor").token
    machine = TestClient(client.app)
    listed = machine.get("/api/v1/users", headers={"Authorization": f"Bearer {admin_token}"})
    assert listed.status_code == 200 and {u["username"] for u in listed.json()["users"]} == {"sec", "op"}
    created = machine.post("/api/v1/users", headers={"Authorization": f"Bearer {admin_token}"},
                           json={"username": "bot", "roles": ["operator"], "service": True})
    assert created.status_code == 201, created.text
    assert machine.get("/api/v1/users", headers={"Authorization": f"Bearer {op_token}"}).status_code == 403
    assert machine.get("/api/v1/users", headers={"Authorization": "Bearer jnx_forged"}).status_code == 401
    assert machine.get("/api/v1/users").status_code == 401


def test_a_refused_call_is_audited_as_denied_with_the_requests_correlation_id(
    client: TestClient, gateway: AccountsGateway
) -> None:
    gateway.settings.accounts.totp_required_roles = []
    ready(client, gateway, "sa", "system-admin")
    refused = client.post("/api/v1/users", json={"username": "x1", "roles": ["operator"], "password": "Created#2026"},
                          headers={"X-CSRF-Token": client.get("/api/v1/session").json()["csrf_token"],
                                   "X-Request-ID": "trace-0000000001"})
    assert refused.status_code == 403 and refused.headers["x-request-id"] == "trace-0000000001"
    with gateway.engine.connect() as connection:
        last = connection.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject, AuditEntry.details)
                                  .order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert (last.actor, last.action, last.subject) == ("api:sa", "access.denied", "user:x1")
    assert last.details == {"action": "users.create", "outcome": "denied", "correlation_id": "trace-0000000001"}


def test_a_login_entry_has_its_outcome(client: TestClient, gateway: AccountsGateway) -> None:
    add(gateway, "li.si", "department-officer", department=DEPT_A)
    assert login(client, "li.si", "Wrong#pass1").status_code == 401
    assert login(client, "li.si").status_code == 200
    with gateway.engine.connect() as connection:
        outcomes = [d["outcome"] for d in connection.execute(select(AuditEntry.details).order_by(AuditEntry.seq)).scalars()]
    assert outcomes == ["failed", "succeeded"]
