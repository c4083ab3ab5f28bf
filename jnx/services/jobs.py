"""Long actions as jobs: one mechanism for the HTTP API, the console and the CLI.

A long action (a run, a replay of many records, a delivery, a reconciliation) is a row of ``jobs``
(:class:`jnx.store.models.Job`) and a thread of the process that started it. The thread tells a
:class:`JobProgress` — a :class:`jnx.progress.WorkProgress` — its phase, size and how far it is;
that is written to the row at most every :data:`WRITE_EVERY` seconds, and the thread renews the
row's lease every :data:`HEARTBEAT` seconds. Any process reads the row: another ``jnx web`` worker
answering ``GET /api/v1/jobs/{id}``, the console's job page, ``jnx jobs show``. A job still running
when its lease is over belonged to a process that stopped: the next read marks it failed.

Who may read a job: its owner (the same actor, or another token or session of the same user) and the
server's OS user; anyone else gets "not found", as for a job that does not exist.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from sqlalchemy import Engine, event, or_, select, update
from sqlalchemy.orm import Session

from jnx.errors import JnxError, NotFoundError
from jnx.services.console_scope import acting_name
from jnx.services.context import ServiceContext
from jnx.services.paging import BadCursor, between, checked_limit, decode_cursor, encode_cursor, filtered
from jnx.store.db import session_factory
from jnx.store.models import Job, JobStatus, utcnow

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=90)  # a job not heard of for this long is one whose process stopped
HEARTBEAT = 20.0  # seconds between lease renewals while the work runs
WRITE_EVERY = 0.5  # seconds: progress is written to the row at most this often (and at every phase)
KEEP = dt.timedelta(days=30)  # finished jobs older than this are pruned when new ones start
Work = Callable[["JobProgress"], Mapping[str, Any]]


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobLinks(BaseModel):
    self: str
    events: str


class JobView(BaseModel):
    """A job as ``GET /api/v1/jobs/{id}`` and ``jnx jobs show ID --json`` answer it."""

    id: str
    kind: str
    title: str
    subject: str
    owner: str
    status: JobStatus
    phase: str
    done: int
    total: int | None
    percent: int | None = Field(description="done/total in percent; null while the size is unknown")
    note: str | None
    result: dict[str, Any] | None
    error: str | None
    hint: str | None
    back: str | None = Field(default=None, description="the console page the job was started from")
    worker: str | None
    lease_expires_at: dt.datetime | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    links: JobLinks

    @property
    def running(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def label(self) -> str:
        return self.phase

    @classmethod
    def of(cls, row: Job) -> JobView:
        if row.total:
            percent: int | None = min(100, int(100 * row.done / row.total))
        else:
            percent = 100 if row.status is JobStatus.SUCCEEDED else None
        return cls(id=row.id, kind=row.kind, title=row.title, subject=row.subject, owner=row.owner, status=row.status,
                   phase=row.phase, done=row.done, total=row.total, percent=percent, note=row.note, result=row.result,
                   error=row.error, hint=row.hint, back=row.back, worker=row.worker, lease_expires_at=row.lease_expires_at,
                   created_at=row.created_at, started_at=row.started_at, finished_at=row.finished_at,
                   links=JobLinks(self=f"/api/v1/jobs/{row.id}", events=f"/api/v1/jobs/{row.id}/events"))


class JobPage(BaseModel):
    jobs: list[JobView]
    count: int
    next_cursor: str | None


class JobProgress:
    """What the work tells (a :class:`jnx.progress.WorkProgress`), kept in memory and written to the
    job's row by the job's own writer thread — never by the work's thread, which may be inside a write
    transaction of its own (a replay's batch) that a second writer would wait for."""

    def __init__(self, engine: Engine, job_id: str, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.id = job_id
        self._writes = session_factory(engine, immediate=True)
        self._clock = clock
        self._lock = threading.Lock()
        self.phase = ""
        self.total: int | None = None
        self.done = 0
        self.note_text: str | None = None
        self.dirty = False

    def start(self, label: str, total: int | None) -> None:
        with self._lock:
            self.phase, self.total, self.done, self.dirty = label[:200], total, 0, True

    def advance(self, done: int) -> None:
        with self._lock:
            self.done += done
            self.dirty = True

    def note(self, text: str) -> None:
        with self._lock:
            self.note_text, self.dirty = text, True

    def flush(self, **values: Any) -> bool:
        """Write the progress (and ``values``) to the row, renewing the lease; False when the database
        was busy or away (the next write tries again)."""
        with self._lock:
            now = self._clock()
            values = {"phase": self.phase, "total": self.total, "done": self.done, "note": self.note_text,
                      "lease_expires_at": now + LEASE, "updated_at": now, **values}
            self.dirty = False
        try:
            with self._writes.begin() as session:
                session.execute(update(Job).where(Job.id == self.id).values(**values))
        except Exception as exc:  # noqa: BLE001 - progress is best effort; the work goes on
            log.warning("job %s: progress not written (%s)", self.id, type(exc).__name__)
            self.dirty = True
            return False
        return True


class JobRunner:
    """Creates job rows and runs their work in threads of this process."""

    def __init__(self, engine: Engine, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._writes = session_factory(engine, immediate=True)

    def create(self, session: Session, *, kind: str, title: str, subject: str, owner: str, owner_user_id: int | None = None,
               back: str | None = None) -> Job:
        now = self.clock()
        row = Job(id=uuid.uuid4().hex, kind=kind, title=title[:200], subject=subject[:300], owner=owner,
                  owner_user_id=owner_user_id, status=JobStatus.QUEUED, phase="waiting to start", done=0, back=back,
                  worker=_worker_name(), lease_expires_at=now + LEASE, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        return row

    def submit(self, ctx: ServiceContext, *, kind: str, title: str, subject: str, work: Work, back: str | None = None) -> JobView:
        """A job for ``work`` in the caller's transaction; its thread starts once that transaction
        commits (nothing runs if it rolls back). The job answer (202) is what the caller returns."""
        row = self.create(ctx.session, kind=kind, title=title, subject=subject, owner=acting_name(ctx.actor),
                          owner_user_id=ctx.actor.user_id, back=back)
        view = JobView.of(row)
        ctx.audit("jobs.started", subject, {"job": view.id, "kind": kind})

        def committed(session: Session) -> None:
            self.start(view.id, work)

        event.listen(ctx.session, "after_commit", committed, once=True)
        return view

    def launch(self, *, kind: str, title: str, subject: str, owner: str, work: Work, back: str | None = None,
               owner_user_id: int | None = None) -> JobView:
        """A job in a transaction of its own, started at once (the console's long actions)."""
        with self._writes.begin() as session:
            self._prune(session)
            view = JobView.of(self.create(session, kind=kind, title=title, subject=subject, owner=owner,
                                          owner_user_id=owner_user_id, back=back))
        self.start(view.id, work)
        return view

    def start(self, job_id: str, work: Work) -> threading.Thread:
        thread = threading.Thread(target=self.execute, args=(job_id, work), name=f"job-{job_id[:12]}", daemon=True)
        thread.start()
        return thread

    def execute(self, job_id: str, work: Work) -> None:
        """Run ``work`` for the job (in the calling thread), its lease renewed until it ends."""
        progress = JobProgress(self.engine, job_id, clock=self.clock)
        stop = threading.Event()

        def heartbeat() -> None:  # the job's writer: progress every WRITE_EVERY when it moved, the lease every HEARTBEAT
            quiet = 0.0
            while not stop.wait(WRITE_EVERY):
                quiet += WRITE_EVERY
                if progress.dirty or quiet >= HEARTBEAT:
                    progress.flush()
                    quiet = 0.0

        progress.flush(status=JobStatus.RUNNING, started_at=self.clock(), phase="starting")
        beating = threading.Thread(target=heartbeat, name=f"job-heartbeat-{job_id[:12]}", daemon=True)
        beating.start()
        try:
            result = jsonable_encoder(dict(work(progress)))
        except JnxError as exc:
            stop.set()
            beating.join()
            _final(progress, status=JobStatus.FAILED, error=str(exc), hint=exc.hint, finished_at=self.clock(), lease_expires_at=None)
        except Exception as exc:  # noqa: BLE001 - a job's failure is its answer, never a traceback
            stop.set()
            beating.join()
            log.exception("job %s failed", job_id, exc_info=exc)
            _final(progress, status=JobStatus.FAILED, error=f"{type(exc).__name__}: the action stopped unexpectedly",
                           hint="the server's log has the details", finished_at=self.clock(), lease_expires_at=None)
        else:
            stop.set()
            beating.join()
            if progress.total is not None and progress.done < progress.total:
                progress.done = progress.total
            _final(progress, status=JobStatus.SUCCEEDED, result=result, finished_at=self.clock(), lease_expires_at=None)
        finally:
            stop.set()

    def _prune(self, session: Session) -> None:
        from sqlalchemy import delete

        session.execute(delete(Job).where(Job.finished_at < self.clock() - KEEP))


def _final(progress: JobProgress, attempts: int = 10, **values: Any) -> None:
    """The job's end, written however busy the database is for a while (else the lease would end it as failed)."""
    for attempt in range(attempts):
        if progress.flush(**values):
            return
        time.sleep(min(5.0, 0.5 * 2 ** attempt))
    log.error("job %s: its end (%s) could not be written; its lease will mark it failed", progress.id, values.get("status"))


def expire(session: Session, now: dt.datetime, job_id: str | None = None) -> int:
    """Mark failed the jobs still queued or running whose lease is over (their process stopped)."""
    query = (update(Job).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]), Job.lease_expires_at < now)
             .values(status=JobStatus.FAILED, finished_at=now, updated_at=now, lease_expires_at=None,
                     error="the process running this job stopped before it ended (its lease expired)",
                     hint="what was committed stays; start the action again to finish it"))
    if job_id is not None:
        query = query.where(Job.id == job_id)
    return int(session.execute(query.execution_options(synchronize_session=False)).rowcount or 0)  # type: ignore[attr-defined]


def _owned(ctx: ServiceContext) -> Any:
    actor = ctx.actor
    if actor.kind == "os":
        return None
    mine = Job.owner == acting_name(actor)
    return or_(mine, Job.owner_user_id == actor.user_id) if actor.user_id is not None else mine


def _not_found(job_id: str) -> NotFoundError:
    return NotFoundError(f"no job {job_id!r} of yours", hint="`GET /api/v1/jobs` (or `jnx jobs list`) lists your jobs")


def fresh(session: Session, job_id: str, now: dt.datetime) -> Job | None:
    """The job's row as it is now (a job whose lease is over marked failed first)."""
    row = session.get(Job, job_id)
    if row is not None and row.status in (JobStatus.QUEUED, JobStatus.RUNNING) and row.lease_expires_at is not None \
            and row.lease_expires_at < now:
        expire(session, now, job_id)
        session.flush()
        session.refresh(row)
    return row


def show_job(ctx: ServiceContext, job_id: str) -> JobView:
    """One job of the caller's (``GET /api/v1/jobs/{id}``, ``jnx jobs show ID``)."""
    ctx.authorize("jobs.list")
    row = fresh(ctx.session, job_id, ctx.clock())
    owned = _owned(ctx)
    if row is None or (owned is not None and not ctx.session.scalar(select(Job.id).where(Job.id == job_id, owned))):
        raise _not_found(job_id)
    return JobView.of(row)


def list_jobs(ctx: ServiceContext, *, status: JobStatus | None = None, kind: str | None = None, since: dt.datetime | None = None,
              until: dt.datetime | None = None, limit: int = 50, cursor: str | None = None) -> JobPage:
    """The caller's jobs, newest first, in pages (``GET /api/v1/jobs``, ``jnx jobs list``)."""
    ctx.authorize("jobs.list")
    limit = checked_limit(limit)
    now = ctx.clock()
    expire(ctx.session, now)
    query = filtered(select(Job), _owned(ctx), Job.status == status if status is not None else None,
                     Job.kind == kind if kind else None, *between(Job.created_at, since, until))
    if cursor:
        created, last_id = decode_cursor(cursor, 2)
        try:
            after = dt.datetime.fromisoformat(str(created))
        except ValueError as exc:
            raise BadCursor("this cursor is not one a page gave out", hint="start again without cursor") from exc
        query = query.where(or_(Job.created_at < after, (Job.created_at == after) & (Job.id < str(last_id))))
    rows = list(ctx.session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) if more and rows else None
    return JobPage(jobs=[JobView.of(r) for r in rows], count=len(rows), next_cursor=next_cursor)


def watch(read: Callable[[], JobView], *, every: float = 0.5, keepalive: float = 15.0,
          sleep: Callable[[float], None] = time.sleep) -> Iterator[str]:
    """Server-sent events of one job: ``progress`` each time it changed, then ``end`` with its last
    state; a comment line every ``keepalive`` seconds so proxies keep the stream open. ``read`` is
    called again each ``every`` seconds (the job may run in another process)."""
    last: str | None = None
    quiet = 0.0
    while True:
        view = read()
        data = view.model_dump_json()
        if not view.running:
            yield f"id: {view.id}-end\nevent: end\ndata: {data}\n\n"
            return
        if data != last:
            yield f"id: {view.id}-{view.done}\nevent: progress\ndata: {data}\n\n"
            last, quiet = data, 0.0
        elif quiet >= keepalive:
            yield ": still running\n\n"
            quiet = 0.0
        sleep(every)
        quiet += every
