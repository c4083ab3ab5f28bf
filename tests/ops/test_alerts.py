"""Alerts: each check against real rows (SQLite and PostgreSQL), a real key store and audit chain; an
alert opens once, is updated while its cause lasts and resolved when it ends; a check that fails
resolves nothing; notifications retry on a real webhook that fails, and each attempt is recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jnx.adapters.config import MappingSecrets
from jnx.errors import ConfigError
from jnx.ops.alerts import Finding, evaluate, list_alerts, show_alert
from jnx.ops.checks import broken_audit, due_disclosures, expiring_keys, late_systems, schedule_interval, stale_outbox
from jnx.ops.notify import channels_from, deliver_pending
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.keys import KeyUse, Suite
from jnx.security.keystore import FileKeyStore
from jnx.settings import AlertSettings
from jnx.store.models import (
    Alert,
    AlertKind,
    AlertNotification,
    AlertSeverity,
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    Run,
    RunStatus,
    RunTrigger,
    SourceSystem,
    StandardRecord,
    SystemKind,
    beijing_day,
    utcnow,
)
from tests.ops.receivers import SECRET, webhook

DEPT = "11370800004180002M"
KIND, SUBJECT = AlertKind.OUTBOX_STALE, "outbox"


def _finding(summary: str = "3 waiting") -> Finding:
    return Finding(KIND, SUBJECT, AlertSeverity.WARNING, summary, {"count": 3})


def test_an_alert_opens_once_is_updated_while_it_lasts_and_resolves_when_it_ends(migrated_engine: Engine) -> None:
    t0 = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
    found = [_finding()]
    first = evaluate(migrated_engine, {KIND: lambda now: found}, now=t0, channels=["webhook"])
    assert len(first.opened) == 1 and first.resolved == []
    found[:] = [_finding("5 waiting")]
    second = evaluate(migrated_engine, {KIND: lambda now: found}, now=t0 + dt.timedelta(minutes=1))
    assert second.opened == [] and second.updated == first.opened
    with Session(migrated_engine) as session:
        [row] = list_alerts(session)
        assert (row["summary"], row["opened_at"], row["updated_at"]) == ("5 waiting", t0, t0 + dt.timedelta(minutes=1))
        assert row["notifications"] == {"opened": {"webhook": {"state": "pending", "attempts": 0, "passes": 0}}}

    def broken(now: dt.datetime) -> list[Finding]:
        raise OSError("key store unreadable")

    failed = evaluate(migrated_engine, {KIND: broken}, now=t0 + dt.timedelta(minutes=2))
    assert failed.resolved == [] and "OSError" in failed.failed_checks[KIND.value]  # could not tell: stays open
    found.clear()
    gone = evaluate(migrated_engine, {KIND: lambda now: found}, now=t0 + dt.timedelta(minutes=3), channels=["webhook"])
    assert gone.resolved == first.opened
    again = evaluate(migrated_engine, {KIND: lambda now: [_finding()]}, now=t0 + dt.timedelta(minutes=4))
    assert len(again.opened) == 1 and again.opened != first.opened  # the cause came back: a new alert
    with Session(migrated_engine) as session:
        assert [a["state"] for a in list_alerts(session, include_resolved=True)] == ["open", "resolved"]
        assert show_alert(session, first.opened[0])["resolved_at"] == t0 + dt.timedelta(minutes=3)


def test_the_database_keeps_one_open_alert_per_kind_and_subject(migrated_engine: Engine) -> None:
    now = utcnow()
    row = {"kind": KIND, "subject": SUBJECT, "severity": AlertSeverity.WARNING, "summary": "s", "details": {},
           "opened_at": now, "updated_at": now, "notifications": {}}
    with Session(migrated_engine) as session, session.begin():
        session.add(Alert(**row, resolved_at=now))  # resolved ones do not count
        session.add(Alert(**row))
    with pytest.raises(IntegrityError), Session(migrated_engine) as session, session.begin():
        session.add(Alert(**row))


def _system(session: Session, system_id: str, cron: str | None, created: dt.datetime) -> None:
    session.add(SourceSystem(id=system_id, department_name="d", department_credit_code=DEPT, region_code="370800",
                             kind=SystemKind.CASE_HANDLING, protocol="rest", registration={}, mapping_name="m",
                             mapping_version="1", schedule_cron=cron, created_at=created))


def test_a_system_is_late_after_three_schedules_without_a_successful_run(migrated_engine: Engine) -> None:
    now = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
    assert schedule_interval("0 2 * * *", now) == dt.timedelta(days=1)
    assert schedule_interval("0 9 * * 1-5", dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)) == dt.timedelta(days=3)  # Sat
    with Session(migrated_engine) as session, session.begin():
        _system(session, "daily", "0 2 * * *", now - dt.timedelta(days=10))
        _system(session, "new", "0 2 * * *", now - dt.timedelta(days=1))  # registered yesterday: not late yet
        _system(session, "manual", None, now - dt.timedelta(days=30))  # no schedule: never late
        session.add(Run(system_id="daily", status=RunStatus.FAILED, trigger=RunTrigger.SCHEDULE, due_at=now, counts={},
                        finished_at=now - dt.timedelta(hours=1)))  # a failed run does not count
        session.add(Run(system_id="daily", status=RunStatus.SUCCEEDED, trigger=RunTrigger.SCHEDULE,
                        due_at=now - dt.timedelta(days=4), counts={}, finished_at=now - dt.timedelta(days=4)))
    with Session(migrated_engine) as session:
        [late] = late_systems(session, 3.0, now)
        assert late.subject == "system:daily" and "4.0 days ago" in late.summary
        assert late_systems(session, 5.0, now) == []


def _disclosure(session: Session, n: int, deadline: dt.date) -> None:
    record = StandardRecord(record_type="penalty", business_key=f"{DEPT}|doc-{n}", content_hash="0" * 64, data={})
    session.add(record)
    session.flush()
    session.add(Disclosure(kind=DisclosureKind.PENALTY, standard_record_id=record.id, business_key=f"{DEPT}|doc-{n}",
                           decision_date=deadline - dt.timedelta(days=9), deadline=deadline, current_revision=0))


def test_stale_outbox_and_disclosures_near_their_deadline_are_found(migrated_engine: Engine, tmp_path: Path) -> None:
    now = utcnow()
    today = beijing_day(now)
    with Session(migrated_engine) as session, session.begin():
        _disclosure(session, 1, today - dt.timedelta(days=2))  # overdue
        _disclosure(session, 2, today)  # due today
        _disclosure(session, 3, today + dt.timedelta(days=30))  # far off
        disclosure = session.scalars(select(Disclosure).where(Disclosure.business_key == f"{DEPT}|doc-3")).one()
        revision = DisclosureRevision(disclosure_id=disclosure.id, revision=1, action=DisclosureAction.NEW, payload={},
                                      idempotency_key="k3", due_date=today + dt.timedelta(days=30))
        session.add(revision)
        session.flush()
        session.add(Delivery(disclosure_revision_id=revision.id, created_at=now - dt.timedelta(hours=2)))
        session.add(Delivery(disclosure_revision_id=revision.id, status=DeliveryStatus.HELD, created_at=now - dt.timedelta(hours=5)))
    [stale] = stale_outbox(migrated_engine, 60, now)
    assert stale.details["count"] == 1 and "longer than 60 minutes" in stale.summary  # the held one waits on purpose
    assert stale_outbox(migrated_engine, 180, now) == []
    [due] = due_disclosures(migrated_engine, tmp_path, 1, now)
    assert (due.subject, due.severity, due.details["overdue"], due.details["due_soon"]) == (
        f"disclosures:{DEPT}", AlertSeverity.CRITICAL, 1, 1)


def test_a_broken_audit_chain_and_a_key_due_for_rotation_are_found(migrated_engine: Engine, tmp_path: Path) -> None:
    store = SqlAuditStore(migrated_engine)
    for n in range(3):
        store.append(actor="cli:test", action="system.registered", subject=f"system:{n}", details={}, at=utcnow())
    assert broken_audit(migrated_engine, tmp_path, utcnow()) == []
    with migrated_engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET subject = 'system:x' WHERE seq = 2"))
    [broken] = broken_audit(migrated_engine, tmp_path, utcnow())
    assert broken.details["broken_at"] == 2 and broken.severity is AlertSeverity.CRITICAL

    now = utcnow()
    keys = FileKeyStore(tmp_path / "keys", "a passphrase of the test", scrypt_n=2**14)
    old = keys.generate(Suite.JOSE, KeyUse.SIG, now=now - dt.timedelta(days=350))
    keys.generate(Suite.SM, KeyUse.SIG, now=now - dt.timedelta(days=10))
    [expiring] = expiring_keys(tmp_path, 30, 365, now)
    assert expiring.subject == f"key:{old.kid}" and expiring.severity is AlertSeverity.WARNING and "jnx keys rotate" in \
        expiring.details["hint"]
    [overdue] = expiring_keys(tmp_path, 30, 300, now)
    assert overdue.severity is AlertSeverity.CRITICAL and "was due" in overdue.summary


def test_a_failing_webhook_is_retried_each_attempt_recorded_then_failed_after_its_passes(migrated_engine: Engine) -> None:
    evaluation = evaluate(migrated_engine, {KIND: lambda now: [_finding()]}, channels=["webhook"])
    [alert_id] = evaluation.opened
    with webhook() as hook:
        settings = AlertSettings(webhook_url=hook.url, webhook_secret={"env": "HOOK"}, notify_attempts=3, notify_passes=2)
        channels = channels_from(settings, MappingSecrets({"HOOK": SECRET}))
        hook.fail_next = 2  # two 503s, then the third try gets through
        assert deliver_pending(migrated_engine, channels, settings, wait_max=0.01) == {"sent": 1, "failed": 0, "pending": 0}
        assert hook.events() == [("alert.opened", KIND.value, SUBJECT)] and hook.requests == 3

        evaluate(migrated_engine, {KIND: lambda now: []}, channels=["webhook"])  # resolved: a new event
        hook.fail_next = 100
        assert deliver_pending(migrated_engine, channels, settings, wait_max=0.01) == {"sent": 0, "failed": 0, "pending": 1}
        assert deliver_pending(migrated_engine, channels, settings, wait_max=0.01) == {"sent": 0, "failed": 1, "pending": 0}
        assert deliver_pending(migrated_engine, channels, settings, wait_max=0.01) == {"sent": 0, "failed": 0, "pending": 0}
    with Session(migrated_engine) as session:
        shown = show_alert(session, alert_id)
        assert shown["notifications"]["opened"]["webhook"]["state"] == "sent"
        assert shown["notifications"]["resolved"]["webhook"] | {"answer": ""} == {
            "state": "failed", "attempts": 6, "passes": 2, "answer": ""}
        attempts = [(a["event"], a["attempt"], a["ok"]) for a in shown["attempts"]]
        assert attempts == [("opened", 1, False), ("opened", 2, False), ("opened", 3, True)] + [
            ("resolved", n, False) for n in range(1, 7)]
        assert "HTTP 503" in shown["attempts"][0]["answer"]
        assert session.query(AlertNotification).count() == 9


def test_a_webhook_is_only_used_signed(migrated_engine: Engine) -> None:
    with pytest.raises(ConfigError, match="webhook_secret"):
        channels_from(AlertSettings(webhook_url="http://127.0.0.1:9/hook"), MappingSecrets({}))
    with pytest.raises(ConfigError, match="HOOK_SECRET is not set"):
        channels_from(AlertSettings(webhook_url="http://127.0.0.1:9/hook", webhook_secret={"env": "HOOK_SECRET"}),
                      MappingSecrets({}))
    with webhook(secret="another secret") as hook:  # a receiver with another secret refuses every event
        settings = AlertSettings(webhook_url=hook.url, webhook_secret={"env": "HOOK"}, notify_attempts=1)
        evaluate(migrated_engine, {KIND: lambda now: [_finding()]}, channels=["webhook"])
        deliver_pending(migrated_engine, channels_from(settings, MappingSecrets({"HOOK": SECRET})), settings, wait_max=0.01)
        assert hook.refused == 1 and hook.received == []


def test_a_costly_check_runs_at_most_as_often_as_its_setting_says(migrated_engine: Engine, tmp_path: Path) -> None:
    from jnx.ops.watch import AlertWatch
    from jnx.settings import Settings

    store = SqlAuditStore(migrated_engine)
    for n in range(2):
        store.append(actor="cli:test", action="system.registered", subject=f"system:{n}", details={}, at=utcnow())
    with migrated_engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET subject = 'system:x' WHERE seq = 1"))
    watch = AlertWatch(Settings(home=tmp_path), migrated_engine, [])
    t0 = utcnow()
    first = watch.check(t0)
    assert first is not None and "audit_broken" in first.checked and len(first.opened) == 1
    soon = watch.check(t0 + dt.timedelta(minutes=5))  # the chain is verified hourly: not now, and nothing resolved
    assert soon is not None and "audit_broken" not in soon.checked and "outbox_stale" in soon.checked
    assert soon.resolved == [] and soon.updated == []
    later = watch.check(t0 + dt.timedelta(minutes=61))
    assert later is not None and "audit_broken" in later.checked and later.updated == first.opened
