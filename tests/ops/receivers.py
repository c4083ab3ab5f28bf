"""Real receivers on loopback for the alert notifications: an HTTP webhook (http.server) that checks
the HMAC signature and can be told to fail, and an SMTP server (aiosmtpd) that keeps what it gets."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jnx.ops.notify import SIGNATURE_HEADER

SECRET = "webhook-secret-of-the-test"


@dataclass
class Webhook:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)  # bodies whose signature was right
    refused: int = 0  # requests with a wrong or missing signature
    fail_next: int = 0  # answer 503 to the next N requests
    requests: int = 0

    def events(self) -> list[tuple[str, str, str]]:
        return [(b["event"], b["alert"]["kind"], b["alert"]["subject"]) for b in self.received]


@contextmanager
def webhook(secret: str = SECRET) -> Iterator[Webhook]:
    state = Webhook(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            with lock:
                state.requests += 1
                if state.fail_next > 0:
                    state.fail_next -= 1
                    status = 503
                elif not hmac.compare_digest(self.headers.get(SIGNATURE_HEADER, ""), expected):
                    state.refused += 1
                    status = 401
                else:
                    state.received.append(json.loads(body))
                    status = 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/jnx"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Mailbox:
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(port=0)

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK kept"

    with socket.create_server(("127.0.0.1", 0)) as probe:  # a free port (aiosmtpd cannot report an ephemeral one)
        box.port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
