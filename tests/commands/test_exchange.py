"""``jnx run``, ``jnx runs``, ``jnx errors …``, ``jnx replay``, ``jnx serve``: what docs/cli.md and
docs/exchange.md promise, run through the console entry point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.sandbox.systems import registrations_for, secrets_from
from jnx.store.db import create_engine_for
from jnx.store.models import AuditEntry
from tests.commands.conftest import Jnx, assert_error


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, records=60, port_base=0)) as running:
        yield running


def _register(jnx: Jnx, sandbox: Sandbox, tmp_path: Path, *kinds: str, clear: bool = True) -> None:
    """Register the sandbox systems of ``kinds``; the credit one pushing in clear (``envelope: none``,
    warned) unless ``clear`` is False — this module's sandbox takes plain JSON."""
    for doc in registrations_for(sandbox.urls()):
        if doc["kind"] in kinds:
            if doc["kind"] == "credit" and clear:
                doc.setdefault("settings", {})["envelope"] = "none"
            path = tmp_path / f"{doc['id']}.yaml"
            path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
            registered = jnx("systems", "register", str(path), "--json")
            assert registered.code == 0, registered.err
            if doc["kind"] == "credit" and clear:
                assert "warning: system jn-credit pushes 双公示 items in clear" in registered.err


def _audit_entries(url: str) -> int:
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    finally:
        engine.dispose()


# ---------------------------------------------------------------- jnx run derives 双公示 disclosures


@pytest.mark.integration
def test_jnx_run_derives_the_disclosures_that_jnx_disclosures_deliver_pushes(
    jnx: Jnx, db: str, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in secrets_from(sandbox.config.credentials).items():
        monkeypatch.setenv(name, value)
    _register(jnx, sandbox, tmp_path, "case_handling", "credit")

    ran = jnx("run", "jn-case-handling", "--json")
    assert ran.code == 0, ran.err
    [run] = ran.json()["runs"]
    assert run["status"] == "succeeded" and run["new"] > 0

    derived = jnx("disclosures", "list", "--json").json()
    assert derived["count"] > 0, "a run stores penalties: each one publishable is a pending 双公示 item"
    assert {d["kind"] for d in derived["disclosures"]} == {"penalty"}

    delivered = jnx("disclosures", "deliver", "--json")
    assert delivered.code == 0, delivered.err
    assert delivered.json()["acknowledged"] == derived["count"]


@pytest.mark.integration
def test_a_run_without_its_secret_variable_is_a_configuration_error_exit_3(
    jnx: Jnx, db: str, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in secrets_from(sandbox.config.credentials):
        monkeypatch.delenv(name, raising=False)
    _register(jnx, sandbox, tmp_path, "case_handling")

    ran = jnx("run", "jn-case-handling", "--json")
    assert ran.code == 3, ran.err  # docs/cli.md: a missing secret variable is configuration, not a failed system
    [run] = ran.json()["runs"]
    assert run["status"] == "failed" and "is not set" in run["error"]


# ---------------------------------------------------------------- saying "nothing" instead of printing nothing


def test_run_due_with_nothing_due_says_so(jnx: Jnx, db: str) -> None:
    text = jnx("run", "--due")
    assert text.code == 0 and "no run was due" in text.out
    assert jnx("run", "--due", "--json").json() == {"runs": []}


def test_runs_list_and_errors_list_on_an_empty_database_say_so(jnx: Jnx, db: str) -> None:
    runs = jnx("runs", "list")
    assert runs.code == 0 and "no runs yet" in runs.out
    errors = jnx("errors", "list")
    assert errors.code == 0 and "no open errors match" in errors.out
    assert jnx("errors", "list", "--status", "ignored").out.strip() == "no ignored errors match"


# ---------------------------------------------------------------- unknown system ids and error ids


@pytest.mark.parametrize("command", [
    ["errors", "groups"], ["errors", "list"], ["errors", "ignore", "--reason", "typo"], ["errors", "replay"],
], ids=lambda c: " ".join(c[:2]))
def test_an_unknown_system_is_an_error_not_an_empty_queue(jnx: Jnx, db: str, command: list[str]) -> None:
    outcome = jnx(*command, "--system", "jn-typo")
    assert_error(outcome, 3, says="no system 'jn-typo' is registered", hint="jnx systems register")


def test_an_unknown_system_with_json_is_also_reported_on_stdout(jnx: Jnx, db: str) -> None:
    outcome = jnx("errors", "groups", "--system", "jn-typo", "--json")
    assert outcome.code == 3
    assert outcome.json()["kind"] == "NotFoundError" and outcome.json()["exit_code"] == 3


def test_ignoring_an_unknown_error_id_fails_and_audits_nothing(jnx: Jnx, db: str) -> None:
    before = _audit_entries(db)
    outcome = jnx("errors", "ignore", "424242", "--reason", "a typo in the id")
    assert_error(outcome, 3, says="no mapping error #424242", hint="jnx errors list")
    assert _audit_entries(db) == before


def test_errors_show_of_an_unknown_id_names_it(jnx: Jnx, db: str) -> None:
    assert_error(jnx("errors", "show", "424242"), 3, says="#424242")


def test_merging_an_unknown_conflict_fails_and_audits_nothing(jnx: Jnx, db: str) -> None:
    before = _audit_entries(db)
    assert_error(jnx("errors", "merge", "424242"), 3, says="no mapping error #424242", hint="business_key.conflict")
    assert _audit_entries(db) == before


def test_replay_needs_a_version_after_the_table_name(jnx: Jnx, db: str) -> None:
    outcome = jnx("replay", "--system", "jn-any", "--mapping", "case_handling.penalty", "--dry-run")
    assert_error(outcome, 3, says="is not NAME@VERSION", hint="case_handling.penalty@2")


def test_replay_with_a_table_for_another_record_type_is_refused_not_a_replay_of_nothing(jnx: Jnx, db: str) -> None:
    examples = Path(__file__).parents[2] / "examples" / "systems"
    assert jnx("systems", "register", str(examples / "case-handling.yaml")).code == 0
    before = _audit_entries(db)
    outcome = jnx("replay", "--system", "jn-case-handling", "--mapping", "licensing.license@1")
    assert_error(outcome, 3, says="licensing.license@1 maps inbound licensing records to 'license'; "
                 "system 'jn-case-handling' streams penalty (case_handling → penalty", hint="jnx systems show jn-case-handling")
    assert _audit_entries(db) == before


# ---------------------------------------------------------------- jnx serve reads JNX_LOG_LEVEL


def test_serve_refuses_a_log_level_that_does_not_exist(jnx: Jnx, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JNX_LOG_LEVEL", "chatty")
    assert_error(jnx("serve"), 3, says="JNX_LOG_LEVEL", hint="DEBUG, INFO, WARNING or ERROR")
