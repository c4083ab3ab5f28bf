"""双公示 indicators in SQL: timeliness, completeness, compliance, overdue and due soon,
corrections and withdrawals, credit repairs — each an aggregate by 执法主体 and kind, and the
drill-down list of the same rows (``sets``), so a figure and its records never disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Numeric, and_, cast, false, func, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from jnx.indicators.definitions import PENALTY_TYPES, Period
from jnx.indicators.scope import (
    DECIDED,
    Rows,
    Scope,
    count_if,
    department_of,
    has_token,
    json_text,
    key_filters,
    month_where,
)
from jnx.publicity.rules import DEFAULT_PUBLICATION, FINE, NaturalPersonPublication, PublicationPolicy
from jnx.publicity.views import overdue_condition
from jnx.store.models import (
    Disclosure,
    DisclosureAction,
    DisclosureRevision,
    DisclosureStatus,
    StandardRecord,
)

D, R, S = Disclosure, DisclosureRevision, StandardRecord
DONE = (DisclosureStatus.WITHDRAWN, DisclosureStatus.EXPIRED)
REPAIR = "%信用修复%"


# ---------------------------------------------------------------- timeliness (公示及时率)
def timeliness_rows(scope: Scope, first: dt.date, last: dt.date) -> Any:
    """Disclosures whose deadline falls in first..last, with their first acknowledgement (a subquery)."""
    first_ack = (select(func.min(R.acknowledged_on)).where(R.disclosure_id == D.id, R.action != DisclosureAction.WITHDRAWAL)
                 .scalar_subquery())
    return (select(D.id, D.kind, D.business_key, D.status, D.decision_date, D.deadline,
                   department_of(D.business_key).label("department"), first_ack.label("first_ack"))
            .where(D.deadline >= first, D.deadline <= last, *key_filters(scope, D.business_key))
            .offset(0).subquery("timely"))  # OFFSET 0: the first acknowledgement is looked up once per disclosure, not per use


def came_due(t: Any, scope: Scope) -> ColumnElement[bool]:
    return or_(t.c.first_ack.is_not(None), t.c.deadline < scope.today)


def on_time(t: Any) -> ColumnElement[bool]:
    return and_(t.c.first_ack.is_not(None), t.c.first_ack <= t.c.deadline)


def timeliness(session: Session, scope: Scope, month: Period | None = None) -> list[Any]:
    """(department, kind, came_due, on_time) for disclosures whose deadline falls in the month."""
    m = month or scope.month
    t = timeliness_rows(scope, m.first, m.last)
    return list(session.execute(
        select(t.c.department, t.c.kind, count_if(came_due(t, scope)).label("came_due"),
               count_if(on_time(t)).label("on_time"))
        .group_by(t.c.department, t.c.kind)))


def late_list(scope: Scope) -> Rows:
    t = timeliness_rows(scope, scope.month.first, scope.month.last)
    return (select(t.c.id, t.c.kind, t.c.business_key, t.c.status, t.c.decision_date, t.c.deadline,
                   t.c.first_ack.label("first_acknowledged_on"))
            .where(came_due(t, scope), not_(on_time(t))).order_by(t.c.deadline, t.c.id))


# ---------------------------------------------------------------- completeness, compliance, withdrawn
@dataclass(frozen=True, slots=True)
class RecordFields:
    """The fields of a standard record the publication policy reads: on the table itself (drill-down
    lists), or as columns of the month's one pass over it (:mod:`jnx.indicators.month_sql`)."""

    record_type: Any
    party_type: Any
    penalty_types: Any
    fine_amount: Any


def record_fields() -> RecordFields:
    return RecordFields(S.record_type, json_text(S.data, "party_type"), json_text(S.data, "penalty_types"),
                        json_text(S.data, "fine_amount"))


def excluded_condition(policy: PublicationPolicy, fields: RecordFields | None = None) -> ColumnElement[bool]:
    """The publication policy (:func:`jnx.publicity.rules.assess_publication`) as SQL over a standard record."""
    f = fields or record_fields()
    parts: list[ColumnElement[bool]] = []
    if policy.natural_persons == NaturalPersonPublication.WITHHELD:
        parts.append(f.party_type == "自然人")
    excluded = set(policy.excluded_penalty_categories)
    threshold = policy.low_fine_threshold_wan
    if excluded or threshold is not None:
        types = f.penalty_types
        every: list[ColumnElement[bool]] = [f.record_type == "penalty", types.like('%"%')]
        for category in PENALTY_TYPES:
            if category in excluded:
                continue
            absent = not_(has_token(types, category))
            if category == FINE and threshold is not None:
                absent = or_(absent, cast(f.fine_amount, Numeric(24, 6)) < threshold)
            every.append(absent)
        parts.append(and_(*every))
    return or_(*parts) if parts else false()


