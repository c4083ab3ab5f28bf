"""The errors queue: grouped by cause, shown masked, ignored with a reason, emptied by a replay
once the table is fixed in a new version."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.config import MappingSecrets
from jnx.adapters.factory import Adapters
from jnx.errors import ConfigError
from jnx.exchange import error_queue
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunService
from jnx.exchange.wiring import table_catalog
from jnx.mappings.registry import SHIPPED_DIR
from jnx.settings import Settings
from jnx.standard.dictionary import default_dictionary
from tests.exchange.test_registry import CASE_HANDLING
from tests.exchange.test_runs import ListPuller, _source
from tests.publicity.test_outbox import ProgressLog


def _setup(engine: Engine, home: Path, version: str = "1") -> tuple[RunService, ListPuller]:
    doc = copy.deepcopy(CASE_HANDLING)
    doc["mappings"] = {"penalty": f"case_handling.penalty@{version}"}
    with Session(engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(doc, "case.yaml"))
    puller = ListPuller(_source(600))
    service = RunService(
        engine, tables=table_catalog(Settings(home=home)), dictionary=default_dictionary(),
        secrets=MappingSecrets({}), adapters_factory=lambda config, secrets: Adapters(pullers={"penalty": puller}),
    )
    return service, puller


def _records_in_queue(session: Session) -> int:
    return len({e["raw_record"] for e in error_queue.list_errors(session, limit=100_000)})


def _unknown_party_type_group(session: Session) -> error_queue.ErrorGroup:
    return next(g for g in error_queue.groups(session) if g.field == "party_type" and g.rule == "code.unknown")


def test_errors_are_grouped_by_cause(migrated_engine: Engine, tmp_path: Path) -> None:
    service, _ = _setup(migrated_engine, tmp_path)
    summary = service.run_now("jn-case-handling")
    with Session(migrated_engine) as session:
        found = error_queue.groups(session)
        assert sum(g.records for g in found) >= summary.counts.errors
        group = _unknown_party_type_group(session)
        assert group.value == "5" and group.records > 1, "one line for one cause, not one per record"
        listed = error_queue.list_errors(session, group=group.group[:10])
        assert len({e["raw_record"] for e in listed}) == group.records


def test_show_puts_the_raw_record_beside_the_error_with_id_numbers_masked(migrated_engine: Engine, tmp_path: Path) -> None:
    service, _ = _setup(migrated_engine, tmp_path)
    service.run_now("jn-case-handling")
    with Session(migrated_engine) as session:
        errors = error_queue.list_errors(session, limit=1000)
        shown = [error_queue.show(session, e["id"]) for e in errors]
    text = repr([s["raw"]["payload"] for s in shown])
    import re

    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", text), "a full ID number leaked into `jnx errors show`"
    assert all("source_key" in s["raw"] for s in shown)


def test_ignore_needs_a_reason_and_takes_errors_out_of_the_queue(migrated_engine: Engine, tmp_path: Path) -> None:
    service, _ = _setup(migrated_engine, tmp_path)
    service.run_now("jn-case-handling")
    with Session(migrated_engine) as session, session.begin():
        group = _unknown_party_type_group(session)
        with pytest.raises(ConfigError):
            error_queue.ignore(session, reason=" ", group=group.group)
        assert error_queue.ignore(session, reason="vendor code 5 = test data", group=group.group) == group.records
        assert all(g.group != group.group for g in error_queue.groups(session))


def test_fixing_a_translation_in_a_new_version_and_replaying_empties_the_group(migrated_engine: Engine, tmp_path: Path) -> None:
    service, _ = _setup(migrated_engine, tmp_path)
    service.run_now("jn-case-handling")
    with Session(migrated_engine) as session:
        group = _unknown_party_type_group(session)
        before = _records_in_queue(session)
    # the integrator publishes version 4: vendor code 5 means 个体工商户
    table = yaml.safe_load((SHIPPED_DIR / "case_handling.penalty" / "1.yaml").read_text(encoding="utf-8"))
    table["version"] = 5
    table["fields"]["party_type"]["do"][1]["code"]["map"]["5"] = "个体工商户"
    fixed = tmp_path / "case_handling.penalty.5.yaml"
    fixed.write_text(yaml.safe_dump(table, allow_unicode=True, sort_keys=False), encoding="utf-8")
    catalog = table_catalog(Settings(home=tmp_path))
    catalog.registry.publish(fixed)
    doc = copy.deepcopy(CASE_HANDLING)
    doc["mappings"] = {"penalty": "case_handling.penalty@5"}
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(doc, "case.yaml", catalog))
    service.tables = catalog
    with Session(migrated_engine) as session, session.begin():
        report = error_queue.replay(service, session, group=group.group)
    assert report.records == group.records
    with Session(migrated_engine) as session:
        remaining = error_queue.groups(session)
        assert all(g.group != group.group for g in remaining)
        # records fixed of this cause but broken for another reason stay, under their new cause
        assert _records_in_queue(session) == before - report.fixed


def test_replaying_errors_reports_the_records_to_re_map_then_each_stored_batch(
    migrated_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, _ = _setup(migrated_engine, tmp_path)
    service.run_now("jn-case-handling")
    monkeypatch.setattr(error_queue, "REPLAY_BATCH", 10)
    log = ProgressLog()
    with Session(migrated_engine) as session, session.begin():
        report = error_queue.replay(service, session, progress=log)
    assert report.records > 20, "enough records with errors for three batches"
    batches = [min(10, report.records - start) for start in range(0, report.records, 10)]
    assert log.steps == [("replaying errors", report.records, batches)]
    with Session(migrated_engine) as session, session.begin():  # the same replay without a progress: same outcome
        again = error_queue.replay(service, session)
    assert (again.records, again.still_broken) == (report.still_broken, report.still_broken)
