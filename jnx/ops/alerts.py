"""Alerts: opened once per cause, updated while it lasts, resolved when it ends (docs/operations.md).

An evaluation (:func:`evaluate`, run by ``jnx serve`` every ``alerts.interval_seconds`` and by
``jnx alerts check``) asks each enabled check of :mod:`jnx.ops.checks` what is wrong now — a list of
:class:`Finding`\\ s, each naming a kind and a subject — and :func:`reconcile` turns them into rows
of ``alerts``:

* a finding with no open alert of its kind and subject opens one (``INSERT … ON CONFLICT DO NOTHING``
  on the partial unique index of open alerts, so two ``jnx serve`` processes open it once);
* a finding whose alert is open updates its summary, details and ``updated_at``;
* an open alert of a check that ran and found nothing for its subject is resolved.

A check that fails (the database, a key store that cannot be read) resolves nothing: its alerts stay
as they were and the evaluation reports the failure. Then :mod:`jnx.ops.notify` tells the webhook
and the e-mail addresses of each opened and resolved alert, with retries, each attempt recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.store.db import session_factory, storage_errors
from jnx.store.models import Alert, AlertKind, AlertNotification, AlertSeverity, utcnow

log = logging.getLogger(__name__)

OPENED, RESOLVED = "opened", "resolved"
PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Finding:
    """Something wrong now: what (``kind``), about what (``subject``), how bad, in words and data."""

    kind: AlertKind
    subject: str
    severity: AlertSeverity
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


Check = Callable[[dt.datetime], list[Finding]]
"""One kind's check: the findings at ``now``; raising means "could not tell" (nothing is resolved)."""


@dataclass
class Evaluation:
    """What one evaluation did: ids of the alerts opened, updated and resolved, and checks that failed."""

    at: dt.datetime
    checked: list[str] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    failed_checks: dict[str, str] = field(default_factory=dict)
    notifications: dict[str, int] = field(default_factory=dict)  # sent, failed, pending (attempts recorded)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "checked": self.checked, "opened": self.opened, "updated": self.updated,
                "resolved": self.resolved, "failed_checks": self.failed_checks, "notifications": self.notifications}


def _pending(channels: Sequence[str]) -> dict[str, Any]:
    return {channel: {"state": PENDING, "attempts": 0, "passes": 0} for channel in channels}


def reconcile(session: Session, findings: Iterable[Finding], checked: Iterable[AlertKind], *, now: dt.datetime,
              channels: Sequence[str] = ()) -> Evaluation:
    """Open, update and resolve the alerts of the ``checked`` kinds to match ``findings`` (in ``session``'s
    transaction). ``channels`` are the notification channels configured: each event is pending on each."""
    kinds = set(checked)
    evaluation = Evaluation(at=now, checked=sorted(k.value for k in kinds))
    wanted = {(f.kind, f.subject): f for f in findings if f.kind in kinds}
    open_rows = {(a.kind, a.subject): a for a in session.scalars(
        select(Alert).where(Alert.resolved_at.is_(None), Alert.kind.in_(kinds)).with_for_update())} if kinds else {}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Alert.__table__
    for key, finding in wanted.items():
        row = open_rows.get(key)
        if row is not None:
            if (row.summary, row.details, row.severity) != (finding.summary, finding.details, finding.severity):
                row.summary, row.details, row.severity = finding.summary, finding.details, finding.severity
            row.updated_at = now
            evaluation.updated.append(row.id)
            continue
        statement = dialect.insert(table).values(
            kind=finding.kind.value, subject=finding.subject, severity=finding.severity.value, summary=finding.summary,
            details=finding.details, opened_at=now, updated_at=now, notifications={OPENED: _pending(channels)},
        ).on_conflict_do_nothing(index_elements=["kind", "subject"], index_where=table.c.resolved_at.is_(None)
                                 ).returning(table.c.id)
        opened = session.execute(statement).scalars().all()
        evaluation.opened.extend(opened)  # empty: another evaluator opened it a moment ago
    for key, row in open_rows.items():
        if key not in wanted:
            row.resolved_at = row.updated_at = now
            row.notifications = {**(row.notifications or {}), RESOLVED: _pending(channels)}
            evaluation.resolved.append(row.id)
    session.flush()
    return evaluation


