"""/mappings — 映射表: tables and versions, one version's fields, a side-by-side diff of two versions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import table_desk as service
from jnx.services import table_trial
from jnx.web.console.core import Console, Problem
from jnx.web.console.listing import Column, Filter, ListQuery, export, in_memory

COLUMNS = (
    Column("name", "Table", link=lambda r: f"/mappings/{r['name']}/{r['latest']}"),
    Column("versions", "Versions", sortable=False),
    Column("count", "How many", numeric=True),
)


TRIAL_COLUMNS = (
    Column("raw_record", "Raw record", numeric=True),
    Column("system", "System", link=lambda r: f"/systems/{r['system']}"),
    Column("record_type", "Record type"),
    Column("source_key", "Source key"),
    Column("pinned", "Pinned table"),
    Column("pinned_issues", "Errors under the pinned table", numeric=True),
    Column("issues", "Errors under this version", numeric=True),
    Column("change", "Change", translate=True),
    Column("first_issue", "First error", sortable=False),
)
CHANGES = tuple((c, c) for c in ("fixed", "broken", "still ok", "still failing"))


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

    @router.get("/mappings/{name}/{version}/test")
    def trial(request: Request, name: str, version: int) -> Response:
        """A GET that stores nothing: the version tried on the latest stored records of the systems that use the table."""
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            found = table_trial.try_table(console.exchange, session, viewer, name, version)
        filters = (Filter("change", "Change", CHANGES), Filter("system", "System", tuple(sorted({(r.system, r.system) for r in found.rows}))))
        query = ListQuery.parse(f"/mappings/{name}/{version}/test", request.query_params, TRIAL_COLUMNS, filters, default_sort="change")
        listing = in_memory(TRIAL_COLUMNS, [r.model_dump() for r in found.rows], query, filters, name=f"trial-{name}-{version}")
        if query.fmt:
            return export(listing, t)
        return console.render(request, "mapping_test.html", page="mappings", title="Try a table version on stored records",
                              trial=found, listing=listing, name=name, version=version)
