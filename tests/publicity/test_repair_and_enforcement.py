"""信用修复 as a state (refused before the shortest display period unless forced; later source edits do not
undo it; a platform notice recorded without a push) and the 执法公示 clock of 行政强制 / 行政检查 records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from jnx.publicity.actions import DisclosureStateError
from jnx.publicity.derive import DisclosureRules
from jnx.publicity.enforcement import late_items
from jnx.publicity.repair import repair
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureRevision,
    DisclosureStatus,
    EnforcementPublicity,
    EnforcementPublicityStatus,
)
from tests.exchange.conftest import TODAY, derive, sample

FIRE = {"sector": "消防", "penalty_types": ["罚款"], "penalty_content": "罚款2000元", "fine_amount": "0.2"}


def published(sessions: Any) -> Disclosure:
    with sessions.begin() as session:
        session.execute(update(Delivery).values(status=DeliveryStatus.ACKNOWLEDGED))
        session.execute(update(Disclosure).values(status=DisclosureStatus.PUBLISHED))
    with sessions() as session:
        return session.scalars(select(Disclosure)).one()


def test_a_fine_in_fire_safety_stores_a_shortest_end_a_year_after_the_decision(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid", decision_date="2026-06-10", **FIRE)))
    disclosure = published(sessions)
    assert disclosure.display_shortest_until == dt.date(2027, 6, 10)
    assert disclosure.display_until == dt.date(2029, 6, 10)


def test_repair_before_the_shortest_end_is_refused_unless_forced(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid", decision_date="2026-06-10", **FIRE)))
    disclosure = published(sessions)
    with sessions.begin() as session, pytest.raises(DisclosureStateError, match="ends on 2027-06-10"):
        repair(session, disclosure.id, "信用中国 修复决定 001", rules.calendar, TODAY)
    with sessions.begin() as session:
        repaired = repair(session, disclosure.id, "复议决定 允许提前修复", rules.calendar, TODAY, force=True)
        assert "forced: before the shortest display period ended on 2027-06-10" in (repaired.repair_reason or "")
        assert repaired.current_revision == 2


def test_a_repaired_disclosure_stays_withdrawn_whatever_the_source_says_later(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))  # decided 2022: its shortest period is long over
    disclosure = published(sessions)
    with sessions.begin() as session:
        repair(session, disclosure.id, "信用中国 修复决定 002", rules.calendar, TODAY, granted_on=dt.date(2026, 11, 20))
    with sessions() as session:
        withdrawal = session.scalars(select(DisclosureRevision).where(DisclosureRevision.revision == 2)).one()
        assert withdrawal.action.value == "withdrawal" and withdrawal.due_date == dt.date(2026, 11, 25)  # 11-20 + 3
    deriver = derive(sessions, rules, ("penalty", sample("penalty.valid", penalty_content="警告，罚款5000元", fine_amount="0.5")))
    assert deriver.summary.unchanged == 1 and deriver.summary.corrections == 0
    with sessions() as session:
        again = session.get(Disclosure, disclosure.id)
        assert again is not None and again.current_revision == 2 and again.repaired_on == dt.date(2026, 11, 20)
    with sessions.begin() as session, pytest.raises(DisclosureStateError, match="was repaired on 2026-11-20"):
        repair(session, disclosure.id, "again", rules.calendar, TODAY)


def test_a_platform_notice_of_repair_is_recorded_without_a_push(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    disclosure = published(sessions)
    with sessions.begin() as session:
        repaired = repair(session, disclosure.id, "信用山东 停止公示通知 2026-118", rules.calendar, TODAY, by_platform=True)
        assert repaired.status is DisclosureStatus.WITHDRAWN
    with sessions() as session:
        revision = session.scalars(select(DisclosureRevision).where(DisclosureRevision.revision == 2)).one()
        delivery = session.scalars(select(Delivery).where(Delivery.disclosure_revision_id == revision.id)).one()
        assert delivery.status is DeliveryStatus.ACKNOWLEDGED and delivery.receipt == {
            "platform_notice": "信用山东 停止公示通知 2026-118", "source": "notice"}
        assert revision.acknowledged_at is not None and revision.acknowledged_on is not None  # acknowledged, so never overdue


def test_repair_needs_a_reason_and_a_penalty(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("license", sample("license.valid")))
    disclosure = published(sessions)
    with sessions.begin() as session, pytest.raises(Exception, match="needs a reason"):
        repair(session, disclosure.id, "  ", rules.calendar, TODAY)
    with sessions.begin() as session, pytest.raises(DisclosureStateError, match="is a licence"):
        repair(session, disclosure.id, "x", rules.calendar, TODAY)


def test_coercive_and_inspection_records_get_their_20_working_day_clock(sessions: Any, rules: DisclosureRules) -> None:
    late = sample("coercive_measure.valid")  # decided 2022-04-01, reaching jnx on 2026-11-25
    recent = sample("coercive_measure.valid", document_number="济市监强〔2026〕9号", decision_date="2026-11-20")
    inspection = sample("inspection.valid", inspection_date="2026-11-02")
    inspection |= {"document_number": "n/a", "decision_date": "2026-11-02"}  # the test store keys by authority and 文书号
    inspection["authority_credit_code"] = inspection["inspecting_department_credit_code"]
    derive(sessions, rules, ("coercive_measure", late), ("coercive_measure", recent), ("inspection", inspection))
    with sessions() as session:
        rows = {e.business_key.rsplit("|", 1)[1]: e for e in session.scalars(select(EnforcementPublicity))}
        assert rows["济市监强〔2022〕5号"].status is EnforcementPublicityStatus.LATE
        assert rows["济市监强〔2026〕9号"].status is EnforcementPublicityStatus.ON_TIME
        assert rows["济市监强〔2026〕9号"].deadline == dt.date(2026, 12, 18)  # 20 working days after Fri 11-20
        assert rows["n/a"].record_type == "inspection" and rows["n/a"].status is EnforcementPublicityStatus.ON_TIME
        assert rows["济市监强〔2026〕9号"].received_on == TODAY
        assert rows["济市监强〔2026〕9号"].authority_credit_code == "11370800004180002M"
        assert [e["business_key"] for e in late_items(session)] == [rows["济市监强〔2022〕5号"].business_key]
    derive(sessions, rules, ("coercive_measure", late | {"revoked": True, "change_type": "撤销", "change_date": "2022-05-01"}))
    with sessions() as session:
        revoked = session.scalars(select(EnforcementPublicity).where(EnforcementPublicity.business_key.endswith("〔2022〕5号"))).one()
        assert revoked.status is EnforcementPublicityStatus.REVOKED
        assert late_items(session) == []


def test_the_20_working_days_are_judged_by_the_day_the_act_was_made_public_when_the_source_gives_it(
        sessions: Any, rules: DisclosureRules) -> None:
    # decided 2022-04-01 (deadline 2022-04-29 by the official calendar), reaching jnx in 2026
    public = sample("coercive_measure.valid", publicity_date="2022-04-20")
    late = sample("coercive_measure.valid", document_number="济市监强〔2022〕6号", publicity_date="2022-06-01")
    unknown = sample("coercive_measure.valid", document_number="济市监强〔2022〕7号")
    derive(sessions, rules, ("coercive_measure", public), ("coercive_measure", late), ("coercive_measure", unknown))
    with sessions() as session:
        rows = {e.business_key.rsplit("|", 1)[1]: e for e in session.scalars(select(EnforcementPublicity))}
        made_public = rows["济市监强〔2022〕5号"]
        assert (made_public.status, made_public.published_on) == (EnforcementPublicityStatus.ON_TIME, dt.date(2022, 4, 20))
        assert made_public.received_on == TODAY  # kept, but no longer what decides
        assert rows["济市监强〔2022〕6号"].status is EnforcementPublicityStatus.LATE
        assert (rows["济市监强〔2022〕7号"].status, rows["济市监强〔2022〕7号"].published_on) == (EnforcementPublicityStatus.LATE, None)
        assert {e["business_key"].rsplit("|", 1)[1]: e["published_on"] for e in late_items(session)} == {
            "济市监强〔2022〕6号": dt.date(2022, 6, 1), "济市监强〔2022〕7号": None}
        assert {e["agency_level"] for e in late_items(session)} == {"市级"}  # 11370800…: a city agency
    # a revision that reports the date the agency made it public moves the judgement
    derive(sessions, rules, ("coercive_measure", unknown | {"publicity_date": "2022-04-28"}))
    with sessions() as session:
        revised = session.scalars(select(EnforcementPublicity).where(EnforcementPublicity.business_key.endswith("〔2022〕7号"))).one()
        assert (revised.status, revised.published_on) == (EnforcementPublicityStatus.ON_TIME, dt.date(2022, 4, 28))


def test_a_publicity_date_before_the_decision_is_refused_by_the_standard() -> None:
    from jnx.codesets import default_registry
    from jnx.standard import check_record, default_dictionary

    for record_type, day in (("coercive_measure", "decision_date"), ("coercive_enforcement", "decision_date"),
                             ("inspection", "inspection_date")):
        data = sample(f"{record_type}.valid")
        checked = check_record(default_dictionary().record_type(record_type), data | {"publicity_date": "2000-01-01"},
                               today=TODAY, registry=default_registry())
        assert [(i.field, i.rule) for i in checked.issues] == [("publicity_date", "date_order")], (record_type, day)
