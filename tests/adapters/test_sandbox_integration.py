"""The SOAP and REST adapters against the real sandbox platforms (jnx/sandbox/) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jnx.adapters.base import Adapters, OutboundItem, ReceiptStatus
from jnx.adapters.config import MappingSecrets, RestConfig, SoapConfig
from jnx.adapters.errors import (
    AllLinesDownError,
    AuthenticationError,
    LineTimeoutError,
    PayloadError,
    TruncatedPageError,
    UnsafeXmlError,
)
from jnx.adapters.factory import build_adapters
from jnx.sandbox.runner import Credentials, Sandbox, SandboxConfig
from tests.adapters.conftest import Answer

pytestmark = pytest.mark.integration
RECORDS = 120
CREDS = Credentials()
SECRETS = MappingSecrets(
    {
        "LIC_PW": CREDS.licensing_password,
        "PROV_PW": CREDS.province_password,
        "CASE_SECRET": CREDS.case_secret,
        "CREDIT_TOKEN": CREDS.credit_token,
        "WRONG": "not-the-password",
    }
)
FAST = {"attempts": 8, "initial": 0.001, "maximum": 0.01, "max_retry_after": 0.05}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(port_base=0, records=RECORDS, seed=3)) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


def lines(sandbox: Sandbox, platform: str, path: str = "") -> list[dict[str, str]]:
    return [{"url": sandbox.url(platform, "primary") + path}, {"url": sandbox.url(platform, "backup") + path}]


def licensing(sandbox: Sandbox, password_env: str = "LIC_PW", **settings: Any) -> Adapters:
    config = SoapConfig.model_validate(
        {
            "lines": lines(sandbox, "licensing", "/services/LicenseQueryService"),
            "auth": {"kind": "password", "username": CREDS.licensing_user, "password": {"env": password_env}},
            "retry": FAST,
            "health": {"failures_before_down": 2, "cooldown": 60},
            "timeouts": {"connect": 2, "read": 5},
            **settings,
            "pull": [
                {
                    "record_type": "license",
                    "operation": "QueryLicenses",
                    "arguments": {"modifiedSince": "{since}", "pageNo": "{page}", "pageSize": "{page_size}"},
                    "records_path": "records.license",
                    "total_path": "total",
                    "key_field": "xkid",
                    "updated_field": "gxsj",
                    "initial_since": "2000-01-01T00:00:00+08:00",
                }
            ],
        }
    )
    return build_adapters(config, SECRETS, sleep=lambda s: None)


def pull_keys(adapters: Adapters, record_type: str, page_size: int) -> list[str]:
    return [r.source_key for page in adapters.pullers[record_type].pull(None, page_size=page_size) for r in page.records]


def test_every_page_of_the_licensing_soap_service_is_pulled_through_zeep(sandbox: Sandbox) -> None:
    pages = list(licensing(sandbox).pullers["license"].pull(None, page_size=25))
    keys = [r.source_key for p in pages for r in p.records]
    assert len(keys) == len(set(keys)) >= RECORDS * 0.9
    assert pages[-1].last and pages[-1].watermark.since.startswith("20")
    assert all("primary" in p.line for p in pages)


def test_a_differently_shaped_soap_service_connects_by_configuration_alone(sandbox: Sandbox) -> None:
    config = SoapConfig.model_validate(
        {
            "lines": lines(sandbox, "licensing", "/axis/services/XkxxService"),
            "auth": {"kind": "password", "username": CREDS.province_user, "password": {"env": "PROV_PW"}},
            "pull": [
                {
                    "record_type": "license",
                    "operation": "GetXkxxList",
                    "arguments": {"startTime": "{since}", "page": "{page}", "rows": "{page_size}"},
                    "records_path": "XKXX",
                    "total_path": "ZS",
                    "key_field": "XK_WSH",
                    "updated_field": "SJC",
                    "initial_since": "2000-01-01 00:00:00",
                }
            ],
        }
    )
    pages = list(build_adapters(config, SECRETS).pullers["license"].pull(None, page_size=40))
    records = [r for p in pages for r in p.records]
    assert records and "XK_XDR" in records[0].payload
    assert pages[-1].watermark.since == max(r.source_updated for r in records)


def test_the_primary_licensing_line_down_sends_the_pull_to_the_backup(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", lines_down=["primary"])
    adapters = licensing(sandbox)
    pages = list(adapters.pullers["license"].pull(None, page_size=50))
    assert pages and all("backup" in p.line for p in pages)
    assert adapters.lines.report()[0].state.value == "down"


def test_a_pull_completes_with_30_percent_5xx(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", error_rate=0.3)
    keys = pull_keys(licensing(sandbox), "license", 20)
    assert len(keys) == len(set(keys)) >= RECORDS * 0.9


def test_a_wrong_soap_password_is_one_call_and_an_authentication_error(sandbox: Sandbox) -> None:
    with pytest.raises(AuthenticationError, match="认证失败"):
        pull_keys(licensing(sandbox, "WRONG"), "license", 20)


@pytest.mark.parametrize(
    ("knob", "error"),
    [("malformed_rate", PayloadError), ("entity_bomb_rate", UnsafeXmlError), ("truncate_rate", TruncatedPageError)],
)
def test_broken_soap_pages_are_payload_errors(sandbox: Sandbox, knob: str, error: type[Exception]) -> None:
    sandbox.set_faults("licensing", **{knob: 1.0})
    with pytest.raises(error):
        pull_keys(licensing(sandbox), "license", 20)


def case_handling(sandbox: Sandbox, secret_env: str = "CASE_SECRET", **settings: Any) -> Adapters:
    config = RestConfig.model_validate(
        {
            "lines": lines(sandbox, "case_handling"),
            "auth": {"kind": "hmac", "app_key": CREDS.case_app_key, "secret": {"env": secret_env}},
            "retry": FAST,
            **settings,
            "pull": [
                {
                    "record_type": "penalty",
                    "path": "/api/v1/penalties",
                    "params": {"updated_after": "{since}", "cursor": "{cursor}", "limit": "{page_size}"},
                    "pagination": "cursor",
                    "records_path": "data.items",
                    "next_cursor_path": "data.next_cursor",
                    "ok_path": "code",
                    "key_field": "ajbh",
                    "updated_field": "updated_at",
                    "initial_since": "2000-01-01 00:00:00",
                }
            ],
        }
    )
    return build_adapters(config, SECRETS, sleep=lambda s: None)


def test_the_case_handling_api_is_pulled_with_signed_requests(sandbox: Sandbox) -> None:
    keys = pull_keys(case_handling(sandbox), "penalty", 30)
    assert len(keys) == len(set(keys)) > 0


def test_a_mixed_feed_is_routed_to_one_pull_per_record_type(sandbox: Sandbox) -> None:
    """The coercions feed mixes 强制措施 (qzlx 1) and 强制执行 (qzlx 2): each pull keeps its own, none is lost."""
    base = {"path": "/api/v1/coercions", "params": {"updated_after": "{since}", "cursor": "{cursor}", "limit": "{page_size}"},
            "pagination": "cursor", "records_path": "data.items", "next_cursor_path": "data.next_cursor", "ok_path": "code",
            "key_field": "qzbh", "updated_field": "updated_at", "initial_since": "2000-01-01 00:00:00"}
    config = RestConfig.model_validate({
        "lines": lines(sandbox, "case_handling"),
        "auth": {"kind": "hmac", "app_key": CREDS.case_app_key, "secret": {"env": "CASE_SECRET"}}, "retry": FAST,
        "pull": [{**base, "record_type": "coercive_measure", "where": {"field": "qzlx", "in": ["1"]}},
                 {**base, "record_type": "coercive_enforcement", "where": {"field": "qzlx", "in": ["2"]}}]})
    adapters = build_adapters(config, SECRETS, sleep=lambda s: None)
    measures = [r for page in adapters.pullers["coercive_measure"].pull(None, page_size=17) for r in page.records]
    enforcement = [r for page in adapters.pullers["coercive_enforcement"].pull(None, page_size=17) for r in page.records]
    feed = sandbox.servers["case_handling"].platform.feeds["coercions"].all()  # type: ignore[attr-defined]
    assert {r.payload["qzlx"] for r in measures} == {"1"} and {r.payload["qzlx"] for r in enforcement} == {"2"}  # type: ignore[index]
    assert sorted(r.source_key for r in measures + enforcement) == sorted(r.key for r in feed)


def test_a_wrong_signing_secret_is_an_authentication_error(sandbox: Sandbox) -> None:
    with pytest.raises(AuthenticationError, match="HTTP 401"):
        pull_keys(case_handling(sandbox, "WRONG"), "penalty", 30)


def test_a_truncated_rest_page_is_a_payload_error(sandbox: Sandbox) -> None:
    sandbox.set_faults("case_handling", truncate_rate=1.0)
    with pytest.raises(TruncatedPageError):
        pull_keys(case_handling(sandbox), "penalty", 30)


def test_the_credit_platform_answers_receipts_and_repeats_them_for_the_same_key(sandbox: Sandbox) -> None:
    config = RestConfig.model_validate(
        {
            "lines": lines(sandbox, "credit"),
            "auth": {"kind": "token", "token": {"env": "CREDIT_TOKEN"}},
            "push": {
                "paths": {"penalty": "/api/v1/sgs/xzcf/batch"},
                "batch_extra": {"batch_no": "{batch_no}", "record_count": "{record_count}",
                                "report_unit": "济宁市司法局", "report_unit_code": "11370800004180002M"},
            },
        }
    )
    pusher = build_adapters(config, SECRETS).pusher
    items = [OutboundItem("jnx-test-1", "penalty", {"CF_WSH": "济任罚〔2024〕1号"})]
    first = pusher.push(items)
    assert first[0].status is ReceiptStatus.REJECTED and {r.code for r in first[0].reasons} >= {"REQUIRED"}
    assert pusher.push(items) == first


# 线路切换: a primary that answers 503 or never answers, and a healthy sandbox backup. The retry and
# health settings are the defaults (5 attempts, a line down after 5 failures): the backup must be
# used by the retry, not only once the primary is down.
SOAP_PATH = "/services/LicenseQueryService"


def failing_primary(kind: str, http_server, silent_server) -> str:
    if kind == "503":
        server = http_server()
        server.default = Answer(503, b"<html>Service Unavailable</html>", headers={"Content-Type": "text/html"})
        return server.url
    return silent_server().url


@pytest.mark.parametrize("kind", ["503", "silent"])
def test_a_rest_pull_completes_through_the_backup_when_the_primary_fails(
    sandbox: Sandbox, http_server, silent_server, kind: str
) -> None:
    primary = failing_primary(kind, http_server, silent_server)
    adapters = case_handling(
        sandbox,
        lines=[{"url": primary}, {"url": sandbox.url("case_handling", "backup")}],
        retry={"initial": 0.001, "maximum": 0.01},
        timeouts={"connect": 1, "read": 0.3},
    )
    pages = list(adapters.pullers["penalty"].pull(None, page_size=30))
    assert pages[-1].last and all("backup" in p.line for p in pages)
    assert adapters.lines.report()[0].failures >= 1


@pytest.mark.parametrize("kind", ["503", "silent"])
def test_a_soap_pull_completes_through_the_backup_when_the_primary_fails(
    sandbox: Sandbox, http_server, silent_server, kind: str
) -> None:
    primary = failing_primary(kind, http_server, silent_server)
    adapters = licensing(
        sandbox,
        lines=[{"url": primary + SOAP_PATH}, {"url": sandbox.url("licensing", "backup") + SOAP_PATH}],
        retry={"initial": 0.001, "maximum": 0.01},
        health={},
        timeouts={"connect": 1, "read": 0.3},
    )
    keys = [r.source_key for p in adapters.pullers["license"].pull(None, page_size=40) for r in p.records]
    assert len(keys) == len(set(keys)) >= RECORDS * 0.9
    assert adapters.lines.report()[0].failures >= 1


def test_a_pull_completes_when_requests_hang_on_both_lines(sandbox: Sandbox) -> None:
    sandbox.set_faults("case_handling", timeout_rate=0.3, hang_seconds=2)
    adapters = case_handling(sandbox, timeouts={"connect": 1, "read": 0.3})
    pages = list(adapters.pullers["penalty"].pull(None, page_size=20))
    keys = [r.source_key for p in pages for r in p.records]
    assert pages[-1].last and len(keys) == len(set(keys)) > 0
    assert {"primary", "backup"} <= {p.line.split()[0] for p in pages}  # timeouts moved pages to the backup


def test_a_soap_pull_completes_when_requests_hang(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", timeout_rate=0.3, hang_seconds=2)
    adapters = licensing(sandbox, health={}, timeouts={"connect": 1, "read": 0.3})
    keys = pull_keys(adapters, "license", 20)
    assert len(keys) == len(set(keys)) >= RECORDS * 0.9


def test_latency_below_the_read_timeout_only_slows_the_pull(sandbox: Sandbox) -> None:
    sandbox.set_faults("case_handling", latency_ms=50)
    adapters = case_handling(sandbox, timeouts={"connect": 1, "read": 2})
    pages = list(adapters.pullers["penalty"].pull(None, page_size=40))
    assert pages[-1].last and all("primary" in p.line for p in pages)
    assert [r.failures for r in adapters.lines.report()] == [0, 0]


def test_latency_beyond_the_read_timeout_fails_the_run_naming_both_lines(sandbox: Sandbox) -> None:
    sandbox.set_faults("case_handling", latency_ms=600)
    adapters = case_handling(sandbox, retry={"attempts": 4, "initial": 0, "maximum": 0}, timeouts={"connect": 1, "read": 0.2})
    with pytest.raises(LineTimeoutError, match="read timeout"):
        pull_keys(adapters, "penalty", 30)
    assert [r.failures for r in adapters.lines.report()] == [2, 2]  # the attempts went round both lines


def test_every_line_timing_out_ends_in_all_lines_down(sandbox: Sandbox) -> None:
    sandbox.set_faults("licensing", latency_ms=600)
    adapters = licensing(sandbox, timeouts={"connect": 1, "read": 0.2})  # a line is down after 2 failures
    with pytest.raises(AllLinesDownError) as info:
        pull_keys(adapters, "license", 20)
    assert "primary" in str(info.value) and "backup" in str(info.value) and "timeout" in str(info.value)
