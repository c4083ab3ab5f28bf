"""The credit platform as the commands reach it: the registered system, the key store its pushes are
sealed with, and the outbox wired to both (``jnx disclosures deliver``, ``jnx reconcile credit`` and
the delivery passes of ``jnx serve``)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from jnx.adapters.config import MappingSecrets
from jnx.commands._context import open_engine
from jnx.errors import ConfigError
from jnx.exchange.registry import RegisteredSystem, SystemRegistry
from jnx.publicity.delivery import CreditOutbox, credit_outbox
from jnx.publicity.derive import credit_system
from jnx.settings import Settings
from jnx.store.db import session_factory


def credit_platform(settings: Settings, system_id: str | None, engine: Engine | None = None) -> RegisteredSystem:
    if engine is None:
        with open_engine(settings) as opened:
            return credit_platform(settings, system_id, opened)
    with session_factory(engine)() as session:
        if system_id is not None:
            chosen = SystemRegistry().get(session, system_id)
            if chosen.kind != "credit":
                raise ConfigError(f"system {chosen.id!r} is of kind {chosen.kind!r}, not a credit platform",
                                  hint="give --system the id of a system registered with `kind: credit` (`jnx systems list`)")
            return chosen
        system = credit_system(session)
    if system is None:
        raise ConfigError("no enabled system of kind `credit` is registered",
                          hint="register the credit platform with `jnx systems register FILE` (kind: credit, a push section)")
    return system


def key_store_for(settings: Settings, system: RegisteredSystem, environment: Mapping[str, str] | None = None) -> Any:
    from jnx.publicity.delivery import sends_in_clear

    if sends_in_clear(system):
        return None
    from jnx.security.operator import key_store

    passphrase = (os.environ if environment is None else environment).get(settings.key_passphrase_env)
    if not passphrase:
        raise ConfigError(f"system {system.id!r} seals its pushes but {settings.key_passphrase_env} is empty: nothing was pushed",
                          hint=f"export {settings.key_passphrase_env}=… so jnx can use its signing key")
    return key_store(settings.home, passphrase)


@contextmanager
def credit_delivery(settings: Settings, engine: Engine, environment: Mapping[str, str], *, system: str | None = None,
                    worker_id: str = "jnx-outbox") -> Iterator[CreditOutbox]:
    """The outbox wired to the registered credit platform — its pushers, the sealer from the key store,
    the audit chain — as `jnx disclosures deliver` and each delivery pass of `jnx serve` use it."""
    from jnx.commands._context import anchor_log
    from jnx.security.audit_sql import SqlAuditStore

    credit = credit_platform(settings, system, engine)
    with credit_outbox(engine, credit, MappingSecrets(dict(environment)), keys=key_store_for(settings, credit, environment),
                       audit=SqlAuditStore(engine, anchors=anchor_log(settings)), worker_id=worker_id,
                       seal_processes=settings.seal_processes) as wired:
        yield wired
