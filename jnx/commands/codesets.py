"""``jnx codesets …`` — Code sets (代码集) and identifier validators.

``list`` and ``show`` describe the shipped code sets and validators; ``check`` judges one value and
exits 0 (valid), 1 (invalid, with the reason and rule) or 3 (unknown name, listing the known ones).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from jnx.codesets.catalogue import catalogue, describe, judge
from jnx.commands._output import JsonOption, emit
from jnx.security.masking import mask_id_number

app = typer.Typer(help="Code sets (代码集) and identifier validators.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="A code set (e.g. penalty_type, region) or validator (uscc, id_number, org_code, amount_wan, date).")]
OnOption = Annotated[
    dt.datetime | None,
    typer.Option(
        "--on",
        formats=["%Y-%m-%d"],
        help="The record's date (YYYY-MM-DD): use the version in force then. Default: a code set's latest version; today (Beijing) for validators.",
    ),
]
BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

PERSONAL_CHECKS = {"id_number"}
"""Checks whose values are personal data: shown masked, never in clear."""


def _span(start: Any, end: Any) -> str:
    return f"{start or '…'} – {end or '…'}"


def _render_catalogue(data: dict[str, Any]) -> None:
    for cs in data["codesets"]:
        typer.echo(f"{cs['name']:<27} {cs['title']}  ({cs['title_en']})")
        for v in cs["versions"]:
            typer.echo(f"    {v['version']:<16} {_span(v['valid_from'], v['valid_to']):<26} {v['entries']} codes")
    typer.echo("\nvalidators:")
    for v in data["validators"]:
        typer.echo(f"{v['name']:<27} {v['title']}  ({v['title_en']})")


def _render_description(data: dict[str, Any]) -> None:
    typer.echo(f"{data['name']}  {data['title']}  ({data['title_en']})")
    if data["kind"] == "validator":
        typer.echo(data["description"])
        typer.echo("rules: " + ", ".join(data["rules"]))
        return
    version = data["version"]
    typer.echo(f"version {version['version']}, {_span(version['valid_from'], version['valid_to'])}; source: {version['source']}")
    for e in data["entries"]:
        notes = []
        if e["match"] == "prefix":
            notes.append("followed by free text")
        if e["valid_from"] or e["valid_to"]:
            notes.append("valid " + _span(e["valid_from"], e["valid_to"]))
        if e["in_force"] is False:
            notes.append("NOT in force on that date")
        if e["replaced_by"]:
            notes.append(f"replaced by {e['replaced_by']}")
        if e["aliases"]:
            notes.append("also " + ", ".join(e["aliases"]))
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        typer.echo(f"  {e['code']:<8} {e['label']}{suffix}")


def _render_judgement(data: dict[str, Any]) -> None:
    if data["ok"]:
        typer.echo(f"valid: {data['shown']} ({data['name']})")
    else:
        typer.echo(f"invalid: {data['reason']} [{data['rule']}]")
    for warning in data["warnings"]:
        typer.echo(f"warning: {warning['reason']} [{warning['rule']}]")


@app.command("list")
def list_codesets(as_json: JsonOption = False) -> None:
    """List every code set with its versions and dates, and the validators."""
    emit(catalogue(), as_json, _render_catalogue)


@app.command("show")
def show(name: NameArgument, on: OnOption = None, as_json: JsonOption = False) -> None:
    """Show the version of a code set in force on a date and its entries (or a validator's rules)."""
    emit(describe(name, on.date() if on else None), as_json, _render_description)


@app.command("check")
def check(
    name: NameArgument,
    value: Annotated[str, typer.Argument(help="The value to check, e.g. 通报批评 or 91370800MA3C00011N.")],
    on: OnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check one value against a code set or validator: exit 0 valid, 1 invalid, 3 unknown name."""
    result = judge(name, value, on.date() if on else None, today=dt.datetime.now(BEIJING).date())
    result["shown"] = mask_id_number(value) if name in PERSONAL_CHECKS else value
    emit(result, as_json, _render_judgement)
    if not result["ok"]:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="codesets")
