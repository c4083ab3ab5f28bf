"""Paging shared by the REST and SOAP pullers: from a watermark, pages of raw records.

A fetch function asks the platform for one page given ``since``, a page number or a cursor, and the
page size; :func:`paginate` turns the answers into :class:`Page` objects with the watermark to store
after each: mid-pass the same ``since`` with the next position and the latest update time seen
(``high``), after the last page ``since = high``. Sources are read with an inclusive ``since``, so the
records at the watermark come again on the next pull and de-duplicate by content hash; nothing
updated at the watermark instant is lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from jnx.adapters import fastjson
from jnx.adapters.base import (
    Page,
    PayloadEncoding,
    RawRecord,
    Watermark,
    dig,
    to_jsonable,
)
from jnx.adapters.config import RecordSpec
from jnx.adapters.errors import PayloadError, TruncatedPageError
from jnx.adapters.instants import later


@dataclass(frozen=True)
class PageRequest:
    since: str
    page: int | None
    cursor: str | None
    page_size: int

    def placeholders(self) -> dict[str, Any]:
        return {"since": self.since, "page": self.page, "cursor": self.cursor, "page_size": self.page_size}


@dataclass(frozen=True)
class PageAnswer:
    data: Any  # the decoded answer (dict or zeep object)
    line: str  # label of the line that answered
    plain_json: bool = False  # decoded by fastjson.loads_utf8: records may take fastjson.canonical


Fetch = Callable[[PageRequest], PageAnswer]


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value or None
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    converted = to_jsonable(value)
    return str(converted)


def records_of(
    data: Any, spec: RecordSpec, *, source: str, encoding: PayloadEncoding, plain_json: bool = False
) -> tuple[list[RawRecord], str | None]:
    """Raw records in one answer and the latest update time among them (``plain_json``: ``data``
    came from :func:`fastjson.loads_utf8`, so records are hashed through :func:`fastjson.canonical`)."""
    items = dig(data, spec.records_path)
    if items is None:
        items = []
    if isinstance(items, Mapping) or not isinstance(items, list | tuple):
        items = [items]
    records: list[RawRecord] = []
    high: str | None = None
    plain = encoding is PayloadEncoding.JSON  # decoded JSON is plain already
    for index, item in enumerate(items):
        payload = item if plain else to_jsonable(item if isinstance(item, Mapping) else getattr(item, "__values__", item))
        if not isinstance(payload, Mapping):
            raise PayloadError(f"{source}: record {index} at `{spec.records_path}` is not an object")
        key = _text(dig(payload, spec.key_field))
        if key is None:
            raise PayloadError(f"{source}: record {index} has no source key `{spec.key_field}`")
        updated = _text(dig(payload, spec.updated_field)) if spec.updated_field else None
        high = later(high, updated)
        exact = fastjson.canonical(payload) if plain_json else fastjson.DECLINED
        if exact is fastjson.DECLINED:
            records.append(RawRecord(key, spec.record_type, payload, encoding, updated))
        else:  # the same bytes and hash RawRecord would work out, sooner
            records.append(RawRecord(key, spec.record_type, payload, encoding, updated,
                                     "sha256:" + hashlib.sha256(cast(bytes, exact)).hexdigest(), cast(bytes, exact)))
    return records, high


def paginate(
    fetch: Fetch,
    spec: RecordSpec,
    watermark: Watermark | None,
    *,
    page_size: int,
    mode: Literal["page", "cursor"],
    first_page: int = 1,
    next_cursor_path: str | None = None,
    encoding: PayloadEncoding,
) -> Iterator[Page]:
    mark = watermark or Watermark(since=spec.initial_since)
    page = int(mark.cursor) if mode == "page" and mark.cursor else first_page
    cursor = mark.cursor if mode == "cursor" else None
    number = 0
    while True:
        number += 1
        answer = fetch(PageRequest(mark.since, page if mode == "page" else None, cursor, page_size))
        source = f"page {number} from {answer.line}"
        records, high_here = records_of(answer.data, spec, source=source, encoding=encoding, plain_json=answer.plain_json)
        high = later(mark.high, high_here)
        total = dig(answer.data, spec.total_path) if spec.total_path else None
        if mode == "page":
            last = _check_page(records, total, page - first_page, page_size, source)
            page += 1
            position = str(page)
        else:
            next_cursor = _text(dig(answer.data, next_cursor_path))
            last = next_cursor is None
            cursor = next_cursor
            position = next_cursor or ""
        mark = mark.resume(position, high)
        if spec.where is not None:  # after the page's bookkeeping: paging and the watermark see every record
            records = routed(records, spec.where.field, frozenset(spec.where.in_))
        if last:
            yield Page(tuple(records), mark.finished(), number, answer.line, last=True)
            return
        yield Page(tuple(records), mark, number, answer.line)


def routed(records: list[RawRecord], field: str, values: frozenset[str]) -> list[RawRecord]:
    """The records whose ``field`` holds one of ``values`` (a mixed feed's records of this pull's type)."""
    return [r for r in records if isinstance(r.payload, Mapping) and _text(dig(r.payload, field)) in values]


def _check_page(records: list[RawRecord], total: Any, pages_before: int, page_size: int, source: str) -> bool:
    """Whether this page is the last; a page shorter than its total promised is truncated."""
    if total is None:
        return len(records) < page_size
    try:
        promised = int(total)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{source}: total {total!r} is not a number") from exc
    expected = max(min(page_size, promised - pages_before * page_size), 0)
    if len(records) < expected:
        raise TruncatedPageError(
            f"{source}: {len(records)} records where the total of {promised} promised {expected}",
            hint="the platform cut the page short; the run stops here and resumes from the last page committed",
        )
    return expected < page_size or len(records) == 0
