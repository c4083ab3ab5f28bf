"""The rights table's shape: 三员分立, no all-powerful role, read-only supervisor, the docs' copy equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from jnx.security.rights import ACTIONS, RIGHTS, Access, access, actions_of, markdown_table, region_prefix
from jnx.security.roles import Role

DOCS = (Path(__file__).parents[2] / "docs" / "accounts.md").read_text(encoding="utf-8")


def test_docs_accounts_prints_the_table_the_code_holds() -> None:
    between = DOCS.split("<!-- rights -->\n", 1)[1].split("\n<!-- /rights -->", 1)[0]
    assert between == markdown_table()


def test_no_role_holds_every_action() -> None:
    for role in Role:
        assert len(actions_of(role)) < len(ACTIONS), role


def test_the_system_administrator_touches_neither_users_nor_the_audit_log() -> None:
    mine = actions_of(Role.SYSTEM_ADMIN)
    assert not [a for a in mine if a.split(".")[0] in {"users", "tokens", "audit"}]
    assert {"systems.register", "schedules.set", "keys.rotate", "settings.read"} <= set(mine)


def test_the_security_administrator_sees_no_business_data() -> None:
    assert {a.split(".")[0] for a in actions_of(Role.SECURITY_ADMIN)} == {"users", "tokens"}


def test_the_audit_administrator_only_reads_and_verifies_the_audit_log() -> None:
    assert actions_of(Role.AUDIT_ADMIN) == {"audit.read": Access.ALL, "audit.verify": Access.ALL}


def test_the_audit_log_is_read_by_the_audit_administrator_and_the_supervisor_only() -> None:
    assert set(RIGHTS["audit.read"].rights) == {Role.AUDIT_ADMIN, Role.SUPERVISOR}
    assert not [a for a in ACTIONS if a.name.startswith("audit.") and a.writes]  # nobody edits or deletes it


def test_the_supervisor_only_reads_and_reads_the_indicators() -> None:
    mine = actions_of(Role.SUPERVISOR)
    assert all(not RIGHTS[name].writes for name in mine)
    assert "indicators.read" in mine and "audit.read" in mine


def test_a_department_officer_has_only_own_rows_of_business_data() -> None:
    mine = actions_of(Role.DEPARTMENT_OFFICER)
    assert mine["errors.raw"] is Access.OWN and mine["disclosures.list"] is Access.OWN
    assert all(level is Access.OWN for name, level in mine.items() if not name.startswith("mappings."))


def test_user_management_is_the_security_administrators_alone() -> None:
    for action in ACTIONS:
        if action.name.startswith(("users.", "tokens.")):
            assert set(action.rights) == {Role.SECURITY_ADMIN}, action.name


def test_the_widest_access_of_several_roles_wins_and_unknown_roles_give_nothing() -> None:
    assert access(["department-officer", "operator"], "errors.list") is Access.ALL
    assert access(["department-officer"], "errors.list") is Access.OWN
    assert access(["nobody"], "errors.list") is None
    assert access([], "errors.list") is None
    with pytest.raises(KeyError, match="not in the rights table"):
        access(["operator"], "errors.eat")


@pytest.mark.parametrize(("code", "prefix"), [("370800", "3708"), ("370811", "370811"), ("370811001", "370811001"),
                                               ("370811001000", "370811001"), ("370000", "37")])
def test_region_prefixes(code: str, prefix: str) -> None:
    assert region_prefix(code) == prefix
