"""The errors queue as users see it: listed and shown within their row scope.

A department officer sees the errors of the systems their department registered; an error of
another department's system is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from jnx.errors import InputError, NotFoundError
from jnx.exchange import error_queue
from jnx.exchange.registry import SystemRegistry
from jnx.security.scope import RowScope
from jnx.services.context import ServiceContext
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, SourceSystem


def _not_found(error_id: int) -> NotFoundError:
    return NotFoundError(f"no mapping error #{error_id}", hint="`jnx errors list` shows the open ones")


def _visible(ctx: ServiceContext, scope: RowScope, error_id: int) -> MappingErrorEntry:
    row = ctx.session.get(MappingErrorEntry, error_id)
    if row is None:
        raise _not_found(error_id)
    if not scope.everything:
        system = ctx.session.get(SourceSystem, row.system_id)
        if system is None or not scope.sees_system(system.department_credit_code, system.region_code):
            raise _not_found(error_id)
    return row


class ErrorGroupView(BaseModel):
    """One cause of the errors queue: system, table version, field, rule (and the value of an unknown code)."""

    group: str
    system: str
    table: str
    record_type: str
    field: str
    rule: str
    value: str | None
    records: int
    errors: int
    message: str
    first_seen: dt.datetime
    last_seen: dt.datetime


class ErrorGroups(BaseModel):
    groups: list[ErrorGroupView]


def _require_system(ctx: ServiceContext, scope: RowScope, system: str) -> None:
    """A NotFoundError for a system that is not registered (listing the registered ones) or outside the scope."""
    if scope.everything:
        SystemRegistry().get(ctx.session, system)
    elif not ctx.session.scalar(select(SourceSystem.id).where(SourceSystem.id == system, scope.systems())):
        raise NotFoundError(f"no system {system!r} is registered", hint="`jnx systems list` shows the registered ones")


def error_groups(ctx: ServiceContext, *, system: str | None = None) -> ErrorGroups:
    """The open errors by cause, largest first (``jnx errors groups --json``, ``GET /api/v1/errors/groups``)."""
    scope = ctx.authorize("errors.list")
    if system is not None:
        _require_system(ctx, scope, system)
    found = error_queue.groups(ctx.session, system=system, where=None if scope.everything else scope.errors())
    return ErrorGroups(groups=[ErrorGroupView.model_validate(g, from_attributes=True) for g in found])


def list_errors(ctx: ServiceContext, *, status: MappingErrorStatus | None = MappingErrorStatus.OPEN,
                system: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    scope = ctx.authorize("errors.list")
    return error_queue.list_errors(ctx.session, system=system, status=status, limit=limit,
                                   where=None if scope.everything else scope.errors())


def show_error(ctx: ServiceContext, error_id: int) -> dict[str, Any]:
    """One error and the other errors of its raw record, without the raw record itself (``errors.raw``)."""
    scope = ctx.authorize("errors.show")
    _visible(ctx, scope, error_id)
    shown = error_queue.show(ctx.session, error_id)
    shown.pop("raw", None)
    if shown.get("conflict"):
        shown["conflict"].pop("data", None)
    return shown


def error_raw(ctx: ServiceContext, error_id: int) -> dict[str, Any]:
    """The raw source record behind an error (personal data masked)."""
    scope = ctx.authorize("errors.raw")
    _visible(ctx, scope, error_id)
    shown = error_queue.show(ctx.session, error_id)
    return {"error": error_id, "raw": shown["raw"]}


def system_ids(ctx: ServiceContext, scope: RowScope) -> list[str]:
    return list(ctx.session.scalars(select(SourceSystem.id).where(scope.systems()).order_by(SourceSystem.id)))


class Ignored(BaseModel):
    ignored: int


def ignore_errors(ctx: ServiceContext, *, reason: str, error_id: int | None = None, group: str | None = None,
                  system: str | None = None) -> Ignored:
    """Take open errors out of the queue on purpose, with a reason (audited): one error, a group or a
    system's — within the caller's scope (another department's system or error is "not found")."""
    scope = ctx.authorize("errors.ignore")
    if error_id is not None:
        _visible(ctx, scope, error_id)
    if system is not None:
        _require_system(ctx, scope, system)
    systems: list[str | None] = [system] if scope.everything or system is not None or error_id is not None else list(system_ids(ctx, scope))
    count = sum(error_queue.ignore(ctx.session, reason=reason, error_id=error_id, group=group, system=s) for s in systems)
    ctx.audit("errors.ignored", group or system or f"error:{error_id}", {"count": count, "reason": reason})
    return Ignored(ignored=count)


def replay_preview(ctx: ServiceContext, exchange: Any, *, group: str | None = None, system: str | None = None,
                   table: tuple[str, str] | None = None) -> Any:
    """What a replay of a group's or a system's errors would do (the console's preview, the same code):
    mapped in a transaction rolled back, nothing changes. ``exchange``: the Exchange."""
    from jnx.services import review
    from jnx.services.console_scope import Viewer

    ctx.authorize("errors.replay")
    if table is not None:
        ctx.authorize("replay.run")
    return review.replay_preview(exchange, ctx.session, Viewer.of(ctx.actor), group=group, system=system, table=table)


def start_replay(ctx: ServiceContext, jobs: Any, exchange: Any, audit: Any, *, group: str | None = None, system: str | None = None,
                 table: tuple[str, str] | None = None) -> Any:
    """Replay a group's or a system's errors as a job (202): the console's replay, the same code."""
    from jnx.services import review
    from jnx.services.console_scope import Viewer

    scope = ctx.authorize("errors.replay")
    if table is not None:
        ctx.authorize("replay.run")
    if system is not None:
        _require_system(ctx, scope, system)
    if not group and not system:
        raise InputError("choose a group or a system to replay", hint="`GET /api/v1/errors/groups` lists the groups")
    viewer = Viewer.of(ctx.actor)
    review.selection(ctx.session, viewer, group=group, system=system)  # 404 for another department's system

    def work(progress: Any) -> dict[str, Any]:
        return review.replay(exchange(), viewer, audit, group=group, system=system, table=table, progress=progress, via="api")

    return jobs.submit(ctx, kind="errors.replay", title="Replay errors", subject=group or system or "all", work=work)
