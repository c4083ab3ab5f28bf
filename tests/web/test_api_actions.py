"""The state-changing routes through the real app on SQLite and PostgreSQL: a replay previewed (nothing
changes) then run as a job, one raw record corrected and mapped again, a disclosure withdrawn, and
delivery and reconciliation refused with what to do while no credit platform is registered — each
audited with the token's name, each refused (403) to a role the rights table does not give it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.security.accounts import Accounts
from jnx.security.audit_sql import SqlAuditStore
from jnx.settings import Settings
from jnx.store.models import Disclosure, MappingErrorEntry, MappingErrorStatus, RawRecord, StandardRecord
from tests.commands.conftest import Jnx
from tests.web.api_support import _auth
from tests.web.test_api_runs_jobs import wait_for

SYSTEM = "jn-case-handling"

pytestmark = pytest.mark.usefixtures("cli_on_the_same_database")


def _audited(engine: Engine, action: str) -> list[Any]:
    return [e for e in SqlAuditStore(engine).entries() if e.action == action]


def _open(engine: Engine) -> list[MappingErrorEntry]:
    with Session(engine) as session:
        return list(session.scalars(select(MappingErrorEntry).where(MappingErrorEntry.status == MappingErrorStatus.OPEN)))


def test_a_replay_is_previewed_then_run_as_a_job(token: Callable[..., str], client: TestClient, migrated_engine: Engine,
                                                 data: Any, jnx: Jnx) -> None:
    headers = _auth(token("fixer"))
    group = client.get("/api/v1/errors/groups", headers=headers).json()["groups"][0]
    waiting = len(_open(migrated_engine))
    preview = client.get("/api/v1/errors/replay-preview", params={"group": group["group"]}, headers=headers)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["selection"]["records"] == group["records"] == 1 and shown["mapped"] == 1 and shown["still_broken"] == 1
    assert len(_open(migrated_engine)) == waiting  # the preview changed nothing
    dry = jnx("errors", "replay", "--group", group["group"], "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json() == shown and len(_open(migrated_engine)) == waiting  # the CLI's dry run: the same document
    assert client.get("/api/v1/errors/replay-preview", params={"system": "none-such"}, headers=headers).status_code == 404
    assert client.get("/api/v1/errors/replay-preview", params={"table": "x@1"}, headers=headers).status_code in (400, 403)

    assert client.post("/api/v1/errors/replay", json={}, headers=headers).status_code == 422  # a group or a system
    answer = client.post("/api/v1/errors/replay", json={"group": group["group"]}, headers=headers)
    assert answer.status_code == 202, answer.text
    done = wait_for(client, answer.headers["Location"], headers)
    assert done["status"] == "succeeded" and done["kind"] == "errors.replay"
    assert done["result"]["records"] == 1 and done["result"]["still_broken"] == 1 and done["done"] == done["total"] == 1
    assert _audited(migrated_engine, "errors.replayed")[-1].actor.endswith("/token:fixer")


def test_one_raw_record_is_corrected_and_mapped_again(token: Callable[..., str], client: TestClient, migrated_engine: Engine,
                                                      data: Any) -> None:
    headers = _auth(token("fixer"))
    with Session(migrated_engine) as session:  # the record whose 处罚类别 is "没有这种处罚"
        broken = next(e for e in session.scalars(select(MappingErrorEntry).join(RawRecord).where(
            MappingErrorEntry.status == MappingErrorStatus.OPEN, RawRecord.source_key.endswith("E"))))
    before = client.get(f"/api/v1/errors/{broken.id}/raw", headers=headers).json()["raw"]
    with Session(migrated_engine) as session:
        records = len(session.scalars(select(StandardRecord.id)).all())
    assert client.post(f"/api/v1/errors/{broken.id}/correct", json={"set": {}, "reason": "r"}, headers=headers).status_code == 422
    unknown = client.post(f"/api/v1/errors/{broken.id}/correct", json={"set": {"no_such": "x"}, "reason": "r"}, headers=headers)
    assert unknown.status_code == 400 and "no_such" in unknown.json()["detail"]
    answer = client.post(f"/api/v1/errors/{broken.id}/correct", json={"set": {"cflb": "警告"}, "reason": "the clerk's typo"},
                         headers=headers)
    assert answer.status_code == 200, answer.text
    corrected = answer.json()
    assert corrected["fixed"] and corrected["new"] == 1 and corrected["errors"] == [] and corrected["changed"] == ["cflb"], json.dumps(corrected, ensure_ascii=False)
    assert corrected["original_raw_record_id"] == before["id"] and corrected["record_id"]
    with Session(migrated_engine) as session:
        old = session.get(RawRecord, before["id"])
        fresh = session.get(RawRecord, corrected["raw_record_id"])
        assert old is not None and fresh is not None and old.payload != fresh.payload  # the received record is kept as it was
        assert fresh.source_key == old.source_key
        assert session.get(MappingErrorEntry, broken.id).status is MappingErrorStatus.RESOLVED  # type: ignore[union-attr]
        assert len(session.scalars(select(StandardRecord.id)).all()) == records + 1  # mapped and stored this time
    entry = _audited(migrated_engine, "errors.corrected")[-1]
    assert entry.actor.endswith("/token:fixer") and entry.details["fields"] == ["cflb"] and "警告" not in str(entry.details)
    assert entry.details["via"] == "api"
    again = client.post(f"/api/v1/errors/{broken.id}/correct", json={"set": {"cflb": "警告"}, "reason": "twice"}, headers=headers)
    assert again.status_code == 409 and "already" in again.json()["detail"]


def test_a_disclosure_is_withdrawn_with_a_reason(token: Callable[..., str], client: TestClient, settings: Settings,
                                                  migrated_engine: Engine, data: Any) -> None:
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "reader", roles=["supervisor"], password="Str0ng-pass-word")
    headers = _auth(token("desk"))
    listed = client.get("/api/v1/disclosures", headers=headers).json()["disclosures"]
    target = listed[0]["id"]
    reader = _auth(token("reader-token", user="reader"))
    assert client.post(f"/api/v1/disclosures/{target}/withdraw", json={"reason": "决定被撤销"}, headers=reader).status_code == 403
    assert client.post(f"/api/v1/disclosures/{target}/withdraw", json={"reason": " "}, headers=headers).status_code == 422
    answer = client.post(f"/api/v1/disclosures/{target}/withdraw", json={"reason": "决定被撤销"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == target
    shown = client.get(f"/api/v1/disclosures/{target}", headers=headers).json()
    assert shown["status"] in ("withdrawn", "pending") and shown["revisions"]
    with Session(migrated_engine) as session:
        assert session.get(Disclosure, target) is not None
    assert _audited(migrated_engine, "disclosure.withdraw")[-1].actor.endswith("/token:desk")
    assert _audited(migrated_engine, "access.denied")[-1].details["action"] == "disclosures.withdraw"
    assert client.post("/api/v1/disclosures/999999/withdraw", json={"reason": "r"}, headers=headers).status_code == 404


def test_delivery_and_reconciliation_say_what_to_do_without_a_credit_platform(
        token: Callable[..., str], client: TestClient, settings: Settings, migrated_engine: Engine, data: Any, jnx: Jnx) -> None:
    headers = _auth(token())
    for path in ("/api/v1/disclosures/deliver", "/api/v1/reconcile/credit"):
        answer = client.post(path, headers=headers)
        assert answer.status_code == 409, answer.text  # the server's configuration is in the way, not the request
        assert "credit" in answer.json()["detail"] and "jnx systems register" in answer.json()["hint"]
    assert client.get("/api/v1/jobs", headers=headers).json()["jobs"] == []  # refused before any job was made
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "ops", roles=["operator"], password="Str0ng-pass-word")
    operator = _auth(token("ops-token", user="ops"))
    assert client.post("/api/v1/disclosures/deliver", headers=operator).status_code == 403  # the credit operator's
    assert client.post("/api/v1/reconcile/credit", headers=operator).status_code == 403


def test_a_disclosure_is_corrected_through_its_records_source_content(token: Callable[..., str], client: TestClient,
                                                                       migrated_engine: Engine, data: Any) -> None:
    first, _ = data
    headers = _auth(token("desk"))
    target = next(d for d in client.get("/api/v1/disclosures", headers=headers).json()["disclosures"]
                  if d["business_key"].startswith(first["cfjgdm"] + "|"))
    with Session(migrated_engine) as session:
        found = session.get(Disclosure, target["id"])
        assert found is not None
        record_id, revision = found.standard_record_id, found.current_revision
    text = first["cfnr"] + "（更正）"
    answer = client.post(f"/api/v1/disclosures/{target['id']}/correct", json={"set": {"cfnr": text}, "reason": "处罚内容笔误"},
                         headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["fixed"] and answer.json()["record_id"] == record_id and answer.json()["revised"] == 1
    with Session(migrated_engine) as session:
        record = session.get(StandardRecord, record_id)
        assert record is not None and "（更正）" in str(record.data)
        again = session.get(Disclosure, target["id"])
        assert again is not None and again.current_revision >= revision
    assert _audited(migrated_engine, "errors.corrected")[-1].actor.endswith("/token:desk")
    same = client.post(f"/api/v1/records/{record_id}/correct", json={"set": {"cfnr": text}, "reason": "again"}, headers=headers)
    assert same.status_code == 400 and "does not change" in same.json()["detail"]
    assert client.post("/api/v1/disclosures/999999/correct", json={"set": {"cfnr": "x"}, "reason": "r"},
                       headers=headers).status_code == 404
