"""``jnx run``, ``jnx runs``, ``jnx errors …`` and ``jnx replay`` — running systems and reviewing errors."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from jnx.commands._context import audited_session, load_settings, open_engine, os_context, record_audit
from jnx.commands._output import JsonOption, emit
from jnx.errors import ConfigError, InputError, NotFoundError
from jnx.exchange import error_queue
from jnx.exchange.registry import SystemRegistry
from jnx.exchange.wiring import Exchange
from jnx.settings import Settings
from jnx.store.db import session_factory
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, RunStatus

errors_app = typer.Typer(help="The errors queue: mapping and validation errors by cause; ignore and replay.", no_args_is_help=True)
runs_app = typer.Typer(help="Runs: what was pulled, when, with which outcome.", no_args_is_help=True)

#: Exit codes of `jnx run` (docs/cli.md): 0 all runs succeeded (records with errors included),
#: 5 a run failed (system unusable), 3 configuration, 4 transient (database, network).
EXIT_RUN_FAILED = 5
EXIT_CONFIG = 3


@contextmanager
def exchange(progress: bool = False) -> Iterator[Exchange]:
    """The exchange of the configured database; its runs and replays derive 双公示 disclosures from
    what they store, in the same transaction (docs/exchange.md, docs/disclosures.md)."""
    settings = load_settings()
    with open_engine(settings) as engine:
        ex = Exchange(settings=settings, engine=engine, environment=os.environ, worker_id=f"cli-{os.getpid()}")
        with progress_bar(progress) as bar:
            ex.progress = bar
            yield ex


def _require_system(ex: Exchange, system: str | None) -> None:
    """A NotFoundError (exit 3, listing the registered ids) for a --system that is not registered."""
    if system is not None:
        with session_factory(ex.engine)() as session:
            SystemRegistry().get(session, system)


class _Bar:
    """A rich bar on stderr, told by runs and long passes alike (:class:`jnx.progress.WorkProgress`)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task = progress.add_task("pulling…", total=None)

    def start(self, label: str, total: int | None) -> None:
        self.progress.reset(self.task, total=total, description=label)

    def advance(self, done: int) -> None:
        self.progress.advance(self.task, done)

    def note(self, text: str) -> None:
        self.progress.update(self.task, description=text)


@contextmanager
def _progress_bar() -> Iterator[_Bar]:
    """A transient bar on stderr (stdout stays for the command's output, text or --json)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield _Bar(progress)


@contextmanager
def progress_bar(wanted: bool) -> Iterator[_Bar | None]:
    """A bar when ``wanted`` (not --json) and stderr is a terminal; None otherwise (cron, pipes, tests)."""
    if wanted and sys.stderr.isatty():
        with _progress_bar() as bar:
            yield bar
    else:
        yield None


def _render_run(data: dict[str, Any]) -> None:
    if not data["runs"]:
        typer.echo("no run was due (`jnx systems list` shows the schedules; `jnx run SYSTEM` runs one now)")
    for run in data["runs"]:
        typer.echo(
            f"run #{run['run_id']} {run['system']}: {run['status']} — pulled {run['pulled']}, staged {run['staged']}, "
            f"new {run['new']}, revised {run['revised']}, unchanged {run['unchanged']}, "
            f"with errors {run['errors']} in {run['seconds']:.1f}s"
        )
        for warning in run["warnings"]:
            typer.echo(f"  warning: {warning}")
        if run["error"]:
            typer.echo(f"  error: {run['error']}", err=True)
    if any(r["errors"] for r in data["runs"]):
        typer.echo("records with errors wait in the queue: `jnx errors groups`")


def run(
    system: Annotated[str | None, typer.Argument(help="System id to run now.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Pull from the beginning, ignoring the watermark.")] = False,
    due: Annotated[bool, typer.Option("--due", help="Run every system whose schedule says a run is due.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run one system now, or (--due) what the schedules say is due. Exit 5 if a run failed."""
    if (system is None) == (not due):
        raise ConfigError("give a system id, or --due", hint="jnx run SYSTEM  |  jnx run --due")
    with exchange(progress=not as_json) as ex:
        if due:
            from jnx.exchange.scheduler import run_due

            summaries = run_due(ex)
        else:
            assert system is not None
            summaries = [ex.runs().run_now(system, full=full)]
    data = {"runs": [s.as_dict() for s in summaries]}
    emit(data, as_json, _render_run)
    failed = [s for s in summaries if s.status is RunStatus.FAILED]
    if failed:  # only configuration (a secret not set, …): 3, as documented; a system that failed: 5
        raise typer.Exit(EXIT_CONFIG if all(s.configuration for s in failed) else EXIT_RUN_FAILED)


