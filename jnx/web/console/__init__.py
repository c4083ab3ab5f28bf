"""管理控制台 — the web console: server-rendered pages (Jinja2) over :mod:`jnx.services`, served by
``jnx web`` at ``/`` beside ``/api/v1``. Chinese first (English with ``?lang=en``), our own small
CSS and script only (no CDN, no remote font), every list paginated, sortable, filterable and
exportable to CSV and XLSX; previews are GET and change nothing, actions are POSTs behind a
confirm step that says how many records they touch (docs/console.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.responses import JSONResponse, Response

from jnx.errors import JnxError
from jnx.settings import Settings
from jnx.store.db import create_engine_for
from jnx.web.console.core import STATIC, Console, NeedLogin, NeedPasswordChange, NeedTotp, redirect

log = logging.getLogger(__name__)
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"


def mount_console(app: FastAPI, settings: Settings, engine: Engine | None = None,
                  environment: Mapping[str, str] | None = None) -> Console:
    """Add the console's pages, its static files and its error pages to ``app``."""
    from jnx.web.console.pages import (
        audit,
        corrections,
        disclosures,
        errors,
        mappings,
        overview,
        records,
        registrations,
        schedules,
        session,
        systems,
        table_publish,
        users,
    )
    from jnx.web.console.pages import indicators as indicator_pages

    console = Console(settings, engine or create_engine_for(settings.effective_database_url),
                      os.environ if environment is None else environment)
    router = APIRouter(include_in_schema=False)
    for module in (session, overview, corrections, errors, schedules, registrations, systems, table_publish, mappings, disclosures, records, indicator_pages, audit, users):
        module.routes(router, console)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")

    @app.exception_handler(NeedLogin)
    async def _login(request: Request, exc: NeedLogin) -> Response:
        from urllib.parse import quote

        return redirect("/login" + (f"?next={quote(exc.next_url)}" if exc.next_url not in {"", "/"} else ""))

    @app.exception_handler(NeedPasswordChange)
    async def _password(request: Request, exc: NeedPasswordChange) -> Response:
        return redirect("/password")

    @app.exception_handler(NeedTotp)
    async def _totp(request: Request, exc: NeedTotp) -> Response:
        return redirect("/totp")

    @app.exception_handler(JnxError)
    async def _problem(request: Request, exc: JnxError) -> Response:
        if request.url.path.startswith("/api/"):
            from jnx.web.accounts_api import error_response

            return error_response(exc)
        return console.problem(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "internal error", "code": "JNX-INTERNAL", "hint": "see the server's log"},
                                status_code=500)
        return console.render(request, "problem.html", status=500, title="Not done",
                              message=console.translator(request).gettext("Something went wrong on the server; it is logged."),
                              hint=None)

    @app.middleware("http")
    async def _headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.state.console = console
    return console


def create_console_app(settings: Settings, engine: Engine | None = None,
                       environment: Mapping[str, str] | None = None) -> FastAPI:
    """An app with the console alone (tests, and ``jnx web`` until the API app mounts it)."""
    app = FastAPI(title="jnx console", docs_url=None, redoc_url=None, openapi_url=None)
    mount_console(app, settings, engine, environment)
    return app
