"""Bad sources (issue 5, "Bad input"), against the real sandbox case-handling API and its fault
knobs: broken and truncated pages, records that crash a transform, a source that returns the same
page forever, a watermark that goes backwards, 30 % 5xx, resent pages. Each run either goes on or
fails with an error that says what happened and what to check; none loops; and once the source is
well again, a rerun ends exactly where an uninterrupted run ends — nothing lost, nothing doubled."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.adapters.base import Page, Watermark
from jnx.adapters.factory import build_adapters
from jnx.exchange.ingest import Mapper
from jnx.exchange.runs import RunService, RunSummary
from jnx.mappings.model import MappingContext, MappingResult
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.store.db import create_engine_for
from jnx.store.models import MappingErrorEntry, RunStatus
from tests.exchange.test_crash_safety import (
    PAGE_SIZE,
    SYSTEM,
    assert_same_outcome,
    exchange_for,
    reference_outcome,
    register,
    registration,
    snapshot,
)

pytestmark = pytest.mark.integration

RECORDS = 400
PAGES = RECORDS // PAGE_SIZE


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=19, records=RECORDS, port_base=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(sandbox: Sandbox) -> Iterator[None]:
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def uninterrupted(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sandbox.clear_faults()
    outcome, _ = reference_outcome(sandbox, tmp_path_factory.mktemp("uninterrupted"))
    return outcome


@pytest.fixture
def db(database_url: str, sandbox: Sandbox) -> str:
    engine = create_engine_for(database_url)
    register(engine, registration(sandbox))
    engine.dispose()
    return database_url


def _run(url: str, home: Path, *, adjust: Any = None, **changes: Any) -> RunSummary:
    ex = exchange_for(url, home)
    try:
        service = ex.runs()
        for name, value in changes.items():
            setattr(service, name, value)
        if adjust is not None:
            adjust(service)
        return service.run_now(SYSTEM)
    finally:
        ex.engine.dispose()


def _open_errors(url: str, rule: str) -> int:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).where(MappingErrorEntry.rule == rule)) or 0)
    finally:
        engine.dispose()


def _rerun_until_done(url: str, home: Path, attempts: int = 40) -> list[RunSummary]:
    summaries: list[RunSummary] = []
    for _ in range(attempts):
        summaries.append(_run(url, home))
        if summaries[-1].status is RunStatus.SUCCEEDED:
            return summaries
    pytest.fail(f"no run succeeded in {attempts}: {[s.error for s in summaries][-3:]}")


@pytest.mark.parametrize(("knob", "words"), [("malformed_rate", "JSON"), ("truncate_rate", "cut")])
def test_a_broken_page_fails_the_run_clearly_and_a_rerun_finishes_the_job(
    db: str, tmp_path: Path, sandbox: Sandbox, uninterrupted: dict[str, Any], knob: str, words: str
) -> None:
    sandbox.set_faults("case_handling", **{knob: 1.0})
    failed = _run(db, tmp_path)
    assert failed.status is RunStatus.FAILED
    assert words.lower() in (failed.error or "").lower() and "page 1" in (failed.error or ""), failed.error
    assert failed.counts.pulled == 0 and not snapshot(db)["raw"], "nothing of a broken page is staged"
    # a source broken now and then: every run gets further, none repeats what was committed
    sandbox.set_faults("case_handling", **{knob: 0.3})
    summaries = _rerun_until_done(db, tmp_path)
    assert sum(s.counts.staged for s in summaries) == RECORDS
    assert all(s.error for s in summaries[:-1])
    sandbox.clear_faults()
    assert_same_outcome(snapshot(db), uninterrupted)


def test_a_page_of_garbage_records_becomes_errors_and_the_run_goes_on(db: str, tmp_path: Path, sandbox: Sandbox) -> None:
    def with_garbage(config: Any, secrets: Any) -> Any:
        built = build_adapters(config, secrets)
        built.pullers = {stream: _Garbage(puller) for stream, puller in built.pullers.items()}
        return built

    summary = _run(db, tmp_path, adapters_factory=with_garbage)
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    assert summary.counts.pulled == RECORDS + PAGES
    assert _open_errors(db, "payload.undecodable") == PAGES


class _Garbage:
    """Each page of the real source with one more record: bytes that are not JSON."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        for page in self.inner.pull(watermark, page_size=page_size):
            junk = replace(page.records[0], source_key=f"junk-{page.number}", payload=b"\x00\xff<html>502", content_hash=f"junk{page.number}")
            yield replace(page, records=(*page.records, junk))

    def acknowledge(self, page: Page) -> None:
        self.inner.acknowledge(page)


