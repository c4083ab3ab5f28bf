"""decide(): roles from the rights table, narrowed by token scopes; the OS user may do everything."""

from __future__ import annotations

import pytest

from jnx.security.account_errors import AccessDenied
from jnx.security.authorize import Grant, decide, scope_allows, token_fits_owner
from tests.security.accounts_support import DEPT_A, DEPT_B

OFFICER = Grant("li.si", ["department-officer"], department=DEPT_A, region="370811")


def test_an_officer_gets_their_own_rows_and_an_operator_all() -> None:
    scope = decide(OFFICER, "errors.list")
    assert not scope.everything and scope.department == DEPT_A and scope.region == "370811"
    assert decide(Grant("op", ["operator"]), "errors.list").everything


def test_an_action_no_role_gives_is_denied_with_a_hint() -> None:
    with pytest.raises(AccessDenied, match="li.si may not users.list") as denied:
        decide(OFFICER, "users.list")
    assert denied.value.http_status == 403 and denied.value.hint


def test_an_officer_without_a_department_gets_nothing() -> None:
    with pytest.raises(AccessDenied):
        decide(Grant("x", ["department-officer"]), "errors.list")


def test_an_officer_may_not_act_for_another_department() -> None:
    decide(OFFICER, "systems.check", department=DEPT_A)
    with pytest.raises(AccessDenied):
        decide(OFFICER, "systems.check", department=DEPT_B)


def test_a_token_is_narrowed_by_its_scopes_and_never_widens_the_owner() -> None:
    token = Grant("li.si", ["department-officer"], department=DEPT_A, token_scopes=["read"])
    assert decide(token, "errors.list").department == DEPT_A
    with pytest.raises(AccessDenied):
        decide(token, "errors.replay")
    with pytest.raises(AccessDenied):  # the scope '*' still gives only what the owner has
        decide(Grant("li.si", ["department-officer"], department=DEPT_A, token_scopes=["*"]), "users.list")


def test_scope_patterns() -> None:
    assert scope_allows(["errors.*"], "errors.replay") and not scope_allows(["errors.*"], "runs.list")
    assert scope_allows(["read"], "runs.list") and not scope_allows(["read"], "runs.start")
    assert scope_allows(["runs.start"], "runs.start") and not scope_allows([], "runs.start")


def test_a_token_may_not_claim_scopes_its_owner_lacks() -> None:
    assert token_fits_owner(["errors.*", "read"], ["department-officer"]) == []
    assert token_fits_owner(["users.*", "bogus.verb"], ["department-officer"]) == ["users.*", "bogus.verb"]


def test_the_os_user_may_do_everything_and_an_unknown_action_is_a_bug() -> None:
    assert decide(Grant("cli:root", [], everything=True), "users.create").everything
    with pytest.raises(KeyError):
        decide(OFFICER, "errors.eat")
