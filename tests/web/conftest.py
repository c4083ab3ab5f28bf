"""Fixtures the web tests share with the command-line and exchange tests, and the API tests' own: a
settings/app/client on the test's database, the data of two authorities, tokens made by the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from jnx.sandbox.case_data import penalties
from jnx.settings import Settings
from jnx.web.app import create_app
from tests.commands.conftest import Jnx, jnx  # noqa: F401
from tests.exchange.test_conflicts import cases, run  # noqa: F401


@pytest.fixture
def settings(tmp_path: Path, migrated_engine: Engine) -> Settings:
    return Settings(home=tmp_path / "home", database_url=migrated_engine.url.render_as_string(hide_password=False))


@pytest.fixture
def data(run: Any, cases: list[dict[str, Any]]) -> Any:  # noqa: F811 - the fixtures imported above
    """Penalties of two authorities stored (their disclosures derived), and one mapping error."""
    first, _ = cases
    records, _ = penalties(seed=3, count=40)
    other = next(dict(r.fields) for r in records if r.fields["cfjgdm"] != first["cfjgdm"] and r.fields["dsrlx"] == "2"
                 and "其他" not in r.fields["cflb"])  # a bare 其他 is an error of its own (its name is required)
    broken = {**first, "ajbh": first["ajbh"] + "E", "cfjdsh": first["cfjdsh"] + "E", "cflb": "没有这种处罚"}
    run([first, other, broken])
    return first, other


@pytest.fixture
def cli_on_the_same_database(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_HOME", str(settings.home))
    monkeypatch.setenv("JNX_DATABASE_URL", str(settings.database_url))


@pytest.fixture
def client(settings: Settings, migrated_engine: Engine) -> TestClient:
    return TestClient(create_app(settings, engine=migrated_engine))


@pytest.fixture
def token(jnx: Jnx) -> Callable[..., str]:  # noqa: F811 - the fixture imported above
    """A token as an operator makes one: `jnx tokens create --name NAME [--user U] --json`."""

    def make(name: str = "ci", user: str | None = None) -> str:
        made = jnx("tokens", "create", "--name", name, "--json", *(["--user", user] if user else []))
        assert made.code == 0, made.err
        return str(made.json()["token"])

    return make
