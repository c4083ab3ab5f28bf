"""``jnx disclosures deliver`` and ``jnx reconcile credit`` push to and read from a credit platform only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.conftest import Jnx, assert_error

EXAMPLES = Path(__file__).parents[2] / "examples" / "systems"


@pytest.mark.parametrize("command", [["disclosures", "deliver"], ["reconcile", "credit"]], ids=" ".join)
def test_system_must_be_a_credit_platform(jnx: Jnx, db: str, command: list[str]) -> None:
    assert jnx("systems", "register", str(EXAMPLES / "case-handling.yaml")).code == 0
    outcome = jnx(*command, "--system", "jn-case-handling", "--json")
    assert_error(outcome, 3, says="'jn-case-handling' is of kind 'case_handling', not a credit platform",
                 hint="kind: credit")
    assert outcome.json()["kind"] == "ConfigError"


def test_without_a_credit_system_deliver_says_how_to_register_one(jnx: Jnx, db: str) -> None:
    assert_error(jnx("disclosures", "deliver"), 3, says="no enabled system of kind `credit`", hint="jnx systems register")


def test_an_unknown_disclosure_id_names_the_list_command(jnx: Jnx, db: str) -> None:
    assert_error(jnx("disclosures", "show", "99"), 3, says="no disclosure 99", hint="jnx disclosures list")
    assert_error(jnx("disclosures", "withdraw", "99", "--reason", "决定被撤销"), 3, says="no disclosure 99")
    assert_error(jnx("disclosures", "repair", "99", "--reason", "修复决定"), 3, says="no disclosure 99")


def test_repair_says_what_a_bad_date_is(jnx: Jnx, db: str) -> None:
    assert_error(jnx("disclosures", "repair", "1", "--reason", "修复决定", "--on", "2026-13-01"), 2,
                 says="--on '2026-13-01' is not a date", hint="YYYY-MM-DD")


def test_list_overdue_lists_the_late_enforcement_publicity_beside_the_disclosures(jnx: Jnx, db: str) -> None:
    listed = jnx("disclosures", "list", "--overdue", "--json").json()
    assert listed == {"disclosures": [], "count": 0, "enforcement_publicity": []}
