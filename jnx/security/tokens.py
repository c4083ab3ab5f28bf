"""API tokens for machines: owned by a user or a named service account, with scopes and an expiry.

The token is ``jnx_`` and 43 URL-safe characters (256 random bits), shown once when made; the
database keeps its SHA-256 and the first 12 characters (to recognise it in a list). A token acts
with its owner's roles and department, narrowed by its scopes (:mod:`jnx.security.authorize`), so
it never holds more than its owner; a disabled owner's tokens stop working, a locked one's too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.errors import NotFoundError
from jnx.security.account_errors import AccountError, AccountInputError
from jnx.security.accounts import Accounts, Note, subject_of
from jnx.security.authorize import Grant, token_fits_owner
from jnx.settings import AccountSettings
from jnx.store.models import ApiToken, User, UserState

PREFIX = "jnx_"


class TokenRejected(AccountError):
    """A bearer token that is unknown, revoked, expired or whose owner may not act."""

    http_status = 401
    code = "JNX-TOKEN-REJECTED"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the bearer token is not accepted ({reason})",
                         hint="ask a security administrator for a new token: jnx tokens create --user USER --name NAME")
        self.reason = reason


class TokenNotFound(NotFoundError):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"no token {token_id}", hint="list the tokens with: jnx tokens list")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenView(BaseModel):
    id: int
    user: str
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    active: bool


@dataclass(frozen=True)
class Issued:
    token: str
    view: TokenView


class Tokens:
    def __init__(self, session: Session, settings: AccountSettings, *, note: Note,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.session = session
        self.settings = settings
        self.note = note
        self.clock = clock

    def view(self, row: ApiToken, owner: User | None = None) -> TokenView:
        owner = owner or self.session.get(User, row.user_id)
        now = self.clock()
        return TokenView(
            id=row.id, user=owner.username if owner else "?", name=row.name, prefix=row.prefix, scopes=list(row.scopes),
            created_by=row.created_by, created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
            last_used_at=row.last_used_at, active=row.revoked_at is None and row.expires_at > now,
        )

    def create(self, actor: str, username: str, name: str, *, scopes: Sequence[str] = ("*",),
               days: int | None = None) -> Issued:
        owner = Accounts(self.session, self.settings, note=self.note, clock=self.clock).get(username)
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountInputError("a token needs a name of 1-100 characters", hint="--name NAME (what uses it)")
        if self.session.scalars(select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.name == name)).first():
            raise AccountInputError(f"user {owner.username!r} already has a token named {name!r}",
                                    hint="choose another --name, or revoke the old token first")
        scope_list = [s.strip() for s in scopes if s.strip()] or ["*"]
        bad = token_fits_owner(scope_list, list(owner.roles))
        if bad:
            raise AccountInputError(
                f"scopes {', '.join(bad)} give {owner.username} nothing (a token never holds more than its owner)",
                hint="scopes are action names (errors.list), areas (errors.*), read or * (see docs/accounts.md)",
            )
        days = self.settings.token_default_days if days is None else days
        if not 1 <= days <= self.settings.token_max_days:
            raise AccountInputError(f"a token lasts 1 to {self.settings.token_max_days} days, not {days}")
        now = self.clock()
        token = PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(user_id=owner.id, name=name, token_hash=token_hash(token), prefix=token[:12], scopes=scope_list,
                       created_by=actor, created_at=now, expires_at=now + dt.timedelta(days=days))
        self.session.add(row)
        self.session.flush()
        self.note(actor, "token.created", subject_of(owner.username), {
            "token_id": row.id, "name": name, "scopes": scope_list, "expires_at": row.expires_at.isoformat(timespec="seconds"),
        })
        return Issued(token=token, view=self.view(row, owner))

    def all(self, username: str | None = None) -> list[TokenView]:
        query = select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(User.username, ApiToken.id)
        if username is not None:
            query = query.where(User.username == username.strip().lower())
        return [self.view(row, owner) for row, owner in self.session.execute(query).all()]

    def revoke(self, actor: str, token_id: int) -> TokenView:
        row = self.session.get(ApiToken, token_id)
        if row is None:
            raise TokenNotFound(token_id)
        owner = self.session.get(User, row.user_id)
        if row.revoked_at is None:
            row.revoked_at = self.clock()
            self.note(actor, "token.revoked", subject_of(owner.username if owner else "?"), {"token_id": row.id,
                                                                                             "name": row.name})
        return self.view(row, owner)

    def authenticate(self, token: str) -> tuple[ApiToken, User, Grant]:
        """The token's row, its owner and the grant it acts with; :class:`TokenRejected` otherwise."""
        if not token.startswith(PREFIX):
            raise TokenRejected("unknown")
        row = self.session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
        if row is None:
            raise TokenRejected("unknown")
        now = self.clock()
        if row.revoked_at is not None:
            raise TokenRejected("revoked")
        if row.expires_at <= now:
            raise TokenRejected("expired")
        owner = self.session.get(User, row.user_id)
        accounts = Accounts(self.session, self.settings, note=self.note, clock=self.clock)
        if owner is None or accounts.effective_state(owner, now) is not UserState.ACTIVE:
            raise TokenRejected("its owner is disabled or locked")
        if row.last_used_at is None or now - row.last_used_at >= dt.timedelta(minutes=1):
            row.last_used_at = now
        grant = Grant(who=f"{owner.username}/token:{row.name}", roles=list(owner.roles), department=owner.department,
                      region=owner.region, token_scopes=list(row.scopes))
        return row, owner, grant
