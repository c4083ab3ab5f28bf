"""``/metrics``: jnx in the Prometheus text format (prometheus-client), every name starting ``jnx_``.

Two sources, so that several worker threads, serve processes and machines agree:

* :class:`DatabaseCollector` — what lives in the database is read from it at scrape time, a handful
  of aggregate queries (runs, records, mapping errors, retries of runs, pushes, the outbox, deadlines,
  last successes, and the two histograms). Every ``jnx serve`` and ``jnx web`` scraped answers the same
  figures for these; sum nothing across processes in PromQL — take ``max`` (or one instance).
* :class:`ProcessMetrics` — what only this process knows: the lines it last used (up or down, per
  system and line) and the retries of its own delivery passes (they are not stored; a run's are, in
  ``runs.counts``). Sum these across instances.

The metric names are listed in docs/operations.md (a test checks the example alert rules and the
Grafana dashboard name only metrics this module exposes).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, case, func, literal_column, select
from sqlalchemy.orm import Session

from jnx.adapters.lines import LineReport, LineState
from jnx.adapters.traffic import TrafficCounts
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureRevision,
    DisclosureStatus,
    MappingErrorEntry,
    MappingErrorStatus,
    Run,
    RunStatus,
    utcnow,
)

log = logging.getLogger(__name__)

#: seconds; runs take from a second (nothing new) to hours (a first full pull)
RUN_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)
#: seconds from a delivery's creation to its acknowledgement; the legal limit is 7 working days
PUSH_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0)
RECORD_OUTCOMES = (("new", "new"), ("revised", "revised"), ("unchanged", "unchanged"), ("errors", "error"))
TRAFFIC = (("request_retries", "retry"), ("line_switches", "line_switch"), ("retry_after_waits", "retry_after_wait"))
PUSH_OUTCOMES = {DeliveryStatus.ACKNOWLEDGED: "acknowledged", DeliveryStatus.REJECTED: "rejected",
                 DeliveryStatus.SENT: "queued", DeliveryStatus.FAILED: "failed"}
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
DONE = (DisclosureStatus.WITHDRAWN, DisclosureStatus.EXPIRED)
R = DisclosureRevision


def _seconds_between(dialect: str, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in seconds, in SQL (UTC instants: naive ISO text on SQLite, timestamptz on PostgreSQL)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _histogram(family: HistogramMetricFamily, rows: Iterable[Sequence[Any]], buckets: Sequence[float]) -> None:
    """Rows of (labels…, count ≤ b for each bucket…, count, sum) into ``family``."""
    width = len(buckets)
    for row in rows:
        labels = [str(v) for v in row[: len(row) - width - 2]]
        cumulative = row[len(labels): len(labels) + width]
        count, total = int(row[-2] or 0), float(row[-1] or 0.0)
        family.add_metric(labels, [(_le(b), float(c or 0)) for b, c in zip(buckets, cumulative, strict=True)]
                          + [("+Inf", float(count))], total)


def _le(bound: float) -> str:
    return f"{bound:g}" if bound < 1e6 else repr(bound)


def _buckets(value: Any, buckets: Sequence[float]) -> list[Any]:
    return [func.sum(case((value <= b, 1), else_=0)) for b in buckets]


class DatabaseCollector(Collector):
    """The figures that live in the database, read at each scrape (see the module docstring).

    ``due_by(today)`` is the last day that counts as "within one working day" (the next working day,
    from the workday calendar); ``today`` is the Beijing date (deadlines are Beijing dates)."""

    def __init__(self, engine: Engine, *, today: Callable[[], dt.date], due_by: Callable[[dt.date], dt.date],
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.today = today
        self.due_by = due_by
        self.clock = clock

    def describe(self) -> Iterable[Any]:
        return []  # collected at scrape time only: nothing is read when the collector is registered

    def collect(self) -> Iterator[Any]:
        started = time.monotonic()
        up = GaugeMetricFamily("jnx_database_up", "1 when the database answered this scrape's queries, else 0")
        try:
            with Session(self.engine) as session:
                families = list(self._families(session))
        except Exception as exc:  # noqa: BLE001 - a scrape says the database is down instead of failing
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from families
        took = GaugeMetricFamily("jnx_scrape_database_seconds", "Seconds this scrape's database queries took")
        took.add_metric([], time.monotonic() - started)
        yield took

    def _families(self, session: Session) -> Iterator[Any]:
        dialect = session.get_bind().dialect.name
        yield from self._runs(session)
        yield from self._records(session)
        yield self._mapping_errors(session)
        yield self._run_durations(session)
        yield from self._pushes(session, dialect)
        yield from self._deadlines(session)

    # ---------------------------------------------------------------- runs and records
    def _runs(self, session: Session) -> Iterator[Any]:
        finished = CounterMetricFamily("jnx_runs", "Finished runs by system and outcome", labels=["system", "outcome"])
        waiting = GaugeMetricFamily("jnx_runs_in_progress", "Runs queued or running, by system and status",
                                    labels=["system", "status"])
        for system, status, count in session.execute(
                select(Run.system_id, Run.status, func.count()).group_by(Run.system_id, Run.status).order_by(Run.system_id)):
            status = RunStatus(status)
            (finished if status in FINISHED else waiting).add_metric([system, status.value], float(count))
        yield finished
        yield waiting
        last = GaugeMetricFamily("jnx_last_success_timestamp_seconds", "When the system's latest successful run ended "
                                 "(Unix time)", labels=["system"])
        for system, at in session.execute(select(Run.system_id, func.max(Run.finished_at))
                                          .where(Run.status == RunStatus.SUCCEEDED).group_by(Run.system_id)):
            if at is not None:
                instant = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
                last.add_metric([system], (instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)).timestamp())
        yield last

    def _records(self, session: Session) -> Iterator[Any]:
        records = CounterMetricFamily("jnx_records", "Records stored by runs, by system and outcome "
                                      "(new, revised, unchanged; error: records with mapping or validation errors)",
                                      labels=["system", "outcome"])
        pulled = CounterMetricFamily("jnx_records_pulled", "Records pulled by runs, by system", labels=["system"])
        traffic = CounterMetricFamily("jnx_run_transport_events", "What the runs' requests went through, by system and "
                                      "event (retry, line_switch, retry_after_wait)", labels=["system", "event"])
        keys = ["pulled", *(k for k, _ in RECORD_OUTCOMES), *(k for k, _ in TRAFFIC)]
        sums = [func.coalesce(func.sum(Run.counts[k].as_integer()), 0) for k in keys]
        for system, *values in session.execute(select(Run.system_id, *sums).group_by(Run.system_id).order_by(Run.system_id)):
            by_key = dict(zip(keys, values, strict=True))
            pulled.add_metric([system], float(by_key["pulled"]))
            for key, outcome in RECORD_OUTCOMES:
                records.add_metric([system, outcome], float(by_key[key]))
            for key, event in TRAFFIC:
                traffic.add_metric([system, event], float(by_key[key]))
        yield records
        yield pulled
        yield traffic

    def _mapping_errors(self, session: Session) -> Any:
        family = GaugeMetricFamily("jnx_mapping_errors_open", "Open errors in the errors queue, by system and cause "
                                   "(the rule that failed)", labels=["system", "cause"])
        e = MappingErrorEntry
        for system, rule, count in session.execute(select(e.system_id, e.rule, func.count())
                                                   .where(e.status == MappingErrorStatus.OPEN)
                                                   .group_by(e.system_id, e.rule).order_by(e.system_id, e.rule)):
            family.add_metric([system, rule], float(count))
        return family

    def _run_durations(self, session: Session) -> Any:
        family = HistogramMetricFamily("jnx_run_duration_seconds", "Duration of finished runs, by system", labels=["system"])
        seconds = Run.counts["seconds"].as_float()
        rows = session.execute(select(Run.system_id, *_buckets(seconds, RUN_BUCKETS), func.count(seconds), func.sum(seconds))
                               .where(Run.status.in_(FINISHED), seconds.is_not(None)).group_by(Run.system_id)
                               .order_by(Run.system_id))
        _histogram(family, rows, RUN_BUCKETS)
        return family

    # ---------------------------------------------------------------- pushes and the outbox
    def _pushes(self, session: Session, dialect: str) -> Iterator[Any]:
        pushes = CounterMetricFamily("jnx_pushes", "Deliveries of disclosure revisions that ended so, by outcome "
                                     "(acknowledged, rejected, queued: sent and awaiting the platform's answer, failed)",
                                     labels=["outcome"])
        counted = {DeliveryStatus(s): int(n) for s, n in session.execute(select(Delivery.status, func.count())
                                                                          .group_by(Delivery.status))}
        for status, outcome in PUSH_OUTCOMES.items():
            pushes.add_metric([outcome], float(counted.get(status, 0)))
        yield pushes
        attempts = CounterMetricFamily("jnx_push_attempts", "Claims of deliveries by workers (each one push attempt)")
        attempts.add_metric([], float(session.scalar(select(func.coalesce(func.sum(Delivery.attempts), 0))) or 0))
        yield attempts

        latency = HistogramMetricFamily("jnx_push_latency_seconds", "Seconds from a delivery's creation (its revision "
                                        "queued) to its acknowledgement by the platform")
        took = _seconds_between(dialect, Delivery.updated_at, Delivery.created_at)
        rows = session.execute(select(*_buckets(took, PUSH_BUCKETS), func.count(), func.sum(took))
                               .where(Delivery.status == DeliveryStatus.ACKNOWLEDGED))
        _histogram(latency, rows, PUSH_BUCKETS)
        yield latency

        waiting = (DeliveryStatus.PENDING, DeliveryStatus.LEASED)
        depth, oldest = session.execute(select(func.count(), func.min(Delivery.created_at))
                                        .where(Delivery.status.in_(waiting))).one()
        gauge = GaugeMetricFamily("jnx_outbox_depth", "Deliveries waiting in the outbox (pending or being pushed)")
        gauge.add_metric([], float(depth))
        yield gauge
        age = GaugeMetricFamily("jnx_outbox_oldest_age_seconds", "Age of the oldest delivery waiting in the outbox (0: none)")
        if oldest is not None:
            instant = oldest if isinstance(oldest, dt.datetime) else dt.datetime.fromisoformat(str(oldest))
            instant = instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)
            age.add_metric([], max((self.clock() - instant).total_seconds(), 0.0))
        else:
            age.add_metric([], 0.0)
        yield age

    # ---------------------------------------------------------------- disclosures and deadlines
    def _deadlines(self, session: Session) -> Iterator[Any]:
        from jnx.publicity.views import count_overdue

        today = self.today()
        by_status = GaugeMetricFamily("jnx_disclosures", "双公示 disclosures by status", labels=["status"])
        counted = {DisclosureStatus(s): int(n) for s, n in
                   session.execute(select(Disclosure.status, func.count()).group_by(Disclosure.status))}
        for status in DisclosureStatus:
            by_status.add_metric([status.value], float(counted.get(status, 0)))
        yield by_status
        overdue = GaugeMetricFamily("jnx_disclosures_overdue", "Disclosures past their due date and not yet where they "
                                    "should be on the platform (as `jnx disclosures list --overdue`)")
        overdue.add_metric([], float(count_overdue(session, today)))
        yield overdue
        soon = GaugeMetricFamily("jnx_disclosures_due_within_one_working_day", "Disclosures not yet acknowledged whose "
                                 "due date is today or the next working day")
        soon.add_metric([], float(self._due_between(session, today, self.due_by(today))))
        yield soon

    @staticmethod
    def _due_between(session: Session, first: dt.date, last: dt.date) -> int:
        """Disclosures waiting whose due date falls in ``first..last`` (as ``count_overdue``, a range instead)."""
        waiting = (select(func.count()).select_from(R)
                   .join(Disclosure, and_(Disclosure.id == R.disclosure_id, R.revision == Disclosure.current_revision))
                   .where(R.acknowledged_at.is_(None), R.due_date >= first, R.due_date <= last, Disclosure.status.not_in(DONE)))
        unrevised = (select(func.count()).select_from(Disclosure)
                     .where(Disclosure.current_revision == literal_column("0"), Disclosure.deadline >= first,
                            Disclosure.deadline <= last, Disclosure.status.not_in(DONE)))
        return sum(int(session.scalar(part) or 0) for part in (waiting, unrevised))


class ProcessMetrics(Collector):
    """What this process saw: the lines of the systems it ran and pushed to, and its delivery passes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[tuple[str, str], bool] = {}
        self._passes = 0
        self._events: dict[tuple[str, str], int] = {}

    def lines_seen(self, system: str, reports: Iterable[LineReport]) -> None:
        """The lines of ``system`` as a run or pass left them (down: cooling down after failures)."""
        with self._lock:
            for report in reports:
                self._lines[(system, report.name)] = report.state is not LineState.DOWN

    def delivery_pass(self, system: str, traffic: TrafficCounts) -> None:
        """Count one delivery pass to ``system`` and what its requests went through."""
        with self._lock:
            self._passes += 1
            for event, value in (("retry", traffic.retries), ("line_switch", traffic.line_switches),
                                 ("retry_after_wait", traffic.retry_after_waits)):
                self._events[(system, event)] = self._events.get((system, event), 0) + value

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("jnx_line_up", "1 when the line answered (or is due a probe) at this process's last "
                               "call, 0 while it is down", labels=["system", "line"])
        with self._lock:
            lines, passes, events = sorted(self._lines.items()), self._passes, sorted(self._events.items())
        for (system, line), is_up in lines:
            up.add_metric([system, line], 1.0 if is_up else 0.0)
        yield up
        counted = CounterMetricFamily("jnx_delivery_passes", "Delivery passes of this process")
        counted.add_metric([], float(passes))
        yield counted
        traffic = CounterMetricFamily("jnx_delivery_transport_events", "What this process's delivery pushes went through, "
                                      "by system and event (retry, line_switch, retry_after_wait)", labels=["system", "event"])
        for (system, event), value in events:
            traffic.add_metric([system, event], float(value))
        yield traffic


def registry_of(*collectors: Collector) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one) with ``collectors``."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> Callable[[], bytes]:
    """What ``/metrics`` answers: the registry in the text format, collected now."""
    return lambda: generate_latest(registry)


def database_collector(engine: Engine, calendar_home: Any) -> DatabaseCollector:
    """The database collector of a jnx home: Beijing today, the next working day from its calendar."""
    from jnx.exchange.runs import beijing_today
    from jnx.publicity.calendar import WorkdayCalendar

    calendar = WorkdayCalendar.load(calendar_home)
    return DatabaseCollector(engine, today=beijing_today, due_by=lambda day: calendar.add_workdays(day, 1).date)
