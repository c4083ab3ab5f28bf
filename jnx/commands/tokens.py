"""``jnx tokens …`` — API bearer tokens for machines, owned by users or named service accounts.

Audited under the OS user's name, like ``jnx users``. The token is printed once, when made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from jnx.commands._accounts import with_accounts
from jnx.commands._output import JsonOption, emit
from jnx.errors import ConfigError
from jnx.security.tokens import Tokens

app = typer.Typer(help="API tokens owned by users or service accounts (scopes, expiry, revocation).",
                  no_args_is_help=True)


def _with_tokens(work: Callable[[Tokens, str], Any], action: str | None = None, subject: str = "") -> Any:
    return with_accounts(lambda accounts, tokens, actor: work(tokens, actor), action=action, subject=subject)


#: The service account that owns tokens made without --user: the big-data centre's machines (a
#: scheduler, a monitor) — every system's runs, errors and disclosures, deliveries and receipts, read
#: access for reports; none of the three administrators' powers.
SERVER_ACCOUNT = "jnx-server"
SERVER_ROLES = ["operator", "credit-operator", "supervisor"]


def _days(expires: str | None, days: int | None) -> int | None:
    if expires is None:
        return days
    text = expires.strip().lower()
    if text.endswith("d") and text[:-1].isdigit() and 0 < int(text[:-1]) <= 3650:
        return int(text[:-1])
    raise ConfigError(f"--expires {expires!r} is not a lifetime in days", hint="give e.g. --expires 30d (at most 3650d)")


def _owner(accounts: Any, actor: str, user: str | None) -> str:
    """``user``, or the server's service account (made, audited, the first time it is needed)."""
    if user is not None:
        return user
    if accounts.find(SERVER_ACCOUNT) is None:
        accounts.add(actor, SERVER_ACCOUNT, roles=SERVER_ROLES, password=None, service=True,
                     display_name="tokens made at the server without --user (the big-data centre's machines)")
    return SERVER_ACCOUNT


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What uses the token (unique per owner).")],
    user: Annotated[str | None, typer.Option("--user", help=f"The owner: a user or a service account (jnx users add --service); "
                                                            f"default the service account {SERVER_ACCOUNT} ({', '.join(SERVER_ROLES)}).")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Narrow the owner's rights (repeat): an action (errors.list), an area (errors.*), read, or *.")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="Lifetime, e.g. 30d (default 90d).")] = None,
    days: Annotated[int | None, typer.Option("--days", min=1, max=3650, help="Days until it expires (as --expires Nd).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a token; it is printed once and only its hash is kept."""
    lifetime = _days(expires, days)
    issued = with_accounts(lambda accounts, tokens, actor: tokens.create(actor, _owner(accounts, actor, user), name,
                                                                         scopes=scope or ["*"], days=lifetime),
                           action="tokens.create", subject=f"user:{(user or SERVER_ACCOUNT).strip().lower()}")
    data = {"token": issued.token, **issued.view.model_dump(mode="json", exclude={"prefix"})}

    def render(d: dict[str, Any]) -> None:
        typer.echo(d["token"])
        typer.echo(f"token {d['id']} '{d['name']}' of {d['user']}, scopes {', '.join(d['scopes'])}, "
                   f"expires {d['expires_at']} — copy it now, it is not shown again", err=True)

    emit(data, as_json, render)


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option("--user", help="Only this owner's tokens.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens (never the tokens themselves: their first characters)."""
    rows = [v.model_dump(mode="json") for v in _with_tokens(lambda t, actor: t.all(user))]

    def render(items: list[dict[str, Any]]) -> None:
        if not items:
            typer.echo("no tokens — `jnx tokens create --user USER --name NAME` makes one")
        for v in items:
            state = "active " if v["active"] else ("revoked" if v["revoked_at"] else "expired")
            typer.echo(f"{v['id']:>5} {state} {v['user']:<20} {v['name']:<24} {v['prefix']}…  "
                       f"{','.join(v['scopes'])}  until {v['expires_at']}")

    emit({"tokens": rows} if as_json else rows, as_json, render)


@app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(help="The token's id (jnx tokens list).")], as_json: JsonOption = False) -> None:
    """Revoke a token at once."""
    view = _with_tokens(lambda t, actor: t.revoke(actor, token_id), "tokens.revoke", f"token:{token_id}").model_dump(mode="json")
    emit(view, as_json, lambda d: typer.echo(f"token {d['id']} '{d['name']}' of {d['user']} revoked"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="tokens")
