"""A run, end to end inside the exchange: pages staged, mapped with the pinned table, stored by
business key with revisions, errors queued, watermark committed with each page."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import Page, PayloadEncoding, RawRecord, Watermark
from jnx.adapters.config import MappingSecrets
from jnx.adapters.factory import Adapters
from jnx.codesets import default_registry
from jnx.exchange.ingest import Mapper
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunService
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry
from jnx.mappings.standard_dictionary import standard_dictionary
from jnx.sandbox.case_data import penalties
from jnx.standard.dictionary import default_dictionary
from jnx.store.models import (
    MappingErrorEntry,
    RunStatus,
    StandardRecord,
    StandardRecordRevision,
)
from tests.exchange.test_registry import CASE_HANDLING

PAGE = 50


class ListPuller:
    """Serves a fixed list of source records in pages, with a page-number watermark."""

    def __init__(self, records: list[dict[str, Any]], *, repeat_page: bool = False) -> None:
        self.records = records
        self.repeat_page = repeat_page
        self.acknowledged: list[int] = []

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        start = int(watermark.since) if watermark else 0
        number = 0
        while start < len(self.records):
            chunk = self.records[start:start + PAGE]
            raws = tuple(
                RawRecord(source_key=r["ajbh"], record_type="penalty", payload=r, encoding=PayloadEncoding.JSON, source_updated=None)
                for r in chunk
            )
            if not self.repeat_page:
                start += len(chunk)
            number += 1
            yield Page(raws, Watermark(since=f"{start:08d}"), number, "fake://line", last=start >= len(self.records))

    def acknowledge(self, page: Page) -> None:
        self.acknowledged.append(page.number)


class Tables:
    def __init__(self) -> None:
        self.registry = TableRegistry([SHIPPED_DIR], standard_dictionary(), default_registry())

    def compiled(self, name: str, version: str) -> Mapper:
        return self.registry.compiled(name, int(version))


def _service(engine: Engine, puller: ListPuller) -> RunService:
    return RunService(
        engine,
        tables=Tables(),
        dictionary=default_dictionary(),
        secrets=MappingSecrets({"JNX_CASE_SECRET": "x"}),
        adapters_factory=lambda config, secrets: Adapters(pullers={"penalty": puller}),
    )


def _register(engine: Engine) -> None:
    doc = copy.deepcopy(CASE_HANDLING)
    doc["mappings"] = {"penalty": "case_handling.penalty@1"}
    with Session(engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(doc, "case.yaml"))


def _source(count: int = 200) -> list[dict[str, Any]]:
    records, _ = penalties(seed=7, count=count)
    return [dict(r.fields) for r in records]


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_run_stores_every_record_or_its_errors(migrated_engine: Engine) -> None:
    _register(migrated_engine)
    source = _source()
    summary = _service(migrated_engine, ListPuller(source)).run_now("jn-case-handling")
    assert summary.status is RunStatus.SUCCEEDED, summary.error
    c = summary.counts
    assert c.pulled == c.staged == len(source)
    assert c.new + c.errors + c.duplicates_merged + (c.unchanged - c.duplicates_merged) >= len(source) - c.revised
    assert c.new == _count(migrated_engine, StandardRecord)
    assert c.errors > 0, "the sandbox's messy share must produce reviewable errors"
    with Session(migrated_engine) as session:
        failed = session.scalar(select(func.count(func.distinct(MappingErrorEntry.raw_record_id))))
    assert failed == c.errors


def test_a_second_run_of_the_same_data_changes_nothing(migrated_engine: Engine) -> None:
    _register(migrated_engine)
    source = _source(120)
    service = _service(migrated_engine, ListPuller(source))
    first = service.run_now("jn-case-handling")
    again = service.run_now("jn-case-handling", full=True)
    assert again.counts.unchanged == len(source)
    assert again.counts.new == again.counts.revised == again.counts.errors == 0
    assert _count(migrated_engine, StandardRecord) == first.counts.new


def test_changed_content_is_a_new_revision_and_the_old_is_kept(migrated_engine: Engine) -> None:
    _register(migrated_engine)
    source = _source(60)
    service = _service(migrated_engine, ListPuller(source))
    service.run_now("jn-case-handling")
    before = _count(migrated_engine, StandardRecordRevision)
    with Session(migrated_engine) as session:
        stored = session.scalars(select(StandardRecord)).first()
        assert stored is not None
        number = stored.data["document_number"]
    changed = [dict(r) for r in source]
    target = next(r for r in changed if str(r.get("cfjdsh", "")).strip() == number)
    target["cfnr"] = "罚款（复议后变更）"
    summary = _service(migrated_engine, ListPuller(changed)).run_now("jn-case-handling", full=True)
    assert summary.counts.revised == 1
    assert _count(migrated_engine, StandardRecordRevision) == before + 1


def test_a_source_that_returns_the_same_page_forever_fails_the_run_clearly(migrated_engine: Engine) -> None:
    _register(migrated_engine)
    summary = _service(migrated_engine, ListPuller(_source(120), repeat_page=True)).run_now("jn-case-handling")
    assert summary.status is RunStatus.FAILED
    assert "same page again" in (summary.error or "")
    assert summary.counts.pulled == PAGE  # the first page was kept, nothing doubled


def test_the_watermark_moves_with_each_committed_page(migrated_engine: Engine) -> None:
    _register(migrated_engine)
    puller = ListPuller(_source(120))
    summary = _service(migrated_engine, puller).run_now("jn-case-handling")
    assert Watermark.from_json(summary.watermarks["penalty"]).since == "00000120"
    assert puller.acknowledged == [1, 2, 3]
    # a later run starts after the watermark: nothing is pulled again
    assert _service(migrated_engine, ListPuller(_source(120))).run_now("jn-case-handling").counts.pulled == 0


@pytest.mark.parametrize("garbage", [b"\x00\xffnot json", "[1, 2, 3]"])
def test_a_garbage_record_becomes_an_error_and_the_run_goes_on(migrated_engine: Engine, garbage: Any) -> None:
    _register(migrated_engine)
    source: list[Any] = _source(10)

    class Garbage(ListPuller):
        def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
            bad = RawRecord("bad-1", "penalty", garbage if isinstance(garbage, bytes) else garbage.encode(), PayloadEncoding.JSON, None)
            for page in super().pull(watermark):
                yield Page((bad, *page.records), page.watermark, page.number, page.line, page.last)

    summary = _service(migrated_engine, Garbage(source)).run_now("jn-case-handling")
    assert summary.status is RunStatus.SUCCEEDED
    with Session(migrated_engine) as session:
        rules = set(session.scalars(select(MappingErrorEntry.rule)))
    assert "payload.undecodable" in rules


def test_a_run_stores_its_pages_with_rare_collections_and_restores_the_setting(migrated_engine: Engine) -> None:
    import gc

    from jnx.exchange.gcpolicy import THRESHOLD

    _register(migrated_engine)
    seen: list[int] = []
    service = _service(migrated_engine, ListPuller(_source(120)))
    service.on_stored = lambda session, system, stored: seen.append(gc.get_threshold()[0])
    before = gc.get_threshold()
    assert service.run_now("jn-case-handling").status is RunStatus.SUCCEEDED
    assert seen and set(seen) == {max(THRESHOLD, before[0])}
    assert gc.get_threshold() == before
