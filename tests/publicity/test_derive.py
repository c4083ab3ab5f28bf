"""Deriving 双公示 disclosures from licence and penalty records, in the run's transaction, on SQLite and
PostgreSQL: masking, deadlines, display periods, corrections, withdrawals, blocked records."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jnx.publicity.actions import (
    DisclosureStateError,
    expire_displays,
    recompute_deadlines,
    withdraw,
)
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.derive import DisclosureRules, clear_id_numbers
from jnx.publicity.rules import InvalidLicencePublication, NaturalPersonPublication, PublicationPolicy
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
)
from tests.exchange.conftest import TODAY, case_system, derive, sample, store
from tests.publicity.test_calendar import FIXTURE_2027

ID_NUMBER = "370811199002150027"


def only(sessions: Any, kind: DisclosureKind = DisclosureKind.PENALTY) -> tuple[Disclosure, list[DisclosureRevision], list[Delivery]]:
    with sessions() as session:
        disclosure = session.scalars(select(Disclosure).where(Disclosure.kind == kind)).one()
        revisions = list(session.scalars(select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure.id)
                                         .order_by(DisclosureRevision.revision)))
        deliveries = list(session.scalars(select(Delivery).where(Delivery.disclosure_revision_id.in_([r.id for r in revisions]))
                                          .order_by(Delivery.id)))
    return disclosure, revisions, deliveries


def test_a_penalty_becomes_one_pending_disclosure_with_its_deadline_display_period_and_outbox_row(sessions: Any, rules: DisclosureRules) -> None:
    deriver = derive(sessions, rules, ("penalty", sample("penalty.valid", decision_date="2025-09-30")))

    disclosure, revisions, deliveries = only(sessions)
    assert deriver.summary.new == 1
    assert disclosure.status is DisclosureStatus.PENDING
    assert disclosure.business_key == "11370800004180002M|济市监罚〔2022〕12号"
    assert disclosure.deadline == dt.date(2025, 10, 16)  # REFERENCE §2.1: 国庆/中秋 skipped
    assert not disclosure.deadline_provisional and "424号" in (disclosure.deadline_basis or "")
    assert disclosure.display_until == dt.date(2028, 9, 30)  # 58号: longest 3 years from the decision
    [revision] = revisions
    assert revision.action is DisclosureAction.NEW and revision.due_date == disclosure.deadline
    assert revision.payload["CF_WSH"] == "济市监罚〔2022〕12号" and revision.payload["CF_CFLB"] == "警告;罚款"
    assert revision.payload["CF_GSJZQ"] == "2028-09-30"
    assert revision.idempotency_key.startswith("jnx-pen-r1-")
    [delivery] = deliveries
    assert delivery.status is DeliveryStatus.PENDING


def test_derivation_rolls_back_with_the_page_so_no_disclosure_outlives_its_record(sessions: Any, rules: DisclosureRules) -> None:
    from jnx.publicity.derive import DisclosureDeriver

    with pytest.raises(RuntimeError), sessions.begin() as session:
        stored = store(session, "penalty", sample("penalty.valid"))
        DisclosureDeriver(rules).on_stored(session, case_system(), [stored])
        raise RuntimeError("the page's commit failed")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Disclosure)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_a_natural_persons_name_and_id_number_leave_masked_and_the_legal_reps_id_never(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.natural_person")),
           ("license", sample("license.valid")))

    _, [penalty], _ = only(sessions)
    assert penalty.payload["CF_XDR_MC"] == "王**"
    assert penalty.payload["CF_XDR_ZJHM"] == "370811********0027"
    _, [licence], _ = only(sessions, DisclosureKind.LICENSE)
    assert "XK_FR_ZJHM" not in licence.payload and licence.payload["XK_FRDB"] == "张三"
    for payload in (penalty.payload, licence.payload):
        assert ID_NUMBER not in json.dumps(payload, ensure_ascii=False)


def test_the_last_guard_finds_an_id_number_in_clear_in_any_field() -> None:
    problems = clear_id_numbers({"BZ": f"当事人身份证 {ID_NUMBER}", "CF_XDR_ZJHM": "370811********0027", "CF_WSH": "123456789012345678"})
    assert [(p.field, p.rule) for p in problems] == [("BZ", "personal_data.clear_id_number")]
    assert ID_NUMBER not in problems[0].message


def test_a_revised_decision_is_a_correction_of_the_same_disclosure_with_a_new_key(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    deriver = derive(sessions, rules, ("penalty", sample("penalty.valid", penalty_content="警告，罚款3000元", fine_amount="0.3")))

    disclosure, revisions, deliveries = only(sessions)
    assert deriver.summary.corrections == 1
    assert [r.action for r in revisions] == [DisclosureAction.NEW, DisclosureAction.CORRECTION]
    assert revisions[1].payload["CF_NR_FK"] == "0.3" and revisions[0].idempotency_key != revisions[1].idempotency_key
    assert revisions[1].due_date == dt.date(2026, 11, 30)  # 3 working days after Wed 2026-11-25
    assert disclosure.current_revision == 2
    # revision 1 was never sent: the correction says it all, revision 1's delivery is superseded
    assert [d.status for d in deliveries] == [DeliveryStatus.FAILED, DeliveryStatus.PENDING]
    assert "superseded" in (deliveries[0].error or "")


def test_the_same_content_again_changes_nothing(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    deriver = derive(sessions, rules, ("penalty", sample("penalty.valid")))

    _, revisions, deliveries = only(sessions)
    assert deriver.summary.unchanged == 1 and len(revisions) == 1 and len(deliveries) == 1


def mark_acknowledged(sessions: Any) -> None:
    with sessions.begin() as session:
        for delivery in session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.PENDING)):
            delivery.status = DeliveryStatus.ACKNOWLEDGED
        for disclosure in session.scalars(select(Disclosure)):
            disclosure.status = DisclosureStatus.PUBLISHED


def test_by_default_a_licence_turning_invalid_is_a_correction_carrying_its_status(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("license", sample("license.valid")))
    mark_acknowledged(sessions)
    deriver = derive(sessions, rules, ("license", sample("license.valid", license_status="2")))
    _, revisions, _ = only(sessions, DisclosureKind.LICENSE)
    assert deriver.summary.corrections == 1 and deriver.summary.withdrawals == 0
    assert [r.action for r in revisions] == [DisclosureAction.NEW, DisclosureAction.CORRECTION]
    assert revisions[1].payload["XK_ZT"] == "2"


def test_by_default_a_licence_invalid_when_first_seen_is_published_with_its_status(sessions: Any, rules: DisclosureRules) -> None:
    deriver = derive(sessions, rules, ("license", sample("license.valid", license_status="2")))
    _, [revision], _ = only(sessions, DisclosureKind.LICENSE)
    assert deriver.summary.new == 1 and revision.payload["XK_ZT"] == "2"


def test_a_licence_turning_invalid_after_publication_is_a_withdrawal_due_in_three_working_days(sessions: Any, rules: DisclosureRules) -> None:
    rules = replace(rules, publication=PublicationPolicy(invalid_licences=InvalidLicencePublication.WITHDRAWN))
    derive(sessions, rules, ("license", sample("license.valid")))
    mark_acknowledged(sessions)
    deriver = derive(sessions, rules, ("license", sample("license.valid", license_status="2")))

    disclosure, revisions, deliveries = only(sessions, DisclosureKind.LICENSE)
    assert deriver.summary.withdrawals == 1
    assert [r.action for r in revisions] == [DisclosureAction.NEW, DisclosureAction.WITHDRAWAL]
    assert revisions[1].payload == {"XK_XKJGDM": "11370800004180002M", "XK_WSH": "JY13708110012345",
                                    "reason": "许可当前状态 2（无效）: licence revoked, cancelled or expired"}
    assert revisions[1].due_date == dt.date(2026, 11, 30)
    assert deliveries[-1].status is DeliveryStatus.PENDING
    assert disclosure.status is DisclosureStatus.PUBLISHED  # until the platform acknowledges the withdrawal


def test_published_disclosures_expire_after_their_display_period_and_only_those(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid", decision_date="2026-11-02")), ("license", sample("license.valid")))
    mark_acknowledged(sessions)
    with sessions.begin() as session:
        assert expire_displays(session, dt.date(2027, 3, 1)) == 1  # the licence ran until 2027-02-28
    with sessions.begin() as session:
        assert expire_displays(session, dt.date(2027, 3, 1)) == 0
    assert only(sessions, DisclosureKind.LICENSE)[0].status is DisclosureStatus.EXPIRED
    assert only(sessions)[0].status is DisclosureStatus.PUBLISHED  # the penalty shows until 2029-11-02


def test_withdrawing_what_never_left_jnx_needs_no_push(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    disclosure, _, _ = only(sessions)
    with sessions.begin() as session:
        withdraw(session, disclosure.id, "决定被撤销", rules.calendar, TODAY)

    disclosure, revisions, deliveries = only(sessions)
    assert disclosure.status is DisclosureStatus.WITHDRAWN and len(revisions) == 1
    assert [d.status for d in deliveries] == [DeliveryStatus.FAILED]


def test_withdrawing_by_hand_after_publication_pushes_a_withdrawal_once(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    mark_acknowledged(sessions)
    disclosure, _, _ = only(sessions)
    with sessions.begin() as session:
        withdraw(session, disclosure.id, "信用修复", rules.calendar, TODAY)
    with sessions.begin() as session:
        session.execute(Delivery.__table__.update().values(status=DeliveryStatus.ACKNOWLEDGED))
        session.get(Disclosure, disclosure.id).status = DisclosureStatus.WITHDRAWN  # type: ignore[union-attr]
    with sessions.begin() as session, pytest.raises(DisclosureStateError, match="already withdrawn"):
        withdraw(session, disclosure.id, "again", rules.calendar, TODAY)
    _, revisions, _ = only(sessions)
    assert [r.action for r in revisions] == [DisclosureAction.NEW, DisclosureAction.WITHDRAWAL]
    assert revisions[1].payload["reason"] == "信用修复" and revisions[1].reason == "信用修复"


def test_a_record_the_outbound_table_refuses_is_blocked_with_reasons_until_a_clean_revision(sessions: Any, rules: DisclosureRules) -> None:
    broken = sample("penalty.valid", penalty_types=["罚款"], fine_amount="not-an-amount")
    deriver = derive(sessions, rules, ("penalty", broken))

    disclosure, revisions, _ = only(sessions)
    assert deriver.summary.blocked == 1 and revisions == []
    assert disclosure.status is DisclosureStatus.BLOCKED
    assert disclosure.problems and any(p["field"] == "CF_NR_FK" for p in disclosure.problems)

    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    disclosure, revisions, deliveries = only(sessions)
    assert disclosure.status is DisclosureStatus.PENDING and disclosure.problems is None
    assert [r.action for r in revisions] == [DisclosureAction.NEW] and len(deliveries) == 1


def test_a_policy_withholding_natural_persons_derives_nothing_and_says_so(sessions: Any, rules: DisclosureRules) -> None:
    withheld = DisclosureRules(calendar=rules.calendar, tables=rules.tables, today=rules.today,
                               publication=PublicationPolicy(natural_persons=NaturalPersonPublication.WITHHELD))
    deriver = derive(sessions, withheld, ("penalty", sample("penalty.natural_person")))

    assert deriver.summary.not_published == 1 and "natural person" in deriver.summary.reasons_not_published[0]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Disclosure)) == 0


@pytest.mark.parametrize(("decision", "deadline"), [("2026-09-25", "2026-10-12"), ("2026-02-13", "2026-03-02")])
def test_a_decision_on_the_friday_before_a_long_holiday_gets_the_official_calendars_deadline(
    sessions: Any, rules: DisclosureRules, decision: str, deadline: str
) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid", decision_date=decision)))
    disclosure, _, _ = only(sessions)
    assert disclosure.deadline == dt.date.fromisoformat(deadline) and not disclosure.deadline_provisional




def test_provisional_deadlines_are_recomputed_once_the_years_schedule_is_loaded(sessions: Any, rules: DisclosureRules, tmp_path: Path) -> None:
    after_christmas = DisclosureRules(calendar=rules.calendar, tables=rules.tables, today=lambda: dt.date(2026, 12, 28))
    derive(sessions, after_christmas, ("penalty", sample("penalty.valid", decision_date="2026-12-25")))
    disclosure, _, _ = only(sessions)
    assert (disclosure.deadline, disclosure.deadline_provisional) == (dt.date(2027, 1, 6), True)  # 元旦 by law
    assert "PROVISIONAL" in (disclosure.deadline_basis or "")

    # the (invented) notice starts the 元旦 break on Thursday 2026-12-31
    notice = FIXTURE_2027.replace("{name: 元旦, from: 2027-01-01, to: 2027-01-03}", "{name: 元旦, from: 2026-12-31, to: 2027-01-03}")
    (tmp_path / "2027.yaml").write_text(notice, encoding="utf-8")
    with sessions.begin() as session:
        changed = recompute_deadlines(session, WorkdayCalendar.load(tmp_path))

    disclosure, [revision], _ = only(sessions)
    # 12/28–12/30 and 1/4–1/7 are the 7 working days
    assert [(c.old, c.new, c.provisional) for c in changed] == [(dt.date(2027, 1, 6), dt.date(2027, 1, 7), False)]
    assert (disclosure.deadline, disclosure.deadline_provisional) == (dt.date(2027, 1, 7), False)
    assert revision.due_date == dt.date(2027, 1, 7) and "2027.yaml" in (disclosure.deadline_basis or "")


# ---------------------------------------------------------------- the commands
@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JNX_DATABASE_URL", database_url)
    return database_url


def jnx(*args: str) -> Any:
    from typer.testing import CliRunner

    from jnx.cli import app

    return CliRunner().invoke(app, list(args))


def test_list_and_show_give_id_kind_status_deadline_and_the_whole_history(cli_env: str, rules: DisclosureRules) -> None:
    from jnx.store.db import create_engine_for, session_factory

    engine = create_engine_for(cli_env)
    sessions = session_factory(engine)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    today = DisclosureRules(calendar=rules.calendar, tables=rules.tables, today=dt.date.today)
    derive(sessions, today, ("penalty", sample("penalty.valid")),  # decided 2022: long overdue
           ("license", sample("license.valid", decision_date=yesterday, valid_from=yesterday)))
    engine.dispose()

    listed = jnx("disclosures", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)["disclosures"]
    assert [(r["kind"], r["status"], r["overdue"]) for r in rows] == [("penalty", "pending", True), ("license", "pending", False)]
    assert set(rows[0]) >= {"id", "kind", "status", "deadline", "provisional", "business_key"}

    overdue = json.loads(jnx("disclosures", "list", "--overdue", "--json").stdout)["disclosures"]
    assert [r["kind"] for r in overdue] == ["penalty"]
    assert json.loads(jnx("disclosures", "list", "--status", "published", "--json").stdout)["count"] == 0
    text = jnx("disclosures", "list").stdout
    assert "OVERDUE" in text and "penalty" in text

    shown = jnx("disclosures", "show", str(rows[0]["id"]), "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert detail["revisions"][0]["action"] == "new" and detail["revisions"][0]["deliveries"][0]["status"] == "pending"
    assert "424号" in detail["deadline_basis"]
    assert "revision 1 new" in jnx("disclosures", "show", str(rows[0]["id"])).stdout


def test_withdraw_and_recompute_from_the_command_line(cli_env: str, rules: DisclosureRules) -> None:
    from jnx.store.db import create_engine_for, session_factory

    engine = create_engine_for(cli_env)
    derive(session_factory(engine), rules, ("penalty", sample("penalty.valid")))
    engine.dispose()

    withdrawn = jnx("disclosures", "withdraw", "1", "--reason", "决定被撤销", "--json")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert json.loads(withdrawn.stdout)["status"] == "withdrawn"  # nothing had been sent
    again = jnx("disclosures", "withdraw", "1", "--reason", "again")
    assert again.exit_code != 0 and "already withdrawn" in str(again.exception)
    missing = jnx("disclosures", "show", "999")
    assert missing.exit_code != 0 and "no disclosure 999" in str(missing.exception)

    recomputed = jnx("disclosures", "recompute-deadlines", "--json")
    assert recomputed.exit_code == 0 and json.loads(recomputed.stdout) == {"changed": [], "count": 0}
    assert json.loads(jnx("disclosures", "expire", "--json").stdout) == {"expired": 0}


def test_a_second_withdrawal_by_hand_is_refused_while_the_first_waits(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    mark_acknowledged(sessions)
    disclosure, _, _ = only(sessions)
    with sessions.begin() as session:
        withdraw(session, disclosure.id, "决定被撤销", rules.calendar, TODAY)
    with sessions.begin() as session, pytest.raises(DisclosureStateError, match="already has a withdrawal waiting"):
        withdraw(session, disclosure.id, "信用修复", rules.calendar, TODAY)
    _, revisions, deliveries = only(sessions)
    assert [r.action for r in revisions] == [DisclosureAction.NEW, DisclosureAction.WITHDRAWAL]
    assert [d.status for d in deliveries].count(DeliveryStatus.PENDING) == 1  # one withdrawal to push, once


def test_an_expired_disclosure_is_not_withdrawn(sessions: Any, rules: DisclosureRules) -> None:
    derive(sessions, rules, ("penalty", sample("penalty.valid")))
    mark_acknowledged(sessions)
    disclosure, _, _ = only(sessions)
    with sessions.begin() as session:
        session.get(Disclosure, disclosure.id).status = DisclosureStatus.EXPIRED  # type: ignore[union-attr]
    with sessions.begin() as session, pytest.raises(DisclosureStateError, match="expired"):
        withdraw(session, disclosure.id, "信用修复", rules.calendar, TODAY)
    _, revisions, _ = only(sessions)
    assert [r.action for r in revisions] == [DisclosureAction.NEW]
