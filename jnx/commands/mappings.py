"""``jnx mappings …`` — Versioned mapping tables: validate, list, show, diff, test, publish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from jnx.commands._output import JsonOption, dumps, emit
from jnx.mappings.diff import diff_tables
from jnx.mappings.model import MappingContext
from jnx.mappings.registry import TableRegistry, parse_ref
from jnx.mappings.samples import ENCODINGS
from jnx.mappings.service import SampleRun, map_samples, open_registry, validate_tables
from jnx.services import mappings as tables
from jnx.settings import Settings

app = typer.Typer(help="Versioned mapping tables: validate, list, show, diff, test, publish.", no_args_is_help=True)


def _registry() -> TableRegistry:
    return open_registry(Settings().home / "mappings")


def _os() -> Any:
    """The OS user's service context (no database: the tables are files of the home folder)."""
    from jnx.commands._context import cli_actor
    from jnx.services.context import Actor, ServiceContext

    return ServiceContext(session=None, settings=Settings(), actor=Actor.os_user(cli_actor()))  # type: ignore[arg-type]


@app.command("validate")
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Table files to check (default: every published table).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check tables: fields, transforms, code sets, codes, and that published versions are unchanged."""
    results = validate_tables(_registry(), paths or [])

    def render(items: list[dict[str, Any]]) -> None:
        for item in items:
            typer.echo(f"ok      {item['table']}  {item['path']}" if item["ok"] else f"FAILED  {item['path']}")
            for problem in item["problems"]:
                typer.echo(f"  {problem}")

    emit([{"path": r.path, "table": r.table, "ok": r.ok, "problems": list(r.problems)} for r in results], as_json, render)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command("list")
def list_tables(as_json: JsonOption = False) -> None:
    """List published tables and versions, with their content hashes."""
    rows = tables.list_tables(_os(), _registry())

    def render(items: dict[str, list[dict[str, Any]]]) -> None:
        for row in items["tables"]:
            typer.echo(f"{row['table']:<40} {(row['hash'] or 'unpublished')[:12]}  {row['path']}")

    emit(rows, as_json, render)


@app.command("show")
def show(table: Annotated[str, typer.Argument(help="NAME or NAME@VERSION (default: the latest).")], as_json: JsonOption = False) -> None:
    """Show a table: header and one line per field (source and transforms)."""
    registry = _registry()
    loaded = registry.load(*parse_ref(table))

    def render(_: Any) -> None:
        typer.echo(f"{loaded.ref}  hash {loaded.content_hash}")
        typer.echo(f"{loaded.direction.value}: {loaded.source_kind} {loaded.source_record} → {loaded.target}")
        typer.echo(f"effective from {loaded.effective_from}; code sets: "
                   + ", ".join(f"{k} {'/'.join(v)}" for k, v in loaded.codesets.items()))
        typer.echo(loaded.description.strip())
        for rule in loaded.fields:
            steps = " → ".join(s.name for s in rule.steps) or "as is"
            typer.echo(f"  {rule.target:<34} ← {rule.source:<24} {steps}")

    emit(tables.show_table(_os(), table, registry), as_json, render)


@app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="NAME@A")],
    new: Annotated[str, typer.Argument(help="NAME@B")],
    as_json: JsonOption = False,
) -> None:
    """What changed between two versions: fields added, removed, changed, codes re-translated."""
    registry = _registry()
    result = diff_tables(registry.load(*parse_ref(old)), registry.load(*parse_ref(new)))

    def render(_: Any) -> None:
        d = result
        typer.echo(f"{d.old} → {d.new}" + ("  (no differences)" if d.empty else ""))
        for change in d.header:
            typer.echo(f"  header {change.aspect}: {dumps(change.before)} → {dumps(change.after)}")
        for name in d.added:
            typer.echo(f"  + {name}")
        for name in d.removed:
            typer.echo(f"  - {name}")
        for change in d.changed:
            typer.echo(f"  ~ {change.field} {change.aspect}: {dumps(change.before)} → {dumps(change.after)}")
        for code in d.codes:
            typer.echo(f"  code {code.field} {code.source_value!r}: {code.before or '—'} → {code.after or '—'} ({code.kind})")

    emit(tables.diff(_os(), old, new, registry), as_json, render)


def _shown(run: SampleRun) -> dict[str, Any]:
    """The sample run as printed: records with personal ID numbers masked, issues as they are (masked already)."""
    return tables.shown_samples(run)


@app.command("test")
def test(
    table: Annotated[str, typer.Argument(help="NAME@VERSION of the table (NAME alone: its latest version).")],
    sample: Annotated[Path, typer.Argument(help="Source records: .json (one or an array), .jsonl or .csv.")],
    department_name: Annotated[str | None, typer.Option(help="Setting department_name of the source system.")] = None,
    department_credit_code: Annotated[str | None, typer.Option(help="Setting department_credit_code.")] = None,
    region_code: Annotated[str | None, typer.Option(help="Setting region_code.")] = None,
    encoding: Annotated[str, typer.Option(help=f"Sample file encoding: {', '.join(ENCODINGS)}.")] = "auto",
    as_json: JsonOption = False,
) -> None:
    """Map a file of sample source records; print each standard record and every error, never stopping."""
    compiled = _registry().compiled(*parse_ref(table))
    context = MappingContext(department_name=department_name, department_credit_code=department_credit_code,
                             region_code=region_code)
    run = map_samples(compiled, sample, context, dt.date.today(), encoding)

    def render(shown: dict[str, Any]) -> None:
        for outcome, printed in zip(run.outcomes, shown["outcomes"], strict=True):
            status = "ok" if not outcome.issues else f"{len(outcome.issues)} error(s)"
            typer.echo(f"{outcome.where}: {status}")
            typer.echo(f"  {dumps(printed['record'])}")
            for issue in outcome.issues:
                typer.echo(f"  ! {issue}")
        typer.echo(f"{len(run.outcomes)} record(s), {run.failed} with errors, table {run.table} ({run.content_hash[:12]})")

    emit(_shown(run), as_json, render)
    if run.failed:
        raise typer.Exit(1)


@app.command("publish")
def publish(file: Annotated[Path, typer.Argument(help="The table file to publish.")], as_json: JsonOption = False) -> None:
    """Publish a table as a new version; other content under a published NAME@VERSION is refused."""
    outcome = _registry().publish(file)
    if outcome.status == "published":
        _audit_publication(str(outcome.table.ref), outcome.table.content_hash)
    emit({"table": str(outcome.table.ref), "hash": outcome.table.content_hash, "status": outcome.status,
          "path": str(outcome.path)}, as_json,
         lambda d: typer.echo(f"{d['status']}: {d['table']} ({d['hash'][:12]}) at {d['path']}"))


def _audit_publication(table: str, content_hash: str) -> None:
    """A publication goes to the audit chain; without an initialised database it is said, not hidden."""
    from jnx.commands._context import audit, open_engine
    from jnx.errors import JnxError

    try:
        with open_engine(Settings()) as engine:
            audit(engine, "mapping.published", table, {"hash": content_hash})
    except JnxError as exc:
        typer.echo(f"warning: the publication of {table} is not in the audit chain ({exc}); run `jnx init`", err=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mappings")
