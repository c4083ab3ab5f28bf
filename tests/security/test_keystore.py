"""The key store: private keys encrypted at rest, clear passphrase errors, rotation with a grace
period, retirement, and public keys in and out as JWK and PEM."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from jnx.security.errors import KeyNotFound, KeyStoreError, WrongPassphrase
from jnx.security.keys import (
    KeyUse,
    Suite,
    generate_private_key,
    public_key_from_jwk,
    public_key_from_pem,
)
from jnx.security.keystore import (
    FileKeyStore,
    KeyOwner,
    KeyState,
    decryption_keys,
    recipient_key,
    signing_key,
    trusted_signers,
)
from tests.security.conftest import NOW

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def store(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "keys", PASSPHRASE, scrypt_n=2**14)


@pytest.mark.parametrize("suite", list(Suite), ids=lambda s: s.value)
def test_private_key_file_holds_no_raw_key_and_is_0600(store: FileKeyStore, suite: Suite) -> None:
    record = store.generate(suite, KeyUse.SIG, now=NOW)
    secret = json.loads(store.private_key(record.kid).secret_jwk_bytes())["d"]
    key_file = store.folder / f"{record.kid}.key"
    for path in (key_file, store.folder / "index.json"):
        assert secret not in path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.private_key(record.kid).public() == store.public_key(record.kid)


def test_wrong_passphrase_is_a_clear_error(store: FileKeyStore) -> None:
    record = store.generate(Suite.JOSE, KeyUse.ENC, now=NOW)
    other = FileKeyStore(store.folder, "wrong passphrase")
    with pytest.raises(WrongPassphrase) as caught:
        other.private_key(record.kid)
    assert "passphrase" in str(caught.value) and caught.value.hint
    assert PASSPHRASE not in str(caught.value)
    with pytest.raises(WrongPassphrase):
        FileKeyStore(store.folder, None).private_key(record.kid)


def test_a_private_key_file_swapped_for_another_kid_does_not_open(store: FileKeyStore) -> None:
    first = store.generate(Suite.JOSE, KeyUse.ENC, now=NOW)
    second = store.generate(Suite.JOSE, KeyUse.SIG, now=NOW)
    (store.folder / f"{first.kid}.key").write_bytes((store.folder / f"{second.kid}.key").read_bytes())
    with pytest.raises(WrongPassphrase):
        store.private_key(first.kid)


def test_rotation_keeps_old_keys_for_decryption_and_verification_until_grace_ends(store: FileKeyStore) -> None:
    old_sig = store.generate(Suite.JOSE, KeyUse.SIG, now=NOW)
    old_enc = store.generate(Suite.JOSE, KeyUse.ENC, now=NOW)
    new_sig, new_enc = store.rotate(Suite.JOSE, now=NOW, grace=dt.timedelta(days=3))

    assert signing_key(store, Suite.JOSE).kid == new_sig.kid
    during = NOW + dt.timedelta(days=1)
    assert {k.kid for k in decryption_keys(store, during)} == {old_enc.kid, new_enc.kid}
    assert {k.kid for k in trusted_signers(store, during, include_own=True)} == {old_sig.kid, new_sig.kid}
    after = NOW + dt.timedelta(days=4)
    assert {k.kid for k in decryption_keys(store, after)} == {new_enc.kid}
    assert store.record(old_enc.kid).state is KeyState.GRACE


def test_retire_deletes_the_private_key_and_keeps_the_record(store: FileKeyStore) -> None:
    record = store.generate(Suite.SM, KeyUse.ENC, now=NOW)
    retired = store.retire(record.kid, now=NOW)
    assert retired.state is KeyState.RETIRED and retired.retired_at == NOW
    assert not (store.folder / f"{record.kid}.key").exists()
    with pytest.raises(KeyNotFound):
        store.private_key(record.kid)
    assert decryption_keys(store, NOW) == []


@pytest.mark.parametrize("suite", list(Suite), ids=lambda s: s.value)
def test_public_keys_round_trip_as_jwk_and_pem(suite: Suite) -> None:
    public = generate_private_key("peer-1", suite, KeyUse.ENC).public()
    jwk = public.to_jwk()
    assert "d" not in jwk and jwk["kid"] == "peer-1" and jwk["use"] == "enc"
    assert public_key_from_jwk(jwk) == public
    assert public_key_from_pem(public.to_pem().encode(), kid="peer-1", use=KeyUse.ENC) == public


def test_importing_a_private_jwk_as_peer_key_is_refused() -> None:
    private = generate_private_key("peer-1", Suite.JOSE, KeyUse.ENC)
    with pytest.raises(KeyStoreError, match="private"):
        public_key_from_jwk(json.loads(private.secret_jwk_bytes()))


def test_imported_peer_is_the_recipient_and_duplicate_kids_are_refused(store: FileKeyStore) -> None:
    peer = generate_private_key("credit-sd-2026", Suite.JOSE, KeyUse.ENC).public()
    record = store.import_peer(peer, now=NOW, name="信用山东")
    assert record.owner is KeyOwner.PEER and record.name == "信用山东"
    assert recipient_key(store, "credit-sd-2026") == peer
    with pytest.raises(KeyStoreError, match="already"):
        store.import_peer(peer, now=NOW)
    with pytest.raises(KeyNotFound):
        recipient_key(store, "nobody")


def test_repr_of_a_private_key_shows_no_secret() -> None:
    key = generate_private_key("k", Suite.JOSE, KeyUse.SIG)
    assert json.loads(key.secret_jwk_bytes())["d"] not in repr(key)
    assert "<secret>" in repr(key)


def test_kids_that_would_escape_the_folder_are_refused(store: FileKeyStore) -> None:
    with pytest.raises(KeyStoreError):
        store._key_path("../etc/passwd")
