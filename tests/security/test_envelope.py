"""Envelopes: what jnx seals the platform opens; every kind of bad envelope has its own code."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jnx.security.encoding import b64url, b64url_decode
from jnx.security.envelope import PROFILES, MemoryReplayGuard, open_envelope, seal
from jnx.security.errors import (
    ENVELOPE_ERRORS,
    BadSignature,
    EnvelopeError,
    Expired,
    MalformedEnvelope,
    NotYetValid,
    Replayed,
    Tampered,
    UnknownSigner,
    WrongRecipient,
)
from tests.security.conftest import NOW, Parties

RECORD = '{"XK_XDR_MC":"济宁市某某餐饮有限公司","XK_WSH":"济任市监许〔2026〕118号"}'.encode()


def _open(parties: Parties, token: str, *, now: dt.datetime = NOW, guard: MemoryReplayGuard | None = None):  # type: ignore[no-untyped-def]
    return open_envelope(
        token,
        decryption_keys=[parties.platform_decryption],
        trusted_signers=[parties.jnx_signing.public()],
        replay_guard=guard if guard is not None else MemoryReplayGuard(),
        now=now,
    )


def _seal(parties: Parties, payload: bytes = RECORD, **kwargs) -> str:  # type: ignore[no-untyped-def]
    return seal(payload, signer=parties.jnx_signing, recipient=parties.platform_decryption.public(), now=NOW, **kwargs)


def test_round_trip_gives_back_payload_and_who_signed_for_whom(parties: Parties) -> None:
    token = _seal(parties, idempotency_key="disclosure-42-r1")
    opened = _open(parties, token)
    assert opened.payload == RECORD
    assert opened.signer_kid == parties.jnx_signing.kid
    assert opened.recipient_kid == parties.platform_decryption.kid
    assert opened.idempotency_key == "disclosure-42-r1"
    assert opened.issued_at == NOW
    assert opened.expires_at == NOW + dt.timedelta(minutes=10)
    assert len(opened.checks) == 4 and opened.checks[-1] == "not replayed"


def test_every_envelope_has_its_own_jti_and_names_the_recipient_in_clear(parties: Parties) -> None:
    first, second = _seal(parties), _seal(parties)
    assert _open(parties, first).jti != _open(parties, second).jti
    import json

    outer = json.loads(b64url_decode(first.split(".")[0]))
    assert outer["kid"] == parties.platform_decryption.kid
    assert outer["cty"] == "JOSE"
    assert RECORD not in first.encode()  # the payload travels encrypted


def test_large_payload_round_trips(parties: Parties) -> None:
    payload = RECORD * 2000  # ~150 KB, a batch of disclosures
    assert _open(parties, _seal(parties, payload)).payload == payload


def test_tampered_signed_content_is_a_bad_signature(parties: Parties) -> None:
    """An attacker who knows the platform's public key re-encrypts a changed JWS: the signature catches it."""
    profile = PROFILES[parties.platform_decryption.suite]
    token = _seal(parties)
    from jnx.security.encoding import Compact

    inner = profile.decrypt(Compact.parse(token, 5), parties.platform_decryption).decode()
    header, payload, signature = inner.split(".")
    forged_payload = b64url(b64url_decode(payload).replace(b"118", b"119"))
    forged = profile.encrypt(
        {"alg": parties.platform_decryption.alg, "kid": parties.platform_decryption.kid, "cty": "JOSE"},
        f"{header}.{forged_payload}.{signature}".encode(),
        parties.platform_decryption.public(),
    )
    with pytest.raises(BadSignature) as caught:
        _open(parties, forged)
    assert caught.value.code == "JNX-ENV-BAD-SIGNATURE"


def test_replayed_envelope_is_refused_the_second_time(parties: Parties) -> None:
    guard = MemoryReplayGuard()
    token = _seal(parties)
    _open(parties, token, guard=guard)
    with pytest.raises(Replayed) as caught:
        _open(parties, token, guard=guard)
    assert caught.value.code == "JNX-ENV-REPLAYED"


def test_expired_envelope_is_refused(parties: Parties) -> None:
    token = _seal(parties, ttl=dt.timedelta(minutes=5))
    with pytest.raises(Expired) as caught:
        _open(parties, token, now=NOW + dt.timedelta(minutes=7))
    assert caught.value.code == "JNX-ENV-EXPIRED"


def test_clock_skew_within_leeway_is_tolerated_but_not_beyond(parties: Parties) -> None:
    token = _seal(parties)
    assert _open(parties, token, now=NOW - dt.timedelta(seconds=30)).payload == RECORD
    with pytest.raises(NotYetValid) as caught:
        _open(parties, token, now=NOW - dt.timedelta(minutes=5))
    assert caught.value.code == "JNX-ENV-NOT-YET-VALID"