def _instant(value: str | None, option: str) -> dt.datetime | None:
    """An ISO 8601 instant or day from the command line (a day is its start in Beijing time)."""
    if not value:
        return None
    from jnx.store.models import BEIJING

    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date or an instant", hint="write YYYY-MM-DD or YYYY-MM-DDTHH:MM+08:00") from None
    return parsed.replace(tzinfo=BEIJING) if parsed.tzinfo is None else parsed


SinceOption = Annotated[str | None, typer.Option("--since", help="From this day or instant on (YYYY-MM-DD is Beijing time).")]
UntilOption = Annotated[str | None, typer.Option("--until", help="Before this day or instant.")]
CursorOption = Annotated[str | None, typer.Option("--cursor", help="next_cursor of the previous page.")]


@runs_app.command("list")
def runs_list(
    system: Annotated[str | None, typer.Option("--system", "-s", help="Only this system.")] = None,
    department: Annotated[str | None, typer.Option("--department", help="Only systems of this 执法主体 credit code.")] = None,
    status: Annotated[RunStatus | None, typer.Option("--status", help="Only runs in this status.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first (a page).")] = 20,
    cursor: CursorOption = None,
    as_json: JsonOption = False,
) -> None:
    """The latest runs with their counts, newest first (the document of GET /api/v1/runs)."""
    from jnx.services import runs as run_service

    with exchange() as ex, session_factory(ex.engine)() as session:
        page = run_service.list_runs(os_context(session, ex.settings), system=system, department=department, status=status,
                                     since=_instant(since, "--since"), until=_instant(until, "--until"), limit=limit,
                                     cursor=cursor)

    def render(data: dict[str, Any]) -> None:
        if not data["runs"]:
            typer.echo("no runs yet: `jnx run SYSTEM` runs one now")
        for r in data["runs"]:
            typer.echo(f"#{r['run_id']:<6} {r['system']:<24} {r['status']:<10} {r['trigger']:<9} "
                       f"pulled {r.get('pulled') or 0:<7} errors {r.get('errors') or 0:<6} {r['error'] or ''}")
        if data["next_cursor"]:
            typer.echo(f"more: --cursor {data['next_cursor']}")

    emit(page.model_dump(mode="json"), as_json, render)


@runs_app.command("show")
def runs_show(run_id: Annotated[int, typer.Argument(min=1, help="Run id from `jnx runs list`.")], as_json: JsonOption = False) -> None:
    """One run: its counts, each page's counts, warnings and the errors it brought (GET /api/v1/runs/ID)."""
    from jnx.services import runs as run_service

    with exchange() as ex, session_factory(ex.engine)() as session:
        found = run_service.show_run(os_context(session, ex.settings), run_id)

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"run #{d['run_id']} {d['system']}: {d['status']} ({d['trigger']}), {d['started_at']} → {d['finished_at']}")
        typer.echo("  " + ", ".join(f"{k} {v}" for k, v in d["counts"].items() if isinstance(v, int | float)))
        for p in d["pages"]:
            typer.echo(f"  page {p['stream']} #{p['page']}: pulled {p['pulled']}, new {p['new']}, revised {p['revised']}, "
                       f"unchanged {p['unchanged']}, errors {p['errors']}")
        for w in d["warnings"]:
            typer.echo(f"  warning: {w}")
        for g in d["error_groups"]:
            typer.echo(f"  errors {g['group'][:10]} {g['field']} {g['rule']} ({g['status']}): {g['records']} records")
        if d["error"]:
            typer.echo(f"  error: {d['error']}")

    emit(found.model_dump(mode="json"), as_json, render)


GroupOption = Annotated[str | None, typer.Option("--group", "-g", help="Error group (a prefix of its key is enough).")]
SystemOption = Annotated[str | None, typer.Option("--system", "-s", help="Only this system.")]


