"""The jnx command's shell: help on every command, versions, errors as messages not tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from jnx.cli import app

runner = CliRunner()


def _all_command_paths() -> list[list[str]]:
    group = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd, prefix: list[str]) -> None:  # type: ignore[no-untyped-def]
        paths.append(prefix)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(group, [])
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "jnx")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_version_is_printed() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("jnx ")


def test_console_script_runs_as_a_module() -> None:
    completed = subprocess.run([sys.executable, "-m", "jnx.cli", "--help"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0
    assert "Usage:" in completed.stdout


def test_each_command_module_registers_exactly_the_names_the_lazy_loader_expects() -> None:
    from jnx import commands
    from jnx.cli import build_app

    for module, names in commands.COMMANDS.items():
        group = typer.main.get_command(build_app([module]))
        assert sorted(getattr(group, "commands", {})) == sorted(names), module


def test_a_light_command_does_not_import_the_heavy_stack() -> None:
    code = "import sys; from jnx.cli import main\ntry:\n    main(['codesets', 'list'])\nexcept SystemExit: pass\nprint('zeep' in sys.modules, 'alembic' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.stdout.strip().splitlines()[-1] == "False False", completed.stderr[-2000:]
