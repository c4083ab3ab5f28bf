"""/errors — 错误: groups by cause, one group's errors, one error beside its raw record, ignore and
replay (preview first, a GET that changes nothing; then a POST behind the confirm step; progress)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.errors import JnxError
from jnx.services import review
from jnx.store.models import MappingErrorStatus
from jnx.web.console.core import Console, Problem, is_partial, redirect
from jnx.web.console.listing import Column, Filter, Listing, ListQuery, export, in_memory

GROUP_COLUMNS = (
    Column("system", "System", link=lambda r: f"/systems/{r['system']}"),
    Column("table", "Table"),
    Column("field", "Field"),
    Column("rule", "Rule"),
    Column("value", "Sample value"),
    Column("records", "Records", numeric=True, link=lambda r: f"/errors/group/{r['group']}"),
    Column("errors", "Errors", numeric=True),
    Column("message", "Message", sortable=False),
    Column("last_seen", "Last seen"),
    Column("group_short", "Group", link=lambda r: f"/errors/group/{r['group']}"),
)
ERROR_COLUMNS = (
    Column("id", "Error", link=lambda r: f"/errors/{r['id']}", numeric=True),
    Column("system", "System"),
    Column("field", "Field"),
    Column("source_path", "Source field", sortable=False),
    Column("value", "Value (masked)", sortable=False),
    Column("rule", "Rule"),
    Column("message", "Message", sortable=False),
    Column("status", "Status", translate=True),
    Column("created_at", "Seen"),
    Column("raw_record", "Raw record", sortable=False, numeric=True),
)
STATUSES = tuple((s.value, s.value) for s in MappingErrorStatus)


def _selection_params(values: dict[str, str]) -> tuple[str | None, str | None, int | None, str | None]:
    """group, system, error id and rule of an action's selection: one group or error, or the groups a
    filter by system and rule shows (bulk)."""
    error = values.get("error") or None
    try:
        error_id = int(error) if error else None
    except ValueError:
        raise Problem(f"error id {error!r} is not a number") from None
    return values.get("group") or None, values.get("system") or None, error_id, values.get("rule") or None


def _table(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    name, _, version = value.partition("@")
    if not name or not version.isdigit():
        raise Problem(f"table {value!r} is not NAME@VERSION")
    return name, version


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/errors")
    def groups(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            found = review.groups(session, viewer)
        rows = [{**g.model_dump(), "group_short": g.group[:10]} for g in found]
        systems = sorted({r["system"] for r in rows})
        rules = sorted({r["rule"] for r in rows})
        filters = (Filter("system", "System", tuple((s, s) for s in systems)), Filter("rule", "Rule", tuple((r, r) for r in rules)))
        query = ListQuery.parse("/errors", request.query_params, GROUP_COLUMNS, filters, default_sort="records", default_descending=True)
        listing = in_memory(GROUP_COLUMNS, rows, query, filters, name="error-groups")
        if query.fmt:
            return export(listing, t)
        return console.render(request, "errors.html", page="errors", title="Errors", listing=listing,
                              system=query.filters.get("system"), rule=query.filters.get("rule"),
                              bulk_query=urlencode({k: v for k in ("system", "rule") if (v := query.filters.get(k))}),
                              can_fix=viewer.can("errors.replay"))

    @router.get("/errors/group/{group}")
    def group(request: Request, group: str) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        filters = (Filter("status", "Status", STATUSES),)
        query = ListQuery.parse(f"/errors/group/{group}", request.query_params, ERROR_COLUMNS, filters, default_sort="id")
        status = MappingErrorStatus(query.filters["status"]) if "status" in query.filters else MappingErrorStatus.OPEN
        with console.session() as session:
            head = next(iter(review.groups(session, viewer, group=group)), None)
            rows, total = review.errors(session, viewer, group=group, status=status, offset=0 if query.fmt else query.offset,
                                        limit=100_000 if query.fmt else query.size, sort=query.sort or "id",
                                        descending=query.descending)
        listing = Listing(ERROR_COLUMNS, rows, total, query, filters, name=f"errors-{group[:10]}")
        if query.fmt:
            return export(listing, t)
        return console.render(request, "error_group.html", page="errors", title="Error group", head=head, group=group,
                              listing=listing, can_fix=viewer.can("errors.replay"))

    @router.get("/errors/ignore")
    def ignore_confirm(request: Request) -> Response:
        viewer = console.viewer(request)
        group_key, system, error_id, rule = _selection_params(dict(request.query_params))
        with console.session() as session:
            chosen = review.selection(session, viewer, group=group_key, system=system, error_id=error_id, rule=rule)
        t = console.translator(request)
        return console.render(
            request, "confirm.html", page="errors", title="Ignore errors",
            question=t.gettext("Ignore {e} open errors of {r} records? They leave the queue with your reason.",
                               e=t.number(chosen.errors), r=t.number(chosen.records)),
            touches=chosen.records, action="/errors/ignore", need_reason=True, reason="", danger=True,
            fields=[(k, v) for k, v in (("group", group_key), ("system", system), ("error", error_id), ("rule", rule)) if v],
            confirm_label=t.gettext("Ignore"), back=_back(group_key, system, error_id, rule))

    @router.post("/errors/ignore")
    async def ignore(request: Request) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        group_key, system, error_id, rule = _selection_params(form)
        t = console.translator(request)
        if not form.get("reason", "").strip():
            return redirect(_confirm_url("/errors/ignore", group_key, system, error_id, rule), t.gettext("Ignoring needs a reason."),
                            "error")
        with console.writer() as session:
            count = review.ignore(session, viewer, console.gate.audit, reason=form["reason"], group=group_key, system=system,
                                  error_id=error_id, rule=rule)
        return redirect(_back(group_key, system, error_id, rule), t.gettext("{n} errors ignored.", n=t.number(count)))

    @router.get("/errors/replay")
    def replay_preview(request: Request) -> Response:
        viewer = console.viewer(request)
        group_key, system, _, rule = _selection_params(dict(request.query_params))
        table = _table(request.query_params.get("table"))
        t = console.translator(request)
        with console.session() as session:
            head = next(iter(review.groups(session, viewer, group=group_key)), None) if group_key else None
            versions = review.table_versions(console.exchange, head.table.split("@")[0]) if head else []
            preview = review.replay_preview(console.exchange, session, viewer, group=group_key, system=system, table=table,
                                            rule=rule)
        return console.render(
            request, "replay.html", page="errors", title="Replay errors", preview=preview, head=head, versions=versions,
            chosen_table=f"{table[0]}@{table[1]}" if table else "",
            question=t.gettext("Replay {r} records with {table}?", r=t.number(preview.selection.records),
                               table=f"{table[0]}@{table[1]}" if table else t.gettext("each system's current table")),
            touches=preview.selection.records, action="/errors/replay", need_reason=False, danger=False,
            fields=[(k, v) for k, v in (("group", group_key), ("system", system), ("rule", rule),
                                        ("table", f"{table[0]}@{table[1]}" if table else None)) if v],
            confirm_label=t.gettext("Replay"), back=_back(group_key, system, None, rule))

    @router.post("/errors/replay")
    async def replay(request: Request) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        group_key, system, _, rule = _selection_params(form)
        table = _table(form.get("table"))
        if not group_key and not system and not rule:
            raise Problem("choose a group, a system or a rule to replay")
        viewer.scope("errors.replay")  # refused now (403), not in the job
        if table is not None:
            viewer.scope("replay.run")

        def work(job: Any) -> dict[str, Any]:
            return review.replay(console.exchange, viewer, console.gate.audit, group=group_key, system=system, table=table,
                                 progress=job, rule=rule)

        job = console.jobs.start("Replay errors", viewer.username, _back(group_key, system, None, rule), work, kind="errors.replay")
        return redirect(f"/jobs/{job.id}")

    @router.get("/errors/{error_id}")
    def error(request: Request, error_id: int) -> Response:
        viewer = console.viewer(request)
        with console.session() as session:
            shown = review.error(session, viewer, error_id)
        lines = _marked_lines(shown["raw"]["payload"], shown.get("failing_key"))
        return console.render(request, "error.html", page="errors", title="Error", e=shown, lines=lines,
                              can_fix=viewer.can("errors.replay") and shown["status"] == "open")

    @router.get("/jobs/{job_id}")
    def job(request: Request, job_id: str) -> Response:
        viewer = console.viewer(request)
        found = console.jobs.get(job_id, viewer.username)
        if found is None:
            raise Problem("no such job (jobs are kept an hour)", hint="the audit log keeps what was done")
        template = "_job_body.html" if is_partial(request) else "job.html"
        return console.render(request, template, page="errors", title=found.title, job=found)

    _ = JnxError


def _back(group: str | None, system: str | None, error_id: int | None, rule: str | None = None) -> str:
    if error_id is not None:
        return f"/errors/{error_id}"
    if group:
        return f"/errors/group/{group}"
    query = urlencode({k: v for k, v in (("system", system), ("rule", rule)) if v})
    return f"/errors?{query}" if query else "/errors"


def _confirm_url(path: str, group: str | None, system: str | None, error_id: int | None, rule: str | None = None) -> str:
    return path + "?" + urlencode({k: v for k, v in (("group", group), ("system", system), ("error", error_id), ("rule", rule)) if v})


def _marked_lines(payload: Any, key: str | None) -> list[tuple[str, bool]]:
    """The raw record as indented JSON lines, the failing field's line marked."""
    text = json.dumps(payload, ensure_ascii=False, indent=2, default=str)
    needle = f'"{key}":' if key else None
    return [(line, bool(needle and line.lstrip().startswith(needle))) for line in text.splitlines()]
