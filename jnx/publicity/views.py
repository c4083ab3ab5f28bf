"""What ``jnx disclosures list`` and ``show`` print: disclosures as plain dicts, read in one session.

Overdue means: not yet where it should be on the platform (pending, rejected or blocked — or
published with a correction or withdrawal still waiting) and the due date of the revision that
waits (or the disclosure's 7-day deadline, for one with no revision yet) is before ``today``.
A revision is acknowledged exactly when it has ``acknowledged_at`` (set with the first acknowledged
delivery, migration 0007), so "waits" reads that column and not the deliveries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from jnx.codesets import agency_level
from jnx.publicity.actions import get_disclosure
from jnx.store.models import (
    Delivery,
    Disclosure,
    DisclosureRevision,
    DisclosureStatus,
)

R = DisclosureRevision
DONE = (DisclosureStatus.WITHDRAWN, DisclosureStatus.EXPIRED)


def _waiting_due(today: dt.date) -> Any:
    """The current revision is not acknowledged and was due before ``today``."""
    current = and_(R.disclosure_id == Disclosure.id, R.revision == Disclosure.current_revision)
    return exists().where(current, R.acknowledged_at.is_(None), R.due_date < today)


def overdue_condition(today: dt.date) -> Any:
    """Whether a disclosure is overdue (the module docstring), for one row or a page of rows; to count
    them use :func:`count_overdue` (it reads the partial indexes instead of testing every row)."""
    no_revision_yet = and_(Disclosure.current_revision == 0, Disclosure.deadline < today)
    return and_(Disclosure.status.not_in(DONE), or_(no_revision_yet, _waiting_due(today)))


def count_overdue(session: Session, today: dt.date, *where: Any) -> int:
    """How many disclosures (narrowed by ``where``, conditions on ``disclosures``) are overdue: the
    rows of :func:`overdue_condition`, counted as its two disjoint parts, each driven by a partial
    index of 0007 — the waiting current revision was due before ``today`` (revisions not
    acknowledged, by due date), or, with no revision yet, the deadline was (disclosures with
    revision 0, by deadline). 18 ms instead of 60–80 ms for the 50,000 disclosures of
    benchmarks/bench_console.py, whose every row the EXISTS form tests."""
    waiting = (select(func.count()).select_from(R).join(Disclosure, and_(Disclosure.id == R.disclosure_id,
                                                                         R.revision == Disclosure.current_revision))
               .where(R.acknowledged_at.is_(None), R.due_date < today, Disclosure.status.not_in(DONE), *where))
    unrevised = (select(func.count()).select_from(Disclosure)
                 .where(Disclosure.current_revision == literal_column("0"), Disclosure.deadline < today,
                        Disclosure.status.not_in(DONE), *where))
    return sum(int(session.scalar(part) or 0) for part in (waiting, unrevised))


def row(disclosure: Disclosure, today: dt.date, overdue: bool | None = None) -> dict[str, Any]:
    return {
        "id": disclosure.id,
        "kind": disclosure.kind.value,
        "status": disclosure.status.value,
        "business_key": disclosure.business_key,
        "decision_date": disclosure.decision_date,
        "deadline": disclosure.deadline,
        "provisional": disclosure.deadline_provisional,
        "display_until": disclosure.display_until,
        "display_shortest_until": disclosure.display_shortest_until,
        "repaired_on": disclosure.repaired_on,
        "revision": disclosure.current_revision,
        "overdue": overdue,
    }


#: Sorts a disclosure with no deadline last, on both databases (they order NULLs differently).
NO_DEADLINE = dt.date(9999, 12, 31)


def sort_key(disclosure: Disclosure) -> tuple[dt.date, int]:
    """Where a disclosure stands in :func:`list_disclosures`' order: what a page's cursor names."""
    return disclosure.deadline or NO_DEADLINE, disclosure.id


def list_disclosures(session: Session, *, today: dt.date, status: DisclosureStatus | None = None,
                     overdue: bool = False, limit: int = 1000, where: Any = None,
                     after: tuple[dt.date, int] | None = None) -> list[dict[str, Any]]:
    """Disclosures, oldest deadline first (none last); ``overdue`` keeps those past due (see the module
    docstring); ``where`` narrows them further (a user's row scope); ``after`` starts after that place
    in the order (a cursor page, :func:`sort_key`)."""
    late = overdue_condition(today)
    deadline = func.coalesce(Disclosure.deadline, NO_DEADLINE)
    query = select(Disclosure, late.label("late")).order_by(deadline, Disclosure.id).limit(limit)
    if after is not None:
        query = query.where(or_(deadline > after[0], and_(deadline == after[0], Disclosure.id > after[1])))
    if where is not None:
        query = query.where(where)
    if status is not None:
        query = query.where(Disclosure.status == status)
    if overdue:
        query = query.where(late)
    return [row(disclosure, today, bool(is_late)) for disclosure, is_late in session.execute(query)]


def show_disclosure(session: Session, disclosure_id: int, today: dt.date) -> dict[str, Any]:
    """One disclosure with its revisions, their deliveries and receipts."""
    disclosure = get_disclosure(session, disclosure_id)
    late = bool(session.scalar(select(overdue_condition(today)).where(Disclosure.id == disclosure_id)))
    revisions = []
    for revision in session.scalars(select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure_id)
                                    .order_by(DisclosureRevision.revision)):
        deliveries = [
            {"id": d.id, "status": d.status.value, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
             "error": d.error, "receipt": d.receipt, "sealed": d.envelope is not None, "updated_at": d.updated_at}
            for d in session.scalars(select(Delivery).where(Delivery.disclosure_revision_id == revision.id).order_by(Delivery.id))
        ]
        revisions.append({"revision": revision.revision, "action": revision.action.value, "due_date": revision.due_date,
                          "reason": revision.reason, "idempotency_key": revision.idempotency_key,
                          "created_at": revision.created_at, "payload": revision.payload, "deliveries": deliveries})
    data = disclosure.standard_record.data if disclosure.standard_record is not None else {}
    level = agency_level(data.get("region"), data.get("authority_credit_code"), disclosure.decision_date)
    return {**row(disclosure, today, late), "deadline_basis": disclosure.deadline_basis, "problems": disclosure.problems,
            "review": disclosure.review, "repair_reason": disclosure.repair_reason,
            "agency_level": level.value if level is not None else None,
            "standard_record_id": disclosure.standard_record_id, "revisions": revisions}


def list_reviews(session: Session, *, today: dt.date, limit: int = 1000) -> list[dict[str, Any]]:
    """Disclosures with findings to review (``disclosures.review``: an address masked in free text), oldest first."""
    query = (select(Disclosure).where(Disclosure.review.is_not(None)).order_by(Disclosure.id).limit(limit))
    return [{**row(d, today), "review": d.review} for d in session.scalars(query) if d.review]


def mark_reviewed(session: Session, disclosure_id: int) -> tuple[Disclosure, list[Any]]:
    """Clear a disclosure's review findings (a person checked what went out); the findings cleared.

    Raises InputError when there is nothing to review. The next revision derived brings its own findings.
    """
    from jnx.errors import InputError

    disclosure = get_disclosure(session, disclosure_id)
    if not disclosure.review:
        raise InputError(f"disclosure {disclosure_id} has nothing to review",
                         hint="`jnx disclosures reviews` lists the disclosures that have")
    cleared = list(disclosure.review)
    disclosure.review = None
    return disclosure, cleared
