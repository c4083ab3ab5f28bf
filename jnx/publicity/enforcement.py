"""执法公示 of the other enforcement acts: 行政强制 and 行政检查 decisions, 20 working days.

行政执法公示制度 (国办发〔2018〕118号, *unconfirmed*, docs/disclosures.md) gives 行政强制 and 行政检查
decisions their own clock: public within 20 working days of the decision. jnx is where those records
reach the supervision platform, so it tracks that clock per standard record in the plain table
``enforcement_publicity``: the deadline (with its provisional flag and basis), the Beijing day the
record first reached jnx, the day the agency made it public when the source reports it (``publicity_date``,
kept as ``published_on``), and a status — ``on_time`` (made public by its deadline; for a source without the
date: reached jnx by it), ``late`` (after it) or ``revoked`` (the source revoked the decision). The run's disclosure hook calls :func:`track` for the
records it stores; ``jnx disclosures list --overdue`` lists the late ones beside the overdue 双公示
disclosures, and the indicators count them by agency and region with SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from jnx.codesets import agency_level
from jnx.exchange.ingest import StoredRecord
from jnx.publicity.changes import revocation
from jnx.publicity.rules import WorkingDays, enforcement_publicity_deadline
from jnx.store.models import EnforcementPublicity, EnforcementPublicityStatus, utcnow

#: The record types tracked, and the field their clock starts on.
TRACKED: dict[str, str] = {"coercive_measure": "decision_date", "coercive_enforcement": "decision_date",
                           "inspection": "inspection_date"}
AUTHORITY: dict[str, str] = {"coercive_measure": "authority_credit_code", "coercive_enforcement": "authority_credit_code",
                             "inspection": "inspecting_department_credit_code"}
TABLE: Table = EnforcementPublicity.__table__  # type: ignore[assignment]
_KEYS = 900  # ids per IN (…)


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _status(revoked: bool, received: dt.date, deadline: dt.date, published: dt.date | None = None) -> EnforcementPublicityStatus:
    """By the day the act was made public when the source reports it, else by the day it reached jnx."""
    if revoked:
        return EnforcementPublicityStatus.REVOKED
    day = published if published is not None else received
    return EnforcementPublicityStatus.ON_TIME if day <= deadline else EnforcementPublicityStatus.LATE


def track(session: Session, stored: Sequence[StoredRecord], calendar: WorkingDays, today: dt.date) -> int:
    """Track the 执法公示 clock of the 行政强制 / 行政检查 records among ``stored`` (new or revised); how many rows
    were written. A record without its decision (or inspection) date is skipped: the standard's own check
    reports it."""
    wanted = [s for s in stored if s.record_type in TRACKED]
    if not wanted:
        return 0
    known: dict[int, tuple[int, dt.date, dt.date, EnforcementPublicityStatus, dt.date | None]] = {}
    ids = sorted({s.record_id for s in wanted})
    for start in range(0, len(ids), _KEYS):
        query = select(TABLE.c.standard_record_id, TABLE.c.id, TABLE.c.decision_date, TABLE.c.received_on, TABLE.c.status,
                       TABLE.c.published_on).where(TABLE.c.standard_record_id.in_(ids[start:start + _KEYS]))
        known.update({row[0]: (row[1], row[2], row[3], EnforcementPublicityStatus(row[4]), row[5]) for row in session.execute(query)})
    now, inserts, updates = utcnow(), {}, []
    deadlines: dict[dt.date, Any] = {}
    for record in wanted:
        data = record.data
        decided = _day(data.get(TRACKED[record.record_type]))
        if decided is None:
            continue
        deadline = deadlines.get(decided)
        if deadline is None:
            deadline = deadlines[decided] = enforcement_publicity_deadline(decided, calendar)
        revoked = revocation(data) is not None
        published = _day(data.get("publicity_date"))
        found = known.get(record.record_id)
        if found is None:
            inserts[record.record_id] = {
                "standard_record_id": record.record_id, "record_type": record.record_type, "business_key": record.business_key,
                "authority_credit_code": data.get(AUTHORITY[record.record_type]), "region": data.get("region"),
                "decision_date": decided, "deadline": deadline.date, "deadline_provisional": deadline.provisional,
                "deadline_basis": deadline.basis, "received_on": today, "published_on": published,
                "status": _status(revoked, today, deadline.date, published), "created_at": now, "updated_at": now}
            continue
        row_id, old_decision, received, old_status, old_published = found
        status = _status(revoked, received, deadline.date, published)
        if decided != old_decision or status is not old_status or published != old_published:
            updates.append({"e_id": row_id, "e_decision_date": decided, "e_deadline": deadline.date,
                            "e_deadline_provisional": deadline.provisional, "e_deadline_basis": deadline.basis,
                            "e_published_on": published, "e_status": status, "e_updated_at": now})
    if inserts:
        session.execute(insert(TABLE), list(inserts.values()))
    if updates:
        names = ("decision_date", "deadline", "deadline_provisional", "deadline_basis", "published_on", "status", "updated_at")
        statement = update(TABLE).where(TABLE.c.id == bindparam("e_id")).values(
            {name: bindparam(f"e_{name}", type_=TABLE.c[name].type) for name in names})
        session.execute(statement, updates)
    return len(inserts) + len(updates)


def late_items(session: Session, limit: int = 1000) -> list[dict[str, Any]]:
    """执法公示 items made public (or, without a date, reaching jnx) after their 20th working day, oldest deadline first."""
    query = select(EnforcementPublicity).where(EnforcementPublicity.status == EnforcementPublicityStatus.LATE) \
        .order_by(EnforcementPublicity.deadline, EnforcementPublicity.id).limit(limit)
    return [{"id": e.id, "record_type": e.record_type, "business_key": e.business_key, "authority_credit_code": e.authority_credit_code,
             "decision_date": e.decision_date, "deadline": e.deadline, "provisional": e.deadline_provisional,
             "received_on": e.received_on, "published_on": e.published_on, "status": e.status.value,
             "agency_level": _level(e)} for e in session.scalars(query)]


def _level(entry: EnforcementPublicity) -> str | None:
    level = agency_level(entry.region, entry.authority_credit_code, entry.decision_date)
    return level.value if level is not None else None


__all__ = ["TRACKED", "late_items", "track"]
