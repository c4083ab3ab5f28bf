"""``GET /api/v1/indicators`` (and its drill-down and definitions) over :mod:`jnx.services.indicators`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jnx.services import indicators
from jnx.web.accounts_api import AccountsGateway, guarded


def indicators_router(gateway: AccountsGateway) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/indicators", summary="supervision indicators of a month (or to date), per department and in total")
    def read(request: Request, response: Response, month: str | None = None, department: str | None = None,
             region: str | None = None) -> Any:
        return guarded(lambda: gateway.act(request, "indicators.read", "indicators", lambda ctx: indicators.indicators(
            ctx, month=month, department=department, region=region)), request, response)

    @router.get("/indicators/definitions", summary="every indicator: names, formula, fields read, unit")
    def definitions(request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "indicators.read", "indicators",
                                           lambda ctx: {"indicators": indicators.definitions(ctx)}), request, response)

    @router.get("/indicators/{key}/records", summary="the records behind one figure, with the SQL")
    def records(key: str, request: Request, response: Response, month: str | None = None, department: str | None = None,
                region: str | None = None, limit: int = 1000) -> Any:
        return guarded(lambda: gateway.act(request, "indicators.read", f"indicators:{key}", lambda ctx: indicators.indicator_records(
            ctx, key, month=month, department=department, region=region, limit=limit)), request, response)

    return router
