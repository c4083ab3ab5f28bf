"""``/api/v1`` through the real app (Starlette's test client, httpx underneath), on SQLite and
PostgreSQL: tokens, 401 without one, the same documents as the CLI's ``--json``, cursor pages,
department scope (another department's row is 404, as a missing one is), problem answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.security.accounts import Accounts
from jnx.settings import Settings
from tests.commands.conftest import Jnx
from tests.web.api_support import _auth

pytestmark = pytest.mark.usefixtures("cli_on_the_same_database")


def test_the_openapi_document_is_3_1_and_every_data_route_needs_a_token(token: Callable[..., str], client: TestClient, settings: Settings,
                                                                        migrated_engine: Engine) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    answer = client.get("/api/v1/systems")
    assert answer.status_code == 401 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 401 and answer.json()["hint"]
    assert client.get("/api/v1/systems", headers=_auth("jnx_not-a-token")).status_code == 401
    assert client.get("/api/v1/systems", headers=_auth(token())).status_code == 200
    for path, operations in document["paths"].items():
        if "get" in operations and "{" not in path and path.startswith("/api/v1/") and not path.startswith(("/api/v1/session", "/api/v1/health")):
            assert client.get(path).status_code in (401, 405), path


def test_a_revoked_token_is_refused(client: TestClient, token: Callable[..., str], jnx: Jnx) -> None:
    token = token("short")
    assert client.get("/api/v1/systems", headers=_auth(token)).status_code == 200
    listed = jnx("tokens", "list", "--json").json()["tokens"]
    assert jnx("tokens", "revoke", str(next(t["id"] for t in listed if t["name"] == "short"))).code == 0
    assert client.get("/api/v1/systems", headers=_auth(token)).status_code == 401


def test_error_groups_are_the_cli_s_document(token: Callable[..., str], client: TestClient, settings: Settings, migrated_engine: Engine,
                                             data: Any, jnx: Jnx, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = jnx("errors", "groups", "--json")
    assert cli.code == 0, cli.err
    api = client.get("/api/v1/errors/groups", headers=_auth(token()))
    assert api.status_code == 200
    assert api.json() == cli.json() and api.json()["groups"]


def test_disclosures_page_through_as_many_as_the_cli_lists(token: Callable[..., str], client: TestClient, settings: Settings, migrated_engine: Engine,
                                                           data: Any, jnx: Jnx, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = jnx("disclosures", "list", "--json").json()["disclosures"]
    headers, seen, cursor = _auth(token()), [], None
    while True:
        page = client.get("/api/v1/disclosures", params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=headers).json()
        seen += page["disclosures"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(cli) == 2 and seen == cli
    bad = client.get("/api/v1/disclosures", params={"cursor": "not-a-cursor"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["code"] == "BadCursor"


def test_a_department_officer_sees_only_its_department_and_404_for_another(token: Callable[..., str],
    client: TestClient, settings: Settings, migrated_engine: Engine, data: Any
) -> None:
    first, other = data
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "officer", roles=["department-officer"], password="Str0ng-pass-word", department=first["cfjgdm"])
    headers = _auth(token("officer-token", user="officer"))
    listed = client.get("/api/v1/disclosures", headers=headers).json()["disclosures"]
    assert listed and all(d["business_key"].startswith(first["cfjgdm"] + "|") for d in listed)
    everyone = client.get("/api/v1/disclosures", headers=_auth(token())).json()["disclosures"]
    foreign = next(d for d in everyone if not d["business_key"].startswith(first["cfjgdm"] + "|"))
    assert client.get(f"/api/v1/disclosures/{foreign['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/disclosures/{listed[0]['id']}", headers=headers).status_code == 200
    assert client.get("/api/v1/users", headers=headers).status_code == 403  # users are the security administrator's


def test_a_state_changing_call_is_audited_with_the_token_s_name(token: Callable[..., str], client: TestClient, settings: Settings,
                                                               migrated_engine: Engine, data: Any) -> None:
    headers = _auth(token("scheduler"))
    answer = client.post("/api/v1/errors/ignore", json={"reason": "known source defect", "system": "jn-case-handling"},
                         headers=headers)
    assert answer.status_code == 200 and answer.json()["ignored"] >= 1
    from jnx.security.audit_sql import SqlAuditStore

    entries = [e for e in SqlAuditStore(migrated_engine).entries() if e.action == "errors.ignored"]
    assert entries and entries[-1].actor.endswith("/token:scheduler")  # the owner and the token's name


def test_the_interactive_docs_load_only_from_this_server(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = [part.split('"')[1] for part in page.text.split("src=")[1:]] + [part.split('"')[1] for part in page.text.split("href=")[1:]]
    assert sources and all(s.startswith("/api/") for s in sources), sources
    for asset in sources:
        assert client.get(asset).status_code == 200, asset


def test_a_problem_never_shows_an_id_number(token: Callable[..., str], client: TestClient, settings: Settings, migrated_engine: Engine) -> None:
    answer = client.get("/api/v1/systems/370812198109062037", headers=_auth(token()))
    assert answer.status_code == 404
    assert "370812198109062037" not in json.dumps(answer.json(), ensure_ascii=False)
