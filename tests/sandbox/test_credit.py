"""The credit platform: validation with field reasons, idempotent receipts, listing for reconciliation."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from jnx.sandbox.credit import CreditPlatform
from jnx.sandbox.runner import Sandbox

pytestmark = pytest.mark.integration

PENALTY: dict[str, Any] = {
    "CF_XDR_MC": "济宁市任城区鑫源餐饮有限公司", "CF_XDR_LB": "法人及非法人组织", "CF_XDR_SHXYM": "91370811MA3C00011L",
    "CF_FRDB": "王建国", "CF_WSH": "济任市监罚〔2021〕123号", "CF_WFXW": "经营超过保质期的食品", "CF_SY": "经查……",
    "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条第一款", "CF_CFLB": "警告;罚款", "CF_NR": "警告，罚款0.5万元",
    "CF_NR_FK": "0.5", "CF_JDRQ": "2021-03-05", "CF_YXQ": "2022-03-05", "CF_CFJG": "任城区市场监督管理局",
    "CF_CFJGDM": "11370811MB2850017P", "CF_SJLY": "任城区市场监督管理局", "CF_SJLYDM": "11370811MB2850017P",
}


def push(http, sandbox: Sandbox, creds, body: Any, *, path: str = "/api/v1/sgs/xzcf", key: str | None = None):
    headers = {"Authorization": f"Bearer {creds.credit_token}", "Idempotency-Key": key or uuid.uuid4().hex}
    return http.post(sandbox.url("credit") + path, data=json.dumps(body, ensure_ascii=False).encode(), headers=headers, timeout=10)


def reasons(result: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["field"], r["code"]) for r in result.get("reasons", [])}


def test_a_valid_penalty_is_accepted_and_listed(sandbox: Sandbox, http, creds) -> None:
    record = PENALTY | {"CF_WSH": "济任市监罚〔2021〕9001号"}
    receipt = push(http, sandbox, creds, record).json()
    assert receipt["status"] == "accepted" and receipt["results"][0]["action"] == "created"
    listed = http.get(sandbox.url("credit") + "/api/v1/sgs/xzcf", params={"size": 1000},
                      headers={"Authorization": f"Bearer {creds.credit_token}"}, timeout=10).json()
    mine = [row for row in listed["rows"] if row["record"]["CF_WSH"] == record["CF_WSH"]]
    assert mine and mine[0]["source"] == "push" and mine[0]["status"] == "published"
    assert any(row["source"] == "manual" for row in listed["rows"])


def test_natural_person_rules_reject_with_field_reasons(sandbox: Sandbox, http, creds) -> None:
    person = PENALTY | {"CF_XDR_LB": "自然人", "CF_WSH": "济任市监罚〔2021〕9002号"}
    result = push(http, sandbox, creds, person).json()["results"][0]
    assert result["status"] == "rejected"
    assert {("CF_XDR_ZJHM", "NATURAL_PERSON"), ("CF_XDR_SHXYM", "NATURAL_PERSON"), ("CF_FRDB", "NATURAL_PERSON")} <= reasons(result)


def test_a_wrong_id_check_digit_is_named_without_echoing_the_number(sandbox: Sandbox, http, creds) -> None:
    person = {k: v for k, v in PENALTY.items() if k not in ("CF_XDR_SHXYM", "CF_FRDB")} | {
        "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": "370811199002150028", "CF_WSH": "济任市监罚〔2021〕9003号"}
    answer = push(http, sandbox, creds, person)
    assert reasons(answer.json()["results"][0]) == {("CF_XDR_ZJHM", "CHECKSUM")}
    assert "370811199002150028" not in answer.text


def test_a_batch_gets_one_result_per_record(sandbox: Sandbox, http, creds) -> None:
    good = PENALTY | {"CF_WSH": "济任市监罚〔2021〕9004号"}
    bad = PENALTY | {"CF_WSH": "济任市监罚〔2021〕9005号", "CF_NR_FK": "", "CF_CFJGDM": "11370811MB2850017A", "CF_CFLB": "罚款;训诫"}
    receipt = push(http, sandbox, creds, {"batch_no": "B-1", "records": [good, bad]}, path="/api/v1/sgs/xzcf/batch").json()
    assert (receipt["status"], receipt["accepted"], receipt["rejected"]) == ("partially_accepted", 1, 1)
    assert reasons(receipt["results"][1]) == {("CF_NR_FK", "CONDITIONAL"), ("CF_CFJGDM", "CHECKSUM"), ("CF_CFLB", "ENUM")}


def test_the_same_idempotency_key_answers_the_same_receipt_and_stores_nothing_twice(sandbox: Sandbox, http, creds) -> None:
    record = PENALTY | {"CF_WSH": "济任市监罚〔2021〕9006号"}
    first = push(http, sandbox, creds, record, key="idem-9006")
    again = push(http, sandbox, creds, record, key="idem-9006")
    assert again.content == first.content and again.headers["Idempotent-Replay"] == "true"
    platform: CreditPlatform = sandbox.servers["credit"].platform  # type: ignore[assignment]
    assert sum(1 for h in platform.store.records.values() if h.record.get("CF_WSH") == record["CF_WSH"]) == 1
    conflict = push(http, sandbox, creds, record | {"CF_NR": "改了"}, key="idem-9006")
    assert conflict.status_code == 409


def test_a_new_key_for_a_known_record_updates_it(sandbox: Sandbox, http, creds) -> None:
    record = PENALTY | {"CF_WSH": "济任市监罚〔2021〕9007号"}
    push(http, sandbox, creds, record)
    assert push(http, sandbox, creds, record).json()["results"][0]["action"] == "unchanged"
    assert push(http, sandbox, creds, record | {"CF_NR_FK": "0.6"}).json()["results"][0]["action"] == "updated"


def test_withdrawal_marks_the_record_withdrawn(sandbox: Sandbox, http, creds) -> None:
    record = PENALTY | {"CF_WSH": "济任市监罚〔2021〕9008号"}
    push(http, sandbox, creds, record)
    body = {"CF_CFJGDM": record["CF_CFJGDM"], "CF_WSH": record["CF_WSH"], "reason": "决定被撤销"}
    assert push(http, sandbox, creds, body, path="/api/v1/sgs/xzcf/withdraw").json()["results"][0]["action"] == "withdrawn"
    unknown = push(http, sandbox, creds, body | {"CF_WSH": "不存在"}, path="/api/v1/sgs/xzcf/withdraw").json()
    assert reasons(unknown["results"][0]) == {("CF_WSH", "NOT_FOUND")}


def test_a_licence_with_placeholder_code_needs_a_registration_number(sandbox: Sandbox, http, creds) -> None:
    licence = {"XK_XDR_MC": "任城区鑫源超市", "XK_XDR_LB": "个体工商户", "XK_XDR_SHXYM": "00000000000000000X",
               "XK_XKWS": "准予行政许可决定书", "XK_WSH": "济任审批许〔2021〕0001号", "XK_XKLB": "普通", "XK_NR": "预包装食品销售",
               "XK_JDRQ": "2021-03-05", "XK_YXQZ": "2021-03-05", "XK_YXQZI": "2026-03-04", "XK_XKJG": "任城区行政审批服务局",
               "XK_XKJGDM": "11370811MB2850017P", "XK_ZT": "1", "XK_LYDW": "任城区行政审批服务局", "XK_LYDWDM": "11370811MB2850017P"}
    rejected = push(http, sandbox, creds, licence, path="/api/v1/sgs/xzxk").json()["results"][0]
    assert reasons(rejected) == {("XK_XDR_GSZC", "CONDITIONAL")}
    accepted = push(http, sandbox, creds, licence | {"XK_XDR_GSZC": "370811600123456"}, path="/api/v1/sgs/xzxk").json()
    assert accepted["status"] == "accepted"


def test_a_legal_person_known_by_its_registration_number_is_accepted_with_the_placeholder(sandbox: Sandbox, http, creds) -> None:
    record = PENALTY | {"CF_XDR_SHXYM": "00000000000000000X", "CF_WSH": "济任市监罚〔2021〕9011号"}
    rejected = push(http, sandbox, creds, record).json()["results"][0]
    assert reasons(rejected) == {("CF_XDR_GSZC", "CONDITIONAL")}
    assert push(http, sandbox, creds, record | {"CF_XDR_GSZC": "370811000074657"}).json()["status"] == "accepted"
    person = {k: v for k, v in record.items() if k != "CF_FRDB"} | {
        "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": "370811********0027", "CF_WSH": "济任市监罚〔2021〕9012号"}
    assert reasons(push(http, sandbox, creds, person).json()["results"][0]) == {("CF_XDR_SHXYM", "NATURAL_PERSON")}


def test_missing_key_bad_token_and_broken_json_are_refused(sandbox: Sandbox, http, creds) -> None:
    url = sandbox.url("credit") + "/api/v1/sgs/xzcf"
    auth = {"Authorization": f"Bearer {creds.credit_token}"}
    assert http.post(url, json=PENALTY, headers=auth, timeout=10).status_code == 400
    assert http.post(url, json=PENALTY, headers={"Idempotency-Key": "x", "Authorization": "Bearer no"}, timeout=10).status_code == 401
    assert http.post(url, data=b"{not json", headers=auth | {"Idempotency-Key": "broken"}, timeout=10).status_code == 400


def test_unwrap_is_pluggable(creds) -> None:
    from jnx.sandbox.runner import SandboxConfig

    seen: list[bytes] = []

    def reversed_json(body: bytes, headers) -> Any:
        seen.append(body)
        return json.loads(body[::-1])

    import requests

    with Sandbox(SandboxConfig(records=5, port_base=0, unwrap=reversed_json)) as box:
        body = json.dumps(PENALTY, ensure_ascii=False).encode()[::-1]
        answer = requests.post(box.url("credit") + "/api/v1/sgs/xzcf", data=body, timeout=10,
                               headers={"Authorization": f"Bearer {creds.credit_token}", "Idempotency-Key": "wrapped"})
    assert answer.json()["status"] == "accepted" and seen == [body]
