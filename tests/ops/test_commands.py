"""`jnx alerts`, `jnx alerts show|check` and `jnx status` as a shell runs them, and the same data over
``GET /api/v1/alerts``, ``/workers`` and ``/status`` — given to the roles with ``alerts.list`` /
``health.read``, refused (403) to the others, 401 without a login. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jnx.ops.workers import WorkerRegistry
from jnx.settings import Settings
from jnx.store.db import create_engine_for
from jnx.store.models import (
    AuditEntry,
    Delivery,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    StandardRecord,
    utcnow,
)
from jnx.web.accounts_api import AccountsGateway
from jnx.web.ops_api import ops_router
from tests.commands import conftest as commands
from tests.commands.conftest import Jnx, assert_error
from tests.security.accounts_support import Clock, fast_settings
from tests.web.test_indicators_api import _token

DEPT = "11370800004180002M"
home, db = commands.home, commands.db  # the command tests' fixtures: a fresh JNX_HOME with a migrated database


def _stale_outbox(engine: Engine, age: dt.timedelta) -> None:
    with Session(engine) as session, session.begin():
        record = StandardRecord(record_type="penalty", business_key=f"{DEPT}|doc", content_hash="0" * 64, data={})
        session.add(record)
        session.flush()
        disclosure = Disclosure(kind=DisclosureKind.PENALTY, standard_record_id=record.id, business_key=f"{DEPT}|doc",
                                decision_date=dt.date(2026, 12, 1), deadline=dt.date(2099, 1, 1))
        session.add(disclosure)
        session.flush()
        revision = DisclosureRevision(disclosure_id=disclosure.id, revision=1, action=DisclosureAction.NEW, payload={},
                                      idempotency_key="k", due_date=dt.date(2099, 1, 1))
        session.add(revision)
        session.flush()
        session.add(Delivery(disclosure_revision_id=revision.id, created_at=utcnow() - age))


@pytest.fixture
def engine(db: str) -> Iterator[Engine]:
    engine = create_engine_for(db)
    yield engine
    engine.dispose()


def test_alerts_check_opens_lists_and_shows_and_status_sums_up(jnx: Jnx, engine: Engine) -> None:
    assert jnx("alerts", "--json").json() == {"alerts": []}
    quiet = jnx("alerts", "check", "--json")
    assert quiet.code == 0 and quiet.json()["evaluation"]["opened"] == []
    _stale_outbox(engine, dt.timedelta(hours=2))
    WorkerRegistry(engine, "host-a-1", threads=2, host="host-a", pid=1).register()

    loud = jnx("alerts", "check")
    assert loud.code == 1 and "1 opened" in loud.out and "outbox item(s) waiting longer than 60 minutes" in loud.out
    [alert] = jnx("alerts", "--json").json()["alerts"]
    assert (alert["kind"], alert["subject"], alert["state"]) == ("outbox_stale", "outbox", "open")
    shown = jnx("alerts", "show", str(alert["id"]), "--json").json()
    assert shown["attempts"] == [] and shown["details"]["count"] == 1
    assert_error(jnx("alerts", "show", "999"), 3, says="no alert #999", hint="jnx alerts --all")

    assert_error(jnx("alerts", "ack", str(alert["id"]), "--note", " "), 2, says="--note is empty")
    acked = jnx("alerts", "ack", str(alert["id"]), "--note", "Li Si restarts the credit line", "--json")
    assert acked.code == 0 and acked.json()["acknowledged_by"].startswith("cli:")
    assert jnx("alerts", "check").code == 0  # open still, but acknowledged: not unattended
    assert "acknowledged by cli:" in jnx("alerts").out
    with Session(engine) as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.acknowledged")).all()
        assert entry.subject == f"alert:{alert['id']}" and entry.details["note"] == "Li Si restarts the credit line"

    status = jnx("status", "--json").json()
    assert [w["id"] for w in status["workers"]] == ["host-a-1"] and status["workers"][0]["state"] == "alive"
    assert status["backlog"]["outbox"]["depth"] == 1 and status["backlog"]["outbox"]["oldest_age_seconds"] > 7000
    assert [a["id"] for a in status["alerts"]] == [alert["id"]] and status["runs_in_flight"] == []
    text = jnx("status").out
    assert "host-a-1" in text and "outbox 1 waiting" in text and "open alerts (1):" in text


def test_alerts_check_refuses_an_unsigned_webhook(jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_ALERTS__WEBHOOK_URL", "http://127.0.0.1:9/hook")
    assert_error(jnx("alerts", "check"), 3, says="alerts.webhook_secret is not", hint="JNX_ALERTS__WEBHOOK_SECRET__ENV")


def test_the_api_answers_alerts_workers_and_status_to_the_roles_the_rights_table_names(migrated_engine: Engine) -> None:
    _stale_outbox(migrated_engine, dt.timedelta(hours=2))
    from jnx.ops.watch import AlertWatch

    settings = Settings(accounts=fast_settings())
    AlertWatch(settings, migrated_engine, []).check()
    gateway = AccountsGateway(migrated_engine, settings, clock=Clock())
    app = FastAPI()
    app.include_router(ops_router(gateway))
    with TestClient(app) as client:
        operator = _token(gateway, "op", "operator")
        answer = client.get("/api/v1/alerts", headers=operator)
        assert answer.status_code == 200, answer.text
        [alert] = answer.json()["alerts"]
        assert alert["kind"] == "outbox_stale"
        assert client.get(f"/api/v1/alerts/{alert['id']}", headers=operator).json()["attempts"] == []
        assert client.get("/api/v1/workers", headers=operator).json() == {"workers": []}
        assert client.get("/api/v1/status", headers=operator).json()["backlog"]["outbox"]["depth"] == 1
        supervisor = _token(gateway, "sfj", "supervisor")
        ack = {"note": "on it"}
        assert client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json=ack, headers=supervisor).status_code == 403
        done = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json=ack, headers=operator)
        assert done.status_code == 200, done.text
        assert done.json()["acknowledged_by"] == "op/token:t" and done.json()["acknowledged_note"] == "on it"
        assert client.post("/api/v1/alerts/999/acknowledge", json=ack, headers=operator).status_code == 404
        assert client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={"note": ""}, headers=operator).status_code == 422
        with Session(migrated_engine) as session:
            audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.acknowledged")).all()
            assert [(e.actor, e.subject) for e in audited] == [("api:op/token:t", f"alert:{alert['id']}")]
        officer = _token(gateway, "dept", "department-officer", department=DEPT)
        for path in ("/api/v1/alerts", "/api/v1/workers", "/api/v1/status"):
            assert client.get(path, headers=officer).status_code == 403
            assert client.get(path).status_code == 401
