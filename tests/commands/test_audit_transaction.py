"""An audited change and its audit entry commit together or not at all, on SQLite and PostgreSQL:
with inserts into ``audit_entries`` refused, the command changes nothing and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from jnx.security.audit_sql import audit_entries
from jnx.store.models import SourceSystem
from tests.commands.conftest import Jnx, assert_error

EXAMPLES = Path(__file__).parents[2] / "examples" / "systems"


def _refuse_audit_inserts(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit inserts refused'); END")
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit inserts refused'; END $$ "
                "LANGUAGE plpgsql")
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION refuse_audit()")
    engine.dispose()


def _state(url: str) -> tuple[bool | None, list[str]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        enabled = connection.execute(select(SourceSystem.enabled).where(SourceSystem.id == "jn-case-handling")).scalar()
        actions = list(connection.execute(select(audit_entries.c.action).order_by(audit_entries.c.seq)).scalars())
    engine.dispose()
    return enabled, actions


def test_a_disable_whose_audit_entry_fails_changes_nothing_and_says_so(jnx: Jnx, db: str) -> None:
    assert jnx("init").code == 0
    assert jnx("systems", "register", str(EXAMPLES / "case-handling.yaml")).code == 0
    assert _state(db) == (True, ["system.created"])
    _refuse_audit_inserts(db)

    outcome = jnx("systems", "disable", "jn-case-handling")

    assert_error(outcome, 5, says="system.disabled of jn-case-handling was not done: its audit entry could not be written",
                 hint="jnx audit verify")
    assert "nothing was changed" in outcome.err and "racing" not in outcome.err
    assert _state(db) == (True, ["system.created"])  # still enabled, and no entry


def test_a_registration_and_its_entry_commit_together(jnx: Jnx, db: str) -> None:
    assert jnx("init").code == 0
    _refuse_audit_inserts(db)
    outcome = jnx("systems", "register", str(EXAMPLES / "case-handling.yaml"), "--json")
    assert outcome.code == 5 and outcome.json()["kind"] == "AuditWriteError"
    assert _state(db) == (None, [])  # no system without its entry


def test_errors_ignore_whose_audit_fails_leaves_the_queue_as_it_was(jnx: Jnx, db: str) -> None:
    assert jnx("init").code == 0
    _refuse_audit_inserts(db)
    outcome = jnx("errors", "ignore", "--group", "abc", "--reason", "test")
    assert outcome.code == 5 and "errors.ignored of abc was not done" in outcome.err


@pytest.mark.parametrize("command", [("systems", "enable", "jn-case-handling"), ("systems", "disable", "jn-case-handling")])
def test_audited_commands_still_append_when_the_audit_works(jnx: Jnx, db: str, command: tuple[str, ...]) -> None:
    assert jnx("init").code == 0
    assert jnx("systems", "register", str(EXAMPLES / "case-handling.yaml")).code == 0
    assert jnx(*command).code == 0
    assert jnx("audit", "verify").code == 0
    assert _state(db)[1][0] == "system.created"
