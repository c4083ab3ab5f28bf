"""Collection, data quality and enforcement totals in SQL, with the drill-down list behind each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from jnx.indicators.definitions import PROBLEM_RESULTS, RECORD_TYPES, Kind
from jnx.indicators.scope import (
    Rows,
    Scope,
    count_if,
    has_token,
    json_text,
    month_where,
    seconds_between,
)
from jnx.store.models import (
    MappingErrorEntry,
    MappingErrorStatus,
    RawRecord,
    Run,
    RunStatus,
    SourceSystem,
    StandardRecord,
    SystemKind,
)

E, RAW, S, SYS = MappingErrorEntry, RawRecord, StandardRecord, SourceSystem
PULLING = [k for k in SystemKind if k is not SystemKind.CREDIT]


# ---------------------------------------------------------------- collection, by source system
def _system_filters(scope: Scope) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if scope.department:
        out.append(SYS.department_credit_code == scope.department)
    if scope.region:
        out.append(SYS.region_code == scope.region)
    return out


def systems(session: Session, scope: Scope) -> list[Any]:
    """Enabled pulling systems (the credit platform is pushed to, not collected from)."""
    return list(session.execute(
        select(SYS.id, SYS.department_credit_code, SYS.department_name, SYS.region_code, SYS.kind)
        .where(SYS.enabled.is_(True), SYS.kind.in_(PULLING), *_system_filters(scope)).order_by(SYS.id)))


def _received_where(scope: Scope) -> list[ColumnElement[bool]]:
    return [RAW.received_at >= scope.month.start, RAW.received_at < scope.month.end]


def received(session: Session, scope: Scope) -> dict[tuple[str, str], int]:
    """Raw records received in the month by (system, record_type)."""
    rows = session.execute(select(RAW.system_id, RAW.record_type, func.count())
                           .where(*_received_where(scope)).group_by(RAW.system_id, RAW.record_type))
    return {(str(system), str(record_type)): int(n) for system, record_type, n in rows}


def runs(session: Session, scope: Scope) -> dict[str, tuple[int, Any]]:
    """Per system: succeeded runs finished in the month, and the newest success up to the as-of instant."""
    in_month = (Run.finished_at >= scope.month.start) & (Run.finished_at < scope.month.end)
    rows = session.execute(select(Run.system_id, count_if(in_month), func.max(Run.finished_at))
                           .where(Run.status == RunStatus.SUCCEEDED, Run.finished_at < scope.as_of)
                           .group_by(Run.system_id))
    return {str(system): (int(n), last) for system, n, last in rows}


def received_list(scope: Scope) -> Rows:
    query = (select(RAW.id, RAW.system_id, RAW.record_type, RAW.source_key, RAW.received_at)
             .join(SYS, SYS.id == RAW.system_id).where(*_received_where(scope), *_system_filters(scope)))
    return query.order_by(RAW.id)


def runs_list(scope: Scope) -> Rows:
    return (select(Run.id, Run.system_id, Run.status, Run.started_at, Run.finished_at)
            .join(SYS, SYS.id == Run.system_id)
            .where(Run.status == RunStatus.SUCCEEDED, Run.finished_at >= scope.month.start,
                   Run.finished_at < scope.month.end, *_system_filters(scope)).order_by(Run.id))


# ---------------------------------------------------------------- data quality, by source system
def _errored_where(scope: Scope) -> list[ColumnElement[bool]]:
    return [E.created_at >= scope.month.start, E.created_at < scope.month.end]


def error_causes(session: Session, scope: Scope) -> list[Any]:
    """Errors created in the month by (system, rule, field): errors and distinct raw records."""
    return list(session.execute(
        select(E.system_id, E.rule, E.field, func.count().label("errors"),
               func.count(func.distinct(E.raw_record_id)).label("records"))
        .join(SYS, SYS.id == E.system_id).where(*_errored_where(scope), *_system_filters(scope))
        .group_by(E.system_id, E.rule, E.field).order_by(func.count().desc(), E.system_id, E.rule, E.field)))


def errored_records(session: Session, scope: Scope) -> dict[str, int]:
    """Raw records received in the month that have a mapping error, by system (error_rate's numerator)."""
    rows = session.execute(select(RAW.system_id, func.count(func.distinct(RAW.id)))
                           .join(E, E.raw_record_id == RAW.id).where(*_received_where(scope))
                           .group_by(RAW.system_id))
    return {str(system): int(n) for system, n in rows}


def resolution(session: Session, scope: Scope) -> dict[str, tuple[int, float | None, float | None]]:
    """Errors resolved in the month by system: count, mean and longest seconds from opening to resolution."""
    span = seconds_between(E.created_at, E.resolved_at, scope.dialect)
    rows = session.execute(select(E.system_id, func.count(), func.avg(span), func.max(span))
                           .where(E.resolved_at >= scope.month.start, E.resolved_at < scope.month.end)
                           .group_by(E.system_id))
    return {str(s): (int(n), None if a is None else float(a), None if m is None else float(m)) for s, n, a, m in rows}


def open_errors(session: Session) -> dict[str, tuple[int, int]]:
    """Open errors now by system: (errors, distinct raw records) — `jnx errors groups` sums the same rows."""
    rows = session.execute(select(E.system_id, func.count(), func.count(func.distinct(E.raw_record_id)))
                           .where(E.status == MappingErrorStatus.OPEN).group_by(E.system_id))
    return {str(s): (int(n), int(r)) for s, n, r in rows}


def errors_list(scope: Scope) -> Rows:
    return (select(E.id, E.system_id, E.raw_record_id, E.record_type, E.field, E.rule, E.status, E.created_at,
                   E.resolved_at)
            .join(SYS, SYS.id == E.system_id).where(*_errored_where(scope), *_system_filters(scope)).order_by(E.id))


def open_errors_list(scope: Scope) -> Rows:
    return (select(E.id, E.system_id, E.raw_record_id, E.record_type, E.field, E.rule, E.status, E.created_at)
            .join(SYS, SYS.id == E.system_id).where(E.status == MappingErrorStatus.OPEN, *_system_filters(scope))
            .order_by(E.id))


# ---------------------------------------------------------------- enforcement totals, by 执法主体


def _problem() -> ColumnElement[bool]:
    results = json_text(S.data, "inspection_results")
    return or_(*(has_token(results, code) for code in PROBLEM_RESULTS))


def _enforced_list(scope: Scope, types: tuple[str, ...], *extra: ColumnElement[bool]) -> Rows:
    return (select(S.id, S.record_type, S.business_key, S.decision_date)
            .where(*month_where(scope, types), *extra).order_by(S.decision_date, S.id))


LISTS: dict[str, Callable[[Scope], Rows]] = {
    "received": received_list,
    "connection_rate": runs_list,
    "last_success_age": runs_list,
    "error_rate": errors_list,
    "errors_by_cause": errors_list,
    "resolution_hours": lambda s: errors_list(s).where(E.resolved_at.is_not(None)),
    "open_errors": open_errors_list,
    "penalties": lambda s: _enforced_list(s, RECORD_TYPES[Kind.PENALTY]),
    "fines_wan": lambda s: _enforced_list(s, RECORD_TYPES[Kind.PENALTY], json_text(S.data, "fine_amount").is_not(None)),
    "confiscations_wan": lambda s: _enforced_list(s, RECORD_TYPES[Kind.PENALTY],
                                                  json_text(S.data, "confiscation_amount").is_not(None)),
    "inspections": lambda s: _enforced_list(s, RECORD_TYPES[Kind.INSPECTION]),
    "problem_rate": lambda s: _enforced_list(s, RECORD_TYPES[Kind.INSPECTION], _problem()),
    "coercive_measures": lambda s: _enforced_list(s, RECORD_TYPES[Kind.COERCION]),
}
