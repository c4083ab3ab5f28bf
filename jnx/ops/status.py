"""`jnx status`: one screen for the operator — workers, runs in flight with their progress, late systems,
the outbox backlog and the open alerts — read from the database, so it is the same on every machine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.ops.alerts import list_alerts
from jnx.ops.checks import WAITING, late_systems
from jnx.ops.workers import list_workers
from jnx.settings import Settings
from jnx.store.models import Delivery, DeliveryStatus, Run, RunStatus


def runs_in_flight(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    rows = session.scalars(select(Run).where(Run.status == RunStatus.RUNNING).order_by(Run.started_at, Run.id))
    out = []
    for run in rows:
        counts = run.counts or {}
        out.append({"run": run.id, "system": run.system_id, "worker": run.lease_owner, "trigger": run.trigger.value,
                    "started_at": run.started_at, "attempts": run.attempts,
                    "seconds": round((now - run.started_at).total_seconds(), 1) if run.started_at else None,
                    "pulled": counts.get("pulled", 0), "staged": counts.get("staged", 0), "new": counts.get("new", 0),
                    "revised": counts.get("revised", 0), "errors": counts.get("errors", 0),
                    "heartbeat_age_seconds": round((now - run.heartbeat_at).total_seconds(), 1) if run.heartbeat_at else None,
                    "lease_expired": run.lease_expires_at is not None and run.lease_expires_at < now})
    return out


def backlog(session: Session, now: dt.datetime) -> dict[str, Any]:
    """The outbox (its depth, the oldest waiting item, what is due now, held and failed) and the queued runs."""
    by_status: dict[DeliveryStatus, int] = {status: int(n) for status, n in session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status))}
    oldest = session.scalar(select(func.min(Delivery.created_at)).where(Delivery.status.in_(WAITING)))
    due_now = session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)) or 0
    queued = session.execute(select(func.count(), func.min(Run.due_at)).where(Run.status == RunStatus.QUEUED, Run.due_at <= now)).one()
    return {"outbox": {"depth": sum(by_status.get(s, 0) for s in WAITING), "due_now": int(due_now),
                       "oldest_created_at": oldest,
                       "oldest_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
                       "held": by_status.get(DeliveryStatus.HELD, 0), "failed": by_status.get(DeliveryStatus.FAILED, 0),
                       "rejected": by_status.get(DeliveryStatus.REJECTED, 0)},
            "runs_queued": {"count": int(queued[0]), "oldest_due_at": queued[1]}}


def status(session: Session, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """Everything `jnx status --json` prints."""
    late = late_systems(session, settings.alerts.system_late.factor, now)
    return {"at": now,
            "workers": list_workers(session, now=now, heartbeat_seconds=settings.worker_heartbeat_seconds),
            "runs_in_flight": runs_in_flight(session, now),
            "late_systems": [{"system": f.details["system"], "summary": f.summary, "last_success": f.details["last_success"]}
                             for f in late],
            "backlog": backlog(session, now),
            "alerts": list_alerts(session)}
