"""Every role × every service action, generated from the one rights table (jnx/security/rights.py),
on SQLite and PostgreSQL.

For each role, each action of the table is tried — through its service function when one exists
(:data:`SERVICES`), each in a savepoint rolled back afterwards — and must be refused (AccessDenied)
exactly when the table gives the role nothing, see every row when it says ``all`` and only the
department's rows when it says ``own``. Actions whose service is not written yet are checked at the
decision (``ctx.authorize``); :func:`test_every_authorize_call_names_an_action_of_the_table` keeps
the services and the table in step.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.security.account_errors import AccessDenied
from jnx.security.accounts import Accounts
from jnx.security.rights import ACTIONS, RIGHTS, Access
from jnx.security.roles import Role
from jnx.services import audit, disclosures, errors, operations, users
from jnx.services.context import Actor, ServiceContext
from jnx.settings import Settings
from jnx.store.models import Disclosure, MappingErrorEntry
from tests.security.accounts_support import DEPT_A, fast_settings
from tests.security.test_scope import seeded

SERVICES_DIR = Path(__file__).parents[2] / "jnx" / "services"


class Fixture:
    """Ids of the seeded rows: an error and a disclosure of the department, and of another."""

    def __init__(self, session: Session) -> None:
        by_system = {e.system_id: e.id for e in session.scalars(select(MappingErrorEntry))}
        self.own_error, self.other_error = by_system["a-city"], by_system["b-city"]
        keyed = {d.business_key: d.id for d in session.scalars(select(Disclosure))}
        self.own_disclosure = next(i for k, i in keyed.items() if k.startswith(f"{DEPT_A}|"))
        self.other_disclosure = next(i for k, i in keyed.items() if not k.startswith(f"{DEPT_A}|") and "%" not in k)


Call = Callable[[ServiceContext, Fixture], Any]

#: action → a call of its service function (reads show a row of the user's own department).
SERVICES: dict[str, Call] = {
    "errors.list": lambda ctx, f: errors.list_errors(ctx),
    "errors.show": lambda ctx, f: errors.show_error(ctx, f.own_error),
    "errors.raw": lambda ctx, f: errors.error_raw(ctx, f.own_error),
    "disclosures.list": lambda ctx, f: disclosures.list_disclosures(ctx),
    "disclosures.show": lambda ctx, f: disclosures.show_disclosure(ctx, f.own_disclosure),
    "audit.read": lambda ctx, f: audit.read_audit(ctx),
    "alerts.list": lambda ctx, f: operations.list_alerts(ctx, include_resolved=True),
    "health.read": lambda ctx, f: operations.operator_status(ctx),
    "audit.verify": lambda ctx, f: audit.verify_audit(ctx),
    "users.list": lambda ctx, f: users.list_users(ctx),
    "users.show": lambda ctx, f: users.show_user(ctx, "target"),
    "users.create": lambda ctx, f: users.create_user(ctx, "made.here", roles=["operator"], password="Created#2026"),
    "users.update": lambda ctx, f: users.set_roles(ctx, "target", ["operator", "supervisor"]),
    "users.disable": lambda ctx, f: users.disable_user(ctx, "target"),
    "users.unlock": lambda ctx, f: users.unlock_user(ctx, "target"),
    "users.reset_password": lambda ctx, f: users.reset_password(ctx, "target", "Reset#20261"),
    "users.reset_totp": lambda ctx, f: users.reset_totp(ctx, "target"),
    "tokens.list": lambda ctx, f: users.list_tokens(ctx),
    "tokens.create": lambda ctx, f: users.create_token(ctx, "target", "matrix"),
    "tokens.revoke": lambda ctx, f: users.revoke_token(ctx, users.create_token(
        ServiceContext(ctx.session, ctx.settings, Actor.os_user("cli:test")), "target", "to-revoke")["id"]),
}

#: actions whose rows a department officer's ``own`` must narrow, and how to see that.
OWN_CHECKS: dict[str, Callable[[ServiceContext, Fixture], None]] = {}


def _expect_not_found(call: Callable[[], Any]) -> None:
    with pytest.raises(NotFoundError):
        call()


def _own_errors(ctx: ServiceContext, f: Fixture) -> None:
    assert {e["system"] for e in errors.list_errors(ctx)} == {"a-city", "a-rencheng"}
    _expect_not_found(lambda: errors.show_error(ctx, f.other_error))


def _own_raw(ctx: ServiceContext, f: Fixture) -> None:
    _expect_not_found(lambda: errors.error_raw(ctx, f.other_error))


def _own_disclosures(ctx: ServiceContext, f: Fixture) -> None:
    assert all(d["business_key"].startswith(f"{DEPT_A}|") for d in disclosures.list_disclosures(ctx))
    _expect_not_found(lambda: disclosures.show_disclosure(ctx, f.other_disclosure))


OWN_CHECKS.update({"errors.list": _own_errors, "errors.show": _own_errors, "errors.raw": _own_raw,
                   "disclosures.list": _own_disclosures, "disclosures.show": _own_disclosures})


def _actor(role: Role) -> Actor:
    return Actor(name=f"matrix-{role.value}", kind="user", roles=(role.value,), department=DEPT_A)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_action_is_allowed_exactly_as_the_table_says(role: Role, migrated_engine: Engine) -> None:
    settings = Settings(accounts=fast_settings())
    with seeded(migrated_engine) as session:
        Accounts(session, settings.accounts, note=lambda *_: None).add(
            "cli:test", "target", roles=["operator"], password="Matrix#2026a")
        session.commit()
        fixture = Fixture(session)
        ctx = ServiceContext(session=session, settings=settings, actor=_actor(role))
        outcomes: dict[str, str] = {}
        for action in ACTIONS:
            granted = action.rights.get(role)
            savepoint = session.begin_nested()
            try:
                call = SERVICES.get(action.name)
                if call is None:
                    scope = ctx.authorize(action.name)
                    assert scope.everything == (granted is Access.ALL), action.name
                else:
                    call(ctx, fixture)
                    if granted is Access.OWN and action.name in OWN_CHECKS:
                        OWN_CHECKS[action.name](ctx, fixture)
                outcomes[action.name] = "allowed"
            except AccessDenied:
                outcomes[action.name] = "denied"
            finally:
                savepoint.rollback()
        expected = {a.name: ("allowed" if role in a.rights else "denied") for a in ACTIONS}
        assert outcomes == expected


def _named_actions(method: str, folders: list[Path]) -> set[str]:
    """The string literals passed first to ``<anything>.<method>(...)`` in the modules under ``folders``."""
    named: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method
                        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                        and "." in node.args[0].value):
                    named.add(node.args[0].value)
    return named


def test_every_authorize_call_names_an_action_of_the_table() -> None:
    named = _named_actions("authorize", [SERVICES_DIR])
    assert named, "no ctx.authorize(...) call found in jnx/services"
    assert named <= set(RIGHTS), sorted(named - set(RIGHTS))
    assert set(SERVICES) <= named  # the matrix calls services that check what it says they check


def test_every_rights_check_of_the_console_names_an_action_of_the_table() -> None:
    folders = [SERVICES_DIR, SERVICES_DIR.parent / "web"]
    named = set().union(*(_named_actions(method, folders) for method in ("scope", "require", "can")))
    assert named <= set(RIGHTS), sorted(named - set(RIGHTS))


def test_the_os_user_may_do_every_action(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        ctx = ServiceContext(session=session, settings=Settings(), actor=Actor.os_user("cli:root"))
        assert all(ctx.authorize(a.name).everything for a in ACTIONS)
