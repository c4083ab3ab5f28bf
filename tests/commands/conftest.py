"""Running the ``jnx`` command as a shell does: ``jnx.cli.main`` with its exit code, stdout and stderr.

``jnx(*args)`` goes through the console entry point (not typer's runner), so a jnx error becomes the
documented exit code and the one ``error:``/``hint:`` pair on stderr — what a user or a scheduler sees.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jnx.cli import main


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Jnx = Callable[..., Outcome]


@pytest.fixture
def jnx(capsys: pytest.CaptureFixture[str]) -> Jnx:
    def run(*args: str) -> Outcome:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        out, err = capsys.readouterr()
        code = exited.value.code
        return Outcome(code if isinstance(code, int) else (0 if code is None else 1), out, err)

    return run


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh JNX_HOME, no database URL, no key passphrase, no sandbox secrets."""
    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))
    for name in ("JNX_DATABASE_URL", "JNX_KEY_PASSPHRASE", "JNX_LOG_LEVEL", "JNX_SANDBOX_CASE_SECRET",
                 "JNX_SANDBOX_CREDIT_TOKEN", "JNX_SANDBOX_LICENSING_PASSWORD", "JNX_SANDBOX_INSPECTION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path / "home"


@pytest.fixture
def db(home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``home`` with a fresh migrated database (SQLite, and PostgreSQL when configured)."""
    monkeypatch.setenv("JNX_DATABASE_URL", database_url)
    return database_url


def assert_error(outcome: Outcome, code: int, *, says: str = "", hint: str = "") -> None:
    """The documented failure: exit ``code``, one ``error:`` line (and one ``hint:`` line) on stderr, no traceback."""
    assert outcome.code == code, (outcome.code, outcome.out, outcome.err)
    assert "Traceback" not in outcome.err
    lines = outcome.err.strip().splitlines()
    assert lines[0].startswith("error: ") and says in lines[0], outcome.err
    assert len(lines) == 2 and lines[1].startswith("hint: ") and hint in lines[1], outcome.err
