"""GET /api/v1/indicators over HTTP: the same service as `jnx indicators`, refused to a role without
``indicators.read``; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jnx.security.tokens import Tokens
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.web.accounts_api import AccountsGateway
from jnx.web.indicators_api import indicators_router
from tests.indicators.test_compute import A, B, build
from tests.security.accounts_support import Clock, fast_settings
from tests.web.test_session_api import add


@pytest.fixture
def gateway(migrated_engine: Engine) -> AccountsGateway:
    with session_factory(migrated_engine).begin() as session:
        build(session)
    return AccountsGateway(migrated_engine, Settings(accounts=fast_settings()), clock=Clock())


@pytest.fixture
def client(gateway: AccountsGateway) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(indicators_router(gateway))
    with TestClient(app) as test_client:
        yield test_client


def _token(gateway: AccountsGateway, username: str, role: str, **kwargs: str) -> dict[str, str]:
    add(gateway, username, role, **kwargs)
    with session_factory(gateway.engine).begin() as session:
        token = Tokens(session, gateway.settings.accounts, note=lambda *_: None, clock=gateway.clock).create(
            "cli:test", username, "t").token
    return {"Authorization": f"Bearer {token}"}


def test_the_supervisor_reads_the_months_indicators(client: TestClient, gateway: AccountsGateway) -> None:
    headers = _token(gateway, "sfj", "supervisor")
    answer = client.get("/api/v1/indicators", params={"month": "2026-10"}, headers=headers)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    by = {d["department"]: d for d in data["departments"]}
    assert (by[A]["records"], by[A]["disclosed"], by[B]["blocked"]) == (3, 2, 1)
    assert by[A]["fines_wan"] == "1.434567"
    for row in [data["total"], *data["departments"]]:
        assert all(row[k] is None or 0 <= row[k] <= 1 for k in ("timeliness", "completeness", "compliance"))
    listed = client.get("/api/v1/indicators/missing/records", params={"month": "2026-10", "department": A}, headers=headers)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert client.get("/api/v1/indicators/definitions", headers=headers).json()["indicators"]


def test_no_login_is_401_and_a_department_officer_403(client: TestClient, gateway: AccountsGateway) -> None:
    assert client.get("/api/v1/indicators").status_code == 401
    headers = _token(gateway, "dept", "department-officer", department=A)
    assert client.get("/api/v1/indicators", headers=headers).status_code == 403


def test_a_bad_month_is_a_clear_400(client: TestClient, gateway: AccountsGateway) -> None:
    answer = client.get("/api/v1/indicators", params={"month": "10/2026"}, headers=_token(gateway, "sfj", "supervisor"))
    assert answer.status_code in (400, 422) and ("YYYY-MM" in answer.text or "month" in answer.text)
