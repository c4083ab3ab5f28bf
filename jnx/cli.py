"""The ``jnx`` command: the root app. Each command group lives in ``jnx/commands/<group>.py`` and
registers itself here; this module only assembles them and turns jnx errors into exit codes."""

from __future__ import annotations

import os
import sys

import typer

from jnx import __version__, commands
from jnx.commands._output import report_error
from jnx.errors import JnxError


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jnx {__version__}")
        raise typer.Exit()


def build_app(modules: list[str] | None = None) -> typer.Typer:
    """The ``jnx`` app with the given command modules registered (all of them when None)."""
    root = typer.Typer(
        name="jnx",
        help="jnx — data exchange of Jining's law-enforcement supervision platform (济宁市行政执法监督平台).",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @root.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ) -> None:
        """jnx — data exchange of Jining's law-enforcement supervision platform."""

    for module in commands.load(modules):
        module.register(root)
    return root


def __getattr__(name: str) -> typer.Typer:
    """``jnx.cli.app``: the full app (tests and documentation tools), built on first use."""
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def _modules_for(argv: list[str]) -> list[str] | None:
    """Only the module of the command named on the command line; all for ``jnx``, ``--help`` or a typo."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    module = commands.module_for(first) if first else None
    return [module] if module else None


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, print jnx errors as one clear message with an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    from jnx.security.trace import correlation

    try:
        with correlation():  # one correlation id for the command's audit entries and log lines
            from jnx.ops.logs import configure

            configure(os.environ.get("JNX_LOG_FORMAT"), os.environ)  # json: every stderr line a JSON object
            build_app(_modules_for(args))(args=args, standalone_mode=True)
    except JnxError as exc:
        report_error(exc, as_json="--json" in args)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
