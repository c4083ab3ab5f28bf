"""Mapping helpers (jnx.exchange.premap): a run that maps its next pages in helper processes stores
exactly what a run mapping in its own process stores — and a helper that dies or is never usable
only costs speed."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.config import MappingSecrets
from jnx.adapters.factory import Adapters
from jnx.adapters.testing import FakePuller
from jnx.codesets import default_registry
from jnx.errors import TransientError
from jnx.exchange import premap
from jnx.exchange.ingest import Mapper
from jnx.exchange.premap import IngesterSpec, PageMappers
from jnx.exchange.runs import RunService
from jnx.mappings.model import MappingContext
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.mappings.standard_dictionary import standard_dictionary
from jnx.standard.dictionary import default_dictionary
from jnx.store import queries
from jnx.store.db import create_engine_for
from jnx.store.models import (
    MappingErrorEntry,
    RunStatus,
    StandardRecord,
    StandardRecordRevision,
)
from jnx.store.models import Watermark as WatermarkRow
from tests.exchange.test_runs import ListPuller, _register, _source

SYSTEM = "jn-case-handling"


class FolderTables:
    """The shipped tables, with the folders a helper process needs to compile the same ones."""

    def __init__(self) -> None:
        self.folders = [SHIPPED_DIR]
        self.registry = TableRegistry(self.folders, standard_dictionary(), default_registry())

    def compiled(self, name: str, version: str) -> Mapper:
        return self.registry.compiled(name, int(version))


def _service(engine: Engine, puller: Any, map_processes: int) -> RunService:
    return RunService(
        engine,
        tables=FolderTables(),
        dictionary=default_dictionary(),
        secrets=MappingSecrets({"JNX_CASE_SECRET": "x"}),
        adapters_factory=lambda config, secrets: Adapters(pullers={"penalty": puller}),
        map_processes=map_processes,
    )


def _stored(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return {
            "records": sorted((r.business_key, r.current_revision, r.content_hash, json.dumps(r.data, sort_keys=True)) for r in session.execute(
                select(StandardRecord.business_key, StandardRecord.current_revision, StandardRecord.content_hash, StandardRecord.data))),
            "revisions": sorted((r.revision, r.content_hash, r.mapping_hash) for r in session.execute(
                select(StandardRecordRevision.revision, StandardRecordRevision.content_hash, StandardRecordRevision.mapping_hash))),
            "errors": sorted((e.field, e.rule, e.message, e.group_key) for e in session.execute(
                select(MappingErrorEntry.field, MappingErrorEntry.rule, MappingErrorEntry.message, MappingErrorEntry.group_key))),
            "watermarks": sorted(tuple(r) for r in session.execute(select(WatermarkRow.stream, WatermarkRow.value))),
        }


@pytest.fixture
def make_engine(_sqlite_template: Path, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Fresh migrated SQLite databases, as many as a test wants."""
    engines: list[Engine] = []

    def make() -> Engine:
        path = tmp_path / f"jnx{len(engines)}.db"
        shutil.copyfile(_sqlite_template, path)
        engines.append(create_engine_for(f"sqlite:///{path}"))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def source() -> list[dict[str, Any]]:
    return _source(400)  # 8 pages of 50: the helpers start (a full first page, more to come)


@pytest.fixture
def helped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Helpers ready as soon as they are made (a run does not wait for them; a test must, to use
    them on a short run), and the number of records each page got from them."""
    pages: list[int] = []
    real_init, real_prepared = PageMappers.__init__, PageMappers.prepared

    def init(self: PageMappers, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        assert self.wait_ready()

    def prepared(self: PageMappers) -> Any:
        answer = real_prepared(self)
        pages.append(len(answer))
        return answer

    monkeypatch.setattr(PageMappers, "__init__", init)
    monkeypatch.setattr(PageMappers, "prepared", prepared)
    return pages


def test_a_run_with_mapping_helpers_stores_exactly_what_a_run_without_them_stores(
        make_engine: Any, migrated_engine: Engine, source: list[dict[str, Any]], helped: list[int]) -> None:
    outcomes = []
    for processes, engine in ((0, make_engine()), (1, migrated_engine), (2, make_engine())):
        _register(engine)
        puller = ListPuller(source)
        summary = _service(engine, puller, processes).run_now(SYSTEM)
        assert summary.status is RunStatus.SUCCEEDED, summary.error
        assert puller.acknowledged == list(range(1, 9))
        outcomes.append((summary.counts.as_dict(), _stored(engine)))
    without, *with_helpers = outcomes
    assert without[0]["errors"] > 0 and without[0]["new"] > 0  # the sample has bad records too
    for outcome in with_helpers:
        assert outcome == without
    # page 1 starts the helpers and is mapped by the run; pages 2-7 by the helpers (page 8 is the last)
    assert helped.count(50) >= 2 * 5, helped


@dataclass(frozen=True)
class SizeAhead:
    """A stored hook's work ahead (the 双公示 deriver's plans, in production): here the helper's pid
    and the record's size; ``fail``: building it fails, ``every``: only every n-th record succeeds."""

    fail: bool = False
    every: int = 1

    def build(self) -> Callable[[str, Any], Any]:
        if self.fail:
            raise RuntimeError("no outbound tables here")
        every = self.every

        def ahead(record_type: str, data: Any) -> Any:
            if len(data["case_number"]) % every:
                raise ValueError("left to the hook")
            return (record_type, os.getpid(), len(data))

        return ahead


