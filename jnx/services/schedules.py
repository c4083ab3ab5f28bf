"""系统 → 计划: a system's schedule (cron, China time) changed from the console — previewed with the
next runs it gives (a GET that changes nothing), then set behind the confirm step and audited as
``system.schedule_set``. Rights: ``schedules.set`` (system administrator, operator). The stored
registration document carries the new schedule too, so ``jnx systems show`` and a later export agree.
"""

from __future__ import annotations

import datetime as dt

from croniter import croniter
from pydantic import BaseModel
from sqlalchemy.orm import Session

from jnx.errors import ConfigError
from jnx.exchange.registry import check_cron
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Viewer
from jnx.services.system_status import _system

_CHINA = dt.timezone(dt.timedelta(hours=8))


class ScheduleChange(BaseModel):
    system: str
    before: str | None
    after: str | None  # None: no scheduled runs (run now and the CLI still work)
    next_runs: list[dt.datetime]  # the next three, UTC
    changed: bool


def _parse(cron: str | None) -> str | None:
    text = " ".join((cron or "").split()) or None
    try:
        return check_cron(text)
    except ValueError as exc:
        raise ConfigError(str(exc), hint="e.g. '*/15 * * * *' every 15 minutes, '30 2 * * *' at 02:30 each day (China time)") from None


def preview_schedule(session: Session, viewer: Viewer, system_id: str, cron: str | None,
                     now: dt.datetime | None = None) -> ScheduleChange:
    """What setting ``cron`` would do: the schedule before and after and the next three runs; nothing changes."""
    row = _system(session, viewer, "schedules.set", system_id)
    after = _parse(cron)
    runs: list[dt.datetime] = []
    if after:
        ticks = croniter(after, (now or dt.datetime.now(dt.UTC)).astimezone(_CHINA))
        runs = [ticks.get_next(dt.datetime).astimezone(dt.UTC) for _ in range(3)]
    return ScheduleChange(system=system_id, before=row.schedule_cron, after=after, next_runs=runs, changed=after != row.schedule_cron)


def schedule_changed(session: Session, viewer: Viewer, system_id: str, cron: str | None) -> ScheduleChange:
    """Set the schedule in the caller's transaction (the stored registration too); what changed."""
    change = preview_schedule(session, viewer, system_id, cron)
    if change.changed:
        row = _system(session, viewer, "schedules.set", system_id)
        row.schedule_cron = change.after
        row.registration = {**row.registration, "schedule": change.after}
        session.flush()
    return change


def set_schedule(session: Session, viewer: Viewer, audit: SqlAuditStore, system_id: str, cron: str | None) -> ScheduleChange:
    """Set the schedule (the caller's session commits here); audited with the schedule before and after."""
    change = schedule_changed(session, viewer, system_id, cron)
    session.commit()
    if change.changed:
        audit.append(actor=viewer.username, action="system.schedule_set", subject=f"system:{system_id}",
                     details={"before": change.before, "after": change.after, "via": "console"}, at=dt.datetime.now(dt.UTC))
    return change
