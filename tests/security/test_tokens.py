"""API tokens on SQLite and PostgreSQL: owned, scoped, expiring, revocable, never more than the owner."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jnx.security.account_errors import AccessDenied, AccountInputError
from jnx.security.accounts import Accounts
from jnx.security.authorize import decide
from jnx.security.tokens import TokenRejected, Tokens
from jnx.store.db import session_factory
from jnx.store.models import ApiToken
from tests.security.accounts_support import DEPT_A, GOOD_PASSWORD, Clock, Notes, fast_settings


class Box:
    def __init__(self, engine: Engine) -> None:
        self.engine, self.clock, self.notes, self.settings = engine, Clock(), Notes(), fast_settings()

    def run(self, work):  # type: ignore[no-untyped-def]
        with session_factory(self.engine).begin() as session:
            return work(Tokens(session, self.settings, note=self.notes, clock=self.clock),
                        Accounts(session, self.settings, note=self.notes, clock=self.clock))


@pytest.fixture
def box(migrated_engine: Engine) -> Box:
    box = Box(migrated_engine)
    box.run(lambda t, a: a.add("cli:root", "li.si", roles=["department-officer"], password=GOOD_PASSWORD, department=DEPT_A))
    box.run(lambda t, a: a.add("cli:root", "bot", roles=["operator"], password=None, service=True))
    return box


def test_a_token_acts_with_its_owners_roles_and_scope(box: Box) -> None:
    issued = box.run(lambda t, a: t.create("cli:root", "li.si", "nightly", scopes=["read"]))
    assert issued.token.startswith("jnx_") and len(issued.token) > 40 and issued.view.active
    grant = box.run(lambda t, a: t.authenticate(issued.token)[2])
    assert decide(grant, "errors.list").department == DEPT_A
    with pytest.raises(AccessDenied):
        decide(grant, "errors.replay")  # the token says read only
    with Session(box.engine) as session:
        stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash != issued.token and issued.token not in str(stored.__dict__)
    assert box.notes.actions()[-1] == "token.created"


def test_a_token_may_not_claim_more_than_its_owner(box: Box) -> None:
    with pytest.raises(AccountInputError, match="never holds more than its owner"):
        box.run(lambda t, a: t.create("cli:root", "li.si", "grab", scopes=["users.*"]))
    with pytest.raises(AccountInputError, match="1 to 366 days"):
        box.run(lambda t, a: t.create("cli:root", "bot", "long", days=1000))


def test_expired_revoked_and_disabled_owners_tokens_are_refused(box: Box) -> None:
    first = box.run(lambda t, a: t.create("cli:root", "bot", "a", days=1)).token
    second = box.run(lambda t, a: t.create("cli:root", "bot", "b")).token
    box.clock.advance(days=1)
    with pytest.raises(TokenRejected, match="expired"):
        box.run(lambda t, a: t.authenticate(first))
    token_id = box.run(lambda t, a: t.all("bot")[1].id)
    box.run(lambda t, a: t.revoke("sec", token_id))
    with pytest.raises(TokenRejected, match="revoked"):
        box.run(lambda t, a: t.authenticate(second))
    third = box.run(lambda t, a: t.create("cli:root", "bot", "c")).token
    box.run(lambda t, a: a.disable("sec", "bot"))
    with pytest.raises(TokenRejected, match="disabled"):
        box.run(lambda t, a: t.authenticate(third))
    with pytest.raises(TokenRejected, match="unknown"):
        box.run(lambda t, a: t.authenticate("jnx_forged"))
    assert [v.active for v in box.run(lambda t, a: t.all())] == [False, False, True]
