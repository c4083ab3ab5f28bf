"""The SOAP adapter, driven by the WSDL and the config, against a small loopback SOAP service."""

from __future__ import annotations

import pytest

from jnx.adapters.base import OutboundItem, ReceiptStatus, Watermark
from jnx.adapters.config import MappingSecrets, SoapConfig
from jnx.adapters.errors import (
    AuthenticationError,
    PayloadError,
    RequestRejectedError,
    UnsafeXmlError,
)
from jnx.adapters.factory import build_adapters
from tests.adapters.conftest import Answer
from tests.adapters.soapserver import items_service
from tests.adapters.test_xmlsafe import BILLION_LAUGHS

ROWS = [(f"XK{i:02d}", f"许可{i}", f"2024-01-0{1 + i // 3}T08:00:0{i % 3}+08:00") for i in range(8)]
SECRETS = MappingSecrets({"ITEMS_PW": "right", "WRONG_PW": "wrong"})


def config(*urls: str, password_env: str = "ITEMS_PW", **extra: object) -> SoapConfig:
    return SoapConfig.model_validate(
        {
            "lines": [{"url": u} for u in urls],
            "auth": {"kind": "password", "username": "jnx", "password": {"env": password_env}},
            "retry": {"attempts": 3, "initial": 0, "maximum": 0},
            "pull": [
                {
                    "record_type": "license",
                    "operation": "QueryItems",
                    "arguments": {"since": "{since}", "pageNo": "{page}", "pageSize": "{page_size}"},
                    "records_path": "items.item",
                    "total_path": "total",
                    "key_field": "id",
                    "updated_field": "modified",
                    "initial_since": "2000-01-01T00:00:00+08:00",
                }
            ],
            "push": {"operation": "SubmitItems", "arguments": {"item": "{items}"}, "receipt": {"receipts_path": "result", "batch_id_path": "receiptNo", "id_path": None, "reasons_path": "reason"}},
            **extra,
        }
    )


def pull_all(cfg: SoapConfig, watermark: Watermark | None = None, page_size: int = 3):
    adapters = build_adapters(cfg, SECRETS, sleep=lambda s: None)
    return list(adapters.pullers["license"].pull(watermark, page_size=page_size))


def test_every_page_is_pulled_through_zeep_by_configuration(http_server) -> None:
    server = http_server(items_service(ROWS))
    pages = pull_all(config(server.url + "/ws"))
    assert [len(p.records) for p in pages] == [3, 3, 2]
    assert [r.source_key for p in pages for r in p.records] == [r[0] for r in ROWS]
    first = pages[0].records[0]
    assert first.payload["name"] == "许可0" and first.record_type == "license"
    assert pages[-1].last and pages[-1].watermark.since == "2024-01-03T08:00:01+08:00"
    assert server.seen[0].method == "GET" and server.seen[0].path == "/ws?wsdl"


def test_a_pull_resumes_at_the_page_after_the_last_committed(http_server) -> None:
    server = http_server(items_service(ROWS))
    mark = Watermark(since="2000-01-01T00:00:00+08:00", cursor="3", high="2024-01-02T08:00:02+08:00")
    pages = pull_all(config(server.url + "/ws"), mark)
    assert [r.source_key for p in pages for r in p.records] == ["XK06", "XK07"]


def test_the_backup_line_serves_when_the_primary_is_down(http_server, dead_url) -> None:
    backup = http_server(items_service(ROWS))
    pages = pull_all(config(dead_url + "/ws", backup.url + "/ws", wsdl=backup.url + "/ws?wsdl"))
    assert sum(len(p.records) for p in pages) == 8
    assert all("backup" in p.line for p in pages)


def test_a_wrong_password_is_an_authentication_error_after_one_call(http_server) -> None:
    server = http_server(items_service(ROWS))
    with pytest.raises(AuthenticationError, match="credentials refused"):
        pull_all(config(server.url + "/ws", password_env="WRONG_PW"))
    assert [s.method for s in server.seen] == ["GET", "POST"]


def test_an_entity_bomb_in_an_answer_is_refused(http_server) -> None:
    service = items_service(ROWS)
    server = http_server(lambda seen: service(seen) if seen.method == "GET" else Answer(200, BILLION_LAUGHS, {"Content-Type": "text/xml"}))
    with pytest.raises(UnsafeXmlError):
        pull_all(config(server.url + "/ws"))


