"""jnx-sm: jnx's national-cryptography profile in the same compact shapes as JWS and JWE.

* signature ``alg: "SM2-SM3"``: SM2 over SM3 (GB/T 32918.2, default user id ``1234567812345678``) of
  the JWS signing input ``BASE64URL(header) . BASE64URL(payload)``; signature ``r || s``, 64 bytes.
* key transport ``alg: "SM2-PKE"``: a fresh 16-byte SM4 key, SM2-encrypted (GB/T 32918.4,
  ``C1 || C3 || C2``) to the recipient, is the JWE Encrypted Key.
* content ``enc: "SM4-GCM"``: SM4 in GCM mode, 12-byte IV, 16-byte tag, AAD = ASCII of the
  encoded protected header (as RFC 7516 §5.1 step 14).

No registered JOSE algorithm names exist for these: see docs/security.md for the interop caveat.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from jnx.security import sm2
from jnx.security.encoding import Compact, b64url, b64url_decode
from jnx.security.errors import BadSignature, MalformedEnvelope, Tampered, WrongRecipient
from jnx.security.keys import PrivateKey, PublicKey, Suite

SIGNATURE_ALG = "SM2-SM3"
KEY_ALG = "SM2-PKE"
CONTENT_ENC = "SM4-GCM"
MAX_BYTES = 16 * 1024 * 1024  # as the JOSE profile: payload at most 16 MiB, ciphertext twice that


def _encode_header(header: dict[str, Any]) -> str:
    return b64url(json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _sm4_gcm_encrypt(key: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return ciphertext, encryptor.tag


def _sm4_gcm_decrypt(key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(iv, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(ciphertext) + decryptor.finalize()


class SmProfile:
    """SM2 / SM3 / SM4-GCM in JWS/JWE compact form."""

    suite = Suite.SM
    signature_algs = frozenset({SIGNATURE_ALG})
    key_algs = frozenset({KEY_ALG})

    def sign(self, header: dict[str, Any], payload: bytes, key: PrivateKey) -> str:
        if header.get("alg") != SIGNATURE_ALG or key.alg != SIGNATURE_ALG or "crit" in header:
            raise ValueError(f"JWS header must have alg {SIGNATURE_ALG!r} (the key's) and no 'crit'")
        if len(payload) > MAX_BYTES:
            raise MalformedEnvelope(f"payload larger than {MAX_BYTES} bytes")
        signing_input = f"{_encode_header(header)}.{b64url(payload)}"
        signature = sm2.sign(key.sm2(), signing_input.encode("ascii"))
        return f"{signing_input}.{b64url(signature)}"

    def verify(self, token: Compact, key: PublicKey) -> bytes:
        header_b64, payload_b64, signature_b64 = token.segments
        header = token.header
        if "crit" in header or header.get("alg") != SIGNATURE_ALG or key.alg != SIGNATURE_ALG:
            raise MalformedEnvelope(f"JWS header must have alg {SIGNATURE_ALG!r} and no 'crit'")
        if len(payload_b64) > MAX_BYTES * 4 // 3 + 4:
            raise MalformedEnvelope(f"payload larger than {MAX_BYTES} bytes")
        try:
            payload, signature = b64url_decode(payload_b64), b64url_decode(signature_b64)
        except ValueError as exc:
            raise MalformedEnvelope(f"signed part is not a compact JWS: {exc}") from exc
        try:
            valid = sm2.verify(key.sm2(), f"{header_b64}.{payload_b64}".encode("ascii"), signature)
        except (sm2.SM2Failure, ValueError) as exc:
            raise BadSignature(f"signature by {key.kid!r} cannot be checked: {exc}") from exc
        if not valid:
            raise BadSignature(f"signature by {key.kid!r} does not match: the envelope was altered")
        return payload

    def encrypt(self, header: dict[str, Any], plaintext: bytes, key: PublicKey) -> str:
        if header.get("alg") != KEY_ALG or key.alg != KEY_ALG or "crit" in header or "zip" in header:
            raise ValueError(f"JWE header and key must have alg {KEY_ALG}, and no 'crit' or 'zip'")
        header_b64 = _encode_header({**header, "enc": CONTENT_ENC})
        cek, iv = secrets.token_bytes(16), secrets.token_bytes(12)
        encrypted_key = sm2.encrypt(key.sm2(), cek)
        ciphertext, tag = _sm4_gcm_encrypt(cek, iv, plaintext, header_b64.encode("ascii"))
        return ".".join([header_b64, b64url(encrypted_key), b64url(iv), b64url(ciphertext), b64url(tag)])

    def decrypt(self, token: Compact, key: PrivateKey) -> bytes:
        header_b64, *rest = token.segments
        header = token.header
        if header.get("alg") != KEY_ALG or header.get("enc") != CONTENT_ENC or "crit" in header or "zip" in header:
            raise MalformedEnvelope(f"JWE header must have alg {KEY_ALG}, enc {CONTENT_ENC}, no 'crit' or 'zip'")
        if len(rest[2]) > 2 * MAX_BYTES * 4 // 3 + 4:
            raise MalformedEnvelope(f"envelope larger than {2 * MAX_BYTES} bytes")
        try:
            encrypted_key, iv, ciphertext, tag = (b64url_decode(part) for part in rest)
        except ValueError as exc:
            raise MalformedEnvelope(f"not a compact JWE: {exc}") from exc
        try:  # SM2 checks its own C3 hash: a success means the key was ours
            cek = sm2.decrypt(key.sm2(), encrypted_key)
        except (sm2.SM2Failure, ValueError) as exc:
            raise WrongRecipient(f"cannot unwrap the content key with key {key.kid!r}: encrypted to another key") from exc
        if len(cek) != 16 or len(iv) != 12 or len(tag) != 16:
            raise MalformedEnvelope("SM4-GCM needs a 16-byte key, a 12-byte IV and a 16-byte tag")
        try:
            return _sm4_gcm_decrypt(cek, iv, ciphertext, tag, header_b64.encode("ascii"))
        except (InvalidTag, ValueError) as exc:
            raise Tampered(
                f"the content key unwrapped with {key.kid!r} but the ciphertext fails its tag: altered in transit"
            ) from exc
