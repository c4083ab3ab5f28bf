"""Standard records through the real app on SQLite and PostgreSQL: cursor pages newest first, a filter
by business key, one record's lineage, and another department's record is 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.security.accounts import Accounts
from jnx.settings import Settings
from tests.web.api_support import _auth

pytestmark = pytest.mark.usefixtures("cli_on_the_same_database")


def test_records_page_newest_first_and_show_their_lineage(token: Callable[..., str], client: TestClient, settings: Settings,
                                                          migrated_engine: Engine, data: Any) -> None:
    first, other = data
    headers = _auth(token())
    whole = client.get("/api/v1/records", headers=headers).json()
    assert whole["count"] == 2 and whole["next_cursor"] is None
    page = client.get("/api/v1/records", params={"limit": 1}, headers=headers).json()
    rest = client.get("/api/v1/records", params={"limit": 1, "cursor": page["next_cursor"]}, headers=headers).json()
    assert page["records"] + rest["records"] == whole["records"] and rest["next_cursor"] is None
    assert whole["records"][0]["id"] > whole["records"][1]["id"]
    mine = client.get("/api/v1/records", params={"key": first["cfjgdm"]}, headers=headers).json()["records"]
    assert len(mine) == 1 and mine[0]["business_key"].startswith(first["cfjgdm"])
    shown = client.get(f"/api/v1/records/{mine[0]['id']}", headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["raw_records"] and shown.json()["revisions"] and shown.json()["disclosures"]

    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "officer", roles=["department-officer"], password="Str0ng-pass-word", department=first["cfjgdm"])
    officer = _auth(token("officer-token", user="officer"))
    seen = client.get("/api/v1/records", headers=officer).json()["records"]
    assert [r["id"] for r in seen] == [mine[0]["id"]]
    foreign = next(r for r in whole["records"] if r["id"] != mine[0]["id"])
    assert client.get(f"/api/v1/records/{foreign['id']}", headers=officer).status_code == 404
