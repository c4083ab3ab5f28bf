"""Rights of the service layer: the one table is :data:`jnx.security.rights.RIGHTS` (roles × actions,
``all``/``own``), printed in docs/accounts.md and the source of the generated role × action tests.
Owner: the accounts work (issue 16) — change the table there, not here."""

from __future__ import annotations

from jnx.security.authorize import Grant, decide
from jnx.security.rights import ACTIONS, RIGHTS, Access
from jnx.security.scope import RowScope

__all__ = ["ACTIONS", "RIGHTS", "Access", "authorize"]


def authorize(grant: Grant, action: str, *, department: str | None = None) -> RowScope:
    """Check ``action`` for the actor's ``grant`` and answer its row scope, or raise ``AccessDenied`` (403).

    The face that called the service audits the refusal (``access.denied``, outcome denied) once the
    transaction is rolled back, so the trace stays though nothing else does."""
    return decide(grant, action, department=department)
