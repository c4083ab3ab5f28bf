"""Errors as every command prints them (jnx/commands/_output.py): a hint even when the raising code
had none, and the same documented exit codes whatever the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from jnx.commands._output import hint_for
from jnx.errors import ConfigError, InputError, StorageError, TransportError
from tests.commands.conftest import Jnx, assert_error


def _raised_from(error: Exception, cause: BaseException) -> Exception:
    try:
        raise error from cause
    except Exception as exc:  # noqa: BLE001 - only to set __cause__ as a real raise does
        return exc


def test_the_errors_own_hint_comes_first() -> None:
    assert hint_for(ConfigError("x", hint="do y")) == "do y"


def test_a_missing_or_unreadable_file_gets_a_hint_from_its_cause() -> None:
    assert "check the path" in str(hint_for(_raised_from(InputError("cannot read f"), FileNotFoundError(2, "No such file"))))
    assert "permissions" in str(hint_for(_raised_from(InputError("cannot read f"), PermissionError(13, "denied"))))


def test_a_transient_error_without_a_hint_says_to_run_again_later() -> None:
    assert "again later" in str(hint_for(TransportError("GET /x on line primary: cannot connect")))
    assert "again later" in str(hint_for(StorageError("locked")))
    assert hint_for(ConfigError("x")) is None


UNREACHABLE = "postgresql+psycopg://jnx:hunter2@127.0.0.1:1/jnx"


@pytest.mark.parametrize("command", [
    ["init"], ["systems", "list"], ["runs", "list"], ["run", "--due"], ["errors", "groups"], ["disclosures", "list"],
    ["disclosures", "deliver"], ["audit", "verify"],
], ids=" ".join)
def test_a_database_that_cannot_be_reached_is_exit_4_with_the_password_hidden(
    jnx: Jnx, home: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("JNX_DATABASE_URL", UNREACHABLE)
    outcome = jnx(*command, "--json")
    assert_error(outcome, 4, says="cannot reach postgresql+psycopg://jnx:***@127.0.0.1:1/jnx", hint="JNX_DATABASE_URL")
    assert "hunter2" not in outcome.out + outcome.err
    assert outcome.json()["exit_code"] == 4


@pytest.mark.parametrize("command", [
    ["systems", "list"], ["runs", "list"], ["errors", "list"], ["disclosures", "list"], ["audit", "verify"],
], ids=" ".join)
def test_a_database_not_initialised_says_jnx_init(jnx: Jnx, home: Path, empty_database_url: str,
                                                 monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setenv("JNX_DATABASE_URL", empty_database_url)
    assert_error(jnx(*command), 3, hint="jnx init")
