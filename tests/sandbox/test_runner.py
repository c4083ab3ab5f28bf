"""The Sandbox object and ``jnx sandbox serve``: start, URLs, revisions, flags, clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from jnx.sandbox.errors import SandboxConfigError, SandboxStartError
from jnx.sandbox.runner import Sandbox, SandboxConfig, config_from_flags
from jnx.sandbox.signing import sign

pytestmark = pytest.mark.integration


def test_advance_serves_updates_of_earlier_records_after_the_old_watermark() -> None:
    creds = SandboxConfig().credentials
    with Sandbox(SandboxConfig(records=100, port_base=0)) as box:
        path = "/api/v1/penalties"

        def pull(params: dict[str, str]) -> list[dict]:
            headers = sign(creds.case_app_key, creds.case_secret, "GET", path, params)
            return requests.get(box.url("case_handling") + path, params=params, headers=headers, timeout=10).json()["data"]["items"]

        before = pull({"limit": "1000"})
        watermark = max(i["updated_at"] for i in before)
        assert box.advance()["case_handling"] == 5 + 1  # 5 % of 100 penalties and of 20 coercions
        changed = [i for i in pull({"limit": "1000", "updated_after": watermark}) if i["updated_at"] > watermark]
        assert len(changed) == 5
        old = {i["ajbh"]: i for i in before}
        assert all(i["ajbh"] in old and i != old[i["ajbh"]] for i in changed)
        assert len(pull({"limit": "1000"})) == 100  # an update, not a new record


def test_fault_flags_apply_to_one_platform_or_all() -> None:
    config = config_from_flags(1, 10, 0, ["credit:error_rate=0.3", "latency_ms=5"])
    assert config.faults["credit"].error_rate == 0.3 and config.faults["credit"].latency_ms == 5
    assert config.faults["licensing"].latency_ms == 5 and config.faults["licensing"].error_rate == 0
    with pytest.raises(SandboxConfigError, match="unknown platform"):
        config_from_flags(1, 10, 0, ["ledger:error_rate=0.3"])


def test_a_busy_port_is_a_clear_start_error() -> None:
    with Sandbox(SandboxConfig(records=5, port_base=0)) as box:
        taken = int(box.url("credit").rsplit(":", 1)[1])
        clash = Sandbox(SandboxConfig(records=5, port_base=taken - 6))
        with pytest.raises(SandboxStartError, match="cannot bind"):
            clash.start()


def test_stopping_releases_the_ports() -> None:
    box = Sandbox(SandboxConfig(records=5, port_base=0)).start()
    url = box.url("case_handling")
    box.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=2)


@pytest.mark.e2e
def test_jnx_sandbox_serve_prints_its_urls_as_json_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "JNX_HOME": str(tmp_path / "home")}
    process = subprocess.Popen([sys.executable, "-m", "jnx.cli", "sandbox", "serve", "--records", "20", "--port-base", "0", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        envelopes = info["envelopes"]  # sealed pushes only: how to trust its key, and the secrets to export
        assert Path(envelopes["platform_key"]).is_file()
        assert envelopes["trust_command"].startswith("jnx keys import-peer ") and "--use enc" in envelopes["trust_command"]
        assert "export JNX_SANDBOX_CASE_SECRET=sandbox-case-secret" in envelopes["exports"]
        health = requests.get(info["platforms"]["credit"]["backup"] + "/_sandbox/health", timeout=10).json()
        assert health == {"platform": "credit", "line": "backup", "status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
