"""Errors as RFC 9457 ``application/problem+json``: every jnx error a problem with jnx's code.

``type`` is a URN of jnx's error code (``urn:jnx:error:NotFoundError``, or the error's own ``code``
such as ``JNX-ACCOUNT-LOCKED``), ``title`` its kind, ``detail`` the message, ``hint`` what to do next
and ``status`` the HTTP status. Nothing else of the exception (no traceback, no SQL) leaves.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from jnx.errors import ConfigError, InputError, JnxError, NotFoundError, TransientError
from jnx.security.masking import mask_id_numbers_in

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def status_of(exc: JnxError) -> int:
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConfigError | InputError):
        return 400
    if isinstance(exc, TransientError):
        return 503
    return 422


def problem(status: int, title: str, detail: str, *, code: str, hint: str | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"urn:jnx:error:{code}", "title": title, "status": status, "detail": mask_id_numbers_in(detail),
            "code": code, **({"hint": hint} if hint else {}), **extra}
    headers = {"WWW-Authenticate": 'Bearer realm="jnx"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def jnx_problem(exc: JnxError) -> JSONResponse:
    code = getattr(exc, "code", None) or type(exc).__name__
    return problem(status_of(exc), type(exc).__name__, str(exc), code=str(code), hint=exc.hint)


def install(app: FastAPI) -> None:
    """Problem answers for every error under ``/api/``."""

    @app.exception_handler(JnxError)
    async def _jnx(request: Request, exc: JnxError) -> Response:
        return jnx_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "RequestValidationError", "the request's parameters or body are not valid", code="JNX-REQUEST-INVALID",
                       hint="see `errors` and /api/v1/openapi.json", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, "HTTPException", str(exc.detail), code=f"JNX-HTTP-{exc.status_code}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
        return problem(500, "InternalError", "the server failed on this request; its log has the details", code="JNX-INTERNAL")
