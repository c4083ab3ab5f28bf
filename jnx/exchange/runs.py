"""A run: one pull of one registered system, page by page, from its watermarks.

``pull → stage → map → store`` per page, each page committed with its watermark and the run's
counters in one transaction (DESIGN.md rule 1), under the run's lease (a worker whose lease was
taken over cannot commit another page: the lease check is in the same transaction). A crash at any
instant leaves committed pages and their watermark; a rerun continues from there.

Only an unusable system fails a run (all lines down, credentials refused, a source that loops);
bad records become errors in the queue and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from jnx.adapters.base import Adapters, Page, Puller, Watermark
from jnx.adapters.config import SecretResolver
from jnx.adapters.factory import build_adapters
from jnx.adapters.instants import went_backwards
from jnx.adapters.lines import LineReport
from jnx.adapters.traffic import TrafficCounts
from jnx.errors import ConfigError, JnxError, PermanentError, StorageError
from jnx.exchange.gcpolicy import fewer_collections
from jnx.exchange.ingest import (
    Mapper,
    PageCounts,
    PageIngester,
    PageOutcome,
    Prepared,
    StoredRecord,
    staging_pair,
)
from jnx.exchange.premap import MIN_RECORDS, AheadSpec, IngesterSpec, PageMappers
from jnx.exchange.registry import RegisteredSystem, SystemRegistry
from jnx.mappings.model import MappingContext
from jnx.ops.logs import log_context
from jnx.progress import WorkProgress
from jnx.security.masking import mask_text
from jnx.standard.dictionary import Dictionary
from jnx.store import queries
from jnx.store.db import affected, session_factory, storage_errors
from jnx.store.errors import ConstraintViolationError, LeaseLostError
from jnx.store.leases import RUNS, Lease, Leases
from jnx.store.models import Run, RunStatus, RunTrigger, SourceSystem, utcnow

log = logging.getLogger(__name__)

LEASE_FOR = dt.timedelta(minutes=5)
#: A run keeps the counts of its last this many pages (``runs.counts["pages"]``, ``jnx runs show``).
PAGES_KEPT = 500

#: A page that met a concurrent writer of the same records (PostgreSQL: a unique key inserted by
#: another worker meanwhile, a deadlock) is rolled back and stored again, at most this many times.
PAGE_ATTEMPTS = 4
_RACE_STATES = frozenset({"23505", "40001", "40P01"})  # unique violation, serialization failure, deadlock
#: A run refreshes the database's statistics when it has staged this many records, then twice as many, …
ANALYZE_FROM = 1_000
#: How often the same records may come back in one pull (at new positions) before it counts as a loop.
SAME_RECORDS_LIMIT = 3
BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def _lost_a_race(exc: BaseException) -> bool:
    """Whether a storage error is another worker's concurrent write (retry) rather than a fault."""
    cause: BaseException | None = exc
    while cause is not None:
        if getattr(cause, "sqlstate", None) in _RACE_STATES or getattr(getattr(cause, "orig", None), "sqlstate", None) in _RACE_STATES:
            return True
        cause = cause.__cause__
    return False


def _failure(summary: RunSummary, exc: JnxError) -> str:
    """The error of a failed run: where it stopped, what went wrong, what was kept, what to do."""
    text = str(exc) + (f" — {exc.hint}" if exc.hint else "")
    if summary.stream is None:
        return text
    done = summary.pages.get(summary.stream, 0)
    return (f"{summary.stream}: page {done + 1} of this run failed: {text}. "
            f"The {done} page(s) before it are committed; the next run resumes after them.")


def beijing_today() -> dt.date:
    """Today in China (decision dates are Beijing dates)."""
    return dt.datetime.now(BEIJING).date()


class TableSource(Protocol):
    """Compiled mapping tables by name and version (the mappings catalog)."""

    def compiled(self, name: str, version: str) -> Mapper: ...


class _Interrupted(Exception):
    """Raised between pages when the worker is asked to stop."""


class SourceLoopError(PermanentError):
    """The source answered the same page again: stopped instead of looping."""


