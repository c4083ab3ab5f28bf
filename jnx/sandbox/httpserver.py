"""The HTTP machinery every sandbox platform shares: lines (one ThreadingHTTPServer per port on
127.0.0.1), the admin endpoints, and the fault knobs applied around a platform's own handler.

A platform only turns a :class:`Request` into a :class:`Response`; latency, hangs, 5xx answers,
malformed, truncated and duplicated pages, and lines that are down are done here, the same way for
all four platforms.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jnx.sandbox.errors import SandboxConfigError, SandboxStartError
from jnx.sandbox.faults import (
    LINE_NAMES,
    FaultConfig,
    FaultDecision,
    FaultState,
    LineName,
)

LOOPBACK = "127.0.0.1"
MAX_BODY = 20 * 1024 * 1024

ENTITY_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b']>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol9;</soap:Body></soap:Envelope>'
)


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    line: LineName

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    page: bool = False  # a page of records: malformed/truncated/entity-bomb faults apply


def json_response(data: Any, status: int = 200, *, page: bool = False, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, headers=headers or {}, page=page)


class Platform:
    """One simulated platform. Subclasses implement :meth:`handle`, and may override the rest."""

    name: str = "platform"
    xml: bool = False

    def __init__(self, faults: FaultState) -> None:
        self.faults = faults

    def is_data_request(self, request: Request) -> bool:
        """Metadata (WSDL, XSD) is spared from errors so clients can load it; everything else is data."""
        return True

    def handle(self, request: Request, decision: FaultDecision) -> Response:
        raise NotImplementedError

    def error_response(self, status: int) -> Response:
        return json_response({"code": status * 100, "msg": "服务暂不可用 (sandbox fault)", "data": None}, status)

    def advance(self) -> int:
        """Apply the revision batch (updates of earlier records); return how many records changed."""
        return 0


class _LineServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, line: Line) -> None:
        self.line = line
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__((LOOPBACK, line.port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.conn_lock:
            self.connections.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self.conn_lock:
            for sock in list(self.connections):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Line:
    """One port of a platform. ``down()`` closes the listening socket (connections are refused)."""

    def __init__(self, owner: PlatformServer, name: LineName, port: int) -> None:
        self.owner = owner
        self.name = name
        self.port = port
        self._server: _LineServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def up(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        with self._lock:
            if self._server is not None:
                return
            try:
                server = _LineServer(self)
            except OSError as exc:
                raise SandboxStartError(f"{self.owner.platform.name} {self.name} line cannot bind {LOOPBACK}:{self.port}: {exc.strerror}") from exc
            self.port = server.server_address[1]  # keep an ephemeral port across down/up
            self._server = server
            self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"sandbox-{self.owner.platform.name}-{self.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if thread is not None:
            thread.join(timeout=5)


class PlatformServer:
    """A platform served on its lines (primary and backup), with shared fault settings."""

    def __init__(self, platform: Platform, ports: Mapping[LineName, int]) -> None:
        self.platform = platform
        self.stopping = threading.Event()
        self.lines: dict[LineName, Line] = {name: Line(self, name, ports[name]) for name in LINE_NAMES if name in ports}

    @property
    def faults(self) -> FaultState:
        return self.platform.faults

    def urls(self) -> dict[str, str]:
        return {name: line.url for name, line in self.lines.items()}

    def start(self) -> None:
        self.stopping.clear()
        down = set(self.faults.config.lines_down)
        for name, line in self.lines.items():
            if name not in down:
                line.start()

    def stop(self) -> None:
        self.stopping.set()
        for line in self.lines.values():
            line.stop()

    def set_faults(self, data: dict[str, Any]) -> FaultConfig:
        config = self.faults.update(data)
        self.apply_lines(config)
        return config

    def apply_lines(self, config: FaultConfig) -> None:
        for name, line in self.lines.items():
            if name in config.lines_down and line.up:
                threading.Thread(target=line.stop, daemon=True).start()  # may be called from this line's handler
            elif name not in config.lines_down and not line.up:
                line.start()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _LineServer
    server_version = "sandbox"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the sandbox is a test fixture, not a web server to audit."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        line = self.server.line
        owner = line.owner
        if not line.up:
            self.close_connection = True
            return
        split = urlsplit(self.path)
        length_header = self.headers.get("Content-Length") or "0"
        length = int(length_header) if length_header.isdigit() else -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._send(json_response({"code": 41300, "msg": f"Content-Length must be 0–{MAX_BODY} bytes"}, 413))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True), dict(self.headers.items()), body, line.name)
        if split.path.startswith("/_sandbox/"):
            self._send(_admin(owner, request))
            return
        decision = owner.faults.decide(owner.platform.is_data_request(request))
        if decision.latency_s and owner.stopping.wait(decision.latency_s):
            self.close_connection = True
            return
        if decision.hang_s is not None:
            owner.stopping.wait(decision.hang_s)
            self.close_connection = True
            return
        if decision.error_status is not None:
            response = owner.platform.error_response(decision.error_status)
            if decision.retry_after is not None:
                response.headers["Retry-After"] = str(decision.retry_after)
        else:
            try:
                response = owner.platform.handle(request, decision)
            except Exception as exc:  # noqa: BLE001 - a sandbox bug must answer 500, not kill the connection silently
                response = json_response({"code": 50000, "msg": f"sandbox internal error: {type(exc).__name__}: {exc}"}, 500)
        if response.page:
            if decision.entity_bomb and owner.platform.xml:
                response.body = ENTITY_BOMB
            elif decision.malformed:
                cut = response.body[: max(1, len(response.body) // 2)]
                if "utf-8" in response.content_type:  # cut on a character boundary: bad JSON/XML, good UTF-8
                    cut = cut.decode("utf-8", "ignore").encode()
                response.body = cut
        self._send(response, truncate=response.page and decision.truncate)

    def _send(self, response: Response, truncate: bool = False) -> None:
        head = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}",
                f"Content-Type: {response.content_type}", f"Content-Length: {len(response.body)}"]
        head += [f"{k}: {v}" for k, v in response.headers.items()]
        if truncate:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if truncate:
            self.wfile.write(data + response.body[: len(response.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(data + response.body)


def _admin(owner: PlatformServer, request: Request) -> Response:
    path = request.path
    if path == "/_sandbox/health":
        return json_response({"platform": owner.platform.name, "line": request.line, "status": "ok"})
    if path == "/_sandbox/faults" and request.method == "GET":
        return json_response(owner.faults.config.model_dump())
    if path == "/_sandbox/faults" and request.method == "POST":
        try:
            data = json.loads(request.body or b"{}")
            if not isinstance(data, dict):
                raise SandboxConfigError("the body must be a JSON object of fault knobs")
            return json_response(owner.set_faults(data).model_dump())
        except json.JSONDecodeError as exc:
            return json_response({"error": f"body is not JSON: {exc}"}, 400)
        except SandboxConfigError as exc:
            return json_response({"error": str(exc), "hint": exc.hint}, 400)
    if path == "/_sandbox/advance" and request.method == "POST":
        return json_response({"platform": owner.platform.name, "revised": owner.platform.advance()})
    return json_response({"error": f"unknown sandbox endpoint {request.method} {path}"}, 404)
