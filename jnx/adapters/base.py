"""The two roles every adapter plays: :class:`Puller` and :class:`Pusher`, and what they exchange.

A puller reads a platform incrementally from a :class:`Watermark` and yields :class:`Page` objects of
:class:`RawRecord`; each page carries the watermark to store *after* its records are committed
(rule 1 of DESIGN.md: a watermark moves only after what it covers is safe). A pusher sends
:class:`OutboundItem` objects, each with an idempotency key, and answers one :class:`Receipt` per
item.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from jnx.adapters.traffic import Traffic


@dataclass(frozen=True)
class Watermark:
    """Where the next pull starts.

    ``since`` is the source's own update-time value (compared by the source, kept as it gave it);
    ``key`` breaks ties between records updated at the same instant (front-end databases, files);
    ``cursor`` is a resume position inside an unfinished pass (next cursor, next page number, row
    offset) and ``high`` the latest update time seen so far in that pass.
    """

    since: str
    key: str | None = None
    cursor: str | None = None
    high: str | None = None

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Watermark:
        data = json.loads(text)
        return cls(**data)

    def resume(self, cursor: str, high: str | None) -> Watermark:
        """The watermark of an unfinished pass: same ``since``, a position, the latest time seen."""
        return replace(self, cursor=cursor, high=high)

    def finished(self) -> Watermark:
        """The watermark after the last page: the pass starts again from the latest time seen."""
        return Watermark(since=self.high or self.since, key=self.key)


class PayloadEncoding(enum.Enum):
    """How a raw record's payload was received."""

    JSON = "json"
    XML = "xml"
    CSV = "csv"
    ROW = "row"  # a database row


@dataclass(frozen=True)
class Defect:
    """Why a record the source sent cannot be read as a record: the exchange keeps its raw bytes and
    queues this as its error (rule ``source.<rule>``) instead of mapping it (DESIGN.md rule 8)."""

    rule: str  # e.g. "csv.fields", "encoding", "key.missing", "updated.future"
    message: str  # names where it was (file and line, page and index) and what is wrong


@dataclass(frozen=True)
class RawRecord:
    """One source record exactly as received; ``content_hash`` identifies its content.

    A record with a ``defect`` carries the raw bytes of what was received as its payload; it is
    staged and queued as an error, never mapped.
    """

    source_key: str
    record_type: str
    payload: Mapping[str, Any] | bytes
    encoding: PayloadEncoding
    source_updated: str | None
    content_hash: str = field(default="")
    canonical: bytes | None = field(default=None, compare=False, repr=False)
    """The bytes ``content_hash`` covers when the puller worked it out (a parsed payload's canonical
    JSON): staged as they are, so the record is serialised once."""
    defect: Defect | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            data = canonical_bytes(self.payload)
            object.__setattr__(self, "content_hash", "sha256:" + hashlib.sha256(data).hexdigest())
            if not isinstance(self.payload, bytes):
                object.__setattr__(self, "canonical", data)


@dataclass(frozen=True)
class Page:
    """A page of raw records and the watermark to store once they are committed."""

    records: tuple[RawRecord, ...]
    watermark: Watermark
    number: int
    line: str  # the line (redacted URL or path) the page came from
    last: bool = False
    notices: tuple[str, ...] = ()  # what the run reports as warnings (a file rejected, a file stamped in the future…)


class ReceiptStatus(enum.Enum):
    """What the receiving platform said about one pushed item."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # permanently, with field reasons: fix the record, do not resend as is
    QUEUED = "queued"  # taken in (前置库 row, dropped file); the final answer comes later


@dataclass(frozen=True)
class OutboundItem:
    """One thing to push (a 双公示 disclosure, usually); ``payload`` is a dict or sealed bytes."""

    idempotency_key: str
    record_type: str
    payload: Mapping[str, Any] | bytes


@dataclass(frozen=True)
class FieldReason:
    """Why the receiver rejected one field (its messages never echo an ID number in clear)."""

    field: str
    reason: str
    code: str | None = None


@dataclass(frozen=True)
class Receipt:
    """The receiver's answer for one item; the same key pushed again yields the first receipt."""

    idempotency_key: str
    status: ReceiptStatus
    receipt_id: str | None = None  # the receiver's number for the answer (回执号)
    record_id: str | None = None  # the receiver's id of the record it holds, when it says
    reasons: tuple[FieldReason, ...] = ()
    raw: Mapping[str, Any] | None = None


