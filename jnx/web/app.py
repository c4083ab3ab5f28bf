"""The HTTP API: ``create_app(settings)``. Every route but ``/api/v1/health`` needs a user (the session
cookie) or a bearer token; rights and row scope are checked in the services, never here."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from jnx.errors import JnxError
from jnx.services import audit, disclosures, errors
from jnx.settings import Settings
from jnx.store.db import create_engine_for
from jnx.store.models import DisclosureStatus, MappingErrorStatus
from jnx.web.accounts_api import AccountsGateway, accounts_router, error_response, guarded
from jnx.web.console import mount_console

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, engine: Engine | None = None,
               clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    engine = engine or create_engine_for(settings.effective_database_url)
    gateway = AccountsGateway(engine, settings, clock=clock)
    app = FastAPI(title="jnx API", version="1", docs_url=None, redoc_url=None)
    app.state.gateway = gateway

    @app.exception_handler(JnxError)
    async def _jnx_error(request: Request, exc: JnxError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal error", "code": "JNX-INTERNAL", "hint": "see the server's log"},
                            status_code=500)

    @app.get("/api/v1/health", summary="liveness (no login needed)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(accounts_router(gateway))

    @app.get("/api/v1/errors", summary="mapping errors within the caller's scope")
    def list_errors(request: Request, response: Response, status: MappingErrorStatus | None = MappingErrorStatus.OPEN,
                    system: str | None = None, limit: int = 100) -> Any:
        return guarded(lambda: gateway.act(request, "errors.list", "errors", lambda ctx: {
            "errors": errors.list_errors(ctx, status=status, system=system, limit=min(limit, 1000))}), request, response)

    @app.get("/api/v1/errors/{error_id}", summary="one mapping error (404 outside the caller's scope)")
    def show_error(error_id: int, request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "errors.show", f"error:{error_id}",
                                           lambda ctx: errors.show_error(ctx, error_id)), request, response)

    @app.get("/api/v1/errors/{error_id}/raw", summary="the raw source record behind an error (masked)")
    def error_raw(error_id: int, request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "errors.raw", f"error:{error_id}",
                                           lambda ctx: errors.error_raw(ctx, error_id)), request, response)

    @app.get("/api/v1/disclosures", summary="双公示 disclosures within the caller's scope")
    def list_disclosures(request: Request, response: Response, status: DisclosureStatus | None = None,
                         overdue: bool = False, limit: int = 1000) -> Any:
        return guarded(lambda: gateway.act(request, "disclosures.list", "disclosures", lambda ctx: {
            "disclosures": disclosures.list_disclosures(ctx, status=status, overdue=overdue, limit=min(limit, 5000))}),
            request, response)

    @app.get("/api/v1/disclosures/{disclosure_id}", summary="one disclosure (404 outside the caller's scope)")
    def show_disclosure(disclosure_id: int, request: Request, response: Response) -> Any:
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

    mount_console(app, settings, engine)  # the console's pages at / (jnx/web/console, docs/console.md)
    return app
