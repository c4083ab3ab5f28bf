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
