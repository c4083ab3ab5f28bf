"""Paging shared by the REST and SOAP pullers: from a watermark, pages of raw records.

A fetch function asks the platform for one page given ``since``, a page number or a cursor, and the
page size; :func:`paginate` turns the answers into :class:`Page` objects with the watermark to store
after each: mid-pass the same ``since`` with the next position and the latest update time seen
(``high``), after the last page ``since = high``. Sources are read with an inclusive ``since``, so the
records at the watermark come again on the next pull and de-duplicate by content hash; nothing
updated at the watermark instant is lost.
"""

from __future__ import annotations

import datetime as dt
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
    defective,
    dig,
    raw_json,
    to_jsonable,
)
from jnx.adapters.config import RecordSpec
from jnx.adapters.errors import PayloadError, TruncatedPageError
from jnx.adapters.instants import in_the_future, later
from jnx.adapters.screening import text_problem


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
    notices: tuple[str, ...] = ()  # what the run reports about the answer (bytes that are not UTF-8, at which offset)


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


def _present(data: Any, path: str | None) -> bool:
    """Whether a JSON answer has the member at ``path`` at all (``null`` counts as present)."""
    if not path or not isinstance(data, Mapping):
        return True
    current: Any = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return False
            current = current[part]
        elif isinstance(current, list) and part.isdigit():
            if int(part) >= len(current):
                return False
            current = current[int(part)]
        else:
            return False
    return True


def records_of(
    data: Any, spec: RecordSpec, *, source: str, encoding: PayloadEncoding, plain_json: bool = False,
    now: dt.datetime | None = None,
) -> tuple[list[RawRecord], str | None]:
    """Raw records in one answer and the latest update time among them (``plain_json``: ``data``
    came from :func:`fastjson.loads_utf8`, so records are hashed through :func:`fastjson.canonical`).

    One record that is not a record (not an object, no key, text that cannot be standard text,
    duplicate member names, an update time after ``now`` + the allowed skew) is a defective record
    of its own, kept raw and queued as an error; it does not move the watermark. An answer without
    the member where its records are is a :class:`PayloadError` of the page.
    """
    if encoding is PayloadEncoding.JSON and not _present(data, spec.records_path):
        raise PayloadError(f"{source}: the answer has no `{spec.records_path}` (where its records are); "
                           "nothing of it is stored and the watermark does not move",
                           hint="check `records_path` in the registration, or ask the platform why it answered without data")
    items = dig(data, spec.records_path)
    if items is None:
        items = []
    if isinstance(items, Mapping) or not isinstance(items, list | tuple):
        items = [items]
    records: list[RawRecord] = []
    high: str | None = None
    plain = encoding is PayloadEncoding.JSON  # decoded JSON is plain already
    clock = now or dt.datetime.now(dt.UTC)
    for index, item in enumerate(items):
        where = f"{source}, record {index}"
        try:
            payload = item if plain else to_jsonable(item if isinstance(item, Mapping) else getattr(item, "__values__", item))
        except RecursionError:
            records.append(defective(where, spec.record_type, raw_json(item), encoding, "text",
                                     "the record nests elements deeper than can be read"))
            continue
        if not isinstance(payload, Mapping):
            records.append(defective(where, spec.record_type, raw_json(payload), encoding, "record.not_object",
                                     f"not an object at `{spec.records_path}` but {type(payload).__name__}"))
            continue
        key = _text(dig(payload, spec.key_field))
        problem = text_problem(payload)
        if problem is not None:
            rule = "json.duplicate_key" if "more than once" in problem else "text"
            records.append(defective(where, spec.record_type, raw_json(payload), encoding, rule,
                                     problem, key=key if key and text_problem(key) is None else None))
            continue
        if key is None:
            records.append(defective(where, spec.record_type, raw_json(payload), encoding, "key.missing",
                                     f"the record has no source key `{spec.key_field}`"))
            continue
        updated = _text(dig(payload, spec.updated_field)) if spec.updated_field else None
        future = in_the_future(updated, clock)
        if future is not None:
            records.append(defective(where, spec.record_type, raw_json(payload), encoding, "updated.future",
                                     f"record {key} is dated {updated} ({future.isoformat()}), after now: not stored and "
                                     "not used for the watermark; ask the platform to correct its update time", key=key))
            continue
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
    has_more_path: str | None = None,
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
            more = dig(answer.data, has_more_path) if has_more_path else None
            if has_more_path and more not in (None, False, 0, "0", "false", "False"):
                if next_cursor is None or not next_cursor.strip():
                    raise PayloadError(
                        f"{source}: the answer says there are more pages (`{has_more_path}` = {more!r}) but gives no "
                        f"`{next_cursor_path}`; stopped before the watermark moves",
                        hint="the platform's paging is broken; ask it to fix its cursor, the next run starts again here")
                if next_cursor == cursor:
                    raise PayloadError(f"{source}: the answer gives the same cursor {next_cursor!r} again; stopped to avoid a loop")
            last = next_cursor is None or (has_more_path is not None and more in (False, 0, "0", "false", "False"))
            cursor = next_cursor
            position = next_cursor or ""
        mark = mark.resume(position, high)
        if spec.where is not None:  # after the page's bookkeeping: paging and the watermark see every record
            records = routed(records, spec.where.field, frozenset(spec.where.in_))
        if last:
            yield Page(tuple(records), mark.finished(), number, answer.line, last=True, notices=answer.notices)
            return
        yield Page(tuple(records), mark, number, answer.line, notices=answer.notices)


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
