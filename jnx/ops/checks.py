"""The alert checks: each looks at one kind of trouble and says what is wrong now (:class:`Finding`\\ s).

| kind | subject | wrong when |
| --- | --- | --- |
| ``system_late`` | ``system:ID`` | an enabled, scheduled system has had no successful run for ``factor`` × its schedule's interval |
| ``line_down`` | ``line:ID/NAME`` | a line of an enabled system does not answer a probe (``jnx systems check``'s line test) |
| ``outbox_stale`` | ``outbox`` | an outbox item (pending or leased) is older than ``minutes`` |
| ``disclosure_due`` | ``disclosures:DEPT`` | a department's disclosures are overdue or due within ``workdays`` working days, not acknowledged |
| ``audit_broken`` | ``audit`` | the audit chain does not verify (with the checkpoints kept outside the database) |
| ``key_expiring`` | ``key:KID`` | an active key of jnx's is due for rotation (``max_age_days`` after it was made) within ``days`` |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from croniter import croniter
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jnx.exchange.registry import RegisteredSystem, SystemRegistry
from jnx.exchange.runs import BEIJING
from jnx.exchange.syscheck import LineCheck, check_lines
from jnx.ops.alerts import Check, Finding
from jnx.settings import AlertSettings, Settings
from jnx.store.db import session_factory, storage_errors
from jnx.store.models import (
    AlertKind,
    AlertSeverity,
    Delivery,
    DeliveryStatus,
    Run,
    RunStatus,
    SourceSystem,
    beijing_day,
)

WARNING, CRITICAL = AlertSeverity.WARNING, AlertSeverity.CRITICAL
LineProber = Callable[[RegisteredSystem, float], list[LineCheck]]


def schedule_interval(cron: str, now: dt.datetime) -> dt.timedelta:
    """The time between the schedule's slot before ``now`` and the one after it (Beijing time): a
    weekday schedule allows a weekend's gap on a weekend."""
    local = now.astimezone(BEIJING)
    after: dt.datetime = croniter(cron, local).get_next(dt.datetime)
    before: dt.datetime = croniter(cron, local).get_prev(dt.datetime)
    return after - before


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{max(seconds, 0) // 60} minutes"


def late_systems(session: Session, factor: float, now: dt.datetime) -> list[Finding]:
    """Enabled, scheduled systems with no successful run for ``factor`` × their interval (since they were
    registered, when they never had one)."""
    last_success = (select(Run.system_id, func.max(Run.finished_at).label("at")).where(Run.status == RunStatus.SUCCEEDED)
                    .group_by(Run.system_id).subquery())
    rows = session.execute(
        select(SourceSystem.id, SourceSystem.schedule_cron, SourceSystem.created_at, last_success.c.at)
        .outerjoin(last_success, last_success.c.system_id == SourceSystem.id)
        .where(SourceSystem.enabled.is_(True), SourceSystem.schedule_cron.is_not(None)).order_by(SourceSystem.id)).all()
    findings = []
    for system_id, cron, registered, succeeded in rows:
        interval = schedule_interval(str(cron), now)
        since = succeeded or registered
        allowed = interval * factor
        if now - since <= allowed:
            continue
        what = f"last successful run finished {_human(now - since)} ago" if succeeded else \
            f"no successful run since it was registered {_human(now - since)} ago"
        findings.append(Finding(
            AlertKind.SYSTEM_LATE, f"system:{system_id}", WARNING,
            f"system {system_id} is late: {what} (schedule {cron!r}, allowed {_human(allowed)})",
            {"system": system_id, "schedule": cron, "last_success": succeeded, "interval_seconds": interval.total_seconds(),
             "factor": factor, "hint": f"`jnx runs list`, `jnx systems check {system_id}`"}))
    return findings


def down_lines(engine: Engine, timeout: float, now: dt.datetime, probe: LineProber | None = None) -> list[Finding]:
    """Each HTTP line of each enabled system probed on its own (no failover), as `jnx systems check` does."""
    prober = probe or (lambda system, seconds: check_lines(system, timeout=seconds))
    with storage_errors(engine.url), session_factory(engine)() as session:
        systems = SystemRegistry().list(session, enabled_only=True)
    findings = []
    for system in systems:
        lines = prober(system, timeout)
        down = [line for line in lines if not line.ok]
        for line in down:
            everything = len(down) == len(lines)
            findings.append(Finding(
                AlertKind.LINE_DOWN, f"line:{system.id}/{line.name}", CRITICAL if everything else WARNING,
                f"line {line.name} of {system.id} ({line.url}) is down: {line.detail}"
                + (" — no line of the system answers" if everything else ""),
                {"system": system.id, "line": line.name, "url": line.url, "detail": line.detail, "all_lines_down": everything,
                 "hint": f"`jnx systems check {system.id}`; tell the department that runs it"}))
    return findings


WAITING = (DeliveryStatus.PENDING, DeliveryStatus.LEASED)


def stale_outbox(engine: Engine, minutes: float, now: dt.datetime) -> list[Finding]:
    """One finding while outbox items (pending or leased; held ones wait on purpose) are older than ``minutes``."""
    limit = now - dt.timedelta(minutes=minutes)
    with storage_errors(engine.url), session_factory(engine)() as session:
        count, oldest = session.execute(select(func.count(), func.min(Delivery.created_at))
                                        .where(Delivery.status.in_(WAITING), Delivery.created_at < limit)).one()
    if not count:
        return []
    return [Finding(AlertKind.OUTBOX_STALE, "outbox", WARNING,
                    f"{count} outbox item(s) waiting longer than {minutes:g} minutes (oldest {_human(now - oldest)})",
                    {"count": int(count), "oldest_created_at": oldest, "minutes": minutes,
                     "hint": "is `jnx serve` running? `jnx disclosures list --json`, `jnx systems check` of the credit platform"})]


def due_disclosures(engine: Engine, home: Path, workdays: int, now: dt.datetime) -> list[Finding]:
    """Per department (执法主体): disclosures overdue, or due within ``workdays`` working days, not acknowledged —
    the counts of the indicators' "overdue" and "due within 1 working day"."""
    from jnx.indicators.compute import make_scope
    from jnx.indicators.definitions import AllTime
    from jnx.indicators.publicity_sql import now_counts
    from jnx.publicity.calendar import WorkdayCalendar

    calendar = WorkdayCalendar.load(home / "calendar")
    today = beijing_day(now)
    with storage_errors(engine.url), session_factory(engine)() as session, session.begin():
        scope = make_scope(session, month=AllTime(), today=today, now=now, calendar=calendar)
        if workdays != 1:
            scope = _with_due_1(scope, calendar.add_workdays(today, workdays).date)
        counts = now_counts(session, scope)
    departments: dict[str, dict[str, Any]] = {}
    for name in ("overdue", "due_1"):
        for (department, kind), n in counts[name].items():
            cell = departments.setdefault(department, {"overdue": 0, "due_soon": 0, "kinds": {}})
            cell["overdue" if name == "overdue" else "due_soon"] += n
            cell["kinds"][kind] = cell["kinds"].get(kind, 0) + n
    findings = []
    for department, cell in sorted(departments.items()):
        parts = ([f"{cell['overdue']} overdue"] if cell["overdue"] else []) + \
            ([f"{cell['due_soon']} due by {scope.due_1}"] if cell["due_soon"] else [])
        findings.append(Finding(
            AlertKind.DISCLOSURE_DUE, f"disclosures:{department}", CRITICAL if cell["overdue"] else WARNING,
            f"双公示 of {department}: {' and '.join(parts)}, not acknowledged by the credit platform",
            {"department": department, **cell, "due_by": scope.due_1, "workdays": workdays,
             "hint": "`jnx disclosures list --overdue`; is `jnx serve` delivering? `jnx status`"}))
    return findings


def _with_due_1(scope: Any, until: dt.date) -> Any:
    from dataclasses import replace

    return replace(scope, due_1=until)


def broken_audit(engine: Engine, home: Path, now: dt.datetime) -> list[Finding]:
    """The audit chain verified as `jnx audit verify` does: with the checkpoints of ``home`` signed by jnx's keys."""
    from jnx.security.audit import verify_chain
    from jnx.security.audit_anchor import ANCHOR_FILE, AnchorLog, anchored_heads
    from jnx.security.audit_sql import SqlAuditStore
    from jnx.security.errors import AuditChainBroken
    from jnx.security.keys import KeyUse
    from jnx.security.keystore import KeyOwner
    from jnx.security.operator import key_store

    store = key_store(home, None)
    own = [store.public_key(r.kid) for r in store.records() if r.owner is KeyOwner.JNX and r.use is KeyUse.SIG] \
        if (home / "keys").exists() else []
    anchors = anchored_heads(AnchorLog(home / ANCHOR_FILE).checkpoints(), own)
    try:
        verify_chain(SqlAuditStore(engine).entries(), anchors=anchors.heads)
    except AuditChainBroken as broken:
        return [Finding(AlertKind.AUDIT_BROKEN, "audit", CRITICAL, str(broken),
                        {"broken_at": broken.seq, "hint": "`jnx audit verify`; tell the audit administrator at once"})]
    return []


def expiring_keys(home: Path, days: int, max_age_days: int, now: dt.datetime) -> list[Finding]:
    """Active keys of jnx's own whose rotation falls due (``max_age_days`` after they were made) within ``days``."""
    from jnx.security.keystore import KeyOwner, KeyState
    from jnx.security.operator import key_store

    if not (home / "keys").exists():
        return []
    findings = []
    for record in key_store(home, None).records():
        if record.owner is not KeyOwner.JNX or record.state is not KeyState.ACTIVE:
            continue
        due = record.created_at + dt.timedelta(days=max_age_days)
        left = due - now
        if left > dt.timedelta(days=days):
            continue
        when = f"was due {_human(-left)} ago" if left.total_seconds() < 0 else f"is due in {_human(left)}"
        findings.append(Finding(
            AlertKind.KEY_EXPIRING, f"key:{record.kid}", CRITICAL if left.total_seconds() < 0 else WARNING,
            f"key {record.kid} ({record.suite.value} {record.use.value}) {when}: rotate it",
            {"kid": record.kid, "suite": record.suite.value, "use": record.use.value, "created_at": record.created_at,
             "rotate_by": due, "max_age_days": max_age_days,
             "hint": f"`jnx keys rotate --suite {record.suite.value}` (peers fetch the new public key)"}))
    return findings


def _reading(engine: Engine, check: Callable[[Session], list[Finding]]) -> list[Finding]:
    with storage_errors(engine.url), session_factory(engine)() as session:
        return check(session)


def enabled_checks(settings: Settings, engine: Engine, probe: LineProber | None = None) -> dict[AlertKind, Check]:
    """The checks the settings switch on, bound to this database and home."""
    a: AlertSettings = settings.alerts
    home = settings.home
    checks: dict[AlertKind, Check] = {}
    if a.system_late.enabled:
        checks[AlertKind.SYSTEM_LATE] = lambda now: _reading(engine, lambda session: late_systems(session, a.system_late.factor, now))
    if a.line_down.enabled:
        checks[AlertKind.LINE_DOWN] = lambda now: down_lines(engine, a.line_down.timeout_seconds, now, probe)
    if a.outbox_stale.enabled:
        checks[AlertKind.OUTBOX_STALE] = lambda now: stale_outbox(engine, a.outbox_stale.minutes, now)
    if a.disclosure_due.enabled:
        checks[AlertKind.DISCLOSURE_DUE] = lambda now: due_disclosures(engine, home, a.disclosure_due.workdays, now)
    if a.audit_broken.enabled:
        checks[AlertKind.AUDIT_BROKEN] = lambda now: broken_audit(engine, home, now)
    if a.key_expiring.enabled:
        checks[AlertKind.KEY_EXPIRING] = lambda now: expiring_keys(home, a.key_expiring.days, a.key_expiring.max_age_days, now)
    return checks
