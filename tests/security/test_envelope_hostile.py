"""Hostile envelopes: header values of any JSON type, deep nesting, a signer of the other suite,
times out of range, lifetimes too long, empty jtis. Every one is an EnvelopeError with its code,
never another exception — also for arbitrary headers and bodies (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jnx.security.encoding import b64url
from jnx.security.envelope import NESTED_CTY, PROFILES, MemoryReplayGuard, open_envelope, seal
from jnx.security.errors import EnvelopeError, MalformedEnvelope, UnknownSigner
from jnx.security.keys import PrivateKey, Suite
from tests.security.conftest import NOW, Parties, make_parties

RECORD = b'{"XK_XDR_MC":"x"}'


def _open(parties: Parties, token: Any, *, extra_signers: list[PrivateKey] = ()) -> Any:  # type: ignore[assignment]
    return open_envelope(
        token, decryption_keys=[parties.platform_decryption],
        trusted_signers=[parties.jnx_signing.public(), *(k.public() for k in extra_signers)],
        replay_guard=MemoryReplayGuard(), now=NOW,
    )


def _signed(parties: Parties, **changes: Any) -> str:
    """A JWS by jnx's key whose header is the usual one with ``changes`` (None removes a member)."""
    key = parties.jnx_signing
    header: dict[str, Any] = {"alg": key.alg, "kid": key.kid, "typ": "JOSE", "cty": "application/json", "jti": "j-1",
                              "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600}
    for name, value in changes.items():
        if value is None:
            header.pop(name, None)
        else:
            header[name] = value
    if "alg" in changes or "crit" in changes:  # the profile refuses to sign with another alg: build the signature by hand
        good = PROFILES[key.suite].sign({**{k: v for k, v in header.items() if k != "crit"}, "alg": key.alg}, RECORD, key)
        return f"{b64url(json.dumps(header).encode())}.{good.split('.', 1)[1]}"
    return PROFILES[key.suite].sign(header, RECORD, key)


def _sealed(parties: Parties, signed: str, **outer: Any) -> str:
    recipient = parties.platform_decryption.public()
    header = {"alg": recipient.alg, "kid": recipient.kid, "cty": NESTED_CTY, **outer}
    return PROFILES[recipient.suite].encrypt(header, signed.encode(), recipient)


def _outer_only(parties: Parties, header: Any) -> str:
    token = seal(RECORD, signer=parties.jnx_signing, recipient=parties.platform_decryption.public(), now=NOW)
    return ".".join([b64url(json.dumps(header).encode()), *token.split(".")[1:]])


@pytest.mark.parametrize("value", [["k"], {"k": 1}, 7, True, None, ""])
def test_a_kid_or_alg_of_any_json_type_is_malformed(parties: Parties, value: Any) -> None:
    recipient = parties.platform_decryption.public()
    for header in ({"alg": recipient.alg, "kid": value, "enc": "A256GCM"}, {"alg": value, "kid": recipient.kid}):
        with pytest.raises(EnvelopeError) as caught:
            _open(parties, _outer_only(parties, header))
        assert caught.value.code in ("JNX-ENV-MALFORMED", "JNX-ENV-WRONG-RECIPIENT")


@pytest.mark.parametrize("member", ["kid", "alg", "jti", "cty", "idempotency_key", "typ"])
@pytest.mark.parametrize("value", [["x"], {"x": 1}, 3, False, ""])
def test_inner_header_values_of_the_wrong_type_are_malformed_or_unknown(parties: Parties, member: str, value: Any) -> None:
    with pytest.raises((MalformedEnvelope, UnknownSigner)):
        _open(parties, _sealed(parties, _signed(parties, **{member: value})))


def test_a_header_of_100000_nested_arrays_is_malformed(parties: Parties) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    token = ".".join([b64url(f'{{"alg":"ECDH-ES+A256KW","kid":{deep}}}'.encode()), "a", "b", "c", "d"])
    with pytest.raises(MalformedEnvelope):
        _open(parties, token)
    moderate = "[" * 50 + "]" * 50  # short enough to pass the size bound: the depth bound refuses it
    token = ".".join([b64url(f'{{"alg":"ECDH-ES+A256KW","kid":"k","x":{moderate}}}'.encode()), "a", "b", "c", "d"])
    with pytest.raises(MalformedEnvelope, match="deeper"):
        _open(parties, token)


def test_a_signer_of_the_other_suite_is_unknown_not_a_crash() -> None:
    jose, sm = make_parties(Suite.JOSE), make_parties(Suite.SM)
    sm_signed = PROFILES[Suite.SM].sign(
        {"alg": sm.jnx_signing.alg, "kid": sm.jnx_signing.kid, "jti": "j", "iat": int(NOW.timestamp()),
         "exp": int(NOW.timestamp()) + 60}, RECORD, sm.jnx_signing)
    token = _sealed(jose, sm_signed)
    with pytest.raises(UnknownSigner, match="one suite"):
        _open(jose, token, extra_signers=[sm.jnx_signing])


@pytest.mark.parametrize("claims", [
    {"iat": 10**20}, {"exp": 10**20}, {"iat": -1}, {"exp": "soon"}, {"iat": 1.5}, {"exp": None},
])
def test_times_out_of_range_or_of_the_wrong_type_are_malformed(parties: Parties, claims: dict[str, Any]) -> None:
    with pytest.raises(MalformedEnvelope, match="seconds since 1970"):
        _open(parties, _sealed(parties, _signed(parties, **claims)))


def test_a_lifetime_longer_than_the_maximum_is_refused(parties: Parties) -> None:
    now = int(NOW.timestamp())
    with pytest.raises(MalformedEnvelope, match="longer than"):
        _open(parties, _sealed(parties, _signed(parties, iat=now, exp=now + 8 * 86_400)))
    token = _sealed(parties, _signed(parties, iat=now, exp=now + 8 * 86_400))
    opened = open_envelope(token, decryption_keys=[parties.platform_decryption], trusted_signers=[parties.jnx_signing.public()],
                           replay_guard=None, now=NOW, max_lifetime=dt.timedelta(days=30))
    assert opened.payload == RECORD
    with pytest.raises(MalformedEnvelope, match="before it was issued"):
        _open(parties, _sealed(parties, _signed(parties, iat=now, exp=now - 1)))


def test_an_empty_or_missing_jti_is_malformed(parties: Parties) -> None:
    for jti in ("", None):
        with pytest.raises(MalformedEnvelope, match="jti"):
            _open(parties, _sealed(parties, _signed(parties, jti=jti)))


@pytest.mark.parametrize("outer", [{"crit": ["exp"]}, {"zip": "DEF"}, {"enc": "A128GCM"}])
def test_both_profiles_refuse_crit_zip_and_another_enc(parties: Parties, outer: dict[str, Any]) -> None:
    token = _sealed(parties, _signed(parties))
    header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "=="))
    header.update(outer)
    with pytest.raises(MalformedEnvelope):
        _open(parties, ".".join([b64url(json.dumps(header).encode()), *token.split(".")[1:]]))


