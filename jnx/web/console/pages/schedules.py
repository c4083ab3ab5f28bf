"""/systems/ID/schedule — a system's schedule: the form on the system's page leads to a preview (a
GET: the schedule before and after, the next three runs in China time) that is the confirm step;
the POST sets it. Registered before the systems' pages, whose ``POST /systems/ID/ACTION`` would
otherwise take it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import schedules as service
from jnx.web.console.core import Console, redirect


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/systems/{system_id}/schedule")
    def preview(request: Request, system_id: str, cron: str = "") -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            change = service.preview_schedule(session, viewer, system_id, cron)
        question = (t.gettext("Run {s} on the schedule {c} (China time)?", s=system_id, c=change.after) if change.after
                    else t.gettext("Stop the scheduled runs of {s}? Run now still works.", s=system_id))
        return console.render(request, "schedule.html", page="systems", title="Change the schedule", change=change,
                              question=question, touches=1 if change.changed else 0,
                              touches_text=t.gettext("This touches one system.") if change.changed
                              else t.gettext("This is the schedule it has: nothing to change."),
                              action=f"/systems/{system_id}/schedule", need_reason=False, reason="", danger=not change.after,
                              fields=[("cron", change.after or "")], confirm_label=t.gettext("Set the schedule"),
                              back=f"/systems/{system_id}")

    @router.post("/systems/{system_id}/schedule")
    async def set_schedule(request: Request, system_id: str) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        t = console.translator(request)
        with console.writer() as session:
            change = service.set_schedule(session, viewer, console.gate.audit, system_id, form.get("cron"))
        return redirect(f"/systems/{system_id}", t.gettext("Schedule of {s}: {c}.", s=system_id, c=change.after or "—"))
