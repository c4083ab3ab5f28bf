"""Many machines, one coordinator: the registry of ``jnx serve`` processes and waking idle workers.

PostgreSQL stays the only coordination service. Each ``jnx serve`` writes its row of ``workers``
(host, pid, version, start) and a heartbeat every ``worker_heartbeat_seconds`` with what each of its
threads works on; `jnx status` and ``GET /api/v1/workers`` read them. A process whose heartbeat is
older than three beats is *lost* (killed, or its machine gone): its leases expire and its runs are
taken over (:mod:`jnx.store.leases`).

Idle workers wait on a :class:`Waker`. On PostgreSQL it LISTENs on :data:`CHANNEL`; triggers of
migration 0008 NOTIFY it with the table's name when rows are inserted into ``runs`` (a run is due)
or ``deliveries`` (outbox rows queued), so a worker starts within milliseconds instead of at its
next poll, and polls only rarely as a fallback. On SQLite (one machine) it is a plain timed wait.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jnx import __version__
from jnx.store.db import storage_errors, write_transaction
from jnx.store.models import Run, RunStatus, WorkerProcess, utcnow

log = logging.getLogger(__name__)

CHANNEL = "jnx_work"
WORKERS: Table = WorkerProcess.__table__  # type: ignore[assignment]
LOST_AFTER_BEATS = 3


@dataclass
class WorkerRegistry:
    """This process's row of ``workers``: registered at start, beating while it runs, stopped at the end."""

    engine: Engine
    worker_id: str
    threads: int
    heartbeat_seconds: float = 15.0
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    _doing: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        values = {"id": self.worker_id, "host": self.host, "pid": self.pid, "version": __version__, "threads": self.threads,
                  "started_at": now, "heartbeat_at": now, "stopped_at": None, "doing": {}}
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(WORKERS).values(values)
        statement = statement.on_conflict_do_update(index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"})
        with storage_errors(self.engine.url), write_transaction(self.engine) as connection:
            connection.execute(statement)

    def doing(self, thread: str, what: str | None) -> None:
        """Note what ``thread`` works on now (None: idle); written with the next heartbeat."""
        with self._lock:
            if what is None:
                self._doing.pop(thread, None)
            else:
                self._doing[thread] = what

    def beat(self, now: dt.datetime | None = None) -> None:
        with self._lock:
            doing = dict(self._doing)
        with storage_errors(self.engine.url), write_transaction(self.engine) as connection:
            connection.execute(update(WORKERS).where(WORKERS.c.id == self.worker_id)
                               .values(heartbeat_at=now or utcnow(), doing=doing))

    def stopped(self) -> None:
        with storage_errors(self.engine.url), write_transaction(self.engine) as connection:
            connection.execute(update(WORKERS).where(WORKERS.c.id == self.worker_id)
                               .values(stopped_at=utcnow(), heartbeat_at=utcnow(), doing={}))

    def loop(self, stop: threading.Event) -> None:
        """Heartbeats until ``stop``; then the row says stopped."""
        while not stop.wait(self.heartbeat_seconds):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; three in a row mark the process lost
                log.exception("worker heartbeat failed")
        try:
            self.stopped()
        except Exception:  # noqa: BLE001
            log.exception("could not mark worker %s stopped", self.worker_id)


def worker_state(row: WorkerProcess, now: dt.datetime, heartbeat_seconds: float) -> str:
    if row.stopped_at is not None:
        return "stopped"
    if now - row.heartbeat_at > dt.timedelta(seconds=heartbeat_seconds * LOST_AFTER_BEATS):
        return "lost"
    return "alive"


def list_workers(session: Session, *, now: dt.datetime, heartbeat_seconds: float, include_stopped: bool = False,
                 stopped_within: dt.timedelta = dt.timedelta(days=1)) -> list[dict[str, Any]]:
    """The registered processes (the stopped ones of the last day with ``include_stopped``), with the runs
    their threads hold leases on."""
    query = select(WorkerProcess).order_by(WorkerProcess.host, WorkerProcess.started_at)
    if not include_stopped:
        query = query.where(WorkerProcess.stopped_at.is_(None))
    else:
        query = query.where((WorkerProcess.stopped_at.is_(None)) | (WorkerProcess.stopped_at > now - stopped_within))
    rows = list(session.scalars(query))
    leased = session.execute(select(Run.id, Run.system_id, Run.lease_owner).where(Run.status == RunStatus.RUNNING)).all()
    out = []
    for row in rows:
        runs = [{"run": run_id, "system": system, "thread": owner} for run_id, system, owner in leased
                if owner and (owner == row.id or owner.startswith(f"{row.id}-"))]
        out.append({"id": row.id, "host": row.host, "pid": row.pid, "version": row.version, "threads": row.threads,
                    "started_at": row.started_at, "heartbeat_at": row.heartbeat_at, "stopped_at": row.stopped_at,
                    "state": worker_state(row, now, heartbeat_seconds),
                    "heartbeat_age_seconds": round((now - row.heartbeat_at).total_seconds(), 1),
                    "doing": row.doing or {}, "runs": runs})
    return out


class Waker:
    """What idle workers wait on: NOTIFY on PostgreSQL (a listening thread), a timed wait elsewhere."""

    def __init__(self, engine: Engine, *, poll: float, fallback_factor: float = 15.0) -> None:
        self.engine = engine
        self.listening = engine.dialect.name == "postgresql"
        self.poll = poll * fallback_factor if self.listening else poll
        self._condition = threading.Condition()
        self._heard: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    def start(self, stop: threading.Event) -> None:
        if not self.listening:
            return
        raw = self.engine.raw_connection()
        connection = raw.driver_connection  # psycopg's own connection
        assert connection is not None
        raw.detach()  # a connection of its own for as long as the process runs, not the pool's
        connection.autocommit = True
        connection.execute(f"LISTEN {CHANNEL}")
        self._connection = connection
        self._thread = threading.Thread(target=self._listen, args=(stop,), name="jnx-listen", daemon=True)
        self._thread.start()

    def _listen(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                for note in self._connection.notifies(timeout=1.0):
                    self.wake(note.payload or "")
        except Exception as exc:  # noqa: BLE001 - the database went away: workers fall back to polling
            self.poll = min(self.poll, 2.0)
            first = (str(exc).strip().splitlines() or [""])[0]
            log.warning("LISTEN %s ended (%s: %s); idle workers poll every %.0fs", CHANNEL, type(exc).__name__, first, self.poll)
        finally:
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001
                pass

    def wake(self, topic: str) -> None:
        with self._condition:
            self._heard[topic] = self._heard.get(topic, 0) + 1
            self._condition.notify_all()

    def heard(self, topic: str) -> int:
        with self._condition:
            return self._heard.get(topic, 0)

    def wait(self, topics: Iterable[str], stop: threading.Event, timeout: float | None = None) -> bool:
        """Until one of ``topics`` is notified, ``stop`` is set or the poll interval passes; True when woken."""
        names = tuple(topics)
        deadline = timeout if timeout is not None else self.poll
        with self._condition:
            seen = tuple(self._heard.get(t, 0) for t in names)
            woken = self._condition.wait_for(
                lambda: stop.is_set() or tuple(self._heard.get(t, 0) for t in names) != seen, timeout=deadline)
        return bool(woken) and not stop.is_set()

    def relay(self, topic: str, wake: Callable[[], None]) -> Callable[[threading.Event], None]:
        """A side loop of ``jnx serve`` that calls ``wake`` whenever ``topic`` is notified — the outbox
        delivery starts when another process (another machine) queued deliveries, not at its next pass."""
        def loop(stop: threading.Event) -> None:
            while not stop.is_set():
                if self.wait((topic,), stop):
                    wake()

        return loop

    def release(self) -> None:
        """Wake every waiter (at shutdown, after ``stop`` is set)."""
        with self._condition:
            self._condition.notify_all()
