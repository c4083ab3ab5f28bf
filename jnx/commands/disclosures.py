"""``jnx disclosures …`` (双公示) and ``jnx reconcile credit``: list, show, withdraw, deliver, recompute
deadlines, reconcile with the credit platform. Thin: each parses, calls one library function, prints."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

import typer

from jnx.adapters.config import MappingSecrets
from jnx.commands._context import load_settings, open_engine, os_context, record_audit, transaction
from jnx.commands._credit import credit_delivery, credit_platform
from jnx.commands._output import JsonOption, emit
from jnx.commands.exchange import progress_bar
from jnx.errors import InputError
from jnx.exchange.runs import beijing_today
from jnx.publicity.actions import expire_displays, recompute_deadlines, withdraw
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.enforcement import late_items
from jnx.publicity.reconcile import reconcile_credit
from jnx.publicity.repair import repair
from jnx.publicity.views import list_reviews, mark_reviewed, show_disclosure
from jnx.settings import Settings
from jnx.store.models import DisclosureStatus

app = typer.Typer(help="双公示 disclosures: list, show, withdraw, deliver to the credit platform.", no_args_is_help=True)
reconcile_app = typer.Typer(help="Reconcile jnx with the platforms it feeds (对账).", no_args_is_help=True)

DisclosureId = Annotated[int, typer.Argument(help="The disclosure's id (`jnx disclosures list`).")]
SystemOption = Annotated[str | None, typer.Option("--system", help="The credit system's id (default: the one registered).")]


def _calendar(settings: Settings) -> WorkdayCalendar:
    return WorkdayCalendar.load(settings.home / "calendar")


def _render_list(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("no disclosures match")
        return
    for r in rows:
        flags = (" provisional" if r["provisional"] else "") + (" OVERDUE" if r["overdue"] else "")
        typer.echo(f"{r['id']:>7} {r['kind']:<8} {r['status']:<10} due {r['deadline']}{flags}  {r['business_key']}")


@app.command("list")
def list_(
    status: Annotated[DisclosureStatus | None, typer.Option("--status", help="Only disclosures in this status.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past their due date and not yet done.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, max=1_000_000, help="At most this many (default: all).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List disclosures: id, kind, status, deadline (provisional?), business key — every page of
    GET /api/v1/disclosures (or the first --limit); with --overdue also the 执法公示 of 行政强制 /
    行政检查 records that reached jnx after their 20 working days."""
    from jnx.services.disclosures import disclosure_page

    items: list[dict[str, Any]] = []
    settings = load_settings()
    with transaction(settings) as session:
        ctx, cursor = os_context(session, settings), None
        while True:
            want = 1000 if limit is None else min(1000, limit - len(items))
            page = disclosure_page(ctx, status=status, overdue=overdue, limit=want, cursor=cursor, today=beijing_today())
            items += page["disclosures"]
            cursor = page["next_cursor"]
            if cursor is None or (limit is not None and len(items) >= limit):
                break
        data: dict[str, Any] = {"disclosures": items, "count": len(items)}
        if overdue:
            data["enforcement_publicity"] = late_items(session, limit or 1000)
    emit(data, as_json, _render_listing)


def _render_listing(d: dict[str, Any]) -> None:
    _render_list(d["disclosures"])
    late = d.get("enforcement_publicity")
    if late:
        typer.echo(f"执法公示 late (20 working days): {len(late)}")
        for e in late:
            typer.echo(f"{e['id']:>7} {e['record_type']:<20} due {e['deadline']} reached jnx {e['received_on']}  {e['business_key']}")


