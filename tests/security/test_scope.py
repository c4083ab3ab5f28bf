"""Row scope on SQLite and PostgreSQL: a department (and region) sees its own systems, errors, records
and disclosures, and nothing of another department's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jnx.security.scope import RowScope
from jnx.store.models import (
    Disclosure,
    DisclosureKind,
    MappingErrorEntry,
    RawRecord,
    SourceSystem,
    StandardRecord,
    SystemKind,
)
from tests.security.accounts_support import DEPT_A, DEPT_B


def _system(session: Session, system_id: str, department: str, region: str) -> None:
    session.add(SourceSystem(
        id=system_id, department_name=system_id, department_credit_code=department, region_code=region,
        kind=SystemKind.CASE_HANDLING, protocol="rest", registration={}, mapping_name="m", mapping_version="1",
    ))
    session.flush()
    raw = RawRecord(system_id=system_id, source_key=system_id, record_type="penalty", content_hash="0" * 64,
                    payload=b"{}", encoding="utf-8")
    session.add(raw)
    session.flush()
    session.add(MappingErrorEntry(
        raw_record_id=raw.id, system_id=system_id, mapping_name="m", mapping_version="1", record_type="penalty",
        field="f", rule="r", message="m", group_key="0" * 64,
    ))


def _record(session: Session, department: str, number: str) -> None:
    record = StandardRecord(record_type="penalty", business_key=f"{department}|{number}", content_hash="0" * 64, data={})
    session.add(record)
    session.flush()
    session.add(Disclosure(kind=DisclosureKind.PENALTY, standard_record_id=record.id, business_key=record.business_key,
                           decision_date=dt.date(2026, 12, 1)))


def seeded(engine: Engine) -> Session:
    session = Session(engine)
    _system(session, "a-city", DEPT_A, "370800")
    _system(session, "a-rencheng", DEPT_A, "370811")
    _system(session, "b-city", DEPT_B, "370800")
    _record(session, DEPT_A, "济罚〔2026〕1号")
    _record(session, DEPT_B, "济罚〔2026〕2号")
    _record(session, DEPT_A[:-1] + "%", "济罚〔2026〕3号")  # a LIKE wildcard in a key must not widen the scope
    session.commit()
    return session


def test_a_department_sees_its_systems_errors_records_and_disclosures(migrated_engine: Engine) -> None:
    with seeded(migrated_engine) as session:
        own = RowScope.own(DEPT_A)
        assert sorted(session.scalars(select(SourceSystem.id).where(own.systems()))) == ["a-city", "a-rencheng"]
        assert sorted(session.scalars(select(MappingErrorEntry.system_id).where(own.errors()))) == ["a-city", "a-rencheng"]
        assert sorted(session.scalars(select(RawRecord.system_id).where(own.raw_records()))) == ["a-city", "a-rencheng"]
        assert list(session.scalars(select(StandardRecord.business_key).where(own.records()))) == [f"{DEPT_A}|济罚〔2026〕1号"]
        assert list(session.scalars(select(Disclosure.business_key).where(own.disclosures()))) == [f"{DEPT_A}|济罚〔2026〕1号"]


def test_a_county_user_sees_only_the_countys_systems(migrated_engine: Engine) -> None:
    with seeded(migrated_engine) as session:
        county = RowScope.own(DEPT_A, "370811")
        assert list(session.scalars(select(SourceSystem.id).where(county.systems()))) == ["a-rencheng"]
        assert list(session.scalars(select(MappingErrorEntry.system_id).where(county.errors()))) == ["a-rencheng"]
        city = RowScope.own(DEPT_A, "370800")
        assert sorted(session.scalars(select(SourceSystem.id).where(city.systems()))) == ["a-city", "a-rencheng"]
        assert county.sees_system(DEPT_A, "370811") and not county.sees_system(DEPT_A, "370800")


def test_everything_and_nothing(migrated_engine: Engine) -> None:
    with seeded(migrated_engine) as session:
        assert len(session.scalars(select(SourceSystem.id).where(RowScope.all().systems())).all()) == 3
        nobody = RowScope.own(None)
        assert session.scalars(select(SourceSystem.id).where(nobody.systems())).all() == []
        assert session.scalars(select(Disclosure.id).where(nobody.disclosures())).all() == []
        assert not nobody.sees_business_key(f"{DEPT_A}|x")
