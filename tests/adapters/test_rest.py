"""REST pulls (cursor and page), HMAC signing, and batch pushes with receipts, on loopback servers."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from jnx.adapters.auth import HmacSigner, string_to_sign
from jnx.adapters.base import OutboundItem, ReceiptStatus, Watermark
from jnx.adapters.config import (
    HealthConfig,
    HmacAuthConfig,
    RestPullSpec,
    RestPushSpec,
    RetryConfig,
    SecretRef,
    Timeouts,
)
from jnx.adapters.errors import PayloadError, RequestRejectedError, TruncatedPageError
from jnx.adapters.lines import LineSet
from jnx.adapters.rest import RestPuller, RestPusher
from jnx.adapters.transport import HttpClient, Transport
from tests.adapters.conftest import Answer, Seen

ROWS = [{"ajbh": f"AJ{i:03d}", "updated_at": f"2021-03-05 10:{i:02d}:00"} for i in range(7)]

CURSOR_SPEC = RestPullSpec(
    record_type="penalty",
    path="/api/v1/penalties",
    params={"updated_after": "{since}", "cursor": "{cursor}", "limit": "{page_size}"},
    pagination="cursor",
    records_path="data.items",
    next_cursor_path="data.next_cursor",
    key_field="ajbh",
    updated_field="updated_at",
    ok_path="code",
    initial_since="1970-01-01 00:00:00",
)


def http_for(url: str, auth: requests.auth.AuthBase | None = None) -> HttpClient:
    transport = Transport(LineSet([(url, None)], HealthConfig()), RetryConfig(attempts=3, initial=0, maximum=0), sleep=lambda s: None)
    return HttpClient(requests.Session(), transport, Timeouts(connect=1, read=2), auth=auth)


def cursor_api(seen: Seen) -> Answer:
    query = {k: v[0] for k, v in parse_qs(urlsplit(seen.path).query).items()}
    start = int(query.get("cursor", "0"))
    limit = int(query["limit"])
    items = [r for r in ROWS if r["updated_at"] >= query["updated_after"]][start : start + limit]
    more = start + limit < len([r for r in ROWS if r["updated_at"] >= query["updated_after"]])
    return Answer(200, {"code": 0, "data": {"items": items, "next_cursor": str(start + limit) if more else None}})


def test_a_cursor_pull_reads_every_record_once_and_ends_at_the_latest_update(http_server) -> None:
    server = http_server(cursor_api)
    pages = list(RestPuller(http_for(server.url), CURSOR_SPEC, page_size=3).pull(None))
    assert [len(p.records) for p in pages] == [3, 3, 1]
    assert [r.source_key for p in pages for r in p.records] == [r["ajbh"] for r in ROWS]
    assert pages[0].watermark == Watermark(since="1970-01-01 00:00:00", cursor="3", high="2021-03-05 10:02:00")
    assert pages[-1].last and pages[-1].watermark == Watermark(since="2021-03-05 10:06:00")
    assert all(r.content_hash.startswith("sha256:") for p in pages for r in p.records)


def test_a_pull_resumes_from_a_mid_pass_watermark(http_server) -> None:
    server = http_server(cursor_api)
    resumed = Watermark(since="1970-01-01 00:00:00", cursor="6", high="2021-03-05 10:05:00")
    pages = list(RestPuller(http_for(server.url), CURSOR_SPEC, page_size=3).pull(resumed))
    assert [r.source_key for p in pages for r in p.records] == ["AJ006"]
    assert pages[-1].watermark.since == "2021-03-05 10:06:00"


def test_a_business_error_code_is_a_rejection(http_server) -> None:
    server = http_server()
    server.default = Answer(200, {"code": 40001, "msg": "bad parameter", "data": None})
    with pytest.raises(RequestRejectedError, match="code=40001"):
        list(RestPuller(http_for(server.url), CURSOR_SPEC, page_size=3).pull(None))


def test_a_body_that_is_not_json_is_a_payload_error(http_server) -> None:
    server = http_server()
    server.default = Answer(200, b'{"code": 0, "data": {"ite')
    with pytest.raises(PayloadError, match="not JSON"):
        list(RestPuller(http_for(server.url), CURSOR_SPEC, page_size=3).pull(None))


PAGE_SPEC = RestPullSpec(
    record_type="inspection_result",
    path="/api/v1/results",
    params={"updateTimeFrom": "{since}", "pageNum": "{page}", "pageSize": "{page_size}"},
    pagination="page",
    records_path="result.rows",
    total_path="result.total",
    key_field="resultId",
    updated_field="updateTime",
    ok_path="success",
    initial_since="0",
)


def page_api(total: int, short_page: int | None = None):
    def answer(seen: Seen) -> Answer:
        query = {k: v[0] for k, v in parse_qs(urlsplit(seen.path).query).items()}
        page, size = int(query["pageNum"]), int(query["pageSize"])
        rows = [{"resultId": f"R{i}", "updateTime": 1614873600000 + i} for i in range(total)][(page - 1) * size : page * size]
        if page == short_page:
            rows = rows[:-1]
        return Answer(200, {"success": True, "result": {"total": total, "pageNum": page, "rows": rows}})

    return answer


def test_a_page_pull_stops_at_the_total_and_compares_epoch_times_as_numbers(http_server) -> None:
    server = http_server(page_api(total=5))
    pages = list(RestPuller(http_for(server.url), PAGE_SPEC, page_size=2).pull(None))
    assert [len(p.records) for p in pages] == [2, 2, 1]
    assert pages[1].watermark.cursor == "3"
    assert pages[-1].watermark == Watermark(since="1614873600004")
    assert server.hits == 3


def test_a_page_shorter_than_its_total_promised_is_truncated(http_server) -> None:
    server = http_server(page_api(total=5, short_page=2))
    pages = RestPuller(http_for(server.url), PAGE_SPEC, page_size=2).pull(None)
    assert len(next(pages).records) == 2
    with pytest.raises(TruncatedPageError, match="1 records where the total of 5 promised 2"):
        next(pages)


def test_hmac_signing_covers_method_path_sorted_query_timestamp_and_nonce(http_server) -> None:
    server = http_server(cursor_api)
    config = HmacAuthConfig(app_key="jnx-app", secret=SecretRef(env="CASE_SECRET"))
    signer = HmacSigner(config, "s3cret", clock=lambda: 1700000000.123, nonce=lambda: "n0nce")
    list(RestPuller(http_for(server.url, signer), CURSOR_SPEC, page_size=10).pull(None))
    seen = server.seen[0]
    assert seen.headers["X-App-Key"] == "jnx-app"
    assert seen.headers["X-Timestamp"] == "1700000000123"
    expected_message = "GET\n/api/v1/penalties\nlimit=10&updated_after=1970-01-01%2000%3A00%3A00\n1700000000123\nn0nce"
    assert string_to_sign("GET", server.url + seen.path, "1700000000123", "n0nce") == expected_message
    expected = hmac.new(b"s3cret", expected_message.encode(), hashlib.sha256).hexdigest()
    assert seen.headers["X-Signature"] == expected
    assert "s3cret" not in repr(signer)


def credit_api(seen: Seen) -> Answer:
    body = json.loads(seen.body)
    results = [
        {"index": i, "status": "rejected", "reasons": [{"field": "CF_XDR_ZJHM", "code": "NATURAL_PERSON", "message": "必填"}]}
        if r.get("CF_WSH") == "bad"
        else {"index": i, "status": "accepted", "record_id": f"SGS-{i}"}
        for i, r in enumerate(body["records"])
    ]
    return Answer(200, {"receipt_id": "HZ1", "batch_no": body["batch_no"], "results": results})


PUSH_SPEC = RestPushSpec(
    paths={"penalty": "/api/v1/sgs/xzcf/batch"},
    batch_extra={"batch_no": "{batch_no}", "record_count": "{record_count}", "report_unit": "济宁市司法局"},
)


def test_a_batch_push_answers_one_receipt_per_item_with_field_reasons(http_server) -> None:
    server = http_server(credit_api)
    items = [OutboundItem("k1", "penalty", {"CF_WSH": "ok"}), OutboundItem("k2", "penalty", {"CF_WSH": "bad"})]
    receipts = RestPusher(http_for(server.url), PUSH_SPEC).push(items)
    assert [r.status for r in receipts] == [ReceiptStatus.ACCEPTED, ReceiptStatus.REJECTED]
    assert receipts[0].receipt_id == "HZ1" and receipts[0].record_id == "SGS-0"
    assert receipts[1].reasons[0].field == "CF_XDR_ZJHM" and receipts[1].reasons[0].code == "NATURAL_PERSON"
    body = json.loads(server.seen[0].body)
    assert body["record_count"] == 2 and body["report_unit"] == "济宁市司法局"


def test_the_same_batch_carries_the_same_idempotency_key_and_body(http_server) -> None:
    server = http_server(credit_api)
    pusher = RestPusher(http_for(server.url), PUSH_SPEC)
    items = [OutboundItem("k1", "penalty", {"CF_WSH": "ok"})]
    pusher.push(items)
    pusher.push(items)
    first, second = server.seen
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.body == second.body


def test_a_record_type_without_a_push_path_is_refused_before_sending(http_server) -> None:
    server = http_server(credit_api)
    with pytest.raises(RequestRejectedError, match="known: penalty"):
        RestPusher(http_for(server.url), PUSH_SPEC).push([OutboundItem("k", "license", {})])
    assert server.hits == 0


@pytest.mark.parametrize("body, content_type", [
    (b'{"code":0,"data":{"items":[{"ajbh":"A1","fkje":5000.5,"dsrmc":"\xe6\xb5\x8e\xe5\xae\x81","x":null}],"next_cursor":null}}', "application/json"),
    (b'{"code":0,"data":{"items":[{"ajbh":"A1","fkje":1e-05,"dsrmc":"\xe6\xb5\x8e\xe5\xae\x81","x":null}],"next_cursor":null}}', "application/json"),
    (b'{"code":0,"data":{"items":[{"ajbh":"A1","fkje":NaN,"big":123456789012345678901234}],"next_cursor":null}}', "application/json"),
    ('{"code":0,"data":{"items":[{"ajbh":"A1","dsrmc":"济宁"}],"next_cursor":null}}'.encode("gb18030"), "application/json; charset=gb18030"),
])
def test_every_page_gives_the_records_and_hashes_the_standard_library_would(http_server, body: bytes, content_type: str) -> None:
    from jnx.adapters.base import PayloadEncoding, RawRecord

    server = http_server(lambda seen: Answer(200, body, {"Content-Type": content_type}))
    [page] = list(RestPuller(http_for(server.url), CURSOR_SPEC, page_size=3).pull(None))
    expected = json.loads(body.decode(content_type.partition("charset=")[2] or "utf-8"))["data"]["items"]
    assert [r.payload for r in page.records] == expected or "NaN" in body.decode()  # NaN != NaN
    for record, item in zip(page.records, expected, strict=True):
        own = RawRecord(record.source_key, "penalty", item, PayloadEncoding.JSON, None)  # hashed by RawRecord itself
        assert record.content_hash == own.content_hash
        assert json.dumps(record.payload, sort_keys=True) == json.dumps(item, sort_keys=True)
