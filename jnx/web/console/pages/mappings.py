"""/mappings — 映射表: tables and versions, one version's fields, a side-by-side diff of two versions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import table_desk as service
from jnx.web.console.core import Console, Problem
from jnx.web.console.listing import Column, ListQuery, export, in_memory

COLUMNS = (
    Column("name", "Table", link=lambda r: f"/mappings/{r['name']}/{r['latest']}"),
    Column("versions", "Versions", sortable=False),
    Column("count", "How many", numeric=True),
)


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/mappings")
    def tables(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        rows = service.tables(console.exchange.catalog, viewer)
        query = ListQuery.parse("/mappings", request.query_params, COLUMNS, (), default_sort="name")
        listing = in_memory(COLUMNS, rows, query, (), name="mapping-tables")
        if query.fmt:
            return export(listing, t)
        return console.render(request, "mappings.html", page="mappings", title="Mapping tables", listing=listing)

    @router.get("/mappings/{name}/{version}")
    def table(request: Request, name: str, version: int) -> Response:
        viewer = console.viewer(request)
        found = service.table(console.exchange.catalog, viewer, name, version)
        return console.render(request, "mapping.html", page="mappings", title="Mapping table", m=found)

    @router.get("/mappings/{name}/diff/{old}/{new}")
    def diff(request: Request, name: str, old: int, new: int) -> Response:
        viewer = console.viewer(request)
        if old == new:
            raise Problem("choose two different versions")
        found = service.diff(console.exchange.catalog, viewer, name, old, new)
        return console.render(request, "mapping_diff.html", page="mappings", title="What changed", d=found, name=name)
