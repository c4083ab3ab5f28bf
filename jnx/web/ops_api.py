"""``GET /api/v1/alerts``, ``/alerts/{id}``, ``/workers`` and ``/status`` over :mod:`jnx.services.operations`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from jnx.services import operations
from jnx.web.accounts_api import AccountsGateway, guarded


class AcknowledgeBody(BaseModel):
    note: str = Field(min_length=1, max_length=2000, pattern=r"\S", description="Who is on it and what is done.")


def ops_router(gateway: AccountsGateway) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/alerts", summary="open alerts, critical first (with all=true the latest resolved after them), "
                "as `jnx alerts --json`")
    def alerts(request: Request, response: Response, all: bool = False,  # noqa: A002 - the query parameter's name
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
        return guarded(lambda: gateway.act(request, "alerts.list", "alerts", lambda ctx: operations.list_alerts(
            ctx, include_resolved=all, limit=limit)), request, response)

    @router.get("/alerts/{alert_id}", summary="one alert with every notification attempt")
    def alert(alert_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "alerts.list", f"alert:{alert_id}",
                                           lambda ctx: operations.show_alert(ctx, alert_id)), request, response)

    @router.post("/alerts/{alert_id}/acknowledge", summary="acknowledge an open alert: someone is on it (audited)")
    def acknowledge(alert_id: Annotated[int, Path(ge=1, le=2**62)], body: AcknowledgeBody, request: Request,
                    response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "alerts.acknowledge", f"alert:{alert_id}", lambda ctx: operations.acknowledge_alert(
            ctx, alert_id, note=body.note)), request, response)

    @router.get("/workers", summary="the jnx serve processes: host, pid, version, heartbeat, the runs they hold")
    def workers(request: Request, response: Response, stopped: bool = False) -> Any:
        return guarded(lambda: gateway.act(request, "health.read", "workers", lambda ctx: operations.list_workers(
            ctx, include_stopped=stopped)), request, response)

    @router.get("/status", summary="the operator's screen as `jnx status --json`: workers, runs in flight, late "
                "systems, backlog, open alerts")
    def status(request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "health.read", "status",
                                           lambda ctx: operations.operator_status(ctx)), request, response)

    return router
