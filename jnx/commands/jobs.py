"""``jnx jobs list|show``: the long actions started over the API or from the console (runs, replays,
deliveries, reconciliations) with their progress — the same rows every ``jnx web`` worker reads."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from jnx.commands._context import load_settings, open_engine, os_context
from jnx.commands._output import JsonOption, emit
from jnx.store.db import session_factory
from jnx.store.models import JobStatus

app = typer.Typer(help="Long actions (jobs) started over the API or from the console, with their progress.", no_args_is_help=True)


def _line(j: dict[str, Any]) -> str:
    size = f"{j['done']}/{j['total']}" if j["total"] else str(j["done"])
    return f"{j['id'][:12]}  {j['status']:<9} {j['kind']:<16} {size:>12}  {j['phase']}  ({j['owner']}, {j['created_at']})"


@app.command("list")
def list_(
    status: Annotated[JobStatus | None, typer.Option("--status", help="Only jobs in this status.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind: runs.start, errors.replay, deliveries.run …")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first (a page).")] = 50,
    cursor: Annotated[str | None, typer.Option("--cursor", help="next_cursor of the previous page.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Jobs newest first (the document of GET /api/v1/jobs; the OS user sees everyone's)."""
    from jnx.services import jobs

    settings = load_settings()
    with open_engine(settings) as engine, session_factory(engine, immediate=True).begin() as session:
        page = jobs.list_jobs(os_context(session, settings), status=status, kind=kind, limit=limit, cursor=cursor)

    def render(d: dict[str, Any]) -> None:
        if not d["jobs"]:
            typer.echo("no jobs: long actions started over the API or from the console show here")
        for j in d["jobs"]:
            typer.echo(_line(j))
        if d["next_cursor"]:
            typer.echo(f"more: --cursor {d['next_cursor']}")

    emit(page.model_dump(mode="json"), as_json, render)


@app.command("show")
def show(job_id: Annotated[str, typer.Argument(help="The job's id (`jnx jobs list`).")], as_json: JsonOption = False) -> None:
    """One job: status, phase, done/total, its result or error (GET /api/v1/jobs/ID)."""
    from jnx.services import jobs

    settings = load_settings()
    with open_engine(settings) as engine, session_factory(engine, immediate=True).begin() as session:
        found = jobs.show_job(os_context(session, settings), job_id.strip()[:32])

    def render(d: dict[str, Any]) -> None:
        typer.echo(_line(d))
        if d["note"]:
            typer.echo(f"  {d['note']}")
        for key, value in (d["result"] or {}).items():
            typer.echo(f"  {key}: {value}")
        if d["error"]:
            typer.echo(f"  error: {d['error']}" + (f" — {d['hint']}" if d["hint"] else ""))

    emit(found.model_dump(mode="json"), as_json, render)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="jobs")
