"""Crash safety, proven (DESIGN.md rule 3): a worker killed with SIGKILL at any point of a run
against the real case-handling sandbox, then rerun, ends exactly where an uninterrupted run ends —
the same standard records (business keys, content hashes, revisions), the same errors (raw record,
field, rule), the same raw records, lineage and watermark, nothing missing or doubled.

The killed workers are real processes. Most are forked from a clean ``forkserver`` process that has
jnx imported (a fresh interpreter costs seconds of CPU here), and kill themselves with
``os.kill(getpid(), SIGKILL)`` at a named point of the page they are on: the hooks are installed by
:func:`crashing_run` in the child only, by wrapping the puller and the statements of
:mod:`jnx.store.queries` — nothing in jnx carries a crash switch. One test kills the real
``python -m jnx.cli run`` at a moment picked by time instead.

The helpers here (:func:`registration`, :func:`register`, :func:`snapshot`, :func:`exchange_for`)
are shared with the other exchange tests of runs against the sandbox.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from jnx.adapters.factory import build_adapters
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunService, RunSummary
from jnx.exchange.wiring import Exchange
from jnx.sandbox.runner import Credentials, Sandbox, SandboxConfig
from jnx.settings import Settings
from jnx.store import queries
from jnx.store.db import create_engine_for, upgrade
from jnx.store.models import (
    MappingErrorEntry,
    RawRecord,
    RecordLineage,
    Run,
    RunStatus,
    StandardRecord,
    StandardRecordRevision,
)
from jnx.store.models import Watermark as WatermarkRow

pytestmark = pytest.mark.integration

SYSTEM = "jn-case-handling"
SECRET_ENV = "JNX_CASE_SECRET"
ENVIRONMENT = {SECRET_ENV: Credentials().case_secret}
RECORDS = 600
PAGE_SIZE = 40  # 15 pages


# --------------------------------------------------------------------------- shared helpers


def registration(sandbox: Sandbox, system_id: str = SYSTEM, *, page_size: int = PAGE_SIZE, schedule: str | None = None,
                 params: dict[str, str] | None = None, pagination: str = "cursor") -> dict[str, Any]:
    """The sandbox case-handling API as a department would register it (docs/source-shapes.md §2)."""
    doc: dict[str, Any] = {
        "format": 1,
        "id": system_id,
        "name": "济宁市行政执法网上办案系统",
        "department": "济宁市司法局",
        "department_credit_code": "11370800004180002M",
        "region": "370800",
        "kind": "case_handling",
        "adapter": {
            "protocol": "rest",
            "lines": [{"url": sandbox.url("case_handling"), "name": "primary"},
                      {"url": sandbox.url("case_handling", "backup"), "name": "backup"}],
            "auth": {"kind": "hmac", "app_key": Credentials().case_app_key, "secret": {"env": SECRET_ENV}},
            "retry": {"attempts": 8, "initial": 0.001, "maximum": 0.01, "max_retry_after": 0.05},
            "timeouts": {"connect": 2, "read": 5},
            "page_size": page_size,
            "pull": [
                {
                    "record_type": "penalty",
                    "path": "/api/v1/penalties",
                    "params": params or {"updated_after": "{since}", "cursor": "{cursor}", "limit": "{page_size}"},
                    "pagination": pagination,
                    "records_path": "data.items",
                    "next_cursor_path": "data.next_cursor",
                    "ok_path": "code",
                    "key_field": "ajbh",
                    "updated_field": "updated_at",
                    "initial_since": "2000-01-01 00:00:00",
                }
            ],
        },
        "mappings": {"penalty": "case_handling.penalty@1"},
    }
    if schedule is not None:
        doc["schedule"] = schedule
    return doc


def register(engine: Engine, doc: dict[str, Any]) -> None:
    with Session(engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(doc, f"{doc['id']}.yaml"))


def exchange_for(url: str, home: Path, worker_id: str = "test") -> Exchange:
    """An exchange on ``url`` (the caller disposes ``.engine``)."""
    return Exchange(settings=Settings(home=home, database_url=url), engine=create_engine_for(url),
                    environment=ENVIRONMENT, worker_id=worker_id)


def snapshot(url: str) -> dict[str, Any]:
    """What a run leaves, in backend-independent terms; lists keep duplicates, so doubles show."""
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            raw = {r.id: (r.source_key, r.content_hash) for r in session.execute(select(RawRecord.id, RawRecord.source_key, RawRecord.content_hash))}
            keys = {r.id: r.business_key for r in session.execute(select(StandardRecord.id, StandardRecord.business_key))}
            return {
                "records": sorted(tuple(r) for r in session.execute(select(
                    StandardRecord.record_type, StandardRecord.business_key, StandardRecord.current_revision, StandardRecord.content_hash))),
                "revisions": sorted((keys[r.record_id], r.revision, r.content_hash, raw[r.raw_record_id]) for r in session.execute(
                    select(StandardRecordRevision.record_id, StandardRecordRevision.revision, StandardRecordRevision.content_hash,
                           StandardRecordRevision.raw_record_id))),
                "raw": sorted(raw.values()),
                "lineage": sorted((keys[r.standard_record_id], raw[r.raw_record_id]) for r in session.execute(
                    select(RecordLineage.standard_record_id, RecordLineage.raw_record_id))),
                "errors": sorted((raw[e.raw_record_id], e.field, e.rule, e.status, e.group_key) for e in session.execute(
                    select(MappingErrorEntry.raw_record_id, MappingErrorEntry.field, MappingErrorEntry.rule,
                           MappingErrorEntry.status, MappingErrorEntry.group_key))),
                "watermarks": sorted(tuple(r) for r in session.execute(select(WatermarkRow.system_id, WatermarkRow.stream, WatermarkRow.value))),
            }
    finally:
        engine.dispose()


def assert_same_outcome(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Field by field, so a failure names what differs (and nothing doubled: lists keep repeats)."""
    for part in expected:
        missing = sorted(set(expected[part]) - set(got[part]))[:3]
        extra = sorted(set(got[part]) - set(expected[part]))[:3]
        assert got[part] == expected[part], f"{part}: {len(got[part])} vs {len(expected[part])}; missing {missing}; extra {extra}"


