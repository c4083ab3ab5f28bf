"""The errors queue as users see it: listed and shown within their row scope.

A department officer sees the errors of the systems their department registered; an error of
another department's system is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jnx.errors import NotFoundError
from jnx.exchange import error_queue
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
