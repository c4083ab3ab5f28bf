"""The double-random system's objects known by a 15-digit 注册号: queued as bad credit codes under
double_random.inspection@1, stored after the system is moved to @2 and the queue replayed — 个体工商户
and enterprises alike, with the placeholder credit code and their 注册号 (REFERENCE §1.5 rule 2)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import PayloadEncoding, RawRecord
from jnx.adapters.config import MappingSecrets
from jnx.adapters.factory import Adapters
from jnx.adapters.testing import FakePuller
from jnx.codesets import USCC_PLACEHOLDER
from jnx.exchange import error_queue
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunService
from jnx.exchange.wiring import table_catalog
from jnx.sandbox.inspection_data import inspections
from jnx.sandbox.systems import load as load_registration
from jnx.settings import Settings
from jnx.standard.dictionary import default_dictionary
from jnx.store.models import RawRecord as StagedRecord
from jnx.store.models import StandardRecord

SYSTEM = "jn-double-random"


def _register(engine: Engine, version: int) -> None:
    doc = load_registration("double-random.yaml")
    doc["mappings"] = {"inspection": f"double_random.inspection@{version}"}
    with Session(engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(doc, "double-random.yaml"))


def _feed() -> list[RawRecord]:
    results = inspections(seed=11, results=600)["results"][0]
    return [RawRecord(r.key, "inspection", dict(r.fields), PayloadEncoding.JSON, f"{r.fields['updateTime']:015d}")
            for r in results]


def _raw_code(raw: StagedRecord) -> str:
    return str(json.loads(raw.payload)["objCode"])


def _registration_number_group(session: Session, version: int) -> list[error_queue.ErrorGroup]:
    return [g for g in error_queue.groups(session, system=SYSTEM)
            if g.table == f"double_random.inspection@{version}" and g.field == "party_credit_code"]


def test_replaying_with_version_2_stores_every_registration_number_object(migrated_engine: Engine, tmp_path: Path) -> None:
    feed = _feed()
    numbers = Counter("个体工商户" if r.payload["objCode"][6] in "6789" else "企业"  # type: ignore[index]
                      for r in feed if len(r.payload["objCode"]) == 15)  # type: ignore[index,arg-type]
    assert numbers["个体工商户"] > 10 and numbers["企业"] > 10
    _register(migrated_engine, 1)
    service = RunService(
        migrated_engine, tables=table_catalog(Settings(home=tmp_path)), dictionary=default_dictionary(),
        secrets=MappingSecrets({}), adapters_factory=lambda config, secrets: Adapters(pullers={"inspection": FakePuller(feed)}),
    )
    service.run_now(SYSTEM)
    with Session(migrated_engine) as session:
        before = {g.rule: g for g in _registration_number_group(session, 1)}
        # every 注册号 is a credit code of the wrong length under @1, with the truncated credit codes of the feed
        assert before["uscc.length"].records >= numbers.total()
        queued = {e["raw_record"] for e in error_queue.list_errors(session, group=before["uscc.length"].group, limit=10_000)}

    _register(migrated_engine, 2)
    with Session(migrated_engine) as session, session.begin():
        report = error_queue.replay(service, session, group=before["uscc.length"].group)
    assert report.records == len(queued)

    with Session(migrated_engine) as session:
        assert all(g.table != "double_random.inspection@1" or g.rule != "uscc.length" for g in error_queue.groups(session)), \
            "the 注册号 group of version 1 is empty"
        after = {g.rule: g.records for g in _registration_number_group(session, 2)}
        # what stays: only the feed's truncated credit codes, which are bad credit codes under any version
        assert "uscc.placeholder" not in after
        assert after.get("uscc.length", 0) == before["uscc.length"].records - numbers.total()
        open_errors = error_queue.list_errors(session, system=SYSTEM, limit=100_000)
        code_of = {raw.id: _raw_code(raw) for raw in session.scalars(select(StagedRecord).where(StagedRecord.system_id == SYSTEM))}
        registered = {raw_id for raw_id, code in code_of.items() if len(code) == 15}
        assert not [e for e in open_errors if e["raw_record"] in registered and e["field"].startswith(("party", "business"))]
        still_open = {e["raw_record"] for e in open_errors}  # for another cause: an unknown 检查方式 or 检查结果 code
        stored = [r.data for r in session.scalars(select(StandardRecord).where(StandardRecord.record_type == "inspection"))
                  if r.data.get("business_registration_no")]
    assert len(stored) == len(registered - still_open) > 20
    kinds = Counter((d["party_type"], d["party_credit_code"]) for d in stored)
    assert set(kinds) == {("个体工商户", USCC_PLACEHOLDER), ("法人及非法人组织", USCC_PLACEHOLDER)}
    assert all(("个体工商户" if d["business_registration_no"][6] in "6789" else "法人及非法人组织") == d["party_type"] for d in stored)