def run_to_the_end(url: str, home: Path, system: str = SYSTEM) -> RunSummary:
    ex = exchange_for(url, home)
    try:
        summary = ex.runs().run_now(system)
    finally:
        ex.engine.dispose()
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    return summary


def reference_outcome(sandbox: Sandbox, folder: Path, system: str = SYSTEM) -> tuple[dict[str, Any], RunSummary]:
    """What one uninterrupted run of the sandbox (as it is now) leaves in a fresh SQLite database;
    :func:`snapshot` does not depend on the backend, so it is the reference for PostgreSQL too."""
    url = f"sqlite:///{folder / 'reference.db'}"
    upgrade(url)
    engine = create_engine_for(url)
    register(engine, registration(sandbox, system))
    engine.dispose()
    summary = run_to_the_end(url, folder, system)
    return snapshot(url), summary


# --------------------------------------------------------------------------- the crashing worker

#: Named points of a page, in the order a run passes them.
CRASH_POINTS = (
    "pull",  # the page's HTTP answer is in, nothing of it staged
    "staged",  # raw records inserted, not yet mapped
    "mapped",  # mapped, errors inserted, standard records not yet stored
    "stored",  # standard records, revisions and lineage written (the on_stored hook), no watermark yet
    "watermark",  # the watermark written, not committed
    "commit",  # the transaction's COMMIT issued by jnx, not yet reached the database
    "committed",  # the page committed, the next not yet asked for
)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install_crash(ex: Exchange, service: RunService, point: str | None, page: int) -> None:
    """In a child process only: SIGKILL it at ``point`` of the ``page``-th page its runs reach."""
    calls: dict[str, int] = {}
    watermark_written = [False]

    def reached(name: str) -> None:
        calls[name] = calls.get(name, 0) + 1
        if name == point and calls[name] == page:
            _die()

    def after(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def hooked(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if name == "watermark":
                watermark_written[0] = True
            reached(name)
            return result

        return hooked

    queries.stage = after("staged", queries.stage)  # type: ignore[assignment]
    queries.insert_errors = after("mapped", queries.insert_errors)  # type: ignore[assignment]
    queries.set_watermark = after("watermark", queries.set_watermark)  # type: ignore[assignment]

    def adapters(config: Any, secrets: Any) -> Any:
        built = build_adapters(config, secrets)
        for stream, puller in list(built.pullers.items()):
            built.pullers[stream] = _PullHook(puller, lambda: reached("pull"))
        return built

    @event.listens_for(ex.engine, "commit")
    def _on_commit(connection: Any) -> None:
        if watermark_written[0]:
            watermark_written[0] = False
            reached("commit")

    service.adapters_factory = adapters
    service.on_stored = lambda session, system, stored: reached("stored")
    service.progress = _AfterCommit(lambda: reached("committed"))


def crashing_run(url: str, home: str, point: str | None, page: int) -> None:
    """Child process: run the system now and SIGKILL this process at ``point`` of its ``page``-th page."""
    ex = exchange_for(url, Path(home), worker_id=f"crash-{os.getpid()}")
    service = ex.runs()
    install_crash(ex, service, point, page)
    service.run_now(SYSTEM)


class _AfterCommit:
    """A :class:`jnx.progress.WorkProgress` that calls ``hook`` once per page the run committed."""

    def __init__(self, hook: Callable[[], None]) -> None:
        self.hook = hook

    def start(self, label: str, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        self.hook()

    def note(self, text: str) -> None:
        pass


class _PullHook:
    def __init__(self, inner: Any, hook: Callable[[], None]) -> None:
        self.inner = inner
        self.hook = hook

    def pull(self, watermark: Any, *, page_size: int | None = None) -> Iterator[Any]:
        for page in self.inner.pull(watermark, page_size=page_size):
            self.hook()
            yield page

    def acknowledge(self, page: Any) -> None:
        self.inner.acknowledge(page)


_FORKSERVER: Any = None


def workers() -> Any:
    """A multiprocessing context whose processes fork from a clean server with jnx imported."""
    global _FORKSERVER
    if _FORKSERVER is None:
        _FORKSERVER = multiprocessing.get_context("forkserver")
        _FORKSERVER.set_forkserver_preload(["jnx.exchange.wiring", "jnx.exchange.runs", "jnx.adapters.factory", "jnx.commands.exchange"])
    return _FORKSERVER


def spawn(target: Callable[..., None], *args: Any) -> Any:
    process = workers().Process(target=target, args=args, daemon=True)
    process.start()
    return process


def crash(url: str, home: Path, point: str, page: int) -> None:
    process = spawn(crashing_run, url, str(home), point, page)
    process.join(timeout=120)
    assert process.exitcode == -signal.SIGKILL, f"the worker was to die at {point} of page {page}; exit code {process.exitcode}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=11, records=RECORDS, port_base=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def uninterrupted(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What one run with no crash leaves (SQLite; the snapshot does not depend on the backend)."""
    outcome, summary = reference_outcome(sandbox, tmp_path_factory.mktemp("uninterrupted"))
    assert summary.counts.pulled == RECORDS and summary.counts.errors > 0
    return outcome


@pytest.fixture
def crash_db(database_url: str, sandbox: Sandbox) -> str:
    engine = create_engine_for(database_url)
    register(engine, registration(sandbox))
    engine.dispose()
    return database_url


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("first", [("staged", 1), ("pull", 3), ("committed", 1)], ids=lambda p: f"{p[0]}-page{p[1]}")
def test_a_run_killed_at_every_point_of_a_page_ends_as_an_uninterrupted_run(
    crash_db: str, tmp_path: Path, uninterrupted: dict[str, Any], first: tuple[str, int]
) -> None:
    # one crash at every point, each rerun resuming from what the previous one committed
    plan = [first, *[(point, 2) for point in CRASH_POINTS]]
    for point, page in plan:
        crash(crash_db, tmp_path, point, page)
    summary = run_to_the_end(crash_db, tmp_path)
    assert summary.counts.pulled < RECORDS, "the last rerun resumed from the committed watermark, not from the start"
    assert_same_outcome(snapshot(crash_db), uninterrupted)


def test_a_run_killed_at_random_moments_ends_as_an_uninterrupted_run(
    crash_db: str, tmp_path: Path, sandbox: Sandbox, uninterrupted: dict[str, Any]
) -> None:
    sandbox.set_faults("case_handling", latency_ms=40)  # kills land inside HTTP calls as well as in commits
    rng = random.Random(5)
    for _ in range(4):
        process = spawn(crashing_run, crash_db, str(tmp_path), None, 0)
        time.sleep(rng.uniform(0.3, 1.2))
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=60)
    sandbox.clear_faults()
    run_to_the_end(crash_db, tmp_path)
    assert_same_outcome(snapshot(crash_db), uninterrupted)


def _cli(url: str, home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JNX_DATABASE_URL": url, "JNX_HOME": str(home), **ENVIRONMENT}
    return subprocess.Popen([sys.executable, "-m", "jnx.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _committed_pages(url: str) -> int:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            counts = session.scalars(select(Run.counts).where(Run.status == RunStatus.RUNNING)).all()
    finally:
        engine.dispose()
    return max([int((c or {}).get("pulled", 0)) // PAGE_SIZE for c in counts] or [0])


def test_jnx_run_killed_mid_run_then_run_again_ends_as_an_uninterrupted_run(
    crash_db: str, tmp_path: Path, sandbox: Sandbox, uninterrupted: dict[str, Any]
) -> None:
    sandbox.set_faults("case_handling", latency_ms=40)
    process = _cli(crash_db, tmp_path, "run", SYSTEM, "--json")
    deadline = time.monotonic() + 90
    while _committed_pages(crash_db) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if process.poll() is not None:
        out, err = process.communicate()
        pytest.fail(f"the run ended (exit {process.returncode}) before it could be killed: {err.decode()[-2000:]}")
    process.kill()
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    sandbox.clear_faults()
    again = _cli(crash_db, tmp_path, "run", SYSTEM, "--json")
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err.decode()
    assert b'"status": "succeeded"' in out
    assert_same_outcome(snapshot(crash_db), uninterrupted)
