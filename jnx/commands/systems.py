"""``jnx systems …`` — source systems registered by departments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from jnx.commands._context import load_settings, record_audit, transaction
from jnx.commands._output import JsonOption, emit
from jnx.exchange.registry import RegisteredSystem, SystemRegistry, load_registration
from jnx.exchange.wiring import TableCatalog, table_catalog

app = typer.Typer(help="Source systems registered by departments.", no_args_is_help=True)

SystemId = Annotated[str, typer.Argument(help="The system's id, as in its registration file.")]


def _registry(session: Session) -> SystemRegistry:
    """The registry, with every change noted for the audit chain."""
    return SystemRegistry(on_change=lambda action, subject, details: record_audit(session, action, subject, details))


def _catalog() -> TableCatalog:
    """The mapping tables jnx knows (shipped and published under JNX_HOME)."""
    return table_catalog(load_settings())


def _render_one(system: dict[str, Any]) -> None:
    for key, value in system.items():
        typer.echo(f"{key:>24}: {value}")


def _render_list(systems: list[dict[str, Any]]) -> None:
    if not systems:
        typer.echo("no systems registered — `jnx systems register FILE` adds one")
        return
    for s in systems:
        state = "enabled " if s["enabled"] else "disabled"
        typer.echo(f"{s['id']:<28} {state} {s['kind']:<14} {s['protocol']:<8} {s['department']}")


@app.command("register")
def register_system(
    file: Annotated[Path, typer.Argument(help="Registration file (YAML); see docs/registration.md.", exists=False)],
    as_json: JsonOption = False,
) -> None:
    """Check a registration file offline and store it (re-registering updates the system)."""
    registration = load_registration(file, _catalog())
    from jnx.publicity.delivery import envelope_warnings

    with transaction(load_settings()) as session:
        system, action = _registry(session).register(session, registration)
        data = {**system.summary(), "action": action.value}
    warnings = envelope_warnings(system)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    emit({**data, "warnings": warnings} if warnings else data, as_json,
         lambda d: typer.echo(f"{d['action']}: system {d['id']} — {d['name']}"))


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """List registered systems."""
    with transaction(load_settings()) as session:
        systems = [s.summary() for s in _registry(session).list(session)]
    emit({"systems": systems} if as_json else systems, as_json, _render_list)


@app.command()
def show(system_id: SystemId, as_json: JsonOption = False) -> None:
    """Show one system and its registration."""
    with transaction(load_settings()) as session:
        system: RegisteredSystem = _registry(session).get(session, system_id)
        data = {**system.summary(), "registration": system.registration.model_dump(mode="json", by_alias=True)}
    emit(data, as_json, _render_one)


def _set_enabled(system_id: str, enabled: bool, as_json: bool) -> None:
    with transaction(load_settings()) as session:
        data = _registry(session).set_enabled(session, system_id, enabled).summary()
    emit(data, as_json, lambda d: typer.echo(f"system {d['id']} {'enabled' if d['enabled'] else 'disabled'}"))


@app.command()
def disable(system_id: SystemId, as_json: JsonOption = False) -> None:
    """Stop scheduling runs of a system (its data and watermark are kept)."""
    _set_enabled(system_id, False, as_json)


@app.command()
def enable(system_id: SystemId, as_json: JsonOption = False) -> None:
    """Schedule runs of a system again."""
    _set_enabled(system_id, True, as_json)


@app.command()
def check(system_id: SystemId, as_json: JsonOption = False) -> None:
    """Check a registered system: every line, the API/WSDL, credentials, and a sample pull mapped as a dry run."""
    import os

    from jnx.adapters.config import MappingSecrets
    from jnx.exchange.syscheck import check_system

    with transaction(load_settings()) as session:
        system = _registry(session).get(session, system_id)
    report = check_system(system, tables=_catalog(), secrets=MappingSecrets(dict(os.environ)))
    warnings = _check_envelopes(system, report.problems)

    def render(d: dict[str, Any]) -> None:
        typer.echo(f"system {d['system']}")
        for line in d["lines"]:
            mark = "ok  " if line["ok"] else "FAIL"
            latency = f"{line['latency_ms']:.0f} ms" if line["latency_ms"] is not None else "-"
            typer.echo(f"  [{mark}] line {line['name']:<8} {line['url']}  {latency}  {line['detail']}")
        for stream in d["streams"]:
            mark = "ok  " if stream["ok"] else "FAIL"
            typer.echo(f"  [{mark}] {stream['record_type']} via {stream['table']}: {stream['detail']}")
            for rule, count in stream["errors_by_rule"].items():
                typer.echo(f"         {count} × {rule}")
        for warning in d["warnings"]:
            typer.echo(f"warning: {warning}", err=True)
        if d["ok"]:
            typer.echo("the registration works")
        else:
            for problem in d["problems"]:
                typer.echo(f"problem: {problem}", err=True)

    emit({**report.as_dict(), "warnings": warnings}, as_json, render)
    if not report.ok:
        raise typer.Exit(1)


def _check_envelopes(system: RegisteredSystem, problems: list[str]) -> list[str]:
    """A credit system's envelopes: warned when it pushes in clear; a problem when it seals and jnx
    holds no platform encryption key or no signing key of that suite. The warnings."""
    if system.registration.kind.value != "credit":
        return []
    from jnx.errors import JnxError
    from jnx.publicity.delivery import envelope_warnings, peer_encryption_key, sends_in_clear
    from jnx.security.keys import KeyUse
    from jnx.security.keystore import KeyOwner, KeyState
    from jnx.security.operator import key_store

    if sends_in_clear(system):
        return envelope_warnings(system)
    settings = load_settings()
    try:
        keys = key_store(settings.home, None)
        recipient = peer_encryption_key(keys, system)
        if not any(r.owner is KeyOwner.JNX and r.use is KeyUse.SIG and r.state is KeyState.ACTIVE
                   and r.suite is recipient.suite for r in keys.records()):
            problems.append(f"envelopes: jnx has no active {recipient.suite.value} signing key to sign pushes "
                            f"(create one: jnx keys generate --suite {recipient.suite.value} --use sig)")
    except JnxError as exc:
        problems.append(f"envelopes: {exc}" + (f" — {exc.hint}" if exc.hint else ""))
    return []


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="systems")