def _render_one(d: dict[str, Any]) -> None:
    typer.echo(f"disclosure {d['id']}: {d['kind']} {d['business_key']} — {d['status']}"
               + (" (OVERDUE)" if d["overdue"] else ""))
    typer.echo(f"  decided {d['decision_date']}, due {d['deadline']}{' (provisional)' if d['provisional'] else ''}; "
               f"displayed at least until {d['display_shortest_until']}, at most until {d['display_until']}")
    if d.get("agency_level"):
        typer.echo(f"  agency level: {d['agency_level']}")
    if d.get("repaired_on"):
        typer.echo(f"  信用修复 granted {d['repaired_on']}: {d['repair_reason']}")
    typer.echo(f"  basis: {d['deadline_basis']}")
    for problem in d["problems"] or []:
        typer.echo(f"  problem: {problem['field']} [{problem['rule']}] {problem['message']}")
    for note in d.get("review") or []:
        typer.echo(f"  to review (revision {note['revision']}): [{note['rule']}] {note['message']}")
    for r in d["revisions"]:
        typer.echo(f"  revision {r['revision']} {r['action']} due {r['due_date']} key {r['idempotency_key']}"
                   + (f" — {r['reason']}" if r["reason"] else ""))
        for delivery in r["deliveries"]:
            receipt = delivery["receipt"] or {}
            typer.echo(f"    delivery {delivery['id']}: {delivery['status']} after {delivery['attempts']} attempt(s)"
                       + (f", receipt {receipt.get('receipt_id')} record {receipt.get('record_id')}" if receipt else "")
                       + (f" — {delivery['error']}" if delivery["error"] else ""))


@app.command("show")
def show(disclosure_id: DisclosureId, as_json: JsonOption = False) -> None:
    """One disclosure: its revisions, deliveries and receipts."""
    with transaction(load_settings()) as session:
        data = show_disclosure(session, disclosure_id, beijing_today())
    emit(data, as_json, _render_one)


@app.command("reviews")
def reviews(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000_000, help="At most this many.")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """Disclosures that went out (masked) with something a person should check: a natural person's
    address masked in 违法事实 or another free-text field."""
    with transaction(load_settings()) as session:
        items = list_reviews(session, today=beijing_today(), limit=limit)
    emit({"disclosures": items, "count": len(items)}, as_json, _render_reviews)


def _render_reviews(d: dict[str, Any]) -> None:
    if not d["disclosures"]:
        typer.echo("nothing to review")
    for r in d["disclosures"]:
        typer.echo(f"{r['id']:>7} {r['kind']:<8} {r['status']:<10} {r['business_key']}")
        for note in r["review"]:
            typer.echo(f"          revision {note['revision']} [{note['rule']}] {note['message']}")


@app.command("reviewed")
def reviewed(
    disclosure_id: DisclosureId,
    note: Annotated[str, typer.Option("--note", help="What was checked and found (e.g. 地址已完整遮蔽).")],
    as_json: JsonOption = False,
) -> None:
    """Mark a disclosure's review findings done (audited, with the note and the findings cleared)."""
    if not note.strip():
        raise InputError("--note is empty", hint="say what was checked, e.g. --note 地址已完整遮蔽")
    with transaction(load_settings()) as session:
        disclosure, cleared = mark_reviewed(session, disclosure_id)
        record_audit(session, "disclosure.reviewed", f"disclosure:{disclosure_id}",
                     {"note": note, "cleared": [{k: n.get(k) for k in ("field", "rule", "revision")} for n in cleared]})
        data = {"id": disclosure.id, "cleared": len(cleared)}
    emit(data, as_json, lambda d: typer.echo(f"disclosure {d['id']}: {d['cleared']} finding(s) marked reviewed"))


@app.command("withdraw")
def withdraw_(
    disclosure_id: DisclosureId,
    reason: Annotated[str, typer.Option("--reason", help="Why: 决定被撤销, 确认违法, 信用修复 …")],
    as_json: JsonOption = False,
) -> None:
    """Withdraw (撤下) a disclosure: queued for the platform, due in 3 working days."""
    settings = load_settings()
    with transaction(settings) as session:
        disclosure = withdraw(session, disclosure_id, reason, _calendar(settings), beijing_today())
        record_audit(session, "disclosure.withdraw", f"disclosure:{disclosure_id}", {"reason": reason})
        data = {"id": disclosure.id, "status": disclosure.status.value, "revision": disclosure.current_revision}
    emit(data, as_json, lambda d: typer.echo(f"disclosure {d['id']}: withdrawal queued as revision {d['revision']}"
                                             if d["status"] != "withdrawn" else f"disclosure {d['id']}: withdrawn (it had not been sent)"))


