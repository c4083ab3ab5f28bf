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
from jnx.adapters.screening import cut_deep_values, json_number
from jnx.adapters.transport import HttpClient


class _Members(dict[str, Any]):
    """A JSON object some of whose member names came more than once (``duplicates``): the record
    holding it is a defect, never read with the last value winning."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set[str] = set()
    twice = sorted({name for name, _ in pairs if name in seen or seen.add(name)})  # type: ignore[func-returns-value]
    marked = _Members(data)
    marked.duplicates = twice
    return marked


def _charset(response: requests.Response) -> str | None:
    """The charset the answer's Content-Type declares, or None (no guessing)."""
    for param in response.headers.get("Content-Type", "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"'):
            return value.strip().strip('"')
    return None


def strict_json(content: bytes, charset: str | None, where: str) -> tuple[Any, bool]:
    """An answer's JSON, read strictly: UTF-8 (RFC 8259) unless the answer declares a charset.

    Numbers with a fraction are floats when a float holds them as written (``5000.50``), else the
    record holding them is an error (:func:`jnx.adapters.screening.json_number`). Bytes that are not UTF-8 inside a string are kept (``surrogateescape``), so the record holding
    them becomes an error of its own (:mod:`jnx.adapters.screening`); bytes in a declared charset
    that do not decode, a document that is not JSON or nests deeper than Python reads are a
    :class:`PayloadError` of the page naming the byte offset. Returns the document and whether it is
    plain JSON whose canonical bytes :func:`fastjson.canonical` may work out.
    """
    codec = (charset or "utf-8").lower().replace("_", "-")
    utf8 = codec in ("utf-8", "utf8")
    try:
        if utf8:
            text = content.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
        else:
            text = content.decode(codec)
    except LookupError as exc:
        raise PayloadError(f"{where}: the answer declares an unknown charset {charset!r}") from exc
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{where}: the answer is not valid {charset} at byte offset {exc.start} ({exc.reason}); "
                           f"{len(content)} bytes received", hint="the platform must send the charset it declares") from exc
    try:
        try:
            document = json.loads(text, object_pairs_hook=_object, parse_float=json_number)
        except RecursionError:
            cut = cut_deep_values(text)  # one record nested too deep: it alone becomes an error
            if cut is None:
                raise
            document = json.loads(cut, object_pairs_hook=_object, parse_float=json_number)
    except RecursionError as exc:
        raise PayloadError(f"{where}: the answer nests objects or lists deeper than can be read; {len(content)} bytes received",
                           hint="a record nested so deep is no record of the standard; ask the platform to check it") from exc
    except ValueError as exc:
        position = getattr(exc, "pos", None)
        offset = len(text[:position].encode("utf-8", errors="surrogateescape")) if utf8 and position is not None else position
        message = getattr(exc, "msg", str(exc))
        raise PayloadError(f"{where}: the answer is not JSON ({message} at byte offset {offset}); {len(content)} bytes received",
                           hint="the platform sent a broken answer; the run stops before the watermark moves") from exc
    plain = utf8 and not fastjson.unsure_float(document)
    return document, plain


def _not_utf8(content: bytes, charset: str | None, where: str) -> tuple[str, ...]:
    """The run's notice of an answer read as UTF-8 that is not: the offset of its first bad byte."""
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        return ()
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"{where}: the answer is not valid UTF-8 at byte offset {exc.start} (byte 0x{content[exc.start]:02X}) and "
                "declares no other charset; the records holding such bytes are errors (source.text), their bytes kept — "
                "ask the platform to send UTF-8 or to declare its charset",)
    return ()


def decode_json(response: requests.Response, line: Line, what: str) -> Any:
    """The answer's JSON, read by the standard library as ``response.json()`` would read it (requests
    switches to simplejson when that is installed, which reads some answers differently)."""
    try:
        return json.loads(response.content if response.encoding is None else response.text)
    except ValueError as exc:  # JSONDecodeError, or undecodable bytes
        raise PayloadError(
            f"{what} on line {line.label}: the answer is not JSON ({exc}); {len(response.content)} bytes received"
        ) from exc


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
            has_more_path=self.spec.has_more_path,
            encoding=PayloadEncoding.JSON,
        )

    def acknowledge(self, page: Page) -> None:
        return None

    def _fetch(self, request: PageRequest) -> PageAnswer:
        what = f"GET {self.spec.path}"
        params = fill_placeholders(self.spec.params, request.placeholders())

        response, line = self.http.request("GET", self.spec.path, params=params, what=what)
        charset = _charset(response)
        data, plain = strict_json(response.content, charset, f"{what} on line {line.label}")
        self._check_ok(data, line, what)
        return PageAnswer(data, line.label, plain_json=plain, notices=_not_utf8(response.content, charset, f"{what} on line {line.label}"))

    def _check_ok(self, data: Any, line: Line, what: str) -> None:
        if self.spec.ok_path is None:
            return
        status = dig(data, self.spec.ok_path)
        if status not in self.spec.ok_values:
            said = dig(data, self.spec.message_path) if self.spec.message_path else None
            reason = f": {str(said)[:300]}" if said not in (None, "") else ""
            raise RequestRejectedError(f"{what} on line {line.label}: the platform answered {self.spec.ok_path}={status!r}{reason}")


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
