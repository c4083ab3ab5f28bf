"""Reconciliation against the sandbox credit platform (its hand-filed records included), on SQLite and
PostgreSQL: matched records are linked and never pushed, missing ones go out again, platform-only ones
are reported per department, and a second run changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from jnx.exchange.registry import RegisteredSystem
from jnx.publicity.derive import DisclosureRules
from jnx.publicity.outbox import Outbox
from jnx.publicity.reconcile import reconcile_credit
from jnx.sandbox.runner import Sandbox
from jnx.store.models import Delivery, DeliveryStatus, Disclosure
from tests.exchange.conftest import CREDIT_SECRETS, derive, register_credit, sample
from tests.publicity.test_outbox import ProgressLog, held, outbox_for, platform


@pytest.fixture
def system(sessions: Any, credit: Sandbox) -> RegisteredSystem:
    return register_credit(sessions, credit)


@pytest.fixture
def outbox(migrated_engine: Any, system: RegisteredSystem) -> Any:
    yield from outbox_for(migrated_engine, system)


def hand_filed(sandbox: Sandbox) -> list[Any]:
    store = platform(sandbox).store
    with store.lock:
        return [h for (kind, _, _), h in store.records.items() if kind == "xzcf" and h.source == "manual"]


def statuses(sessions: Any) -> dict[str, tuple[str, list[str]]]:
    with sessions() as session:
        out = {}
        for disclosure in session.scalars(select(Disclosure)):
            deliveries = session.scalars(select(Delivery).join(Delivery.disclosure_revision)
                                         .where(Delivery.disclosure_revision.has(disclosure_id=disclosure.id))
                                         .order_by(Delivery.id))
            out[disclosure.business_key.split("|")[1]] = (disclosure.status.value, [d.status.value for d in deliveries])
        return out


def test_matched_records_are_linked_missing_ones_requeued_and_platform_only_ones_reported(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, system: RegisteredSystem, outbox: Outbox
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    manual = hand_filed(credit)[0]
    derive(sessions, rules, ("penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}1号")))
    assert outbox.deliver_due().acknowledged == 1
    derive(sessions, rules,
           ("penalty", sample("penalty.valid", authority_credit_code=manual.record["CF_CFJGDM"],
                              authority_name=manual.record["CF_CFJG"], document_number=manual.record["CF_WSH"])),
           ("penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}3号")))
    with sessions.begin() as session:  # the third's delivery was given up (all lines down for hours, say)
        third = session.scalars(select(Disclosure).where(Disclosure.business_key.endswith(f"{tag}3号"))).one()
        for delivery in session.scalars(select(Delivery).where(Delivery.disclosure_revision.has(disclosure_id=third.id))):
            delivery.status, delivery.error = DeliveryStatus.FAILED, "gave up after 12 attempts"

    report = reconcile_credit(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None)

    assert (report.matched, report.linked, report.requeued) == (2, 1, 1)
    after = statuses(sessions)
    assert after[manual.record["CF_WSH"]] == ("published", ["acknowledged"])
    assert after[f"济市监罚〔2026〕{tag}3号"] == ("pending", ["failed", "pending"])
    reported = {row["business_key"] for rows in report.platform_only.values() for row in rows}
    others = [h for h in hand_filed(credit) if h.record_id != manual.record_id]
    assert {f"{h.record['CF_CFJGDM']}|{h.record['CF_WSH']}" for h in others} <= reported
    assert f"{manual.record['CF_CFJGDM']}|{manual.record['CF_WSH']}" not in reported
    department = f"{others[0].record['CF_CFJG']} ({others[0].record['CF_CFJGDM']})"
    assert department in report.platform_only
    assert report.differs and report.differs[0]["source"] == "manual"  # the hand-filed wording differs: for review

    summary = outbox.deliver_due()
    assert summary.claimed == 1 and summary.acknowledged == 1  # only the requeued one; the linked one never
    [kept] = held(credit, "xzcf", manual.record["CF_WSH"])
    assert kept.source == "manual"

    again = reconcile_credit(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None)
    assert (again.matched, again.linked, again.requeued, again.republished) == (3, 0, 0, 0)


def test_a_record_the_platform_lost_is_published_again_under_a_new_key(
    sessions: Any, rules: DisclosureRules, credit: Sandbox, migrated_engine: Any, system: RegisteredSystem, outbox: Outbox
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    wsh = f"济市监罚〔2026〕{tag}L号"
    derive(sessions, rules, ("penalty", sample("penalty.valid", document_number=wsh)))
    outbox.deliver_due()
    store = platform(credit).store
    with store.lock:
        del store.records[("xzcf", "11370800004180002M", wsh)]

    report = reconcile_credit(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None)
    assert report.republished == 1
    assert outbox.deliver_due().acknowledged == 1
    assert len(held(credit, "xzcf", wsh)) == 1
    assert statuses(sessions)[wsh] == ("published", ["acknowledged", "acknowledged"])
    assert reconcile_credit(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None).republished == 0


def test_an_unreachable_platform_fails_reconciliation_with_a_clear_error(
    sessions: Any, credit: Sandbox, migrated_engine: Any, system: RegisteredSystem
) -> None:
    from jnx.errors import TransientError

    credit.set_faults("credit", lines_down=["primary", "backup"])
    with pytest.raises(TransientError, match="GET /api/v1/sgs/xz"):
        reconcile_credit(migrated_engine, system, CREDIT_SECRETS, sleep=lambda _: None)
    with sessions() as session:
        assert session.scalars(select(Disclosure)).first() is None


def test_jnx_reconcile_credit_prints_the_report(
    sessions: Any, credit: Sandbox, database_url: str, tmp_path: Any, system: RegisteredSystem,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.exchange.conftest import Credentials
    from tests.publicity.test_derive import jnx

    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("JNX_DATABASE_URL", database_url)
    monkeypatch.setenv("CREDIT_TOKEN", Credentials().credit_token)
    result = jnx("reconcile", "credit", "--system", "credit-jn", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["disclosures"] == 0 and report["platform_only_count"] == report["platform_records"] > 0
    assert "on the platform only" in jnx("reconcile", "credit").stdout


def test_reconciling_reports_the_platform_records_read_then_each_disclosure_compared(
    sessions: Any, rules: DisclosureRules, migrated_engine: Any, system: RegisteredSystem
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    derive(sessions, rules, *[("penalty", sample("penalty.valid", document_number=f"济市监罚〔2026〕{tag}{i}号")) for i in range(3)])
    log = ProgressLog()

    report = reconcile_credit(migrated_engine, system, CREDIT_SECRETS, progress=log, sleep=lambda _: None)

    assert [(label, total) for label, total, _ in log.steps] == [
        ("reading the platform's records", None), ("comparing disclosures", report.disclosures)]
    assert log.steps[0][2] == [1] * report.platform_records and report.platform_records > 0
    assert log.steps[1][2] == [1] * report.disclosures and report.disclosures >= 3