def test_a_record_that_crashes_the_transform_is_an_error_and_the_run_goes_on(db: str, tmp_path: Path) -> None:
    def crashing_tables(service: RunService) -> None:
        service.tables = _CrashOn(service.tables, lambda record: str(record.get("ajbh", "")).endswith("7"))

    summary = _run(db, tmp_path, adjust=crashing_tables)
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    crashed = _open_errors(db, "mapping.crashed")
    assert 0 < crashed < RECORDS
    assert summary.counts.pulled == summary.counts.staged == RECORDS


class _CrashOn:
    def __init__(self, tables: Any, when: Any) -> None:
        self.tables, self.when = tables, when

    def compiled(self, name: str, version: str) -> Mapper:
        mapper = self.tables.compiled(name, version)
        when = self.when

        class Crashing:
            ref = mapper.ref
            table = mapper.table

            def __call__(self, record: Mapping[str, Any], context: MappingContext | None = None, **kwargs: Any) -> MappingResult:
                if when(record):
                    raise ZeroDivisionError("division by zero in a transform")
                return mapper(record, context, **kwargs)

        return Crashing()


def test_a_source_that_returns_the_same_page_forever_is_stopped(database_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    # page numbers the source never reads: every page is the first one again
    doc = registration(sandbox, pagination="page", params={"updated_after": "{since}", "limit": "{page_size}"})
    engine = create_engine_for(database_url)
    register(engine, doc)
    engine.dispose()
    summary = _run(database_url, tmp_path)
    assert summary.status is RunStatus.FAILED
    assert "same page again" in (summary.error or "") and "pagination" in (summary.error or "")
    assert summary.counts.staged == PAGE_SIZE, "the first page was kept once"
    outcome = snapshot(database_url)
    assert len(outcome["raw"]) == PAGE_SIZE and len(set(outcome["lineage"])) == len(outcome["lineage"])


def test_resent_pages_are_stored_once(db: str, tmp_path: Path, sandbox: Sandbox, uninterrupted: dict[str, Any]) -> None:
    sandbox.set_faults("case_handling", duplicate_rate=0.5)
    summary = _run(db, tmp_path)
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    assert summary.counts.pulled > RECORDS and summary.counts.staged == RECORDS
    sandbox.clear_faults()
    assert_same_outcome(snapshot(db), uninterrupted)


def test_a_run_completes_through_30_percent_5xx(db: str, tmp_path: Path, sandbox: Sandbox, uninterrupted: dict[str, Any]) -> None:
    sandbox.set_faults("case_handling", error_rate=0.3)
    summary = _run(db, tmp_path)
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    assert summary.counts.pulled == RECORDS
    sandbox.clear_faults()
    assert_same_outcome(snapshot(db), uninterrupted)


def test_a_watermark_that_goes_backwards_is_not_stored(db: str, tmp_path: Path, uninterrupted: dict[str, Any]) -> None:
    first = _run(db, tmp_path)
    stored = Watermark.from_json(first.watermarks["penalty"])

    def backwards(config: Any, secrets: Any) -> Any:
        built = build_adapters(config, secrets)
        built.pullers = {stream: _Backwards(puller) for stream, puller in built.pullers.items()}
        return built

    again = _run(db, tmp_path, adapters_factory=backwards)
    assert again.status is RunStatus.SUCCEEDED, again.error
    assert [w for w in again.warnings if "went backwards" in w] == [
        f"penalty: the source's watermark went backwards ({stored.since} → 2001-01-01 00:00:00); kept {stored.since}"
    ]
    assert Watermark.from_json(again.watermarks["penalty"]).since == stored.since
    assert again.counts.new == again.counts.revised == again.counts.staged == 0
    assert_same_outcome(snapshot(db), uninterrupted)


class _Backwards:
    """The real source, whose last page claims an update time long before the run's start."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        for page in self.inner.pull(watermark, page_size=page_size):
            yield replace(page, watermark=Watermark(since="2001-01-01 00:00:00")) if page.last else page

    def acknowledge(self, page: Page) -> None:
        self.inner.acknowledge(page)
