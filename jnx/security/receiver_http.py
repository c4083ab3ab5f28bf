"""A tiny reference HTTP endpoint around :class:`jnx.security.receiver.Receiver` (stdlib only).

``POST /envelopes`` with the compact envelope as body (``Content-Type: application/jose``) answers
``200`` with the receipt as JSON (``signed`` is the receipt's JWS), or the refusal's HTTP status with
``{"code": "JNX-ENV-…", "error": "…"}``. ``GET /health`` answers ``{"status": "ok"}``.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jnx.security.errors import EnvelopeError
from jnx.security.receiver import Receiver

MAX_BODY = 32 * 1024 * 1024


def make_server(receiver: Receiver, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (``port=0`` picks a free one); call ``serve_forever()``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "jnx-receiver"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # no request logging: paths and sizes only would still be noise; never payloads

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path == "/health":
                self._answer(200, {"status": "ok"})
            else:
                self._answer(404, {"code": "NOT-FOUND", "error": f"no such path {self.path}"})

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            if self.path != "/envelopes":
                self._answer(404, {"code": "NOT-FOUND", "error": f"no such path {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._answer(411, {"code": "LENGTH-REQUIRED", "error": "send Content-Length"})
                return
            if length > MAX_BODY:
                self._answer(413, {"code": "TOO-LARGE", "error": f"envelopes are at most {MAX_BODY} bytes"})
                return
            token = self.rfile.read(length)
            try:
                receipt = receiver.receive(token)
            except EnvelopeError as exc:
                self._answer(exc.http_status, {"code": exc.code, "error": exc.reason})
                return
            self._answer(200, {**receipt.fields(), "signed": receipt.signed})

    return ThreadingHTTPServer((host, port), Handler)
