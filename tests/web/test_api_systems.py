"""Systems through the real app on SQLite and PostgreSQL: registered from YAML by the system
administrator (refused to an operator), enabled and disabled, rescheduled, checked as a job — each
audited with the token's name, another department's system 404 to a department officer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.security.accounts import Accounts
from jnx.security.audit_sql import SqlAuditStore
from jnx.settings import Settings
from tests.web.api_support import _auth
from tests.web.test_api_runs_jobs import wait_for

pytestmark = pytest.mark.usefixtures("cli_on_the_same_database")

EXAMPLES = Path(__file__).parents[2] / "examples" / "systems"
SYSTEM = "jn-case-handling"


def _actors(engine: Engine, action: str) -> list[str]:
    return [e.actor for e in SqlAuditStore(engine).entries() if e.action == action]


def test_a_system_is_registered_enabled_disabled_rescheduled_and_checked(
        token: Callable[..., str], client: TestClient, settings: Settings, migrated_engine: Engine, data: Any) -> None:
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "sysadmin", roles=["system-admin"], password="Str0ng-pass-word")
    operator, admin = _auth(token()), _auth(token("admin-token", user="sysadmin"))
    text = (EXAMPLES / "licensing.yaml").read_text(encoding="utf-8")
    assert client.post("/api/v1/systems", json={"registration": text}, headers=operator).status_code == 403
    made = client.post("/api/v1/systems", json={"registration": text}, headers=admin)
    assert made.status_code == 201, made.text
    system_id = made.json()["id"]
    assert made.json()["action"] == "created"
    assert client.post("/api/v1/systems", json={"registration": text}, headers=admin).json()["action"] in ("unchanged", "updated")
    bad = client.post("/api/v1/systems", json={"registration": "id: [unclosed"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["hint"]
    assert client.get(f"/api/v1/systems/{system_id}", headers=operator).status_code == 200

    off = client.post(f"/api/v1/systems/{system_id}/disable", headers=operator)
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert client.post(f"/api/v1/systems/{system_id}/enable", headers=operator).json()["enabled"] is True
    changed = client.put(f"/api/v1/systems/{system_id}/schedule", json={"cron": "7 2 * * *"}, headers=operator)
    assert changed.status_code == 200, changed.text
    assert changed.json()["after"] == "7 2 * * *" and changed.json()["changed"] and len(changed.json()["next_runs"]) == 3
    assert client.put(f"/api/v1/systems/{system_id}/schedule", json={"cron": "every day"}, headers=operator).status_code == 400
    assert client.post("/api/v1/systems/none-such/disable", headers=operator).status_code == 404

    checked = client.post(f"/api/v1/systems/{SYSTEM}/check", headers=operator)
    assert checked.status_code == 202, checked.text
    done = wait_for(client, checked.headers["Location"], operator)
    assert done["status"] == "succeeded" and done["kind"] == "systems.check"
    assert done["result"]["ok"] is False and done["result"]["lines"]  # the sandbox is not running: its lines do not answer

    for action in ("system.created", "system.disabled", "system.enabled", "system.schedule_set", "system.checked"):
        actors = _actors(migrated_engine, action)
        assert actors and actors[-1].endswith(("/token:admin-token", "/token:ci")), (action, actors)


def test_a_department_officer_checks_only_its_own_systems(token: Callable[..., str], client: TestClient, settings: Settings,
                                                         migrated_engine: Engine, data: Any) -> None:
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "stranger", roles=["department-officer"], password="Str0ng-pass-word", department="11370800MB0000000B")
    headers = _auth(token("stranger-token", user="stranger"))
    assert client.post(f"/api/v1/systems/{SYSTEM}/check", headers=headers).status_code == 404
    assert client.post(f"/api/v1/systems/{SYSTEM}/disable", headers=headers).status_code == 403  # not a department's right
