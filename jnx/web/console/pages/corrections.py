"""/errors/ID/correct and /records/ID/correct — 更正: one raw record's fields in a form (personal
data masked, the failing fields marked), a preview of the correction mapped and rolled back, then the
correction behind its confirm step. From an error it fixes that error's raw record; from a standard
record (and so from its disclosure) it corrects the raw record of the current revision, and the
disclosure gets a correction revision. The preview is a POST that changes nothing and is not
audited: the corrected values may be personal data, and a GET would put them in the address and the
server's access log."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import corrections as service
from jnx.web.console.core import Console, redirect


@dataclass(frozen=True)
class Start:
    """Where a correction was started: its form's address, the way back, and the error if any."""

    base: str
    back: str
    error_id: int | None = None


def routes(router: APIRouter, console: Console) -> None:
    for kind in ("errors", "records"):
        _routes_for(router, console, kind)


def _start(console: Console, request: Request, kind: str, number: int) -> tuple[Start, int]:
    viewer = console.viewer(request)
    with console.session() as session:
        if kind == "errors":
            return Start(f"/errors/{number}/correct", f"/errors/{number}", number), service.raw_of_error(session, viewer, number)
        return Start(f"/records/{number}/correct", f"/records/{number}"), service.raw_of_record(session, viewer, number)


def _routes_for(router: APIRouter, console: Console, kind: str) -> None:
    @router.get(f"/{kind}/{{number}}/correct", name=f"{kind}-correct-form")
    def form(request: Request, number: int) -> Response:
        viewer = console.viewer(request)
        where, raw_id = _start(console, request, kind, number)
        with console.session() as session:
            found = service.correction_form(session, viewer, raw_id)
        return console.render(request, "correct.html", page=kind, title="Correct the raw record", f=found, start=where,
                              values={}, reason="")

    @router.post(f"/{kind}/{{number}}/correct/preview", name=f"{kind}-correct-preview")
    async def preview(request: Request, number: int) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        where, raw_id = _start(console, request, kind, number)
        with console.session() as session:
            found = service.correction_form(session, viewer, raw_id)
            changes = service.changes_from(session, viewer, raw_id, form)
            outcome = service.preview_correction(console.exchange, session, viewer, raw_id, changes) if changes else None
        values = {k[len("field:"):]: v for k, v in form.items() if k.startswith("field:")}
        return console.render(request, "correct.html", page=kind, title="Correct the raw record", f=found, start=where,
                              values=values, outcome=outcome, reason=form.get("reason", ""), nothing_changed=not changes)

    @router.post(f"/{kind}/{{number}}/correct", name=f"{kind}-correct")
    async def correct(request: Request, number: int) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        t = console.translator(request)
        where, raw_id = _start(console, request, kind, number)
        with console.session() as session:
            changes = service.changes_from(session, viewer, raw_id, form)
        outcome = service.correct_record(console.exchange, viewer, console.gate.audit, raw_id, changes, form.get("reason", ""),
                                         error_id=where.error_id)
        if outcome.fixed and outcome.record_id is not None:
            return redirect(f"/records/{outcome.record_id}",
                            t.gettext("Raw record corrected and stored as record #{r}; {n} errors closed.",
                                      r=outcome.record_id, n=t.number(outcome.closed)))
        return redirect(where.back, t.gettext("Raw record corrected as #{raw}; it still has {n} errors.",
                                              raw=outcome.raw_record_id, n=t.number(len(outcome.errors))), "error")
