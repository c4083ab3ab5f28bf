"""A feed of source records ordered by (update time, key), pre-serialised for fast paging.

Each platform keeps its records in feeds: serving a page is a bisect and a ``b",".join`` of JSON
bytes made once, which is what lets the case-handling API serve 10^5 records in seconds.
A feed also holds the revision batch (updates of earlier records) applied by :meth:`Feed.advance`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as the platform holds it: its key, its update time and its fields (platform shape)."""

    key: str
    updated: dt.datetime
    fields: dict[str, Any]


def encode(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


class Feed:
    def __init__(self, records: list[SourceRecord], revisions: list[SourceRecord] | None = None,
                 encoder: Callable[[SourceRecord], bytes] | None = None) -> None:
        self._encoder = encoder or (lambda record: encode(record.fields))
        self._lock = threading.Lock()
        self._pending = list(revisions or [])
        self._build({r.key: r for r in records})

    def _build(self, by_key: dict[str, SourceRecord]) -> None:
        ordered = sorted(by_key.values(), key=lambda r: (r.updated, r.key))
        self._by_key = by_key
        self._positions = [(r.updated, r.key) for r in ordered]
        self._records = ordered
        self._json = [self._encoder(r) for r in ordered]

    def __len__(self) -> int:
        return len(self._records)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def snapshot(self) -> tuple[list[tuple[dt.datetime, str]], list[SourceRecord], list[bytes]]:
        """A consistent view (lists are replaced, never mutated, by :meth:`advance`)."""
        with self._lock:
            return self._positions, self._records, self._json

    def index_since(self, since: dt.datetime) -> int:
        """Index of the first record updated at or after ``since`` (inclusive watermark)."""
        positions, _, _ = self.snapshot()
        return bisect.bisect_left(positions, (since, ""))

    def advance(self) -> int:
        """Apply the pending revisions: same keys, later update times, changed content."""
        with self._lock:
            pending, self._pending = self._pending, []
            if pending:
                self._build(self._by_key | {r.key: r for r in pending})
            return len(pending)

    def get(self, key: str) -> SourceRecord | None:
        return self._by_key.get(key)

    def all(self) -> list[SourceRecord]:
        return list(self.snapshot()[1])
