"""The ``jnx`` command: the root app. Each command group lives in ``jnx/commands/<group>.py`` and
registers itself here; this module only assembles them and turns jnx errors into exit codes."""

from __future__ import annotations

import sys

import typer

from jnx import __version__
from jnx.commands import COMMAND_MODULES
from jnx.commands._output import report_error
from jnx.errors import JnxError

app = typer.Typer(
    name="jnx",
    help="jnx — data exchange of Jining's law-enforcement supervision platform (济宁市行政执法监督平台).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jnx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """jnx — data exchange of Jining's law-enforcement supervision platform."""


for _module in COMMAND_MODULES:
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, print jnx errors as one clear message with an exit code."""
    try:
        app(args=argv, standalone_mode=True)
    except JnxError as exc:
        report_error(exc, as_json="--json" in (argv if argv is not None else sys.argv[1:]))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
