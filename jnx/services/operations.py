"""Operations as service calls: alerts (``alerts.list``), the worker registry and the operator's status
screen (``health.read``). `jnx alerts`, `jnx status`, ``GET /api/v1/alerts``, ``/workers`` and
``/status`` call these and only format."""

from __future__ import annotations

from typing import Any

from jnx.ops import alerts, status, workers
from jnx.services.context import ServiceContext


def list_alerts(ctx: ServiceContext, *, include_resolved: bool = False, limit: int = 200) -> dict[str, Any]:
    ctx.authorize("alerts.list")
    return {"alerts": alerts.list_alerts(ctx.session, include_resolved=include_resolved, limit=min(limit, 1000))}


def show_alert(ctx: ServiceContext, alert_id: int) -> dict[str, Any]:
    ctx.authorize("alerts.list")
    return alerts.show_alert(ctx.session, alert_id)


def acknowledge_alert(ctx: ServiceContext, alert_id: int, *, note: str) -> dict[str, Any]:
    """Someone is on this open alert (audited ``alert.acknowledged``)."""
    ctx.authorize("alerts.acknowledge")
    row = alerts.acknowledge(ctx.session, alert_id, by=ctx.actor.audit_name, note=note, now=ctx.clock())
    ctx.audit("alert.acknowledged", f"alert:{alert_id}", {"kind": row["kind"], "subject": row["subject"], "note": note})
    return row


def list_workers(ctx: ServiceContext, *, include_stopped: bool = False) -> dict[str, Any]:
    ctx.authorize("health.read")
    return {"workers": workers.list_workers(ctx.session, now=ctx.clock(), heartbeat_seconds=ctx.settings.worker_heartbeat_seconds,
                                            include_stopped=include_stopped)}


def operator_status(ctx: ServiceContext) -> dict[str, Any]:
    ctx.authorize("health.read")
    return status.status(ctx.session, ctx.settings, ctx.clock())
