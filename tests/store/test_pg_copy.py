"""PostgreSQL's page writes through COPY (jnx.store.queries.pg_copy_insert) store what the
``unnest`` arrays statement stores — the same rows, ids returned, conflicts ignored, JSON kept —
and a unique violation inside COPY's insert is the ConstraintViolationError a run handles."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.publicity.actions import write_many
from jnx.store import queries
from jnx.store.db import storage_errors
from jnx.store.errors import ConstraintViolationError
from jnx.store.models import Run, RunStatus, RunTrigger

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
RUNS = Run.__table__


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    if migrated_engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's; SQLite writes with executemany")
    registration = {"format": 1, "id": "jn-copy", "name": "济宁市测试系统", "department": "济宁市司法局",
                    "department_credit_code": "11370800004180002M", "region": "370800", "kind": "case_handling",
                    "adapter": {"protocol": "rest", "lines": [{"url": "http://127.0.0.1:9/"}]}}
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(registration, "copy.yaml"))
    yield migrated_engine


def _raw(tag: str, n: int) -> list[dict[str, Any]]:
    return [{"system_id": "jn-copy", "run_id": None, "source_key": f"{tag}-{i}", "record_type": "penalty",
             "content_hash": hashlib.sha256(f"{tag}{i}".encode()).hexdigest(), "payload": f'{{"k":"济宁{i}\\u0000"}}'.encode(),
             "encoding": "utf-8", "received_at": NOW} for i in range(n)]


def _by_copy(session: Session, copy: bool) -> None:
    session.connection().connection.info["jnx_temp_tables"] = copy  # what the role's TEMP privilege decides


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "unnest"])
def test_staging_returns_the_ids_of_new_rows_and_ignores_staged_ones(engine: Engine, copy: bool) -> None:
    rows = _raw("A", 5)
    with Session(engine) as session, session.begin():
        _by_copy(session, copy)
        ids = queries.stage(session, rows)
        again = queries.stage(session, rows[:2] + _raw("B", 1))  # two already staged (same page), one new
    assert sorted(ids) == sorted((r["source_key"], r["content_hash"]) for r in rows)
    assert list(again) == [("B-0", hashlib.sha256(b"B0").hexdigest())]
    with Session(engine) as session:
        stored = session.execute(text("SELECT id, source_key, payload, received_at FROM raw_records ORDER BY id")).all()
    assert {row.source_key: row.id for row in stored} == {key: i for (key, _), i in (ids | again).items()}
    assert all(bytes(row.payload).startswith('{"k":"济宁'.encode()) and row.received_at == NOW for row in stored)


def test_copy_and_unnest_store_the_same_rows_json_included(engine: Engine) -> None:
    stored: dict[bool, list[Any]] = {}
    for copy in (True, False):
        tag = "C" if copy else "U"
        with Session(engine) as session, session.begin():
            _by_copy(session, copy)
            records = [{"record_type": "penalty", "business_key": f"{tag}|{i}", "current_revision": 1, "content_hash": "0" * 64,
                        "data": '{"party_name": "济宁示例", "fine_amount": "0.2"}', "decision_date": dt.date(2026, 11, 2),
                        "created_at": NOW, "updated_at": NOW} for i in range(3)]
            ids = queries.insert_standard_records(session, records)
            names = ["system_id", "status", "trigger", "full", "due_at", "attempts", "counts", "created_at"]
            due = NOW + dt.timedelta(minutes=copy)  # one run per system and due time
            write_many(session, RUNS, names, [("jn-copy", RunStatus.QUEUED, RunTrigger.MANUAL, False, due, 0,
                                               {"pulled": 3, "note": f"济宁 {tag}", "nested": [1, None, "x"]}, NOW)])
        assert sorted(ids) == [f"{tag}|{i}" for i in range(3)]
        with Session(engine) as session:
            data = session.execute(text("SELECT data::text, decision_date FROM standard_records WHERE id = :id"),
                                   {"id": ids[f"{tag}|0"]}).one()
            counts = session.scalars(select(RUNS.c.counts).where(RUNS.c.counts["note"].as_string() == f"济宁 {tag}")).one()
        assert counts["note"] == f"济宁 {tag}"
        stored[copy] = [tuple(data), {k: v for k, v in counts.items() if k != "note"}]
    assert stored[True] == stored[False]
    assert stored[True][1]["nested"] == [1, None, "x"] and stored[True][1]["pulled"] == 3


def test_a_unique_violation_inside_copy_is_the_constraint_error_a_run_retries(engine: Engine) -> None:
    record = {"record_type": "penalty", "business_key": "D|1", "current_revision": 1, "content_hash": "0" * 64,
              "data": "{}", "decision_date": None, "created_at": NOW, "updated_at": NOW}
    with Session(engine) as session, session.begin():
        queries.insert_standard_records(session, [record])
    with pytest.raises(ConstraintViolationError) as raised, storage_errors(engine.url), Session(engine) as session, session.begin():
        _by_copy(session, True)
        queries.insert_standard_records(session, [record])
    assert raised.value.constraint == "uq_standard_records_record_type_business_key"
