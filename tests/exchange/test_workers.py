"""Many workers on one queue of runs (DESIGN.md "Scale"): 4 worker processes on one PostgreSQL
database do every run exactly once and end where one process running them in turn ends; a worker
killed while holding a lease is taken over once the lease expires; two schedulers never create a
slot's run twice; on SQLite the single-writer path with 2 workers completes correctly.

The systems are registered copies of the sandbox case-handling API: the same decisions reach the
exchange from every one of them at once, so workers race on the same business keys.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from jnx.exchange import runs
from jnx.exchange.scheduler import Worker, enqueue_due
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.store.db import create_engine_for, upgrade
from jnx.store.models import Run, RunStatus, RunTrigger
from tests.exchange.test_crash_safety import (
    PAGE_SIZE,
    assert_same_outcome,
    exchange_for,
    install_crash,
    register,
    registration,
    snapshot,
    spawn,
)

pytestmark = pytest.mark.integration

RECORDS = 300
SYSTEMS = [f"jn-case-{n}" for n in range(1, 7)]
RUNS_PER_SYSTEM = 2  # the second run of a system finds everything staged: all unchanged
LEASE_SECONDS = 4.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=13, records=RECORDS, port_base=0)) as running:
        yield running


def _prepare(url: str, sandbox: Sandbox, systems: list[str]) -> None:
    engine = create_engine_for(url)
    try:
        for system in systems:
            register(engine, registration(sandbox, system, page_size=PAGE_SIZE))
    finally:
        engine.dispose()


def _queue(url: str, home: Path, systems: list[str], per_system: int) -> list[int]:
    ex = exchange_for(url, home)
    try:
        service = ex.runs()
        return [service.enqueue(system, trigger=RunTrigger.SCHEDULE) for _ in range(per_system) for system in systems]
    finally:
        ex.engine.dispose()


def work_until_idle(url: str, home: str, name: str, report: str, lease_seconds: float = 300.0) -> None:
    """Child process: one worker claiming runs until none is due; one JSON line per run it finished."""
    ex = exchange_for(url, Path(home), worker_id=name)
    worker = Worker(ex, name=name, lease_for=dt.timedelta(seconds=lease_seconds))
    with open(report, "a", encoding="utf-8") as out:
        while (summary := worker.run_once()) is not None:
            out.write(json.dumps({"worker": name, **summary.as_dict()}) + "\n")
            out.flush()
    ex.engine.dispose()


def crash_while_leased(url: str, home: str, name: str, lease_seconds: float) -> None:
    """Child process: a worker that claims a run and dies (SIGKILL) after committing its 2nd page."""
    ex = exchange_for(url, Path(home), worker_id=name)
    service = ex.runs()
    install_crash(ex, service, "committed", 2)
    ex.runs = lambda: service  # type: ignore[method-assign]
    Worker(ex, name=name, lease_for=dt.timedelta(seconds=lease_seconds)).run_once()


def _reference(tmp: Path, sandbox: Sandbox, systems: list[str], per_system: int) -> dict[str, Any]:
    """The same queue run by one worker in this process, in turn."""
    url = f"sqlite:///{tmp / 'reference.db'}"
    upgrade(url)
    _prepare(url, sandbox, systems)
    _queue(url, tmp, systems, per_system)
    ex = exchange_for(url, tmp)
    try:
        worker = Worker(ex, name="reference")
        while worker.run_once() is not None:
            pass
    finally:
        ex.engine.dispose()
    return snapshot(url)


def _runs(url: str) -> list[Any]:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            return list(session.execute(select(Run.id, Run.status, Run.attempts, Run.system_id, Run.error)))
    finally:
        engine.dispose()


def _run_workers(url: str, home: Path, count: int) -> list[dict[str, Any]]:
    report = home / "report.jsonl"
    processes = [spawn(work_until_idle, url, str(home), f"w{n}", str(report)) for n in range(count)]
    for process in processes:
        process.join(timeout=240)
        assert process.exitcode == 0, f"worker exited with {process.exitcode}"
    return [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_four_worker_processes_on_postgresql_do_every_run_exactly_once(database_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    postgres_url = database_url
    _prepare(postgres_url, sandbox, SYSTEMS)
    queued = _queue(postgres_url, tmp_path, SYSTEMS, RUNS_PER_SYSTEM)
    done = _run_workers(postgres_url, tmp_path, 4)
    by_run = Counter(d["run_id"] for d in done)
    assert sorted(by_run) == sorted(queued) and set(by_run.values()) == {1}, "every run finished by exactly one worker"
    assert {d["status"] for d in done} == {"succeeded"}, [d["error"] for d in done if d["error"]]
    assert len({d["worker"] for d in done}) > 1, "the runs were shared between workers"
    runs = _runs(postgres_url)
    assert {(r.status, r.attempts) for r in runs} == {(RunStatus.SUCCEEDED, 1)}
    assert sum(d["pulled"] for d in done if d["staged"]) >= RECORDS * len(SYSTEMS)
    assert_same_outcome(snapshot(postgres_url), _reference(tmp_path, sandbox, SYSTEMS, RUNS_PER_SYSTEM))


def test_a_worker_killed_holding_a_lease_is_taken_over_when_the_lease_expires(
    database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    _prepare(database_url, sandbox, SYSTEMS[:1])
    [run_id] = _queue(database_url, tmp_path, SYSTEMS[:1], 1)
    victim = spawn(crash_while_leased, database_url, str(tmp_path), "victim", LEASE_SECONDS)
    victim.join(timeout=120)
    assert victim.exitcode == -signal.SIGKILL
    [before] = _runs(database_url)
    assert before.status is RunStatus.RUNNING, "the dead worker still holds the lease"
    # until the lease expires nobody takes the run; then the next worker does, once
    early = exchange_for(database_url, tmp_path)
    try:
        assert Worker(early, name="early").run_once() is None
    finally:
        early.engine.dispose()
    threading.Event().wait(LEASE_SECONDS + 0.5)
    done = _run_workers(database_url, tmp_path, 2)
    assert [(d["run_id"], d["status"]) for d in done] == [(run_id, "succeeded")]
    assert done[0]["pulled"] == RECORDS, "counts carry over from the dead worker's committed pages"
    [after] = _runs(database_url)
    assert (after.status, after.attempts) == (RunStatus.SUCCEEDED, 2)
    assert_same_outcome(snapshot(database_url), _reference(tmp_path, sandbox, SYSTEMS[:1], 1))


def test_two_schedulers_create_a_slot_s_run_once(database_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    engine = create_engine_for(database_url)
    for system in SYSTEMS[:3]:
        register(engine, registration(sandbox, system, schedule="*/15 * * * *"))
    engine.dispose()
    now = dt.datetime(2026, 3, 2, 1, 7, tzinfo=dt.UTC)
    start = threading.Barrier(2)
    created: list[int] = []

    def scheduler() -> None:
        ex = exchange_for(database_url, tmp_path)
        try:
            start.wait()
            for _ in range(5):
                created.append(enqueue_due(ex, now))
        finally:
            ex.engine.dispose()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(created) == 3
    runs = _runs(database_url)
    assert Counter(r.system_id for r in runs) == {s: 1 for s in SYSTEMS[:3]}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_workers_on_sqlite_take_turns_on_the_single_writer(database_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    sqlite_url = database_url
    systems = SYSTEMS[:3]
    _prepare(sqlite_url, sandbox, systems)
    queued = _queue(sqlite_url, tmp_path, systems, RUNS_PER_SYSTEM)
    done = _run_workers(sqlite_url, tmp_path, 2)
    assert sorted(d["run_id"] for d in done) == sorted(queued)
    assert {d["status"] for d in done} == {"succeeded"}, [d["error"] for d in done if d["error"]]
    assert {(r.status, r.attempts) for r in _runs(sqlite_url)} == {(RunStatus.SUCCEEDED, 1)}
    assert_same_outcome(snapshot(sqlite_url), _reference(tmp_path, sandbox, systems, RUNS_PER_SYSTEM))


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_burst_into_fresh_tables_refreshes_postgresql_statistics(
    database_url: str, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without statistics, PostgreSQL reads whole tables for each page's key lookups (docs/performance.md)
    monkeypatch.setattr(runs, "ANALYZE_FROM", 100)
    _prepare(database_url, sandbox, SYSTEMS[:1])
    ex = exchange_for(database_url, tmp_path)
    try:
        assert ex.runs().run_now(SYSTEMS[0]).status is RunStatus.SUCCEEDED
        with Session(ex.engine) as session:
            analyzed = dict(session.execute(text(
                "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables")).all())
            disclosed = session.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
    finally:
        ex.engine.dispose()
    assert disclosed > 0  # the run derived 双公示, so the derivation's tables grew too
    # the tables a run grows, the disclosures' and deliveries' included (holding a conflict's
    # deliveries back read every pending delivery per page without them: docs/performance.md)
    grown = ("raw_records", "standard_records", "disclosures", "disclosure_revisions", "deliveries")
    assert {table: analyzed.get(table) for table in grown} == dict.fromkeys(grown, True)
