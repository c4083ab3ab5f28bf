"""The sandbox credit platform's receive step when pushes arrive sealed (JWS in JWE).

Every record of a push — each item of a batch, or the one record of a single push — travels as
``{"jnx_envelope": "<compact JWE>"}``; the platform opens each with its own decryption key and the
sender's trusted signing key (``jnx.security.envelope.open_envelope``, the receiving library a
platform operator uses), then validates the opened records as it does plain JSON ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jnx.errors import SecurityError
from jnx.sandbox.credit import Unwrap, UnwrapError, plain_json
from jnx.security.envelope import open_envelope
from jnx.security.keys import KeyUse, PrivateKey, PublicKey, Suite, generate_private_key
from jnx.security.keystore import FileKeyStore, KeyOwner

ENVELOPE_FIELD = "jnx_envelope"


def envelope_unwrap(decryption_keys: list[PrivateKey], trusted_signers: list[PublicKey],
                    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> Unwrap:
    """An unwrap that opens every sealed record and refuses anything sent in clear."""

    def open_one(record: Any) -> Any:
        if not isinstance(record, Mapping) or ENVELOPE_FIELD not in record:
            raise UnwrapError("每条记录都须为加密信封 (jnx_envelope)")
        try:
            opened = open_envelope(record[ENVELOPE_FIELD], decryption_keys=decryption_keys,
                                   trusted_signers=trusted_signers, replay_guard=None, now=clock())
        except SecurityError as exc:
            raise UnwrapError(f"信封无法打开: {exc}") from exc
        return json.loads(opened.payload)

    def unwrap(body: bytes, headers: Mapping[str, str]) -> Any:
        document = plain_json(body, headers)
        if isinstance(document, Mapping) and isinstance(document.get("records"), list):
            return {**document, "records": [open_one(r) for r in document["records"]]}
        return open_one(document)

    return unwrap


# ---------------------------------------------------------------- `jnx sandbox serve`'s keys
PLATFORM_KID = "sandbox-credit-enc-1"


def platform_key(folder: Path) -> tuple[PrivateKey, Path]:
    """The sandbox credit platform's encryption key, kept in ``folder`` so a restarted sandbox keeps
    the key jnx was told to trust: created on first use (private JWK 0600, sandbox only), and the
    path of its public JWK for ``jnx keys import-peer``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private, public = folder / "credit-enc.private.jwk", folder / "credit-enc.jwk"
    if private.exists():
        key = PrivateKey.from_secret_jwk_bytes(private.read_bytes())
    else:
        key = generate_private_key(PLATFORM_KID, Suite.JOSE, KeyUse.ENC)
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key.secret_jwk_bytes())
    public.write_text(json.dumps(key.public().to_jwk(), indent=2) + "\n", encoding="utf-8")
    return key, public


def home_signers(home: Path) -> Callable[[], list[PublicKey]]:
    """jnx's own signing keys (active or in grace) read from the key store of ``home`` at every push,
    so keys generated after the sandbox started are trusted too. Public keys only: no passphrase."""

    def signers() -> list[PublicKey]:
        store = FileKeyStore(home / "keys", None)
        now = dt.datetime.now(dt.UTC)
        try:
            return [store.public_key(r.kid) for r in store.records()
                    if r.owner is KeyOwner.JNX and r.use is KeyUse.SIG and r.usable(now)]
        except SecurityError:
            return []

    return signers


def dynamic_envelope_unwrap(decryption_keys: list[PrivateKey], signers: Callable[[], list[PublicKey]]) -> Unwrap:
    """:func:`envelope_unwrap` whose trusted signers are read by ``signers()`` at every push."""

    def unwrap(body: bytes, headers: Mapping[str, str]) -> Any:
        return envelope_unwrap(decryption_keys, signers())(body, headers)

    return unwrap
