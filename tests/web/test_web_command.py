"""``jnx web`` and ``jnx serve --web`` as a user starts them: a real uvicorn on a loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jnx(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jnx.cli", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JNX_HOME": str(home)}, check=False)


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


@pytest.mark.parametrize("command", [["web"], ["serve", "--workers", "1", "--web"]], ids=["web", "serve--web"])
def test_the_api_answers_401_without_a_token_and_200_with_one(tmp_path: Path, command: list[str]) -> None:
    home = tmp_path / "home"
    assert _jnx(home, "init").returncode == 0
    made = _jnx(home, "tokens", "create", "--name", "ci", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    port = _free_port()
    args = [*command, str(port)] if command[0] == "serve" else [*command, "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([sys.executable, "-m", "jnx.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "JNX_HOME": str(home)})
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz", process)
        assert requests.get(base + "/api/v1/openapi.json", timeout=10).json()["openapi"].startswith("3.")
        assert requests.get(base + "/api/v1/systems", timeout=10).status_code == 401
        answer = requests.get(base + "/api/v1/systems", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200 and answer.json() == {"systems": []}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _jnx(home, "init").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _jnx(home, "serve", "--web", str(port))
    assert done.returncode == 3 and "cannot listen on" in done.stderr and "Traceback" not in done.stderr
