"""Failover (issue 19, point 5): two `jnx serve` processes on one PostgreSQL database; the one running
the run is killed with SIGKILL mid-page; the other takes the run over once its lease expires
(JNX_RUN_LEASE_SECONDS shortened to 3 s) and finishes it — woken by the NOTIFY of the run put back to
`queued` — ending exactly where one uninterrupted run ends. `jnx status --json` then shows the killed
process lost and the survivor alive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.store.db import create_engine_for
from jnx.store.models import Run, RunStatus
from tests.exchange.test_crash_safety import (
    ENVIRONMENT,
    PAGE_SIZE,
    assert_same_outcome,
    exchange_for,
    reference_outcome,
    register,
    registration,
    snapshot,
)

pytestmark = pytest.mark.integration

RECORDS = 400
SYSTEM = "jn-failover"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=23, records=RECORDS, port_base=0)) as running:
        yield running


def _run(url: str) -> Run:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            return session.scalars(select(Run)).one()
    finally:
        engine.dispose()


def test_a_serve_killed_mid_page_leaves_its_run_to_the_other_which_finishes_it(
        database_url: str, tmp_path: Path, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("many jnx serve processes share PostgreSQL (SQLite is one machine's)")
    expected, _ = reference_outcome(sandbox, tmp_path_factory.mktemp("reference"), SYSTEM)
    engine = create_engine_for(database_url)
    register(engine, registration(sandbox, SYSTEM))
    engine.dispose()
    ex = exchange_for(database_url, tmp_path)
    try:
        ex.runs().enqueue(SYSTEM)
    finally:
        ex.engine.dispose()
    sandbox.set_faults("case_handling", latency_ms=120)  # pages slow enough to kill one mid-page
    env = {**os.environ, "JNX_DATABASE_URL": database_url, "JNX_HOME": str(tmp_path), **ENVIRONMENT,
           "JNX_RUN_LEASE_SECONDS": "3", "JNX_WORKER_HEARTBEAT_SECONDS": "1", "JNX_ALERTS__ENABLED": "false"}
    command = [sys.executable, "-m", "jnx.cli", "serve", "--workers", "1", "--tick", "1"]
    logs = [(tmp_path / f"serve-{n}.log").open("wb") for n in range(2)]  # a file: a pipe nobody reads fills up
    serves = {p.pid: p for p in (subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log) for log in logs)}
    tails = lambda: [(tmp_path / f"serve-{n}.log").read_text(errors="replace")[-2000:] for n in range(2)]  # noqa: E731
    try:
        deadline = time.monotonic() + 120
        run = _run(database_url)
        while time.monotonic() < deadline and not (run.status is RunStatus.RUNNING and run.lease_owner
                                                   and int((run.counts or {}).get("pulled", 0)) >= 2 * PAGE_SIZE):
            assert all(p.poll() is None for p in serves.values()), tails()
            time.sleep(0.05)
            run = _run(database_url)
        assert run.lease_owner, "no serve took the run"
        victim_pid = int(run.lease_owner.rsplit("-", 2)[-2])  # HOST-PID-w0
        survivor_pid = next(pid for pid in serves if pid != victim_pid)
        serves[victim_pid].send_signal(signal.SIGKILL)
        serves[victim_pid].wait(timeout=10)
        killed_at = int(run.counts["pulled"])

        while time.monotonic() < deadline and _run(database_url).status is not RunStatus.SUCCEEDED:
            assert serves[survivor_pid].poll() is None, tails()
            time.sleep(0.2)
        finished = _run(database_url)
        assert finished.status is RunStatus.SUCCEEDED, (finished.error, tails())
        assert finished.attempts == 2  # claimed by the victim, then taken over by the survivor
        assert killed_at < RECORDS and int(finished.counts["pulled"]) == RECORDS

        status = subprocess.run([sys.executable, "-m", "jnx.cli", "status", "--json"], env=env, capture_output=True,
                                timeout=60, check=True)
        workers = {w["pid"]: w["state"] for w in json.loads(status.stdout)["workers"]}
        assert workers == {victim_pid: "lost", survivor_pid: "alive"}
    finally:
        for process in serves.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for log in logs:
            log.close()
    outcome = snapshot(database_url)
    assert len(outcome["raw"]) == len(set(outcome["raw"])) == RECORDS  # nothing pulled twice into the store
    assert_same_outcome(outcome, expected)
