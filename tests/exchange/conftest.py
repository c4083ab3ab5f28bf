"""Fixtures of the 双公示 tests (disclosures, outbox, reconciliation): standard records stored the way a
run stores them, the rules with a fixed today, the sandbox credit platform on loopback and its
registration as the ``credit`` system."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jnx.adapters.config import MappingSecrets
from jnx.exchange.ingest import StoredRecord, canonical, content_hash
from jnx.exchange.registry import RegisteredSystem, SystemRegistry, parse_registration
from jnx.mappings.service import open_registry
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.derive import DisclosureDeriver, DisclosureRules
from jnx.sandbox.runner import Credentials, Sandbox, SandboxConfig
from jnx.store.db import session_factory
from jnx.store.models import StandardRecord

SAMPLES = Path(__file__).parents[1] / "standard" / "samples"
TODAY = dt.date(2026, 11, 25)
CREDIT_SECRETS = MappingSecrets({"CREDIT_TOKEN": Credentials().credit_token})
FAST_RETRY = {"attempts": 3, "initial": 0.001, "maximum": 0.01, "max_retry_after": 0.05}


def sample(name: str, **changes: Any) -> dict[str, Any]:
    """A standard record from tests/standard/samples, with fields changed (None removes one)."""
    data = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    data.pop("record_type", None)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def store(session: Session, record_type: str, data: dict[str, Any]) -> StoredRecord:
    """Store (or revise) a standard record as a run does; the StoredRecord the hook is given."""
    data = canonical(data)
    key = f"{data['authority_credit_code']}|{data['document_number']}"
    digest = content_hash(data)
    row = session.scalars(select(StandardRecord).where(StandardRecord.record_type == record_type,
                                                       StandardRecord.business_key == key)).one_or_none()
    if row is None:
        row = StandardRecord(record_type=record_type, business_key=key, current_revision=1, content_hash=digest, data=data,
                             decision_date=dt.date.fromisoformat(data["decision_date"]))
        session.add(row)
    else:
        row.current_revision += 1
        row.content_hash, row.data = digest, data
    session.flush()
    return StoredRecord(row.id, record_type, key, row.current_revision, data)


@pytest.fixture(scope="session")
def tables() -> Any:
    return open_registry(None)


@pytest.fixture(scope="session")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar.load()


@pytest.fixture
def rules(tables: Any, calendar: WorkdayCalendar) -> DisclosureRules:
    return DisclosureRules(calendar=calendar, tables=tables, today=lambda: TODAY)


@pytest.fixture
def sessions(migrated_engine: Engine) -> Any:
    return session_factory(migrated_engine)


def case_system() -> RegisteredSystem:
    """The source system the hook is told about (only its department matters to the mapping)."""
    registration = parse_registration(
        {"id": "jn-case", "name": "济宁市行政执法网上办案系统", "department": "济宁市司法局",
         "department_credit_code": "11370800004180002M", "region": "370800", "kind": "case_handling",
         "adapter": {"protocol": "rest", "lines": [{"url": "http://127.0.0.1:9/"}]}},
        "test",
    )
    return RegisteredSystem(registration.id, registration.name, registration.department,
                            registration.department_credit_code, registration.region, registration.kind.value,
                            "rest", {}, None, True, registration, dt.datetime.now(dt.UTC))


def derive(sessions: Any, rules: DisclosureRules, *records: tuple[str, dict[str, Any]]) -> DisclosureDeriver:
    """Store records and run the hook on them in one transaction, as a run's page does."""
    deriver = DisclosureDeriver(rules)
    with sessions.begin() as session:
        stored = [store(session, record_type, data) for record_type, data in records]
        deriver.on_stored(session, case_system(), stored)
    return deriver


# ---------------------------------------------------------------- the credit platform
@pytest.fixture(scope="session")
def credit_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=11, records=60, port_base=0)) as sandbox:
        yield sandbox


@pytest.fixture
def credit(credit_sandbox: Sandbox) -> Iterator[Sandbox]:
    credit_sandbox.clear_faults()
    yield credit_sandbox
    credit_sandbox.clear_faults()


def credit_registration(sandbox: Sandbox, **settings: str) -> dict[str, Any]:
    """The credit platform registered as a system of kind ``credit`` (push only); in clear
    (``envelope: none``) unless ``settings`` say how to seal — the sandbox of these tests takes plain JSON."""
    if "envelope_to" not in settings and "envelope" not in settings:
        settings = {**settings, "envelope": "none"}
    lines = [{"url": sandbox.url("credit", "primary")}, {"url": sandbox.url("credit", "backup")}]
    return {
        "id": "credit-jn", "name": "信用济宁 双公示报送接口", "department": "济宁市发展和改革委员会",
        "department_credit_code": "11370800004180002M", "region": "370800", "kind": "credit",
        "mappings": {"license": "credit.license@1", "penalty": "credit.penalty@1"},
        "settings": dict(settings),
        "adapter": {
            "protocol": "rest", "lines": lines, "retry": FAST_RETRY,
            "timeouts": {"connect": 2, "read": 2},
            "health": {"failures_before_down": 2, "cooldown": 60},
            "auth": {"kind": "token", "token": {"env": "CREDIT_TOKEN"}},
            "push": {
                "paths": {"license": "/api/v1/sgs/xzxk/batch", "penalty": "/api/v1/sgs/xzcf/batch",
                          "license_withdrawal": "/api/v1/sgs/xzxk/withdraw",
                          "penalty_withdrawal": "/api/v1/sgs/xzcf/withdraw"},
                "batch_extra": {"batch_no": "{batch_no}", "record_count": "{record_count}",
                                "report_unit": "济宁市司法局", "report_unit_code": "11370800004180002M"},
            },
        },
    }


def register_credit(sessions: Any, sandbox: Sandbox, **settings: str) -> RegisteredSystem:
    with sessions.begin() as session:
        system, _ = SystemRegistry().register(session, parse_registration(credit_registration(sandbox, **settings), "test"))
    return system
