"""Runs as users see them: listed with filters and cursor pages, one with its per-page counts and the
errors it brought, and started now as a job. A department officer sees the runs of its department's
systems; another's is "not found", as a missing one is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from jnx.adapters.traffic import TrafficCounts
from jnx.errors import NotFoundError
from jnx.exchange.wiring import Exchange
from jnx.security.audit_sql import SqlAuditStore
from jnx.services import system_status
from jnx.services.console_scope import Viewer
from jnx.services.context import ServiceContext
from jnx.services.jobs import JobRunner, JobView
from jnx.services.paging import before_id, between, checked_limit, encode_cursor, filtered
from jnx.store.models import Run, RunStatus, SourceSystem


class RunItem(BaseModel):
    """One run as ``jnx runs list --json`` and ``GET /api/v1/runs`` list it."""

    model_config = ConfigDict(extra="allow")

    run_id: int
    system: str
    department: str
    status: RunStatus
    trigger: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    seconds: float | None
    pulled: int | None
    staged: int | None
    new: int | None
    revised: int | None
    unchanged: int | None
    errors: int | None
    request_retries: int = 0
    line_switches: int = 0
    retry_after_waits: int = 0
    waited_seconds: float = 0.0
    error: str | None


class RunPage(BaseModel):
    runs: list[RunItem]
    count: int
    next_cursor: str | None


class PageCount(BaseModel):
    model_config = ConfigDict(extra="allow")

    stream: str
    page: int
    pulled: int = 0
    staged: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    errors: int = 0


class RunErrorGroup(BaseModel):
    group: str
    field: str
    rule: str
    status: str
    records: int


class RunDetail(RunItem):
    counts: dict[str, Any]
    pages: list[PageCount]
    warnings: list[str]
    watermark_from: str | None
    watermark_to: str | None
    attempts: int
    full: bool
    error_groups: list[RunErrorGroup]


def _item(run: Run, department: str) -> RunItem:
    counts = run.counts or {}
    seconds = round((run.finished_at - run.started_at).total_seconds(), 1) if run.finished_at and run.started_at else None
    return RunItem(run_id=run.id, system=run.system_id, department=department, status=run.status, trigger=run.trigger.value,
                   started_at=run.started_at, finished_at=run.finished_at, seconds=seconds,
                   **{k: counts.get(k) for k in ("pulled", "staged", "new", "revised", "unchanged", "errors")},
                   **TrafficCounts.of(counts).as_dict(), error=run.error)


def list_runs(ctx: ServiceContext, *, system: str | None = None, department: str | None = None,
              status: RunStatus | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
              limit: int = 50, cursor: str | None = None) -> RunPage:
    """Runs newest first, in pages: by system, department (执法主体 credit code), status and the
    instant they were created (``since`` inclusive, ``until`` exclusive)."""
    scope = ctx.authorize("runs.list")
    limit = checked_limit(limit)
    query = select(Run, SourceSystem.department_credit_code).join(SourceSystem, SourceSystem.id == Run.system_id)
    query = filtered(query, None if scope.everything else scope.runs(), Run.system_id == system if system else None,
                     SourceSystem.department_credit_code == department if department else None,
                     Run.status == status if status is not None else None, *between(Run.created_at, since, until),
                     before_id(Run.id, cursor))
    rows = ctx.session.execute(query.order_by(Run.id.desc()).limit(limit + 1)).all()
    items = [_item(run, dept) for run, dept in rows[:limit]]
    return RunPage(runs=items, count=len(items), next_cursor=encode_cursor(items[-1].run_id) if len(rows) > limit else None)


def show_run(ctx: ServiceContext, run_id: int) -> RunDetail:
    """One run: its counts, each page's counts (the last 500 pages), warnings, watermarks and the errors it brought."""
    scope = ctx.authorize("runs.show")
    found = ctx.session.execute(select(Run, SourceSystem.department_credit_code).join(SourceSystem, SourceSystem.id == Run.system_id)
                                .where(Run.id == run_id, *(() if scope.everything else (scope.runs(),)))).first()
    if found is None:
        raise NotFoundError(f"no run #{run_id}", hint="`jnx runs list` (GET /api/v1/runs) lists the runs you may see")
    run, department = found
    counts = dict(run.counts or {})
    pages = [PageCount.model_validate(p) for p in counts.pop("pages", None) or []]
    warnings = [str(w) for w in counts.pop("warnings", None) or []]
    return RunDetail(**_item(run, department).model_dump(), counts=counts, pages=pages, warnings=warnings,
                     watermark_from=run.watermark_from, watermark_to=run.watermark_to, attempts=run.attempts, full=run.full,
                     error_groups=[RunErrorGroup.model_validate(g) for g in system_status.run_error_groups(ctx.session, run_id)])


def start_run(ctx: ServiceContext, jobs: JobRunner, exchange: Callable[[], Exchange], audit: SqlAuditStore, system_id: str, *,
              full: bool = False) -> JobView:
    """Run one system now, as a job (202 over HTTP): the console's "run now", the same code."""
    scope = ctx.authorize("runs.start")
    row = ctx.session.get(SourceSystem, system_id)
    if row is None or not scope.sees_system(row.department_credit_code, row.region_code):
        raise NotFoundError(f"no system {system_id!r} is registered", hint="`jnx systems list` shows the registered ones")
    viewer = Viewer.of(ctx.actor)

    def work(progress: Any) -> dict[str, Any]:
        summary = system_status.run_now(exchange(), viewer, audit, system_id, progress, full=full, via="api")
        return {k: v for k, v in summary.items() if k != "watermarks"}

    return jobs.submit(ctx, kind="runs.start", title=f"Run {system_id} now", subject=f"system:{system_id}", work=work)
