"""Source systems as users see them: a department officer sees the systems its department registered
(and, with a region, those of its region); another's is "not found", as a missing one is."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from jnx.errors import NotFoundError
from jnx.exchange.registry import SystemRegistry
from jnx.services.context import ServiceContext
from jnx.store.models import SourceSystem


class SystemSummary(BaseModel):
    """One registered system as ``jnx systems list --json`` prints it."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    department: str
    kind: str
    protocol: str
    enabled: bool


class SystemList(BaseModel):
    systems: list[SystemSummary]


class SystemDetail(SystemSummary):
    registration: dict[str, Any]


def list_systems(ctx: ServiceContext) -> SystemList:
    scope = ctx.authorize("systems.list")
    visible = None if scope.everything else set(ctx.session.scalars(select(SourceSystem.id).where(scope.systems())))
    systems = [s.summary() for s in SystemRegistry().list(ctx.session) if visible is None or s.id in visible]
    return SystemList(systems=[SystemSummary.model_validate(s) for s in systems])


def show_system(ctx: ServiceContext, system_id: str) -> SystemDetail:
    scope = ctx.authorize("systems.show")
    if not ctx.session.scalar(select(SourceSystem.id).where(SourceSystem.id == system_id, scope.systems())):
        raise NotFoundError(f"no system {system_id!r} is registered", hint="`jnx systems list` shows the registered ones")
    system = SystemRegistry().get(ctx.session, system_id)
    return SystemDetail.model_validate({**system.summary(), "registration": system.registration.model_dump(mode="json", by_alias=True)})
