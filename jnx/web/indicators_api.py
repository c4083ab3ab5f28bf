"""``GET /api/v1/indicators`` (and its drill-down and definitions) over :mod:`jnx.services.indicators`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from jnx.services import indicators
from jnx.web.accounts_api import AccountsGateway, guarded

#: YYYY-MM, a month of the calendar
Month = Annotated[str | None, Query(pattern=r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", description="YYYY-MM")]
#: a department's credit code or a region code
Code = Annotated[str | None, Query(max_length=18)]


def indicators_router(gateway: AccountsGateway) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/indicators", summary="supervision indicators of a month (or to date), per department and in total")
    def read(request: Request, response: Response, month: Month = None, department: Code = None,
             region: Code = None) -> Any:
        return guarded(lambda: gateway.act(request, "indicators.read", "indicators", lambda ctx: indicators.indicators(
            ctx, month=month, department=department, region=region)), request, response)

    @router.get("/indicators/definitions", summary="every indicator: names, formula, fields read, unit")
    def definitions(request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "indicators.read", "indicators",
                                           lambda ctx: {"indicators": indicators.definitions(ctx)}), request, response)

    @router.get("/indicators/{key}/records", summary="the records behind one figure, with the SQL")
    def records(key: Annotated[str, Path(max_length=64)], request: Request, response: Response, month: Month = None,
                department: Code = None, region: Code = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Any:
        return guarded(lambda: gateway.act(request, "indicators.read", f"indicators:{key}", lambda ctx: indicators.indicator_records(
            ctx, key, month=month, department=department, region=region, limit=limit)), request, response)

    return router
