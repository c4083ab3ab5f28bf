"""``jnx keys``, ``jnx audit verify`` and ``jnx receiver serve`` on the paths a user hits when
something is missing: documented exit codes, one error line with what to do, no traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.commands.conftest import Jnx, assert_error

PASSPHRASE = "commands test passphrase"


def test_a_missing_passphrase_is_configuration_exit_3(jnx: Jnx, home: Path) -> None:
    assert_error(jnx("keys", "generate"), 3, says="JNX_KEY_PASSPHRASE", hint="export JNX_KEY_PASSPHRASE")


def test_audit_verify_on_a_database_never_initialised_says_jnx_init(jnx: Jnx, home: Path, empty_database_url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_DATABASE_URL", empty_database_url)
    assert_error(jnx("audit", "verify"), 3, hint="jnx init")


def test_audit_verify_on_a_database_that_cannot_be_reached_is_transient(jnx: Jnx, home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_DATABASE_URL", "postgresql+psycopg://jnx:hunter2@127.0.0.1:1/jnx")
    outcome = jnx("audit", "verify", "--json")
    assert_error(outcome, 4, says="cannot reach", hint="database server is running")
    assert "hunter2" not in outcome.out + outcome.err
    assert outcome.json()["kind"] == "DatabaseUnavailableError"


def test_audit_verify_on_a_fresh_database_is_ok(jnx: Jnx, db: str) -> None:
    outcome = jnx("audit", "verify", "--json")
    assert outcome.code == 0, outcome.err
    assert outcome.json()["ok"] is True


def test_key_actions_go_to_the_audit_chain_of_the_configured_database(jnx: Jnx, db: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", PASSPHRASE)
    assert jnx("keys", "generate", "--use", "sig").code == 0
    assert jnx("keys", "rotate").code == 0
    verified = jnx("audit", "verify", "--json")
    assert verified.code == 0 and verified.json()["entries"] == 2


def test_a_key_action_on_a_database_never_initialised_says_jnx_init_and_makes_no_key(
        jnx: Jnx, home: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_DATABASE_URL", empty_database_url)
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", PASSPHRASE)
    assert_error(jnx("keys", "generate"), 3, hint="jnx init")
    assert jnx("keys", "list", "--json").json() == {"keys": []}


@pytest.fixture
def keys(jnx: Jnx, db: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JNX_KEY_PASSPHRASE", PASSPHRASE)
    assert jnx("keys", "generate", "--json").code == 0
    return home


def test_receiver_serve_on_a_port_in_use_is_an_error_not_a_traceback(jnx: Jnx, keys: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        outcome = jnx("receiver", "serve", "--port", str(port))
    assert_error(outcome, 3, says=f"cannot listen on 127.0.0.1:{port}", hint="--port")


@pytest.mark.integration
def test_receiver_serve_stops_on_sigterm_with_exit_0(keys: Path) -> None:
    env = {**os.environ, "JNX_HOME": str(keys), "JNX_KEY_PASSPHRASE": PASSPHRASE}
    process = subprocess.Popen([sys.executable, "-m", "jnx.cli", "receiver", "serve", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        started = process.stderr.readline()  # "jnx receiver on http://127.0.0.1:PORT/envelopes"
        assert started.startswith("jnx receiver on http://127.0.0.1:"), started
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
