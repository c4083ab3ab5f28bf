"""/records — 记录: standard records, and one record's whole lineage."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import lineage as service
from jnx.web.console.core import Console
from jnx.web.console.listing import Column, Filter, Listing, ListQuery, export

COLUMNS = (
    Column("id", "Record", numeric=True, link=lambda r: f"/records/{r['id']}"),
    Column("record_type", "Type", translate=True),
    Column("business_key", "Business key", sortable=False),
    Column("revision", "Revision", numeric=True),
    Column("decision_date", "Decision date"),
    Column("updated_at", "Updated"),
)


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/records")
    def records(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            filters = (Filter("record_type", "Type", tuple((k, k) for k in service.record_types(session))),
                       Filter("key", "Business key contains"))
            query = ListQuery.parse("/records", request.query_params, COLUMNS, filters, default_sort="id", default_descending=True)
            rows, total = service.records(session, viewer, record_type=query.filters.get("record_type"), key=query.filters.get("key"),
                                          offset=0 if query.fmt else query.offset, limit=100_000 if query.fmt else query.size,
                                          sort=query.sort or "id", descending=query.descending)
        page = Listing(COLUMNS, rows, total, query, filters, name="records")
        if query.fmt:
            return export(page, t)
        return console.render(request, "records.html", page="records", title="Records", listing=page)

    @router.get("/records/{record_id}")
    def record(request: Request, record_id: int) -> Response:
        viewer = console.viewer(request)
        with console.session() as session:
            found = service.lineage(session, viewer, record_id)
        return console.render(request, "record.html", page="records", title="Record", r=found,
                              data_text=json.dumps(found["data"], ensure_ascii=False, indent=2, default=str))
