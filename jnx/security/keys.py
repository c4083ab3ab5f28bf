"""Key material: jnx's own private keys and peers' public keys, as JWK (RFC 7517) and PEM.

A key is described by its JWK; ``suite`` says which envelope profile it belongs to:

=========  ======  =====================  ===================================
suite      use     key                    algorithm
=========  ======  =====================  ===================================
``jose``   sig     P-256 (or Ed25519)     ES256 (Ed25519, RFC 9864)
``jose``   enc     P-256                  ECDH-ES+A256KW with A256GCM
``sm``     sig     SM2                    SM2-SM3 (jnx-sm profile)
``sm``     enc     SM2                    SM2-PKE with SM4-GCM (jnx-sm profile)
=========  ======  =====================  ===================================

SM2 keys have no registered JWK curve: jnx writes them as ``{"kty": "EC", "crv": "SM2", …}`` and as
PEM SubjectPublicKeyInfo with the SM2 curve OID (1.2.156.10197.1.301), which OpenSSL reads.
``repr()`` of a private key never shows its secret.
"""

from __future__ import annotations

import base64
import enum
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from jnx.security import sm2
from jnx.security.encoding import b64url, b64url_decode
from jnx.security.errors import KeyStoreError

# SubjectPublicKeyInfo prefix for id-ecPublicKey + curve SM2, followed by the 65-byte point.
_SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


class Suite(str, enum.Enum):
    """Envelope profile a key belongs to: standard JOSE, or jnx's national-cryptography profile."""

    JOSE = "jose"
    SM = "sm"


class KeyUse(str, enum.Enum):
    SIG = "sig"
    ENC = "enc"


ALGORITHMS: dict[tuple[Suite, KeyUse, str], str] = {
    (Suite.JOSE, KeyUse.SIG, "Ed25519"): "Ed25519",  # RFC 9864's name for EdDSA over Ed25519
    (Suite.JOSE, KeyUse.SIG, "P-256"): "ES256",
    (Suite.JOSE, KeyUse.ENC, "P-256"): "ECDH-ES+A256KW",
    (Suite.JOSE, KeyUse.ENC, "X25519"): "ECDH-ES+A256KW",
    (Suite.SM, KeyUse.SIG, "SM2"): "SM2-SM3",
    (Suite.SM, KeyUse.ENC, "SM2"): "SM2-PKE",
}
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


def _suite_of(jwk: Mapping[str, Any]) -> Suite:
    return Suite.SM if jwk.get("crv") == "SM2" else Suite.JOSE


def _algorithm(suite: Suite, use: KeyUse, crv: str) -> str:
    try:
        return ALGORITHMS[(suite, use, str(crv))]
    except KeyError:
        known = ", ".join(sorted({c for (_, u, c) in ALGORITHMS if u is use}))
        raise KeyStoreError(f"a {crv!s} key cannot be used for {use.value} (known curves: {known})") from None


@dataclass(frozen=True)
class PublicKey:
    """A public key with its kid and use: a peer's key, or the public half of one of jnx's."""

    kid: str
    use: KeyUse
    jwk: Mapping[str, Any] = field(repr=False)

    @functools.cached_property
    def suite(self) -> Suite:
        return _suite_of(self.jwk)

    @functools.cached_property
    def alg(self) -> str:
        return _algorithm(self.suite, self.use, self.jwk["crv"])

    def to_jwk(self) -> dict[str, Any]:
        """RFC 7517 JWK with ``kid``, ``use`` and ``alg``."""
        return {**{k: self.jwk[k] for k in _PUBLIC_MEMBERS if k in self.jwk}, "kid": self.kid, "use": self.use.value, "alg": self.alg}

    def to_pem(self) -> str:
        if self.suite is Suite.SM:
            der = _SM2_SPKI_PREFIX + self.sm2().to_bytes()
            body = base64.encodebytes(der).decode("ascii").replace("\n", "")
            lines = [body[i : i + 64] for i in range(0, len(body), 64)]
            return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"
        return self.joserfc().as_pem(private=False).decode("ascii")

    @functools.cached_property
    def _joserfc(self) -> ECKey | OKPKey:
        cls = OKPKey if self.jwk["kty"] == "OKP" else ECKey
        return cls.import_key(dict(self.jwk))

    @functools.cached_property
    def _sm2(self) -> sm2.SM2PublicKey:
        return sm2.SM2PublicKey(_int(self.jwk["x"]), _int(self.jwk["y"]))

    def joserfc(self) -> ECKey | OKPKey:
        """The key as joserfc's object (parsed once)."""
        return self._joserfc

    @functools.cached_property
    def native(self) -> Any:
        """The ``cryptography`` public key object (looked up once: the envelope profile's hot path)."""
        return self._joserfc.public_key

    def sm2(self) -> sm2.SM2PublicKey:
        return self._sm2