def policy_rule(policy: PublicationPolicy) -> str:
    """The publication rule behind ``excluded``, in words (shown with the figure)."""
    rules = []
    if policy.natural_persons == NaturalPersonPublication.WITHHELD:
        rules.append("natural persons' decisions withheld")
    if policy.excluded_penalty_categories:
        rules.append(f"penalties of only {sorted(policy.excluded_penalty_categories)}")
    if policy.low_fine_threshold_wan is not None:
        rules.append(f"罚款 below {policy.low_fine_threshold_wan} 万元 counts as excluded")
    return "; ".join(rules) or "none: every licence and penalty is published (公开为常态, 424号)"


def _decided(scope: Scope) -> list[ColumnElement[bool]]:
    """Licences and penalties decided in the month (their counts: :func:`jnx.indicators.month_sql.month_records`)."""
    return month_where(scope, DECIDED)


def _decided_list(scope: Scope, condition: ColumnElement[bool]) -> Rows:
    return (select(S.id.label("standard_record_id"), S.record_type, S.business_key, S.decision_date,
                   D.id.label("disclosure_id"), D.status)
            .select_from(S).outerjoin(D, D.standard_record_id == S.id).where(*_decided(scope), condition)
            .order_by(S.decision_date, S.id))


def missing_list(scope: Scope, policy: PublicationPolicy = DEFAULT_PUBLICATION) -> Rows:
    return _decided_list(scope, and_(D.id.is_(None), not_(excluded_condition(policy))))


def excluded_list(scope: Scope, policy: PublicationPolicy = DEFAULT_PUBLICATION) -> Rows:
    return _decided_list(scope, and_(D.id.is_(None), excluded_condition(policy)))


def noncompliant_list(scope: Scope) -> Rows:
    return _decided_list(scope, D.status.in_((DisclosureStatus.BLOCKED, DisclosureStatus.REJECTED)))


def withdrawn_list(scope: Scope) -> Rows:
    return _decided_list(scope, D.status == DisclosureStatus.WITHDRAWN)


# ---------------------------------------------------------------- overdue now, due soon
def _overdue_where(scope: Scope) -> list[ColumnElement[bool]]:
    """`jnx disclosures list --overdue`'s condition (drill-down lists use it as is)."""
    return [overdue_condition(scope.today), *key_filters(scope, D.business_key)]


def _overdue_parts(scope: Scope) -> list[tuple[Any, list[ColumnElement[bool]]]]:
    """The same rows as :func:`_overdue_where`, as two disjoint parts the partial indexes of 0007
    drive (a revision is acknowledged exactly when it has ``acknowledged_at``): the waiting current
    revision was due before today; or, with no revision yet, the deadline was."""
    base = [D.status.not_in(DONE), *key_filters(scope, D.business_key)]
    waiting = (R.__table__.join(D.__table__, and_(D.id == R.disclosure_id, R.revision == D.current_revision)),
               [R.acknowledged_at.is_(None), R.due_date < scope.today, *base])
    unrevised = (D.__table__, [D.current_revision == 0, D.deadline < scope.today, *base])
    return [waiting, unrevised]


def _due_soon_parts(scope: Scope, until: Any) -> list[tuple[Any, list[ColumnElement[bool]]]]:
    """Two disjoint parts, each driven by an index on the due date: the waiting current revision
    (not acknowledged) is due today .. ``until``; or, with no revision yet, the deadline is."""
    base = [D.status.not_in(DONE), *key_filters(scope, D.business_key)]
    waiting = (R.__table__.join(D.__table__, and_(D.id == R.disclosure_id, R.revision == D.current_revision)),
               [R.acknowledged_at.is_(None), R.due_date >= scope.today, R.due_date <= until, *base])
    unrevised = (D.__table__, [D.current_revision == 0, D.deadline >= scope.today, D.deadline <= until, *base])
    return [waiting, unrevised]


def now_counts(session: Session, scope: Scope) -> dict[str, dict[tuple[str, str], int]]:
    """Overdue now and due within 1 and 3 working days, by (department, kind)."""
    key = (department_of(D.business_key), D.kind)
    out: dict[str, dict[tuple[str, str], int]] = {}
    for name, parts in (("overdue", _overdue_parts(scope)), ("due_1", _due_soon_parts(scope, scope.due_1)),
                        ("due_3", _due_soon_parts(scope, scope.due_3))):
        counts: dict[tuple[str, str], int] = {}
        for source, where in parts:
            for dep, kind, n in session.execute(select(*key, count_if(true())).select_from(source).where(*where).group_by(*key)):
                counts[(str(dep), str(kind))] = counts.get((str(dep), str(kind)), 0) + int(n)
        out[name] = counts
    return out