@pytest.mark.parametrize("spec", [SizeAhead(), SizeAhead(every=2), SizeAhead(fail=True)])
def test_the_stored_hooks_work_ahead_reaches_it_with_each_record_a_helper_mapped(
        make_engine: Any, source: list[dict[str, Any]], helped: list[int], spec: SizeAhead) -> None:
    engine = make_engine()
    _register(engine)
    seen: list[Any] = []
    service = _service(engine, ListPuller(source), 1)
    service.on_stored = lambda session, system, stored: seen.extend(stored)
    service.work_ahead = lambda session, system: spec
    summary = service.run_now(SYSTEM)
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    assert len(seen) == summary.counts.new + summary.counts.revised
    worked = [record for record in seen if record.ahead is not None]
    assert all(a.ahead == ("penalty", a.ahead[1], len(a.data)) and a.ahead[1] != os.getpid() for a in worked)
    if spec.fail:
        assert not worked
    else:  # records the run mapped itself (the last page) have nothing ahead
        assert sum(helped) * (0.3 if spec.every == 2 else 0.9) < len(worked) <= len(seen)
        if spec.every == 2:
            assert all(len(a.data["case_number"]) % 2 == 0 for a in worked)


def test_a_second_run_of_unchanged_records_starts_no_helpers(make_engine: Any, source: list[dict[str, Any]],
                                                             helped: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine()
    _register(engine)
    service = _service(engine, ListPuller(source), 1)
    assert service.run_now(SYSTEM).status is RunStatus.SUCCEEDED
    assert helped  # the first run used them
    searches: list[int] = []
    real_staged_ids = queries.staged_ids
    monkeypatch.setattr(queries, "staged_ids", lambda *a: searches.append(1) or real_staged_ids(*a))
    helped.clear()
    second = service.run_now(SYSTEM, full=True)
    assert second.counts.unchanged == len(source) and second.counts.new == 0
    assert helped == []
    # one search per page by the ingester, and one more to see that the first page brings nothing new
    assert len(searches) == 8 + 1


def test_pages_pulled_before_a_failing_page_are_stored_as_without_helpers(make_engine: Any, source: list[dict[str, Any]],
                                                                        helped: list[int]) -> None:
    from jnx.adapters.base import PayloadEncoding, RawRecord

    records = [RawRecord(r["ajbh"], "penalty", r, PayloadEncoding.JSON, f"2024-01-01 00:{i // 60:02d}:{i % 60:02d}")
               for i, r in enumerate(source)]
    results = []
    for processes in (0, 1):
        engine = make_engine()
        _register(engine)
        puller = FakePuller(records, page_size=100, fail_on_page=3, failure=TransientError("line down"), fail_times=None)
        summary = _service(engine, puller, processes).run_now(SYSTEM)
        assert summary.status is RunStatus.FAILED
        assert summary.pages == {"penalty": 2}
        results.append(_stored(engine))
    assert results[0] == results[1]
    assert helped and set(helped) == {100}  # page 2 was mapped by the helper, pulled before page 3 failed


def _spec() -> IngesterSpec:
    import datetime as dt

    return IngesterSpec((str(SHIPPED_DIR),), "case_handling.penalty", 1, SYSTEM, "penalty",
                        MappingContext(department_credit_code="11370800004180002M"), dt.date(2026, 11, 25))


def _expected_ref() -> Any:
    return FolderTables().registry.compiled("case_handling.penalty", 1).ref


def test_a_helper_that_dies_leaves_its_pages_to_the_run() -> None:
    from jnx.adapters.base import PayloadEncoding, RawRecord

    records = [RawRecord(r["ajbh"], "penalty", r, PayloadEncoding.JSON, None) for r in _source(120)]
    with PageMappers(_spec(), _expected_ref(), 1) as mappers:
        mappers.submit(records)
        assert mappers.prepared() == {}  # sent nowhere: the helper is still starting
        assert mappers.wait_ready()
        mappers.submit(records)
        first = mappers.prepared()
        assert set(first) == {r.content_hash for r in records}
        os.kill(mappers.helpers[0].process.pid, signal.SIGKILL)
        mappers.helpers[0].process.join(timeout=10)
        mappers.submit(records)
        assert mappers.prepared() == {}  # the run maps this page itself
        mappers.submit(records)
        assert mappers.prepared() == {}


def test_a_helper_that_builds_another_table_version_is_not_used() -> None:
    from jnx.adapters.base import PayloadEncoding, RawRecord
    from jnx.mappings.model import TableRef

    records = [RawRecord(r["ajbh"], "penalty", r, PayloadEncoding.JSON, None) for r in _source(60)]
    other = TableRef("case_handling.penalty", 1, "sha256:" + "0" * 64)
    with PageMappers(_spec(), other, 1) as mappers:
        assert not mappers.wait_ready()
        mappers.submit(records)
        assert mappers.prepared() == {}


def _orphan(ready: Any) -> None:
    mappers = PageMappers(_spec(), _expected_ref(), 1)
    ready.put(mappers.helpers[0].process.pid)
    time.sleep(600)


def test_a_helper_exits_when_its_run_is_killed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    run = context.Process(target=_orphan, args=(ready,))
    run.start()
    helper = ready.get(timeout=120)
    os.kill(run.pid, signal.SIGKILL)  # type: ignore[arg-type]
    run.join(timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(helper, 0)
        except ProcessLookupError:
            return
        if _is_zombie(helper):
            return
        time.sleep(0.2)
    os.kill(helper, signal.SIGKILL)
    pytest.fail("the helper outlived its run's process by 30 s")


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def test_small_or_single_page_streams_start_no_helpers(make_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    monkeypatch.setattr(premap.PageMappers, "__init__", lambda self, *a, **k: started.append(1) or (_ for _ in ()).throw(AssertionError))
    engine = make_engine()
    _register(engine)
    summary = _service(engine, ListPuller(_source(30)), 1).run_now(SYSTEM)
    assert summary.status is RunStatus.SUCCEEDED
    assert started == []


def test_closing_with_pages_in_flight_does_not_wait_for_them() -> None:
    from jnx.adapters.base import PayloadEncoding, RawRecord

    records = [RawRecord(r["ajbh"], "penalty", r, PayloadEncoding.JSON, None) for r in _source(1000)]
    mappers = PageMappers(_spec(), _expected_ref(), 1)
    assert mappers.wait_ready()
    for _ in range(4):
        mappers.submit(records)  # answers nobody reads: the helper blocks sending them
    time.sleep(1)
    started = time.monotonic()
    mappers.close()
    assert time.monotonic() - started < 3
    assert not mappers.helpers[0].process.is_alive()


def _disclosures(engine: Engine) -> dict[str, Any]:
    from jnx.store.models import Delivery, Disclosure, DisclosureRevision

    with Session(engine) as session:
        return {
            "disclosures": sorted(
                (d.kind.value, d.business_key, d.status.value, d.decision_date, d.deadline, d.deadline_basis, d.display_until,
                 d.current_revision, json.dumps(d.problems, sort_keys=True, ensure_ascii=False))
                for d in session.scalars(select(Disclosure))),
            "revisions": sorted(
                (r.revision, r.action.value, json.dumps(r.payload, sort_keys=True, ensure_ascii=False), r.idempotency_key, r.due_date)
                for r in session.scalars(select(DisclosureRevision))),
            "deliveries": sorted(d.status.value for d in session.scalars(select(Delivery))),
        }


def test_disclosures_planned_ahead_in_the_helpers_are_exactly_those_the_run_would_plan(
        make_engine: Any, source: list[dict[str, Any]], helped: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from jnx.publicity import derive as disclosures
    from jnx.publicity.ahead import work_ahead
    from jnx.publicity.calendar import WorkdayCalendar
    from jnx.publicity.derive import DisclosureDeriver, DisclosureRules

    used: list[bool] = []
    real = disclosures.plan_from_ahead
    monkeypatch.setattr(disclosures, "plan_from_ahead", lambda *a: used.append(bool(plan := real(*a))) or plan)
    outcomes = []
    for processes in (0, 1):
        engine = make_engine()
        _register(engine)
        service = _service(engine, ListPuller(source), processes)
        deriver = DisclosureDeriver(DisclosureRules(calendar=WorkdayCalendar.load(), tables=service.tables.registry,
                                                    today=lambda: dt.date(2026, 11, 25)))
        service.on_stored = deriver.on_stored
        service.work_ahead = lambda session, system, deriver=deriver: work_ahead(deriver, session, system)
        summary = service.run_now(SYSTEM)
        assert summary.status is RunStatus.SUCCEEDED, summary.error
        outcomes.append((deriver.summary.as_dict(), _disclosures(engine)))
    without, helped_out = outcomes
    assert without[0]["new"] > 300 and without[1]["revisions"]
    assert helped_out == without
    assert used.count(True) >= 300  # the helpers' plans were used, not made again
