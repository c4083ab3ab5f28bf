"""Leasing of runs and deliveries: each due row to exactly one worker, crashed workers taken over."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os

import pytest
from sqlalchemy import Engine, func, insert, select

from jnx.store.db import create_engine_for
from jnx.store.errors import LeaseLostError
from jnx.store.leases import DELIVERIES, RUNS, Leases
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    Run,
    RunStatus,
    RunTrigger,
    SourceSystem,
    StandardRecord,
    SystemKind,
)

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def add_due_runs(engine: Engine, count: int, *, due: dt.datetime = T0) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(SourceSystem),
            [
                {
                    "id": "jn-sfj",
                    "department_name": "济宁市司法局",
                    "department_credit_code": "11370800004341048Q",
                    "region_code": "370800",
                    "kind": SystemKind.CASE_HANDLING,
                    "protocol": "rest",
                    "registration": {},
                    "mapping_name": "penalty-rest",
                    "mapping_version": "1.0.0",
                }
            ],
        )
        connection.execute(
            insert(Run),
            [{"system_id": "jn-sfj", "trigger": RunTrigger.SCHEDULE, "due_at": due + i * dt.timedelta(seconds=1)} for i in range(count)],
        )


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {str(s): n for s, n in connection.execute(select(Run.status, func.count()).group_by(Run.status))}


def test_claim_leases_the_earliest_due_runs_and_counts_the_attempt(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 5)
    leases = Leases(migrated_engine, RUNS).claim("w1", limit=3, lease_for=5 * MINUTE, now=T0 + dt.timedelta(seconds=10))

    assert [lease.row_id for lease in leases] == [1, 2, 3]
    assert all(lease.attempts == 1 and lease.expires_at == T0 + dt.timedelta(seconds=10) + 5 * MINUTE for lease in leases)
    with migrated_engine.connect() as connection:
        run = connection.execute(select(Run.__table__).where(Run.id == 1)).one()
    assert (run.status, run.lease_owner, run.started_at) == (RunStatus.RUNNING, "w1", T0 + dt.timedelta(seconds=10))
    assert statuses(migrated_engine) == {"queued": 2, "running": 3}


def test_rows_not_yet_due_are_not_claimed(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 3, due=T0 + 10 * MINUTE)
    assert Leases(migrated_engine, RUNS).claim("w1", limit=10, lease_for=MINUTE, now=T0) == []


def test_an_expired_lease_is_taken_over_and_the_old_owner_loses_it(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 1)
    leases = Leases(migrated_engine, RUNS)
    [crashed] = leases.claim("crashed", limit=1, lease_for=MINUTE, now=T0)

    assert leases.claim("w2", limit=1, lease_for=MINUTE, now=T0 + 30 * dt.timedelta(seconds=1)) == []
    [taken] = leases.claim("w2", limit=1, lease_for=MINUTE, now=T0 + 2 * MINUTE)

    assert (taken.row_id, taken.owner, taken.attempts) == (crashed.row_id, "w2", 2)
    with pytest.raises(LeaseLostError) as lost:
        leases.complete(crashed, RunStatus.SUCCEEDED)
    assert (lost.value.table, lost.value.row_id, lost.value.owner) == ("runs", crashed.row_id, "crashed")


def test_a_renewed_lease_is_not_taken_over(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 1)
    leases = Leases(migrated_engine, RUNS)
    [lease] = leases.claim("w1", limit=1, lease_for=MINUTE, now=T0)

    renewed = leases.renew(lease, lease_for=MINUTE, now=T0 + 50 * dt.timedelta(seconds=1))

    assert leases.claim("w2", limit=1, lease_for=MINUTE, now=T0 + 90 * dt.timedelta(seconds=1)) == []
    assert renewed.expires_at == T0 + 110 * dt.timedelta(seconds=1)
    leases.complete(renewed, RunStatus.SUCCEEDED, values={"counts": {"pulled": 3}}, now=T0 + 100 * dt.timedelta(seconds=1))
    assert statuses(migrated_engine) == {"succeeded": 1}


def test_complete_writes_the_outcome_and_clears_the_lease(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 1)
    leases = Leases(migrated_engine, RUNS)
    [lease] = leases.claim("w1", limit=1, lease_for=MINUTE, now=T0)
    leases.complete(lease, RunStatus.FAILED, values={"error": "all lines down"}, now=T0 + MINUTE / 2)

    with migrated_engine.connect() as connection:
        run = connection.execute(select(Run.__table__)).one()
    assert (run.status, run.error, run.lease_owner, run.lease_expires_at) == (RunStatus.FAILED, "all lines down", None, None)
    assert run.finished_at == T0 + MINUTE / 2
    with pytest.raises(ValueError, match="not a final status"):
        leases.complete(lease, RunStatus.QUEUED)


def test_release_puts_the_row_back_due_later(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 1)
    leases = Leases(migrated_engine, RUNS)
    [lease] = leases.claim("w1", limit=1, lease_for=MINUTE, now=T0)
    leases.release(lease, due_at=T0 + 10 * MINUTE)

    assert leases.claim("w2", limit=1, lease_for=MINUTE, now=T0 + 5 * MINUTE) == []
    [again] = leases.claim("w2", limit=1, lease_for=MINUTE, now=T0 + 10 * MINUTE)
    assert again.attempts == 2


def test_reclaim_expired_sweeps_only_expired_leases(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 3)
    leases = Leases(migrated_engine, RUNS)
    short = leases.claim("w1", limit=2, lease_for=MINUTE, now=T0 + 5 * dt.timedelta(seconds=1))
    leases.claim("w2", limit=1, lease_for=10 * MINUTE, now=T0 + 5 * dt.timedelta(seconds=1))

    assert leases.reclaim_expired(now=T0 + 2 * MINUTE) == len(short)
    assert statuses(migrated_engine) == {"queued": 2, "running": 1}


def test_updates_to_unknown_columns_are_refused(migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, 1)
    leases = Leases(migrated_engine, RUNS)
    [lease] = leases.claim("w1", limit=1, lease_for=MINUTE, now=T0)
    with pytest.raises(ValueError, match="no column"):
        leases.complete(lease, RunStatus.SUCCEEDED, values={"receipt": {}})


def test_deliveries_are_leased_by_next_attempt(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as connection:
        record = connection.execute(
            insert(StandardRecord).returning(StandardRecord.id),
            {"record_type": "penalty", "business_key": "K1", "content_hash": "0" * 64, "data": {}},
        ).scalar_one()
        disclosure = connection.execute(
            insert(Disclosure).returning(Disclosure.id),
            {"kind": DisclosureKind.PENALTY, "standard_record_id": record, "business_key": "K1", "decision_date": dt.date(2026, 3, 2)},
        ).scalar_one()
        revision = connection.execute(
            insert(DisclosureRevision).returning(DisclosureRevision.id),
            {"disclosure_id": disclosure, "revision": 1, "action": DisclosureAction.NEW, "payload": {}, "idempotency_key": "K1#1"},
        ).scalar_one()
        connection.execute(insert(Delivery), [{"disclosure_revision_id": revision, "next_attempt_at": T0 + i * MINUTE} for i in range(2)])
    leases = Leases(migrated_engine, DELIVERIES)

    [first] = leases.claim("pusher", limit=5, lease_for=MINUTE, now=T0)
    leases.complete(first, DeliveryStatus.ACKNOWLEDGED, values={"receipt": {"code": "0"}, "line": "primary"})
    [second] = leases.claim("pusher", limit=5, lease_for=MINUTE, now=T0 + MINUTE)

    assert (first.table, first.row_id, second.row_id) == ("deliveries", 1, 2)


# --- many workers at once ----------------------------------------------------------------------

ROWS = 200
WORKERS = 4


def _claim_until_empty(url: str, owner: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = create_engine_for(url, pool_size=1, max_overflow=0)
    leases = Leases(engine, RUNS)
    mine: list[int] = []
    now = T0 + dt.timedelta(hours=1)
    while batch := leases.claim(owner, limit=3, lease_for=10 * MINUTE, now=now):
        for lease in batch:
            mine.append(lease.row_id)
            leases.complete(lease, RunStatus.SUCCEEDED, now=now)
    engine.dispose()
    results.put((owner, os.getpid(), mine))


@pytest.mark.slow
def test_concurrent_workers_claim_every_due_row_exactly_once(database_url: str, migrated_engine: Engine) -> None:
    add_due_runs(migrated_engine, ROWS)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_claim_until_empty, args=(database_url, f"w{i}", results)) for i in range(WORKERS)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    claimed = [row for _, _, rows in outcomes for row in rows]
    assert sorted(claimed) == list(range(1, ROWS + 1))  # all of them, none twice
    assert len({pid for _, pid, _ in outcomes}) == WORKERS
    assert statuses(migrated_engine) == {"succeeded": ROWS}
    with migrated_engine.connect() as connection:
        assert connection.execute(select(func.max(Run.attempts))).scalar_one() == 1
