"""Lines (线路) of a system and their health: a failing line is skipped until its cool-down ends.

A line goes *down* after ``failures_before_down`` consecutive transient failures, or at once when
it refuses connections. While down it is skipped; when its cool-down has passed it is *probed*: the
next call may use it again, and success brings it up, failure takes it down for twice as long (up
to ``max_cooldown``). A call starts on the first usable line, so the primary (listed first) is
preferred whenever it is usable and traffic returns to it once it recovers; a retry goes to the
next usable line after the one that failed (round robin, :meth:`LineSet.pick` with ``after``).
"""

from __future__ import annotations

import enum
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from jnx.adapters.config import HealthConfig
from jnx.adapters.errors import AllLinesDownError
from jnx.adapters.urls import redact_url

Clock = Callable[[], float]


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]*@")


def scrub_credentials(text: str) -> str:
    """``text`` with the user and password of every URL in it removed (for library error text)."""
    return _USERINFO.sub(r"\1", text)


class LineState(enum.Enum):
    UP = "up"
    DOWN = "down"
    PROBING = "probing"  # cool-down over: the next call tries it


@dataclass
class Line:
    """One endpoint of a system, with its health."""

    url: str
    name: str
    failures: int = 0
    down_until: float | None = None
    cooldown: float = 0.0
    last_error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({redact_url(self.url)})"


@dataclass(frozen=True)
class LineReport:
    name: str
    url: str
    state: LineState
    failures: int
    retry_in: float | None


class LineSet:
    """The lines of one system, thread-safe; ``pick`` gives the line the next call should use."""

    def __init__(self, urls: list[tuple[str, str | None]], health: HealthConfig, *, clock: Clock = time.monotonic) -> None:
        if not urls:
            raise ValueError("a system needs at least one line")
        names = ["primary"] + [f"backup{i}" if len(urls) > 2 else "backup" for i in range(1, len(urls))]
        self.lines = [Line(url=url, name=name or default) for (url, name), default in zip(urls, names, strict=True)]
        self._health = health
        self._clock = clock
        self._lock = threading.Lock()

    def state(self, line: Line) -> LineState:
        if line.down_until is None:
            return LineState.UP
        return LineState.DOWN if self._clock() < line.down_until else LineState.PROBING

    def next_line(self, after: Line | None = None) -> Line | None:
        """The line the next call should use, or None when every line is cooling down.

        Without ``after`` (a call's first attempt) the first usable line: the primary whenever it
        is up or due a probe. With ``after`` (a retry) the next usable line after that one, round
        robin, ``after`` itself last.
        """
        with self._lock:
            start = 0 if after is None else next(i for i, line in enumerate(self.lines) if line is after) + 1
            for line in self.lines[start:] + self.lines[:start]:
                if self.state(line) is not LineState.DOWN:
                    return line
            return None

    def pick(self, after: Line | None = None) -> Line:
        """:meth:`next_line`, or ``AllLinesDownError`` naming each line's last error."""
        line = self.next_line(after)
        if line is not None:
            return line
        with self._lock:
            now = self._clock()
            wait = max(min((line.down_until or now) - now for line in self.lines), 0.0)
            causes = "; ".join(line.last_error or line.label for line in self.lines)
        raise AllLinesDownError(f"all lines are down (next probe in {wait:.1f}s): {causes}", retry_after=wait)

    def next_probe_in(self) -> float | None:
        """Seconds until a line may be tried again when every line is down; None when one is usable."""
        with self._lock:
            if any(self.state(line) is not LineState.DOWN for line in self.lines):
                return None
            now = self._clock()
            return max(min((line.down_until or now) - now for line in self.lines), 0.0)

    def succeeded(self, line: Line) -> None:
        with self._lock:
            line.failures = 0
            line.last_error = None
            line.down_until = None
            line.cooldown = 0.0

    def failed(self, line: Line, *, at_once: bool = False, reason: str | None = None) -> None:
        """Count a transient failure; take the line down when it is one too many (or ``at_once``)."""
        with self._lock:
            line.last_error = reason
            probing = self.state(line) is LineState.PROBING
            line.failures += 1
            if at_once or probing or line.failures >= self._health.failures_before_down:
                base = self._health.cooldown
                line.cooldown = min(line.cooldown * 2, self._health.max_cooldown) if probing and line.cooldown else base
                line.down_until = self._clock() + line.cooldown

    def report(self) -> list[LineReport]:
        now = self._clock()
        return [
            LineReport(
                name=line.name,
                url=redact_url(line.url),
                state=self.state(line),
                failures=line.failures,
                retry_in=None if line.down_until is None else max(line.down_until - now, 0.0),
            )
            for line in self.lines
        ]
