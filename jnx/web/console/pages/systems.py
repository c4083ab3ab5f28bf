"""/systems and /runs — 系统 and 运行: systems with their lines, check now, enable/disable, run now
(with live progress); runs with their counts, errors and watermarks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import review
from jnx.services import system_status as service
from jnx.store.models import RunStatus
from jnx.web.console.core import Console, redirect
from jnx.web.console.listing import Column, Filter, Listing, ListQuery, export, in_memory

SYSTEM_COLUMNS = (
    Column("id", "System", link=lambda r: f"/systems/{r['id']}"),
    Column("name", "Name"),
    Column("department", "Department"),
    Column("region", "Region"),
    Column("kind", "Kind", translate=True),
    Column("protocol", "Protocol"),
    Column("schedule", "Schedule"),
    Column("enabled", "Enabled"),
    Column("line_count", "Lines", numeric=True),
    Column("updated_at", "Updated"),
)
RUN_COLUMNS = (
    Column("id", "Run", numeric=True, link=lambda r: f"/runs/{r['id']}"),
    Column("system", "System", link=lambda r: f"/systems/{r['system']}"),
    Column("status", "Status", translate=True),
    Column("trigger", "Trigger", translate=True),
    Column("started_at", "Started"),
    Column("finished_at", "Finished"),
    Column("seconds", "Seconds", numeric=True, sortable=False),
    Column("pulled", "Pulled", numeric=True, sortable=False),
    Column("new", "New", numeric=True, sortable=False),
    Column("revised", "Revised", numeric=True, sortable=False),
    Column("errors", "Errors", numeric=True, sortable=False),
    Column("error", "Failure", sortable=False),
)


def _check_result(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ok": "✔" if report["ok"] else "✘"}
    for line in report["lines"]:
        latency = f"{line['latency_ms']:.0f} ms" if line.get("latency_ms") is not None else "—"
        out[f"line {line['name']}"] = f"{'✔' if line['ok'] else '✘'} {line['url']} {latency} {line['detail']}"
    for stream in report["streams"]:
        out[f"{stream['record_type']} ({stream['table']})"] = f"{'✔' if stream['ok'] else '✘'} {stream['detail']}"
    for n, problem in enumerate(report["problems"], start=1):
        out[f"problem {n}"] = problem
    return out


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/systems")
    def systems(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            rows = service.systems(session, viewer)
        filters = (Filter("kind", "Kind", tuple(sorted({(r["kind"], r["kind"]) for r in rows}))),
                   Filter("department", "Department", tuple(sorted({(r["department"], r["department"]) for r in rows}))))
        query = ListQuery.parse("/systems", request.query_params, SYSTEM_COLUMNS, filters, default_sort="id")
        listing = in_memory(SYSTEM_COLUMNS, rows, query, filters, name="systems")
        if query.fmt:
            return export(listing, t)
        return console.render(request, "systems.html", page="systems", title="Systems", listing=listing)

    @router.get("/systems/{system_id}")
    def system(request: Request, system_id: str) -> Response:
        viewer = console.viewer(request)
        with console.session() as session:
            found = service.system(session, viewer, system_id)
        return console.render(request, "system.html", page="systems", title="System", s=found)

    @router.get("/systems/{system_id}/confirm")
    def confirm(request: Request, system_id: str, action: str) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            service.system(session, viewer, system_id)
        questions = {
            "enable": t.gettext("Schedule runs of {s} again?", s=system_id),
            "disable": t.gettext("Stop scheduling runs of {s}? Its data and watermark are kept.", s=system_id),
            "run": t.gettext("Pull {s} now, from its watermark?", s=system_id),
            "check": t.gettext("Check every line of {s}, its credentials and a sample pull (nothing is stored)?", s=system_id),
        }
        if action not in questions:
            return redirect(f"/systems/{system_id}")
        return console.render(request, "confirm.html", page="systems", title="Confirm", question=questions[action],
                              touches=1, action=f"/systems/{system_id}/{action}", need_reason=False, reason="",
                              danger=action == "disable", fields=[], confirm_label=t.gettext("Go ahead"),
                              back=f"/systems/{system_id}", touches_text=t.gettext("This touches one system."))

    @router.post("/systems/{system_id}/{action}")
    async def act(request: Request, system_id: str, action: str) -> Response:
        viewer = console.viewer(request)
        await console.check_csrf(request)
        t = console.translator(request)
        audit = console.gate.audit
        back = f"/systems/{system_id}"
        if action in {"enable", "disable"}:
            with console.writer() as session:
                service.set_enabled(session, viewer, audit, system_id, action == "enable")
            return redirect(back, t.gettext("System {s} enabled.", s=system_id) if action == "enable"
                            else t.gettext("System {s} disabled.", s=system_id))
        if action == "check":
            viewer.scope("systems.check")  # refused now (403), not in the job
            job = console.jobs.start("Check now", viewer.username, back, lambda job: _check_result(
                service.check(console.exchange, viewer, audit, system_id, job)))
            return redirect(f"/jobs/{job.id}")
        if action == "run":
            viewer.scope("runs.start")  # refused now (403), not in the job

            def work(job: Any) -> dict[str, Any]:
                summary = service.run_now(console.exchange, viewer, audit, system_id, job)
                return {k: v for k, v in summary.items() if isinstance(v, str | int | float) or v is None}

            job = console.jobs.start("Run now", viewer.username, back, work, kind="runs.start")
            return redirect(f"/jobs/{job.id}")
        return redirect(back)

    @router.get("/runs")
    def runs(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            systems = [s["id"] for s in service.systems(session, viewer)] if viewer.can("systems.list") else []
            filters = (Filter("system", "System", tuple((s, s) for s in systems)),
                       Filter("status", "Status", tuple((s.value, s.value) for s in RunStatus)))
            query = ListQuery.parse("/runs", request.query_params, RUN_COLUMNS, filters, default_sort="id", default_descending=True)
            rows, total = service.runs(session, viewer, system=query.filters.get("system"), status=query.filters.get("status"),
                                       offset=0 if query.fmt else query.offset, limit=100_000 if query.fmt else query.size,
                                       sort=query.sort or "id", descending=query.descending)
        listing = Listing(RUN_COLUMNS, rows, total, query, filters, name="runs")
        if query.fmt:
            return export(listing, t)
        return console.render(request, "runs.html", page="runs", title="Runs", listing=listing)

    @router.get("/runs/{run_id}")
    def run(request: Request, run_id: int) -> Response:
        viewer = console.viewer(request)
        with console.session() as session:
            found = service.run(session, viewer, run_id)
            closed = review.closed_by_run(session, viewer, run_id) if viewer.can("errors.list") else []
        return console.render(request, "run.html", page="runs", title="Run", r=found, closed=closed)
