"""REST/JSON: a paged or cursor puller and a batch pusher, over :class:`HttpClient`.

What to call and where the records are come from :class:`RestPullSpec` / :class:`RestPushSpec`;
signing or tokens are the client's ``requests`` auth (see :mod:`jnx.adapters.auth`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests

from jnx.adapters import fastjson
from jnx.adapters.base import (
    OutboundItem,
    Page,
    PayloadEncoding,
    Receipt,
    Watermark,
    dig,
)
from jnx.adapters.config import RestPullSpec, RestPushSpec, fill_placeholders
from jnx.adapters.errors import PayloadError, RequestRejectedError
from jnx.adapters.lines import Line
from jnx.adapters.paging import PageAnswer, PageRequest, paginate
from jnx.adapters.receipts import batch_key, read_receipts
from jnx.adapters.transport import HttpClient


def decode_json(response: requests.Response, line: Line, what: str) -> Any:
    """The answer's JSON, read by the standard library as ``response.json()`` would read it (requests
    switches to simplejson when that is installed, which reads some answers differently)."""
    try:
        return json.loads(response.content if response.encoding is None else response.text)
    except ValueError as exc:  # JSONDecodeError, or undecodable bytes
        raise PayloadError(
            f"{what} on line {line.label}: the answer is not JSON ({exc}); {len(response.content)} bytes received"
        ) from exc


def _utf8(response: requests.Response) -> bool:
    """Whether ``response.json()`` would read the body as UTF-8 (no charset, or a UTF-8 one)."""
    return response.encoding is None or response.encoding.lower().replace("_", "-") in ("utf-8", "utf8")


class RestPuller:
    """Pulls one record type from a REST/JSON API."""

    def __init__(self, http: HttpClient, spec: RestPullSpec, *, page_size: int) -> None:
        self.http = http
        self.spec = spec
        self.page_size = page_size

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        return paginate(
            self._fetch,
            self.spec,
            watermark,
            page_size=page_size or self.page_size,
            mode=self.spec.pagination,
            first_page=self.spec.first_page,
            next_cursor_path=self.spec.next_cursor_path,
            encoding=PayloadEncoding.JSON,
        )

    def acknowledge(self, page: Page) -> None:
        return None

    def _fetch(self, request: PageRequest) -> PageAnswer:
        what = f"GET {self.spec.path}"
        params = fill_placeholders(self.spec.params, request.placeholders())

        response, line = self.http.request("GET", self.spec.path, params=params, what=what)
        data = fastjson.loads_utf8(response.content) if _utf8(response) else fastjson.DECLINED
        plain = data is not fastjson.DECLINED
        if not plain:
            data = decode_json(response, line, what)
        self._check_ok(data, line, what)
        return PageAnswer(data, line.label, plain_json=plain)

    def _check_ok(self, data: Any, line: Line, what: str) -> None:
        if self.spec.ok_path is None:
            return
        status = dig(data, self.spec.ok_path)
        if status not in self.spec.ok_values:
            raise RequestRejectedError(f"{what} on line {line.label}: the platform answered {self.spec.ok_path}={status!r}")


class RestPusher:
    """Pushes batches as JSON; one receipt per item, read by the receipt spec."""

    def __init__(self, http: HttpClient, spec: RestPushSpec) -> None:
        self.http = http
        self.spec = spec

    def push(self, batch: list[OutboundItem]) -> list[Receipt]:
        receipts: dict[str, Receipt] = {}
        for record_type, items in _by_type(batch).items():
            path = self.spec.paths.get(record_type)
            if path is None:
                raise RequestRejectedError(
                    f"no push path for record type {record_type!r}; known: {', '.join(sorted(self.spec.paths))}"
                )
            for start in range(0, len(items), self.spec.max_batch):
                chunk = items[start : start + self.spec.max_batch]
                for receipt in self._send(path, chunk):
                    receipts[receipt.idempotency_key] = receipt
        return [receipts[item.idempotency_key] for item in batch]

    def _send(self, path: str, items: list[OutboundItem]) -> list[Receipt]:
        key = batch_key(items)
        what = f"POST {path}"
        records: list[Any] = []
        for item in items:
            if isinstance(item.payload, bytes):
                raise PayloadError(f"{what}: item {item.idempotency_key} is bytes; the REST pusher sends JSON objects")
            record = dict(item.payload)
            if self.spec.item_key_field:
                record[self.spec.item_key_field] = item.idempotency_key
            records.append(record)
        values = {"batch_no": f"JNX-{key[-20:]}", "record_count": len(records)}
        body: Any = records
        if self.spec.batch_field is not None:
            body = fill_placeholders(self.spec.batch_extra, values) | {self.spec.batch_field: records}
        data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
        response, line = self.http.request(
            "POST",
            path,
            data=data,
            headers={self.spec.idempotency_header: key, "Content-Type": "application/json; charset=utf-8"},
            what=what,
        )
        answer = decode_json(response, line, what)
        return read_receipts(answer, items, self.spec.receipt, source=f"{what} on line {line.label}")


def _by_type(batch: list[OutboundItem]) -> dict[str, list[OutboundItem]]:
    groups: dict[str, list[OutboundItem]] = {}
    for item in batch:
        groups.setdefault(item.record_type, []).append(item)
    return groups
