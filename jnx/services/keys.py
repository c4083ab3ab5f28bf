"""Keys as users see them: jnx's own and its peers' keys by kid (public halves only), and one public
key exported (JWK or PEM) to give to a peer. Reads the key index, never a private key, so no
passphrase is needed; generating, rotating and retiring stay `jnx keys …` at the server."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel

from jnx.services.context import ServiceContext


class KeyRow(BaseModel):
    kid: str
    owner: str
    suite: str
    use: str
    alg: str
    state: str
    name: str | None
    created_at: dt.datetime
    grace_until: dt.datetime | None


class KeyList(BaseModel):
    keys: list[KeyRow]


class PublicKeyExport(BaseModel):
    kid: str
    format: Literal["jwk", "pem"]
    jwk: dict[str, Any] | None = None
    pem: str | None = None


def _store(ctx: ServiceContext) -> Any:
    from jnx.security.operator import key_store

    return key_store(ctx.settings.home, None)


def key_row(record: Any) -> KeyRow:
    return KeyRow(kid=record.kid, owner=record.owner.value, suite=record.suite.value, use=record.use.value, alg=record.alg,
                  state=record.state.value, name=record.name, created_at=record.created_at, grace_until=record.grace_until)


def list_keys(ctx: ServiceContext) -> KeyList:
    """Every key (``jnx keys list --json``, ``GET /api/v1/keys``)."""
    ctx.authorize("keys.list")
    store = _store(ctx)
    return KeyList(keys=[key_row(r) for r in store.records()] if (ctx.settings.home / "keys").exists() else [])


def export_public(ctx: ServiceContext, kid: str, fmt: Literal["jwk", "pem"] = "jwk") -> PublicKeyExport:
    """One public key (never a private one): ``jnx keys export-public KID --json``, ``GET /api/v1/keys/{kid}``."""
    from jnx.security.errors import KeyNotFound

    ctx.authorize("keys.list")
    if not (ctx.settings.home / "keys").exists():
        raise KeyNotFound(f"no key with kid {kid!r}")
    key = _store(ctx).public_key(kid)
    if fmt == "pem":
        return PublicKeyExport(kid=kid, format="pem", pem=key.to_pem())
    return PublicKeyExport(kid=kid, format="jwk", jwk=key.to_jwk())