def test_malformed_xml_in_an_answer_is_a_payload_error(http_server) -> None:
    service = items_service(ROWS)

    def cut(seen):
        answer = service(seen)
        return answer if seen.method == "GET" else Answer(200, answer.body[:120], answer.headers)

    server = http_server(cut)
    with pytest.raises(PayloadError, match="malformed XML"):
        pull_all(config(server.url + "/ws"))


def test_an_operation_the_wsdl_lacks_names_the_ones_it_has(http_server) -> None:
    server = http_server(items_service(ROWS))
    cfg = config(server.url + "/ws")
    cfg = cfg.model_copy(update={"pull": [cfg.pull[0].model_copy(update={"operation": "GetXkxxList"})]})
    with pytest.raises(RequestRejectedError, match="has: QueryItems, SubmitItems"):
        pull_all(cfg)


def test_a_batch_push_reads_a_receipt_per_item(http_server) -> None:
    server = http_server(items_service(ROWS))
    pusher = build_adapters(config(server.url + "/ws"), SECRETS).pusher
    item = {"id": "1", "name": "ok", "modified": "2024-01-01T00:00:00"}
    receipts = pusher.push([OutboundItem("k1", "license", item), OutboundItem("k2", "license", item | {"name": "bad"})])
    assert [r.status for r in receipts] == [ReceiptStatus.ACCEPTED, ReceiptStatus.REJECTED]
    assert receipts[0].receipt_id == "R-1"


def test_a_primary_answering_an_html_500_page_fails_over_to_the_backup(http_server) -> None:
    service = items_service(ROWS)
    error_page = Answer(500, b"<!DOCTYPE html><html><body>Internal Server Error</body></html>", {"Content-Type": "text/html"})
    primary = http_server(lambda seen: service(seen) if seen.method == "GET" else error_page)
    backup = http_server(items_service(ROWS))
    adapters = build_adapters(config(primary.url + "/ws", backup.url + "/ws"), SECRETS, sleep=lambda s: None)
    pages = list(adapters.pullers["license"].pull(None, page_size=3))
    assert [r.source_key for p in pages for r in p.records] == [r[0] for r in ROWS]
    assert all("backup" in p.line for p in pages)
    assert adapters.lines.report()[0].failures == 3  # one per page, counted against the primary


def test_a_12_mb_text_node_is_an_error_of_its_record_and_the_rest_of_the_page_is_stored(http_server) -> None:
    rows = [*ROWS[:2], ("XK90", "长" * 4_200_000, "2024-01-01T09:00:00+08:00"), *ROWS[2:4]]  # 12.6 MB of UTF-8
    server = http_server(items_service(rows))
    [page] = pull_all(config(server.url + "/ws"), page_size=10)
    assert [(r.source_key, r.defect is None) for r in page.records] == [
        ("XK00", True), ("XK01", True), ("XK90", False), ("XK02", True), ("XK03", True)]
    defect = page.records[2].defect
    assert defect is not None and "`name` holds 4,200,000 characters" in defect.message
    assert "XML_PARSE_HUGE" not in defect.message
    assert isinstance(page.records[2].payload, bytes) and len(page.records[2].payload) > 12_000_000  # kept whole


def test_a_broken_answer_is_reported_without_zeep_s_cut_off_content_fragment(http_server) -> None:
    service = items_service(ROWS)
    server = http_server(lambda seen: service(seen) if seen.method == "GET"
                         else Answer(200, service(seen).body[:120], {"Content-Type": "text/xml"}))  # type: ignore[index]
    with pytest.raises(PayloadError) as caught:
        pull_all(config(server.url + "/ws"))
    message = str(caught.value)
    assert "Content:" not in message and "b'<?x" not in message and "XML_PARSE_HUGE" not in message
    assert "malformed XML (HTTP 200: Namespace prefix t on QueryIt is not defined, line 1, column 121); 120 bytes received" in message


def test_an_answer_too_deep_for_libxml2_is_a_page_error_in_plain_words(http_server) -> None:
    service = items_service(ROWS)
    deep = b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' \
           + b"<a>" * 3000 + b"</a>" * 3000 + b"</s:Body></s:Envelope>"
    server = http_server(lambda seen: service(seen) if seen.method == "GET" else Answer(200, deep, {"Content-Type": "text/xml"}))
    with pytest.raises(PayloadError, match="Excessive depth in document") as caught:
        pull_all(config(server.url + "/ws"))
    assert "XML_PARSE_HUGE" not in str(caught.value) and "Content:" not in str(caught.value)
