"""Who acts and in which transaction: :class:`Actor` and :class:`ServiceContext`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.orm import Session

from jnx.security.authorize import Grant
from jnx.security.scope import RowScope
from jnx.services.rights import authorize
from jnx.settings import Settings

ActorKind = Literal["os", "token", "user"]


@dataclass(frozen=True)
class Actor:
    """The OS user at the server (may do everything), a user logged in, or a bearer token (its owner's
    roles and department, narrowed by its scopes)."""

    name: str
    kind: ActorKind
    roles: tuple[str, ...] = ()
    department: str | None = None  # 执法主体 统一社会信用代码
    region: str | None = None
    user_id: int | None = None
    token_id: int | None = None
    scopes: tuple[str, ...] | None = None

    @classmethod
    def os_user(cls, name: str) -> Actor:
        return cls(name=name, kind="os")

    @property
    def audit_name(self) -> str:
        return self.name if self.kind == "os" or ":" in self.name else f"api:{self.name}"

    def grant(self) -> Grant:
        return Grant(who=self.name, roles=list(self.roles), department=self.department, region=self.region,
                     token_scopes=list(self.scopes) if self.kind == "token" and self.scopes is not None else None,
                     everything=self.kind == "os")


Recorder = Callable[[str, str, str, Mapping[str, Any]], None]
"""``record(actor, action, subject, details)``: append an audit entry."""


@dataclass
class ServiceContext:
    session: Session
    settings: Settings
    actor: Actor
    record: Recorder | None = None
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def authorize(self, action: str, *, department: str | None = None) -> RowScope:
        """The rows the actor may touch with ``action``; ``AccessDenied`` (403) when none. See rights.py."""
        return authorize(self.actor.grant(), action, department=department)

    def audit(self, action: str, subject: str, details: Mapping[str, Any]) -> None:
        if self.record is not None:
            self.record(self.actor.audit_name, action, subject, details)
