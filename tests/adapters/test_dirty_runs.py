"""Dirty sources through whole runs (issue 12), on SQLite and PostgreSQL: what the pullers decide
(an answer without its data, a record dated 2099, a kill during the first run of an epoch-ms feed)
seen where it matters — the run's status, its watermark and what the next run finds.

The SIGKILL test kills real worker processes (forked from the crash-safety tests' forkserver) at
named points of the double-random sandbox's first run, whose update times are epoch milliseconds
and whose registration starts from ``initial_since: "2000-01-01 00:00:00"``: the watermark must
move to the feed's epoch-ms time on the run that finishes the pass, and nothing be lost or doubled.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.adapters.instants import parse_instant
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunSummary
from jnx.exchange.wiring import Exchange
from jnx.sandbox.runner import Credentials, Sandbox, SandboxConfig
from jnx.settings import Settings
from jnx.store import queries
from jnx.store.db import create_engine_for, upgrade
from jnx.store.models import RawRecord, RunStatus
from tests.adapters.conftest import Answer, ScriptedServer, Seen
from tests.exchange.test_crash_safety import assert_same_outcome, install_crash, snapshot, spawn

pytestmark = pytest.mark.integration

TOKEN_ENV = "JNX_SANDBOX_INSPECTION_TOKEN"
ENVIRONMENT = {TOKEN_ENV: Credentials().inspection_token, "JNX_TEST_REST_TOKEN": "t0ken"}
DOUBLE_RANDOM = "jn-double-random"
RECORDS = 320
PAGE_SIZE = 40  # 8 pages of results


def _register(url: str, doc: dict[str, Any]) -> None:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session, session.begin():
            SystemRegistry().register(session, parse_registration(doc, f"{doc['id']}.yaml"))
    finally:
        engine.dispose()


def _exchange(url: str, home: Path, worker_id: str = "test") -> Exchange:
    return Exchange(settings=Settings(home=home, database_url=url), engine=create_engine_for(url),
                    environment=ENVIRONMENT, worker_id=worker_id)


def _run(url: str, home: Path, system: str) -> RunSummary:
    ex = _exchange(url, home)
    try:
        return ex.runs().run_now(system)
    finally:
        ex.engine.dispose()


def _watermark(url: str, system: str, stream: str) -> dict[str, Any]:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            stored = queries.get_watermark(session, system, stream)
    finally:
        engine.dispose()
    assert stored is not None
    return dict(json.loads(stored))


# --------------------------------------------------------------------------- a scripted REST platform

def _rest_registration(server: ScriptedServer) -> dict[str, Any]:
    return {
        "format": 1, "id": "jn-dirty-rest", "name": "济宁市行政执法网上办案系统（测试）", "department": "济宁市司法局",
        "department_credit_code": "11370800004180002M", "region": "370800", "kind": "case_handling",
        "adapter": {
            "protocol": "rest", "lines": [{"url": server.url, "name": "primary"}],
            "auth": {"kind": "token", "token": {"env": "JNX_TEST_REST_TOKEN"}, "header": "X-Api-Token", "prefix": ""},
            "retry": {"attempts": 1, "initial": 0, "maximum": 0}, "page_size": 50,
            "pull": [{"record_type": "penalty", "path": "/api/v1/penalties",
                      "params": {"updated_after": "{since}", "cursor": "{cursor}"}, "pagination": "cursor",
                      "records_path": "data.items", "next_cursor_path": "data.next_cursor", "ok_path": "code",
                      "message_path": "msg", "key_field": "ajbh", "updated_field": "updated_at",
                      "initial_since": "2000-01-01 00:00:00"}],
        },
        "mappings": {"penalty": "case_handling.penalty@1"},
    }


def _penalty(key: str, updated: str) -> dict[str, Any]:
    return {"ajbh": key, "updated_at": updated, "dsrmc": "济宁某某商贸有限公司", "fkje": 5000.50}


class Feed:
    """The platform's records; each answer holds those updated at or after ``updated_after``."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.broken: bytes | None = None
        self.asked: list[str] = []

    def __call__(self, seen: Seen) -> Answer:
        since = seen.path.partition("updated_after=")[2].partition("&")[0].replace("+", " ").replace("%3A", ":")
        self.asked.append(since)
        if self.broken is not None:
            return Answer(200, self.broken)
        after = parse_instant(since)
        chosen = [r for r in self.records if after is None or (parse_instant(r["updated_at"]) or after) >= after]
        return Answer(200, {"code": 0, "data": {"items": chosen, "next_cursor": None}})


