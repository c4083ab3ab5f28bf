"""/disclosures — 双公示: filtered lists, overdue marked, one disclosure's revisions, deliveries and
receipts, withdraw with a reason behind the confirm step."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from jnx.services import disclosure_desk as service
from jnx.store.models import DisclosureKind, DisclosureStatus
from jnx.web.console.core import Console, Problem, redirect
from jnx.web.console.listing import Column, Filter, Listing, ListQuery, export

COLUMNS = (
    Column("id", "Disclosure", numeric=True, link=lambda r: f"/disclosures/{r['id']}"),
    Column("kind", "Kind", translate=True),
    Column("status", "Status", translate=True),
    Column("business_key", "Business key", sortable=False),
    Column("decision_date", "Decision date"),
    Column("deadline", "Deadline"),
    Column("overdue", "Overdue", sortable=False),
    Column("display_until", "Displayed until"),
    Column("revision", "Revision", numeric=True),
)
FILTERS = (
    Filter("status", "Status", tuple((s.value, s.value) for s in DisclosureStatus)),
    Filter("kind", "Kind", tuple((k.value, k.value) for k in DisclosureKind)),
    Filter("overdue", "Overdue", (("yes", "yes"),)),
    Filter("due_by", "Deadline on or before"),
    Filter("department", "Department (credit code)"),
)


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/disclosures")
    def listing(request: Request) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        query = ListQuery.parse("/disclosures", request.query_params, COLUMNS, FILTERS, default_sort="deadline")
        due_by = None
        if query.filters.get("due_by"):
            try:
                due_by = dt.date.fromisoformat(query.filters["due_by"])
            except ValueError:
                raise Problem(f"{query.filters['due_by']!r} is not a date (YYYY-MM-DD)") from None
        with console.session() as session:
            rows, total = service.disclosures(session, viewer, status=query.filters.get("status"), kind=query.filters.get("kind"),
                                              overdue=query.filters.get("overdue") == "yes", due_by=due_by,
                                              offset=0 if query.fmt else query.offset, limit=100_000 if query.fmt else query.size,
                                              sort=query.sort or "deadline", descending=query.descending,
                                              department=query.filters.get("department"))
        page = Listing(COLUMNS, rows, total, query, FILTERS, name="disclosures")
        if query.fmt:
            return export(page, t)
        return console.render(request, "disclosures.html", page="disclosures", title="Disclosures", listing=page,
                              can_reconcile=viewer.can("reconcile.run"))

    @router.get("/disclosures/reconcile")
    def reconcile_confirm(request: Request) -> Response:
        viewer = console.viewer(request)
        viewer.scope("reconcile.run")
        t = console.translator(request)
        return console.render(request, "confirm.html", page="disclosures", title="Reconcile with the credit platform",
                              question=t.gettext("Compare the credit platform's holdings with jnx's? Missing ones are queued again."),
                              touches=1, touches_text=t.gettext("This reads the whole platform; it may take minutes."),
                              action="/disclosures/reconcile", need_reason=False, reason="", danger=False, fields=[],
                              confirm_label=t.gettext("Go ahead"), back="/disclosures")

    @router.post("/disclosures/reconcile")
    async def reconcile(request: Request) -> Response:
        viewer = console.viewer(request)
        await console.check_csrf(request)
        viewer.scope("reconcile.run")  # refused now (403), not in the job

        def work(job: Any) -> dict[str, Any]:
            report = service.reconcile(console.exchange, viewer, console.gate.audit, job)
            return {"platform_records": report["platform_records"], "disclosures": report["disclosures"],
                    "matched": report["matched"], "differs": len(report["differs"]), "requeued": report["requeued"],
                    "republished": report["republished"], "withdrawn_on_platform": len(report["withdrawn_on_platform"]),
                    "platform_only": report["platform_only_count"],
                    **{f"platform_only: {dept}": len(rows) for dept, rows in report["platform_only"].items()}}

        job = console.jobs.start("Reconcile with the credit platform", viewer.username, "/disclosures", work, kind="reconcile.run")
        return redirect(f"/jobs/{job.id}")

    @router.get("/disclosures/{disclosure_id}")
    def detail(request: Request, disclosure_id: int) -> Response:
        viewer = console.viewer(request)
        with console.session() as session:
            found = service.disclosure(session, viewer, disclosure_id)
        for revision in found["revisions"]:
            revision["payload_text"] = json.dumps(revision["payload"], ensure_ascii=False, indent=2, default=str)
        return console.render(request, "disclosure.html", page="disclosures", title="Disclosure", d=found)

    @router.get("/disclosures/{disclosure_id}/withdraw")
    def confirm(request: Request, disclosure_id: int) -> Response:
        viewer = console.viewer(request)
        t = console.translator(request)
        with console.session() as session:
            service.disclosure(session, viewer, disclosure_id)
        return console.render(request, "confirm.html", page="disclosures", title="Withdraw a disclosure",
                              question=t.gettext("Withdraw disclosure #{d} from the credit platform?", d=disclosure_id),
                              touches=1, touches_text=t.gettext("This touches one disclosure."),
                              action=f"/disclosures/{disclosure_id}/withdraw", need_reason=True, reason="", danger=True,
                              fields=[], confirm_label=t.gettext("Withdraw"), back=f"/disclosures/{disclosure_id}")

    @router.post("/disclosures/{disclosure_id}/withdraw")
    async def withdraw(request: Request, disclosure_id: int) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        t = console.translator(request)
        if not form.get("reason", "").strip():
            return redirect(f"/disclosures/{disclosure_id}/withdraw", t.gettext("A withdrawal needs a reason."), "error")
        with console.writer() as session:
            service.withdraw_disclosure(session, viewer, console.gate.audit, disclosure_id, form["reason"].strip(),
                                        console.settings.home / "calendar")
        return redirect(f"/disclosures/{disclosure_id}", t.gettext("The withdrawal is queued for the credit platform."))
