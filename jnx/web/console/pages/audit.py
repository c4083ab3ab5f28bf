"""/audit — 审计: the audit log filtered by user, action, outcome and date; verify the chain."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import audit_desk as service
from jnx.web.console.core import Console, Problem
from jnx.web.console.listing import Column, Filter, Listing, ListQuery, export

COLUMNS = (
    Column("seq", "Seq", numeric=True),
    Column("at", "When"),
    Column("actor", "User"),
    Column("action", "Action"),
    Column("subject", "Subject", sortable=False),
    Column("details", "Details", sortable=False),
    Column("hash", "Hash", sortable=False),
)


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Problem(f"{value!r} is not a date (YYYY-MM-DD)") from None


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/audit")
    def audit(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            filters = (Filter("actor", "User"), Filter("action", "Action", tuple((a, a) for a in service.actions(session, viewer))),
                       Filter("outcome", "Outcome", (("ok", "ok"), ("failed", "failed"))),
                       Filter("from", "From (YYYY-MM-DD)"), Filter("to", "To (YYYY-MM-DD)"))
            query = ListQuery.parse("/audit", request.query_params, COLUMNS, filters, default_sort="seq", default_descending=True)
            rows, total = service.entries(session, viewer, actor=query.filters.get("actor"), action=query.filters.get("action"),
                                          outcome=query.filters.get("outcome"), day_from=_day(query.filters.get("from")),
                                          day_to=_day(query.filters.get("to")), offset=0 if query.fmt else query.offset,
                                          limit=100_000 if query.fmt else query.size, sort=query.sort or "seq",
                                          descending=query.descending)
        page = Listing(COLUMNS, rows, total, query, filters, name="audit")
        if query.fmt:
            return export(page, t)
        return console.render(request, "audit.html", page="audit", title="Audit", listing=page, verified=None,
                              can_verify=viewer.can("audit.verify"))

    @router.get("/audit/verify")
    def verify(request: Request) -> Response:
        viewer = console.viewer(request)
        result = service.verify(console.engine, viewer)
        return console.render(request, "audit_verify.html", page="audit", title="Verify the audit chain", v=result)
