"""The key store: jnx's own keys and its peers' public keys by kid, private keys encrypted at rest.

Layout under ``<home>/keys`` (folder 0700, files 0600)::

    index.json     format, scrypt parameters and salt, a passphrase check, one record per key
    <kid>.key      {"nonce", "ciphertext"}: the private JWK under AES-256-GCM (AAD = kid), the AES key
                   derived from the passphrase with scrypt — the file never holds the raw key

The file store is the source of truth for key material; :class:`KeyStore` is the port a
database-backed store (metadata in the ``keys`` table) can implement too. Rotation moves the current
keys to ``grace`` (still usable to decrypt and verify until ``grace_until``) and makes new ones
``active``; ``retire`` deletes the private file and keeps the record for the audit trail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from jnx.security.encoding import b64url, b64url_decode
from jnx.security.errors import KeyNotFound, KeyStoreError, WrongPassphrase
from jnx.security.keys import (
    KeyUse,
    PrivateKey,
    PublicKey,
    Suite,
    generate_private_key,
    public_key_from_jwk,
)

INDEX_FORMAT = 1
DEFAULT_GRACE = dt.timedelta(days=7)
_CHECK = b"jnx key store"


class KeyState(str, enum.Enum):
    ACTIVE = "active"
    GRACE = "grace"
    RETIRED = "retired"


class KeyOwner(str, enum.Enum):
    JNX = "jnx"
    PEER = "peer"


@dataclass(frozen=True)
class KeyRecord:
    """What the store knows about a key, without its secret."""

    kid: str
    owner: KeyOwner
    suite: Suite
    use: KeyUse
    alg: str
    state: KeyState
    created_at: dt.datetime
    name: str | None = None
    grace_until: dt.datetime | None = None
    retired_at: dt.datetime | None = None

    def usable(self, now: dt.datetime) -> bool:
        """Active, or in its grace period: may decrypt and verify (only active keys sign/encrypt)."""
        if self.state is KeyState.ACTIVE:
            return True
        return self.state is KeyState.GRACE and self.grace_until is not None and now < self.grace_until


class KeyStore(Protocol):
    """Port of a key store: file-backed here, database-backed possibly later."""

    def records(self) -> list[KeyRecord]: ...
    def public_key(self, kid: str) -> PublicKey: ...
    def private_key(self, kid: str) -> PrivateKey: ...
    def generate(self, suite: Suite, use: KeyUse, *, now: dt.datetime, name: str | None = None) -> KeyRecord: ...
    def import_peer(self, key: PublicKey, *, now: dt.datetime, name: str | None = None) -> KeyRecord: ...
    def rotate(self, suite: Suite, *, now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> list[KeyRecord]: ...
    def retire(self, kid: str, *, now: dt.datetime) -> KeyRecord: ...


def _record_to_json(record: KeyRecord, public_jwk: dict[str, Any]) -> dict[str, Any]:
    data = asdict(record)
    for name, value in data.items():
        if isinstance(value, enum.Enum):
            data[name] = value.value
        elif isinstance(value, dt.datetime):
            data[name] = value.isoformat()
    data["public_jwk"] = public_jwk
    return data


def _record_from_json(data: dict[str, Any]) -> KeyRecord:
    def when(name: str) -> dt.datetime | None:
        return dt.datetime.fromisoformat(data[name]) if data.get(name) else None

    return KeyRecord(
        kid=data["kid"],
        owner=KeyOwner(data["owner"]),
        suite=Suite(data["suite"]),
        use=KeyUse(data["use"]),
        alg=data["alg"],
        state=KeyState(data["state"]),
        created_at=dt.datetime.fromisoformat(data["created_at"]),
        name=data.get("name"),
        grace_until=when("grace_until"),
        retired_at=when("retired_at"),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` atomically to ``path`` with mode 0600 from the first byte."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class FileKeyStore:
    """Keys in files under ``folder``; private keys sealed with a key derived from ``passphrase``.

    ``passphrase`` may be ``None`` for read-only use of public keys (list, export, import-peer).
    """

    def __init__(self, folder: Path, passphrase: str | None, *, scrypt_n: int = 2**15) -> None:
        self.folder = folder
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n
        self._aead: AESGCM | None = None

    # -- index -------------------------------------------------------------------------------------
    def _index_path(self) -> Path:
        return self.folder / "index.json"

    def _load_index(self) -> dict[str, Any]:
        path = self._index_path()
        if not path.exists():
            return {"format": INDEX_FORMAT, "keys": []}
        try:
            index = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"key store index {path} is unreadable: {type(exc).__name__}") from exc
        if index.get("format") != INDEX_FORMAT:
            raise KeyStoreError(f"key store index {path} has format {index.get('format')!r}, expected {INDEX_FORMAT}")
        loaded: dict[str, Any] = index
        return loaded

    def _save_index(self, index: dict[str, Any]) -> None:
        _write_private(self._index_path(), json.dumps(index, indent=2, ensure_ascii=False).encode("utf-8"))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Hold the store's lock while reading, changing and saving the index."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            index = self._load_index()
            yield index
            self._save_index(index)

    # -- sealing private keys ----------------------------------------------------------------------
    def _cipher(self, index: dict[str, Any]) -> AESGCM:
        if self._aead is not None:
            return self._aead
        if self._passphrase is None or self._passphrase == "":
            raise WrongPassphrase("no passphrase given: private keys cannot be used")
        kdf: dict[str, Any] | None = index.get("kdf")
        creating = kdf is None
        if kdf is None:
            kdf = {"name": "scrypt", "n": self._scrypt_n, "r": 8, "p": 1, "salt": b64url(secrets.token_bytes(16))}
        key = Scrypt(salt=b64url_decode(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]).derive(
            self._passphrase.encode("utf-8")
        )
        aead = AESGCM(key)
        if creating:
            nonce = secrets.token_bytes(12)
            index["kdf"] = kdf
            index["check"] = {"nonce": b64url(nonce), "ciphertext": b64url(aead.encrypt(nonce, _CHECK, None))}
        else:
            check = index["check"]
            try:
                aead.decrypt(b64url_decode(check["nonce"]), b64url_decode(check["ciphertext"]), None)
            except InvalidTag as exc:
                raise WrongPassphrase("the passphrase does not open this key store") from exc
        self._aead = aead
        return aead

    def _seal_private(self, index: dict[str, Any], key: PrivateKey) -> None:
        nonce = secrets.token_bytes(12)
        sealed = self._cipher(index).encrypt(nonce, key.secret_jwk_bytes(), key.kid.encode("utf-8"))
        payload = {"format": INDEX_FORMAT, "kid": key.kid, "nonce": b64url(nonce), "ciphertext": b64url(sealed)}
        _write_private(self._key_path(key.kid), json.dumps(payload).encode("utf-8"))

    def _key_path(self, kid: str) -> Path:
        if not kid or any(c in kid for c in "/\\\0") or kid.startswith("."):
            raise KeyStoreError(f"kid {kid!r} cannot name a file")
        return self.folder / f"{kid}.key"

    # -- the port ----------------------------------------------------------------------------------
    def records(self) -> list[KeyRecord]:
        return [_record_from_json(item) for item in self._load_index()["keys"]]

    def record(self, kid: str) -> KeyRecord:
        for record in self.records():
            if record.kid == kid:
                return record
        raise KeyNotFound(f"no key with kid {kid!r}")

    def public_key(self, kid: str) -> PublicKey:
        for item in self._load_index()["keys"]:
            if item["kid"] == kid:
                return public_key_from_jwk(item["public_jwk"], kid=kid, use=KeyUse(item["use"]))
        raise KeyNotFound(f"no key with kid {kid!r}")

    def private_key(self, kid: str) -> PrivateKey:
        index = self._load_index()
        record = self.record(kid)
        if record.owner is not KeyOwner.JNX or record.state is KeyState.RETIRED:
            raise KeyNotFound(f"no private key for kid {kid!r} ({record.owner.value}, {record.state.value})")
        try:
            sealed = json.loads(self._key_path(kid).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyStoreError(f"private key file of {kid!r} is missing or unreadable") from exc
        try:
            plain = self._cipher(index).decrypt(
                b64url_decode(sealed["nonce"]), b64url_decode(sealed["ciphertext"]), kid.encode("utf-8")
            )
        except (InvalidTag, KeyError, ValueError) as exc:
            raise WrongPassphrase(f"the private key file of {kid!r} does not open with this passphrase") from exc
        return PrivateKey.from_secret_jwk_bytes(plain)

    def generate(self, suite: Suite, use: KeyUse, *, now: dt.datetime, name: str | None = None) -> KeyRecord:
        with self._locked() as index:
            return self._generate(index, suite, use, now=now, name=name, grace=DEFAULT_GRACE)

    def _generate(
        self, index: dict[str, Any], suite: Suite, use: KeyUse, *, now: dt.datetime, name: str | None, grace: dt.timedelta
    ) -> KeyRecord:
        kid = f"jnx-{suite.value}-{use.value}-{now:%Y%m%d}-{secrets.token_hex(4)}"
        key = generate_private_key(kid, suite, use)
        self._seal_private(index, key)
        for item in index["keys"]:  # a new key replaces the active one of the same suite and use
            if item["owner"] == "jnx" and item["suite"] == suite.value and item["use"] == use.value and item["state"] == "active":
                item["state"] = KeyState.GRACE.value
                item["grace_until"] = (now + grace).isoformat()
        public = key.public()
        record = KeyRecord(kid, KeyOwner.JNX, suite, use, public.alg, KeyState.ACTIVE, now, name)
        index["keys"].append(_record_to_json(record, dict(public.jwk)))
        return record

    def import_peer(self, key: PublicKey, *, now: dt.datetime, name: str | None = None) -> KeyRecord:
        with self._locked() as index:
            if any(item["kid"] == key.kid for item in index["keys"]):
                raise KeyStoreError(f"kid {key.kid!r} is already in the key store; peers rotate by a new kid")
            record = KeyRecord(key.kid, KeyOwner.PEER, key.suite, key.use, key.alg, KeyState.ACTIVE, now, name)
            index["keys"].append(_record_to_json(record, dict(key.jwk)))
            return record

    def rotate(self, suite: Suite, *, now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE) -> list[KeyRecord]:
        """New signing and encryption keys for ``suite``; the old ones stay usable until ``now + grace``."""
        with self._locked() as index:
            return [self._generate(index, suite, use, now=now, name=None, grace=grace) for use in KeyUse]

    def retire(self, kid: str, *, now: dt.datetime) -> KeyRecord:
        with self._locked() as index:
            for item in index["keys"]:
                if item["kid"] == kid:
                    item["state"] = KeyState.RETIRED.value
                    item["retired_at"] = now.isoformat()
                    if item["owner"] == KeyOwner.JNX.value:
                        with contextlib.suppress(FileNotFoundError):
                            self._key_path(kid).unlink()
                    return _record_from_json(item)
        raise KeyNotFound(f"no key with kid {kid!r}")


# -- what the envelope needs, chosen from a store ---------------------------------------------------
def signing_key(store: KeyStore, suite: Suite) -> PrivateKey:
    """jnx's active signing key of ``suite``."""
    for record in store.records():
        if record.owner is KeyOwner.JNX and record.suite is suite and record.use is KeyUse.SIG and record.state is KeyState.ACTIVE:
            return store.private_key(record.kid)
    raise KeyNotFound(f"no active {suite.value} signing key", hint=f"create one: jnx keys generate --suite {suite.value} --use sig")


