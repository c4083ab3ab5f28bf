"""系统 and 运行 for the console: the registered systems a viewer may see, one system with its lines
and recent runs, enable/disable, check now, run now; runs and one run with its counts and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.adapters.config import MappingSecrets
from jnx.adapters.urls import redact_url
from jnx.errors import NotFoundError
from jnx.exchange.registry import SystemRegistry
from jnx.exchange.syscheck import check_system
from jnx.exchange.wiring import Exchange
from jnx.progress import WorkProgress
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Viewer
from jnx.store.db import session_factory
from jnx.store.models import MappingErrorEntry, RawRecord, Run, RunStatus, SourceSystem, Watermark

_RUN_SORTS = {"id": Run.id, "system": Run.system_id, "status": Run.status, "started_at": Run.started_at,
              "finished_at": Run.finished_at, "trigger": Run.trigger}


def _system(session: Session, viewer: Viewer, action: str, system_id: str) -> SourceSystem:
    row = session.get(SourceSystem, system_id)
    if row is None or not viewer.scope(action).sees_system(row.department_credit_code, row.region_code):
        raise NotFoundError(f"no system {system_id!r}", hint="the 系统 page lists the systems you may see")
    return row


def systems(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    scope = viewer.scope("systems.list")
    registry = SystemRegistry()
    visible = set(session.scalars(select(SourceSystem.id).where(scope.systems())))
    return [s.summary() | {"line_count": len(s.summary()["lines"])} for s in registry.list(session) if s.id in visible]


def system(session: Session, viewer: Viewer, system_id: str) -> dict[str, Any]:
    _system(session, viewer, "systems.show", system_id)
    found = SystemRegistry().get(session, system_id)
    adapter = found.registration.adapter
    lines = [{"name": line.name, "url": redact_url(line.url)} for line in getattr(adapter, "lines", [])]
    marks = [{"stream": w.stream, "value": w.value, "updated_at": w.updated_at}
             for w in session.scalars(select(Watermark).where(Watermark.system_id == system_id).order_by(Watermark.stream))]
    recent = [_run_row(r) for r in session.scalars(select(Run).where(Run.system_id == system_id).order_by(Run.id.desc()).limit(10))]
    return {**found.summary(), "name": found.name, "line_details": lines, "watermarks": marks, "recent_runs": recent,
            "can_manage": viewer.can("systems.enable"), "can_check": viewer.can("systems.check"),
            "can_run": viewer.can("runs.start")}


def enabled_set(session: Session, viewer: Viewer, system_id: str, enabled: bool) -> dict[str, Any]:
    """Schedule a system's runs again (or stop), in the caller's transaction: its summary after."""
    _system(session, viewer, "systems.enable" if enabled else "systems.disable", system_id)
    return SystemRegistry().set_enabled(session, system_id, enabled).summary()


def set_enabled(session: Session, viewer: Viewer, audit: SqlAuditStore, system_id: str, enabled: bool, *,
                via: str = "console") -> dict[str, Any]:
    data = enabled_set(session, viewer, system_id, enabled)
    session.commit()
    audit.append(actor=viewer.username, action="system.enabled" if enabled else "system.disabled", subject=f"system:{system_id}",
                 details={"via": via}, at=dt.datetime.now(dt.UTC))
    return data


def check(exchange: Exchange, viewer: Viewer, audit: SqlAuditStore, system_id: str, progress: WorkProgress | None = None, *,
          via: str = "console") -> dict[str, Any]:
    """Check every line, the credentials and a sample pull mapped as a dry run (nothing stored)."""
    with session_factory(exchange.engine)() as session:
        _system(session, viewer, "systems.check", system_id)
        found = SystemRegistry().get(session, system_id)
    if progress is not None:
        progress.start("checking lines and a sample pull", None)
    report = check_system(found, tables=exchange.catalog, secrets=MappingSecrets(dict(exchange.environment))).as_dict()
    audit.append(actor=viewer.username, action="system.checked", subject=f"system:{system_id}",
                 details={"ok": report["ok"], "problems": len(report["problems"]), "via": via}, at=dt.datetime.now(dt.UTC))
    return report


def run_now(exchange: Exchange, viewer: Viewer, audit: SqlAuditStore, system_id: str, progress: WorkProgress | None = None, *,
            full: bool = False, via: str = "console") -> dict[str, Any]:
    with session_factory(exchange.engine)() as session:
        _system(session, viewer, "runs.start", system_id)
    exchange.progress = progress
    summary = exchange.runs().run_now(system_id, full=full).as_dict()
    audit.append(actor=viewer.username, action="run.started", subject=f"system:{system_id}",
                 details={"run": summary.get("run_id"), "status": summary.get("status"), "via": via}, at=dt.datetime.now(dt.UTC))
    return summary


def _run_row(run: Run) -> dict[str, Any]:
    counts = run.counts or {}
    return {"id": run.id, "system": run.system_id, "status": run.status.value, "trigger": run.trigger.value,
            "started_at": run.started_at, "finished_at": run.finished_at,
            "seconds": round((run.finished_at - run.started_at).total_seconds(), 1) if run.finished_at and run.started_at else None,
            "pulled": counts.get("pulled"), "new": counts.get("new"), "revised": counts.get("revised"),
            "unchanged": counts.get("unchanged"), "errors": counts.get("errors"), "error": run.error}


def runs(session: Session, viewer: Viewer, *, system: str | None = None, status: str | None = None, offset: int = 0,
         limit: int = 50, sort: str = "id", descending: bool = True) -> tuple[list[dict[str, Any]], int]:
    query = select(Run).where(viewer.scope("runs.list").runs())
    if system:
        query = query.where(Run.system_id == system)
    if status:
        query = query.where(Run.status == RunStatus(status))
    total = int(session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0)
    column = _RUN_SORTS.get(sort, Run.id)
    rows = session.scalars(query.order_by(column.desc() if descending else column, Run.id.desc()).offset(offset).limit(limit))
    return [_run_row(r) for r in rows], total


def run(session: Session, viewer: Viewer, run_id: int) -> dict[str, Any]:
    found = session.get(Run, run_id)
    if found is None or not session.scalar(select(func.count()).select_from(Run).where(Run.id == run_id, viewer.scope("runs.show").runs())):
        raise NotFoundError(f"no run #{run_id}", hint="the 运行 page lists the runs you may see")
    return {**_run_row(found), "counts": found.counts or {}, "watermark_from": found.watermark_from,
            "watermark_to": found.watermark_to, "attempts": found.attempts, "full": found.full,
            "error_groups": run_error_groups(session, run_id)}


def run_error_groups(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The errors a run's records met, by cause, largest first."""
    E = MappingErrorEntry
    records = func.count(func.distinct(E.raw_record_id))
    found = session.execute(
        select(E.group_key, E.field, E.rule, E.status, records).join(RawRecord, RawRecord.id == E.raw_record_id)
        .where(RawRecord.run_id == run_id).group_by(E.group_key, E.field, E.rule, E.status).order_by(records.desc())).all()
    return [{"group": g, "field": f, "rule": r, "status": s.value, "records": n} for g, f, r, s, n in found]
