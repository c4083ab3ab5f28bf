"""The bulk derivation (:class:`jnx.publicity.derive.DisclosureDeriver`) writes exactly what the
per-record ORM one (:class:`jnx.publicity.derive_reference.ReferenceDeriver`) writes: the same
pages go through each on a fresh database, and every row of disclosures, disclosure_revisions and
deliveries (without ids and timestamps) and every page's summary must agree, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from jnx.exchange.ingest import StoredRecord, canonical
from jnx.publicity.derive import DisclosureDeriver, DisclosureRules
from jnx.publicity.derive_reference import ReferenceDeriver
from jnx.publicity.repair import repair
from jnx.publicity.rules import InvalidLicencePublication, PublicationPolicy
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureRevision,
    DisclosureStatus,
    StandardRecord,
)
from tests.exchange.conftest import case_system, sample, store

ID_NUMBER = "370811199002150027"
PUBLISH = "publish"  # a step that is no page: the platform acknowledged every waiting delivery

Page = list[tuple[str, dict[str, Any]]]


def penalty(n: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{n}号", **changes)


def licence(n: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "license", sample("license.valid", document_number=f"JY1370811{n:07d}", **changes)


WARNING_ONLY = {"penalty_types": ["警告"], "penalty_content": "警告", "fine_amount": None}
UNMAPPABLE = {"penalty_types": ["罚款"], "fine_amount": "not-an-amount"}
REVISED = {"penalty_content": "警告，罚款3000元", "fine_amount": "0.3"}
CLEAR_ID = {"party_name": f"济宁市鑫源商贸有限公司{ID_NUMBER}"}  # free text is masked; a name is not free text
REVOKED = {"revoked": True, "change_type": "撤销", "change_date": "2026-11-27", "change_document_number": "济市监撤〔2026〕3号"}
CHANGED = {**REVISED, "change_type": "变更", "change_date": "2026-11-26", "change_document_number": "济市监变〔2026〕2号"}
PERSON_FACTS = {"illegal_facts": "当事人王某某（身份证号码370811900215002，联系电话13805371234）销售商品未明码标价。"}


def person(n: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    return "penalty", sample("penalty.natural_person", document_number=f"济市监罚〔2026〕{n}号", **changes)

Repair = tuple[str, int]  # ("repair", n): 信用修复 of penalty n, granted on TODAY

PAGES: list[Page | str | Repair] = [
    [  # first run: new penalties and licences, blocked ones, not published ones, duplicates in the page
        penalty(1), penalty(2), penalty(3, **CLEAR_ID), penalty(4, **UNMAPPABLE), penalty(5, decision_date=None),
        penalty(6, **WARNING_ONLY), licence(1), licence(2), licence(3, license_status="2"),
        penalty(7), penalty(7),  # the same content twice: new, then unchanged
        penalty(8), penalty(8, **REVISED),  # a revision in the page of its first version: new, then correction
        licence(4), licence(4, license_status="2"),  # created and withdrawn (never sent) in one page
        penalty(10), penalty(11, decision_date="2026-11-20"),
        penalty(15, **REVOKED), penalty(16, sector="消防"), person(17, **PERSON_FACTS), penalty(18), penalty(19),
    ],
    PUBLISH,
    [  # corrections after publication, unchanged re-stores, fixes of blocked records, withdrawals
        penalty(1, **REVISED), penalty(2), licence(1, license_status="2"), licence(2, license_content="散装食品销售"),
        penalty(3), penalty(4), penalty(5),
        penalty(9), penalty(9, **WARNING_ONLY),  # created, then no longer published, in one page
        penalty(10, decision_date=None),  # published, then blocked: it stays published with its problems
        penalty(11, decision_date="2026-11-23"),  # a new decision date: deadline counted again, a correction
        penalty(12, **UNMAPPABLE), penalty(12, **UNMAPPABLE, illegal_facts="补正"),  # blocked twice
        penalty(18, **REVOKED),  # published, then revoked: a withdrawal due 3 working days after the change date
        penalty(19, **CHANGED),  # published, then changed by a decision: a correction due from the change date
        penalty(15, **REVOKED, change_reason="复议撤销"),  # still revoked: still nothing to publish
    ],
    [  # withdrawals of sent and unsent content, revivals, a licence withdrawn while its correction waits
        penalty(1, **WARNING_ONLY), licence(2, license_status="2"), penalty(9), penalty(10), penalty(12),
        penalty(4, **REVISED), penalty(4, **REVISED, illegal_facts="补正"),  # two corrections in a row
    ],
    PUBLISH,
    ("repair", 16),
    [penalty(1, **REVISED), penalty(1, **REVISED), licence(1), penalty(6), penalty(13, **CLEAR_ID), penalty(13),
     penalty(14, **UNMAPPABLE), penalty(16, sector="消防", **REVISED)],  # repaired: the edit revises the record only
]


def run(sessions: Any, make: Callable[[], Any], pages: list[Page | str | Repair]) -> list[dict[str, Any]]:
    """Every page in its own transaction through a fresh deriver (as a run's pages); their summaries."""
    summaries = []
    for page in pages:
        with sessions.begin() as session:
            if page == PUBLISH:
                acknowledge(session)
                continue
            if isinstance(page, tuple):
                deriver = make()
                key = f"{sample('penalty.valid')['authority_credit_code']}|济市监罚〔2026〕{page[1]}号"
                found = session.scalars(select(Disclosure).where(Disclosure.business_key == key)).one()
                repair(session, found.id, "信用中国 修复决定", deriver.rules.calendar, deriver.rules.today())
                continue
            assert isinstance(page, list)
            deriver = make()
            stored = [stored_as_a_run_hands_it(session, record_type, data) for record_type, data in page]
            deriver.on_stored(session, case_system(), stored)
            summaries.append(deriver.summary.as_dict() | {"reasons": deriver.summary.reasons_not_published})
    return summaries


def stored_as_a_run_hands_it(session: Session, record_type: str, data: dict[str, Any]) -> StoredRecord:
    """:func:`store`, also of a record without a decision date (the hook must cope with one)."""
    if "decision_date" in data:
        return store(session, record_type, data)
    stored = store(session, record_type, data | {"decision_date": "2022-05-01"})
    return replace(stored, data=canonical(data))


def acknowledge(session: Session) -> None:
    session.execute(update(Delivery).where(Delivery.status == DeliveryStatus.PENDING).values(status=DeliveryStatus.ACKNOWLEDGED))
    session.execute(update(Disclosure).where(Disclosure.status == DisclosureStatus.PENDING).values(status=DisclosureStatus.PUBLISHED))


def rows(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the derivation writes, by content: ids replaced by the business keys they stand for."""
    disclosures = session.execute(text(
        "SELECT d.kind, d.business_key, s.record_type, s.business_key, d.status, d.decision_date, d.deadline,"
        " d.deadline_provisional, d.deadline_basis, d.display_until, d.current_revision, d.problems IS NULL, d.problems,"
        " d.display_shortest_until, d.repaired_on, d.repair_reason"
        " FROM disclosures d JOIN standard_records s ON s.id = d.standard_record_id")).all()
    revisions = session.execute(text(
        "SELECT d.kind, d.business_key, r.revision, r.action, r.payload, r.idempotency_key, r.due_date, r.reason"
        " FROM disclosure_revisions r JOIN disclosures d ON d.id = r.disclosure_id")).all()
    deliveries = session.execute(text(
        "SELECT d.kind, d.business_key, r.revision, v.status, v.attempts, v.lease_owner, v.line, v.receipt, v.error, v.envelope"
        " FROM deliveries v JOIN disclosure_revisions r ON r.id = v.disclosure_revision_id"
        " JOIN disclosures d ON d.id = r.disclosure_id")).all()
    return {name: sorted((tuple(str(v) for v in row) for row in found), key=repr)
            for name, found in (("disclosures", disclosures), ("revisions", revisions), ("deliveries", deliveries))}


def wipe(sessions: Any) -> None:
    with sessions.begin() as session:
        for model in (Delivery, DisclosureRevision, Disclosure, StandardRecord):
            session.execute(delete(model))


@pytest.fixture
def policy_rules(rules: DisclosureRules) -> DisclosureRules:
    """Warnings alone are not published (a policy 58号 allows), so records can leave publication."""
    return DisclosureRules(calendar=rules.calendar, tables=rules.tables, today=rules.today,
                           publication=PublicationPolicy(excluded_penalty_categories=frozenset({"警告"}),
                                                         invalid_licences=InvalidLicencePublication.WITHDRAWN))


def test_bulk_derivation_writes_every_row_and_count_the_reference_writes(sessions: Any, policy_rules: DisclosureRules) -> None:
    expected_summaries = run(sessions, lambda: ReferenceDeriver(policy_rules), PAGES)
    with sessions() as session:
        expected = rows(session)
    wipe(sessions)

    summaries = run(sessions, lambda: DisclosureDeriver(policy_rules), PAGES)
    with sessions() as session:
        found = rows(session)

    assert summaries == expected_summaries
    for table in ("disclosures", "revisions", "deliveries"):
        assert found[table] == expected[table], table


def test_the_sequence_reaches_every_branch_of_the_derivation(sessions: Any, policy_rules: DisclosureRules) -> None:
    """The agreement above means something only if the pages exercise what the brief names."""
    summaries = run(sessions, lambda: DisclosureDeriver(policy_rules), PAGES)
    with sessions() as session:
        found = rows(session)

    totals = {name: sum(s[name] for s in summaries) for name in ("new", "corrections", "withdrawals", "unchanged", "blocked", "not_published")}
    assert all(totals.values()), totals
    assert summaries[0]["blocked"] == 3  # mapping problems, an ID number in clear, no decision date
    statuses = {row[4] for row in found["disclosures"]}
    assert {"published", "pending", "withdrawn", "blocked"} <= statuses
    actions = {row[3] for row in found["revisions"]}
    assert actions == {"new", "correction", "withdrawal"}
    errors = [row[8] for row in found["deliveries"] if row[3] == "failed"]
    assert errors and all("superseded by revision" in e for e in errors)
    clear = [row for row in found["disclosures"] if row[1].endswith("〔2026〕13号")]
    assert clear and clear[0][4] == "pending"  # blocked for the ID number, then fixed in the same page
    assert ID_NUMBER not in repr(found["revisions"])
    by_key = {row[1].rsplit("〔2026〕", 1)[1]: row for row in found["disclosures"] if "〔2026〕" in row[1]}
    assert "15号" not in by_key  # revoked when first seen: never a disclosure
    assert by_key["18号"][10] == "2"  # new, withdrawal
    due = {(row[1].rsplit("〔2026〕", 1)[1], row[2]): (row[3], row[6], row[7]) for row in found["revisions"] if "〔2026〕" in row[1]}
    assert due[("18号", "2")][:2] == ("withdrawal", "2026-12-02")  # Fri 11-27 + 3 working days: Mon, Tue, Wed
    assert due[("19号", "2")][:2] == ("correction", "2026-12-01")  # Thu 11-26 + 3 working days
    assert "济市监变〔2026〕2号" in due[("19号", "2")][2]
    assert by_key["16号"][10] == "2" and summaries[-1]["unchanged"] >= 1  # repaired, then edited: no correction
    person_payload = next(row[4] for row in found["revisions"] if row[1].endswith("〔2026〕17号"))
    assert "王某某" not in person_payload and "370811900215002" not in person_payload and "13805371234" not in person_payload
