"""SM2 as jnx implements it agrees with gmssl and with OpenSSL, both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from gmssl import sm2 as gmssl_sm2

from jnx.security import sm2
from jnx.security.keys import KeyUse, PublicKey, Suite, generate_private_key

MESSAGE = "济宁市行政执法监督平台".encode()


def _gmssl(private: sm2.SM2PrivateKey) -> gmssl_sm2.CryptSM2:
    crypt = gmssl_sm2.CryptSM2(private_key=f"{private.d:064x}", public_key="00", mode=1)
    point = private.public_key()
    crypt.public_key = f"{point.x:064x}{point.y:064x}"  # set directly: gmssl's lstrip("04") mangles keys
    return crypt


def test_signatures_verify_across_implementations() -> None:
    private = sm2.SM2PrivateKey.generate()
    crypt = _gmssl(private)
    assert crypt.verify_with_sm3(sm2.sign(private, MESSAGE).hex(), MESSAGE)
    gmssl_signature = bytes.fromhex(crypt.sign_with_sm3(MESSAGE, f"{sm2.SM2PrivateKey.generate().d:064x}"))
    assert sm2.verify(private.public_key(), MESSAGE, gmssl_signature)


def test_a_changed_message_or_signature_does_not_verify() -> None:
    private = sm2.SM2PrivateKey.generate()
    signature = sm2.sign(private, MESSAGE)
    assert not sm2.verify(private.public_key(), MESSAGE + b".", signature)
    assert not sm2.verify(private.public_key(), MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not sm2.verify(private.public_key(), MESSAGE, b"\x00" * 64)
    assert not sm2.verify(sm2.SM2PrivateKey.generate().public_key(), MESSAGE, signature)


def test_encryption_decrypts_across_implementations() -> None:
    private = sm2.SM2PrivateKey.generate()
    ours = sm2.encrypt(private.public_key(), MESSAGE)
    assert _gmssl(private).decrypt(ours[1:]) == MESSAGE  # gmssl omits the 04 of C1
    theirs = b"\x04" + _gmssl(private).encrypt(MESSAGE)
    assert sm2.decrypt(private, theirs) == MESSAGE


def test_an_altered_ciphertext_fails_its_c3_check() -> None:
    private = sm2.SM2PrivateKey.generate()
    ciphertext = bytearray(sm2.encrypt(private.public_key(), MESSAGE))
    ciphertext[-1] ^= 1
    with pytest.raises(sm2.SM2Failure, match="C3"):
        sm2.decrypt(private, bytes(ciphertext))


def test_points_off_the_curve_are_refused() -> None:
    with pytest.raises(sm2.SM2Failure):
        sm2.SM2PublicKey(1, 2)


def _openssl_has_sm2() -> bool:
    if shutil.which("openssl") is None:
        return False
    listed = subprocess.run(["openssl", "list", "-public-key-algorithms"], capture_output=True, text=True, check=False)
    return "SM2" in listed.stdout


@pytest.mark.skipif(not _openssl_has_sm2(), reason="this OpenSSL has no SM2")
def test_openssl_verifies_a_jnx_sm2_signature_with_jnx_pem_public_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = generate_private_key("k", Suite.SM, KeyUse.SIG)
    (tmp_path / "pub.pem").write_text(key.public().to_pem())
    (tmp_path / "msg").write_bytes(MESSAGE)
    raw = sm2.sign(key.sm2(), MESSAGE)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    (tmp_path / "sig").write_bytes(der)
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3",
         "-in", "msg", "-sigfile", "sig", "-pkeyopt", "distid:1234567812345678"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0 and "Success" in done.stdout, done.stdout + done.stderr


@pytest.mark.skipif(not _openssl_has_sm2(), reason="this OpenSSL has no SM2")
def test_an_openssl_sm2_public_key_imports_from_pem(tmp_path: Path) -> None:
    from jnx.security.keys import public_key_from_pem

    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", "k.pem"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", "k.pem", "-pubout", "-out", "p.pem"], cwd=tmp_path, check=True, capture_output=True)
    key = public_key_from_pem((tmp_path / "p.pem").read_bytes(), kid="peer", use=KeyUse.ENC)
    assert key.suite is Suite.SM
    assert key.to_pem() == (tmp_path / "p.pem").read_text()
    assert isinstance(key, PublicKey)
