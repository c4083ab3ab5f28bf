"""Cursor pagination: an opaque cursor names the last item of a page; the next page starts after it."""

from __future__ import annotations

import base64
import json
from typing import Any

from jnx.errors import InputError

MAX_LIMIT = 1000


class BadCursor(InputError):
    """A ``cursor`` that no page of this list gave out."""

    exit_code = 2
    http_status = 400


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise BadCursor("this cursor is not one a page gave out", hint="start again without cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadCursor("this cursor is not one a page gave out", hint="start again without cursor")
    return values


def checked_limit(limit: int, most: int = MAX_LIMIT) -> int:
    if not 1 <= limit <= most:
        raise InputError(f"limit must be 1–{most}, not {limit}", hint=f"ask for at most {most} a page and follow next_cursor")
    return limit


def filtered(query: Any, *conditions: Any) -> Any:
    """``query`` with every condition that is not None."""
    for condition in conditions:
        if condition is not None:
            query = query.where(condition)
    return query


def between(column: Any, since: Any, until: Any) -> tuple[Any, Any]:
    """The conditions of a date range on ``column``: ``since`` inclusive, ``until`` exclusive (None: open)."""
    return (column >= since if since is not None else None, column < until if until is not None else None)


def before_id(column: Any, cursor: str | None) -> Any:
    """Newest-first paging by a numeric id: the rows after the cursor's (None without a cursor)."""
    if not cursor:
        return None
    (last,) = decode_cursor(cursor, 1)
    try:
        return column < int(last)
    except (TypeError, ValueError) as exc:
        raise BadCursor("this cursor is not one a page gave out", hint="start again without cursor") from exc
