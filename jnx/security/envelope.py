"""Envelopes: a payload signed by the sender (JWS), then encrypted to the recipient (JWE).

Everything a receiver checks is in one place, :func:`open_envelope`, in this order:

1. the JWE header names a recipient kid we hold          → else ``JNX-ENV-WRONG-RECIPIENT``
2. it decrypts with that key                             → else ``JNX-ENV-WRONG-RECIPIENT``
3. the inner JWS names a trusted signer kid              → else ``JNX-ENV-UNKNOWN-SIGNER``
4. its signature verifies                                → else ``JNX-ENV-BAD-SIGNATURE``
5. ``iat`` is not in the future, ``exp`` not in the past → ``JNX-ENV-NOT-YET-VALID`` / ``-EXPIRED``
6. its ``jti`` was not seen before                       → else ``JNX-ENV-REPLAYED`` (:func:`refuse_replay`)

Anything unparseable on the way is ``JNX-ENV-MALFORMED``. :func:`seal` does the reverse. Both are pure
functions over keys, bytes and the ``now`` they are given; the replay guard is the only state.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from jnx.security.encoding import Compact
from jnx.security.errors import (
    Expired,
    MalformedEnvelope,
    NotYetValid,
    Replayed,
    UnknownSigner,
    WrongRecipient,
)
from jnx.security.jose_profile import JoseProfile
from jnx.security.keys import KeyUse, PrivateKey, PublicKey, Suite
from jnx.security.sm_profile import SmProfile

DEFAULT_TTL = dt.timedelta(minutes=10)
DEFAULT_LEEWAY = dt.timedelta(seconds=60)
NESTED_CTY = "JOSE"  # the JWE's content is a compact JWS (media type application/jose)


class Profile(Protocol):
    """The primitives of one algorithm suite; the order is :func:`seal`'s and :func:`open_envelope`'s."""

    suite: Suite
    signature_algs: frozenset[str]
    key_algs: frozenset[str]

    def sign(self, header: dict[str, Any], payload: bytes, key: PrivateKey) -> str: ...
    def verify(self, token: Compact, key: PublicKey) -> bytes: ...
    def encrypt(self, header: dict[str, Any], plaintext: bytes, key: PublicKey) -> str: ...
    def decrypt(self, token: Compact, key: PrivateKey) -> bytes: ...


PROFILES: dict[Suite, Profile] = {Suite.JOSE: JoseProfile(), Suite.SM: SmProfile()}


class ReplayGuard(Protocol):
    """Remembers envelope ids until they expire."""

    def first_sighting(self, jti: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
        """Record ``jti`` and return True, or return False if it was already recorded."""
        ...


class MemoryReplayGuard:
    """A replay guard for one process: jtis kept until their envelope's expiry (plus leeway)."""

    def __init__(self, leeway: dt.timedelta = DEFAULT_LEEWAY) -> None:
        self._seen: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()
        self._leeway = leeway

    def first_sighting(self, jti: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v + self._leeway >= now}
            if jti in self._seen:
                return False
            self._seen[jti] = expires_at
            return True


@dataclass(frozen=True)
class OpenedEnvelope:
    """What a receiver learns from a valid envelope, and which checks it passed."""

    payload: bytes
    suite: Suite
    recipient_kid: str
    signer_kid: str
    jti: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    content_type: str | None
    idempotency_key: str | None
    checks: tuple[str, ...]


