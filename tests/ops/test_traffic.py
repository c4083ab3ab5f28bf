"""Retries, line switches and Retry-After waits are counted per run and per delivery pass — in
`jnx run --json`, `runs.counts` (`jnx runs list --json`), `jnx disclosures deliver --json` and the
warnings — through the Traffic object the transport is given, not log lines only."""

from __future__ import annotations

from pathlib import Path

import pytest

from jnx.adapters.config import HealthConfig, RetryConfig, Timeouts
from jnx.adapters.factory import new_session
from jnx.adapters.lines import LineSet
from jnx.adapters.traffic import Traffic
from jnx.adapters.transport import HttpClient, Transport
from jnx.sandbox.runner import Sandbox
from tests.commands.conftest import Jnx
from tests.ops.conftest import register_demo_systems


def test_the_transport_counts_each_retry_switch_and_retry_after_wait(sealed_sandbox: tuple[Sandbox, Path]) -> None:
    sandbox, _ = sealed_sandbox
    sandbox.set_faults("double_random", fail_next=3, error_status=503, retry_after=1)
    slept: list[float] = []
    traffic = Traffic()
    lines = LineSet([(sandbox.url("double_random"), "primary"), (sandbox.url("double_random", "backup"), "backup")],
                    HealthConfig())
    transport = Transport(lines, RetryConfig(attempts=5, initial=0.2, maximum=1.0), sleep=slept.append,
                          jitter=lambda high: high / 2, traffic=traffic)
    http = HttpClient(new_session(), transport, Timeouts())
    creds = sandbox.config.credentials
    response, line = http.request("GET", "/api/v1/results", what="GET results",
                                  headers={"X-Api-Token": creds.inspection_token}, params={"page": 1})
    counts = traffic.snapshot()
    # primary 503 → backup (a switch) 503 → pause (Retry-After 1 s beats the 0.1 s back-off) → primary
    # (a switch again) 503 → backup answers: three retries, all on another line, one Retry-After wait
    assert (counts.retries, counts.line_switches, counts.retry_after_waits) == (3, 3, 1), counts
    assert slept == [1.0] and counts.waited_seconds == 1.0 and line.name == "backup"


def test_a_run_against_a_platform_failing_30_percent_reports_its_retries(
    jnx: Jnx, db: str, sealed_sandbox: tuple[Sandbox, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, platform_public = sealed_sandbox
    register_demo_systems(jnx, sandbox, platform_public, tmp_path, monkeypatch)
    sandbox.set_faults("case_handling", error_rate=0.3, error_status=503)
    ran = jnx("run", "jn-case-handling", "--json")
    assert ran.code == 0, ran.err
    run = ran.json()["runs"][0]
    assert run["status"] == "succeeded" and run["pulled"] > 0
    assert run["request_retries"] > 0 and run["line_switches"] > 0, run
    assert any("request(s) retried" in w for w in run["warnings"]), run["warnings"]
    listed = jnx("runs", "list", "--json").json()["runs"][0]  # kept in runs.counts
    assert listed["run_id"] == run["run_id"]
    assert (listed["request_retries"], listed["line_switches"], listed["retry_after_waits"]) == \
        (run["request_retries"], run["line_switches"], run["retry_after_waits"])

    sandbox.set_faults("case_handling", error_rate=0.0)
    calm = jnx("run", "jn-case-handling", "--json").json()["runs"][0]
    assert calm["request_retries"] == 0 and not any("retried" in w for w in calm["warnings"])

    sandbox.set_faults("credit", fail_next=2, error_status=503)  # a delivery pass counts its own
    delivered = jnx("disclosures", "deliver", "--json")
    assert delivered.code == 0, delivered.err
    summary = delivered.json()
    assert summary["acknowledged"] > 0 and summary["request_retries"] == 2 and summary["line_switches"] == 2, summary
    said = jnx("disclosures", "deliver")
    assert said.code == 0 and "request(s) retried" not in said.out  # nothing due, nothing retried
