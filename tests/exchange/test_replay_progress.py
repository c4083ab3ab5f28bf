"""``jnx replay``'s progress: how many staged records it re-maps, then each batch."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import Adapters, PayloadEncoding, RawRecord
from jnx.adapters.config import MappingSecrets
from jnx.adapters.testing import FakePuller
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.replay import replay_system
from jnx.exchange.runs import RunService
from jnx.exchange.wiring import Exchange
from jnx.sandbox.case_data import penalties
from jnx.sandbox.systems import load as load_registration
from jnx.settings import Settings
from jnx.standard.dictionary import default_dictionary
from tests.exchange.test_replay_tables import SYSTEM, exchange  # noqa: F401  (the fixture)
from tests.publicity.test_outbox import ProgressLog


def test_replaying_a_system_reports_its_staged_records_then_each_batch(exchange: Exchange) -> None:  # noqa: F811
    log = ProgressLog()

    report = replay_system(exchange, system=SYSTEM, mapping="case_handling.penalty@2", dry_run=True, progress=log)

    assert log.steps == [(f"re-mapping {SYSTEM} with case_handling.penalty@2", 40, [40])]
    assert report == replay_system(exchange, system=SYSTEM, mapping="case_handling.penalty@2", dry_run=True)


def test_a_run_reports_each_stream_and_page_through_the_same_protocol(migrated_engine: Engine, tmp_path: Path) -> None:
    """Runs and long passes tell one :class:`jnx.progress.WorkProgress`: a step per stream, the
    records of each page, and a note with the counts so far."""
    with Session(migrated_engine) as session, session.begin():
        SystemRegistry().register(session, parse_registration(load_registration("case-handling.yaml"), "case-handling.yaml"))
    records, _ = penalties(seed=4, count=25)
    feed = [RawRecord(r.key, "penalty", dict(r.fields), PayloadEncoding.JSON, r.updated.isoformat()) for r in records]
    log = ProgressLog()
    service = RunService(migrated_engine, tables=Exchange(settings=Settings(home=tmp_path), engine=migrated_engine, environment={}).catalog,
                         dictionary=default_dictionary(), secrets=MappingSecrets({}), progress=log,
                         adapters_factory=lambda config, secrets: Adapters(pullers={"penalty": FakePuller(feed, page_size=10)}))

    summary = service.run_now(SYSTEM)

    assert log.steps == [(f"{SYSTEM} penalty", None, [10, 10, 5])]
    assert log.notes[-1].startswith(f"{SYSTEM} penalty: {summary.counts.pulled} pulled, {summary.counts.new} new")
