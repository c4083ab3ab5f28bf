"""The models keep what they are given: aware instants, exact money in JSON, enums by value, keys unique."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from jnx.store.db import session_factory
from jnx.store.models import (
    AuditEntry,
    Base,
    KeyOwner,
    KeyRecord,
    KeySuite,
    KeyUse,
    RawRecord,
    Run,
    RunStatus,
    RunTrigger,
    SourceSystem,
    StandardRecord,
    SystemKind,
)

BEIJING = dt.timezone(dt.timedelta(hours=8))


def system(system_id: str = "jn-scjgj") -> SourceSystem:
    return SourceSystem(
        id=system_id,
        department_name="济宁市市场监督管理局",
        department_credit_code="11370800MB2859512N",
        region_code="370800",
        kind=SystemKind.LICENSING,
        protocol="soap",
        registration={"lines": ["http://127.0.0.1:8001/ws"]},
        mapping_name="license-soap",
        mapping_version="1.0.0",
        schedule_cron="*/15 * * * *",
    )


@pytest.fixture
def session(migrated_engine: Engine) -> Session:
    with session_factory(migrated_engine)() as session:
        yield session  # type: ignore[misc]


def test_instants_come_back_aware_and_equal_whatever_zone_they_were_given_in(session: Session) -> None:
    session.add(system())
    due = dt.datetime(2026, 3, 2, 16, 30, tzinfo=BEIJING)
    session.add(Run(system_id="jn-scjgj", trigger=RunTrigger.SCHEDULE, due_at=due))
    session.commit()
    session.expunge_all()

    run = session.scalars(select(Run)).one()
    assert run.due_at == due and run.due_at.utcoffset() == dt.timedelta(0)
    assert run.status is RunStatus.QUEUED and run.attempts == 0 and run.counts == {}
    assert run.created_at.tzinfo is not None


def test_a_naive_datetime_is_refused(session: Session) -> None:
    session.add(system())
    session.add(Run(system_id="jn-scjgj", trigger=RunTrigger.MANUAL, due_at=dt.datetime(2026, 3, 2, 8, 0)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_json_keeps_chinese_and_money_exact_as_text(session: Session, migrated_engine: Engine) -> None:
    session.add(
        StandardRecord(
            record_type="penalty",
            business_key="11370800MB2859512N|济市监处罚〔2026〕12号",
            content_hash="a" * 64,
            data={"CF_FKJE": Decimal("12.500000"), "CF_JDRQ": dt.date(2026, 3, 2), "CF_XDR_MC": "济宁某某商贸有限公司"},
            decision_date=dt.date(2026, 3, 2),
        )
    )
    session.commit()
    session.expunge_all()

    record = session.scalars(select(StandardRecord)).one()
    assert record.data == {"CF_FKJE": "12.500000", "CF_JDRQ": "2026-03-02", "CF_XDR_MC": "济宁某某商贸有限公司"}
    assert record.decision_date == dt.date(2026, 3, 2) and record.current_revision == 1
    with migrated_engine.connect() as connection:
        stored = connection.execute(text("SELECT data FROM standard_records")).scalar_one()
    assert "济宁某某" in str(stored)  # stored readable, not \\u-escaped


def test_enums_are_stored_as_their_values(session: Session, migrated_engine: Engine) -> None:
    session.add(
        KeyRecord(kid="jnx-sig-2026", owner=KeyOwner.SELF, use=KeyUse.SIG, suite=KeySuite.SM, algorithm="SM2", public_jwk={"kty": "EC"})
    )
    session.commit()
    with migrated_engine.connect() as connection:
        row = connection.execute(text("SELECT owner, use, suite, state FROM keys")).one()
    assert tuple(row) == ("self", "sig", "sm", "active")


def test_two_schedulers_cannot_create_the_same_due_run(session: Session) -> None:
    session.add(system())
    due = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    session.add(Run(system_id="jn-scjgj", trigger=RunTrigger.SCHEDULE, due_at=due))
    session.commit()
    session.add(Run(system_id="jn-scjgj", trigger=RunTrigger.SCHEDULE, due_at=due))
    with pytest.raises(IntegrityError):
        session.commit()


def test_the_same_raw_content_is_stored_once_but_changed_content_is_kept(session: Session) -> None:
    session.add(system())
    session.commit()

    def raw(content_hash: str) -> RawRecord:
        return RawRecord(system_id="jn-scjgj", source_key="XK-1", record_type="license", content_hash=content_hash, payload=b"<r/>", encoding="utf-8")

    session.add_all([raw("1" * 64), raw("2" * 64)])
    session.commit()
    session.add(raw("1" * 64))
    with pytest.raises(IntegrityError):
        session.commit()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(Run(system_id="nobody", trigger=RunTrigger.MANUAL, due_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)))
    with pytest.raises(IntegrityError):
        session.commit()


def test_payload_bytes_are_kept_exactly(session: Session) -> None:
    session.add(system())
    gb18030 = "<处罚>罚款</处罚>".encode("gb18030")
    session.add(RawRecord(system_id="jn-scjgj", source_key="CF-1", record_type="penalty", content_hash="3" * 64, payload=gb18030, encoding="gb18030"))
    session.commit()
    session.expunge_all()
    assert session.scalars(select(RawRecord.payload)).one() == gb18030


def test_audit_sequence_counts_up(session: Session) -> None:
    for n in range(3):
        session.add(AuditEntry(actor="ops", action="register", subject="jn-scjgj", prev_hash=str(n), hash=f"h{n}"))
        session.flush()
    assert list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))) == [1, 2, 3]


def test_every_constraint_and_index_has_a_conventional_name() -> None:
    for table in Base.metadata.sorted_tables:
        names = [c.name for c in table.constraints] + [i.name for i in table.indexes]
        assert all(isinstance(n, str) and n.split("_")[0] in {"pk", "fk", "uq", "ix", "ck"} for n in names), table.name
        assert all(len(n) <= 63 for n in names), table.name  # PostgreSQL's identifier limit
