"""docs/cli.md names every command ``jnx --help`` lists, and every exit code jnx errors use."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from jnx import errors
from jnx.cli import app

CLI_MD = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")


def _leaf_commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(command, path: list[str]) -> None:  # type: ignore[no-untyped-def]
        subcommands = getattr(command, "commands", {})
        if not subcommands:
            found.append(path)
        for name, sub in subcommands.items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def _documented(path: list[str]) -> bool:
    if f"jnx {' '.join(path)}" in CLI_MD:
        return True
    group, name = path[0], path[-1]
    # a group's row lists its commands: `jnx errors groups\|list\|show …`
    return any(name in re.split(r"\\\|| ", row) for row in re.findall(rf"`jnx {re.escape(group)} ([^`]*)`", CLI_MD))


def test_every_command_is_in_the_command_table() -> None:
    missing = [" ".join(p) for p in _leaf_commands() if not _documented(p)]
    assert not missing, f"not in docs/cli.md: {missing}"


def test_every_exit_code_of_a_jnx_error_is_in_the_exit_code_table() -> None:
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", CLI_MD, flags=re.MULTILINE)}
    used = {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.JnxError)}
    assert used <= documented, used - documented