@pytest.fixture
def rest_system(database_url: str, http_server: Callable[..., ScriptedServer]) -> Iterator[tuple[str, Feed]]:
    feed = Feed()
    server = http_server(feed)
    _register(database_url, _rest_registration(server))
    yield database_url, feed


def test_an_answer_without_its_data_fails_the_run_before_the_watermark_moves(rest_system: tuple[str, Feed], tmp_path: Path) -> None:
    url, feed = rest_system
    feed.records = [_penalty("A1", "2024-05-01 10:00:00")]
    first = _run(url, tmp_path, "jn-dirty-rest")
    assert first.status is RunStatus.SUCCEEDED and first.counts.pulled == 1
    before = _watermark(url, "jn-dirty-rest", "penalty")
    feed.broken = b'{"code": 0}'  # "success", and no data
    failed = _run(url, tmp_path, "jn-dirty-rest")
    assert failed.status is RunStatus.FAILED
    assert failed.error is not None and "has no `data.items`" in failed.error and "watermark does not move" in failed.error
    assert _watermark(url, "jn-dirty-rest", "penalty") == before
    feed.broken = json.dumps({"code": 50001, "msg": "系统繁忙，请稍后再试"}, ensure_ascii=False).encode()
    refused = _run(url, tmp_path, "jn-dirty-rest")
    assert refused.status is RunStatus.FAILED and refused.error is not None and "code=50001: 系统繁忙，请稍后再试" in refused.error
    assert _watermark(url, "jn-dirty-rest", "penalty") == before


def test_a_record_dated_2099_does_not_stop_the_next_incremental_pull_from_finding_new_records(
        rest_system: tuple[str, Feed], tmp_path: Path) -> None:
    url, feed = rest_system
    feed.records = [_penalty("A1", "2024-05-01 10:00:00"), _penalty("FUTURE", "2099-12-31 23:59:59")]
    first = _run(url, tmp_path, "jn-dirty-rest")
    assert first.status is RunStatus.SUCCEEDED and first.counts.pulled == 2 and first.counts.errors >= 1
    assert _watermark(url, "jn-dirty-rest", "penalty")["since"] == "2024-05-01 10:00:00"
    feed.records.append(_penalty("B2", "2024-06-01 09:00:00"))  # a new record, after the watermark
    second = _run(url, tmp_path, "jn-dirty-rest")
    assert second.status is RunStatus.SUCCEEDED
    assert feed.asked[-1] == "2024-05-01 10:00:00"  # the incremental pull asked from the real watermark
    assert second.counts.pulled == 3 and second.counts.staged == 1  # B2 found (A1 and the 2099 record staged already)
    assert _watermark(url, "jn-dirty-rest", "penalty")["since"] == "2024-06-01 09:00:00"
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            keys = set(session.scalars(select(RawRecord.source_key).where(RawRecord.system_id == "jn-dirty-rest")))
    finally:
        engine.dispose()
    assert keys == {"A1", "B2", "FUTURE"}  # the 2099 record kept (raw, as an error), never lost


# --------------------------------------------------------------------------- SIGKILL, epoch-ms feed