@app.command("repair")
def repair_(
    disclosure_id: DisclosureId,
    reason: Annotated[str, typer.Option("--reason", help="The decision that granted 信用修复 (its number, who granted it).")],
    on: Annotated[str | None, typer.Option("--on", help="The day it was granted, YYYY-MM-DD (default today).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Before the shortest display period ends (the reason must say why).")] = False,
    from_platform: Annotated[bool, typer.Option("--from-platform", help="The platform granted it and stopped showing "
                                                 "the record (停止公示 notice): record it, push nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """信用修复: withdraw a penalty for good (later source edits do not bring it back); audited."""
    try:
        granted = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise InputError(f"--on {on!r} is not a date", hint="write it YYYY-MM-DD") from None
    settings = load_settings()
    with transaction(settings) as session:
        disclosure = repair(session, disclosure_id, reason, _calendar(settings), beijing_today(), granted_on=granted,
                            force=force, by_platform=from_platform)
        record_audit(session, "disclosure.repair", f"disclosure:{disclosure_id}",
                     {"reason": reason, "granted_on": str(disclosure.repaired_on), "force": force, "from_platform": from_platform})
        data = {"id": disclosure.id, "status": disclosure.status.value, "revision": disclosure.current_revision,
                "repaired_on": disclosure.repaired_on}
    emit(data, as_json, lambda d: typer.echo(f"disclosure {d['id']}: repaired on {d['repaired_on']} — "
                                             + ("withdrawn" if d["status"] == "withdrawn" else f"withdrawal queued as revision {d['revision']}")))


@app.command("deliver")
def deliver(
    system: SystemOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000_000, help="Claim at most this many deliveries.")] = 10_000,
    as_json: JsonOption = False,
) -> None:
    """Push what is due now to the credit platform (for cron); exit 0 even when some were rejected."""
    settings = load_settings()
    with open_engine(settings) as engine, credit_delivery(settings, engine, os.environ, system=system) as wired, \
            progress_bar(not as_json) as bar:
        summary = wired.deliver(limit, progress=bar)
    emit(summary.as_dict(), as_json,
         lambda d: typer.echo(f"claimed {d['claimed']}: {d['acknowledged']} acknowledged, {d['rejected']} rejected, "
                              f"{d['retried']} to retry, {d['failed']} failed, {d['superseded']} superseded"
                              + (f"; {d['request_retries']} request(s) retried ({d['line_switches']} on another line, "
                                 f"{d['retry_after_waits']} after Retry-After)" if d["request_retries"] else "")))


@app.command("recompute-deadlines")
def recompute(as_json: JsonOption = False) -> None:
    """Count provisional deadlines again, after a year's official schedule was loaded."""
    settings = load_settings()
    with transaction(settings) as session:
        changed = recompute_deadlines(session, _calendar(settings))
        rows = [{"id": c.disclosure_id, "old": c.old, "new": c.new, "provisional": c.provisional} for c in changed]

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"{d['count']} deadline(s) changed")
        for r in d["changed"]:
            typer.echo(f"  {r['id']}: {r['old']} → {r['new']}{' (still provisional)' if r['provisional'] else ''}")

    emit({"changed": rows, "count": len(rows)}, as_json, render)


@app.command("expire")
def expire(as_json: JsonOption = False) -> None:
    """Mark published disclosures whose display period (公示截止期) is over as expired (for cron)."""
    with transaction(load_settings()) as session:
        count = expire_displays(session, beijing_today())
    emit({"expired": count}, as_json, lambda d: typer.echo(f"{d['expired']} disclosure(s) expired"))


@reconcile_app.command("credit")
def reconcile_credit_(system: SystemOption = None, as_json: JsonOption = False) -> None:
    """Compare what the credit platform holds (hand-filed records too) with jnx's disclosures."""
    settings = load_settings()
    credit = credit_platform(settings, system)
    with open_engine(settings) as engine, progress_bar(not as_json) as bar:
        report = reconcile_credit(engine, credit, MappingSecrets(dict(os.environ)), progress=bar).as_dict()

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"platform holds {d['platform_records']}, jnx has {d['disclosures']}: {d['matched']} matched "
                   f"({d['linked']} linked now, {len(d['differs'])} with different content), {d['requeued']} requeued, "
                   f"{d['republished']} published again, {d['platform_only_count']} on the platform only")
        for department, rows in d["platform_only"].items():
            typer.echo(f"  {department}: {len(rows)} on the platform only")

    emit(report, as_json, render)


def register(root: typer.Typer) -> None:
    """Add this module's commands and groups to the root app."""
    root.add_typer(app, name="disclosures")
    root.add_typer(reconcile_app, name="reconcile")