@runtime_checkable
class Puller(Protocol):
    """Reads a platform from a watermark, page by page."""

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]: ...

    def acknowledge(self, page: Page) -> None:
        """Told after ``page`` and its watermark are committed (files move away; others do nothing)."""
        ...


@runtime_checkable
class Pusher(Protocol):
    """Sends items and answers one receipt per item, in the order given."""

    def push(self, batch: list[OutboundItem]) -> list[Receipt]: ...


@dataclass
class Adapters:
    """What one system's config yields: a puller per record type, the pusher, the lines' health."""

    pullers: dict[str, Puller] = field(default_factory=dict)
    pusher: Pusher | None = None
    lines: Any = None  # the LineSet, for `jnx systems check`
    _close: list[Callable[[], None]] = field(default_factory=list)
    traffic: Traffic = field(default_factory=Traffic)  # the transport's retries (jnx.adapters.traffic)

    def close(self) -> None:
        for close in self._close:
            close()


_PLAIN = frozenset({str, int, float, bool, type(None)})


def defective(what: str, record_type: str, raw: bytes, encoding: PayloadEncoding, rule: str, message: str,
              *, key: str | None = None) -> RawRecord:
    """A record that could not be read: its raw bytes, kept under its key when it had a readable one,
    else under a key made of its bytes' hash (the same bad record pulled again is staged once)."""
    source_key = key if key else "!" + hashlib.sha256(raw).hexdigest()[:24]
    return RawRecord(source_key, record_type, raw, encoding, None, defect=Defect(rule, f"{what}: {message}"))


def raw_json(value: Any) -> bytes:
    """Bytes of a decoded value that may not be plain JSON (lone surrogates, odd types): UTF-8 JSON,
    or ASCII JSON with every character escaped when the text holds what UTF-8 cannot (a lone
    surrogate, a byte kept by ``surrogateescape``), so nothing is lost and nothing fails to encode."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
    except (RecursionError, TypeError, ValueError):  # nesting too deep for Python, keys that do not sort
        return repr(value)[:1_000_000].encode("ascii", "backslashreplace")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=True, default=repr).encode("ascii")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from what clients return (datetimes, Decimals, nested lists and dicts)."""
    if type(value) in _PLAIN:
        return value  # most values: no Mapping check (an ABC instance check is slow)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _json_default(value: Any) -> Any:
    converted = to_jsonable(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return converted


def canonical_bytes(payload: Mapping[str, Any] | bytes) -> bytes:
    """The bytes as received, or the canonical JSON of a parsed payload (sorted keys, UTF-8)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def content_hash(payload: Mapping[str, Any] | bytes) -> str:
    """sha256 of the bytes, or of the canonical JSON of a parsed payload (sorted keys, UTF-8)."""
    return "sha256:" + hashlib.sha256(canonical_bytes(payload)).hexdigest()


def dig(data: Any, path: str | None) -> Any:
    """The value at a dotted path (``body.records.record``, ``data.0.id``) or None when absent."""
    if path is None or path == "":
        return data
    if type(data) is dict and "." not in path:
        return data.get(path)  # the common case: a field of a decoded JSON object
    current = data
    for part in path.split("."):
        if current is None:
            return None
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list | tuple) and part.isdigit():
            index = int(part)
            current = current[index] if index < len(current) else None
        else:
            current = getattr(current, part, None)
    return current
