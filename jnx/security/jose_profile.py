"""The standard JOSE profile: JWS (ES256, or Ed25519 per RFC 9864) inside JWE (ECDH-ES+A256KW, A256GCM).

Sealing and opening are the push's hot path (≥ 1,000 envelopes/s end to end, ≥ 3,000/s opened asked
for); joserfc spends ~0.6 ms of Python per envelope in each direction, so all four operations do
exactly RFC 7518 §4.6 (ephemeral ECDH, Concat KDF, AES key wrap, AES-GCM) and §3.4 (ECDSA r||s) with
``cryptography``, accepting only the algorithms above and no ``crit`` extensions. Both directions
are proven against jwcrypto and npm ``jose`` (libraries jnx does not use) in the tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from jnx.security.encoding import Compact, b64url, b64url_decode
from jnx.security.errors import BadSignature, MalformedEnvelope, Tampered, WrongRecipient
from jnx.security.keys import PrivateKey, PublicKey, Suite

SIGNATURE_ALGS = frozenset({"ES256", "Ed25519"})
KEY_ALG = "ECDH-ES+A256KW"
CONTENT_ENC = "A256GCM"
MAX_BYTES = 16 * 1024 * 1024

_CURVE = ec.SECP256R1()
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_ECDH = ec.ECDH()


def _lengthed(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _other_info(apu: bytes, apv: bytes) -> bytes:
    """RFC 7518 §4.6.2 OtherInfo for ECDH-ES+A256KW: AlgorithmID, PartyUInfo, PartyVInfo, keydatalen 256."""
    return _lengthed(KEY_ALG.encode()) + _lengthed(apu) + _lengthed(apv) + struct.pack(">I", 256)


_EMPTY_PARTIES_INFO = _other_info(b"", b"")


_FIRST_ROUND = struct.pack(">I", 1)


def _kek(shared: bytes, other_info: bytes) -> bytes:
    """NIST SP 800-56A Concat KDF with SHA-256 for a 256-bit key: one round, SHA-256(1 ‖ Z ‖ OtherInfo)
    (what ``ConcatKDFHash(SHA256(), 32, other_info).derive(shared)`` computes, without its objects)."""
    return hashlib.sha256(_FIRST_ROUND + shared + other_info).digest()


_HEADER_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # = json.dumps with these options


def _encoded_header(header: dict[str, Any]) -> str:
    return b64url(_HEADER_JSON(header).encode("utf-8"))


def _ephemeral_key(header: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    epk = header.get("epk")
    if not isinstance(epk, dict) or epk.get("kty") != "EC" or epk.get("crv") != "P-256":
        raise MalformedEnvelope("JWE header 'epk' must be a P-256 EC public key")
    try:
        x, y = (b64url_decode(str(epk[name])) for name in ("x", "y"))
        if len(x) != 32 or len(y) != 32:
            raise ValueError("P-256 coordinates are 32 bytes")
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, b"\x04" + x + y)
    except (KeyError, ValueError) as exc:  # ValueError also for a point not on the curve
        raise MalformedEnvelope("JWE header 'epk' is not a valid P-256 point") from exc


class JoseProfile:
    """RFC 7515/7516 compact serialization, as any standard JOSE library reads it."""

    suite = Suite.JOSE
    signature_algs = SIGNATURE_ALGS
    key_algs = frozenset({KEY_ALG})

    def sign(self, header: dict[str, Any], payload: bytes, key: PrivateKey) -> str:
        if header.get("alg") != key.alg or key.alg not in SIGNATURE_ALGS or "crit" in header:
            raise ValueError(f"JWS header must have alg {key.alg!r} (the key's) and no 'crit'")
        if len(payload) > MAX_BYTES:
            raise MalformedEnvelope(f"payload larger than {MAX_BYTES} bytes")
        signing_input = f"{_encoded_header(header)}.{b64url(payload)}"
        native = key.native
        data = signing_input.encode("ascii")
        if isinstance(native, ed25519.Ed25519PrivateKey):
            signature = native.sign(data)
        else:
            r, s = decode_dss_signature(native.sign(data, _ECDSA_SHA256))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64url(signature)}"

    def encrypt(self, header: dict[str, Any], plaintext: bytes, key: PublicKey) -> str:
        if header.get("alg") != KEY_ALG or key.alg != KEY_ALG or "crit" in header or "zip" in header:
            raise ValueError(f"JWE header and key must have alg {KEY_ALG}, and no 'crit' or 'zip'")
        ephemeral = ec.generate_private_key(_CURVE)
        point = ephemeral.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        epk = {"crv": "P-256", "kty": "EC", "x": b64url(point[1:33]), "y": b64url(point[33:])}  # 04 ‖ x ‖ y
        header_b64 = _encoded_header({**header, "enc": CONTENT_ENC, "epk": epk})
        kek = _kek(ephemeral.exchange(_ECDH, key.native), _EMPTY_PARTIES_INFO)
        cek, iv = os.urandom(32), os.urandom(12)
        sealed = AESGCM(cek).encrypt(iv, plaintext, header_b64.encode("ascii"))
        parts = (aes_key_wrap(kek, cek), iv, sealed[:-16], sealed[-16:])
        return ".".join((header_b64, *(b64url(part) for part in parts)))

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
        native = key.native
        try:
            if isinstance(native, ed25519.Ed25519PublicKey):
                native.verify(signature, signing_input)
            else:
                if len(signature) != 64:
                    raise InvalidSignature
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                native.verify(der, signing_input, _ECDSA_SHA256)
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
            other_info = (
                _other_info(*(b64url_decode(str(header.get(name, ""))) for name in ("apu", "apv")))
                if "apu" in header or "apv" in header
                else _EMPTY_PARTIES_INFO
            )
        except ValueError as exc:
            raise MalformedEnvelope(f"not a compact JWE: {exc}") from exc
        if header.get("alg") != KEY_ALG or header.get("enc") != CONTENT_ENC or "crit" in header or "zip" in header:
            raise MalformedEnvelope(f"JWE header must have alg {KEY_ALG}, enc {CONTENT_ENC}, no 'crit' or 'zip'")
        if len(ciphertext) > 2 * MAX_BYTES:
            raise MalformedEnvelope(f"envelope larger than {2 * MAX_BYTES} bytes")
        epk = _ephemeral_key(header)
        try:
            shared = key.native.exchange(_ECDH, epk)
            kek = _kek(shared, other_info)
            cek = aes_key_unwrap(kek, encrypted_key)
        except (InvalidUnwrap, ValueError, TypeError) as exc:
            raise WrongRecipient(
                f"cannot unwrap the content key with key {key.kid!r}: encrypted to another key"
            ) from exc
        if len(iv) != 12 or len(tag) != 16:
            raise MalformedEnvelope("A256GCM needs a 12-byte IV and a 16-byte tag")
        try:  # the key unwrapped: only a change in transit makes the tag fail now
            return AESGCM(cek).decrypt(iv, ciphertext + tag, header_b64.encode("ascii"))
        except (InvalidTag, ValueError) as exc:
            raise Tampered(
                f"the content key unwrapped with {key.kid!r} but the ciphertext fails its tag: altered in transit"
            ) from exc
