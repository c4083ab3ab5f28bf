"""The problem answers routes declare in the OpenAPI document (RFC 9457)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    hint: str | None = None


_CONTENT = {"application/problem+json": {"schema": Problem.model_json_schema()}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": _CONTENT}
    for status, description in ((400, "Bad request"), (401, "No valid bearer token or session"), (403, "Not allowed"),
                                (404, "Not found (or outside the caller's department)"), (409, "In conflict with what exists"),
                                (422, "Invalid parameters"),
                                (503, "The database is unavailable; try again"))
}
