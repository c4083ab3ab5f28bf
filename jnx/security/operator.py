"""What the ``jnx keys|envelope|receiver`` commands do, as plain functions over a key store, so the
command line stays thin and every step is testable without it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from jnx.errors import InputError
from jnx.security.envelope import DEFAULT_MAX_LIFETIME, DEFAULT_TTL, OpenedEnvelope, open_envelope, seal
from jnx.security.errors import KeyStoreError, WrongPassphrase
from jnx.security.keys import (
    KeyUse,
    PrivateKey,
    PublicKey,
    public_key_from_jwk,
    public_key_from_pem,
)
from jnx.security.keystore import (
    FileKeyStore,
    KeyRecord,
    KeyStore,
    decryption_keys,
    recipient_key,
    signing_key,
    trusted_signers,
)
from jnx.security.receiver import Receiver, SqliteReceiptStore


def key_store(home: Path, passphrase: str | None) -> FileKeyStore:
    """The key store of a jnx home folder (``<home>/keys``)."""
    return FileKeyStore(home / "keys", passphrase)


def read_file(path: Path) -> bytes:
    """A file's bytes, or an InputError that names it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def read_public_key_file(path: Path, *, kid: str | None, use: KeyUse | None) -> PublicKey:
    """A peer's public key from a JWK (JSON) or PEM file."""
    data = read_file(path)
    if data.lstrip().startswith(b"{"):
        try:
            jwk = json.loads(data)
        except ValueError as exc:
            raise InputError(f"{path} is not JSON: {exc}") from exc
        return public_key_from_jwk(jwk, kid=kid, use=use)
    if kid is None or use is None:
        raise InputError("a PEM key carries no kid or use: pass --kid and --use")
    return public_key_from_pem(data, kid=kid, use=use)


def import_peer_file(store: KeyStore, path: Path, *, kid: str | None, use: KeyUse | None, name: str | None, now: dt.datetime) -> KeyRecord:
    return store.import_peer(read_public_key_file(path, kid=kid, use=use), now=now, name=name)


def read_private_key_file(path: Path, *, passphrase: str | None) -> PrivateKey:
    """A decryption key from a private JWK file (any suite) or a PKCS#8 PEM (P-256, optionally
    encrypted with ``passphrase``). The kid is the JWK's, or the PEM file's stem."""
    data = read_file(path)
    if data.lstrip().startswith(b"{"):
        try:
            jwk = json.loads(data)
            kid = str(jwk.pop("kid", path.stem))
            jwk.pop("use", None)
            jwk.pop("alg", None)
            key = PrivateKey(kid, KeyUse.ENC, jwk)
            key.alg  # noqa: B018 - raises for a key that cannot decrypt
            if "d" not in jwk:
                raise ValueError("no private member 'd'")
            return key
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} is not a private JWK: {exc}") from exc
    try:
        native = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    except TypeError as exc:
        raise WrongPassphrase(f"{path} is encrypted: set the key passphrase in the environment") from exc
    except ValueError as exc:
        raise InputError(f"{path} is not a PEM private key, or the passphrase is wrong") from exc
    if not isinstance(native, ec.EllipticCurvePrivateKey):
        raise KeyStoreError(f"{path}: only P-256 PEM keys are read; give SM2 keys as JWK")
    jwk = dict(ECKey.import_key(native).as_dict(private=True))
    return PrivateKey(path.stem, KeyUse.ENC, jwk)


def seal_to(store: KeyStore, kid: str, payload: bytes, *, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL,
            content_type: str = "application/json") -> str:
    """Sign with jnx's active key of the peer's suite, encrypt to the peer's key ``kid``."""
    recipient = recipient_key(store, kid)
    return seal(payload, signer=signing_key(store, recipient.suite), recipient=recipient, now=now, ttl=ttl, content_type=content_type)


def open_with_key(store: KeyStore, token: bytes, key: PrivateKey, *, now: dt.datetime) -> OpenedEnvelope:
    """Decrypt with ``key`` and verify against the peers (and jnx's own keys) in ``store``."""
    return open_envelope(
        token.strip(),
        decryption_keys=[key],
        trusted_signers=trusted_signers(store, now, include_own=True),
        replay_guard=None,
        now=now,
    )


def build_receiver(store: KeyStore, receipts: Path, *, now: dt.datetime,
                   max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME) -> Receiver:
    """A receiver with this store's decryption keys, its peers as trusted signers, receipts signed
    by the store's active signing key (of the suite of the first decryption key)."""
    keys = decryption_keys(store, now)
    if not keys:
        raise KeyStoreError("no usable decryption key", hint="create one: jnx keys generate --use enc")
    return Receiver(
        decryption_keys=keys,
        trusted_signers=trusted_signers(store, now),
        signing_key=signing_key(store, keys[0].suite),
        store=SqliteReceiptStore(receipts),
        max_lifetime=max_lifetime,
    )


@dataclass(frozen=True)
class HomeReceiver:
    """Builds the receiver of a jnx home folder (its key store, receipts in ``receiver.db``) when
    called, with the keys usable at that moment: what each process of ``jnx receiver serve
    --processes N`` runs when it starts. Picklable, so spawned processes get it through their pipe."""

    home: Path
    passphrase: str | None = field(repr=False)
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME

    def __call__(self) -> Receiver:
        return build_receiver(key_store(self.home, self.passphrase), self.home / "receiver.db", now=dt.datetime.now(dt.UTC),
                              max_lifetime=self.max_lifetime)
