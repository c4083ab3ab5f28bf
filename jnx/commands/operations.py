"""``jnx alerts`` (list, show, check) and ``jnx status`` — for the operator. Thin: parse, call, print."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from jnx.commands._context import load_settings, open_engine, os_context
from jnx.commands._output import JsonOption, emit

app = typer.Typer(help="Alerts: a late system, a line down, a stale outbox, a 双公示 deadline near, the audit chain "
                       "broken, a key due for rotation — open ones first (docs/operations.md).")

@contextmanager
def _reading() -> Iterator[tuple[Session, Any]]:
    """A plain read session (no write lock: these commands change nothing, and never wait behind `jnx serve`)."""
    from jnx.store.db import session_factory

    settings = load_settings()
    with open_engine(settings) as engine, session_factory(engine)() as session:
        yield session, settings


#: exit code of `jnx alerts check` when alerts are open (cron sites page on it); 0 when none
EXIT_ALERTS_OPEN = 1


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.0f}m" if seconds >= 60 else f"{seconds:.0f}s"


def _when(value: Any) -> str:
    """An instant to the second, in UTC as stored (``--json`` keeps the full ISO text)."""
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    return "—" if value is None else str(value)


def _render_alerts(data: dict[str, Any]) -> None:
    if not data["alerts"]:
        typer.echo("no open alert (`jnx alerts --all` shows the resolved ones too)")
    for a in data["alerts"]:
        when = f"resolved {_when(a['resolved_at'])}" if a["resolved_at"] else f"since {_when(a['opened_at'])}"
        acked = f", acknowledged by {a['acknowledged_by']}: {a['acknowledged_note']}" if a["acknowledged_at"] else ""
        typer.echo(f"#{a['id']:<5} {a['severity']:<8} {a['kind']:<14} {a['summary']} ({when}{acked})")


@app.callback(invoke_without_command=True)
def alerts(ctx: typer.Context,
           include_resolved: Annotated[bool, typer.Option("--all", help="Also the latest resolved alerts.")] = False,
           limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 200,
           as_json: JsonOption = False) -> None:
    """The open alerts, critical first (with --all the resolved ones after them)."""
    if ctx.invoked_subcommand is not None:
        return
    from jnx.services.operations import list_alerts

    with _reading() as (session, settings):
        data = list_alerts(os_context(session, settings), include_resolved=include_resolved, limit=limit)
    emit(data, as_json, _render_alerts)


@app.command("show")
def show(alert_id: Annotated[int, typer.Argument(help="The alert's id (`jnx alerts`).")], as_json: JsonOption = False) -> None:
    """One alert with its details and every notification attempt (webhook, e-mail)."""
    from jnx.services.operations import show_alert

    with _reading() as (session, settings):
        data = show_alert(os_context(session, settings), alert_id)

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"alert #{d['id']} {d['state']} {d['severity']} {d['kind']} {d['subject']}")
        typer.echo(f"  {d['summary']}")
        typer.echo(f"  opened {_when(d['opened_at'])}, updated {_when(d['updated_at'])}"
                   + (f", resolved {_when(d['resolved_at'])}" if d["resolved_at"] else ""))
        for key, value in d["details"].items():
            typer.echo(f"  {key}: {value}")
        for n in d["attempts"]:
            typer.echo(f"  {_when(n['at'])} {n['event']} via {n['channel']} to {n['target']}, attempt {n['attempt']}: "
                       f"{'ok' if n['ok'] else 'failed'} — {n['answer']}")

    emit(data, as_json, render)


@app.command("ack")
def ack(alert_id: Annotated[int, typer.Argument(help="The open alert's id (`jnx alerts`).")],
        note: Annotated[str, typer.Option("--note", help="Who is on it and what is done (kept with the alert, audited).")],
        as_json: JsonOption = False) -> None:
    """Acknowledge an open alert: someone is on it. It stays open until its cause ends, but `jnx alerts check`
    no longer counts it as unattended; audited as alert.acknowledged."""
    from jnx.commands._context import record_audit, transaction
    from jnx.errors import InputError
    from jnx.services.operations import acknowledge_alert

    if not note.strip():
        raise InputError("--note is empty", hint="say who is on it: --note 'Li Si called the department, back at 14:00'")
    settings = load_settings()
    with transaction(settings) as session:
        data = acknowledge_alert(os_context(session, settings), alert_id, note=note)
        record_audit(session, "alert.acknowledged", f"alert:{alert_id}", {"kind": data["kind"], "subject": data["subject"],
                                                                            "note": note})
    emit(data, as_json, lambda d: typer.echo(f"alert #{d['id']} acknowledged by {d['acknowledged_by']}: {d['acknowledged_note']}"))


@app.command("check")
def check(as_json: JsonOption = False) -> None:
    """Evaluate every enabled alert now, open and resolve alerts, send their notifications — the pass `jnx serve`
    makes every JNX_ALERTS__INTERVAL_SECONDS, for sites that run it from cron. Exit 1 while alerts are open
    and not acknowledged."""
    from jnx.ops.alerts import list_alerts
    from jnx.ops.watch import AlertWatch
    from jnx.store.db import session_factory

    settings = load_settings()
    with open_engine(settings) as engine:
        evaluation = AlertWatch.build(settings, engine, os.environ).check()
        with session_factory(engine)() as session:
            still_open = list_alerts(session)
    data = {"evaluation": evaluation.as_dict() if evaluation else None, "alerts": still_open}

    def render(d: dict[str, Any]) -> None:
        e = d["evaluation"]
        if e is None:
            typer.echo("another jnx process is evaluating the alerts right now; nothing done")
        else:
            typer.echo(f"checked {', '.join(e['checked']) or 'nothing (every alert is disabled)'}: "
                       f"{len(e['opened'])} opened, {len(e['updated'])} still open, {len(e['resolved'])} resolved; "
                       f"notifications {e['notifications']}")
            for kind, reason in e["failed_checks"].items():
                typer.echo(f"  check {kind} could not run: {reason}", err=True)
        _render_alerts(d)

    emit(data, as_json, render)
    if any(a["acknowledged_at"] is None for a in still_open):
        raise typer.Exit(EXIT_ALERTS_OPEN)


def status(as_json: JsonOption = False) -> None:
    """One screen for the operator: workers, runs in flight, late systems, the backlog, open alerts."""
    from jnx.services.operations import operator_status

    with _reading() as (session, settings):
        data = operator_status(os_context(session, settings))
    emit(data, as_json, render_status)


def render_status(d: dict[str, Any]) -> None:
    typer.echo(f"jnx status at {_when(d['at'])}")
    typer.echo(f"workers ({len(d['workers'])}):" if d["workers"] else "workers: none registered (is `jnx serve` running?)")
    for w in d["workers"]:
        runs = ", ".join(f"run #{r['run']} {r['system']}" for r in w["runs"]) or "idle"
        typer.echo(f"  {w['id']:<28} {w['state']:<7} jnx {w['version']}, {w['threads']} thread(s), "
                   f"heartbeat {_age(w['heartbeat_age_seconds'])} ago — {runs}")
    typer.echo(f"runs in flight ({len(d['runs_in_flight'])}):" if d["runs_in_flight"] else "runs in flight: none")
    for r in d["runs_in_flight"]:
        stale = " LEASE EXPIRED (worker lost?)" if r["lease_expired"] else ""
        typer.echo(f"  #{r['run']:<6} {r['system']:<24} {_age(r['seconds'])}: pulled {r['pulled']}, staged {r['staged']}, "
                   f"new {r['new']}, revised {r['revised']}, errors {r['errors']} — {r['worker']}{stale}")
    typer.echo(f"late systems ({len(d['late_systems'])}):" if d["late_systems"] else "late systems: none")
    for s in d["late_systems"]:
        typer.echo(f"  {s['summary']}")
    outbox, queued = d["backlog"]["outbox"], d["backlog"]["runs_queued"]
    typer.echo(f"backlog: outbox {outbox['depth']} waiting ({outbox['due_now']} due now, oldest {_age(outbox['oldest_age_seconds'])}), "
               f"{outbox['held']} held, {outbox['failed']} failed, {outbox['rejected']} rejected; {queued['count']} run(s) queued")
    typer.echo(f"open alerts ({len(d['alerts'])}):" if d["alerts"] else "open alerts: none")
    for a in d["alerts"]:
        acked = f" (acknowledged by {a['acknowledged_by']})" if a["acknowledged_at"] else ""
        typer.echo(f"  #{a['id']:<5} {a['severity']:<8} {a['summary']}{acked}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="alerts")
    root.command("status")(status)