def run_checks(checks: dict[AlertKind, Check], now: dt.datetime) -> tuple[list[Finding], set[AlertKind], dict[str, str]]:
    """Every check on its own: one that raises is reported and resolves nothing."""
    findings: list[Finding] = []
    checked: set[AlertKind] = set()
    failed: dict[str, str] = {}
    for kind, check in checks.items():
        try:
            found = check(now)
        except Exception as exc:  # noqa: BLE001 - one broken check never stops the others
            log.warning("alert check %s failed: %s", kind.value, exc)
            failed[kind.value] = f"{type(exc).__name__}: {exc}"
            continue
        checked.add(kind)
        findings.extend(found)
    return findings, checked, failed


def evaluate(engine: Engine, checks: dict[AlertKind, Check], *, now: dt.datetime | None = None,
             channels: Sequence[str] = ()) -> Evaluation:
    """Run the checks and reconcile the alerts with what they found, in one transaction."""
    now = now or utcnow()
    findings, checked, failed = run_checks(checks, now)
    with storage_errors(engine.url), session_factory(engine, immediate=True).begin() as session:
        evaluation = reconcile(session, findings, checked, now=now, channels=channels)
    evaluation.failed_checks = failed
    return evaluation


def alert_row(alert: Alert) -> dict[str, Any]:
    """An alert as `jnx alerts --json` and ``GET /api/v1/alerts`` show it."""
    return {"id": alert.id, "kind": alert.kind.value, "subject": alert.subject, "severity": alert.severity.value,
            "summary": alert.summary, "details": alert.details or {}, "opened_at": alert.opened_at,
            "updated_at": alert.updated_at, "resolved_at": alert.resolved_at,
            "state": "open" if alert.resolved_at is None else "resolved", "notifications": alert.notifications or {},
            "acknowledged_at": alert.acknowledged_at, "acknowledged_by": alert.acknowledged_by,
            "acknowledged_note": alert.acknowledged_note}


def acknowledge(session: Session, alert_id: int, *, by: str, note: str, now: dt.datetime) -> dict[str, Any]:
    """Note that someone is on an open alert: it stays open until its cause ends, but is no longer unattended."""
    from jnx.errors import ConfigError

    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFoundError(f"no alert #{alert_id}", hint="`jnx alerts` lists the open ones")
    if alert.resolved_at is not None:
        raise ConfigError(f"alert #{alert_id} was resolved at {alert.resolved_at:%Y-%m-%d %H:%M:%S} UTC: nothing to acknowledge",
                         hint="`jnx alerts` lists the open ones")
    alert.acknowledged_at, alert.acknowledged_by, alert.acknowledged_note = now, by, note
    session.flush()
    return alert_row(alert)


def list_alerts(session: Session, *, include_resolved: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Open alerts, critical first then oldest first; with ``include_resolved`` the latest resolved ones after them."""
    query = select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.severity, Alert.opened_at, Alert.id)
    rows = [alert_row(a) for a in session.scalars(query.limit(limit))]
    if include_resolved and len(rows) < limit:
        done = select(Alert).where(Alert.resolved_at.is_not(None)).order_by(Alert.resolved_at.desc(), Alert.id.desc())
        rows += [alert_row(a) for a in session.scalars(done.limit(limit - len(rows)))]
    return rows


def show_alert(session: Session, alert_id: int) -> dict[str, Any]:
    """One alert with every notification attempt."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"no alert #{alert_id}", hint="`jnx alerts --all` lists the open and the resolved ones")
    attempts = session.scalars(select(AlertNotification).where(AlertNotification.alert_id == alert_id)
                               .order_by(AlertNotification.id))
    return {**alert_row(alert), "attempts": [
        {"event": n.event, "channel": n.channel, "target": n.target, "attempt": n.attempt, "ok": n.ok, "answer": n.answer,
         "at": n.at} for n in attempts]}