StoredHook = Callable[[Session, RegisteredSystem, list[StoredRecord]], None]
#: After the stored hook: (session, records whose business-key conflicts opened or closed, records stored)
#: — :func:`jnx.publicity.holds.sync_holds` holds back or releases their disclosures.
HoldsHook = Callable[[Session, set[int], list[int]], object]
#: The stored hook's work for mapping helpers, asked once per stream that starts them (None: none).
WorkAhead = Callable[[Session, RegisteredSystem], AheadSpec | None]


@dataclass
class RunSummary:
    """What a run did; printed by ``jnx run`` and stored in ``runs.counts``."""

    run_id: int
    system_id: str
    status: RunStatus
    counts: PageCounts = field(default_factory=PageCounts)
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    watermarks: dict[str, str] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)  # pages committed per stream by this run
    page_counts: list[dict[str, Any]] = field(default_factory=list)  # each page's counts (the last PAGES_KEPT)
    stream: str | None = None  # the stream being pulled (where a failure happened)
    configuration: bool = False  # it failed on the registration or its environment (a secret not set…), not the system
    traffic: TrafficCounts = field(default_factory=TrafficCounts)  # retries, line switches, Retry-After waits
    lines: list[LineReport] = field(default_factory=list)  # the system's lines as this run left them
    live_traffic: Callable[[], TrafficCounts] | None = field(default=None, repr=False)  # while the run pulls

    def stored_counts(self, counts: PageCounts | None = None) -> dict[str, Any]:
        """What ``runs.counts`` keeps: the record counts and the transport's retries (so far)."""
        traffic = self.live_traffic() if self.live_traffic is not None else self.traffic
        return {**(counts or self.counts).as_dict(), **traffic.as_dict()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "system": self.system_id,
            "status": self.status.value,
            **self.stored_counts(),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "warnings": self.warnings,
            "watermarks": self.watermarks,
        }


def _context(system: RegisteredSystem) -> MappingContext:
    return MappingContext(
        department_name=system.department,
        department_credit_code=system.department_credit_code,
        region_code=system.region,
        system_name=system.name,
    )


class _Lookahead:
    """The pulled pages of one stream in order, each with what mapping helpers prepared for it.

    Helpers (:mod:`jnx.exchange.premap`) are started when the service allows them
    (``map_processes``; never from a daemon process, which may not have children) and a page that
    is not the stream's last brings enough records not staged before: a run of unchanged records
    starts none. Until one has started (a second or two), pages are mapped in the run's process.
    Then each page is sent to them as soon as it is pulled (its records already staged left out)
    and handed on once the page after it is in flight too; a pull that fails hands on the pages
    pulled before it first, so they are stored as they would have been without helpers.
    """

    def __init__(self, service: RunService, system: RegisteredSystem, stream: str, name: str, version: str,
                 ingester: PageIngester, staged: int = 0, pulled: int = 0) -> None:
        self.service = service
        self.system = system
        self.stream = stream
        self.name = name
        self.version = version
        self.ingester = ingester
        self.mappers: PageMappers | None = None
        self.counts = (staged, pulled)  # the run's staged and pulled counts, as of the last page stored
        self.last_page: tuple[int, int] | None = None  # (staged, pulled) by the last page stored
        self.allowed = (service.map_processes > 0 and getattr(service.tables, "folders", None) is not None
                        and version.isdigit() and not multiprocessing.current_process().daemon)

    def run(self, pages: Iterator[Page]) -> Iterator[tuple[Page, Mapping[str, Prepared]]]:
        queue: deque[tuple[Page, bool]] = deque()
        exhausted = False
        while True:
            while not exhausted and len(queue) < (self.mappers.depth if self.mappers is not None else 1):
                try:
                    page = next(pages)
                except StopIteration:
                    exhausted = True
                    break
                except Exception:
                    while queue:
                        yield self._handed(*queue.popleft())
                    raise
                queue.append((page, self._submit(page)))
                exhausted = page.last
            if not queue:
                return
            yield self._handed(*queue.popleft())

    def _submit(self, page: Page) -> bool:
        """Send the page to the helpers (starting them if it is worth it); whether it was sent."""
        if not self.allowed or len(page.records) < MIN_RECORDS or (page.last and self.mappers is None):
            return False
        new: int | None
        pulled: int | None
        new, pulled = self.last_page or (None, None)
        if self.mappers is None and new is not None and new < MIN_RECORDS:
            return False  # the stream brings (almost) nothing new so far: not worth a search per page
        # while pages bring only new content (a first run, a backlog) the search is not worth it:
        # a record sent that turns out to be staged already is mapped for nothing, never stored twice
        all_new = new is not None and pulled is not None and new == pulled > 0
        skip = set() if self.mappers is not None and all_new else self._already_staged(page)
        if self.mappers is None:
            if len(page.records) - len(skip) < MIN_RECORDS:
                return False
            self.mappers = self._start()
            if self.mappers is None:
                self.allowed = False
                return False
        self.mappers.submit(page.records, skip)
        return True

    def stored(self, staged: int, pulled: int) -> None:
        """Told the run's staged and pulled counts after each page is stored."""
        self.last_page = (staged - self.counts[0], pulled - self.counts[1])
        self.counts = (staged, pulled)

    def _handed(self, page: Page, sent: bool) -> tuple[Page, Mapping[str, Prepared]]:
        return page, (self.mappers.prepared() if sent and self.mappers is not None else {})

    def _start(self) -> PageMappers | None:
        service = self.service
        folders = getattr(service.tables, "folders", [])
        ingester = self.ingester
        ahead = None
        if service.work_ahead is not None:
            with storage_errors(service.engine.url), service.sessions() as session:
                ahead = service.work_ahead(session, self.system)
        spec = IngesterSpec(tuple(str(f) for f in folders), self.name, int(self.version), self.system.id, self.stream,
                            ingester.context, ingester.today, ahead)
        try:
            return PageMappers(spec, ingester.mapper.ref, service.map_processes)
        except (OSError, RuntimeError) as exc:
            log.warning("%s/%s: no mapping helpers (%s); the run maps its pages itself", self.system.id, self.stream, exc)
            return None

    def _already_staged(self, page: Page) -> set[str]:
        """Content hashes of the page's records that are staged already (not worth mapping ahead)."""
        by_pair = {staging_pair(r): r.content_hash for r in page.records}
        with storage_errors(self.service.engine.url), self.service.sessions() as session:
            found = queries.staged_ids(session, self.system.id, list(by_pair))
        return {by_pair[pair] for pair in found}

    def close(self) -> None:
        if self.mappers is not None:
            self.mappers.close()


