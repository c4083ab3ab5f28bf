"""Every fault knob, shown to have its effect on real sockets (tests/sandbox/conftest.py resets them)."""

from __future__ import annotations

import http.client
import json
import time

import pytest
import requests
from lxml import etree

from jnx.sandbox.errors import SandboxConfigError
from jnx.sandbox.faults import FaultConfig, FaultState, parse_fault_flags
from jnx.sandbox.runner import Sandbox
from tests.sandbox.conftest import signed_get

pytestmark = pytest.mark.integration
PENALTIES = "/api/v1/penalties"


def inspection(sandbox: Sandbox, creds, line: str = "primary", timeout: float = 10, **params) -> requests.Response:
    return requests.get(sandbox.url("double_random", line) + "/api/v1/results", params=params or None,
                        headers={"X-Api-Token": creds.inspection_token}, timeout=timeout)


def test_latency_delays_every_answer(sandbox: Sandbox, creds) -> None:
    sandbox.set_faults("double_random", latency_ms=300)
    started = time.perf_counter()
    assert inspection(sandbox, creds).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_error_rate_one_answers_the_configured_5xx_with_retry_after(sandbox: Sandbox, creds) -> None:
    sandbox.set_faults("double_random", error_rate=1.0, error_status=503, retry_after=2)
    answer = inspection(sandbox, creds)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert answer.json()["success"] is False


def test_an_error_rate_of_thirty_percent_fails_about_a_third(sandbox: Sandbox, http, creds) -> None:
    sandbox.set_faults("case_handling", error_rate=0.3)
    codes = [signed_get(http, sandbox.url("case_handling"), PENALTIES, {"limit": "1"}, creds).status_code for _ in range(100)]
    assert 15 <= codes.count(503) <= 45 and codes.count(200) == 100 - codes.count(503)


def test_fail_next_fails_exactly_n_requests_then_recovers(sandbox: Sandbox, creds) -> None:
    sandbox.set_faults("double_random", fail_next=2, error_status=502)
    assert [inspection(sandbox, creds).status_code for _ in range(3)] == [502, 502, 200]


def test_a_hanging_request_outlasts_the_client_read_timeout(sandbox: Sandbox, creds) -> None:
    sandbox.set_faults("double_random", timeout_rate=1.0, hang_seconds=3)
    with pytest.raises(requests.ReadTimeout):
        inspection(sandbox, creds, timeout=0.5)


def test_a_malformed_json_page_does_not_parse(sandbox: Sandbox, http, creds) -> None:
    sandbox.set_faults("case_handling", malformed_rate=1.0)
    answer = signed_get(http, sandbox.url("case_handling"), PENALTIES, {"limit": "5"}, creds)
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


