"""What every console page shares: templates, the logged-in visit, CSRF, flash messages, errors as pages."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import jinja2
from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from jnx.errors import JnxError, NotFoundError
from jnx.exchange.wiring import Exchange
from jnx.services.console_scope import Viewer
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.web.console.auth import COOKIE, Gate, Visit
from jnx.web.console.i18n import LANG_COOKIE, LANGUAGES, Translator, pick_language
from jnx.web.console.jobs import Jobs
from jnx.web.console.listing import cell_text

HERE = Path(__file__).parent
STATIC = HERE / "static"
FLASH_COOKIE = "jnx_flash"
log = logging.getLogger(__name__)

#: the navigation: (key, href, English label, the right that shows it)
NAV: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("overview", "/", "Overview", ("systems.list", "deliveries.list", "disclosures.list")),
    ("systems", "/systems", "Systems", ("systems.list",)),
    ("runs", "/runs", "Runs", ("runs.list",)),
    ("errors", "/errors", "Errors", ("errors.list",)),
    ("mappings", "/mappings", "Mapping tables", ("mappings.list",)),
    ("disclosures", "/disclosures", "Disclosures", ("disclosures.list",)),
    ("records", "/records", "Records", ("records.list",)),
    ("indicators", "/indicators", "Indicators", ("indicators.read",)),
    ("audit", "/audit", "Audit", ("audit.read",)),
    ("users", "/users", "Users", ("users.list",)),
)


class NeedLogin(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class NeedPasswordChange(Exception):
    pass


class NeedTotp(Exception):
    """An administrator must set up a second factor before anything else."""


class Problem(JnxError):
    """A refusal the console shows as a page (bad CSRF token, a form that is not complete)."""

    http_status = 400


@functools.cache
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


class Console:
    """The console's parts, built once per app."""

    def __init__(self, settings: Settings, engine: Engine, environment: Mapping[str, str]) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = session_factory(engine)
        self.writers = session_factory(engine, immediate=True)
        self.gate = Gate(settings, engine)
        self.jobs = Jobs(engine)
        self.exchange = Exchange(settings=settings, engine=engine, environment=environment, worker_id="console")
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates.globals["static"] = lambda name: f"/console/static/{name}?v={_static_version(name)}"

    # --- the visit ---------------------------------------------------------------------------

    def visit(self, request: Request, *, allow_pending: bool = False) -> Visit:
        found = getattr(request.state, "visit", None)
        if found is None:
            found = self.gate.visit(request.cookies.get(COOKIE))
            request.state.visit = found
        if found is None:
            raise NeedLogin(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
        if not allow_pending and found.must_change_password:
            raise NeedPasswordChange()
        if not allow_pending and found.must_enrol_totp:
            raise NeedTotp()
        return found

    def home_of(self, viewer: Viewer) -> str:
        """The first page of the navigation this viewer may open (``/me`` when none)."""
        return next((href for _, href, _, rights in NAV if any(viewer.can(r) for r in rights)), "/me")

    def viewer(self, request: Request) -> Viewer:
        return self.visit(request).viewer

    async def check_csrf(self, request: Request) -> dict[str, str]:
        """The posted form, once its CSRF token matched the session's."""
        visit = self.visit(request, allow_pending=True)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if not form.get("csrf_token") or form["csrf_token"] != visit.csrf:
            raise Problem("the form is out of date (CSRF token)", hint="reload the page and try again")
        return form

    def session(self) -> Session:
        """A session for reading (pages)."""
        return self.sessions()

    def writer(self) -> Session:
        """A session for an action: it reads then writes, so on SQLite it takes the write lock at BEGIN."""
        return self.writers()

    # --- rendering ---------------------------------------------------------------------------

    def translator(self, request: Request) -> Translator:
        return Translator(pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)))

    def render(self, request: Request, template: str, page: str = "", status: int = 200, **values: Any) -> HTMLResponse:
        t = self.translator(request)
        visit: Visit | None = getattr(request.state, "visit", None)
        other = "en" if t.language == "zh_CN" else "zh_CN"
        params = dict(request.query_params)
        params["lang"] = other
        flashes = _read_flash(request)
        context: dict[str, Any] = {
            **t.callables(), "t": t, "lang": t.language, "page": page, "request": request,
            "user": visit.user if visit else None, "viewer": visit.viewer if visit else None,
            "csrf": visit.csrf if visit else "", "flashes": flashes,
            "nav": [{"key": k, "href": h, "label": label} for k, h, label, rights in NAV if visit and any(visit.viewer.can(r) for r in rights)]
            if visit and not (visit.must_change_password or visit.must_enrol_totp) else [],
            "roles_text": "、".join(t.gettext(r) for r in sorted(visit.viewer.roles)) if visit else "",
            "lang_url": request.url.path + "?" + urlencode(params), "other_lang_name": LANGUAGES[other],
            "cell": lambda v: cell_text(v, t), "title": "", **values,
        }
        context["title"] = t.gettext(context["title"]) if context["title"] else t.gettext("jnx console")
        body = self.templates.get_template(template).render(context)
        response = HTMLResponse(body, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, t.language, max_age=365 * 86400, samesite="strict", httponly=True)
        if flashes:
            response.delete_cookie(FLASH_COOKIE)
        return response

    def problem(self, request: Request, exc: JnxError) -> HTMLResponse:
        status = int(getattr(exc, "http_status", 0) or (404 if isinstance(exc, NotFoundError) else 400))
        return self.render(request, "problem.html", status=status, title="Not done", message=str(exc), hint=exc.hint)


def redirect(url: str, flash: str | None = None, kind: str = "ok") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(f"{kind}|{flash}"), max_age=60, samesite="strict", httponly=True)
    return response


def _read_flash(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    kind, _, text = unquote(raw).partition("|")
    return [(kind if kind in {"ok", "error", "info"} else "info", text)]


def is_partial(request: Request) -> bool:
    return request.headers.get("X-Partial") == "1"


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
