"""监督指标 and 每月通报 as service calls (``indicators.read``): the CLI, ``GET /api/v1/indicators``
and the console page call these and only format. A caller whose right is scoped to its own
department sees that department's figures only (``--department`` is then its own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from jnx.errors import InputError
from jnx.indicators.compute import compute, drill, make_scope
from jnx.indicators.compute import trend as compute_trend
from jnx.indicators.definitions import INDICATORS, AllTime, Month, Period
from jnx.indicators.report import build_report
from jnx.publicity.calendar import WorkdayCalendar
from jnx.services.context import ServiceContext
from jnx.store.models import beijing_day


class IndicatorsResult(BaseModel):
    """All indicators of a month (or to date); the dictionaries' keys are docs/indicators.md's."""

    month: str
    today: dt.date
    as_of: dt.datetime
    department: str | None
    region: str | None
    due_1_until: dt.date
    due_3_until: dt.date
    publication_rule: str
    total: dict[str, Any]
    departments: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    collection: dict[str, Any]
    error_causes: list[dict[str, Any]]


def _period(month: str | None) -> Period:
    return AllTime() if month is None else Month.parse(month)


def _scoped(ctx: ServiceContext, department: str | None, region: str | None) -> tuple[str | None, str | None]:
    scope = ctx.authorize("indicators.read", department=department)
    if scope.everything:
        return department, region
    if department and department != scope.department:
        raise InputError(f"department {department} is not yours", hint="leave --department out: you see your own")
    return scope.department, region or scope.region


def _scope(ctx: ServiceContext, month: str | None, department: str | None, region: str | None) -> Any:
    department, region = _scoped(ctx, department, region)
    now = ctx.clock()
    return make_scope(ctx.session, month=_period(month), today=beijing_day(now), now=now,
                      calendar=WorkdayCalendar.load(ctx.settings.home / "calendar"), department=department, region=region)


def indicators(ctx: ServiceContext, *, month: str | None = None, department: str | None = None,
               region: str | None = None) -> IndicatorsResult:
    return IndicatorsResult(**compute(ctx.session, _scope(ctx, month, department, region), parallel=True))


def trend(ctx: ServiceContext, *, month: str | None = None, months: int = 6, department: str | None = None,
          region: str | None = None) -> list[dict[str, Any]]:
    """The three 双公示 rates and their counts of ``months`` months ending with ``month`` (default:
    this month), as each month's total (:func:`jnx.indicators.compute.trend`)."""
    scope = _scope(ctx, month, department, region)
    last = Month.parse(month) if month else Month.of(scope.today)
    return compute_trend(ctx.session, scope, last.back(months))


def indicator_records(ctx: ServiceContext, key: str, *, month: str | None = None, department: str | None = None,
                      region: str | None = None, limit: int = 1000) -> dict[str, Any]:
    """The records behind one figure, with the SQL that selects them."""
    return drill(ctx.session, _scope(ctx, month, department, region), key, limit=min(limit, 10_000))


def definitions(ctx: ServiceContext) -> list[dict[str, str]]:
    ctx.authorize("indicators.read")
    return [{"key": i.key, "group": i.group, "name_zh": i.name_zh, "name_en": i.name_en, "formula": i.formula,
             "fields": i.fields, "unit": i.unit} for i in INDICATORS]


def monthly_report(ctx: ServiceContext, month: str, *, months: int = 6) -> dict[str, Any]:
    """The 每月通报's data (city-wide: the report ranks every department)."""
    scope = ctx.authorize("indicators.read")
    if not scope.everything:
        raise InputError("the monthly report ranks every department", hint="ask the justice bureau for it")
    now = ctx.clock()
    return build_report(ctx.session, Month.parse(month), today=beijing_day(now), now=now,
                        calendar=WorkdayCalendar.load(ctx.settings.home / "calendar"), months=months, parallel=True)
