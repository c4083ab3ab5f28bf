"""Printing for the command line: text for people, ``--json`` for schedulers, errors to stderr."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from jnx.errors import JnxError, TransientError
from jnx.security.masking import mask_deep, mask_text

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object for schedulers and scripts.")]


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any) -> str:
    """JSON as jnx prints it: UTF-8 text (Chinese kept readable), Decimals as strings, dates ISO."""
    return json.dumps(data, ensure_ascii=False, default=_default, indent=None)


def emit(data: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as one JSON line when ``as_json`` is set, else through ``render`` (or str).

    Every text in ``data`` has its ID numbers masked first (:func:`jnx.security.masking.mask_deep`),
    whatever field it is in: no command prints a full ID number."""
    if as_json:
        typer.echo(mask_text(dumps(data)))
        return
    data = mask_deep(data)
    if render is not None:
        render(data)
    else:
        typer.echo(mask_text(str(data)))


def hint_for(exc: JnxError) -> str | None:
    """What to do next: the error's own hint, else one read from its cause or its kind.

    Errors raised deep in jnx do not all know the command line; a file that is missing or
    unreadable, or a transient failure, still deserves a next step.
    """
    if exc.hint:
        return exc.hint
    cause = exc.__cause__
    if isinstance(cause, FileNotFoundError):
        return "check the path: there is no file there"
    if isinstance(cause, IsADirectoryError):
        return "give the file itself, not its folder"
    if isinstance(cause, PermissionError):
        return "check the file's permissions: jnx cannot read it"
    if isinstance(exc, TransientError):
        return "nothing was changed for good: run the command again later (schedulers: retry on exit code 4)"
    return None


def report_error(exc: JnxError, as_json: bool = False) -> None:
    """One line ``error: …`` on stderr, and a ``hint: …`` line saying what to do next when known.

    With ``--json`` the same error is also printed on stdout as ``{"error": …}`` so a scheduler that
    reads stdout only still sees why the command failed.
    """
    hint = hint_for(exc)
    hint = mask_text(hint) if hint else hint
    message = mask_text(str(exc))
    if as_json:
        typer.echo(dumps({"error": message, "kind": type(exc).__name__, "exit_code": exc.exit_code, "hint": hint}))
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
