"""What every indicator query shares: the scope (month, department, region, today) and the
portable SQL expressions (执法主体 from the business key, JSON fields as text, exact 万元 sums).

Every set of records behind a number is a :class:`RecordSet` — a FROM, a WHERE and the columns a
drill-down lists — so the count and the list behind it are the same query (docs/indicators.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, Numeric, Select, case, cast, func, literal, literal_column
from sqlalchemy.orm import InstrumentedAttribute

from jnx.indicators.definitions import CREDIT_CODE_LENGTH, RECORD_TYPES, Period
from jnx.store.models import StandardRecord

MICRO = Decimal("0.000001")
#: a SELECT of any columns (a drill-down list)
Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Scope:
    """The month asked for, optional department (执法主体 or registering department) and region,
    today (Beijing) and the ends of the next 1 and 3 working days (from the working-day calendar)."""

    month: Period
    today: dt.date
    due_1: dt.date
    due_3: dt.date
    now: dt.datetime
    department: str | None = None
    region: str | None = None
    dialect: str = "sqlite"

    @property
    def as_of(self) -> dt.datetime:
        """The instant ages are measured at: the month's end, or now while the month runs."""
        return min(self.now, self.month.end)


def department_of(business_key: Any) -> ColumnElement[str]:
    """(Literal positions, not bound parameters: PostgreSQL must see the GROUP BY expression as the SELECT's.)
    执法主体: the credit code that starts every business key of licences, penalties, coercive
    measures and inspections (``authority_credit_code|…``, ``inspecting_department_credit_code|…``)."""
    return func.substr(business_key, literal_column("1"), literal_column(str(CREDIT_CODE_LENGTH)))


def region_of(business_key: Any) -> ColumnElement[str]:
    """The 执法主体's region: characters 3–8 of its credit code (登记管理机关行政区划码, GB 32100)."""
    return func.substr(business_key, literal_column("3"), literal_column("6"))


def key_filters(scope: Scope, business_key: Any) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if scope.department:
        out.append(department_of(business_key) == scope.department)
    if scope.region:
        out.append(region_of(business_key) == scope.region)
    return out


#: every record type an indicator counts (许可, 处罚, 强制, 检查)
COUNTED = tuple(t for types in RECORD_TYPES.values() for t in types)
#: the record types with a 双公示 disclosure (completeness, compliance, withdrawals)
DECIDED = ("license", "penalty")


def month_where(scope: Scope, types: tuple[str, ...] = COUNTED) -> list[ColumnElement[bool]]:
    """The month's standard records of ``types`` by decision date (检查日期 of an inspection), in scope:
    the WHERE of every figure over standard records and of the list behind it."""
    s, m = StandardRecord, scope.month
    return [s.record_type.in_(types), s.decision_date >= m.first, s.decision_date <= m.last,
            *key_filters(scope, s.business_key)]


def json_text(column: InstrumentedAttribute[Any] | ColumnElement[Any], key: str) -> ColumnElement[str]:
    """A JSON field as text (``->>`` on PostgreSQL, ``json_extract`` on SQLite); a list as its JSON text."""
    text: ColumnElement[str] = column[key].as_string()
    return text


def wan_sum(text: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Exact sum of a 万元 field (6 places): NUMERIC on PostgreSQL; whole millionths on SQLite, whose
    NUMERIC is a float — each value rounded to millionths first, so the integer sum is exact."""
    if dialect == "postgresql":
        return func.coalesce(func.sum(cast(text, Numeric(24, 6))), literal(0))
    return func.coalesce(func.sum(cast(func.round(cast(text, Numeric) * 1_000_000), Integer)), literal(0))


def wan_value(raw: Any, dialect: str) -> Decimal:
    """What :func:`wan_sum` returned, as Decimal 万元 with 6 places."""
    if raw is None:
        return Decimal("0.000000")
    if dialect == "postgresql":
        return Decimal(raw).quantize(MICRO)
    return (Decimal(int(raw)) * MICRO).quantize(MICRO)


def seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def month_key(day: Any, dialect: str) -> ColumnElement[str]:
    """A date column's month as 'YYYY-MM' (to_char on PostgreSQL, whatever its DateStyle; strftime on SQLite)."""
    if dialect == "postgresql":
        return func.to_char(day, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), day)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def has_token(json_list_text: ColumnElement[str], token: str) -> ColumnElement[bool]:
    """Does a JSON list of strings (as text) hold ``token``? Exact for code values: ``"X"`` with its quotes."""
    return json_list_text.like(f'%"{token}"%')
