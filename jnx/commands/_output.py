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

from jnx.errors import JnxError

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
    """Print ``data`` as one JSON line when ``as_json`` is set, else through ``render`` (or str)."""
    if as_json:
        typer.echo(dumps(data))
    elif render is not None:
        render(data)
    else:
        typer.echo(str(data))


def report_error(exc: JnxError, as_json: bool = False) -> None:
    """One line ``error: …`` on stderr, and a ``hint: …`` line when the error knows what to do next.

    With ``--json`` the same error is also printed on stdout as ``{"error": …}`` so a scheduler that
    reads stdout only still sees why the command failed.
    """
    if as_json:
        typer.echo(dumps({"error": str(exc), "kind": type(exc).__name__, "exit_code": exc.exit_code, "hint": exc.hint}))
    print(f"error: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)