@errors_app.command("groups")
def errors_groups(system: SystemOption = None, as_json: JsonOption = False) -> None:
    """Open errors grouped by cause, largest group first (the document of GET /api/v1/errors/groups)."""
    from jnx.services import errors as error_service

    with exchange() as ex, session_factory(ex.engine)() as session:
        found = error_service.error_groups(os_context(session, ex.settings), system=system)

    def render(data: dict[str, Any]) -> None:
        if not data["groups"]:
            typer.echo("the errors queue is empty")
        for g in data["groups"]:
            value = f" {g['value']!r}" if g["value"] else ""
            typer.echo(f"{g['group'][:10]}  {g['system']}  {g['table']}  {g['field']} {g['rule']}{value}: "
                       f"{g['records']} records — {g['message']}")
        if data["groups"]:
            typer.echo("details: `jnx errors list --group KEY`; after fixing the table: `jnx errors replay --group KEY`")

    emit(found.model_dump(mode="json"), as_json, render)


@errors_app.command("list")
def errors_list(
    group: GroupOption = None,
    system: SystemOption = None,
    status: Annotated[MappingErrorStatus, typer.Option(help="Which errors.")] = MappingErrorStatus.OPEN,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Errors one by one (masked values only)."""
    with exchange() as ex, session_factory(ex.engine)() as session:
        _require_system(ex, system)
        rows = error_queue.list_errors(session, group=group, system=system, status=status, limit=limit)

    def render(data: dict[str, Any]) -> None:
        if not data["errors"]:
            typer.echo(f"no {status.value} errors match")
        for r in data["errors"]:
            typer.echo(f"#{r['id']:<7} {r['system']} {r['table']} {r['field']} [{r['value']}]: {r['message']} ({r['rule']})")

    emit({"errors": rows}, as_json, render)


@errors_app.command("show")
def errors_show(error_id: Annotated[int, typer.Argument(help="Error id from `jnx errors list`.")], as_json: JsonOption = False) -> None:
    """One error beside its raw record (personal data masked)."""
    with exchange() as ex, session_factory(ex.engine)() as session:
        data = error_queue.show(session, error_id)

    def render(d: dict[str, Any]) -> None:
        import json

        typer.echo(f"error #{d['id']} ({d['status']}) in {d['system']}, table {d['table']}")
        typer.echo(f"  field {d['field']} ← {d['source_path']}: {d['message']} [{d['rule']}], value {d['value']!r}")
        if d.get("conflict"):
            held = d["conflict"]
            typer.echo(f"standard record #{held['record']} ({held['business_key']}, revision {held['revision']}) it conflicts with:")
            typer.echo(json.dumps(held["data"], ensure_ascii=False, indent=2, default=str))
        for other in d["other_errors_of_record"]:
            typer.echo(f"  also: {other['field']}: {other['message']} [{other['rule']}]")
        typer.echo(f"raw record #{d['raw']['id']} (source key {d['raw']['source_key']}):")
        typer.echo(json.dumps(d["raw"]["payload"], ensure_ascii=False, indent=2, default=str))

    emit(data, as_json, render)


@errors_app.command("ignore")
def errors_ignore(
    error_id: Annotated[int | None, typer.Argument(help="One error id (or use --group/--system).")] = None,
    group: GroupOption = None,
    system: SystemOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Why these errors need no fix (kept with them).")] = "",
    as_json: JsonOption = False,
) -> None:
    """Take errors out of the queue on purpose, with a reason."""
    with exchange() as ex:
        _require_system(ex, system)
        with audited_session(ex.engine) as session, session.begin():
            if error_id is not None and session.get(MappingErrorEntry, error_id) is None:
                raise NotFoundError(f"no mapping error #{error_id}", hint="`jnx errors list` shows the open ones")
            count = error_queue.ignore(session, reason=reason, error_id=error_id, group=group, system=system)
            record_audit(session, "errors.ignored", group or system or f"error:{error_id}", {"count": count, "reason": reason})
    emit({"ignored": count}, as_json, lambda d: typer.echo(f"ignored {d['ignored']} error(s)"))


@errors_app.command("merge")
def errors_merge(
    error_id: Annotated[int, typer.Argument(help="The id of a business_key.conflict error (`jnx errors list`).")],
    as_json: JsonOption = False,
) -> None:
    """Resolve a business-key conflict as one case re-keyed at its source: the newcomer becomes the
    record's revision and its disclosure is released. (Two different cases: correct the decision number
    at the source, or `jnx errors ignore ID --reason …`.)"""
    with exchange() as ex:
        with audited_session(ex.engine) as session, session.begin():
            counts = error_queue.merge(ex.runs(), session, error_id)
            record_audit(session, "errors.merged", f"error:{error_id}", dict(counts.as_dict()))
    emit({"merged": error_id, **counts.as_dict()}, as_json, lambda d: typer.echo(
        f"merged conflict #{d['merged']}: {d['revised']} revised, {d['unchanged']} unchanged, {d['conflicts']} still in conflict"))


@errors_app.command("replay")
def errors_replay(
    group: GroupOption = None,
    system: SystemOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what a replay of this group or system would do "
                                                            "(mapped, then rolled back; the document of GET /api/v1/errors/replay-preview).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Re-map the records behind open errors with each system's current table; fixed ones leave the queue."""
    with exchange() as ex:
        _require_system(ex, system)
        if dry_run:
            from jnx.services import errors as error_service

            if not group and not system:
                raise InputError("--dry-run needs --group or --system", hint="`jnx errors groups` lists the groups")
            with session_factory(ex.engine)() as session:
                preview = error_service.replay_preview(os_context(session, ex.settings), ex, group=group, system=system)
            emit(preview.model_dump(mode="json"), as_json, lambda d: typer.echo(
                f"a replay would map {d['mapped']} of {d['selection']['records']} record(s): {d['fixed']} fixed, "
                f"{d['still_broken']} still with errors ({d['new']} new, {d['revised']} revised standard records); nothing changed"))
            return
        with audited_session(ex.engine) as session, session.begin(), progress_bar(not as_json) as bar:
            report = error_queue.replay(ex.runs(), session, group=group, system=system, progress=bar)
            record_audit(session, "errors.replayed", group or system or "all", report.as_dict())
    emit(report.as_dict(), as_json, lambda d: typer.echo(
        f"replayed {d['records']} record(s): {d['fixed']} fixed, {d['still_broken']} still with errors "
        f"({d['new']} new, {d['revised']} revised standard records)"))


