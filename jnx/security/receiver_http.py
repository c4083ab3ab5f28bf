"""The reference HTTP endpoint around :class:`jnx.security.receiver.Receiver` (Starlette under uvicorn,
:mod:`jnx.security.receiver_asgi`), in one process or in several sharing one port.

``POST /envelopes`` with the compact envelope as body (``Content-Type: application/jose``) answers
``200`` with the receipt as JSON (``signed`` is the receipt's JWS), or the refusal's HTTP status with
``{"code": "JNX-ENV-…", "error": "…"}``. ``POST /envelopes/batch`` takes what jnx's outbox sends —
``{"records": [{"jnx_envelope": "<compact>"}, …], …}``, or a bare JSON list of those or of compact
tokens, or one ``{"jnx_envelope": …}`` — stores the batch in one transaction
(:meth:`Receiver.receive_many`) and answers ``200 {"results": [...]}``, one result per envelope in
order: the receipt's fields with ``index``, ``record_id`` and ``signed``, or a refusal with
``"status": "rejected"``, its ``code``, ``error`` and ``reasons``. ``GET /health`` answers
``{"status": "ok"}``. Bodies are at most ``MAX_BODY`` bytes, counted as they arrive (a
``Content-Length`` that lies or a chunked body cannot pass it: 411/413); one item that cannot be
opened is answered with its ``JNX-ENV-…`` code and the others of its batch are still answered.

:class:`ReceiverProcesses` runs N such servers in spawned processes on one host:port (Linux
``SO_REUSEPORT``), each building its own receiver (and so its own connection to the shared receipt
file); :func:`serve_processes` keeps them until SIGINT/SIGTERM or until one of them ends.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for
from types import FrameType
from typing import Any, cast

from jnx.errors import ConfigError, JnxError
from jnx.security.receiver import Receiver
from jnx.security.receiver_asgi import (  # noqa: F401 - the batch helpers are this module's API too
    ENVELOPE_FIELD,
    MAX_BATCH,
    MAX_BODY,
    AsgiServer,
    answer_batch,
    batch_tokens,
    receipt_result,
    receiver_app,
    refusal_result,
)

ReceiverFactory = Callable[[], Receiver]


def make_server(receiver: Receiver, host: str = "127.0.0.1", port: int = 0, *, reuse_port: bool = False) -> AsgiServer:
    """A server bound to ``host:port`` (``port=0`` picks a free one); call ``serve_forever()``.
    ``reuse_port=True`` lets other processes bind the same port (Linux ``SO_REUSEPORT``). It is the
    Starlette app of :mod:`jnx.security.receiver_asgi` under uvicorn."""
    return AsgiServer(receiver_app(receiver, max_body=MAX_BODY, max_batch=MAX_BATCH), host, port, reuse_port=reuse_port)


# ---------------------------------------------------------------- several processes on one port
class ReceiverProcessError(JnxError):
    """A receiver process could not start, or ended while the others were serving."""

    exit_code = 5

    def __init__(self, message: str, *, exit_code: int = 5, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


@dataclass(frozen=True)
class EndedProcess:
    pid: int
    exitcode: int | None

    def describe(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            return f"receiver process {self.pid} was killed by {signal.Signals(-self.exitcode).name}"
        return f"receiver process {self.pid} ended with exit code {self.exitcode}"


class _Stop(Exception):
    """Raised by a receiver process's SIGTERM handler to leave its wait."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _start_failure(exc: BaseException, host: str, port: int) -> tuple[str, int]:
    if isinstance(exc, JnxError):
        return str(exc), exc.exit_code
    if isinstance(exc, OSError):
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}", ConfigError.exit_code
    return f"{type(exc).__name__}: {exc}", ReceiverProcessError.exit_code


def _serve_child(factory: ReceiverFactory, host: str, port: int, stop: Connection, events: Any) -> None:
    """One receiver process: serve until the parent closes its end of ``stop`` (also when the parent
    dies) or SIGTERM; Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        receiver = factory()
        server = make_server(receiver, host, port, reuse_port=True)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises a JnxError
        events.put(("failed", os.getpid(), *_start_failure(exc, host, port)))
        sys.exit(1)
    thread = threading.Thread(target=server.serve_forever, name="jnx-receiver", daemon=True)
    thread.start()
    try:
        signal.signal(signal.SIGTERM, _raise_stop)
        events.put(("ready", os.getpid(), server.server_address[1]))
        wait_for([stop])
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.shutdown()
        server.server_close()
        close = getattr(receiver.store, "close", None)
        if close is not None:
            close()


def check_port_free(host: str, port: int) -> None:
    """ConfigError when something already listens on ``host:port`` (another program, or another
    receiver whose ``SO_REUSEPORT`` group the new processes would otherwise join)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                              hint="another program uses this port: stop it or choose another --port") from exc


