"""``/api/v1`` routes of the runs, jobs, long actions, mapping tables and keys: each a thin face over
one function of :mod:`jnx.services` (the CLI's ``--json`` prints the same document).

A long action (a run, a replay, a delivery, a reconciliation) answers ``202 Accepted`` with its job
(``Location: /api/v1/jobs/{id}``); poll that, or follow ``/api/v1/jobs/{id}/events``
(``text/event-stream``) until its ``end`` event.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Engine

from jnx.errors import JnxError
from jnx.exchange.wiring import Exchange
from jnx.security.audit_sql import SqlAuditStore
from jnx.services import corrections, disclosures, errors, jobs, keys, mappings, records, runs, systems
from jnx.services.console_scope import Viewer
from jnx.services.context import Actor, ServiceContext
from jnx.services.jobs import JobRunner, JobView
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.store.models import JobStatus, RunStatus
from jnx.web.accounts_api import AccountsGateway, error_response, guarded
from jnx.web.responses import PROBLEMS

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="a job's id (from a 202 answer or GET /api/v1/jobs)")]
Limit = Annotated[int, Query(ge=1, le=1000, description="items a page")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]
Since = Annotated[AwareDatetime | None, Query(description="from this instant on (ISO 8601 with offset)")]
Until = Annotated[AwareDatetime | None, Query(description="before this instant (ISO 8601 with offset)")]
SystemId = Annotated[str, Path(max_length=64)]
Ref = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,100}(@[0-9]{1,9})?$", description="NAME@VERSION, or NAME for its latest")]

ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: the job that does it (poll its `links.self`, or follow `links.events`)",
          "headers": {"Location": {"description": "the job's URL", "schema": {"type": "string"}}}},
    **PROBLEMS,
}
EVENTS: dict[int | str, dict[str, Any]] = {
    200: {"description": "server-sent events: `progress` (the job as JSON) each time it changed, then `end`",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    **PROBLEMS,
}


class RegistrationBody(BaseModel):
    registration: str = Field(min_length=1, max_length=1_000_000, description="the registration's YAML (docs/registration.md)")


class ScheduleBody(BaseModel):
    cron: str | None = Field(default=None, max_length=100,
                             description="cron in China time, e.g. '*/15 * * * *'; null: no scheduled runs")


class RunBody(BaseModel):
    full: bool = Field(default=False, description="pull from the beginning, ignoring the watermark")


TABLE = r"^[A-Za-z0-9_.-]{1,100}@[0-9]{1,9}$"


def _one_of(*names: str) -> ConfigDict:
    return ConfigDict(json_schema_extra={"anyOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names]})


class ReplayBody(BaseModel):
    """Which errors to replay (a group or a system — at least one) and, for the operator, another table version."""

    model_config = _one_of("group", "system")

    group: str | None = Field(default=None, min_length=1, max_length=64)
    system: str | None = Field(default=None, min_length=1, max_length=64)
    table: str | None = Field(default=None, pattern=TABLE, description="NAME@VERSION (default: each system's pinned table)")

    @model_validator(mode="after")
    def _chosen(self) -> ReplayBody:
        if not self.group and not self.system:
            raise ValueError("choose a group or a system to replay (`GET /api/v1/errors/groups` lists the groups)")
        return self


class CorrectBody(BaseModel):
    """Top-level fields of the raw record to set, and why."""

    set: dict[str, str | int | float | bool | None] = Field(min_length=1, max_length=50,
                                                           description="field → corrected value (top-level keys of the raw record)")
    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="why (kept in the audit log and the revision)")


class SampleBody(BaseModel):
    records: list[dict[str, Any]] = Field(min_length=1, max_length=1000, description="source records as the system sends them")
    department_name: str | None = Field(default=None, max_length=200)
    department_credit_code: str | None = Field(default=None, max_length=32)
    region_code: str | None = Field(default=None, max_length=12)


class PublishBody(BaseModel):
    table: str = Field(min_length=1, max_length=1_000_000, description="the mapping table's YAML, as a file would hold it")


class DeliverBody(BaseModel):
    system: str | None = Field(default=None, min_length=1, max_length=64, description="the credit system (default: the one registered)")
    limit: int = Field(default=10_000, ge=1, le=1_000_000, description="claim at most this many deliveries")


def _table(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    name, _, version = value.partition("@")
    return name, version


class Api:
    """What the routes share: the gateway (who asks, one transaction), the job runner, a fresh exchange per job."""

    def __init__(self, gateway: AccountsGateway, settings: Settings, engine: Engine) -> None:
        self.gateway = gateway
        self.settings = settings
        self.engine = engine
        self.jobs = JobRunner(engine, clock=gateway.clock)
        self.audit = SqlAuditStore(engine)
        self._reads = session_factory(engine, immediate=True)

    def exchange(self) -> Exchange:
        return Exchange(settings=self.settings, engine=self.engine, environment=os.environ, worker_id=f"api-{os.getpid()}")

    def act(self, request: Request, response: Response, action: str, subject: str, work: Callable[[ServiceContext], Any]) -> Any:
        return guarded(lambda: self.gateway.act(request, action, subject, work), request, response)

    def accept(self, request: Request, response: Response, action: str, subject: str,
               work: Callable[[ServiceContext], JobView]) -> Any:
        """A long action: 202 with the job and its Location."""
        answer = self.act(request, response, action, subject, work)
        if isinstance(answer, dict) and "links" in answer:
            response.headers["Location"] = answer["links"]["self"]
        return answer

    def as_actor(self, actor: Actor, work: Callable[[ServiceContext], Any]) -> Any:
        with self._reads.begin() as session:
            return work(ServiceContext(session=session, settings=self.settings, actor=actor, clock=self.gateway.clock))


def services_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", responses=PROBLEMS)

    # --- jobs ------------------------------------------------------------------------------------

    @router.get("/jobs", summary="the caller's long actions (jobs), newest first, in pages")
    def list_jobs(request: Request, response: Response, status: JobStatus | None = None,
                  kind: Annotated[str | None, Query(max_length=64)] = None, since: Since = None, until: Until = None,
                  limit: Limit = 50, cursor: Cursor = None) -> Any:
        return api.act(request, response, "jobs.list", "jobs", lambda ctx: jobs.list_jobs(
            ctx, status=status, kind=kind, since=since, until=until, limit=limit, cursor=cursor))

    @router.get("/jobs/{job_id}", summary="one job: status, phase, done/total, result or error (poll this)")
    def show_job(job_id: JobId, request: Request, response: Response) -> Any:
        return api.act(request, response, "jobs.list", f"job:{job_id}", lambda ctx: jobs.show_job(ctx, job_id))

    @router.get("/jobs/{job_id}/events", summary="the job's progress as server-sent events, until it ends",
                responses=EVENTS, response_class=StreamingResponse)
    def job_events(job_id: JobId, request: Request, response: Response) -> Any:
        asking: list[Actor] = []

        def first(ctx: ServiceContext) -> JobView:
            asking.append(ctx.actor)
            return jobs.show_job(ctx, job_id)

        answer = api.act(request, response, "jobs.list", f"job:{job_id}", first)
        if isinstance(answer, Response):
            return answer
        actor = asking[0]

        def read() -> JobView:
            return api.as_actor(actor, lambda ctx: jobs.show_job(ctx, job_id))  # type: ignore[no-any-return]

        def events() -> Any:
            try:
                yield from jobs.watch(read)
            except JnxError as exc:  # the job was pruned, or the database went away: say so and end
                yield f"event: error\ndata: {bytes(error_response(exc).body).decode()}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                                          "X-Request-ID": response.headers.get("X-Request-ID", "")})

    # --- systems -------------------------------------------------------------------------------

    @router.post("/systems", status_code=201, summary="register or update a source system from its YAML (system administrator; audited)")
    def register_system(body: RegistrationBody, request: Request, response: Response) -> Any:
        return api.act(request, response, "systems.register", "systems", lambda ctx: systems.register_system(ctx, body.registration))

    @router.post("/systems/{system_id}/enable", summary="schedule a system's runs again (audited)")
    def enable_system(system_id: SystemId, request: Request, response: Response) -> Any:
        return api.act(request, response, "systems.enable", f"system:{system_id}",
                       lambda ctx: systems.set_enabled(ctx, system_id, True))

    @router.post("/systems/{system_id}/disable", summary="stop scheduling a system's runs (audited)")
    def disable_system(system_id: SystemId, request: Request, response: Response) -> Any:
        return api.act(request, response, "systems.disable", f"system:{system_id}",
                       lambda ctx: systems.set_enabled(ctx, system_id, False))

    @router.put("/systems/{system_id}/schedule", summary="change a system's schedule (cron, China time; audited)")
    def schedule_system(system_id: SystemId, body: ScheduleBody, request: Request, response: Response) -> Any:
        return api.act(request, response, "schedules.set", f"system:{system_id}",
                       lambda ctx: systems.set_schedule(ctx, system_id, body.cron))

    @router.post("/systems/{system_id}/check", status_code=202, responses=ACCEPTED,
                 summary="check a system's lines, credentials and a sample pull (nothing stored): 202 with the job")
    def check_system(system_id: SystemId, request: Request, response: Response) -> Any:
        return api.accept(request, response, "systems.check", f"system:{system_id}", lambda ctx: systems.start_check(
            ctx, api.jobs, api.exchange, api.audit, system_id))

    # --- runs ------------------------------------------------------------------------------------

    @router.get("/runs", summary="runs newest first, in pages (as `jnx runs list --json`)")
    def list_runs(request: Request, response: Response, system: Annotated[str | None, Query(max_length=64)] = None,
                  department: Annotated[str | None, Query(max_length=32)] = None, status: RunStatus | None = None,
                  since: Since = None, until: Until = None, limit: Limit = 50, cursor: Cursor = None) -> Any:
        return api.act(request, response, "runs.list", "runs", lambda ctx: runs.list_runs(
            ctx, system=system, department=department, status=status, since=since, until=until, limit=limit, cursor=cursor))

    @router.get("/runs/{run_id}", summary="one run with its per-page counts and the errors it brought (as `jnx runs show`)")
    def show_run(run_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, response: Response) -> Any:
        return api.act(request, response, "runs.show", f"run:{run_id}", lambda ctx: runs.show_run(ctx, run_id))

    @router.post("/systems/{system_id}/runs", status_code=202, responses=ACCEPTED,
                 summary="run one system now: 202 with the job (as the console's 'run now')")
    def start_run(system_id: SystemId, request: Request, response: Response, body: RunBody | None = None) -> Any:
        return api.accept(request, response, "runs.start", f"system:{system_id}", lambda ctx: runs.start_run(
            ctx, api.jobs, api.exchange, api.audit, system_id, full=bool(body and body.full)))

    # --- standard records ------------------------------------------------------------------------

    @router.get("/records", summary="standard records newest first, in pages")
    def list_records(request: Request, response: Response, record_type: Annotated[str | None, Query(max_length=32)] = None,
                     key: Annotated[str | None, Query(max_length=300, description="a part of the business key")] = None,
                     since: Since = None, until: Until = None, limit: Limit = 100, cursor: Cursor = None) -> Any:
        return api.act(request, response, "records.list", "records", lambda ctx: records.list_records(
            ctx, record_type=record_type, key=key, since=since, until=until, limit=limit, cursor=cursor))

    @router.get("/records/{record_id}", summary="one standard record with its whole lineage (raw → revisions → disclosures → receipts)")
    def show_record(record_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, response: Response) -> Any:
        return api.act(request, response, "records.show", f"record:{record_id}", lambda ctx: records.show_record(ctx, record_id))

    # --- errors: replay (preview, then a job) and correct one record ---------------------------

    @router.get("/errors/replay-preview", summary="what a replay would do (the dry-run diff; nothing changes)")
    def replay_preview(request: Request, response: Response, group: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
                       system: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
                       table: Annotated[str | None, Query(pattern=TABLE)] = None) -> Any:
        return api.act(request, response, "errors.replay", group or system or "all", lambda ctx: errors.replay_preview(
            ctx, api.exchange(), group=group, system=system, table=_table(table)))

    @router.post("/errors/replay", status_code=202, responses=ACCEPTED,
                 summary="replay a group's or a system's errors under the current (or another) table: 202 with the job")
    def replay(body: ReplayBody, request: Request, response: Response) -> Any:
        return api.accept(request, response, "errors.replay", body.group or body.system or "all", lambda ctx: errors.start_replay(
            ctx, api.jobs, api.exchange, api.audit, group=body.group, system=body.system, table=_table(body.table)))

    def corrected(request: Request, response: Response, subject: str, body: CorrectBody,
                  raw_of: Callable[[ServiceContext, Viewer], int], error_id: int | None = None) -> Any:
        """The console's correction, the same code: who asks and which raw record (404 outside their
        systems) in the request's transaction, then the correction in its own write transaction."""
        def work() -> Any:
            def check(ctx: ServiceContext) -> tuple[Viewer, int]:
                ctx.authorize("errors.correct")
                viewer = Viewer.of(ctx.actor)
                return viewer, raw_of(ctx, viewer)

            viewer, raw_id = api.gateway.act(request, "errors.correct", subject, check)
            return corrections.correct_record(api.exchange(), viewer, api.audit, raw_id, dict(body.set), body.reason,
                                              error_id=error_id, via="api")

        return guarded(work, request, response)

    @router.post("/errors/{error_id}/correct", summary="correct the raw record behind an error by hand and map it again "
                 "(audited; the console's correction, the same code)")
    def correct(error_id: Annotated[int, Path(ge=1, le=2**62)], body: CorrectBody, request: Request, response: Response) -> Any:
        return corrected(request, response, f"error:{error_id}", body,
                         lambda ctx, viewer: corrections.raw_of_error(ctx.session, viewer, error_id), error_id)

    @router.post("/records/{record_id}/correct", summary="correct a standard record's source content (its current "
                 "revision's raw record) and map it again: the record is revised, its disclosure gets a correction revision")
    def correct_record(record_id: Annotated[int, Path(ge=1, le=2**62)], body: CorrectBody, request: Request,
                       response: Response) -> Any:
        return corrected(request, response, f"record:{record_id}", body,
                         lambda ctx, viewer: corrections.raw_of_record(ctx.session, viewer, record_id))

    @router.post("/disclosures/{disclosure_id}/correct", summary="correct (变更) a disclosure: its record's source content "
                 "corrected and mapped again, the disclosure's correction revision queued for the platform")
    def correct_disclosure(disclosure_id: Annotated[int, Path(ge=1, le=2**62)], body: CorrectBody, request: Request,
                           response: Response) -> Any:
        return corrected(request, response, f"disclosure:{disclosure_id}", body, lambda ctx, viewer: corrections.raw_of_record(
            ctx.session, viewer, disclosures.record_of(ctx, disclosure_id)))

    # --- disclosures: withdraw, deliver, reconcile -----------------------------------------------

    @router.post("/disclosures/{disclosure_id}/withdraw", summary="withdraw (撤下) a disclosure with a reason (audited)")
    def withdraw(disclosure_id: Annotated[int, Path(ge=1, le=2**62)], body: ReasonBody, request: Request, response: Response) -> Any:
        return api.act(request, response, "disclosures.withdraw", f"disclosure:{disclosure_id}",
                       lambda ctx: disclosures.withdraw_disclosure(ctx, disclosure_id, body.reason.strip()))

    @router.post("/disclosures/deliver", status_code=202, responses=ACCEPTED,
                 summary="push what is due now to the credit platform: 202 with the job")
    def deliver(request: Request, response: Response, body: DeliverBody | None = None) -> Any:
        chosen = body or DeliverBody()
        return api.accept(request, response, "deliveries.run", chosen.system or "credit", lambda ctx: disclosures.start_delivery(
            ctx, api.jobs, api.engine, os.environ, system=chosen.system, limit=chosen.limit))

    @router.post("/reconcile/credit", status_code=202, responses=ACCEPTED,
                 summary="reconcile with the credit platform (对账): 202 with the job")
    def reconcile(request: Request, response: Response) -> Any:
        return api.accept(request, response, "reconcile.run", "credit", lambda ctx: disclosures.start_reconcile(
            ctx, api.jobs, api.exchange, api.audit, api.engine))

    # --- mapping tables ----------------------------------------------------------------------------

    @router.get("/mappings", summary="published mapping tables and versions (as `jnx mappings list --json`)")
    def list_tables(request: Request, response: Response) -> Any:
        return api.act(request, response, "mappings.list", "mappings", mappings.list_tables)

    @router.get("/mappings/{ref}", summary="one table version: hash and document (as `jnx mappings show --json`)")
    def show_table(ref: Ref, request: Request, response: Response) -> Any:
        return api.act(request, response, "mappings.show", f"mapping:{ref}", lambda ctx: mappings.show_table(ctx, ref))

    @router.get("/mappings/{ref}/diff/{other}", summary="what changed from one version to another (as `jnx mappings diff --json`)")
    def diff_tables(ref: Ref, other: Ref, request: Request, response: Response) -> Any:
        return api.act(request, response, "mappings.show", f"mapping:{ref}", lambda ctx: mappings.diff(ctx, ref, other))

    @router.post("/mappings/{ref}/test", summary="map sample records with a table, storing nothing (as `jnx mappings test --json`)")
    def test_table(ref: Ref, body: SampleBody, request: Request, response: Response) -> Any:
        return api.act(request, response, "mappings.show", f"mapping:{ref}", lambda ctx: mappings.test_records(
            ctx, ref, body.records, department_name=body.department_name, department_credit_code=body.department_credit_code,
            region_code=body.region_code))

    @router.post("/mappings", status_code=201, summary="publish a table as a new version (system administrator; audited)")
    def publish_table(body: PublishBody, request: Request, response: Response) -> Any:
        return api.act(request, response, "mappings.publish", "mappings", lambda ctx: mappings.publish(ctx, body.table))

    # --- keys ----------------------------------------------------------------------------------------

    @router.get("/keys", summary="jnx's and its peers' keys by kid, public halves only (as `jnx keys list --json`)")
    def list_keys(request: Request, response: Response) -> Any:
        return api.act(request, response, "keys.list", "keys", keys.list_keys)

    @router.get("/keys/{kid}", summary="one public key, JWK or PEM (as `jnx keys export-public KID --json`)")
    def export_key(kid: Annotated[str, Path(min_length=1, max_length=200)], request: Request, response: Response,
                   format: Literal["jwk", "pem"] = "jwk") -> Any:  # noqa: A002
        return api.act(request, response, "keys.list", f"key:{kid}", lambda ctx: keys.export_public(ctx, kid, format))

    return router