def test_envelope_for_another_recipient_is_wrong_recipient(parties: Parties) -> None:
    token = seal(RECORD, signer=parties.jnx_signing, recipient=parties.stranger_decryption.public(), now=NOW)
    with pytest.raises(WrongRecipient) as caught:
        _open(parties, token)
    assert caught.value.code == "JNX-ENV-WRONG-RECIPIENT"
    assert parties.stranger_decryption.kid in str(caught.value)


@pytest.mark.parametrize("part", [3, 4], ids=["ciphertext", "tag"])
def test_ciphertext_or_tag_altered_in_transit_is_tampered_not_a_wrong_recipient(parties: Parties, part: int) -> None:
    parts = _seal(parties).split(".")
    altered = bytearray(b64url_decode(parts[part]))
    altered[5] ^= 0x01
    parts[part] = b64url(bytes(altered))
    with pytest.raises(Tampered, match="JNX-ENV-TAMPERED"):
        _open(parties, ".".join(parts))


def test_relabelled_recipient_kid_cannot_be_decrypted(parties: Parties) -> None:
    """Sealed to a stranger, header edited to name our kid: the key does not fit (and the AAD breaks)."""
    import json

    token = seal(RECORD, signer=parties.jnx_signing, recipient=parties.stranger_decryption.public(), now=NOW)
    parts = token.split(".")
    header = json.loads(b64url_decode(parts[0]))
    header["kid"] = parties.platform_decryption.kid
    parts[0] = b64url(json.dumps(header).encode())
    with pytest.raises(WrongRecipient):
        _open(parties, ".".join(parts))


def test_signature_by_an_untrusted_key_is_unknown_signer(parties: Parties) -> None:
    token = seal(RECORD, signer=parties.stranger_signing, recipient=parties.platform_decryption.public(), now=NOW)
    with pytest.raises(UnknownSigner) as caught:
        _open(parties, token)
    assert caught.value.code == "JNX-ENV-UNKNOWN-SIGNER"


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "a.b.c.d.e", "e30.AA.AA.AA.AA", b"\xff\xfe".decode("latin-1") * 3, "eyJhbGciOiJub25lIn0.a.b.c.d"],
    ids=["empty", "one-part", "garbage-parts", "no-alg", "not-ascii", "alg-none"],
)
def test_malformed_tokens_are_malformed_not_tracebacks(jose_parties: Parties, token: str) -> None:
    with pytest.raises(MalformedEnvelope) as caught:
        _open(jose_parties, token)
    assert caught.value.code == "JNX-ENV-MALFORMED"


def test_signer_and_recipient_of_different_suites_are_refused() -> None:
    from jnx.security.keys import Suite
    from tests.security.conftest import make_parties

    jose, sm = make_parties(Suite.JOSE), make_parties(Suite.SM)
    with pytest.raises(MalformedEnvelope, match="suite"):
        seal(RECORD, signer=jose.jnx_signing, recipient=sm.platform_decryption.public(), now=NOW)


def test_error_codes_are_distinct_and_stable() -> None:
    codes = [cls.code for cls in ENVELOPE_ERRORS]
    assert len(set(codes)) == len(codes) == 8
    assert all(code.startswith("JNX-ENV-") for code in codes)
    assert all(issubclass(cls, EnvelopeError) for cls in ENVELOPE_ERRORS)


def test_replay_guard_forgets_jtis_only_after_they_expired() -> None:
    guard = MemoryReplayGuard(leeway=dt.timedelta(0))
    assert guard.first_sighting("a", NOW, NOW)
    assert not guard.first_sighting("a", NOW, NOW)
    for i in range(10_001):
        guard.first_sighting(f"filler-{i}", NOW + dt.timedelta(hours=1), NOW + dt.timedelta(seconds=1))
    assert not guard.first_sighting("filler-5", NOW, NOW + dt.timedelta(seconds=2))


def test_an_ephemeral_key_off_the_curve_is_malformed_not_a_traceback(jose_parties: Parties) -> None:
    token = seal(b"{}", signer=jose_parties.jnx_signing, recipient=jose_parties.platform_decryption.public(), now=NOW)
    header_b64, rest = token.split(".", 1)
    header = json.loads(b64url_decode(header_b64))
    header["epk"]["y"] = header["epk"]["x"]  # (x, x) is not a point of P-256
    forged = b64url(json.dumps(header).encode()) + "." + rest
    with pytest.raises(MalformedEnvelope, match="epk"):
        open_envelope(forged, decryption_keys=[jose_parties.platform_decryption],
                      trusted_signers=[jose_parties.jnx_signing.public()], replay_guard=None, now=NOW)
