"""/users — 用户 (security administrator): users, roles, scope and state; disable, enable, unlock."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import user_desk as service
from jnx.web.console.core import Console, Problem, redirect
from jnx.web.console.listing import Column, Filter, ListQuery, export, in_memory

COLUMNS = (
    Column("username", "User name"),
    Column("display_name", "Name"),
    Column("roles_zh", "Roles"),
    Column("department", "Department"),
    Column("region", "Region"),
    Column("state", "State", translate=True),
    Column("totp", "TOTP"),
    Column("last_login_at", "Last login"),
    Column("actions", "Actions", sortable=False,
           link=lambda r: f"/users/{r['username']}/confirm?action={'enable' if r['state'] == 'disabled' else 'disable'}"),
)


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/users")
    def users(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            rows = service.users(session, viewer, console.settings.accounts)
        for row in rows:
            row["actions"] = t.gettext("Enable…") if row["state"] == "disabled" else t.gettext("Disable…")
        filters = (Filter("state", "State", (("active", "active"), ("locked", "locked"), ("disabled", "disabled"))),)
        query = ListQuery.parse("/users", request.query_params, COLUMNS, filters, default_sort="username")
        listing = in_memory(COLUMNS, rows, query, filters, name="users")
        if query.fmt:
            return export(listing, t)
        locked = [r["username"] for r in rows if r["state"] == "locked"]
        return console.render(request, "users.html", page="users", title="Users", listing=listing, locked=locked)

    @router.get("/users/{username}/confirm")
    def confirm(request: Request, username: str, action: str) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        if action not in service.ACTIONS:
            raise Problem(f"unknown action {action!r}")
        viewer.scope(service.ACTIONS[action])
        questions = {"disable": t.gettext("Disable {u}? Their sessions end and they cannot log in.", u=username),
                     "enable": t.gettext("Enable {u} again?", u=username),
                     "unlock": t.gettext("Unlock {u} now?", u=username)}
        return console.render(request, "confirm.html", page="users", title="Confirm", question=questions[action], touches=1,
                              touches_text=t.gettext("This touches one user."), action=f"/users/{username}/{action}",
                              need_reason=False, reason="", danger=action == "disable", fields=[],
                              confirm_label=t.gettext("Go ahead"), back="/users")

    @router.post("/users/{username}/{action}")
    async def act(request: Request, username: str, action: str) -> Response:
        viewer = console.viewer(request)
        await console.check_csrf(request)
        if action not in service.ACTIONS:
            raise Problem(f"unknown action {action!r}")
        t = console.translator(request)
        with console.writer() as session:
            service.change_state(session, viewer, console.settings.accounts, console.gate.audit, username, action)
        return redirect("/users", t.gettext("Done: {a} {u}.", a=t.gettext(action), u=username))
