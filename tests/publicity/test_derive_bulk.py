"""How the bulk derivation writes a page: the same statements whatever the page's size, and records
that meet their own disclosure again in the same page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event, select

from jnx.publicity.derive import DisclosureDeriver, DisclosureRules
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureRevision,
)
from tests.exchange.conftest import case_system, derive, sample, store


def penalty(n: int, **changes: Any) -> dict[str, Any]:
    return sample("penalty.valid", document_number=f"济市监罚〔2026〕{n}号", **changes)


def history(sessions: Any) -> list[tuple[str, int, DisclosureAction, DeliveryStatus]]:
    with sessions() as session:
        query = (select(Disclosure.business_key, DisclosureRevision.revision, DisclosureRevision.action, Delivery.status)
                 .join(DisclosureRevision, DisclosureRevision.disclosure_id == Disclosure.id)
                 .join(Delivery, Delivery.disclosure_revision_id == DisclosureRevision.id)
                 .order_by(Disclosure.business_key, DisclosureRevision.revision))
        return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def statements_of_a_page(sessions: Any, rules: DisclosureRules, records: list[dict[str, Any]]) -> int:
    """How many statements the hook sends for one page of these penalties."""
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    with sessions.begin() as session:
        stored = [store(session, "penalty", data) for data in records]
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", counted)
        try:
            DisclosureDeriver(rules).on_stored(session, case_system(), stored)
        finally:
            event.remove(engine, "before_cursor_execute", counted)
    return count


def test_a_record_stored_twice_in_one_page_is_new_once_then_unchanged(sessions: Any, rules: DisclosureRules) -> None:
    deriver = derive(sessions, rules, ("penalty", penalty(1)), ("penalty", penalty(1)))

    assert (deriver.summary.new, deriver.summary.unchanged) == (1, 1)
    assert [(r[1], r[2]) for r in history(sessions)] == [(1, DisclosureAction.NEW)]


def test_a_revision_in_the_page_of_its_first_version_is_a_correction_superseding_it(sessions: Any, rules: DisclosureRules) -> None:
    deriver = derive(sessions, rules, ("penalty", penalty(1)), ("penalty", penalty(1, fine_amount="0.3", penalty_content="警告，罚款3000元")))

    assert (deriver.summary.new, deriver.summary.corrections) == (1, 1)
    assert [(r[1], r[2], r[3]) for r in history(sessions)] == [
        (1, DisclosureAction.NEW, DeliveryStatus.FAILED), (2, DisclosureAction.CORRECTION, DeliveryStatus.PENDING)]
    with sessions() as session:
        correction = session.scalars(select(DisclosureRevision).where(DisclosureRevision.revision == 2)).one()
    assert correction.due_date == dt.date(2026, 11, 30) and correction.reason == "standard record revised (revision 2)"


@pytest.mark.parametrize("kind_of_page", ["new", "corrected", "unchanged"])
def test_a_page_costs_the_same_statements_for_5_records_as_for_40(sessions: Any, rules: DisclosureRules, kind_of_page: str) -> None:
    """No statement per record: the newest revisions are read in one query, the writes are executemany."""
    counts = []
    for size, offset in ((5, 0), (40, 100)):
        first = [penalty(offset + n) for n in range(size)]
        if kind_of_page != "new":
            statements_of_a_page(sessions, rules, first)
        again = [penalty(offset + n, fine_amount="0.3", penalty_content="警告，罚款3000元") for n in range(size)]
        counts.append(statements_of_a_page(sessions, rules, again if kind_of_page == "corrected" else first))
    assert counts[0] == counts[1]
