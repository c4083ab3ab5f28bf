"""The shared transport: every call goes through one line, with timeouts, retries and failover.

:class:`Transport` runs an operation ``op(line)`` against the line :class:`LineSet` picks. A
transient failure (:class:`~jnx.errors.TransientError`: timeout, refused connection, 5xx, 429)
counts against the line and is retried with exponential backoff and full jitter, capped, honouring
the server's ``Retry-After`` (and the next probe time when every line is down); when the failure
took the line down and another line is usable, the retry goes there at once (线路切换). A permanent
error (authentication, rejected request, unusable payload) is raised on the first occurrence: a
wrong password is never retried.

:class:`HttpClient` is the requests edge: it builds URLs on the picked line, sends with
``(connect, read)`` timeouts, and turns requests exceptions and HTTP statuses into jnx errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from jnx.adapters.config import RetryConfig, Timeouts
from jnx.adapters.errors import (
    AuthenticationError,
    LineTimeoutError,
    LineUnreachableError,
    RequestRejectedError,
    ServerBusyError,
    TruncatedPageError,
)
from jnx.adapters.lines import Line, LineSet, LineState, redact_url
from jnx.errors import AdapterError, TransientError, TransportError

T = TypeVar("T")
log = logging.getLogger(__name__)
Sleep = Callable[[float], None]


class Transport:
    """Runs operations over a system's lines with retries and failover."""

    def __init__(self, lines: LineSet, retry: RetryConfig, *, sleep: Sleep = time.sleep) -> None:
        self.lines = lines
        self.retry = retry
        self._sleep = sleep
        self._backoff = wait_random_exponential(multiplier=retry.initial, max=retry.maximum)

    def call(self, op: Callable[[Line], T], *, what: str) -> T:
        """``op(line)`` on a healthy line; retried on transient errors, failing over between lines."""
        switched: list[bool] = [False]

        def attempt() -> T:
            line = self.lines.pick()
            try:
                try:
                    result = op(line)
                except requests.RequestException as exc:
                    raise translate_requests_error(exc, line, what) from exc
            except TransportError as exc:
                self.lines.failed(line, at_once=isinstance(exc, LineUnreachableError), reason=exc.message)
                switched[0] = self.lines.state(line) is LineState.DOWN and self._usable_other(line)
                raise
            self.lines.succeeded(line)
            return result

        def wait(state: RetryCallState) -> float:
            if switched[0]:
                return 0.0
            exc = state.outcome.exception() if state.outcome else None
            pause = float(self._backoff(state))
            retry_after = getattr(exc, "retry_after", None)
            if retry_after is None:
                retry_after = self.lines.next_probe_in()
            if retry_after is not None:
                pause = max(pause, min(float(retry_after), self.retry.max_retry_after))
            return pause

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s: attempt %d failed (%s); retrying", what, state.attempt_number, exc)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait,
            retry=retry_if_exception_type(TransientError),
            reraise=True,
            sleep=self._sleep,
            before_sleep=before_sleep,
        )
        return retrying(attempt)

    def _usable_other(self, line: Line) -> bool:
        return any(other is not line and self.lines.state(other) is not LineState.DOWN for other in self.lines.lines)


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
        return LineUnreachableError(f"{where}: cannot connect ({type(exc).__name__})")
    return TransportError(f"{where}: {type(exc).__name__}")


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
