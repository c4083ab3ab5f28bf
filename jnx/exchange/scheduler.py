"""Scheduling and workers: due runs from cron schedules, leased by any number of workers.

* :func:`enqueue_due` creates, for every enabled system with a schedule, the run of its latest cron
  slot; ``UNIQUE(system_id, due_at)`` makes two schedulers (on two machines) create it once.
* :class:`Worker` claims due runs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single-writer
  path on SQLite — :mod:`jnx.store.leases`), executes them and completes the lease; a worker that
  dies leaves a lease that expires, and the run is taken over.
* :func:`serve` runs one scheduler loop, N worker threads and the caller's side loops (alerts, the
  worker registry's heartbeat — :mod:`jnx.ops`; the outbox delivery — :mod:`jnx.publicity.deliverer`) until SIGTERM/SIGINT; on a signal,
  workers finish the page they are on — each page commits on its own — and stop; a run cut short
  is released, due again at once, and resumes from its last committed page.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from jnx.errors import JnxError
from jnx.exchange.runs import BEIJING, LEASE_FOR, RunSummary
from jnx.exchange.wiring import Exchange
from jnx.store.db import session_factory, storage_errors
from jnx.store.leases import RUNS, Leases
from jnx.store.models import Run, RunStatus, RunTrigger, SourceSystem, utcnow

log = logging.getLogger(__name__)


def latest_slot(cron: str, now: dt.datetime) -> dt.datetime:
    """The latest cron slot at or before ``now``; schedules are read in Beijing time."""
    local = now.astimezone(BEIJING)
    it = croniter(cron, local + dt.timedelta(seconds=1))
    previous: dt.datetime = it.get_prev(dt.datetime)
    return previous.astimezone(dt.UTC)


def enqueue_due(ex: Exchange, now: dt.datetime | None = None) -> int:
    """Create the run of each enabled system's latest slot unless it exists; how many were created."""
    now = now or utcnow()
    created = 0
    with storage_errors(ex.engine.url), session_factory(ex.engine, immediate=True).begin() as session:
        systems = session.execute(
            select(SourceSystem.id, SourceSystem.schedule_cron).where(SourceSystem.enabled.is_(True), SourceSystem.schedule_cron.is_not(None))
        ).all()
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        for system_id, cron in systems:
            slot = latest_slot(str(cron), now)
            statement = dialect.insert(Run.__table__).values(
                system_id=system_id, status=RunStatus.QUEUED.value, trigger=RunTrigger.SCHEDULE.value, full=False,
                due_at=slot, attempts=0, counts={}, created_at=now,
            ).on_conflict_do_nothing(index_elements=["system_id", "due_at"]).returning(Run.__table__.c.id)
            created += len(session.execute(statement).all())  # rowcount is -1 here on psycopg
    return created


class Wakeup(Protocol):
    """What an idle worker waits on (:class:`jnx.ops.workers.Waker`: NOTIFY on PostgreSQL)."""

    def wait(self, topics: Iterable[str], stop: threading.Event, timeout: float | None = None) -> bool: ...

    def release(self) -> None:
        """Wake every waiter (``stop`` is set: they return)."""


Activity = Callable[[str, str | None], None]
"""``doing(thread, what)``: what a worker thread works on now (None: idle), for the worker registry."""


@dataclass
class Worker:
    """Claims and executes due runs until told to stop."""

    ex: Exchange
    name: str
    stop: threading.Event = field(default_factory=threading.Event)
    on_summary: Callable[[RunSummary], None] | None = None
    lease_for: dt.timedelta = LEASE_FOR  # a run whose worker stops renewing is taken over after this
    department_cap: int | None = None  # runs of one department in flight at once (fair claiming)
    wakeup: Wakeup | None = None
    doing: Activity | None = None

    def run_once(self) -> RunSummary | None:
        """Claim one due run and execute it; None when nothing is due."""
        service = self.ex.runs()
        service.worker_id = self.name
        service.should_stop = self.stop.is_set
        service.lease_for = self.lease_for
        leases = Leases(self.ex.engine, RUNS, department_cap=self.department_cap)
        claimed = leases.claim(self.name, limit=1, lease_for=self.lease_for)
        if not claimed:
            return None
        if self.doing is not None:
            self.doing(self.name, f"run #{claimed[0].row_id}")
        try:
            summary = service.execute(claimed[0])
        finally:
            if self.doing is not None:
                self.doing(self.name, None)
        if self.on_summary is not None:
            self.on_summary(summary)
        return summary

    def loop(self, idle: float = 2.0) -> None:
        while not self.stop.is_set():
            try:
                if self.run_once() is None:
                    self._idle(idle)
            except JnxError as exc:  # the database away, …: one line, no traceback; the worker tries again
                log.warning("worker %s: %s", self.name, exc)
                self.stop.wait(idle)
            except Exception:  # noqa: BLE001 - a worker logs and goes on; the lease expires and the run is retried
                log.exception("worker %s: run failed unexpectedly", self.name)
                self.stop.wait(idle)

    def _idle(self, idle: float) -> None:
        if self.wakeup is None:
            self.stop.wait(idle)
        else:
            self.wakeup.wait(("runs",), self.stop)


def run_due(ex: Exchange) -> list[RunSummary]:
    """``jnx run --due``: enqueue due slots, then execute every due run in this process."""
    enqueue_due(ex)
    worker = Worker(ex, name=ex.worker_id)
    summaries: list[RunSummary] = []
    while (summary := worker.run_once()) is not None:
        summaries.append(summary)
    return summaries


def serve(ex: Exchange, *, workers: int = 2, tick: float = 30.0, stop: threading.Event | None = None,
          lease_for: dt.timedelta = LEASE_FOR, department_cap: int | None = None, wakeup: Wakeup | None = None,
          doing: Activity | None = None, loops: Sequence[Callable[[threading.Event], None]] = (),
          idle: float = 2.0, on_summary: Callable[[RunSummary], None] | None = None) -> None:
    """A scheduler loop, ``workers`` worker threads and one thread per side loop (each given the stop
    event) until SIGTERM/SIGINT (or ``stop`` is set); ``on_summary`` is told each run's summary."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    pool = [Worker(ex, name=f"{ex.worker_id}-w{i}", stop=stop, lease_for=lease_for, department_cap=department_cap,
                   wakeup=wakeup, doing=doing, on_summary=on_summary) for i in range(workers)]
    threads = [threading.Thread(target=w.loop, args=(idle,), name=w.name, daemon=True) for w in pool]
    threads += [threading.Thread(target=loop, args=(stop,), name=f"jnx-side-{i}", daemon=True) for i, loop in enumerate(loops)]
    for thread in threads:
        thread.start()
    leases = Leases(ex.engine, RUNS)
    while not stop.is_set():
        try:
            enqueue_due(ex)
            leases.reclaim_expired()
        except JnxError as exc:  # a database that is down or locked: said in one line, the next tick tries again
            log.warning("scheduler tick: %s", exc)
        except Exception:  # noqa: BLE001 - the scheduler keeps ticking through a database hiccup
            log.exception("scheduler tick failed")
        stop.wait(tick)
    if wakeup is not None:
        wakeup.release()
    for thread in threads:
        thread.join(timeout=300)
