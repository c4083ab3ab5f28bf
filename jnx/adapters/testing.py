"""Fakes of :class:`Puller` and :class:`Pusher` with failure switches, for unit tests (no sockets).

``FakePuller(records)`` serves records (ordered by update time, then key) in pages from a watermark
with the same semantics as the real pullers; ``fail_on_page=N`` raises ``failure`` when page N is
asked for (once, or every time with ``fail_times=None``). ``FakePusher`` keeps the first receipt per
idempotency key like a real receiver, rejects items a predicate picks, and can fail a number of calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jnx.adapters.base import (
    FieldReason,
    OutboundItem,
    Page,
    PayloadEncoding,
    RawRecord,
    Receipt,
    ReceiptStatus,
    Watermark,
)
from jnx.adapters.errors import TransportError
from jnx.errors import JnxError


def fake_record(key: str, updated: str, record_type: str = "penalty", **payload: Any) -> RawRecord:
    return RawRecord(key, record_type, {"key": key, "updated": updated, **payload}, PayloadEncoding.JSON, updated)


@dataclass
class FakePuller:
    records: list[RawRecord]
    page_size: int = 100
    fail_on_page: int | None = None
    failure: JnxError = field(default_factory=lambda: TransportError("fake line down"))
    fail_times: int | None = 1
    acknowledged: list[Page] = field(default_factory=list)
    calls: int = 0

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        self.calls += 1
        size = page_size or self.page_size
        ordered = sorted(self.records, key=lambda r: (r.source_updated or "", r.source_key))
        if watermark is not None:
            mark = (watermark.since, watermark.key or "")
            ordered = [r for r in ordered if (r.source_updated or "", r.source_key) > mark]
        chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            if number == self.fail_on_page and (self.fail_times is None or self.fail_times > 0):
                if self.fail_times is not None:
                    self.fail_times -= 1
                raise self.failure
            end = chunk[-1] if chunk else None
            mark_after = Watermark(since=end.source_updated or "", key=end.source_key) if end else (watermark or Watermark(since=""))
            yield Page(tuple(chunk), mark_after, number, "fake", last=number == len(chunks))

    def acknowledge(self, page: Page) -> None:
        self.acknowledged.append(page)


@dataclass
class FakePusher:
    reject: Callable[[OutboundItem], str | None] = lambda item: None  # a reason rejects the item
    fail_calls: int = 0
    failure: JnxError = field(default_factory=lambda: TransportError("fake receiver unavailable"))
    receipts: dict[str, Receipt] = field(default_factory=dict)
    received: list[OutboundItem] = field(default_factory=list)
    calls: int = 0

    def push(self, batch: list[OutboundItem]) -> list[Receipt]:
        self.calls += 1
        if self.fail_calls > 0:
            self.fail_calls -= 1
            raise self.failure
        out = []
        for item in batch:
            if item.idempotency_key not in self.receipts:
                self.received.append(item)
                reason = self.reject(item)
                status = ReceiptStatus.REJECTED if reason else ReceiptStatus.ACCEPTED
                reasons = (FieldReason(field="", reason=reason),) if reason else ()
                number = f"FAKE-{len(self.receipts) + 1:06d}"
                self.receipts[item.idempotency_key] = Receipt(item.idempotency_key, status, number, reasons=reasons)
            out.append(self.receipts[item.idempotency_key])
        return out

    def held(self) -> Mapping[str, OutboundItem]:
        return {item.idempotency_key: item for item in self.received}
