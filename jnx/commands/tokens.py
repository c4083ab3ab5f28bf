"""``jnx tokens …`` — API bearer tokens for machines, owned by users or named service accounts.

Audited under the OS user's name, like ``jnx users``. The token is printed once, when made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from jnx.commands._accounts import with_accounts
from jnx.commands._output import JsonOption, emit
from jnx.security.tokens import Tokens

app = typer.Typer(help="API tokens owned by users or service accounts (scopes, expiry, revocation).",
                  no_args_is_help=True)


def _with_tokens(work: Callable[[Tokens, str], Any], action: str | None = None, subject: str = "") -> Any:
    return with_accounts(lambda accounts, tokens, actor: work(tokens, actor), action=action, subject=subject)


@app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", help="The owner: a user or a service account (jnx users add --service).")],
    name: Annotated[str, typer.Option("--name", help="What uses the token (unique per owner).")],
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="Narrow the owner's rights (repeat): an action (errors.list), an area (errors.*), read, or *.")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Days until it expires (default 90).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a token; it is printed once and only its hash is kept."""
    issued = _with_tokens(lambda t, actor: t.create(actor, user, name, scopes=scope or ["*"], days=days),
                          "tokens.create", f"user:{user.strip().lower()}")
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
