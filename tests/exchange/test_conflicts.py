"""Business-key conflicts (issue 13, point 1): two different source records that claim one business
key never become one standard record. The second is a ``business_key.conflict`` in the errors queue,
linked to the record it collides with; neither is disclosed until an admin merges them, ignores the
newcomer, or the source corrects it. Revisions come only from a record's own sources."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import Adapters, PayloadEncoding, RawRecord
from jnx.adapters.testing import FakePuller
from jnx.errors import ConfigError
from jnx.exchange import error_queue
from jnx.exchange.ingest import CONFLICT_RULE
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.wiring import Exchange
from jnx.sandbox.case_data import penalties
from jnx.sandbox.systems import load as load_registration
from jnx.settings import Settings
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureStatus,
    MappingErrorEntry,
    MappingErrorStatus,
    StandardRecord,
)

SYSTEM = "jn-case-handling"


def _feed_of(records: list[dict[str, Any]]) -> list[RawRecord]:
    return [RawRecord(r["ajbh"], "penalty", r, PayloadEncoding.JSON, r["updated_at"]) for r in records]


def bare_other(categories: str) -> bool:
    """Whether a 处罚类别 list names a bare 其他 (an error of its own, not what these tests are about)."""
    return "其他" in re.split(r"[^\w-]+", categories)


@pytest.fixture
def cases() -> list[dict[str, Any]]:
    """Two penalties of one authority with different case numbers, parties and fines."""
    records, _ = penalties(seed=3, count=40)
    organisations = [dict(r.fields) for r in records
                     if r.fields["dsrlx"] == "2" and r.fields["fkje"] and not bare_other(r.fields["cflb"])]
    first = {**organisations[0], "updated_at": "2025-01-02 09:00:00"}
    second = {**organisations[1], "cfjgdm": first["cfjgdm"], "cfjg": first["cfjg"], "xzqh": first["xzqh"],
              "updated_at": "2025-01-02 10:00:00"}  # reported after the first
    assert first["ajbh"] != second["ajbh"] and first["dsrmc"] != second["dsrmc"]
    return [first, second]


@pytest.fixture
def run(migrated_engine: Engine, tmp_path: Path) -> Callable[[list[dict[str, Any]]], Any]:
    """Run the case-handling system once over ``records`` (the 双公示 derived as in production)."""
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(load_registration("case-handling.yaml"), "case-handling.yaml"))
    ex = Exchange(settings=Settings(home=tmp_path, database_url=str(migrated_engine.url)), engine=migrated_engine, environment={})

    def run_over(records: list[dict[str, Any]]) -> Any:
        service = ex.runs()
        service.adapters_factory = lambda config, secrets: Adapters(pullers={"penalty": FakePuller(_feed_of(records))})
        return service.run_now(SYSTEM, full=True)

    run_over.exchange = ex  # type: ignore[attr-defined]
    return run_over


def _conflicts(session: Session) -> list[MappingErrorEntry]:
    return list(session.scalars(select(MappingErrorEntry).where(MappingErrorEntry.rule == CONFLICT_RULE).order_by(MappingErrorEntry.id)))


def _deliveries(session: Session) -> list[DeliveryStatus]:
    return [d.status for d in session.scalars(select(Delivery).order_by(Delivery.id))]


def test_two_penalties_under_one_decision_number_leave_a_conflict_and_no_disclosure(
    migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]
) -> None:
    first, second = cases
    summary = run([first, {**second, "cfjdsh": first["cfjdsh"]}])

    assert summary.counts.new == 1 and summary.counts.revised == 0 and summary.counts.conflicts == 1
    with Session(migrated_engine) as session:
        record = session.scalars(select(StandardRecord)).one()
        assert record.current_revision == 1 and record.data["party_name"] == first["dsrmc"].strip()
        conflict = _conflicts(session)[0]
        assert conflict.status is MappingErrorStatus.OPEN and conflict.conflict_record_id == record.id
        assert conflict.raw_record.source_key == second["ajbh"]  # the newcomer stays staged: its raw record is the error's
        assert f"#{record.id}" in conflict.message and "jnx errors merge" in conflict.message
        disclosure = session.scalars(select(Disclosure)).one()
        assert disclosure.status is DisclosureStatus.BLOCKED and disclosure.problems[0]["rule"] == CONFLICT_RULE
        assert _deliveries(session) == [DeliveryStatus.HELD]  # the outbox leases only pending deliveries
        shown = error_queue.show(session, conflict.id)
        assert shown["conflict"]["record"] == record.id and shown["raw"]["source_key"] == second["ajbh"]


def test_the_same_decision_again_from_another_system_merges_without_a_conflict(
    migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]
) -> None:
    """The provincial platform's copy of a city case (another system, the same decision): one record."""
    first, _ = cases
    run([first])
    mirror = {**load_registration("case-handling.yaml"), "id": "sd-mirror", "kind": "other", "schedule": None,
              "department": "山东省司法厅", "department_credit_code": "11370000MB2850055E"}
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(mirror, "sd-mirror.yaml"))
    service = run.exchange.runs()
    service.adapters_factory = lambda config, secrets: Adapters(pullers={"penalty": FakePuller(_feed_of([first]))})

    summary = service.run_now("sd-mirror")

    assert summary.counts.duplicates_merged == 1 and summary.counts.conflicts == 0
    with Session(migrated_engine) as session:
        assert _conflicts(session) == [] and _deliveries(session) == [DeliveryStatus.PENDING]


