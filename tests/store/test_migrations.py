"""The packaged migrations build exactly the models' schema, and ``jnx init`` applies them safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from typer.testing import CliRunner

from jnx.cli import app
from jnx.store.db import (
    create_engine_for,
    current_revision,
    head_revision,
    migrations_config,
    upgrade,
)
from jnx.store.models import Base

runner = CliRunner()


def schema_diff(url: str) -> list[object]:
    """What ``alembic check`` would report: differences between the database and the models."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "target_metadata": Base.metadata})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert schema_diff(empty_database_url) == []


def test_upgrade_creates_then_is_current(empty_database_url: str) -> None:
    first = upgrade(empty_database_url)
    second = upgrade(empty_database_url)

    assert (first.action, first.from_revision, first.revision) == ("created", None, head_revision())
    assert (second.action, second.from_revision, second.revision) == ("current", head_revision(), head_revision())
    tables = set(inspect_tables(empty_database_url))
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables


def inspect_tables(url: str) -> list[str]:
    engine = create_engine_for(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = create_engine_for(empty_database_url)
    config = migrations_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()
    assert set(inspect_tables(empty_database_url)) <= {"alembic_version"}
    assert current_revision(empty_database_url) is None
    assert upgrade(empty_database_url).action == "created"


def test_there_is_one_head_and_every_revision_imports_nothing_of_jnx() -> None:
    script = ScriptDirectory.from_config(migrations_config())
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        source = Path(revision.path).read_text(encoding="utf-8")
        assert "import jnx" not in source and "from jnx" not in source, revision.path


# --- jnx init ----------------------------------------------------------------------------------


def test_jnx_init_creates_the_sqlite_database_under_home_then_reports_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JNX_DATABASE_URL", raising=False)
    monkeypatch.setenv("JNX_HOME", str(tmp_path / "home"))

    created = runner.invoke(app, ["init"])
    again = runner.invoke(app, ["init", "--json"])

    database = (tmp_path / "home" / "jnx.db").resolve()
    assert created.exit_code == 0, created.output
    policy = tmp_path / "home" / "policy" / "publicity.yaml"
    assert created.output.strip().splitlines() == [
        f"installed the default 双公示 publication policy at {policy} (docs/disclosures.md)",
        f"created sqlite:///{database} at revision {head_revision()}"]
    assert json.loads(again.output) == {
        "database": f"sqlite:///{database}",
        "revision": head_revision(),
        "action": "current",
        "from_revision": head_revision(),
        "policy": str(policy),
    }
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700


def test_jnx_init_uses_the_database_url_and_masks_its_password(empty_database_url: str) -> None:
    result = runner.invoke(app, ["init", "--json", "--database-url", empty_database_url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["action"] == "created"
    assert current_revision(empty_database_url) == head_revision()


def test_jnx_init_against_an_unreachable_postgres_prints_error_and_hint_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "JNX_DATABASE_URL": "postgresql+psycopg://jnx:hunter2@127.0.0.1:9/jnx", "JNX_HOME": str(tmp_path)}
    completed = subprocess.run([sys.executable, "-m", "jnx.cli", "init"], capture_output=True, text=True, env=env, check=False)

    assert completed.returncode == 4
    assert completed.stderr.startswith("error: cannot reach postgresql+psycopg://jnx:***@127.0.0.1:9/jnx")
    assert "hint: check that the database server is running" in completed.stderr
    assert "hunter2" not in completed.stderr + completed.stdout and "Traceback" not in completed.stderr
