"""The case-handling REST API: cursor pagination by update time, signed requests, revisions."""

from __future__ import annotations

import time

import pytest
import requests

from jnx.sandbox.runner import Credentials, Sandbox
from jnx.sandbox.signing import sign
from tests.sandbox.conftest import SANDBOX_RECORDS, signed_get

pytestmark = pytest.mark.integration


def pull_all(http: requests.Session, base: str, creds: Credentials, kind: str = "penalties", limit: int = 37,
             updated_after: str | None = None) -> list[dict]:
    items: list[dict] = []
    params: dict[str, str] = {"limit": str(limit)}
    if updated_after:
        params["updated_after"] = updated_after
    while True:
        body = signed_get(http, base, f"/api/v1/{kind}", params, creds).json()
        assert body["code"] == 0
        items += body["data"]["items"]
        if not body["data"]["has_more"]:
            return items
        params = {"limit": str(limit), "cursor": body["data"]["next_cursor"]}


def test_cursor_pagination_returns_every_penalty_exactly_once_in_update_order(sandbox: Sandbox, http, creds) -> None:
    items = pull_all(http, sandbox.url("case_handling"), creds)
    keys = [item["ajbh"] for item in items]
    assert len(keys) == SANDBOX_RECORDS == len(set(keys))
    stamps = [(item["updated_at"], item["ajbh"]) for item in items]
    assert stamps == sorted(stamps)


def test_updated_after_is_an_inclusive_watermark(sandbox: Sandbox, http, creds) -> None:
    items = pull_all(http, sandbox.url("case_handling"), creds, limit=1000)
    middle = items[len(items) // 2]["updated_at"]
    later = pull_all(http, sandbox.url("case_handling"), creds, updated_after=middle)
    assert later[0]["updated_at"] == middle
    assert {i["ajbh"] for i in later} == {i["ajbh"] for i in items if i["updated_at"] >= middle}


def test_coercive_measures_feed_pages_the_same_way(sandbox: Sandbox, http, creds) -> None:
    items = pull_all(http, sandbox.url("case_handling"), creds, kind="coercions", limit=7)
    assert len(items) == SANDBOX_RECORDS // 5 == len({i["qzbh"] for i in items})
    assert {i["qzlx"] for i in items} == {"1", "2"}


def test_backup_line_serves_the_same_data(sandbox: Sandbox, http, creds) -> None:
    primary = signed_get(http, sandbox.url("case_handling"), "/api/v1/penalties", {"limit": "5"}, creds).json()
    backup = signed_get(http, sandbox.url("case_handling", "backup"), "/api/v1/penalties", {"limit": "5"}, creds).json()
    assert primary["data"]["items"] == backup["data"]["items"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda h: h | {"X-Signature": "0" * 64}, 40101),
        (lambda h: h | {"X-Timestamp": str(int(time.time() * 1000) - 301_000)}, 40102),
        (lambda h: h | {"X-App-Key": "someone-else"}, 40104),
        (lambda h: {k: v for k, v in h.items() if k != "X-Nonce"}, 40103),
    ],
    ids=["bad-signature", "stale-timestamp", "unknown-app-key", "missing-nonce"],
)
def test_badly_signed_requests_are_refused_with_401_and_a_json_reason(sandbox: Sandbox, http, creds, mutate, code) -> None:
    path, params = "/api/v1/penalties", {"limit": "1"}
    headers = mutate(sign(creds.case_app_key, creds.case_secret, "GET", path, params))
    answer = http.get(sandbox.url("case_handling") + path, params=params, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["code"] == code and answer.json()["data"] is None


def test_a_stale_timestamp_signed_correctly_is_still_refused(sandbox: Sandbox, http, creds) -> None:
    path, params = "/api/v1/penalties", {"limit": "1"}
    headers = sign(creds.case_app_key, creds.case_secret, "GET", path, params, timestamp_ms=int(time.time() * 1000) - 600_000)
    answer = http.get(sandbox.url("case_handling") + path, params=params, headers=headers, timeout=10)
    assert answer.json()["code"] == 40102


def test_a_replayed_nonce_is_refused(sandbox: Sandbox, http, creds) -> None:
    path, params = "/api/v1/penalties", {"limit": "1"}
    headers = sign(creds.case_app_key, creds.case_secret, "GET", path, params)
    first = http.get(sandbox.url("case_handling") + path, params=params, headers=headers, timeout=10)
    replay = http.get(sandbox.url("case_handling") + path, params=params, headers=headers, timeout=10)
    assert first.status_code == 200
    assert replay.status_code == 401 and replay.json()["code"] == 40103


def test_signature_covers_the_query(sandbox: Sandbox, http, creds) -> None:
    path = "/api/v1/penalties"
    headers = sign(creds.case_app_key, creds.case_secret, "GET", path, {"limit": "1"})
    answer = http.get(sandbox.url("case_handling") + path, params={"limit": "1000"}, headers=headers, timeout=10)
    assert answer.json()["code"] == 40101


def test_bad_parameters_answer_400(sandbox: Sandbox, http, creds) -> None:
    answer = signed_get(http, sandbox.url("case_handling"), "/api/v1/penalties", {"limit": "5000"}, creds)
    assert answer.status_code == 400 and answer.json()["code"] == 40001
