"""The case-handling system (行政执法网上办案系统): REST/JSON, cursor pagination by update time,
app-key + secret signed requests (docs/source-shapes.md §2)."""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import json
import threading
from collections.abc import Mapping

from jnx.sandbox.data import BEIJING, parse_since
from jnx.sandbox.faults import FaultDecision, FaultState
from jnx.sandbox.feed import Feed
from jnx.sandbox.httpserver import Platform, Request, Response, json_response
from jnx.sandbox.signing import SignatureError, SignatureVerifier

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def encode_cursor(position: tuple[dt.datetime, str]) -> str:
    moment, key = position
    return base64.urlsafe_b64encode(f"{int(moment.timestamp() * 1000)}|{key}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        ms, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return dt.datetime.fromtimestamp(int(ms) / 1000, BEIJING), key
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


class CaseHandlingPlatform(Platform):
    name = "case_handling"

    def __init__(self, faults: FaultState, feeds: Mapping[str, Feed], credentials: Mapping[str, str]) -> None:
        super().__init__(faults)
        self.feeds = dict(feeds)  # "penalties", "coercions"
        self.verifier = SignatureVerifier(credentials)
        self._duplicated: set[tuple[str, int]] = set()
        self._dup_lock = threading.Lock()

    def error_response(self, status: int) -> Response:
        return json_response({"code": status * 100, "msg": "服务暂不可用，请稍后重试 (sandbox fault)", "data": None}, status)

    def advance(self) -> int:
        return sum(feed.advance() for feed in self.feeds.values())

    def handle(self, request: Request, decision: FaultDecision) -> Response:
        kind = request.path.removeprefix("/api/v1/")
        feed = self.feeds.get(kind)
        if request.method != "GET" or feed is None:
            return json_response({"code": 40400, "msg": f"no such API: {request.method} {request.path}", "data": None}, 404)
        try:
            self.verifier.verify(request.method, request.path, request.query, request.headers)
        except SignatureError as exc:
            return json_response({"code": exc.code, "msg": exc.message, "data": None}, 401)
        try:
            limit = int(request.arg("limit") or DEFAULT_LIMIT)
            if not 1 <= limit <= MAX_LIMIT:
                raise ValueError(f"limit must be 1–{MAX_LIMIT}")
            cursor = request.arg("cursor")
            positions, _, blobs = feed.snapshot()
            if cursor:
                start = bisect.bisect_right(positions, decode_cursor(cursor))
            else:
                start = bisect.bisect_left(positions, (parse_since(request.arg("updated_after")), ""))
        except ValueError as exc:
            return json_response({"code": 40001, "msg": f"参数错误: {exc}", "data": None}, 400)
        end = min(start + limit, len(positions))
        has_more = end < len(positions)
        next_position = positions[end - 1] if end > start else None
        if decision.duplicate and start > 0 and has_more:
            with self._dup_lock:
                if (kind, start) not in self._duplicated:
                    self._duplicated.add((kind, start))
                    next_position = positions[start - 1]  # the client will be served this page again
        next_cursor = encode_cursor(next_position) if has_more and next_position else None
        body = b"".join((
            b'{"code":0,"msg":"success","data":{"items":[', b",".join(blobs[start:end]),
            b'],"next_cursor":', json.dumps(next_cursor).encode(), b',"has_more":', b"true" if has_more else b"false",
            b',"count":', str(end - start).encode(), b"}}",
        ))
        return Response(200, body, page=True)
