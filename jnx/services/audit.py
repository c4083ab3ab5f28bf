"""The audit log, for the audit administrator (and the supervisor, read-only): read and verify.
No service writes, edits or deletes entries — the chain is appended by the actions themselves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jnx.security.audit import AuditEntry, verify_chain
from jnx.security.audit_sql import audit_entries
from jnx.services.context import ServiceContext


def _entry(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "at": row.at, "actor": row.actor, "action": row.action, "subject": row.subject,
            "details": row.details or {}, "hash": row.hash}


def read_audit(ctx: ServiceContext, *, after: int = 0, limit: int = 200, actor: str | None = None,
               action: str | None = None, subject: str | None = None) -> dict[str, Any]:
    """Entries by seq after ``after`` (paging), filtered by actor, action (prefix) or subject."""
    ctx.authorize("audit.read")
    query = select(audit_entries).where(audit_entries.c.seq > after).order_by(audit_entries.c.seq).limit(min(limit, 1000))
    if actor:
        query = query.where(audit_entries.c.actor == actor)
    if action:
        query = query.where(audit_entries.c.action.startswith(action, autoescape=True))
    if subject:
        query = query.where(audit_entries.c.subject == subject)
    rows = [_entry(row) for row in ctx.session.execute(query)]
    return {"entries": rows, "next_after": rows[-1]["seq"] if rows else after}


def verify_audit(ctx: ServiceContext, *, expected_head: str | None = None) -> dict[str, Any]:
    """Walk the whole chain; ``ok`` false with the first broken seq when it was changed, cut or reordered."""
    from jnx.security.errors import AuditChainBroken

    ctx.authorize("audit.verify")
    rows = ctx.session.execute(select(audit_entries).order_by(audit_entries.c.seq)).yield_per(2000)
    entries = (AuditEntry(seq=r.seq, at=r.at, actor=r.actor, action=r.action, subject=r.subject, details=r.details or {},
                          prev_hash=r.prev_hash, hash=r.hash) for r in rows)
    try:
        report = verify_chain(entries, expected_head=expected_head)
    except AuditChainBroken as broken:
        return {"ok": False, "broken_at": broken.seq, "reason": str(broken)}
    return {"ok": True, "entries": report.entries, "head": report.head}
