"""Mapping tables and keys through the real app on SQLite and PostgreSQL: the same documents as
`jnx mappings list|show|diff --json` and `jnx keys list|export-public --json`, a trial mapping that
stores nothing, publishing refused to an operator and done (audited) by the system administrator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.security.accounts import Accounts
from jnx.security.audit_sql import SqlAuditStore
from jnx.settings import Settings
from tests.commands.conftest import Jnx
from tests.web.api_support import _auth

pytestmark = pytest.mark.usefixtures("cli_on_the_same_database")


def test_mapping_tables_answer_as_the_cli_prints_them(token: Callable[..., str], client: TestClient, jnx: Jnx) -> None:
    headers = _auth(token())
    listed = client.get("/api/v1/mappings", headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.json() == jnx("mappings", "list", "--json").json() and listed.json()["tables"]
    first = listed.json()["tables"][0]
    shown = client.get(f"/api/v1/mappings/{first['table']}", headers=headers).json()
    assert shown == jnx("mappings", "show", first["table"], "--json").json() and shown["hash"]
    same = client.get(f"/api/v1/mappings/{first['table']}/diff/{first['table']}", headers=headers).json()
    assert same == jnx("mappings", "diff", first["table"], first["table"], "--json").json() and same["empty"] is True
    assert client.get("/api/v1/mappings/no-such-table@1", headers=headers).status_code == 404


def test_a_trial_mapping_reports_each_record_and_its_errors(token: Callable[..., str], client: TestClient) -> None:
    headers = _auth(token())
    table = next(t["table"] for t in client.get("/api/v1/mappings", headers=headers).json()["tables"] if "penalty" in t["table"])
    answer = client.post(f"/api/v1/mappings/{table}/test", json={"records": [{"ajbh": "X1"}, {}]}, headers=headers)
    assert answer.status_code == 200, answer.text
    run = answer.json()
    assert len(run["outcomes"]) == 2 and all(o["issues"] for o in run["outcomes"]) and run["table"] == table
    assert client.post(f"/api/v1/mappings/{table}/test", json={"records": []}, headers=headers).status_code == 422


def test_publishing_is_the_system_administrators_and_audited(token: Callable[..., str], client: TestClient, settings: Settings,
                                                             migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "sysadmin", roles=["system-admin"], password="Str0ng-pass-word")
    operator = _auth(token())
    table = next(t for t in client.get("/api/v1/mappings", headers=operator).json()["tables"] if t["path"])
    document = yaml.safe_load(Path(table["path"]).read_text(encoding="utf-8"))
    document["version"] = int(document["version"]) + 100
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    assert client.post("/api/v1/mappings", json={"table": text}, headers=operator).status_code == 403
    admin = _auth(token("admin-token", user="sysadmin"))
    answer = client.post("/api/v1/mappings", json={"table": text}, headers=admin)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "published" and answer.json()["table"] == f"{document['name']}@{document['version']}"
    assert client.post("/api/v1/mappings", json={"table": text}, headers=admin).json()["status"] == "unchanged"
    document["description"] = "other content under the same version"
    changed = client.post("/api/v1/mappings", json={"table": yaml.safe_dump(document, allow_unicode=True)}, headers=admin)
    assert changed.status_code in (400, 409, 422) and changed.json()["hint"]
    published = [e for e in SqlAuditStore(migrated_engine).entries() if e.action == "mapping.published"]
    assert len(published) == 1 and published[0].actor.endswith("/token:admin-token")
    assert client.get(f"/api/v1/mappings/{answer.json()['table']}", headers=operator).status_code == 200


def test_keys_are_listed_and_exported_public_as_the_cli_does(token: Callable[..., str], client: TestClient, jnx: Jnx,
                                                             monkeypatch: object) -> None:
    headers = _auth(token())
    assert client.get("/api/v1/keys", headers=headers).json() == jnx("keys", "list", "--json").json()
    import os

    os.environ["JNX_KEY_PASSPHRASE"] = "a passphrase for the test keys"
    try:
        made = jnx("keys", "generate", "--json")
        assert made.code == 0, made.err
    finally:
        del os.environ["JNX_KEY_PASSPHRASE"]
    listed = client.get("/api/v1/keys", headers=headers).json()
    assert listed == jnx("keys", "list", "--json").json() and listed["keys"]
    kid = listed["keys"][0]["kid"]
    jwk = client.get(f"/api/v1/keys/{kid}", headers=headers).json()
    assert jwk == jnx("keys", "export-public", kid, "--json").json() and jwk["jwk"]["kid"] == kid and "d" not in jwk["jwk"]
    pem = client.get(f"/api/v1/keys/{kid}", params={"format": "pem"}, headers=headers).json()
    assert pem["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert client.get("/api/v1/keys/no-such-kid", headers=headers).status_code == 404