def _double_random(sandbox: Sandbox) -> dict[str, Any]:
    """examples/systems/double-random.yaml against this sandbox: page numbers, epoch-ms updateTime."""
    return {
        "format": 1, "id": DOUBLE_RANDOM, "name": "济宁市双随机一公开监管系统", "department": "济宁市市场监督管理局",
        "department_credit_code": "11370800MB2850022B", "region": "370800", "kind": "double_random",
        "adapter": {
            "protocol": "rest",
            "lines": [{"url": sandbox.url("double_random"), "name": "primary"},
                      {"url": sandbox.url("double_random", "backup"), "name": "backup"}],
            "auth": {"kind": "token", "token": {"env": TOKEN_ENV}, "header": "X-Api-Token", "prefix": ""},
            "retry": {"attempts": 8, "initial": 0.001, "maximum": 0.01, "max_retry_after": 0.05},
            "page_size": PAGE_SIZE,
            "pull": [{"record_type": "inspection", "path": "/api/v1/results",
                      "params": {"updateTimeFrom": "{since}", "pageNum": "{page}", "pageSize": "{page_size}"},
                      "pagination": "page", "records_path": "result.rows", "total_path": "result.total",
                      "ok_path": "success", "ok_values": [True], "key_field": "resultId", "updated_field": "updateTime",
                      "initial_since": "2000-01-01 00:00:00"}],
        },
        "mappings": {"inspection": "double_random.inspection@2"},
    }


def crashing_first_run(url: str, home: str, point: str, page: int) -> None:
    """Child process: run the double-random system and SIGKILL this process at ``point`` of its ``page``-th page."""
    ex = _exchange(url, Path(home), worker_id=f"crash-{os.getpid()}")
    service = ex.runs()
    install_crash(ex, service, point, page)
    service.run_now(DOUBLE_RANDOM)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=12, records=RECORDS, port_base=0)) as running:
        yield running


def test_a_kill_during_the_first_run_of_an_epoch_ms_feed_never_freezes_its_watermark(
        database_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade(reference)
    _register(reference, _double_random(sandbox))
    uninterrupted = _run(reference, tmp_path, DOUBLE_RANDOM)
    assert uninterrupted.status is RunStatus.SUCCEEDED and uninterrupted.counts.pulled > 5 * PAGE_SIZE

    _register(database_url, _double_random(sandbox))
    for point, page in (("committed", 2), ("pull", 2), ("staged", 1)):  # each rerun resumes the first pass
        process = spawn(crashing_first_run, database_url, str(tmp_path), point, page)
        process.join(timeout=120)
        assert process.exitcode == -signal.SIGKILL, f"the worker was to die at {point} of page {page}: exit {process.exitcode}"
        mid_pass = _watermark(database_url, DOUBLE_RANDOM, "inspection")
        assert mid_pass["since"] == "2000-01-01 00:00:00" and mid_pass.get("cursor")  # the first pass, unfinished
    finished = _run(database_url, tmp_path, DOUBLE_RANDOM)
    assert finished.status is RunStatus.SUCCEEDED, finished.error
    assert not [w for w in finished.warnings if "backwards" in w], finished.warnings
    assert finished.counts.pulled < uninterrupted.counts.pulled  # it resumed, it did not start again

    mark = _watermark(database_url, DOUBLE_RANDOM, "inspection")
    assert mark == _watermark(reference, DOUBLE_RANDOM, "inspection")
    assert mark["since"].isdigit() and (parse_instant(mark["since"]) or 0) > (parse_instant("2020-01-01 00:00:00") or 0)
    assert_same_outcome(snapshot(database_url), snapshot(reference))  # nothing lost, nothing doubled

    again = _run(database_url, tmp_path, DOUBLE_RANDOM)  # incremental from the epoch-ms watermark, not the whole feed
    assert again.status is RunStatus.SUCCEEDED and again.counts.pulled < PAGE_SIZE, again.counts
    assert not [w for w in again.warnings if "backwards" in w], again.warnings