def test_a_signed_header_with_crit_is_malformed(parties: Parties) -> None:
    with pytest.raises(MalformedEnvelope):
        _open(parties, _sealed(parties, _signed(parties, crit=["exp"])))


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                     lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
                     max_leaves=8)
_headers = st.dictionaries(st.sampled_from(["alg", "kid", "enc", "cty", "epk", "crit", "zip", "apu", "apv", "jti", "iat",
                                            "exp", "typ"]) | st.text(max_size=4), _json, max_size=6)
_segment = st.one_of(st.binary(max_size=40).map(b64url), st.text(max_size=20))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outer=_headers, inner=_headers, segments=st.lists(_segment, min_size=0, max_size=6), shape=st.integers(0, 3))
def test_any_header_and_body_gets_an_envelope_or_a_coded_error(
    jose_parties: Parties, outer: dict[str, Any], inner: dict[str, Any], segments: list[str], shape: int,
) -> None:
    parties = jose_parties
    recipient = parties.platform_decryption.public()
    if shape == 0:  # garbage segments under an arbitrary outer header
        token: Any = ".".join([b64url(json.dumps(outer).encode()), *segments])
    elif shape == 1:  # a well-encrypted envelope whose inner JWS has an arbitrary header
        signed = f"{b64url(json.dumps(inner).encode())}.{b64url(RECORD)}.{segments[0] if segments else ''}"
        token = PROFILES[Suite.JOSE].encrypt({"alg": recipient.alg, "kid": recipient.kid, **{k: v for k, v in outer.items()
                                             if k not in ("alg", "crit", "zip")}}, signed.encode(), recipient)
    elif shape == 2:  # a real signature over arbitrary claims (a trusted signer's mistakes)
        key = parties.jnx_signing
        claims = {**inner, "alg": key.alg, "kid": key.kid}
        claims.pop("crit", None)
        token = _sealed(parties, PROFILES[Suite.JOSE].sign(claims, RECORD, key))
    else:
        token = ".".join(segments)
    try:
        opened = _open(parties, token)
    except EnvelopeError as exc:
        assert exc.code.startswith("JNX-ENV-")
    else:
        assert opened.payload == RECORD


def test_the_receiver_takes_its_maximum_lifetime_from_its_setting(tmp_path: Any) -> None:
    from jnx.security.receiver import Receiver, SqliteReceiptStore
    from jnx.settings import Settings

    parties = make_parties(Suite.JOSE)
    now = int(NOW.timestamp())
    token = _sealed(parties, _signed(parties, iat=now, exp=now + 10 * 86_400))

    def receiver(hours: float) -> Receiver:
        return Receiver(decryption_keys=[parties.platform_decryption], trusted_signers=[parties.jnx_signing.public()],
                        signing_key=parties.jnx_signing, store=SqliteReceiptStore(tmp_path / f"r{hours}.db"),
                        clock=lambda: NOW, max_lifetime=dt.timedelta(hours=hours))

    assert Settings().envelope_max_lifetime_hours == 168
    with pytest.raises(MalformedEnvelope, match="longer than"):
        receiver(Settings().envelope_max_lifetime_hours).receive(token)
    assert receiver(24 * 30).receive(token).status == "accepted"