def _epoch(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("envelope times must be timezone-aware")
    return int(moment.timestamp())


def seal(
    payload: bytes,
    *,
    signer: PrivateKey,
    recipient: PublicKey,
    now: dt.datetime,
    ttl: dt.timedelta = DEFAULT_TTL,
    content_type: str = "application/json",
    idempotency_key: str | None = None,
    jti: str | None = None,
) -> str:
    """Sign ``payload`` with ``signer`` (JWS), then encrypt that to ``recipient`` (JWE). Returns the
    compact JWE. Both keys must be of the same suite; the recipient's suite chooses the profile."""
    if signer.use is not KeyUse.SIG or recipient.use is not KeyUse.ENC:
        raise ValueError("seal needs a signing key and the recipient's encryption key")
    if signer.suite is not recipient.suite:
        raise MalformedEnvelope(
            f"recipient {recipient.kid!r} uses the {recipient.suite.value} suite but signer {signer.kid!r} "
            f"the {signer.suite.value} suite"
        )
    profile = PROFILES[recipient.suite]
    claims: dict[str, Any] = {
        "alg": signer.alg,
        "kid": signer.kid,
        "typ": "JOSE",
        "cty": content_type,
        "jti": jti or secrets.token_urlsafe(18),
        "iat": _epoch(now),
        "exp": _epoch(now + ttl),
    }
    if idempotency_key is not None:
        claims["idempotency_key"] = idempotency_key
    signed = profile.sign(claims, payload, signer)
    return profile.encrypt({"alg": recipient.alg, "kid": recipient.kid, "cty": NESTED_CTY}, signed.encode("ascii"), recipient)


def _profile_for_key_alg(alg: object) -> Profile:
    for profile in PROFILES.values():
        if alg in profile.key_algs:
            return profile
    known = sorted(a for p in PROFILES.values() for a in p.key_algs)
    raise MalformedEnvelope(f"unsupported key algorithm {alg!r} (supported: {', '.join(known)})")


def _claim(header: dict[str, Any], name: str, kind: type) -> Any:
    value = header.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedEnvelope(f"signed header {name!r} is missing or not {kind.__name__}")
    return value


def open_envelope(
    token: str | bytes,
    *,
    decryption_keys: list[PrivateKey],
    trusted_signers: list[PublicKey],
    replay_guard: ReplayGuard | None,
    now: dt.datetime,
    leeway: dt.timedelta = DEFAULT_LEEWAY,
) -> OpenedEnvelope:
    """Decrypt, verify, check times and replay — in that order — or raise the matching error."""
    try:
        encrypted = Compact.parse(token, 5)
    except ValueError as exc:
        raise MalformedEnvelope(f"not a compact JWE: {exc}") from exc
    outer_header = encrypted.header
    profile = _profile_for_key_alg(outer_header.get("alg"))

    recipient_kid = outer_header.get("kid")
    ours = {key.kid: key for key in decryption_keys if key.use is KeyUse.ENC and key.suite is profile.suite}
    if recipient_kid not in ours:
        raise WrongRecipient(f"addressed to kid {recipient_kid!r}, which is not one of our decryption keys ({', '.join(sorted(ours)) or 'none'})")
    plaintext = profile.decrypt(encrypted, ours[recipient_kid])

    try:
        signed = Compact.parse(plaintext, 3)
    except ValueError as exc:
        raise MalformedEnvelope(f"decrypted content is not a compact JWS: {exc}") from exc
    header = signed.header
    signer_kid = header.get("kid")
    signers = {key.kid: key for key in trusted_signers if key.use is KeyUse.SIG}
    if signer_kid not in signers:
        raise UnknownSigner(f"signed by kid {signer_kid!r}, which is not a trusted signer")
    signer = signers[signer_kid]
    if header.get("alg") != signer.alg:
        raise MalformedEnvelope(f"signature algorithm {header.get('alg')!r} does not match signer key {signer_kid!r} ({signer.alg})")
    payload = profile.verify(signed, signer)

    jti = _claim(header, "jti", str)
    issued_at = dt.datetime.fromtimestamp(_claim(header, "iat", int), dt.UTC)
    expires_at = dt.datetime.fromtimestamp(_claim(header, "exp", int), dt.UTC)
    if issued_at > now + leeway:
        raise NotYetValid(f"issued at {issued_at.isoformat()}, after now ({now.isoformat()})")
    if expires_at < now - leeway:
        raise Expired(f"expired at {expires_at.isoformat()} (now {now.isoformat()})")
    opened = OpenedEnvelope(
        payload=payload,
        suite=profile.suite,
        recipient_kid=recipient_kid,
        signer_kid=signer_kid,
        jti=jti,
        issued_at=issued_at,
        expires_at=expires_at,
        content_type=header.get("cty") if isinstance(header.get("cty"), str) else None,
        idempotency_key=header.get("idempotency_key") if isinstance(header.get("idempotency_key"), str) else None,
        checks=(
            f"decrypted with {recipient_kid} ({outer_header.get('alg')}, {outer_header.get('enc')})",
            f"signature by {signer_kid} ({signer.alg})",
            f"fresh: issued {issued_at.isoformat()}, expires {expires_at.isoformat()}",
            REPLAY_NOT_CHECKED,
        ),
    )
    return opened if replay_guard is None else refuse_replay(opened, replay_guard, now)


REPLAY_NOT_CHECKED = "replay not checked"


def refuse_replay(opened: OpenedEnvelope, replay_guard: ReplayGuard, now: dt.datetime) -> OpenedEnvelope:
    """The last check of :func:`open_envelope`, for a receiver that opens first (outside its store's
    transaction) and checks the jti inside it: ``JNX-ENV-REPLAYED``, or ``opened`` marked not replayed."""
    if not replay_guard.first_sighting(opened.jti, opened.expires_at, now):
        raise Replayed(f"envelope {opened.jti!r} was already received")
    return OpenedEnvelope(  # dataclasses.replace(opened, checks=…), built directly: this is per envelope
        opened.payload, opened.suite, opened.recipient_kid, opened.signer_kid, opened.jti, opened.issued_at,
        opened.expires_at, opened.content_type, opened.idempotency_key, (*opened.checks[:-1], "not replayed"),
    )