def replay(
    system: Annotated[str, typer.Option("--system", "-s", help="The system whose staged records to re-map.")],
    mapping: Annotated[str, typer.Option("--mapping", "-m", help="Table NAME@VERSION to map with.")],
    since: Annotated[str | None, typer.Option(help="Only records received on or after this date (YYYY-MM-DD).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change, store nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Re-map a system's staged records under another table version and report what changed."""
    from jnx.exchange.replay import replay_system

    with exchange() as ex:
        with progress_bar(not as_json) as bar:
            report = replay_system(ex, system=system, mapping=mapping, since=since, dry_run=dry_run, progress=bar,
                                   session=audited_session(ex.engine),
                                   audit=lambda session, done: record_audit(session, "records.replayed", system, done))
    emit(report, as_json, lambda d: typer.echo(
        f"{'would re-map' if d['dry_run'] else 're-mapped'} {d['records']} record(s) of {d['system']} with {d['mapping']}: "
        f"{d['new']} new, {d['revised']} revised, {d['unchanged']} unchanged, {d['errors']} with errors"))


def serve(
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker threads in this process.")] = 2,
    tick: Annotated[float, typer.Option(min=1, help="Seconds between scheduler ticks.")] = 30.0,
    web: Annotated[int | None, typer.Option("--web", min=1, max=65535, help="Also serve the HTTP API and console on this port.")] = None,
    web_host: Annotated[str, typer.Option("--web-host", help="Address the API listens on with --web.")] = "127.0.0.1",
    metrics_port: Annotated[int | None, typer.Option("--metrics-port", min=1, max=65535,
                                                     help="Serve /healthz, /readyz and /metrics (no login) on this port.")] = None,
    metrics_host: Annotated[str, typer.Option("--metrics-host", help="Address of --metrics-port (0.0.0.0: every interface).")] = "127.0.0.1",
    deliver: Annotated[bool, typer.Option("--deliver/--no-deliver", help="Deliver the 双公示 outbox in this process.")] = True,
    deliver_every: Annotated[float, typer.Option("--deliver-every", min=1, help="Seconds between delivery passes "
                                                 "(a run that stores disclosures starts one at once).")] = 30.0,
) -> None:
    """Run the scheduler, N workers and the outbox delivery until SIGTERM or Ctrl-C (runs in flight stop
    after their page); with --web PORT, the HTTP API and console beside them (as `jnx web`); with
    --metrics-port PORT, health and Prometheus metrics for the operators (docs/operations.md)."""
    import logging
    import socket
    import threading

    from jnx.adapters.traffic import TrafficCounts
    from jnx.commands._credit import credit_delivery
    from jnx.exchange.runs import RunSummary
    from jnx.exchange.scheduler import serve as serve_forever
    from jnx.ops.health import readiness_probe
    from jnx.ops.listener import ops_app, serve_in_thread, stop_server
    from jnx.ops.logs import configure as configure_logs
    from jnx.ops.metrics import ProcessMetrics, database_collector, exposition, registry_of
    from jnx.publicity.deliverer import Deliverer
    from jnx.publicity.outbox import DeliverySummary

    settings = load_settings()
    level = settings.log_level.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(f"JNX_LOG_LEVEL={level!r} is not a log level", hint="use DEBUG, INFO, WARNING or ERROR")
    configure_logs(settings.log_format, os.environ, level=level, text_handler=True)  # no secret, no full ID number
    with exchange() as ex:
        ex.worker_id = f"{socket.gethostname()}-{os.getpid()}"
        api = web_in_thread(ex.settings, ex.engine, web_host, web) if web is not None else None
        seen = ProcessMetrics()

        def passed(wired: Any, summary: DeliverySummary) -> None:
            seen.delivery_pass(wired.system_id, TrafficCounts(summary.request_retries, summary.line_switches,
                                                              summary.retry_after_waits, summary.waited_seconds))
            if wired.adapters.lines is not None:
                seen.lines_seen(wired.system_id, wired.adapters.lines.report())

        deliverer = Deliverer(lambda: credit_delivery(ex.settings, ex.engine, ex.environment,
                                                      worker_id=f"{ex.worker_id}-outbox"),
                              every=deliver_every, on_pass=passed)

        def ran(summary: RunSummary) -> None:
            seen.lines_seen(summary.system_id, summary.lines)
            if summary.counts.new or summary.counts.revised:
                deliverer.wake()  # its disclosures go out now, not at the next interval

        listener = None
        if metrics_port is not None:
            probe = readiness_probe(ex.engine.url, ex.settings.home, os.environ.get(ex.settings.key_passphrase_env))
            metrics = registry_of(database_collector(ex.engine, ex.settings.home / "calendar"), seen)
            listener = serve_in_thread(ops_app(probe, exposition(metrics)), metrics_host, metrics_port, name="jnx-metrics")
        typer.echo(f"jnx serve: {workers} worker(s) as {ex.worker_id}"
                   + (f", API on http://{web_host}:{web}" if web is not None else "")
                   + (f", metrics on http://{metrics_host}:{metrics_port}/metrics" if metrics_port is not None else "")
                   + ("" if deliver else ", outbox not delivered (--no-deliver)") + "; SIGTERM or Ctrl-C stops", err=True)
        try:
            from jnx.ops.serving import serve_operations

            with serve_operations(ex, workers, threading.Event()) as operations:  # registry, alerts, NOTIFY, fair claims
                if deliver:
                    operations["loops"] = [*operations["loops"], deliverer.loop,  # the 双公示 outbox, woken by NOTIFY too
                                           operations["wakeup"].relay("deliveries", deliverer.wake)]
                serve_forever(ex, workers=workers, tick=tick, on_summary=ran, **operations)
        finally:
            for server in (api, listener):
                if server is not None:
                    stop_server(server)
    typer.echo("jnx serve: stopped", err=True)


def web_in_thread(settings: Settings, engine: Any, host: str, port: int) -> Any:
    """The web app (API and console) under uvicorn in a thread of this process, which keeps the
    signals; a port in use is exit 3 at once, not a thread failing later. The uvicorn server
    (``should_exit = True`` stops it)."""
    from jnx.ops.listener import check_port, serve_in_thread
    from jnx.web.app import create_app

    check_port(host, port)
    return serve_in_thread(create_app(settings, engine=engine), host, port, name="jnx-web")


def demo(
    records: Annotated[int, typer.Option(min=10, max=200_000, help="Records per sandbox platform.")] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Seed of the sandbox data (same seed, same data).")] = 1,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the previous demo database instead of starting afresh.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The whole exchange against sandbox platforms on loopback: pull, map, store, derive 双公示, push, sum up."""
    from jnx.demo import DemoOptions, render, run_demo

    def say(line: str) -> None:
        typer.echo(line, err=True)

    summary = run_demo(DemoOptions(records=records, seed=seed, keep=keep), load_settings(), say)
    emit(summary, as_json, lambda d: render(d, typer.echo))


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)
    root.command("serve")(serve)
    root.command("run")(run)
    root.command("replay")(replay)
    root.add_typer(runs_app, name="runs")
    root.add_typer(errors_app, name="errors")
