"""``/api/v1/session`` and ``/api/v1/users``: logins, the session cookie, password change, TOTP
enrolment, logout, and user management for the security administrator.

A login answers 200 with the session cookie (HttpOnly, SameSite=Strict, Secure behind TLS) and a
``csrf_token`` that every state-changing call made with the cookie sends in ``X-CSRF-Token``; 401 for
wrong credentials, 423 while the account is locked, 429 past the rate limits. When the password must
change the answer says ``"password_change_required": true`` and that session may only
``POST /api/v1/session/password``; an administrator without an authenticator may only enrol one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from jnx.errors import JnxError
from jnx.security.account_errors import AccessDenied, AccountError, LoginRateLimited
from jnx.security.accounts import Accounts, LoginResult, subject_of, view_of
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.authorize import Grant
from jnx.security.rights import RIGHTS
from jnx.security.session_gate import Admitted, admit, cleared_cookie, session_cookie
from jnx.security.sessions import COOKIE_NAME, CSRF_HEADER
from jnx.security.tokens import Tokens
from jnx.security.trace import Outcome, correlation, traced
from jnx.services import users
from jnx.services.context import Actor, ServiceContext
from jnx.settings import Settings
from jnx.store.db import session_factory


class LoginBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    totp: str | None = Field(default=None, max_length=32, description="the authenticator's code, or a recovery code")


class PasswordBody(BaseModel):
    password: str = Field(max_length=1024)


class CodeBody(BaseModel):
    code: str = Field(max_length=32)


class UserBody(BaseModel):
    username: str
    roles: list[str]
    password: str | None = None
    department: str | None = None
    region: str | None = None
    display_name: str = ""
    service: bool = False


def error_response(exc: JnxError) -> JSONResponse:
    """A jnx error as the API answers it: an RFC 9457 problem (:mod:`jnx.web.problems`) with the error's
    status, code and hint, never a traceback; Retry-After when logins are rate-limited."""
    from jnx.web.problems import jnx_problem

    answer = jnx_problem(exc)
    if isinstance(exc, LoginRateLimited):
        answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


class AccountsGateway:
    """Accounts over the database, one transaction per request; the audit entries appended with it."""

    def __init__(self, engine: Engine, settings: Settings, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._factory = session_factory(engine, immediate=True)
        self._audit = SqlAuditStore(engine)

    @contextmanager
    def accounts(self) -> Iterator[Accounts]:
        """Accounts in one transaction; what they noted goes to the audit chain with its outcome and
        the request's correlation id once the transaction committed."""
        notes: list[tuple[str, str, str, dict[str, Any]]] = []
        with self._factory.begin() as session:
            yield Accounts(session, self.settings.accounts, clock=self.clock,
                           note=lambda actor, action, subject, details: notes.append((actor, action, subject, details)))
        for actor, action, subject, details in notes:
            self.record(actor, action, subject, details)

    def record(self, actor: str, action: str, subject: str, details: dict[str, Any], outcome: Outcome | None = None) -> None:
        self._audit.append(actor=f"api:{actor}", action=action, subject=subject, details=traced(action, details, outcome),
                           at=self.clock())

    def actor(self, accounts: Accounts, request: Request) -> Actor:
        """Who asks: a bearer token (machines; no CSRF, no cookie) or the session cookie (people)."""
        authorization = request.headers.get("Authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            tokens = Tokens(accounts.session, self.settings.accounts, note=accounts.note, clock=self.clock)
            row, owner, grant = tokens.authenticate(credentials.strip())
            return Actor(name=grant.who, kind="token", roles=tuple(owner.roles), department=owner.department,
                         region=owner.region, user_id=owner.id, token_id=row.id, scopes=tuple(row.scopes))
        user = self.admit(accounts, request).user
        return Actor(name=user.username, kind="user", roles=tuple(user.roles), department=user.department,
                     region=user.region, user_id=user.id)

    def grant(self, accounts: Accounts, request: Request) -> Grant:
        return self.actor(accounts, request).grant()

    def act(self, request: Request, action: str, subject: str, work: Callable[[ServiceContext], Any]) -> Any:
        """Run one service call for the request's user or token in one transaction. The service checks
        the rights; a refusal is audited as denied and a failed change as failed, outside the
        rolled-back transaction; what the service noted is audited once it committed."""
        actor: Actor | None = None
        notes: list[tuple[str, str, str, dict[str, Any]]] = []
        try:
            with self.accounts() as accounts:
                actor = self.actor(accounts, request)
                ctx = ServiceContext(session=accounts.session, settings=self.settings, actor=actor, clock=self.clock,
                                     record=lambda who, noted, about, details: notes.append((who, noted, about, dict(details))))
                result = work(ctx)
        except AccessDenied:
            assert actor is not None
            self.record(actor.name, "access.denied", subject, {"action": action}, Outcome.DENIED)
            raise
        except JnxError as exc:
            if actor is not None and RIGHTS[action].writes:
                self.record(actor.name, action, subject, {"error": str(exc)}, Outcome.FAILED)
            raise
        for who, noted, about, details in notes:
            self.record(who.removeprefix("api:"), noted, about, details)
        return result

    def secure(self, request: Request) -> bool:
        configured = self.settings.accounts.cookie_secure
        return request.url.scheme == "https" if configured is None else configured

    def admit(self, accounts: Accounts, request: Request, *, step: str | None = None) -> Admitted:
        """The request's session (the console's pages call this too); the CSRF token from the header or a form."""
        return admit(accounts, request.cookies.get(COOKIE_NAME), method=request.method,
                     csrf_token=request.headers.get(CSRF_HEADER), pending_step=step)

    def login(self, request: Request, body: LoginBody, response: Response) -> dict[str, Any]:
        """Check the credentials, set the cookie on ``response``; raises the login's error after its commit."""
        address = request.client.host if request.client else None
        with self.accounts() as accounts:
            result: LoginResult = accounts.login(body.username, body.password, totp_code=body.totp, address=address)
            answer = _session_answer(accounts, result) if result.error is None else None
        if result.error is not None:
            raise result.error
        assert result.token is not None and answer is not None
        max_age = int(self.settings.accounts.session_absolute_hours * 3600)
        response.set_cookie(**session_cookie(result.token, secure=self.secure(request), max_age_seconds=max_age))
        return answer


def _session_answer(accounts: Accounts, result: LoginResult) -> dict[str, Any]:
    assert result.user is not None and result.session is not None
    return {
        "username": result.user.username, "roles": list(result.user.roles), "department": result.user.department,
        "region": result.user.region, "csrf_token": result.csrf_token,
        "password_change_required": result.pending.password_change,
        "totp_enrolment_required": result.pending.totp_enrolment,
        "expires_at": result.session.expires_at.isoformat(),
    }


def grant_of(admitted: Admitted) -> Grant:
    user = admitted.user
    return Grant(who=user.username, roles=list(user.roles), department=user.department, region=user.region)


def guarded(work: Callable[[], Any], request: Request, response: Response) -> Any:
    """Run a route's work under the request's correlation id (answered in ``X-Request-ID``); a jnx
    error becomes its JSON answer."""
    with correlation(request.headers.get("X-Request-ID")) as correlation_id:
        response.headers["X-Request-ID"] = correlation_id
        try:
            return jsonable_encoder(work())
        except JnxError as exc:
            answer = error_response(exc)
            answer.headers["X-Request-ID"] = correlation_id
            return answer


def accounts_router(gateway: AccountsGateway) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.post("/session", summary="log in: sets the session cookie, answers the CSRF token")
    def login(body: LoginBody, request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.login(request, body, response), request, response)

    @router.get("/session", summary="who the session's user is and what they must do first")
    def whoami(request: Request, response: Response) -> Any:
        def work() -> dict[str, Any]:
            with gateway.accounts() as accounts:
                admitted = gateway.admit(accounts, request, step="whoami")
                return {**view_of(accounts, admitted.user).model_dump(mode="json"),
                        "csrf_token": admitted.session.csrf_token,
                        "totp_enrolment_required": admitted.pending.totp_enrolment,
                        "expires_at": admitted.session.expires_at.isoformat()}
        return guarded(work, request, response)

    @router.delete("/session", summary="log out")
    def logout(request: Request, response: Response) -> Any:
        def work() -> dict[str, Any]:
            with gateway.accounts() as accounts:
                gateway.admit(accounts, request, step="logout")
                accounts.logout(request.cookies.get(COOKIE_NAME))
            response.delete_cookie(**cleared_cookie(secure=gateway.secure(request)))
            return {"logged_out": True}
        return guarded(work, request, response)

    @router.post("/session/password", summary="change the session user's own password")
    def change_password(body: PasswordBody, request: Request, response: Response) -> Any:
        def work() -> dict[str, Any]:
            with gateway.accounts() as accounts:
                admitted = gateway.admit(accounts, request, step="password")
                accounts.change_password(admitted.user, body.password, session_id=admitted.session.id)
                pending = accounts.pending(admitted.user)
            return {"password_change_required": pending.password_change,
                    "totp_enrolment_required": pending.totp_enrolment}
        return guarded(work, request, response)

    @router.post("/session/totp", summary="start enrolling an authenticator: answers its secret and otpauth URI")
    def begin_totp(request: Request, response: Response) -> Any:
        def work() -> dict[str, Any]:
            with gateway.accounts() as accounts:
                admitted = gateway.admit(accounts, request, step="totp")
                if admitted.user.totp_confirmed_at is not None:
                    raise AccountError("an authenticator is already enrolled",
                                       hint="a security administrator can reset it: jnx users reset-totp USERNAME")
                enrolment = accounts.begin_totp(admitted.user)
            return {"secret": enrolment.secret, "uri": enrolment.uri}
        return guarded(work, request, response)

    @router.post("/session/totp/confirm", summary="finish enrolment with a code: answers the recovery codes, once")
    def confirm_totp(body: CodeBody, request: Request, response: Response) -> Any:
        def work() -> dict[str, Any]:
            with gateway.accounts() as accounts:
                admitted = gateway.admit(accounts, request, step="totp")
                codes = accounts.confirm_totp(admitted.user, body.code)
            return {"recovery_codes": codes}
        return guarded(work, request, response)

    @router.get("/users", summary="list users (security administrator)")
    def list_users(request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "users.list", "users", lambda ctx: {
            "users": [u.model_dump(mode="json") for u in users.list_users(ctx)]}), request, response)

    @router.post("/users", status_code=201, summary="create a user (security administrator)")
    def create_user(body: UserBody, request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "users.create", subject_of(body.username), lambda ctx: users.create_user(
            ctx, body.username, roles=body.roles, password=body.password, department=body.department, region=body.region,
            display_name=body.display_name, service=body.service).model_dump(mode="json")), request, response)

    @router.post("/users/{username}/unlock", summary="unlock a user (security administrator)")
    def unlock_user(username: str, request: Request, response: Response) -> Any:
        return guarded(lambda: gateway.act(request, "users.unlock", subject_of(username), lambda ctx: users.unlock_user(
            ctx, username).model_dump(mode="json")), request, response)

    return router