def test_a_malformed_soap_page_is_not_well_formed_xml(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", malformed_rate=1.0)
    envelope = _query_envelope()
    answer = requests.post(sandbox.url("licensing") + "/services/LicenseQueryService", data=envelope, timeout=10,
                           headers={"Content-Type": "text/xml; charset=utf-8"})
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(answer.content, etree.XMLParser(resolve_entities=False, no_network=True))


def test_an_entity_bomb_is_served_by_the_soap_platform(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", entity_bomb_rate=1.0)
    answer = requests.post(sandbox.url("licensing") + "/services/LicenseQueryService", data=_query_envelope(), timeout=10,
                           headers={"Content-Type": "text/xml; charset=utf-8"})
    assert b"<!DOCTYPE lolz" in answer.content and b"&lol9;" in answer.content
    assert len(answer.content) < 2000  # small on the wire; only a resolving parser blows it up


def test_a_truncated_page_breaks_off_before_its_content_length(sandbox: Sandbox, creds) -> None:
    sandbox.set_faults("double_random", truncate_rate=1.0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        inspection(sandbox, creds)
    host, port = sandbox.url("double_random")[7:].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", "/api/v1/results", headers={"X-Api-Token": creds.inspection_token})
    with pytest.raises(http.client.IncompleteRead):
        conn.getresponse().read()
    conn.close()


def test_a_duplicate_cursor_page_repeats_records_but_loses_none(sandbox: Sandbox, http, creds) -> None:
    sandbox.set_faults("case_handling", duplicate_rate=1.0)
    keys: list[str] = []
    params = {"limit": "50"}
    for _ in range(100):
        data = signed_get(http, sandbox.url("case_handling"), PENALTIES, params, creds).json()["data"]
        keys += [i["ajbh"] for i in data["items"]]
        if not data["has_more"]:
            break
        params = {"limit": "50", "cursor": data["next_cursor"]}
    assert len(set(keys)) == 300 and len(keys) > 300


def test_a_duplicate_numbered_page_repeats_the_tail_of_the_previous_one(sandbox: Sandbox, creds) -> None:
    first = [r["resultId"] for r in inspection(sandbox, creds, pageNum=1, pageSize=20).json()["result"]["rows"]]
    sandbox.set_faults("double_random", duplicate_rate=1.0)
    second = [r["resultId"] for r in inspection(sandbox, creds, pageNum=2, pageSize=20).json()["result"]["rows"]]
    assert second[:10] == first[10:] and len(second) == 30


def test_a_line_that_is_down_refuses_connections_and_the_backup_still_answers(sandbox: Sandbox, creds) -> None:
    answer = requests.post(sandbox.url("double_random", "backup") + "/_sandbox/faults", json={"lines_down": ["primary"]}, timeout=10)
    assert answer.json()["lines_down"] == ["primary"]
    time.sleep(0.3)
    with pytest.raises(requests.ConnectionError):
        inspection(sandbox, creds, "primary", timeout=2)
    assert inspection(sandbox, creds, "backup").status_code == 200
    requests.post(sandbox.url("double_random", "backup") + "/_sandbox/faults", json={"lines_down": []}, timeout=10)
    assert inspection(sandbox, creds, "primary").status_code == 200


def test_metadata_and_admin_endpoints_are_spared_from_errors(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", error_rate=1.0)
    assert requests.get(sandbox.url("licensing") + "/services/LicenseQueryService?wsdl", timeout=10).status_code == 200
    assert requests.get(sandbox.url("licensing") + "/_sandbox/health", timeout=10).json()["status"] == "ok"


def test_the_admin_endpoint_rejects_unknown_knobs_with_the_list_of_known_ones(sandbox: Sandbox) -> None:
    answer = requests.post(sandbox.url("credit") + "/_sandbox/faults", json={"eror_rate": 0.3}, timeout=10)
    assert answer.status_code == 400 and "error_rate" in answer.json()["hint"]
    assert requests.post(sandbox.url("credit") + "/_sandbox/faults", json={"error_rate": 3}, timeout=10).status_code == 400


def test_fault_flags_parse_and_bad_ones_say_what_is_known() -> None:
    assert parse_fault_flags(["error_rate=0.3", "lines_down=primary,backup", "retry_after=none"]) == {
        "error_rate": "0.3", "lines_down": ["primary", "backup"], "retry_after": None}
    with pytest.raises(SandboxConfigError, match="bad --fault"):
        parse_fault_flags(["latency"])


def test_fault_decisions_are_seeded() -> None:
    config = FaultConfig(error_rate=0.5)
    first = [FaultState(config, seed=3).decide(True).error_status for _ in range(1)]
    a, b = FaultState(config, seed=3), FaultState(config, seed=3)
    assert [a.decide(True).error_status for _ in range(50)] == [b.decide(True).error_status for _ in range(50)]
    assert first


def _query_envelope() -> bytes:
    return (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
            b'<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
            b"<wsse:UsernameToken><wsse:Username>jnx-sandbox</wsse:Username>"
            b"<wsse:Password>sandbox-licensing-pass</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>"
            b'<soap:Body><q:QueryLicenses xmlns:q="http://xzxk.jining.gov.cn/ws/license/2021">'
            b"<q:modifiedSince>2000-01-01T00:00:00</q:modifiedSince><q:pageNo>1</q:pageNo><q:pageSize>5</q:pageSize>"
            b"</q:QueryLicenses></soap:Body></soap:Envelope>")
