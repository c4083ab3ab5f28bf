"""What ``jnx users`` and ``jnx tokens`` share: accounts in one audited transaction, as the OS user.

Every entry carries its outcome and the command's correlation id (:mod:`jnx.security.trace`); a
change that fails leaves a ``failed`` entry of its own, since its transaction was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from jnx.commands._context import audit, cli_actor, load_settings, open_engine, record_audit, transaction
from jnx.errors import JnxError, StorageError
from jnx.security.accounts import Accounts
from jnx.security.tokens import Tokens
from jnx.security.trace import Outcome, traced
from jnx.store.errors import SchemaNotReadyError

T = TypeVar("T")


def with_accounts(work: Callable[[Accounts, Tokens, str], T], *, action: str | None = None, subject: str = "") -> T:
    """Run ``work(accounts, tokens, actor)`` in one transaction; ``action`` names a change, audited as
    failed when it raises."""
    settings = load_settings()
    # the command's correlation id (set by jnx.cli.main) is in force for every entry
    try:
        with transaction(settings) as session:
            def note(actor: str, noted: str, about: str, details: dict[str, Any]) -> None:
                record_audit(session, noted, about, traced(noted, details))

            accounts = Accounts(session, settings.accounts, note=note)
            tokens = Tokens(session, settings.accounts, note=note)
            return work(accounts, tokens, cli_actor())
    except (StorageError, SchemaNotReadyError):
        raise
    except JnxError as exc:
        if action is not None:
            with open_engine(settings) as engine:
                audit(engine, action, subject, traced(action, {"error": str(exc)}, Outcome.FAILED))
        raise