class ReceiverProcesses:
    """``processes`` receiver servers on one ``host:port``, each in a spawned process with the
    receiver ``factory()`` builds there (a picklable callable: a top-level function, or an instance of
    a top-level class). Linux only (``SO_REUSEPORT``) for more than one process.

        pool = ReceiverProcesses(factory, processes=2, port=8443)
        port = pool.start()      # all listening, or ReceiverProcessError / ConfigError
        ended = pool.wait(1.0)   # an EndedProcess when one ended by itself, else None
        pool.stop()              # every process stopped and joined
    """

    def __init__(self, factory: ReceiverFactory, *, processes: int, host: str = "127.0.0.1", port: int = 0,
                 start_method: str = "spawn") -> None:
        if processes < 1:
            raise ConfigError(f"--processes must be at least 1, not {processes}")
        if processes > 1 and not (sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")):
            raise ConfigError(f"several receiver processes on one port need Linux SO_REUSEPORT; this is {sys.platform}",
                              hint="run with --processes 1, or several receivers on separate ports behind a balancer")
        self.factory = factory
        self.processes = processes
        self.host = host
        self.port = port
        self._context: Any = multiprocessing.get_context(start_method)
        self._children: list[Any] = []
        self._stop: Connection | None = None
        self._events: Any = None

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self._children]

    def start(self, timeout: float = 120.0) -> int:
        """Start every process and wait until each listens; the port they share."""
        if self.port:
            check_port_free(self.host, self.port)
        reader, self._stop = self._context.Pipe(duplex=False)
        self._events = self._context.Queue()
        try:
            port = self._start_one(reader, self.port, timeout)
            for _ in range(self.processes - 1):  # the others join the first one's port (also when it was 0)
                self._start_one(reader, port, timeout)
        except BaseException:
            self.stop()
            raise
        finally:
            reader.close()
        self.port = port
        return port

    def _start_one(self, reader: Connection, port: int, timeout: float) -> int:
        child = self._context.Process(target=_serve_child, args=(self.factory, self.host, port, reader, self._events),
                                      name=f"jnx-receiver-{len(self._children) + 1}", daemon=True)
        child.start()
        self._children.append(child)
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                event = None
            if event is not None:
                if event[0] == "ready":
                    return int(event[2])
                _, pid, message, exit_code = event
                raise ReceiverProcessError(f"receiver process {pid} could not start: {message}", exit_code=exit_code)
            if not child.is_alive():
                child.join()
                raise ReceiverProcessError(f"{EndedProcess(child.pid, child.exitcode).describe()} while starting")
            if time.monotonic() > deadline:
                raise ReceiverProcessError(f"receiver process {child.pid} did not start within {timeout:.0f} s")

    def wait(self, timeout: float | None = None) -> EndedProcess | None:
        """The first process found ended (it is joined), or None after ``timeout`` seconds."""
        by_sentinel = {child.sentinel: child for child in self._children}
        ready = wait_for(list(by_sentinel), timeout)
        if not ready:
            return None
        child = by_sentinel[cast(int, ready[0])]
        child.join()  # its sentinel closes a moment before it can be reaped
        return EndedProcess(child.pid, child.exitcode)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every process to stop (closing the pipe they wait on), join them; terminate, then kill,
        any still running after ``timeout`` seconds."""
        if self._stop is not None:
            self._stop.close()
            self._stop = None
        deadline = time.monotonic() + timeout
        for child in self._children:
            child.join(max(0.0, deadline - time.monotonic()))
        for child in self._children:
            if child.is_alive():
                child.terminate()
                child.join(2.0)
            if child.is_alive():
                child.kill()
                child.join()
        if self._events is not None:
            self._events.close()
            self._events.join_thread()
            self._events = None

    def __enter__(self) -> ReceiverProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


GRACE_AFTER_CHILD_ENDED = 0.5  # a stop of the whole process group (systemd) may end a child before we hear of it


def serve_processes(pool: ReceiverProcesses) -> None:
    """Keep a started pool serving until SIGINT or SIGTERM (then stop every process and return), or
    until one process ends by itself (then stop the others and raise :class:`ReceiverProcessError`).
    Call from the main thread: it handles SIGINT and SIGTERM meanwhile."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping.is_set():
            ended = pool.wait(0.5)
            if ended is not None and not stopping.wait(GRACE_AFTER_CHILD_ENDED):
                raise ReceiverProcessError(f"{ended.describe()}; the other receiver processes were stopped",
                                           hint="see its output above; start jnx receiver serve again")
    finally:
        pool.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
