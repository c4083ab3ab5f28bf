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


@app.command("serve")
def serve(
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, help="Seed of the generated data; same seed, same data.")] = 1,
    records: Annotated[int, typer.Option(min=1, max=1_000_000, help="Records per main feed (licences, penalties, inspection results).")] = 1000,
    port_base: Annotated[int, typer.Option("--port-base", "--port", min=0, max=65_528, help="First port; the eight lines take PORT_BASE…PORT_BASE+7 (0 = ephemeral).")] = 18081,
    fault: Annotated[list[str] | None, typer.Option(help="[PLATFORM:]KEY=VALUE fault knob, repeatable, e.g. credit:error_rate=0.3 or lines_down=primary.")] = None,
    export_dir: Annotated[Path | None, typer.Option(help="Also write the double-random GB18030 CSV exports into this folder.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Start the four platforms on 127.0.0.1, print their URLs, and run until Ctrl-C or SIGTERM."""
    from jnx.sandbox.runner import Sandbox, config_from_flags, serve_until_stopped

    sandbox = Sandbox(config_from_flags(seed, records, port_base, fault or [])).start()
    info = sandbox.describe()
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