def decryption_keys(store: KeyStore, now: dt.datetime) -> list[PrivateKey]:
    """jnx's encryption keys that may still decrypt: active ones and those in their grace period."""
    return [
        store.private_key(r.kid)
        for r in store.records()
        if r.owner is KeyOwner.JNX and r.use is KeyUse.ENC and r.usable(now)
    ]


def trusted_signers(store: KeyStore, now: dt.datetime, *, include_own: bool = False) -> list[PublicKey]:
    """Peers' signing keys (and jnx's own with ``include_own``) that may still verify."""
    owners = {KeyOwner.PEER, KeyOwner.JNX} if include_own else {KeyOwner.PEER}
    return [
        store.public_key(r.kid)
        for r in store.records()
        if r.owner in owners and r.use is KeyUse.SIG and r.usable(now)
    ]


def recipient_key(store: KeyStore, kid: str) -> PublicKey:
    """A peer's active encryption key by kid: the key an envelope is sealed to."""
    for record in store.records():
        if record.kid == kid:
            if record.use is not KeyUse.ENC or record.state is not KeyState.ACTIVE:
                raise KeyNotFound(
                    f"key {kid!r} is a {record.state.value} {record.use.value} key, not an active encryption key",
                    hint="seal to the peer's current encryption key; see jnx keys list",
                )
            return store.public_key(kid)
    raise KeyNotFound(f"no key with kid {kid!r}")
