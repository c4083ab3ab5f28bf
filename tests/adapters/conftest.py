"""Fixtures of the adapter tests: small scripted HTTP servers on 127.0.0.1, silent ones and a dead port.

``http_server()`` starts a :class:`ScriptedServer`: each request takes the next scripted answer
(status, headers, body, delay) or, when the script is empty, the ``default`` answer — or whatever
``responder(request)`` returns. Requests are recorded so a test can count calls and read headers.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    def __init__(self, responder: Callable[[Seen], Answer] | None = None) -> None:
        self.script: list[Answer] = []
        self.default = Answer()
        self.responder = responder
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                with server._lock:
                    server.seen.append(seen)
                    answer = server.script.pop(0) if server.script else None
                if answer is None:
                    answer = server.responder(seen) if server.responder else server.default
                if answer.delay:
                    time.sleep(answer.delay)
                body = answer.body
                if not isinstance(body, bytes):
                    body = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if "Content-Type" not in answer.headers:
                        self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def hits(self) -> int:
        return len(self.seen)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(responder: Callable[[Seen], Answer] | None = None) -> ScriptedServer:
        server = ScriptedServer(responder)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers (or, ``hang_up``, closes them at once)."""

    def __init__(self, *, hang_up: bool = False) -> None:
        self.hang_up = hang_up
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.hang_up:
                conn.recv(65536)  # the request arrives, then the line drops the connection
                conn.close()
            else:
                self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._sock.close()


@pytest.fixture
def silent_server() -> Iterator[Callable[..., SilentServer]]:
    servers: list[SilentServer] = []

    def start(*, hang_up: bool = False) -> SilentServer:
        server = SilentServer(hang_up=hang_up)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, as a URL whose search_path points at it."""
    base = os.environ.get("JNX_TEST_DATABASE_URL")
    if not base:
        pytest.skip("JNX_TEST_DATABASE_URL is not set")
    import sqlalchemy as sa

    schema = f"jnx_adapters_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
