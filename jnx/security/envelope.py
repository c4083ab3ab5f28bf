"""Envelopes: a payload signed by the sender (JWS), then encrypted to the recipient (JWE).

Everything a receiver checks is in one place, :func:`open_envelope`, in this order:

1. the JWE header names a recipient kid we hold          → else ``JNX-ENV-WRONG-RECIPIENT``
2. it decrypts with that key                             → else ``JNX-ENV-WRONG-RECIPIENT``
3. the inner JWS names a trusted signer kid              → else ``JNX-ENV-UNKNOWN-SIGNER``
4. its signature verifies                                → else ``JNX-ENV-BAD-SIGNATURE``
5. ``iat`` is not in the future, ``exp`` not in the past → ``JNX-ENV-NOT-YET-VALID`` / ``-EXPIRED``
6. its ``jti`` was not seen before                       → else ``JNX-ENV-REPLAYED`` (:func:`refuse_replay`)

A content key that unwraps but a ciphertext that fails its tag is ``JNX-ENV-TAMPERED``. Anything
unparseable on the way is ``JNX-ENV-MALFORMED``: every header value is type-checked (kid, alg, enc,
cty, jti non-empty strings; iat and exp whole seconds in range), headers are bounded in size and
nesting, ``crit`` and ``zip`` are refused, and ``exp − iat`` may not exceed ``max_lifetime``
(default 7 days). :func:`open_envelope` is total: any input gives an envelope or a coded error. :func:`seal` does the reverse. Both are pure
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
    EnvelopeError,
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
DEFAULT_MAX_LIFETIME = dt.timedelta(days=7)  # the longest exp − iat a receiver accepts (a setting)
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
        if isinstance(alg, str) and alg in profile.key_algs:
            return profile
    known = sorted(a for p in PROFILES.values() for a in p.key_algs)
    raise MalformedEnvelope(f"unsupported key algorithm {_shown(alg)} (supported: {', '.join(known)})")


def _shown(value: object) -> str:
    """A header value as a message quotes it: its repr for a short string, else its JSON type."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else f"{value[:60]!r}… ({len(value)} characters)"
    return f"a JSON {type(value).__name__}" if value is not None else "none"


def _text(header: dict[str, Any], name: str, where: str, *, required: bool = True, limit: int = 256) -> str | None:
    """A header member that must be a non-empty string of at most ``limit`` characters (or absent)."""
    value = header.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise MalformedEnvelope(f"{where} header {name!r} must be a non-empty string of at most {limit} characters, "
                                f"not {_shown(value)}")
    return value


MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: later seconds are no datetime


def _epoch_claim(header: dict[str, Any], name: str) -> dt.datetime:
    value = header.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_EPOCH:
        raise MalformedEnvelope(f"signed header {name!r} must be whole seconds since 1970 (0 to {MAX_EPOCH}), "
                                f"not {_shown(value) if not isinstance(value, int) else 'out of range'}")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _no_extensions(header: dict[str, Any], where: str) -> None:
    for name in ("crit", "zip"):
        if name in header:
            raise MalformedEnvelope(f"{where} header {name!r} is not supported")


def open_envelope(
    token: str | bytes,
    *,
    decryption_keys: list[PrivateKey],
    trusted_signers: list[PublicKey],
    replay_guard: ReplayGuard | None,
    now: dt.datetime,
    leeway: dt.timedelta = DEFAULT_LEEWAY,
    max_lifetime: dt.timedelta = DEFAULT_MAX_LIFETIME,
) -> OpenedEnvelope:
    """Decrypt, verify, check times and replay — in that order — or raise the matching error.

    Total: whatever ``token`` holds, the answer is an :class:`OpenedEnvelope` or an
    :class:`EnvelopeError` with its code; every header value is type-checked before it is used.
    An envelope whose ``exp − iat`` exceeds ``max_lifetime`` is refused as malformed."""
    try:
        return _open(token, decryption_keys, trusted_signers, replay_guard, now, leeway, max_lifetime)
    except EnvelopeError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError, ArithmeticError) as exc:
        # a corner no check above foresaw: still an answer with a code, never a traceback
        raise MalformedEnvelope(f"the envelope cannot be read ({type(exc).__name__})") from exc


def _open(
    token: str | bytes, decryption_keys: list[PrivateKey], trusted_signers: list[PublicKey],
    replay_guard: ReplayGuard | None, now: dt.datetime, leeway: dt.timedelta, max_lifetime: dt.timedelta,
) -> OpenedEnvelope:
    if not isinstance(token, (str, bytes)):
        raise MalformedEnvelope(f"an envelope is a compact JWE string, not {_shown(token)}")
    try:
        encrypted = Compact.parse(token, 5)
    except ValueError as exc:
        raise MalformedEnvelope(f"not a compact JWE: {exc}") from exc
    outer_header = encrypted.header
    profile = _profile_for_key_alg(outer_header.get("alg"))
    recipient_kid = _text(outer_header, "kid", "JWE")
    _text(outer_header, "enc", "JWE")
    _text(outer_header, "cty", "JWE", required=False)
    _no_extensions(outer_header, "JWE")
    ours = {key.kid: key for key in decryption_keys if key.use is KeyUse.ENC and key.suite is profile.suite}
    if recipient_kid not in ours:
        raise WrongRecipient(f"addressed to kid {recipient_kid!r}, which is not one of our decryption keys ({', '.join(sorted(ours)) or 'none'})")
    plaintext = profile.decrypt(encrypted, ours[recipient_kid])

    try:
        signed = Compact.parse(plaintext, 3)
    except ValueError as exc:
        raise MalformedEnvelope(f"decrypted content is not a compact JWS: {exc}") from exc
    header = signed.header
    signer_kid = _text(header, "kid", "signed")
    algorithm = _text(header, "alg", "signed")
    _no_extensions(header, "signed")
    signers = {key.kid: key for key in trusted_signers if key.use is KeyUse.SIG}
    if signer_kid not in signers:
        raise UnknownSigner(f"signed by kid {signer_kid!r}, which is not a trusted signer")
    signer = signers[signer_kid]
    if signer.suite is not profile.suite:
        raise UnknownSigner(f"signed by kid {signer_kid!r}, a {signer.suite.value} key, inside a {profile.suite.value} "
                            "envelope: signer and envelope must use one suite")
    if algorithm != signer.alg:
        raise MalformedEnvelope(f"signature algorithm {algorithm!r} does not match signer key {signer_kid!r} ({signer.alg})")
    payload = profile.verify(signed, signer)

    jti = _text(header, "jti", "signed")
    assert jti is not None and recipient_kid is not None and signer_kid is not None
    content_type = _text(header, "cty", "signed", required=False)
    idempotency_key = _text(header, "idempotency_key", "signed", required=False, limit=512)
    _text(header, "typ", "signed", required=False)
    issued_at = _epoch_claim(header, "iat")
    expires_at = _epoch_claim(header, "exp")
    if expires_at < issued_at:
        raise MalformedEnvelope(f"expires ({expires_at.isoformat()}) before it was issued ({issued_at.isoformat()})")
    if expires_at - issued_at > max_lifetime:
        raise MalformedEnvelope(f"lives {expires_at - issued_at} from iat to exp, longer than the {max_lifetime} allowed")
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
        content_type=content_type,
        idempotency_key=idempotency_key,
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
