"""The reference receiver on the ASGI stack of jnx's web API: a Starlette app under uvicorn.

:func:`receiver_app` answers ``POST /envelopes``, ``POST /envelopes/batch`` and ``GET /health`` as
:mod:`jnx.security.receiver_http` documents; :class:`AsgiServer` serves it on a socket it binds
itself (``SO_REUSEPORT`` for several processes on one port), with the ``serve_forever`` /
``shutdown`` / ``server_close`` / ``server_address`` shape the process pool and the tests use.

The body limit counts the bytes as they arrive: a ``Content-Length`` that is not one plain decimal
number is refused before anything is read, one above the limit too, and a body (chunked or not) is
cut off — 413 — as soon as it passes the limit, whatever its header said. uvicorn itself answers
400 to framing it cannot parse. The receiver's work (decrypt, verify, store) runs in a worker thread.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jnx.security.errors import EnvelopeError, MalformedEnvelope
from jnx.security.receiver import Receipt, Receiver

MAX_BODY = 32 * 1024 * 1024
MAX_BATCH = 1000  # envelopes per POST /envelopes/batch (jnx's outbox sends at most max_batch, default 100)
ENVELOPE_FIELD = "jnx_envelope"  # a sealed item's field, as jnx.publicity.outbox.ENVELOPE_FIELD


def batch_tokens(document: Any) -> list[Any]:
    """The envelopes of a batch body, one entry per item: a compact token, or whatever stood in its
    place (answered as malformed). Raises ValueError for a body that is no batch at all."""
    if isinstance(document, Mapping):
        if isinstance(document.get("records"), list):
            items = document["records"]
        elif ENVELOPE_FIELD in document:
            items = [document]
        else:
            raise ValueError(f'send {{"records": [{{"{ENVELOPE_FIELD}": "<compact>"}}, …]}} or a JSON list')
    elif isinstance(document, list):
        items = document
    else:
        raise ValueError(f'send {{"records": [{{"{ENVELOPE_FIELD}": "<compact>"}}, …]}} or a JSON list')
    return [item.get(ENVELOPE_FIELD) if isinstance(item, Mapping) else item for item in items]


def receipt_result(index: int, receipt: Receipt) -> dict[str, Any]:
    """A batch result for a stored envelope: what ``POST /envelopes`` answers, with ``index`` and
    ``record_id`` (the receipt id, where jnx's outbox reads it)."""
    return {"index": index, **receipt.fields(), "record_id": receipt.receipt_id, "signed": receipt.signed}


def refusal_result(index: int, error: EnvelopeError) -> dict[str, Any]:
    """A batch result for a refused envelope: its code and reason as ``POST /envelopes`` answers
    them, with a ``rejected`` status and the reason as a coded ``reasons`` entry (for the outbox)."""
    return {"index": index, "status": "rejected", "code": error.code, "error": error.reason,
            "reasons": [{"field": "", "code": error.code, "message": error.reason}]}


def answer_batch(receiver: Receiver, tokens: list[Any]) -> list[dict[str, Any]]:
    """One result per token, in order; the well-formed ones received in one transaction."""
    results: list[dict[str, Any] | None] = [None] * len(tokens)
    positions = []
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            positions.append(index)
        else:
            results[index] = refusal_result(index, MalformedEnvelope(f"item {index} holds no compact envelope"))
    answers = receiver.receive_many([tokens[i] for i in positions])
    for index, answer in zip(positions, answers, strict=True):
        results[index] = refusal_result(index, answer) if isinstance(answer, EnvelopeError) else receipt_result(index, answer)
    return results  # type: ignore[return-value]  # every slot is filled


class _TooLarge(Exception):
    pass


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), status_code=status,
                    media_type="application/json; charset=utf-8")


async def _read_body(request: Request, limit: int) -> bytes | Response:
    """The body, at most ``limit`` bytes, or the refusal to answer."""
    lengths = request.headers.getlist("content-length")
    if lengths:
        text = lengths[0].strip()
        if len(lengths) != 1 or not (text.isascii() and text.isdigit()):
            return _json(411, {"code": "LENGTH-REQUIRED", "error": "send one Content-Length of 0 or more bytes"})
        if int(text) > limit:
            return _json(413, {"code": "TOO-LARGE", "error": f"bodies are at most {limit} bytes"})
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
    except _TooLarge:
        return _json(413, {"code": "TOO-LARGE", "error": f"bodies are at most {limit} bytes"})
    return b"".join(chunks)


def receiver_app(receiver: Receiver, *, max_body: int, max_batch: int) -> Starlette:
    """The receiver's routes; every answer is JSON with a code (``JNX-ENV-…`` for envelopes)."""
    unavailable = _json(503, {"code": "STORE-UNAVAILABLE", "error": "the receipt store is unavailable; try again"})

    async def health(request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def one(request: Request) -> Response:
        body = await _read_body(request, max_body)
        if isinstance(body, Response):
            return body
        try:
            receipt = await run_in_threadpool(receiver.receive, body)
        except EnvelopeError as exc:
            return _json(exc.http_status, {"code": exc.code, "error": exc.reason})
        except sqlite3.Error:
            return unavailable
        return _json(200, {**receipt.fields(), "signed": receipt.signed})

    async def batch(request: Request) -> Response:
        body = await _read_body(request, max_body)
        if isinstance(body, Response):
            return body
        try:
            tokens = batch_tokens(json.loads(body))
        except (ValueError, RecursionError) as exc:  # also json's and UTF-8's errors
            return _json(400, {"code": "BAD-REQUEST", "error": f"not a batch of envelopes: {type(exc).__name__}: {exc}"[:500]})
        if len(tokens) > max_batch:
            return _json(413, {"code": "TOO-LARGE", "error": f"batches are at most {max_batch} envelopes"})
        try:
            results = await run_in_threadpool(answer_batch, receiver, tokens)
        except sqlite3.Error:
            return unavailable
        return _json(200, {"results": results})

    async def not_found(request: Request, exc: Exception) -> Response:
        return _json(404, {"code": "NOT-FOUND", "error": f"no such path {request.url.path}"})

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _json(405, {"code": "METHOD-NOT-ALLOWED", "error": f"{request.method} is not allowed on {request.url.path}"})

    routes = [Route("/health", health, methods=["GET"]), Route("/envelopes", one, methods=["POST"]),
              Route("/envelopes/batch", batch, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})


class AsgiServer:
    """uvicorn serving ``app`` on ``host:port`` (``port=0``: a free one), bound at construction."""

    def __init__(self, app: Starlette, host: str, port: int, *, reuse_port: bool = False) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self.socket.bind((host, port))
            self.socket.listen(1024)
        except OSError:
            self.socket.close()
            raise
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="off",
                                timeout_keep_alive=30, h11_max_incomplete_event_size=64 * 1024)
        self._server = uvicorn.Server(config)
        self._done = threading.Event()
        self._started = False

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (from another thread), or until a signal handler of the calling
        (main) thread raises — then stop serving and let it propagate."""
        thread = threading.Thread(target=self._run, name="jnx-receiver-asgi", daemon=True)
        thread.start()
        try:
            while thread.is_alive():
                thread.join(0.5)
        finally:
            self._server.should_exit = True
            thread.join()

    def _run(self) -> None:
        self._started = True
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._done.set()

    def shutdown(self) -> None:
        """Stop serving (in-flight requests finish) and wait until :meth:`serve_forever` has."""
        self._server.should_exit = True
        if self._started:
            self._done.wait(30)

    def server_close(self) -> None:
        self.socket.close()
