"""双公示 for the console: disclosures filtered by status, kind, deadline and lateness within the
viewer's scope; one disclosure with revisions, deliveries and receipts; withdraw with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.exchange.runs import beijing_today
from jnx.publicity.actions import withdraw
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.derive import credit_system
from jnx.publicity.views import count_overdue, overdue_condition, row, show_disclosure
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.masking import mask_id_numbers_in
from jnx.services.console_scope import Viewer
from jnx.store.models import Disclosure, DisclosureKind, DisclosureStatus

_SORTS = {"id": Disclosure.id, "kind": Disclosure.kind, "status": Disclosure.status, "decision_date": Disclosure.decision_date,
          "deadline": Disclosure.deadline, "display_until": Disclosure.display_until, "revision": Disclosure.current_revision}


def disclosures(session: Session, viewer: Viewer, *, status: str | None = None, kind: str | None = None,
                overdue: bool = False, due_by: dt.date | None = None, offset: int = 0, limit: int = 50,
                sort: str = "deadline", descending: bool = False, department: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page of disclosures and how many match; ``department``: the 执法主体's 统一社会信用代码
    (the business key's first part)."""
    today = beijing_today()
    late = overdue_condition(today)
    where = [viewer.scope("disclosures.list").disclosures()]
    if department:
        where.append(Disclosure.business_key.startswith(f"{department.strip().upper()}|", autoescape=True))
    if status:
        where.append(Disclosure.status == DisclosureStatus(status))
    if kind:
        where.append(Disclosure.kind == DisclosureKind(kind))
    if due_by is not None:
        where.append(Disclosure.deadline <= due_by)
    if overdue:  # counted from the partial indexes, not by testing every row
        total = count_overdue(session, today, *where)
        where.append(late)
    else:
        total = int(session.scalar(select(func.count()).select_from(Disclosure).where(*where)) or 0)
    column = _SORTS.get(sort, Disclosure.deadline)
    # the page's ids first, then lateness for those rows only (not for every row the sort passes)
    ids = list(session.scalars(select(Disclosure.id).where(*where)
                               .order_by(column.desc() if descending else column, Disclosure.id).offset(offset).limit(limit)))
    found = {d.id: (d, is_late) for d, is_late in session.execute(
        select(Disclosure, late.label("late")).where(Disclosure.id.in_(ids)))}
    return [row(found[i][0], today, bool(found[i][1])) | {"business_key": mask_id_numbers_in(found[i][0].business_key)}
            for i in ids if i in found], total


def _visible(session: Session, viewer: Viewer, action: str, disclosure_id: int) -> Disclosure:
    found = session.get(Disclosure, disclosure_id)
    if found is None or not viewer.scope(action).sees_business_key(found.business_key):
        raise NotFoundError(f"no disclosure #{disclosure_id}", hint="the 双公示 page lists the disclosures you may see")
    return found


def disclosure(session: Session, viewer: Viewer, disclosure_id: int) -> dict[str, Any]:
    _visible(session, viewer, "disclosures.show", disclosure_id)
    shown = show_disclosure(session, disclosure_id, beijing_today())
    shown["can_withdraw"] = viewer.can("disclosures.withdraw") and shown["status"] not in {"withdrawn", "expired"}
    return shown


def withdrawn(session: Session, viewer: Viewer, disclosure_id: int, reason: str, calendar_dir: Any = None) -> dict[str, Any]:
    """Withdraw (撤下) a disclosure the viewer may withdraw, in the caller's transaction: queued for the
    platform, due in 3 working days (withdrawn at once when it was never sent)."""
    _visible(session, viewer, "disclosures.withdraw", disclosure_id)
    found = withdraw(session, disclosure_id, reason, WorkdayCalendar.load(calendar_dir), beijing_today())
    return {"id": found.id, "status": found.status.value, "revision": found.current_revision}


def withdraw_disclosure(session: Session, viewer: Viewer, audit: SqlAuditStore, disclosure_id: int, reason: str,
                        calendar_dir: Any = None) -> dict[str, Any]:
    data = withdrawn(session, viewer, disclosure_id, reason, calendar_dir)
    session.commit()
    audit.append(actor=viewer.username, action="disclosure.withdraw", subject=f"disclosure:{disclosure_id}",
                 details={"reason": reason, "via": "console"}, at=dt.datetime.now(dt.UTC))
    return data


def reconcile(exchange: Any, viewer: Viewer, audit: SqlAuditStore, progress: Any = None, *, via: str = "console") -> dict[str, Any]:
    """Compare what the credit platform holds with jnx's disclosures (`jnx reconcile credit`); audited."""
    from jnx.adapters.config import MappingSecrets
    from jnx.errors import ConfigError
    from jnx.publicity.reconcile import reconcile_credit
    from jnx.store.db import session_factory

    viewer.scope("reconcile.run")
    with session_factory(exchange.engine)() as session:
        system = credit_system(session)
    if system is None:
        raise ConfigError("no enabled system of kind `credit` is registered",
                          hint="register the credit platform with `jnx systems register FILE` (kind: credit, a push section)")
    report = reconcile_credit(exchange.engine, system, MappingSecrets(dict(exchange.environment)), progress=progress).as_dict()
    audit.append(actor=viewer.username, action="reconcile.credit", subject=f"system:{system.id}",
                 details={k: v for k, v in report.items() if isinstance(v, int)} | {"via": via}, at=dt.datetime.now(dt.UTC))
    return report
