"""``jnx users …`` — accounts at the server. The command line acts as the OS user who can read the
database (the operating system guards that) and every change is audited under that user's name;
over the API and the console, managing users needs the security administrator's role."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from jnx.commands._accounts import with_accounts
from jnx.commands._output import JsonOption, emit
from jnx.errors import InputError
from jnx.security.accounts import Accounts, subject_of, view_of
from jnx.security.roles import Role
from jnx.security.tokens import Tokens
from jnx.store.models import User

app = typer.Typer(help="User accounts, roles and department scope (等保2.0 三级).", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="The user's login name (a-z, 0-9, '.', '_', '-').")]
RoleOption = Annotated[
    list[str], typer.Option("--role", help="A role (repeat for several): " + ", ".join(r.value for r in Role) + ".")
]
DepartmentOption = Annotated[
    str | None, typer.Option("--department", help="The 执法主体's 统一社会信用代码 (department officers need one).")
]
RegionOption = Annotated[str | None, typer.Option("--region", help="行政区划代码 of a county or township user (6, 9 or 12 digits).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input (one line).")]


def _read_password() -> str:
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise InputError("no password on standard input", hint="echo 'NEW-PASSWORD' | jnx users … --password-stdin")
    return password


def _with_accounts(work: Callable[[Accounts, str], Any], action: str | None = None, username: str = "") -> Any:
    def run(accounts: Accounts, tokens: Tokens, actor: str) -> Any:
        result = work(accounts, actor)
        return view_of(accounts, result).model_dump(mode="json") if isinstance(result, User) else result

    return with_accounts(run, action=action, subject=subject_of(username.strip().lower()) if username else "")


def _render_user(data: dict[str, Any]) -> None:
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else ("-" if value is None else value)
        typer.echo(f"{key:>26}: {shown}")


def _done(verb: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: typer.echo(f"user {d['username']} {verb} ({d['state']}; roles {', '.join(d['roles'])})")


@app.command("add")
def add(
    username: Username,
    role: RoleOption,
    department: DepartmentOption = None,
    region: RegionOption = None,
    display_name: Annotated[str, typer.Option("--display-name", help="The name shown in the console.")] = "",
    password_stdin: PasswordStdin = False,
    service: Annotated[bool, typer.Option("--service", help="A named service account: tokens only, no password.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user; a password set here must be changed at the first login."""
    if not service and not password_stdin:
        raise InputError("a user needs a password", hint="pipe it in with --password-stdin (or --service for a service account)")
    password = _read_password() if password_stdin else None
    data = _with_accounts(lambda a, actor: a.add(
        actor, username, roles=role, password=password, department=department, region=region,
        display_name=display_name, service=service,
    ), "users.create", username)
    emit(data, as_json, _done("created"))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List the users, their roles, department and state."""
    users = _with_accounts(lambda a, actor: [view_of(a, u).model_dump(mode="json") for u in a.all()])

    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            typer.echo("no users — `jnx users add USERNAME --role ROLE --password-stdin` adds one")
        for u in rows:
            typer.echo(f"{u['username']:<24} {u['state']:<9} {','.join(u['roles']):<32} {u['department'] or '-':<19} "
                       f"{u['region'] or '-'}")

    emit({"users": users} if as_json else users, as_json, render)


@app.command()
def show(username: Username, as_json: JsonOption = False) -> None:
    """Show one user."""
    emit(_with_accounts(lambda a, actor: a.get(username)), as_json, _render_user)


@app.command()
def disable(username: Username, as_json: JsonOption = False) -> None:
    """Disable a user: no login, their sessions end, their tokens stop working."""
    emit(_with_accounts(lambda a, actor: a.disable(actor, username), "users.disable", username), as_json, _done("disabled"))


@app.command()
def enable(username: Username, as_json: JsonOption = False) -> None:
    """Enable a disabled user again."""
    emit(_with_accounts(lambda a, actor: a.enable(actor, username), "users.disable", username), as_json, _done("enabled"))


@app.command()
def unlock(username: Username, as_json: JsonOption = False) -> None:
    """End a lock caused by wrong passwords before it runs out."""
    emit(_with_accounts(lambda a, actor: a.unlock(actor, username), "users.unlock", username), as_json, _done("unlocked"))


@app.command("reset-password")
def reset_password(username: Username, password_stdin: PasswordStdin = False, as_json: JsonOption = False) -> None:
    """Set a new password for a user (read from stdin); they must change it at their next login."""
    if not password_stdin:
        raise InputError("the new password is read from standard input", hint="add --password-stdin")
    password = _read_password()
    emit(_with_accounts(lambda a, actor: a.reset_password(actor, username, password), "users.reset_password",
                        username), as_json, _done("has a new password"))


@app.command("set-roles")
def set_roles(username: Username, role: RoleOption, as_json: JsonOption = False) -> None:
    """Replace a user's roles."""
    emit(_with_accounts(lambda a, actor: a.set_roles(actor, username, role), "users.update", username), as_json, _done("now has new roles"))


@app.command("set-scope")
def set_scope(username: Username, department: DepartmentOption = None, region: RegionOption = None,
              as_json: JsonOption = False) -> None:
    """Replace a user's department and region (what a department officer sees)."""
    emit(_with_accounts(lambda a, actor: a.set_scope(actor, username, department=department, region=region),
                        "users.update", username),
         as_json, _done("has a new scope"))


@app.command("reset-totp")
def reset_totp(username: Username, as_json: JsonOption = False) -> None:
    """Forget a user's authenticator (lost phone): they enrol a new one at their next login."""
    emit(_with_accounts(lambda a, actor: a.reset_totp(actor, username), "users.reset_totp", username), as_json, _done("must enrol TOTP again"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="users")
