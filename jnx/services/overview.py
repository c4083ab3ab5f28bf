"""总览: per department and system, what is late, what failed and what waits — one read for the console.

Every figure is one grouped query (not one per system), so the page stays fast with 10^5 records
and 10^4 errors stored (benchmarks/bench_console.py).
"""

from __future__ import annotations

import datetime as dt
import functools

from croniter import croniter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.exchange.runs import beijing_today
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.views import count_overdue
from jnx.security.scope import RowScope
from jnx.services.console_scope import Forbidden, Viewer
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureStatus,
    MappingErrorEntry,
    MappingErrorStatus,
    Run,
    RunStatus,
    SourceSystem,
)

_CHINA = dt.timezone(dt.timedelta(hours=8))
LATE_GRACE = dt.timedelta(minutes=30)  # a scheduled run this much past its time is late


class SystemHealth(BaseModel):
    id: str
    department_name: str
    department_credit_code: str
    kind: str
    protocol: str
    enabled: bool
    schedule: str | None
    lines: int
    last_success_at: dt.datetime | None
    last_run_id: int | None
    last_run_status: str | None
    last_run_error: str | None
    failing: bool
    late: bool
    next_due_at: dt.datetime | None
    records_today: int
    records_month: int
    open_error_groups: int
    open_errors: int

    @property
    def health(self) -> str:
        if not self.enabled:
            return "disabled"
        if self.failing:
            return "failing"
        if self.late:
            return "late"
        return "ok"


class Overview(BaseModel):
    generated_at: dt.datetime
    systems: list[SystemHealth]
    records_today: int
    records_month: int
    open_error_groups: int
    open_errors: int
    outbox_backlog: int
    outbox_failed: int
    disclosures_overdue: int
    disclosures_due_soon: int
    runs_failing: int
    runs_late: int


def _next_due(cron: str | None, after: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    if not cron:
        return None
    base = (after or now - dt.timedelta(days=1)).astimezone(_CHINA)
    try:
        following: dt.datetime = croniter(cron, base).get_next(dt.datetime)
        return following.astimezone(dt.UTC)
    except (ValueError, KeyError):
        return None


def overview(session: Session, viewer: Viewer, *, now: dt.datetime | None = None) -> Overview:
    """The 总览 of the systems the viewer may see."""
    can_systems, can_outbox, can_disclosures = (viewer.can(a) for a in ("systems.list", "deliveries.list", "disclosures.list"))
    if not (can_systems or can_outbox or can_disclosures):
        raise Forbidden(f"{viewer.username} may see no systems, outbox or disclosures", hint="the 我的账号 page shows your roles")
    now = now or dt.datetime.now(dt.UTC)
    local = now.astimezone(_CHINA)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)

    systems = list(session.scalars(select(SourceSystem).where(viewer.scope("systems.list").systems()).order_by(SourceSystem.id))
                   ) if can_systems else []
    ids = [s.id for s in systems]

    last_success = dict((r[0], r[1]) for r in session.execute(
        select(Run.system_id, func.max(Run.finished_at)).where(Run.status == RunStatus.SUCCEEDED, Run.system_id.in_(ids))
        .group_by(Run.system_id)).all())
    last_ids = dict((r[0], r[1]) for r in session.execute(
        select(Run.system_id, func.max(Run.id)).where(Run.system_id.in_(ids), Run.status.in_([RunStatus.SUCCEEDED, RunStatus.FAILED]))
        .group_by(Run.system_id)).all())
    last_runs = {r.id: r for r in session.scalars(select(Run).where(Run.id.in_(list(last_ids.values()))))}
    # records received today / this month: what the runs started in that time pulled (the runs
    # table is small; counting raw_records by time would scan 10^5-10^7 rows on every refresh)
    month: dict[str, int] = {}
    today: dict[str, int] = {}
    for system_id, started, counts in session.execute(
            select(Run.system_id, Run.started_at, Run.counts).where(Run.started_at >= month_start, Run.system_id.in_(ids))):
        pulled = int((counts or {}).get("pulled") or 0)
        month[system_id] = month.get(system_id, 0) + pulled
        if started is not None and started >= day_start:
            today[system_id] = today.get(system_id, 0) + pulled
    E = MappingErrorEntry
    errors = {row.system_id: (row.groups, row.errors) for row in session.execute(
        select(E.system_id, func.count(func.distinct(E.group_key)).label("groups"), func.count().label("errors"))
        .where(E.status == MappingErrorStatus.OPEN, E.system_id.in_(ids)).group_by(E.system_id))}

    rows: list[SystemHealth] = []
    for s in systems:
        last = last_runs.get(last_ids.get(s.id, -1))
        success = last_success.get(s.id)
        due = _next_due(s.schedule_cron, success, now)
        late = bool(s.enabled and due is not None and due + LATE_GRACE < now)
        adapter = s.registration.get("adapter")
        lines = adapter.get("lines") if isinstance(adapter, dict) else None
        groups, open_errors = errors.get(s.id, (0, 0))
        rows.append(SystemHealth(
            id=s.id, department_name=s.department_name, department_credit_code=s.department_credit_code,
            kind=s.kind.value, protocol=s.protocol, enabled=s.enabled, schedule=s.schedule_cron,
            lines=len(lines) if isinstance(lines, list) else 0,  # a file drop or 前置库 has none
            last_success_at=success, last_run_id=last.id if last else None,
            last_run_status=last.status.value if last else None,
            last_run_error=last.error if last and last.status is RunStatus.FAILED else None,
            failing=bool(last and last.status is RunStatus.FAILED), late=late, next_due_at=due,
            records_today=int(today.get(s.id, 0)), records_month=int(month.get(s.id, 0)),
            open_error_groups=int(groups), open_errors=int(open_errors)))

    outbox_backlog = outbox_failed = overdue = due_soon = 0
    if can_outbox:
        outbox = dict((r[0], r[1]) for r in session.execute(
            select(Delivery.status, func.count()).where(Delivery.status.in_(
                [DeliveryStatus.PENDING, DeliveryStatus.LEASED, DeliveryStatus.FAILED, DeliveryStatus.HELD]))
            .group_by(Delivery.status)).all())
        outbox_backlog = sum(int(v) for k, v in outbox.items() if k is not DeliveryStatus.FAILED)
        outbox_failed = int(outbox.get(DeliveryStatus.FAILED, 0))
    if can_disclosures:
        day = beijing_today()
        scope: RowScope = viewer.scope("disclosures.list")
        disclosures = select(func.count()).select_from(Disclosure).where(scope.disclosures())
        overdue = count_overdue(session, day, scope.disclosures())
        due_soon = int(session.scalar(disclosures.where(
            Disclosure.status.in_([DisclosureStatus.PENDING, DisclosureStatus.REJECTED]),
            Disclosure.deadline >= day, Disclosure.deadline <= _next_workday(day))) or 0)
    return Overview(
        generated_at=now, systems=rows,
        records_today=sum(r.records_today for r in rows), records_month=sum(r.records_month for r in rows),
        open_error_groups=sum(r.open_error_groups for r in rows), open_errors=sum(r.open_errors for r in rows),
        outbox_backlog=outbox_backlog, outbox_failed=outbox_failed, disclosures_overdue=overdue,
        disclosures_due_soon=due_soon, runs_failing=sum(r.failing for r in rows), runs_late=sum(r.late for r in rows))


@functools.cache
def _calendar() -> WorkdayCalendar:
    return WorkdayCalendar.load()


def _next_workday(day: dt.date) -> dt.date:
    """The next working day (weekends only in a year with no official schedule: provisional)."""
    return _calendar().add_workdays(day, 1).date