class RunService:
    """Creates runs and executes leased ones. One instance per worker process."""

    def __init__(
        self,
        engine: Engine,
        *,
        tables: TableSource,
        dictionary: Dictionary,
        secrets: SecretResolver,
        adapters_factory: Callable[..., Adapters] = build_adapters,
        on_stored: StoredHook | None = None,
        holds: HoldsHook | None = None,
        progress: WorkProgress | None = None,
        worker_id: str = "jnx",
        today: Callable[[], dt.date] | None = None,
        should_stop: Callable[[], bool] | None = None,
        lease_for: dt.timedelta = LEASE_FOR,
        map_processes: int = 0,
        work_ahead: WorkAhead | None = None,
    ) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        # transactions that read then write take SQLite's write lock at BEGIN (other workers wait
        # their turn instead of failing with "database is locked"); the same sessions on PostgreSQL
        self.writes: sessionmaker[Session] = session_factory(engine, immediate=True)
        self.tables = tables
        self.dictionary = dictionary
        self.secrets = secrets
        self.adapters_factory = adapters_factory
        self.on_stored = on_stored
        self.holds = holds
        self.progress = progress
        self.worker_id = worker_id
        self.today = today or beijing_today
        self.should_stop = should_stop or (lambda: False)
        self.lease_for = lease_for  # each committed page extends the run's lease by this much
        self.map_processes = map_processes  # helper processes mapping the next pages (jnx.exchange.premap); 0: none
        self.work_ahead = work_ahead  # what on_stored wants worked out in those helpers (premap.AheadSpec)
        self._analyzed_at = ANALYZE_FROM
        self.leases = Leases(engine, RUNS)
        self.registry = SystemRegistry()

    # ---------------------------------------------------------------- creating runs

    def enqueue(self, system_id: str, *, trigger: RunTrigger = RunTrigger.MANUAL, full: bool = False,
                due_at: dt.datetime | None = None) -> int:
        """Queue a run; a scheduled run's ``due_at`` is its slot, unique per system (no double runs)."""
        with storage_errors(self.engine.url), self.writes.begin() as session:
            self.registry.get(session, system_id)  # a clear error for an unknown system
            run = Run(system_id=system_id, trigger=trigger, full=full, due_at=due_at or utcnow(), status=RunStatus.QUEUED)
            session.add(run)
            session.flush()
            return int(run.id)

    def run_now(self, system_id: str, *, full: bool = False) -> RunSummary:
        """Queue a manual run and execute it in this process."""
        run_id = self.enqueue(system_id, full=full)
        lease = self._claim_exact(run_id)
        return self.execute(lease)

    def _claim_exact(self, run_id: int) -> Lease:
        # the run was just queued by us; claim it directly (others may be due too: keep ours only)
        with storage_errors(self.engine.url), self.writes.begin() as session:
            now = utcnow()
            session.execute(
                update(Run).where(Run.id == run_id, Run.status == RunStatus.QUEUED).values(
                    status=RunStatus.RUNNING, lease_owner=self.worker_id, lease_expires_at=now + self.lease_for,
                    heartbeat_at=now, attempts=Run.attempts + 1, started_at=now,
                )
            )
            run = session.get(Run, run_id)
            assert run is not None and run.lease_expires_at is not None
            return Lease("runs", run_id, self.worker_id, run.lease_expires_at, run.attempts)

    # ---------------------------------------------------------------- executing

    def execute(self, lease: Lease) -> RunSummary:
        """Execute a leased run to its end and complete the lease with the outcome."""
        with fewer_collections(), log_context(run_id=lease.row_id):  # every log line of the run carries its id
            return self._execute(lease)

    def _execute(self, lease: Lease) -> RunSummary:
        started = time.monotonic()
        self._analyzed_at = ANALYZE_FROM
        with self.sessions() as session:
            run = session.get(Run, lease.row_id)
            assert run is not None
            system = self.registry.get(session, run.system_id)
            full = run.full
            previous = PageCounts(**{k: v for k, v in (run.counts or {}).items() if k in PageCounts.__dataclass_fields__})
            earlier = TrafficCounts.of(run.counts)  # a resumed run keeps the retries of its earlier attempts
        summary = RunSummary(lease.row_id, system.id, RunStatus.RUNNING, counts=previous, traffic=earlier)
        with log_context(system=system.id):
            return self._run(lease, system, full, summary, started, earlier)

    def _run(self, lease: Lease, system: RegisteredSystem, full: bool, summary: RunSummary, started: float,
             earlier: TrafficCounts) -> RunSummary:
        status = RunStatus.SUCCEEDED
        try:
            adapters = self.adapters_factory(system.registration.adapter, self.secrets)
            summary.live_traffic = lambda: earlier + adapters.traffic.snapshot()
            try:
                for stream, puller in adapters.pullers.items():
                    lease = self._pull_stream(lease, system, stream, puller, full, summary)
            finally:
                summary.traffic = earlier + adapters.traffic.snapshot()
                summary.live_traffic = None
                summary.lines = adapters.lines.report() if adapters.lines is not None else []
                adapters.close()
        except LeaseLostError:
            summary.status = RunStatus.CANCELLED
            summary.error = "the run's lease was taken over by another worker; this worker stopped"
            return summary
        except _Interrupted:
            # shutting down: give the run back, due at once; it resumes from its last committed page
            summary.status = RunStatus.QUEUED
            summary.seconds = time.monotonic() - started
            try:
                self.leases.release(lease, values={"counts": summary.stored_counts()})
            except LeaseLostError:
                pass
            return summary
        except JnxError as exc:
            status = RunStatus.FAILED
            summary.error = _failure(summary, exc)
            summary.configuration = isinstance(exc, ConfigError)
        except Exception as exc:  # a defect of jnx, not the source's: the run ends failed, never stays `running`
            status = RunStatus.FAILED
            log.exception("run #%d of %s stopped on an unexpected %s", summary.run_id, system.id, type(exc).__name__)
            summary.error = _failure(summary, JnxError(
                f"unexpected {type(exc).__name__}: {mask_text(str(exc))[:300]}",
                hint="this is a defect of jnx, not of the source's data: the traceback is in jnx's log "
                     "(logger jnx.exchange.runs); report it with the run's number"))
        summary.status = status
        summary.seconds = time.monotonic() - started
        if summary.traffic.retries:  # a platform failing shows in the run, not only in stderr lines
            summary.warnings.append(f"{system.id}: {summary.traffic.sentence()}")
        values = {"counts": {**summary.stored_counts(), "seconds": round(summary.seconds, 3), "warnings": summary.warnings,
                             "pages": summary.page_counts},
                  "error": summary.error}
        try:
            self.leases.complete(lease, status, values=values)
        except LeaseLostError:
            summary.status = RunStatus.CANCELLED
        counts, traffic = summary.counts, summary.traffic
        log.log(logging.WARNING if status is RunStatus.FAILED else logging.INFO,
                "run #%d of %s %s in %.1f s: pulled %d, new %d, revised %d, unchanged %d, with errors %d; "
                "%d retries, %d line switches, %d Retry-After waits%s", summary.run_id, system.id, summary.status.value,
                summary.seconds, counts.pulled, counts.new, counts.revised, counts.unchanged, counts.errors,
                traffic.retries, traffic.line_switches, traffic.retry_after_waits,
                f" — {summary.error}" if summary.error else "")
        return summary

    def _pull_stream(self, lease: Lease, system: RegisteredSystem, stream: str, puller: Puller, full: bool,
                     summary: RunSummary) -> Lease:
        name, version = system.registration.table_for(stream)
        ingester = PageIngester(
            system_id=system.id, record_type=stream, mapper=self.tables.compiled(name, version),
            context=_context(system), dictionary=self.dictionary, run_id=lease.row_id, today=self.today(),
        )
        with self.sessions() as session:
            stored = queries.get_watermark(session, system.id, stream)
        start = None if (full or stored is None) else Watermark.from_json(stored)
        seen: Counter[bytes] = Counter()
        summary.stream = stream
        pages = _Lookahead(self, system, stream, name, version, ingester, staged=summary.counts.staged, pulled=summary.counts.pulled)
        if self.progress is not None:
            self.progress.start(f"{system.id} {stream}", None)
        try:
            for page, prepared in pages.run(iter(puller.pull(start))):
                self._check_not_looping(system, stream, page, seen)
                before = summary.counts.as_dict()
                lease = self._commit_page(lease, system, stream, ingester, page, start, summary, prepared)
                pages.stored(summary.counts.staged, summary.counts.pulled)
                summary.pages[stream] = summary.pages.get(stream, 0) + 1
                summary.page_counts = [*summary.page_counts[-(PAGES_KEPT - 1):], {
                    "stream": stream, "page": summary.pages[stream],
                    **{k: v - before[k] for k, v in summary.counts.as_dict().items()}}]
                self._refresh_statistics(summary)
                puller.acknowledge(page)
                for notice in page.notices:
                    if notice not in summary.warnings:
                        summary.warnings.append(notice)
                if self.progress is not None:
                    self.progress.advance(len(page.records))
                    counts = summary.counts
                    self.progress.note(f"{system.id} {stream}: {counts.pulled} pulled, {counts.new} new, "
                                       f"{counts.revised} revised, {counts.errors} with errors")
                if self.should_stop():
                    raise _Interrupted
        finally:
            pages.close()
        summary.stream = None
        return lease

    @staticmethod
    def _check_not_looping(system: RegisteredSystem, stream: str, page: Page, seen: Counter[bytes]) -> None:
        """Stop a pull that goes round in circles instead of pulling forever.

        The same records at the same position twice is a loop (the source ignores the paging
        parameters). The same records at ever new positions (a page parameter the source does not
        read) is one too, once it has come more than :data:`SAME_RECORDS_LIMIT` times: a page that
        a source resends once with its next position (a duplicate) goes on.
        """
        if not page.records:
            return
        records = hashlib.sha256()
        for record in page.records:
            records.update(record.content_hash.encode())
        exact = hashlib.sha256(records.digest() + page.watermark.to_json().encode()).digest()
        seen[exact] += 1
        seen[records.digest()] += 1
        if seen[exact] > 1 or seen[records.digest()] > SAME_RECORDS_LIMIT:
            raise SourceLoopError(
                f"{system.id}/{stream}: the source returned the same page again at {page.line} "
                f"({seen[records.digest()]} times, watermark {page.watermark.to_json()}); stopped to avoid a loop",
                hint="check the system's pagination (cursor or page parameters) in its registration",
            )

    def _refresh_statistics(self, summary: RunSummary) -> None:
        """After the run's staged records pass 1,000, 2,000, 4,000, … (a handful per burst)."""
        staged = summary.counts.staged
        if staged < self._analyzed_at:
            return
        self._analyzed_at = max(2 * self._analyzed_at, staged + 1)
        try:
            with storage_errors(self.engine.url), self.writes.begin() as session:
                queries.refresh_statistics(session)
        except StorageError as exc:  # e.g. not the tables' owner: slower plans, never a failed run
            log.warning("could not refresh the database's statistics: %s", exc)

    def _commit_page(self, lease: Lease, system: RegisteredSystem, stream: str, ingester: PageIngester, page: Page,
                     start: Watermark | None, summary: RunSummary, prepared: Mapping[str, Prepared] | None = None) -> Lease:
        mark = page.watermark
        if start is not None and went_backwards(mark.since, start.since):
            # never store a watermark behind the one this pull started from: keep that, go on with the pass
            warning = f"{stream}: the source's watermark went backwards ({start.since} → {mark.since}); kept {start.since}"
            if warning not in summary.warnings:
                summary.warnings.append(warning)
            mark = replace(mark, since=start.since)
        new_mark = mark.to_json()
        for attempt in range(1, PAGE_ATTEMPTS + 1):
            expires = utcnow() + self.lease_for
            try:
                counts = self._store_page(lease, system, stream, ingester, page, summary, new_mark, expires, prepared)
                break
            except (ConstraintViolationError, StorageError) as exc:
                if attempt == PAGE_ATTEMPTS or not _lost_a_race(exc):
                    raise
                log.info("%s/%s: page %s met a concurrent writer (%s); storing it again", system.id, stream, page.number, exc)
        summary.counts = counts
        summary.watermarks[stream] = new_mark
        return Lease(lease.table, lease.row_id, lease.owner, expires, lease.attempts)

    def after_ingest(self, session: Session, system: RegisteredSystem, outcome: PageOutcome) -> None:
        """What follows a page's ingest in its transaction: the stored hook (disclosures), then holds."""
        if self.on_stored is not None and outcome.stored:
            self.on_stored(session, system, outcome.stored)
        if self.holds is not None and (outcome.conflicted or outcome.stored):
            self.holds(session, outcome.conflicted, [s.record_id for s in outcome.stored])

    def _store_page(self, lease: Lease, system: RegisteredSystem, stream: str, ingester: PageIngester, page: Page,
                    summary: RunSummary, new_mark: str, expires: dt.datetime, prepared: Mapping[str, Prepared] | None = None) -> PageCounts:
        """One page, its watermark and the run's counters in one transaction, fenced by the lease."""
        with storage_errors(self.engine.url), self.writes.begin() as session:
            outcome = ingester.ingest(session, page.records, prepared)
            self.after_ingest(session, system, outcome)
            queries.set_watermark(session, system.id, stream, new_mark)
            counts = PageCounts(**summary.counts.as_dict())
            counts.add(outcome.counts)
            fenced = affected(session.execute(
                update(Run)
                .where(Run.id == lease.row_id, Run.lease_owner == lease.owner, Run.status == RunStatus.RUNNING)
                .values(counts=summary.stored_counts(counts), heartbeat_at=utcnow(), lease_expires_at=expires,
                        watermark_to=new_mark)
            ))
            if fenced != 1:
                raise LeaseLostError(f"run #{lease.row_id} is no longer leased to {lease.owner}",
                                     table="runs", row_id=lease.row_id, owner=lease.owner)
        return counts

    # ---------------------------------------------------------------- queries for the CLI

    def latest_runs(self, limit: int = 20) -> Iterator[Mapping[str, Any]]:
        with self.sessions() as session:
            for run in session.scalars(select(Run).order_by(Run.id.desc()).limit(limit)):
                yield {"run_id": run.id, "system": run.system_id, "status": run.status.value, "trigger": run.trigger.value,
                       "started_at": run.started_at, "finished_at": run.finished_at, **(run.counts or {}), "error": run.error}


__all__ = ["RunService", "RunSummary", "SourceLoopError", "SourceSystem", "TableSource"]
