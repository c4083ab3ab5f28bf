"""``jnx standard …`` — The Jining data standard: export its schemas, validate records, list elements."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from jnx.commands._output import JsonOption, emit
from jnx.errors import InputError
from jnx.standard import default_dictionary
from jnx.standard.export import ExportFormat, export
from jnx.standard.inputs import DEFAULT_MAX_BYTES
from jnx.standard.service import validate_records

app = typer.Typer(help="The Jining data standard: export its schemas, validate records.", no_args_is_help=True)


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--on {value!r} is not a date", hint="write it as YYYY-MM-DD") from None


@app.command("export")
def export_command(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="xsd, jsonschema or markdown.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,  # noqa: UP007
) -> None:
    """Write the standard's XSD, JSON Schema or Markdown data dictionary (generated from the dictionary)."""
    text = export(fmt)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(help="A JSON or XML record file.")],
    record_type: Annotated[str | None, typer.Option("--record-type", "-t", help="Record type of records that do not name one.")] = None,  # noqa: UP007
    on: Annotated[str | None, typer.Option("--on", help="Validation day YYYY-MM-DD (default today).")] = None,  # noqa: UP007
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, max=2**40, help="Refuse files larger than this.")] = DEFAULT_MAX_BYTES,
    as_json: JsonOption = False,
) -> None:
    """Validate every record of FILE; exit 0 if valid, 1 if not (every failing field listed), 2 if unusable."""
    report = validate_records(file, record_type=record_type, today=_date(on), max_bytes=max_bytes)

    def render(_: Any) -> None:
        for issue in report.issues:
            typer.echo(f"record {issue.record_index} ({issue.record_type}): {issue.describe()}")
        for warning in report.warnings:
            typer.echo(f"record {warning.record_index} ({warning.record_type}): warning: {warning.describe()}")
        bad = sum(1 for r in report.records if not r.ok)
        verdict = "valid" if report.ok else f"invalid: {bad} of {len(report.records)} record(s), {len(report.issues)} issue(s)"
        typer.echo(f"{report.source}: {len(report.records)} record(s), {verdict}")

    emit(report.to_dict(), as_json, render)
    if not report.ok:
        raise typer.Exit(1)


@app.command("elements")
def elements_command(
    record_type: Annotated[str | None, typer.Option("--record-type", "-t", help="Only the elements of this record type.")] = None,  # noqa: UP007
    as_json: JsonOption = False,
) -> None:
    """List the data element dictionary (or one record type's elements with their required-ness)."""
    dictionary = default_dictionary()
    if record_type is None:
        rows = [
            {"id": e.id, "field": e.field, "name_zh": e.name_zh, "name_en": e.name_en, "type": e.type.value, "max_length": e.max_length,
             "codeset": e.codeset, "publication": e.publication.value, "derives_from": e.derives_from}
            for e in sorted(dictionary.elements.values(), key=lambda e: e.id)
        ]
    else:
        rows = [
            {"id": u.element.id, "field": u.field, "name_zh": u.element.name_zh, "type": u.element.type.value, "codeset": u.element.codeset,
             "use": u.use.value, "rule": u.describe_use(), "publication": u.element.publication.value}
            for u in dictionary.record_type(record_type).uses
        ]

    def render(_: Any) -> None:
        for row in rows:
            extra = row.get("rule") or row.get("publication")
            typer.echo(f"{row['id']}  {row['field']:<36} {row['name_zh']}  [{row['type']}{'/' + str(row['codeset']) if row['codeset'] else ''}]  {extra}")

    emit({"record_type": record_type, "elements": rows}, as_json, render)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="standard")
