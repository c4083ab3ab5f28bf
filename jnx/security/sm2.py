"""SM2 (GB/T 32918) signatures and public-key encryption over the recommended 256-bit curve.

Why not gmssl's ``CryptSM2``: gmssl 3.2.2 draws signature and encryption nonces from Python's
``random`` module (Mersenne Twister — predictable, which leaks the private key from signatures), does
not check ``C3`` when decrypting and mangles public keys starting with ``0``/``4`` hex digits. This
module keeps the arithmetic small and checked instead: nonces from ``secrets``, ranges checked,
points validated, ``C3`` compared in constant time. Interoperability is proven in the tests against
gmssl and the OpenSSL command line. Python integers are not constant-time: see docs/security.md.

Formats: signatures are ``r || s`` (32 bytes each, like JOSE's ES256); ciphertexts are
``C1 || C3 || C2`` with ``C1 = 04 || x || y`` (GB/T 32918.4-2016 order).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
DEFAULT_ID = b"1234567812345678"

_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


class SM2Failure(ValueError):
    """A signature, ciphertext or key that fails an SM2 check (caller translates it)."""


@dataclass(frozen=True)
class SM2PublicKey:
    x: int
    y: int

    def __post_init__(self) -> None:
        if not (0 <= self.x < P and 0 <= self.y < P) or (self.y * self.y - (self.x**3 + A * self.x + B)) % P:
            raise SM2Failure("point is not on the SM2 curve")

    def to_bytes(self) -> bytes:
        """Uncompressed point ``04 || x || y`` (65 bytes)."""
        return b"\x04" + self.x.to_bytes(32, "big") + self.y.to_bytes(32, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PublicKey:
        if len(data) != 65 or data[0] != 4:
            raise SM2Failure("an SM2 public key is 65 bytes starting with 04")
        return cls(int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:], "big"))


@dataclass(frozen=True, repr=False)
class SM2PrivateKey:
    d: int

    def __post_init__(self) -> None:
        if not 1 <= self.d <= N - 2:
            raise SM2Failure("SM2 private scalar out of range")

    def __repr__(self) -> str:  # never show the scalar
        return "SM2PrivateKey(<secret>)"

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        return cls(secrets.randbelow(N - 2) + 1)

    def public_key(self) -> SM2PublicKey:
        x, y = _to_affine(_multiply(self.d, (GX, GY, 1)))
        return SM2PublicKey(x, y)


def _double(p1: _Jacobian) -> _Jacobian:
    x1, y1, z1 = p1
    if not y1 or not z1:
        return _INFINITY
    zz = z1 * z1 % P
    m = 3 * (x1 - zz) * (x1 + zz) % P  # a = -3
    yy = y1 * y1 % P
    s = 4 * x1 * yy % P
    x3 = (m * m - 2 * s) % P
    y3 = (m * (s - x3) - 8 * yy * yy) % P
    z3 = 2 * y1 * z1 % P
    return (x3, y3, z3)


def _add(p1: _Jacobian, p2: _Jacobian) -> _Jacobian:
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if not z1:
        return p2
    if not z2:
        return p1
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(p1) if s1 == s2 else _INFINITY
    h = (u2 - u1) % P
    r = (s2 - s1) % P
    hh = h * h % P
    hhh = h * hh % P
    v = u1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    y3 = (r * (v - x3) - s1 * hhh) % P
    z3 = h * z1 * z2 % P
    return (x3, y3, z3)


def _multiply(k: int, point: _Jacobian) -> _Jacobian:
    """``k·point`` by a 4-bit fixed window."""
    table = [_INFINITY, point]
    for _ in range(14):
        table.append(_add(table[-1], point))
    result = _INFINITY
    for shift in range(252, -1, -4):
        for _ in range(4):
            result = _double(result)
        nibble = (k >> shift) & 0xF
        if nibble:
            result = _add(result, table[nibble])
    return result


def _to_affine(point: _Jacobian) -> tuple[int, int]:
    x, y, z = point
    if not z:
        raise SM2Failure("point at infinity")
    zinv = pow(z, -1, P)
    zinv2 = zinv * zinv % P
    return x * zinv2 % P, y * zinv2 * zinv % P


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _z(public: SM2PublicKey, ident: bytes) -> bytes:
    entl = (len(ident) * 8).to_bytes(2, "big")
    parts = [A, B, GX, GY, public.x, public.y]
    return sm3(entl + ident + b"".join(v.to_bytes(32, "big") for v in parts))


def sign(private: SM2PrivateKey, message: bytes, *, ident: bytes = DEFAULT_ID) -> bytes:
    """SM2 signature with SM3 over ``Z_A || message``; returns ``r || s`` (64 bytes)."""
    e = int.from_bytes(sm3(_z(private.public_key(), ident) + message), "big")
    d = private.d
    inv = pow(1 + d, -1, N)
    while True:
        k = secrets.randbelow(N - 1) + 1
        x1, _ = _to_affine(_multiply(k, (GX, GY, 1)))
        r = (e + x1) % N
        if r == 0 or r + k == N:
            continue
        s = inv * (k - r * d) % N
        if s:
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public: SM2PublicKey, message: bytes, signature: bytes, *, ident: bytes = DEFAULT_ID) -> bool:
    """True when ``signature`` (``r || s``) is the SM2 signature of ``message`` by ``public``."""
    if len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        return False
    t = (r + s) % N
    if not t:
        return False
    e = int.from_bytes(sm3(_z(public, ident) + message), "big")
    point = _add(_multiply(s, (GX, GY, 1)), _multiply(t, (public.x, public.y, 1)))
    if not point[2]:
        return False
    x1, _ = _to_affine(point)
    return (e + x1) % N == r


def _kdf(shared: bytes, length: int) -> bytes:
    out = b""
    counter = 1
    while len(out) < length:
        out += sm3(shared + counter.to_bytes(4, "big"))
        counter += 1
    return out[:length]


def encrypt(public: SM2PublicKey, message: bytes) -> bytes:
    """SM2 public-key encryption; returns ``C1 || C3 || C2``."""
    if not message:
        raise SM2Failure("nothing to encrypt")
    while True:
        k = secrets.randbelow(N - 1) + 1
        c1x, c1y = _to_affine(_multiply(k, (GX, GY, 1)))
        x2, y2 = _to_affine(_multiply(k, (public.x, public.y, 1)))
        xb, yb = x2.to_bytes(32, "big"), y2.to_bytes(32, "big")
        t = _kdf(xb + yb, len(message))
        if any(t):
            break
    c2 = bytes(m ^ k_ for m, k_ in zip(message, t, strict=True))
    c3 = sm3(xb + message + yb)
    return SM2PublicKey(c1x, c1y).to_bytes() + c3 + c2


def decrypt(private: SM2PrivateKey, ciphertext: bytes) -> bytes:
    """Inverse of :func:`encrypt`; raises :class:`SM2Failure` if ``C3`` does not match."""
    if len(ciphertext) < 65 + 32 + 1:
        raise SM2Failure("SM2 ciphertext too short")
    c1 = SM2PublicKey.from_bytes(ciphertext[:65])
    c3, c2 = ciphertext[65:97], ciphertext[97:]
    x2, y2 = _to_affine(_multiply(private.d, (c1.x, c1.y, 1)))
    xb, yb = x2.to_bytes(32, "big"), y2.to_bytes(32, "big")
    t = _kdf(xb + yb, len(c2))
    if not any(t):
        raise SM2Failure("SM2 key derivation gave zeros")
    message = bytes(c ^ k_ for c, k_ in zip(c2, t, strict=True))
    if not hmac.compare_digest(sm3(xb + message + yb), c3):
        raise SM2Failure("SM2 ciphertext check value C3 does not match")
    return message