def _disclosure_list(where: list[ColumnElement[bool]]) -> Rows:
    return (select(D.id, D.kind, D.business_key, D.status, D.decision_date, D.deadline, D.current_revision)
            .where(*where).order_by(D.deadline, D.id))


def overdue_list(scope: Scope) -> Rows:
    return _disclosure_list(_overdue_where(scope))


def due_list(scope: Scope, days: int) -> Rows:
    until = scope.due_1 if days == 1 else scope.due_3
    current = aliased(D)
    waiting = (select(R.disclosure_id).join(current, and_(current.id == R.disclosure_id, R.revision == current.current_revision))
               .where(R.acknowledged_at.is_(None), R.due_date >= scope.today, R.due_date <= until))
    unrevised = and_(D.current_revision == 0, D.deadline >= scope.today, D.deadline <= until)
    return _disclosure_list([D.status.not_in(DONE), or_(D.id.in_(waiting), unrevised), *key_filters(scope, D.business_key)])


# ---------------------------------------------------------------- corrections, withdrawals, repairs
def _changes_where(scope: Scope, action: DisclosureAction) -> list[ColumnElement[bool]]:
    m = scope.month
    return [R.action == action, R.due_date >= m.first, R.due_date <= m.last,
            or_(R.acknowledged_on.is_not(None), R.due_date < scope.today), *key_filters(scope, D.business_key)]


def _late_change() -> ColumnElement[bool]:
    return or_(R.acknowledged_on.is_(None), R.acknowledged_on > R.due_date)


def changes(session: Session, scope: Scope) -> dict[str, dict[tuple[str, str], tuple[int, int]]]:
    """Corrections and withdrawals due in the month and come due: (count, on time) by (department, kind)."""
    out: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    for action in (DisclosureAction.CORRECTION, DisclosureAction.WITHDRAWAL):
        rows = session.execute(select(department_of(D.business_key), D.kind, count_if(true()), count_if(not_(_late_change())))
                               .select_from(R).join(D, D.id == R.disclosure_id).where(*_changes_where(scope, action))
                               .group_by(department_of(D.business_key), D.kind))
        out[action.value] = {(str(dep), str(kind)): (int(n), int(ok)) for dep, kind, n, ok in rows}
    return out


def _revision_list(where: list[ColumnElement[bool]]) -> Rows:
    return (select(R.id.label("revision_id"), D.id.label("disclosure_id"), D.kind, D.business_key, R.revision, R.action,
                   R.due_date, R.acknowledged_on, R.reason)
            .select_from(R).join(D, D.id == R.disclosure_id).where(*where).order_by(R.due_date, R.id))


def late_change_list(scope: Scope, action: DisclosureAction) -> Rows:
    return _revision_list([*_changes_where(scope, action), _late_change()])


def _repairs_where(scope: Scope) -> list[ColumnElement[bool]]:
    return [R.action == DisclosureAction.WITHDRAWAL, R.reason.like(REPAIR), R.created_at >= scope.month.start,
            R.created_at < scope.month.end, *key_filters(scope, D.business_key)]


def repairs(session: Session, scope: Scope) -> dict[tuple[str, str], int]:
    rows = session.execute(select(department_of(D.business_key), D.kind, count_if(true()))
                           .select_from(R).join(D, D.id == R.disclosure_id).where(*_repairs_where(scope))
                           .group_by(department_of(D.business_key), D.kind))
    return {(str(dep), str(kind)): int(n) for dep, kind, n in rows}


def repairs_list(scope: Scope) -> Rows:
    return _revision_list(_repairs_where(scope))


LISTS: dict[str, Callable[[Scope], Rows]] = {
    "timeliness": late_list, "late": late_list,
    "completeness": missing_list, "missing": missing_list, "excluded": excluded_list,
    "compliance": noncompliant_list, "withdrawal_rate": withdrawn_list,
    "overdue": overdue_list, "due_1": lambda s: due_list(s, 1), "due_3": lambda s: due_list(s, 3),
    "correction_timeliness": lambda s: late_change_list(s, DisclosureAction.CORRECTION),
    "withdrawal_timeliness": lambda s: late_change_list(s, DisclosureAction.WITHDRAWAL),
    "credit_repairs": repairs_list,
}
