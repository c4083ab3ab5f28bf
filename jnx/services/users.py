"""User and token management: the security administrator's (or the OS user's at the server)."""

from __future__ import annotations

from typing import Any

from jnx.security.accounts import Accounts, UserView, view_of
from jnx.security.tokens import Tokens, TokenView
from jnx.services.context import ServiceContext


def _accounts(ctx: ServiceContext) -> Accounts:
    return Accounts(ctx.session, ctx.settings.accounts, clock=ctx.clock,
                    note=lambda actor, action, subject, details: ctx.audit(action, subject, details))


def _tokens(ctx: ServiceContext) -> Tokens:
    return Tokens(ctx.session, ctx.settings.accounts, clock=ctx.clock,
                  note=lambda actor, action, subject, details: ctx.audit(action, subject, details))


def list_users(ctx: ServiceContext) -> list[UserView]:
    ctx.authorize("users.list")
    accounts = _accounts(ctx)
    return [view_of(accounts, user) for user in accounts.all()]


def show_user(ctx: ServiceContext, username: str) -> UserView:
    ctx.authorize("users.show")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.get(username))


def create_user(ctx: ServiceContext, username: str, *, roles: list[str], password: str | None,
                department: str | None = None, region: str | None = None, display_name: str = "",
                service: bool = False) -> UserView:
    ctx.authorize("users.create")
    accounts = _accounts(ctx)
    user = accounts.add(ctx.actor.audit_name, username, roles=roles, password=password, department=department,
                        region=region, display_name=display_name, service=service)
    return view_of(accounts, user)


def set_roles(ctx: ServiceContext, username: str, roles: list[str]) -> UserView:
    ctx.authorize("users.update")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.set_roles(ctx.actor.audit_name, username, roles))


def set_scope(ctx: ServiceContext, username: str, *, department: str | None, region: str | None) -> UserView:
    ctx.authorize("users.update")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.set_scope(ctx.actor.audit_name, username, department=department, region=region))


def disable_user(ctx: ServiceContext, username: str) -> UserView:
    ctx.authorize("users.disable")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.disable(ctx.actor.audit_name, username))


def enable_user(ctx: ServiceContext, username: str) -> UserView:
    ctx.authorize("users.disable")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.enable(ctx.actor.audit_name, username))


def unlock_user(ctx: ServiceContext, username: str) -> UserView:
    ctx.authorize("users.unlock")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.unlock(ctx.actor.audit_name, username))


def reset_password(ctx: ServiceContext, username: str, password: str) -> UserView:
    ctx.authorize("users.reset_password")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.reset_password(ctx.actor.audit_name, username, password))


def reset_totp(ctx: ServiceContext, username: str) -> UserView:
    ctx.authorize("users.reset_totp")
    accounts = _accounts(ctx)
    return view_of(accounts, accounts.reset_totp(ctx.actor.audit_name, username))


def create_token(ctx: ServiceContext, username: str, name: str, *, scopes: list[str] | None = None,
                 days: int | None = None) -> dict[str, Any]:
    """``{"token": …}`` (shown once) and the token's view."""
    ctx.authorize("tokens.create")
    issued = _tokens(ctx).create(ctx.actor.audit_name, username, name, scopes=scopes or ["*"], days=days)
    return {"token": issued.token, **issued.view.model_dump(mode="json", exclude={"prefix"})}


def list_tokens(ctx: ServiceContext, username: str | None = None) -> list[TokenView]:
    ctx.authorize("tokens.list")
    return _tokens(ctx).all(username)


def revoke_token(ctx: ServiceContext, token_id: int) -> TokenView:
    ctx.authorize("tokens.revoke")
    return _tokens(ctx).revoke(ctx.actor.audit_name, token_id)
