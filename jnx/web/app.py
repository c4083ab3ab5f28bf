"""The HTTP API: ``create_app(settings)``. Every route but ``/api/v1/health``, ``/healthz`` and
``/readyz`` needs a user (the session cookie) or a bearer token; rights and row scope are checked in the
services, never here. ``/metrics`` is for Prometheus (docs/operations.md: a token, or loopback only)."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from jnx import __version__
from jnx.ops.health import readiness_probe
from jnx.ops.listener import health_router, metrics_router
from jnx.ops.metrics import database_collector, registry_of
from jnx.services import audit, disclosures, errors, systems
from jnx.settings import Settings
from jnx.store.db import create_engine_for
from jnx.store.models import DisclosureStatus, MappingErrorStatus
from jnx.web import problems
from jnx.web.accounts_api import AccountsGateway, accounts_router, guarded
from jnx.web.console import mount_console
from jnx.web.indicators_api import indicators_router
from jnx.web.ops_api import ops_router
from jnx.web.responses import PROBLEMS
from jnx.web.services_api import Api, services_router

log = logging.getLogger(__name__)


class IgnoreRequest(BaseModel):
    """Which errors (one id, a group, a system — at least one) and why."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in ("error_id", "group", "system")]})

    reason: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="Why these errors need no fix (kept with them).")
    error_id: int | None = Field(default=None, ge=1, le=2**62)
    group: str | None = Field(default=None, min_length=1, max_length=64)
    system: str | None = Field(default=None, min_length=1, max_length=64)


OPENAPI = "/api/v1/openapi.json"
DOCS_ASSETS = "/api/docs/assets"


def _offline_docs(app: FastAPI) -> None:
    """``/api/docs``: Swagger UI with its files from the installed fastapi-offline package — nothing
    is fetched from outside (the government network has none)."""
    import fastapi_offline

    app.mount(DOCS_ASSETS, StaticFiles(directory=FsPath(fastapi_offline.__file__).parent / "static"), name="api-docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI, title="jnx API", swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")


