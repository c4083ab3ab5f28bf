"""Fixtures of the operations tests: a TCP relay to stand between jnx and PostgreSQL (stop it and the
database is unreachable, start it again and it answers), and a real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jnx.sandbox.envelopes import dynamic_envelope_unwrap, home_signers, platform_key
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.sandbox.systems import registrations_for, secrets_from
from tests.commands.conftest import Jnx, db, home, jnx  # noqa: F401

PASSPHRASE = "a passphrase for the operations tests"


@pytest.fixture
def sealed_sandbox(home: Path) -> Iterator[tuple[Sandbox, Path]]:  # noqa: F811
    """The sandbox as `jnx sandbox serve` starts it: its credit platform opens envelopes only, with its
    key kept under the home, and trusts the signing keys of the home's key store."""
    home.mkdir(parents=True, exist_ok=True)
    key, public = platform_key(home / "sandbox")
    config = SandboxConfig(seed=5, records=40, port_base=0, unwrap=dynamic_envelope_unwrap([key], home_signers(home)))
    with Sandbox(config) as sandbox:
        yield sandbox, public


def register_demo_systems(jnx: Jnx, sandbox: Sandbox, platform_public: Path, folder: Path,  # noqa: F811
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """What docs/sandbox.md says to do: the secrets exported, jnx's key made, the platform's imported,
    and the demo's registrations (the four systems, on this sandbox's ports) registered."""
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", PASSPHRASE)
    for name, secret in secrets_from(sandbox.config.credentials).items():
        monkeypatch.setenv(name, secret)
    assert jnx("keys", "generate").code == 0
    assert jnx("keys", "import-peer", str(platform_public), "--use", "enc", "--name", "sandbox-credit").code == 0
    for doc in registrations_for(sandbox.urls()):
        path = folder / f"{doc['id']}.yaml"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        assert jnx("systems", "register", str(path)).code == 0


class Relay:
    """Forwards connections on a loopback port to ``target``; :meth:`stop` closes the port and every
    connection through it, :meth:`start` opens the same port again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it (Linux)
            except OSError:
                pass
            self._server.close()
            self._server = None
        with self._lock:
            for s in self._open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._open.clear()


@pytest.fixture
def relay_to_postgres() -> Iterator[Any]:
    """A factory: ``relay(url)`` → (a Relay started, the url through it)."""
    relays: list[Relay] = []

    def make(url: str) -> tuple[Relay, str]:
        from sqlalchemy import make_url

        parsed = make_url(url)
        relay = Relay((parsed.host or "127.0.0.1", parsed.port or 5432))
        relay.start()
        relays.append(relay)
        return relay, parsed.set(port=relay.port).render_as_string(hide_password=False)

    yield make
    for relay in relays:
        relay.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
