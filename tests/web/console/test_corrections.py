"""错误 → 更正: one raw record corrected in a form, previewed (nothing changes), then applied (the
original kept, the correction stored and mapped, the original's errors resolved, audited without the
values) — on a copy of the demo's database, through the console in process."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jnx.settings import Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import (
    AuditEntry,
    Disclosure,
    DisclosureAction,
    DisclosureRevision,
    DisclosureStatus,
    MappingErrorEntry,
    MappingErrorStatus,
    RawRecord,
    RecordLineage,
    StandardRecord,
)
from tests.web.console.test_pages import _csrf, _log_in


def _party_type_error(settings: Settings) -> MappingErrorEntry:
    """An open 'unknown party type 5' of the case-handling system: 2 (法人及非法人组织) fixes it."""
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        found = session.scalars(select(MappingErrorEntry).where(
            MappingErrorEntry.system_id == "jn-case-handling", MappingErrorEntry.field == "party_type",
            MappingErrorEntry.rule == "code.unknown", MappingErrorEntry.status == MappingErrorStatus.OPEN)
            .order_by(MappingErrorEntry.id)).first()
        assert found is not None, "the demo has no unknown party type any more"
        session.expunge(found)
    engine.dispose()
    return found


def _counts(settings: Settings, raw_id: int) -> tuple[int, int, str]:
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        raws = int(session.scalar(select(func.count()).select_from(RawRecord)) or 0)
        open_errors = int(session.scalar(select(func.count()).select_from(MappingErrorEntry).where(
            MappingErrorEntry.raw_record_id == raw_id, MappingErrorEntry.status == MappingErrorStatus.OPEN)) or 0)
        raw = session.get(RawRecord, raw_id)
        assert raw is not None
        payload = raw.payload.decode()
    engine.dispose()
    return raws, open_errors, payload


def test_a_raw_record_is_corrected_in_a_form_previewed_then_applied(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    _log_in(client, "fixer")
    error = _party_type_error(settings)
    assert f'href="/errors/{error.id}/correct"' in client.get(f"/errors/{error.id}").text

    form = client.get(f"/errors/{error.id}/correct")
    assert form.status_code == 200
    failing = re.search(r'<tr class="failing" data-failing>\s*<th><label for="[^"]+">([^<]+)</label>', form.text)
    assert failing is not None and failing.group(1) == error.source_path  # the failing field first, marked
    assert re.search(r"\d{17}[\dX]", form.text) is None  # no full ID number on the page, not even in an input
    before = _counts(settings, error.raw_record_id)
    assert before[1] >= 1

    fields = {"csrf_token": _csrf(form.text), f"field:{error.source_path}": "2"}
    preview = client.post(f"/errors/{error.id}/correct/preview", data=fields)
    assert preview.status_code == 200 and 'data-figure="fixed" class="good"' in preview.text
    assert 'name="reason"' in preview.text and 'data-touches="1"' in preview.text
    assert re.search(r'data-figure="closed">(\d+)<', preview.text).group(1) == str(before[1])  # type: ignore[union-attr]
    assert _counts(settings, error.raw_record_id) == before  # the preview changed nothing

    unchanged = client.post(f"/errors/{error.id}/correct/preview", data={**fields, f"field:{error.source_path}": "5"})
    assert "data-preview" not in unchanged.text and "表单没有任何改动" in unchanged.text  # the same value: nothing to preview

    refused = client.post(f"/errors/{error.id}/correct", data={**fields, "reason": " "})
    assert refused.status_code == 400 and _counts(settings, error.raw_record_id) == before

    applied = client.post(f"/errors/{error.id}/correct", data={**fields, "reason": "源系统当事人类型录入错误"},
                          follow_redirects=False)
    assert applied.status_code == 303 and applied.headers["location"].startswith("/records/")
    raws, open_errors, payload = _counts(settings, error.raw_record_id)
    assert (raws, open_errors, payload) == (before[0] + 1, 0, before[2])  # one more raw record; the original as received

    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        closed = session.get(MappingErrorEntry, error.id)
        assert closed is not None and closed.status is MappingErrorStatus.RESOLVED
        # the fixer's own entry: the session's shared demo may hold others (the browser journey corrects one too)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "errors.corrected",
                                                         AuditEntry.actor == "fixer")).one()
        new_raw = int(entry.subject.split(":")[1])
        assert entry.actor == "fixer" and entry.details["fields"] == [error.source_path]
        assert entry.details["reason"] == "源系统当事人类型录入错误"
        assert set(entry.details) == {"error", "original_raw_record", "fields", "reason", "fixed", "closed", "record", "via"}  # no value
        record_id = session.scalar(select(RecordLineage.standard_record_id).where(RecordLineage.raw_record_id == new_raw))
        assert applied.headers["location"] == f"/records/{record_id}"
    engine.dispose()

    lineage = client.get(f"/records/{record_id}").text
    assert f"#{new_raw}" in lineage and "fixer 手工更正" in lineage  # the step names the user who corrected it

    again = client.post(f"/errors/{error.id}/correct", data={**fields, "reason": "again"})
    assert again.status_code == 409  # resolved already: its state is in the way (as over the API)


def test_a_department_officer_cannot_correct_another_departments_record(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    _log_in(client, "stranger")
    error = _party_type_error(settings)
    assert client.get(f"/errors/{error.id}/correct").status_code == 404
    form = client.get("/me")
    answer = client.post(f"/errors/{error.id}/correct", data={"csrf_token": _csrf(form.text), f"field:{error.source_path}": "2",
                                                               "reason": "x"})
    assert answer.status_code == 404
    assert _counts(settings, error.raw_record_id)[1] >= 1


def test_a_replay_of_the_groups_a_filter_shows_is_previewed_with_their_count(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    _log_in(client, "fixer")
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        records = int(session.scalar(select(func.count(func.distinct(MappingErrorEntry.raw_record_id))).where(
            MappingErrorEntry.rule == "code.unknown", MappingErrorEntry.status == MappingErrorStatus.OPEN)) or 0)
        before = int(session.scalar(select(func.count()).select_from(MappingErrorEntry).where(
            MappingErrorEntry.status == MappingErrorStatus.OPEN)) or 0)
    assert records > 1
    listed = client.get("/errors", params={"rule": "code.unknown"}).text
    assert 'href="/errors/replay?rule=code.unknown"' in listed
    preview = client.get("/errors/replay", params={"rule": "code.unknown"})
    assert preview.status_code == 200 and f'data-touches="{records}"' in preview.text
    assert 'name="rule" value="code.unknown"' in preview.text and 'data-figure="mapped">' in preview.text
    with session_factory(engine)() as session:
        assert int(session.scalar(select(func.count()).select_from(MappingErrorEntry).where(
            MappingErrorEntry.status == MappingErrorStatus.OPEN)) or 0) == before  # the preview changed nothing
    engine.dispose()


def test_a_disclosures_source_content_is_corrected_and_a_correction_revision_follows(demo_copy: tuple[Settings, TestClient]) -> None:
    settings, client = demo_copy
    _log_in(client, "fixer")
    engine = create_engine_for(settings.effective_database_url)
    with session_factory(engine)() as session:
        disclosure = session.scalars(select(Disclosure).join(StandardRecord, StandardRecord.id == Disclosure.standard_record_id)
                                     .join(RecordLineage, RecordLineage.standard_record_id == StandardRecord.id)
                                     .where(Disclosure.status == DisclosureStatus.PUBLISHED, StandardRecord.record_type == "penalty",
                                            RecordLineage.system_id == "jn-case-handling")
                                     .order_by(Disclosure.id)).first()
        assert disclosure is not None
        disclosure_id, record_id, revision = disclosure.id, disclosure.standard_record_id, disclosure.current_revision
    page = client.get(f"/disclosures/{disclosure_id}").text
    assert f'href="/records/{record_id}/correct"' in page
    form = client.get(f"/records/{record_id}/correct")
    assert form.status_code == 200 and 'name="field:cfnr"' in form.text
    old = re.search(r'name="field:cfnr" type="text" size="28"\s*value="([^"]*)"', form.text)
    assert old is not None
    fields = {"csrf_token": _csrf(form.text), "field:cfnr": old.group(1) + "（更正）"}
    preview = client.post(f"/records/{record_id}/correct/preview", data=fields)
    assert 'data-figure="fixed" class="good"' in preview.text and f'action="/records/{record_id}/correct"' in preview.text
    applied = client.post(f"/records/{record_id}/correct", data={**fields, "reason": "处罚内容笔误"}, follow_redirects=False)
    assert (applied.status_code, applied.headers["location"]) == (303, f"/records/{record_id}")
    with session_factory(engine)() as session:
        again = session.get(Disclosure, disclosure_id)
        assert again is not None and again.current_revision == revision + 1
        latest = session.scalars(select(DisclosureRevision).where(DisclosureRevision.disclosure_id == disclosure_id,
                                                                  DisclosureRevision.revision == revision + 1)).one()
        assert latest.action is DisclosureAction.CORRECTION
        record = session.get(StandardRecord, record_id)
        assert record is not None and "（更正）" in str(record.data)
    engine.dispose()
    assert "fixer 手工更正" in client.get(f"/records/{record_id}").text


def test_a_run_that_supersedes_a_broken_record_closes_its_errors_and_both_pages_say_so(
        demo_copy: tuple[Settings, TestClient]) -> None:
    """A run pulls the source's fixed record: the old record's errors close with that run, the error's
    page links the run and the run's page lists what it closed (migration 0010)."""
    import datetime as dt

    from jnx.adapters.base import PayloadEncoding
    from jnx.adapters.base import RawRecord as Pulled
    from jnx.exchange.error_queue import corrected_payload
    from jnx.exchange.ingest import PageIngester
    from jnx.exchange.registry import SystemRegistry
    from jnx.exchange.runs import _context
    from jnx.exchange.wiring import Exchange
    from jnx.store.models import Run, RunStatus, RunTrigger

    settings, client = demo_copy
    _log_in(client, "fixer")
    error = _party_type_error(settings)
    engine = create_engine_for(settings.effective_database_url)
    exchange = Exchange(settings=settings, engine=engine, environment={}, worker_id="test")
    service = exchange.runs()
    now = dt.datetime.now(dt.UTC)
    with session_factory(engine).begin() as session:
        run = Run(system_id=error.system_id, trigger=RunTrigger.MANUAL, full=False, due_at=now, status=RunStatus.SUCCEEDED,
                  attempts=1, started_at=now, finished_at=now, counts={"pulled": 1})
        session.add(run)
        session.flush()
        raw = session.get(RawRecord, error.raw_record_id)
        assert raw is not None and error.source_path
        system = SystemRegistry().get(session, raw.system_id)
        ingester = PageIngester(system_id=raw.system_id, record_type=raw.record_type,
                                mapper=service.tables.compiled(*system.registration.table_for(raw.record_type)),
                                context=_context(system), dictionary=service.dictionary, run_id=run.id, today=service.today())
        fixed = corrected_payload(raw, {error.source_path: "2"})
        outcome = ingester.ingest(session, [Pulled(raw.source_key, raw.record_type, fixed, PayloadEncoding.JSON, None)])
        assert outcome.counts.errors == 0
        run_id = run.id
    engine.dispose()
    page = client.get(f"/errors/{error.id}").text
    assert f'href="/runs/{run_id}"' in page.split("data-closed", 1)[1]
    closed = client.get(f"/runs/{run_id}").text.split("data-closed", 1)[1]
    assert "party_type" in closed and f"/errors/group/{error.group_key}?status=resolved" in closed
