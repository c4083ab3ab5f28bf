"""用户 for the console (security administrator): users with their roles, scope and state; disable,
enable and unlock — through :class:`jnx.security.accounts.Accounts`, audited under the viewer's name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from jnx.security.accounts import Accounts
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.roles import ROLE_NAMES_ZH, Role
from jnx.services.console_scope import Viewer
from jnx.settings import AccountSettings


def _accounts(session: Session, settings: AccountSettings, notes: list[tuple[str, str, str, dict[str, Any]]]) -> Accounts:
    return Accounts(session, settings, note=lambda actor, action, subject, details: notes.append((actor, action, subject, details)))


def users(session: Session, viewer: Viewer, settings: AccountSettings) -> list[dict[str, Any]]:
    viewer.scope("users.list")
    accounts = _accounts(session, settings, [])
    return [{"username": u.username, "display_name": u.display_name, "roles": ", ".join(u.roles or []),
             "roles_zh": "、".join(ROLE_NAMES_ZH.get(Role(r), r) for r in u.roles or [] if r in {x.value for x in Role}),
             "department": u.department, "region": u.region, "state": accounts.effective_state(u).value,
             "service": u.service, "totp": u.totp_confirmed_at is not None, "last_login_at": u.last_login_at,
             "must_change_password": u.must_change_password} for u in accounts.all()]


ACTIONS = {"disable": "users.disable", "enable": "users.disable", "unlock": "users.unlock"}


def change_state(session: Session, viewer: Viewer, settings: AccountSettings, audit: SqlAuditStore, username: str,
                 action: str) -> None:
    viewer.scope(ACTIONS[action])
    notes: list[tuple[str, str, str, dict[str, Any]]] = []
    accounts = _accounts(session, settings, notes)
    getattr(accounts, action)(viewer.username, username)
    session.commit()
    for actor, name, subject, details in notes:
        audit.append(actor=actor, action=name, subject=subject, details={**details, "via": "console"}, at=dt.datetime.now(dt.UTC))
