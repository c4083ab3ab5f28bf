"""The shared transport: every call goes through one line, with timeouts, retries and failover.

:class:`Transport` runs an operation ``op(line)`` against the line :class:`LineSet` picks. A
transient failure (:class:`~jnx.errors.TransientError`: timeout, refused connection, 5xx, 429)
counts against the line and the retry goes at once to the next usable line (线路切换, round robin;
a line taken down is skipped until its cool-down ends). When no untried line is left the transport
pauses (exponential backoff with full jitter, capped, honouring the server's ``Retry-After`` and the
next probe time when every line is down) and goes round again. A permanent error (authentication,
rejected request, unusable payload) is raised on the first occurrence: a wrong password is never
retried.

:class:`HttpClient` is the requests edge: it builds URLs on the picked line, sends with
``(connect, read)`` timeouts, and turns requests exceptions and HTTP statuses into jnx errors.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from jnx.adapters.config import RetryConfig, Timeouts
from jnx.adapters.errors import (
    AuthenticationError,
    ConnectionDroppedError,
    LineTimeoutError,
    LineUnreachableError,
    RequestRejectedError,
    ServerBusyError,
    TruncatedPageError,
)
from jnx.adapters.lines import Line, LineSet
from jnx.adapters.traffic import Traffic
from jnx.adapters.urls import redact_url
from jnx.errors import AdapterError, TransientError, TransportError

T = TypeVar("T")
log = logging.getLogger(__name__)
Sleep = Callable[[float], None]


@dataclass
class _CallState:
    """One call's memory across its attempts."""

    failed: Line | None = None  # the line of the last failure: the retry starts after it
    tried: list[Line] = field(default_factory=list)  # lines tried since the last pause
    retry_afters: list[float] = field(default_factory=list)
    pauses: int = 0
    attempts: int = 0
    waits_for_retry_after: bool = False  # the coming pause is the server's Retry-After


class Transport:
    """Runs operations over a system's lines with retries and failover.

    A call makes at most ``retry.attempts`` attempts. Each transient failure counts against the
    line that failed (:meth:`LineSet.failed`), and the next attempt goes at once to the next usable
    line (round robin). Only when the next line is one this call already tried since its last pause
    (one line left, or every line tried once) does it pause: backoff with full jitter, at least the
    largest ``Retry-After`` heard in that round (or the next probe when every line is down), capped.
    Every retry, line switch, Retry-After wait and second waited is told to ``traffic`` (the run's
    or delivery pass's :class:`~jnx.adapters.traffic.Traffic`).
    """

    def __init__(
        self,
        lines: LineSet,
        retry: RetryConfig,
        *,
        sleep: Sleep = time.sleep,
        jitter: Callable[[float], float] = lambda high: random.uniform(0.0, high),
        traffic: Traffic | None = None,
    ) -> None:
        self.lines = lines
        self.retry = retry
        self._sleep = sleep
        self._jitter = jitter
        self.traffic = traffic if traffic is not None else Traffic()

    def call(self, op: Callable[[Line], T], *, what: str) -> T:
        """``op(line)`` on a healthy line; retried on transient errors, failing over between lines.

        The retry loop is tenacity's (stop after ``retry.attempts``, retry only ``TransientError``);
        its wait is :meth:`_wait`, which is zero when the retry switches to another line and the
        jittered, Retry-After-honouring backoff when a round of lines is exhausted.
        """
        state = _CallState()
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            retry=retry_if_exception_type(TransientError),
            wait=lambda retry_state: self._wait(retry_state, state, what),
            sleep=self._pause_for,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._attempt(op, state, what)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _pause_for(self, seconds: float) -> None:
        if seconds > 0:
            self.traffic.waited(seconds)
            self._sleep(seconds)

    def _attempt(self, op: Callable[[Line], T], state: _CallState, what: str) -> T:
        retry = state.attempts > 0
        state.attempts += 1
        line = self.lines.next_line(state.failed)
        if retry:
            self.traffic.retried(switched_line=line is not None and state.failed is not None and line is not state.failed,
                                 after_retry_after=state.waits_for_retry_after)
            state.waits_for_retry_after = False
        if line is None:
            line = self.lines.pick(state.failed)  # AllLinesDownError (transient) when every line is down
        state.tried.append(line)
        try:
            try:
                result = op(line)
            except requests.RequestException as exc:
                raise translate_requests_error(exc, line, what) from exc
        except TransportError as exc:
            self.lines.failed(line, at_once=isinstance(exc, LineUnreachableError), reason=exc.message)
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is not None:
                state.retry_afters.append(float(retry_after))
            state.failed = line
            raise
        except TransientError:
            state.failed = line
            raise
        self.lines.succeeded(line)
        return result

    def _wait(self, retry_state: RetryCallState, state: _CallState, what: str) -> float:
        """No wait when the retry goes to a line not yet tried in this round; else the round's pause."""
        last = retry_state.outcome.exception() if retry_state.outcome is not None else None
        number = retry_state.attempt_number
        upcoming = self.lines.next_line(state.failed)
        if upcoming is not None and not any(upcoming is line for line in state.tried):
            log.warning("%s: attempt %d failed (%s); switching to line %s", what, number, last, upcoming.label)
            return 0.0
        state.pauses += 1
        pause, state.waits_for_retry_after = self._pause(state.pauses, state.retry_afters, all_down=upcoming is None)
        log.warning("%s: attempt %d failed (%s); retrying in %.2fs", what, number, last, pause)
        state.tried.clear()
        state.retry_afters.clear()
        return pause

    def _pause(self, pauses: int, retry_afters: list[float], *, all_down: bool) -> tuple[float, bool]:
        """Seconds to wait before the next round — jittered backoff, at least a capped Retry-After —
        and whether the server's Retry-After set them."""
        high = min(self.retry.maximum, self.retry.initial * 2 ** (pauses - 1))
        pause = self._jitter(high) if high > 0 else 0.0
        asked = max(retry_afters, default=None)
        wanted = asked
        if all_down:
            probe = self.lines.next_probe_in()
            if probe is not None:
                wanted = probe if wanted is None else max(wanted, probe)
        if wanted is not None:
            pause = max(pause, min(wanted, self.retry.max_retry_after))
        return pause, asked is not None and asked > 0 and pause <= min(asked, self.retry.max_retry_after)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def translate_requests_error(exc: requests.RequestException, line: Line, what: str) -> AdapterError:
    """A requests exception as the jnx error a retry policy can decide on (never with credentials)."""
    where = f"{what} on line {line.label}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return TruncatedPageError(f"{where}: the answer was cut short ({type(exc).__name__})")
    if isinstance(exc, requests.ConnectTimeout):
        return LineTimeoutError(f"{where}: connect timeout")
    if isinstance(exc, requests.Timeout):
        return LineTimeoutError(f"{where}: read timeout")
    if isinstance(exc, requests.ConnectionError):
        if _connected(exc):
            return ConnectionDroppedError(f"{where}: the connection was dropped before the answer ({_cause(exc)})")
        return LineUnreachableError(f"{where}: cannot connect ({_cause(exc)})")
    return TransportError(f"{where}: {type(exc).__name__}")


