"""The issue's "done when", end to end: users made with `jnx users add`, then the API — a department
officer sees only their department's errors and disclosures and gets 404 for another's; the three
administrators stay in their lanes. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jnx.settings import Settings
from jnx.store.db import create_engine_for
from jnx.store.models import Disclosure, MappingErrorEntry
from jnx.web.app import create_app
from tests.commands.conftest import Jnx
from tests.security.accounts_support import DEPT_A, GOOD_PASSWORD
from tests.security.test_scope import seeded

NEW = "Changed#2026"


@pytest.fixture
def engine(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("JNX_ACCOUNTS__ARGON2_TIME_COST", "1")
    monkeypatch.setenv("JNX_ACCOUNTS__ARGON2_MEMORY_KIB", "8")
    monkeypatch.setenv("JNX_ACCOUNTS__TOTP_REQUIRED_ROLES", "[]")
    engine = create_engine_for(db)
    seeded(engine).close()
    yield engine
    engine.dispose()


def add_user(jnx: Jnx, monkeypatch: pytest.MonkeyPatch, name: str, role: str, *extra: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD_PASSWORD + "\n"))
    outcome = jnx("users", "add", name, "--role", role, *extra, "--password-stdin")
    assert outcome.code == 0, outcome.err


def client_for(engine: Engine, name: str) -> TestClient:
    client = TestClient(create_app(Settings(), engine=engine))
    csrf = client.post("/api/v1/session", json={"username": name, "password": GOOD_PASSWORD}).json()["csrf_token"]
    assert client.post("/api/v1/session/password", json={"password": NEW}, headers={"X-CSRF-Token": csrf}).status_code == 200
    return client


def test_a_department_officer_sees_only_their_departments_errors_and_disclosures(
    jnx: Jnx, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(jnx, monkeypatch, "li.si", "department-officer", "--department", DEPT_A)
    officer = client_for(engine, "li.si")
    with Session(engine) as session:
        errors = {e.system_id: e.id for e in session.scalars(select(MappingErrorEntry))}
        disclosures = {d.business_key: d.id for d in session.scalars(select(Disclosure))}
    listed = officer.get("/api/v1/errors")
    assert listed.status_code == 200
    assert sorted(e["system"] for e in listed.json()["errors"]) == ["a-city", "a-rencheng"]
    assert officer.get(f"/api/v1/errors/{errors['a-city']}").status_code == 200
    others = officer.get(f"/api/v1/errors/{errors['b-city']}")
    missing = officer.get("/api/v1/errors/999999")
    assert others.status_code == missing.status_code == 404
    assert others.json()["detail"] == f"no mapping error #{errors['b-city']}" and others.json()["hint"] == missing.json()["hint"]
    assert officer.get(f"/api/v1/errors/{errors['b-city']}/raw").status_code == 404
    own = [k for k in disclosures if k.startswith(f"{DEPT_A}|")]
    assert [d["business_key"] for d in officer.get("/api/v1/disclosures").json()["disclosures"]] == own
    foreign = next(i for k, i in disclosures.items() if not k.startswith(f"{DEPT_A}|"))
    assert officer.get(f"/api/v1/disclosures/{foreign}").status_code == 404
    assert officer.get(f"/api/v1/disclosures/{disclosures[own[0]]}").status_code == 200


def test_an_operator_sees_every_departments_errors(jnx: Jnx, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(jnx, monkeypatch, "op", "operator")
    assert len(client_for(engine, "op").get("/api/v1/errors").json()["errors"]) == 3


def test_the_administrators_stay_in_their_lanes(jnx: Jnx, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(jnx, monkeypatch, "aud", "audit-admin")
    add_user(jnx, monkeypatch, "sec", "security-admin")
    add_user(jnx, monkeypatch, "sa", "system-admin")
    with Session(engine) as session:
        error_id = session.scalars(select(MappingErrorEntry.id)).first()
    assert client_for(engine, "aud").get("/api/v1/users").status_code == 403
    security = client_for(engine, "sec")
    assert security.get(f"/api/v1/errors/{error_id}/raw").status_code == 403
    assert security.get("/api/v1/users").status_code == 200
    system = client_for(engine, "sa")
    csrf = system.get("/api/v1/session").json()["csrf_token"]
    created = system.post("/api/v1/users", json={"username": "x1", "roles": ["operator"], "password": NEW},
                          headers={"X-CSRF-Token": csrf})
    assert created.status_code == 403 and created.json()["code"] == "JNX-ACCESS-DENIED"


def test_health_needs_no_login_and_everything_else_does(engine: Engine) -> None:
    client = TestClient(create_app(Settings(), engine=engine))
    assert client.get("/api/v1/health").json() == {"status": "ok"}
    for path in ("/api/v1/errors", "/api/v1/disclosures", "/api/v1/users", "/api/v1/errors/1", "/api/v1/session"):
        assert client.get(path).status_code == 401, path


def test_the_audit_log_is_read_by_the_audit_administrator_and_the_supervisor_only(
    jnx: Jnx, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(jnx, monkeypatch, "aud", "audit-admin")
    add_user(jnx, monkeypatch, "sup", "supervisor")
    add_user(jnx, monkeypatch, "sec", "security-admin")
    auditor = client_for(engine, "aud")
    entries = auditor.get("/api/v1/audit", params={"action": "user."}).json()["entries"]
    assert [e["action"] for e in entries] == ["user.created"] * 3 + ["user.password_changed"]
    assert entries[0]["details"]["outcome"] == "succeeded"
    verified = auditor.get("/api/v1/audit/verify")
    assert verified.json().get("ok") is True, verified.text
    assert client_for(engine, "sup").get("/api/v1/audit").status_code == 200
    assert client_for(engine, "sec").get("/api/v1/audit").status_code == 403
    # nobody can change or delete it: there is no such route
    csrf = {"X-CSRF-Token": auditor.get("/api/v1/session").json()["csrf_token"]}
    assert auditor.delete("/api/v1/audit", headers=csrf).status_code == 405


def test_a_changed_audit_entry_is_found_by_the_verification(jnx: Jnx, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import update

    from jnx.store.models import AuditEntry

    add_user(jnx, monkeypatch, "aud", "audit-admin")
    add_user(jnx, monkeypatch, "op", "operator")
    auditor = client_for(engine, "aud")
    with engine.begin() as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="cli:someone-else"))
    verified = auditor.get("/api/v1/audit/verify").json()
    assert verified["ok"] is False and verified["broken_at"] == 2
