"""/indicators — 监督指标: the month's three 双公示 rates and what waits, the ranking of departments
(执法主体), the breakdown by kind and by region, monthly trends as inline SVG charts drawn on the
server (no script, no CDN), and /indicators/{key}: the records behind any figure, with the SQL."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.indicators.charts import bar_chart, line_chart
from jnx.indicators.definitions import BY_KEY, Month
from jnx.services import indicators as service
from jnx.services.context import Actor, ServiceContext
from jnx.store.models import beijing_day
from jnx.web.console.core import Console
from jnx.web.console.listing import Column, Filter, ListQuery, export, in_memory

RATES = ("timeliness", "completeness", "compliance")
TREND_MONTHS = 6
PICKER_MONTHS = 24  # the months the month filter offers (any other by ?month=)


def _drill(key: str) -> Any:
    return lambda r: f"/indicators/{key}?month={r['month']}&department={r['department']}" if r.get(key) else None


COLUMNS = (
    Column("rank", "Rank", numeric=True),
    Column("department_name", "Department"),
    Column("department", "Credit code"),
    Column("region", "Region"),
    Column("timeliness_pct", "Timeliness (%)", numeric=True),
    Column("completeness_pct", "Completeness (%)", numeric=True),
    Column("compliance_pct", "Compliance (%)", numeric=True),
    Column("came_due", "Came due", numeric=True),
    Column("late", "Late", numeric=True, link=_drill("late")),
    Column("missing", "Missing", numeric=True, link=_drill("missing")),
    Column("overdue", "Overdue now", numeric=True, link=_drill("overdue")),
    Column("due_3", "Due within 3 working days", numeric=True, link=_drill("due_3")),
)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _context(console: Console, request: Request, session: Any) -> ServiceContext:
    viewer = console.viewer(request)
    viewer.require("indicators.read")
    return ServiceContext(session=session, settings=console.settings,
                          actor=Actor(name=viewer.username, kind="user", roles=tuple(sorted(viewer.roles)),
                                      department=viewer.department, region=viewer.region))


def _month(request: Request) -> Month | None:
    """The month asked for (``?month=YYYY-MM``); none: everything to date, as ``jnx indicators``."""
    wanted = request.query_params.get("month")
    return Month.parse(wanted) if wanted else None


def _with_pcts(row: dict[str, Any], month: Month | None) -> dict[str, Any]:
    return {**row, "month": "" if month is None else str(month), **{f"{k}_pct": _pct(row[k]) for k in RATES}}


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/indicators")
    def indicators(request: Request) -> Response:
        t = console.translator(request)
        with console.session() as session:
            ctx = _context(console, request, session)
            month = _month(request)
            current = Month.of(beijing_day(ctx.clock()))
            data = service.indicators(ctx, month=None if month is None else str(month)).model_dump()
            trend = service.trend(ctx, month=str(month or current), months=TREND_MONTHS)
        rows = [_with_pcts(d, month) for d in data["departments"]]
        shown = sorted({*current.back(PICKER_MONTHS), *([month] if month else [])}, key=str, reverse=True)
        filters = (Filter("month", "Month", tuple((str(m), str(m)) for m in shown)),)  # "all": everything to date
        query = ListQuery.parse("/indicators", request.query_params, COLUMNS, filters, default_sort="rank")
        listing = in_memory(COLUMNS, rows, query, filters, name=f"indicators-{month or 'to-date'}")
        if query.fmt:
            return export(listing, t)
        ranked = [d for d in data["departments"] if d["rank"]][:20]
        charts = {
            "trend": line_chart(t.gettext("Monthly trend of the three rates"), [m["month"] for m in trend],
                                {t.gettext(n): [m[k] for m in trend] for k, n in
                                 (("timeliness", "Timeliness"), ("completeness", "Completeness"), ("compliance", "Compliance"))}),
            "ranking": bar_chart(t.gettext("Timeliness by department (first 20)"),
                                 [d["department_name"] or d["department"] for d in ranked], [d["timeliness"] for d in ranked]),
        }
        kinds = [{"kind": kind, **v, **{f"{k}_pct": _pct(v[k]) for k in RATES},
                  "acts": v["records"] + v["inspections"] + v["coercive_measures"]}  # 许可/处罚 decided, 检查, 强制
                 for kind, v in data["total"]["kinds"].items()]
        regions = [_with_pcts(r, month) for r in data["regions"]]
        around = month or current
        return console.render(request, "indicators.html", page="indicators", title="Indicators", d=data,
                              month="" if month is None else str(month), previous=str(around.previous),
                              following=str(around.next) if month else str(current),
                              total={**data["total"], **{f"{k}_pct": _pct(data["total"][k]) for k in RATES}},
                              listing=listing, charts=charts, kinds=kinds, regions=regions,
                              trend=[{**m, **{f"{k}_pct": _pct(m[k]) for k in RATES}} for m in trend])

    @router.get("/indicators/{key}")
    def records(key: str, request: Request) -> Response:
        with console.session() as session:
            ctx = _context(console, request, session)
            month = _month(request)
            found = service.indicator_records(ctx, key, month=None if month is None else str(month),
                                              department=request.query_params.get("department") or None,
                                              region=request.query_params.get("region") or None, limit=500)
        return console.render(request, "indicator_records.html", page="indicators", title="Indicator records",
                              found=found, definition=BY_KEY[key], month="" if month is None else str(month),
                              columns=list(found["records"][0]) if found["records"] else [])
