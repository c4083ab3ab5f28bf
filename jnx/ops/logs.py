"""Logs for a log store: one JSON object per line on stderr (``JNX_LOG_FORMAT=json``), with the ids
that tie lines together, and never a secret or a full ID number.

* :func:`configure` (called by the ``jnx`` entry point) installs, in json mode, a root log handler
  writing :class:`JsonFormatter` lines, and replaces ``sys.stderr`` by a :class:`JsonLines` stream:
  whatever else writes to stderr — the narration of ``jnx demo``, ``error:``/``hint:`` lines, a
  progress bar, a library's print — comes out as a JSON object too (``"logger": "stderr"``), so
  every line of stderr parses. In text mode nothing changes but the masking.
* :func:`log_context` puts ids on every line written inside it, on this thread: ``run_id`` and
  ``system`` (a run), ``delivery_pass`` and ``system`` (an outbox pass); a line about one disclosure
  passes ``extra={"disclosure_id": …}``. ``request_id`` is the correlation id of the web request or
  command (:mod:`jnx.security.trace`), the one its audit entries carry.
* Every line goes through :func:`jnx.security.masking.mask_text` (valid ID numbers) and
  :func:`scrub` (the values of secret variables the process was started with, credentials in URLs).

Fields of a line: ``ts`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``, the
context ids present, ``exception`` (the traceback text, masked) when there is one.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import io
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, TextIO

from jnx.errors import ConfigError
from jnx.security.masking import mask_text

FORMATS = ("text", "json")
#: the ids a line may carry (context or ``extra``), in this order
IDS = ("request_id", "run_id", "system", "disclosure_id", "delivery_pass", "worker")
_NONE: Mapping[str, Any] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("jnx_log_context", default=_NONE)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]*@")
#: environment variables whose values are secrets (never printed): passwords, tokens, keys, passphrases
SECRET_NAME = re.compile(r"(?i)(pass|secret|token|key|credential|pwd)")
_NAME_OR_PATH = re.compile(r"[A-Z][A-Z0-9_]*|/[^\s]*")  # JNX_KEY_PASSPHRASE_ENV=JNX_KEY_PASSPHRASE names one
_secrets: list[str] = []
_lock = threading.Lock()


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Every log line written inside (on this thread) carries ``ids`` (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_context.get())


def remember_secrets(environment: Mapping[str, str]) -> None:
    """Values of secret-looking variables of ``environment`` (≥ 6 characters) that lines must never show."""
    found = {v for k, v in environment.items() if SECRET_NAME.search(k) and v and len(v) >= 6 and not v.isdigit()
             and not _NAME_OR_PATH.fullmatch(v)}
    with _lock:
        _secrets[:] = sorted(found | set(_secrets), key=len, reverse=True)


def scrub(text: str) -> str:
    """``text`` with credentials in URLs removed, remembered secret values replaced by ``***`` and every
    valid ID number masked."""
    text = _USERINFO.sub(r"\1", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return mask_text(text)


def _request_id() -> str | None:
    from jnx.security.trace import _current

    return _current.get()


def _line(level: str, logger: str, message: str, fields: Mapping[str, Any], exception: str | None = None) -> str:
    body: dict[str, Any] = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                            "level": level, "logger": logger, "message": scrub(message)}
    request = _request_id()
    if request:
        body["request_id"] = request
    for key in IDS:
        if key in fields and fields[key] is not None:
            body[key] = fields[key] if isinstance(fields[key], int | float) else scrub(str(fields[key]))
    if exception:
        body["exception"] = scrub(exception)
    return json.dumps(body, ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (the module docstring lists its fields)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {**_context.get(), **{k: getattr(record, k) for k in IDS if hasattr(record, k)}}
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return _line(record.levelname, record.name, record.getMessage(), fields, exception)


class ScrubbingFormatter(logging.Formatter):
    """Text lines as ``inner`` formats them, then :func:`scrub` (secrets, credentials, ID numbers)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return scrub(self.inner.format(record))


class JsonLines(io.TextIOBase):
    """A text stream that writes each line given to it to ``target`` as a JSON object — unless it is a
    JSON object already (a log line of :class:`JsonFormatter`). Carriage-return redraws (a progress
    bar's) and escape sequences are dropped; an unfinished line waits for its end (or :meth:`flush`)."""

    _ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

    def __init__(self, target: TextIO, logger: str = "stderr") -> None:
        super().__init__()
        self.target = target
        self.logger = logger
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False  # no progress bar redraws: it is a log

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def fileno(self) -> int:
        return self.target.fileno()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._emit(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._emit(self._pending)
                self._pending = ""
        self.target.flush()

    def _emit(self, line: str) -> None:
        line = self._ESCAPES.sub("", line).rsplit("\r", 1)[-1].rstrip()
        if not line.strip():
            return
        if line.startswith("{") and line.endswith("}"):
            try:
                json.loads(line)
            except ValueError:
                pass
            else:
                self.target.write(line + "\n")
                self.target.flush()
                return
        level = "ERROR" if line.startswith("error: ") else "WARNING" if line.startswith(("warning: ", "hint: ")) else "INFO"
        self.target.write(_line(level, self.logger, line, _context.get()) + "\n")
        self.target.flush()


def check_format(value: str | None) -> str:
    """``text`` (the default) or ``json``; anything else is a ConfigError (exit 3)."""
    chosen = (value or "text").strip().lower()
    if chosen not in FORMATS:
        raise ConfigError(f"JNX_LOG_FORMAT={value!r} is not a log format", hint="use text or json")
    return chosen


def configure(log_format: str | None, environment: Mapping[str, str], *, level: str | int = logging.WARNING,
              text_handler: bool = False) -> str:
    """Set up stderr and the root logger for ``log_format`` (see the module docstring); the format chosen.
    In text mode a handler is installed only with ``text_handler`` (``jnx serve``: timestamped lines;
    other commands keep Python's bare warnings). Idempotent: a second call only changes the level."""
    chosen = check_format(log_format)
    remember_secrets(environment)
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "jnx", False)]
    if ours or (chosen == "text" and not text_handler):
        if ours:
            root.setLevel(level)
        return chosen
    if chosen == "json":
        if not isinstance(sys.stderr, JsonLines):
            target = sys.stderr if sys.stderr is not None else sys.__stderr__
            assert target is not None
            sys.stderr = JsonLines(target)
        handler: logging.Handler = logging.StreamHandler(sys.stderr.target if isinstance(sys.stderr, JsonLines) else sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(ScrubbingFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")))
    handler.jnx = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return chosen


def json_objects(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Each non-empty line parsed as a JSON object (ValueError naming the first that is not)."""
    parsed = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {line[:200]!r}") from exc
        if not isinstance(value, dict):
            raise ValueError(f"line {number} is JSON but not an object: {line[:200]!r}")
        parsed.append(value)
    return parsed