@dataclass(frozen=True, repr=False)
class PrivateKey:
    """One of jnx's private keys (signing or decryption). Never printed, never logged."""

    kid: str
    use: KeyUse
    _jwk: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"PrivateKey(kid={self.kid!r}, use={self.use.value!r}, <secret>)"

    @functools.cached_property
    def suite(self) -> Suite:
        return _suite_of(self._jwk)

    @functools.cached_property
    def alg(self) -> str:
        return self.public().alg

    def public(self) -> PublicKey:
        return self._public

    @functools.cached_property
    def _public(self) -> PublicKey:
        return PublicKey(self.kid, self.use, {k: self._jwk[k] for k in _PUBLIC_MEMBERS if k in self._jwk})

    @functools.cached_property
    def _joserfc(self) -> ECKey | OKPKey:
        cls = OKPKey if self._jwk["kty"] == "OKP" else ECKey
        return cls.import_key(dict(self._jwk))

    def joserfc(self) -> ECKey | OKPKey:
        """The key as joserfc's object (parsed once)."""
        return self._joserfc

    @functools.cached_property
    def native(self) -> Any:
        """The ``cryptography`` private key object (looked up once: the envelope profile's hot path)."""
        return self._joserfc.private_key

    def sm2(self) -> sm2.SM2PrivateKey:
        return sm2.SM2PrivateKey(_int(self._jwk["d"]))

    def secret_jwk_bytes(self) -> bytes:
        """The private JWK as bytes, only for encrypting it at rest."""
        return json.dumps({**self._jwk, "kid": self.kid, "use": self.use.value}, sort_keys=True).encode("utf-8")

    @classmethod
    def from_secret_jwk_bytes(cls, data: bytes) -> PrivateKey:
        jwk = json.loads(data)
        return cls(jwk.pop("kid"), KeyUse(jwk.pop("use")), jwk)


def _int(member: str) -> int:
    return int.from_bytes(b64url_decode(member), "big")


def generate_private_key(kid: str, suite: Suite, use: KeyUse) -> PrivateKey:
    """A fresh key: P-256 for JOSE (ES256 signatures, ECDH-ES encryption), SM2 for the sm suite."""
    if suite is Suite.SM:
        secret = sm2.SM2PrivateKey.generate()
        point = secret.public_key()
        jwk = {
            "kty": "EC",
            "crv": "SM2",
            "x": b64url(point.x.to_bytes(32, "big")),
            "y": b64url(point.y.to_bytes(32, "big")),
            "d": b64url(secret.d.to_bytes(32, "big")),
        }
    else:
        jwk = {name: str(value) for name, value in ECKey.generate_key("P-256").as_dict(private=True).items()}
    return PrivateKey(kid, use, jwk)


def public_key_from_jwk(data: Mapping[str, Any], *, kid: str | None = None, use: KeyUse | None = None) -> PublicKey:
    """Read a public JWK; ``kid``/``use`` given here win over the JWK's own. Private members are refused."""
    if "d" in data:
        raise KeyStoreError("this JWK holds a private key; import only the peer's public key")
    key_kid = kid or data.get("kid")
    key_use = use or (KeyUse(data["use"]) if data.get("use") in ("sig", "enc") else None)
    if not key_kid or key_use is None:
        raise KeyStoreError("a peer key needs a kid and a use (sig or enc): pass --kid and --use")
    members = {k: data[k] for k in _PUBLIC_MEMBERS if k in data}
    try:
        key = PublicKey(str(key_kid), key_use, members)
        key.sm2() if key.suite is Suite.SM else key.joserfc()
        key.alg  # noqa: B018 - raises for a curve that cannot serve this use
    except (JoseError, KeyError, ValueError) as exc:
        raise KeyStoreError(f"not a usable public JWK: {type(exc).__name__}") from exc
    return key


def public_key_from_pem(pem: bytes, *, kid: str, use: KeyUse) -> PublicKey:
    """Read a PEM SubjectPublicKeyInfo: P-256, Ed25519, X25519 or SM2."""
    try:
        loaded = serialization.load_pem_public_key(pem)
    except UnsupportedAlgorithm:
        return _sm2_from_pem(pem, kid=kid, use=use)
    except ValueError as exc:
        raise KeyStoreError("not a PEM public key (expected -----BEGIN PUBLIC KEY-----)") from exc
    cls = ECKey if isinstance(loaded, ec.EllipticCurvePublicKey) else OKPKey
    try:
        jwk = cls.import_key(pem).as_dict(private=False)
    except JoseError as exc:
        raise KeyStoreError(f"unsupported public key type: {type(loaded).__name__}") from exc
    return public_key_from_jwk(jwk, kid=kid, use=use)


def _sm2_from_pem(pem: bytes, *, kid: str, use: KeyUse) -> PublicKey:
    text = pem.decode("ascii", errors="replace")
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError as exc:
        raise KeyStoreError("not a PEM public key") from exc
    if not der.startswith(_SM2_SPKI_PREFIX):
        raise KeyStoreError("unsupported public key algorithm (supported: P-256, Ed25519, X25519, SM2)")
    try:
        point = sm2.SM2PublicKey.from_bytes(der[len(_SM2_SPKI_PREFIX) :])
    except sm2.SM2Failure as exc:
        raise KeyStoreError(f"bad SM2 public key: {exc}") from exc
    jwk = {"kty": "EC", "crv": "SM2", "x": b64url(point.x.to_bytes(32, "big")), "y": b64url(point.y.to_bytes(32, "big"))}
    return PublicKey(kid, use, jwk)
