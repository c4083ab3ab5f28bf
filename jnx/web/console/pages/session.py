"""/login, /logout, /password and /me: the forms outside scripts rely on (field names are a contract)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.security.account_errors import AccountError, AccountLocked, TotpRequired
from jnx.web.console.auth import COOKIE
from jnx.web.console.core import Console, redirect


def _safe_next(value: str | None) -> str:
    """Only a path of this site (no //host, no scheme): no open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/login")
    def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the form's field name
        return console.render(request, "login.html", title="Log in", next=_safe_next(next), username="")

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        t = console.translator(request)
        username = form.get("username", "")
        result = console.gate.login(username, form.get("password", ""), form.get("totp_code"),
                                    request.client.host if request.client else None)
        if result.error is not None or result.token is None:
            error = result.error
            if isinstance(error, TotpRequired):
                text = t.gettext("This account needs its TOTP code.")
            elif isinstance(error, AccountLocked):
                text = t.gettext("The account is locked for a while after too many wrong passwords.")
            else:
                text = t.gettext("Wrong user name or password.")
            return console.render(request, "login.html", status=401, title="Log in", next=_safe_next(form.get("next")),
                                  username=username, flashes=[("error", text)])
        target = "/password" if result.pending.password_change else "/totp" if result.pending.totp_enrolment \
            else _safe_next(form.get("next"))
        response = redirect(target)
        response.set_cookie(COOKIE, result.token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                            max_age=console.settings.accounts.session_absolute_hours * 3600)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await console.check_csrf(request)
        console.gate.logout(request.cookies.get(COOKIE))
        response = redirect("/login")
        response.delete_cookie(COOKIE)
        return response

    @router.get("/password")
    def password_form(request: Request) -> Response:
        visit = console.visit(request, allow_pending=True)
        return console.render(request, "password.html", title="Change your password", forced=visit.must_change_password,
                              rules=_rules(console, request))

    @router.post("/password")
    async def change_password(request: Request) -> Response:
        visit = console.visit(request, allow_pending=True)
        form = await console.check_csrf(request)
        t = console.translator(request)
        new, again = form.get("new_password", ""), form.get("confirm_password", "")
        problem = None
        if new != again:
            problem = t.gettext("The two new passwords differ.")
        else:
            try:
                console.gate.change_password(visit, None if visit.must_change_password else form.get("current_password", ""), new)
            except AccountError as exc:
                problem = str(exc)
        if problem:
            return console.render(request, "password.html", status=422, title="Change your password",
                                  forced=visit.must_change_password, rules=_rules(console, request), flashes=[("error", problem)])
        return redirect("/totp" if visit.must_enrol_totp else "/", t.gettext("Your password is changed."))

    @router.get("/totp")
    def totp_form(request: Request) -> Response:
        visit = console.visit(request, allow_pending=True)
        if visit.must_change_password:
            return redirect("/password")
        return console.render(request, "totp.html", title="Set up your authenticator", secret=None, uri=None,
                              forced=visit.must_enrol_totp, codes=None, started=False)

    @router.post("/totp/begin")
    async def totp_begin(request: Request) -> Response:
        visit = console.visit(request, allow_pending=True)
        await console.check_csrf(request)
        secret, uri = console.gate.begin_totp(visit)
        return console.render(request, "totp.html", title="Set up your authenticator", secret=secret, uri=uri,
                              forced=visit.must_enrol_totp, codes=None, started=True)

    @router.post("/totp")
    async def totp_confirm(request: Request) -> Response:
        visit = console.visit(request, allow_pending=True)
        form = await console.check_csrf(request)
        try:
            codes = console.gate.confirm_totp(visit, form.get("code", "").strip())
        except AccountError as exc:
            return console.render(request, "totp.html", status=422, title="Set up your authenticator", secret=None, uri=None,
                                  forced=visit.must_enrol_totp, codes=None, started=True, flashes=[("error", str(exc))])
        return console.render(request, "totp.html", title="Set up your authenticator", secret=None, uri=None, forced=False,
                              codes=codes, started=True)

    @router.get("/me")
    def me(request: Request) -> Response:
        visit = console.visit(request)
        return console.render(request, "me.html", title="My account", visit=visit)


def _rules(console: Console, request: Request) -> str:
    t = console.translator(request)
    s = console.settings.accounts
    return t.gettext("At least {n} characters from {k} of: lower case, upper case, digits, other; not one of your last {h}.",
                     n=s.password_min_length, k=s.password_min_classes, h=s.password_history)
