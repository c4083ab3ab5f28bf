"""``jnx sandbox …`` — Simulators of the four platforms on loopback, for demo and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from jnx.commands._output import JsonOption, emit
from jnx.sandbox.errors import SandboxConfigError

app = typer.Typer(help="Simulators of the four platforms on loopback, for demo and tests.", no_args_is_help=True)


def _render(info: dict[str, Any]) -> None:
    typer.echo(f"jnx sandbox — seed {info['seed']}, {info['records']} records per feed (Ctrl-C to stop)")
    for platform, lines in info["platforms"].items():
        typer.echo(f"  {platform:<14} primary {lines['primary']}   backup {lines['backup']}")
    typer.echo("  licensing WSDL  " + info["platforms"]["licensing"]["primary"] + "/services/LicenseQueryService?wsdl")
    typer.echo("  provincial WSDL " + info["platforms"]["licensing"]["primary"] + "/axis/services/XkxxService?wsdl")
    for path in info.get("exports", []):
        typer.echo(f"  export          {path}")
    typer.echo("  credentials (sandbox only): " + ", ".join(f"{k}={v}" for k, v in info["credentials"].items()))
    envelopes = info.get("envelopes")
    if envelopes:
        typer.echo(f"the credit platform takes sealed pushes only; it trusts jnx's signing keys in {envelopes['trusts']}.")
        typer.echo("in the shell where you run jnx (docs/sandbox.md, \"Push to the sandbox\"):")
        for line in envelopes["exports"]:
            typer.echo(f"  {line}")
        typer.echo(f"  {envelopes['trust_command']}")
    else:
        typer.echo("the credit platform takes plain JSON pushes (--accept-plain)")


@app.command("serve")
def serve(
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Seed of the generated data; same seed, same data.")] = 1,
    records: Annotated[int, typer.Option(min=1, max=1_000_000, help="Records per main feed (licences, penalties, inspection results).")] = 1000,
    port_base: Annotated[int, typer.Option("--port-base", "--port", min=0, max=65_528, help="First port; the eight lines take PORT_BASE…PORT_BASE+7 (0 = ephemeral).")] = 18081,
    fault: Annotated[list[str] | None, typer.Option(help="[PLATFORM:]KEY=VALUE fault knob, repeatable, e.g. credit:error_rate=0.3 or lines_down=primary.")] = None,
    export_dir: Annotated[Path | None, typer.Option(help="Also write the double-random GB18030 CSV exports into this folder.")] = None,
    accept_plain: Annotated[bool, typer.Option("--accept-plain", help="The credit platform takes plain JSON pushes instead of envelopes.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Start the four platforms on 127.0.0.1, print their URLs, and run until Ctrl-C or SIGTERM.

    The credit platform takes envelopes only (signed by jnx, encrypted to its key): it prints the
    `jnx keys import-peer …` line that makes jnx trust its key and the `export JNX_SANDBOX_…` lines
    of the sandbox secrets the example registrations refer to."""
    import shlex

    from jnx.commands._context import load_settings
    from jnx.sandbox.envelopes import dynamic_envelope_unwrap, home_signers, platform_key
    from jnx.sandbox.runner import Sandbox, config_from_flags, serve_until_stopped
    from jnx.sandbox.systems import secrets_from

    config = config_from_flags(seed, records, port_base, fault or [])
    envelopes: dict[str, Any] | None = None
    if not accept_plain:
        home = load_settings().ensure_home()
        key, public = platform_key(home / "sandbox")
        config.unwrap = dynamic_envelope_unwrap([key], home_signers(home))
        envelopes = {
            "platform_key": str(public), "kid": key.kid, "trusts": str(home / "keys"),
            "trust_command": f"jnx keys import-peer {shlex.quote(str(public))} --use enc --name sandbox-credit",
            "exports": [f"export {name}={shlex.quote(value)}" for name, value in secrets_from(config.credentials).items()],
        }
    sandbox = Sandbox(config).start()
    info = sandbox.describe()
    if envelopes is not None:
        info["envelopes"] = envelopes
    if export_dir is not None:
        try:
            info["exports"] = [str(p) for p in sandbox.write_exports(export_dir)]
        except OSError as exc:
            sandbox.stop()
            raise SandboxConfigError(f"cannot write the exports into {export_dir}: {exc.strerror or exc}",
                                     hint="give --export-dir a folder you can write to (it is created if missing)") from exc
    serve_until_stopped(sandbox, ready=lambda: emit(info, as_json, _render))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sandbox")