def test_merging_a_conflict_makes_the_newcomer_the_record_s_revision_and_releases_it(
    migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]
) -> None:
    first, second = cases
    run([first, {**second, "cfjdsh": first["cfjdsh"]}])
    with Session(migrated_engine) as session, session.begin():
        conflict_id = _conflicts(session)[0].id
        counts = error_queue.merge(run.exchange.runs(), session, conflict_id)
    assert counts.revised == 1 and counts.conflicts == 0
    with Session(migrated_engine) as session:
        record = session.scalars(select(StandardRecord)).one()
        assert record.current_revision == 2 and record.data["party_name"] == second["dsrmc"].strip()
        assert [c.status for c in _conflicts(session)] == [MappingErrorStatus.REPLAYED]
        assert session.scalars(select(Disclosure)).one().status is DisclosureStatus.PENDING
        # revision 1 superseded by the correction, which waits for the outbox
        assert DeliveryStatus.PENDING in _deliveries(session) and DeliveryStatus.HELD not in _deliveries(session)
    with Session(migrated_engine) as session, session.begin(), pytest.raises(ConfigError, match="replayed already"):
        error_queue.merge(run.exchange.runs(), session, conflict_id)


def test_ignoring_the_newcomer_releases_the_first_record_s_disclosure(
    migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]
) -> None:
    first, second = cases
    run([first, {**second, "cfjdsh": first["cfjdsh"]}])
    with Session(migrated_engine) as session, session.begin():
        assert error_queue.ignore(session, reason="a data-entry duplicate, withdrawn at the source", error_id=_conflicts(session)[0].id) == 1
    with Session(migrated_engine) as session:
        assert session.scalars(select(Disclosure)).one().status is DisclosureStatus.PENDING
        assert _deliveries(session) == [DeliveryStatus.PENDING]
        assert session.scalars(select(StandardRecord)).one().data["party_name"] == first["dsrmc"].strip()


def test_a_correction_at_the_source_ends_the_conflict_and_both_cases_are_kept(
    migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]
) -> None:
    first, second = cases
    clash = {**second, "cfjdsh": first["cfjdsh"]}
    run([first, clash])
    corrected = {**clash, "cfjdsh": second["cfjdsh"], "updated_at": "2030-01-01 00:00:00"}  # its own number again

    summary = run([first, corrected])

    assert summary.counts.new == 1 and summary.counts.conflicts == 0
    with Session(migrated_engine) as session:
        assert session.scalar(select(func.count()).select_from(StandardRecord)) == 2
        assert [c.status for c in _conflicts(session)] == [MappingErrorStatus.RESOLVED]
        assert {d.status for d in session.scalars(select(Disclosure))} == {DisclosureStatus.PENDING}
        assert _deliveries(session) == [DeliveryStatus.PENDING, DeliveryStatus.PENDING]


def test_a_revision_from_the_record_s_own_source_stays_held_while_the_conflict_is_open(
    migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]
) -> None:
    first, second = cases
    run([first, {**second, "cfjdsh": first["cfjdsh"]}])
    revised = {**first, "wfss": first["wfss"] + "（补正）", "updated_at": "2030-01-01 00:00:00"}

    summary = run([revised])

    assert summary.counts.revised == 1
    with Session(migrated_engine) as session:
        assert DeliveryStatus.PENDING not in _deliveries(session)
        assert session.scalars(select(Disclosure)).one().status is DisclosureStatus.BLOCKED


def test_merge_refuses_what_is_not_an_open_conflict(migrated_engine: Engine, run: Any, cases: list[dict[str, Any]]) -> None:
    first, _ = cases
    run([{**first, "cflb": "没有这种处罚"}])  # an unknown penalty type: a mapping error, not a conflict
    with Session(migrated_engine) as session, session.begin():
        error = session.scalars(select(MappingErrorEntry)).first()
        assert error is not None
        with pytest.raises(ConfigError, match="not a business-key conflict"):
            error_queue.merge(run.exchange.runs(), session, error.id)

