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


def register_system(ctx: ServiceContext, text: str) -> dict[str, Any]:
    """Check a registration (its YAML) offline and store it — re-registering updates the system;
    audited. The document of ``jnx systems register FILE --json``."""
    import tempfile
    from pathlib import Path

    from jnx.exchange.registry import load_registration
    from jnx.exchange.wiring import table_catalog
    from jnx.publicity.delivery import envelope_warnings

    ctx.authorize("systems.register")
    with tempfile.TemporaryDirectory(prefix="jnx-registration-") as folder:
        source = Path(folder) / "registration.yaml"
        source.write_text(text, encoding="utf-8")
        registration = load_registration(source, table_catalog(ctx.settings))
    # audited as the CLI's registration is: system.created / system.updated, by the registry's hook
    system, action = SystemRegistry(on_change=ctx.audit).register(ctx.session, registration)
    warnings = envelope_warnings(system)
    return {**system.summary(), "action": action.value, **({"warnings": warnings} if warnings else {})}


def set_enabled(ctx: ServiceContext, system_id: str, enabled: bool) -> dict[str, Any]:
    """Schedule a system's runs again, or stop (the console's enable/disable, the same code); audited."""
    from jnx.services.console_scope import Viewer
    from jnx.services.system_status import enabled_set

    ctx.authorize("systems.enable" if enabled else "systems.disable")
    data = enabled_set(ctx.session, Viewer.of(ctx.actor), system_id, enabled)
    ctx.audit("system.enabled" if enabled else "system.disabled", f"system:{system_id}", {})
    return data


def set_schedule(ctx: ServiceContext, system_id: str, cron: str | None) -> Any:
    """Change a system's schedule (cron, China time; None: no scheduled runs) — the console's, the same code; audited."""
    from jnx.services.console_scope import Viewer
    from jnx.services.schedules import schedule_changed

    ctx.authorize("schedules.set")
    change = schedule_changed(ctx.session, Viewer.of(ctx.actor), system_id, cron)
    if change.changed:
        ctx.audit("system.schedule_set", f"system:{system_id}", {"before": change.before, "after": change.after})
    return change


def start_check(ctx: ServiceContext, jobs: Any, exchange: Any, audit: Any, system_id: str) -> Any:
    """Check a system's lines, credentials and a sample pull (nothing stored), as a job (202)."""
    from jnx.services import system_status
    from jnx.services.console_scope import Viewer

    scope = ctx.authorize("systems.check")
    if not ctx.session.scalar(select(SourceSystem.id).where(SourceSystem.id == system_id, scope.systems())):
        raise NotFoundError(f"no system {system_id!r} is registered", hint="`jnx systems list` shows the registered ones")
    viewer = Viewer.of(ctx.actor)

    def work(progress: Any) -> dict[str, Any]:
        return system_status.check(exchange(), viewer, audit, system_id, progress, via="api")

    return jobs.submit(ctx, kind="systems.check", title=f"Check {system_id}", subject=f"system:{system_id}", work=work)
