"""The worker registry, the NOTIFY wake-up of idle workers, fair claims across departments and the
outbox nearest its deadline first — on SQLite and PostgreSQL (NOTIFY on PostgreSQL only)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from jnx.ops.workers import Waker, WorkerRegistry, list_workers
from jnx.store.leases import DELIVERIES, RUNS, Leases
from jnx.store.models import (
    Delivery,
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
    WorkerProcess,
    utcnow,
)

NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)


def _system(session: Session, system_id: str, department: str) -> None:
    session.add(SourceSystem(id=system_id, department_name=department, department_credit_code=department, region_code="370800",
                             kind=SystemKind.CASE_HANDLING, protocol="rest", registration={}, mapping_name="m", mapping_version="1"))


def _run(session: Session, system_id: str, due: dt.datetime) -> None:
    session.add(Run(system_id=system_id, status=RunStatus.QUEUED, trigger=RunTrigger.SCHEDULE, due_at=due, counts={}))


def test_the_registry_shows_alive_lost_and_stopped_processes_with_the_runs_they_hold(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session, session.begin():
        _system(session, "jn-a", "11370800004180002M")
        _run(session, "jn-a", NOW - dt.timedelta(minutes=1))
    a = WorkerRegistry(migrated_engine, "host-a-1", threads=2, host="host-a", pid=1)
    b = WorkerRegistry(migrated_engine, "host-b-2", threads=1, host="host-b", pid=2)
    a.register(NOW - dt.timedelta(minutes=10))
    b.register(NOW - dt.timedelta(minutes=10))
    [lease] = Leases(migrated_engine, RUNS).claim("host-a-1-w0", limit=1, lease_for=LEASE, now=NOW)
    a.doing("host-a-1-w0", f"run #{lease.row_id}")
    a.beat(NOW - dt.timedelta(seconds=5))
    with Session(migrated_engine) as session:
        found = {w["id"]: w for w in list_workers(session, now=NOW, heartbeat_seconds=15)}
    assert found["host-a-1"]["state"] == "alive" and found["host-a-1"]["doing"] == {"host-a-1-w0": f"run #{lease.row_id}"}
    assert found["host-a-1"]["runs"] == [{"run": lease.row_id, "system": "jn-a", "thread": "host-a-1-w0"}]
    assert found["host-b-2"]["state"] == "lost" and found["host-b-2"]["runs"] == []  # 10 minutes without a beat
    assert (found["host-a-1"]["host"], found["host-a-1"]["pid"], found["host-a-1"]["threads"]) == ("host-a", 1, 2)
    b.stopped()
    with Session(migrated_engine) as session:
        assert [w["id"] for w in list_workers(session, now=utcnow(), heartbeat_seconds=15)] == ["host-a-1"]
        stopped = list_workers(session, now=utcnow(), heartbeat_seconds=15, include_stopped=True)
        assert {w["id"]: w["state"] for w in stopped}["host-b-2"] == "stopped"
    b.register()  # the same id again (a restarted process with the same pid): one row, alive again
    with Session(migrated_engine) as session:
        assert session.get(WorkerProcess, "host-b-2").stopped_at is None  # type: ignore[union-attr]


def test_an_idle_worker_is_woken_by_notify_when_a_run_is_queued(migrated_engine: Engine) -> None:
    if migrated_engine.dialect.name != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; on SQLite idle workers poll")
    with Session(migrated_engine) as session, session.begin():
        _system(session, "jn-a", "11370800004180002M")
    stop = threading.Event()
    waker = Waker(migrated_engine, poll=2.0)  # on PostgreSQL: polls every 30 s
    waker.start(stop)
    try:
        woke: list[float] = []

        def idle() -> None:
            started = time.monotonic()
            if waker.wait(("runs",), stop):
                woke.append(time.monotonic() - started)

        waiting = threading.Thread(target=idle)
        waiting.start()
        time.sleep(0.3)
        with Session(migrated_engine) as session, session.begin():
            _run(session, "jn-a", NOW)
        waiting.join(timeout=10)
        assert woke and woke[0] < 5, "the worker slept on instead of waking at the NOTIFY"
        assert waker.heard("runs") == 1 and waker.heard("deliveries") == 0
        with Session(migrated_engine) as session, session.begin():  # a run put back to queued wakes workers too
            session.execute(update(Run).values(status=RunStatus.RUNNING))
            session.execute(update(Run).values(status=RunStatus.QUEUED))
        deadline = time.monotonic() + 5
        while waker.heard("runs") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waker.heard("runs") == 2

        woken = threading.Event()  # the outbox delivery of jnx serve: woken when any process queues deliveries
        threading.Thread(target=waker.relay("deliveries", woken.set), args=(stop,), daemon=True).start()
        with Session(migrated_engine) as session, session.begin():
            record = StandardRecord(record_type="penalty", business_key="K|1", content_hash="0" * 64, data={})
            session.add(record)
            session.flush()
            disclosure = Disclosure(kind=DisclosureKind.PENALTY, standard_record_id=record.id, business_key="K|1",
                                    decision_date=dt.date(2026, 12, 1))
            session.add(disclosure)
            session.flush()
            revision = DisclosureRevision(disclosure_id=disclosure.id, revision=1, action=DisclosureAction.NEW, payload={},
                                          idempotency_key="k1", due_date=dt.date(2026, 12, 10))
            session.add(revision)
            session.flush()
            session.add(Delivery(disclosure_revision_id=revision.id))
        assert woken.wait(5), "the delivery loop was not woken by the NOTIFY of the queued delivery"
    finally:
        stop.set()
        waker.release()


def test_a_waiting_worker_returns_at_once_when_serve_stops(migrated_engine: Engine) -> None:
    stop = threading.Event()
    waker = Waker(migrated_engine, poll=60.0)
    waker.start(stop)
    done = threading.Event()
    threading.Thread(target=lambda: (waker.wait(("runs",), stop), done.set())).start()
    time.sleep(0.2)
    stop.set()
    waker.release()
    assert done.wait(3)


def test_one_departments_backlog_does_not_starve_another(migrated_engine: Engine) -> None:
    big, small = "11370800004180002M", "11370800MB28500001"
    with Session(migrated_engine) as session, session.begin():
        for n in range(3):
            _system(session, f"big-{n}", big)
            _run(session, f"big-{n}", NOW - dt.timedelta(hours=3 - n))  # the backlog: due long ago
        _system(session, "small", small)
        _run(session, "small", NOW - dt.timedelta(minutes=1))
    fair = Leases(migrated_engine, RUNS, department_cap=1)
    claimed = [fair.claim(f"w{n}", limit=1, lease_for=LEASE, now=NOW) for n in range(3)]
    with Session(migrated_engine) as session:
        systems = [session.get(Run, c[0].row_id).system_id if c else None for c in claimed]  # type: ignore[union-attr]
    assert systems == ["big-0", "small", None]  # the cap leaves big's other runs waiting while one is in flight
    unfair = Leases(migrated_engine, RUNS).claim("w9", limit=5, lease_for=LEASE, now=NOW)
    assert len(unfair) == 2  # without a cap every due run is taken
    with pytest.raises(ValueError, match="department cap"):
        Leases(migrated_engine, DELIVERIES, department_cap=1)


def test_the_outbox_is_claimed_nearest_its_deadline_first(migrated_engine: Engine) -> None:
    dues = [dt.date(2026, 12, 15), dt.date(2026, 12, 8), None, dt.date(2026, 12, 10)]
    ids: dict[int, dt.date | None] = {}
    with Session(migrated_engine) as session, session.begin():
        for n, due in enumerate(dues):
            record = StandardRecord(record_type="penalty", business_key=f"K|{n}", content_hash="0" * 64, data={})
            session.add(record)
            session.flush()
            disclosure = Disclosure(kind=DisclosureKind.PENALTY, standard_record_id=record.id, business_key=f"K|{n}",
                                    decision_date=dt.date(2026, 12, 1))
            session.add(disclosure)
            session.flush()
            revision = DisclosureRevision(disclosure_id=disclosure.id, revision=1, action=DisclosureAction.NEW, payload={},
                                          idempotency_key=f"k{n}", due_date=due)
            session.add(revision)
            session.flush()
            delivery = Delivery(disclosure_revision_id=revision.id, next_attempt_at=NOW - dt.timedelta(minutes=10 - n))
            session.add(delivery)
            session.flush()
            ids[delivery.id] = due
    claimed = Leases(migrated_engine, DELIVERIES).claim("w", limit=10, lease_for=LEASE, now=NOW)
    assert [ids[c.row_id] for c in claimed] == [dt.date(2026, 12, 8), dt.date(2026, 12, 10), dt.date(2026, 12, 15), None]
