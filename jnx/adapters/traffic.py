"""What a platform's transport went through: retries, line switches and Retry-After waits.

One :class:`Traffic` is made per run or delivery pass (by :func:`jnx.adapters.factory.build_adapters`,
or handed to it) and passed down to the :class:`~jnx.adapters.transport.Transport` of every call; the
run or pass reads it at its end into ``runs.counts``, ``--json``, the logs and the metrics. Thread-safe:
the outbox pushes on a thread of its own.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class TrafficCounts:
    """A snapshot: ``retries`` (attempts after the first of a call), ``line_switches`` (of those, the
    ones sent to another line than the one that failed), ``retry_after_waits`` (pauses the server's
    ``Retry-After`` set) and ``waited_seconds`` (all pauses between rounds, jittered back-off included)."""

    retries: int = 0
    line_switches: int = 0
    retry_after_waits: int = 0
    waited_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"request_retries": self.retries, "line_switches": self.line_switches,
                "retry_after_waits": self.retry_after_waits, "waited_seconds": round(self.waited_seconds, 3)}

    def __add__(self, other: TrafficCounts) -> TrafficCounts:
        return TrafficCounts(self.retries + other.retries, self.line_switches + other.line_switches,
                             self.retry_after_waits + other.retry_after_waits, self.waited_seconds + other.waited_seconds)

    def __sub__(self, other: TrafficCounts) -> TrafficCounts:
        return TrafficCounts(self.retries - other.retries, self.line_switches - other.line_switches,
                             self.retry_after_waits - other.retry_after_waits, self.waited_seconds - other.waited_seconds)

    @classmethod
    def of(cls, counts: dict[str, Any] | None) -> TrafficCounts:
        """The counts kept in a run's ``counts`` (absent keys: 0)."""
        counts = counts or {}
        return cls(int(counts.get("request_retries") or 0), int(counts.get("line_switches") or 0),
                   int(counts.get("retry_after_waits") or 0), float(counts.get("waited_seconds") or 0.0))

    def sentence(self) -> str:
        """A warning's words: ``12 requests retried (5 on another line, 2 after Retry-After, 3.2 s waited)``."""
        return (f"{self.retries} request(s) retried ({self.line_switches} on another line, "
                f"{self.retry_after_waits} after the server's Retry-After, {self.waited_seconds:.1f} s waited)")


class Traffic:
    """The live counter a transport adds to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = TrafficCounts()

    def retried(self, *, switched_line: bool, after_retry_after: bool) -> None:
        with self._lock:
            c = self._counts
            self._counts = TrafficCounts(c.retries + 1, c.line_switches + int(switched_line),
                                         c.retry_after_waits + int(after_retry_after), c.waited_seconds)

    def waited(self, seconds: float) -> None:
        with self._lock:
            c = self._counts
            self._counts = TrafficCounts(c.retries, c.line_switches, c.retry_after_waits, c.waited_seconds + seconds)

    def snapshot(self) -> TrafficCounts:
        with self._lock:
            return self._counts