def _reason(exc: requests.ConnectionError) -> object:
    reason = exc.args[0] if exc.args else None
    return getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause


def _connected(exc: requests.ConnectionError) -> bool:
    """True when the connection was open and then reset or closed; False when it never opened."""
    return isinstance(_reason(exc), urllib3.exceptions.ProtocolError)


def _cause(exc: requests.ConnectionError) -> str:
    """The class name of what went wrong (never its text: that may hold the URL)."""
    reason = _reason(exc)
    if isinstance(reason, urllib3.exceptions.ProtocolError) and len(reason.args) > 1:
        reason = reason.args[1]  # ProtocolError("Connection aborted.", RemoteDisconnected(...))
    return type(reason).__name__ if isinstance(reason, BaseException) else type(exc).__name__


def check_status(response: requests.Response, line_label: str, what: str, *, ok: Collection[int] = ()) -> None:
    """Raise the jnx error an HTTP status means; 2xx and ``ok`` statuses pass."""
    status = response.status_code
    if 200 <= status < 300 or status in ok:
        return
    where = f"{what} on line {line_label}: HTTP {status}"
    detail = _short_body(response)
    if status in (401, 403):
        raise AuthenticationError(
            f"{where} (credentials refused{': ' + detail if detail else ''})",
            hint="check the user / app key and the secret the registration refers to; jnx did not retry",
        )
    if status == 429 or status >= 500:
        raise ServerBusyError(where, status=status, retry_after=parse_retry_after(response.headers.get("Retry-After")))
    raise RequestRejectedError(f"{where}{': ' + detail if detail else ''}", status=status)


def _short_body(response: requests.Response) -> str:
    text = response.text[:200] if response.content else ""
    return " ".join(text.split())


class HttpClient:
    """HTTP over a :class:`Transport` with a pooled, injected ``requests.Session``."""

    def __init__(
        self,
        session: requests.Session,
        transport: Transport,
        timeouts: Timeouts,
        *,
        auth: requests.auth.AuthBase | None = None,
    ) -> None:
        self.session = session
        self.transport = transport
        self.timeouts = (timeouts.connect, timeouts.read)
        self.auth = auth

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Collection[int] = (),
    ) -> tuple[requests.Response, Line]:
        """Send on a healthy line; the response (status checked) and the line that answered."""

        def op(line: Line) -> tuple[requests.Response, Line]:
            response = self.session.request(
                method,
                join_url(line.url, path),
                params=params,
                json=json,
                data=data,
                headers=dict(headers or {}),
                timeout=self.timeouts,
                auth=self.auth,
            )
            check_status(response, line.label, what, ok=ok)
            return response, line

        return self.transport.call(op, what=what)


def join_url(base: str, path: str) -> str:
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


__all__ = ["HttpClient", "Transport", "check_status", "join_url", "parse_retry_after", "redact_url"]
