"""The standard JOSE profile: JWS (ES256, or Ed25519 per RFC 9864) inside JWE (ECDH-ES+A256KW, A256GCM).

Sealing goes through joserfc. Opening is the receiver's hot path (≥ 3,000 envelopes/s asked for);
joserfc spends ~0.6 ms of Python per envelope there, so :meth:`JoseProfile.decrypt` and
:meth:`JoseProfile.verify` do exactly RFC 7518 §4.6 (Concat KDF, AES key unwrap, AES-GCM) and §3.4
(ECDSA r||s) with ``cryptography``, accepting only the algorithms above and no ``crit`` extensions.
Both directions are proven against jwcrypto (a library jnx does not use) in the tests.
"""

from __future__ import annotations

import struct
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from joserfc import jwe, jws
from joserfc.registry import HeaderParameter

from jnx.security.encoding import Compact, b64url_decode
from jnx.security.errors import BadSignature, MalformedEnvelope, WrongRecipient
from jnx.security.keys import PrivateKey, PublicKey, Suite

SIGNATURE_ALGS = frozenset({"ES256", "Ed25519"})
KEY_ALG = "ECDH-ES+A256KW"
CONTENT_ENC = "A256GCM"
MAX_BYTES = 16 * 1024 * 1024

_ENVELOPE_HEADERS = {
    "jti": HeaderParameter("unique envelope id", "str"),
    "iat": HeaderParameter("issued at, seconds since the epoch", "int"),
    "exp": HeaderParameter("expiry, seconds since the epoch", "int"),
    "idempotency_key": HeaderParameter("the delivery's idempotency key", "str"),
}


def _jws_registry() -> jws.JWSRegistry:
    registry = jws.JWSRegistry(header_registry=_ENVELOPE_HEADERS, algorithms=sorted(SIGNATURE_ALGS))
    registry.max_payload_length = MAX_BYTES
    registry.max_header_length = 2048
    return registry


def _jwe_registry() -> jwe.JWERegistry:
    registry = jwe.JWERegistry(algorithms=[KEY_ALG, CONTENT_ENC])
    registry.max_ciphertext_length = 2 * MAX_BYTES
    return registry


def _lengthed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _ephemeral_key(header: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    epk = header.get("epk")
    if not isinstance(epk, dict) or epk.get("kty") != "EC" or epk.get("crv") != "P-256":
        raise MalformedEnvelope("JWE header 'epk' must be a P-256 EC public key")
    try:
        x, y = (int.from_bytes(b64url_decode(str(epk[name])), "big") for name in ("x", "y"))
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, ValueError) as exc:  # ValueError also for a point not on the curve
        raise MalformedEnvelope("JWE header 'epk' is not a valid P-256 point") from exc


class JoseProfile:
    """RFC 7515/7516 compact serialization, as any standard JOSE library reads it."""

    suite = Suite.JOSE
    signature_algs = SIGNATURE_ALGS
    key_algs = frozenset({KEY_ALG})

    def __init__(self) -> None:
        self._jws = _jws_registry()
        self._jwe = _jwe_registry()

    def sign(self, header: dict[str, Any], payload: bytes, key: PrivateKey) -> str:
        return jws.serialize_compact(header, payload, key.joserfc(), algorithms=[key.alg], registry=self._jws)

    def encrypt(self, header: dict[str, Any], plaintext: bytes, key: PublicKey) -> str:
        header = {**header, "enc": CONTENT_ENC}
        return jwe.encrypt_compact(header, plaintext, key.joserfc(), algorithms=[KEY_ALG, CONTENT_ENC], registry=self._jwe)

    def verify(self, token: Compact, key: PublicKey) -> bytes:
        header_b64, payload_b64, signature_b64 = token.segments
        header = token.header
        try:
            payload, signature = b64url_decode(payload_b64), b64url_decode(signature_b64)
        except ValueError as exc:
            raise MalformedEnvelope(f"signed part is not a compact JWS: {exc}") from exc
        if "crit" in header or header.get("alg") != key.alg:
            raise MalformedEnvelope(f"JWS header must have alg {key.alg!r} and no 'crit'")
        signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
        native = key.joserfc().public_key
        try:
            if isinstance(native, ed25519.Ed25519PublicKey):
                native.verify(signature, signing_input)
            else:
                if len(signature) != 64:
                    raise InvalidSignature
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                native.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise BadSignature(f"signature by {key.kid!r} does not match: the envelope was altered") from exc
        return payload

    def decrypt(self, token: Compact, key: PrivateKey) -> bytes:
        header_b64, encrypted_key_b64, iv_b64, ciphertext_b64, tag_b64 = token.segments
        header = token.header
        try:
            encrypted_key, iv, ciphertext, tag = (
                b64url_decode(part) for part in (encrypted_key_b64, iv_b64, ciphertext_b64, tag_b64)
            )
            apu, apv = (b64url_decode(str(header.get(name, ""))) for name in ("apu", "apv"))
        except ValueError as exc:
            raise MalformedEnvelope(f"not a compact JWE: {exc}") from exc
        if header.get("alg") != KEY_ALG or header.get("enc") != CONTENT_ENC or "crit" in header or "zip" in header:
            raise MalformedEnvelope(f"JWE header must have alg {KEY_ALG}, enc {CONTENT_ENC}, no 'crit' or 'zip'")
        if len(ciphertext) > 2 * MAX_BYTES:
            raise MalformedEnvelope(f"envelope larger than {2 * MAX_BYTES} bytes")
        epk = _ephemeral_key(header)
        try:
            shared = key.joserfc().private_key.exchange(ec.ECDH(), epk)
            other_info = _lengthed(KEY_ALG.encode()) + _lengthed(apu) + _lengthed(apv) + struct.pack(">I", 256)
            kek = ConcatKDFHash(hashes.SHA256(), 32, other_info).derive(shared)
            cek = aes_key_unwrap(kek, encrypted_key)
            return AESGCM(cek).decrypt(iv, ciphertext + tag, header_b64.encode("ascii"))
        except (InvalidUnwrap, InvalidTag, ValueError, TypeError) as exc:
            raise WrongRecipient(
                f"cannot decrypt with key {key.kid!r}: encrypted to another key, or altered in transit"
            ) from exc
