"""/ — 总览: every visible system's health, today's and this month's records, errors and 双公示 due."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import overview as service
from jnx.web.console.core import Console, is_partial, redirect
from jnx.web.console.listing import Column, Filter, ListQuery, export, in_memory

COLUMNS = (
    Column("id", "System", link=lambda r: f"/systems/{r['id']}"),
    Column("department_name", "Department"),
    Column("kind", "Kind", translate=True),
    Column("health", "Health", translate=True),
    Column("last_success_at", "Last successful run"),
    Column("last_success_age", "Age", sortable=False),
    Column("last_run_status", "Last run", translate=True,
           link=lambda r: f"/runs/{r['last_run_id']}" if r.get("last_run_id") else None),
    Column("records_today", "Records today", numeric=True),
    Column("records_month", "Records this month", numeric=True),
    Column("open_error_groups", "Open error groups", numeric=True,
           link=lambda r: f"/errors?system={r['id']}" if r["open_error_groups"] else None),
    Column("open_errors", "Open errors", numeric=True),
    Column("lines", "Lines", numeric=True),
)
HEALTH = (("ok", "ok"), ("late", "late"), ("failing", "failing"), ("disabled", "disabled"))


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/")
    def overview(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        if console.home_of(viewer) != "/":  # an administrator without business pages starts at theirs
            return redirect(console.home_of(viewer))
        with console.session() as session:
            found = service.overview(session, viewer)
        rows = [{**s.model_dump(), "health": s.health, "last_success_age": t.age(s.last_success_at, found.generated_at)}
                for s in found.systems]
        query = ListQuery.parse("/", request.query_params, COLUMNS, (Filter("health", "Health", HEALTH),))
        listing = in_memory(COLUMNS, rows, query, (Filter("health", "Health", HEALTH),), name="overview")
        if query.fmt:
            return export(listing, t)
        template = "_overview_body.html" if is_partial(request) else "overview.html"
        return console.render(request, template, page="overview", title="Overview", o=found, listing=listing)
