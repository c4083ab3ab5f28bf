"""Scheduling: cron slots read in Beijing time, one run per slot, `jnx run --due` running what is
due, and `jnx serve` stopping cleanly on SIGTERM — the run in flight released and resumed later
from its last committed page."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from jnx.cli import app
from jnx.exchange.registry import SystemRegistry
from jnx.exchange.scheduler import enqueue_due, latest_slot, run_due
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.store.db import create_engine_for
from jnx.store.models import Run, RunStatus, RunTrigger
from jnx.store.models import Watermark as WatermarkRow
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

RECORDS = 400
UTC = dt.UTC


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- cron slots


@pytest.mark.parametrize(
    ("cron", "now", "slot"),
    [
        # 02:00 in Jining is 18:00 UTC the day before
        ("0 2 * * *", _utc(2026, 3, 1, 18, 30), _utc(2026, 3, 1, 18, 0)),
        ("0 2 * * *", _utc(2026, 3, 1, 17, 59), _utc(2026, 2, 28, 18, 0)),
        ("0 2 * * *", _utc(2026, 3, 1, 18, 0), _utc(2026, 3, 1, 18, 0)),  # the slot's own instant is due
        # weekdays are Beijing weekdays: Monday 2026-03-02 08:00 +08 is Monday 00:00 UTC
        ("0 8 * * 1", _utc(2026, 3, 2, 0, 5), _utc(2026, 3, 2, 0, 0)),
        ("0 8 * * 1", _utc(2026, 3, 1, 23, 59), _utc(2026, 2, 23, 0, 0)),
        ("*/15 * * * *", _utc(2026, 3, 1, 4, 44, 59), _utc(2026, 3, 1, 4, 30)),
    ],
)
def test_the_latest_slot_is_read_in_beijing_time(cron: str, now: dt.datetime, slot: dt.datetime) -> None:
    assert latest_slot(cron, now) == slot


# --------------------------------------------------------------------------- due runs


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=17, records=RECORDS, port_base=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.clear_faults()


def _runs(url: str) -> list[Any]:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            return list(session.execute(select(Run.id, Run.system_id, Run.status, Run.trigger, Run.due_at, Run.counts,
                                               Run.lease_owner).order_by(Run.id)))
    finally:
        engine.dispose()


def test_enqueue_due_creates_one_run_per_slot_of_each_enabled_scheduled_system(database_url: str, tmp_path: Path,
                                                                               sandbox: Sandbox) -> None:
    engine = create_engine_for(database_url)
    register(engine, registration(sandbox, "jn-nightly", schedule="0 2 * * *"))
    register(engine, registration(sandbox, "jn-quarterly", schedule="*/15 * * * *"))
    register(engine, registration(sandbox, "jn-by-hand"))  # no schedule: only `jnx run SYSTEM`
    register(engine, registration(sandbox, "jn-disabled", schedule="*/15 * * * *"))
    with Session(engine) as session, session.begin():
        SystemRegistry().set_enabled(session, "jn-disabled", False)
    engine.dispose()
    ex = exchange_for(database_url, tmp_path)
    try:
        assert enqueue_due(ex, _utc(2026, 3, 1, 18, 20)) == 2
        assert enqueue_due(ex, _utc(2026, 3, 1, 18, 25)) == 0  # same slots: nothing new
        assert enqueue_due(ex, _utc(2026, 3, 1, 18, 31)) == 1  # the quarter-hour moved on, the night did not
    finally:
        ex.engine.dispose()
    runs = [(r.system_id, r.due_at.astimezone(UTC), r.trigger) for r in _runs(database_url)]
    assert runs == [
        ("jn-nightly", _utc(2026, 3, 1, 18, 0), RunTrigger.SCHEDULE),
        ("jn-quarterly", _utc(2026, 3, 1, 18, 15), RunTrigger.SCHEDULE),
        ("jn-quarterly", _utc(2026, 3, 1, 18, 30), RunTrigger.SCHEDULE),
    ]


def test_jnx_run_due_runs_what_is_due_once(database_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    engine = create_engine_for(database_url)
    register(engine, registration(sandbox, "jn-every-minute", schedule="* * * * *"))
    register(engine, registration(sandbox, "jn-by-hand"))
    engine.dispose()
    env = {"JNX_DATABASE_URL": database_url, "JNX_HOME": str(tmp_path), **ENVIRONMENT}
    result = CliRunner().invoke(app, ["run", "--due", "--json"], env=env)
    assert result.exit_code == 0, result.output
    [ran] = json.loads(result.output)["runs"]
    assert (ran["system"], ran["status"], ran["pulled"]) == ("jn-every-minute", "succeeded", RECORDS)
    # the slot's run is done: asking again in the same minute runs nothing (the next minute would)
    again = CliRunner().invoke(app, ["run", "--due", "--json"], env=env)
    assert again.exit_code == 0, again.output
    assert all(r["system"] == "jn-every-minute" and r["pulled"] < RECORDS for r in json.loads(again.output)["runs"])
    assert "jn-by-hand" not in {r.system_id for r in _runs(database_url)}


# --------------------------------------------------------------------------- jnx serve


def _watermark(url: str, system: str) -> str | None:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(WatermarkRow.value).where(WatermarkRow.system_id == system))
    finally:
        engine.dispose()


def test_serve_stops_on_sigterm_releasing_the_run_in_flight_which_resumes_later(
    database_url: str, tmp_path: Path, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> None:
    system = "jn-served"
    engine = create_engine_for(database_url)
    register(engine, registration(sandbox, system))  # no schedule: the one queued run below is all there is
    engine.dispose()
    ex = exchange_for(database_url, tmp_path)
    try:
        ex.runs().enqueue(system)
    finally:
        ex.engine.dispose()
    sandbox.set_faults("case_handling", latency_ms=150)  # pages slow enough to stop mid-run
    env = {**os.environ, "JNX_DATABASE_URL": database_url, "JNX_HOME": str(tmp_path), **ENVIRONMENT}
    serve = subprocess.Popen([sys.executable, "-m", "jnx.cli", "serve", "--workers", "1", "--tick", "1"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and serve.poll() is None:
            runs = _runs(database_url)
            if runs and int((runs[0].counts or {}).get("pulled", 0)) >= 2 * PAGE_SIZE:
                break
            time.sleep(0.1)
        assert serve.poll() is None, serve.communicate()[1].decode()[-2000:]
        stopping = time.monotonic()
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    assert serve.returncode == 0, err.decode()[-2000:]
    assert time.monotonic() - stopping < 15, "serve stopped after the page in flight, not at the end of the run"
    assert b"stopped" in err
    [released] = _runs(database_url)
    assert (released.status, released.lease_owner) == (RunStatus.QUEUED, None), "the run was given back, due at once"
    committed = int(released.counts["pulled"])
    assert 2 * PAGE_SIZE <= committed < RECORDS
    assert json.loads(_watermark(database_url, system) or "{}").get("cursor"), "the watermark is mid-pass"

    # the released run resumes from its last committed page: the rest is pulled once, nothing twice
    sandbox.clear_faults()
    ex = exchange_for(database_url, tmp_path)
    try:
        [resumed] = run_due(ex)
    finally:
        ex.engine.dispose()
    assert (resumed.run_id, resumed.status) == (released.id, RunStatus.SUCCEEDED)
    assert resumed.counts.pulled == RECORDS
    outcome = snapshot(database_url)
    assert len(outcome["raw"]) == len(set(outcome["raw"])) == RECORDS
    expected, _ = reference_outcome(sandbox, tmp_path_factory.mktemp("reference"), system)
    assert_same_outcome(outcome, expected)
