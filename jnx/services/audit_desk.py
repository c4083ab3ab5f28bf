"""审计 for the console: the audit log filtered by user, action, outcome and date, and the chain's
verification with the place where it breaks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jnx.security.audit import verify_chain
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.errors import AuditChainBroken
from jnx.security.masking import mask_id_numbers_in
from jnx.services.console_scope import Viewer
from jnx.store.models import AuditEntry

_SORTS = {"seq": AuditEntry.seq, "at": AuditEntry.at, "actor": AuditEntry.actor, "action": AuditEntry.action}
_CHINA = dt.timezone(dt.timedelta(hours=8))
FAILED_ACTIONS = ("%failed%", "%refused%", "%rate_limited%", "%rejected%")


def entries(session: Session, viewer: Viewer, *, actor: str | None = None, action: str | None = None, outcome: str | None = None,
            day_from: dt.date | None = None, day_to: dt.date | None = None, offset: int = 0, limit: int = 50,
            sort: str = "seq", descending: bool = True) -> tuple[list[dict[str, Any]], int]:
    viewer.scope("audit.read")
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    failed = [AuditEntry.action.like(p) for p in FAILED_ACTIONS]
    if outcome == "failed":
        from sqlalchemy import or_

        query = query.where(or_(*failed))
    elif outcome == "ok":
        from sqlalchemy import and_, not_

        query = query.where(and_(*(not_(f) for f in failed)))
    if day_from:
        query = query.where(AuditEntry.at >= dt.datetime.combine(day_from, dt.time(), _CHINA))
    if day_to:
        query = query.where(AuditEntry.at < dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), _CHINA))
    total = int(session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0)
    column = _SORTS.get(sort, AuditEntry.seq)
    rows = session.scalars(query.order_by(column.desc() if descending else column, AuditEntry.seq.desc()).offset(offset).limit(limit))
    return [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": mask_id_numbers_in(e.subject),
             "details": mask_id_numbers_in(", ".join(f"{k}={v}" for k, v in sorted((e.details or {}).items())))[:300],
             "hash": e.hash[:12]} for e in rows], total


def actions(session: Session, viewer: Viewer) -> list[str]:
    viewer.scope("audit.read")
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def verify(engine: Engine, viewer: Viewer) -> dict[str, Any]:
    """Walk the whole chain; where it breaks, the entry's seq and what is wrong."""
    viewer.scope("audit.verify")
    try:
        report = verify_chain(SqlAuditStore(engine).entries())
    except AuditChainBroken as exc:
        return {"ok": False, "message": str(exc), "seq": getattr(exc, "seq", None), "entries": None, "head": None}
    return {"ok": True, "message": None, "seq": None, "entries": report.entries, "head": report.head}
