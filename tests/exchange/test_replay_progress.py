"""``jnx replay``'s progress: how many staged records it re-maps, then each batch."""

from __future__ import annotations

from jnx.exchange.replay import replay_system
from jnx.exchange.wiring import Exchange
from tests.exchange.test_replay_tables import SYSTEM, exchange  # noqa: F401  (the fixture)
from tests.publicity.test_outbox import ProgressLog


def test_replaying_a_system_reports_its_staged_records_then_each_batch(exchange: Exchange) -> None:  # noqa: F811
    log = ProgressLog()

    report = replay_system(exchange, system=SYSTEM, mapping="case_handling.penalty@2", dry_run=True, progress=log)

    assert log.steps == [(f"re-mapping {SYSTEM} with case_handling.penalty@2", 40, [40])]
    assert report == replay_system(exchange, system=SYSTEM, mapping="case_handling.penalty@2", dry_run=True)