def create_app(settings: Settings, *, engine: Engine | None = None,
               clock: Callable[[], dt.datetime] | None = None, environment: Mapping[str, str] | None = None) -> FastAPI:
    engine = engine or create_engine_for(settings.effective_database_url)
    environment = os.environ if environment is None else environment
    gateway = AccountsGateway(engine, settings, clock=clock)
    app = FastAPI(title="jnx API", version=__version__, docs_url=None, redoc_url=None, openapi_url=OPENAPI,
                  description="济宁市行政执法监督平台 数据交换中间件 — the HTTP face of jnx's services (docs/api.md).")
    app.state.gateway = gateway

    problems.install(app)  # every error an RFC 9457 problem with jnx's code, never a traceback
    _offline_docs(app)

    @app.get("/api/v1/health", summary="liveness (no login needed)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    probe = readiness_probe(engine.url, settings.home, environment.get(settings.key_passphrase_env))
    app.include_router(health_router(probe))  # /healthz, /readyz (docs/operations.md)
    app.include_router(metrics_router(registry_of(database_collector(engine, settings.home / "calendar")),
                                      settings.metrics_token))

    app.include_router(accounts_router(gateway), responses=PROBLEMS)
    app.include_router(indicators_router(gateway), responses=PROBLEMS)
    app.include_router(ops_router(gateway), responses=PROBLEMS)
    app.include_router(services_router(Api(gateway, settings, engine)))

    @app.get("/api/v1/systems", summary="registered source systems within the caller's scope", responses=PROBLEMS)
    def list_systems(request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "systems.list", "systems", lambda ctx: systems.list_systems(ctx)),
                       request, response)

    @app.get("/api/v1/systems/{system_id}", summary="one system and its registration (404 outside the scope)",
             responses=PROBLEMS)
    def show_system(system_id: Annotated[str, Path(max_length=64)], request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "systems.show", f"system:{system_id}",
                                           lambda ctx: systems.show_system(ctx, system_id)), request, response)

    @app.get("/api/v1/errors/groups", summary="open errors by cause, largest first (as `jnx errors groups --json`)",
             responses=PROBLEMS)
    def error_groups(request: Request, response: Response, system: Annotated[str | None, Query(max_length=64)] = None) -> Any:
        return guarded(lambda: gateway.act(request, "errors.list", "errors", lambda ctx: errors.error_groups(ctx, system=system)),
                       request, response)

    @app.get("/api/v1/errors", summary="mapping errors within the caller's scope", responses=PROBLEMS)
    def list_errors(request: Request, response: Response, status: MappingErrorStatus | None = MappingErrorStatus.OPEN,
                    system: Annotated[str | None, Query(max_length=64)] = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
        return guarded(lambda: gateway.act(request, "errors.list", "errors", lambda ctx: {
            "errors": errors.list_errors(ctx, status=status, system=system, limit=min(limit, 1000))}), request, response)

    @app.post("/api/v1/errors/ignore", summary="take errors out of the queue on purpose, with a reason (audited)",
              responses=PROBLEMS)
    def ignore_errors(body: IgnoreRequest, request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "errors.ignore", body.group or body.system or f"error:{body.error_id}",
                                           lambda ctx: errors.ignore_errors(ctx, reason=body.reason, error_id=body.error_id,
                                                                            group=body.group, system=body.system)),
                       request, response)

    @app.get("/api/v1/errors/{error_id}", summary="one mapping error (404 outside the caller's scope)", responses=PROBLEMS)
    def show_error(error_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "errors.show", f"error:{error_id}",
                                           lambda ctx: errors.show_error(ctx, error_id)), request, response)

    @app.get("/api/v1/errors/{error_id}/raw", summary="the raw source record behind an error (masked)", responses=PROBLEMS)
    def error_raw(error_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "errors.raw", f"error:{error_id}",
                                           lambda ctx: errors.error_raw(ctx, error_id)), request, response)

    @app.get("/api/v1/disclosures", summary="双公示 disclosures within the caller's scope, in pages "
             "(items as in `jnx disclosures list --json`; follow next_cursor)", responses=PROBLEMS)
    def list_disclosures(request: Request, response: Response, status: DisclosureStatus | None = None,
                         overdue: bool = False, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                         cursor: Annotated[str | None, Query(max_length=200)] = None) -> Any:
        return guarded(lambda: gateway.act(request, "disclosures.list", "disclosures", lambda ctx: disclosures.disclosure_page(
            ctx, status=status, overdue=overdue, limit=limit, cursor=cursor)), request, response)

    @app.get("/api/v1/disclosures/{disclosure_id}", summary="one disclosure (404 outside the caller's scope)", responses=PROBLEMS)
    def show_disclosure(disclosure_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "disclosures.show", f"disclosure:{disclosure_id}",
                                           lambda ctx: disclosures.show_disclosure(ctx, disclosure_id)), request, response)

    @app.get("/api/v1/audit", summary="the audit log (audit administrator; supervisor read-only)")
    def read_audit(request: Request, response: Response, after: int = 0, limit: int = 200, actor: str | None = None,
                   action: str | None = None, subject: str | None = None) -> Any:
        return guarded(lambda: gateway.act(request, "audit.read", "audit", lambda ctx: audit.read_audit(
            ctx, after=after, limit=limit, actor=actor, action=action, subject=subject)), request, response)

    @app.get("/api/v1/audit/verify", summary="verify the audit chain")
    def verify_audit(request: Request, response: Response, head: str | None = None) -> Any:
        return guarded(lambda: gateway.act(request, "audit.verify", "audit",
                                           lambda ctx: audit.verify_audit(ctx, expected_head=head)), request, response)

    mount_console(app, settings, engine, environment)  # the console's pages at / (jnx/web/console, docs/console.md)
    return app
