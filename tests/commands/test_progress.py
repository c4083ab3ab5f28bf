"""Progress bars of the long commands (``jnx run``, ``jnx errors replay``, ``jnx replay``, ``jnx disclosures deliver``,
``jnx reconcile credit``): drawn on stderr when it is a terminal, never with ``--json`` — a scheduler
reading stdout gets pure JSON — and never when stderr is a pipe or a file."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.sandbox.systems import secrets_from
from tests.commands.conftest import Jnx, Outcome
from tests.commands.test_exchange import _register

#: Each long command and the step its bar names.
LONG = [pytest.param(command, step, id=" ".join(command[:2])) for command, step in [
    (("run", "jn-case-handling"), " pulled, "),  # the bar: "penalty: 40 pulled, 0 new, …"; stdout: "pulled 40, …"
    (("errors", "replay"), "replaying errors"),
    (("replay", "--system", "jn-case-handling", "--mapping", "case_handling.penalty@2", "--dry-run"), "re-mapping jn-case-handling"),
    (("disclosures", "deliver"), "delivering"),
    (("reconcile", "credit"), "comparing disclosures"),
]]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=7, records=40, port_base=0)) as running:
        yield running


@pytest.fixture
def ran(jnx: Jnx, db: str, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Jnx:
    """A database where the case-handling system ran once, its disclosures waiting for the credit platform."""
    for name, value in secrets_from(sandbox.config.credentials).items():
        monkeypatch.setenv(name, value)
    _register(jnx, sandbox, tmp_path, "case_handling", "credit")
    assert jnx("run", "jn-case-handling", "--json").code == 0
    return jnx


@pytest.fixture
def terminal(ran: Jnx, monkeypatch: pytest.MonkeyPatch) -> Jnx:
    """``ran``, with stderr (captured by the test) saying it is a terminal while the command runs."""

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the stream pytest captures into during the test
        return ran(*args)

    return run


@pytest.mark.integration
@pytest.mark.parametrize(("command", "step"), LONG)
def test_on_a_terminal_the_bar_goes_to_stderr_and_stdout_keeps_the_summary(terminal: Jnx, command: tuple[str, ...], step: str) -> None:
    outcome = terminal(*command)
    assert outcome.code == 0, outcome.err
    assert step in outcome.err
    assert step not in outcome.out and "\x1b" not in outcome.out


@pytest.mark.integration
@pytest.mark.parametrize(("command", "step"), LONG)
def test_with_json_stdout_is_pure_json_and_no_bar_is_drawn_even_on_a_terminal(terminal: Jnx, command: tuple[str, ...], step: str) -> None:
    outcome = terminal(*command, "--json")
    assert outcome.code == 0, outcome.err
    assert isinstance(json.loads(outcome.out), dict)
    assert outcome.err == ""


@pytest.mark.integration
@pytest.mark.parametrize(("command", "step"), LONG)
def test_without_a_terminal_no_bar_is_drawn(ran: Jnx, command: tuple[str, ...], step: str) -> None:
    outcome = ran(*command)
    assert outcome.code == 0, outcome.err
    assert outcome.err == ""
