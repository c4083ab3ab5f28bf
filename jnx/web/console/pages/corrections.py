"""/errors/ID/correct — 更正: one raw record's fields in a form (personal data masked, the failing
fields marked), a preview of the correction mapped and rolled back, then the correction behind its
confirm step. The preview is a POST that changes nothing and is not audited: the corrected values
may be personal data, and a GET would put them in the address and the server's access log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import corrections as service
from jnx.web.console.core import Console, redirect


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/errors/{error_id}/correct")
    def form(request: Request, error_id: int) -> Response:
        viewer = console.viewer(request)
        with console.session() as session:
            found = service.correction_form(session, viewer, error_id)
        return console.render(request, "correct.html", page="errors", title="Correct the raw record", f=found,
                              values={}, reason="")

    @router.post("/errors/{error_id}/correct/preview")
    async def preview(request: Request, error_id: int) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        with console.session() as session:
            found = service.correction_form(session, viewer, error_id)
            changes = service.changes_from(session, viewer, error_id, form)
            outcome = service.preview_correction(console.exchange, session, viewer, error_id, changes) if changes else None
        values = {k[len("field:"):]: v for k, v in form.items() if k.startswith("field:")}
        return console.render(request, "correct.html", page="errors", title="Correct the raw record", f=found,
                              values=values, outcome=outcome, reason=form.get("reason", ""),
                              nothing_changed=not changes)

    @router.post("/errors/{error_id}/correct")
    async def correct(request: Request, error_id: int) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        t = console.translator(request)
        with console.session() as session:
            changes = service.changes_from(session, viewer, error_id, form)
        outcome = service.correct_record(console.exchange, viewer, console.gate.audit, error_id, changes, form.get("reason", ""))
        if outcome.fixed and outcome.record_id is not None:
            return redirect(f"/records/{outcome.record_id}",
                            t.gettext("Raw record corrected and stored as record #{r}; {n} errors closed.",
                                      r=outcome.record_id, n=t.number(outcome.closed)))
        return redirect(f"/errors/{error_id}", t.gettext("Raw record corrected as #{raw}; it still has {n} errors.",
                                                         raw=outcome.raw_record_id, n=t.number(len(outcome.errors))), "error")
